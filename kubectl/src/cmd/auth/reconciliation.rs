//! What `kubectl auth reconcile` must do to an existing RBAC object so that it grants what
//! the file's object grants: pure functions from (existing, expected) to the object to write,
//! the operation, and the rules or subjects added and removed, as upstream's reconciliation
//! package decides them. Objects are in the shape [`super::typed`] gives them.

use serde_json::{json, Map, Value};

use super::policy::{self, PolicyRule};

/// The annotation with which an object opts out of reconciliation (value `"false"`).
const AUTO_UPDATE: &str = "rbac.authorization.kubernetes.io/autoupdate";

/// The API operation a reconcile needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Nothing differs.
    None,
    /// The object is missing.
    Create,
    /// The object lacks (or, when removing, has extra) rules, subjects, labels or annotations.
    Update,
    /// A binding's roleRef differs, which cannot be changed: delete and create.
    Recreate,
}

impl Operation {
    /// Upstream's word for it.
    fn word(self) -> &'static str {
        match self {
            Operation::None => "none",
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Recreate => "recreate",
        }
    }
}

/// One subject of a binding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub kind: String,
    pub api_group: String,
    pub name: String,
    pub namespace: String,
}

impl Subject {
    fn from_json(v: &Value) -> Self {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Subject {
            kind: s("kind"),
            api_group: s("apiGroup"),
            name: s("name"),
            namespace: s("namespace"),
        }
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("kind".into(), json!(self.kind));
        if !self.api_group.is_empty() {
            m.insert("apiGroup".into(), json!(self.api_group));
        }
        m.insert("name".into(), json!(self.name));
        if !self.namespace.is_empty() {
            m.insert("namespace".into(), json!(self.namespace));
        }
        Value::Object(m)
    }

    /// Go's `%+v` of the struct, as upstream prints subjects added and removed.
    pub fn go_debug(&self) -> String {
        format!(
            "{{Kind:{} APIGroup:{} Name:{} Namespace:{}}}",
            self.kind, self.api_group, self.name, self.namespace
        )
    }
}

fn subjects_of(obj: &Value) -> Vec<Subject> {
    obj["subjects"]
        .as_array()
        .map(|a| a.iter().map(Subject::from_json).collect())
        .unwrap_or_default()
}

/// What a reconcile found and the object it leads to.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The object to create or write (or, with nothing to do, the existing one).
    pub object: Value,
    pub operation: Operation,
    /// The existing object opted out: nothing is written.
    pub protected: bool,
    pub missing_rules: Vec<PolicyRule>,
    pub extra_rules: Vec<PolicyRule>,
    pub missing_subjects: Vec<Subject>,
    pub extra_subjects: Vec<Subject>,
}

impl Outcome {
    fn new(object: Value, operation: Operation) -> Self {
        Outcome {
            object,
            operation,
            protected: false,
            missing_rules: Vec::new(),
            extra_rules: Vec::new(),
            missing_subjects: Vec::new(),
            extra_subjects: Vec::new(),
        }
    }

    /// A missing role: created as the file has it, every rule counted as missing.
    pub fn create_role(expected: &Value) -> Self {
        Outcome {
            missing_rules: policy::rules_of(&expected["rules"]),
            ..Outcome::new(expected.clone(), Operation::Create)
        }
    }

    /// A missing binding: created as the file has it, every subject counted as missing.
    pub fn create_binding(expected: &Value) -> Self {
        Outcome {
            missing_subjects: subjects_of(expected),
            ..Outcome::new(expected.clone(), Operation::Create)
        }
    }
}

fn protected(existing: &Value) -> bool {
    existing["metadata"]["annotations"][AUTO_UPDATE] == "false"
}

/// Labels or annotations: the file's, overridden by the existing object's (so only keys the
/// object lacks are added). Absent when neither has the map.
fn merged_map(expected: &Value, existing: &Value) -> Option<Value> {
    match (expected.as_object(), existing.as_object()) {
        (None, None) => None,
        (e, x) => {
            let mut out = e.cloned().unwrap_or_default();
            out.extend(x.cloned().unwrap_or_default());
            Some(Value::Object(out))
        }
    }
}

/// Merges the file's labels and annotations into `object` (a copy of `existing`); true when
/// that changed them.
fn merge_metadata(object: &mut Value, existing: &Value, expected: &Value) -> bool {
    let mut changed = false;
    for key in ["annotations", "labels"] {
        let merged = merged_map(&expected["metadata"][key], &existing["metadata"][key]);
        changed |= merged.as_ref() != existing["metadata"].get(key);
        if let (Some(meta), Some(merged)) = (object["metadata"].as_object_mut(), merged) {
            meta.insert(key.into(), merged);
        }
    }
    changed
}

