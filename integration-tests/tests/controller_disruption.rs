//! The disruption controller and the apiserver's `pods/eviction` against a real apiserver
//! and etcd: a PodDisruptionBudget's status follows its Deployment's pods (made Running and
//! Ready by the test, playing kubelet), and evictions spend it, are refused with 429 once it
//! is spent, and follow upstream's rules for unready, Pending and doubly-covered pods.

use anyhow::{bail, Result};
use integration_tests::controller_manager::{
    get_ok, post_ok, set_pod_ready, start_controller_manager,
};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const PODS: &str = "/api/v1/namespaces/default/pods";
const PDBS: &str = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";

/// Live (not terminating) pods labelled `app=<app>`.
async fn pods_of(cluster: &TestCluster, app: &str) -> Result<Vec<Value>> {
    let body = get_ok(cluster, &format!("{PODS}?labelSelector=app%3D{app}")).await?;
    Ok(body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect())
}

fn name(obj: &Value) -> String {
    obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn evict(cluster: &TestCluster, pod: &str) -> Result<(u16, Value)> {
    let (code, body) = cluster
        .post_json(
            &format!("{PODS}/{pod}/eviction"),
            &json!({"apiVersion": "policy/v1", "kind": "Eviction",
                    "metadata": {"name": pod, "namespace": "default"}}),
        )
        .await?;
    Ok((code.as_u16(), body))
}

/// Mark every live `app` pod Running and Ready, until there are `want` of them.
async fn make_all_ready(cluster: &TestCluster, app: &str, want: usize) -> Result<Option<()>> {
    let pods = pods_of(cluster, app).await?;
    for p in &pods {
        let ready = p["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        });
        if !ready {
            set_pod_ready(cluster, "default", &name(p), true).await?;
        }
    }
    Ok((pods.len() == want).then_some(()))
}

async fn pdb_status(cluster: &TestCluster, pdb: &str) -> Result<Value> {
    Ok(get_ok(cluster, &format!("{PDBS}/{pdb}")).await?["status"].clone())
}

#[tokio::test]
async fn budgets_track_pods_and_evictions_respect_them() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(
        &cluster,
        &["--controllers=disruption,deployment,replicaset"],
    )?;
    post_ok(
        &cluster,
        "/apis/apps/v1/namespaces/default/deployments",
        &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}),
    )
    .await?;
    cm.eventually("3 ready pods", || make_all_ready(&cluster, "web", 3))
        .await?;
    let pdb = post_ok(
        &cluster,
        PDBS,
        &json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web"},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
    )
    .await?;
    let generation = pdb["metadata"]["generation"].clone();

    // maxUnavailable resolves against the Deployment's replicas: 3 expected, 2 desired.
    let status = cm
        .eventually("budget status", || async {
            let s = pdb_status(&cluster, "web").await?;
            Ok((s["currentHealthy"] == 3).then_some(s))
        })
        .await?;
    assert_eq!(status["expectedPods"], 3);
    assert_eq!(status["desiredHealthy"], 2);
    assert_eq!(status["disruptionsAllowed"], 1);
    assert_eq!(status["observedGeneration"], generation);
    assert_eq!(status["conditions"][0]["type"], "DisruptionAllowed");
    assert_eq!(status["conditions"][0]["status"], "True");
    assert_eq!(status["conditions"][0]["reason"], "SufficientPods");

    // The first eviction spends the one disruption; the second is refused.
    let pods = pods_of(&cluster, "web").await?;
    let (a, b) = (name(&pods[0]), name(&pods[1]));
    let (code, body) = evict(&cluster, &a).await?;
    assert_eq!(code, 201, "{body}");
    let spent = pdb_status(&cluster, "web").await?;
    assert_eq!(spent["disruptionsAllowed"], 0, "{spent}");
    assert!(spent["disruptedPods"][&a].is_string(), "{spent}");
    let (code, body) = evict(&cluster, &b).await?;
    assert_eq!(code, 429, "{body}");
    assert_eq!(body["reason"], "TooManyRequests");
    assert_eq!(
        body["message"],
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(body["details"]["causes"][0]["reason"], "DisruptionBudget");
    assert!(pods_of(&cluster, "web").await?.iter().any(|p| name(p) == b));

    // The ReplicaSet replaces the evicted pod; once it is Ready the budget allows one again.
    cm.eventually("replacement ready", || make_all_ready(&cluster, "web", 3))
        .await?;
    cm.eventually("budget replenished", || async {
        let s = pdb_status(&cluster, "web").await?;
        Ok((s["disruptionsAllowed"] == 1 && s["currentHealthy"] == 3).then_some(()))
    })
    .await?;

    // An unready pod may go without spending the budget while the budget is met
    // (IfHealthyBudget): 2 healthy of 2 desired.
    set_pod_ready(&cluster, "default", &b, false).await?;
    cm.eventually("budget sees the unready pod", || async {
        let s = pdb_status(&cluster, "web").await?;
        Ok((s["currentHealthy"] == 2 && s["disruptionsAllowed"] == 0).then_some(()))
    })
    .await?;
    let (code, body) = evict(&cluster, &b).await?;
    assert_eq!(code, 201, "{body}");
    assert_eq!(pdb_status(&cluster, "web").await?["disruptionsAllowed"], 0);

    // A Pending pod is not guarded at all.
    post_ok(
        &cluster,
        PODS,
        &json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "pending", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
    )
    .await?;
    let (code, body) = evict(&cluster, "pending").await?;
    assert_eq!(code, 201, "{body}");

    // Two budgets over one pod: upstream refuses with a 500.
    post_ok(
        &cluster,
        PDBS,
        &json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web-too"},
            "spec": {"minAvailable": 0, "selector": {"matchLabels": {"app": "web"}}}}),
    )
    .await?;
    let victim = cm
        .eventually("a running web pod", || async {
            let pods = pods_of(&cluster, "web").await?;
            Ok(pods
                .iter()
                .find(|p| p["status"]["phase"] == "Running")
                .map(name))
        })
        .await?;
    let (code, body) = evict(&cluster, &victim).await?;
    assert_eq!(code, 500, "{body}");
    assert_eq!(
        body["message"],
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
    );

    // A wrong name in the body is a bad request.
    let (code, _) = cluster
        .post_json(
            &format!("{PODS}/{victim}/eviction"),
            &json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "other"}}),
        )
        .await?;
    if code.as_u16() != 400 {
        bail!("mismatched eviction name: {code}");
    }
    Ok(())
}

