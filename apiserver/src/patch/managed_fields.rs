//! `metadata.managedFields`: which manager owns which fields, and how ownership moves when an
//! object is created, updated or patched without server-side apply.
//!
//! Entries are keyed by manager, operation and subresource (updates by the same manager are
//! grouped into one entry); entries whose set became empty are dropped, as upstream does.

use serde_json::{json, Value};

use super::fieldset::{changed_fields, set_from_value, strip_ignored, FieldSet};
use super::schema::{is_known, Shape};

/// The operation a managedFields entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update, or any patch other than apply.
    Update,
}

impl Operation {
    /// The name written in managedFields.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `metadata.managedFields` entry, with its field set parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedFieldsEntry {
    /// Who manages the fields (the `fieldManager`).
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// The apiVersion the fields were written with.
    pub api_version: String,
    /// When the entry last changed (RFC 3339).
    pub time: String,
    /// The subresource the write went through (`status`, `scale`), if any.
    pub subresource: Option<String>,
    /// The fields owned.
    pub fields: FieldSet,
}

impl ManagedFieldsEntry {
    /// Whether this entry is the one for `manager`/`operation`/`subresource`.
    pub fn is(&self, manager: &str, operation: Operation, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "manager": self.manager,
            "operation": self.operation.as_str(),
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": self.fields.to_fields_v1(),
        });
        if let Some(s) = &self.subresource {
            v["subresource"] = Value::String(s.clone());
        }
        v
    }

    fn from_json(v: &Value) -> Option<ManagedFieldsEntry> {
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let operation = match v.get("operation").and_then(Value::as_str)? {
            "Apply" => Operation::Apply,
            _ => Operation::Update,
        };
        Some(ManagedFieldsEntry {
            manager: text("manager"),
            operation,
            api_version: text("apiVersion"),
            time: text("time"),
            subresource: v
                .get("subresource")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(String::from),
            fields: v
                .get("fieldsV1")
                .map(FieldSet::from_fields_v1)
                .unwrap_or_default(),
        })
    }
}

/// The managedFields entries of an object.
pub fn read_managed_fields(obj: &Value) -> Vec<ManagedFieldsEntry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(ManagedFieldsEntry::from_json).collect())
        .unwrap_or_default()
}

/// Write entries into `obj.metadata.managedFields`: empty sets dropped, sorted as upstream
/// sorts them (Apply before Update, then oldest first, then by manager).
pub fn write_managed_fields(obj: &mut Value, mut entries: Vec<ManagedFieldsEntry>) {
    entries.retain(|e| !e.fields.is_empty());
    entries.sort_by(|a, b| {
        (
            a.operation.as_str(),
            &a.time,
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                b.operation.as_str(),
                &b.time,
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    let Some(meta) = obj.as_object_mut().map(|o| {
        o.entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()))
    }) else {
        return;
    };
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    if entries.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert(
            "managedFields".into(),
            Value::Array(entries.iter().map(ManagedFieldsEntry::to_json).collect()),
        );
    }
}

/// The OpenAPI definition of an object, found through the catalog by apiVersion and kind.
pub fn shape_of_object(obj: &Value) -> Shape {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    api_types::catalog::RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
        .map(|r| (r.typed.schema_name)().into_owned())
        .filter(|name| is_known(name))
        .map(Shape::Object)
        .unwrap_or(Shape::Unknown)
}

/// The fields set in `obj` that managers can own.
pub fn owned_set(obj: &Value, shape: &Shape) -> FieldSet {
    let mut set = set_from_value(obj, shape, None);
    strip_ignored(&mut set);
    set
}

