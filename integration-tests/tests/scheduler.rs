//! kube-scheduler against a real apiserver and etcd: Node objects created through the API,
//! pods created, and the chosen node checked on cases where a wrong implementation would
//! pick another node.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use integration_tests::process::Daemon;
use integration_tests::scheduler::start_scheduler;
use integration_tests::TestCluster;
use serde_json::{json, Value};

/// Generous: a debug build on a busy 2-core machine.
const DEADLINE: Duration = Duration::from_secs(60);

async fn create_node(
    cluster: &TestCluster,
    name: &str,
    cpu: &str,
    memory: &str,
    extra: Value,
) -> Result<()> {
    let mut node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {}}, "spec": {}});
    if let Some(labels) = extra.get("labels") {
        node["metadata"]["labels"] = labels.clone();
    }
    if let Some(taints) = extra.get("taints") {
        node["spec"]["taints"] = taints.clone();
    }
    let status = json!({"capacity": {"cpu": cpu, "memory": memory, "pods": "110"},
                        "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
                        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                        "message": "test node", "lastHeartbeatTime": "2024-01-01T00:00:00Z",
                                        "lastTransitionTime": "2024-01-01T00:00:00Z"}]});
    integration_tests::scheduler::create_node_with_status(cluster, node, &status).await
}

fn container(cpu: Option<&str>, memory: Option<&str>) -> Value {
    let mut requests = serde_json::Map::new();
    if let Some(cpu) = cpu {
        requests.insert("cpu".into(), json!(cpu));
    }
    if let Some(memory) = memory {
        requests.insert("memory".into(), json!(memory));
    }
    json!({"name": "app", "image": "busybox", "resources": {"requests": requests}})
}

async fn create_pod(cluster: &TestCluster, name: &str, spec: Value) -> Result<()> {
    let mut spec = spec;
    if spec.get("containers").is_none() {
        spec["containers"] = json!([container(Some("100m"), Some("64Mi"))]);
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec});
    let (code, body) = cluster
        .post_json("/api/v1/namespaces/default/pods", &pod)
        .await?;
    if !code.is_success() {
        bail!("creating pod {name}: {code} {body}");
    }
    Ok(())
}

async fn get_pod(cluster: &TestCluster, name: &str) -> Result<Value> {
    let (code, body) = cluster
        .get_json(&format!("/api/v1/namespaces/default/pods/{name}"))
        .await?;
    if !code.is_success() {
        bail!("getting pod {name}: {code} {body}");
    }
    Ok(body)
}

/// Poll until the pod is bound; returns its node.
async fn wait_bound(cluster: &TestCluster, scheduler: &Daemon, name: &str) -> Result<String> {
    let start = Instant::now();
    loop {
        let pod = get_pod(cluster, name).await?;
        if let Some(node) = pod["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) {
            return Ok(node.to_string());
        }
        if start.elapsed() > DEADLINE {
            bail!(
                "pod {name} not bound: {pod}\n--- scheduler log ---\n{}",
                scheduler.log_tail(40)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Poll until `check` accepts the value `fetch` returns.
async fn wait_for<F, Fut>(
    what: &str,
    scheduler: &Daemon,
    mut fetch: F,
    check: impl Fn(&Value) -> bool,
) -> Result<Value>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Value>>,
{
    let start = Instant::now();
    loop {
        let value = fetch().await?;
        if check(&value) {
            return Ok(value);
        }
        if start.elapsed() > DEADLINE {
            bail!(
                "{what}: last seen {value}\n--- scheduler log ---\n{}",
                scheduler.log_tail(40)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn setup() -> Result<(TestCluster, Daemon)> {
    let cluster = TestCluster::start().await?;
    let scheduler = start_scheduler(&cluster, &["--secure-port=0"])?;
    Ok((cluster, scheduler))
}

#[tokio::test]
async fn untolerated_taint_keeps_pods_off_the_roomier_node() -> Result<()> {
    let (cluster, scheduler) = setup().await?;
    let taint = json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]);
    create_node(
        &cluster,
        "big-tainted",
        "16",
        "64Gi",
        json!({"taints": taint}),
    )
    .await?;
    create_node(&cluster, "small", "2", "4Gi", json!({})).await?;
    create_pod(&cluster, "plain", json!({})).await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "plain").await?, "small");
    let tolerations =
        json!([{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]);
    create_pod(&cluster, "tolerant", json!({"tolerations": tolerations})).await?;
    // Tolerated, the roomier node wins on LeastAllocated.
    assert_eq!(
        wait_bound(&cluster, &scheduler, "tolerant").await?,
        "big-tainted"
    );
    Ok(())
}

#[tokio::test]
async fn node_selector_and_affinity_override_spreading() -> Result<()> {
    let (cluster, scheduler) = setup().await?;
    create_node(
        &cluster,
        "big",
        "16",
        "64Gi",
        json!({"labels": {"zone": "a"}}),
    )
    .await?;
    create_node(
        &cluster,
        "small",
        "2",
        "4Gi",
        json!({"labels": {"zone": "b"}}),
    )
    .await?;
    create_pod(&cluster, "selector", json!({"nodeSelector": {"zone": "b"}})).await?;
    let required = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}]}}});
    create_pod(&cluster, "required", json!({"affinity": required})).await?;
    let preferred = json!({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}}]}});
    create_pod(&cluster, "preferred", json!({"affinity": preferred})).await?;
    create_pod(&cluster, "free", json!({})).await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "selector").await?, "small");
    assert_eq!(wait_bound(&cluster, &scheduler, "required").await?, "small");
    assert_eq!(
        wait_bound(&cluster, &scheduler, "preferred").await?,
        "small"
    );
    assert_eq!(wait_bound(&cluster, &scheduler, "free").await?, "big");
    Ok(())
}

