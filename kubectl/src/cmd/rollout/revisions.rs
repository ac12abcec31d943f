//! Where a workload's revisions live: a Deployment's are the ReplicaSets it owns (numbered by
//! their `deployment.kubernetes.io/revision` annotation), a DaemonSet's or StatefulSet's the
//! ControllerRevisions it controls. `history` shows them and `undo` rolls back to one.

use serde_json::Value;

use crate::client::{q, ApiClient};
use crate::error::Result;

/// The annotation holding a Deployment's (and its ReplicaSets') revision number.
pub const REVISION: &str = "deployment.kubernetes.io/revision";

/// The objects of `plural` (apps/v1) in the owner's namespace that its selector matches and
/// that name it as an owner (as their controller, when `controller_only`).
async fn owned_by(
    client: &ApiClient,
    owner: &Value,
    plural: &str,
    controller_only: bool,
) -> Result<Vec<Value>> {
    let ns = owner["metadata"]["namespace"].as_str().unwrap_or("default");
    let uid = &owner["metadata"]["uid"];
    let selector = owner["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let list = client
        .get(&format!(
            "/apis/apps/v1/namespaces/{ns}/{plural}?labelSelector={}",
            q(&selector)
        ))
        .await?;
    Ok(list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| {
            o["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| &r["uid"] == uid && (!controller_only || r["controller"] == true))
        })
        .cloned()
        .collect())
}

/// The number in an object's revision annotation, when it has a readable one.
pub fn revision_of(o: &Value) -> Option<i64> {
    o["metadata"]["annotations"][REVISION]
        .as_str()?
        .parse()
        .ok()
}

/// The deployment's ReplicaSets by revision, oldest first.
pub async fn replica_sets(client: &ApiClient, d: &Value) -> Result<Vec<(i64, Value)>> {
    let mut out: Vec<(i64, Value)> = owned_by(client, d, "replicasets", false)
        .await?
        .into_iter()
        .filter_map(|rs| Some((revision_of(&rs)?, rs)))
        .collect();
    out.sort_by_key(|(r, _)| *r);
    Ok(out)
}

/// The ControllerRevisions a DaemonSet or StatefulSet owns, by revision number.
pub async fn controller_revisions(client: &ApiClient, obj: &Value) -> Result<Vec<(i64, Value)>> {
    let mut revs: Vec<(i64, Value)> = owned_by(client, obj, "controllerrevisions", true)
        .await?
        .into_iter()
        .map(|r| (r["revision"].as_i64().unwrap_or(0), r))
        .collect();
    revs.sort_by_key(|(n, _)| *n);
    Ok(revs)
}

/// The pod template a ControllerRevision holds (its data is a replacing patch of it).
pub fn revision_template(revision: &Value) -> Value {
    let mut template = revision["data"]["spec"]["template"].clone();
    if let Some(t) = template.as_object_mut() {
        t.remove("$patch");
    }
    template
}

/// The revision `undo` goes back to among `revisions` (sorted oldest first): `to`, or for
/// 0 the one before the newest, as upstream's rollbackers pick it.
pub fn rollback_target(revisions: &[(i64, Value)], to: i64) -> Option<&(i64, Value)> {
    if to == 0 {
        revisions.iter().rev().nth(1)
    } else {
        revisions.iter().find(|(n, _)| *n == to)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rollback_goes_to_the_named_or_the_previous_revision() {
        let revs: Vec<(i64, Value)> = [1, 3, 4].iter().map(|n| (*n, json!(n))).collect();
        assert_eq!(rollback_target(&revs, 0).map(|r| r.0), Some(3));
        assert_eq!(rollback_target(&revs, 1).map(|r| r.0), Some(1));
        assert!(rollback_target(&revs, 2).is_none());
        assert!(rollback_target(&revs[..1], 0).is_none());
    }

    #[test]
    fn revision_numbers_and_templates_are_read_as_stored() {
        let rs = json!({"metadata": {"annotations": {REVISION: "7"}}});
        assert_eq!(revision_of(&rs), Some(7));
        assert_eq!(revision_of(&json!({"metadata": {}})), None);
        let rev = json!({"data": {"spec": {"template": {"$patch": "replace", "spec": {"a": 1}}}}});
        assert_eq!(revision_template(&rev), json!({"spec": {"a": 1}}));
    }
}
