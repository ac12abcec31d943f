//! The statefulset controller against a real apiserver and etcd. No kubelet or scheduler
//! runs: the test plays kubelet by marking pods Running and Ready through `pods/status`.

use std::time::Duration;

use anyhow::Result;
use integration_tests::controller_manager::{
    get_ok, merge_patch_ok, post_ok, set_pod_ready, start_controller_manager,
};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const SETS: &str = "/apis/apps/v1/namespaces/default/statefulsets";

fn statefulset(name: &str, replicas: i32, policy: &str, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "serviceName": format!("{name}-headless"),
            "podManagementPolicy": policy,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}}}}]}})
}

/// Live (not terminating) pods of set `name`, by name.
async fn pods(cluster: &TestCluster, name: &str) -> Result<Vec<Value>> {
    let body = get_ok(
        cluster,
        &format!("/api/v1/namespaces/default/pods?labelSelector=app%3D{name}"),
    )
    .await?;
    let mut items: Vec<Value> = body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect();
    items.sort_by_key(|p| {
        p["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    });
    Ok(items)
}

fn names(pods: &[Value]) -> Vec<String> {
    pods.iter()
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn ordered_ready_creates_pods_in_order_with_identity_and_claims() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=statefulset"])?;
    post_ok(
        &cluster,
        SETS,
        &statefulset("web", 3, "OrderedReady", "busybox:1"),
    )
    .await?;

    let first = cm
        .eventually("web-0", || async {
            let p = pods(&cluster, "web").await?;
            Ok((!p.is_empty()).then_some(p))
        })
        .await?;
    assert_eq!(names(&first), ["web-0"]);
    let pod0 = &first[0];
    assert_eq!(pod0["spec"]["hostname"], "web-0");
    assert_eq!(pod0["spec"]["subdomain"], "web-headless");
    assert_eq!(
        pod0["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"],
        "web-0"
    );
    assert_eq!(
        pod0["metadata"]["labels"]["apps.kubernetes.io/pod-index"],
        "0"
    );
    let vols = pod0["spec"]["volumes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(vols
        .iter()
        .any(|v| v["name"] == "data" && v["persistentVolumeClaim"]["claimName"] == "data-web-0"));
    let claim = get_ok(
        &cluster,
        "/api/v1/namespaces/default/persistentvolumeclaims/data-web-0",
    )
    .await?;
    assert_eq!(claim["metadata"]["labels"]["app"], "web");
    // Retain (the default): the claim has no owner, so it outlives the set.
    assert!(claim["metadata"]["ownerReferences"].is_null());
    let revision = pod0["metadata"]["labels"]["controller-revision-hash"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(revision.starts_with("web-"), "revision label {revision}");
    let rev = get_ok(
        &cluster,
        &format!("/apis/apps/v1/namespaces/default/controllerrevisions/{revision}"),
    )
    .await?;
    assert_eq!(rev["revision"], 1);
    assert_eq!(rev["metadata"]["ownerReferences"][0]["kind"], "StatefulSet");

    // OrderedReady: web-1 must not appear while web-0 is not Ready.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(names(&pods(&cluster, "web").await?), ["web-0"]);

    set_pod_ready(&cluster, "default", "web-0", true).await?;
    cm.eventually("web-1 after web-0 is Ready", || async {
        let p = names(&pods(&cluster, "web").await?);
        Ok((p == ["web-0", "web-1"]).then_some(()))
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(names(&pods(&cluster, "web").await?), ["web-0", "web-1"]);
    set_pod_ready(&cluster, "default", "web-1", true).await?;
    cm.eventually("web-2 after web-1 is Ready", || async {
        let p = names(&pods(&cluster, "web").await?);
        Ok((p.len() == 3).then_some(()))
    })
    .await?;
    set_pod_ready(&cluster, "default", "web-2", true).await?;
    let status = cm
        .eventually("status with 3 ready replicas", || async {
            let s = get_ok(&cluster, &format!("{SETS}/web")).await?;
            Ok((s["status"]["readyReplicas"] == 3).then(|| s["status"].clone()))
        })
        .await?;
    assert_eq!(status["replicas"], 3);
    assert_eq!(status["currentReplicas"], 3);
    assert_eq!(status["updatedReplicas"], 3);
    assert_eq!(status["currentRevision"], revision.as_str());
    assert_eq!(status["updateRevision"], revision.as_str());

    // Scale to 1: web-2 goes first; web-1 only after web-2 is gone.
    merge_patch_ok(
        &cluster,
        &format!("{SETS}/web"),
        &json!({"spec": {"replicas": 1}}),
    )
    .await?;
    cm.eventually("scale down to web-0", || async {
        let p = names(&pods(&cluster, "web").await?);
        // Never web-1 gone while web-2 is still there.
        assert!(
            !p.contains(&"web-2".to_string()) || p.contains(&"web-1".to_string()),
            "web-1 removed before web-2: {p:?}"
        );
        Ok((p == ["web-0"]).then_some(()))
    })
    .await?;
    // Claims are retained on scale-down.
    get_ok(
        &cluster,
        "/api/v1/namespaces/default/persistentvolumeclaims/data-web-2",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn parallel_creates_all_pods_at_once_and_scales_down() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=statefulset"])?;
    post_ok(
        &cluster,
        SETS,
        &statefulset("db", 3, "Parallel", "busybox:1"),
    )
    .await?;
    // Parallel: all three at once, without any of them being Ready.
    cm.eventually("three pods in parallel", || async {
        let p = names(&pods(&cluster, "db").await?);
        Ok((p == ["db-0", "db-1", "db-2"]).then_some(()))
    })
    .await?;
    for n in ["db-0", "db-1", "db-2"] {
        set_pod_ready(&cluster, "default", n, true).await?;
    }
    merge_patch_ok(
        &cluster,
        &format!("{SETS}/db"),
        &json!({"spec": {"replicas": 1}}),
    )
    .await?;
    cm.eventually("db-0 only", || async {
        let p = names(&pods(&cluster, "db").await?);
        Ok((p == ["db-0"]).then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn rolling_update_replaces_pods_from_the_highest_ordinal_down_to_the_partition() -> Result<()>
{
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=statefulset"])?;
    post_ok(
        &cluster,
        SETS,
        &statefulset("kv", 3, "OrderedReady", "busybox:1"),
    )
    .await?;
    // Play kubelet until all three are Ready.
    cm.eventually("three ready pods", || async {
        let p = pods(&cluster, "kv").await?;
        for pod in &p {
            if pod["status"]["phase"] != "Running" {
                let n = pod["metadata"]["name"].as_str().unwrap_or_default();
                set_pod_ready(&cluster, "default", n, true).await?;
            }
        }
        Ok((p.len() == 3 && p.iter().all(|x| x["status"]["phase"] == "Running")).then_some(()))
    })
    .await?;
    let old_rev =
        get_ok(&cluster, &format!("{SETS}/kv")).await?["status"]["updateRevision"].clone();

    // Partition 1: only kv-2 and kv-1 move to the new template.
    merge_patch_ok(
        &cluster,
        &format!("{SETS}/kv"),
        &json!({"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
            "template": {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}}}}),
    )
    .await?;
    let new_rev = cm
        .eventually("a new update revision", || async {
            let s = get_ok(&cluster, &format!("{SETS}/kv")).await?;
            let r = s["status"]["updateRevision"].clone();
            Ok((r.is_string() && r != old_rev).then_some(r))
        })
        .await?;
    cm.eventually("kv-2 and kv-1 updated, in that order", || async {
        let p = pods(&cluster, "kv").await?;
        let updated: Vec<bool> = p
            .iter()
            .map(|x| x["metadata"]["labels"]["controller-revision-hash"] == new_rev)
            .collect();
        // The updated pods always form a suffix of the ordinals: never kv-1 before kv-2.
        if let Some(first) = updated.iter().position(|u| *u) {
            assert!(
                updated[first..].iter().all(|u| *u),
                "not from the top: {updated:?}"
            );
        }
        for pod in &p {
            if pod["status"]["phase"] != "Running" {
                let n = pod["metadata"]["name"].as_str().unwrap_or_default();
                set_pod_ready(&cluster, "default", n, true).await?;
            }
        }
        let all_ready = p.len() == 3 && p.iter().all(|x| x["status"]["phase"] == "Running");
        Ok((all_ready && updated == [false, true, true]).then_some(()))
    })
    .await?;
    // kv-0 stays on the old revision below the partition.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p = pods(&cluster, "kv").await?;
    assert_eq!(
        p[0]["metadata"]["labels"]["controller-revision-hash"],
        old_rev
    );
    assert_eq!(p[0]["spec"]["containers"][0]["image"], "busybox:1");
    assert_eq!(p[2]["spec"]["containers"][0]["image"], "busybox:2");
    let revs = get_ok(
        &cluster,
        "/apis/apps/v1/namespaces/default/controllerrevisions",
    )
    .await?;
    assert_eq!(revs["items"].as_array().map(Vec::len), Some(2));
    Ok(())
}
