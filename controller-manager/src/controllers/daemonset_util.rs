//! The pure part of the DaemonSet controller: which nodes should run a daemon pod
//! (upstream's `NodeShouldRunDaemonPod`), the pod a node gets (tolerations and node
//! affinity as upstream adds them), and the per-sync plan for creating, deleting and
//! rolling pods (`manage` + `rollingUpdate`).

use std::collections::{BTreeMap, HashSet};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
    PodSpec, PodTemplateSpec, Toleration,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::nodeaffinity;
use super::taints::{self, NO_EXECUTE, NO_SCHEDULE};

/// Deprecated label upstream still sets on daemon pods: the DaemonSet's generation.
pub const POD_TEMPLATE_GENERATION: &str = "pod-template-generation";

/// The tolerations every daemon pod gets (upstream's `AddOrUpdateDaemonPodTolerations`):
/// daemons keep running on unready/unreachable nodes, and land on nodes under pressure or
/// cordoned.
pub fn default_tolerations(host_network: bool) -> Vec<Toleration> {
    let mut t = vec![
        taints::exists_toleration(taints::NOT_READY, NO_EXECUTE),
        taints::exists_toleration(taints::UNREACHABLE, NO_EXECUTE),
        taints::exists_toleration(taints::DISK_PRESSURE, NO_SCHEDULE),
        taints::exists_toleration(taints::MEMORY_PRESSURE, NO_SCHEDULE),
        taints::exists_toleration(taints::PID_PRESSURE, NO_SCHEDULE),
        taints::exists_toleration(taints::UNSCHEDULABLE, NO_SCHEDULE),
    ];
    if host_network {
        t.push(taints::exists_toleration(
            taints::NETWORK_UNAVAILABLE,
            NO_SCHEDULE,
        ));
    }
    t
}

/// Add the default tolerations a pod spec lacks (same key and effect replaces nothing).
pub fn add_default_tolerations(spec: &mut PodSpec) {
    let host_network = spec.host_network.unwrap_or(false);
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for d in default_tolerations(host_network) {
        let present = tolerations
            .iter()
            .any(|t| t.key == d.key && t.effect == d.effect && t.operator == d.operator);
        if !present {
            tolerations.push(d);
        }
    }
}

/// Pin a pod spec to `node` through required node affinity `metadata.name In [node]`
/// (upstream's `ReplaceDaemonSetPodNodeNameNodeAffinity`): every term's matchFields are
/// replaced, their matchExpressions kept; the scheduler then binds it.
pub fn pin_to_node(spec: &mut PodSpec, node: &str) {
    let field = NodeSelectorRequirement {
        key: "metadata.name".into(),
        operator: "In".into(),
        values: Some(vec![node.to_string()]),
    };
    let affinity = spec.affinity.get_or_insert_with(Affinity::default);
    let na = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    let required = na
        .required_during_scheduling_ignored_during_execution
        .get_or_insert_with(|| NodeSelector {
            node_selector_terms: Vec::new(),
        });
    if required.node_selector_terms.is_empty() {
        required
            .node_selector_terms
            .push(NodeSelectorTerm::default());
    }
    for term in &mut required.node_selector_terms {
        term.match_fields = Some(vec![field.clone()]);
    }
}

/// The node a daemon pod is for: its `spec.nodeName`, else the `metadata.name` its required
/// node affinity pins.
pub fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_ref().filter(|n| !n.is_empty()) {
        return Some(n.clone());
    }
    spec.affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|r| r.key == "metadata.name" && r.operator == "In")
        .and_then(|r| r.values.as_ref()?.first().cloned())
}

/// The template of a daemon pod for `node`: defaults tolerations added, pinned to the node.
pub fn pod_template_for(template: &PodTemplateSpec, node: &str) -> PodTemplateSpec {
    let mut t = template.clone();
    let spec = t.spec.get_or_insert_with(PodSpec::default);
    add_default_tolerations(spec);
    pin_to_node(spec, node);
    t
}

