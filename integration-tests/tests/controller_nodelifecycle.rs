//! The nodelifecycle and taint-eviction controllers against a real apiserver and etcd.
//! Nodes are API objects whose heartbeats (Ready condition + Lease) the test posts itself;
//! one node falls silent and must become Unknown, tainted, and emptied per tolerations.

use std::time::{Duration, Instant};

use anyhow::Result;
use integration_tests::controller_manager::{
    create_node, get_ok, heartbeat_node, merge_patch_ok, post_ok, rfc3339_now, set_pod_ready,
    start_controller_manager,
};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases";

fn micro_now() -> String {
    rfc3339_now().replace('Z', ".000000Z")
}

async fn create_lease(cluster: &TestCluster, node: &str) -> Result<()> {
    post_ok(
        cluster,
        LEASES,
        &json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": node},
            "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": micro_now()}}),
    )
    .await?;
    Ok(())
}

/// A kubelet's heartbeat: renew the Lease and post Ready=True.
async fn beat(cluster: &TestCluster, node: &str) -> Result<()> {
    merge_patch_ok(
        cluster,
        &format!("{LEASES}/{node}"),
        &json!({"spec": {"renewTime": micro_now()}}),
    )
    .await?;
    heartbeat_node(cluster, node).await
}

async fn bound_pod(
    cluster: &TestCluster,
    name: &str,
    node: &str,
    tolerations: Value,
) -> Result<()> {
    post_ok(
        cluster,
        "/api/v1/namespaces/default/pods",
        &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "tolerations": tolerations,
                "containers": [{"name": "c", "image": "busybox"}]}}),
    )
    .await?;
    set_pod_ready(cluster, "default", name, true).await
}

/// The pod, or None once it is gone or being deleted.
async fn live_pod(cluster: &TestCluster, name: &str) -> Result<Option<Value>> {
    let (code, body) = cluster
        .get_json(&format!("/api/v1/namespaces/default/pods/{name}"))
        .await?;
    if code.as_u16() == 404 || !body["metadata"]["deletionTimestamp"].is_null() {
        return Ok(None);
    }
    Ok(Some(body))
}

fn taint_keys(node: &Value) -> Vec<String> {
    let mut keys: Vec<String> = node["spec"]["taints"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|t| {
            format!(
                "{}:{}",
                t["key"].as_str().unwrap_or_default(),
                t["effect"].as_str().unwrap_or_default()
            )
        })
        .collect();
    keys.sort();
    keys
}

