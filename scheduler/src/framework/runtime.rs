//! The framework of one profile: which plugins run, with which weights, and how their
//! answers combine into a node choice.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use rand::Rng;

use super::fit_error::Diagnosis;
use super::pod_label_index::PodLabelIndex;
use super::preemption::pod_priority;
use super::Status;
use super::{CycleState, FilterPlugin, NodeInfo, ReservePlugin, ScorePlugin};

/// Pending pods nominated to a node (`status.nominatedNodeName`), by node name.
pub type NominatedPods = HashMap<String, Vec<Arc<Pod>>>;

/// The pods nominated to `node` that `pod` must leave room for (upstream's
/// `addNominatedPods`): those of equal or higher priority, other than `pod` itself.
fn nominated_for<'a>(
    nominated: Option<&'a NominatedPods>,
    pod: &Pod,
    node: &NodeInfo,
) -> Vec<&'a Arc<Pod>> {
    let Some(pods) = nominated.and_then(|n| n.get(node.name())) else {
        return Vec::new();
    };
    let priority = pod_priority(pod);
    pods.iter()
        .filter(|p| {
            pod_priority(p) >= priority
                && (p.metadata.name != pod.metadata.name
                    || p.metadata.namespace != pod.metadata.namespace)
        })
        .collect()
}

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
    reserves: Vec<Box<dyn ReservePlugin>>,
    /// Whether the DefaultPreemption PostFilter is enabled.
    pub preemption: bool,
}

impl Framework {
    /// A framework running `filters` in order and summing `scores` with their weights;
    /// built by [`crate::profile`] from a profile's plugins.
    pub fn new(
        profile_name: &str,
        percentage_of_nodes_to_score: Option<i32>,
        filters: Vec<Box<dyn FilterPlugin>>,
        scores: Vec<(Box<dyn ScorePlugin>, i64)>,
        reserves: Vec<Box<dyn ReservePlugin>>,
        preemption: bool,
    ) -> Framework {
        Framework {
            profile_name: profile_name.to_string(),
            percentage_of_nodes_to_score,
            filters,
            scores,
            reserves,
            preemption,
        }
    }

    /// Upstream's default plugin set and score weights (see [`crate::profile`]).
    #[cfg(test)]
    pub fn default_profile(profile_name: &str) -> Framework {
        crate::profile::build(
            &crate::config::ProfileConfig::named(profile_name),
            "profiles[0]",
            &super::handle::Handle::empty(),
        )
        .expect("the default profile is valid")
    }