/// `(should_run, should_continue_running)` of a DaemonSet on `node`: node name, node
/// selector/affinity and NoSchedule/NoExecute taints must all admit a new pod; a running
/// pod may stay while only untolerated NoSchedule taints are in the way.
pub fn should_run(ds: &DaemonSet, node: &Node) -> (bool, bool) {
    let template = ds
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let node_name = node.metadata.name.clone().unwrap_or_default();
    let t = pod_template_for(&template, &node_name);
    let spec = t.spec.unwrap_or_default();
    if spec
        .node_name
        .as_ref()
        .is_some_and(|n| !n.is_empty() && n != &node_name)
    {
        return (false, false);
    }
    if !nodeaffinity::admits(&spec, node) {
        return (false, false);
    }
    let node_taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let tolerations = spec.tolerations.unwrap_or_default();
    if taints::first_untolerated(&node_taints, &tolerations, &[NO_SCHEDULE, NO_EXECUTE]).is_some() {
        let no_execute = taints::first_untolerated(&node_taints, &tolerations, &[NO_EXECUTE]);
        return (false, no_execute.is_none());
    }
    (true, true)
}

/// A daemon pod as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DaemonPod {
    /// Pod name.
    pub name: String,
    /// Its template hash matches the DaemonSet's current one.
    pub updated: bool,
    /// Being deleted.
    pub terminating: bool,
    /// Phase Failed (or Succeeded): to be replaced.
    pub finished: bool,
    /// Condition Ready is True.
    pub ready: bool,
    /// Available (ready for minReadySeconds).
    pub available: bool,
    /// Creation time (seconds), to keep the oldest of duplicates.
    pub created: i64,
}

/// One node as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeState {
    /// Node name.
    pub name: String,
    /// New daemon pods may be placed here.
    pub should_run: bool,
    /// Existing daemon pods may stay here.
    pub should_continue: bool,
    /// Daemon pods targeting this node.
    pub pods: Vec<DaemonPod>,
}

/// The update strategy of a DaemonSet, with maxUnavailable / maxSurge already resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    /// Replace old pods, at most `max_unavailable` unavailable, at most `max_surge`
    /// nodes running an extra new pod.
    RollingUpdate {
        max_unavailable: i32,
        max_surge: i32,
    },
    /// Pods are replaced only when deleted.
    OnDelete,
}

/// What one sync does.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Plan {
    /// Nodes that get a new daemon pod.
    pub create_on: Vec<String>,
    /// Daemon pods to delete.
    pub delete: Vec<String>,
}

/// Resolve maxUnavailable / maxSurge against the number of nodes that should run the
/// daemon (both percentages round up, as upstream); both 0 means maxUnavailable 1.
pub fn resolve_strategy(ds: &DaemonSet, desired: i32) -> Strategy {
    let strategy = ds.spec.as_ref().and_then(|s| s.update_strategy.clone());
    if strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("OnDelete") {
        return Strategy::OnDelete;
    }
    let ru = strategy.and_then(|s| s.rolling_update).unwrap_or_default();
    let scaled = |v: Option<IntOrString>, default: i32| match v {
        None => default,
        Some(IntOrString::Int(i)) => i,
        Some(IntOrString::String(s)) => {
            let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            ((pct * i64::from(desired) + 99) / 100) as i32
        }
    };
    let mut max_unavailable = scaled(ru.max_unavailable, 1);
    let max_surge = scaled(ru.max_surge, 0);
    if max_unavailable == 0 && max_surge == 0 {
        max_unavailable = 1;
    }
    Strategy::RollingUpdate {
        max_unavailable,
        max_surge,
    }
}

/// `(new, old)` live pod on a node, or `None` when there are duplicates (the manage pass
/// cleans those up first), as upstream's `findUpdatedPodsOnNode`.
fn updated_and_old(node: &NodeState) -> Option<(Option<&DaemonPod>, Option<&DaemonPod>)> {
    let mut new = None;
    let mut old = None;
    for p in node.pods.iter().filter(|p| !p.terminating) {
        let slot = if p.updated { &mut new } else { &mut old };
        if slot.is_some() {
            return None;
        }
        *slot = Some(p);
    }
    Some((new, old))
}

