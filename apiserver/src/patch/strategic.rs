//! Strategic merge patch, as kubectl sends it (`application/strategic-merge-patch+json`).
//!
//! Like a JSON merge patch, except that lists whose field has patch strategy `merge` are merged
//! item by item (objects by their merge key, scalars as sets) instead of being replaced, and that
//! the patch may carry directives:
//! - `$patch: replace | delete | merge` inside a map, or as a list item (`replace`), or inside a
//!   list item together with its merge key (`delete`);
//! - `$retainKeys: [...]`: keys of the original map not listed are dropped;
//! - `$deleteFromPrimitiveList/<field>: [...]`: values removed from a merged scalar list;
//! - `$setElementOrder/<field>: [...]`: the order the merged list should have.
//!
//! `null` deletes a key. Which lists merge comes from [`super::merge_keys`], the structure from
//! [`super::schema`].

use serde_json::{Map, Value};

use super::merge_keys::field_meta;
use super::schema::{child_shape, is_known, Shape};
use super::PatchError;

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";

/// Apply a strategic merge patch. `schema_name` is the OpenAPI definition name of the kind
/// (`io.k8s.api.apps.v1.Deployment`), which selects the patch metadata (merge keys,
/// strategies); for an unknown name every list is replaced, as in a JSON merge patch.
pub fn strategic_merge_patch(
    original: &Value,
    patch: &Value,
    schema_name: &str,
) -> Result<Value, PatchError> {
    let Value::Object(patch) = patch else {
        return Err(PatchError::BadPatch(
            "strategic merge patch must be a JSON object".into(),
        ));
    };
    let shape = if is_known(schema_name) {
        Shape::Object(schema_name.to_string())
    } else {
        Shape::Unknown
    };
    let original = match original {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    merge_map(original, patch, &shape)
}

/// Merge `patch` into the map `original`, whose shape is `shape`.
fn merge_map(
    mut original: Map<String, Value>,
    patch: &Map<String, Value>,
    shape: &Shape,
) -> Result<Value, PatchError> {
    match patch.get(PATCH) {
        None => {}
        Some(Value::String(s)) if s == "replace" => {
            let mut rest = patch.clone();
            rest.remove(PATCH);
            return merge_map(Map::new(), &rest, shape);
        }
        Some(Value::String(s)) if s == "delete" => return Ok(Value::Object(Map::new())),
        Some(Value::String(s)) if s == "merge" => {}
        Some(other) => {
            return Err(PatchError::BadPatch(format!(
                "unknown patch type: {other} in map: {}",
                Value::Object(patch.clone())
            )))
        }
    }

    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let keys: Vec<&str> = retain
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .ok_or_else(|| {
                PatchError::BadPatch(format!("{RETAIN_KEYS} must be a list of strings"))
            })?;
        for k in patch.keys().filter(|k| !k.starts_with('$')) {
            if !keys.contains(&k.as_str()) {
                return Err(PatchError::BadPatch(format!(
                    "key {k:?} in the patch is not present in the {RETAIN_KEYS} list {keys:?}"
                )));
            }
        }
        original.retain(|k, _| keys.contains(&k.as_str()));
    }

    for (k, values) in patch {
        if let Some(field) = k.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            let values = values.as_array().ok_or_else(|| {
                PatchError::BadPatch(format!("{k} must be a list of values to delete"))
            })?;
            if let Some(Value::Array(list)) = original.get_mut(field) {
                list.retain(|v| !values.contains(v));
            }
        }
    }

    for (k, patch_value) in patch {
        if k.starts_with('$') {
            continue;
        }
        if patch_value.is_null() {
            original.remove(k);
            continue;
        }
        let child = child_shape(shape, k);
        let meta = shape.definition().and_then(|d| field_meta(d, k));
        let merged = match (original.remove(k), patch_value) {
            (_, Value::Object(p)) if meta.is_some_and(|m| m.strategy == "replace") => {
                merge_map(Map::new(), p, &child)?
            }
            (Some(Value::Object(o)), Value::Object(p)) => merge_map(o, p, &child)?,
            (_, Value::Object(p)) => merge_map(Map::new(), p, &child)?,
            (old, Value::Array(p)) if meta.is_some_and(|m| m.merges()) => {
                let old = match old {
                    Some(Value::Array(a)) => a,
                    _ => Vec::new(),
                };
                let order = set_element_order(patch, k)?;
                let key = meta.map(|m| m.merge_key).unwrap_or_default();
                Value::Array(merge_list(old, p, &child.items(), key, order)?)
            }
            (_, other) => other.clone(),
        };
        original.insert(k.clone(), merged);
    }

    // A `$setElementOrder` without the list itself in the patch only reorders.
    for k in patch.keys() {
        let Some(field) = k.strip_prefix(SET_ELEMENT_ORDER) else {
            continue;
        };
        if patch.contains_key(field) {
            continue;
        }
        let key = shape
            .definition()
            .and_then(|d| field_meta(d, field))
            .map(|m| m.merge_key)
            .unwrap_or_default();
        if let (Some(Value::Array(list)), Some(order)) =
            (original.get_mut(field), set_element_order(patch, field)?)
        {
            let server_order = list.clone();
            *list = normalize_order(std::mem::take(list), order, &server_order, key);
        }
    }
    Ok(Value::Object(original))
}

