//! NodeResourcesFit: the pod's effective requests must fit in what the node has left
//! (filter), and nodes are ranked by the configured `scoringStrategy` (score):
//! `LeastAllocated` (default: more room left is better), `MostAllocated` (bin packing) or
//! `RequestedToCapacityRatio` (a piecewise linear function of utilization), over the
//! configured resources and weights (default cpu and memory, 1 each).

use k8s_openapi::api::core::v1::Pod;

use crate::framework::plugin_args::{
    NodeResourcesFitSettings, ScoringStrategyType, UtilizationShapePoint,
    MAX_CUSTOM_PRIORITY_SCORE, MAX_UTILIZATION,
};
use crate::framework::resource::{cycle_pod_requests, remember_pod_requests};
use crate::framework::{CycleState, FilterPlugin, NodeInfo, ScorePlugin, Status, MAX_NODE_SCORE};

/// The NodeResourcesFit filter and score.
#[derive(Default)]
pub struct NodeResourcesFit {
    /// Defaulted and validated `NodeResourcesFitArgs`.
    pub settings: NodeResourcesFitSettings,
}

impl NodeResourcesFit {
    /// With the given args.
    pub fn new(settings: NodeResourcesFitSettings) -> NodeResourcesFit {
        NodeResourcesFit { settings }
    }

    /// Whether the filter skips an extended resource (`ignoredResources`,
    /// `ignoredResourceGroups`); cpu, memory and ephemeral-storage are always checked.
    fn ignored(&self, name: &str) -> bool {
        if matches!(name, "cpu" | "memory" | "ephemeral-storage") {
            return false;
        }
        let group = name.split_once('/').map(|(g, _)| g);
        self.settings.ignored_resources.iter().any(|r| r == name)
            || group.is_some_and(|g| self.settings.ignored_resource_groups.iter().any(|x| x == g))
    }
}

/// Upstream's `buildBrokenLinearFunction`: the shape's score at `utilization`, scaled to
/// 0..=MAX_NODE_SCORE, interpolating between points and flat beyond the ends.
fn broken_linear(shape: &[UtilizationShapePoint], utilization: i64) -> i64 {
    let scale = MAX_NODE_SCORE / i64::from(MAX_CUSTOM_PRIORITY_SCORE);
    for (i, p) in shape.iter().enumerate() {
        let (u, s) = (i64::from(p.utilization), i64::from(p.score) * scale);
        if utilization <= u {
            if i == 0 {
                return s;
            }
            let prev = shape[i - 1];
            let (pu, ps) = (i64::from(prev.utilization), i64::from(prev.score) * scale);
            return ps + (s - ps) * (utilization - pu) / (u - pu);
        }
    }
    shape
        .last()
        .map(|p| i64::from(p.score) * scale)
        .unwrap_or(0)
}

impl NodeResourcesFit {
    /// One resource's score under the strategy (upstream's `leastRequestedScore`,
    /// `mostRequestedScore`, RequestedToCapacityRatio's scorer).
    fn resource_score(&self, requested: i64, capacity: i64) -> i64 {
        match &self.settings.strategy {
            ScoringStrategyType::LeastAllocated => {
                if requested > capacity {
                    0
                } else {
                    (capacity - requested) * MAX_NODE_SCORE / capacity
                }
            }
            // Overcommitted nodes count as full, not as empty.
            ScoringStrategyType::MostAllocated => {
                requested.min(capacity) * MAX_NODE_SCORE / capacity
            }
            ScoringStrategyType::RequestedToCapacityRatio(shape) => {
                let utilization = if requested > capacity {
                    i64::from(MAX_UTILIZATION)
                } else {
                    requested * i64::from(MAX_UTILIZATION) / capacity
                };
                broken_linear(shape, utilization)
            }
        }
    }
}

impl FilterPlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _nodes: &[NodeInfo],
    ) -> Result<(), Status> {
        remember_pod_requests(state, pod, false);
        Ok(())
    }

    fn filter(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Status> {
        let mut reasons = Vec::new();
        if node.pod_count + 1 > node.allocatable.allowed_pods {
            reasons.push("Too many pods".to_string());
        }
        let want = cycle_pod_requests(state, pod, false);
        let mut names: Vec<&str> = vec!["cpu", "memory", "ephemeral-storage"];
        names.extend(want.scalar.keys().map(String::as_str));
        for name in names {
            if self.ignored(name) {
                continue;
            }
            let asked = want.get(name);
            if asked > 0 && asked > node.allocatable.get(name) - node.requested.get(name) {
                reasons.push(format!("Insufficient {name}"));
            }
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(Status {
                code: crate::framework::Code::Unschedulable,
                reasons,
            })
        }
    }
}