/// Plan one sync: the manage pass (a pod where one should run, none where none may stay,
/// failed and duplicate pods replaced), then the rolling update.
pub fn plan(nodes: &[NodeState], strategy: Strategy) -> Plan {
    let surge = matches!(strategy, Strategy::RollingUpdate { max_surge, .. } if max_surge > 0);
    let mut plan = Plan::default();
    for node in nodes {
        let exists = !node.pods.is_empty();
        if node.should_run && !exists {
            plan.create_on.push(node.name.clone());
        } else if node.should_continue {
            let mut running: Vec<&DaemonPod> = Vec::new();
            for p in node.pods.iter().filter(|p| !p.terminating) {
                if p.finished {
                    plan.delete.push(p.name.clone());
                } else {
                    running.push(p);
                }
            }
            running.sort_by_key(|p| p.created);
            if surge {
                // Keep the oldest updated and the oldest old pod; the rest are duplicates.
                let keep: HashSet<&str> = [
                    running.iter().find(|p| p.updated),
                    running.iter().find(|p| !p.updated),
                ]
                .into_iter()
                .flatten()
                .map(|p| p.name.as_str())
                .collect();
                plan.delete.extend(
                    running
                        .iter()
                        .filter(|p| !keep.contains(p.name.as_str()))
                        .map(|p| p.name.clone()),
                );
            } else if running.len() > 1 {
                plan.delete
                    .extend(running[1..].iter().map(|p| p.name.clone()));
            }
            if running.is_empty() && node.should_run {
                plan.create_on.push(node.name.clone());
            }
        } else if exists {
            plan.delete.extend(
                node.pods
                    .iter()
                    .filter(|p| !p.terminating)
                    .map(|p| p.name.clone()),
            );
        }
    }
    if let Strategy::RollingUpdate {
        max_unavailable,
        max_surge,
    } = strategy
    {
        let rolling = if max_surge == 0 {
            roll_replacing(nodes, max_unavailable)
        } else {
            roll_surging(nodes, max_surge)
        };
        for name in rolling.delete {
            if !plan.delete.contains(&name) {
                plan.delete.push(name);
            }
        }
        for node in rolling.create_on {
            if !plan.create_on.contains(&node) {
                plan.create_on.push(node);
            }
        }
    }
    plan
}

/// maxSurge 0: delete old pods, unavailable ones freely, available ones while fewer than
/// maxUnavailable nodes are without an available pod.
fn roll_replacing(nodes: &[NodeState], max_unavailable: i32) -> Plan {
    let mut unavailable = 0;
    let mut replace = Vec::new();
    let mut candidates = Vec::new();
    // Nodes that should run a daemon but have none count as unavailable too: the pod the
    // manage pass just created there is not available yet.
    for node in nodes.iter().filter(|n| n.should_run || !n.pods.is_empty()) {
        let Some((new, old)) = updated_and_old(node) else {
            unavailable += 1;
            continue;
        };
        match (new, old) {
            // Missing, or mid-replacement: the manage pass handles it; not available.
            (None, None) | (Some(_), Some(_)) => unavailable += 1,
            (Some(new), None) => {
                if !new.available {
                    unavailable += 1;
                }
            }
            (None, Some(old)) => {
                if !old.available {
                    replace.push(old.name.clone());
                } else if unavailable < max_unavailable {
                    candidates.push(old.name.clone());
                }
            }
        }
    }
    let room = (max_unavailable - unavailable).max(0) as usize;
    replace.extend(candidates.into_iter().take(room));
    Plan {
        create_on: Vec::new(),
        delete: replace,
    }
}

