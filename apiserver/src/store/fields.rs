//! managedFields bookkeeping and server-side apply, as the store uses them. The field-set
//! algebra itself lives in `crate::patch`.

use api_types::catalog::ResourceInfo;
use serde_json::Value;

use super::context::RequestContext;
use crate::errors::ApiError;

/// Record which fields `ctx.field_manager` set or changed (operation Update).
pub fn track_update(
    _res: &ResourceInfo,
    _old: Option<&Value>,
    _new: &mut Value,
    _ctx: &RequestContext,
    _subresource: Option<&str>,
) {
}

/// Server-side apply of `config` onto `live` by `ctx.field_manager`.
pub fn apply(
    _res: &ResourceInfo,
    live: Option<&Value>,
    config: &Value,
    _ctx: &RequestContext,
    _force: bool,
) -> Result<Value, ApiError> {
    let base = live.cloned().unwrap_or_else(|| serde_json::json!({}));
    crate::patch::merge_patch(&base, config).map_err(|e| ApiError::bad_request(e.to_string()))
}
