//! PodTopologySpread: `topologySpreadConstraints` keep the number of matching pods per
//! topology domain within `maxSkew`. `DoNotSchedule` constraints filter; `ScheduleAnyway`
//! constraints score, preferring the emptier domains.
//!
//! A pod without constraints of its own gets the profile's default constraints
//! (`defaultConstraints`, or upstream's system defaults: zone maxSkew 5 and hostname maxSkew
//! 3, both ScheduleAnyway), with the selector of the Services, ReplicationControllers,
//! ReplicaSets and StatefulSets that select it ([`default_selector`]); none select it: no
//! spreading.
//!
//! Counts come from the snapshot, which holds bound and assumed pods alike, so pods
//! scheduled one after another in a burst see each other.
//!
//! PreFilter's counts are summed from the cache's [`PodLabelIndex`] (a selector is matched
//! once per label set, not once per pod), and which domain each node belongs to — which
//! depends only on node labels and the pod's node affinity, tolerations and topology keys —
//! is remembered across cycles until a node changes. A cycle then costs O(label sets ×
//! nodes) integer additions instead of a walk over every node's pods. Without an index
//! (preemption's what-if snapshots) the counts are made by walking the nodes.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::{Pod, Taint, TopologySpreadConstraint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use super::default_selector::default_selector;
use super::node_affinity::required_matches;
use super::taint_toleration::tolerates;
use crate::framework::handle::Handle;
use crate::framework::label_selector::selector_matches;
use crate::framework::pod_label_index::PodLabelIndex;
use crate::framework::{CycleState, FilterPlugin, NodeInfo, ScorePlugin, Status, MAX_NODE_SCORE};

/// Upstream's `ErrReasonConstraintsNotMatch`.
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints";
/// Upstream's `ErrReasonNodeLabelNotMatch`: the node lacks a constraint's topology key.
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

const HOSTNAME_KEY: &str = "kubernetes.io/hostname";
const FILTER_STATE: &str = "PreFilterPodTopologySpread";
const SCORE_STATE: &str = "PreScorePodTopologySpread";

/// One constraint, with its selector already extended by `matchLabelKeys`.
#[derive(Debug, Clone)]
struct Constraint {
    max_skew: i64,
    topology_key: String,
    selector: LabelSelector,
    min_domains: i64,
    honor_node_affinity: bool,
    honor_node_taints: bool,
}

impl Constraint {
    fn from_api(c: &TopologySpreadConstraint, pod: &Pod) -> Option<Constraint> {
        // A nil selector selects no pods; every domain then counts 0.
        let mut selector = c.label_selector.clone().unwrap_or(LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "no-pod-has-this-key".into(),
                operator: "Exists".into(),
                values: None,
            }]),
            match_labels: None,
        });
        // matchLabelKeys: the incoming pod's values for these keys join the selector.
        let labels = pod.metadata.labels.as_ref();
        for key in c.match_label_keys.iter().flatten() {
            if let Some(value) = labels.and_then(|l| l.get(key)) {
                selector
                    .match_expressions
                    .get_or_insert_with(Vec::new)
                    .push(LabelSelectorRequirement {
                        key: key.clone(),
                        operator: "In".into(),
                        values: Some(vec![value.clone()]),
                    });
            }
        }
        Some(Constraint {
            max_skew: i64::from(c.max_skew.max(1)),
            topology_key: c.topology_key.clone(),
            selector,
            min_domains: i64::from(c.min_domains.unwrap_or(1).max(1)),
            honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
            honor_node_taints: c.node_taints_policy.as_deref() == Some("Honor"),
        })
    }

    /// Whether pods on `node` count towards this constraint's domains (the node
    /// inclusion policies of upstream).
    fn counts_node(&self, pod: &Pod, node: &NodeInfo) -> bool {
        if self.honor_node_affinity && !required_matches(pod, node) {
            return false;
        }
        if self.honor_node_taints {
            let tolerations = pod
                .spec
                .as_ref()
                .and_then(|s| s.tolerations.as_deref())
                .unwrap_or_default();
            let taints: &[Taint] = node
                .node
                .spec
                .as_ref()
                .and_then(|s| s.taints.as_deref())
                .unwrap_or_default();
            let untolerated = taints.iter().any(|t| {
                (t.effect == "NoSchedule" || t.effect == "NoExecute")
                    && !tolerations.iter().any(|tol| tolerates(tol, t))
            });
            if untolerated {
                return false;
            }
        }
        true
    }

    /// How many pods on `node` in `namespace` this constraint selects (terminating pods
    /// are on their way out and do not count).
    fn count_on(&self, node: &NodeInfo, namespace: &str) -> i64 {
        node.pods
            .iter()
            .filter(|p| {
                p.metadata.namespace.as_deref().unwrap_or_default() == namespace
                    && p.metadata.deletion_timestamp.is_none()
                    && selector_matches(&self.selector, p.metadata.labels.as_ref())
            })
            .count() as i64
    }
}

fn node_label<'a>(node: &'a NodeInfo, key: &str) -> Option<&'a str> {
    node.node
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(key))
        .map(String::as_str)
}

