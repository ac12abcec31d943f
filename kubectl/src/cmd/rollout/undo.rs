//! `rollout undo`: upstream's Rollbackers. A Deployment gets its old ReplicaSet's pod
//! template (and annotations) back by a JSON patch; a DaemonSet or StatefulSet gets its old
//! ControllerRevision's data, a strategic merge patch replacing the template. A client dry
//! run only describes the template it would go back to; a server dry run sends the patch
//! with `dryRun=All`. Either way what is printed is the object as it was read.

use http::Method;
use serde_json::{json, Map, Value};

use super::revisions::{
    controller_revisions, replica_sets, revision_template, rollback_target, REVISION,
};
use crate::client::{ApiClient, Body};
use crate::cmd::label::Target;
use crate::cmd::print_flags::{DryRun, PrintFlags};
use crate::error::{KubectlError, Result};
use crate::printers::tabbed::PrefixWriter;

/// The label a Deployment's controller adds to each ReplicaSet's template.
const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// The Deployment annotations a rollback keeps as they are, instead of taking the
/// ReplicaSet's (upstream's `annotationsToSkip`).
const KEPT_ANNOTATIONS: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// Rolls one workload back to revision `to` (0: the previous one) and prints the outcome.
pub async fn undo(
    client: &ApiClient,
    t: &Target,
    to: i64,
    print_flags: &PrintFlags,
    dry: DryRun,
) -> Result<()> {
    let obj = client.get(&t.path()).await?;
    let outcome = if t.res.kind == "Deployment" {
        deployment_undo(client, t, &obj, to, dry).await?
    } else {
        controller_undo(client, t, &obj, to, dry).await?
    };
    let format = print_flags.format()?;
    print_flags.print(&format, &obj, &outcome, dry)
}

fn revision_not_found(to: i64) -> KubectlError {
    KubectlError::usage(format!("unable to find specified revision {to} in history"))
}

/// Upstream's DeploymentRollbacker: what it did, as the printer's operation.
async fn deployment_undo(
    client: &ApiClient,
    t: &Target,
    d: &Value,
    to: i64,
    dry: DryRun,
) -> Result<String> {
    if to < 0 {
        return Err(revision_not_found(to));
    }
    let replica_sets = replica_sets(client, d).await?;
    let Some((_, rs)) = rollback_target(&replica_sets, to) else {
        return Err(if to > 0 {
            revision_not_found(to)
        } else {
            KubectlError::usage(format!(
                "no rollout history found for deployment {:?}",
                t.name
            ))
        });
    };
    let mut template = rs["spec"]["template"].clone();
    if dry == DryRun::Client {
        return Ok(describe_template(&template));
    }
    if d["spec"]["paused"] == true {
        return Err(KubectlError::usage(
            "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
        ));
    }
    if same_ignoring_hash(&template, &d["spec"]["template"]) {
        return Ok(skipped(to));
    }
    if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
        labels.remove(POD_TEMPLATE_HASH);
    }
    let patch = json!([
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": rollback_annotations(d, rs)},
    ]);
    let body = Body {
        content_type: "application/json-patch+json",
        bytes: patch.to_string().into_bytes(),
    };
    send(client, t, body, dry, to).await?;
    Ok("rolled back".into())
}

