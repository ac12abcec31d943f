//! Dynamic provisioning in the PersistentVolume binder (upstream's `provisionClaimOperation`)
//! with the one in-tree plugin that needs no cloud: `kubernetes.io/host-path`, on with
//! `--enable-hostpath-provisioner` as upstream (for single-node clusters and tests: the
//! directory is made by this process, on its own machine).
//!
//! A claim no volume fits, of a class with a provisioner, is annotated with the provisioner
//! (`volume.kubernetes.io/storage-provisioner` and its beta name) so an external
//! provisioner can pick it up. For `kubernetes.io/host-path` the binder makes the volume
//! itself: `pvc-<claim uid>`, a new directory under `/tmp/hostpath_pv/`, the claim's access
//! modes and requested size, the class's reclaim policy (default `Delete`) and mount
//! options, pre-bound to the claim, which the next pass binds. Deleting such a volume
//! (reclaim policy `Delete`) removes its directory first, only below `/tmp/` as upstream.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::api::core::v1::{
    HostPathVolumeSource, PersistentVolume, PersistentVolumeClaim, PersistentVolumeSpec,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;

use common::volume::claim_ref;

use super::persistentvolume_match::ANN_BOUND_BY_CONTROLLER;
use super::volume_protection::has_finalizer;

/// The in-tree host-path provisioner's name.
pub const HOST_PATH_PROVISIONER: &str = "kubernetes.io/host-path";
/// A class whose volumes are made by hand.
const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";
/// Which provisioner is to make a claim's volume.
pub const ANN_STORAGE_PROVISIONER: &str = "volume.kubernetes.io/storage-provisioner";
/// The same, under its older name, which upstream still writes.
pub const ANN_BETA_STORAGE_PROVISIONER: &str = "volume.beta.kubernetes.io/storage-provisioner";
/// Which provisioner made a volume.
pub const ANN_PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";
/// What the host-path plugin writes on its volumes.
const ANN_CREATED_BY: &str = "kubernetes.io/createdby";
/// Where the host-path provisioner makes its directories.
pub const HOST_PATH_BASE: &str = "/tmp/hostpath_pv";
/// Upstream's in-tree deletion protection (HonorPVReclaimPolicy, GA in 1.33): a volume the
/// binder provisioned with reclaim policy `Delete` keeps this finalizer until the deleter
/// removed its storage, so deleting the volume object first cannot leak the directory.
pub const PV_CONTROLLER_FINALIZER: &str = "kubernetes.io/pv-controller";

/// The provisioner of the claim's class, unless volumes of that class are made by hand.
pub fn provisioner(class: Option<&StorageClass>) -> Option<&str> {
    let p = class?.provisioner.as_str();
    (!p.is_empty() && p != NO_PROVISIONER).then_some(p)
}

/// The claim with the provisioner annotations added, or None when it has them already.
pub fn annotated_claim(
    claim: &PersistentVolumeClaim,
    provisioner: &str,
) -> Option<PersistentVolumeClaim> {
    let annotations = claim.annotations();
    if annotations.get(ANN_STORAGE_PROVISIONER).map(String::as_str) == Some(provisioner)
        && annotations
            .get(ANN_BETA_STORAGE_PROVISIONER)
            .map(String::as_str)
            == Some(provisioner)
    {
        return None;
    }
    let mut new = claim.clone();
    let annotations = new.annotations_mut();
    annotations.insert(ANN_STORAGE_PROVISIONER.into(), provisioner.into());
    annotations.insert(ANN_BETA_STORAGE_PROVISIONER.into(), provisioner.into());
    Some(new)
}

/// Why the host-path provisioner cannot serve a claim (reported as an event).
pub fn refusal(claim: &PersistentVolumeClaim) -> Option<&'static str> {
    let spec = claim.spec.as_ref()?;
    if spec.selector.is_some() {
        return Some("claim.Spec.Selector is not supported for dynamic provisioning on host path");
    }
    if spec.volume_mode.as_deref() == Some("Block") {
        return Some("host path volumes do not support volumeMode Block");
    }
    None
}

