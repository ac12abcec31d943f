//! `--overrides` / `--override-type` (upstream's OverrideOptions): an inline JSON document
//! applied to an object a generator built, before it is sent.
//!
//! - `merge` (the default): an RFC 7386 JSON merge patch.
//! - `json`: an RFC 6902 JSON patch (a list of operations).
//! - `strategic`: a strategic merge patch on the Pods and Services our generators build: like
//!   `merge`, except that the lists the schema gives a merge key (containers by name, a
//!   container's ports by containerPort, a Service's by port, …) merge their elements by that
//!   key instead of being replaced. `$patch` directives are not read.
//!
//! Upstream decodes the patched document back into the typed Pod or Service before printing or
//! sending it, so fields Go always marshals (required scalars, non-pointer structs) reappear with
//! their zero values: [`as_typed`] does the same for the fields those two kinds have.

use serde_json::{Map, Value};

use crate::error::{KubectlError, Result};

/// Lists a Pod's strategic merge patch merges element-wise, and the key that matches elements
/// (from the Pod schema's `x-kubernetes-patch-merge-key`). Other lists are replaced.
const POD_MERGE_KEYS: &[(&str, &str)] = &[
    ("containers", "name"),
    ("initContainers", "name"),
    ("ephemeralContainers", "name"),
    ("volumes", "name"),
    ("env", "name"),
    ("volumeMounts", "mountPath"),
    ("volumeDevices", "devicePath"),
    ("ports", "containerPort"),
    ("imagePullSecrets", "name"),
    ("hostAliases", "ip"),
    ("resourceClaims", "name"),
];

/// A Service's merged lists: its ports match by `port`.
const SERVICE_MERGE_KEYS: &[(&str, &str)] = &[("ports", "port")];

/// The merge keys of the object's kind.
fn merge_keys(obj: &Value) -> &'static [(&'static str, &'static str)] {
    match obj["kind"].as_str() {
        Some("Service") => SERVICE_MERGE_KEYS,
        _ => POD_MERGE_KEYS,
    }
}

/// Applies `overrides` to `obj` the way `override_type` says.
pub fn apply(obj: &Value, overrides: &str, override_type: &str) -> Result<Value> {
    patch(obj, overrides, override_type).map(as_typed)
}

/// The patched document without the typed round trip (also `kubectl patch`'s local patching).
pub fn patch(obj: &Value, overrides: &str, override_type: &str) -> Result<Value> {
    let parse = || -> Result<Value> {
        serde_json::from_str(overrides)
            .map_err(|e| KubectlError::usage(format!("unable to parse --overrides: {e}")))
    };
    match override_type {
        "merge" => {
            let mut merged = obj.clone();
            json_patch::merge(&mut merged, &parse()?);
            Ok(merged)
        }
        "json" => {
            let patch: json_patch::Patch = serde_json::from_value(parse()?)
                .map_err(|e| KubectlError::usage(format!("unable to parse --overrides: {e}")))?;
            let mut patched = obj.clone();
            json_patch::patch(&mut patched, &patch)
                .map_err(|e| KubectlError::usage(format!("unable to apply --overrides: {e}")))?;
            Ok(patched)
        }
        "strategic" => {
            let mut merged = obj.clone();
            strategic_merge(&mut merged, &parse()?, merge_keys(obj));
            Ok(merged)
        }
        other => Err(KubectlError::usage(format!(
            "invalid override type: {other}"
        ))),
    }
}

/// `obj` as Go's typed Pod or Service marshals it: the fields without `omitempty`, and structs
/// that are not pointers, present with their zero values when the patch removed or never set
/// them (a container's `resources: {}`, a Service port's `targetPort: 0`, `status: {}`, …).
fn as_typed(mut obj: Value) -> Value {
    let Some(root) = obj.as_object_mut() else {
        return obj;
    };
    let kind = root
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let meta = object_field(root, "metadata");
    meta.entry("creationTimestamp").or_insert(Value::Null);
    let spec = object_field(root, "spec");
    match kind.as_str() {
        "Service" => {
            for port in list_items(spec, "ports") {
                zero(
                    port,
                    &[("port", json_zero_int()), ("targetPort", json_zero_int())],
                );
            }
            let status = object_field(root, "status");
            object_field(status, "loadBalancer");
        }
        _ => {
            spec.entry("containers").or_insert(Value::Null);
            for list in ["containers", "initContainers", "ephemeralContainers"] {
                for container in list_items(spec, list) {
                    typed_container(container);
                }
            }
            for volume in list_items(spec, "volumes") {
                zero(volume, &[("name", json_empty_string())]);
            }
            object_field(root, "status");
        }
    }
    obj
}

