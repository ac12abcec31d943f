//! Label selector matching (`matchLabels` + `matchExpressions`), as upstream's
//! `metav1.LabelSelectorAsSelector` followed by `Matches`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Whether `labels` satisfy `selector`.
///
/// An empty selector (no labels, no expressions) matches everything, as upstream; callers
/// that must not select everything (workload controllers) check [`is_empty`] first.
pub fn matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    if let Some(want) = &selector.match_labels {
        if want.iter().any(|(k, v)| labels.get(k) != Some(v)) {
            return false;
        }
    }
    for expr in selector.match_expressions.iter().flatten() {
        let value = labels.get(&expr.key);
        let values = expr.values.as_deref().unwrap_or_default();
        let ok = match expr.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            // An unknown operator selects nothing, as upstream's conversion error does.
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether the selector has no requirement at all.
pub fn is_empty(selector: &LabelSelector) -> bool {
    selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|e| e.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: Some(values.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn match_labels_must_all_match() {
        let sel = LabelSelector {
            match_labels: Some(labels(&[("app", "web"), ("tier", "fe")])),
            ..Default::default()
        };
        assert!(matches(
            &sel,
            &labels(&[("app", "web"), ("tier", "fe"), ("x", "y")])
        ));
        assert!(!matches(&sel, &labels(&[("app", "web")])));
    }

    #[test]
    fn expressions_follow_upstream_operators() {
        let sel = LabelSelector {
            match_expressions: Some(vec![
                expr("env", "In", &["prod", "staging"]),
                expr("canary", "DoesNotExist", &[]),
                expr("zone", "NotIn", &["a"]),
            ]),
            ..Default::default()
        };
        assert!(matches(&sel, &labels(&[("env", "prod")])));
        assert!(!matches(&sel, &labels(&[("env", "dev")])));
        assert!(!matches(&sel, &labels(&[("env", "prod"), ("canary", "1")])));
        assert!(!matches(&sel, &labels(&[("env", "prod"), ("zone", "a")])));
    }

    #[test]
    fn empty_selector_is_empty() {
        assert!(is_empty(&LabelSelector::default()));
    }
}
