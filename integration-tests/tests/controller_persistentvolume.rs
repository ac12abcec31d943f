//! The persistentvolume-binder against a real apiserver and etcd: claims bind to the
//! smallest fitting volume of their class with upstream's annotations and phases,
//! pre-bound volumes go to their claim, WaitForFirstConsumer claims wait for the scheduler's
//! node, and deleting a claim releases (Retain) or deletes (Delete) its volume.

use anyhow::Result;
use integration_tests::controller_manager::{
    get_ok, merge_patch_ok, post_ok, start_controller_manager,
};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const PVS: &str = "/api/v1/persistentvolumes";
const PVCS: &str = "/api/v1/namespaces/default/persistentvolumeclaims";

fn pv(name: &str, size: &str, class: &str, policy: &str, extra: Value) -> Value {
    let mut spec = json!({"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
        "storageClassName": class, "persistentVolumeReclaimPolicy": policy,
        "hostPath": {"path": format!("/tmp/{name}")}});
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name}, "spec": spec})
}

fn pvc(name: &str, size: &str, class: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
            "resources": {"requests": {"storage": size}}}})
}

async fn volume_of(cluster: &TestCluster, claim: &str) -> Result<Option<Value>> {
    let c = get_ok(cluster, &format!("{PVCS}/{claim}")).await?;
    Ok((c["status"]["phase"] == "Bound").then_some(c))
}

#[tokio::test]
async fn claims_bind_to_the_best_volume_and_release_it() -> Result<()> {
    let cluster = TestCluster::start().await?;
    // The protection controllers let deleted claims and released volumes go (their
    // finalizers come from the StorageObjectInUseProtection admission plugin).
    let cm = start_controller_manager(
        &cluster,
        &["--controllers=persistentvolume-binder,pvc-protection,pv-protection"],
    )?;
    post_ok(
        &cluster,
        PVS,
        &pv("big", "10Gi", "slow", "Retain", json!({})),
    )
    .await?;
    post_ok(
        &cluster,
        PVS,
        &pv("fit", "2Gi", "slow", "Retain", json!({})),
    )
    .await?;
    post_ok(
        &cluster,
        PVS,
        &pv("tiny", "1Gi", "slow", "Delete", json!({})),
    )
    .await?;
    post_ok(
        &cluster,
        PVS,
        &pv("fast", "2Gi", "fast", "Retain", json!({})),
    )
    .await?;
    cm.eventually("volumes Available", || async {
        let pv = get_ok(&cluster, &format!("{PVS}/fit")).await?;
        Ok((pv["status"]["phase"] == "Available").then_some(()))
    })
    .await?;

    post_ok(&cluster, PVCS, &pvc("data", "1500Mi", "slow")).await?;
    let claim = cm
        .eventually("data bound", || volume_of(&cluster, "data"))
        .await?;
    assert_eq!(claim["spec"]["volumeName"], "fit");
    assert_eq!(
        claim["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"],
        "yes"
    );
    assert_eq!(
        claim["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"],
        "yes"
    );
    assert_eq!(claim["status"]["capacity"]["storage"], "2Gi");
    assert_eq!(claim["status"]["accessModes"], json!(["ReadWriteOnce"]));
    let fit = get_ok(&cluster, &format!("{PVS}/fit")).await?;
    assert_eq!(fit["status"]["phase"], "Bound");
    assert_eq!(fit["spec"]["claimRef"]["name"], "data");
    assert_eq!(fit["spec"]["claimRef"]["uid"], claim["metadata"]["uid"]);
    assert_eq!(
        fit["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"],
        "yes"
    );

    // A claim too big for any volume of its class stays Pending.
    post_ok(&cluster, PVCS, &pvc("huge", "50Gi", "slow")).await?;

    // Pre-bound: a volume reserved for claim "mine" goes to it, not to an earlier claim.
    post_ok(
        &cluster,
        PVS,
        &pv(
            "reserved",
            "3Gi",
            "slow",
            "Retain",
            json!({"claimRef": {"namespace": "default", "name": "mine"}}),
        ),
    )
    .await?;
    post_ok(&cluster, PVCS, &pvc("mine", "1Gi", "slow")).await?;
    let mine = cm
        .eventually("mine bound", || volume_of(&cluster, "mine"))
        .await?;
    assert_eq!(mine["spec"]["volumeName"], "reserved");
    assert_eq!(
        get_ok(&cluster, &format!("{PVCS}/huge")).await?["status"]["phase"],
        "Pending"
    );

    // Deleting the claim of a Retain volume: Released, claimRef kept.
    let (code, body) = cluster.delete(&format!("{PVCS}/data")).await?;
    anyhow::ensure!(code.is_success(), "{code} {body}");
    cm.eventually("fit Released", || async {
        let pv = get_ok(&cluster, &format!("{PVS}/fit")).await?;
        Ok((pv["status"]["phase"] == "Released").then_some(()))
    })
    .await?;

    // A Delete volume goes away with its claim.
    post_ok(&cluster, PVCS, &pvc("scratch", "1Gi", "slow")).await?;
    let scratch = cm
        .eventually("scratch bound", || volume_of(&cluster, "scratch"))
        .await?;
    assert_eq!(scratch["spec"]["volumeName"], "tiny");
    let (code, body) = cluster.delete(&format!("{PVCS}/scratch")).await?;
    anyhow::ensure!(code.is_success(), "{code} {body}");
    cm.eventually("tiny deleted", || async {
        let (code, _) = cluster.get_json(&format!("{PVS}/tiny")).await?;
        Ok((code.as_u16() == 404).then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn wait_for_first_consumer_claims_bind_after_the_node_is_chosen() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=persistentvolume-binder"])?;
    post_ok(
        &cluster,
        "/apis/storage.k8s.io/v1/storageclasses",
        &json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "local"}, "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer"}),
    )
    .await?;
    post_ok(
        &cluster,
        PVS,
        &pv("local-1", "1Gi", "local", "Retain", json!({})),
    )
    .await?;
    post_ok(&cluster, PVCS, &pvc("late", "1Gi", "local")).await?;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let c = get_ok(&cluster, &format!("{PVCS}/late")).await?;
    assert_eq!(c["status"]["phase"], "Pending", "waits for a consumer: {c}");
    assert!(c["spec"]["volumeName"].is_null());
    // The scheduler's choice arrives.
    merge_patch_ok(
        &cluster,
        &format!("{PVCS}/late"),
        &json!({"metadata": {"annotations": {"volume.kubernetes.io/selected-node": "node-1"}}}),
    )
    .await?;
    let c = cm
        .eventually("late bound", || volume_of(&cluster, "late"))
        .await?;
    assert_eq!(c["spec"]["volumeName"], "local-1");
    Ok(())
}

