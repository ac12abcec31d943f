//! NodeAffinity: `spec.nodeSelector` and required node affinity must match the node
//! (filter); preferred node affinity terms add their weights (score, normalized).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, NodeSelectorTerm, Pod};

use crate::framework::{
    default_normalize, CycleState, FilterPlugin, NodeInfo, ScorePlugin, Status,
};

/// Upstream's `ErrReasonPod`.
pub const ERR_REASON: &str = "node(s) didn't match Pod's node affinity/selector";

/// Whether one requirement holds for a value (`None`: the label/field is absent).
fn requirement_matches(req: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = req.values.as_deref().unwrap_or_default();
    match req.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        op @ ("Gt" | "Lt") => {
            let (Some(v), Some(bound)) = (value, values.first()) else {
                return false;
            };
            match (v.parse::<i64>(), bound.parse::<i64>()) {
                (Ok(v), Ok(b)) => (op == "Gt" && v > b) || (op == "Lt" && v < b),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether a node selector term matches: every expression and field requirement holds; a
/// term with neither matches nothing (upstream's rule).
pub fn term_matches(term: &NodeSelectorTerm, node: &NodeInfo) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    let empty = BTreeMap::new();
    let labels = node.node.metadata.labels.as_ref().unwrap_or(&empty);
    exprs
        .iter()
        .all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)))
        && fields.iter().all(|r| {
            // `metadata.name` is the only supported field.
            let value = (r.key == "metadata.name").then(|| node.name());
            r.key == "metadata.name" && requirement_matches(r, value)
        })
}

/// Whether `nodeSelector` and required node affinity both admit the node.
pub fn required_matches(pod: &Pod, node: &NodeInfo) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return true;
    };
    let labels = node.node.metadata.labels.as_ref();
    let selector_ok = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    let affinity_ok = required.is_none_or(|sel| {
        sel.node_selector_terms
            .iter()
            .any(|t| term_matches(t, node))
    });
    selector_ok && affinity_ok
}

/// The NodeAffinity filter and score.
pub struct NodeAffinity;

impl FilterPlugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }

    fn filter(&self, _state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Status> {
        if required_matches(pod, node) {
            Ok(())
        } else {
            Err(Status::unresolvable(ERR_REASON))
        }
    }
}

impl ScorePlugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }

    fn score(&self, _state: &CycleState, pod: &Pod, node: &NodeInfo) -> i64 {
        let preferred = pod
            .spec
            .as_ref()
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.preferred_during_scheduling_ignored_during_execution
                    .as_deref()
            })
            .unwrap_or_default();
        preferred
            .iter()
            .filter(|p| p.weight != 0 && term_matches(&p.preference, node))
            .map(|p| i64::from(p.weight))
            .sum()
    }

    fn normalize(&self, _state: &CycleState, _pod: &Pod, scores: &mut [i64]) {
        default_normalize(scores, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::testing::{node, pod};
    use serde_json::json;

    fn labelled(name: &str, zone: &str) -> NodeInfo {
        node(
            name,
            json!({"metadata": {"labels": {"zone": zone, "cores": "8"}}}),
        )
    }

    fn required(exprs: serde_json::Value) -> Pod {
        pod(
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchExpressions": exprs}]}}}}),
        )
    }

    #[test]
    fn node_selector_must_match_every_label() {
        let p = pod(json!({"nodeSelector": {"zone": "a"}}));
        assert!(NodeAffinity
            .filter(&CycleState::default(), &p, &labelled("n1", "a"))
            .is_ok());
        assert_eq!(
            NodeAffinity.filter(&CycleState::default(), &p, &labelled("n2", "b")),
            Err(Status::unresolvable(ERR_REASON))
        );
    }

    #[test]
    fn required_affinity_operators() {
        let n = labelled("n1", "a");
        assert!(NodeAffinity
            .filter(
                &CycleState::default(),
                &required(json!([{"key": "zone", "operator": "In", "values": ["a", "b"]}])),
                &n
            )
            .is_ok());
        assert!(NodeAffinity
            .filter(
                &CycleState::default(),
                &required(json!([{"key": "zone", "operator": "NotIn", "values": ["a"]}])),
                &n
            )
            .is_err());
        assert!(NodeAffinity
            .filter(
                &CycleState::default(),
                &required(json!([{"key": "gpu", "operator": "DoesNotExist"}])),
                &n
            )
            .is_ok());
        assert!(NodeAffinity
            .filter(
                &CycleState::default(),
                &required(json!([{"key": "cores", "operator": "Gt", "values": ["4"]}])),
                &n
            )
            .is_ok());
        assert!(NodeAffinity
            .filter(
                &CycleState::default(),
                &required(json!([{"key": "cores", "operator": "Lt", "values": ["4"]}])),
                &n
            )
            .is_err());
        let by_name = pod(
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}}),
        );
        assert!(NodeAffinity
            .filter(&CycleState::default(), &by_name, &n)
            .is_ok());
        assert!(NodeAffinity
            .filter(&CycleState::default(), &by_name, &labelled("n2", "a"))
            .is_err());
    }

    #[test]
    fn preferred_terms_sum_weights_then_normalize() {
        let p = pod(
            json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 10, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}},
            {"weight": 30, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}}]}}}),
        );
        let mut scores = [
            ScorePlugin::score(
                &NodeAffinity,
                &CycleState::default(),
                &p,
                &labelled("n1", "a"),
            ),
            ScorePlugin::score(
                &NodeAffinity,
                &CycleState::default(),
                &p,
                &labelled("n2", "b"),
            ),
            ScorePlugin::score(
                &NodeAffinity,
                &CycleState::default(),
                &p,
                &labelled("n3", "c"),
            ),
        ];
        assert_eq!(scores, [10, 30, 0]);
        ScorePlugin::normalize(&NodeAffinity, &CycleState::default(), &p, &mut scores);
        assert_eq!(scores, [33, 100, 0]);
    }
}
