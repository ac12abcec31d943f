//! PersistentVolume and PersistentVolumeClaim facts the PV controller and the scheduler's
//! VolumeBinding plugin must read the same way: classes, binding annotations, `claimRef`,
//! sizes and the modes a volume offers a claim.

use k8s_openapi::api::core::v1::{ObjectReference, PersistentVolume, PersistentVolumeClaim};
use kube::ResourceExt;

use crate::quantity::parse_milli;

/// Set on a claim once the PV controller finished binding it.
pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// Set on whatever side of a binding the controller (not a user) filled in.
pub const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
/// The scheduler's choice of node for a WaitForFirstConsumer claim.
pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// The beta class annotation upstream still honours before `storageClassName`.
pub const ANN_BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

/// Keeps a claim while a scheduled pod uses it (added by the apiserver's
/// StorageObjectInUseProtection admission, removed by the pvc-protection controller).
pub const PVC_PROTECTION_FINALIZER: &str = "kubernetes.io/pvc-protection";
/// Keeps a volume while it is bound to a claim (added by the same admission, removed by the
/// pv-protection controller).
pub const PV_PROTECTION_FINALIZER: &str = "kubernetes.io/pv-protection";

/// The `claimRef` a volume bound to `claim` carries: kind, namespace, name, and the uid and
/// resourceVersion that tie it to this claim and not a later namesake.
pub fn claim_ref(claim: &PersistentVolumeClaim) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("PersistentVolumeClaim".into()),
        name: claim.metadata.name.clone(),
        namespace: claim.namespace(),
        uid: claim.metadata.uid.clone(),
        resource_version: claim.metadata.resource_version.clone(),
        field_path: None,
    }
}

/// The claim's class (`""` for none), the beta annotation first as upstream.
pub fn claim_class(claim: &PersistentVolumeClaim) -> String {
    if let Some(c) = claim.annotations().get(ANN_BETA_STORAGE_CLASS) {
        return c.clone();
    }
    claim
        .spec
        .as_ref()
        .and_then(|s| s.storage_class_name.clone())
        .unwrap_or_default()
}

/// The volume's class (`""` for none), the beta annotation first as upstream.
pub fn volume_class(pv: &PersistentVolume) -> String {
    if let Some(c) = pv.annotations().get(ANN_BETA_STORAGE_CLASS) {
        return c.clone();
    }
    pv.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.clone())
        .unwrap_or_default()
}

/// Whether the volume's `claimRef` names this claim (by namespace and name, and by uid when
/// the reference carries one).
pub fn is_bound_to(pv: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let Some(r) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return false;
    };
    r.name.as_deref() == Some(claim.name_any().as_str())
        && r.namespace == claim.namespace()
        && r.uid
            .as_deref()
            .is_none_or(|u| u.is_empty() || Some(u) == claim.metadata.uid.as_deref())
}

/// The volume's `capacity.storage` in milli-units (0 when missing).
pub fn capacity(pv: &PersistentVolume) -> i128 {
    pv.spec
        .as_ref()
        .and_then(|s| s.capacity.as_ref())
        .and_then(|c| c.get("storage"))
        .and_then(|q| parse_milli(&q.0))
        .unwrap_or(0)
}

/// The claim's `resources.requests.storage` in milli-units (0 when missing).
pub fn requested_storage(claim: &PersistentVolumeClaim) -> i128 {
    claim
        .spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| parse_milli(&q.0))
        .unwrap_or(0)
}

/// Whether volume and claim have the same volume mode (`Filesystem` when unset).
pub fn volume_mode_matches(pv: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let pv_mode = pv.spec.as_ref().and_then(|s| s.volume_mode.as_deref());
    let claim_mode = claim.spec.as_ref().and_then(|s| s.volume_mode.as_deref());
    pv_mode.unwrap_or("Filesystem") == claim_mode.unwrap_or("Filesystem")
}

/// Whether the volume offers every access mode the claim asks for.
pub fn offers_access_modes(pv: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let offered = pv.spec.as_ref().and_then(|s| s.access_modes.as_ref());
    claim
        .spec
        .as_ref()
        .and_then(|s| s.access_modes.as_ref())
        .into_iter()
        .flatten()
        .all(|m| offered.is_some_and(|o| o.contains(m)))
}