    /// The names of the filters, in order (logged at start).
    pub fn filter_names(&self) -> Vec<&'static str> {
        self.filters.iter().map(|f| f.name()).collect()
    }

    /// `name=weight` of the scores (logged at start).
    pub fn score_names(&self) -> Vec<String> {
        self.scores
            .iter()
            .map(|(s, w)| format!("{}={w}", s.name()))
            .collect()
    }

    /// Run the filters on every node (stopping at a node's first rejection); returns the
    /// indexes of the feasible nodes and why the others were rejected.
    #[cfg(test)]
    pub fn find_feasible(&self, pod: &Pod, nodes: &[NodeInfo]) -> (Vec<usize>, Diagnosis) {
        let found = self.find_feasible_from(pod, nodes, None, None, 0, nodes.len());
        (found.feasible, found.diagnosis)
    }

    /// Run the filters on the nodes from `start` on (wrapping around) until `wanted`
    /// feasible nodes are found or every node was tried (upstream's
    /// `findNodesThatPassFilters` under `percentageOfNodesToScore`). `index`, when given,
    /// holds the cache's pod counts for exactly these `nodes`; `nominated` pods of equal
    /// or higher priority count on their nominated node.
    pub fn find_feasible_from(
        &self,
        pod: &Pod,
        nodes: &[NodeInfo],
        index: Option<&PodLabelIndex>,
        nominated: Option<&NominatedPods>,
        start: usize,
        wanted: usize,
    ) -> FeasibleNodes {
        let mut found = FeasibleNodes::default();
        let mut state = CycleState::default();
        for f in &self.filters {
            let pre = match index {
                Some(index) => f.pre_filter_indexed(&mut state, pod, nodes, index),
                None => f.pre_filter(&mut state, pod, nodes),
            };
            if let Err(status) = pre {
                // Upstream: the PreFilter status stands for every node, and the message
                // names it once instead of counting it per node.
                tracing::trace!(plugin = f.name(), reasons = ?status.reasons, "prefilter rejected the pod");
                found.diagnosis.pre_filter_msg = Some(status.reasons.join(", "));
                for node in nodes {
                    found
                        .diagnosis
                        .node_to_status
                        .insert(node.name().to_string(), status.clone());
                }
                found.processed = nodes.len();
                return found;
            }
        }
        let n = nodes.len();
        for k in 0..n {
            if found.feasible.len() >= wanted {
                break;
            }
            let i = (start + k) % n;
            let node = &nodes[i];
            found.processed += 1;
            match self.filter_with_nominated(&state, pod, node, nominated) {
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

    /// Every filter on one node, stopping at the first rejection.
    fn run_filters(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Status> {
        self.filters.iter().try_for_each(|f| {
            f.filter(state, pod, node).inspect_err(|s| {
                tracing::trace!(plugin = f.name(), node = node.name(), reasons = ?s.reasons, "filtered out")
            })
        })
    }

    /// Upstream's `RunFilterPluginsWithNominatedPods`: with the node's nominated pods of
    /// equal or higher priority added (so they keep the room preemption made for them),
    /// and, when there were any, once more without them (a filter such as pod affinity may
    /// pass only thanks to them, and they may not come).
    fn filter_with_nominated(
        &self,
        state: &CycleState,
        pod: &Pod,
        node: &NodeInfo,
        nominated: Option<&NominatedPods>,
    ) -> Result<(), Status> {
        let extra = nominated_for(nominated, pod, node);
        if extra.is_empty() {
            return self.run_filters(state, pod, node);
        }
        let mut with = node.clone();
        let mut with_state = state.clone();
        for p in extra {
            with.add_shared_pod(p.clone());
            for f in &self.filters {
                f.pre_filter_add_pod(&mut with_state, pod, p, &with);
            }
        }
        self.run_filters(&with_state, pod, &with)?;
        self.run_filters(state, pod, node)
    }

    /// Whether `pod` passes every filter on `nodes[index]`, with PreFilter state computed
    /// from all of `nodes` (preemption's what-if check).
    pub fn filter_one(
        &self,
        pod: &Pod,
        nodes: &[NodeInfo],
        index: usize,
        nominated: Option<&NominatedPods>,
    ) -> bool {
        let Some(node) = nodes.get(index) else {
            return false;
        };
        let mut state = CycleState::default();
        for f in &self.filters {
            if f.pre_filter(&mut state, pod, nodes).is_err() {
                return false;
            }
        }
        self.filter_with_nominated(&state, pod, node, nominated)
            .is_ok()
    }

    /// Weighted sum of the normalized scores of the `feasible` nodes (same order);
    /// `index`, when given, holds the cache's pod counts for exactly these `nodes`.
    pub fn score(
        &self,
        pod: &Pod,
        nodes: &[NodeInfo],
        feasible: &[usize],
        index: Option<&PodLabelIndex>,
    ) -> Vec<i64> {
        let mut totals = vec![0i64; feasible.len()];
        let mut state = CycleState::default();
        for (plugin, _) in &self.scores {
            match index {
                Some(index) => plugin.pre_score_indexed(&mut state, pod, nodes, feasible, index),
                None => plugin.pre_score(&mut state, pod, nodes, feasible),
            }
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

    /// Upstream's `RunReservePluginsReserve`: every Reserve plugin in order; on a failure
    /// the ones that ran are undone and the reason returned.
    pub fn reserve(&self, pod: &Pod, node: &NodeInfo) -> Result<(), String> {
        for (i, r) in self.reserves.iter().enumerate() {
            if let Err(status) = r.reserve(pod, node) {
                self.reserves[..i].iter().for_each(|r| r.unreserve(pod));
                return Err(format!(
                    "running Reserve plugin {:?}: {}",
                    r.name(),
                    status.reasons.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// Undo every Reserve plugin for `pod`.
    pub fn unreserve(&self, pod: &Pod) {
        self.reserves.iter().for_each(|r| r.unreserve(pod));
    }

    /// Upstream's `RunPreBindPlugins`, in order, stopping at the first failure (named as
    /// upstream names it in the FailedScheduling event).
    pub async fn pre_bind(
        &self,
        client: &kube::Client,
        pod: &Pod,
        node: &str,
    ) -> Result<(), String> {
        for r in &self.reserves {
            r.pre_bind(client, pod, node)
                .await
                .map_err(|e| format!("running PreBind plugin {:?}: {e}", r.name()))?;
        }
        Ok(())
    }

    /// Pick the best of the feasible nodes: the highest total, ties broken at random (as
    /// upstream does, so equal nodes share the load). `None` when nothing is feasible.
    pub fn select_host(
        &self,
        pod: &Pod,
        nodes: &[NodeInfo],
        feasible: &[usize],
        index: Option<&PodLabelIndex>,
    ) -> Option<usize> {
        if feasible.len() <= 1 {
            return feasible.first().copied();
        }
        let totals = self.score(pod, nodes, feasible, index);
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
        assert_eq!(fw.select_host(&p, &nodes, &feasible, None), Some(2));
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
        let found = fw.find_feasible_from(&p, &nodes, None, None, 1, 2);
        assert_eq!(found.feasible, vec![1, 3]);
        assert_eq!(found.processed, 3);
        assert_eq!(found.diagnosis.node_to_status.len(), 1);
        // Wrapping around the end.
        let found = fw.find_feasible_from(&p, &nodes, None, None, 5, 3);
        assert_eq!(found.feasible, vec![5, 0, 1]);
        // Asking for more than exist tries every node once.
        let found = fw.find_feasible_from(&p, &nodes, None, None, 4, 100);
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
        assert_eq!(fw.select_host(&p, &nodes, &feasible, None), Some(1));
    }

    #[test]
    fn nominated_pods_of_no_lower_priority_keep_their_room() {
        let nodes = vec![node("a", json!({}))];
        let asking = |name: &str, cpu: &str, priority: i32| {
            let mut p = pod(json!({"priority": priority,
                "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}));
            p.metadata.name = Some(name.into());
            p
        };
        let mut nominated = NominatedPods::new();
        nominated.insert(
            "a".into(),
            vec![Arc::new(asking("preemptor", "1500m", 100))],
        );
        let fw = Framework::default_profile("default-scheduler");
        let feasible = |p: &Pod| {
            fw.find_feasible_from(p, &nodes, None, Some(&nominated), 0, 1)
                .feasible
        };
        // A lower-priority pod may not take the preemptor's room.
        assert!(feasible(&asking("sneaky", "1", 0)).is_empty());
        // A higher-priority one may; so may the preemptor itself.
        assert_eq!(feasible(&asking("vip", "1", 1000)), vec![0]);
        assert_eq!(feasible(&asking("preemptor", "1500m", 100)), vec![0]);
        // Small enough to fit beside it: fine.
        assert_eq!(feasible(&asking("small", "400m", 0)), vec![0]);
    }

    /// PodTopologySpread and InterPodAffinity count nominated pods of equal or higher
    /// priority as running on their node (upstream's AddPod on a cloned PreFilter state).
    #[test]
    fn spread_and_anti_affinity_see_nominated_pods() {
        let zoned = |name: &str, zone: &str| {
            node(
                name,
                json!({"metadata": {"labels": {"zone": zone, "kubernetes.io/hostname": name}}}),
            )
        };
        let nodes = vec![zoned("a", "z1"), zoned("b", "z2")];
        let web = |name: &str, priority: i32, spec: serde_json::Value| {
            let mut spec = spec;
            spec["priority"] = json!(priority);
            let mut p = pod(spec);
            p.metadata.name = Some(name.into());
            p.metadata.labels = Some([("app".to_string(), "web".to_string())].into());
            p
        };
        let mut nominated = NominatedPods::new();
        nominated.insert("a".into(), vec![Arc::new(web("preemptor", 100, json!({})))]);
        let fw = Framework::default_profile("default-scheduler");
        let feasible = |p: &Pod| {
            fw.find_feasible_from(p, &nodes, None, Some(&nominated), 0, 2)
                .feasible
        };
        let spread = json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone",
            "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}}}]});
        // z1 holds the nominated web pod: one more there would make the skew 2.
        assert_eq!(feasible(&web("low", 0, spread.clone())), vec![1]);
        // A pod of higher priority does not see it.
        assert_eq!(feasible(&web("high", 1000, spread)), vec![0, 1]);
        let anti = json!({"affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "kubernetes.io/hostname",
                "labelSelector": {"matchLabels": {"app": "web"}}}]}}});
        assert_eq!(feasible(&web("low", 0, anti.clone())), vec![1]);
        assert_eq!(feasible(&web("high", 1000, anti)), vec![0, 1]);
    }
}
