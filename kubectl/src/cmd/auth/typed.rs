//! The four RBAC kinds as upstream holds them: decoded into their Go structs, so fields the
//! structs lack are dropped, a value of the wrong JSON type is refused with Go's decoder
//! error, and the object prints with the struct's zero values (`creationTimestamp: null`,
//! `rules: null`, an empty `roleRef` field as `""`) and without its empty `omitempty` fields.

use serde_json::{Map, Value};

/// The RBAC kinds `auth reconcile` works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Role,
    ClusterRole,
    RoleBinding,
    ClusterRoleBinding,
}

impl Kind {
    /// The kind named by an object's `kind`.
    pub fn from_name(kind: &str) -> Option<Self> {
        match kind {
            "Role" => Some(Kind::Role),
            "ClusterRole" => Some(Kind::ClusterRole),
            "RoleBinding" => Some(Kind::RoleBinding),
            "ClusterRoleBinding" => Some(Kind::ClusterRoleBinding),
            _ => None,
        }
    }

    /// The kind's name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Role => "Role",
            Kind::ClusterRole => "ClusterRole",
            Kind::RoleBinding => "RoleBinding",
            Kind::ClusterRoleBinding => "ClusterRoleBinding",
        }
    }

    /// The resource in URLs.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Role => "roles",
            Kind::ClusterRole => "clusterroles",
            Kind::RoleBinding => "rolebindings",
            Kind::ClusterRoleBinding => "clusterrolebindings",
        }
    }

    /// Whether objects of the kind live in a namespace.
    pub fn namespaced(self) -> bool {
        matches!(self, Kind::Role | Kind::RoleBinding)
    }

    /// Whether the kind binds subjects (else it holds rules).
    pub fn is_binding(self) -> bool {
        matches!(self, Kind::RoleBinding | Kind::ClusterRoleBinding)
    }
}

/// The API version of the kinds.
pub const RBAC_V1: &str = "rbac.authorization.k8s.io/v1";

/// ObjectMeta's fields, as far as objects carry them.
const META_FIELDS: [&str; 15] = [
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Go's name for a JSON value's type in its decoder errors.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Go's `json: cannot unmarshal …` for a field of struct `owner` at JSON path `path`.
fn mismatch(v: &Value, owner: &str, path: &str, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go struct field {owner}.{path} of type {go_type}",
        json_type(v)
    )
}

/// A string field (null reads as "").
fn string(v: &Value, owner: &str, path: &str) -> Result<Value, String> {
    match v {
        Value::Null => Ok(Value::String(String::new())),
        Value::String(_) => Ok(v.clone()),
        other => Err(mismatch(other, owner, path, "string")),
    }
}

/// A `[]string` field: Some(list), or None when absent or null (Go's nil slice).
fn strings(v: &Value, owner: &str, path: &str) -> Result<Option<Value>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Array(items) => {
            for item in items {
                if !item.is_string() {
                    return Err(mismatch(item, owner, path, "string"));
                }
            }
            Ok(Some(v.clone()))
        }
        other => Err(mismatch(other, owner, path, "[]string")),
    }
}

/// A `map[string]string` field: None when absent, null or empty (omitted).
fn string_map(v: &Value, owner: &str, path: &str) -> Result<Option<Value>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => {
            for item in m.values() {
                if !item.is_string() {
                    return Err(mismatch(item, owner, path, "string"));
                }
            }
            Ok((!m.is_empty()).then(|| v.clone()))
        }
        other => Err(mismatch(other, owner, path, "map[string]string")),
    }
}

/// A list of structs (`[]v1.PolicyRule`): its objects, none when absent or null.
fn objects<'a>(
    v: &'a Value,
    owner: &str,
    path: &str,
    go_type: &str,
) -> Result<Option<Vec<&'a Value>>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Object(_) | Value::Null => Ok(item),
                other => Err(mismatch(other, owner, path, &go_type[2..])),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(mismatch(other, owner, path, go_type)),
    }
}

/// ObjectMeta: its known fields, labels and annotations checked, `creationTimestamp` null
/// when unset.
fn meta(v: &Value, owner: &str) -> Result<Value, String> {
    let m = match v {
        Value::Null => Map::new(),
        Value::Object(m) => m.clone(),
        other => return Err(mismatch(other, owner, "metadata", "v1.ObjectMeta")),
    };
    let mut out = Map::new();
    for key in META_FIELDS {
        let field = m.get(key).unwrap_or(&Value::Null);
        match key {
            "labels" | "annotations" => {
                if let Some(map) = string_map(field, "ObjectMeta", &format!("metadata.{key}"))? {
                    out.insert(key.into(), map);
                }
            }
            "name" | "namespace" | "generateName" | "uid" | "resourceVersion" => {
                let s = string(field, "ObjectMeta", &format!("metadata.{key}"))?;
                if s.as_str().is_some_and(|s| !s.is_empty()) {
                    out.insert(key.into(), s);
                }
            }
            "creationTimestamp" => {
                out.insert(key.into(), field.clone());
            }
            _ if !field.is_null() => {
                out.insert(key.into(), field.clone());
            }
            _ => {}
        }
    }
    Ok(Value::Object(out))
}

/// A PolicyRule: `verbs` always (null when unset), the other lists when not empty.
fn rule(v: &Value) -> Result<Value, String> {
    let mut out = Map::new();
    let verbs = strings(&v["verbs"], "PolicyRule", "rules.verbs")?;
    out.insert("verbs".into(), verbs.unwrap_or(Value::Null));
    for key in ["apiGroups", "resources", "resourceNames", "nonResourceURLs"] {
        let list = strings(&v[key], "PolicyRule", &format!("rules.{key}"))?;
        if let Some(list) = list.filter(|l| l.as_array().is_some_and(|a| !a.is_empty())) {
            out.insert(key.into(), list);
        }
    }
    Ok(Value::Object(out))
}

