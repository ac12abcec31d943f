//! Node-pressure eviction and node allocatable with real containers (issue 4): the kubelet
//! reads its signals from this machine, so pressure is produced by a threshold no machine can
//! meet (`memory.available<1000Ti`) rather than by starving the test host.

use anyhow::{Context, Result};
use integration_tests::containerd::Containerd;
use integration_tests::kubelet::{create_bound_pod, start_kubelet, start_kubelet_with, wait_pod};
use integration_tests::TestCluster;
use serde_json::{json, Value};

fn sleeper(resources: Value) -> Value {
    json!({
        "terminationGracePeriodSeconds": 1,
        "containers": [{
            "name": "app",
            "image": "busybox:latest",
            "imagePullPolicy": "Never",
            "command": ["sleep", "3600"],
            "resources": resources
        }]
    })
}

fn phase(pod: &Value) -> &str {
    pod["status"]["phase"].as_str().unwrap_or_default()
}

fn evicted(pod: &Value) -> bool {
    phase(pod) == "Failed" && pod["status"]["reason"] == "Evicted"
}

fn finished_at(pod: &Value) -> String {
    pod["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn node_condition(cluster: &TestCluster, node: &str, kind: &str) -> Result<String> {
    let (_, n) = cluster.get_json(&format!("/api/v1/nodes/{node}")).await?;
    Ok(n["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == kind)
        .and_then(|c| c["status"].as_str())
        .unwrap_or_default()
        .to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_pressure_evicts_besteffort_before_guaranteed_and_turns_new_pods_away() -> Result<()>
{
    let cluster = TestCluster::start().await?;
    let containerd = Containerd::start()?;
    let node = "kubelet-node-evict";
    let mut kubelet = start_kubelet(&cluster, &containerd, node, "10.244.111.0/24")?;
    let guaranteed = json!({
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"cpu": "50m", "memory": "64Mi"}
    });
    create_bound_pod(&cluster, node, "guaranteed", json!({}), sleeper(guaranteed)).await?;
    create_bound_pod(&cluster, node, "besteffort", json!({}), sleeper(json!({}))).await?;
    for name in ["guaranteed", "besteffort"] {
        wait_pod(&cluster, &kubelet, name, "Running", |p| {
            phase(p) == "Running"
        })
        .await?;
    }
    assert_eq!(
        node_condition(&cluster, node, "MemoryPressure").await?,
        "False"
    );

    // The restarted kubelet adopts both pods, then finds memory "short" on every reading and
    // evicts one pod per 5 s: BestEffort (using more than its zero request) first.
    kubelet.restart_with(&[
        "--eviction-hard=memory.available<1000Ti".into(),
        "--housekeeping-interval=5s".into(),
    ])?;
    let best = wait_pod(&cluster, &kubelet, "besteffort", "evicted", evicted).await?;
    let message = best["status"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(
            "The node was low on resource: memory. Threshold quantity: 1000Ti, available: "
        ),
        "{message}"
    );
    let guaranteed = wait_pod(&cluster, &kubelet, "guaranteed", "evicted", evicted).await?;
    assert!(
        finished_at(&best) < finished_at(&guaranteed),
        "BestEffort goes first: {} vs {}",
        finished_at(&best),
        finished_at(&guaranteed)
    );
    // Evicted containers are stopped in the runtime, not just reported.
    assert!(
        best["status"]["containerStatuses"][0]["state"]["terminated"].is_object(),
        "{best}"
    );

    kubelet
        .daemon
        .eventually("MemoryPressure=True on the node", || async {
            Ok((node_condition(&cluster, node, "MemoryPressure").await? == "True").then_some(()))
        })
        .await?;
    // Admission under memory pressure: a new BestEffort pod never starts.
    create_bound_pod(&cluster, node, "latecomer", json!({}), sleeper(json!({}))).await?;
    let late = wait_pod(&cluster, &kubelet, "latecomer", "rejected", evicted).await?;
    assert_eq!(
        late["status"]["message"], "The node had condition: [MemoryPressure]. ",
        "{late}"
    );
    let events = cluster
        .get_json("/api/v1/namespaces/default/events?fieldSelector=reason%3DEvicted")
        .await?
        .1;
    let evicted_objects: Vec<&str> = events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["involvedObject"]["name"].as_str())
        .collect();
    for name in ["besteffort", "guaranteed", "latecomer"] {
        assert!(
            evicted_objects.contains(&name),
            "{name}: {evicted_objects:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allocatable_is_capacity_minus_reservations_and_pods_beyond_it_are_rejected() -> Result<()>
{
    let cluster = TestCluster::start().await?;
    let containerd = Containerd::start()?;
    let node = "kubelet-node-alloc";
    let cpus = std::thread::available_parallelism()?.get() as i64;
    // Leave exactly 500m of the machine's cpu allocatable.
    let reserved = cpus * 1000 - 500;
    let kubelet = start_kubelet_with(
        &cluster,
        &containerd,
        node,
        "10.244.112.0/24",
        &[format!("--kube-reserved=cpu={reserved}m,memory=100Mi")],
    )?;
    let n = kubelet
        .daemon
        .eventually("the node registers its allocatable", || async {
            let (code, n) = cluster.get_json(&format!("/api/v1/nodes/{node}")).await?;
            Ok((code.is_success() && n["status"]["allocatable"]["cpu"].is_string()).then_some(n))
        })
        .await?;
    assert_eq!(n["status"]["allocatable"]["cpu"], "500m", "{n}");
    let mem = |v: &Value| -> Result<i64> {
        let s = v.as_str().context("memory")?;
        Ok(s.trim_end_matches("Ki").parse::<i64>()? * 1024)
    };
    let capacity = mem(&n["status"]["capacity"]["memory"])?;
    let allocatable = mem(&n["status"]["allocatable"]["memory"])?;
    // 100Mi reserved plus upstream's 100Mi hard eviction threshold.
    assert_eq!(capacity - allocatable, 200 << 20);

    let cpu = |m: &str| json!({"requests": {"cpu": m}});
    create_bound_pod(&cluster, node, "fits", json!({}), sleeper(cpu("300m"))).await?;
    wait_pod(&cluster, &kubelet, "fits", "Running", |p| {
        phase(p) == "Running"
    })
    .await?;
    create_bound_pod(&cluster, node, "too-big", json!({}), sleeper(cpu("300m"))).await?;
    let rejected = wait_pod(&cluster, &kubelet, "too-big", "rejected", |p| {
        phase(p) == "Failed"
    })
    .await?;
    assert_eq!(rejected["status"]["reason"], "OutOfcpu", "{rejected}");
    assert_eq!(
        rejected["status"]["message"],
        "Pod was rejected: Node didn't have enough resource: cpu, requested: 300, used: 300, capacity: 500"
    );
    // Nothing of the rejected pod ever ran.
    assert!(
        containerd
            .ctr_output(&["containers", "list", "-q"])?
            .lines()
            .count()
            <= 2,
        "only fits' sandbox and container"
    );
    Ok(())
}
