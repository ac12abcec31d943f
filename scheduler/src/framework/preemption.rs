//! Preemption (upstream's DefaultPreemption PostFilter): when a pod fits nowhere, find the
//! node where evicting the fewest, least important lower-priority pods makes it fit.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

use super::fit_error::Diagnosis;
use super::runtime::Framework;
use super::{Code, NodeInfo};

/// The node chosen for a preemptor and the pods to evict there.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index into the snapshot.
    pub node: usize,
    /// Pods to delete, lowest priority first.
    pub victims: Vec<Arc<Pod>>,
}

/// `spec.priority`, 0 when unset (as the admission plugin would have defaulted it).
pub fn pod_priority(pod: &Pod) -> i32 {
    pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

/// Whether the pod may preempt: not with `preemptionPolicy: Never`, and not again while
/// lower-priority pods on its nominated node are still terminating (its earlier victims;
/// preempting more would evict pods for nothing).
pub fn eligible(pod: &Pod, nodes: &[NodeInfo]) -> bool {
    if pod
        .spec
        .as_ref()
        .and_then(|s| s.preemption_policy.as_deref())
        == Some("Never")
    {
        return false;
    }
    let nominated = pod
        .status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref())
        .filter(|n| !n.is_empty());
    let Some(nominated) = nominated else {
        return true;
    };
    let priority = pod_priority(pod);
    !nodes.iter().filter(|n| n.name() == nominated).any(|n| {
        n.pods
            .iter()
            .any(|p| p.metadata.deletion_timestamp.is_some() && pod_priority(p) < priority)
    })
}

/// `node` with only `pods` on it.
fn with_pods(node: &NodeInfo, pods: &[Arc<Pod>]) -> NodeInfo {
    let mut info = NodeInfo::new(node.node.clone());
    for p in pods {
        info.add_shared_pod(p.clone());
    }
    info
}

/// Victims on one node: every lower-priority pod is removed; if the preemptor then fits,
/// pods are reprieved highest priority first while it still fits. The what-if check
/// recomputes cluster-wide filter state from the trial snapshot, so spread and affinity
/// counts see the evictions.
fn select_victims(
    framework: &Framework,
    pod: &Pod,
    nodes: &[NodeInfo],
    index: usize,
) -> Option<Vec<Arc<Pod>>> {
    let priority = pod_priority(pod);
    let node = &nodes[index];
    let (mut lower, mut kept): (Vec<Arc<Pod>>, Vec<Arc<Pod>>) = node
        .pods
        .iter()
        .cloned()
        .partition(|p| pod_priority(p) < priority && p.metadata.deletion_timestamp.is_none());
    if lower.is_empty() {
        return None;
    }
    let mut trial = nodes.to_vec();
    trial[index] = with_pods(node, &kept);
    if !framework.filter_one(pod, &trial, index) {
        return None;
    }
    lower.sort_by_key(|p| std::cmp::Reverse(pod_priority(p)));
    let mut victims = Vec::new();
    for p in lower {
        kept.push(p.clone());
        trial[index] = with_pods(node, &kept);
        if !framework.filter_one(pod, &trial, index) {
            kept.pop();
            victims.push(p);
        }
    }
    victims.reverse();
    Some(victims)
}

/// The best candidate among the nodes whose rejection preemption could resolve: lowest
/// highest-victim priority, then lowest sum of priorities, then fewest victims.
pub fn find_candidate(
    framework: &Framework,
    pod: &Pod,
    nodes: &[NodeInfo],
    diagnosis: &Diagnosis,
) -> Option<Candidate> {
    if !eligible(pod, nodes) {
        return None;
    }
    let mut best: Option<((i64, i64, usize), Candidate)> = None;
    for (index, node) in nodes.iter().enumerate() {
        let resolvable = diagnosis
            .node_to_status
            .get(node.name())
            .is_some_and(|s| s.code == Code::Unschedulable);
        if !resolvable {
            continue;
        }
        let Some(victims) = select_victims(framework, pod, nodes, index) else {
            continue;
        };
        let highest = victims
            .iter()
            .map(|v| i64::from(pod_priority(v)))
            .max()
            .unwrap_or(i64::MIN);
        let sum: i64 = victims.iter().map(|v| i64::from(pod_priority(v))).sum();
        let rank = (highest, sum, victims.len());
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((
                rank,
                Candidate {
                    node: index,
                    victims,
                },
            ));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::testing::{node, pod};
    use serde_json::json;

    fn asking(cpu: &str, priority: i32, name: &str) -> Pod {
        let mut p = pod(json!({"priority": priority,
            "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}));
        p.metadata.name = Some(name.into());
        p
    }

    #[test]
    fn evicts_the_fewest_lowest_priority_pods() {
        // Both nodes have 2 cpu. "a" holds a priority-5 pod; "b" two priority-1 pods.
        let mut a = node("a", json!({}));
        a.add_pod(&asking("1500m", 5, "mid"));
        let mut b = node("b", json!({}));
        b.add_pod(&asking("1", 1, "low-1"));
        b.add_pod(&asking("1", 1, "low-2"));
        let nodes = vec![a, b];
        let fw = Framework::default_profile("default-scheduler");
        let preemptor = asking("1", 10, "high");
        let (feasible, diagnosis) = fw.find_feasible(&preemptor, &nodes);
        assert!(feasible.is_empty());
        let c = find_candidate(&fw, &preemptor, &nodes, &diagnosis).expect("candidate");
        // On "b" one low pod is enough; its priority 1 beats evicting the priority-5 pod.
        assert_eq!(c.node, 1);
        assert_eq!(c.victims.len(), 1);
    }

    #[test]
    fn never_preempts_equal_priority_or_when_told_not_to() {
        let mut a = node("a", json!({}));
        a.add_pod(&asking("2", 10, "peer"));
        let nodes = vec![a];
        let fw = Framework::default_profile("default-scheduler");
        let p = asking("1", 10, "p");
        let (_, d) = fw.find_feasible(&p, &nodes);
        assert!(find_candidate(&fw, &p, &nodes, &d).is_none());
        let mut never = asking("1", 100, "never");
        if let Some(spec) = never.spec.as_mut() {
            spec.preemption_policy = Some("Never".into());
        }
        let (_, d) = fw.find_feasible(&never, &nodes);
        assert!(find_candidate(&fw, &never, &nodes, &d).is_none());
    }

    #[test]
    fn waits_for_earlier_victims_to_terminate() {
        let mut terminating = asking("1", 1, "old-victim");
        terminating.metadata.deletion_timestamp =
            Some(serde_json::from_value(json!("2024-01-01T00:00:00Z")).expect("time"));
        let mut a = node("a", json!({}));
        a.add_pod(&terminating);
        a.add_pod(&asking("1", 1, "other"));
        let nodes = vec![a];
        let mut p = asking("1", 10, "p");
        p.status = Some(serde_json::from_value(json!({"nominatedNodeName": "a"})).expect("status"));
        assert!(!eligible(&p, &nodes));
        p.status = None;
        assert!(eligible(&p, &nodes));
    }
}
