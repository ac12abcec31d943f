//! The framework of one profile: which plugins run, with which weights, and how their
//! answers combine into a node choice.

use k8s_openapi::api::core::v1::Pod;
use rand::Rng;

use super::fit_error::Diagnosis;
use super::plugins::{
    balanced_allocation::BalancedAllocation, inter_pod_affinity::InterPodAffinity,
    node_affinity::NodeAffinity, node_name::NodeName, node_ports::NodePorts,
    node_resources_fit::NodeResourcesFit, node_unschedulable::NodeUnschedulable,
    pod_topology_spread::PodTopologySpread, taint_toleration::TaintToleration,
};
use super::{CycleState, FilterPlugin, NodeInfo, ScorePlugin};

/// A profile's plugins.
pub struct Framework {
    /// The profile's `schedulerName`.
    pub profile_name: String,
    filters: Vec<Box<dyn FilterPlugin>>,
    scores: Vec<(Box<dyn ScorePlugin>, i64)>,
}

impl Framework {
    /// Upstream's default plugin set and score weights (TaintToleration 3, NodeAffinity 2,
    /// PodTopologySpread 2, InterPodAffinity 2, NodeResourcesFit 1,
    /// NodeResourcesBalancedAllocation 1), minus what Rudder lacks yet.
    pub fn default_profile(profile_name: &str) -> Framework {
        Framework {
            profile_name: profile_name.to_string(),
            filters: vec![
                Box::new(NodeUnschedulable),
                Box::new(NodeName),
                Box::new(TaintToleration),
                Box::new(NodeAffinity),
                Box::new(NodePorts),
                Box::new(NodeResourcesFit::default()),
                Box::new(PodTopologySpread),
                Box::new(InterPodAffinity),
            ],
            scores: vec![
                (Box::new(TaintToleration), 3),
                (Box::new(NodeAffinity), 2),
                (Box::new(PodTopologySpread), 2),
                (Box::new(InterPodAffinity), 2),
                (Box::new(NodeResourcesFit::default()), 1),
                (Box::new(BalancedAllocation), 1),
            ],
        }
    }

    /// Run the filters on every node (stopping at a node's first rejection); returns the
    /// indexes of the feasible nodes and why the others were rejected.
    pub fn find_feasible(&self, pod: &Pod, nodes: &[NodeInfo]) -> (Vec<usize>, Diagnosis) {
        let mut feasible = Vec::new();
        let mut diagnosis = Diagnosis::default();
        let mut state = CycleState::default();
        for f in &self.filters {
            f.pre_filter(&mut state, pod, nodes);
        }
        for (i, node) in nodes.iter().enumerate() {
            match self.filters.iter().try_for_each(|f| {
                f.filter(&state, pod, node).inspect_err(|s| {
                    tracing::trace!(plugin = f.name(), node = node.name(), reasons = ?s.reasons, "filtered out")
                })
            }) {
                Ok(()) => feasible.push(i),
                Err(status) => {
                    diagnosis
                        .node_to_status
                        .insert(node.name().to_string(), status);
                }
            }
        }
        (feasible, diagnosis)
    }

    /// Whether `pod` passes every filter on `nodes[index]`, with PreFilter state computed
    /// from all of `nodes` (preemption's what-if check).
    pub fn filter_one(&self, pod: &Pod, nodes: &[NodeInfo], index: usize) -> bool {
        let Some(node) = nodes.get(index) else {
            return false;
        };
        let mut state = CycleState::default();
        for f in &self.filters {
            f.pre_filter(&mut state, pod, nodes);
        }
        self.filters
            .iter()
            .all(|f| f.filter(&state, pod, node).is_ok())
    }

    /// Weighted sum of the normalized scores of the `feasible` nodes (same order).
    pub fn score(&self, pod: &Pod, nodes: &[NodeInfo], feasible: &[usize]) -> Vec<i64> {
        let mut totals = vec![0i64; feasible.len()];
        let mut state = CycleState::default();
        for (plugin, _) in &self.scores {
            plugin.pre_score(&mut state, pod, nodes, feasible);
        }
        for (plugin, weight) in &self.scores {
            let mut scores: Vec<i64> = feasible
                .iter()
                .map(|&i| plugin.score(&state, pod, &nodes[i]))
                .collect();
            plugin.normalize(&state, pod, &mut scores);
            tracing::trace!(plugin = plugin.name(), ?scores, "normalized scores");
            for (t, s) in totals.iter_mut().zip(scores) {
                *t += s * weight;
            }
        }
        totals
    }

    /// Pick the best of the feasible nodes: the highest total, ties broken at random (as
    /// upstream does, so equal nodes share the load). `None` when nothing is feasible.
    pub fn select_host(&self, pod: &Pod, nodes: &[NodeInfo], feasible: &[usize]) -> Option<usize> {
        if feasible.len() <= 1 {
            return feasible.first().copied();
        }
        let totals = self.score(pod, nodes, feasible);
        tracing::trace!(profile = %self.profile_name, ?totals, "node totals");
        let best = totals.iter().copied().max()?;
        let ties: Vec<usize> = feasible
            .iter()
            .zip(&totals)
            .filter(|(_, t)| **t == best)
            .map(|(i, _)| *i)
            .collect();
        let pick = rand::rng().random_range(0..ties.len());
        ties.get(pick).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::testing::{node, pod};
    use serde_json::json;

    #[test]
    fn taint_and_resources_combine() {
        let nodes = vec![
            node(
                "tainted",
                json!({"spec": {"taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]}}),
            ),
            node("small", json!({"status": {"allocatable": {"cpu": "100m"}}})),
            node("roomy", json!({"status": {"allocatable": {"cpu": "8"}}})),
            node("fits", json!({})),
        ];
        let p =
            pod(json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}));
        let fw = Framework::default_profile("default-scheduler");
        let (feasible, diagnosis) = fw.find_feasible(&p, &nodes);
        assert_eq!(feasible, vec![2, 3]);
        assert_eq!(diagnosis.node_to_status.len(), 2);
        // More free cpu wins under LeastAllocated.
        assert_eq!(fw.select_host(&p, &nodes, &feasible), Some(2));
    }

    #[test]
    fn prefer_no_schedule_outweighs_small_resource_differences() {
        let mut busy = node("busy", json!({}));
        busy.add_pod(&pod(
            json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "200m"}}}]}),
        ));
        let nodes = vec![
            node(
                "soft-tainted",
                json!({"spec": {"taints": [{"key": "k", "effect": "PreferNoSchedule"}]}}),
            ),
            busy,
        ];
        let fw = Framework::default_profile("default-scheduler");
        let p = pod(json!({}));
        let (feasible, _) = fw.find_feasible(&p, &nodes);
        assert_eq!(fw.select_host(&p, &nodes, &feasible), Some(1));
    }
}
