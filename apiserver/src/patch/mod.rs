//! Patches: JSON patch (RFC 6902), JSON merge patch (RFC 7386), strategic merge patch driven by
//! the built-in types' patch metadata, and server-side apply with managedFields.
//!
//! Everything here is a pure function on `serde_json::Value`; the HTTP side (content types,
//! `fieldManager`, `force`) lives with the REST handlers.

pub mod apply;
pub mod fieldset;
pub mod managed_fields;
pub mod merge_keys;
pub mod schema;
mod strategic;

use serde_json::Value;

pub use apply::{apply, ApplyError, Conflict};
pub use managed_fields::{update_managed_fields, Operation};
pub use strategic::strategic_merge_patch;

/// Why a patch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The patch document itself is malformed (upstream answers 400 Bad Request).
    #[error("{0}")]
    BadPatch(String),
    /// The patch is well formed but does not apply to this object: a JSON patch `test` failed
    /// or a path is missing (upstream answers 422 Unprocessable Entity).
    #[error("{0}")]
    Failed(String),
}

/// Apply a JSON patch (RFC 6902).
pub fn json_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    if !patch.is_array() {
        return Err(PatchError::BadPatch(
            "json patch must be a JSON array of operations".into(),
        ));
    }
    let p: json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|e| PatchError::BadPatch(format!("invalid JSON patch: {e}")))?;
    let mut doc = original.clone();
    json_patch::patch(&mut doc, &p).map_err(|e| {
        let op = p.0.get(e.operation).map(op_name).unwrap_or("patch");
        let path = e.path.as_str();
        PatchError::Failed(match e.kind {
            json_patch::PatchErrorKind::TestFailed => {
                format!("testing value {path} failed: test failed")
            }
            json_patch::PatchErrorKind::InvalidPointer => {
                format!("jsonpatch {op} operation does not apply: doc is missing path: {path:?}")
            }
            json_patch::PatchErrorKind::InvalidFromPointer => {
                format!("jsonpatch {op} operation does not apply: doc is missing from path")
            }
            other => format!("jsonpatch {op} operation at {path:?} failed: {other}"),
        })
    })?;
    Ok(doc)
}

fn op_name(op: &json_patch::PatchOperation) -> &'static str {
    use json_patch::PatchOperation as P;
    match op {
        P::Add(_) => "add",
        P::Remove(_) => "remove",
        P::Replace(_) => "replace",
        P::Move(_) => "move",
        P::Copy(_) => "copy",
        P::Test(_) => "test",
    }
}

/// Apply a JSON merge patch (RFC 7386). The patch must be an object: a merge patch that is a
/// scalar or a list would replace the whole object, which an API server never accepts.
pub fn merge_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    if !patch.is_object() {
        return Err(PatchError::BadPatch(
            "merge patch must be a JSON object".into(),
        ));
    }
    let mut doc = original.clone();
    json_patch::merge(&mut doc, patch);
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_patch_adds_and_tests() {
        let obj = json!({"metadata": {"labels": {"a": "1"}}});
        let patch = json!([{"op": "add", "path": "/metadata/labels/b", "value": "2"},
            {"op": "test", "path": "/metadata/labels/a", "value": "1"}]);
        let out = json_patch(&obj, &patch).expect("patch");
        assert_eq!(out["metadata"]["labels"], json!({"a": "1", "b": "2"}));
    }

    #[test]
    fn json_patch_errors_say_what_failed() {
        let obj = json!({"metadata": {}});
        let err = json_patch(
            &obj,
            &json!([{"op": "remove", "path": "/metadata/labels/x"}]),
        )
        .expect_err("missing");
        assert!(matches!(err, PatchError::Failed(_)));
        assert!(err.to_string().contains("remove operation does not apply"));
        let err = json_patch(
            &obj,
            &json!([{"op": "test", "path": "/metadata", "value": 1}]),
        )
        .expect_err("test");
        assert_eq!(
            err.to_string(),
            "testing value /metadata failed: test failed"
        );
        let err = json_patch(&obj, &json!({"op": "add"})).expect_err("not a list");
        assert!(matches!(err, PatchError::BadPatch(_)));
        let err = json_patch(&obj, &json!([{"op": "frob", "path": "/"}])).expect_err("bad op");
        assert!(matches!(err, PatchError::BadPatch(_)));
    }

    #[test]
    fn merge_patch_needs_an_object_and_null_deletes() {
        let obj = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
        let out = merge_patch(&obj, &json!({"metadata": {"labels": {"a": null}}})).expect("ok");
        assert_eq!(out["metadata"]["labels"], json!({"b": "2"}));
        assert!(merge_patch(&obj, &json!([1])).is_err());
        assert!(merge_patch(&obj, &json!("x")).is_err());
    }
}
