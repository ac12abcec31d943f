//! Preemption (upstream's DefaultPreemption PostFilter): when a pod fits nowhere, find the
//! node where evicting the fewest, least important lower-priority pods makes it fit,
//! violating as few PodDisruptionBudgets as possible.
//!
//! As upstream's `SelectVictimsOnNode`: every lower-priority pod is removed; if the
//! preemptor then fits, pods are reprieved (put back while it still fits), most important
//! first — first those whose eviction would violate a PDB, then the others. Nodes are ranked
//! by PDB violations, then highest victim priority, sum of priorities, number of victims.
//! Pods nominated to a node (of no lower priority) keep their room throughout.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use super::fit_error::Diagnosis;
use super::label_selector::selector_matches;
use super::runtime::{Framework, NominatedPods};
use super::{Code, NodeInfo};

/// The node chosen for a preemptor and the pods to evict there.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index into the snapshot.
    pub node: usize,
    /// Pods to delete, lowest priority first.
    pub victims: Vec<Arc<Pod>>,
    /// How many victims' eviction violates a PodDisruptionBudget.
    pub pdb_violations: usize,
}

/// What preemption reads besides the nodes: PDBs and nominated pods.
#[derive(Clone, Copy, Default)]
pub struct PreemptionContext<'a> {
    /// Every PodDisruptionBudget.
    pub pdbs: &'a [Arc<PodDisruptionBudget>],
    /// Pending pods nominated to nodes.
    pub nominated: Option<&'a NominatedPods>,
}

/// Split `pods` (most important first) into those whose eviction, in this order, would
/// violate a PDB and those that would not (upstream's `filterPodsWithPDBViolation`): each
/// matching PDB allows `status.disruptionsAllowed` evictions, pods it already lists as
/// disrupted excepted.
fn split_by_pdb_violation(
    pods: Vec<Arc<Pod>>,
    pdbs: &[Arc<PodDisruptionBudget>],
) -> (Vec<Arc<Pod>>, Vec<Arc<Pod>>) {
    let mut allowed: Vec<i32> = pdbs
        .iter()
        .map(|p| p.status.as_ref().map_or(0, |s| s.disruptions_allowed))
        .collect();
    let (mut violating, mut fine) = (Vec::new(), Vec::new());
    for pod in pods {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let mut violates = false;
        for (i, pdb) in pdbs.iter().enumerate() {
            if pdb.metadata.namespace.as_deref().unwrap_or_default() != ns {
                continue;
            }
            // A nil or empty selector matches nothing here (upstream).
            let Some(selector) = pdb.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
                continue;
            };
            let empty = selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
                && selector
                    .match_expressions
                    .as_ref()
                    .is_none_or(|m| m.is_empty());
            if empty || !selector_matches(selector, pod.metadata.labels.as_ref()) {
                continue;
            }
            let already = pdb
                .status
                .as_ref()
                .and_then(|s| s.disrupted_pods.as_ref())
                .is_some_and(|d| d.contains_key(name));
            if already {
                continue;
            }
            allowed[i] -= 1;
            if allowed[i] < 0 {
                violates = true;
            }
        }
        if violates {
            violating.push(pod);
        } else {
            fine.push(pod);
        }
    }
    (violating, fine)
}

