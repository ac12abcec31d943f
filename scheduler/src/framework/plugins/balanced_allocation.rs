//! NodeResourcesBalancedAllocation: prefer nodes where, after placing the pod, cpu and
//! memory are used in similar proportions (score = (1 - standard deviation) × 100).

use k8s_openapi::api::core::v1::Pod;

use crate::framework::resource::{cycle_pod_requests, remember_pod_requests};
use crate::framework::{CycleState, NodeInfo, ScorePlugin, MAX_NODE_SCORE};

/// The NodeResourcesBalancedAllocation score.
pub struct BalancedAllocation {
    /// The resources whose shares are balanced (`NodeResourcesBalancedAllocationArgs`,
    /// default cpu and memory).
    pub resources: Vec<String>,
}

impl Default for BalancedAllocation {
    fn default() -> Self {
        BalancedAllocation {
            resources: vec!["cpu".into(), "memory".into()],
        }
    }
}

impl ScorePlugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _nodes: &[NodeInfo],
        _feasible: &[usize],
    ) {
        remember_pod_requests(state, pod, false);
    }

    fn score(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> i64 {
        // Actual requests here (not the scoring defaults); a pod asking for neither cpu
        // nor memory is skipped as upstream does, which gives every node the same 0.
        let want = cycle_pod_requests(state, pod, false);
        if self.resources.iter().all(|r| want.get(r) == 0) {
            return 0;
        }
        let fractions: Vec<f64> = self
            .resources
            .iter()
            .filter_map(|r| {
                let capacity = node.allocatable.get(r);
                (capacity > 0).then(|| {
                    let requested = node.requested.get(r) + want.get(r);
                    (requested as f64 / capacity as f64).min(1.0)
                })
            })
            .collect();
        if fractions.is_empty() {
            return 0;
        }
        let mean = fractions.iter().sum::<f64>() / fractions.len() as f64;
        let variance =
            fractions.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / fractions.len() as f64;
        ((1.0 - variance.sqrt()) * MAX_NODE_SCORE as f64) as i64
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
    fn balanced_use_scores_higher() {
        let p = asking("1", "1Gi");
        // cpu-heavy node: after placing, cpu 2/2 = 1.0, mem 1/4 = 0.25 → std 0.375 → 62.
        let mut cpu_heavy = node("a", json!({}));
        cpu_heavy.add_pod(&asking("1", "0"));
        // memory-heavy node: cpu 0.5, mem 3/4 = 0.75 → std 0.125 → 87.
        let mut mem_heavy = node("b", json!({}));
        mem_heavy.add_pod(&asking("0", "2Gi"));
        assert_eq!(
            BalancedAllocation::default().score(&CycleState::default(), &p, &cpu_heavy),
            62
        );
        assert_eq!(
            BalancedAllocation::default().score(&CycleState::default(), &p, &mem_heavy),
            87
        );
    }

    #[test]
    fn best_effort_pods_are_skipped() {
        assert_eq!(
            BalancedAllocation::default().score(
                &CycleState::default(),
                &pod(json!({})),
                &node("a", json!({}))
            ),
            0
        );
    }
}