/// A Container's always-marshalled fields.
fn typed_container(container: &mut Map<String, Value>) {
    zero(container, &[("name", json_empty_string())]);
    object_field(container, "resources");
    for port in list_items(container, "ports") {
        zero(port, &[("containerPort", json_zero_int())]);
    }
    for env in list_items(container, "env") {
        zero(env, &[("name", json_empty_string())]);
    }
    for mount in list_items(container, "volumeMounts") {
        zero(
            mount,
            &[
                ("name", json_empty_string()),
                ("mountPath", json_empty_string()),
            ],
        );
    }
}

fn json_zero_int() -> Value {
    Value::from(0)
}

fn json_empty_string() -> Value {
    Value::String(String::new())
}

/// Sets each absent (or `null`) field to its zero value.
fn zero(map: &mut Map<String, Value>, fields: &[(&str, Value)]) {
    for (field, value) in fields {
        let slot = map.entry(*field).or_insert(Value::Null);
        if slot.is_null() {
            *slot = value.clone();
        }
    }
}

/// The object under `key`, made `{}` when absent or `null` (a non-pointer struct in Go).
fn object_field<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map.entry(key).or_insert(Value::Null);
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(inner) => inner,
        _ => unreachable!("just made an object"),
    }
}

/// The object elements of the list under `key` (none when it is absent or not a list).
fn list_items<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    map.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// Merges a partial container, pod or pod spec into `target` as a strategic merge patch
/// with the Pod schema's merge keys (`kubectl debug --custom`, and what `kubectl set`
/// would change under `--dry-run=client`); `{"$patch": "delete"}` elements remove theirs.
pub fn strategic_merge_pod_part(target: &mut Value, patch: &Value) {
    strategic_merge(target, patch, POD_MERGE_KEYS);
}

/// Merges `patch` into `target`: objects key by key (`null` deletes), lists named in `keys`
/// element by element, everything else replaced.
fn strategic_merge(target: &mut Value, patch: &Value, keys: &[(&str, &str)]) {
    let (Some(target_map), Some(patch_map)) = (target.as_object_mut(), patch.as_object()) else {
        *target = patch.clone();
        return;
    };
    for (key, value) in patch_map {
        if value.is_null() {
            target_map.remove(key);
            continue;
        }
        let merge_key = keys.iter().find(|(list, _)| list == key).map(|(_, k)| *k);
        match (target_map.get_mut(key), merge_key) {
            (Some(Value::Array(existing)), Some(merge_key)) if value.is_array() => merge_list(
                existing,
                value.as_array().into_iter().flatten(),
                merge_key,
                keys,
            ),
            (Some(existing), _) if existing.is_object() && value.is_object() => {
                strategic_merge(existing, value, keys)
            }
            _ => {
                target_map.insert(key.clone(), without_nulls(value));
            }
        }
    }
}

/// Merges each patch element into the element with the same `merge_key`, appending the rest.
fn merge_list<'a>(
    existing: &mut Vec<Value>,
    patch: impl Iterator<Item = &'a Value>,
    merge_key: &str,
    keys: &[(&str, &str)],
) {
    for element in patch {
        let key = element.get(merge_key);
        if element.get("$patch").and_then(Value::as_str) == Some("delete") {
            existing.retain(|e| key.is_none() || e.get(merge_key) != key);
            continue;
        }
        match existing
            .iter_mut()
            .find(|e| key.is_some() && e.get(merge_key) == key)
        {
            Some(found) => strategic_merge(found, element, keys),
            None => existing.push(without_nulls(element)),
        }
    }
}