/// Most important first: higher priority, then (upstream) the earlier started.
fn by_importance(a: &Arc<Pod>, b: &Arc<Pod>) -> std::cmp::Ordering {
    let start = |p: &Pod| {
        p.status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .map(|t| t.0)
    };
    pod_priority(b)
        .cmp(&pod_priority(a))
        .then_with(|| match (start(a), start(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
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

/// Victims on one node and how many of them violate a PDB; `None` when evicting every
/// lower-priority pod would not make room. The what-if check recomputes cluster-wide filter
/// state from the trial snapshot, so spread and affinity counts see the evictions.
fn select_victims(
    framework: &Framework,
    pod: &Pod,
    nodes: &[NodeInfo],
    index: usize,
    ctx: PreemptionContext<'_>,
) -> Option<(Vec<Arc<Pod>>, usize)> {
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
    if !framework.filter_one(pod, &trial, index, ctx.nominated) {
        return None;
    }
    lower.sort_by(by_importance);
    let (violating, fine) = split_by_pdb_violation(lower, ctx.pdbs);
    let mut victims = Vec::new();
    let mut violations = 0;
    let mut reprieve = |p: Arc<Pod>, violates: bool| {
        kept.push(p.clone());
        trial[index] = with_pods(node, &kept);
        if !framework.filter_one(pod, &trial, index, ctx.nominated) {
            kept.pop();
            victims.push(p);
            if violates {
                violations += 1;
            }
        }
    };
    for p in violating {
        reprieve(p, true);
    }
    for p in fine {
        reprieve(p, false);
    }
    // Lowest priority first, the order they are deleted in.
    victims.sort_by(|a, b| by_importance(b, a));
    Some((victims, violations))
}

/// The best candidate among the nodes whose rejection preemption could resolve: fewest
/// PDB violations, then lowest highest-victim priority, then lowest sum of priorities,
/// then fewest victims.
pub fn find_candidate(
    framework: &Framework,
    pod: &Pod,
    nodes: &[NodeInfo],
    diagnosis: &Diagnosis,
    ctx: PreemptionContext<'_>,
) -> Option<Candidate> {
    if !eligible(pod, nodes) {
        return None;
    }
    let mut best: Option<((usize, i64, i64, usize), Candidate)> = None;
    for (index, node) in nodes.iter().enumerate() {
        let resolvable = diagnosis
            .node_to_status
            .get(node.name())
            .is_some_and(|s| s.code == Code::Unschedulable);
        if !resolvable {
            continue;
        }
        let Some((victims, pdb_violations)) = select_victims(framework, pod, nodes, index, ctx)
        else {
            continue;
        };
        let highest = victims
            .iter()
            .map(|v| i64::from(pod_priority(v)))
            .max()
            .unwrap_or(i64::MIN);
        let sum: i64 = victims.iter().map(|v| i64::from(pod_priority(v))).sum();
        let rank = (pdb_violations, highest, sum, victims.len());
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((
                rank,
                Candidate {
                    node: index,
                    victims,
                    pdb_violations,
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
        let c = find_candidate(
            &fw,
            &preemptor,
            &nodes,
            &diagnosis,
            PreemptionContext::default(),
        )
        .expect("candidate");
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
        assert!(find_candidate(&fw, &p, &nodes, &d, PreemptionContext::default()).is_none());
        let mut never = asking("1", 100, "never");
        if let Some(spec) = never.spec.as_mut() {
            spec.preemption_policy = Some("Never".into());
        }
        let (_, d) = fw.find_feasible(&never, &nodes);
        assert!(find_candidate(&fw, &never, &nodes, &d, PreemptionContext::default()).is_none());
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

    fn labelled(mut p: Pod, app: &str) -> Pod {
        p.metadata.labels = Some([("app".to_string(), app.to_string())].into());
        p
    }

    fn pdb(app: &str, allowed: i32) -> Arc<PodDisruptionBudget> {
        Arc::new(
            serde_json::from_value(json!({"metadata": {"name": app, "namespace": "default"},
                "spec": {"selector": {"matchLabels": {"app": app}}},
                "status": {"disruptionsAllowed": allowed, "currentHealthy": 1, "desiredHealthy": 1,
                           "expectedPods": 1}}))
            .expect("pdb"),
        )
    }

    #[test]
    fn prefers_the_node_without_pdb_violations() {
        // "a" holds a priority-0 pod guarded by a PDB allowing no disruption; "b" a
        // priority-5 pod without one. By priority alone "a" would be chosen.
        let mut a = node("a", json!({}));
        a.add_pod(&labelled(asking("1500m", 0, "guarded"), "guarded"));
        let mut b = node("b", json!({}));
        b.add_pod(&labelled(asking("1500m", 5, "free"), "free"));
        let nodes = vec![a, b];
        let fw = Framework::default_profile("default-scheduler");
        let preemptor = asking("1500m", 100, "high");
        let (_, diagnosis) = fw.find_feasible(&preemptor, &nodes);
        let without = find_candidate(
            &fw,
            &preemptor,
            &nodes,
            &diagnosis,
            PreemptionContext::default(),
        )
        .expect("candidate");
        assert_eq!(without.node, 0);
        let pdbs = vec![pdb("guarded", 0)];
        let ctx = PreemptionContext {
            pdbs: &pdbs,
            nominated: None,
        };
        let with = find_candidate(&fw, &preemptor, &nodes, &diagnosis, ctx).expect("candidate");
        assert_eq!(with.node, 1);
        assert_eq!(with.pdb_violations, 0);
        // A PDB that still allows a disruption is no obstacle.
        let pdbs = vec![pdb("guarded", 1)];
        let ctx = PreemptionContext {
            pdbs: &pdbs,
            nominated: None,
        };
        let c = find_candidate(&fw, &preemptor, &nodes, &diagnosis, ctx).expect("candidate");
        assert_eq!(c.node, 0);
    }

    #[test]
    fn violating_victims_are_reprieved_first() {
        // Either pod alone makes room; the one whose eviction violates its PDB stays.
        let mut a = node("a", json!({}));
        a.add_pod(&labelled(asking("1", 1, "guarded"), "guarded"));
        a.add_pod(&labelled(asking("1", 1, "free"), "free"));
        let nodes = vec![a];
        let fw = Framework::default_profile("default-scheduler");
        let preemptor = asking("1", 100, "high");
        let (_, diagnosis) = fw.find_feasible(&preemptor, &nodes);
        let pdbs = vec![pdb("guarded", 0)];
        let ctx = PreemptionContext {
            pdbs: &pdbs,
            nominated: None,
        };
        let c = find_candidate(&fw, &preemptor, &nodes, &diagnosis, ctx).expect("candidate");
        let names: Vec<_> = c.victims.iter().map(|v| v.metadata.name.clone()).collect();
        assert_eq!(names, vec![Some("free".to_string())]);
        assert_eq!(c.pdb_violations, 0);
    }
}