fn set_element_order<'a>(
    patch: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a [Value]>, PatchError> {
    match patch.get(&format!("{SET_ELEMENT_ORDER}{field}")) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(PatchError::BadPatch(format!(
            "{SET_ELEMENT_ORDER}{field} must be a list"
        ))),
    }
}

fn directive(item: &Value) -> Option<&str> {
    item.get(PATCH).and_then(Value::as_str)
}

/// Merge a patch list into a list whose field has patch strategy `merge`.
fn merge_list(
    original: Vec<Value>,
    patch: &[Value],
    item_shape: &Shape,
    merge_key: &str,
    order: Option<&[Value]>,
) -> Result<Vec<Value>, PatchError> {
    let server_order = original.clone();
    if patch.iter().any(|i| directive(i) == Some("replace")) {
        return patch
            .iter()
            .filter(|i| directive(i) != Some("replace"))
            .map(|i| fresh(i, item_shape))
            .collect();
    }
    let scalars = patch.iter().chain(&original).all(|v| !v.is_object());
    let mut merged = original;
    let mut patch_order = Vec::new();
    if scalars {
        for v in patch {
            if !merged.contains(v) {
                merged.push(v.clone());
            }
            patch_order.push(v.clone());
        }
        return Ok(normalize_order(
            merged,
            order.unwrap_or(&patch_order),
            &server_order,
            "",
        ));
    }
    if merge_key.is_empty() {
        return Err(PatchError::BadPatch(
            "cannot merge lists of objects without a merge key".into(),
        ));
    }
    for item in patch {
        let Value::Object(fields) = item else {
            return Err(PatchError::BadPatch(format!(
                "list item {item} is not an object, but the list merges by key {merge_key:?}"
            )));
        };
        let id = fields.get(merge_key).ok_or_else(|| {
            PatchError::BadPatch(format!(
                "map: {item} does not contain declared merge key: {merge_key}"
            ))
        })?;
        match directive(item) {
            Some("delete") => {
                merged.retain(|m| m.get(merge_key) != Some(id));
                continue;
            }
            Some("merge") | None => {}
            Some(other) => {
                return Err(PatchError::BadPatch(format!(
                    "unknown patch type: {other} in list item: {item}"
                )))
            }
        }
        patch_order.push(item.clone());
        let mut fields = fields.clone();
        fields.remove(PATCH);
        match merged.iter_mut().find(|m| m.get(merge_key) == Some(id)) {
            Some(existing) => {
                let old = match existing.take() {
                    Value::Object(o) => o,
                    _ => Map::new(),
                };
                *existing = merge_map(old, &fields, item_shape)?;
            }
            None => merged.push(merge_map(Map::new(), &fields, item_shape)?),
        }
    }
    Ok(normalize_order(
        merged,
        order.unwrap_or(&patch_order),
        &server_order,
        merge_key,
    ))
}

/// A patch value standing on its own (nothing to merge into): directives resolved, nulls gone.
fn fresh(v: &Value, shape: &Shape) -> Result<Value, PatchError> {
    match v {
        Value::Object(m) => merge_map(Map::new(), m, shape),
        other => Ok(other.clone()),
    }
}