fn has_all_keys(node: &NodeInfo, constraints: &[Constraint]) -> bool {
    constraints
        .iter()
        .all(|c| node_label(node, &c.topology_key).is_some())
}

/// The pod's constraints for one `whenUnsatisfiable` action.
fn own_constraints(pod: &Pod) -> &[TopologySpreadConstraint] {
    pod.spec
        .as_ref()
        .and_then(|s| s.topology_spread_constraints.as_deref())
        .unwrap_or_default()
}

/// Upstream's system default constraints (`defaultingType: System`).
pub fn system_default_constraints() -> Vec<TopologySpreadConstraint> {
    [("topology.kubernetes.io/zone", 5), (HOSTNAME_KEY, 3)]
        .into_iter()
        .map(|(key, skew)| TopologySpreadConstraint {
            topology_key: key.into(),
            max_skew: skew,
            when_unsatisfiable: "ScheduleAnyway".into(),
            ..Default::default()
        })
        .collect()
}

/// One constraint's domains: which domain each value names and how many matching pods
/// each holds.
#[derive(Clone)]
struct Domains {
    /// Domain value -> position in `counts` (shared with the cross-cycle cache).
    positions: Arc<HashMap<String, usize>>,
    /// Matching pods per domain.
    counts: Vec<i64>,
    /// The smallest count over the domains, or 0 when fewer domains exist than
    /// `minDomains` asks for (the missing domains count as empty); computed once per cycle.
    min_match: i64,
}

impl Domains {
    fn new(positions: Arc<HashMap<String, usize>>, counts: Vec<i64>, min_domains: i64) -> Domains {
        let min_match = if (counts.len() as i64) < min_domains {
            0
        } else {
            counts.iter().copied().min().unwrap_or(0)
        };
        Domains {
            positions,
            counts,
            min_match,
        }
    }

    /// One more matching pod in domain `value` (a nominated pod), which becomes a domain
    /// if it was none.
    fn add_one(&mut self, value: &str, min_domains: i64) {
        match self.positions.get(value) {
            Some(&p) => self.counts[p] += 1,
            None => {
                Arc::make_mut(&mut self.positions).insert(value.to_string(), self.counts.len());
                self.counts.push(1);
            }
        }
        let counts = std::mem::take(&mut self.counts);
        *self = Domains::new(self.positions.clone(), counts, min_domains);
    }

    fn count(&self, value: &str) -> i64 {
        self.positions
            .get(value)
            .map(|&p| self.counts[p])
            .unwrap_or(0)
    }
}

/// PreFilter result: per constraint, matching pods per domain.
#[derive(Clone)]
struct FilterState {
    constraints: Vec<Constraint>,
    /// Parallel to `constraints`.
    domains: Vec<Domains>,
    /// Parallel to `constraints`: 1 when the incoming pod matches the constraint's selector
    /// (it would count in the domain it lands in), matched once per cycle, not per node.
    self_match: Vec<i64>,
}

impl FilterState {
    fn new(pod: &Pod, constraints: Vec<Constraint>, domains: Vec<Domains>) -> FilterState {
        let self_match = constraints
            .iter()
            .map(|c| i64::from(selector_matches(&c.selector, pod.metadata.labels.as_ref())))
            .collect();
        FilterState {
            constraints,
            domains,
            self_match,
        }
    }
}

/// Which domain every node of the snapshot belongs to, per constraint (`None`: the node
/// lacks a key or is excluded by the node inclusion policies).
struct EligibleDomains {
    /// Per constraint: node position -> domain position.
    node_domain: Vec<Vec<Option<usize>>>,
    /// Per constraint: domain value -> domain position.
    positions: Vec<Arc<HashMap<String, usize>>>,
}

impl EligibleDomains {
    fn compute(pod: &Pod, constraints: &[Constraint], nodes: &[NodeInfo]) -> EligibleDomains {
        let mut node_domain = vec![vec![None; nodes.len()]; constraints.len()];
        let mut positions: Vec<HashMap<String, usize>> = vec![HashMap::new(); constraints.len()];
        for (n, node) in nodes.iter().enumerate() {
            // Domains come only from nodes carrying every constraint's key.
            if !has_all_keys(node, constraints) {
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if !c.counts_node(pod, node) {
                    continue;
                }
                let value = node_label(node, &c.topology_key).unwrap_or_default();
                let next = positions[i].len();
                let p = match positions[i].get(value) {
                    Some(&p) => p,
                    None => {
                        positions[i].insert(value.to_string(), next);
                        next
                    }
                };
                node_domain[i][n] = Some(p);
            }
        }
        EligibleDomains {
            node_domain,
            positions: positions.into_iter().map(Arc::new).collect(),
        }
    }
}

