//! The ephemeral-volume controller (upstream `pkg/controller/volume/ephemeral`): for every
//! generic ephemeral volume of a pod (`volumes[].ephemeral.volumeClaimTemplate`) it creates
//! the PersistentVolumeClaim `<pod>-<volume>` from the template, controlled by the pod, so
//! the claim is bound like any other and garbage-collected with the pod. A claim of that
//! name the pod does not control is left alone and reported: the pod cannot start on it
//! (the scheduler and kubelet check ownership too).
//!
//! Claims are watched as well, so a claim deleted while its pod still exists is made again.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::podutil::{controller_of, controller_ref};

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    /// A claim with the volume's name exists and the pod does not control it.
    #[error(
        "PVC {namespace}/{claim} was not created for pod {namespace}/{pod} (pod is not owner)"
    )]
    NotOwned {
        namespace: String,
        claim: String,
        pod: String,
    },
}

struct Context {
    client: Client,
}

/// Run until the watch streams end.
pub async fn run(client: Client) {
    let pods: Api<Pod> = Api::all(client.clone());
    let claims: Api<PersistentVolumeClaim> = Api::all(client.clone());
    let controller = Controller::new(pods, watcher::Config::default()).watches(
        claims,
        watcher::Config::default(),
        // A claim's controlling pod, so a deleted claim is made again.
        |claim: PersistentVolumeClaim| {
            let ns = claim.namespace().unwrap_or_default();
            controller_of(&claim.metadata)
                .filter(|o| o.kind == "Pod" && o.api_version == "v1")
                .map(|o| ObjectRef::new(&o.name).within(&ns))
        },
    );
    let ctx = Arc::new(Context { client });
    let results = controller.run(reconcile, error_policy, ctx);
    super::drain("ephemeral-volume", results).await;
}

fn error_policy(_pod: Arc<Pod>, err: &Error, _ctx: Arc<Context>) -> Action {
    match err {
        // Nothing changes until the claim or the pod does, and both are watched.
        Error::NotOwned { .. } => Action::await_change(),
        Error::Api(_) => Action::requeue(Duration::from_secs(2)),
    }
}

async fn reconcile(pod: Arc<Pod>, ctx: Arc<Context>) -> Result<Action, Error> {
    // A pod on its way out needs no new claims.
    if pod.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = pod.namespace().unwrap_or_default();
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &ns);
    for volume in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
        let Some(claim) = claim_for(&pod, volume) else {
            continue;
        };
        let name = claim.name_any();
        match api.get_opt(&name).await? {
            Some(existing) => {
                if !controlled_by(&existing, &pod) {
                    return Err(Error::NotOwned {
                        namespace: ns,
                        claim: name,
                        pod: pod.name_any(),
                    });
                }
            }
            None => match api.create(&PostParams::default(), &claim).await {
                Ok(_) => tracing::info!(namespace = %ns, pod = %pod.name_any(), claim = %name,
                    "created the claim of an ephemeral volume"),
                // Made meanwhile (by an earlier pass): checked on the next event.
                Err(kube::Error::Api(e)) if e.code == 409 => {}
                Err(e) => return Err(e.into()),
            },
        }
    }
    Ok(Action::await_change())
}

/// The claim an ephemeral volume of `pod` needs: named `<pod>-<volume>`, with the
/// template's labels, annotations and spec, controlled by the pod. None for other volumes.
fn claim_for(pod: &Pod, volume: &Volume) -> Option<PersistentVolumeClaim> {
    let template = volume.ephemeral.as_ref()?.volume_claim_template.as_ref()?;
    let owner = controller_ref("v1", "Pod", &pod.name_any(), &pod.uid().unwrap_or_default());
    let meta = template.metadata.clone().unwrap_or_default();
    Some(PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(format!("{}-{}", pod.name_any(), volume.name)),
            namespace: pod.namespace(),
            labels: meta.labels,
            annotations: meta.annotations,
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: Some(template.spec.clone()),
        status: None,
    })
}

fn controlled_by(claim: &PersistentVolumeClaim, pod: &Pod) -> bool {
    controller_of(&claim.metadata).is_some_and(|o| Some(&o.uid) == pod.uid().as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "ns", "uid": "pod-uid"},
            "spec": {"containers": [], "volumes": [
                {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {
                    "metadata": {"labels": {"type": "scratch"}, "annotations": {"a": "b"}},
                    "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                             "resources": {"requests": {"storage": "1Gi"}}}}}},
                {"name": "tmp", "emptyDir": {}}]}}))
        .expect("a pod")
    }

    fn pod_and_volumes() -> (Pod, Vec<Volume>) {
        let pod = pod();
        let volumes = pod.spec.as_ref().and_then(|s| s.volumes.clone());
        (pod, volumes.unwrap_or_default())
    }

    #[test]
    fn the_claim_comes_from_the_template_and_belongs_to_the_pod() {
        let (pod, volumes) = pod_and_volumes();
        let claim = claim_for(&pod, &volumes[0]).expect("an ephemeral volume");
        let claim = serde_json::to_value(&claim).expect("json");
        assert_eq!(
            claim,
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "web-scratch", "namespace": "ns",
                "labels": {"type": "scratch"}, "annotations": {"a": "b"},
                "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "web",
                    "uid": "pod-uid", "controller": true, "blockOwnerDeletion": true}]},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                    "resources": {"requests": {"storage": "1Gi"}}}})
        );
        assert!(claim_for(&pod, &volumes[1]).is_none());
    }

    #[test]
    fn only_a_claim_the_pod_controls_is_its_own() {
        let (pod, volumes) = pod_and_volumes();
        let mine = claim_for(&pod, &volumes[0]).expect("claim");
        assert!(controlled_by(&mine, &pod));
        let mut foreign = mine.clone();
        foreign.metadata.owner_references = None;
        assert!(!controlled_by(&foreign, &pod));
    }
}
