//! rbac.authorization.k8s.io/v1 Roles, ClusterRoles and their bindings. Names only need to be
//! valid path segments (`system:controller:foo` is a common ClusterRole name).

use serde_json::Value;

use super::json::{child, get, get_str, index, items};
use crate::errors::FieldError;
use crate::registry::strategy::NameRule;
use crate::registry::Strategy;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn validate_rules(obj: &Value, namespaced: bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, r) in items(obj, &["rules"]).iter().enumerate() {
        let path = index("rules", i);
        let has = |f: &str| !items(r, &[f]).is_empty();
        if !has("verbs") {
            errs.push(FieldError::required(
                child(&path, "verbs"),
                "verbs must contain at least one value",
            ));
        }
        if has("nonResourceURLs") {
            let urls = r.get("nonResourceURLs").cloned().unwrap_or(Value::Null);
            if namespaced {
                errs.push(FieldError::invalid(
                    child(&path, "nonResourceURLs"),
                    urls,
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            } else if has("resources") || has("apiGroups") || has("resourceNames") {
                errs.push(FieldError::invalid(
                    child(&path, "nonResourceURLs"),
                    urls,
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
            continue;
        }
        if !has("apiGroups") {
            errs.push(FieldError::required(
                child(&path, "apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if !has("resources") {
            errs.push(FieldError::required(
                child(&path, "resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
    errs
}

fn validate_binding(
    obj: &Value,
    old: Option<&Value>,
    role_kinds: &[&str],
    namespaced: bool,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let group = get_str(obj, &["roleRef", "apiGroup"]).unwrap_or_default();
    if group != RBAC_GROUP {
        errs.push(FieldError::not_supported(
            "roleRef.apiGroup",
            group,
            &[RBAC_GROUP],
        ));
    }
    let kind = get_str(obj, &["roleRef", "kind"]).unwrap_or_default();
    if !role_kinds.contains(&kind) {
        errs.push(FieldError::not_supported("roleRef.kind", kind, role_kinds));
    }
    match get_str(obj, &["roleRef", "name"]).filter(|n| !n.is_empty()) {
        None => errs.push(FieldError::required("roleRef.name", "")),
        Some(n) => errs.extend(
            api_types::names::path_segment_name(n)
                .into_iter()
                .map(|m| FieldError::invalid("roleRef.name", n, m)),
        ),
    }
    for (i, s) in items(obj, &["subjects"]).iter().enumerate() {
        let path = index("subjects", i);
        if get_str(s, &["name"]).unwrap_or_default().is_empty() {
            errs.push(FieldError::required(child(&path, "name"), ""));
        }
        match get_str(s, &["kind"]).unwrap_or_default() {
            "ServiceAccount" => {
                if !namespaced && get_str(s, &["namespace"]).unwrap_or_default().is_empty() {
                    errs.push(FieldError::required(child(&path, "namespace"), ""));
                }
            }
            "User" | "Group" => {}
            other => errs.push(FieldError::not_supported(
                child(&path, "kind"),
                other,
                &["ServiceAccount", "User", "Group"],
            )),
        }
    }
    if let Some(old) = old {
        if get(obj, &["roleRef"]) != get(old, &["roleRef"]) {
            errs.push(FieldError::invalid(
                "roleRef",
                get(obj, &["roleRef"]).cloned().unwrap_or(Value::Null),
                "cannot change roleRef",
            ));
        }
    }
    errs
}

/// rbac Role.
pub struct Role;
impl Strategy for Role {
    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        validate_rules(obj, true)
    }
    fn name_rule(&self) -> NameRule {
        NameRule::PathSegment
    }
}

/// rbac ClusterRole.
pub struct ClusterRole;
impl Strategy for ClusterRole {
    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        // An aggregated ClusterRole's rules are written by the aggregation controller.
        validate_rules(obj, false)
    }
    fn name_rule(&self) -> NameRule {
        NameRule::PathSegment
    }
}

/// rbac RoleBinding.
pub struct RoleBinding;
impl Strategy for RoleBinding {
    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        validate_binding(obj, old, &["Role", "ClusterRole"], true)
    }
    fn name_rule(&self) -> NameRule {
        NameRule::PathSegment
    }
}

/// rbac ClusterRoleBinding.
pub struct ClusterRoleBinding;
impl Strategy for ClusterRoleBinding {
    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        validate_binding(obj, old, &["ClusterRole"], false)
    }
    fn name_rule(&self) -> NameRule {
        NameRule::PathSegment
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_need_verbs() {
        let r = json!({"rules": [{"apiGroups": [""], "resources": ["pods"]}]});
        assert_eq!(
            Role.validate(&r, None)[0].message(),
            "rules[0].verbs: Required value: verbs must contain at least one value"
        );
    }

    #[test]
    fn role_ref_is_immutable() {
        let old = json!({"roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "alice"}]});
        let mut new = old.clone();
        new["roleRef"]["name"] = json!("edit");
        let errs = RoleBinding.validate(&new, Some(&old));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message().ends_with("cannot change roleRef"));
        let crb = json!({"roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": "x"}});
        assert_eq!(
            ClusterRoleBinding.validate(&crb, None)[0].field,
            "roleRef.kind"
        );
    }
}
