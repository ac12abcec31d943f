//! ClusterRole aggregation, run inside the apiserver (upstream runs it as the
//! clusterrole-aggregation controller in kube-controller-manager; Rudder keeps it next to the
//! RBAC index, which already follows every ClusterRole).
//!
//! Level-triggered: whenever any ClusterRole changes, every ClusterRole with an
//! `aggregationRule` gets its `rules` set to the union of the rules of the ClusterRoles its
//! selectors match (in name order, duplicates dropped), written back through the store so
//! `kubectl get clusterrole admin -o yaml` shows them, as upstream.

use std::sync::Arc;

use api_types::catalog;
use serde_json::Value;
use tokio::sync::Notify;

use super::rbac::{RbacIndex, RoleEntry};
use super::rule::PolicyRule;
use crate::store::{RequestContext, Store};

/// The rules an aggregated role should have, or `None` for roles without an aggregationRule.
pub fn aggregated_rules(role: &RoleEntry, all: &[Arc<RoleEntry>]) -> Option<Vec<PolicyRule>> {
    let selectors = role.aggregation.as_ref()?;
    let mut sources: Vec<&Arc<RoleEntry>> = all
        .iter()
        .filter(|r| r.name != role.name)
        .filter(|r| {
            selectors
                .iter()
                .any(|s| !s.is_empty() && s.matches(&r.labels))
        })
        .collect();
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    let mut rules: Vec<PolicyRule> = Vec::new();
    for src in sources {
        for rule in &src.rules {
            if !rules.contains(rule) {
                rules.push(rule.clone());
            }
        }
    }
    Some(rules)
}

/// One pass: bring every aggregated ClusterRole up to date. Returns how many were written.
pub async fn sync(store: &Store, rbac: &RbacIndex) -> usize {
    let Some(res) = catalog::find("rbac.authorization.k8s.io", "v1", "clusterroles") else {
        return 0;
    };
    let ctx = RequestContext::internal("clusterrole-aggregation-controller");
    let all = rbac.cluster_roles();
    let mut written = 0;
    for role in &all {
        let Some(want) = aggregated_rules(role, &all) else {
            continue;
        };
        if want == role.rules {
            continue;
        }
        let Ok(mut obj) = store.get(res, None, &role.name).await else {
            continue;
        };
        obj["rules"] = Value::Array(want.iter().map(PolicyRule::to_json).collect());
        match store.update(res, None, &role.name, obj, None, &ctx).await {
            Ok(_) => written += 1,
            // A conflict means someone else wrote it; the watch will bring us back.
            Err(e) => tracing::debug!(role = %role.name, error = %e, "aggregation write failed"),
        }
    }
    written
}

/// Run forever: a pass whenever ClusterRoles changed.
pub async fn run(
    store_owner: Arc<crate::handlers::ApiServer>,
    rbac: Arc<RbacIndex>,
    changed: Arc<Notify>,
) {
    loop {
        changed.notified().await;
        // Let a burst of changes (bootstrap reconciliation) settle into one pass.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        sync(&store_owner.store, &rbac).await;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn union_of_matching_roles_in_name_order() {
        let view = RoleEntry::from_object(&json!({"metadata": {"name": "view"},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg-view": "true"}}]}}));
        let b = Arc::new(RoleEntry::from_object(
            &json!({"metadata": {"name": "b", "labels": {"agg-view": "true"}},
            "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]}),
        ));
        let a = Arc::new(RoleEntry::from_object(
            &json!({"metadata": {"name": "a", "labels": {"agg-view": "true"}},
            "rules": [{"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]},
                      {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]}),
        ));
        let other = Arc::new(RoleEntry::from_object(&json!({"metadata": {"name": "c"},
            "rules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]})));
        let rules = aggregated_rules(&view, &[b, a, other]).unwrap_or_default();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].verbs, ["list"]);
        assert_eq!(rules[1].verbs, ["get"]);
        let plain = RoleEntry::from_object(&json!({"metadata": {"name": "p"}}));
        assert!(aggregated_rules(&plain, &[]).is_none());
    }
}
