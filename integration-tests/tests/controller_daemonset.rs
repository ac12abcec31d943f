//! The daemonset controller against a real apiserver and etcd. Nodes are API objects
//! only (no kubelet, no scheduler): daemon pods stay unbound, pinned to their node by
//! required node affinity, and the test marks them Ready where it needs to.

use std::collections::BTreeMap;

use anyhow::Result;
use integration_tests::controller_manager::{
    create_node, get_ok, merge_patch_ok, post_ok, set_pod_ready, start_controller_manager,
};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const SETS: &str = "/apis/apps/v1/namespaces/default/daemonsets";

fn daemonset(name: &str, image: &str, strategy: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}},
            "updateStrategy": strategy,
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]}}}})
}

/// The node each live daemon pod is pinned to, by its required node affinity.
fn pinned_node(pod: &Value) -> Option<String> {
    let terms = pod["spec"]["affinity"]["nodeAffinity"]
        ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        .as_array()?;
    let field = &terms.first()?["matchFields"][0];
    (field["key"] == "metadata.name" && field["operator"] == "In")
        .then(|| field["values"][0].as_str().map(str::to_string))
        .flatten()
}

/// Live daemon pods of `name`, grouped by node.
async fn pods_by_node(cluster: &TestCluster, name: &str) -> Result<BTreeMap<String, Vec<Value>>> {
    let body = get_ok(
        cluster,
        &format!("/api/v1/namespaces/default/pods?labelSelector=app%3D{name}"),
    )
    .await?;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for pod in body["items"].as_array().cloned().unwrap_or_default() {
        if !pod["metadata"]["deletionTimestamp"].is_null() {
            continue;
        }
        let node = pinned_node(&pod).unwrap_or_else(|| "<unpinned>".into());
        out.entry(node).or_default().push(pod);
    }
    Ok(out)
}

fn node_names(m: &BTreeMap<String, Vec<Value>>) -> Vec<String> {
    m.keys().cloned().collect()
}

#[tokio::test]
async fn one_pod_per_eligible_node_following_nodes_and_taints() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=daemonset"])?;
    create_node(&cluster, "n1", json!({}), json!([]), true).await?;
    // Cordoned: the daemon's default unschedulable toleration lets it in.
    create_node(
        &cluster,
        "n2",
        json!({}),
        json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
        true,
    )
    .await?;
    // A foreign NoSchedule taint without a toleration: no daemon pod.
    create_node(
        &cluster,
        "n3",
        json!({}),
        json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
        true,
    )
    .await?;
    post_ok(
        &cluster,
        SETS,
        &daemonset("agent", "busybox:1", json!({"type": "RollingUpdate"})),
    )
    .await?;

    let placed = cm
        .eventually("daemon pods on n1 and n2", || async {
            let m = pods_by_node(&cluster, "agent").await?;
            Ok((node_names(&m) == ["n1", "n2"]).then_some(m))
        })
        .await?;
    for pods in placed.values() {
        assert_eq!(pods.len(), 1, "exactly one pod per node");
        let pod = &pods[0];
        assert!(pod["spec"]["nodeName"].is_null(), "left to the scheduler");
        let tolerations = pod["spec"]["tolerations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
            "node.kubernetes.io/unschedulable",
            "node.kubernetes.io/disk-pressure",
        ] {
            assert!(
                tolerations.iter().any(|t| t["key"] == key),
                "missing toleration {key}"
            );
        }
        assert!(pod["metadata"]["labels"]["controller-revision-hash"].is_string());
        assert_eq!(pod["metadata"]["labels"]["pod-template-generation"], "1");
    }

    // A node joins: it gets a pod. A node leaves: its pod goes.
    create_node(&cluster, "n4", json!({}), json!([]), true).await?;
    cm.eventually("a pod on the new node n4", || async {
        let m = pods_by_node(&cluster, "agent").await?;
        Ok((node_names(&m) == ["n1", "n2", "n4"]).then_some(()))
    })
    .await?;
    let (code, body) = cluster.delete("/api/v1/nodes/n1").await?;
    anyhow::ensure!(code.is_success(), "delete node: {code} {body}");
    cm.eventually("n1's pod removed with the node", || async {
        let m = pods_by_node(&cluster, "agent").await?;
        Ok((node_names(&m) == ["n2", "n4"]).then_some(()))
    })
    .await?;
    // Tolerating the foreign taint admits n3.
    merge_patch_ok(
        &cluster,
        &format!("{SETS}/agent"),
        &json!({"spec": {"template": {"spec": {"tolerations": [
            {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]}}}}),
    )
    .await?;
    cm.eventually("a pod on n3 once tolerated", || async {
        let m = pods_by_node(&cluster, "agent").await?;
        Ok((m.contains_key("n3") && m.values().all(|p| p.len() <= 2)).then_some(()))
    })
    .await?;
    let status = cm
        .eventually("status counts", || async {
            let ds = get_ok(&cluster, &format!("{SETS}/agent")).await?;
            let s = ds["status"].clone();
            Ok((s["desiredNumberScheduled"] == 3 && s["observedGeneration"] == 2).then_some(s))
        })
        .await?;
    assert_eq!(status["numberMisscheduled"], 0);
    Ok(())
}