/// What decides a pod's eligible domains besides the nodes: the constraints' keys and
/// policies, and the pod's node selector, required node affinity and tolerations.
fn eligibility_signature(pod: &Pod, constraints: &[Constraint]) -> String {
    let spec = pod.spec.as_ref();
    let keys: Vec<(&str, bool, bool)> = constraints
        .iter()
        .map(|c| {
            (
                c.topology_key.as_str(),
                c.honor_node_affinity,
                c.honor_node_taints,
            )
        })
        .collect();
    let affinity = spec
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    serde_json::to_string(&(
        keys,
        spec.and_then(|s| s.node_selector.as_ref()),
        affinity,
        spec.and_then(|s| s.tolerations.as_ref()),
    ))
    .unwrap_or_default()
}

/// The last eligible domains computed, with the node generation and signature they hold
/// for (consecutive pods of one workload share both).
type EligibleCache = Option<(u64, String, Arc<EligibleDomains>)>;

/// The PodTopologySpread filter and score.
#[derive(Default)]
pub struct PodTopologySpread {
    eligible: Mutex<EligibleCache>,
    /// Constraints for pods without their own (selector filled in per pod).
    defaults: Vec<TopologySpreadConstraint>,
    /// Whether `defaults` are upstream's system defaults (nodes lacking a topology key are
    /// then scored, not ignored).
    system_defaulted: bool,
    /// Where the workloads selecting a pod are looked up; `None`: no defaults apply.
    handle: Option<Handle>,
}

impl PodTopologySpread {
    /// The plugin with `defaults` for pods without constraints (`system_defaulted` when
    /// they are upstream's system defaults), reading workload selectors from `handle`.
    pub fn new(
        defaults: Vec<TopologySpreadConstraint>,
        system_defaulted: bool,
        handle: Handle,
    ) -> PodTopologySpread {
        PodTopologySpread {
            eligible: Mutex::default(),
            defaults,
            system_defaulted,
            handle: Some(handle),
        }
    }

    /// The pod's constraints with `whenUnsatisfiable == action` (upstream's
    /// `filterTopologySpreadConstraints` / `buildDefaultConstraints`), and whether every
    /// node must carry every topology key (false only for system defaults).
    fn constraints(&self, pod: &Pod, action: &str) -> (Vec<Constraint>, bool) {
        let own = own_constraints(pod);
        if !own.is_empty() {
            let cs = own
                .iter()
                .filter(|c| c.when_unsatisfiable == action)
                .filter_map(|c| Constraint::from_api(c, pod))
                .collect();
            return (cs, true);
        }
        let require_all = !self.system_defaulted;
        let mut defaults = self
            .defaults
            .iter()
            .filter(|c| c.when_unsatisfiable == action)
            .peekable();
        if defaults.peek().is_none() {
            return (Vec::new(), require_all);
        }
        let Some(selector) = self.handle.as_ref().and_then(|h| default_selector(pod, h)) else {
            return (Vec::new(), require_all);
        };
        let cs = defaults
            .filter_map(|c| {
                let with_selector = TopologySpreadConstraint {
                    label_selector: Some(selector.clone()),
                    ..c.clone()
                };
                Constraint::from_api(&with_selector, pod)
            })
            .collect();
        (cs, require_all)
    }

    /// The eligible domains for `pod` at node generation `generation`, from the cache when
    /// neither the nodes nor the signature changed.
    fn eligible_domains(
        &self,
        pod: &Pod,
        constraints: &[Constraint],
        nodes: &[NodeInfo],
        generation: u64,
    ) -> Arc<EligibleDomains> {
        let signature = eligibility_signature(pod, constraints);
        let mut cached = self.eligible.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((g, sig, domains)) = cached.as_ref() {
            if *g == generation && *sig == signature {
                return domains.clone();
            }
        }
        let domains = Arc::new(EligibleDomains::compute(pod, constraints, nodes));
        *cached = Some((generation, signature, domains.clone()));
        domains
    }
}

