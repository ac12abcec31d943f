//! ResourceQuota end to end against a real apiserver and etcd: the controller fills
//! `status.hard` / `status.used`, the apiserver's admission charges creates at once and
//! refuses the one that would go over with upstream's 403, and deletions free usage again
//! at the controller's next recount.

use anyhow::Result;
use integration_tests::controller_manager::{get_ok, post_ok, start_controller_manager};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const QUOTAS: &str = "/api/v1/namespaces/default/resourcequotas";
const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";
const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str, cpu: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox",
            "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}, "limits": {"cpu": cpu, "memory": "64Mi"}}}]}})
}

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
}

async fn used(cluster: &TestCluster) -> Result<Value> {
    Ok(get_ok(cluster, &format!("{QUOTAS}/compute")).await?["status"]["used"].clone())
}

#[tokio::test]
async fn quotas_count_usage_and_refuse_creates_over_the_limit() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=resourcequota"])?;
    post_ok(&cluster, CONFIGMAPS, &configmap("before")).await?;
    post_ok(
        &cluster,
        QUOTAS,
        &json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "compute"},
            "spec": {"hard": {"pods": "2", "requests.cpu": "1", "limits.memory": "1Gi",
                "configmaps": "3", "count/deployments.apps": "1"}}}),
    )
    .await?;
    let u = cm
        .eventually("status counted", || async {
            let u = used(&cluster).await?;
            Ok((!u.is_null()).then_some(u))
        })
        .await?;
    // kube-root-ca.crt is not published (no root-ca controller here): one ConfigMap.
    assert_eq!(u["configmaps"], "1", "{u}");
    assert_eq!(u["pods"], "0");
    let q = get_ok(&cluster, &format!("{QUOTAS}/compute")).await?;
    assert_eq!(q["status"]["hard"]["requests.cpu"], "1");

    // Admission charges at once: two pods fit, the used counts move without the controller.
    post_ok(&cluster, PODS, &pod("a", "250m")).await?;
    post_ok(&cluster, PODS, &pod("b", "500m")).await?;
    let u = used(&cluster).await?;
    assert_eq!(u["pods"], "2", "{u}");
    assert_eq!(u["requests.cpu"], "750m");
    assert_eq!(u["limits.memory"], "128Mi");

    // The third is refused with upstream's 403.
    let (code, body) = cluster.post_json(PODS, &pod("c", "100m")).await?;
    assert_eq!(code.as_u16(), 403, "{body}");
    assert_eq!(body["reason"], "Forbidden");
    assert_eq!(
        body["message"],
        "pods \"c\" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2"
    );
    let (code, _) = cluster.get_json(&format!("{PODS}/c")).await?;
    assert_eq!(code.as_u16(), 404, "nothing was written");

    // Group-qualified object counts.
    let deployment = |name: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
    };
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    post_ok(&cluster, deployments, &deployment("one")).await?;
    let (code, body) = cluster.post_json(deployments, &deployment("two")).await?;
    assert_eq!(code.as_u16(), 403, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("exceeded quota: compute, requested: count/deployments.apps=1"));

    // Deleting a pod frees its share at the controller's recount; then a pod fits again.
    let (code, body) = cluster
        .delete(&format!("{PODS}/a?gracePeriodSeconds=0"))
        .await?;
    anyhow::ensure!(code.is_success(), "{code} {body}");
    cm.eventually("usage recounted", || async {
        let u = used(&cluster).await?;
        Ok((u["pods"] == "1" && u["requests.cpu"] == "500m").then_some(()))
    })
    .await?;
    post_ok(&cluster, PODS, &pod("c", "100m")).await?;
    Ok(())
}

/// A pod without requests or limits (BestEffort), with an activeDeadlineSeconds when `deadline`.
fn best_effort_pod(name: &str, deadline: bool) -> Value {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    if deadline {
        p["spec"]["activeDeadlineSeconds"] = json!(600);
    }
    p
}

#[tokio::test]
async fn scoped_quotas_count_only_the_pods_their_scopes_match() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=resourcequota"])?;
    let quota = |name: &str, spec: Value| json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name}, "spec": spec});
    post_ok(
        &cluster,
        QUOTAS,
        &quota(
            "best-effort",
            json!({"hard": {"pods": "10"}, "scopes": ["BestEffort"]}),
        ),
    )
    .await?;
    post_ok(
        &cluster,
        QUOTAS,
        &quota(
            "not-terminating",
            json!({"hard": {"pods": "10", "requests.cpu": "4"}, "scopes": ["NotTerminating"]}),
        ),
    )
    .await?;
    post_ok(
        &cluster,
        QUOTAS,
        &quota(
            "high-priority",
            json!({"hard": {"pods": "10"}, "scopeSelector": {"matchExpressions": [
            {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}}),
        ),
    )
    .await?;
    post_ok(
        &cluster,
        "/apis/scheduling.k8s.io/v1/priorityclasses",
        &json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": "high"}, "value": 1000}),
    )
    .await?;

    // Admission refuses pods until the controller has written each quota's status.
    for name in ["best-effort", "not-terminating", "high-priority"] {
        cm.eventually("quota status written", || async {
            let q = get_ok(&cluster, &format!("{QUOTAS}/{name}")).await?;
            Ok((!q["status"]["hard"].is_null()).then_some(()))
        })
        .await?;
    }
    // Two BestEffort pods (one with a deadline: Terminating), one Burstable pod with
    // priority class "high".
    post_ok(&cluster, PODS, &best_effort_pod("be", false)).await?;
    post_ok(&cluster, PODS, &best_effort_pod("be-deadline", true)).await?;
    let mut high = pod("burstable", "250m");
    high["spec"]["priorityClassName"] = json!("high");
    post_ok(&cluster, PODS, &high).await?;

    let counted = |name: &'static str, key: &'static str, want: &'static str| {
        let cluster = &cluster;
        async move {
            let q = get_ok(cluster, &format!("{QUOTAS}/{name}")).await?;
            let got = q["status"]["used"][key].clone();
            Ok::<_, anyhow::Error>((got == want).then_some(()))
        }
    };
    cm.eventually("BestEffort counts the two pods without requests", || {
        counted("best-effort", "pods", "2")
    })
    .await?;
    cm.eventually("NotTerminating leaves out the pod with a deadline", || {
        counted("not-terminating", "pods", "2")
    })
    .await?;
    let q = get_ok(&cluster, &format!("{QUOTAS}/not-terminating")).await?;
    assert_eq!(q["status"]["used"]["requests.cpu"], "250m", "{q}");
    cm.eventually("PriorityClass In [high] counts one pod", || {
        counted("high-priority", "pods", "1")
    })
    .await?;
    Ok(())
}