#[tokio::test]
async fn rolling_update_keeps_at_most_max_unavailable_nodes_down() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=daemonset"])?;
    for n in ["a", "b", "c"] {
        create_node(&cluster, n, json!({}), json!([]), true).await?;
    }
    post_ok(
        &cluster,
        SETS,
        &daemonset(
            "logs",
            "busybox:1",
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}),
        ),
    )
    .await?;
    // Play kubelet: every daemon pod becomes Ready.
    let ready_all = || async {
        let m = pods_by_node(&cluster, "logs").await?;
        for pods in m.values() {
            for p in pods {
                if p["status"]["phase"] != "Running" {
                    let name = p["metadata"]["name"].as_str().unwrap_or_default();
                    set_pod_ready(&cluster, "default", name, true).await?;
                }
            }
        }
        anyhow::Ok(m)
    };
    cm.eventually("three ready daemon pods", || async {
        let m = ready_all().await?;
        let ds = get_ok(&cluster, &format!("{SETS}/logs")).await?;
        Ok((m.len() == 3 && ds["status"]["numberAvailable"] == 3).then_some(()))
    })
    .await?;
    let old_hash = pods_by_node(&cluster, "logs").await?["a"][0]["metadata"]["labels"]
        ["controller-revision-hash"]
        .clone();
    merge_patch_ok(
        &cluster,
        &format!("{SETS}/logs"),
        &json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}}}}),
    )
    .await?;
    let max_down = std::cell::Cell::new(0);
    cm.eventually("every node on the new template", || async {
        // Count nodes without a Ready daemon pod *before* playing kubelet this round.
        let m = pods_by_node(&cluster, "logs").await?;
        let down = ["a", "b", "c"]
            .iter()
            .filter(|n| {
                !m.get(**n)
                    .is_some_and(|pods| pods.iter().any(|p| p["status"]["phase"] == "Running"))
            })
            .count();
        max_down.set(max_down.get().max(down));
        let m = ready_all().await?;
        let updated = m.values().flatten().all(|p| {
            p["metadata"]["labels"]["controller-revision-hash"] != old_hash
                && p["spec"]["containers"][0]["image"] == "busybox:2"
        });
        Ok((m.len() == 3 && m.values().all(|p| p.len() == 1) && updated).then_some(()))
    })
    .await?;
    let max_down = max_down.get();
    assert!(
        max_down <= 1,
        "{max_down} nodes were without a ready pod at once"
    );
    let revs = get_ok(
        &cluster,
        "/apis/apps/v1/namespaces/default/controllerrevisions",
    )
    .await?;
    assert_eq!(revs["items"].as_array().map(Vec::len), Some(2));
    Ok(())
}