impl PodTopologySpread {
    /// PreScore's counts of matching pods per domain, from `index` or by walking.
    fn pre_score_counting(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[NodeInfo],
        feasible: &[usize],
        index: Option<&PodLabelIndex>,
    ) {
        let (constraints, require_all) = self.constraints(pod, "ScheduleAnyway");
        if constraints.is_empty() {
            return;
        }
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        let mut ignored = HashSet::new();
        let mut domains: Vec<HashSet<String>> = vec![HashSet::new(); constraints.len()];
        let mut eligible = 0usize;
        for &i in feasible {
            let node = &nodes[i];
            if require_all && !has_all_keys(node, &constraints) {
                ignored.insert(node.name().to_string());
                continue;
            }
            eligible += 1;
            for (j, c) in constraints.iter().enumerate() {
                // System defaults: a node without the key just has no domain for it.
                if let Some(value) = node_label(node, &c.topology_key) {
                    domains[j].insert(value.to_string());
                }
            }
        }
        let weights = constraints
            .iter()
            .enumerate()
            .map(|(j, c)| {
                let size = if c.topology_key == HOSTNAME_KEY {
                    eligible
                } else {
                    domains[j].len()
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        // Per constraint, matching pods per node position, from the index's label sets.
        let indexed: Option<Vec<Vec<i64>>> = index.map(|index| {
            constraints
                .iter()
                .map(|c| {
                    let mut per_node = vec![0i64; nodes.len()];
                    let matching = index.groups().filter(|g| {
                        !g.terminating
                            && g.namespace == namespace
                            && selector_matches(&c.selector, Some(&g.labels))
                    });
                    for group in matching {
                        for (n, &count) in group.per_node.iter().enumerate() {
                            if let Some(slot) = per_node.get_mut(n) {
                                *slot += count;
                            }
                        }
                    }
                    per_node
                })
                .collect()
        });
        let mut counts = vec![HashMap::new(); constraints.len()];
        for (n, node) in nodes.iter().enumerate() {
            if require_all && !has_all_keys(node, &constraints) {
                continue;
            }
            for (j, c) in constraints.iter().enumerate() {
                let Some(value) = node_label(node, &c.topology_key) else {
                    continue;
                };
                if !domains[j].contains(value) || !c.counts_node(pod, node) {
                    continue;
                }
                let count = match &indexed {
                    Some(per_node) => per_node[j][n],
                    None => c.count_on(node, namespace),
                };
                *counts[j].entry(value.to_string()).or_insert(0) += count;
            }
        }
        state.write(
            SCORE_STATE,
            ScoreState {
                constraints,
                counts,
                weights,
                ignored,
            },
        );
    }
}

impl FilterPlugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        "PodTopologySpread"
    }

    /// Without an index: walk every node's pods.
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[NodeInfo],
    ) -> Result<(), Status> {
        let (constraints, _) = self.constraints(pod, "DoNotSchedule");
        if constraints.is_empty() {
            return Ok(());
        }
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        let eligible = EligibleDomains::compute(pod, &constraints, nodes);
        let domains = constraints
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut counts = vec![0; eligible.positions[i].len()];
                for (n, node) in nodes.iter().enumerate() {
                    if let Some(d) = eligible.node_domain[i][n] {
                        counts[d] += c.count_on(node, namespace);
                    }
                }
                Domains::new(eligible.positions[i].clone(), counts, c.min_domains)
            })
            .collect();
        state.write(FILTER_STATE, FilterState::new(pod, constraints, domains));
        Ok(())
    }

    /// With the cache's index: sum the matching label sets' per-node counts.
    fn pre_filter_indexed(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[NodeInfo],
        index: &PodLabelIndex,
    ) -> Result<(), Status> {
        let (constraints, _) = self.constraints(pod, "DoNotSchedule");
        if constraints.is_empty() {
            return Ok(());
        }
        let namespace = pod.metadata.namespace.as_deref().unwrap_or_default();
        let eligible = self.eligible_domains(pod, &constraints, nodes, index.generation());
        let domains = constraints
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let node_domain = &eligible.node_domain[i];
                let mut counts = vec![0; eligible.positions[i].len()];
                let matching = index.groups().filter(|g| {
                    !g.terminating
                        && g.namespace == namespace
                        && selector_matches(&c.selector, Some(&g.labels))
                });
                for group in matching {
                    for (n, &count) in group.per_node.iter().enumerate() {
                        if count == 0 {
                            continue;
                        }
                        if let Some(Some(d)) = node_domain.get(n) {
                            counts[*d] += count;
                        }
                    }
                }
                Domains::new(eligible.positions[i].clone(), counts, c.min_domains)
            })
            .collect();
        state.write(FILTER_STATE, FilterState::new(pod, constraints, domains));
        Ok(())
    }

    /// Upstream's `updateWithPod`: a pod of the same namespace nominated to a node that
    /// carries every topology key counts in that node's domain for each constraint that
    /// selects it and whose node inclusion policies admit the node.
    fn pre_filter_add_pod(&self, state: &mut CycleState, pod: &Pod, added: &Pod, node: &NodeInfo) {
        let Some(st) = state.read::<FilterState>(FILTER_STATE) else {
            return;
        };
        if added.metadata.namespace != pod.metadata.namespace
            || !has_all_keys(node, &st.constraints)
        {
            return;
        }
        let mut st = st.clone();
        let mut changed = false;
        for (c, domains) in st.constraints.iter().zip(st.domains.iter_mut()) {
            if !selector_matches(&c.selector, added.metadata.labels.as_ref())
                || !c.counts_node(pod, node)
            {
                continue;
            }
            let value = node_label(node, &c.topology_key).unwrap_or_default();
            domains.add_one(value, c.min_domains);
            changed = true;
        }
        if changed {
            state.write(FILTER_STATE, st);
        }
    }

    fn filter(&self, state: &CycleState, _pod: &Pod, node: &NodeInfo) -> Result<(), Status> {
        let Some(st) = state.read::<FilterState>(FILTER_STATE) else {
            return Ok(());
        };
        let constraints = st.constraints.iter().zip(&st.domains).zip(&st.self_match);
        for ((c, domains), &self_match) in constraints {
            let Some(value) = node_label(node, &c.topology_key) else {
                return Err(Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH));
            };
            let skew = domains.count(value) + self_match - domains.min_match;
            if skew > c.max_skew {
                return Err(Status::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH));
            }
        }
        Ok(())
    }
}

