//! Small core/v1 kinds: Namespace, Node, Event (and its events.k8s.io/v1 form), Endpoints.

use serde_json::{json, Value};

use super::json::{child, get, get_str, index, is_unset, items, set_default};
use crate::errors::FieldError;
use crate::registry::strategy::NameRule;
use crate::registry::Strategy;

/// core/v1 Namespace.
pub struct Namespace;
impl Strategy for Namespace {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "finalizers"], json!(["kubernetes"]));
        set_default(obj, &["status", "phase"], json!("Active"));
    }

    fn field_labels(&self) -> &'static [&'static str] {
        &["status.phase"]
    }

    fn name_rule(&self) -> NameRule {
        NameRule::Label
    }
}

/// core/v1 Node: allocatable defaults to capacity.
pub struct Node;
impl Strategy for Node {
    fn default(&self, obj: &mut Value) {
        if let Some(cap) = get(obj, &["status", "capacity"])
            .filter(|c| !is_unset(Some(c)))
            .cloned()
        {
            set_default(obj, &["status", "allocatable"], cap);
        }
    }

    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        for (i, t) in items(obj, &["spec", "taints"]).iter().enumerate() {
            let path = index("spec.taints", i);
            if get_str(t, &["key"]).unwrap_or_default().is_empty() {
                errs.push(FieldError::required(child(&path, "key"), ""));
            }
            errs.extend(super::json::one_of(
                t,
                &["effect"],
                &child(&path, "effect"),
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
                true,
            ));
        }
        errs
    }

    fn field_labels(&self) -> &'static [&'static str] {
        &["spec.unschedulable"]
    }
}

/// core/v1 Event.
pub struct Event;
impl Strategy for Event {
    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let ns = get_str(obj, &["metadata", "namespace"]).unwrap_or_default();
        let involved_ns = get_str(obj, &["involvedObject", "namespace"]).unwrap_or_default();
        if is_unset(get(obj, &["involvedObject"])) {
            errs.push(FieldError::required("involvedObject", ""));
        } else if !involved_ns.is_empty() && !ns.is_empty() && involved_ns != ns {
            errs.push(FieldError::invalid(
                "involvedObject.namespace",
                involved_ns,
                "does not match event.namespace",
            ));
        }
        errs.extend(super::json::one_of(
            obj,
            &["type"],
            "type",
            &["Normal", "Warning"],
            false,
        ));
        errs
    }

    fn field_labels(&self) -> &'static [&'static str] {
        EVENT_FIELDS
    }
}

/// Upstream's selectable Event fields (`source` is `source.component`'s value).
const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

/// events.k8s.io/v1 Event, validated in its own shape: the new API requires the fields that
/// say who reported what.
pub struct EventV1;
impl Strategy for EventV1 {
    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let series = !is_unset(get(obj, &["series"]));
        for field in [
            "eventTime",
            "reportingController",
            "reportingInstance",
            "action",
            "reason",
        ] {
            if is_unset(get(obj, &[field])) && !(field == "eventTime" && series) {
                errs.push(FieldError::required(field, ""));
            }
        }
        if get_str(obj, &["note"]).is_some_and(|n| n.len() > 1024) {
            errs.push(FieldError {
                kind: crate::errors::FieldErrorKind::TooLong,
                field: "note".into(),
                value: None,
                detail: "must have at most 1024 bytes".into(),
            });
        }
        errs.extend(super::json::one_of(
            obj,
            &["type"],
            "type",
            &["Normal", "Warning"],
            true,
        ));
        errs
    }

    fn field_labels(&self) -> &'static [&'static str] {
        EVENT_FIELDS
    }
}

/// core/v1 Endpoints: addresses need an IP.
pub struct Endpoints;
impl Strategy for Endpoints {
    fn default(&self, obj: &mut Value) {
        super::json::for_each_mut(obj, &["subsets"], |s| {
            super::json::for_each_mut(s, &["ports"], |p| {
                set_default(p, &["protocol"], json!("TCP"))
            });
        });
    }

    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        for (i, s) in items(obj, &["subsets"]).iter().enumerate() {
            let spath = index("subsets", i);
            for list in ["addresses", "notReadyAddresses"] {
                for (j, a) in items(s, &[list]).iter().enumerate() {
                    if get_str(a, &["ip"]).unwrap_or_default().is_empty() {
                        errs.push(FieldError::required(
                            child(&index(&child(&spath, list), j), "ip"),
                            "",
                        ));
                    }
                }
            }
            for (j, p) in items(s, &["ports"]).iter().enumerate() {
                if let Some(n) = p.get("port").and_then(Value::as_i64) {
                    errs.extend(super::json::port_number(
                        n,
                        &child(&index(&child(&spath, "ports"), j), "port"),
                    ));
                }
            }
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_defaults() {
        let mut ns = json!({"metadata": {"name": "dev"}});
        Namespace.default(&mut ns);
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(ns["status"]["phase"], "Active");
    }

    #[test]
    fn event_namespace_must_match() {
        let e = json!({"metadata": {"namespace": "a"}, "involvedObject": {"kind": "Pod", "namespace": "b"}});
        assert_eq!(
            Event.validate(&e, None)[0].message(),
            "involvedObject.namespace: Invalid value: \"b\": does not match event.namespace"
        );
    }
}