/// A new value from a patch: `null` members mean "absent", so they are dropped.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"run": "web"}},
               "spec": {"containers": [{"name": "web", "image": "busybox", "ports": [{"containerPort": 80}]}],
                        "restartPolicy": "Always"}})
    }

    #[test]
    fn merge_replaces_lists_and_deletes_nulls() {
        let out = apply(
            &pod(),
            r#"{"spec":{"containers":[{"name":"other","image":"x"}],"restartPolicy":null,"terminationGracePeriodSeconds":1}}"#,
            "merge",
        )
        .unwrap();
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name": "other", "image": "x", "resources": {}}])
        );
        assert!(out["spec"].get("restartPolicy").is_none());
        assert_eq!(out["spec"]["terminationGracePeriodSeconds"], 1);
    }

    #[test]
    fn strategic_merges_containers_by_name_and_appends_new_ones() {
        let out = apply(
            &pod(),
            r#"{"spec":{"containers":[{"name":"web","stdin":true,"ports":[{"containerPort":81}]},{"name":"side","image":"y"}]}}"#,
            "strategic",
        )
        .unwrap();
        let containers = out["spec"]["containers"].as_array().unwrap();
        assert_eq!(containers.len(), 2);
        assert_eq!(
            containers[0]["image"], "busybox",
            "the generated fields stay"
        );
        assert_eq!(containers[0]["stdin"], true);
        assert_eq!(
            containers[0]["ports"],
            json!([{"containerPort": 80}, {"containerPort": 81}])
        );
        assert_eq!(containers[1]["name"], "side");
    }

    #[test]
    fn delete_directives_remove_list_elements() {
        let mut pod = json!({"spec": {"containers": [{"name": "c", "env": [
            {"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]}});
        strategic_merge_pod_part(
            &mut pod,
            &json!({"spec": {"containers": [{"name": "c", "env": [
                {"name": "A", "$patch": "delete"}, {"name": "C", "value": "3"}]}]}}),
        );
        assert_eq!(
            pod["spec"]["containers"][0]["env"],
            json!([{"name": "B", "value": "2"}, {"name": "C", "value": "3"}])
        );
    }

    #[test]
    fn strategic_merges_service_ports_by_port() {
        let svc = json!({"kind": "Service", "spec": {"ports": [{"port": 80, "targetPort": 8080}]}});
        let out = apply(
            &svc,
            r#"{"spec":{"ports":[{"port":80,"name":"http"},{"port":443}]}}"#,
            "strategic",
        )
        .unwrap();
        assert_eq!(
            out["spec"]["ports"],
            json!([{"port": 80, "targetPort": 8080, "name": "http"}, {"port": 443, "targetPort": 0}])
        );
    }

    #[test]
    fn json_patch_operations_apply_in_order() {
        let out = apply(
            &pod(),
            r#"[{"op":"replace","path":"/spec/containers/0/image","value":"nginx"},{"op":"add","path":"/metadata/labels/tier","value":"web"}]"#,
            "json",
        )
        .unwrap();
        assert_eq!(out["spec"]["containers"][0]["image"], "nginx");
        assert_eq!(out["metadata"]["labels"]["tier"], "web");
        let err = apply(&pod(), r#"[{"op":"remove","path":"/nope"}]"#, "json").unwrap_err();
        assert!(
            err.to_string().contains("unable to apply --overrides"),
            "{err}"
        );
    }

    #[test]
    fn the_result_gains_the_zero_values_of_the_typed_pod() {
        let out = apply(
            &pod(),
            r#"{"status":null,"spec":{"containers":[{"ports":[{"name":"p"}],"env":[{"value":"v"}],"volumeMounts":[{"readOnly":true}]}],"initContainers":[{"image":"a"}],"volumes":[{"emptyDir":{}}]}}"#,
            "merge",
        )
        .unwrap();
        assert_eq!(out["metadata"]["creationTimestamp"], Value::Null);
        assert!(out["metadata"].get("creationTimestamp").is_some());
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name": "", "resources": {}, "ports": [{"name": "p", "containerPort": 0}],
                    "env": [{"name": "", "value": "v"}],
                    "volumeMounts": [{"name": "", "mountPath": "", "readOnly": true}]}])
        );
        assert_eq!(
            out["spec"]["initContainers"],
            json!([{"name": "", "image": "a", "resources": {}}])
        );
        assert_eq!(
            out["spec"]["volumes"],
            json!([{"name": "", "emptyDir": {}}])
        );
        assert_eq!(out["status"], json!({}));

        let removed = apply(&pod(), r#"{"spec":{"containers":null}}"#, "merge").unwrap();
        assert!(removed["spec"]["containers"].is_null());
        assert!(
            removed["spec"].get("containers").is_some(),
            "Go marshals a nil slice as null"
        );
    }

    #[test]
    fn the_result_gains_the_zero_values_of_the_typed_service() {
        let svc = json!({"kind": "Service", "metadata": {"name": "web"},
                         "spec": {"ports": [{"port": 80, "targetPort": 8080}]}, "status": {"loadBalancer": {}}});
        let out = apply(
            &svc,
            r#"{"spec":{"ports":[{"name":"x"}]},"status":null}"#,
            "merge",
        )
        .unwrap();
        assert_eq!(
            out["spec"]["ports"],
            json!([{"name": "x", "port": 0, "targetPort": 0}])
        );
        assert_eq!(out["status"], json!({"loadBalancer": {}}));
    }

    #[test]
    fn bad_json_and_unknown_types_are_usage_errors() {
        assert!(apply(&pod(), "{not json", "merge").is_err());
        let err = apply(&pod(), "{}", "other").unwrap_err();
        assert!(
            err.to_string().contains("invalid override type: other"),
            "{err}"
        );
    }
}
