//! The scheduling framework: plugins behind [`FilterPlugin`] and [`ScorePlugin`], the
//! [`runtime::Framework`] that runs them for one pod, and the types they share.
//!
//! As upstream's framework: a filter answers "can this pod run on this node", a score ranks
//! the feasible nodes 0..=100 (after its own normalization), and the cycle only orchestrates.

pub mod cycle_state;
pub mod feasible_nodes;
pub mod fit_error;
pub mod handle;
pub mod label_selector;
pub mod node_info;
pub mod plugin_args;
pub mod plugins;
pub mod pod_label_index;
pub mod preemption;
pub mod registry;
pub mod resource;
pub mod runtime;

use k8s_openapi::api::core::v1::Pod;

pub use cycle_state::CycleState;
pub use node_info::NodeInfo;

/// Highest score a plugin may give a node (upstream's `MaxNodeScore`).
pub const MAX_NODE_SCORE: i64 = 100;

/// Why a filter rejected a node; decides whether preemption could help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Removing pods from the node could make it fit (resources, ports).
    Unschedulable,
    /// Nothing short of changing the node or the pod helps (taints, affinity, cordon).
    UnschedulableAndUnresolvable,
}

/// A filter's rejection: the code and the user-facing reasons (`Insufficient cpu`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Whether preemption could help.
    pub code: Code,
    /// Reasons as upstream words them; each is counted in the FailedScheduling summary.
    pub reasons: Vec<String>,
}

impl Status {
    /// A resolvable rejection.
    pub fn unschedulable(reason: impl Into<String>) -> Status {
        Status {
            code: Code::Unschedulable,
            reasons: vec![reason.into()],
        }
    }

    /// An unresolvable rejection.
    pub fn unresolvable(reason: impl Into<String>) -> Status {
        Status {
            code: Code::UnschedulableAndUnresolvable,
            reasons: vec![reason.into()],
        }
    }
}

/// A plugin that decides whether a pod may run on a node.
pub trait FilterPlugin: Send + Sync {
    /// Upstream's plugin name (`NodeResourcesFit`, …).
    fn name(&self) -> &'static str;
    /// Upstream's PreFilter: compute, once per cycle and from every node of the snapshot,
    /// what `filter` needs (cluster-wide counts); most plugins need nothing. An `Err`
    /// rejects the pod on every node at once (a missing PersistentVolumeClaim, …).
    fn pre_filter(
        &self,
        _state: &mut CycleState,
        _pod: &Pod,
        _nodes: &[NodeInfo],
    ) -> Result<(), Status> {
        Ok(())
    }
    /// PreFilter with the cache's per-label-set pod counts for `nodes` at hand (the
    /// scheduling cycle's path); plugins that can use them override this.
    fn pre_filter_indexed(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[NodeInfo],
        _index: &pod_label_index::PodLabelIndex,
    ) -> Result<(), Status> {
        self.pre_filter(state, pod, nodes)
    }
    /// Upstream's PreFilter extension `AddPod`: `added` (a pod nominated to `node`, which
    /// already holds it) now counts as if running there; update this plugin's PreFilter
    /// state in `state` (a clone made for this node) to match. Plugins whose PreFilter
    /// counts pods across nodes override this; the per-node filters see `node` itself.
    fn pre_filter_add_pod(
        &self,
        _state: &mut CycleState,
        _pod: &Pod,
        _added: &Pod,
        _node: &NodeInfo,
    ) {
    }
    /// `Ok` when the pod fits the node.
    fn filter(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Status>;
}

/// A plugin that ranks feasible nodes for a pod.
pub trait ScorePlugin: Send + Sync {
    /// Upstream's plugin name.
    fn name(&self) -> &'static str;
    /// Upstream's PreScore: compute once per cycle, from every node and the indexes of the
    /// feasible ones, what `score` needs.
    fn pre_score(
        &self,
        _state: &mut CycleState,
        _pod: &Pod,
        _nodes: &[NodeInfo],
        _feasible: &[usize],
    ) {
    }
    /// PreScore with the cache's per-label-set pod counts for `nodes` at hand (the
    /// scheduling cycle's path); plugins that can use them override this.
    fn pre_score_indexed(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[NodeInfo],
        feasible: &[usize],
        _index: &pod_label_index::PodLabelIndex,
    ) {
        self.pre_score(state, pod, nodes, feasible)
    }
    /// The raw score of one node.
    fn score(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> i64;
    /// Bring the raw scores of all feasible nodes into 0..=MAX_NODE_SCORE; the default
    /// keeps them as they are (plugins whose raw score already is in range).
    fn normalize(&self, _state: &CycleState, _pod: &Pod, _scores: &mut [i64]) {}
}

/// A plugin that holds resources for a pod once its node is chosen (Reserve), writes
/// what the binding depends on before it (PreBind), and lets go on failure (Unreserve).
pub trait ReservePlugin: Send + Sync {
    /// Upstream's plugin name.
    fn name(&self) -> &'static str;
    /// Reserve what the pod needs on `node` (synchronously, still in the scheduling cycle,
    /// so the next cycle sees it).
    fn reserve(&self, pod: &Pod, node: &NodeInfo) -> Result<(), Status>;
    /// Undo `reserve` (binding failed, or finished and the API now shows the result).
    fn unreserve(&self, pod: &Pod);
    /// Before the pod is bound to `node`: write the reserved state through the API and wait
    /// for it to take effect; `Err` carries the reason, the pod is retried after backoff.
    fn pre_bind<'a>(
        &'a self,
        client: &'a kube::Client,
        pod: &'a Pod,
        node: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<(), String>>;
}

/// Upstream's `DefaultNormalizeScore`: scale so the best node gets `MAX_NODE_SCORE`;
/// `reverse` makes the lowest raw score the best.
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        let scaled = MAX_NODE_SCORE * *s / max;
        *s = if reverse {
            MAX_NODE_SCORE - scaled
        } else {
            scaled
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_scales_to_the_best_node() {
        let mut s = [0, 5, 10];
        default_normalize(&mut s, false);
        assert_eq!(s, [0, 50, 100]);
        let mut r = [0, 5, 10];
        default_normalize(&mut r, true);
        assert_eq!(r, [100, 50, 0]);
        let mut z = [0, 0];
        default_normalize(&mut z, true);
        assert_eq!(z, [100, 100]);
    }
}