#[tokio::test]
async fn init_container_requests_count() -> Result<()> {
    let (cluster, scheduler) = setup().await?;
    // Ignoring the init container, "cpu-rich" scores higher; its 2Gi cannot hold the 3Gi
    // the init container needs.
    create_node(&cluster, "cpu-rich", "16", "2Gi", json!({})).await?;
    create_node(&cluster, "memory-rich", "1", "8Gi", json!({})).await?;
    let spec = json!({
        "initContainers": [{"name": "init", "image": "busybox", "resources": {"requests": {"memory": "3Gi"}}}],
        "containers": [container(None, Some("100Mi"))],
    });
    create_pod(&cluster, "with-init", spec).await?;
    assert_eq!(
        wait_bound(&cluster, &scheduler, "with-init").await?,
        "memory-rich"
    );
    Ok(())
}

#[tokio::test]
async fn host_port_conflict_sends_the_second_pod_elsewhere() -> Result<()> {
    let (cluster, scheduler) = setup().await?;
    create_node(&cluster, "big", "16", "64Gi", json!({})).await?;
    create_node(&cluster, "small", "2", "4Gi", json!({})).await?;
    let with_port = json!({"containers": [{"name": "web", "image": "busybox",
        "ports": [{"containerPort": 80, "hostPort": 8080}],
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]});
    create_pod(&cluster, "first", with_port.clone()).await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "first").await?, "big");
    create_pod(&cluster, "second", with_port).await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "second").await?, "small");
    Ok(())
}

#[tokio::test]
async fn least_allocated_spreads_consecutive_pods() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let port = integration_tests::process::free_port()?;
    // /metrics open to anyone here (delegated authn/authz: tests/scheduler_auth.rs).
    let scheduler = start_scheduler(
        &cluster,
        &[
            &format!("--secure-port={port}"),
            "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
        ],
    )?;
    create_node(&cluster, "n1", "2", "4Gi", json!({})).await?;
    create_node(&cluster, "n2", "2", "4Gi", json!({})).await?;
    // Created back to back: only the assume cache lets each decision see the previous one.
    for i in 0..4 {
        let spec = json!({"containers": [container(Some("500m"), Some("512Mi"))]});
        create_pod(&cluster, &format!("p{i}"), spec).await?;
    }
    let mut per_node = std::collections::BTreeMap::new();
    for i in 0..4 {
        *per_node
            .entry(wait_bound(&cluster, &scheduler, &format!("p{i}")).await?)
            .or_insert(0) += 1;
    }
    assert_eq!(
        per_node.values().copied().collect::<Vec<_>>(),
        vec![2, 2],
        "{per_node:?}"
    );

    // Leader election took the Lease upstream's scheduler uses.
    let (code, lease) = cluster
        .get_json("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler")
        .await?;
    assert!(code.is_success(), "{lease}");
    assert!(
        lease["spec"]["holderIdentity"]
            .as_str()
            .is_some_and(|h| !h.is_empty()),
        "{lease}"
    );

    // HTTPS with the self-signed certificate made at start.
    let metrics = integration_tests::scheduler::get_secure_port(port, "/metrics").await?;
    assert!(
        metrics.contains(
            r#"scheduler_schedule_attempts_total{profile="default-scheduler",result="scheduled"} 4"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("scheduler_pending_pods{queue=\"active\"} 0"),
        "{metrics}"
    );
    let health = integration_tests::scheduler::get_secure_port(port, "/healthz").await?;
    assert_eq!(health, "ok");
    Ok(())
}

