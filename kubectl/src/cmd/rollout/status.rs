//! `rollout status`: upstream's StatusViewers (one message and a done flag per kind), printed
//! for the object as read and then for each change a watch brings, until the rollout is done.

use std::time::Duration;

use serde_json::Value;

use super::revisions::REVISION;
use crate::client::ApiClient;
use crate::cmd::label::Target;
use crate::cmd::out;
use crate::error::{KubectlError, Result};
use crate::watch;

/// How `rollout status` follows the object.
pub struct Watching<'a> {
    /// `--watch`: keep watching until the rollout is done.
    pub watch: bool,
    /// `--revision`: the Deployment revision the rollout must still be at (0: any).
    pub revision: i64,
    /// `--timeout`, a Go duration; zero means never.
    pub timeout: &'a str,
}

/// Upstream's DeploymentStatusViewer: a message and whether the rollout is done. With a
/// `revision` pinned, a Deployment that has moved on to another revision is an error.
pub fn deployment_status(d: &Value, name: &str, revision: i64) -> Result<(String, bool)> {
    if revision > 0 {
        let running = running_revision(d, name)?;
        if running != revision {
            return Err(KubectlError::usage(format!(
                "desired revision ({revision}) is different from the running revision ({running})"
            )));
        }
    }
    let generation = d["metadata"]["generation"].as_i64().unwrap_or(0);
    let status = &d["status"];
    let observed = status["observedGeneration"].as_i64().unwrap_or(0);
    if generation > observed {
        return Ok((
            "Waiting for deployment spec update to be observed...\n".into(),
            false,
        ));
    }
    let progress_exceeded = status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded");
    if progress_exceeded {
        return Err(KubectlError::usage(format!(
            "deployment {name:?} exceeded its progress deadline"
        )));
    }
    let n = |k: &str| status[k].as_i64().unwrap_or(0);
    let desired = d["spec"]["replicas"].as_i64().unwrap_or(1);
    let updated = n("updatedReplicas");
    if updated < desired {
        return Ok((format!("Waiting for deployment {name:?} rollout to finish: {updated} out of {desired} new replicas have been updated...\n"), false));
    }
    if n("replicas") > updated {
        return Ok((format!("Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...\n", n("replicas") - updated), false));
    }
    if n("availableReplicas") < updated {
        return Ok((format!("Waiting for deployment {name:?} rollout to finish: {} of {updated} updated replicas are available...\n", n("availableReplicas")), false));
    }
    Ok((
        format!("deployment {name:?} successfully rolled out\n"),
        true,
    ))
}

/// The Deployment's revision annotation as a number: 0 when it has none, an error (in
/// upstream's words, with Go's parse error) when it is not a number.
fn running_revision(d: &Value, name: &str) -> Result<i64> {
    let Some(text) = d["metadata"]["annotations"][REVISION].as_str() else {
        return Ok(0);
    };
    text.parse().map_err(|_| {
        KubectlError::usage(format!(
            "cannot get the revision of deployment {name:?}: strconv.ParseInt: parsing {text:?}: invalid syntax"
        ))
    })
}

/// Upstream's DaemonSetStatusViewer.
pub fn daemon_set_status(ds: &Value, name: &str) -> Result<(String, bool)> {
    if ds["spec"]["updateStrategy"]["type"] != "RollingUpdate" {
        return Err(KubectlError::usage(
            "rollout status is only available for RollingUpdate strategy type",
        ));
    }
    let generation = ds["metadata"]["generation"].as_i64().unwrap_or(0);
    let status = &ds["status"];
    let n = |k: &str| status[k].as_i64().unwrap_or(0);
    if generation > n("observedGeneration") {
        return Ok((
            "Waiting for daemon set spec update to be observed...\n".into(),
            false,
        ));
    }
    let desired = n("desiredNumberScheduled");
    if n("updatedNumberScheduled") < desired {
        return Ok((format!("Waiting for daemon set {name:?} rollout to finish: {} out of {desired} new pods have been updated...\n", n("updatedNumberScheduled")), false));
    }
    if n("numberAvailable") < desired {
        return Ok((format!("Waiting for daemon set {name:?} rollout to finish: {} of {desired} updated pods are available...\n", n("numberAvailable")), false));
    }
    Ok((
        format!("daemon set {name:?} successfully rolled out\n"),
        true,
    ))
}

