//! `rollout pause` and `rollout resume`: upstream's ObjectPauser and ObjectResumer, which
//! only Deployments have, sent as a strategic merge patch of `spec.paused`.

use serde_json::{json, Value};

use super::{named, send_patch, PatchFlags};
use crate::client::ApiClient;
use crate::cmd::label::Target;
use crate::cmd::print_flags::DryRun;
use crate::error::{KubectlError, Result};

/// Pauses (`paused` true) or resumes one Deployment and prints it as the flags ask.
pub async fn set_paused(
    client: &ApiClient,
    t: &Target,
    flags: &PatchFlags,
    paused: bool,
) -> Result<()> {
    let current = client.get(&t.path()).await?;
    let patch = paused_patch(t, &current, paused)?;
    let patched = send_patch(client, t, &patch, &flags.field_manager).await?;
    let done = if paused { "paused" } else { "resumed" };
    // Upstream asks for the printer only now: a bad -o is refused after the patch.
    let format = flags.print_flags.format()?;
    flags
        .print_flags
        .print(&format, &patched, done, DryRun::None)
}

/// The patch that pauses or resumes the object, or upstream's refusal.
fn paused_patch(t: &Target, current: &Value, paused: bool) -> Result<Value> {
    let verb = if paused { "pausing" } else { "resuming" };
    if t.res.kind != "Deployment" || !t.res.group.starts_with("apps") {
        return Err(KubectlError::usage(format!(
            "{} {verb} is not supported",
            named(t)
        )));
    }
    if (current["spec"]["paused"] == true) == paused {
        let state = if paused {
            "is already paused"
        } else {
            "is not paused"
        };
        return Err(KubectlError::usage(format!("{} {state}", named(t))));
    }
    // Upstream's two-way patch: false is Go's zero value, so resuming removes the field.
    Ok(json!({"spec": {"paused": if paused { json!(true) } else { Value::Null }}}))
}

#[cfg(test)]
mod tests {
    use super::super::test_target as target;
    use super::*;

    #[test]
    fn pausing_and_resuming_follow_upstream() {
        let d = target("Deployment", "apps", "deployments");
        let running = json!({"spec": {}});
        let paused = json!({"spec": {"paused": true}});
        assert_eq!(
            paused_patch(&d, &running, true).unwrap(),
            json!({"spec": {"paused": true}})
        );
        assert_eq!(
            paused_patch(&d, &paused, false).unwrap(),
            json!({"spec": {"paused": null}})
        );
        assert_eq!(
            paused_patch(&d, &paused, true).unwrap_err().to_string(),
            "error: deployments.apps \"web\" is already paused"
        );
        assert_eq!(
            paused_patch(&d, &running, false).unwrap_err().to_string(),
            "error: deployments.apps \"web\" is not paused"
        );
        let ds = target("DaemonSet", "apps", "daemonsets");
        assert_eq!(
            paused_patch(&ds, &running, true).unwrap_err().to_string(),
            "error: daemonsets.apps \"web\" pausing is not supported"
        );
        let cm = target("ConfigMap", "", "configmaps");
        assert_eq!(
            paused_patch(&cm, &running, false).unwrap_err().to_string(),
            "error: configmaps \"web\" resuming is not supported"
        );
    }
}
