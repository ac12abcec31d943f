//! The admission plugins upstream turns on by default that shape pods and claims —
//! Priority, DefaultTolerationSeconds, LimitRanger, DefaultStorageClass — against a real
//! apiserver and etcd.

use std::time::Duration;

use anyhow::{bail, Result};
use integration_tests::TestCluster;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    spec["containers"] = json!([{"name": "app", "image": "busybox"}]);
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
}

/// Creates `body` at `path`, retrying while admission has not yet seen an object created just
/// before (it reads the watch cache, as upstream's plugins read informers).
async fn create_eventually(
    cluster: &TestCluster,
    path: &str,
    body: &Value,
    ready: impl Fn(StatusCode, &Value) -> bool,
) -> Result<(StatusCode, Value)> {
    for _ in 0..50 {
        let (code, out) = cluster.post_json(path, body).await?;
        if ready(code, &out) {
            return Ok((code, out));
        }
        let name = body["metadata"]["name"].as_str().unwrap_or_default();
        let _ = cluster.delete(&format!("{path}/{name}")).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("admission never saw the objects created before {body}")
}

#[tokio::test]
async fn priority_classes_resolve_to_pod_priority_and_unknown_ones_are_forbidden() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let (code, out) = cluster
        .post_json(PODS, &pod("gold", json!({"priorityClassName": "gold"})))
        .await?;
    assert_eq!(code, StatusCode::FORBIDDEN, "{out}");
    assert_eq!(
        out["message"],
        "pods \"gold\" is forbidden: no PriorityClass with name gold was found"
    );

    let (code, out) = cluster
        .post_json(
            "/apis/scheduling.k8s.io/v1/priorityclasses",
            &json!({"metadata": {"name": "gold"}, "value": 1000, "preemptionPolicy": "Never"}),
        )
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{out}");
    let (_, created) = create_eventually(
        &cluster,
        PODS,
        &pod("gold", json!({"priorityClassName": "gold"})),
        |code, _| code == StatusCode::CREATED,
    )
    .await?;
    assert_eq!(created["spec"]["priority"], 1000);
    assert_eq!(created["spec"]["preemptionPolicy"], "Never");

    // The built-in critical classes exist from the start.
    let (code, critical) = cluster
        .post_json(
            PODS,
            &pod(
                "critical",
                json!({"priorityClassName": "system-cluster-critical"}),
            ),
        )
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{critical}");
    assert_eq!(critical["spec"]["priority"], 2_000_000_000);

    // No class and no global default: priority 0. A pod may not pick its own number.
    let (_, plain) = cluster.post_json(PODS, &pod("plain", json!({}))).await?;
    assert_eq!(plain["spec"]["priority"], 0);
    let (code, out) = cluster
        .post_json(PODS, &pod("sneaky", json!({"priority": 5})))
        .await?;
    assert_eq!(code, StatusCode::FORBIDDEN, "{out}");
    assert!(out["message"]
        .as_str()
        .unwrap_or_default()
        .contains("the integer value of priority (5) must not be provided in pod spec"));

    // A global default applies to pods without a class; only one default may exist.
    let default = |name: &str, value: i64| json!({"metadata": {"name": name}, "value": value, "globalDefault": true});
    let (code, _) = cluster
        .post_json(
            "/apis/scheduling.k8s.io/v1/priorityclasses",
            &default("house", 10),
        )
        .await?;
    assert_eq!(code, StatusCode::CREATED);
    let (_, defaulted) = create_eventually(&cluster, PODS, &pod("housed", json!({})), |_, p| {
        p["spec"]["priorityClassName"] == "house"
    })
    .await?;
    assert_eq!(defaulted["spec"]["priority"], 10);
    let (code, out) = cluster
        .post_json(
            "/apis/scheduling.k8s.io/v1/priorityclasses",
            &default("second", 20),
        )
        .await?;
    assert_eq!(code, StatusCode::FORBIDDEN, "{out}");
    assert_eq!(
        out["message"],
        "priorityclasses \"second\" is forbidden: PriorityClass house is already marked as default. Only one default can exist"
    );
    Ok(())
}

#[tokio::test]
async fn pods_get_default_not_ready_and_unreachable_tolerations() -> Result<()> {
    let cluster =
        TestCluster::start_with_args(&["--default-unreachable-toleration-seconds=42"]).await?;
    let (code, created) = cluster
        .post_json(
            PODS,
            &pod(
                "tolerant",
                json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "x", "effect": "NoSchedule"}]}),
            ),
        )
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["spec"]["tolerations"],
        json!([
            {"key": "dedicated", "operator": "Equal", "value": "x", "effect": "NoSchedule"},
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 42}
        ])
    );
    Ok(())
}

#[tokio::test]
async fn limit_ranges_default_and_bound_container_resources() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let (code, out) = cluster
        .post_json(
            "/api/v1/namespaces/default/limitranges",
            &json!({"metadata": {"name": "limits"}, "spec": {"limits": [{
                "type": "Container",
                "default": {"cpu": "500m", "memory": "128Mi"},
                "defaultRequest": {"cpu": "100m", "memory": "64Mi"},
                "max": {"memory": "1Gi"},
                "min": {"cpu": "50m"}
            }]}}),
        )
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{out}");
    let (_, defaulted) = create_eventually(&cluster, PODS, &pod("sized", json!({})), |_, p| {
        p["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "500m"
    })
    .await?;
    let resources = &defaulted["spec"]["containers"][0]["resources"];
    assert_eq!(
        resources["requests"],
        json!({"cpu": "100m", "memory": "64Mi"})
    );
    assert_eq!(
        defaulted["metadata"]["annotations"]["kubernetes.io/limit-ranger"],
        "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app"
    );
    // Defaulted QoS follows from the filled-in values.
    assert_eq!(defaulted["status"]["qosClass"], "Burstable");

    let mut big = pod("big", json!({}));
    big["spec"]["containers"][0]["resources"] =
        json!({"limits": {"memory": "2Gi"}, "requests": {"cpu": "10m"}});
    let (code, out) = cluster.post_json(PODS, &big).await?;
    assert_eq!(code, StatusCode::FORBIDDEN, "{out}");
    assert_eq!(
        out["message"],
        "pods \"big\" is forbidden: [minimum cpu usage per Container is 50m, but request is 10m, maximum memory usage per Container is 1Gi, but limit is 2Gi]"
    );
    Ok(())
}

#[tokio::test]
async fn claims_without_a_class_get_the_default_storage_class() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let (code, out) = cluster
        .post_json(
            "/apis/storage.k8s.io/v1/storageclasses",
            &json!({"metadata": {"name": "standard", "annotations": {
                "storageclass.kubernetes.io/is-default-class": "true"}},
                "provisioner": "kubernetes.io/no-provisioner"}),
        )
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{out}");
    let claim = |name: &str, class: Option<&str>| {
        let mut c = json!({"metadata": {"name": name}, "spec": {
            "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
        if let Some(class) = class {
            c["spec"]["storageClassName"] = json!(class);
        }
        c
    };
    let pvcs = "/api/v1/namespaces/default/persistentvolumeclaims";
    let (_, defaulted) = create_eventually(&cluster, pvcs, &claim("data", None), |_, c| {
        c["spec"]["storageClassName"] == "standard"
    })
    .await?;
    assert_eq!(defaulted["spec"]["storageClassName"], "standard");
    // An explicit empty class means "no class" and is kept.
    let (code, none) = cluster.post_json(pvcs, &claim("raw", Some(""))).await?;
    assert_eq!(code, StatusCode::CREATED, "{none}");
    assert_eq!(none["spec"]["storageClassName"], "");
    Ok(())
}
