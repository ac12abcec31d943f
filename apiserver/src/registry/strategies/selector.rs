//! Label selectors of workload controllers: validation, matching against template labels, and
//! the checks every controller with a pod template shares (selector required, non-empty,
//! matching the template's labels).

use serde_json::Value;

use super::json::{child, get, index, items};
use crate::errors::FieldError;

/// Whether a `metav1.LabelSelector` selects nothing in particular (matches everything).
pub(crate) fn is_empty(sel: &Value) -> bool {
    let labels = sel.get("matchLabels").and_then(Value::as_object);
    let exprs = sel.get("matchExpressions").and_then(Value::as_array);
    labels.is_none_or(|m| m.is_empty()) && exprs.is_none_or(|a| a.is_empty())
}

/// Whether a `metav1.LabelSelector` matches a label map.
pub(crate) fn matches(sel: &Value, labels: Option<&Value>) -> bool {
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let labels_ok = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|m| m.iter().all(|(k, v)| label(k) == v.as_str()));
    labels_ok
        && items(sel, &["matchExpressions"]).iter().all(|e| {
            let k = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let values: Vec<&str> = items(e, &["values"])
                .iter()
                .filter_map(Value::as_str)
                .collect();
            match e.get("operator").and_then(Value::as_str) {
                Some("In") => label(k).is_some_and(|v| values.contains(&v)),
                Some("NotIn") => label(k).is_none_or(|v| !values.contains(&v)),
                Some("Exists") => label(k).is_some(),
                Some("DoesNotExist") => label(k).is_none(),
                _ => false,
            }
        })
}

/// Whether a map selector (ReplicationController, Service) matches a label map.
pub(crate) fn map_matches(sel: &Value, labels: Option<&Value>) -> bool {
    sel.as_object().is_none_or(|m| {
        m.iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
    })
}

/// Upstream's `ValidateLabelSelector`: operators and their values.
pub(crate) fn validate(sel: &Value, field: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, e) in items(sel, &["matchExpressions"]).iter().enumerate() {
        let path = index(&child(field, "matchExpressions"), i);
        let has_values = !items(e, &["values"]).is_empty();
        match e
            .get("operator")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "In" | "NotIn" if !has_values => errs.push(FieldError::required(
                child(&path, "values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if has_values => errs.push(FieldError::forbidden(
                child(&path, "values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errs.push(FieldError::invalid(
                child(&path, "operator"),
                other,
                "not a valid selector operator",
            )),
        }
    }
    errs
}

/// The checks a workload with `spec.selector` (a LabelSelector) and `spec.template` shares:
/// selector required, not empty, valid, and matching the template's labels.
pub(crate) fn validate_workload(obj: &Value, kind_word: &str) -> Vec<FieldError> {
    let Some(sel) = get(obj, &["spec", "selector"]).filter(|s| !s.is_null()) else {
        return vec![FieldError::required("spec.selector", "")];
    };
    let mut errs = validate(sel, "spec.selector");
    if is_empty(sel) {
        errs.push(FieldError::invalid(
            "spec.selector",
            sel.clone(),
            format!("empty selector is invalid for {kind_word}"),
        ));
        return errs;
    }
    let labels = get(obj, &["spec", "template", "metadata", "labels"]);
    if errs.is_empty() && !matches(sel, labels) {
        errs.push(template_mismatch(labels));
    }
    errs
}

/// `spec.template.metadata.labels: Invalid value: {...}: `selector` does not match template `labels``.
pub(crate) fn template_mismatch(labels: Option<&Value>) -> FieldError {
    FieldError::invalid(
        "spec.template.metadata.labels",
        labels.cloned().unwrap_or(Value::Null),
        "`selector` does not match template `labels`",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expressions_match_like_upstream() {
        let sel = json!({"matchLabels": {"app": "web"}, "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]},
            {"key": "canary", "operator": "DoesNotExist"}]});
        assert!(matches(&sel, Some(&json!({"app": "web", "tier": "a"}))));
        assert!(!matches(&sel, Some(&json!({"app": "web", "tier": "c"}))));
        assert!(!matches(
            &sel,
            Some(&json!({"app": "web", "tier": "a", "canary": "1"}))
        ));
    }

    #[test]
    fn in_without_values_is_required() {
        let sel = json!({"matchExpressions": [{"key": "a", "operator": "In"}]});
        let errs = validate(&sel, "spec.selector");
        assert_eq!(errs[0].field, "spec.selector.matchExpressions[0].values");
    }
}
