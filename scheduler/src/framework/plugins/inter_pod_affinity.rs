//! InterPodAffinity: required pod affinity and anti-affinity terms (of the incoming pod,
//! and the anti-affinity of pods already placed) filter nodes by topology domain;
//! preferred terms score them.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{Pod, PodAffinityTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::framework::label_selector::selector_matches;
use crate::framework::plugin_args::InterPodAffinitySettings;
use crate::framework::pod_label_index::PodLabelIndex;
use crate::framework::{CycleState, FilterPlugin, NodeInfo, ScorePlugin, Status, MAX_NODE_SCORE};

/// Upstream's `ErrReasonAffinityRulesNotMatch`.
pub const ERR_REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// Upstream's `ErrReasonAntiAffinityRulesNotMatch`.
pub const ERR_REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
/// Upstream's `ErrReasonExistingAntiAffinityRulesNotMatch`.
pub const ERR_REASON_EXISTING_ANTI_AFFINITY: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";

const FILTER_STATE: &str = "PreFilterInterPodAffinity";
const SCORE_STATE: &str = "PreScoreInterPodAffinity";

/// (topologyKey, value).
type TopologyPair = (String, String);

/// One affinity term, resolved against the namespace of the pod that owns it.
#[derive(Debug, Clone)]
struct Term {
    topology_key: String,
    selector: Option<LabelSelector>,
    namespaces: Vec<String>,
    namespace_selector: Option<LabelSelector>,
    weight: i64,
}

impl Term {
    fn new(t: &PodAffinityTerm, owner_namespace: &str, weight: i64) -> Term {
        let mut namespaces = t.namespaces.clone().unwrap_or_default();
        // Neither namespaces nor a selector: the owner's own namespace.
        if namespaces.is_empty() && t.namespace_selector.is_none() {
            namespaces.push(owner_namespace.to_string());
        }
        Term {
            topology_key: t.topology_key.clone(),
            selector: t.label_selector.clone(),
            namespaces,
            namespace_selector: t.namespace_selector.clone(),
            weight,
        }
    }

    /// Whether `pod` is one of the pods this term selects.
    fn matches(&self, pod: &Pod) -> bool {
        self.selects(
            pod.metadata.namespace.as_deref().unwrap_or_default(),
            pod.metadata.labels.as_ref(),
        )
    }

    /// Whether pods in namespace `ns` with `labels` are selected (a term looks at nothing
    /// else, so the cache's per-label-set counts can stand for the pods).
    fn selects(&self, ns: &str, labels: Option<&BTreeMap<String, String>>) -> bool {
        // Namespace labels are not watched yet: a namespace selector is matched against
        // the `kubernetes.io/metadata.name` label every namespace carries.
        let ns_labels: BTreeMap<String, String> =
            [("kubernetes.io/metadata.name".to_string(), ns.to_string())].into();
        let ns_ok = self.namespaces.iter().any(|n| n == ns)
            || self
                .namespace_selector
                .as_ref()
                .is_some_and(|s| selector_matches(s, Some(&ns_labels)));
        // A nil label selector selects no pods.
        ns_ok
            && self
                .selector
                .as_ref()
                .is_some_and(|s| selector_matches(s, labels))
    }
}

/// The four term lists of a pod's `affinity`.
#[derive(Default, Clone)]
struct PodTerms {
    required_affinity: Vec<Term>,
    required_anti: Vec<Term>,
    preferred_affinity: Vec<Term>,
    preferred_anti: Vec<Term>,
}

