//! Randomised clusters for tests that compare a plugin's fast paths (the cache's label
//! index, nominated pods added to a cloned PreFilter state) with the straightforward walk
//! over every node's pods. Seeded, so a failure names a reproducible case.

use k8s_openapi::api::core::v1::Pod;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use super::testing::{node, pod};
use crate::framework::pod_label_index::PodLabelIndex;
use crate::framework::NodeInfo;

/// Nodes with their pods, and the cache's index of those pods kept in step.
pub struct Cluster {
    /// The nodes (positions as in the index).
    pub nodes: Vec<NodeInfo>,
    /// Per-label-set pod counts of `nodes`.
    pub index: PodLabelIndex,
}

/// A generator seeded with `seed`.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

/// Node labels: hostname always; zone and rack usually (a missing key must be handled).
pub fn node_labels(rng: &mut StdRng, name: &str) -> Value {
    let mut labels = Map::new();
    labels.insert("kubernetes.io/hostname".into(), json!(name));
    if rng.random_bool(0.85) {
        labels.insert("zone".into(), json!(pick(rng, &["z0", "z1", "z2", "z3"])));
    }
    if rng.random_bool(0.7) {
        labels.insert("rack".into(), json!(pick(rng, &["r0", "r1", "r2"])));
    }
    Value::Object(labels)
}

/// An existing pod: a namespace and labels from small sets (so label sets repeat), now and
/// then terminating or with required anti-affinity to `app: web`.
pub fn existing_pod(rng: &mut StdRng, i: usize) -> Pod {
    let mut spec = json!({});
    if rng.random_bool(0.15) {
        spec["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": pick(rng, &["zone", "kubernetes.io/hostname"]),
             "labelSelector": {"matchLabels": {"app": "web"}}}]}});
    }
    let mut p = pod(spec);
    p.metadata.name = Some(format!("existing-{i}"));
    p.metadata.namespace = Some(pick(rng, &["default", "default", "other"]).into());
    let mut labels = std::collections::BTreeMap::new();
    labels.insert(
        "app".to_string(),
        pick(rng, &["web", "web", "db"]).to_string(),
    );
    if rng.random_bool(0.5) {
        labels.insert("ver".to_string(), pick(rng, &["1", "2"]).to_string());
    }
    p.metadata.labels = Some(labels);
    if rng.random_bool(0.1) {
        p.metadata.deletion_timestamp =
            Some(serde_json::from_value(json!("2026-01-01T00:00:00Z")).expect("time"));
    }
    p
}

/// Up to 12 nodes (some tainted `dedicated:NoSchedule`) holding up to 4 pods each.
pub fn cluster(rng: &mut StdRng) -> Cluster {
    let mut nodes = Vec::new();
    let mut index = PodLabelIndex::default();
    let mut pods = 0;
    for n in 0..rng.random_range(1..=12) {
        let name = format!("n{n}");
        let mut extra = json!({"metadata": {"labels": node_labels(rng, &name)}});
        if rng.random_bool(0.2) {
            extra["spec"] = json!({"taints": [{"key": "dedicated", "effect": "NoSchedule"}]});
        }
        let mut info = node(&name, extra);
        index.push_node();
        for _ in 0..rng.random_range(0..=4) {
            let p = existing_pod(rng, pods);
            pods += 1;
            index.count(&p, n, 1);
            info.add_pod(&p);
        }
        nodes.push(info);
    }
    Cluster { nodes, index }
}

/// Give node `n` new random labels (the cache then bumps the index generation).
pub fn relabel(rng: &mut StdRng, cluster: &mut Cluster, n: usize) {
    let mut node = (*cluster.nodes[n].node).clone();
    let labels = node_labels(rng, cluster.nodes[n].name());
    node.metadata.labels = serde_json::from_value(labels).ok();
    cluster.nodes[n].set_node(std::sync::Arc::new(node));
    cluster.index.node_changed();
}

/// The incoming pod's labels, node selector and tolerations, at random.
pub fn incoming_pod(rng: &mut StdRng, mut spec: Value) -> Pod {
    if rng.random_bool(0.3) {
        spec["nodeSelector"] = json!({"zone": pick(rng, &["z0", "z1"])});
    }
    if rng.random_bool(0.3) {
        spec["tolerations"] = json!([{"key": "dedicated", "operator": "Exists"}]);
    }
    let mut p = pod(spec);
    p.metadata.name = Some("incoming".into());
    let mut labels = std::collections::BTreeMap::new();
    labels.insert("app".to_string(), pick(rng, &["web", "db"]).to_string());
    labels.insert("ver".to_string(), pick(rng, &["1", "2"]).to_string());
    p.metadata.labels = Some(labels);
    p
}

/// A random choice among `from` (for the plugins' own tests).
pub fn choose<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    pick(rng, from)
}
