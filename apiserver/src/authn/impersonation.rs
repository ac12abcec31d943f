//! Impersonation: a user acting as another through the `Impersonate-User`,
//! `Impersonate-Group` (repeatable), `Impersonate-Uid` and `Impersonate-Extra-<key>` headers
//! (kubectl `--as`, `--as-group`, `--as-uid`), as upstream's impersonation filter does it.
//!
//! Every requested attribute is authorized separately with the verb `impersonate`: `users`,
//! `groups` and `serviceaccounts` (core group; a `system:serviceaccount:<ns>:<name>` user is
//! a ServiceAccount in `<ns>`), `uids` and `userextras/<key>` (group `authentication.k8s.io`).
//! The first refusal answers 403 with the Forbidden message of that attribute; when all are
//! allowed, the rest of the request runs as the impersonated user.

use std::collections::BTreeMap;

use http::HeaderMap;

use super::{UserInfo, AUTHENTICATED};
use crate::authz::{self, Attributes, Authorizer};
use crate::errors::ApiError;

/// `Impersonate-User`.
pub const USER_HEADER: &str = "impersonate-user";
/// `Impersonate-Group`, repeatable.
pub const GROUP_HEADER: &str = "impersonate-group";
/// `Impersonate-Uid`.
pub const UID_HEADER: &str = "impersonate-uid";
/// Prefix of `Impersonate-Extra-<key>` headers.
pub const EXTRA_HEADER_PREFIX: &str = "impersonate-extra-";

const UNAUTHENTICATED: &str = "system:unauthenticated";
const ANONYMOUS: &str = "system:anonymous";
const SA_PREFIX: &str = "system:serviceaccount:";

/// One thing a requester asks to act as (upstream builds an ObjectReference per header value).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Request {
    ServiceAccount { namespace: String, name: String },
    User(String),
    Group(String),
    Extra { key: String, value: String },
    Uid(String),
}

impl Request {
    /// The authorization attributes of "may the requester impersonate this".
    fn attributes(&self, requester: &UserInfo) -> Attributes {
        let mut a = Attributes {
            user: requester.name.clone(),
            groups: requester.groups.clone(),
            verb: "impersonate".into(),
            resource_request: true,
            version: "v1".into(),
            ..Default::default()
        };
        match self {
            Request::ServiceAccount { namespace, name } => {
                a.resource = "serviceaccounts".into();
                a.namespace = namespace.clone();
                a.name = name.clone();
            }
            Request::User(name) => {
                a.resource = "users".into();
                a.name = name.clone();
            }
            Request::Group(name) => {
                a.resource = "groups".into();
                a.name = name.clone();
            }
            Request::Extra { key, value } => {
                a.group = "authentication.k8s.io".into();
                a.resource = "userextras".into();
                a.subresource = key.clone();
                a.name = value.clone();
            }
            Request::Uid(uid) => {
                a.group = "authentication.k8s.io".into();
                a.resource = "uids".into();
                a.name = uid.clone();
            }
        }
        a
    }

    /// Go's `%v` of the ObjectReference upstream builds, for its BadRequest message.
    fn go_repr(&self) -> String {
        let (kind, ns, name, api_version, field_path) = match self {
            Request::ServiceAccount { namespace, name } => {
                ("ServiceAccount", namespace.as_str(), name.as_str(), "", "")
            }
            Request::User(n) => ("User", "", n.as_str(), "", ""),
            Request::Group(n) => ("Group", "", n.as_str(), "", ""),
            Request::Extra { key, value } => (
                "UserExtra",
                "",
                value.as_str(),
                "authentication.k8s.io/v1",
                key.as_str(),
            ),
            Request::Uid(u) => ("UID", "", u.as_str(), "authentication.k8s.io/v1", ""),
        };
        format!("{{{kind} {ns} {name}  {api_version}  {field_path}}}")
    }
}