fn pod_terms(pod: &Pod) -> PodTerms {
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    let Some(affinity) = pod.spec.as_ref().and_then(|s| s.affinity.as_ref()) else {
        return PodTerms::default();
    };
    let required = |terms: Option<&Vec<PodAffinityTerm>>| -> Vec<Term> {
        terms
            .into_iter()
            .flatten()
            .map(|t| Term::new(t, ns, 1))
            .collect()
    };
    let aff = affinity.pod_affinity.as_ref();
    let anti = affinity.pod_anti_affinity.as_ref();
    PodTerms {
        required_affinity: required(aff.and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })),
        required_anti: required(anti.and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })),
        preferred_affinity: aff
            .and_then(|a| {
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .into_iter()
            .flatten()
            .map(|w| Term::new(&w.pod_affinity_term, ns, i64::from(w.weight)))
            .collect(),
        preferred_anti: anti
            .and_then(|a| {
                a.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .into_iter()
            .flatten()
            .map(|w| Term::new(&w.pod_affinity_term, ns, i64::from(w.weight)))
            .collect(),
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

fn pair(node: &NodeInfo, key: &str) -> Option<TopologyPair> {
    node_label(node, key).map(|v| (key.to_string(), v.to_string()))
}

/// PreFilter result: counts per topology pair.
#[derive(Clone)]
struct FilterState {
    terms: PodTerms,
    /// Pods matching all of the incoming pod's required affinity terms.
    affinity_counts: HashMap<TopologyPair, i64>,
    /// Pods matched by the incoming pod's required anti-affinity terms.
    anti_affinity_counts: HashMap<TopologyPair, i64>,
    /// Existing pods whose required anti-affinity selects the incoming pod.
    existing_anti_affinity_counts: HashMap<TopologyPair, i64>,
}

impl FilterState {
    fn new(pod: &Pod) -> FilterState {
        FilterState {
            terms: pod_terms(pod),
            affinity_counts: HashMap::new(),
            anti_affinity_counts: HashMap::new(),
            existing_anti_affinity_counts: HashMap::new(),
        }
    }

    /// Whether the incoming pod has required terms of its own (without, only existing
    /// pods with required anti-affinity can reject it: upstream's
    /// PodsWithRequiredAntiAffinity).
    fn has_own_terms(&self) -> bool {
        !self.terms.required_affinity.is_empty() || !self.terms.required_anti.is_empty()
    }

    /// `existing`'s required anti-affinity terms that select the incoming `pod`, counted
    /// `delta` times in `node`'s domains.
    fn count_existing_anti(&mut self, pod: &Pod, existing: &Pod, node: &NodeInfo, delta: i64) {
        for t in pod_terms(existing).required_anti {
            if t.matches(pod) {
                if let Some(p) = pair(node, &t.topology_key) {
                    *self.existing_anti_affinity_counts.entry(p).or_insert(0) += delta;
                }
            }
        }
    }

    /// `delta` pods in namespace `ns` with `labels` on `node`, against the incoming pod's
    /// required affinity (all terms must select them) and anti-affinity terms.
    fn count_selected(
        &mut self,
        ns: &str,
        labels: Option<&BTreeMap<String, String>>,
        node: &NodeInfo,
        delta: i64,
    ) {
        let aff = &self.terms.required_affinity;
        if !aff.is_empty() && aff.iter().all(|t| t.selects(ns, labels)) {
            for t in aff {
                if let Some(p) = pair(node, &t.topology_key) {
                    *self.affinity_counts.entry(p).or_insert(0) += delta;
                }
            }
        }
        for t in &self.terms.required_anti {
            if t.selects(ns, labels) {
                if let Some(p) = pair(node, &t.topology_key) {
                    *self.anti_affinity_counts.entry(p).or_insert(0) += delta;
                }
            }
        }
    }

    /// Upstream's `updateWithPod`: `existing` on `node` counts `delta` times.
    fn count_pod(&mut self, pod: &Pod, existing: &Pod, node: &NodeInfo, delta: i64) {
        self.count_existing_anti(pod, existing, node, delta);
        self.count_selected(
            existing.metadata.namespace.as_deref().unwrap_or_default(),
            existing.metadata.labels.as_ref(),
            node,
            delta,
        );
    }
}

/// The InterPodAffinity filter and score.
#[derive(Default)]
pub struct InterPodAffinity {
    /// `InterPodAffinityArgs`: `hardPodAffinityWeight` is what an existing pod's
    /// *required* affinity to the incoming pod adds to the score (default 1).
    pub settings: InterPodAffinitySettings,
}

impl FilterPlugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        "InterPodAffinity"
    }

    /// Without the cache's index: walk every node's pods.
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[NodeInfo],
    ) -> Result<(), Status> {
        let mut st = FilterState::new(pod);
        let own_terms = st.has_own_terms();
        for node in nodes {
            let existing_pods = if own_terms {
                &node.pods
            } else {
                &node.pods_with_required_anti_affinity
            };
            for existing in existing_pods {
                st.count_pod(pod, existing, node, 1);
            }
        }
        state.write(FILTER_STATE, st);
        Ok(())
    }

    /// With the cache's index: existing pods' anti-affinity from the short per-node lists
    /// of pods that have some; the incoming pod's own terms matched once per label set and
    /// counted from the per-node arrays (terminating pods included, as upstream).
    fn pre_filter_indexed(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[NodeInfo],
        index: &PodLabelIndex,
    ) -> Result<(), Status> {
        let mut st = FilterState::new(pod);
        for node in nodes {
            for existing in &node.pods_with_required_anti_affinity {
                st.count_existing_anti(pod, existing, node, 1);
            }
        }
        if st.has_own_terms() {
            for group in index.groups() {
                let selected = st
                    .terms
                    .required_affinity
                    .iter()
                    .chain(&st.terms.required_anti)
                    .any(|t| t.selects(&group.namespace, Some(&group.labels)));
                if !selected {
                    continue;
                }
                for (n, &count) in group.per_node.iter().enumerate() {
                    if count == 0 {
                        continue;
                    }
                    if let Some(node) = nodes.get(n) {
                        st.count_selected(&group.namespace, Some(&group.labels), node, count);
                    }
                }
            }
        }
        state.write(FILTER_STATE, st);
        Ok(())
    }

    /// A nominated pod counts as if running on `node` (upstream's `AddPod`).
    fn pre_filter_add_pod(&self, state: &mut CycleState, pod: &Pod, added: &Pod, node: &NodeInfo) {
        let Some(st) = state.read::<FilterState>(FILTER_STATE) else {
            return;
        };
        let mut st = st.clone();
        st.count_pod(pod, added, node, 1);
        state.write(FILTER_STATE, st);
    }

    fn filter(&self, state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Status> {
        let Some(st) = state.read::<FilterState>(FILTER_STATE) else {
            return Ok(());
        };
        if !satisfies_affinity(st, pod, node) {
            return Err(Status::unresolvable(ERR_REASON_AFFINITY));
        }
        let anti_hit = st.terms.required_anti.iter().any(|t| {
            pair(node, &t.topology_key)
                .is_some_and(|p| st.anti_affinity_counts.get(&p).is_some_and(|c| *c > 0))
        });
        if anti_hit {
            return Err(Status::unschedulable(ERR_REASON_ANTI_AFFINITY));
        }
        let existing_hit = node.node.metadata.labels.iter().flatten().any(|(k, v)| {
            st.existing_anti_affinity_counts
                .get(&(k.clone(), v.clone()))
                .is_some_and(|c| *c > 0)
        });
        if existing_hit {
            return Err(Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY));
        }
        Ok(())
    }
}

/// Every required affinity term has a matching pod in the node's domain; or, for the first
/// pod of a group that selects itself, no matching pod exists anywhere yet.
fn satisfies_affinity(st: &FilterState, pod: &Pod, node: &NodeInfo) -> bool {
    let terms = &st.terms.required_affinity;
    let mut pods_exist = true;
    for t in terms {
        let Some(p) = pair(node, &t.topology_key) else {
            // The node must carry every term's topology key.
            return false;
        };
        if st.affinity_counts.get(&p).copied().unwrap_or(0) <= 0 {
            pods_exist = false;
        }
    }
    pods_exist || (st.affinity_counts.is_empty() && terms.iter().all(|t| t.matches(pod)))
}

impl ScorePlugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        "InterPodAffinity"
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[NodeInfo],
        _feasible: &[usize],
    ) {
        let incoming = pod_terms(pod);
        let mut scores: HashMap<TopologyPair, i64> = HashMap::new();
        let mut add = |node: &NodeInfo, t: &Term, delta: i64| {
            if let Some(p) = pair(node, &t.topology_key) {
                *scores.entry(p).or_insert(0) += delta;
            }
        };
        // Without preferred terms of its own, only existing pods with affinity terms
        // contribute (upstream's PodsWithAffinity).
        let own_terms =
            !incoming.preferred_affinity.is_empty() || !incoming.preferred_anti.is_empty();
        // ignorePreferredTermsOfExistingPods: without preferred terms of its own the pod
        // is not scored at all.
        if self.settings.ignore_preferred_terms_of_existing_pods && !own_terms {
            return;
        }
        let hard_weight = self.settings.hard_pod_affinity_weight;
        for node in nodes {
            let existing_pods = if own_terms {
                &node.pods
            } else {
                &node.pods_with_affinity
            };
            for existing in existing_pods {
                for t in incoming
                    .preferred_affinity
                    .iter()
                    .filter(|t| t.matches(existing))
                {
                    add(node, t, t.weight);
                }
                for t in incoming
                    .preferred_anti
                    .iter()
                    .filter(|t| t.matches(existing))
                {
                    add(node, t, -t.weight);
                }
                let theirs = pod_terms(existing);
                if hard_weight > 0 {
                    for t in theirs.required_affinity.iter().filter(|t| t.matches(pod)) {
                        add(node, t, hard_weight);
                    }
                }
                for t in theirs.preferred_affinity.iter().filter(|t| t.matches(pod)) {
                    add(node, t, t.weight);
                }
                for t in theirs.preferred_anti.iter().filter(|t| t.matches(pod)) {
                    add(node, t, -t.weight);
                }
            }
        }
        if !scores.is_empty() {
            state.write(SCORE_STATE, scores);
        }
    }

    fn score(&self, state: &CycleState, _pod: &Pod, node: &NodeInfo) -> i64 {
        let Some(scores) = state.read::<HashMap<TopologyPair, i64>>(SCORE_STATE) else {
            return 0;
        };
        node.node
            .metadata
            .labels
            .iter()
            .flatten()
            .filter_map(|(k, v)| scores.get(&(k.clone(), v.clone())))
            .sum()
    }

    /// Scale the raw sums (which may be negative) between the lowest and highest.
    fn normalize(&self, _state: &CycleState, _pod: &Pod, scores: &mut [i64]) {
        let min = scores.iter().copied().min().unwrap_or(0);
        let max = scores.iter().copied().max().unwrap_or(0);
        for s in scores.iter_mut() {
            *s = if max > min {
                MAX_NODE_SCORE * (*s - min) / (max - min)
            } else {
                0
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::testing::{node, pod};
    use serde_json::{json, Value};

    fn zoned(name: &str, zone: &str) -> NodeInfo {
        node(
            name,
            json!({"metadata": {"labels": {"zone": zone, "kubernetes.io/hostname": name}}}),
        )
    }

    fn app_pod(app: &str, spec: Value) -> Pod {
        let mut p = pod(spec);
        p.metadata.labels = Some([("app".to_string(), app.to_string())].into());
        p
    }

    fn term(app: &str, key: &str) -> Value {
        json!({"topologyKey": key, "labelSelector": {"matchLabels": {"app": app}}})
    }

    fn random_affinity_pod(rng: &mut rand::rngs::StdRng) -> Pod {
        use crate::framework::plugins::random_cluster::{choose, incoming_pod};
        use rand::Rng;
        let random_terms = |rng: &mut rand::rngs::StdRng| -> Vec<Value> {
            (0..rng.random_range(0..=2))
                .map(|_| {
                    let mut t = json!({
                        "topologyKey": choose(rng, &["zone", "kubernetes.io/hostname", "rack"]),
                        "labelSelector": {"matchLabels": {"app": choose(rng, &["web", "db"])}},
                    });
                    if rng.random_bool(0.2) {
                        t["namespaces"] = json!(["other"]);
                    }
                    if rng.random_bool(0.1) {
                        t["namespaceSelector"] = json!({});
                    }
                    t
                })
                .collect()
        };
        let affinity = random_terms(rng);
        let anti = random_terms(rng);
        incoming_pod(
            rng,
            json!({"affinity": {
                "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": affinity},
                "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": anti}}}),
        )
    }

    fn filters_with(
        p: &Pod,
        nodes: &[NodeInfo],
        index: Option<&PodLabelIndex>,
    ) -> Vec<Result<(), Status>> {
        let plugin = InterPodAffinity::default();
        let mut state = CycleState::default();
        match index {
            Some(ix) => plugin.pre_filter_indexed(&mut state, p, nodes, ix),
            None => plugin.pre_filter(&mut state, p, nodes),
        }
        .expect("prefilter");
        nodes.iter().map(|n| plugin.filter(&state, p, n)).collect()
    }

    /// Randomised clusters: PreFilter from the cache's label index filters every node as
    /// the walk over every node's pods does.
    #[test]
    fn random_clusters_indexed_equals_the_walk() {
        use crate::framework::plugins::random_cluster::{cluster, rng};
        let mut rejected = 0;
        for seed in 0..400 {
            let mut rng = rng(seed);
            let c = cluster(&mut rng);
            let p = random_affinity_pod(&mut rng);
            let walked = filters_with(&p, &c.nodes, None);
            assert_eq!(
                filters_with(&p, &c.nodes, Some(&c.index)),
                walked,
                "seed {seed}"
            );
            rejected += walked.iter().filter(|r| r.is_err()).count();
        }
        assert!(rejected > 100, "{rejected}");
    }

    /// Randomised clusters: a nominated pod added to a cloned PreFilter state (upstream's
    /// AddPod) filters every node as a PreFilter over the cluster with the pod placed.
    #[test]
    fn random_nominated_pod_counts_as_placed() {
        use crate::framework::plugins::random_cluster::{cluster, existing_pod, rng};
        use rand::Rng;
        let mut differs = 0;
        for seed in 0..400 {
            let mut rng = rng(seed);
            let c = cluster(&mut rng);
            let p = random_affinity_pod(&mut rng);
            let nominated = existing_pod(&mut rng, 999);
            let n = rng.random_range(0..c.nodes.len());
            let mut placed = c.nodes.clone();
            placed[n].add_pod(&nominated);
            let expected = filters_with(&p, &placed, None);
            let plugin = InterPodAffinity::default();
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
            differs += usize::from(got != before);
        }
        assert!(differs > 10, "{differs}");
    }

    fn filter_all(p: &Pod, nodes: &[NodeInfo]) -> Vec<Result<(), Status>> {
        let mut state = CycleState::default();
        InterPodAffinity::default()
            .pre_filter(&mut state, p, nodes)
            .expect("prefilter");
        nodes
            .iter()
            .map(|n| InterPodAffinity::default().filter(&state, p, n))
            .collect()
    }

    #[test]
    fn required_affinity_follows_the_matching_pod_domain() {
        let mut a = zoned("a", "z1");
        a.add_pod(&app_pod("db", json!({})));
        let b = zoned("b", "z1");
        let c = zoned("c", "z2");
        let p = app_pod(
            "web",
            json!({"affinity": {"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("db", "zone")]}}}),
        );
        let r = filter_all(&p, &[a, b, c]);
        assert_eq!((r[0].is_ok(), r[1].is_ok()), (true, true));
        assert_eq!(r[2], Err(Status::unresolvable(ERR_REASON_AFFINITY)));
    }

    #[test]
    fn first_pod_of_a_self_affine_group_is_admitted() {
        let p = app_pod(
            "web",
            json!({"affinity": {"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("web", "zone")]}}}),
        );
        assert!(filter_all(&p, &[zoned("a", "z1")])[0].is_ok());
        let other = app_pod(
            "web",
            json!({"affinity": {"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("db", "zone")]}}}),
        );
        assert!(filter_all(&other, &[zoned("a", "z1")])[0].is_err());
    }

    #[test]
    fn anti_affinity_both_ways() {
        let mut a = zoned("a", "z1");
        a.add_pod(&app_pod("web", json!({})));
        let b = zoned("b", "z1");
        let p = app_pod(
            "web",
            json!({"affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("web", "kubernetes.io/hostname")]}}}),
        );
        let r = filter_all(&p, &[a, b.clone()]);
        assert_eq!(r[0], Err(Status::unschedulable(ERR_REASON_ANTI_AFFINITY)));
        assert!(r[1].is_ok());

        // An existing pod that refuses app=web in its zone keeps a plain web pod out.
        let mut guard = zoned("g", "z2");
        guard.add_pod(&app_pod(
            "guard",
            json!({"affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("web", "zone")]}}}),
        ));
        let r = filter_all(&app_pod("web", json!({})), &[guard, b]);
        assert_eq!(
            r[0],
            Err(Status::unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY))
        );
        assert!(r[1].is_ok());
    }

    #[test]
    fn other_namespaces_do_not_count_by_default() {
        let mut a = zoned("a", "z1");
        let mut elsewhere = app_pod("web", json!({}));
        elsewhere.metadata.namespace = Some("other".into());
        a.add_pod(&elsewhere);
        let p = app_pod(
            "x",
            json!({"affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term("web", "zone")]}}}),
        );
        assert!(filter_all(&p, &[a.clone()])[0].is_ok());
        let all = app_pod(
            "x",
            json!({"affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "zone",
                "namespaceSelector": {}, "labelSelector": {"matchLabels": {"app": "web"}}}]}}}),
        );
        assert!(filter_all(&all, &[a])[0].is_err());
    }

    #[test]
    fn preferred_terms_rank_domains() {
        let mut a = zoned("a", "z1");
        a.add_pod(&app_pod("db", json!({})));
        let b = zoned("b", "z2");
        let nodes = [a, b];
        let p = app_pod(
            "web",
            json!({"affinity": {"podAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 50, "podAffinityTerm": term("db", "zone")}]}}}),
        );
        let mut state = CycleState::default();
        InterPodAffinity::default().pre_score(&mut state, &p, &nodes, &[0, 1]);
        let mut s: Vec<i64> = nodes
            .iter()
            .map(|n| InterPodAffinity::default().score(&state, &p, n))
            .collect();
        InterPodAffinity::default().normalize(&state, &p, &mut s);
        assert_eq!(s, vec![MAX_NODE_SCORE, 0]);
    }
}