fn condition(obj: &Value, type_: &str) -> Value {
    obj["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_).cloned())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn silent_node_becomes_unknown_tainted_and_pods_are_evicted_per_toleration() -> Result<()> {
    // Without DefaultTolerationSeconds, so a pod can have no toleration at all (that plugin
    // is checked in admission_plugins.rs).
    let cluster =
        TestCluster::start_with_args(&["--disable-admission-plugins=DefaultTolerationSeconds"])
            .await?;
    for node in ["dead", "alive"] {
        create_node(&cluster, node, json!({}), json!([]), true).await?;
        create_lease(&cluster, node).await?;
    }
    let tolerate = |seconds: Option<i64>| {
        let mut t = json!({"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                           "effect": "NoExecute"});
        if let Some(s) = seconds {
            t["tolerationSeconds"] = json!(s);
        }
        json!([t])
    };
    bound_pod(&cluster, "evict-now", "dead", json!([])).await?;
    bound_pod(&cluster, "evict-later", "dead", tolerate(Some(8))).await?;
    bound_pod(&cluster, "stay", "dead", tolerate(None)).await?;
    bound_pod(&cluster, "elsewhere", "alive", json!([])).await?;

    let cm = start_controller_manager(
        &cluster,
        &[
            "--controllers=nodelifecycle,taint-eviction-controller",
            "--node-monitor-period=1s",
            "--node-monitor-grace-period=4s",
            "--node-startup-grace-period=4s",
        ],
    )?;
    let started = Instant::now();
    // "alive" keeps beating; "dead" never beats again.
    let tainted = cm
        .eventually("dead to be Unknown and tainted unreachable", || async {
            beat(&cluster, "alive").await?;
            let node = get_ok(&cluster, "/api/v1/nodes/dead").await?;
            let keys = taint_keys(&node);
            Ok((keys
                == [
                    "node.kubernetes.io/unreachable:NoExecute",
                    "node.kubernetes.io/unreachable:NoSchedule",
                ])
            .then_some(node))
        })
        .await?;
    let tainted_at = Instant::now();
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "tainted before the grace period"
    );
    let ready = condition(&tainted, "Ready");
    assert_eq!(ready["status"], "Unknown");
    assert_eq!(ready["reason"], "NodeStatusUnknown");
    assert_eq!(ready["message"], "Kubelet stopped posting node status.");
    assert_eq!(condition(&tainted, "MemoryPressure")["status"], "Unknown");

    // No toleration: evicted at once (with upstream's DisruptionTarget condition).
    cm.eventually("evict-now evicted", || async {
        beat(&cluster, "alive").await?;
        Ok(live_pod(&cluster, "evict-now")
            .await?
            .is_none()
            .then_some(()))
    })
    .await?;
    let (_, evicted) = cluster
        .get_json("/api/v1/namespaces/default/pods/evict-now")
        .await?;
    if evicted["metadata"]["name"] == "evict-now" {
        assert_eq!(
            condition(&evicted, "DisruptionTarget")["reason"],
            "DeletionByTaintManager"
        );
    }
    // Tolerated for 8 s: still there, but marked not Ready.
    let later = live_pod(&cluster, "evict-later")
        .await?
        .expect("evict-later still there");
    assert!(tainted_at.elapsed() < Duration::from_secs(8));
    assert_eq!(condition(&later, "Ready")["status"], "False");
    cm.eventually("evict-later evicted after tolerationSeconds", || async {
        beat(&cluster, "alive").await?;
        Ok(live_pod(&cluster, "evict-later")
            .await?
            .is_none()
            .then_some(()))
    })
    .await?;
    assert!(
        tainted_at.elapsed() >= Duration::from_secs(6),
        "evicted after {:?}, before its 8 s toleration",
        tainted_at.elapsed()
    );
    assert!(
        live_pod(&cluster, "stay").await?.is_some(),
        "unlimited toleration keeps the pod"
    );
    assert!(
        live_pod(&cluster, "elsewhere").await?.is_some(),
        "pods on healthy nodes stay"
    );
    let alive = get_ok(&cluster, "/api/v1/nodes/alive").await?;
    assert!(
        taint_keys(&alive).is_empty(),
        "healthy node tainted: {alive}"
    );

    // The kubelet comes back: the taints go.
    cm.eventually("dead's taints removed once it beats again", || async {
        beat(&cluster, "alive").await?;
        beat(&cluster, "dead").await?;
        let node = get_ok(&cluster, "/api/v1/nodes/dead").await?;
        Ok(taint_keys(&node).is_empty().then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn no_eviction_when_every_node_is_silent() -> Result<()> {
    let cluster = TestCluster::start().await?;
    create_node(&cluster, "only", json!({}), json!([]), true).await?;
    create_lease(&cluster, "only").await?;
    bound_pod(&cluster, "p", "only", json!([])).await?;
    let cm = start_controller_manager(
        &cluster,
        &[
            "--controllers=nodelifecycle,taint-eviction-controller",
            "--node-monitor-period=1s",
            "--node-monitor-grace-period=3s",
        ],
    )?;
    // The node goes Unknown and gets the NoSchedule taint, but with every node down the
    // controller assumes its own view broke: no NoExecute taint, no eviction.
    cm.eventually("the only node Unknown with a NoSchedule taint", || async {
        let node = get_ok(&cluster, "/api/v1/nodes/only").await?;
        Ok((taint_keys(&node) == ["node.kubernetes.io/unreachable:NoSchedule"]).then_some(()))
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let node = get_ok(&cluster, "/api/v1/nodes/only").await?;
    assert_eq!(
        taint_keys(&node),
        ["node.kubernetes.io/unreachable:NoSchedule"]
    );
    assert!(live_pod(&cluster, "p").await?.is_some());
    Ok(())
}

#[tokio::test]
async fn podgc_deletes_the_oldest_terminated_pods_above_the_threshold() -> Result<()> {
    let cluster = TestCluster::start().await?;
    for i in 0..4 {
        let name = format!("done-{i}");
        post_ok(
            &cluster,
            "/api/v1/namespaces/default/pods",
            &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
        )
        .await?;
        merge_patch_ok(
            &cluster,
            &format!("/api/v1/namespaces/default/pods/{name}/status"),
            &json!({"status": {"phase": "Succeeded"}}),
        )
        .await?;
        // Creation timestamps have one-second resolution: keep the ages distinct.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    post_ok(
        &cluster,
        "/api/v1/namespaces/default/pods",
        &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "running"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
    )
    .await?;
    let cm = start_controller_manager(
        &cluster,
        &[
            "--controllers=podgc",
            "--terminated-pod-gc-threshold=2",
            "--leader-elect=false",
        ],
    )?;
    let left = cm
        .eventually("two terminated pods left", || async {
            let body = get_ok(&cluster, "/api/v1/namespaces/default/pods").await?;
            let mut names: Vec<String> = body["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
                .collect();
            names.sort();
            Ok((names.len() == 3).then_some(names))
        })
        .await?;
    // The two oldest went; the running pod is never a candidate.
    assert_eq!(left, ["done-2", "done-3", "running"]);
    Ok(())
}
