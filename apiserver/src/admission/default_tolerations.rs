//! DefaultTolerationSeconds admission (upstream's plugin of that name), on pod create: a pod
//! that does not already tolerate `node.kubernetes.io/not-ready` and
//! `node.kubernetes.io/unreachable` NoExecute taints gets tolerations for them bounded by
//! `--default-not-ready-toleration-seconds` / `--default-unreachable-toleration-seconds`
//! (300 s), so its pods stay put through a short node outage and are evicted after it.

use serde_json::{json, Value};

pub const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";
/// Upstream's default for both flags.
pub const DEFAULT_SECONDS: i64 = 300;

/// Whether `toleration` already covers a NoExecute taint with `key` (an empty key or effect
/// matches everything, as upstream checks it).
fn covers(toleration: &Value, key: &str) -> bool {
    let field = |f: &str| {
        toleration
            .get(f)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    (field("key") == key || field("key").is_empty())
        && (field("effect") == "NoExecute" || field("effect").is_empty())
}

/// Adds the missing default tolerations to `pod`.
pub fn admit_pod(pod: &mut Value, not_ready_seconds: i64, unreachable_seconds: i64) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let tolerations = spec.entry("tolerations").or_insert_with(|| json!([]));
    let Some(list) = tolerations.as_array_mut() else {
        return;
    };
    for (key, seconds) in [
        (NOT_READY_TAINT, not_ready_seconds),
        (UNREACHABLE_TAINT, unreachable_seconds),
    ] {
        if !list.iter().any(|t| covers(t, key)) {
            list.push(json!({
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": seconds
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_without_tolerations_gets_both() {
        let mut pod = json!({"spec": {}});
        admit_pod(&mut pod, 300, 200);
        assert_eq!(
            pod["spec"]["tolerations"],
            json!([
                {"key": NOT_READY_TAINT, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": UNREACHABLE_TAINT, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 200}
            ])
        );
    }

    #[test]
    fn existing_tolerations_are_kept_and_not_duplicated() {
        let mut pod = json!({"spec": {"tolerations": [
            {"key": UNREACHABLE_TAINT, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}
        ]}});
        admit_pod(&mut pod, 300, 300);
        let list = pod["spec"]["tolerations"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["tolerationSeconds"], 5);
        assert_eq!(list[1]["key"], NOT_READY_TAINT);
        // `operator: Exists` with no key tolerates everything: nothing added.
        let mut pod = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        admit_pod(&mut pod, 300, 300);
        assert_eq!(pod["spec"]["tolerations"].as_array().unwrap().len(), 1);
        // A NoSchedule toleration does not cover NoExecute.
        let mut pod = json!({"spec": {"tolerations": [{"key": NOT_READY_TAINT, "operator": "Exists", "effect": "NoSchedule"}]}});
        admit_pod(&mut pod, 300, 300);
        assert_eq!(pod["spec"]["tolerations"].as_array().unwrap().len(), 3);
    }
}
