//! RBAC escalation prevention on writes of Roles, ClusterRoles and their bindings (upstream's
//! policy-based RBAC storage): nobody may grant permissions they do not hold.
//!
//! - A Role or ClusterRole may only be written with rules the writer holds in that scope,
//!   unless the writer may `escalate` that role. An `aggregationRule` requires holding
//!   everything (it can gather any rule).
//! - A binding may only be written for a role whose rules the writer holds in the binding's
//!   scope, unless the writer may `bind` that role.
//! - Members of `system:masters` are exempt.

use serde_json::Value;

use super::rule::{uncovered, PolicyRule};
use super::{forbidden_for, Attributes, Authorizer, PRIVILEGED_GROUP};
use crate::authn::UserInfo;
use crate::errors::ApiError;

const GROUP: &str = "rbac.authorization.k8s.io";

fn quoted_list(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", items.join(" "))
}

fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

impl Authorizer {
    fn may(&self, user: &UserInfo, verb: &str, resource: &str, ns: &str, name: &str) -> bool {
        self.authorize(&Attributes {
            user: user.name.clone(),
            groups: user.groups.clone(),
            verb: verb.into(),
            resource_request: true,
            group: GROUP.into(),
            version: "*".into(),
            resource: resource.into(),
            namespace: ns.into(),
            name: name.into(),
            ..Default::default()
        })
        .allowed()
    }

    /// The Forbidden error if `user` does not hold every rule of `wanted` in `ns`.
    fn confirm_no_escalation(
        &self,
        user: &UserInfo,
        ns: &str,
        wanted: &[PolicyRule],
    ) -> Result<(), String> {
        let owned = self.rbac.rules_for(&user.name, &user.groups, ns);
        let missing = uncovered(&owned.rules, wanted);
        if missing.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> = missing.iter().map(PolicyRule::compact_string).collect();
        let mut msg = format!(
            "user {:?} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
            user.name,
            quoted_list(&user.groups),
            lines.join("\n")
        );
        if !owned.errors.is_empty() {
            msg.push_str(&format!(
                "; resolution errors: [{}]",
                owned.errors.join(" ")
            ));
        }
        Err(msg)
    }

