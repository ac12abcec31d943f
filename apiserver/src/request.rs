//! Request info: which API object a URL names and which verb the request is, as upstream's
//! RequestInfoFactory computes it; plus query parameters.

use std::collections::HashMap;

/// What a request is about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestInfo {
    /// True for `/api/...` and `/apis/...` resource requests.
    pub is_resource_request: bool,
    /// Lower-case verb: get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: String,
    /// API group ("" for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Namespace from the path, if any.
    pub namespace: Option<String>,
    /// Plural resource name.
    pub resource: String,
    /// Object name, if any.
    pub name: Option<String>,
    /// Subresource, if any.
    pub subresource: Option<String>,
    /// Path segments for non-resource requests.
    pub path: String,
}

/// Subresources of a namespace that look like a namespaced resource path.
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

fn decode(seg: &str) -> String {
    percent_encoding::percent_decode_str(seg)
        .decode_utf8_lossy()
        .into_owned()
}

impl RequestInfo {
    /// Parse a method, path and query into request info.
    pub fn parse(method: &http::Method, path: &str, query: &Query) -> Self {
        let mut info = RequestInfo {
            path: path.to_string(),
            ..Default::default()
        };
        let segs: Vec<String> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect();
        let mut parts: &[String] = &segs;
        match parts.first().map(String::as_str) {
            Some("api") if parts.len() >= 2 => {
                info.version = parts[1].clone();
                parts = &parts[2..];
            }
            Some("apis") if parts.len() >= 3 => {
                info.group = parts[1].clone();
                info.version = parts[2].clone();
                parts = &parts[3..];
            }
            _ => return info,
        }
        if parts.is_empty() {
            return info;
        }
        info.is_resource_request = true;
        let mut watch_prefix = false;
        if parts[0] == "watch" {
            watch_prefix = true;
            parts = &parts[1..];
        }
        if parts.len() >= 2 && parts[0] == "namespaces" {
            if parts.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&parts[2].as_str()) {
                info.namespace = Some(parts[1].clone());
                parts = &parts[2..];
            } else {
                // The namespace object itself: its name is the namespace too (upstream does this).
                info.namespace = Some(parts[1].clone());
            }
        }
        if let Some(r) = parts.first() {
            info.resource = r.clone();
        }
        if let Some(n) = parts.get(1) {
            info.name = Some(n.clone());
        }
        if let Some(s) = parts.get(2) {
            info.subresource = Some(s.clone());
        }
        if info.resource == "namespaces" {
            // A namespace object is cluster scoped.
            info.namespace = None;
        }
        let is_watch = watch_prefix || query.flag("watch");
        info.verb = match *method {
            http::Method::GET | http::Method::HEAD if info.name.is_some() && !is_watch => "get",
            http::Method::GET | http::Method::HEAD if is_watch => "watch",
            http::Method::GET | http::Method::HEAD => "list",
            http::Method::POST => "create",
            http::Method::PUT => "update",
            http::Method::PATCH => "patch",
            http::Method::DELETE if info.name.is_some() => "delete",
            http::Method::DELETE => "deletecollection",
            _ => "",
        }
        .to_string();
        info
    }

    /// Whether the request targets a group-version's resource list (`/api/v1`) rather than a
    /// resource.
    pub fn scope(&self) -> &'static str {
        if self.namespace.is_some() {
            "namespace"
        } else if self.name.is_some() {
            "resource"
        } else {
            "cluster"
        }
    }
}

/// Query parameters (last value wins; `dryRun` may repeat).
#[derive(Debug, Clone, Default)]
pub struct Query {
    params: HashMap<String, Vec<String>>,
}

impl Query {
    /// Parse a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        let mut params: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(q) = raw {
            for (k, v) in form_urlencoded::parse(q.as_bytes()) {
                params
                    .entry(k.into_owned())
                    .or_default()
                    .push(v.into_owned());
            }
        }
        Self { params }
    }

    /// The last value of a parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .get(key)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    /// All values of a parameter.
    pub fn all(&self, key: &str) -> &[String] {
        self.params.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// A boolean parameter (`true`/`1`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true") | Some("1"))
    }

    /// A non-empty string parameter.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|s| !s.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(method: http::Method, path: &str, q: &str) -> RequestInfo {
        RequestInfo::parse(&method, path, &Query::parse(Some(q)))
    }

    #[test]
    fn namespaced_object_and_subresource() {
        let i = parse(
            http::Method::GET,
            "/apis/apps/v1/namespaces/default/deployments/web/scale",
            "",
        );
        assert_eq!(
            (i.group.as_str(), i.version.as_str(), i.resource.as_str()),
            ("apps", "v1", "deployments")
        );
        assert_eq!(i.namespace.as_deref(), Some("default"));
        assert_eq!(i.name.as_deref(), Some("web"));
        assert_eq!(i.subresource.as_deref(), Some("scale"));
        assert_eq!(i.verb, "get");
    }

    #[test]
    fn namespace_objects_are_cluster_scoped() {
        let i = parse(
            http::Method::PUT,
            "/api/v1/namespaces/kube-system/finalize",
            "",
        );
        assert_eq!(i.resource, "namespaces");
        assert_eq!(i.name.as_deref(), Some("kube-system"));
        assert_eq!(i.subresource.as_deref(), Some("finalize"));
        assert_eq!(i.namespace, None);
        let l = parse(
            http::Method::GET,
            "/api/v1/namespaces/kube-system/pods",
            "watch=true",
        );
        assert_eq!(l.resource, "pods");
        assert_eq!(l.verb, "watch");
    }

    #[test]
    fn legacy_watch_prefix_and_collections() {
        let i = parse(
            http::Method::GET,
            "/api/v1/watch/namespaces/default/pods",
            "",
        );
        assert_eq!(i.verb, "watch");
        assert_eq!(i.namespace.as_deref(), Some("default"));
        let d = parse(http::Method::DELETE, "/api/v1/namespaces/default/pods", "");
        assert_eq!(d.verb, "deletecollection");
        let n = parse(http::Method::GET, "/version", "");
        assert!(!n.is_resource_request);
    }
}