/// The volume the host-path provisioner makes for `claim` of `class`, in `dir`.
pub fn host_path_volume(
    claim: &PersistentVolumeClaim,
    class: &StorageClass,
    dir: &Path,
) -> PersistentVolume {
    let spec = claim.spec.clone().unwrap_or_default();
    let size = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .cloned()
        .unwrap_or_else(|| Quantity("0".into()));
    let access_modes = spec
        .access_modes
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| vec!["ReadWriteOnce".into()]);
    let reclaim_policy = class
        .reclaim_policy
        .clone()
        .unwrap_or_else(|| "Delete".into());
    PersistentVolume {
        metadata: ObjectMeta {
            name: Some(volume_name(claim)),
            annotations: Some(BTreeMap::from([
                (
                    ANN_CREATED_BY.to_string(),
                    "hostpath-dynamic-provisioner".to_string(),
                ),
                (ANN_BOUND_BY_CONTROLLER.to_string(), "yes".to_string()),
                (
                    ANN_PROVISIONED_BY.to_string(),
                    HOST_PATH_PROVISIONER.to_string(),
                ),
            ])),
            finalizers: (reclaim_policy == "Delete")
                .then(|| vec![PV_CONTROLLER_FINALIZER.to_string()]),
            ..Default::default()
        },
        spec: Some(PersistentVolumeSpec {
            access_modes: Some(access_modes),
            capacity: Some(BTreeMap::from([("storage".to_string(), size)])),
            host_path: Some(HostPathVolumeSource {
                path: dir.to_string_lossy().into_owned(),
                type_: None,
            }),
            persistent_volume_reclaim_policy: Some(reclaim_policy),
            storage_class_name: Some(class.name_any()),
            mount_options: class.mount_options.clone(),
            volume_mode: spec.volume_mode.clone(),
            claim_ref: Some(claim_ref(claim)),
            ..Default::default()
        }),
        status: None,
    }
}

/// A provisioned volume's name: `pvc-<claim uid>`, so a second pass finds the first's.
pub fn volume_name(claim: &PersistentVolumeClaim) -> String {
    format!("pvc-{}", claim.uid().unwrap_or_default())
}

/// The directory of a new host-path volume.
pub fn new_directory() -> std::path::PathBuf {
    Path::new(HOST_PATH_BASE).join(uuid::Uuid::new_v4().to_string())
}

