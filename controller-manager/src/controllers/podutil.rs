//! Facts about pods and owner references shared by the workload controllers.

use std::time::{SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

/// The owner reference with `controller: true`, if any.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
}

/// An owner reference naming `owner` as the managing controller, as upstream's
/// `metav1.NewControllerRef`.
pub fn controller_ref(api_version: &str, kind: &str, name: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// A pod that still counts toward a controller's replicas: not being deleted and not
/// finished (upstream's `controller.FilterActivePods`).
pub fn is_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    pod.metadata.deletion_timestamp.is_none() && !matches!(phase, Some("Succeeded" | "Failed"))
}

/// Whether the pod's `Ready` condition is `True`.
pub fn is_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// Ready for at least `min_ready_seconds` (upstream's `podutil.IsPodAvailable`).
pub fn is_available(pod: &Pod, min_ready_seconds: i32) -> bool {
    let Some(since) = ready_since(pod) else {
        return false;
    };
    if min_ready_seconds <= 0 {
        return true;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    match since {
        Some(t) => t + i64::from(min_ready_seconds) <= now,
        None => false,
    }
}

/// `Some(transition time in Unix seconds if known)` when the pod is ready.
fn ready_since(pod: &Pod) -> Option<Option<i64>> {
    pod.status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready" && c.status == "True")
        .map(|c| c.last_transition_time.as_ref().map(|t| t.0.as_second()))
}

/// Whether the pod is bound to a node.
pub fn is_scheduled(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty())
}

/// Sort key putting the pods upstream deletes first in front (`controller.ActivePods`):
/// unscheduled before scheduled, Pending before Unknown before Running, not ready before
/// ready, then the newest first.
pub fn deletion_rank(pod: &Pod) -> (u8, u8, u8, std::cmp::Reverse<i64>) {
    let phase = match pod.status.as_ref().and_then(|s| s.phase.as_deref()) {
        Some("Pending") | None => 0,
        Some("Unknown") => 1,
        _ => 2,
    };
    let created = pod
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .unwrap_or_default();
    (
        u8::from(is_scheduled(pod)),
        phase,
        u8::from(is_ready(pod)),
        std::cmp::Reverse(created),
    )
}
