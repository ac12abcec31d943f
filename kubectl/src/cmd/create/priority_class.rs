//! `kubectl create priorityclass`: a cluster-wide PriorityClass. Upstream checks nothing
//! here (not even the preemption policy): the server judges the object.

use serde_json::{json, Value};

/// The flags of `create priorityclass` after parsing.
pub struct Request<'a> {
    pub name: &'a str,
    pub value: i32,
    pub global_default: bool,
    pub description: &'a str,
    pub preemption_policy: &'a str,
}

/// The PriorityClass asked for. `globalDefault` and `description` are left out when false
/// or empty (Go's `omitempty`); `value` and the policy (a pointer upstream always sets) are
/// always there.
pub fn priority_class(r: &Request<'_>) -> Value {
    let mut pc = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                        "metadata": {"name": r.name, "creationTimestamp": null},
                        "value": r.value, "preemptionPolicy": r.preemption_policy});
    if r.global_default {
        pc["globalDefault"] = json!(true);
    }
    if !r.description.is_empty() {
        pc["description"] = json!(r.description);
    }
    pc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(global_default: bool, description: &str) -> Value {
        priority_class(&Request {
            name: "p",
            value: 7,
            global_default,
            description,
            preemption_policy: "Never",
        })
    }

    #[test]
    fn zero_values_are_left_out_but_value_and_policy_stay() {
        let pc = request(false, "");
        assert_eq!(pc["value"], 7);
        assert_eq!(pc["preemptionPolicy"], "Never");
        assert!(pc.get("globalDefault").is_none());
        assert!(pc.get("description").is_none());
    }

    #[test]
    fn set_flags_are_recorded() {
        let pc = request(true, "high");
        assert_eq!(pc["globalDefault"], true);
        assert_eq!(pc["description"], "high");
    }
}