/// maxSurge > 0: start a new pod next to an old one on up to maxSurge nodes at a time;
/// delete the old pod once the new one is available.
fn roll_surging(nodes: &[NodeState], max_surge: i32) -> Plan {
    let mut surging = 0;
    let mut plan = Plan::default();
    let mut allowed = Vec::new();
    let mut candidates = Vec::new();
    for node in nodes.iter().filter(|n| !n.pods.is_empty()) {
        let Some((new, old)) = updated_and_old(node) else {
            continue;
        };
        match (new, old) {
            (_, None) => {}
            (None, Some(old)) => {
                if !old.available {
                    if !node.should_run {
                        plan.delete.push(old.name.clone());
                    } else {
                        allowed.push(node.name.clone());
                    }
                } else if surging < max_surge {
                    candidates.push(node.name.clone());
                }
            }
            (Some(new), Some(old)) => {
                if new.available {
                    plan.delete.push(old.name.clone());
                } else {
                    surging += 1;
                }
            }
        }
    }
    let room = (max_surge - surging).max(0) as usize;
    allowed.extend(candidates.into_iter().take(room));
    plan.create_on = allowed;
    plan
}

/// Labels of a new daemon pod: the template's plus the revision hash and generation.
pub fn pod_labels(
    template: &PodTemplateSpec,
    hash: &str,
    generation: i64,
) -> BTreeMap<String, String> {
    let mut labels = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(
        super::controller_history::CONTROLLER_REVISION_HASH.into(),
        hash.into(),
    );
    labels.insert(POD_TEMPLATE_GENERATION.into(), generation.to_string());
    labels
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::DaemonSetSpec;
    use k8s_openapi::api::core::v1::{NodeSpec, Taint};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn node(name: &str, taints: Vec<Taint>) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: Some(NodeSpec {
                taints: Some(taints),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn ds(tolerations: Vec<Toleration>) -> DaemonSet {
        DaemonSet {
            spec: Some(DaemonSetSpec {
                template: PodTemplateSpec {
                    metadata: None,
                    spec: Some(PodSpec {
                        tolerations: Some(tolerations),
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn taints_decide_eligibility_with_default_tolerations() {
        let d = ds(vec![]);
        assert_eq!(should_run(&d, &node("a", vec![])), (true, true));
        // Cordoned, unreachable, under pressure: daemons still run there.
        for key in [taints::UNSCHEDULABLE, taints::DISK_PRESSURE] {
            assert_eq!(
                should_run(&d, &node("a", vec![taints::taint(key, NO_SCHEDULE)])),
                (true, true)
            );
        }
        assert_eq!(
            should_run(
                &d,
                &node("a", vec![taints::taint(taints::UNREACHABLE, NO_EXECUTE)])
            ),
            (true, true)
        );
        // A foreign NoSchedule taint: no new pod, but a running one stays.
        let dedicated = taints::taint("dedicated", NO_SCHEDULE);
        assert_eq!(
            should_run(&d, &node("a", vec![dedicated.clone()])),
            (false, true)
        );
        // A foreign NoExecute taint: the pod must go.
        assert_eq!(
            should_run(&d, &node("a", vec![taints::taint("x", NO_EXECUTE)])),
            (false, false)
        );
        // A toleration admits it again.
        let tolerant = ds(vec![taints::exists_toleration("dedicated", NO_SCHEDULE)]);
        assert_eq!(
            should_run(&tolerant, &node("a", vec![dedicated])),
            (true, true)
        );
    }

    #[test]
    fn pods_are_pinned_by_affinity_not_node_name() {
        let t = pod_template_for(&PodTemplateSpec::default(), "n7");
        let pod = Pod {
            spec: t.spec.clone(),
            ..Default::default()
        };
        assert_eq!(target_node(&pod).as_deref(), Some("n7"));
        let spec = t.spec.unwrap_or_default();
        assert!(spec.node_name.is_none());
        assert_eq!(spec.tolerations.map(|t| t.len()), Some(6));
    }

    fn dpod(name: &str, updated: bool, available: bool, created: i64) -> DaemonPod {
        DaemonPod {
            name: name.into(),
            updated,
            terminating: false,
            finished: false,
            ready: available,
            available,
            created,
        }
    }

    fn state(
        name: &str,
        should_run: bool,
        should_continue: bool,
        pods: Vec<DaemonPod>,
    ) -> NodeState {
        NodeState {
            name: name.into(),
            should_run,
            should_continue,
            pods,
        }
    }

    const ON_DELETE: Strategy = Strategy::OnDelete;

    #[test]
    fn manage_creates_missing_deletes_misplaced_and_duplicates() {
        let nodes = vec![
            state("a", true, true, vec![]),
            state("b", false, false, vec![dpod("b1", true, true, 1)]),
            state(
                "c",
                true,
                true,
                vec![dpod("c2", true, true, 2), dpod("c1", true, true, 1)],
            ),
            state("d", false, true, vec![dpod("d1", true, true, 1)]),
        ];
        let p = plan(&nodes, ON_DELETE);
        assert_eq!(p.create_on, vec!["a".to_string()]);
        assert_eq!(p.delete, vec!["b1".to_string(), "c2".to_string()]);
    }

    #[test]
    fn rolling_update_respects_max_unavailable() {
        let nodes: Vec<NodeState> = (0..4)
            .map(|i| {
                state(
                    &format!("n{i}"),
                    true,
                    true,
                    vec![dpod(&format!("p{i}"), false, true, 0)],
                )
            })
            .collect();
        let p = plan(
            &nodes,
            Strategy::RollingUpdate {
                max_unavailable: 1,
                max_surge: 0,
            },
        );
        assert_eq!(p.delete.len(), 1);
        // One node already has an unavailable new pod: no more deletions.
        let mut busy = nodes.clone();
        busy[0].pods = vec![dpod("new0", true, false, 5)];
        let p = plan(
            &busy,
            Strategy::RollingUpdate {
                max_unavailable: 1,
                max_surge: 0,
            },
        );
        assert!(p.delete.is_empty());
        let p = plan(
            &busy,
            Strategy::RollingUpdate {
                max_unavailable: 2,
                max_surge: 0,
            },
        );
        assert_eq!(p.delete.len(), 1);
        // A node whose old pod is already gone (replacement not created yet) counts as
        // unavailable: no further deletion.
        let mut gap = nodes.clone();
        gap[0].pods.clear();
        let p = plan(
            &gap,
            Strategy::RollingUpdate {
                max_unavailable: 1,
                max_surge: 0,
            },
        );
        assert!(p.delete.is_empty(), "{p:?}");
        assert_eq!(p.create_on, vec!["n0".to_string()]);
    }

    #[test]
    fn surge_creates_next_to_old_and_deletes_old_once_new_is_available() {
        let nodes = vec![
            state("a", true, true, vec![dpod("a-old", false, true, 0)]),
            state("b", true, true, vec![dpod("b-old", false, true, 0)]),
        ];
        let p = plan(
            &nodes,
            Strategy::RollingUpdate {
                max_unavailable: 0,
                max_surge: 1,
            },
        );
        assert_eq!(p.create_on.len(), 1);
        assert!(p.delete.is_empty());
        let mut next = nodes.clone();
        next[0].pods.push(dpod("a-new", true, true, 1));
        let p = plan(
            &next,
            Strategy::RollingUpdate {
                max_unavailable: 0,
                max_surge: 1,
            },
        );
        assert_eq!(p.delete, vec!["a-old".to_string()]);
        assert_eq!(p.create_on, vec!["b".to_string()]);
    }

    #[test]
    fn percentages_round_up_against_desired() {
        let mut d = ds(vec![]);
        if let Some(spec) = d.spec.as_mut() {
            spec.update_strategy = Some(k8s_openapi::api::apps::v1::DaemonSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(k8s_openapi::api::apps::v1::RollingUpdateDaemonSet {
                    max_unavailable: Some(IntOrString::String("10%".into())),
                    max_surge: Some(IntOrString::Int(0)),
                }),
            });
        }
        assert_eq!(
            resolve_strategy(&d, 15),
            Strategy::RollingUpdate {
                max_unavailable: 2,
                max_surge: 0
            }
        );
    }
}