/// Upstream's StatefulSetStatusViewer.
pub fn stateful_set_status(sts: &Value) -> Result<(String, bool)> {
    let strategy = &sts["spec"]["updateStrategy"];
    if strategy["type"] != "RollingUpdate" {
        return Err(KubectlError::usage(
            "rollout status is only available for RollingUpdate strategy type",
        ));
    }
    let generation = sts["metadata"]["generation"].as_i64().unwrap_or(0);
    let status = &sts["status"];
    let n = |k: &str| status[k].as_i64().unwrap_or(0);
    let observed = n("observedGeneration");
    if observed == 0 || generation > observed {
        return Ok((
            "Waiting for statefulset spec update to be observed...\n".into(),
            false,
        ));
    }
    let replicas = sts["spec"]["replicas"].as_i64();
    if let Some(r) = replicas.filter(|r| n("readyReplicas") < *r) {
        return Ok((
            format!(
                "Waiting for {} pods to be ready...\n",
                r - n("readyReplicas")
            ),
            false,
        ));
    }
    if strategy["rollingUpdate"].is_object() {
        let partition = strategy["rollingUpdate"]["partition"].as_i64();
        if let (Some(r), Some(p)) = (replicas, partition) {
            if n("updatedReplicas") < r - p {
                return Ok((format!("Waiting for partitioned roll out to finish: {} out of {} new pods have been updated...\n", n("updatedReplicas"), r - p), false));
            }
        }
        return Ok((
            format!(
                "partitioned roll out complete: {} new pods have been updated...\n",
                n("updatedReplicas")
            ),
            true,
        ));
    }
    let (current, update) = (&status["currentRevision"], &status["updateRevision"]);
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    if update != current {
        return Ok((
            format!(
                "waiting for statefulset rolling update to complete {} pods at revision {}...\n",
                n("updatedReplicas"),
                text(update)
            ),
            false,
        ));
    }
    Ok((
        format!(
            "statefulset rolling update complete {} pods at revision {}...\n",
            n("currentReplicas"),
            text(current)
        ),
        true,
    ))
}

