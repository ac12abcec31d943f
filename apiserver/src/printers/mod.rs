//! Server-side Table printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`) with
//! upstream's columns, so `kubectl get` looks as it does against upstream.
//!
//! Each resource with a printer has a [`Printer`]: its column definitions and a function from an
//! object to that row's cells. As upstream's server-side table convertor does, every row carries
//! the wide (priority 1) cells too; `kubectl` hides them unless `-o wide`. Resources without a
//! printer get the default NAME + CREATED AT table.

mod apiregistration;
mod apps;
mod batch;
mod certificates;
mod cluster;
mod core;
mod events;
pub mod format;
mod networking;
mod pod;
mod storage;

use api_types::catalog::ResourceInfo;
use chrono::{DateTime, SecondsFormat, Utc};
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

/// One `TableColumnDefinition`.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Header, e.g. `Nominated Node` (kubectl upper-cases it).
    pub name: &'static str,
    /// OpenAPI type of the cells: `string`, `integer`, `boolean`, `date`.
    pub kind: &'static str,
    /// OpenAPI format; `name` marks the column holding the object's name.
    pub format: &'static str,
    /// 0 for default columns, 1 for columns shown only with `-o wide`.
    pub priority: i64,
    /// Short description.
    pub description: &'static str,
}

impl Column {
    /// A priority-0 column.
    pub const fn new(name: &'static str, kind: &'static str, description: &'static str) -> Self {
        Column {
            name,
            kind,
            format: "",
            priority: 0,
            description,
        }
    }

    /// The same column shown only with `-o wide`.
    pub const fn wide(self) -> Self {
        Column {
            priority: 1,
            ..self
        }
    }

    /// The same column with `format: name`.
    pub const fn named(self) -> Self {
        Column {
            format: "name",
            ..self
        }
    }

    fn to_json(self) -> Value {
        json!({
            "name": self.name,
            "type": self.kind,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// The NAME column every printer starts with.
pub const NAME: Column = Column::new(
    "Name",
    "string",
    "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
)
.named();

/// The AGE column.
pub const AGE: Column = Column::new(
    "Age",
    "string",
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
);

/// Wide CONTAINERS column of workload printers.
pub const CONTAINERS: Column = Column::new(
    "Containers",
    "string",
    "Names of each container in the template.",
)
.wide();
/// Wide IMAGES column of workload printers.
pub const IMAGES: Column = Column::new(
    "Images",
    "string",
    "Images referenced by each container in the template.",
)
.wide();
/// Wide SELECTOR column of workload printers.
pub const SELECTOR: Column =
    Column::new("Selector", "string", "Label query over the managed pods.").wide();

/// Computes one object's row cells at time `now`.
pub type Cells = fn(&Value, DateTime<Utc>) -> Vec<Value>;

/// How one resource is printed.
#[derive(Clone, Copy)]
pub struct Printer {
    /// Column definitions, in order.
    pub columns: &'static [Column],
    /// Cells of one object's row, one per column.
    pub cells: Cells,
    /// Row conditions (`Completed` for finished pods); empty for most resources.
    pub conditions: fn(&Value) -> Vec<Value>,
}

impl Printer {
    /// A printer without row conditions.
    pub const fn new(columns: &'static [Column], cells: Cells) -> Self {
        Printer {
            columns,
            cells,
            conditions: no_conditions,
        }
    }
}

/// No row conditions.
pub fn no_conditions(_: &Value) -> Vec<Value> {
    Vec::new()
}

/// The printer of a resource, `None` when it uses the default table.
pub fn printer_for(res: &ResourceInfo) -> Option<Printer> {
    match (res.group, res.plural) {
        ("", "pods") => Some(pod::PRINTER),
        ("" | "events.k8s.io", "events") => events::printer(res.group, res.plural),
        ("", "persistentvolumes" | "persistentvolumeclaims") => storage::printer(res.plural),
        ("", plural) => core::printer(plural),
        ("apps", plural) => apps::printer(plural),
        ("batch", plural) => batch::printer(plural),
        ("autoscaling", plural) => cluster::hpa_printer(res.version, plural),
        ("networking.k8s.io" | "discovery.k8s.io", plural) => networking::printer(plural),
        ("storage.k8s.io", plural) => storage::printer(plural),
        ("apiregistration.k8s.io", plural) => apiregistration::printer(plural),
        ("certificates.k8s.io", plural) => certificates::printer(plural),
        (group, plural) => cluster::printer(group, plural),
    }
}

/// Render objects as a `meta.k8s.io/v1 Table`. `list_metadata` becomes the Table's metadata
/// (resourceVersion, continue).
pub fn to_table(
    res: &ResourceInfo,
    items: &[&Value],
    include: IncludeObject,
    list_metadata: Value,
    now: DateTime<Utc>,
) -> Value {
    let (columns, rows): (Vec<Value>, Vec<Value>) = match printer_for(res) {
        Some(p) => (
            p.columns.iter().map(|c| c.to_json()).collect(),
            items
                .iter()
                .map(|obj| {
                    let mut row = json!({
                        "cells": (p.cells)(obj, now),
                        "object": row_object(res, obj, include),
                    });
                    let conditions = (p.conditions)(obj);
                    if !conditions.is_empty() {
                        row["conditions"] = Value::Array(conditions);
                    }
                    row
                })
                .collect(),
        ),
        None => (
            default_columns(),
            items
                .iter()
                .map(|obj| {
                    json!({
                        "cells": [format::name(obj), created_at(obj)],
                        "object": row_object(res, obj, include),
                    })
                })
                .collect(),
        ),
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_metadata,
        "columnDefinitions": columns,
        "rows": rows,
    })
}

/// Columns of upstream's default table convertor.
fn default_columns() -> Vec<Value> {
    vec![
        NAME.to_json(),
        Column::new(
            "Created At",
            "date",
            "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
        )
        .to_json(),
    ]
}

/// The CREATED AT cell: the creation timestamp in RFC 3339, UTC, whole seconds; Go's zero time
/// when missing, as upstream formats an unset `metav1.Time`.
fn created_at(obj: &Value) -> Value {
    let t = format::time_at(obj, "/metadata/creationTimestamp")
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string());
    Value::String(t)
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

#[cfg(test)]
mod tests;