/// A Subject: `kind` and `name` always, `apiGroup` and `namespace` when set.
fn subject(v: &Value) -> Result<Value, String> {
    let mut out = Map::new();
    for key in ["kind", "apiGroup", "name", "namespace"] {
        let s = string(&v[key], "Subject", &format!("subjects.{key}"))?;
        if matches!(key, "kind" | "name") || s.as_str().is_some_and(|s| !s.is_empty()) {
            out.insert(key.into(), s);
        }
    }
    Ok(Value::Object(out))
}

/// A RoleRef: its three strings, always.
fn role_ref(v: &Value, owner: &str) -> Result<Value, String> {
    if !matches!(v, Value::Null | Value::Object(_)) {
        return Err(mismatch(v, owner, "roleRef", "v1.RoleRef"));
    }
    let mut out = Map::new();
    for key in ["apiGroup", "kind", "name"] {
        out.insert(
            key.into(),
            string(&v[key], "RoleRef", &format!("roleRef.{key}"))?,
        );
    }
    Ok(Value::Object(out))
}

/// An aggregation rule: its selectors as written (a ClusterRole's only).
fn aggregation_rule(v: &Value) -> Result<Option<Value>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => {
            let mut out = Map::new();
            if let Some(sel) = objects(
                m.get("clusterRoleSelectors").unwrap_or(&Value::Null),
                "AggregationRule",
                "aggregationRule.clusterRoleSelectors",
                "[]v1.LabelSelector",
            )? {
                out.insert(
                    "clusterRoleSelectors".into(),
                    Value::Array(sel.into_iter().cloned().collect()),
                );
            }
            Ok(Some(Value::Object(out)))
        }
        other => Err(mismatch(
            other,
            "ClusterRole",
            "aggregationRule",
            "v1.AggregationRule",
        )),
    }
}

/// `obj` (of `kind`) as its Go struct holds it; the error is Go's decoder's.
pub fn typed(kind: Kind, obj: &Value) -> Result<Value, String> {
    let owner = kind.name();
    let mut out = Map::new();
    out.insert("kind".into(), Value::String(owner.into()));
    out.insert("apiVersion".into(), Value::String(RBAC_V1.into()));
    out.insert("metadata".into(), meta(&obj["metadata"], owner)?);
    if kind.is_binding() {
        if let Some(subjects) = objects(&obj["subjects"], owner, "subjects", "[]v1.Subject")? {
            let subjects = subjects
                .into_iter()
                .map(subject)
                .collect::<Result<Vec<_>, _>>()?;
            if !subjects.is_empty() {
                out.insert("subjects".into(), Value::Array(subjects));
            }
        }
        out.insert("roleRef".into(), role_ref(&obj["roleRef"], owner)?);
    } else {
        let rules = objects(&obj["rules"], owner, "rules", "[]v1.PolicyRule")?
            .map(|rules| rules.into_iter().map(rule).collect::<Result<Vec<_>, _>>())
            .transpose()?;
        out.insert("rules".into(), rules.map_or(Value::Null, Value::Array));
        if kind == Kind::ClusterRole {
            if let Some(agg) = aggregation_rule(&obj["aggregationRule"])? {
                out.insert("aggregationRule".into(), agg);
            }
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_go_and_zero_values_show() {
        let role = json!({"apiVersion": RBAC_V1, "kind": "Role",
            "metadata": {"name": "r", "foo": 1, "labels": {}},
            "rules": [{"resources": ["pods"], "apiGroups": [], "bogus": true}],
            "aggregationRule": {}});
        assert_eq!(
            typed(Kind::Role, &role).unwrap(),
            json!({"kind": "Role", "apiVersion": RBAC_V1,
                "metadata": {"name": "r", "creationTimestamp": null},
                "rules": [{"verbs": null, "resources": ["pods"]}]})
        );
        let binding = json!({"kind": "ClusterRoleBinding", "metadata": {"name": "b"},
            "subjects": [{"kind": "User", "name": "u", "namespace": ""}]});
        assert_eq!(
            typed(Kind::ClusterRoleBinding, &binding).unwrap(),
            json!({"kind": "ClusterRoleBinding", "apiVersion": RBAC_V1,
                "metadata": {"name": "b", "creationTimestamp": null},
                "subjects": [{"kind": "User", "name": "u"}],
                "roleRef": {"apiGroup": "", "kind": "", "name": ""}})
        );
        let no_rules = typed(Kind::ClusterRole, &json!({"metadata": {"name": "c"}})).unwrap();
        assert_eq!(no_rules["rules"], Value::Null);
        assert!(no_rules.get("aggregationRule").is_none());
    }

    #[test]
    fn wrong_types_are_refused_as_go_refuses_them() {
        let bad = json!({"metadata": {"name": "r", "annotations": {"a": true}}});
        assert_eq!(
            typed(Kind::Role, &bad).unwrap_err(),
            "json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.annotations of type string"
        );
        let bad = json!({"metadata": {"name": "r"}, "rules": [{"verbs": [1]}]});
        assert_eq!(
            typed(Kind::Role, &bad).unwrap_err(),
            "json: cannot unmarshal number into Go struct field PolicyRule.rules.verbs of type string"
        );
        let bad = json!({"metadata": {"name": "r"}, "rules": {}});
        assert_eq!(
            typed(Kind::Role, &bad).unwrap_err(),
            "json: cannot unmarshal object into Go struct field Role.rules of type []v1.PolicyRule"
        );
    }
}
