//! `kubectl apply --overwrite=false`: a patch that would set a field others changed since
//! the last apply (the difference from the last-applied configuration to the live object)
//! to another value is refused instead of sent, with upstream's account of both sides.
//!
//! As upstream compares, the last-applied annotation itself is one of those fields: the live
//! object carries the old record, the patch the new one, so any apply that changes something
//! is refused; what the message lists as changed follows the strategic diff (merged lists
//! item by item) when the server's OpenAPI document gives the type's patch metadata, as
//! upstream's strategic patch computes it. Only built-in types are checked: upstream sends other types a JSON merge
//! patch, which it computes without looking at `--overwrite`. With `--openapi-patch` (the
//! default) upstream first tries the patch from both OpenAPI documents, and warns of the same
//! conflict for each.

use serde_json::{Map, Value};

use super::edit::merge_patch;
use crate::printers::json::go_escape;
use crate::printers::yaml::to_yaml;
use crate::resource::ApiResource;
use crate::strategic::{self, PatchSchema};

/// The three configurations of a client-side apply and the patch computed from them.
pub struct Sides<'a> {
    /// The object's type.
    pub res: &'a ApiResource,
    /// `--openapi-patch`
    pub openapi_patch: bool,
    /// The last-applied configuration (None: the object has no record).
    pub original: Option<&'a Value>,
    /// The new configuration, with its new record.
    pub modified: &'a Value,
    /// The live object.
    pub current: &'a Value,
    /// The patch that would be sent.
    pub patch: &'a Value,
    /// The type's patch metadata, when the server's OpenAPI document has it: changes are
    /// then compared as upstream's strategic patches compare them.
    pub schema: Option<&'a PatchSchema>,
}

/// Err with upstream's explanation when the patch conflicts with changes made since the last
/// apply.
pub fn refuse_overwrite(s: &Sides<'_>) -> Result<(), String> {
    if !crate::resource::CLIENT_GO_SCHEME_GROUPS.contains(&s.res.group.as_str()) {
        return Ok(());
    }
    let changed = match s.schema {
        Some(schema) => {
            match strategic::overwrite_conflicts(schema, s.original, s.current, s.patch)
                .map_err(|e| e.to_string())?
            {
                Some(changed) => changed,
                None => return Ok(()),
            }
        }
        None => {
            let empty = Value::Object(Map::new());
            let changed = merge_patch(s.original.unwrap_or(&empty), s.current);
            if !maps_conflict(s.patch, &changed) {
                return Ok(());
            }
            changed
        }
    };
    // Go's encoder ends each document with a newline; the record is kept as it was written.
    let original_text = s.current["metadata"]["annotations"][crate::merge::LAST_APPLIED]
        .as_str()
        .map(String::from)
        .unwrap_or_default();
    let encoded = |v: &Value| format!("{}\n", go_escape(&v.to_string()));
    let conflict = format!(
        "patch:\n{}\nconflicts with changes made from original to current:\n{}",
        to_yaml(s.patch),
        to_yaml(&changed)
    );
    if s.openapi_patch {
        for document in ["openapi v3 spec", "openapi spec"] {
            eprintln!("warning: error calculating patch from {document}: {conflict}\n");
        }
    }
    Err(format!(
        "creating patch with:\noriginal:\n{original_text}\nmodified:\n{}\ncurrent:\n{}\nfor:: {conflict}",
        encoded(s.modified),
        encoded(s.current),
    ))
}

/// Whether two patches set some key to different values (maps are compared key by key,
/// lists element by element, anything else by equality).
fn maps_conflict(left: &Value, right: &Value) -> bool {
    let (Value::Object(l), Value::Object(r)) = (left, right) else {
        return left != right;
    };
    l.iter()
        .any(|(k, lv)| r.get(k).is_some_and(|rv| fields_conflict(lv, rv)))
}

fn fields_conflict(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Object(_), Value::Object(_)) => maps_conflict(left, right),
        (Value::Array(l), Value::Array(r)) => {
            l.len() != r.len() || l.iter().zip(r).any(|(a, b)| fields_conflict(a, b))
        }
        _ => left != right,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conflicts_are_keys_both_sides_set_differently() {
        assert!(!maps_conflict(
            &json!({"data": {"a": "10"}}),
            &json!({"data": {"b": "5"}, "status": {}})
        ));
        assert!(maps_conflict(
            &json!({"data": {"a": "10"}}),
            &json!({"data": {"a": "5"}})
        ));
        assert!(!maps_conflict(
            &json!({"data": {"a": "5"}}),
            &json!({"data": {"a": "5"}})
        ));
        // A deletion against a change.
        assert!(maps_conflict(
            &json!({"data": {"a": null}}),
            &json!({"data": {"a": "5"}})
        ));
        assert!(maps_conflict(&json!({"l": [1, 2]}), &json!({"l": [1]})));
        assert!(maps_conflict(&json!({"m": {"a": 1}}), &json!({"m": "x"})));
    }

    #[test]
    fn the_record_itself_conflicts_as_upstream_finds() {
        let original = json!({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "x", "annotations": {}}, "data": {"a": "1"}});
        let current = json!({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "x", "annotations": {crate::merge::LAST_APPLIED: "old\n"}},
                             "data": {"a": "1"}});
        let modified = json!({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "x", "annotations": {crate::merge::LAST_APPLIED: "new\n"}},
                              "data": {"a": "2"}});
        let patch = json!({"metadata": {"annotations": {crate::merge::LAST_APPLIED: "new\n"}},
                           "data": {"a": "2"}});
        let cm = crate::resource::tests::res("", "v1", "ConfigMap", "configmaps", &[]);
        let why = refuse_overwrite(&Sides {
            res: &cm,
            openapi_patch: false,
            original: Some(&original),
            modified: &modified,
            current: &current,
            patch: &patch,
            schema: None,
        })
        .unwrap_err();
        assert!(
            why.starts_with("creating patch with:\noriginal:\nold\n\nmodified:\n{"),
            "{why}"
        );
        assert!(why.ends_with("conflicts with changes made from original to current:\nmetadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n      old\n"), "{why}");
        // Nothing to change: nothing to refuse.
        assert!(refuse_overwrite(&Sides {
            res: &cm,
            openapi_patch: false,
            original: Some(&original),
            modified: &modified,
            current: &current,
            patch: &json!({"data": {"b": "3"}}),
            schema: None,
        })
        .is_ok());
        // A custom type gets a JSON merge patch, computed without the check.
        let crd = crate::resource::tests::res("example.com", "v1", "Widget", "widgets", &[]);
        assert!(refuse_overwrite(&Sides {
            res: &crd,
            openapi_patch: true,
            original: Some(&original),
            modified: &modified,
            current: &current,
            patch: &patch,
            schema: None,
        })
        .is_ok());
    }
}
