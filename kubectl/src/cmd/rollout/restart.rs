//! `rollout restart`: upstream's ObjectRestarter stamps the pod template with
//! `kubectl.kubernetes.io/restartedAt`, so the controller rolls every pod.

use serde_json::{json, Value};

use super::{named, send_patch, PatchFlags, HAS_ROLLOUTS};
use crate::client::ApiClient;
use crate::cmd::label::Target;
use crate::cmd::print_flags::DryRun;
use crate::error::{KubectlError, Result};

const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// Restarts one Deployment, DaemonSet or StatefulSet and prints it as the flags ask.
pub async fn restart(client: &ApiClient, t: &Target, flags: &PatchFlags) -> Result<()> {
    let current = client.get(&t.path()).await?;
    // Go's time.RFC3339 in UTC: seconds, and `Z`.
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let patch = restart_patch(t, &current, &now)?;
    let patched = send_patch(client, t, &patch, &flags.field_manager).await?;
    let format = flags.print_flags.format()?;
    flags
        .print_flags
        .print(&format, &patched, "restarted", DryRun::None)
}

/// The patch that stamps the template with `now`, or upstream's refusal.
fn restart_patch(t: &Target, current: &Value, now: &str) -> Result<Value> {
    if !t.res.group.starts_with("apps") || !HAS_ROLLOUTS.contains(&t.res.kind.as_str()) {
        return Err(KubectlError::usage(format!(
            "{} restarting is not supported",
            named(t)
        )));
    }
    if t.res.kind == "Deployment" && current["spec"]["paused"] == true {
        return Err(KubectlError::usage(format!(
            "{} can't restart paused deployment (run rollout resume first)",
            named(t)
        )));
    }
    // Upstream diffs the stamped object against the one read: a second restart within the
    // same second changes nothing, and an empty patch is refused.
    if current["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT] == now {
        return Err(KubectlError::usage(format!(
            "failed to create patch for {}: if restart has already been triggered within the past second, please wait before attempting to trigger another",
            t.name
        )));
    }
    Ok(json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}))
}

#[cfg(test)]
mod tests {
    use super::super::test_target as target;
    use super::*;

    #[test]
    fn restarting_stamps_the_template_once_a_second() {
        let now = "2026-01-02T03:04:05Z";
        let sts = target("StatefulSet", "apps", "statefulsets");
        assert_eq!(
            restart_patch(&sts, &json!({}), now).unwrap(),
            json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}})
        );
        let stamped =
            json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}});
        assert!(restart_patch(&sts, &stamped, now)
            .unwrap_err()
            .to_string()
            .starts_with("error: failed to create patch for web: if restart has already"));
        let d = target("Deployment", "apps", "deployments");
        assert_eq!(
            restart_patch(&d, &json!({"spec": {"paused": true}}), now)
                .unwrap_err()
                .to_string(),
            "error: deployments.apps \"web\" can't restart paused deployment (run rollout resume first)"
        );
        let rs = target("ReplicaSet", "apps", "replicasets");
        assert_eq!(
            restart_patch(&rs, &json!({}), now).unwrap_err().to_string(),
            "error: replicasets.apps \"web\" restarting is not supported"
        );
    }
}
