//! Priority admission (upstream's `Priority` plugin), on pod create: resolve
//! `spec.priorityClassName` to `spec.priority` and `spec.preemptionPolicy` — or, without a
//! class name, take the cluster's `globalDefault` PriorityClass (the lowest valued if several),
//! else priority 0. A pod may not bring its own different integer priority or policy, and a
//! class that does not exist is refused.

use serde_json::{json, Value};

use super::lookup::{cached_list, forbidden};
use crate::errors::ApiError;
use crate::store::Store;

/// Priority of a pod when no PriorityClass is the global default.
pub const DEFAULT_PRIORITY: i64 = 0;
/// The preemption policy when a class sets none.
const PREEMPT_LOWER_PRIORITY: &str = "PreemptLowerPriority";

/// A resolved class: its name (empty for "no default class"), value and policy.
#[derive(Debug, PartialEq)]
struct Resolved {
    class: String,
    priority: i64,
    policy: String,
}

fn resolve(named: &str, classes: &[Value]) -> Result<Resolved, String> {
    let policy_of = |pc: &Value| {
        pc.get("preemptionPolicy")
            .and_then(Value::as_str)
            .unwrap_or(PREEMPT_LOWER_PRIORITY)
            .to_string()
    };
    let name_of = |pc: &Value| {
        pc.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let value_of = |pc: &Value| pc.get("value").and_then(Value::as_i64).unwrap_or(0);
    if !named.is_empty() {
        let pc = classes
            .iter()
            .find(|pc| name_of(pc) == named)
            .ok_or_else(|| format!("no PriorityClass with name {named} was found"))?;
        return Ok(Resolved {
            class: named.to_string(),
            priority: value_of(pc),
            policy: policy_of(pc),
        });
    }
    let default = classes
        .iter()
        .filter(|pc| pc.get("globalDefault").and_then(Value::as_bool) == Some(true))
        .min_by_key(|pc| value_of(pc));
    Ok(match default {
        Some(pc) => Resolved {
            class: name_of(pc),
            priority: value_of(pc),
            policy: policy_of(pc),
        },
        None => Resolved {
            class: String::new(),
            priority: DEFAULT_PRIORITY,
            policy: PREEMPT_LOWER_PRIORITY.into(),
        },
    })
}

/// Sets the pod's priority fields from its class; refuses what upstream refuses.
pub fn admit_pod(store: &Store, pod: &mut Value) -> Result<(), ApiError> {
    let classes = cached_list(store, "scheduling.k8s.io", "v1", "priorityclasses", None);
    admit_pod_with(&classes, pod)
}

fn admit_pod_with(classes: &[Value], pod: &mut Value) -> Result<(), ApiError> {
    let named = pod
        .pointer("/spec/priorityClassName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let resolved = resolve(&named, classes).map_err(|why| forbidden("pods", pod, why))?;
    if let Some(given) = pod.pointer("/spec/priority").and_then(Value::as_i64) {
        if given != resolved.priority {
            return Err(forbidden(
                "pods",
                pod,
                format!(
                    "the integer value of priority ({given}) must not be provided in pod spec; \
                     priority admission controller computed {} from the given PriorityClass name",
                    resolved.priority
                ),
            ));
        }
    }
    if let Some(given) = pod
        .pointer("/spec/preemptionPolicy")
        .and_then(Value::as_str)
    {
        if given != resolved.policy {
            return Err(forbidden(
                "pods",
                pod,
                format!(
                    "the string value of PreemptionPolicy ({given}) must not be provided in pod \
                     spec; priority admission controller computed {} from the given \
                     PriorityClass name",
                    resolved.policy
                ),
            ));
        }
    }
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    if !resolved.class.is_empty() {
        spec.insert("priorityClassName".into(), json!(resolved.class));
    }
    spec.insert("priority".into(), json!(resolved.priority));
    spec.insert("preemptionPolicy".into(), json!(resolved.policy));
    Ok(())
}

/// Refuses a second `globalDefault` PriorityClass, as upstream's plugin does on create and
/// update of PriorityClasses.
pub fn admit_priority_class(store: &Store, pc: &Value) -> Result<(), ApiError> {
    let classes = cached_list(store, "scheduling.k8s.io", "v1", "priorityclasses", None);
    check_single_default(&classes, pc)
}

fn check_single_default(classes: &[Value], pc: &Value) -> Result<(), ApiError> {
    if pc.get("globalDefault").and_then(Value::as_bool) != Some(true) {
        return Ok(());
    }
    let name = pc.pointer("/metadata/name").and_then(Value::as_str);
    let other = classes.iter().find(|c| {
        c.get("globalDefault").and_then(Value::as_bool) == Some(true)
            && c.pointer("/metadata/name").and_then(Value::as_str) != name
    });
    match other {
        Some(o) => Err(forbidden(
            "priorityclasses",
            pc,
            format!(
                "PriorityClass {} is already marked as default. Only one default can exist",
                o.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pc(name: &str, value: i64, default: bool) -> Value {
        json!({"metadata": {"name": name}, "value": value, "globalDefault": default})
    }

    fn pod(spec: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": spec})
    }

    #[test]
    fn a_named_class_sets_priority_and_policy() {
        let classes = [
            pc("high", 1000, false),
            json!({"metadata": {"name": "never"}, "value": 5, "preemptionPolicy": "Never"}),
        ];
        let mut p = pod(json!({"priorityClassName": "high"}));
        admit_pod_with(&classes, &mut p).unwrap();
        assert_eq!(p["spec"]["priority"], 1000);
        assert_eq!(p["spec"]["preemptionPolicy"], "PreemptLowerPriority");
        let mut p = pod(json!({"priorityClassName": "never"}));
        admit_pod_with(&classes, &mut p).unwrap();
        assert_eq!(p["spec"]["preemptionPolicy"], "Never");
    }

    #[test]
    fn without_a_name_the_lowest_global_default_applies_else_zero() {
        let mut p = pod(json!({}));
        admit_pod_with(&[pc("high", 1000, false)], &mut p).unwrap();
        assert_eq!(p["spec"]["priority"], 0);
        assert!(p["spec"].get("priorityClassName").is_none());
        let classes = [pc("a", 50, true), pc("b", 10, true)];
        let mut p = pod(json!({}));
        admit_pod_with(&classes, &mut p).unwrap();
        assert_eq!(p["spec"]["priority"], 10);
        assert_eq!(p["spec"]["priorityClassName"], "b");
    }

    #[test]
    fn unknown_classes_and_foreign_priorities_are_forbidden() {
        let err = admit_pod_with(&[], &mut pod(json!({"priorityClassName": "gold"}))).unwrap_err();
        assert_eq!(err.code, 403);
        assert_eq!(
            err.message,
            "pods \"p\" is forbidden: no PriorityClass with name gold was found"
        );
        let err = admit_pod_with(
            &[pc("high", 1000, false)],
            &mut pod(json!({"priorityClassName": "high", "priority": 7})),
        )
        .unwrap_err();
        assert!(err
            .message
            .contains("the integer value of priority (7) must not be provided"));
        // The same value (a re-submitted pod) is fine.
        admit_pod_with(
            &[pc("high", 1000, false)],
            &mut pod(json!({"priorityClassName": "high", "priority": 1000})),
        )
        .unwrap();
    }

    #[test]
    fn only_one_global_default() {
        let classes = [pc("a", 1, true)];
        assert!(check_single_default(&classes, &pc("b", 2, true)).is_err());
        assert!(check_single_default(&classes, &pc("a", 3, true)).is_ok());
        assert!(check_single_default(&classes, &pc("c", 3, false)).is_ok());
    }
}
