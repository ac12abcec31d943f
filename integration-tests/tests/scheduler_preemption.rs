//! kube-scheduler preemption against a real apiserver and etcd: PodDisruptionBudgets steer
//! the choice of victims, and the room made for a preemptor (its `nominatedNodeName`) is
//! not taken by a lower-priority pod.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use integration_tests::process::Daemon;
use integration_tests::scheduler::start_scheduler;
use integration_tests::TestCluster;
use serde_json::{json, Value};

/// Generous: a debug build on a busy 2-core machine.
const DEADLINE: Duration = Duration::from_secs(60);
const PODS: &str = "/api/v1/namespaces/default/pods";

async fn post(cluster: &TestCluster, path: &str, body: Value) -> Result<Value> {
    let (code, out) = cluster.post_json(path, &body).await?;
    if !code.is_success() {
        bail!("POST {path}: {code} {out}");
    }
    Ok(out)
}

/// A Ready node with 2 cpu.
async fn create_node(cluster: &TestCluster, name: &str) -> Result<()> {
    let status = json!({"capacity": {"cpu": "2", "memory": "8Gi", "pods": "110"},
                        "allocatable": {"cpu": "2", "memory": "8Gi", "pods": "110"},
                        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                        "message": "test node", "lastHeartbeatTime": "2024-01-01T00:00:00Z",
                                        "lastTransitionTime": "2024-01-01T00:00:00Z"}]});
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {}});
    integration_tests::scheduler::create_node_with_status(cluster, node, &status).await
}

async fn create_priority_classes(cluster: &TestCluster) -> Result<()> {
    for (name, value) in [("low", 1), ("mid", 5), ("high", 1000)] {
        post(
            cluster,
            "/apis/scheduling.k8s.io/v1/priorityclasses",
            json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                   "metadata": {"name": name}, "value": value}),
        )
        .await?;
    }
    Ok(())
}

/// A pod of priority class `class` asking for `cpu`, labelled `app: <name>`; bound to
/// `node` directly when given (already running there).
async fn create_pod(
    cluster: &TestCluster,
    name: &str,
    class: &str,
    cpu: &str,
    node: Option<&str>,
) -> Result<()> {
    let mut spec = json!({"priorityClassName": class,
        "containers": [{"name": "app", "image": "busybox", "resources": {"requests": {"cpu": cpu}}}]});
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    post(
        cluster,
        PODS,
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "labels": {"app": name}}, "spec": spec}),
    )
    .await?;
    Ok(())
}

/// The pod, or `None` once it is gone.
async fn get_pod(cluster: &TestCluster, name: &str) -> Result<Option<Value>> {
    let (code, pod) = cluster.get_json(&format!("{PODS}/{name}")).await?;
    if code.as_u16() == 404 {
        return Ok(None);
    }
    if !code.is_success() {
        bail!("getting pod {name}: {code} {pod}");
    }
    Ok(Some(pod))
}

/// Whether the pod is gone or being deleted.
fn evicted(pod: &Option<Value>) -> bool {
    pod.as_ref()
        .is_none_or(|p| !p["metadata"]["deletionTimestamp"].is_null())
}

/// Poll until `check` accepts pod `name` (or its absence).
async fn wait_pod(
    cluster: &TestCluster,
    scheduler: &Daemon,
    name: &str,
    what: &str,
    check: impl Fn(&Option<Value>) -> bool,
) -> Result<Option<Value>> {
    let start = Instant::now();
    loop {
        let pod = get_pod(cluster, name).await?;
        if check(&pod) {
            return Ok(pod);
        }
        if start.elapsed() > DEADLINE {
            bail!(
                "pod {name}: {what}: last seen {pod:?}\n--- scheduler log ---\n{}",
                scheduler.log_tail(40)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Node "a" holds a priority-1 pod guarded by a PDB that allows no disruption; node "b"
/// a priority-5 pod without one. Ranking by victim priority alone would evict on "a";
/// the PDB sends the preemptor to "b".
#[tokio::test]
async fn preemption_spares_pods_guarded_by_a_pdb() -> Result<()> {
    let cluster = TestCluster::start().await?;
    create_priority_classes(&cluster).await?;
    create_node(&cluster, "a").await?;
    create_node(&cluster, "b").await?;
    create_pod(&cluster, "guarded", "low", "1500m", Some("a")).await?;
    create_pod(&cluster, "free", "mid", "1500m", Some("b")).await?;
    post(
        &cluster,
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "guarded"},
               "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}}}),
    )
    .await?;
    // No disruption controller runs here: state what it would compute.
    let (code, body) = cluster
        .patch_json(
            "/apis/policy/v1/namespaces/default/poddisruptionbudgets/guarded/status",
            "application/merge-patch+json",
            &json!({"status": {"disruptionsAllowed": 0, "currentHealthy": 1, "desiredHealthy": 1,
                               "expectedPods": 1, "observedGeneration": 1}}),
        )
        .await?;
    if !code.is_success() {
        bail!("setting the PDB status: {code} {body}");
    }
    let scheduler = start_scheduler(&cluster, &["--secure-port=0"])?;
    create_pod(&cluster, "preemptor", "high", "1500m", None).await?;
    let pod = wait_pod(&cluster, &scheduler, "preemptor", "nominated", |p| {
        p.as_ref()
            .is_some_and(|p| p["status"]["nominatedNodeName"].is_string())
    })
    .await?;
    let nominated = pod.map(|p| p["status"]["nominatedNodeName"].clone());
    assert_eq!(nominated, Some(json!("b")));
    wait_pod(&cluster, &scheduler, "free", "evicted", evicted).await?;
    assert!(!evicted(&get_pod(&cluster, "guarded").await?));
    Ok(())
}

/// Once a preemptor is nominated to a node, a lower-priority pod arriving while the victim
/// goes away does not take the room: the preemptor ends up there, the other pod waits.
#[tokio::test]
async fn nominated_room_goes_to_the_preemptor() -> Result<()> {
    let cluster = TestCluster::start().await?;
    create_priority_classes(&cluster).await?;
    create_node(&cluster, "n").await?;
    create_pod(&cluster, "victim", "low", "1500m", Some("n")).await?;
    let scheduler = start_scheduler(&cluster, &["--secure-port=0"])?;
    create_pod(&cluster, "preemptor", "high", "1500m", None).await?;
    wait_pod(&cluster, &scheduler, "preemptor", "nominated", |p| {
        p.as_ref()
            .is_some_and(|p| p["status"]["nominatedNodeName"] == "n")
    })
    .await?;
    wait_pod(&cluster, &scheduler, "victim", "evicted", evicted).await?;
    create_pod(&cluster, "latecomer", "low", "1", None).await?;
    // No kubelet runs here: finish the victim's graceful deletion as it would.
    let (code, body) = cluster
        .delete(&format!("{PODS}/victim?gracePeriodSeconds=0"))
        .await?;
    if !code.is_success() && code.as_u16() != 404 {
        bail!("deleting the victim: {code} {body}");
    }
    let bound = |p: &Option<Value>| {
        p.as_ref()
            .and_then(|p| p["spec"]["nodeName"].as_str().map(str::to_string))
    };
    let pod = wait_pod(&cluster, &scheduler, "preemptor", "bound", |p| {
        bound(p).is_some()
    })
    .await?;
    assert_eq!(bound(&pod).as_deref(), Some("n"));
    let latecomer = get_pod(&cluster, "latecomer").await?;
    assert_eq!(bound(&latecomer), None, "{latecomer:?}");
    assert!(!evicted(&latecomer));
    Ok(())
}
