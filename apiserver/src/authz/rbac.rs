//! The RBAC authorizer over an in-memory index of Roles, ClusterRoles and their bindings.
//!
//! Bindings are indexed by subject (user name or group; a ServiceAccount subject is the user
//! `system:serviceaccount:<ns>:<name>`), so a decision looks at the bindings of the caller's
//! name and groups only: ClusterRoleBindings first, then RoleBindings of the request's
//! namespace, as upstream's rule visitor does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::rule::PolicyRule;
use super::{Attributes, Decision, Verdict};
use crate::selectors::LabelSelector;

/// A Role or ClusterRole as the index keeps it.
#[derive(Debug, Clone, Default)]
pub struct RoleEntry {
    /// Name.
    pub name: String,
    /// Labels (aggregation selects on them).
    pub labels: BTreeMap<String, String>,
    /// Rules.
    pub rules: Vec<PolicyRule>,
    /// `aggregationRule.clusterRoleSelectors` (ClusterRoles only).
    pub aggregation: Option<Vec<LabelSelector>>,
}

impl RoleEntry {
    /// Read a Role or ClusterRole object.
    pub fn from_object(obj: &Value) -> Self {
        let labels = obj
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let aggregation = obj.get("aggregationRule").map(|ar| {
            ar.get("clusterRoleSelectors")
                .and_then(Value::as_array)
                .map(|sels| {
                    sels.iter()
                        .filter_map(|s| LabelSelector::from_json(s).ok())
                        .collect()
                })
                .unwrap_or_default()
        });
        Self {
            name: obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            labels,
            rules: PolicyRule::list_from(obj),
            aggregation,
        }
    }
}

/// Who a binding grants its role to, normalized to the identity a request carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKey {
    /// A user name (ServiceAccounts become `system:serviceaccount:<ns>:<name>`).
    User(String),
    /// A group.
    Group(String),
}

impl std::fmt::Display for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubjectKey::User(u) => write!(f, "User {u:?}"),
            SubjectKey::Group(g) => write!(f, "Group {g:?}"),
        }
    }
}

/// A RoleBinding or ClusterRoleBinding as the index keeps it.
#[derive(Debug, Clone, Default)]
pub struct BindingEntry {
    /// Namespace (RoleBindings) or None.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// `roleRef.kind`: `Role` or `ClusterRole`.
    pub role_kind: String,
    /// `roleRef.name`.
    pub role_name: String,
    /// Subjects, normalized.
    pub subjects: Vec<SubjectKey>,
}

impl BindingEntry {
    /// Read a binding object; `namespace` is the binding's own (RoleBindings).
    pub fn from_object(obj: &Value, namespace: Option<&str>) -> Self {
        let subjects = obj
            .get("subjects")
            .and_then(Value::as_array)
            .map(|subs| {
                subs.iter()
                    .filter_map(|s| subject_key(s, namespace))
                    .collect()
            })
            .unwrap_or_default();
        let role = |f: &str| {
            obj.pointer(&format!("/roleRef/{f}"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Self {
            namespace: namespace.map(String::from),
            name: obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            role_kind: role("kind"),
            role_name: role("name"),
            subjects,
        }
    }

    fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("RoleBinding \"{ns}/{}\"", self.name),
            None => format!("ClusterRoleBinding {:?}", self.name),
        }
    }
}

fn subject_key(s: &Value, binding_ns: Option<&str>) -> Option<SubjectKey> {
    let name = s.get("name").and_then(Value::as_str)?;
    match s.get("kind").and_then(Value::as_str)? {
        "User" => Some(SubjectKey::User(name.to_string())),
        "Group" => Some(SubjectKey::Group(name.to_string())),
        "ServiceAccount" => {
            let ns = s
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .or(binding_ns)?;
            Some(SubjectKey::User(format!(
                "system:serviceaccount:{ns}:{name}"
            )))
        }
        _ => None,
    }
}

/// Bindings of one scope (cluster, or one namespace), indexed by subject.
#[derive(Debug, Default)]
struct BindingSet {
    by_name: BTreeMap<String, Arc<BindingEntry>>,
    by_subject: HashMap<SubjectKey, BTreeSet<String>>,
}

impl BindingSet {
    fn remove(&mut self, name: &str) {
        if let Some(old) = self.by_name.remove(name) {
            for s in &old.subjects {
                if let Some(set) = self.by_subject.get_mut(s) {
                    set.remove(name);
                    if set.is_empty() {
                        self.by_subject.remove(s);
                    }
                }
            }
        }
    }

    fn upsert(&mut self, b: BindingEntry) {
        self.remove(&b.name);
        for s in &b.subjects {
            self.by_subject
                .entry(s.clone())
                .or_default()
                .insert(b.name.clone());
        }
        self.by_name.insert(b.name.clone(), Arc::new(b));
    }