/// PreScore result for the `ScheduleAnyway` constraints.
struct ScoreState {
    constraints: Vec<Constraint>,
    /// Parallel to `constraints`: domain value -> matching pods (domains of feasible nodes).
    counts: Vec<HashMap<String, i64>>,
    /// Parallel to `constraints`: log(domains + 2), so constraints over many domains weigh less.
    weights: Vec<f64>,
    /// Feasible nodes lacking a topology key: they get the worst score.
    ignored: HashSet<String>,
}

impl ScorePlugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        "PodTopologySpread"
    }

    /// Without an index: walk every node's pods.
    fn pre_score(&self, state: &mut CycleState, pod: &Pod, nodes: &[NodeInfo], feasible: &[usize]) {
        self.pre_score_counting(state, pod, nodes, feasible, None)
    }

    /// With the cache's index: sum the matching label sets' per-node counts.
    fn pre_score_indexed(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[NodeInfo],
        feasible: &[usize],
        index: &PodLabelIndex,
    ) {
        self.pre_score_counting(state, pod, nodes, feasible, Some(index))
    }

    fn score(&self, state: &CycleState, _pod: &Pod, node: &NodeInfo) -> i64 {
        let Some(st) = state.read::<ScoreState>(SCORE_STATE) else {
            return 0;
        };
        if st.ignored.contains(node.name()) {
            return IGNORED;
        }
        let mut score = 0.0;
        for (j, c) in st.constraints.iter().enumerate() {
            if let Some(value) = node_label(node, &c.topology_key) {
                let count = st.counts[j].get(value).copied().unwrap_or(0);
                score += count as f64 * st.weights[j] + (c.max_skew - 1) as f64;
            }
        }
        score.round() as i64
    }

    /// Fewer matching pods is better; nodes lacking a topology key get 0 (`score` marks
    /// them with the sentinel [`IGNORED`], which no real count produces).
    fn normalize(&self, state: &CycleState, _pod: &Pod, scores: &mut [i64]) {
        if state.read::<ScoreState>(SCORE_STATE).is_none() {
            return;
        }
        let considered = scores.iter().copied().filter(|s| *s != IGNORED);
        let (min, max) =
            considered.fold((i64::MAX, i64::MIN), |(lo, hi), s| (lo.min(s), hi.max(s)));
        for s in scores.iter_mut() {
            *s = if *s == IGNORED {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *s) / max
            };
        }
    }
}