/// Whether `pv` should gain (`Some(true)`) or lose (`Some(false)`) [`PV_CONTROLLER_FINALIZER`],
/// as upstream's `modifyDeletionFinalizers`: only volumes this binder's plugin provisioned
/// carry it, and only while their reclaim policy is `Delete` (a volume switched to `Retain`
/// lets go). None is added to a volume already being deleted, as the apiserver forbids it.
pub fn deletion_finalizer_change(pv: &PersistentVolume) -> Option<bool> {
    let ours =
        pv.annotations().get(ANN_PROVISIONED_BY).map(String::as_str) == Some(HOST_PATH_PROVISIONER);
    if !ours {
        return None;
    }
    let has = has_finalizer(&pv.metadata, PV_CONTROLLER_FINALIZER);
    let delete_policy = pv
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
        == Some("Delete");
    match (delete_policy, has) {
        (true, false) if pv.metadata.deletion_timestamp.is_none() => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// The directory to remove when a host-path volume is deleted: only one below `/tmp/`, as
/// upstream's deleter refuses anything else.
pub fn deletable_directory(pv: &PersistentVolume) -> Result<Option<&str>, String> {
    let Some(path) = pv
        .spec
        .as_ref()
        .and_then(|s| s.host_path.as_ref())
        .map(|h| h.path.as_str())
    else {
        return Ok(None);
    };
    let below_tmp = path
        .strip_prefix("/tmp/")
        .is_some_and(|rest| !rest.is_empty() && !rest.split('/').any(|p| p == ".."));
    if below_tmp {
        Ok(Some(path))
    } else {
        Err(format!(
            "host_path deleter only supports /tmp/.+ but received provided {path}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claim(extra_spec: serde_json::Value) -> PersistentVolumeClaim {
        let mut spec = json!({"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
            "resources": {"requests": {"storage": "2Gi"}}});
        if let (Some(s), Some(e)) = (spec.as_object_mut(), extra_spec.as_object()) {
            s.extend(e.clone());
        }
        serde_json::from_value(json!({"metadata": {"name": "data", "namespace": "ns",
            "uid": "u-1", "resourceVersion": "7"}, "spec": spec}))
        .expect("a claim")
    }

    fn class(extra: serde_json::Value) -> StorageClass {
        let mut c = json!({"metadata": {"name": "standard"}, "provisioner": HOST_PATH_PROVISIONER});
        if let (Some(s), Some(e)) = (c.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        serde_json::from_value(c).expect("a class")
    }

    #[test]
    fn the_volume_is_sized_and_bound_for_its_claim() {
        let pv = host_path_volume(
            &claim(json!({})),
            &class(json!({"mountOptions": ["noatime"]})),
            Path::new("/tmp/hostpath_pv/abc"),
        );
        let pv = serde_json::to_value(&pv).expect("json");
        assert_eq!(pv["metadata"]["name"], "pvc-u-1");
        assert_eq!(
            pv["metadata"]["annotations"][ANN_PROVISIONED_BY],
            HOST_PATH_PROVISIONER
        );
        assert_eq!(
            pv["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"],
            "yes"
        );
        assert_eq!(pv["spec"]["capacity"]["storage"], "2Gi");
        assert_eq!(pv["spec"]["accessModes"], json!(["ReadWriteOnce"]));
        assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Delete");
        assert_eq!(pv["spec"]["storageClassName"], "standard");
        assert_eq!(pv["spec"]["mountOptions"], json!(["noatime"]));
        assert_eq!(pv["spec"]["hostPath"]["path"], "/tmp/hostpath_pv/abc");
        assert_eq!(
            pv["metadata"]["finalizers"],
            json!([PV_CONTROLLER_FINALIZER])
        );
        assert_eq!(
            pv["spec"]["claimRef"],
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": "data",
                "namespace": "ns", "uid": "u-1", "resourceVersion": "7"})
        );
        let retained = host_path_volume(
            &claim(json!({})),
            &class(json!({"reclaimPolicy": "Retain"})),
            Path::new("/tmp/x"),
        );
        assert_eq!(
            retained
                .spec
                .and_then(|s| s.persistent_volume_reclaim_policy)
                .as_deref(),
            Some("Retain")
        );
        assert_eq!(retained.metadata.finalizers, None);
    }

    #[test]
    fn only_provisioned_delete_volumes_keep_the_deletion_finalizer() {
        let provisioned = |policy: &str, finalizers: serde_json::Value, deleting: bool| {
            let mut meta = json!({"name": "pvc-1", "finalizers": finalizers,
                "annotations": {ANN_PROVISIONED_BY: HOST_PATH_PROVISIONER}});
            if deleting {
                meta["deletionTimestamp"] = json!("2026-12-03T00:00:00Z");
            }
            serde_json::from_value::<PersistentVolume>(json!({"metadata": meta,
                "spec": {"persistentVolumeReclaimPolicy": policy}}))
            .expect("a volume")
        };
        let held = json!([PV_CONTROLLER_FINALIZER]);
        assert_eq!(
            deletion_finalizer_change(&provisioned("Delete", json!([]), false)),
            Some(true)
        );
        assert_eq!(
            deletion_finalizer_change(&provisioned("Delete", held.clone(), false)),
            None
        );
        // Being deleted: too late to add it.
        assert_eq!(
            deletion_finalizer_change(&provisioned("Delete", json!([]), true)),
            None
        );
        // Switched to Retain: the storage stays, so nothing needs holding.
        assert_eq!(
            deletion_finalizer_change(&provisioned("Retain", held.clone(), true)),
            Some(false)
        );
        assert_eq!(
            deletion_finalizer_change(&provisioned("Retain", json!([]), false)),
            None
        );
        // A volume made by hand, or by another provisioner, is not this binder's to hold.
        let by_hand: PersistentVolume = serde_json::from_value(json!({"metadata": {"name": "v"},
            "spec": {"persistentVolumeReclaimPolicy": "Delete"}}))
        .expect("a volume");
        assert_eq!(deletion_finalizer_change(&by_hand), None);
    }

    #[test]
    fn provisioners_annotations_and_refusals() {
        assert_eq!(
            provisioner(Some(&class(json!({})))),
            Some(HOST_PATH_PROVISIONER)
        );
        assert_eq!(
            provisioner(Some(&class(json!({"provisioner": NO_PROVISIONER})))),
            None
        );
        assert_eq!(provisioner(None), None);
        let annotated = annotated_claim(&claim(json!({})), "example.com/nfs").expect("new");
        assert_eq!(
            annotated.annotations()[ANN_STORAGE_PROVISIONER],
            "example.com/nfs"
        );
        assert_eq!(
            annotated.annotations()[ANN_BETA_STORAGE_PROVISIONER],
            "example.com/nfs"
        );
        assert!(annotated_claim(&annotated, "example.com/nfs").is_none());
        assert!(refusal(&claim(json!({}))).is_none());
        assert!(refusal(&claim(json!({"selector": {"matchLabels": {"a": "b"}}}))).is_some());
    }

    #[test]
    fn only_directories_below_tmp_are_removed() {
        let pv = |path: &str| -> PersistentVolume {
            serde_json::from_value(json!({"metadata": {"name": "v"},
                "spec": {"hostPath": {"path": path}}}))
            .expect("a volume")
        };
        assert_eq!(
            deletable_directory(&pv("/tmp/hostpath_pv/abc")),
            Ok(Some("/tmp/hostpath_pv/abc"))
        );
        assert!(deletable_directory(&pv("/var/lib/data")).is_err());
        assert!(deletable_directory(&pv("/tmp/")).is_err());
        assert!(deletable_directory(&pv("/tmp/../etc")).is_err());
        let nfs: PersistentVolume = serde_json::from_value(json!({"metadata": {"name": "n"},
            "spec": {"nfs": {"server": "s", "path": "/x"}}}))
        .expect("nfs");
        assert_eq!(deletable_directory(&nfs), Ok(None));
    }
}