/// Record a create, update or non-apply patch in `new`'s managedFields: `manager` takes the
/// fields that changed between `old` (None on create) and `new`, other managers lose them, and
/// fields that no longer exist are forgotten. `time` is RFC 3339.
///
/// If the client sent managedFields different from the stored ones, they are taken as given
/// (that is how a client resets them); an empty list clears them.
pub fn update_managed_fields(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    operation: Operation,
    subresource: Option<&str>,
    time: &str,
) {
    let shape = shape_of_object(new);
    let stored = old.map(read_managed_fields).unwrap_or_default();
    let sent = new.pointer("/metadata/managedFields").cloned();
    let old_sent = old.and_then(|o| o.pointer("/metadata/managedFields").cloned());
    let mut entries = match &sent {
        Some(s) if Some(s) != old_sent.as_ref() => {
            let given = read_managed_fields(new);
            if given.is_empty() {
                write_managed_fields(new, Vec::new());
                return;
            }
            given
        }
        _ => stored,
    };

    let mut changed = changed_fields(old, new, &shape, None);
    strip_ignored(&mut changed);
    for e in entries.iter_mut() {
        if !e.is(manager, operation, subresource) {
            e.fields = e.fields.difference(&changed);
        }
        e.fields = e.fields.retain_existing(new);
    }
    let api_version = new
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match entries
        .iter_mut()
        .find(|e| e.is(manager, operation, subresource))
    {
        Some(e) => {
            if !changed.is_empty() {
                e.fields.union_with(&changed);
                e.time = time.to_string();
                e.api_version = api_version;
            }
        }
        None => entries.push(ManagedFieldsEntry {
            manager: manager.to_string(),
            operation,
            api_version,
            time: time.to_string(),
            subresource: subresource.map(String::from),
            fields: changed,
        }),
    }
    write_managed_fields(new, entries);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T1: &str = "2025-01-01T00:00:00Z";
    const T2: &str = "2025-01-02T00:00:00Z";

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "uid": "u1",
                "resourceVersion": "5", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}}}})
    }

    #[test]
    fn create_records_every_field_in_upstream_form() {
        let mut obj = deployment(1, "nginx");
        update_managed_fields(
            None,
            &mut obj,
            "kubectl-create",
            Operation::Update,
            None,
            T1,
        );
        let mf = &obj["metadata"]["managedFields"];
        assert_eq!(mf.as_array().map(Vec::len), Some(1));
        assert_eq!(mf[0]["manager"], "kubectl-create");
        assert_eq!(mf[0]["operation"], "Update");
        assert_eq!(mf[0]["apiVersion"], "apps/v1");
        assert_eq!(mf[0]["fieldsType"], "FieldsV1");
        let f = &mf[0]["fieldsV1"];
        assert_eq!(f["f:metadata"]["f:labels"], json!({".": {}, "f:app": {}}));
        assert!(f["f:metadata"].get("f:name").is_none());
        assert!(f.get("f:apiVersion").is_none());
        assert_eq!(
            f["f:spec"]["f:selector"],
            json!({}),
            "LabelSelector is atomic"
        );
        let web = &f["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"];
        assert_eq!(web["."], json!({}));
        assert_eq!(web["f:image"], json!({}));
        assert_eq!(
            web["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"],
            json!({".": {}, "f:containerPort": {}})
        );
    }

    #[test]
    fn a_second_manager_takes_the_fields_it_changes() {
        let mut v1 = deployment(1, "nginx");
        update_managed_fields(None, &mut v1, "creator", Operation::Update, None, T1);
        let mut v2 = v1.clone();
        v2["spec"]["replicas"] = json!(3);
        update_managed_fields(Some(&v1), &mut v2, "scaler", Operation::Update, None, T2);
        let entries = read_managed_fields(&v2);
        assert_eq!(entries.len(), 2);
        let creator = entries
            .iter()
            .find(|e| e.manager == "creator")
            .expect("creator");
        let scaler = entries
            .iter()
            .find(|e| e.manager == "scaler")
            .expect("scaler");
        assert_eq!(
            scaler.fields.to_fields_v1(),
            json!({"f:spec": {"f:replicas": {}}})
        );
        assert_eq!(scaler.time, T2);
        assert!(creator.fields.to_fields_v1()["f:spec"]
            .get("f:replicas")
            .is_none());
        assert!(creator.fields.to_fields_v1()["f:spec"]
            .get("f:template")
            .is_some());

        // The same manager updating again keeps one entry.
        let mut v3 = v2.clone();
        v3["spec"]["replicas"] = json!(4);
        update_managed_fields(Some(&v2), &mut v3, "scaler", Operation::Update, None, T2);
        assert_eq!(read_managed_fields(&v3).len(), 2);
    }

    #[test]
    fn managers_left_with_nothing_are_dropped_and_removed_fields_forgotten() {
        let mut v1 = deployment(1, "nginx");
        update_managed_fields(None, &mut v1, "creator", Operation::Update, None, T1);
        let mut v2 = v1.clone();
        v2["spec"]["replicas"] = json!(2);
        update_managed_fields(Some(&v1), &mut v2, "scaler", Operation::Update, None, T2);
        let mut v3 = v2.clone();
        v3["spec"].as_object_mut().map(|s| s.remove("replicas"));
        update_managed_fields(Some(&v2), &mut v3, "editor", Operation::Update, None, T2);
        let managers: Vec<_> = read_managed_fields(&v3)
            .into_iter()
            .map(|e| e.manager)
            .collect();
        assert_eq!(managers, vec!["creator"]);
    }

    #[test]
    fn status_subresource_writes_get_their_own_entry() {
        let mut v1 = deployment(1, "nginx");
        update_managed_fields(None, &mut v1, "creator", Operation::Update, None, T1);
        let mut v2 = v1.clone();
        v2["status"] = json!({"replicas": 1});
        update_managed_fields(
            Some(&v1),
            &mut v2,
            "controller",
            Operation::Update,
            Some("status"),
            T2,
        );
        let mf = &v2["metadata"]["managedFields"];
        assert_eq!(mf[1]["subresource"], "status");
        assert_eq!(mf[1]["fieldsV1"], json!({"f:status": {"f:replicas": {}}}));
    }
}
