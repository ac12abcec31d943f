//! Quota scopes (upstream's pod evaluator `MatchingScopes`): a quota with `scopes` or a
//! `scopeSelector` counts only the pods every scope matches — Terminating (an
//! `activeDeadlineSeconds`), NotTerminating, BestEffort (no cpu/memory requests or limits),
//! NotBestEffort, PriorityClass (In / NotIn / Exists / DoesNotExist on
//! `priorityClassName`) and CrossNamespacePodAffinity. Scopes only apply to pods: a scoped
//! quota counts no other kind (upstream's validation allows only pod resources with them).

use k8s_openapi::api::core::v1::ResourceQuotaSpec;
use serde_json::Value;

/// One scope requirement: `scopes` entries become `Exists`.
#[derive(Clone, Debug, PartialEq)]
pub struct Scope {
    pub name: String,
    pub operator: String,
    pub values: Vec<String>,
}

/// The scopes of a quota: `spec.scopes` and `spec.scopeSelector.matchExpressions`.
pub fn quota_scopes(spec: &ResourceQuotaSpec) -> Vec<Scope> {
    let mut out: Vec<Scope> = spec
        .scopes
        .iter()
        .flatten()
        .map(|s| Scope {
            name: s.clone(),
            operator: "Exists".into(),
            values: Vec::new(),
        })
        .collect();
    out.extend(
        spec.scope_selector
            .iter()
            .flat_map(|s| s.match_expressions.iter().flatten())
            .map(|e| Scope {
                name: e.scope_name.clone(),
                operator: e.operator.clone(),
                values: e.values.clone().unwrap_or_default(),
            }),
    );
    out
}

/// Whether an object of `group`/`plural` counts against a quota with `scopes`.
pub fn matches(group: &str, plural: &str, obj: &Value, scopes: &[Scope]) -> bool {
    if scopes.is_empty() {
        return true;
    }
    if !(group.is_empty() && plural == "pods") {
        return false;
    }
    scopes.iter().all(|s| pod_matches(obj, s))
}

fn pod_matches(pod: &Value, scope: &Scope) -> bool {
    match scope.name.as_str() {
        "Terminating" => is_terminating(pod),
        "NotTerminating" => !is_terminating(pod),
        "BestEffort" => is_best_effort(pod),
        "NotBestEffort" => !is_best_effort(pod),
        "PriorityClass" => {
            let class = pod
                .pointer("/spec/priorityClassName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match scope.operator.as_str() {
                "In" => scope.values.iter().any(|v| v == class),
                "NotIn" => !scope.values.iter().any(|v| v == class),
                "Exists" => !class.is_empty(),
                "DoesNotExist" => class.is_empty(),
                _ => false,
            }
        }
        "CrossNamespacePodAffinity" => has_cross_namespace_affinity(pod),
        _ => false,
    }
}