/// Order a merged list: the items named by `patch_order` in that order, the others (present
/// only on the server) keeping their place relative to the server's order; items new to the
/// server go after the server's items they are not ordered against.
fn normalize_order(
    merged: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
) -> Vec<Value> {
    let id = |v: &Value| -> Value {
        if merge_key.is_empty() {
            v.clone()
        } else {
            v.get(merge_key).cloned().unwrap_or(Value::Null)
        }
    };
    let position = |list: &[Value], v: &Value| {
        let wanted = id(v);
        list.iter().position(|x| id(x) == wanted)
    };
    let (mut patched, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|v| position(patch_order, v).is_some());
    patched.sort_by_key(|v| position(patch_order, v));
    server_only.sort_by_key(|v| position(server_order, v).unwrap_or(usize::MAX));

    let mut out = Vec::with_capacity(patched.len() + server_only.len());
    let mut left = patched.into_iter().peekable();
    let mut right = server_only.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (position(server_order, l), position(server_order, r)),
                (Some(li), Some(ri)) if li < ri
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";
    const POD: &str = "io.k8s.api.core.v1.Pod";

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                    {"name": "sidecar", "image": "busybox"}
                ]}}}
        })
    }

    fn containers(v: &Value) -> &Vec<Value> {
        v["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("containers")
    }

    #[test]
    fn changing_one_container_image_keeps_the_others() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1.27"}]}}}});
        let out = strategic_merge_patch(&deployment(), &patch, DEPLOYMENT).expect("patch");
        let c = containers(&out);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0]["image"], "nginx:1.27");
        assert_eq!(c[0]["ports"][0]["containerPort"], 80);
        assert_eq!(c[1]["name"], "sidecar");
    }

    #[test]
    fn a_new_container_is_added_after_the_existing_ones() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "log", "image": "fluentd"}]}}}});
        let out = strategic_merge_patch(&deployment(), &patch, DEPLOYMENT).expect("patch");
        let names: Vec<_> = containers(&out).iter().map(|c| c["name"].clone()).collect();
        assert_eq!(names, vec!["web", "sidecar", "log"]);
    }

    #[test]
    fn patch_delete_directive_removes_a_container() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "sidecar", "$patch": "delete"}]}}}});
        let out = strategic_merge_patch(&deployment(), &patch, DEPLOYMENT).expect("patch");
        assert_eq!(containers(&out).len(), 1);
        assert_eq!(containers(&out)[0]["name"], "web");
    }

    #[test]
    fn patch_replace_directive_replaces_the_list() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"$patch": "replace"}, {"name": "only", "image": "x"}]}}}});
        let out = strategic_merge_patch(&deployment(), &patch, DEPLOYMENT).expect("patch");
        assert_eq!(
            containers(&out),
            &vec![json!({"name": "only", "image": "x"})]
        );
    }

    #[test]
    fn null_removes_a_label_and_keeps_the_rest() {
        let patch = json!({"metadata": {"labels": {"tier": null, "env": "prod"}}});
        let out = strategic_merge_patch(&deployment(), &patch, DEPLOYMENT).expect("patch");
        assert_eq!(
            out["metadata"]["labels"],
            json!({"app": "web", "env": "prod"})
        );
    }

    #[test]
    fn env_merges_by_name() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}]}]}}}});
        let out = strategic_merge_patch(&deployment(), &patch, DEPLOYMENT).expect("patch");
        assert_eq!(
            containers(&out)[0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}])
        );
    }

    #[test]
    fn set_element_order_reorders_containers() {
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}],
            "containers": [{"name": "web", "image": "nginx:1.27"}]}}}});
        let out = strategic_merge_patch(&deployment(), &patch, DEPLOYMENT).expect("patch");
        let names: Vec<_> = containers(&out).iter().map(|c| c["name"].clone()).collect();
        assert_eq!(names, vec!["sidecar", "web"]);
        assert_eq!(containers(&out)[1]["image"], "nginx:1.27");
    }

    #[test]
    fn lists_without_merge_strategy_are_replaced() {
        let pod = json!({"spec": {"tolerations": [{"key": "a"}], "containers": [
            {"name": "c", "image": "x", "args": ["1", "2"]}]}});
        let patch = json!({"spec": {"tolerations": [{"key": "b"}], "containers": [
            {"name": "c", "args": ["3"]}]}});
        let out = strategic_merge_patch(&pod, &patch, POD).expect("patch");
        assert_eq!(out["spec"]["tolerations"], json!([{"key": "b"}]));
        assert_eq!(out["spec"]["containers"][0]["args"], json!(["3"]));
        assert_eq!(out["spec"]["containers"][0]["image"], "x");
    }

    #[test]
    fn finalizers_merge_as_a_set_and_delete_from_primitive_list() {
        let obj = json!({"metadata": {"finalizers": ["a", "b"]}});
        let out =
            strategic_merge_patch(&obj, &json!({"metadata": {"finalizers": ["b", "c"]}}), POD)
                .expect("patch");
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
        let out = strategic_merge_patch(
            &out,
            &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
            POD,
        )
        .expect("patch");
        assert_eq!(out["metadata"]["finalizers"], json!(["b", "c"]));
    }

    #[test]
    fn retain_keys_clears_the_other_strategy_fields() {
        let obj = json!({"spec": {"strategy": {"type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1}}}});
        let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
        let out = strategic_merge_patch(&obj, &patch, DEPLOYMENT).expect("patch");
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn map_directives_replace_and_delete() {
        let patch = json!({"metadata": {"labels": {"$patch": "replace", "only": "me"}}});
        let out = strategic_merge_patch(&deployment(), &patch, DEPLOYMENT).expect("patch");
        assert_eq!(out["metadata"]["labels"], json!({"only": "me"}));
        let patch = json!({"spec": {"selector": {"$patch": "delete"}}});
        let out = strategic_merge_patch(&deployment(), &patch, DEPLOYMENT).expect("patch");
        assert_eq!(out["spec"]["selector"], json!({}));
    }

    #[test]
    fn bad_patches_are_rejected_not_panicking() {
        assert!(strategic_merge_patch(&deployment(), &json!([1]), DEPLOYMENT).is_err());
        let missing_key = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        let err = strategic_merge_patch(&deployment(), &missing_key, DEPLOYMENT)
            .expect_err("no merge key");
        assert!(err
            .to_string()
            .contains("does not contain declared merge key: name"));
        let bad = json!({"metadata": {"$patch": "frobnicate"}});
        assert!(strategic_merge_patch(&deployment(), &bad, DEPLOYMENT).is_err());
    }

    #[test]
    fn kubectl_apply_second_time_with_one_container_changed() {
        // What kubectl's client-side apply sends when one container's image changed.
        let patch = json!({
            "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
                "containers": [{"image": "nginx:1.27", "name": "web"}]}}}});
        let out = strategic_merge_patch(&deployment(), &patch, DEPLOYMENT).expect("patch");
        let c = containers(&out);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0]["image"], "nginx:1.27");
        assert_eq!(c[0]["env"][1]["value"], "2");
        assert_eq!(c[1], json!({"name": "sidecar", "image": "busybox"}));
        assert_eq!(out["metadata"]["labels"]["tier"], "front");
        assert!(out["metadata"]["annotations"]
            .get("kubectl.kubernetes.io/last-applied-configuration")
            .is_some());
        assert_eq!(out["spec"]["replicas"], 1);
    }

    #[test]
    fn new_objects_in_the_patch_lose_their_nulls_and_directives() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "new", "image": "x", "resources": null,
             "env": [{"name": "A", "value": "1"}]}]}}}});
        let out = strategic_merge_patch(&json!({}), &patch, DEPLOYMENT).expect("patch");
        assert_eq!(
            containers(&out)[0],
            json!({"name": "new", "image": "x", "env": [{"name": "A", "value": "1"}]})
        );
    }

    #[test]
    fn unknown_kinds_behave_like_merge_patch() {
        let obj = json!({"spec": {"items": [{"name": "a"}]}});
        let patch = json!({"spec": {"items": [{"name": "b"}]}});
        let out = strategic_merge_patch(&obj, &patch, "example.com.v1.Widget").expect("patch");
        assert_eq!(out["spec"]["items"], json!([{"name": "b"}]));
    }
}