    /// Bindings naming any of `keys`, in name order, each once.
    fn matching(&self, keys: &[SubjectKey]) -> Vec<(Arc<BindingEntry>, SubjectKey)> {
        let mut seen = BTreeMap::new();
        for k in keys {
            for name in self.by_subject.get(k).into_iter().flatten() {
                if let Some(b) = self.by_name.get(name) {
                    seen.entry(name.clone()).or_insert((b.clone(), k.clone()));
                }
            }
        }
        seen.into_values().collect()
    }
}

#[derive(Debug, Default)]
struct State {
    cluster_roles: HashMap<String, Arc<RoleEntry>>,
    roles: HashMap<(String, String), Arc<RoleEntry>>,
    cluster_bindings: BindingSet,
    bindings: HashMap<String, BindingSet>,
}

/// Which RBAC kind an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RbacKind {
    /// ClusterRole.
    ClusterRole,
    /// Role.
    Role,
    /// ClusterRoleBinding.
    ClusterRoleBinding,
    /// RoleBinding.
    RoleBinding,
}

/// The index. Updated by [`super::feed`]; read by every request.
#[derive(Debug, Default)]
pub struct RbacIndex {
    state: RwLock<State>,
}

/// Rules that apply to a user, with the errors met resolving them (missing roles).
#[derive(Debug, Default)]
pub struct ResolvedRules {
    /// The rules.
    pub rules: Vec<PolicyRule>,
    /// Resolution errors, upstream-worded (`clusterrole.rbac.authorization.k8s.io "x" not found`).
    pub errors: Vec<String>,
}

fn subject_keys(user: &str, groups: &[String]) -> Vec<SubjectKey> {
    let mut keys = vec![SubjectKey::User(user.to_string())];
    keys.extend(groups.iter().map(|g| SubjectKey::Group(g.clone())));
    keys
}

impl RbacIndex {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Add or replace (`obj = Some`) or remove (`None`) one object.
    pub fn apply(&self, kind: RbacKind, ns: Option<&str>, name: &str, obj: Option<&Value>) {
        let mut st = self.write();
        let ns_owned = ns.unwrap_or_default().to_string();
        match (kind, obj) {
            (RbacKind::ClusterRole, Some(o)) => {
                st.cluster_roles
                    .insert(name.to_string(), Arc::new(RoleEntry::from_object(o)));
            }
            (RbacKind::ClusterRole, None) => {
                st.cluster_roles.remove(name);
            }
            (RbacKind::Role, Some(o)) => {
                st.roles.insert(
                    (ns_owned, name.to_string()),
                    Arc::new(RoleEntry::from_object(o)),
                );
            }
            (RbacKind::Role, None) => {
                st.roles.remove(&(ns_owned, name.to_string()));
            }
            (RbacKind::ClusterRoleBinding, Some(o)) => {
                st.cluster_bindings
                    .upsert(BindingEntry::from_object(o, None));
            }
            (RbacKind::ClusterRoleBinding, None) => st.cluster_bindings.remove(name),
            (RbacKind::RoleBinding, Some(o)) => {
                let b = BindingEntry::from_object(o, Some(&ns_owned));
                st.bindings.entry(ns_owned).or_default().upsert(b);
            }
            (RbacKind::RoleBinding, None) => {
                if let Some(set) = st.bindings.get_mut(&ns_owned) {
                    set.remove(name);
                }
            }
        }
    }

    /// Forget everything (before a full resync).
    pub fn clear(&self) {
        *self.write() = State::default();
    }

    /// All ClusterRoles (for aggregation).
    pub fn cluster_roles(&self) -> Vec<Arc<RoleEntry>> {
        self.read().cluster_roles.values().cloned().collect()
    }

    /// The rules a role reference grants in `ns` (`None`: the role does not exist).
    pub fn role_ref_rules(&self, kind: &str, name: &str, ns: &str) -> Option<Vec<PolicyRule>> {
        let st = self.read();
        Self::role_rules(&st, kind, name, ns)
    }

    fn role_rules(st: &State, kind: &str, name: &str, ns: &str) -> Option<Vec<PolicyRule>> {
        match kind {
            "ClusterRole" => st.cluster_roles.get(name).map(|r| r.rules.clone()),
            "Role" => st
                .roles
                .get(&(ns.to_string(), name.to_string()))
                .map(|r| r.rules.clone()),
            _ => None,
        }
    }

    fn not_found(kind: &str, name: &str) -> String {
        format!(
            "{}.rbac.authorization.k8s.io {name:?} not found",
            kind.to_ascii_lowercase()
        )
    }

    /// Visit the (binding, subject, rules) that apply to `user` in `ns` ("" = cluster only):
    /// ClusterRoleBindings, then RoleBindings of `ns`. Stops when `visit` returns true.
    fn visit(
        &self,
        user: &str,
        groups: &[String],
        ns: &str,
        errors: &mut Vec<String>,
        mut visit: impl FnMut(&BindingEntry, &SubjectKey, &[PolicyRule]) -> bool,
    ) {
        let st = self.read();
        let keys = subject_keys(user, groups);
        let mut scopes = vec![st.cluster_bindings.matching(&keys)];
        if !ns.is_empty() {
            if let Some(set) = st.bindings.get(ns) {
                scopes.push(set.matching(&keys));
            }
        }
        for bindings in scopes {
            for (b, subject) in bindings {
                let role_ns = b.namespace.as_deref().unwrap_or_default();
                match Self::role_rules(&st, &b.role_kind, &b.role_name, role_ns) {
                    Some(rules) => {
                        if visit(&b, &subject, &rules) {
                            return;
                        }
                    }
                    None => errors.push(Self::not_found(&b.role_kind, &b.role_name)),
                }
            }
        }
    }

