//! managedFields bookkeeping and server-side apply, as the store uses them. The field-set
//! algebra itself lives in `crate::patch`.

use api_types::catalog::ResourceInfo;
use serde_json::{json, Value};

use super::context::RequestContext;
use super::meta;
use crate::errors::ApiError;
use crate::patch::{self, ApplyError, Operation};

/// Record which fields `ctx.field_manager` set or changed (operation Update).
pub fn track_update(
    _res: &ResourceInfo,
    old: Option<&Value>,
    new: &mut Value,
    ctx: &RequestContext,
    subresource: Option<&str>,
) {
    patch::update_managed_fields(
        old,
        new,
        &ctx.field_manager,
        Operation::Update,
        subresource,
        &meta::now(),
    );
}

/// Server-side apply of `config` onto `live` by `ctx.field_manager`.
pub fn apply(
    res: &ResourceInfo,
    live: Option<&Value>,
    config: &Value,
    ctx: &RequestContext,
    force: bool,
) -> Result<Value, ApiError> {
    if !config.is_object() {
        return Err(ApiError::bad_request(
            "the apply configuration must be an object",
        ));
    }
    let mut config = config.clone();
    // apiVersion and kind are required in an apply configuration and must match the URL.
    let api_version = res.api_version();
    match config.get("apiVersion").and_then(Value::as_str) {
        Some(v) if v == api_version => {}
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )))
        }
        None => return Err(ApiError::bad_request("apiVersion must be set in an apply configuration")),
    }
    match config.get("kind").and_then(Value::as_str) {
        Some(k) if k == res.kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                res.kind
            )))
        }
        None => {
            return Err(ApiError::bad_request(
                "kind must be set in an apply configuration",
            ))
        }
    }
    // The main resource's apply does not own status (upstream resets it).
    if res.subresource("status").is_some() {
        if let Some(o) = config.as_object_mut() {
            o.remove("status");
        }
    }
    patch::apply(
        live,
        &config,
        &ctx.field_manager,
        force,
        &api_version,
        &meta::now(),
    )
    .map_err(|e| match e {
        ApplyError::Conflicts(_) => {
            let name = config
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mut details = json!({"name": name, "kind": res.plural, "causes": e.causes()});
            if !res.group.is_empty() {
                details["group"] = json!(res.group);
            }
            ApiError {
                code: 409,
                reason: "Conflict",
                message: e.message(),
                details: Some(details),
            }
        }
        other => ApiError::bad_request(other.message()),
    })
}
