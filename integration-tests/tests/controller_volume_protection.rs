//! StorageObjectInUseProtection end to end against a real apiserver and etcd: claims and
//! volumes are created with their protection finalizers; a claim a scheduled pod uses, and
//! the volume bound to it, survive their deletion until the pod is gone; then the
//! pvc-protection, persistentvolume-binder and pv-protection controllers let both go.

use std::time::Duration;

use anyhow::{ensure, Result};
use integration_tests::controller_manager::{get_ok, post_ok, start_controller_manager};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const PVS: &str = "/api/v1/persistentvolumes";
const PVCS: &str = "/api/v1/namespaces/default/persistentvolumeclaims";
const PODS: &str = "/api/v1/namespaces/default/pods";
const PVC_FINALIZER: &str = "kubernetes.io/pvc-protection";
const PV_FINALIZER: &str = "kubernetes.io/pv-protection";

fn finalizers(obj: &Value) -> Vec<String> {
    obj["metadata"]["finalizers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

async fn gone(cluster: &TestCluster, path: &str) -> Result<Option<()>> {
    let (code, _) = cluster.get_json(path).await?;
    Ok((code.as_u16() == 404).then_some(()))
}

#[tokio::test]
async fn a_claim_in_use_and_its_volume_outlive_their_deletion_until_the_pod_goes() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(
        &cluster,
        &["--controllers=persistentvolume-binder,pvc-protection,pv-protection"],
    )?;

    // Admission adds the finalizers on create, next to any the user gave.
    let pv = post_ok(
        &cluster,
        PVS,
        &json!({"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": "disk", "finalizers": ["example.com/audit"]},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                "storageClassName": "manual", "persistentVolumeReclaimPolicy": "Retain",
                "hostPath": {"path": "/tmp/disk"}}}),
    )
    .await?;
    assert_eq!(finalizers(&pv), ["example.com/audit", PV_FINALIZER]);
    let claim = post_ok(
        &cluster,
        PVCS,
        &json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                "resources": {"requests": {"storage": "1Gi"}}}}),
    )
    .await?;
    assert_eq!(finalizers(&claim), [PVC_FINALIZER]);
    cm.eventually("data bound", || async {
        let c = get_ok(&cluster, &format!("{PVCS}/data")).await?;
        Ok((c["status"]["phase"] == "Bound").then_some(()))
    })
    .await?;

    // A claim that lost its finalizer (made before the plugin ran) gets it back.
    let (code, body) = cluster
        .patch_json(
            &format!("{PVCS}/data"),
            "application/merge-patch+json",
            &json!({"metadata": {"finalizers": null}}),
        )
        .await?;
    ensure!(code.is_success(), "{code} {body}");
    cm.eventually("finalizer restored", || async {
        let c = get_ok(&cluster, &format!("{PVCS}/data")).await?;
        Ok(finalizers(&c)
            .contains(&PVC_FINALIZER.to_string())
            .then_some(()))
    })
    .await?;

    // A scheduled pod uses the claim.
    post_ok(
        &cluster,
        PODS,
        &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db"},
            "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "busybox"}],
                "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]}}),
    )
    .await?;
    let (code, body) = cluster.delete(&format!("{PVCS}/data")).await?;
    ensure!(code.is_success(), "{code} {body}");
    let (code, body) = cluster.delete(&format!("{PVS}/disk")).await?;
    ensure!(code.is_success(), "{code} {body}");
    // Give the controllers time to act wrongly; both must still be there, marked.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let claim = get_ok(&cluster, &format!("{PVCS}/data")).await?;
    assert!(
        claim["metadata"]["deletionTimestamp"].is_string(),
        "{claim}"
    );
    assert_eq!(finalizers(&claim), [PVC_FINALIZER]);
    assert_eq!(claim["status"]["phase"], "Bound");
    let pv = get_ok(&cluster, &format!("{PVS}/disk")).await?;
    assert!(pv["metadata"]["deletionTimestamp"].is_string(), "{pv}");
    assert_eq!(pv["status"]["phase"], "Bound");
    assert!(finalizers(&pv).contains(&PV_FINALIZER.to_string()));

    // The pod goes: the claim goes, the volume is Released and loses its finalizer, and
    // only the user's own finalizer keeps it.
    let (code, body) = cluster
        .delete(&format!("{PODS}/db?gracePeriodSeconds=0"))
        .await?;
    ensure!(code.is_success(), "{code} {body}");
    let claim_path = format!("{PVCS}/data");
    cm.eventually("claim removed", || gone(&cluster, &claim_path))
        .await?;
    let pv = cm
        .eventually("volume released and unprotected", || async {
            let pv = get_ok(&cluster, &format!("{PVS}/disk")).await?;
            Ok((finalizers(&pv) == ["example.com/audit"]).then_some(pv))
        })
        .await?;
    assert_eq!(pv["status"]["phase"], "Released");
    let (code, body) = cluster
        .patch_json(
            &format!("{PVS}/disk"),
            "application/merge-patch+json",
            &json!({"metadata": {"finalizers": null}}),
        )
        .await?;
    ensure!(code.is_success(), "{code} {body}");
    let volume_path = format!("{PVS}/disk");
    cm.eventually("volume removed", || gone(&cluster, &volume_path))
        .await?;
    Ok(())
}

#[tokio::test]
async fn an_unused_claim_goes_at_once_and_an_unbound_volume_too() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=pvc-protection,pv-protection"])?;
    post_ok(
        &cluster,
        PVS,
        &json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "spare"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/tmp/spare"}}}),
    )
    .await?;
    post_ok(
        &cluster,
        PVCS,
        &json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "idle"},
            "spec": {"accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}}}}),
    )
    .await?;
    // A pod that is not scheduled never holds a claim.
    post_ok(
        &cluster,
        PODS,
        &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pending"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}],
                "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "idle"}}]}}),
    )
    .await?;
    for path in [format!("{PVCS}/idle"), format!("{PVS}/spare")] {
        let (code, body) = cluster.delete(&path).await?;
        ensure!(code.is_success(), "{code} {body}");
        cm.eventually(&format!("{path} removed"), || gone(&cluster, &path))
            .await?;
    }
    Ok(())
}