/// Prints the rollout's status, and with `watch` each new status a watch brings until the
/// rollout is done (or the timeout passes).
pub async fn status(client: &ApiClient, t: &Target, how: &Watching<'_>) -> Result<()> {
    let name = t.name.as_str();
    let mut last = String::new();
    let mut show = |obj: &Value| -> Result<bool> {
        let (msg, done) = match t.res.kind.as_str() {
            "DaemonSet" => daemon_set_status(obj, name)?,
            "StatefulSet" => stateful_set_status(obj)?,
            // Upstream pins only Deployments to a revision; the others ignore --revision.
            _ => deployment_status(obj, name, how.revision)?,
        };
        if msg != last {
            out(&msg);
            last = msg;
        }
        Ok(done)
    };
    let first = client.get(&t.path()).await?;
    if show(&first)? || !how.watch {
        return Ok(());
    }
    let limit = crate::flags::go_duration_secs(how.timeout)
        .filter(|secs| *secs > 0.0)
        .map(Duration::from_secs_f64)
        // "Never" as a deadline: far enough not to matter, near enough not to overflow.
        .unwrap_or(Duration::from_secs(100 * 365 * 86400));
    let deadline = tokio::time::Instant::now() + limit;
    let collection = t.res.collection_path(t.namespace.as_deref());
    let done = watch::object_until_after(client, &collection, &first, deadline, |obj| match obj {
        Some(obj) => Ok(show(obj)?.then_some(())),
        None => Err(KubectlError::usage("object has been deleted")),
    });
    done.await?
        .ok_or_else(|| KubectlError::usage("timed out waiting for the condition"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn daemon_set_and_stateful_set_status_follow_upstream() {
        let ds = |updated: i64, available: i64| {
            json!({"metadata": {"generation": 2},
            "spec": {"updateStrategy": {"type": "RollingUpdate"}},
            "status": {"observedGeneration": 2, "desiredNumberScheduled": 3,
                "updatedNumberScheduled": updated, "numberAvailable": available}})
        };
        assert_eq!(
            daemon_set_status(&ds(1, 1), "agent").unwrap(),
            ("Waiting for daemon set \"agent\" rollout to finish: 1 out of 3 new pods have been updated...\n".into(), false)
        );
        assert_eq!(
            daemon_set_status(&ds(3, 2), "agent").unwrap().0,
            "Waiting for daemon set \"agent\" rollout to finish: 2 of 3 updated pods are available...\n"
        );
        assert!(daemon_set_status(&ds(3, 3), "agent").unwrap().1);
        let on_delete = json!({"spec": {"updateStrategy": {"type": "OnDelete"}}});
        assert!(daemon_set_status(&on_delete, "agent").is_err());

        let sts = |ready: i64, updated: i64, partition: Option<i64>| {
            let mut s = json!({"metadata": {"generation": 1}, "spec": {"replicas": 3,
                "updateStrategy": {"type": "RollingUpdate"}},
                "status": {"observedGeneration": 1, "readyReplicas": ready, "updatedReplicas": updated,
                    "currentReplicas": 3, "currentRevision": "db-1", "updateRevision": "db-2"}});
            if let Some(p) = partition {
                s["spec"]["updateStrategy"]["rollingUpdate"] = json!({"partition": p});
            }
            s
        };
        assert_eq!(
            stateful_set_status(&sts(1, 0, Some(0))).unwrap().0,
            "Waiting for 2 pods to be ready...\n"
        );
        assert_eq!(
            stateful_set_status(&sts(3, 1, Some(1))).unwrap(),
            ("Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...\n".into(), false)
        );
        assert_eq!(
            stateful_set_status(&sts(3, 3, Some(0))).unwrap(),
            (
                "partitioned roll out complete: 3 new pods have been updated...\n".into(),
                true
            )
        );
        assert_eq!(
            stateful_set_status(&sts(3, 2, None)).unwrap(),
            (
                "waiting for statefulset rolling update to complete 2 pods at revision db-2...\n"
                    .into(),
                false
            )
        );
    }

    #[test]
    fn status_messages_follow_upstream() {
        let d = |gen: i64, obs: i64, st: Value| json!({"metadata": {"generation": gen}, "spec": {"replicas": 3}, "status": {"observedGeneration": obs, "replicas": st["r"], "updatedReplicas": st["u"], "availableReplicas": st["a"]}});
        let (m, done) = deployment_status(&d(2, 1, json!({})), "web", 0).unwrap();
        assert_eq!(
            (m.as_str(), done),
            (
                "Waiting for deployment spec update to be observed...\n",
                false
            )
        );
        let (m, _) =
            deployment_status(&d(1, 1, json!({"r": 3, "u": 1, "a": 1})), "web", 0).unwrap();
        assert_eq!(m, "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...\n");
        let (m, _) =
            deployment_status(&d(1, 1, json!({"r": 4, "u": 3, "a": 3})), "web", 0).unwrap();
        assert_eq!(m, "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...\n");
        let (m, _) =
            deployment_status(&d(1, 1, json!({"r": 3, "u": 3, "a": 2})), "web", 0).unwrap();
        assert_eq!(m, "Waiting for deployment \"web\" rollout to finish: 2 of 3 updated replicas are available...\n");
        let (m, done) =
            deployment_status(&d(1, 1, json!({"r": 3, "u": 3, "a": 3})), "web", 0).unwrap();
        assert_eq!(
            (m.as_str(), done),
            ("deployment \"web\" successfully rolled out\n", true)
        );
    }

    #[test]
    fn a_pinned_revision_must_still_be_running() {
        let mut d = json!({"metadata": {"generation": 1, "annotations": {REVISION: "2"}},
            "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}});
        assert!(deployment_status(&d, "web", 2).unwrap().1);
        assert_eq!(
            deployment_status(&d, "web", 1).unwrap_err().to_string(),
            "error: desired revision (1) is different from the running revision (2)"
        );
        // The revision is checked before anything else, even a spec not yet observed.
        d["metadata"]["generation"] = json!(2);
        assert!(deployment_status(&d, "web", 3).is_err());
        d["metadata"]["annotations"] = json!({});
        assert_eq!(
            deployment_status(&d, "web", 1).unwrap_err().to_string(),
            "error: desired revision (1) is different from the running revision (0)"
        );
        d["metadata"]["annotations"][REVISION] = json!("x");
        assert_eq!(
            deployment_status(&d, "web", 1).unwrap_err().to_string(),
            "error: cannot get the revision of deployment \"web\": strconv.ParseInt: parsing \"x\": invalid syntax"
        );
    }
}