#[tokio::test]
async fn host_path_provisioner_makes_and_removes_volumes() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(
        &cluster,
        &[
            "--controllers=persistentvolume-binder,pvc-protection,pv-protection",
            "--enable-hostpath-provisioner",
        ],
    )?;
    for (name, provisioner) in [
        ("standard", "kubernetes.io/host-path"),
        ("elsewhere", "example.com/external"),
    ] {
        post_ok(
            &cluster,
            "/apis/storage.k8s.io/v1/storageclasses",
            &json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": {"name": name}, "provisioner": provisioner}),
        )
        .await?;
    }
    let claim = post_ok(&cluster, PVCS, &pvc("made", "3Gi", "standard")).await?;
    let bound = cm
        .eventually("made bound", || volume_of(&cluster, "made"))
        .await?;
    let volume = format!(
        "pvc-{}",
        claim["metadata"]["uid"].as_str().unwrap_or_default()
    );
    assert_eq!(bound["spec"]["volumeName"], volume.as_str());
    assert_eq!(
        bound["metadata"]["annotations"]["volume.kubernetes.io/storage-provisioner"],
        "kubernetes.io/host-path"
    );
    assert_eq!(bound["status"]["capacity"]["storage"], "3Gi");
    let pv = get_ok(&cluster, &format!("{PVS}/{volume}")).await?;
    assert_eq!(
        pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"],
        "kubernetes.io/host-path"
    );
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Delete");
    assert_eq!(pv["spec"]["storageClassName"], "standard");
    let dir = std::path::PathBuf::from(pv["spec"]["hostPath"]["path"].as_str().unwrap_or_default());
    assert!(dir.starts_with("/tmp/hostpath_pv"), "{dir:?}");
    assert!(dir.is_dir(), "{dir:?} made");
    let events = get_ok(
        &cluster,
        "/api/v1/namespaces/default/events?fieldSelector=reason%3DProvisioningSucceeded",
    )
    .await?;
    assert_eq!(
        events["items"][0]["involvedObject"]["name"], "made",
        "{events}"
    );

    // An external provisioner's claim is annotated for it and waits.
    post_ok(&cluster, PVCS, &pvc("outside", "1Gi", "elsewhere")).await?;
    cm.eventually("outside annotated", || async {
        let c = get_ok(&cluster, &format!("{PVCS}/outside")).await?;
        Ok(
            (c["metadata"]["annotations"]["volume.kubernetes.io/storage-provisioner"]
                == "example.com/external")
                .then_some(()),
        )
    })
    .await?;
    assert_eq!(
        get_ok(&cluster, &format!("{PVCS}/outside")).await?["status"]["phase"],
        "Pending"
    );

    // Deleting the claim deletes the volume (Delete policy) and its directory.
    let (code, body) = cluster.delete(&format!("{PVCS}/made")).await?;
    anyhow::ensure!(code.is_success(), "{code} {body}");
    let volume_path = format!("{PVS}/{volume}");
    cm.eventually("volume deleted", || async {
        let (code, _) = cluster.get_json(&volume_path).await?;
        Ok((code.as_u16() == 404).then_some(()))
    })
    .await?;
    assert!(!dir.exists(), "{dir:?} removed");
    Ok(())
}

