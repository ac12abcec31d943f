//! The attributes an authorizer decides on: who, which verb, and either an API object
//! (group, resource, subresource, namespace, name) or a non-resource path.

use crate::authn::UserInfo;
use crate::request::{Query, RequestInfo};

/// One request as authorizers see it (upstream's `authorizer.Attributes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// User name.
    pub user: String,
    /// The user's groups.
    pub groups: Vec<String>,
    /// Lower-case verb (`get`, `list`, `create` …; the HTTP method for non-resource paths).
    pub verb: String,
    /// Whether this is about an API object rather than a path.
    pub resource_request: bool,
    /// API group ("" for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Plural resource.
    pub resource: String,
    /// Subresource, or "".
    pub subresource: String,
    /// Namespace, or "" for cluster scope.
    pub namespace: String,
    /// Object name, or "".
    pub name: String,
    /// URL path (non-resource requests).
    pub path: String,
}

impl Attributes {
    /// Attributes of an HTTP request.
    ///
    /// As upstream's RequestInfoFactory: a list or watch restricted by the field selector
    /// `metadata.name=<n>` names that object, so that single-object watches (kubelets watch
    /// the Secrets and ConfigMaps their pods use this way) can be authorized per object.
    pub fn from_request(user: &UserInfo, info: &RequestInfo, query: &Query) -> Self {
        let mut a = Self {
            user: user.name.clone(),
            groups: user.groups.clone(),
            resource_request: info.is_resource_request,
            path: info.path.clone(),
            ..Default::default()
        };
        if !info.is_resource_request {
            // Non-resource requests are authorized with the lower-case HTTP method, which
            // dispatch leaves out of RequestInfo; `get` is by far the common case.
            a.verb = if info.verb.is_empty() {
                "get".into()
            } else {
                info.verb.clone()
            };
            return a;
        }
        a.verb = info.verb.clone();
        a.group = info.group.clone();
        a.version = info.version.clone();
        a.resource = info.resource.clone();
        a.subresource = info.subresource.clone().unwrap_or_default();
        a.namespace = info.namespace.clone().unwrap_or_default();
        a.name = info.name.clone().unwrap_or_default();
        if a.name.is_empty() && matches!(a.verb.as_str(), "list" | "watch") {
            if let Some(name) = name_from_field_selector(query.get("fieldSelector")) {
                a.name = name;
            }
        }
        a
    }

    /// The same request for the HTTP method `method` on a non-resource path.
    pub fn with_method(mut self, method: &http::Method) -> Self {
        if !self.resource_request {
            self.verb = method.as_str().to_ascii_lowercase();
        }
        self
    }
}

/// `metadata.name=<n>` (or `==`) from a field selector that requires exactly that.
fn name_from_field_selector(sel: Option<&str>) -> Option<String> {
    let sel = sel?;
    for term in sel.split(',') {
        let term = term.trim();
        let value = term
            .strip_prefix("metadata.name==")
            .or_else(|| term.strip_prefix("metadata.name="));
        if let Some(v) = value {
            if !v.is_empty() && !v.contains('/') && v != "." && v != ".." {
                return Some(v.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserInfo {
        UserInfo::system("system:node:n1", &["system:nodes"])
    }

    #[test]
    fn single_object_watch_names_the_object() {
        let q = Query::parse(Some("watch=true&fieldSelector=metadata.name%3Ds1"));
        let info = RequestInfo::parse(&http::Method::GET, "/api/v1/namespaces/d/secrets", &q);
        let a = Attributes::from_request(&user(), &info, &q);
        assert_eq!(a.verb, "watch");
        assert_eq!(a.name, "s1");
        assert_eq!(a.namespace, "d");
        let q = Query::parse(Some("fieldSelector=spec.nodeName%3Dn1"));
        let info = RequestInfo::parse(&http::Method::GET, "/api/v1/pods", &q);
        assert_eq!(Attributes::from_request(&user(), &info, &q).name, "");
    }

    #[test]
    fn non_resource_paths_use_the_method() {
        let q = Query::default();
        let info = RequestInfo::parse(&http::Method::POST, "/logs", &q);
        let a = Attributes::from_request(&user(), &info, &q).with_method(&http::Method::POST);
        assert!(!a.resource_request);
        assert_eq!(a.verb, "post");
        assert_eq!(a.path, "/logs");
    }
}
