//! A Deployment's status: counts summed over its ReplicaSets and the `Available` /
//! `Progressing` conditions with upstream's reasons and messages.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::{json, Value};

use super::deployment_util as util;

/// What the rollout did in this sync that the Progressing condition reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutEvent {
    /// Nothing notable.
    None,
    /// The new ReplicaSet was created.
    CreatedNew,
    /// An existing ReplicaSet became the new one again (rollback).
    FoundNew,
}

/// Counts as upstream's `calculateStatus`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub replicas: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    pub unavailable: i32,
}

/// Sum the ReplicaSets' status into the Deployment's counts.
pub fn counts(desired: i32, new: Option<&ReplicaSet>, owned: &[ReplicaSet]) -> Counts {
    let st = |rs: &ReplicaSet| rs.status.clone().unwrap_or_default();
    let replicas = owned.iter().map(|rs| st(rs).replicas).sum();
    let ready = owned
        .iter()
        .map(|rs| st(rs).ready_replicas.unwrap_or(0))
        .sum();
    let available: i32 = owned.iter().map(util::rs_available).sum();
    Counts {
        replicas,
        updated: new.map(|rs| st(rs).replicas).unwrap_or(0),
        ready,
        available,
        unavailable: (desired - available).max(0),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Set condition `type_` in `conds`: the transition time survives when the status does not
/// change; an identical condition is left alone unless `refresh`.
fn set_condition(
    conds: &mut Vec<Value>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    refresh: bool,
) {
    let t = now();
    let mut cond = json!({"type": type_, "status": status, "reason": reason, "message": message,
                          "lastUpdateTime": t, "lastTransitionTime": t});
    if let Some(old) = conds.iter_mut().find(|c| c["type"] == type_) {
        if old["status"] == status
            && old["reason"] == reason
            && old["message"] == message
            && !refresh
        {
            return;
        }
        if old["status"] == status {
            cond["lastTransitionTime"] = old["lastTransitionTime"].clone();
        }
        *old = cond;
    } else {
        conds.push(cond);
    }
}

/// Write the status (only when it changed) and the Deployment's revision annotation.
/// Returns whether the rollout is complete.
pub async fn sync(
    client: &Client,
    d: &Deployment,
    new: Option<&ReplicaSet>,
    owned: &[ReplicaSet],
    event: RolloutEvent,
) -> Result<bool, kube::Error> {
    let ns = d.namespace().unwrap_or_default();
    let api: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let spec = d.spec.clone().unwrap_or_default();
    let desired = spec.replicas.unwrap_or(1);
    let generation = d.metadata.generation.unwrap_or(0);
    let c = counts(desired, new, owned);
    let old = serde_json::to_value(d.status.clone().unwrap_or_default()).unwrap_or_default();
    let mut conds: Vec<Value> = old["conditions"].as_array().cloned().unwrap_or_default();

    let (_, max_unavailable) = util::resolve_fenceposts(d);
    let max_unavailable =
        if spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate") {
            0
        } else {
            max_unavailable
        };
    if c.available >= desired - max_unavailable {
        set_condition(
            &mut conds,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            false,
        );
    } else {
        set_condition(
            &mut conds,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            false,
        );
    }

    let complete = c.updated == desired && c.replicas == desired && c.available == desired;
    let rs_name = new.map(|rs| rs.name_any()).unwrap_or_default();
    if let Some(deadline) = spec.progress_deadline_seconds.or(Some(600)) {
        if spec.paused == Some(true) {
            set_condition(
                &mut conds,
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused",
                false,
            );
        } else if conds
            .iter()
            .any(|c| c["type"] == "Progressing" && c["reason"] == "DeploymentPaused")
        {
            // Resumed: the progress deadline starts counting again from now.
            set_condition(
                &mut conds,
                "Progressing",
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed",
                false,
            );
        } else if complete && new.is_some() {
            set_condition(
                &mut conds,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                false,
            );
        } else if event == RolloutEvent::CreatedNew {
            set_condition(
                &mut conds,
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                &format!("Created new replica set \"{rs_name}\""),
                true,
            );
        } else if event == RolloutEvent::FoundNew {
            set_condition(
                &mut conds,
                "Progressing",
                "True",
                "FoundNewReplicaSet",
                &format!("Found new replica set \"{rs_name}\""),
                true,
            );
        } else if progressed(&old, &c) {
            set_condition(
                &mut conds,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{rs_name}\" is progressing."),
                true,
            );
        } else if timed_out(&conds, deadline) {
            set_condition(
                &mut conds,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
                false,
            );
        }
    }

    let mut status = json!({
        "observedGeneration": generation,
        "replicas": c.replicas,
        "updatedReplicas": c.updated,
        "readyReplicas": c.ready,
        "availableReplicas": c.available,
        "unavailableReplicas": c.unavailable,
        "conditions": conds,
    });
    if let Some(cc) = old.get("collisionCount").filter(|v| !v.is_null()) {
        status["collisionCount"] = cc.clone();
    }
    let unchanged = [
        "observedGeneration",
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "unavailableReplicas",
        "conditions",
    ]
    .iter()
    .all(|k| old.get(*k).unwrap_or(&json!(0)) == &status[*k]);
    if !unchanged {
        match api
            .patch_status(
                &d.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&json!({"status": status})),
            )
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => return Ok(true),
            Err(e) => return Err(e),
        }
    }
    if let Some(rs) = new {
        let rev = util::rs_revision(rs);
        if rev > 0 && util::revision(d.annotations()) != rev {
            let patch = json!({"metadata": {"annotations": {util::REVISION: rev.to_string()}}});
            match api
                .patch(
                    &d.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await
            {
                Ok(_) | Err(kube::Error::Api(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(complete)
}

/// Whether the counts moved toward the goal since the last status (upstream's
/// `DeploymentProgressing`).
fn progressed(old: &Value, c: &Counts) -> bool {
    let get = |k: &str| old[k].as_i64().unwrap_or(0);
    i64::from(c.updated) > get("updatedReplicas")
        || i64::from(c.replicas) < get("replicas")
        || i64::from(c.ready) > get("readyReplicas")
        || i64::from(c.available) > get("availableReplicas")
}

/// Whether the Progressing condition was last updated more than `deadline` seconds ago.
fn timed_out(conds: &[Value], deadline: i32) -> bool {
    let Some(cond) = conds.iter().find(|c| c["type"] == "Progressing") else {
        return false;
    };
    if cond["reason"] == "NewReplicaSetAvailable" || cond["reason"] == "ProgressDeadlineExceeded" {
        return false;
    }
    let Some(updated) = cond["lastUpdateTime"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    else {
        return false;
    };
    chrono::Utc::now().timestamp() - updated.timestamp() > i64::from(deadline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_condition_keeps_its_times_and_status_change_resets_transition() {
        let mut conds = vec![json!({"type": "Available", "status": "False",
            "reason": "MinimumReplicasUnavailable", "message": "m",
            "lastUpdateTime": "2020-01-01T00:00:00Z", "lastTransitionTime": "2020-01-01T00:00:00Z"})];
        set_condition(
            &mut conds,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "m",
            false,
        );
        assert_eq!(conds[0]["lastUpdateTime"], "2020-01-01T00:00:00Z");
        set_condition(
            &mut conds,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "m",
            false,
        );
        assert_ne!(conds[0]["lastTransitionTime"], "2020-01-01T00:00:00Z");
        assert_eq!(conds.len(), 1);
    }

    #[test]
    fn stalled_progress_times_out_after_the_deadline() {
        let conds = vec![json!({"type": "Progressing", "status": "True",
            "reason": "ReplicaSetUpdated", "lastUpdateTime": "2020-01-01T00:00:00Z"})];
        assert!(timed_out(&conds, 600));
        let fresh = vec![json!({"type": "Progressing", "status": "True",
            "reason": "ReplicaSetUpdated", "lastUpdateTime": now()})];
        assert!(!timed_out(&fresh, 600));
    }
}
