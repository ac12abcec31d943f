//! The ephemeral-volume controller against a real apiserver and etcd: a pod's generic
//! ephemeral volume gets its claim `<pod>-<volume>` from the template, controlled by the pod;
//! a claim deleted while the pod lives is made again; a namesake claim the pod does not
//! control is left alone.

use anyhow::{ensure, Result};
use integration_tests::controller_manager::{get_ok, post_ok, start_controller_manager};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const PVCS: &str = "/api/v1/namespaces/default/persistentvolumeclaims";
const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod_with_ephemeral_volume(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}],
            "volumes": [{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {
                "metadata": {"labels": {"type": "scratch"}},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                    "resources": {"requests": {"storage": "1Gi"}}}}}}]}})
}

#[tokio::test]
async fn ephemeral_volumes_get_claims_owned_by_their_pod() -> Result<()> {
    let cluster = TestCluster::start().await?;
    // pvc-protection lets a deleted claim go (the pod here is never scheduled).
    let cm =
        start_controller_manager(&cluster, &["--controllers=ephemeral-volume,pvc-protection"])?;
    let pod = post_ok(&cluster, PODS, &pod_with_ephemeral_volume("web")).await?;
    let claim_path = format!("{PVCS}/web-scratch");
    let claim = cm
        .eventually("claim created", || async {
            let (code, body) = cluster.get_json(&claim_path).await?;
            Ok(code.is_success().then_some(body))
        })
        .await?;
    assert_eq!(claim["metadata"]["labels"]["type"], "scratch");
    assert_eq!(claim["spec"]["storageClassName"], "manual");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "1Gi");
    let owner = &claim["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "Pod");
    assert_eq!(owner["uid"], pod["metadata"]["uid"]);
    assert_eq!(owner["controller"], true);

    // Deleted while the pod lives: made again (a new claim, the same owner).
    let (code, body) = cluster.delete(&claim_path).await?;
    ensure!(code.is_success(), "{code} {body}");
    let old_uid = claim["metadata"]["uid"].clone();
    let again = cm
        .eventually("claim made again", || async {
            let (code, body) = cluster.get_json(&claim_path).await?;
            Ok((code.is_success()
                && body["metadata"]["uid"] != old_uid
                && body["metadata"]["deletionTimestamp"].is_null())
            .then_some(body))
        })
        .await?;
    assert_eq!(
        again["metadata"]["ownerReferences"][0]["uid"],
        pod["metadata"]["uid"]
    );

    // A namesake claim someone else made stays as it is.
    post_ok(
        &cluster,
        PVCS,
        &json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "db-scratch", "labels": {"made": "by-hand"}},
            "spec": {"accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "5Gi"}}}}),
    )
    .await?;
    post_ok(&cluster, PODS, &pod_with_ephemeral_volume("db")).await?;
    // The controller has seen the db pod once it has handled a later one.
    post_ok(&cluster, PODS, &pod_with_ephemeral_volume("cache")).await?;
    cm.eventually("later claim created", || async {
        let (code, _) = cluster.get_json(&format!("{PVCS}/cache-scratch")).await?;
        Ok(code.is_success().then_some(()))
    })
    .await?;
    let foreign = get_ok(&cluster, &format!("{PVCS}/db-scratch")).await?;
    assert!(
        foreign["metadata"]["ownerReferences"].is_null(),
        "{foreign}"
    );
    assert_eq!(foreign["metadata"]["labels"]["made"], "by-hand");
    Ok(())
}