    /// The RBAC decision: allowed when a rule of a bound role matches, else no opinion, with
    /// upstream's reasons (which binding allowed it; which roles could not be found).
    pub fn authorize(&self, a: &Attributes) -> Verdict {
        let mut errors = Vec::new();
        let mut allowed_by = None;
        self.visit(
            &a.user,
            &a.groups,
            &a.namespace,
            &mut errors,
            |b, subject, rules| {
                if rules.iter().any(|r| r.allows(a)) {
                    let role_kind = if b.role_kind == "Role" {
                        "Role"
                    } else {
                        "ClusterRole"
                    };
                    allowed_by = Some(format!(
                        "RBAC: allowed by {} of {role_kind} {:?} to {subject}",
                        b.describe(),
                        b.role_name
                    ));
                    return true;
                }
                false
            },
        );
        match allowed_by {
            Some(reason) => Verdict::new(Decision::Allow, reason),
            None if errors.is_empty() => Verdict::new(Decision::NoOpinion, ""),
            None => Verdict::new(
                Decision::NoOpinion,
                format!("RBAC: [{}]", errors.join(", ")),
            ),
        }
    }

    /// Every rule that applies to a user in `ns` (cluster-wide rules included).
    pub fn rules_for(&self, user: &str, groups: &[String], ns: &str) -> ResolvedRules {
        let mut out = ResolvedRules::default();
        let mut rules = Vec::new();
        self.visit(user, groups, ns, &mut out.errors, |_, _, rs| {
            rules.extend_from_slice(rs);
            false
        });
        out.rules = rules;
        out
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn index() -> RbacIndex {
        let idx = RbacIndex::default();
        idx.apply(
            RbacKind::ClusterRole,
            None,
            "view",
            Some(&json!({"metadata": {"name": "view"}, "rules": [
                {"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["pods", "configmaps"]}
            ]})),
        );
        idx.apply(
            RbacKind::RoleBinding,
            Some("team"),
            "alice-view",
            Some(&json!({"metadata": {"name": "alice-view", "namespace": "team"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "User", "name": "alice"}, {"kind": "ServiceAccount", "name": "bot"}]})),
        );
        idx
    }

    fn a(user: &str, verb: &str, ns: &str) -> Attributes {
        Attributes {
            user: user.into(),
            verb: verb.into(),
            resource_request: true,
            resource: "pods".into(),
            namespace: ns.into(),
            ..Default::default()
        }
    }

    #[test]
    fn role_binding_grants_only_in_its_namespace() {
        let idx = index();
        let v = idx.authorize(&a("alice", "list", "team"));
        assert!(v.allowed());
        assert_eq!(
            v.reason,
            r#"RBAC: allowed by RoleBinding "team/alice-view" of ClusterRole "view" to User "alice""#
        );
        assert!(!idx.authorize(&a("alice", "list", "other")).allowed());
        assert!(!idx.authorize(&a("alice", "delete", "team")).allowed());
        assert!(!idx.authorize(&a("bob", "list", "team")).allowed());
        // The ServiceAccount subject defaults to the binding's namespace.
        assert!(idx
            .authorize(&a("system:serviceaccount:team:bot", "get", "team"))
            .allowed());
    }

    #[test]
    fn removal_and_missing_roles() {
        let idx = index();
        idx.apply(RbacKind::ClusterRole, None, "view", None);
        let v = idx.authorize(&a("alice", "list", "team"));
        assert!(!v.allowed());
        assert_eq!(
            v.reason,
            r#"RBAC: [clusterrole.rbac.authorization.k8s.io "view" not found]"#
        );
        idx.apply(RbacKind::RoleBinding, Some("team"), "alice-view", None);
        assert_eq!(idx.authorize(&a("alice", "list", "team")).reason, "");
    }

    #[test]
    fn group_bindings_and_rules_for() {
        let idx = index();
        idx.apply(
            RbacKind::ClusterRoleBinding,
            None,
            "everyone",
            Some(&json!({"metadata": {"name": "everyone"},
                "roleRef": {"kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "Group", "name": "devs"}]})),
        );
        let mut req = a("carol", "get", "anywhere");
        assert!(!idx.authorize(&req).allowed());
        req.groups = vec!["devs".into()];
        assert!(idx.authorize(&req).allowed());
        let r = idx.rules_for("alice", &[], "team");
        assert_eq!(r.rules.len(), 1);
        assert!(idx.rules_for("alice", &[], "").rules.is_empty());
    }
}
