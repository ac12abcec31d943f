//! Reconcile the bootstrap RBAC policy at start, as upstream's `rbac/bootstrap-roles`
//! post-start hook does: create what is missing, add missing rules, labels, annotations,
//! aggregation selectors and subjects to what exists, never remove anything, and leave objects
//! annotated `rbac.authorization.kubernetes.io/autoupdate: "false"` alone.

use api_types::catalog;
use serde_json::{json, Value};

use super::bootstrap_policy::{self, AUTOUPDATE_ANNOTATION};
use super::rule::{uncovered, PolicyRule};
use crate::errors::ApiError;
use crate::store::{RequestContext, Store};

const GROUP: &str = "rbac.authorization.k8s.io";

/// Run the reconciliation once.
pub async fn run(store: &Store) -> Result<(), ApiError> {
    let ctx = RequestContext::internal("kube-apiserver");
    for role in bootstrap_policy::cluster_roles() {
        reconcile(store, &ctx, "clusterroles", role.to_object(), merge_role).await?;
    }
    for binding in bootstrap_policy::cluster_role_bindings() {
        reconcile(
            store,
            &ctx,
            "clusterrolebindings",
            binding.to_object(),
            merge_binding,
        )
        .await?;
    }
    for (ns, role) in bootstrap_policy::namespace_roles() {
        let obj = role.to_namespaced_object(ns);
        reconcile(store, &ctx, "roles", obj, merge_role).await?;
    }
    for (ns, binding) in bootstrap_policy::namespace_role_bindings() {
        let obj = binding.to_namespaced_object(ns);
        reconcile(store, &ctx, "rolebindings", obj, merge_binding).await?;
    }
    Ok(())
}

async fn reconcile(
    store: &Store,
    ctx: &RequestContext,
    plural: &str,
    expected: Value,
    merge: fn(&mut Value, &Value) -> bool,
) -> Result<(), ApiError> {
    let res = catalog::find(GROUP, "v1", plural)
        .ok_or_else(|| ApiError::internal(format!("{plural} missing from catalog")))?;
    let name = expected
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let namespace = expected
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(String::from);
    let ns = namespace.as_deref();
    // Retry on conflicts with a concurrent writer (another apiserver, or a user).
    for _ in 0..5 {
        let current = match store.get(res, ns, &name).await {
            Ok(c) => c,
            Err(e) if e.code == 404 => match store.create(res, ns, expected.clone(), ctx).await {
                Ok(_) => return Ok(()),
                Err(e) if e.code == 409 => continue,
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        };
        let autoupdate = current
            .pointer(&format!(
                "/metadata/annotations/{}",
                AUTOUPDATE_ANNOTATION.replace('/', "~1")
            ))
            .and_then(Value::as_str);
        if autoupdate == Some("false") {
            return Ok(());
        }
        let mut updated = current.clone();
        if !merge(&mut updated, &expected) {
            return Ok(());
        }
        tracing::info!(kind = plural, %name, "reconciling bootstrap RBAC object");
        match store.update(res, ns, &name, updated, None, ctx).await {
            Ok(_) => return Ok(()),
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::internal(format!(
        "could not reconcile {plural} {name}: too many conflicts"
    )))
}

/// Add missing labels and annotations. True when something changed.
fn merge_meta(current: &mut Value, expected: &Value) -> bool {
    let mut changed = false;
    for field in ["labels", "annotations"] {
        let Some(want) = expected
            .pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        let meta = &mut current["metadata"];
        if !meta[field].is_object() {
            meta[field] = json!({});
        }
        for (k, v) in want {
            if meta[field].get(k).is_none() {
                meta[field][k] = v.clone();
                changed = true;
            }
        }
    }
    changed
}

/// Add missing rules (those the current rules do not cover) and aggregation selectors.
fn merge_role(current: &mut Value, expected: &Value) -> bool {
    let mut changed = merge_meta(current, expected);
    let have = PolicyRule::list_from(current);
    let missing = uncovered(&have, &PolicyRule::list_from(expected));
    if !missing.is_empty() {
        let mut rules = current
            .get("rules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        rules.extend(missing.iter().map(PolicyRule::to_json));
        current["rules"] = Value::Array(rules);
        changed = true;
    }
    if let Some(want) = expected
        .pointer("/aggregationRule/clusterRoleSelectors")
        .and_then(Value::as_array)
    {
        let mut sels = current
            .pointer("/aggregationRule/clusterRoleSelectors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for s in want {
            if !sels.contains(s) {
                sels.push(s.clone());
                changed = true;
            }
        }
        current["aggregationRule"] = json!({"clusterRoleSelectors": sels});
    }
    changed
}

/// Add missing subjects.
fn merge_binding(current: &mut Value, expected: &Value) -> bool {
    let mut changed = merge_meta(current, expected);
    let mut subjects = current
        .get("subjects")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let same = |a: &Value, b: &Value| {
        ["kind", "name", "namespace"]
            .iter()
            .all(|f| a.get(*f).and_then(Value::as_str) == b.get(*f).and_then(Value::as_str))
    };
    for want in expected
        .get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !subjects.iter().any(|s| same(s, want)) {
            subjects.push(want.clone());
            changed = true;
        }
    }
    if changed {
        current["subjects"] = Value::Array(subjects);
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_gain_missing_rules_and_keep_extra_ones() {
        let expected = json!({"metadata": {"name": "r", "labels": {"a": "1"}},
            "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}]});
        let mut current = json!({"metadata": {"name": "r"},
        "rules": [
            {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]},
            {"verbs": ["delete"], "apiGroups": [""], "resources": ["secrets"]}
        ]});
        assert!(merge_role(&mut current, &expected));
        let rules = PolicyRule::list_from(&current);
        assert_eq!(rules.len(), 3);
        assert!(rules.iter().any(|r| r.resources == ["secrets"]));
        assert_eq!(current["metadata"]["labels"]["a"], "1");
        // A second pass finds nothing to do.
        assert!(!merge_role(&mut current, &expected));
    }

    #[test]
    fn bindings_gain_missing_subjects() {
        let expected = json!({"metadata": {"name": "b"}, "subjects": [
            {"kind": "Group", "name": "system:masters"}]});
        let mut current = json!({"metadata": {"name": "b"}, "subjects": [
            {"kind": "User", "name": "extra"}]});
        assert!(merge_binding(&mut current, &expected));
        assert_eq!(current["subjects"].as_array().map(Vec::len), Some(2));
        assert!(!merge_binding(&mut current, &expected));
    }
}
