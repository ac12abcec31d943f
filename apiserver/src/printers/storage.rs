//! Volumes and `storage.k8s.io/v1`: persistent volumes and claims, storage classes, CSI drivers,
//! CSI nodes, CSI storage capacities and volume attachments.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::format::{
    age, array_at, bool_at, is_deleting, len_at, name, quantity, s, str_at, NONE, UNSET,
};
use super::{Cells, Column, Printer, AGE, NAME};

/// The printer of a storage resource (also PVs and PVCs of the core group).
pub fn printer(plural: &str) -> Option<Printer> {
    let (columns, cells): (&'static [Column], Cells) = match plural {
        "persistentvolumes" => (PV, persistentvolume),
        "persistentvolumeclaims" => (PVC, persistentvolumeclaim),
        "storageclasses" => (STORAGECLASS, storageclass),
        "csidrivers" => (CSIDRIVER, csidriver),
        "csinodes" => (CSINODE, csinode),
        "csistoragecapacities" => (CSISTORAGECAPACITY, csistoragecapacity),
        "volumeattachments" => (VOLUMEATTACHMENT, volumeattachment),
        _ => return None,
    };
    Some(Printer::new(columns, cells))
}

/// Access modes abbreviated (`RWO,ROX,RWX,RWOP`), in that fixed order, without duplicates.
fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// The storage class of a PV or PVC: the beta annotation wins over `spec.storageClassName`.
fn storage_class(obj: &Value) -> String {
    if let Some(class) = obj
        .pointer("/metadata/annotations/volume.beta.kubernetes.io~1storage-class")
        .and_then(Value::as_str)
    {
        return class.to_string();
    }
    str_at(obj, "/spec/storageClassName").to_string()
}

fn optional_str(obj: &Value, pointer: &str) -> Value {
    s(obj
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or(UNSET))
}

const PV: &[Column] = &[
    NAME,
    Column::new("Capacity", "string", "The capacity of the volume."),
    Column::new("Access Modes", "string", "Ways the volume can be mounted."),
    Column::new(
        "Reclaim Policy",
        "string",
        "What happens to the volume when released from its claim.",
    ),
    Column::new("Status", "string", "Phase of the volume."),
    Column::new("Claim", "string", "The claim bound to this volume."),
    Column::new("StorageClass", "string", "StorageClass of the pv"),
    Column::new(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pv",
    ),
    Column::new("Reason", "string", "Why the volume is in this phase."),
    AGE,
    Column::new("VolumeMode", "string", "Filesystem or Block.").wide(),
];

fn persistentvolume(pv: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let claim = match pv.pointer("/spec/claimRef").filter(|c| c.is_object()) {
        Some(c) => format!("{}/{}", str_at(c, "/namespace"), str_at(c, "/name")),
        None => String::new(),
    };
    let phase = if is_deleting(pv) {
        "Terminating"
    } else {
        str_at(pv, "/status/phase")
    };
    vec![
        name(pv),
        s(quantity(pv.pointer("/spec/capacity/storage"))),
        s(access_modes(array_at(pv, "/spec/accessModes"))),
        s(str_at(pv, "/spec/persistentVolumeReclaimPolicy")),
        s(phase),
        s(claim),
        s(storage_class(pv)),
        optional_str(pv, "/spec/volumeAttributesClassName"),
        s(str_at(pv, "/status/reason")),
        age(pv, now),
        optional_str(pv, "/spec/volumeMode"),
    ]
}

const PVC: &[Column] = &[
    NAME,
    Column::new("Status", "string", "Phase of the claim."),
    Column::new("Volume", "string", "The volume bound to this claim."),
    Column::new("Capacity", "string", "The capacity of the bound volume."),
    Column::new(
        "Access Modes",
        "string",
        "Ways the bound volume can be mounted.",
    ),
    Column::new("StorageClass", "string", "StorageClass of the pvc"),
    Column::new(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pvc",
    ),
    AGE,
    Column::new("VolumeMode", "string", "Filesystem or Block.").wide(),
];

fn persistentvolumeclaim(pvc: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let phase = if is_deleting(pvc) {
        "Terminating"
    } else {
        str_at(pvc, "/status/phase")
    };
    let volume = str_at(pvc, "/spec/volumeName");
    // Capacity and access modes are those of the bound volume, so empty until bound.
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(pvc.pointer("/status/capacity/storage")),
            access_modes(array_at(pvc, "/status/accessModes")),
        )
    };
    vec![
        name(pvc),
        s(phase),
        s(volume),
        s(capacity),
        s(modes),
        s(storage_class(pvc)),
        optional_str(pvc, "/spec/volumeAttributesClassName"),
        age(pvc, now),
        optional_str(pvc, "/spec/volumeMode"),
    ]
}

const STORAGECLASS: &[Column] = &[
    NAME,
    Column::new(
        "Provisioner",
        "string",
        "The provisioner of volumes of this class.",
    ),
    Column::new(
        "ReclaimPolicy",
        "string",
        "Reclaim policy of dynamically provisioned volumes.",
    ),
    Column::new(
        "VolumeBindingMode",
        "string",
        "When volumes are provisioned and bound.",
    ),
    Column::new(
        "AllowVolumeExpansion",
        "string",
        "Whether volumes can be expanded.",
    ),
    AGE,
];

fn storageclass(sc: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let annotation = |key: &str| {
        sc.pointer("/metadata/annotations")
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
            == Some("true")
    };
    let mut display = str_at(sc, "/metadata/name").to_string();
    if annotation("storageclass.kubernetes.io/is-default-class")
        || annotation("storageclass.beta.kubernetes.io/is-default-class")
    {
        display.push_str(" (default)");
    }
    let or = |v: &str, default: &'static str| s(if v.is_empty() { default } else { v });
    vec![
        s(display),
        s(str_at(sc, "/provisioner")),
        or(str_at(sc, "/reclaimPolicy"), "Delete"),
        or(str_at(sc, "/volumeBindingMode"), "Immediate"),
        Value::Bool(bool_at(sc, "/allowVolumeExpansion")),
        age(sc, now),
    ]
}

