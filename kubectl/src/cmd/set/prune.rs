//! Fields the Go struct does not have, dropped as upstream's typed decoding drops them.
//!
//! Which fields a kind has is learnt from its k8s-openapi type: the object is decoded into it
//! and encoded again, and whatever did not survive is removed from the object. The typed
//! form is only a mask — the object keeps its own values (Go's zero values are
//! [`super::typed`]'s business) — and an object the type refuses (a field of the wrong type)
//! is left whole.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, ReplicationController, Service};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

/// Removes from `obj` the fields its kind's type does not know (kinds `set` does not
/// change are left as they are).
pub fn drop_unknown_fields(obj: &mut Value) {
    if let Some(Ok(known)) = typed_form(obj) {
        retain_known(obj, &known);
    }
}

/// Why the type of `obj`'s kind refuses it, if it does (upstream's decoder refuses a `-f`
/// object so, before anything is changed).
pub fn decode_error(obj: &Value) -> Option<String> {
    match typed_form(obj)? {
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    }
}

/// `obj` through its kind's k8s-openapi type; None for kinds `set` does not change.
fn typed_form(obj: &Value) -> Option<serde_json::Result<Value>> {
    Some(
        match (
            obj["apiVersion"].as_str().unwrap_or_default(),
            obj["kind"].as_str().unwrap_or_default(),
        ) {
            ("v1", "Pod") => round_trip::<Pod>(obj),
            ("v1", "ReplicationController") => round_trip::<ReplicationController>(obj),
            ("v1", "Service") => round_trip::<Service>(obj),
            ("apps/v1", "Deployment") => round_trip::<Deployment>(obj),
            ("apps/v1", "StatefulSet") => round_trip::<StatefulSet>(obj),
            ("apps/v1", "DaemonSet") => round_trip::<DaemonSet>(obj),
            ("apps/v1", "ReplicaSet") => round_trip::<ReplicaSet>(obj),
            ("batch/v1", "Job") => round_trip::<Job>(obj),
            ("batch/v1", "CronJob") => round_trip::<CronJob>(obj),
            ("rbac.authorization.k8s.io/v1", "RoleBinding") => round_trip::<RoleBinding>(obj),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
                round_trip::<ClusterRoleBinding>(obj)
            }
            _ => return None,
        },
    )
}

/// `obj` decoded as `K` and encoded again.
fn round_trip<K: Serialize + DeserializeOwned>(obj: &Value) -> serde_json::Result<Value> {
    serde_json::to_value(K::deserialize(obj)?)
}

/// Keeps of `obj` what `known` has, member by member and element by element.
fn retain_known(obj: &mut Value, known: &Value) {
    match (obj, known) {
        (Value::Object(members), Value::Object(known)) => {
            // A null member is an absent one for the typed form too.
            members.retain(|k, v| v.is_null() || known.contains_key(k));
            for (k, v) in members.iter_mut() {
                if let Some(kv) = known.get(k) {
                    retain_known(v, kv);
                }
            }
        }
        (Value::Array(items), Value::Array(known)) if items.len() == known.len() => {
            for (item, k) in items.iter_mut().zip(known) {
                retain_known(item, k);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_the_type_lacks_are_dropped_and_refused_objects_kept() {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "bogus": 1},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"foo": "bar", "containers": [{"name": "main", "image": "x", "extra": true}]}}}});
        drop_unknown_fields(&mut d);
        assert!(d["metadata"].get("bogus").is_none());
        assert!(d["spec"]["template"]["spec"].get("foo").is_none());
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0],
            json!({"name": "main", "image": "x"})
        );
        assert_eq!(d["spec"]["template"]["metadata"]["labels"]["app"], "web");
        // An image that is no string: the type refuses the object, which is kept whole.
        let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a", "image": 5}], "foo": 1}});
        drop_unknown_fields(&mut p);
        assert_eq!(p["spec"]["foo"], 1);
        assert!(decode_error(&p).is_some());
        assert!(decode_error(&d).is_none());
    }
}