/// `system:serviceaccount:<ns>:<name>` split into namespace and name.
fn split_service_account(user: &str) -> Option<(String, String)> {
    let rest = user.strip_prefix(SA_PREFIX)?;
    let (ns, name) = rest.split_once(':')?;
    if ns.is_empty() || name.is_empty() || name.contains(':') {
        return None;
    }
    Some((ns.to_string(), name.to_string()))
}

/// Header values as text; a value that is not visible ASCII cannot name anything.
fn header_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// The impersonation requests of a request's headers, in upstream's order (user, groups,
/// extras, uid). Groups, extras or a UID without a user are a 400, as upstream.
fn build_requests(headers: &HeaderMap) -> Result<Vec<Request>, ApiError> {
    let mut out = Vec::new();
    let user = headers
        .get(USER_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let has_user = !user.is_empty();
    if has_user {
        out.push(match split_service_account(user) {
            Some((namespace, name)) => Request::ServiceAccount { namespace, name },
            None => Request::User(user.to_string()),
        });
    }
    let groups = header_values(headers, GROUP_HEADER);
    let has_groups = !groups.is_empty();
    out.extend(groups.into_iter().map(|g| Request::Group(g.to_string())));
    let mut has_extra = false;
    // HeaderMap keys are lower case already; the key is %-decoded as upstream does so that
    // keys with characters HTTP header names cannot hold (`/`) can be sent.
    let mut extra_names: Vec<&str> = headers
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with(EXTRA_HEADER_PREFIX))
        .collect();
    extra_names.sort_unstable();
    extra_names.dedup();
    for header in extra_names {
        has_extra = true;
        let raw = &header[EXTRA_HEADER_PREFIX.len()..];
        let key = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map(|k| k.into_owned())
            .unwrap_or_else(|_| raw.to_string());
        for value in header_values(headers, header) {
            out.push(Request::Extra {
                key: key.clone(),
                value: value.to_string(),
            });
        }
    }
    let uid = headers
        .get(UID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let has_uid = !uid.is_empty();
    if has_uid {
        out.push(Request::Uid(uid.to_string()));
    }
    if (has_groups || has_extra || has_uid) && !has_user {
        let list: Vec<String> = out.iter().map(Request::go_repr).collect();
        return Err(ApiError::bad_request(format!(
            "requested [{}] without impersonating a user",
            list.join(" ")
        )));
    }
    Ok(out)
}

/// Whether a request carries any impersonation header.
pub fn requested(headers: &HeaderMap) -> bool {
    headers.contains_key(USER_HEADER)
        || headers.contains_key(GROUP_HEADER)
        || headers.contains_key(UID_HEADER)
        || headers
            .keys()
            .any(|k| k.as_str().starts_with(EXTRA_HEADER_PREFIX))
}

/// Apply the impersonation headers: `Ok(None)` when there are none, `Ok(Some(user))` with the
/// user to act as when every part was authorized, otherwise the 400 or 403 to answer.
pub fn impersonate(
    authorizer: &Authorizer,
    requester: &UserInfo,
    headers: &HeaderMap,
) -> Result<Option<UserInfo>, ApiError> {
    let requests = build_requests(headers)?;
    if requests.is_empty() {
        return Ok(None);
    }
    // Groups given explicitly are the whole truth, including system:authenticated.
    let groups_given = headers.contains_key(GROUP_HEADER);
    let mut user = UserInfo::default();
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &requests {
        let attrs = r.attributes(requester);
        let verdict = authorizer.authorize(&attrs);
        if !verdict.allowed() {
            return Err(authz::forbidden(&attrs, &verdict.reason));
        }
        match r {
            Request::ServiceAccount { namespace, name } => {
                user.name = format!("{SA_PREFIX}{namespace}:{name}");
                if !groups_given {
                    user.groups = vec![
                        "system:serviceaccounts".into(),
                        format!("system:serviceaccounts:{namespace}"),
                    ];
                }
            }
            Request::User(name) => user.name = name.clone(),
            Request::Group(g) => user.groups.push(g.clone()),
            Request::Extra { key, value } => {
                extra.entry(key.clone()).or_default().push(value.clone())
            }
            Request::Uid(uid) => user.uid = uid.clone(),
        }
    }
    if user.name != ANONYMOUS {
        if !user
            .groups
            .iter()
            .any(|g| g == AUTHENTICATED || g == UNAUTHENTICATED)
        {
            user.groups.push(AUTHENTICATED.into());
        }
    } else if !user.groups.iter().any(|g| g == UNAUTHENTICATED) {
        user.groups.push(UNAUTHENTICATED.into());
    }
    user.extra = extra;
    Ok(Some(user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::Mode;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                http::HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    fn admin() -> UserInfo {
        UserInfo::system("admin", &["system:masters", AUTHENTICATED])
    }

    #[test]
    fn no_headers_no_impersonation() {
        let a = Authorizer::new(vec![Mode::AlwaysDeny]);
        assert_eq!(impersonate(&a, &admin(), &HeaderMap::new()).unwrap(), None);
        assert!(!requested(&HeaderMap::new()));
    }

    #[test]
    fn user_and_groups_get_system_authenticated() {
        let a = Authorizer::new(vec![Mode::AlwaysDeny]);
        let h = headers(&[
            ("Impersonate-User", "bob"),
            ("Impersonate-Group", "dev"),
            ("Impersonate-Group", "ops"),
            ("Impersonate-Uid", "u-1"),
            ("Impersonate-Extra-Scopes", "view"),
            ("Impersonate-Extra-acme.com%2Fproject", "p1"),
        ]);
        assert!(requested(&h));
        let u = impersonate(&a, &admin(), &h)
            .unwrap()
            .expect("impersonated");
        assert_eq!(u.name, "bob");
        assert_eq!(u.uid, "u-1");
        assert_eq!(u.groups, vec!["dev", "ops", AUTHENTICATED]);
        assert_eq!(u.extra["scopes"], vec!["view"]);
        assert_eq!(u.extra["acme.com/project"], vec!["p1"]);
    }

    #[test]
    fn service_accounts_get_their_groups() {
        let a = Authorizer::new(vec![Mode::AlwaysAllow]);
        let h = headers(&[("Impersonate-User", "system:serviceaccount:ns1:robot")]);
        let u = impersonate(&a, &admin(), &h)
            .unwrap()
            .expect("impersonated");
        assert_eq!(
            u.groups,
            vec![
                "system:serviceaccounts",
                "system:serviceaccounts:ns1",
                AUTHENTICATED
            ]
        );
        let anon = headers(&[("Impersonate-User", "system:anonymous")]);
        let u = impersonate(&a, &admin(), &anon).unwrap().expect("anon");
        assert_eq!(u.groups, vec![UNAUTHENTICATED]);
    }

    #[test]
    fn groups_without_a_user_are_a_bad_request() {
        let a = Authorizer::new(vec![Mode::AlwaysAllow]);
        let e = impersonate(&a, &admin(), &headers(&[("Impersonate-Group", "g")])).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "requested [{Group  g    }] without impersonating a user"
        );
    }

    #[test]
    fn refusals_name_the_attribute() {
        let a = Authorizer::new(vec![Mode::Rbac]);
        let alice = UserInfo::system("alice", &[AUTHENTICATED]);
        let e = impersonate(&a, &alice, &headers(&[("Impersonate-User", "bob")])).unwrap_err();
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            r#"users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope"#
        );
        let sa = headers(&[("Impersonate-User", "system:serviceaccount:ns1:robot")]);
        assert_eq!(
            impersonate(&a, &alice, &sa).unwrap_err().message,
            r#"serviceaccounts "robot" is forbidden: User "alice" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "ns1""#
        );
    }
}