/// upstream's `isTerminating`: an activeDeadlineSeconds of 0 or more.
fn is_terminating(pod: &Value) -> bool {
    pod.pointer("/spec/activeDeadlineSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s >= 0)
}

/// BestEffort QoS: no container (init containers included) requests or limits a positive
/// amount of cpu or memory.
fn is_best_effort(pod: &Value) -> bool {
    let containers = ["/spec/containers", "/spec/initContainers"]
        .iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten();
    for c in containers {
        for kind in ["requests", "limits"] {
            for r in ["cpu", "memory"] {
                let amount = c["resources"][kind][r]
                    .as_str()
                    .and_then(common::quantity::parse_milli)
                    .unwrap_or(0);
                if amount > 0 {
                    return false;
                }
            }
        }
    }
    true
}

/// A pod (anti-)affinity term that names namespaces or selects them.
fn has_cross_namespace_affinity(pod: &Value) -> bool {
    ["podAffinity", "podAntiAffinity"].iter().any(|kind| {
        let a = &pod["spec"]["affinity"][kind];
        let required = a["requiredDuringSchedulingIgnoredDuringExecution"]
            .as_array()
            .into_iter()
            .flatten();
        let preferred = a["preferredDuringSchedulingIgnoredDuringExecution"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| &w["podAffinityTerm"]);
        required.chain(preferred).any(|t| {
            t["namespaces"].as_array().is_some_and(|n| !n.is_empty())
                || !t["namespaceSelector"].is_null()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope(name: &str, op: &str, values: &[&str]) -> Scope {
        Scope {
            name: name.into(),
            operator: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn pod(spec: Value) -> Value {
        json!({"spec": spec})
    }

    #[test]
    fn terminating_and_best_effort_scopes() {
        let batch = pod(json!({"activeDeadlineSeconds": 60,
            "containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}]}));
        let plain = pod(json!({"containers": [{"name": "c"}]}));
        let zero_requests = pod(json!({"containers": [{"name": "c",
            "resources": {"requests": {"cpu": "0"}}}]}));
        let exists = |n: &str| vec![scope(n, "Exists", &[])];
        assert!(matches("", "pods", &batch, &exists("Terminating")));
        assert!(!matches("", "pods", &plain, &exists("Terminating")));
        assert!(matches("", "pods", &plain, &exists("NotTerminating")));
        assert!(matches("", "pods", &plain, &exists("BestEffort")));
        assert!(matches("", "pods", &zero_requests, &exists("BestEffort")));
        assert!(!matches("", "pods", &batch, &exists("BestEffort")));
        assert!(matches("", "pods", &batch, &exists("NotBestEffort")));
        // All scopes must hold.
        let both = vec![
            scope("Terminating", "Exists", &[]),
            scope("BestEffort", "Exists", &[]),
        ];
        assert!(!matches("", "pods", &batch, &both));
        // Other kinds never count against a scoped quota; every kind counts without scopes.
        assert!(!matches(
            "",
            "configmaps",
            &json!({}),
            &exists("NotTerminating")
        ));
        assert!(matches("", "configmaps", &json!({}), &[]));
    }

    #[test]
    fn priority_class_selector_operators() {
        let high = pod(json!({"priorityClassName": "high", "containers": []}));
        let none = pod(json!({"containers": []}));
        let in_high = vec![scope("PriorityClass", "In", &["high", "critical"])];
        assert!(matches("", "pods", &high, &in_high));
        assert!(!matches("", "pods", &none, &in_high));
        let not_in = vec![scope("PriorityClass", "NotIn", &["high"])];
        assert!(!matches("", "pods", &high, &not_in));
        assert!(matches("", "pods", &none, &not_in));
        assert!(matches(
            "",
            "pods",
            &high,
            &[scope("PriorityClass", "Exists", &[])]
        ));
        assert!(!matches(
            "",
            "pods",
            &none,
            &[scope("PriorityClass", "Exists", &[])]
        ));
        assert!(matches(
            "",
            "pods",
            &none,
            &[scope("PriorityClass", "DoesNotExist", &[])]
        ));
    }

    #[test]
    fn cross_namespace_affinity_scope() {
        let cross = pod(json!({"containers": [], "affinity": {"podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1,
                "podAffinityTerm": {"topologyKey": "k", "namespaceSelector": {}}}]}}}));
        let local = pod(json!({"containers": [], "affinity": {"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "k"}]}}}));
        let s = vec![scope("CrossNamespacePodAffinity", "Exists", &[])];
        assert!(matches("", "pods", &cross, &s));
        assert!(!matches("", "pods", &local, &s));
    }

    #[test]
    fn scopes_come_from_both_fields() {
        let spec: ResourceQuotaSpec = serde_json::from_value(json!({
            "scopes": ["NotTerminating"],
            "scopeSelector": {"matchExpressions": [
                {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}}))
        .expect("spec");
        assert_eq!(
            quota_scopes(&spec),
            vec![
                scope("NotTerminating", "Exists", &[]),
                scope("PriorityClass", "In", &["high"])
            ]
        );
    }
}
