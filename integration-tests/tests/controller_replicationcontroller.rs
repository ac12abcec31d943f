//! The replicationcontroller controller against a real apiserver and etcd: a v1
//! ReplicationController keeps its pods (owned by `v1/ReplicationController`), adopts a
//! matching orphan, repairs a deletion, scales down, and reports status. No kubelet runs,
//! so pods stay Pending.

use anyhow::Result;
use integration_tests::controller_manager::{
    get_ok, merge_patch_ok, post_ok, start_controller_manager,
};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const RC_PATH: &str = "/api/v1/namespaces/default/replicationcontrollers/web";

/// Active (not terminating) pods labelled `app=web`.
async fn web_pods(cluster: &TestCluster) -> Result<Vec<Value>> {
    let list = get_ok(
        cluster,
        "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb",
    )
    .await?;
    Ok(list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect())
}

/// Whether `pod` is controlled by the ReplicationController with `uid`.
fn controlled_by_rc(pod: &Value, uid: &str) -> bool {
    pod["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|refs| {
            refs.iter().any(|r| {
                r["uid"] == uid
                    && r["kind"] == "ReplicationController"
                    && r["apiVersion"] == "v1"
                    && r["controller"] == true
                    && r["blockOwnerDeletion"] == true
            })
        })
}

#[tokio::test]
async fn replication_controller_adopts_repairs_and_scales() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(
        &cluster,
        &[
            "--controllers=replicationcontroller",
            "--leader-elect=false",
        ],
    )?;
    // An orphan with the RC's labels is adopted and counts as one of its replicas.
    post_ok(
        &cluster,
        "/api/v1/namespaces/default/pods",
        &json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "orphan", "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "busybox"}]}}),
    )
    .await?;
    // No spec.selector: the apiserver defaults it from the template's labels.
    let rc = post_ok(
        &cluster,
        "/api/v1/namespaces/default/replicationcontrollers",
        &json!({"apiVersion": "v1", "kind": "ReplicationController",
                "metadata": {"name": "web"},
                "spec": {"replicas": 3, "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}}}),
    )
    .await?;
    let uid = rc["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let pods = cm
        .eventually("3 pods controlled by the RC", || async {
            let pods = web_pods(&cluster).await?;
            let owned = pods.iter().filter(|p| controlled_by_rc(p, &uid)).count();
            Ok((pods.len() == 3 && owned == 3).then_some(pods))
        })
        .await?;
    assert!(
        pods.iter().any(|p| p["metadata"]["name"] == "orphan"),
        "the matching orphan was adopted: {pods:#?}"
    );
    assert_eq!(
        pods.iter()
            .filter(|p| p["metadata"]["generateName"] == "web-")
            .count(),
        2,
        "two pods created with generateName web-"
    );
    cm.eventually("RC status: 3 replicas, all fully labeled", || async {
        let rc = get_ok(&cluster, RC_PATH).await?;
        let s = &rc["status"];
        Ok((s["replicas"] == 3
            && s["fullyLabeledReplicas"] == 3
            && s["observedGeneration"] == rc["metadata"]["generation"])
            .then_some(()))
    })
    .await?;

    // A deleted pod is replaced by a new one.
    let victim = pods[0]["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    cluster
        .delete(&format!("/api/v1/namespaces/default/pods/{victim}"))
        .await?;
    cm.eventually("the deleted pod replaced", || async {
        let pods = web_pods(&cluster).await?;
        Ok((pods.len() == 3
            && pods
                .iter()
                .all(|p| p["metadata"]["name"] != victim.as_str())
            && pods.iter().all(|p| controlled_by_rc(p, &uid)))
        .then_some(()))
    })
    .await?;

    // Scaling to 1 deletes two pods and the status follows the new generation.
    let scaled = merge_patch_ok(&cluster, RC_PATH, &json!({"spec": {"replicas": 1}})).await?;
    let generation = scaled["metadata"]["generation"].clone();
    cm.eventually("1 pod left and status.replicas = 1", || async {
        let pods = web_pods(&cluster).await?;
        let rc = get_ok(&cluster, RC_PATH).await?;
        Ok((pods.len() == 1
            && rc["status"]["replicas"] == 1
            && rc["status"]["observedGeneration"] == generation)
            .then_some(()))
    })
    .await?;
    // Never more than asked for once the watch has caught up.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(web_pods(&cluster).await?.len(), 1);
    Ok(())
}
