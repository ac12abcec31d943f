//! persistentVolumeClaim volumes: claim → bound PersistentVolume → what to mount.
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::Api;

use super::VolumeError;

/// The PersistentVolume bound to `claim` in `namespace`, or a clear error when the claim
/// is missing or not bound yet (the pod worker retries). With `owner_uid` (a generic
/// ephemeral volume's claim) the claim must be controlled by that pod.
pub async fn bound_volume(
    client: &kube::Client,
    namespace: &str,
    claim: &str,
    owner_uid: Option<&str>,
) -> Result<PersistentVolume, VolumeError> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    let pvc = claims
        .get_opt(claim)
        .await?
        .ok_or_else(|| VolumeError::ObjectNotFound {
            kind: "persistentvolumeclaim",
            name: claim.to_string(),
        })?;
    if let Some(uid) = owner_uid {
        let controlled = pvc
            .metadata
            .owner_references
            .iter()
            .flatten()
            .any(|o| o.controller == Some(true) && o.uid == uid);
        if !controlled {
            return Err(VolumeError::ClaimNotOwned {
                claim: format!("{namespace}/{claim}"),
            });
        }
    }
    let phase = pvc
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Pending".into());
    let volume_name = pvc
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.clone())
        .filter(|n| !n.is_empty());
    let (Some(volume_name), "Bound") = (volume_name, phase.as_str()) else {
        return Err(VolumeError::ClaimNotBound {
            claim: claim.to_string(),
            phase,
        });
    };
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    volumes
        .get_opt(&volume_name)
        .await?
        .ok_or_else(|| VolumeError::ObjectNotFound {
            kind: "persistentvolume",
            name: volume_name,
        })
}

/// Fails when `claim` exists and is being deleted: a pod starting on this node must not
/// take it up (a missing claim is left to [`bound_volume`]'s error).
pub async fn refuse_claim_being_deleted(
    client: &kube::Client,
    namespace: &str,
    claim: &str,
) -> Result<(), VolumeError> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    match claims.get_opt(claim).await? {
        Some(pvc) if pvc.metadata.deletion_timestamp.is_some() => {
            Err(VolumeError::ClaimBeingDeleted {
                claim: format!("{namespace}/{claim}"),
            })
        }
        _ => Ok(()),
    }
}

/// The name of the PV's source, for "not supported" errors (`csi`, `iscsi`, …).
pub fn source_name(pv: &PersistentVolume) -> String {
    serde_json::to_value(pv.spec.as_ref())
        .ok()
        .and_then(|v| {
            v.as_object().and_then(|o| {
                o.keys()
                    .find(|k| {
                        !matches!(
                            k.as_str(),
                            "accessModes"
                                | "capacity"
                                | "claimRef"
                                | "mountOptions"
                                | "nodeAffinity"
                                | "persistentVolumeReclaimPolicy"
                                | "storageClassName"
                                | "volumeAttributesClassName"
                                | "volumeMode"
                        )
                    })
                    .cloned()
            })
        })
        .unwrap_or_else(|| "<none>".into())
}
