//! Strategic merge patches computed on the client, as upstream kubectl sends them to built-in
//! types: `apply` sends the three-way patch from the last applied configuration, the new one
//! and the live object; `edit` the two-way patch from what the editor was given to what it
//! saved. Unlike a JSON merge patch, a list that merges by key (containers, env, ports,
//! volumes …) is patched item by item, so items others added to the live object survive.
//! The patch metadata comes from the server's OpenAPI v3 document ([`schema`]).

mod conflicts;
mod diff;
mod merge;
pub mod schema;

use serde_json::{Map, Value};

pub use schema::{PatchSchema, PatchSchemas};

use diff::{diff_maps, DiffOptions};

/// Why a strategic patch could not be computed (upstream's mergepatch errors).
#[derive(Debug, thiserror::Error)]
pub enum StrategicError {
    #[error("map: {item} does not contain declared merge key: {key}")]
    NoMergeKey { item: String, key: String },
    #[error("lists of lists are not supported")]
    ListOfLists,
    #[error("list items are not all of one kind")]
    MixedList,
    #[error("Unknown patch type: {0}")]
    BadPatchDirective(String),
    #[error("the two halves of the patch disagree on {0}")]
    Inconsistent(&'static str),
}

fn as_map(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

/// The patch `kubectl apply` sends: what turns `current` into `modified` (without removing
/// what others added), plus the removal of what was in `original` (the last applied
/// configuration) and no longer is in `modified`.
pub fn three_way(
    schema: &PatchSchema,
    original: Option<&Value>,
    modified: &Value,
    current: &Value,
) -> Result<Value, StrategicError> {
    let modified = as_map(Some(modified));
    let delta = diff_maps(
        schema,
        schema.root(),
        &as_map(Some(current)),
        &modified,
        DiffOptions {
            ignore_deletions: true,
            set_element_order: true,
            ..Default::default()
        },
    )?;
    let deletions = diff_maps(
        schema,
        schema.root(),
        &as_map(original),
        &modified,
        DiffOptions {
            ignore_changes_and_additions: true,
            set_element_order: true,
            ..Default::default()
        },
    )?;
    Ok(Value::Object(merge::join_patches(
        schema,
        schema.root(),
        deletions,
        delta,
    )?))
}

/// `kubectl apply --overwrite=false`: what changed from `original` (the last applied
/// configuration) to `current`, and whether `patch` sets any of it differently. Returns the
/// changes when it does, for the error message.
pub fn overwrite_conflicts(
    schema: &PatchSchema,
    original: Option<&Value>,
    current: &Value,
    patch: &Value,
) -> Result<Option<Value>, StrategicError> {
    let changed = diff_maps(
        schema,
        schema.root(),
        &as_map(original),
        &as_map(Some(current)),
        DiffOptions::default(),
    )?;
    let conflict =
        conflicts::maps_have_conflicts(schema, schema.root(), &as_map(Some(patch)), &changed);
    Ok(conflict.then_some(Value::Object(changed)))
}

/// The patch `kubectl edit` sends: what turns `original` into `modified`.
pub fn two_way(
    schema: &PatchSchema,
    original: &Value,
    modified: &Value,
) -> Result<Value, StrategicError> {
    Ok(Value::Object(diff_maps(
        schema,
        schema.root(),
        &as_map(Some(original)),
        &as_map(Some(modified)),
        DiffOptions {
            set_element_order: true,
            ..Default::default()
        },
    )?))
}

#[cfg(test)]
mod tests {
    use super::schema::tests::deployment_schema;
    use super::*;
    use serde_json::json;

    fn deployment(containers: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": {"containers": containers}}}})
    }

    #[test]
    fn a_changed_image_patches_its_container_by_name() {
        let s = deployment_schema();
        let original = deployment(json!([{"name": "web", "image": "a"}]));
        let modified = deployment(json!([{"name": "web", "image": "b"}]));
        // Someone added an env var and a sidecar to the live object; both survive.
        let current = deployment(json!([
            {"name": "web", "image": "a", "env": [{"name": "X", "value": "1"}]},
            {"name": "sidecar", "image": "s"}]));
        let patch = three_way(&s, Some(&original), &modified, &current).unwrap();
        assert_eq!(
            patch,
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "web"}],
                "containers": [{"name": "web", "image": "b"}]}}}})
        );
    }

    #[test]
    fn an_item_dropped_from_the_configuration_is_deleted() {
        let s = deployment_schema();
        let original =
            deployment(json!([{"name": "web", "image": "a"}, {"name": "old", "image": "o"}]));
        let modified = deployment(json!([{"name": "web", "image": "a"}]));
        let current = original.clone();
        let patch = three_way(&s, Some(&original), &modified, &current).unwrap();
        assert_eq!(
            patch,
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "web"}],
                "containers": [{"name": "old", "$patch": "delete"}]}}}})
        );
    }

    #[test]
    fn overwrite_conflicts_list_changes_item_by_item() {
        let s = deployment_schema();
        let original = deployment(json!([{"name": "web", "image": "a"}]));
        // Since the last apply someone changed web's image and added a sidecar.
        let current =
            deployment(json!([{"name": "web", "image": "c"}, {"name": "sidecar", "image": "s"}]));
        let changed = json!({"spec": {"template": {"spec": {"containers":
            [{"name": "web", "image": "c"}, {"name": "sidecar", "image": "s"}]}}}});
        // Changing web's image again conflicts, and the changes are reported by item.
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "b"}]}}}});
        assert_eq!(
            overwrite_conflicts(&s, Some(&original), &current, &patch).expect("diff"),
            Some(changed)
        );
        // A change elsewhere does not.
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "other", "image": "o"}]}}}});
        assert_eq!(
            overwrite_conflicts(&s, Some(&original), &current, &patch).expect("diff"),
            None
        );
    }

    #[test]
    fn nothing_changed_is_an_empty_patch() {
        let s = deployment_schema();
        let config = deployment(json!([{"name": "web", "image": "a"}]));
        let current = deployment(json!([{"name": "web", "image": "a",
                                         "imagePullPolicy": "Always"}]));
        let patch = three_way(&s, Some(&config), &config, &current).unwrap();
        assert_eq!(patch, json!({}));
    }

    #[test]
    fn removed_fields_and_scalars_are_cleared() {
        let s = deployment_schema();
        let original = json!({"metadata": {"name": "web", "labels": {"a": "1", "b": "2"},
                                           "finalizers": ["x", "y"]}});
        let modified = json!({"metadata": {"name": "web", "labels": {"a": "1"},
                                           "finalizers": ["x"]}});
        let current = json!({"metadata": {"name": "web", "labels": {"a": "1", "b": "2", "c": "3"},
                                          "finalizers": ["x", "y", "z"]}});
        let patch = three_way(&s, Some(&original), &modified, &current).unwrap();
        assert_eq!(
            patch,
            json!({"metadata": {"labels": {"b": null},
                                "$deleteFromPrimitiveList/finalizers": ["y"],
                                "$setElementOrder/finalizers": ["x"]}})
        );
    }

    #[test]
    fn retain_keys_lists_what_the_struct_keeps() {
        let s = deployment_schema();
        let original = json!({"spec": {"strategy": {"type": "RollingUpdate",
                                                    "rollingUpdate": {"maxSurge": 1}}}});
        let modified = json!({"spec": {"strategy": {"type": "Recreate"}}});
        let patch = three_way(&s, Some(&original), &modified, &original).unwrap();
        assert_eq!(
            patch,
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate",
                                         "rollingUpdate": null}}})
        );
    }

    #[test]
    fn a_missing_merge_key_is_an_error() {
        let s = deployment_schema();
        let original = deployment(json!([{"name": "web", "image": "a"}]));
        let modified = deployment(json!([{"image": "b"}]));
        let e = three_way(&s, Some(&original), &modified, &original).unwrap_err();
        assert!(
            e.to_string()
                .contains("does not contain declared merge key: name"),
            "{e}"
        );
    }

    #[test]
    fn two_way_reorders_and_adds() {
        let s = deployment_schema();
        let original =
            deployment(json!([{"name": "a", "image": "1"}, {"name": "b", "image": "2"}]));
        let modified = deployment(
            json!([{"name": "b", "image": "2"}, {"name": "a", "image": "1",
                                           "args": ["x"]}]),
        );
        let patch = two_way(&s, &original, &modified).unwrap();
        assert_eq!(
            patch,
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                "containers": [{"name": "a", "args": ["x"]}]}}}})
        );
    }
}
