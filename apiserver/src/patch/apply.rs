//! Server-side apply (`application/apply-patch+yaml`): merge an applied configuration into the
//! live object, track what each applier owns, prune what an applier stopped specifying, and
//! refuse to change fields other managers own unless forced.

use serde_json::{json, Map, Value};

use super::fieldset::{
    changed_fields, child_meta, item_element, kind_of, locate, path_string, position_in_list,
    resolve_mut, FieldSet, Kind, Slot,
};
use super::managed_fields::{
    owned_set, read_managed_fields, shape_of_object, write_managed_fields, ManagedFieldsEntry,
    Operation,
};
use super::merge_keys::FieldMeta;
use super::schema::{child_shape, Shape};

/// Manager that owns every field of an object that had no managedFields when first applied.
const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// A field another manager owns and the applied configuration would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The owning manager.
    pub manager: String,
    /// How that manager wrote the field.
    pub operation: Operation,
    /// The apiVersion it wrote the field with.
    pub api_version: String,
    /// The subresource it wrote through, if any.
    pub subresource: Option<String>,
    /// The field, as upstream prints it (`.spec.replicas`).
    pub field_path: String,
}

impl Conflict {
    /// The manager as upstream names it in messages: `"kubectl" using apps/v1` for updaters,
    /// `"kubectl"` for appliers.
    pub fn describe_manager(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if let Some(sub) = &self.subresource {
            s.push_str(&format!(" with subresource {sub:?}"));
        }
        if self.operation == Operation::Update {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }
}

/// Why an apply was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// Other managers own fields the configuration changes (409 Conflict).
    #[error("{}", conflict_message(.0))]
    Conflicts(Vec<Conflict>),
    /// The configuration is not an object (400 Bad Request).
    #[error("{0}")]
    Invalid(String),
}

impl ApplyError {
    /// The message of upstream's 409 Status.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The `details.causes` of upstream's 409 Status: one `FieldManagerConflict` per field.
    pub fn causes(&self) -> Vec<Value> {
        match self {
            ApplyError::Conflicts(conflicts) => conflicts
                .iter()
                .map(|c| {
                    json!({
                        "reason": "FieldManagerConflict",
                        "message": format!("conflict with {}", c.describe_manager()),
                        "field": c.field_path,
                    })
                })
                .collect(),
            ApplyError::Invalid(_) => Vec::new(),
        }
    }
}

fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.describe_manager(),
            c.field_path
        );
    }
    let mut managers: Vec<String> = conflicts.iter().map(Conflict::describe_manager).collect();
    managers.sort();
    managers.dedup();
    let mut lines = Vec::new();
    for m in &managers {
        lines.push(format!("conflicts with {m}:"));
        for c in conflicts.iter().filter(|c| &c.describe_manager() == m) {
            lines.push(format!("- {}", c.field_path));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Apply `config` as `manager` to `live` (None: the object is being created) and return the new
/// object with its managedFields. `api_version` is the version the request used; `time` is
/// RFC 3339. Without `force`, changing a field another manager owns is a conflict; with it,
/// ownership moves to `manager`.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    api_version: &str,
    time: &str,
) -> Result<Value, ApplyError> {
    let Value::Object(_) = config else {
        return Err(ApplyError::Invalid(
            "the applied configuration must be an object".into(),
        ));
    };
    let config = drop_nulls(config);
    let shape = shape_of_object(&config);
    let mut base = live.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    if let Some(meta) = base.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }

    let mut entries = live.map(read_managed_fields).unwrap_or_default();
    if let Some(live) = live {
        if entries.is_empty() {
            // Objects created before anyone tracked fields: someone owns what is there.
            entries.push(ManagedFieldsEntry {
                manager: BEFORE_FIRST_APPLY.into(),
                operation: Operation::Update,
                api_version: live
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or(api_version)
                    .to_string(),
                time: time.to_string(),
                subresource: None,
                fields: owned_set(&base, &shape),
            });
        }
    }

    let applied = owned_set(&config, &shape);
    let mut merged = merge(Some(&base), &config, &shape, None);
    let changed = changed_fields(Some(&base), &merged, &shape, None);

    let is_me = |e: &ManagedFieldsEntry| e.is(manager, Operation::Apply, None);
    let mut conflicts = Vec::new();
    for e in entries.iter().filter(|e| !is_me(e)) {
        for path in e.fields.intersection(&changed).paths() {
            conflicts.push(Conflict {
                manager: e.manager.clone(),
                operation: e.operation,
                api_version: e.api_version.clone(),
                subresource: e.subresource.clone(),
                field_path: path_string(&path),
            });
        }
    }
    if !conflicts.is_empty() {
        if !force {
            return Err(ApplyError::Conflicts(conflicts));
        }
        for e in entries.iter_mut().filter(|e| !is_me(e)) {
            e.fields = e.fields.difference(&changed);
        }
    }

    // Prune what this applier owned before, no longer applies, and nobody else owns.
    let previous = entries
        .iter()
        .find(|e| is_me(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let mut others = FieldSet::default();
    for e in entries.iter().filter(|e| !is_me(e)) {
        others.union_with(&e.fields);
    }
    let dropped = previous.difference(&applied).difference(&others);
    let mut paths = dropped.paths();
    // Deepest first, so that list indexes and parents stay valid while removing.
    paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for path in paths {
        // A node whose descendants are still owned (by anyone, this applier's new
        // configuration included) stays; only what nobody claims any more goes.
        if !others.has_prefix(&path) && !applied.has_prefix(&path) {
            remove_path(&mut merged, &path);
        }
    }

    entries.retain(|e| !is_me(e));
    for e in entries.iter_mut() {
        e.fields = e.fields.retain_existing(&merged);
    }
    entries.push(ManagedFieldsEntry {
        manager: manager.to_string(),
        operation: Operation::Apply,
        api_version: api_version.to_string(),
        time: time.to_string(),
        subresource: None,
        fields: applied,
    });
    write_managed_fields(&mut merged, entries);
    Ok(merged)
}

/// An applied configuration's explicit nulls mean "not specified".
fn drop_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), drop_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(drop_nulls).collect()),
        other => other.clone(),
    }
}

