//! `kubectl apply --overwrite=false` for built-in types: whether the strategic patch about to
//! be sent sets something that was changed differently since the last apply (upstream's
//! `MergingMapsHaveConflicts`). Lists that merge by key are compared item by item under their
//! key, so a container others added does not conflict with one this apply changes; merged
//! lists of scalars never conflict; other lists conflict unless equal (scalars compared as
//! sets).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::diff::{PATCH, RETAIN_KEYS};
use super::schema::{Node, PatchSchema};

/// Whether `left` and `right` (two patches of the type at `node`) set a field differently.
pub fn maps_have_conflicts(
    schema: &PatchSchema,
    node: Node<'_>,
    left: &Map<String, Value>,
    right: &Map<String, Value>,
) -> bool {
    left.iter()
        .filter(|(key, _)| *key != PATCH && *key != RETAIN_KEYS)
        .any(|(key, l)| {
            let Some(r) = right.get(key) else {
                return false;
            };
            let meta = schema.field(node, key);
            let (_, strategy) = meta.strategies();
            field_has_conflicts(schema, meta.node, l, r, strategy, meta.merge_key)
        })
}

fn field_has_conflicts(
    schema: &PatchSchema,
    node: Node<'_>,
    left: &Value,
    right: &Value,
    strategy: &str,
    merge_key: &str,
) -> bool {
    match left {
        Value::Object(l) => {
            let Value::Object(r) = right else {
                return true;
            };
            // A directive acts on the whole map: one side replacing or deleting it conflicts
            // with the other doing anything else to it.
            if l.get(PATCH) != r.get(PATCH) {
                return true;
            }
            if strategy == "replace" {
                return false;
            }
            maps_have_conflicts(schema, node, l, r)
        }
        Value::Array(l) => {
            let Value::Array(r) = right else {
                return true;
            };
            lists_have_conflicts(schema, node, l, r, strategy, merge_key)
        }
        _ => left != right,
    }
}

fn lists_have_conflicts(
    schema: &PatchSchema,
    node: Node<'_>,
    left: &[Value],
    right: &[Value],
    strategy: &str,
    merge_key: &str,
) -> bool {
    let of_maps = left.iter().chain(right).any(Value::is_object);
    if strategy == "merge" {
        if !of_maps {
            return false;
        }
        // Items that cannot be keyed make the comparison fail, which upstream reports as a
        // conflict.
        let (Some(l), Some(r)) = (
            by_merge_key(left, merge_key),
            by_merge_key(right, merge_key),
        ) else {
            return true;
        };
        return l.iter().any(|(key, lv)| {
            r.get(key)
                .is_some_and(|rv| field_has_conflicts(schema, node, lv, rv, "", ""))
        });
    }
    if left.len() != right.len() {
        return true;
    }
    if of_maps {
        return left
            .iter()
            .zip(right)
            .any(|(l, r)| field_has_conflicts(schema, node, l, r, "", ""));
    }
    sorted_set(left) != sorted_set(right)
}

/// A merged list's items by the text of their merge key; None when one is not an object or
/// lacks the key.
fn by_merge_key<'a>(items: &'a [Value], merge_key: &str) -> Option<BTreeMap<String, &'a Value>> {
    items
        .iter()
        .map(|item| {
            let key = item.as_object()?.get(merge_key)?;
            let text = match key {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some((text, item))
        })
        .collect()
}

/// Scalars deduplicated and sorted, so their order does not count.
fn sorted_set(items: &[Value]) -> Vec<String> {
    let mut texts: Vec<String> = items.iter().map(Value::to_string).collect();
    texts.sort();
    texts.dedup();
    texts
}

#[cfg(test)]
mod tests {
    use super::super::schema::tests::deployment_schema;
    use super::*;
    use serde_json::json;

    fn conflict(left: Value, right: Value) -> bool {
        let s = deployment_schema();
        let (Value::Object(l), Value::Object(r)) = (left, right) else {
            panic!("patches are maps");
        };
        maps_have_conflicts(&s, s.root(), &l, &r)
    }

    fn containers(items: Value) -> Value {
        json!({"spec": {"template": {"spec": {"containers": items}}}})
    }

    #[test]
    fn merged_items_conflict_only_under_the_same_key() {
        // This apply changes "web"; someone else added "sidecar": no conflict.
        assert!(!conflict(
            containers(json!([{"name": "web", "image": "b"}])),
            containers(json!([{"name": "sidecar", "image": "x"}]))
        ));
        // Both changed "web"'s image, differently.
        assert!(conflict(
            containers(json!([{"name": "web", "image": "b"}])),
            containers(json!([{"name": "web", "image": "c"}]))
        ));
        // The same change on both sides is no conflict.
        assert!(!conflict(
            containers(json!([{"name": "web", "image": "b"}])),
            containers(json!([{"name": "web", "image": "b"}, {"name": "sidecar"}]))
        ));
    }

    #[test]
    fn plain_values_maps_and_directives() {
        assert!(conflict(
            json!({"spec": {"replicas": 2}}),
            json!({"spec": {"replicas": 3}})
        ));
        assert!(!conflict(
            json!({"spec": {"replicas": 2}}),
            json!({"spec": {"paused": true}})
        ));
        // A deletion against a change.
        assert!(conflict(
            json!({"metadata": {"labels": {"a": null}}}),
            json!({"metadata": {"labels": {"a": "5"}}})
        ));
        // One side replaces the map, the other edits a key of it.
        assert!(conflict(
            json!({"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}}),
            json!({"spec": {"strategy": {"type": "Recreate"}}})
        ));
        // A map against a scalar.
        assert!(conflict(
            json!({"spec": {"selector": {}}}),
            json!({"spec": {"selector": "x"}})
        ));
    }

    #[test]
    fn unmerged_lists_compare_whole_and_scalars_as_sets() {
        let args = |a: Value| containers(json!([{"name": "web", "args": a}]));
        assert!(!conflict(args(json!(["a", "b"])), args(json!(["b", "a"]))));
        assert!(conflict(args(json!(["a", "b"])), args(json!(["a"]))));
        assert!(conflict(args(json!(["a", "b"])), args(json!(["a", "c"]))));
    }
}
