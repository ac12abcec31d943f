//! Upstream's `helper.DefaultSelector`: the selector of "the pods of this pod's workload" —
//! the selectors of the Services, ReplicationControllers, ReplicaSets and StatefulSets in
//! the pod's namespace that select it, merged. PodTopologySpread spreads pods without
//! constraints of their own by it (default constraints).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::ResourceExt;

use crate::framework::handle::Handle;
use crate::framework::label_selector::selector_matches;

/// Whether a map selector (Services, ReplicationControllers) selects `labels`; an empty
/// one selects nothing here, as upstream skips it.
fn map_selects(
    selector: Option<&BTreeMap<String, String>>,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector.is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

/// Whether a LabelSelector (ReplicaSets, StatefulSets) selects `labels`; an empty one is
/// skipped, as upstream does.
fn label_selector_selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let empty = selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|e| e.is_empty());
    !empty && selector_matches(selector, Some(labels))
}

/// The merged selector, or `None` when nothing selects the pod.
pub fn default_selector(pod: &Pod, handle: &Handle) -> Option<LabelSelector> {
    let namespace = pod.namespace().unwrap_or_default();
    let empty = BTreeMap::new();
    let labels = pod.metadata.labels.as_ref().unwrap_or(&empty);
    let in_namespace = |ns: Option<String>| ns.as_deref() == Some(namespace.as_str());
    let mut match_labels = BTreeMap::new();
    let mut match_expressions = Vec::new();
    for svc in handle.services.state() {
        let selector = svc.spec.as_ref().and_then(|s| s.selector.as_ref());
        if in_namespace(svc.namespace()) && map_selects(selector, labels) {
            match_labels.extend(
                selector
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
        }
    }
    for rc in handle.replication_controllers.state() {
        let selector = rc.spec.as_ref().and_then(|s| s.selector.as_ref());
        if in_namespace(rc.namespace()) && map_selects(selector, labels) {
            match_labels.extend(
                selector
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
        }
    }
    let mut add = |selector: &LabelSelector| {
        if label_selector_selects(selector, labels) {
            match_labels.extend(
                selector
                    .match_labels
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
            match_expressions.extend(selector.match_expressions.iter().flatten().cloned());
        }
    };
    for rs in handle.replica_sets.state() {
        if in_namespace(rs.namespace()) {
            if let Some(spec) = &rs.spec {
                add(&spec.selector);
            }
        }
    }
    for ss in handle.stateful_sets.state() {
        if in_namespace(ss.namespace()) {
            if let Some(spec) = &ss.spec {
                add(&spec.selector);
            }
        }
    }
    if match_labels.is_empty() && match_expressions.is_empty() {
        return None;
    }
    Some(LabelSelector {
        match_labels: (!match_labels.is_empty()).then_some(match_labels),
        match_expressions: (!match_expressions.is_empty()).then_some(match_expressions),
    })
}
