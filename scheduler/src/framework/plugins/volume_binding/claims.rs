//! The pod's PersistentVolumeClaims sorted as upstream's `GetPodVolumeClaims` sorts them:
//! bound, unbound of a `WaitForFirstConsumer` class (bound by the scheduler), and unbound
//! `Immediate` ones (the PV controller's job: the pod must wait).

use std::sync::Arc;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use super::matching;
use crate::framework::handle::Handle;
use crate::framework::Status;

pub use common::volume::{claim_class, ANN_BIND_COMPLETED, ANN_SELECTED_NODE};
/// Upstream's `ErrReasonBindConflict`-free PreFilter message for immediate claims.
pub const ERR_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";

/// A claim bound to a volume (`spec.volumeName` set): the volume, `None` when it does not
/// exist.
pub struct BoundClaim {
    /// Its volume, when it exists.
    pub pv: Option<Arc<PersistentVolume>>,
}

/// An unbound claim of a `WaitForFirstConsumer` class.
pub struct DelayedClaim {
    /// The claim.
    pub claim: Arc<PersistentVolumeClaim>,
    /// Its class.
    pub class: Arc<StorageClass>,
    /// Volumes that fit the claim on some node, best first (node affinity and assumed
    /// reservations are checked per node).
    pub candidates: Vec<Arc<PersistentVolume>>,
}

impl DelayedClaim {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        claim_key(&self.claim)
    }

    /// Whether a volume can be provisioned for it (its class names a real provisioner).
    pub fn provisionable(&self) -> bool {
        self.class.provisioner != "kubernetes.io/no-provisioner"
    }

    /// The node a provisioner was already told to use, if any.
    pub fn selected_node(&self) -> Option<&str> {
        self.claim
            .annotations()
            .get(ANN_SELECTED_NODE)
            .map(String::as_str)
    }
}

/// What PreFilter found.
#[derive(Default)]
pub struct PodClaims {
    /// Bound claims.
    pub bound: Vec<BoundClaim>,
    /// Claims the scheduler binds.
    pub delayed: Vec<DelayedClaim>,
}

/// `namespace/name` of a claim.
pub fn claim_key(claim: &PersistentVolumeClaim) -> String {
    format!(
        "{}/{}",
        claim.namespace().unwrap_or_default(),
        claim.name_any()
    )
}

/// The claim names the pod's volumes use: `persistentVolumeClaim.claimName`, and for a
/// generic ephemeral volume the `<pod>-<volume>` claim its controller creates.
fn pod_claim_names(pod: &Pod) -> Vec<(String, bool)> {
    let pod_name = pod.name_any();
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| {
            if let Some(pvc) = &v.persistent_volume_claim {
                return Some((pvc.claim_name.clone(), false));
            }
            v.ephemeral
                .as_ref()
                .map(|_| (format!("{pod_name}-{}", v.name), true))
        })
        .collect()
}

/// Whether the pod uses any PersistentVolumeClaim (otherwise the plugin skips it).
pub fn has_claims(pod: &Pod) -> bool {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .any(|v| v.persistent_volume_claim.is_some() || v.ephemeral.is_some())
}

/// Sort the pod's claims; an `Err` (unresolvable) when one is missing, being deleted,
/// of a missing class, or unbound with `Immediate` binding.
pub fn pod_claims(handle: &Handle, pod: &Pod) -> Result<PodClaims, Status> {
    let namespace = pod.namespace().unwrap_or_default();
    let mut out = PodClaims::default();
    let mut immediate = false;
    for (name, ephemeral) in pod_claim_names(pod) {
        let Some(claim) = handle.pvcs.get(&ObjectRef::new(&name).within(&namespace)) else {
            return Err(Status::unresolvable(if ephemeral {
                format!("waiting for ephemeral volume controller to create the persistentvolumeclaim {name:?}")
            } else {
                format!("persistentvolumeclaim {name:?} not found")
            }));
        };
        if claim.metadata.deletion_timestamp.is_some() {
            return Err(Status::unresolvable(format!(
                "persistentvolumeclaim {name:?} is being deleted"
            )));
        }
        if ephemeral && !owned_by(&claim, pod) {
            return Err(Status::unresolvable(format!(
                "PVC {namespace}/{name} was not created for pod {namespace}/{} (pod is not owner)",
                pod.name_any()
            )));
        }
        let volume_name = claim
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.clone())
            .unwrap_or_default();
        if !volume_name.is_empty() {
            // Named volume: what matters is where that volume can be used.
            let pv = handle.pvs.get(&ObjectRef::new(&volume_name));
            out.bound.push(BoundClaim { pv });
            continue;
        }
        let class_name = claim_class(&claim);
        if class_name.is_empty() {
            // No class: binding can never wait for a consumer.
            immediate = true;
            continue;
        }
        let Some(class) = handle.storage_classes.get(&ObjectRef::new(&class_name)) else {
            return Err(Status::unresolvable(format!(
                "storageclass.storage.k8s.io {class_name:?} not found"
            )));
        };
        if class.volume_binding_mode.as_deref() != Some("WaitForFirstConsumer") {
            immediate = true;
            continue;
        }
        let candidates = matching::candidates(&claim, &class_name, &handle.pvs.state());
        out.delayed.push(DelayedClaim {
            claim,
            class,
            candidates,
        });
    }
    if immediate {
        return Err(Status::unresolvable(ERR_UNBOUND_IMMEDIATE));
    }
    Ok(out)
}

fn owned_by(claim: &PersistentVolumeClaim, pod: &Pod) -> bool {
    claim
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true) && Some(&r.uid) == pod.metadata.uid.as_ref())
}