/// Upstream's HonorPVReclaimPolicy: a provisioned Delete volume carries
/// `kubernetes.io/pv-controller`, so deleting the volume before its claim still ends with
/// the deleter removing the directory; a volume switched to Retain loses the finalizer.
#[tokio::test]
async fn a_provisioned_volume_deleted_before_its_claim_still_loses_its_directory() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(
        &cluster,
        &[
            "--controllers=persistentvolume-binder,pvc-protection,pv-protection",
            "--enable-hostpath-provisioner",
        ],
    )?;
    post_ok(
        &cluster,
        "/apis/storage.k8s.io/v1/storageclasses",
        &json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "standard"}, "provisioner": "kubernetes.io/host-path"}),
    )
    .await?;
    let mut volumes = Vec::new();
    for claim in ["first", "kept"] {
        post_ok(&cluster, PVCS, &pvc(claim, "1Gi", "standard")).await?;
        let bound = cm
            .eventually("claim bound", || volume_of(&cluster, claim))
            .await?;
        let name = bound["spec"]["volumeName"].as_str().unwrap_or_default();
        let pv = get_ok(&cluster, &format!("{PVS}/{name}")).await?;
        let finalizers = pv["metadata"]["finalizers"].to_string();
        assert!(
            finalizers.contains("kubernetes.io/pv-controller")
                && finalizers.contains("kubernetes.io/pv-protection"),
            "{finalizers}"
        );
        let dir = pv["spec"]["hostPath"]["path"].as_str().unwrap_or_default();
        volumes.push((format!("{PVS}/{name}"), std::path::PathBuf::from(dir)));
    }

    // The volume goes first: it stays, Terminating, while its claim holds it.
    let (first_pv, first_dir) = &volumes[0];
    let (code, body) = cluster.delete(first_pv).await?;
    anyhow::ensure!(code.is_success(), "{code} {body}");
    let terminating = get_ok(&cluster, first_pv).await?;
    assert!(
        terminating["metadata"]["deletionTimestamp"].is_string(),
        "{terminating}"
    );
    assert!(first_dir.is_dir(), "{first_dir:?} kept while claimed");

    // Then the claim: the volume is released, its directory removed, and only then gone.
    let (code, body) = cluster.delete(&format!("{PVCS}/first")).await?;
    anyhow::ensure!(code.is_success(), "{code} {body}");
    cm.eventually("volume deleted", || async {
        let (code, _) = cluster.get_json(first_pv).await?;
        Ok((code.as_u16() == 404).then_some(()))
    })
    .await?;
    assert!(!first_dir.exists(), "{first_dir:?} removed");

    // Retain: the binder drops its finalizer, so the volume outlives its directory's deleter.
    let (kept_pv, kept_dir) = &volumes[1];
    merge_patch_ok(
        &cluster,
        kept_pv,
        &json!({"spec": {"persistentVolumeReclaimPolicy": "Retain"}}),
    )
    .await?;
    cm.eventually("pv-controller finalizer dropped", || async {
        let pv = get_ok(&cluster, kept_pv).await?;
        Ok((!pv["metadata"]["finalizers"]
            .to_string()
            .contains("kubernetes.io/pv-controller"))
        .then_some(()))
    })
    .await?;
    let (code, body) = cluster.delete(&format!("{PVCS}/kept")).await?;
    anyhow::ensure!(code.is_success(), "{code} {body}");
    cm.eventually("kept volume released", || async {
        let pv = get_ok(&cluster, kept_pv).await?;
        Ok((pv["status"]["phase"] == "Released").then_some(()))
    })
    .await?;
    assert!(kept_dir.is_dir(), "{kept_dir:?} retained");
    std::fs::remove_dir_all(kept_dir)?;
    Ok(())
}
