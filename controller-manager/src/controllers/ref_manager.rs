//! Adopting and releasing pods by owner reference (upstream's `PodControllerRefManager`),
//! shared by the workload controllers.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, Patch, PatchParams};
use kube::ResourceExt;
use serde_json::json;

/// Make `owner` the controller of an orphan pod. The patch carries the pod's
/// resourceVersion so a concurrent adoption by someone else fails instead of clobbering;
/// `None` when the pod changed or vanished meanwhile (the next sync sees the new state).
pub async fn adopt(
    api: &Api<Pod>,
    pod: &Pod,
    owner: OwnerReference,
) -> Result<Option<Pod>, kube::Error> {
    let owner_name = owner.name.clone();
    let mut refs = pod.metadata.owner_references.clone().unwrap_or_default();
    refs.push(owner);
    let patch = json!({"metadata": {"ownerReferences": refs,
                                    "resourceVersion": pod.resource_version()}});
    match api
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(p) => {
            tracing::info!(pod = %pod.name_any(), owner = %owner_name, "adopted pod");
            Ok(Some(p))
        }
        Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

/// Drop the owner reference with `uid` from a pod that no longer matches its selector.
pub async fn release(api: &Api<Pod>, pod: &Pod, uid: &str) -> Result<(), kube::Error> {
    let refs: Vec<_> = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .filter(|r| r.uid != uid)
        .cloned()
        .collect();
    let patch = json!({"metadata": {"ownerReferences": refs,
                                    "resourceVersion": pod.resource_version()}});
    match api
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}