    /// Check a create or update of an RBAC object (`plural` of rbac.authorization.k8s.io).
    pub fn check_rbac_write(
        &self,
        user: &UserInfo,
        plural: &str,
        ns: Option<&str>,
        obj: &Value,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        if !self.rbac_enabled() || user.groups.iter().any(|g| g == PRIVILEGED_GROUP) {
            return Ok(());
        }
        let ns = ns.unwrap_or_default();
        let name = name_of(obj);
        match plural {
            "roles" | "clusterroles" => {
                let rules = PolicyRule::list_from(obj);
                let aggregation = obj.get("aggregationRule");
                if let Some(old) = old {
                    if PolicyRule::list_from(old) == rules
                        && old.get("aggregationRule") == aggregation
                    {
                        return Ok(());
                    }
                }
                if self.may(user, "escalate", plural, ns, name) {
                    return Ok(());
                }
                // Rules of an aggregated role are the aggregation's business, not the writer's.
                if aggregation.is_none() {
                    self.confirm_no_escalation(user, ns, &rules)
                        .map_err(|m| forbidden_for(GROUP, plural, name, &m))?;
                } else {
                    let everything = [
                        PolicyRule::resource(&["*"], &["*"], &["*"]),
                        PolicyRule::urls(&["*"], &["*"]),
                    ];
                    if self.confirm_no_escalation(user, ns, &everything).is_err() {
                        return Err(forbidden_for(
                            GROUP,
                            plural,
                            name,
                            "must have cluster-admin privileges to use the aggregationRule",
                        ));
                    }
                }
                Ok(())
            }
            "rolebindings" | "clusterrolebindings" => {
                let role_ref = |o: &Value, f: &str| {
                    o.pointer(&format!("/roleRef/{f}"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                if let Some(old) = old {
                    if old.get("roleRef") == obj.get("roleRef")
                        && old.get("subjects") == obj.get("subjects")
                    {
                        return Ok(());
                    }
                }
                let kind = role_ref(obj, "kind");
                let role = role_ref(obj, "name");
                let role_resource = if kind == "Role" {
                    "roles"
                } else {
                    "clusterroles"
                };
                if self.may(user, "bind", role_resource, ns, &role) {
                    return Ok(());
                }
                let Some(rules) = self.rbac.role_ref_rules(&kind, &role, ns) else {
                    return Err(ApiError::not_found(GROUP, role_resource, &role));
                };
                self.confirm_no_escalation(user, ns, &rules)
                    .map_err(|m| forbidden_for(GROUP, plural, name, &m))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::authz::rbac::RbacKind;
    use crate::authz::Mode;

    fn setup() -> Authorizer {
        let a = Authorizer::new(vec![Mode::Rbac]);
        a.rbac.apply(
            RbacKind::ClusterRole,
            None,
            "edit-pods",
            Some(&json!({"metadata": {"name": "edit-pods"}, "rules": [
                {"verbs": ["get", "list", "create", "update"], "apiGroups": [""], "resources": ["pods"]},
                {"verbs": ["create", "update", "get", "list"], "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"]}
            ]})),
        );
        a.rbac.apply(
            RbacKind::RoleBinding,
            Some("ns"),
            "alice",
            Some(&json!({"metadata": {"name": "alice", "namespace": "ns"},
                "roleRef": {"kind": "ClusterRole", "name": "edit-pods"},
                "subjects": [{"kind": "User", "name": "alice"}]})),
        );
        a
    }

    fn alice() -> UserInfo {
        UserInfo::system("alice", &["system:authenticated"])
    }

    #[test]
    fn roles_within_held_permissions_only() {
        let a = setup();
        let ok = json!({"metadata": {"name": "r"}, "rules": [
            {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]});
        assert!(a
            .check_rbac_write(&alice(), "roles", Some("ns"), &ok, None)
            .is_ok());
        let too_much = json!({"metadata": {"name": "r"}, "rules": [
            {"verbs": ["get", "delete"], "apiGroups": [""], "resources": ["pods", "secrets"]}]});
        let e = a
            .check_rbac_write(&alice(), "roles", Some("ns"), &too_much, None)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert_eq!(
            e,
            "roles.rbac.authorization.k8s.io \"r\" is forbidden: user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"delete\"]}"
        );
        // Held only in "ns", not elsewhere.
        assert!(a
            .check_rbac_write(&alice(), "roles", Some("other"), &ok, None)
            .is_err());
    }

    #[test]
    fn bindings_need_the_role_or_bind() {
        let a = setup();
        a.rbac.apply(
            RbacKind::ClusterRole,
            None,
            "admin-ish",
            Some(&json!({"metadata": {"name": "admin-ish"}, "rules": [
                {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]})),
        );
        let bind = |role: &str| {
            json!({"metadata": {"name": "b"},
            "roleRef": {"kind": "ClusterRole", "name": role, "apiGroup": GROUP},
            "subjects": [{"kind": "User", "name": "bob"}]})
        };
        assert!(a
            .check_rbac_write(
                &alice(),
                "rolebindings",
                Some("ns"),
                &bind("edit-pods"),
                None
            )
            .is_ok());
        assert_eq!(
            a.check_rbac_write(
                &alice(),
                "rolebindings",
                Some("ns"),
                &bind("admin-ish"),
                None
            )
            .err()
            .map(|e| e.code),
            Some(403)
        );
        let mut admin = alice();
        admin.groups.push(PRIVILEGED_GROUP.into());
        assert!(a
            .check_rbac_write(&admin, "rolebindings", Some("ns"), &bind("admin-ish"), None)
            .is_ok());
    }
}
