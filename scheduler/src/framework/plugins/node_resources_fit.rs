//! NodeResourcesFit: the pod's effective requests must fit in what the node has left
//! (filter), and with the default `LeastAllocated` strategy nodes with more room left score
//! higher (score), cpu and memory weighted equally.

use k8s_openapi::api::core::v1::Pod;

use crate::framework::resource::pod_requests;
use crate::framework::{CycleState, FilterPlugin, NodeInfo, ScorePlugin, Status, MAX_NODE_SCORE};

/// How NodeResourcesFit scores (upstream `scoringStrategy.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoringStrategy {
    /// Prefer the emptiest nodes (spreading; upstream's default).
    LeastAllocated,
    /// Prefer the fullest nodes (bin packing). Selectable once `--config` plugin args are
    /// applied; unit-tested meanwhile.
    #[allow(dead_code)]
    MostAllocated,
}

/// The NodeResourcesFit filter and score.
pub struct NodeResourcesFit {
    /// The scoring strategy.
    pub strategy: ScoringStrategy,
}

impl Default for NodeResourcesFit {
    fn default() -> Self {
        NodeResourcesFit {
            strategy: ScoringStrategy::LeastAllocated,
        }
    }
}

/// The resources scored, with their weights (upstream's default `resources`).
const SCORED: [(&str, i64); 2] = [("cpu", 1), ("memory", 1)];

impl FilterPlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn filter(&self, _state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Status> {
        let mut reasons = Vec::new();
        if node.pod_count + 1 > node.allocatable.allowed_pods {
            reasons.push("Too many pods".to_string());
        }
        let want = pod_requests(pod, false);
        let mut names: Vec<&str> = vec!["cpu", "memory", "ephemeral-storage"];
        names.extend(want.scalar.keys().map(String::as_str));
        for name in names {
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

    fn score(&self, _state: &CycleState, pod: &Pod, node: &NodeInfo) -> i64 {
        let want = pod_requests(pod, true);
        let mut total = 0;
        let mut weights = 0;
        for (name, weight) in SCORED {
            let capacity = node.allocatable.get(name);
            let requested = node.non_zero_requested.get(name) + want.get(name);
            let score = if capacity == 0 || requested > capacity {
                0
            } else {
                match self.strategy {
                    ScoringStrategy::LeastAllocated => {
                        (capacity - requested) * MAX_NODE_SCORE / capacity
                    }
                    ScoringStrategy::MostAllocated => requested * MAX_NODE_SCORE / capacity,
                }
            };
            total += score * weight;
            weights += weight;
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
        let most = NodeResourcesFit {
            strategy: ScoringStrategy::MostAllocated,
        };
        assert_eq!(
            ScorePlugin::score(&most, &CycleState::default(), &p, &busy),
            75
        );
    }
}
