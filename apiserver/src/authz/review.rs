//! `authorization.k8s.io/v1` reviews — create-only virtual resources answered from the
//! authorizer, never stored: SubjectAccessReview (any subject), LocalSubjectAccessReview (any
//! subject, one namespace), SelfSubjectAccessReview (the caller; `kubectl auth can-i`) and
//! SelfSubjectRulesReview (the caller's rules in a namespace; `kubectl auth can-i --list`).

use serde_json::{json, Value};

use super::node::node_identity;
use super::rule::PolicyRule;
use super::{Attributes, Authorizer, Decision, Mode, PRIVILEGED_GROUP};
use crate::authn::UserInfo;
use crate::errors::{ApiError, FieldError};

/// The API group of the reviews.
pub const GROUP: &str = "authorization.k8s.io";

/// Whether `plural` of `group` is one of the review resources.
pub fn is_review(group: &str, plural: &str) -> bool {
    group == GROUP
        && matches!(
            plural,
            "subjectaccessreviews"
                | "localsubjectaccessreviews"
                | "selfsubjectaccessreviews"
                | "selfsubjectrulesreviews"
        )
}

fn string(v: &Value, p: &str) -> String {
    v.pointer(p)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn strings(v: &Value, p: &str) -> Vec<String> {
    v.pointer(p)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn invalid(kind: &str, field: &str, value: Value, detail: &str) -> ApiError {
    ApiError::invalid(
        GROUP,
        kind,
        "",
        &[FieldError::invalid(field, value, detail)],
    )
}

/// The attributes a review's spec asks about, for the given subject.
fn spec_attributes(
    kind: &str,
    spec: &Value,
    user: String,
    groups: Vec<String>,
) -> Result<Attributes, ApiError> {
    let res = spec.get("resourceAttributes").filter(|v| v.is_object());
    let non = spec.get("nonResourceAttributes").filter(|v| v.is_object());
    let mut a = Attributes {
        user,
        groups,
        ..Default::default()
    };
    match (res, non) {
        (Some(r), None) => {
            a.resource_request = true;
            a.verb = string(r, "/verb");
            a.group = string(r, "/group");
            a.version = string(r, "/version");
            a.resource = string(r, "/resource");
            a.subresource = string(r, "/subresource");
            a.namespace = string(r, "/namespace");
            a.name = string(r, "/name");
        }
        (None, Some(n)) => {
            a.verb = string(n, "/verb");
            a.path = string(n, "/path");
        }
        (Some(_), Some(_)) => {
            return Err(invalid(
                kind,
                "spec.nonResourceAttributes",
                spec["nonResourceAttributes"].clone(),
                "cannot be specified in combination with resourceAttributes",
            ))
        }
        (None, None) => {
            return Err(invalid(
                kind,
                "spec.resourceAttributes",
                Value::Null,
                "exactly one of nonResourceAttributes or resourceAttributes must be specified",
            ))
        }
    }
    Ok(a)
}

/// The answer object: the request echoed with `status` filled in.
fn answer(kind: &str, body: &Value, spec: Value, status: Value) -> Value {
    let mut meta = body.get("metadata").cloned().unwrap_or_else(|| json!({}));
    if !meta.is_object() {
        meta = json!({});
    }
    meta["creationTimestamp"] = Value::Null;
    json!({
        "kind": kind,
        "apiVersion": format!("{GROUP}/v1"),
        "metadata": meta,
        "spec": spec,
        "status": status,
    })
}

fn access_status(authz: &Authorizer, a: &Attributes) -> Value {
    let v = authz.authorize(a);
    let mut status = json!({"allowed": v.allowed()});
    if v.decision == Decision::Deny {
        status["denied"] = json!(true);
    }
    if !v.reason.is_empty() {
        status["reason"] = json!(v.reason);
    }
    status
}

/// Answer a review create. `ns` is the URL namespace (LocalSubjectAccessReview only).
pub fn create(
    authz: &Authorizer,
    caller: &UserInfo,
    plural: &str,
    ns: Option<&str>,
    body: &Value,
) -> Result<Value, ApiError> {
    let spec = body.get("spec").cloned().unwrap_or_else(|| json!({}));
    match plural {
        "subjectaccessreviews" | "localsubjectaccessreviews" => {
            let kind = if plural == "subjectaccessreviews" {
                "SubjectAccessReview"
            } else {
                "LocalSubjectAccessReview"
            };
            let user = string(&spec, "/user");
            let groups = strings(&spec, "/groups");
            if user.is_empty() && groups.is_empty() {
                return Err(invalid(
                    kind,
                    "spec.user",
                    json!(user),
                    "at least one of user or group must be specified",
                ));
            }
            let a = spec_attributes(kind, &spec, user, groups)?;
            if let Some(ns) = ns {
                if a.namespace != ns {
                    return Err(invalid(
                        kind,
                        "spec.resourceAttributes.namespace",
                        json!(a.namespace),
                        "must match metadata.namespace",
                    ));
                }
            }
            let status = access_status(authz, &a);
            Ok(answer(kind, body, spec, status))
        }
        "selfsubjectaccessreviews" => {
            let kind = "SelfSubjectAccessReview";
            let a = spec_attributes(kind, &spec, caller.name.clone(), caller.groups.clone())?;
            let status = access_status(authz, &a);
            Ok(answer(kind, body, spec, status))
        }
        "selfsubjectrulesreviews" => {
            let namespace = string(&spec, "/namespace");
            let status = rules_status(authz, caller, &namespace);
            Ok(answer("SelfSubjectRulesReview", body, spec, status))
        }
        other => Err(ApiError::not_found(GROUP, other, "")),
    }
}

/// The caller's rules in `ns` from every authorizer that can list them.
fn rules_status(authz: &Authorizer, caller: &UserInfo, ns: &str) -> Value {
    let mut rules: Vec<PolicyRule> = Vec::new();
    let mut incomplete = false;
    let mut errors: Vec<String> = Vec::new();
    let everything = [
        PolicyRule::resource(&["*"], &["*"], &["*"]),
        PolicyRule::urls(&["*"], &["*"]),
    ];
    if caller.groups.iter().any(|g| g == PRIVILEGED_GROUP) {
        rules.extend(everything.iter().cloned());
    }
    for mode in authz.modes() {
        match mode {
            Mode::AlwaysAllow => rules.extend(everything.iter().cloned()),
            Mode::AlwaysDeny => {}
            Mode::Node => {
                if node_identity(&caller.name, &caller.groups).is_some() {
                    incomplete = true;
                    errors.push("node authorizer does not support user rule resolution".into());
                }
            }
            Mode::Rbac => {
                let r = authz.rbac.rules_for(&caller.name, &caller.groups, ns);
                if !r.errors.is_empty() {
                    incomplete = true;
                    errors.extend(r.errors);
                }
                rules.extend(r.rules);
            }
        }
    }
    let mut resource_rules = Vec::new();
    let mut non_resource_rules = Vec::new();
    for r in &rules {
        if !r.resources.is_empty() {
            let mut j =
                json!({"verbs": r.verbs, "apiGroups": r.api_groups, "resources": r.resources});
            if !r.resource_names.is_empty() {
                j["resourceNames"] = json!(r.resource_names);
            }
            resource_rules.push(j);
        }
        if !r.non_resource_urls.is_empty() {
            non_resource_rules
                .push(json!({"verbs": r.verbs, "nonResourceURLs": r.non_resource_urls}));
        }
    }
    let mut status = json!({
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": incomplete,
    });
    if !errors.is_empty() {
        status["evaluationError"] = json!(errors.join(", "));
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::rbac::RbacKind;

    fn authz() -> Authorizer {
        let a = Authorizer::new(vec![Mode::Node, Mode::Rbac]);
        a.rbac.apply(
            RbacKind::Role,
            Some("ns"),
            "reader",
            Some(&json!({"metadata": {"name": "reader"}, "rules": [
                {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]})),
        );
        a.rbac.apply(
            RbacKind::RoleBinding,
            Some("ns"),
            "b",
            Some(
                &json!({"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "reader"},
                "subjects": [{"kind": "User", "name": "alice"}]}),
            ),
        );
        a
    }

    #[test]
    fn self_access_review_answers_for_the_caller() {
        let a = authz();
        let alice = UserInfo::system("alice", &["system:authenticated"]);
        let body = json!({"spec": {"resourceAttributes": {"namespace": "ns", "verb": "get", "resource": "pods"}}});
        let out = create(&a, &alice, "selfsubjectaccessreviews", None, &body).unwrap_or_default();
        assert_eq!(out["status"]["allowed"], true);
        assert_eq!(out["kind"], "SelfSubjectAccessReview");
        let bob = UserInfo::system("bob", &[]);
        let out = create(&a, &bob, "selfsubjectaccessreviews", None, &body).unwrap_or_default();
        assert_eq!(out["status"]["allowed"], false);
    }

    #[test]
    fn subject_and_local_reviews() {
        let a = authz();
        let admin = UserInfo::system("admin", &[PRIVILEGED_GROUP]);
        let body = json!({"spec": {"user": "alice", "resourceAttributes": {"namespace": "ns", "verb": "get", "resource": "pods"}}});
        let out = create(&a, &admin, "subjectaccessreviews", None, &body).unwrap_or_default();
        assert_eq!(out["status"]["allowed"], true);
        assert!(create(
            &a,
            &admin,
            "localsubjectaccessreviews",
            Some("other"),
            &body
        )
        .is_err());
        let no_subject = json!({"spec": {"resourceAttributes": {"verb": "get"}}});
        assert_eq!(
            create(&a, &admin, "subjectaccessreviews", None, &no_subject)
                .err()
                .map(|e| e.code),
            Some(422)
        );
    }

    #[test]
    fn rules_review_lists_rbac_rules() {
        let a = authz();
        let alice = UserInfo::system("alice", &[]);
        let out = create(
            &a,
            &alice,
            "selfsubjectrulesreviews",
            None,
            &json!({"spec": {"namespace": "ns"}}),
        )
        .unwrap_or_default();
        assert_eq!(out["status"]["resourceRules"][0]["resources"][0], "pods");
        assert_eq!(out["status"]["incomplete"], false);
        let out = create(
            &a,
            &alice,
            "selfsubjectrulesreviews",
            None,
            &json!({"spec": {"namespace": "x"}}),
        )
        .unwrap_or_default();
        assert_eq!(
            out["status"]["resourceRules"].as_array().map(Vec::len),
            Some(0)
        );
    }
}
