//! OpenAPI v2 (`/openapi/v2`) and v3 (`/openapi/v3`, `/openapi/v3/<path>`) documents generated
//! from the k8s-openapi schemas and the catalog.

use std::sync::Arc;

use serde_json::{json, Value};

/// `/openapi/v2` (minimal until the generated document lands).
pub fn openapi_v2() -> Arc<Vec<u8>> {
    Arc::new(serde_json::to_vec(&json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.33.0"}, "paths": {}, "definitions": {}})).unwrap_or_default())
}

/// `/openapi/v3`.
pub fn openapi_v3_root() -> Value {
    json!({"paths": {}})
}

/// `/openapi/v3/<path>`.
pub fn openapi_v3_group_version(_path: &str) -> Option<Arc<Vec<u8>>> {
    None
}
