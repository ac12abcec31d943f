//! `PodLabelIndex`: how many pods of each (namespace, label set, terminating or not) run on
//! each node, kept by the cache as pods come and go.
//!
//! Why: PodTopologySpread must count, every cycle, the pods a selector matches in every
//! topology domain. Walking every node's pods costs O(nodes + pods) of pointer chasing per
//! cycle (the spread bench spent most of its time there). Pods of one workload share their
//! labels, so there are few label sets; a selector is evaluated once per label set and the
//! counts are summed from flat per-node arrays. InterPodAffinity's terms also select pods by
//! namespace and labels alone, so its PreFilter sums the same arrays; it counts terminating
//! pods (upstream does), PodTopologySpread does not, hence the flag.
//!
//! Node positions are those of the cache's node list (`CacheState::nodes`); the cache keeps
//! both in step (a node appended here when appended there, swap-removed likewise).

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::Pod;

/// Pods with one namespace and label set.
#[derive(Debug, Clone)]
pub struct LabelGroup {
    /// Their namespace.
    pub namespace: String,
    /// Their labels.
    pub labels: BTreeMap<String, String>,
    /// Whether they carry a deletion timestamp.
    pub terminating: bool,
    /// Pods per node, by node position.
    pub per_node: Vec<i64>,
    /// Sum of `per_node` (an empty group is dropped).
    total: i64,
}

type GroupKey = (String, BTreeMap<String, String>, bool);

/// The index; see the module doc.
#[derive(Debug, Clone, Default)]
pub struct PodLabelIndex {
    groups: HashMap<GroupKey, LabelGroup>,
    nodes: usize,
    /// Bumped whenever the node list changes (a node added, removed or updated), so plugins
    /// may cache what they derive from node labels alone.
    generation: u64,
}

impl PodLabelIndex {
    /// The groups, in no particular order.
    pub fn groups(&self) -> impl Iterator<Item = &LabelGroup> {
        self.groups.values()
    }

    /// See the field.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Count `pod` on the node at `position` (`delta` +1 when added, -1 when removed).
    pub fn count(&mut self, pod: &Pod, position: usize, delta: i64) {
        if position >= self.nodes {
            return;
        }
        let key = (
            pod.metadata.namespace.clone().unwrap_or_default(),
            pod.metadata.labels.clone().unwrap_or_default(),
            pod.metadata.deletion_timestamp.is_some(),
        );
        let nodes = self.nodes;
        let group = self
            .groups
            .entry(key)
            .or_insert_with_key(|(ns, labels, terminating)| LabelGroup {
                namespace: ns.clone(),
                labels: labels.clone(),
                terminating: *terminating,
                per_node: vec![0; nodes],
                total: 0,
            });
        group.per_node[position] += delta;
        group.total += delta;
        if group.total <= 0 {
            let key = (
                group.namespace.clone(),
                group.labels.clone(),
                group.terminating,
            );
            self.groups.remove(&key);
        }
    }

    /// A node was appended to the node list (its pods are counted after).
    pub fn push_node(&mut self) {
        self.nodes += 1;
        self.generation += 1;
        for g in self.groups.values_mut() {
            g.per_node.push(0);
        }
    }

    /// The node at `position` was swap-removed from the node list; its pods stop counting.
    pub fn swap_remove_node(&mut self, position: usize) {
        if position >= self.nodes {
            return;
        }
        self.nodes -= 1;
        self.generation += 1;
        self.groups.retain(|_, g| {
            g.total -= g.per_node.swap_remove(position);
            g.total > 0
        });
    }

    /// A node's labels, taints or allocatable changed.
    pub fn node_changed(&mut self) {
        self.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(app: &str) -> Pod {
        serde_json::from_value(
            json!({"metadata": {"name": "p", "namespace": "ns", "labels": {"app": app}}}),
        )
        .expect("pod")
    }

    #[test]
    fn counts_follow_nodes_and_pods() {
        let mut idx = PodLabelIndex::default();
        idx.push_node();
        idx.push_node();
        idx.push_node();
        idx.count(&pod("web"), 0, 1);
        idx.count(&pod("web"), 2, 1);
        idx.count(&pod("web"), 2, 1);
        idx.count(&pod("db"), 1, 1);
        let web = |idx: &PodLabelIndex| {
            idx.groups()
                .find(|g| g.labels.get("app").map(String::as_str) == Some("web"))
                .map(|g| g.per_node.clone())
        };
        assert_eq!(web(&idx), Some(vec![1, 0, 2]));
        // Node 0 goes: node 2 takes its position.
        let before = idx.generation();
        idx.swap_remove_node(0);
        assert!(idx.generation() > before);
        assert_eq!(web(&idx), Some(vec![2, 0]));
        idx.count(&pod("db"), 1, -1);
        assert_eq!(idx.groups().count(), 1);
        idx.count(&pod("web"), 0, -1);
        idx.count(&pod("web"), 0, -1);
        assert_eq!(idx.groups().count(), 0);
        let mut terminating = pod("web");
        terminating.metadata.deletion_timestamp =
            Some(serde_json::from_value(json!("2024-01-01T00:00:00Z")).expect("time"));
        idx.count(&terminating, 0, 1);
        assert!(idx.groups().all(|g| g.terminating));
        idx.count(&terminating, 0, -1);
        assert_eq!(idx.groups().count(), 0);
    }
}