/// Raw score of a node that lacks a topology key.
pub const IGNORED: i64 = i64::MIN;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::testing::{node, pod};
    use serde_json::{json, Value};

    fn zoned(name: &str, zone: &str) -> NodeInfo {
        node(
            name,
            json!({"metadata": {"labels": {"zone": zone, HOSTNAME_KEY: name}}}),
        )
    }

    fn labelled_pod(app: &str, extra: Value) -> Pod {
        let mut p = pod(extra);
        p.metadata.labels = Some([("app".to_string(), app.to_string())].into());
        p
    }

    fn spread(action: &str, max_skew: i32) -> Value {
        json!({"topologySpreadConstraints": [{"maxSkew": max_skew, "topologyKey": "zone",
            "whenUnsatisfiable": action, "labelSelector": {"matchLabels": {"app": "web"}}}]})
    }

    fn filter_all(p: &Pod, nodes: &[NodeInfo]) -> Vec<Result<(), Status>> {
        let mut state = CycleState::default();
        PodTopologySpread::default()
            .pre_filter(&mut state, p, nodes)
            .expect("prefilter");
        nodes
            .iter()
            .map(|n| PodTopologySpread::default().filter(&state, p, n))
            .collect()
    }

    #[test]
    fn do_not_schedule_rejects_the_fuller_zone() {
        let mut a = zoned("a", "z1");
        a.add_pod(&labelled_pod("web", json!({})));
        // A pod of another app does not count.
        let mut b = zoned("b", "z2");
        b.add_pod(&labelled_pod("db", json!({})));
        let p = labelled_pod("web", spread("DoNotSchedule", 1));
        let results = filter_all(&p, &[a, b, node("no-zone", json!({}))]);
        assert_eq!(
            results[0],
            Err(Status::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH))
        );
        assert_eq!(results[1], Ok(()));
        assert_eq!(
            results[2],
            Err(Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH))
        );
    }

    #[test]
    fn max_skew_and_min_domains() {
        let mut a = zoned("a", "z1");
        a.add_pod(&labelled_pod("web", json!({})));
        let b = zoned("b", "z2");
        let p = labelled_pod("web", spread("DoNotSchedule", 2));
        assert!(filter_all(&p, &[a.clone(), b.clone()])
            .iter()
            .all(Result::is_ok));
        // minDomains 3 with 2 domains: the global minimum counts as 0, so one more pod
        // in z1 (skew 2) is fine with maxSkew 2 but not with maxSkew 1.
        let mut c = json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone",
            "whenUnsatisfiable": "DoNotSchedule", "minDomains": 3,
            "labelSelector": {"matchLabels": {"app": "web"}}}]});
        let p = labelled_pod("web", c.take());
        let results = filter_all(&p, &[a, b]);
        assert!(results[0].is_err());
        assert!(results[1].is_ok());
    }

    #[test]
    fn node_affinity_policy_honor_drops_excluded_domains() {
        let mut a = zoned("a", "z1");
        a.add_pod(&labelled_pod("web", json!({})));
        let b = zoned("b", "z2");
        // The pod can only go to z1 nodes: z2 is not a domain, so z1 is not "fuller".
        let mut spec = spread("DoNotSchedule", 1);
        spec["nodeSelector"] = json!({"zone": "z1"});
        let p = labelled_pod("web", spec);
        assert!(filter_all(&p, &[a, b])[0].is_ok());
    }

    #[test]
    fn schedule_anyway_prefers_the_emptier_zone() {
        let mut a = zoned("a", "z1");
        a.add_pod(&labelled_pod("web", json!({})));
        a.add_pod(&labelled_pod("web", json!({})));
        let b = zoned("b", "z2");
        let nodes = [a, b, node("no-zone", json!({}))];
        let p = labelled_pod("web", spread("ScheduleAnyway", 1));
        let mut state = CycleState::default();
        PodTopologySpread::default().pre_score(&mut state, &p, &nodes, &[0, 1, 2]);
        let mut scores: Vec<i64> = nodes
            .iter()
            .map(|n| PodTopologySpread::default().score(&state, &p, n))
            .collect();
        PodTopologySpread::default().normalize(&state, &p, &mut scores);
        assert!(scores[1] > scores[0], "{scores:?}");
        assert_eq!(scores[1], MAX_NODE_SCORE);
        assert_eq!(scores[2], 0);
    }

    #[test]
    fn pods_without_constraints_are_left_alone() {
        let p = pod(json!({}));
        assert!(filter_all(&p, &[zoned("a", "z1")])
            .iter()
            .all(Result::is_ok));
    }

    /// A handle whose only workload is a Service selecting `app: web` in `default`.
    fn handle_with_web_service() -> Handle {
        let (handle, mut writers) = Handle::new();
        let svc =
            serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}}}))
            .expect("service");
        writers
            .services
            .apply_watcher_event(&kube::runtime::watcher::Event::Apply(svc));
        handle
    }

    #[test]
    fn list_default_constraints_take_the_service_selector() {
        let plugin = PodTopologySpread::new(
            serde_json::from_value(json!([{"maxSkew": 1, "topologyKey": "zone",
                "whenUnsatisfiable": "DoNotSchedule"}]))
            .expect("constraints"),
            false,
            handle_with_web_service(),
        );
        let mut a = zoned("a", "z1");
        a.add_pod(&labelled_pod("web", json!({})));
        let nodes = [a, zoned("b", "z2")];
        let run = |p: &Pod| {
            let mut state = CycleState::default();
            plugin.pre_filter(&mut state, p, &nodes).expect("prefilter");
            nodes
                .iter()
                .map(|n| plugin.filter(&state, p, n).is_ok())
                .collect::<Vec<_>>()
        };
        // Selected by the Service: spread like its siblings, z1 is full.
        assert_eq!(run(&labelled_pod("web", json!({}))), [false, true]);
        // Selected by nothing: no default applies.
        assert_eq!(run(&labelled_pod("db", json!({}))), [true, true]);
        // Its own constraints win over the defaults (none here filter: ScheduleAnyway).
        assert_eq!(
            run(&labelled_pod("web", spread("ScheduleAnyway", 1))),
            [true, true]
        );
    }

    #[test]
    fn system_defaults_score_the_emptier_host_and_keep_unlabelled_nodes() {
        let plugin = PodTopologySpread::new(
            system_default_constraints(),
            true,
            handle_with_web_service(),
        );
        let mut busy = zoned("busy", "z1");
        busy.add_pod(&labelled_pod("web", json!({})));
        let nodes = [busy, zoned("idle", "z1"), node("bare", json!({}))];
        let p = labelled_pod("web", json!({}));
        let mut state = CycleState::default();
        plugin.pre_score(&mut state, &p, &nodes, &[0, 1, 2]);
        let mut scores: Vec<i64> = nodes.iter().map(|n| plugin.score(&state, &p, n)).collect();
        // The unlabelled node is scored (not ignored) under system defaults.
        assert!(scores.iter().all(|s| *s != IGNORED), "{scores:?}");
        plugin.normalize(&state, &p, &mut scores);
        assert!(scores[1] > scores[0], "{scores:?}");
    }

    #[test]
    fn indexed_counts_equal_the_walk_and_follow_node_changes() {
        let mut nodes = Vec::new();
        let mut index = PodLabelIndex::default();
        for (i, zone) in ["z1", "z1", "z2", "z3"].iter().enumerate() {
            nodes.push(zoned(&format!("n{i}"), zone));
            index.push_node();
        }
        let mut add = |nodes: &mut Vec<NodeInfo>, i: usize, p: Pod| {
            index.count(&p, i, 1);
            nodes[i].add_pod(&p);
        };
        add(&mut nodes, 0, labelled_pod("web", json!({})));
        add(&mut nodes, 1, labelled_pod("web", json!({})));
        add(&mut nodes, 2, labelled_pod("web", json!({})));
        add(&mut nodes, 3, labelled_pod("db", json!({})));
        let p = labelled_pod("web", spread("DoNotSchedule", 1));
        let plugin = PodTopologySpread::default();
        let run =
            |plugin: &PodTopologySpread, index: Option<&PodLabelIndex>, nodes: &[NodeInfo]| {
                let mut state = CycleState::default();
                match index {
                    Some(ix) => plugin.pre_filter_indexed(&mut state, &p, nodes, ix),
                    None => plugin.pre_filter(&mut state, &p, nodes),
                }
                .expect("prefilter");
                nodes
                    .iter()
                    .map(|n| plugin.filter(&state, &p, n).is_ok())
                    .collect::<Vec<_>>()
            };
        // z1 holds 2, z2 1, z3 0: only z3 stays within maxSkew 1.
        let walked = run(&plugin, None, &nodes);
        assert_eq!(walked, vec![false, false, false, true]);
        assert_eq!(run(&plugin, Some(&index), &nodes), walked);
        // Cached domains are reused while the generation holds, recomputed after a change:
        // n3 moves to z1, leaving z2 (1 pod) as the emptiest domain.
        nodes[3] = {
            let mut n = zoned("n3", "z1");
            n.add_pod(&labelled_pod("db", json!({})));
            n
        };
        index.node_changed();
        let walked = run(&plugin, None, &nodes);
        assert_eq!(walked, vec![false, false, true, false]);
        assert_eq!(run(&plugin, Some(&index), &nodes), walked);
    }

    #[test]
    fn indexed_scores_equal_the_walk() {
        let mut nodes = Vec::new();
        let mut index = PodLabelIndex::default();
        for (i, zone) in ["z1", "z1", "z2", "z3"].iter().enumerate() {
            nodes.push(zoned(&format!("n{i}"), zone));
            index.push_node();
        }
        for (i, app) in [(0, "web"), (0, "web"), (1, "web"), (2, "db"), (3, "web")] {
            let p = labelled_pod(app, json!({}));
            index.count(&p, i, 1);
            nodes[i].add_pod(&p);
        }
        let p = labelled_pod("web", spread("ScheduleAnyway", 1));
        let plugin = PodTopologySpread::default();
        let scores = |index: Option<&PodLabelIndex>| {
            let mut state = CycleState::default();
            match index {
                Some(ix) => plugin.pre_score_indexed(&mut state, &p, &nodes, &[0, 1, 2, 3], ix),
                None => plugin.pre_score(&mut state, &p, &nodes, &[0, 1, 2, 3]),
            }
            let mut s: Vec<i64> = nodes.iter().map(|n| plugin.score(&state, &p, n)).collect();
            plugin.normalize(&state, &p, &mut s);
            s
        };
        let walked = scores(None);
        // z2 holds no web pod: its node scores best; z1 (3 pods) worst.
        assert_eq!(walked[2], MAX_NODE_SCORE);
        assert!(walked[0] < walked[3], "{walked:?}");
        assert_eq!(scores(Some(&index)), walked);
    }

    fn random_spread_pod(rng: &mut rand::rngs::StdRng) -> Pod {
        use super::super::random_cluster::{choose, incoming_pod};
        use rand::Rng;
        let constraints: Vec<Value> = (0..rng.random_range(1..=2))
            .map(|_| {
                let mut c = json!({
                    "maxSkew": rng.random_range(1..=2),
                    "topologyKey": choose(rng, &["zone", HOSTNAME_KEY, "rack"]),
                    "whenUnsatisfiable": choose(rng, &["DoNotSchedule", "DoNotSchedule", "ScheduleAnyway"]),
                    "labelSelector": if rng.random_bool(0.5) {
                        json!({"matchLabels": {"app": "web"}})
                    } else {
                        json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "db"]}]})
                    },
                });
                if rng.random_bool(0.3) {
                    c["minDomains"] = json!(rng.random_range(1..=4));
                }
                if rng.random_bool(0.4) {
                    c["nodeAffinityPolicy"] = json!(choose(rng, &["Honor", "Ignore"]));
                }
                if rng.random_bool(0.4) {
                    c["nodeTaintsPolicy"] = json!(choose(rng, &["Honor", "Ignore"]));
                }
                if rng.random_bool(0.3) {
                    c["matchLabelKeys"] = json!(["ver"]);
                }
                c
            })
            .collect();
        incoming_pod(rng, json!({"topologySpreadConstraints": constraints}))
    }

    fn filters(
        plugin: &PodTopologySpread,
        p: &Pod,
        nodes: &[NodeInfo],
        index: Option<&PodLabelIndex>,
    ) -> Vec<Result<(), Status>> {
        let mut state = CycleState::default();
        match index {
            Some(ix) => plugin.pre_filter_indexed(&mut state, p, nodes, ix),
            None => plugin.pre_filter(&mut state, p, nodes),
        }
        .expect("prefilter");
        nodes.iter().map(|n| plugin.filter(&state, p, n)).collect()
    }

    /// Randomised clusters: filter and score results from the index (with the cross-cycle
    /// domain cache, across node relabelling) equal the walk over every node's pods.
    #[test]
    fn random_clusters_indexed_equals_the_walk() {
        use super::super::random_cluster::{cluster, relabel, rng};
        use rand::Rng;
        for seed in 0..400 {
            let mut rng = rng(seed);
            let mut c = cluster(&mut rng);
            let p = random_spread_pod(&mut rng);
            let plugin = PodTopologySpread::default();
            for round in 0..3 {
                let walked = filters(&plugin, &p, &c.nodes, None);
                let indexed = filters(&plugin, &p, &c.nodes, Some(&c.index));
                assert_eq!(indexed, walked, "seed {seed} round {round}");
                let feasible: Vec<usize> = (0..c.nodes.len()).collect();
                let scores = |index: Option<&PodLabelIndex>| {
                    let mut state = CycleState::default();
                    match index {
                        Some(ix) => {
                            plugin.pre_score_indexed(&mut state, &p, &c.nodes, &feasible, ix)
                        }
                        None => plugin.pre_score(&mut state, &p, &c.nodes, &feasible),
                    }
                    let mut s: Vec<i64> = c
                        .nodes
                        .iter()
                        .map(|n| plugin.score(&state, &p, n))
                        .collect();
                    plugin.normalize(&state, &p, &mut s);
                    s
                };
                assert_eq!(
                    scores(Some(&c.index)),
                    scores(None),
                    "seed {seed} round {round}"
                );
                let n = rng.random_range(0..c.nodes.len());
                relabel(&mut rng, &mut c, n);
            }
        }
    }

    /// Randomised clusters: a nominated pod added to a cloned PreFilter state (upstream's
    /// AddPod) filters every node as a PreFilter over the cluster with the pod placed.
    #[test]
    fn random_nominated_pod_counts_as_placed() {
        use super::super::random_cluster::{cluster, existing_pod, rng};
        use rand::Rng;
        let mut differs = 0;
        for seed in 0..400 {
            let mut rng = rng(seed);
            let c = cluster(&mut rng);
            let p = random_spread_pod(&mut rng);
            let mut nominated = existing_pod(&mut rng, 999);
            nominated.metadata.deletion_timestamp = None;
            let n = rng.random_range(0..c.nodes.len());
            let plugin = PodTopologySpread::default();
            let mut placed = c.nodes.clone();
            placed[n].add_pod(&nominated);
            let expected = filters(&plugin, &p, &placed, None);
            let mut state = CycleState::default();
            plugin
                .pre_filter(&mut state, &p, &c.nodes)
                .expect("prefilter");
            let before: Vec<_> = c
                .nodes
                .iter()
                .map(|x| plugin.filter(&state, &p, x))
                .collect();
            let mut with = state.clone();
            plugin.pre_filter_add_pod(&mut with, &p, &nominated, &placed[n]);
            let got: Vec<_> = placed.iter().map(|x| plugin.filter(&with, &p, x)).collect();
            assert_eq!(got, expected, "seed {seed}");
            // The original state is untouched by the clone's update.
            let again: Vec<_> = c
                .nodes
                .iter()
                .map(|x| plugin.filter(&state, &p, x))
                .collect();
            assert_eq!(again, before, "seed {seed}");
            differs += usize::from(got != before);
        }
        // The cases are not all trivial: nominated pods changed some answers.
        assert!(differs > 10, "{differs}");
    }

    /// The bench's spread scenario in-process: 5,000 nodes in 10 zones, 10,000 pods of one
    /// label set, PreFilter by walking vs. from the index. Prints the cost per cycle; run
    /// with `cargo test --release -p scheduler -- --ignored pre_filter_cost --nocapture`.
    #[test]
    #[ignore]
    fn pre_filter_cost() {
        let mut nodes = Vec::new();
        let mut index = PodLabelIndex::default();
        for i in 0..5000 {
            let mut n = zoned(&format!("node-{i:05}"), &format!("zone-{}", i % 10));
            index.push_node();
            for _ in 0..2 {
                let p = labelled_pod("web", json!({}));
                index.count(&p, i, 1);
                n.add_pod(&p);
            }
            nodes.push(n);
        }
        let p = labelled_pod("web", spread("DoNotSchedule", 5));
        let plugin = PodTopologySpread::default();
        let time = |indexed: bool| {
            let start = std::time::Instant::now();
            let rounds = 50;
            let mut ok = 0;
            for _ in 0..rounds {
                let mut state = CycleState::default();
                if indexed {
                    plugin.pre_filter_indexed(&mut state, &p, &nodes, &index)
                } else {
                    plugin.pre_filter(&mut state, &p, &nodes)
                }
                .expect("prefilter");
                ok += usize::from(plugin.filter(&state, &p, &nodes[0]).is_ok());
            }
            (
                start.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds),
                ok,
            )
        };
        let (walk_ms, walk_ok) = time(false);
        let (index_ms, index_ok) = time(true);
        assert_eq!(walk_ok, index_ok);
        println!(
            "PodTopologySpread PreFilter per cycle: walk {walk_ms:.3} ms, indexed {index_ms:.3} ms"
        );
    }
}