/// A label selector with its empty parts left out, for comparing (upstream's semantic
/// equality takes an empty list or map for an absent one).
fn selector_key(sel: &Value) -> Value {
    let mut out = Map::new();
    if let Some(labels) = sel["matchLabels"].as_object().filter(|m| !m.is_empty()) {
        out.insert("matchLabels".into(), Value::Object(labels.clone()));
    }
    if let Some(exprs) = sel["matchExpressions"].as_array().filter(|a| !a.is_empty()) {
        let exprs = exprs
            .iter()
            .map(|e| {
                let mut e = e.clone();
                if let Some(m) = e.as_object_mut() {
                    m.retain(|_, v| !(v.is_null() || v.as_array().is_some_and(Vec::is_empty)));
                }
                e
            })
            .collect();
        out.insert("matchExpressions".into(), Value::Array(exprs));
    }
    Value::Object(out)
}

fn selectors(rule: &Value) -> Vec<Value> {
    rule["clusterRoleSelectors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The selectors of `servant` that `owner` lacks. No owner rule lacks them all; no servant
/// rule lacks nothing.
fn uncovered_selectors(owner: Option<&Value>, servant: Option<&Value>) -> Vec<Value> {
    match (owner, servant) {
        (_, None) => Vec::new(),
        (None, Some(s)) => selectors(s),
        (Some(o), Some(s)) => {
            let owned: Vec<Value> = selectors(o).iter().map(selector_key).collect();
            selectors(s)
                .into_iter()
                .filter(|sel| !owned.contains(&selector_key(sel)))
                .collect()
        }
    }
}

fn rules_json(rules: &[PolicyRule]) -> Vec<Value> {
    rules.iter().map(PolicyRule::to_json).collect()
}

/// An existing Role or ClusterRole reconciled with the file's: missing rules appended (or,
/// with `remove_extra`, the file's rules instead when anything differs); aggregation
/// selectors likewise. When both are aggregated, the existing rules (filled in by the
/// aggregation controller) are not counted as extra.
pub fn reconcile_role(existing: &Value, expected: &Value, remove_extra: bool) -> Outcome {
    let mut out = Outcome::new(existing.clone(), Operation::None);
    out.protected = protected(existing);
    if merge_metadata(&mut out.object, existing, expected) {
        out.operation = Operation::Update;
    }
    let existing_agg = existing.get("aggregationRule").filter(|v| !v.is_null());
    let expected_agg = expected.get("aggregationRule").filter(|v| !v.is_null());
    let existing_rules = policy::rules_of(&existing["rules"]);
    let expected_rules = policy::rules_of(&expected["rules"]);
    if expected_agg.is_none() || existing_agg.is_none() {
        out.extra_rules = policy::uncovered(&expected_rules, &existing_rules);
    }
    out.missing_rules = policy::uncovered(&existing_rules, &expected_rules);
    if !remove_extra && !out.missing_rules.is_empty() {
        let mut rules = existing["rules"].as_array().cloned().unwrap_or_default();
        rules.extend(rules_json(&out.missing_rules));
        out.object["rules"] = Value::Array(rules);
        out.operation = Operation::Update;
    } else if remove_extra && !(out.missing_rules.is_empty() && out.extra_rules.is_empty()) {
        out.object["rules"] = expected["rules"].clone();
        out.operation = Operation::Update;
    }

    let extra_sel = uncovered_selectors(expected_agg, existing_agg);
    let missing_sel = uncovered_selectors(existing_agg, expected_agg);
    let object = out.object.as_object_mut();
    match (expected_agg, existing_agg, object) {
        (None, Some(_), Some(obj)) => {
            obj.remove("aggregationRule");
            out.operation = Operation::Update;
        }
        (_, _, Some(obj)) if !remove_extra && !missing_sel.is_empty() => {
            let mut all = existing_agg.map(selectors).unwrap_or_default();
            all.extend(missing_sel);
            obj.insert(
                "aggregationRule".into(),
                json!({"clusterRoleSelectors": all}),
            );
            out.operation = Operation::Update;
        }
        (_, _, Some(obj)) if remove_extra && !(missing_sel.is_empty() && extra_sel.is_empty()) => {
            match expected_agg {
                Some(agg) => obj.insert("aggregationRule".into(), agg.clone()),
                None => obj.remove("aggregationRule"),
            };
            out.operation = Operation::Update;
        }
        _ => {}
    }
    out
}

/// The subjects only in `a`, and those only in `b`, each once, in order.
fn diff_subjects(a: &[Subject], b: &[Subject]) -> (Vec<Subject>, Vec<Subject>) {
    let only = |x: &[Subject], y: &[Subject]| {
        let mut out: Vec<Subject> = Vec::new();
        for s in x {
            if !y.contains(s) && !out.contains(s) {
                out.push(s.clone());
            }
        }
        out
    };
    (only(a, b), only(b, a))
}

/// An existing RoleBinding or ClusterRoleBinding reconciled with the file's: recreated as
/// the file has it when the roleRef differs; else missing subjects appended (or, with
/// `remove_extra`, the file's subjects instead when anything differs).
pub fn reconcile_binding(existing: &Value, expected: &Value, remove_extra: bool) -> Outcome {
    if expected["roleRef"] != existing["roleRef"] {
        return Outcome {
            protected: protected(existing),
            ..Outcome::new(expected.clone(), Operation::Recreate)
        };
    }
    let mut out = Outcome::new(existing.clone(), Operation::None);
    out.protected = protected(existing);
    if merge_metadata(&mut out.object, existing, expected) {
        out.operation = Operation::Update;
    }
    let (missing, extra) = diff_subjects(&subjects_of(expected), &subjects_of(existing));
    out.missing_subjects = missing;
    out.extra_subjects = extra;
    let to_json = |s: &[Subject]| Value::Array(s.iter().map(Subject::to_json).collect());
    if !remove_extra && !out.missing_subjects.is_empty() {
        let mut all = subjects_of(existing);
        all.extend(out.missing_subjects.iter().cloned());
        out.object["subjects"] = to_json(&all);
        out.operation = Operation::Update;
    } else if remove_extra && !(out.missing_subjects.is_empty() && out.extra_subjects.is_empty()) {
        match (expected.get("subjects"), out.object.as_object_mut()) {
            (Some(s), Some(obj)) => obj.insert("subjects".into(), s.clone()),
            (None, Some(obj)) => obj.remove("subjects"),
            _ => None,
        };
        out.operation = Operation::Update;
    }
    out
}

/// What upstream writes to stderr after printing a reconciled object: the operation needed
/// (and whether the object opted out), then the subjects and rules added, and those removed
/// when removing was asked for.
pub fn report(o: &Outcome, remove_extra_permissions: bool, remove_extra_subjects: bool) -> String {
    if o.operation == Operation::None {
        return String::new();
    }
    let caveat = if o.protected {
        ", but object opted out (rbac.authorization.kubernetes.io/autoupdate: false)"
    } else {
        ""
    };
    let mut s = format!("\treconciliation required {}{caveat}\n", o.operation.word());
    let mut section = |title: &str, items: Vec<String>| {
        if !items.is_empty() {
            s.push_str(&format!("\t{title}:\n"));
            for i in items {
                s.push_str(&format!("\t\t{i}\n"));
            }
        }
    };
    let subjects = |l: &[Subject]| l.iter().map(Subject::go_debug).collect::<Vec<_>>();
    let rules = |l: &[PolicyRule]| l.iter().map(PolicyRule::go_debug).collect::<Vec<_>>();
    section("missing subjects added", subjects(&o.missing_subjects));
    if remove_extra_subjects {
        section("extra subjects removed", subjects(&o.extra_subjects));
    }
    section("missing rules added", rules(&o.missing_rules));
    if remove_extra_permissions {
        section("extra rules removed", rules(&o.extra_rules));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(meta: Value, rules: Value) -> Value {
        json!({"kind": "Role", "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": meta, "rules": rules})
    }

    fn binding(role: &str, subjects: Value) -> Value {
        json!({"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": "b", "namespace": "n", "uid": "u1"},
            "subjects": subjects,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role}})
    }

    #[test]
    fn missing_rules_are_appended_broken_down() {
        let existing = role(
            json!({"name": "r", "labels": {"a": "1"}}),
            json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]),
        );
        let expected = role(
            json!({"name": "r", "labels": {"a": "2", "b": "2"}}),
            json!([{"verbs": ["get", "watch"], "apiGroups": [""], "resources": ["pods"]}]),
        );
        let o = reconcile_role(&existing, &expected, false);
        assert_eq!(o.operation, Operation::Update);
        assert_eq!(
            o.object["rules"],
            json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]},
                   {"verbs": ["watch"], "apiGroups": [""], "resources": ["pods"]}])
        );
        // Existing labels win; only new keys are added.
        assert_eq!(o.object["metadata"]["labels"], json!({"a": "1", "b": "2"}));
        assert_eq!(
            report(&o, false, false),
            "\treconciliation required update\n\tmissing rules added:\n\t\t{Verbs:[watch] APIGroups:[] Resources:[pods] ResourceNames:[] NonResourceURLs:[]}\n"
        );
        // Extra rules are found but only reported when removing.
        assert_eq!(o.extra_rules.len(), 1);
        let o = reconcile_role(&existing, &expected, true);
        assert_eq!(o.object["rules"], expected["rules"]);
        assert!(report(&o, true, false).contains("\textra rules removed:\n\t\t{Verbs:[list] "));
    }

    #[test]
    fn a_covered_role_needs_nothing() {
        let existing = role(
            json!({"name": "r"}),
            json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]),
        );
        let expected = role(
            json!({"name": "r"}),
            json!([{"verbs": ["get"], "apiGroups": ["apps"], "resources": ["deployments/scale"]}]),
        );
        let o = reconcile_role(&existing, &expected, false);
        assert_eq!(o.operation, Operation::None);
        assert_eq!(o.object, existing);
        assert_eq!(report(&o, false, false), "");
        // Removing would replace the wider rule.
        assert_eq!(
            reconcile_role(&existing, &expected, true).operation,
            Operation::Update
        );
    }

    #[test]
    fn aggregated_roles_union_selectors_and_keep_filled_rules() {
        let agg = |labels: Value| json!({"clusterRoleSelectors": [{"matchLabels": labels}]});
        let mut existing = role(
            json!({"name": "c"}),
            json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]),
        );
        existing["aggregationRule"] = agg(json!({"a": "1"}));
        let mut expected = role(json!({"name": "c"}), Value::Null);
        expected["aggregationRule"] = agg(json!({"b": "1"}));
        let o = reconcile_role(&existing, &expected, false);
        assert!(o.extra_rules.is_empty());
        assert_eq!(o.operation, Operation::Update);
        assert_eq!(
            o.object["aggregationRule"],
            json!({"clusterRoleSelectors": [{"matchLabels": {"a": "1"}}, {"matchLabels": {"b": "1"}}]})
        );
        let o = reconcile_role(&existing, &expected, true);
        assert_eq!(o.object["aggregationRule"], expected["aggregationRule"]);
        // The same selector, written with an empty expression list, is no change.
        let mut same = expected.clone();
        same["aggregationRule"] =
            json!({"clusterRoleSelectors": [{"matchLabels": {"a": "1"}, "matchExpressions": []}]});
        assert_eq!(
            reconcile_role(&existing, &same, false).operation,
            Operation::None
        );
        // A file without aggregation removes it.
        let plain = role(json!({"name": "c"}), existing["rules"].clone());
        let o = reconcile_role(&existing, &plain, false);
        assert_eq!(o.operation, Operation::Update);
        assert!(o.object.get("aggregationRule").is_none());
    }

    #[test]
    fn bindings_add_subjects_or_recreate_on_a_new_role_ref() {
        let alice =
            json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"});
        let sa = json!({"kind": "ServiceAccount", "name": "sa", "namespace": "n"});
        let existing = binding("r", json!([alice]));
        let expected = binding("r", json!([sa, sa]));
        let o = reconcile_binding(&existing, &expected, false);
        assert_eq!(o.operation, Operation::Update);
        assert_eq!(o.object["subjects"], json!([alice, sa]));
        assert_eq!(
            report(&o, false, false),
            "\treconciliation required update\n\tmissing subjects added:\n\t\t{Kind:ServiceAccount APIGroup: Name:sa Namespace:n}\n"
        );
        let o = reconcile_binding(&existing, &expected, true);
        assert_eq!(o.object["subjects"], json!([sa, sa]));
        assert_eq!(
            report(&o, false, true),
            "\treconciliation required update\n\tmissing subjects added:\n\t\t{Kind:ServiceAccount APIGroup: Name:sa Namespace:n}\n\textra subjects removed:\n\t\t{Kind:User APIGroup:rbac.authorization.k8s.io Name:alice Namespace:}\n"
        );
        let o = reconcile_binding(&existing, &binding("other", json!([alice])), false);
        assert_eq!(o.operation, Operation::Recreate);
        assert_eq!(o.object["roleRef"]["name"], "other");
        assert_eq!(
            report(&o, false, false),
            "\treconciliation required recreate\n"
        );
    }

    #[test]
    fn opted_out_objects_say_so() {
        let mut existing = binding("r", json!([]));
        existing["metadata"]["annotations"] = json!({AUTO_UPDATE: "false"});
        let expected = binding("r", json!([{"kind": "Group", "name": "g"}]));
        let o = reconcile_binding(&existing, &expected, false);
        assert!(o.protected);
        assert_eq!(
            report(&o, false, false),
            "\treconciliation required update, but object opted out (rbac.authorization.kubernetes.io/autoupdate: false)\n\tmissing subjects added:\n\t\t{Kind:Group APIGroup: Name:g Namespace:}\n"
        );
    }

    #[test]
    fn creating_counts_everything_as_missing() {
        let r = role(
            json!({"name": "r"}),
            json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]),
        );
        assert_eq!(
            report(&Outcome::create_role(&r), false, false),
            "\treconciliation required create\n\tmissing rules added:\n\t\t{Verbs:[get list] APIGroups:[] Resources:[pods] ResourceNames:[] NonResourceURLs:[]}\n"
        );
    }
}