/// Merge the applied configuration into the live value: structs and maps field by field,
/// associative lists and sets item by item, everything else replaced.
fn merge(live: Option<&Value>, config: &Value, shape: &Shape, meta: Option<&FieldMeta>) -> Value {
    let Some(live) = live else {
        return config.clone();
    };
    match (kind_of(config, shape, meta), live, config) {
        (kind @ (Kind::Struct(_) | Kind::Map(_)), Value::Object(l), Value::Object(c)) => {
            let mut out = l.clone();
            for (k, cv) in c {
                let (cs, cm) = match &kind {
                    Kind::Struct(s) => (child_shape(s, k), child_meta(s, k)),
                    Kind::Map(s) => (s.clone(), None),
                    _ => (Shape::Unknown, None),
                };
                let merged = merge(l.get(k), cv, &cs, cm);
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Kind::List(lt, item_shape), Value::Array(l), Value::Array(c)) => {
            let mut out = l.clone();
            for (i, item) in c.iter().enumerate() {
                let element = item_element(item, i, lt);
                match position_in_list(&out, &element) {
                    Some(pos) => {
                        let merged = merge(Some(&out[pos]), item, &item_shape, None);
                        out[pos] = merged;
                    }
                    None => out.push(item.clone()),
                }
            }
            Value::Array(out)
        }
        _ => config.clone(),
    }
}

/// Remove the value a field path leads to.
fn remove_path(v: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for element in parents {
        match resolve_mut(cur, element) {
            Some(next) => cur = next,
            None => return,
        }
    }
    match (locate(cur, last), cur) {
        (Some(Slot::Field(k)), Value::Object(m)) => {
            m.remove(&k);
        }
        (Some(Slot::Index(i)), Value::Array(a)) => {
            a.remove(i);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::managed_fields::update_managed_fields;
    use serde_json::json;

    const T1: &str = "2025-01-01T00:00:00Z";
    const T2: &str = "2025-01-02T00:00:00Z";

    fn config(replicas: i64, labels: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "web", "image": "nginx:1.25"}]}}}})
    }

    fn managers(obj: &Value) -> Vec<(String, &'static str)> {
        read_managed_fields(obj)
            .into_iter()
            .map(|e| (e.manager, e.operation.as_str()))
            .collect()
    }

    #[test]
    fn apply_creates_with_an_apply_entry_of_exactly_the_config() {
        let obj = apply(
            None,
            &config(1, json!({"app": "web"})),
            "kubectl",
            false,
            "apps/v1",
            T1,
        )
        .expect("apply");
        assert_eq!(obj["spec"]["replicas"], 1);
        let mf = &obj["metadata"]["managedFields"][0];
        assert_eq!(mf["manager"], "kubectl");
        assert_eq!(mf["operation"], "Apply");
        assert_eq!(mf["apiVersion"], "apps/v1");
        assert_eq!(
            mf["fieldsV1"]["f:metadata"],
            json!({"f:labels": {"f:app": {}}})
        );
        assert_eq!(
            mf["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"],
            json!({"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}})
        );
    }

    #[test]
    fn reapplying_the_same_config_changes_nothing_but_time() {
        let cfg = config(1, json!({"app": "web"}));
        let first = apply(None, &cfg, "kubectl", false, "apps/v1", T1).expect("apply");
        let second = apply(Some(&first), &cfg, "kubectl", false, "apps/v1", T2).expect("apply");
        let mut a = first.clone();
        let mut b = second.clone();
        a["metadata"]["managedFields"][0]["time"] = json!(null);
        b["metadata"]["managedFields"][0]["time"] = json!(null);
        assert_eq!(a, b);
    }

    #[test]
    fn apply_removes_a_label_it_owned_and_dropped() {
        let first = apply(
            None,
            &config(1, json!({"app": "web", "tier": "front"})),
            "kubectl",
            false,
            "apps/v1",
            T1,
        )
        .expect("apply");
        let second = apply(
            Some(&first),
            &config(1, json!({"app": "web"})),
            "kubectl",
            false,
            "apps/v1",
            T2,
        )
        .expect("apply");
        assert_eq!(second["metadata"]["labels"], json!({"app": "web"}));
    }

    #[test]
    fn apply_keeps_a_dropped_field_someone_else_also_owns() {
        let first = apply(
            None,
            &config(1, json!({"app": "web", "tier": "front"})),
            "a",
            false,
            "apps/v1",
            T1,
        )
        .expect("apply");
        let second = apply(
            Some(&first),
            &config(1, json!({"app": "web", "tier": "front"})),
            "b",
            false,
            "apps/v1",
            T1,
        )
        .expect("shared ownership, no conflict");
        let third = apply(
            Some(&second),
            &config(1, json!({"app": "web"})),
            "a",
            false,
            "apps/v1",
            T2,
        )
        .expect("apply");
        assert_eq!(third["metadata"]["labels"]["tier"], "front");
    }

    #[test]
    fn conflict_with_an_updater_on_replicas() {
        let mut live = config(1, json!({"app": "web"}));
        update_managed_fields(
            None,
            &mut live,
            "kubectl-client-side-apply",
            Operation::Update,
            None,
            T1,
        );
        let err = apply(
            Some(&live),
            &config(3, json!({"app": "web"})),
            "kubectl",
            false,
            "apps/v1",
            T2,
        )
        .expect_err("conflict");
        assert_eq!(
            err.message(),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
        );
        assert_eq!(
            err.causes(),
            vec![json!({"reason": "FieldManagerConflict",
                "message": "conflict with \"kubectl-client-side-apply\" using apps/v1",
                "field": ".spec.replicas"})]
        );
    }

    #[test]
    fn several_conflicts_are_listed_per_manager() {
        let mut live = config(1, json!({"app": "web"}));
        update_managed_fields(None, &mut live, "editor", Operation::Update, None, T1);
        let mut cfg = config(3, json!({"app": "web"}));
        cfg["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27");
        let err = apply(Some(&live), &cfg, "kubectl", false, "apps/v1", T2).expect_err("conflict");
        assert_eq!(
            err.message(),
            "Apply failed with 2 conflicts: conflicts with \"editor\" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name=\"web\"].image"
        );
    }

    #[test]
    fn force_moves_ownership() {
        let mut live = config(1, json!({"app": "web"}));
        update_managed_fields(
            None,
            &mut live,
            "kubectl-client-side-apply",
            Operation::Update,
            None,
            T1,
        );
        let out = apply(
            Some(&live),
            &config(3, json!({"app": "web"})),
            "kubectl",
            true,
            "apps/v1",
            T2,
        )
        .expect("forced");
        assert_eq!(out["spec"]["replicas"], 3);
        let entries = read_managed_fields(&out);
        let old = entries
            .iter()
            .find(|e| e.manager == "kubectl-client-side-apply")
            .expect("old");
        assert!(old.fields.to_fields_v1()["f:spec"]
            .get("f:replicas")
            .is_none());
        let new = entries
            .iter()
            .find(|e| e.manager == "kubectl")
            .expect("new");
        assert!(new.fields.to_fields_v1()["f:spec"]
            .get("f:replicas")
            .is_some());
        // Now the applier owns replicas: applying another value is no longer a conflict.
        apply(
            Some(&out),
            &config(5, json!({"app": "web"})),
            "kubectl",
            false,
            "apps/v1",
            T2,
        )
        .expect("owned");
    }

    #[test]
    fn apply_merges_containers_by_name() {
        let mut live = config(1, json!({"app": "web"}));
        live["spec"]["template"]["spec"]["containers"] = json!([
            {"name": "web", "image": "nginx:1.25"}, {"name": "sidecar", "image": "busybox"}]);
        update_managed_fields(None, &mut live, "creator", Operation::Update, None, T1);
        let out = apply(
            Some(&live),
            &config(1, json!({"app": "web"})),
            "kubectl",
            false,
            "apps/v1",
            T2,
        )
        .expect("apply");
        let names: Vec<_> = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("list")
            .iter()
            .map(|c| c["name"].clone())
            .collect();
        assert_eq!(names, vec!["web", "sidecar"]);
        assert_eq!(
            managers(&out),
            vec![("kubectl".into(), "Apply"), ("creator".into(), "Update")]
        );
    }

    #[test]
    fn first_apply_to_an_untracked_object_conflicts_with_before_first_apply() {
        let live = config(1, json!({"app": "web"}));
        let err = apply(
            Some(&live),
            &config(2, json!({"app": "web"})),
            "kubectl",
            false,
            "apps/v1",
            T1,
        )
        .expect_err("conflict");
        assert!(err
            .message()
            .contains("\"before-first-apply\" using apps/v1: .spec.replicas"));
    }

    #[test]
    fn a_map_the_applier_owned_as_a_whole_keeps_entries_it_still_applies() {
        // kubectl's client-side to server-side migration hands the applier `f:data: {".": {}}`.
        let live = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "managedFields": [{
                "manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": T1,
                "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {".": {}, "f:a": {}}},
            }]},
            "data": {"a": "1"},
        });
        let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}});
        let out = apply(Some(&live), &config, "kubectl", false, "v1", T2).expect("applies");
        assert_eq!(out["data"], json!({"a": "1"}));
    }

    #[test]
    fn a_config_that_is_not_an_object_is_invalid() {
        assert!(matches!(
            apply(None, &json!([1]), "kubectl", false, "v1", T1),
            Err(ApplyError::Invalid(_))
        ));
    }
}
