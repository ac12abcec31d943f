//! The JSON of a Go zero value, from the schema table's Go facts: what upstream shows for a
//! struct nobody has set yet, such as a new Service's `status: {loadBalancer: {}}` or a new
//! DaemonSet's four status counters at 0. Typed clients rely on those being there (a struct
//! is never left out of Go's JSON, and fields without `omitempty` always appear).

use serde_json::{Map, Value};

use super::schema::{self, Field, Kind, MessageSchema, INLINE, OMITEMPTY, POINTER, REPEATED};

const META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.";
const QUANTITY: &str = "k8s.io.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING: &str = "k8s.io.apimachinery.pkg.util.intstr.IntOrString";
const RAW_EXTENSION: &str = "k8s.io.apimachinery.pkg.runtime.RawExtension";

/// How deep a zero value is followed; the API's structs nest far less than this.
const MAX_DEPTH: usize = 16;

/// The zero `status` of a kind (`apiVersion`, `kind`), as a freshly created object of that
/// kind shows it; `None` when the kind has no status struct in the table or it is a pointer.
pub fn zero_status(api_version: &str, kind: &str) -> Option<Value> {
    let message = schema::message(super::message_name(api_version, kind)?)?;
    let status = message
        .fields
        .iter()
        .find(|f| f.json == "status" && !f.has(POINTER) && !f.has(REPEATED))?;
    match status.kind {
        Kind::Message(name) => zero_field(name, 0),
        _ => None,
    }
}

/// The JSON of the zero value of message `name`, or `None` when Go marshals it as `null`.
fn zero_field(name: &str, depth: usize) -> Option<Value> {
    match name {
        QUANTITY => return Some(Value::String("0".into())),
        INT_OR_STRING => return Some(Value::from(0)),
        RAW_EXTENSION => return None,
        _ => {}
    }
    // metav1.Time and MicroTime marshal their zero as null; Duration as "0s" is never a
    // status field without omitempty.
    if let Some(meta_kind) = name.strip_prefix(META) {
        if matches!(meta_kind, "Time" | "MicroTime" | "Duration") {
            return None;
        }
    }
    if depth >= MAX_DEPTH {
        return None;
    }
    let message = schema::message(name)?;
    let mut out = Map::new();
    fill(message, depth, &mut out);
    Some(Value::Object(out))
}

/// Puts the zero value of every field of `message` that Go's JSON shows into `out`.
fn fill(message: &MessageSchema, depth: usize, out: &mut Map<String, Value>) {
    for field in message.fields {
        if field.has(INLINE) {
            if let Kind::Message(name) = field.kind {
                if let Some(inner) = schema::message(name) {
                    fill(inner, depth + 1, out);
                }
            }
            continue;
        }
        if let Some(v) = shown_zero(field, depth) {
            out.insert(field.json.to_string(), v);
        }
    }
}

/// The zero value a field shows in Go's JSON: nil pointers, slices and maps are `null` or
/// left out (neither is worth writing), scalars show only without `omitempty`, and a struct
/// always shows, `omitempty` or not.
fn shown_zero(field: &Field, depth: usize) -> Option<Value> {
    if field.has(POINTER) || field.has(REPEATED) {
        return None;
    }
    match field.kind {
        Kind::Message(name) => zero_field(name, depth + 1),
        Kind::Map(_) => None,
        _ if field.has(OMITEMPTY) => None,
        Kind::String | Kind::Bytes => Some(Value::String(String::new())),
        Kind::Bool => Some(Value::Bool(false)),
        Kind::Int32 | Kind::Int64 => Some(Value::from(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_show_their_structs_and_counters() {
        assert_eq!(
            zero_status("v1", "Service"),
            Some(json!({"loadBalancer": {}}))
        );
        assert_eq!(
            zero_status("networking.k8s.io/v1", "Ingress"),
            Some(json!({"loadBalancer": {}}))
        );
        assert_eq!(
            zero_status("apps/v1", "DaemonSet"),
            Some(json!({"currentNumberScheduled": 0, "numberMisscheduled": 0,
                        "desiredNumberScheduled": 0, "numberReady": 0}))
        );
        assert_eq!(zero_status("apps/v1", "Deployment"), Some(json!({})));
        assert_eq!(
            zero_status("apps/v1", "StatefulSet"),
            Some(json!({"replicas": 0, "availableReplicas": 0}))
        );
        assert_eq!(
            zero_status("policy/v1", "PodDisruptionBudget"),
            Some(json!({"disruptionsAllowed": 0, "currentHealthy": 0,
                        "desiredHealthy": 0, "expectedPods": 0}))
        );
    }

    #[test]
    fn kinds_without_a_status_struct_have_none() {
        assert_eq!(zero_status("v1", "ConfigMap"), None);
        assert_eq!(zero_status("v1", "NoSuchKind"), None);
        assert_eq!(zero_status("example.com/v1", "Widget"), None);
    }
}