#[tokio::test]
async fn fits_nowhere_then_scheduled_when_a_node_appears() -> Result<()> {
    let (cluster, scheduler) = setup().await?;
    let taint = json!([{"key": "k", "value": "v", "effect": "NoSchedule"}]);
    create_node(&cluster, "tainted", "64", "64Gi", json!({"taints": taint})).await?;
    create_node(&cluster, "small-1", "1", "4Gi", json!({})).await?;
    create_node(&cluster, "small-2", "1", "4Gi", json!({})).await?;
    create_pod(
        &cluster,
        "big-pod",
        json!({"containers": [container(Some("2"), Some("1Gi"))]}),
    )
    .await?;

    let expected = "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu. \
                    preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, \
                    2 No preemption victims found for incoming pod.";
    let pod = wait_for(
        "PodScheduled=False",
        &scheduler,
        || get_pod(&cluster, "big-pod"),
        |pod| {
            pod["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "PodScheduled" && c["status"] == "False")
            })
        },
    )
    .await?;
    let condition = pod["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "PodScheduled"))
        .context("condition")?
        .clone();
    assert_eq!(condition["reason"], "Unschedulable");
    assert_eq!(condition["message"], expected);
    assert_eq!(pod["status"]["phase"], "Pending");

    let events = wait_for(
        "FailedScheduling event",
        &scheduler,
        || async {
            let (_, list) = cluster
                .get_json("/apis/events.k8s.io/v1/namespaces/default/events")
                .await?;
            Ok(list)
        },
        |list| {
            list["items"].as_array().is_some_and(|items| {
                items.iter().any(|e| {
                    e["reason"] == "FailedScheduling" && e["regarding"]["name"] == "big-pod"
                })
            })
        },
    )
    .await?;
    let event = events["items"]
        .as_array()
        .and_then(|items| items.iter().find(|e| e["reason"] == "FailedScheduling"))
        .context("event")?;
    assert_eq!(event["type"], "Warning");
    assert_eq!(event["note"], expected);

    create_node(&cluster, "roomy", "4", "8Gi", json!({})).await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "big-pod").await?, "roomy");
    let pod = get_pod(&cluster, "big-pod").await?;
    let scheduled = pod["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "PodScheduled"))
        .context("condition")?;
    assert_eq!(scheduled["status"], "True");
    wait_for(
        "Scheduled event",
        &scheduler,
        || async {
            let (_, list) = cluster
                .get_json("/apis/events.k8s.io/v1/namespaces/default/events")
                .await?;
            Ok(list)
        },
        |list| {
            list["items"].as_array().is_some_and(|items| {
                items.iter().any(|e| {
                    e["reason"] == "Scheduled"
                        && e["note"] == "Successfully assigned default/big-pod to roomy"
                })
            })
        },
    )
    .await?;
    Ok(())
}

/// ImageLocality: of three identical nodes only one holds the pods' 1000 MiB image; every
/// pod goes there although LeastAllocated alone would spread them over the three.
#[tokio::test]
async fn image_locality_prefers_the_node_holding_a_large_image() -> Result<()> {
    let cluster = TestCluster::start().await?;
    for n in ["plain-1", "cached", "plain-2"] {
        create_node(&cluster, n, "4", "8Gi", json!({})).await?;
    }
    let (code, body) = cluster
        .patch_json(
            "/api/v1/nodes/cached/status",
            "application/merge-patch+json",
            &json!({"status": {"images": [
                {"names": ["example.com/big@sha256:0123", "example.com/big:1"], "sizeBytes": 1_048_576_000_i64}
            ]}}),
        )
        .await?;
    if !code.is_success() {
        bail!("setting node images: {code} {body}");
    }
    // Started after the nodes are complete, so its first list already has the images.
    let scheduler = start_scheduler(&cluster, &["--secure-port=0"])?;
    for i in 0..3 {
        let name = format!("big-{i}");
        let mut c = container(Some("100m"), Some("64Mi"));
        c["image"] = json!("example.com/big:1");
        create_pod(&cluster, &name, json!({"containers": [c]})).await?;
        let node = wait_bound(&cluster, &scheduler, &name).await?;
        assert_eq!(node, "cached", "pod {name}");
    }
    Ok(())
}