/// The annotations a rolled-back Deployment ends with: its own bookkeeping ones, and the
/// rest from the ReplicaSet of the revision it goes back to.
fn rollback_annotations(d: &Value, rs: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let kept = |k: &str| KEPT_ANNOTATIONS.contains(&k);
    for (k, v) in d["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if kept(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in rs["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if !kept(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Whether two pod templates are equal but for the ReplicaSet's hash label (upstream's
/// `equalIgnoreHash`; its semantic equality takes an empty map for a missing one).
fn same_ignoring_hash(a: &Value, b: &Value) -> bool {
    let strip = |t: &Value| {
        let mut t = t.clone();
        if let Some(meta) = t["metadata"].as_object_mut() {
            if let Some(labels) = meta.get_mut("labels").and_then(Value::as_object_mut) {
                labels.remove(POD_TEMPLATE_HASH);
            }
            meta.retain(|_, v| !v.is_null() && v.as_object().is_none_or(|m| !m.is_empty()));
        }
        t
    };
    strip(a) == strip(b)
}

/// Upstream's DaemonSetRollbacker and StatefulSetRollbacker.
async fn controller_undo(
    client: &ApiClient,
    t: &Target,
    obj: &Value,
    to: i64,
    dry: DryRun,
) -> Result<String> {
    if to < 0 {
        return Err(revision_not_found(to));
    }
    let revisions = controller_revisions(client, obj).await?;
    if to == 0 && revisions.len() <= 1 {
        return Err(KubectlError::usage("no last revision to roll back to"));
    }
    let Some((_, revision)) = rollback_target(&revisions, to) else {
        return Err(revision_not_found(to));
    };
    if dry == DryRun::Client {
        let template = revision_template(revision);
        return Ok(format!(
            "will roll back to {}",
            describe_template(&template)
        ));
    }
    if revision_template(revision) == obj["spec"]["template"] {
        return Ok(skipped(to));
    }
    send(
        client,
        t,
        Body::strategic_merge_patch(&revision["data"]),
        dry,
        to,
    )
    .await?;
    Ok("rolled back".into())
}

fn skipped(to: i64) -> String {
    format!("skipped rollback (current template already matches revision {to})")
}

/// A pod template as `describe` shows it (upstream's printTemplate, tabs kept).
fn describe_template(template: &Value) -> String {
    let mut w = PrefixWriter::new();
    crate::cmd::describe::pod_template(&mut w, template);
    w.into_raw()
}

/// Sends the rollback's patch (tried only, in a server dry run).
async fn send(client: &ApiClient, t: &Target, body: Body, dry: DryRun, to: i64) -> Result<Value> {
    let mut path = t.path();
    if dry == DryRun::Server {
        path.push_str("?dryRun=All");
    }
    client
        .request(Method::PATCH, &path, "application/json", Some(body))
        .await
        .map_err(|e| {
            KubectlError::usage(format!(
                "failed restoring revision {to}: {}",
                e.to_string().trim_start_matches("error: ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_but_for_the_hash_label() {
        let t = |labels: Value| json!({"metadata": {"labels": labels, "creationTimestamp": null}, "spec": {"a": 1}});
        let rs = t(json!({"app": "web", POD_TEMPLATE_HASH: "abc"}));
        assert!(same_ignoring_hash(&rs, &t(json!({"app": "web"}))));
        assert!(!same_ignoring_hash(&rs, &t(json!({"app": "api"}))));
        // Only a hash label on one side, none on the other.
        let only_hash = t(json!({POD_TEMPLATE_HASH: "abc"}));
        assert!(same_ignoring_hash(
            &only_hash,
            &json!({"metadata": {}, "spec": {"a": 1}})
        ));
        let mut other_spec = t(json!({"app": "web"}));
        other_spec["spec"]["a"] = json!(2);
        assert!(!same_ignoring_hash(&rs, &other_spec));
    }

    #[test]
    fn a_rollback_keeps_the_deployments_bookkeeping_and_takes_the_rest() {
        let d = json!({"metadata": {"annotations": {
            REVISION: "3",
            "kubectl.kubernetes.io/last-applied-configuration": "{}",
            "kubernetes.io/change-cause": "now",
            "mine": "x"}}});
        let rs = json!({"metadata": {"annotations": {
            REVISION: "1",
            "deployment.kubernetes.io/desired-replicas": "1",
            "kubernetes.io/change-cause": "then"}}});
        assert_eq!(
            Value::Object(rollback_annotations(&d, &rs)),
            json!({REVISION: "3",
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
                "kubernetes.io/change-cause": "then"})
        );
    }

    #[test]
    fn a_client_dry_run_describes_the_template() {
        let template = json!({"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}});
        let text = describe_template(&template);
        assert!(text.starts_with("Pod Template:\n  Labels:"), "{text}");
        assert!(text.contains("busybox:1"), "{text}");
        assert_eq!(
            skipped(0),
            "skipped rollback (current template already matches revision 0)"
        );
    }
}