const CSIDRIVER: &[Column] = &[
    NAME,
    Column::new(
        "AttachRequired",
        "boolean",
        "Whether the driver needs an attach operation.",
    ),
    Column::new(
        "PodInfoOnMount",
        "boolean",
        "Whether pod information is passed on mount.",
    ),
    Column::new(
        "StorageCapacity",
        "boolean",
        "Whether the driver reports storage capacity.",
    ),
    Column::new(
        "TokenRequests",
        "string",
        "Audiences of service account tokens passed to the driver.",
    ),
    Column::new(
        "RequiresRepublish",
        "boolean",
        "Whether NodePublishVolume is called periodically.",
    ),
    Column::new(
        "Modes",
        "string",
        "Volume lifecycle modes the driver supports.",
    ),
    AGE,
];

fn csidriver(d: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let attach_required = d
        .pointer("/spec/attachRequired")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let token_requests = match d.pointer("/spec/tokenRequests").and_then(Value::as_array) {
        None => UNSET.to_string(),
        Some(list) => list
            .iter()
            .map(|t| str_at(t, "/audience"))
            .collect::<Vec<_>>()
            .join(","),
    };
    let modes: Vec<&str> = array_at(d, "/spec/volumeLifecycleModes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    vec![
        name(d),
        Value::Bool(attach_required),
        Value::Bool(bool_at(d, "/spec/podInfoOnMount")),
        Value::Bool(bool_at(d, "/spec/storageCapacity")),
        s(token_requests),
        Value::Bool(bool_at(d, "/spec/requiresRepublish")),
        s(if modes.is_empty() {
            NONE.to_string()
        } else {
            modes.join(",")
        }),
        age(d, now),
    ]
}

const CSINODE: &[Column] = &[
    NAME,
    Column::new(
        "Drivers",
        "integer",
        "Drivers indicates the number of CSI drivers registered on the node",
    ),
    AGE,
];

fn csinode(n: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        name(n),
        Value::from(len_at(n, "/spec/drivers")),
        age(n, now),
    ]
}

const CSISTORAGECAPACITY: &[Column] = &[
    NAME,
    Column::new(
        "StorageClassName",
        "string",
        "The storage class this capacity applies to.",
    ),
    Column::new("Capacity", "string", "Available capacity."),
];

fn csistoragecapacity(c: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    let capacity = match c.get("capacity") {
        Some(q) if !q.is_null() => quantity(Some(q)),
        _ => UNSET.to_string(),
    };
    vec![name(c), s(str_at(c, "/storageClassName")), s(capacity)]
}

const VOLUMEATTACHMENT: &[Column] = &[
    NAME,
    Column::new(
        "Attacher",
        "string",
        "The volume driver that handles the attachment.",
    )
    .named(),
    Column::new("PV", "string", "The persistent volume being attached."),
    Column::new("Node", "string", "The node the volume is attached to."),
    Column::new(
        "Attached",
        "boolean",
        "Whether the attach operation succeeded.",
    ),
    AGE,
];

fn volumeattachment(va: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        name(va),
        s(str_at(va, "/spec/attacher")),
        s(str_at(va, "/spec/source/persistentVolumeName")),
        s(str_at(va, "/spec/nodeName")),
        Value::Bool(bool_at(va, "/status/attached")),
        age(va, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        super::super::format::parse_time("2025-01-01T12:00:00Z").unwrap()
    }

    #[test]
    fn bound_claim_and_its_volume() {
        let pvc = json!({"metadata": {"name": "data"},
            "spec": {"volumeName": "pv-1", "storageClassName": "standard", "volumeMode": "Filesystem",
                "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Bound", "capacity": {"storage": "2Gi"},
                "accessModes": ["ReadWriteOnce", "ReadWriteOncePod"]}});
        assert_eq!(
            persistentvolumeclaim(&pvc, now())[1..7],
            [
                json!("Bound"),
                json!("pv-1"),
                json!("2Gi"),
                json!("RWO,RWOP"),
                json!("standard"),
                json!("<unset>")
            ]
        );
        let pending =
            json!({"metadata": {"name": "p"}, "spec": {}, "status": {"phase": "Pending"}});
        assert_eq!(
            persistentvolumeclaim(&pending, now())[3..5],
            [json!(""), json!("")]
        );

        let pv = json!({"metadata": {"name": "pv-1"},
            "spec": {"capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "standard",
                "claimRef": {"namespace": "default", "name": "data"}, "volumeMode": "Filesystem"},
            "status": {"phase": "Bound"}});
        assert_eq!(
            persistentvolume(&pv, now())[1..9],
            [
                json!("2Gi"),
                json!("RWO,RWX"),
                json!("Retain"),
                json!("Bound"),
                json!("default/data"),
                json!("standard"),
                json!("<unset>"),
                json!("")
            ]
        );
    }

    #[test]
    fn default_storage_class_and_csi_driver_defaults() {
        let sc = json!({"metadata": {"name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"});
        assert_eq!(
            storageclass(&sc, now())[..5],
            [
                json!("standard (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("WaitForFirstConsumer"),
                json!(false)
            ]
        );
        let d = json!({"metadata": {"name": "csi.example.com"}, "spec": {}});
        assert_eq!(
            csidriver(&d, now())[1..7],
            [
                json!(true),
                json!(false),
                json!(false),
                json!("<unset>"),
                json!(false),
                json!("<none>")
            ]
        );
    }
}