#[tokio::test]
async fn percentage_budgets_use_the_controllers_scale_and_fail_safe_without_one() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=disruption,replicaset"])?;
    post_ok(
        &cluster,
        "/apis/apps/v1/namespaces/default/replicasets",
        &json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "db"},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}),
    )
    .await?;
    cm.eventually("4 ready pods", || make_all_ready(&cluster, "db", 4))
        .await?;
    post_ok(
        &cluster,
        PDBS,
        &json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "db"},
            "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "db"}}}}),
    )
    .await?;
    let s = cm
        .eventually("percentage budget", || async {
            let s = pdb_status(&cluster, "db").await?;
            Ok((s["expectedPods"] == 4).then_some(s))
        })
        .await?;
    assert_eq!(s["desiredHealthy"], 2);
    assert_eq!(s["disruptionsAllowed"], 2);

    // A pod whose controller does not exist: the budget can no longer be computed and
    // allows nothing (fail-safe, SyncFailed).
    post_ok(
        &cluster,
        PODS,
        &json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "stray", "labels": {"app": "db"}, "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "nope",
                 "uid": "00000000-0000-0000-0000-000000000000", "controller": true}]},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
    )
    .await?;
    let s = cm
        .eventually("fail-safe", || async {
            let s = pdb_status(&cluster, "db").await?;
            Ok((s["conditions"][0]["reason"] == "SyncFailed").then_some(s))
        })
        .await?;
    assert_eq!(s["disruptionsAllowed"], 0);
    assert_eq!(s["conditions"][0]["status"], "False");
    Ok(())
}
