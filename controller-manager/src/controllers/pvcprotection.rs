//! The pvc-protection controller (upstream `pkg/controller/volume/pvcprotection`): a
//! PersistentVolumeClaim being deleted keeps its `kubernetes.io/pvc-protection` finalizer,
//! and so stays (phase unchanged, `Terminating` in kubectl), until no scheduled pod uses it;
//! then the finalizer goes and the apiserver removes the claim. Claims created without the
//! finalizer (before the admission plugin ran) get it.
//!
//! A pod uses a claim when it is scheduled (the kubelet refuses to start a pod on a claim
//! being deleted, so an unscheduled pod never will) and one of its volumes names the claim,
//! whatever the pod's phase: only deleting the pod lets the claim go. A generic ephemeral
//! volume's claim (`<pod>-<volume>`, controlled by the pod) is let go earlier, once the pod
//! is shut down (deleted with a zero grace period), which breaks the cycle of a pod
//! finalizer waiting for the claim.
//!
//! Pods are watched so that a pod going away re-checks the claims it named. Before letting
//! a claim go the pods of its namespace are listed from the apiserver, not the cache: a pod
//! created a moment ago and not yet seen must still hold the claim.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::podutil::controller_of;
use super::volume_protection::{
    is_deletion_candidate, needs_finalizer, set_finalizer, PVC_PROTECTION_FINALIZER,
};

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
}

struct Context {
    client: Client,
}

/// Run until the watch streams end.
pub async fn run(client: Client) {
    let claims: Api<PersistentVolumeClaim> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    let controller = Controller::new(claims, watcher::Config::default()).watches(
        pods,
        watcher::Config::default(),
        |pod: Pod| {
            let ns = pod.namespace().unwrap_or_default();
            claim_names(&pod)
                .into_iter()
                .map(|name| ObjectRef::new(&name).within(&ns))
                .collect::<Vec<_>>()
        },
    );
    let ctx = Arc::new(Context { client });
    let results = controller.run(reconcile, error_policy, ctx);
    super::drain("pvc-protection", results).await;
}

fn error_policy(_pvc: Arc<PersistentVolumeClaim>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

async fn reconcile(pvc: Arc<PersistentVolumeClaim>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = pvc.namespace().unwrap_or_default();
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &ns);
    if is_deletion_candidate(&pvc.metadata, PVC_PROTECTION_FINALIZER) {
        let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
        let live = pods.list(&ListParams::default()).await?;
        match live.items.iter().find(|pod| uses_claim(pod, &pvc)) {
            Some(pod) => {
                tracing::debug!(claim = %pvc.name_any(), pod = %pod.name_any(),
                    "keeping the claim: a pod uses it");
            }
            None => {
                set_finalizer(&api, &pvc, PVC_PROTECTION_FINALIZER, false).await?;
                tracing::info!(namespace = %ns, claim = %pvc.name_any(),
                    "removed the protection finalizer of an unused claim");
            }
        }
        return Ok(Action::await_change());
    }
    if needs_finalizer(&pvc.metadata, PVC_PROTECTION_FINALIZER) {
        set_finalizer(&api, &pvc, PVC_PROTECTION_FINALIZER, true).await?;
    }
    Ok(Action::await_change())
}

/// The claims a pod's volumes name: `persistentVolumeClaim.claimName`, and for a generic
/// ephemeral volume the claim `<pod>-<volume>` made for it.
fn claim_names(pod: &Pod) -> Vec<String> {
    let pod_name = pod.name_any();
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| match (&v.persistent_volume_claim, &v.ephemeral) {
            (Some(claim), _) => Some(claim.claim_name.clone()),
            (None, Some(_)) => Some(format!("{pod_name}-{}", v.name)),
            _ => None,
        })
        .collect()
}

/// Whether `pod` holds `pvc` (see the module documentation).
fn uses_claim(pod: &Pod, pvc: &PersistentVolumeClaim) -> bool {
    let scheduled = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    if !scheduled {
        return false;
    }
    let claim = pvc.name_any();
    let pod_name = pod.name_any();
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .any(|v| {
            if let Some(c) = &v.persistent_volume_claim {
                return c.claim_name == claim;
            }
            v.ephemeral.is_some()
                && !is_shut_down(pod)
                && format!("{pod_name}-{}", v.name) == claim
                && controller_of(&pvc.metadata).is_some_and(|o| Some(&o.uid) == pod.uid().as_ref())
        })
}

/// Deleted with a zero grace period: the kubelet is done with it, or it was force-deleted.
fn is_shut_down(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
        && pod.metadata.deletion_grace_period_seconds == Some(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(node: &str, volumes: serde_json::Value, extra_meta: serde_json::Value) -> Pod {
        let mut meta = json!({"name": "web", "namespace": "ns", "uid": "pod-uid"});
        if let (Some(m), Some(e)) = (meta.as_object_mut(), extra_meta.as_object()) {
            m.extend(e.clone());
        }
        serde_json::from_value(json!({"metadata": meta,
            "spec": {"nodeName": node, "containers": [], "volumes": volumes}}))
        .expect("a pod")
    }

    fn claim(name: &str, owner_uid: Option<&str>) -> PersistentVolumeClaim {
        let owners: Vec<_> = owner_uid
            .map(|uid| {
                json!({"apiVersion": "v1", "kind": "Pod", "name": "web", "uid": uid,
                "controller": true})
            })
            .into_iter()
            .collect();
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "ns",
            "ownerReferences": owners}}))
        .expect("a claim")
    }

    #[test]
    fn a_scheduled_pod_naming_the_claim_holds_it_whatever_its_phase() {
        let volumes = json!([{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]);
        assert!(uses_claim(
            &pod("n1", volumes.clone(), json!({})),
            &claim("data", None)
        ));
        assert!(!uses_claim(
            &pod("n1", volumes.clone(), json!({})),
            &claim("other", None)
        ));
        // Not scheduled: it will never start on a claim being deleted.
        assert!(!uses_claim(
            &pod("", volumes.clone(), json!({})),
            &claim("data", None)
        ));
        // Shut down still holds a named claim; only the pod's removal lets it go.
        let gone = json!({"deletionTimestamp": "2026-12-02T00:00:00Z",
            "deletionGracePeriodSeconds": 0});
        assert!(uses_claim(&pod("n1", volumes, gone), &claim("data", None)));
    }

    #[test]
    fn an_ephemeral_claim_is_held_by_its_own_pod_until_it_shuts_down() {
        let volumes = json!([{"name": "scratch", "ephemeral": {"volumeClaimTemplate":
            {"spec": {"accessModes": ["ReadWriteOnce"]}}}}]);
        let mine = claim("web-scratch", Some("pod-uid"));
        assert!(uses_claim(&pod("n1", volumes.clone(), json!({})), &mine));
        // A namesake claim another pod made is not this pod's.
        let foreign = claim("web-scratch", Some("someone-else"));
        assert!(!uses_claim(
            &pod("n1", volumes.clone(), json!({})),
            &foreign
        ));
        let gone = json!({"deletionTimestamp": "2026-12-02T00:00:00Z",
            "deletionGracePeriodSeconds": 0});
        assert!(!uses_claim(&pod("n1", volumes, gone), &mine));
    }

    #[test]
    fn a_pod_event_rechecks_every_claim_it_names() {
        let volumes = json!([
            {"name": "a", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
            {"name": "tmp", "emptyDir": {}}]);
        assert_eq!(
            claim_names(&pod("", volumes, json!({}))),
            ["data", "web-scratch"]
        );
    }
}
