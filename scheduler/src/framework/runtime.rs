//! The framework of one profile: which plugins run, with which weights, and how their
//! answers combine into a node choice.

use k8s_openapi::api::core::v1::Pod;
use rand::Rng;

use super::fit_error::Diagnosis;
use super::plugins::{
    balanced_allocation::BalancedAllocation, image_locality::ImageLocality,
    inter_pod_affinity::InterPodAffinity, node_affinity::NodeAffinity, node_name::NodeName,
    node_ports::NodePorts, node_resources_fit::NodeResourcesFit,
    node_unschedulable::NodeUnschedulable, pod_topology_spread::PodTopologySpread,
    taint_toleration::TaintToleration,
};
use super::{CycleState, FilterPlugin, NodeInfo, ScorePlugin};

/// What one filtering pass found.
#[derive(Debug, Default)]
pub struct FeasibleNodes {
    /// Indexes of the nodes that passed every filter, in the order they were tried.
    pub feasible: Vec<usize>,
    /// Why the rejected nodes were rejected.
    pub diagnosis: Diagnosis,
    /// How many nodes were tried (where the next cycle starts).
    pub processed: usize,
}

/// A profile's plugins.
pub struct Framework {
    /// The profile's `schedulerName`.
    pub profile_name: String,
    /// The profile's `percentageOfNodesToScore` (None: the global one, adaptive by default).
    pub percentage_of_nodes_to_score: Option<i32>,
    filters: Vec<Box<dyn FilterPlugin>>,
    scores: Vec<(Box<dyn ScorePlugin>, i64)>,
}

impl Framework {
    /// Upstream's default plugin set and score weights (TaintToleration 3, NodeAffinity 2,
    /// PodTopologySpread 2, InterPodAffinity 2, NodeResourcesFit 1,
    /// NodeResourcesBalancedAllocation 1, ImageLocality 1), minus what Rudder lacks yet.
    pub fn default_profile(profile_name: &str) -> Framework {
        Framework {
            profile_name: profile_name.to_string(),
            percentage_of_nodes_to_score: None,
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
                (Box::new(ImageLocality), 1),
            ],
        }
    }

    /// Run the filters on every node (stopping at a node's first rejection); returns the
    /// indexes of the feasible nodes and why the others were rejected.
    #[cfg(test)]
    pub fn find_feasible(&self, pod: &Pod, nodes: &[NodeInfo]) -> (Vec<usize>, Diagnosis) {
        let found = self.find_feasible_from(pod, nodes, 0, nodes.len());
        (found.feasible, found.diagnosis)
    }

    /// Run the filters on the nodes from `start` on (wrapping around) until `wanted`
    /// feasible nodes are found or every node was tried (upstream's
    /// `findNodesThatPassFilters` under `percentageOfNodesToScore`).
    pub fn find_feasible_from(
        &self,
        pod: &Pod,
        nodes: &[NodeInfo],
        start: usize,
        wanted: usize,
    ) -> FeasibleNodes {
        let mut found = FeasibleNodes::default();
        let mut state = CycleState::default();
        for f in &self.filters {
            f.pre_filter(&mut state, pod, nodes);
        }
        let n = nodes.len();
        for k in 0..n {
            if found.feasible.len() >= wanted {
                break;
            }
            let i = (start + k) % n;
            let node = &nodes[i];
            found.processed += 1;
            match self.filters.iter().try_for_each(|f| {
                f.filter(&state, pod, node).inspect_err(|s| {
                    tracing::trace!(plugin = f.name(), node = node.name(), reasons = ?s.reasons, "filtered out")
                })
            }) {
                Ok(()) => found.feasible.push(i),
                Err(status) => {
                    found
                        .diagnosis
                        .node_to_status
                        .insert(node.name().to_string(), status);
                }
            }
        }
        found
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
    fn filtering_stops_at_the_wanted_count_and_rotates() {
        let nodes: Vec<NodeInfo> = (0..6)
            .map(|i| {
                let spec = if i == 2 {
                    json!({"spec": {"unschedulable": true}})
                } else {
                    json!({})
                };
                node(&format!("n{i}"), spec)
            })
            .collect();
        let fw = Framework::default_profile("default-scheduler");
        let p = pod(json!({}));
        // From 1: n1 fits, n2 is cordoned, n3 fits: two found after three tried.
        let found = fw.find_feasible_from(&p, &nodes, 1, 2);
        assert_eq!(found.feasible, vec![1, 3]);
        assert_eq!(found.processed, 3);
        assert_eq!(found.diagnosis.node_to_status.len(), 1);
        // Wrapping around the end.
        let found = fw.find_feasible_from(&p, &nodes, 5, 3);
        assert_eq!(found.feasible, vec![5, 0, 1]);
        // Asking for more than exist tries every node once.
        let found = fw.find_feasible_from(&p, &nodes, 4, 100);
        assert_eq!((found.feasible.len(), found.processed), (5, 6));
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