impl ScorePlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _nodes: &[NodeInfo],
        _feasible: &[usize],
    ) {
        remember_pod_requests(state, pod, true);
    }

    fn score(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> i64 {
        let want = cycle_pod_requests(state, pod, true);
        let mut total = 0;
        let mut weights = 0;
        for r in &self.settings.resources {
            let capacity = node.allocatable.get(&r.name);
            // A resource the node does not have is left out, not scored 0 (upstream).
            if capacity == 0 {
                continue;
            }
            let requested = node.non_zero_requested.get(&r.name) + want.get(&r.name);
            total += self.resource_score(requested, capacity) * r.weight;
            weights += r.weight;
        }
        if weights == 0 {
            0
        } else {
            total / weights
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::testing::{node, pod};
    use serde_json::json;

    fn asking(cpu: &str, mem: &str) -> Pod {
        pod(
            json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": mem}}}]}),
        )
    }

    #[test]
    fn insufficient_resources_are_all_named() {
        let n = node("a", json!({}));
        assert!(NodeResourcesFit::default()
            .filter(&CycleState::default(), &asking("2", "4Gi"), &n)
            .is_ok());
        let err = NodeResourcesFit::default()
            .filter(&CycleState::default(), &asking("3", "5Gi"), &n)
            .unwrap_err();
        assert_eq!(
            err.reasons,
            vec![
                "Insufficient cpu".to_string(),
                "Insufficient memory".to_string()
            ]
        );
    }

    #[test]
    fn pods_already_there_and_init_containers_count() {
        let mut n = node("a", json!({}));
        n.add_pod(&asking("1500m", "1Gi"));
        assert!(NodeResourcesFit::default()
            .filter(&CycleState::default(), &asking("500m", "1Gi"), &n)
            .is_ok());
        let init_heavy = pod(
            json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "800m"}}}]}),
        );
        let err = NodeResourcesFit::default()
            .filter(&CycleState::default(), &init_heavy, &n)
            .unwrap_err();
        assert_eq!(err.reasons, vec!["Insufficient cpu".to_string()]);
    }

    #[test]
    fn too_many_pods() {
        let mut n = node("a", json!({"status": {"allocatable": {"pods": "1"}}}));
        n.add_pod(&pod(json!({})));
        let err = NodeResourcesFit::default()
            .filter(&CycleState::default(), &pod(json!({})), &n)
            .unwrap_err();
        assert_eq!(err.reasons, vec!["Too many pods".to_string()]);
    }

    #[test]
    fn least_allocated_prefers_the_emptier_node() {
        let p = asking("500m", "1Gi");
        let empty = node("a", json!({}));
        let mut busy = node("b", json!({}));
        busy.add_pod(&asking("1", "2Gi"));
        let fit = NodeResourcesFit::default();
        // empty: cpu (2000-500)/2000 = 75, mem (4-1)/4 = 75; busy: 25, 25.
        assert_eq!(
            ScorePlugin::score(&fit, &CycleState::default(), &p, &empty),
            75
        );
        assert_eq!(
            ScorePlugin::score(&fit, &CycleState::default(), &p, &busy),
            25
        );
        let most = NodeResourcesFit::new(NodeResourcesFitSettings {
            strategy: ScoringStrategyType::MostAllocated,
            ..Default::default()
        });
        assert_eq!(
            ScorePlugin::score(&most, &CycleState::default(), &p, &busy),
            75
        );
    }

    #[test]
    fn requested_to_capacity_ratio_follows_the_shape() {
        let shape = vec![
            UtilizationShapePoint {
                utilization: 0,
                score: 0,
            },
            UtilizationShapePoint {
                utilization: 50,
                score: 10,
            },
            UtilizationShapePoint {
                utilization: 100,
                score: 0,
            },
        ];
        assert_eq!(broken_linear(&shape, 0), 0);
        assert_eq!(broken_linear(&shape, 25), 50);
        assert_eq!(broken_linear(&shape, 50), 100);
        assert_eq!(broken_linear(&shape, 75), 50);
        let fit = NodeResourcesFit::new(NodeResourcesFitSettings {
            strategy: ScoringStrategyType::RequestedToCapacityRatio(shape),
            resources: vec![crate::framework::plugin_args::ResourceSpec {
                name: "cpu".into(),
                weight: 1,
            }],
            ..Default::default()
        });
        // Half-full after placing scores best; an empty node less.
        let p = asking("500m", "0");
        let mut half = node("half", json!({}));
        half.add_pod(&asking("500m", "0"));
        let empty = node("empty", json!({}));
        let s_half = ScorePlugin::score(&fit, &CycleState::default(), &p, &half);
        let s_empty = ScorePlugin::score(&fit, &CycleState::default(), &p, &empty);
        assert_eq!((s_half, s_empty), (100, 50));
    }

    #[test]
    fn ignored_resource_groups_skip_extended_resources() {
        let p = pod(
            json!({"containers": [{"name": "c", "resources": {"requests": {"example.com/gpu": "1"}}}]}),
        );
        let n = node("a", json!({}));
        assert!(NodeResourcesFit::default()
            .filter(&CycleState::default(), &p, &n)
            .is_err());
        let fit = NodeResourcesFit::new(NodeResourcesFitSettings {
            ignored_resource_groups: vec!["example.com".into()],
            ..Default::default()
        });
        assert!(fit.filter(&CycleState::default(), &p, &n).is_ok());
    }
}
