//! Who may use the kubelet's API (`--authorization-mode=Webhook`), decided as upstream's
//! kubelet decides it: the client certificate names the user (CN) and groups (O), the request
//! becomes attributes on the Node (`nodes/proxy` by default, `nodes/stats`, `nodes/metrics`,
//! `nodes/log`, `nodes/spec` for their paths), and the apiserver answers a
//! SubjectAccessReview. Answers are cached: allowed for 5 minutes, denied for 30 seconds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::Method;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::Api;
use rustls::pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, X509Certificate};

const ALLOWED_TTL: Duration = Duration::from_secs(300);
const DENIED_TTL: Duration = Duration::from_secs(30);

/// The client, as its certificate names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct User {
    pub name: String,
    pub groups: Vec<String>,
}

/// The user of a verified client certificate chain (leaf first), if it names one.
pub fn user_from_cert(chain: Option<&[CertificateDer<'_>]>) -> Option<User> {
    let (_, cert) = X509Certificate::from_der(chain?.first()?.as_ref()).ok()?;
    let name = cert
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_string();
    let mut groups: Vec<String> = cert
        .subject()
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(String::from))
        .collect();
    groups.push("system:authenticated".into());
    (!name.is_empty()).then_some(User { name, groups })
}

/// What a request asks of the Node: verb and subresource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Attributes {
    pub verb: &'static str,
    pub subresource: &'static str,
}

fn is_subpath(path: &str, prefix: &str) -> bool {
    path == prefix || path.starts_with(&format!("{prefix}/"))
}

/// Upstream's mapping of a kubelet request to Node attributes.
pub fn attributes(method: &Method, path: &str) -> Attributes {
    let verb = match *method {
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "get",
    };
    let subresource = if is_subpath(path, "/stats") {
        "stats"
    } else if is_subpath(path, "/metrics") {
        "metrics"
    } else if is_subpath(path, "/logs") {
        "log"
    } else if is_subpath(path, "/spec") {
        "spec"
    } else {
        "proxy"
    };
    Attributes { verb, subresource }
}

/// The message of a denial, upstream's words.
pub fn forbidden_message(user: &User, attrs: &Attributes) -> String {
    format!(
        "Forbidden (user={}, verb={}, resource=nodes, subresource={})",
        user.name, attrs.verb, attrs.subresource
    )
}

/// Asks the apiserver, with a cache of recent answers.
pub struct WebhookAuthorizer {
    client: kube::Client,
    node_name: String,
    cache: Mutex<HashMap<(User, Attributes), (bool, Instant)>>,
}

impl std::fmt::Debug for WebhookAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookAuthorizer")
            .field("node_name", &self.node_name)
            .finish_non_exhaustive()
    }
}

impl WebhookAuthorizer {
    pub fn new(client: kube::Client, node_name: String) -> Self {
        Self {
            client,
            node_name,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `user` may do `attrs` on this node.
    pub async fn allowed(&self, user: &User, attrs: &Attributes) -> Result<bool, kube::Error> {
        let key = (user.clone(), attrs.clone());
        if let Some((allowed, at)) = self.cache.lock().ok().and_then(|c| c.get(&key).copied()) {
            let ttl = if allowed { ALLOWED_TTL } else { DENIED_TTL };
            if at.elapsed() < ttl {
                return Ok(allowed);
            }
        }
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(user.name.clone()),
                groups: Some(user.groups.clone()),
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(attrs.verb.into()),
                    version: Some("v1".into()),
                    resource: Some("nodes".into()),
                    subresource: Some(attrs.subresource.into()),
                    name: Some(self.node_name.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let answer = Api::<SubjectAccessReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await?;
        let allowed = answer.status.is_some_and(|s| s.allowed);
        if let Ok(mut cache) = self.cache.lock() {
            // Bounded: a stale cache is only a cost, so start over rather than grow forever.
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(key, (allowed, Instant::now()));
        }
        Ok(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_upstreams_subresources() {
        let a = |m: Method, p: &str| {
            let x = attributes(&m, p);
            (x.verb, x.subresource)
        };
        assert_eq!(a(Method::GET, "/stats/summary"), ("get", "stats"));
        assert_eq!(a(Method::GET, "/metrics/resource"), ("get", "metrics"));
        assert_eq!(a(Method::GET, "/metrics"), ("get", "metrics"));
        assert_eq!(a(Method::GET, "/logs/"), ("get", "log"));
        assert_eq!(a(Method::GET, "/containerLogs/ns/p/c"), ("get", "proxy"));
        assert_eq!(a(Method::POST, "/exec/ns/p/c"), ("create", "proxy"));
        assert_eq!(a(Method::GET, "/statsfoo"), ("get", "proxy"));
        let user = User {
            name: "bob".into(),
            groups: vec![],
        };
        assert_eq!(
            forbidden_message(&user, &attributes(&Method::GET, "/stats/summary")),
            "Forbidden (user=bob, verb=get, resource=nodes, subresource=stats)"
        );
    }
}
