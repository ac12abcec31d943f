//! Whether a pod's node selector and required node affinity admit a node (upstream's
//! `nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, NodeSelectorRequirement, NodeSelectorTerm, PodSpec};
use kube::ResourceExt;

/// `spec.nodeSelector` and every-term-ORed `requiredDuringSchedulingIgnoredDuringExecution`
/// both admit `node`.
pub fn admits(spec: &PodSpec, node: &Node) -> bool {
    let labels = node.labels();
    if let Some(sel) = &spec.node_selector {
        if sel.iter().any(|(k, v)| labels.get(k) != Some(v)) {
            return false;
        }
    }
    let terms = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map(|r| r.node_selector_terms.as_slice());
    match terms {
        None => true,
        // A present but empty term list matches nothing, as upstream.
        Some(terms) => terms
            .iter()
            .any(|t| term_matches(t, labels, &node.name_any())),
    }
}

fn term_matches(term: &NodeSelectorTerm, labels: &BTreeMap<String, String>, name: &str) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    exprs
        .iter()
        .all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)))
        && fields.iter().all(|r| {
            let value = (r.key == "metadata.name").then_some(name);
            requirement_matches(r, value)
        })
}

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = r.values.as_deref().unwrap_or_default();
    let int = |s: &str| s.parse::<i64>().ok();
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (value.and_then(int), values.first().and_then(|b| int(b)))
            else {
                return false;
            };
            if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Affinity, NodeAffinity, NodeSelector};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn node(name: &str, labels: &[(&str, &str)]) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: Some(values.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn with_terms(terms: Vec<NodeSelectorTerm>) -> PodSpec {
        PodSpec {
            affinity: Some(Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: terms,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn node_selector_and_fields_and_expressions() {
        let n = node("n1", &[("disk", "ssd"), ("cores", "8")]);
        let mut spec = PodSpec {
            node_selector: Some([("disk".to_string(), "ssd".to_string())].into()),
            ..Default::default()
        };
        assert!(admits(&spec, &n));
        spec.node_selector = Some([("disk".to_string(), "hdd".to_string())].into());
        assert!(!admits(&spec, &n));

        let by_name = with_terms(vec![NodeSelectorTerm {
            match_fields: Some(vec![req("metadata.name", "In", &["n1"])]),
            match_expressions: None,
        }]);
        assert!(admits(&by_name, &n));
        assert!(!admits(&by_name, &node("n2", &[])));

        let gt = with_terms(vec![NodeSelectorTerm {
            match_expressions: Some(vec![req("cores", "Gt", &["4"])]),
            match_fields: None,
        }]);
        assert!(admits(&gt, &n));
        assert!(!admits(&gt, &node("n3", &[("cores", "2")])));
    }
}
