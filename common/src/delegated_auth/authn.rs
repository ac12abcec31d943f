//! Who is calling, the pieces of upstream's delegated authentication:
//! - the front proxy — a client certificate signed by the request-header CA whose common name
//!   is an allowed name — vouches for the user in `X-Remote-User` / `X-Remote-Group` /
//!   `X-Remote-Extra-*` ([`from_request_headers`]);
//! - a client certificate signed by the client CA names the user (common name) and groups
//!   (organizations) ([`from_client_cert`]);
//! - a bearer token is checked with a TokenReview ([`from_token`]).
//!
//! The request-header settings come from `--requestheader-*` flags or, as upstream reads
//! them, from the `kube-system/extension-apiserver-authentication` ConfigMap the apiserver
//! publishes.

use std::collections::BTreeMap;

use http::HeaderMap;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::PostParams;
use kube::Api;
use rustls::pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, X509Certificate};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct User {
    /// User name.
    pub name: String,
    /// UID, when known.
    pub uid: String,
    /// Groups.
    pub groups: Vec<String>,
    /// Extra attributes.
    pub extra: BTreeMap<String, Vec<String>>,
}

/// The request-header (front proxy) settings.
#[derive(Debug, Clone, Default)]
pub struct RequestHeaderConfig {
    /// PEM of the CA that signs front-proxy client certificates.
    pub client_ca_pem: Vec<u8>,
    /// Common names allowed to assert identities (empty: any cert from the CA).
    pub allowed_names: Vec<String>,
    /// User name headers, first present wins.
    pub username_headers: Vec<String>,
    /// UID headers.
    pub uid_headers: Vec<String>,
    /// Group headers (all values of all of them).
    pub group_headers: Vec<String>,
    /// Extra-attribute header prefixes.
    pub extra_headers_prefix: Vec<String>,
}

/// Why the request-header settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Reading the ConfigMap failed.
    #[error("reading kube-system/extension-apiserver-authentication: {0}")]
    Api(#[from] kube::Error),
    /// The ConfigMap has no request-header CA (the apiserver runs without
    /// `--requestheader-client-ca-file`).
    #[error("kube-system/extension-apiserver-authentication has no requestheader-client-ca-file")]
    NoCa,
}

fn json_list(v: Option<&String>) -> Vec<String> {
    v.and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

impl RequestHeaderConfig {
    /// Upstream's default header names, with the given CA and allowed names.
    pub fn with_defaults(client_ca_pem: Vec<u8>, allowed_names: Vec<String>) -> Self {
        Self {
            client_ca_pem,
            allowed_names,
            username_headers: vec!["X-Remote-User".into()],
            uid_headers: vec!["X-Remote-Uid".into()],
            group_headers: vec!["X-Remote-Group".into()],
            extra_headers_prefix: vec!["X-Remote-Extra-".into()],
        }
    }

    /// Read the settings the apiserver publishes.
    pub async fn from_cluster(client: &kube::Client) -> Result<Self, ConfigError> {
        let cm = Api::<ConfigMap>::namespaced(client.clone(), "kube-system")
            .get("extension-apiserver-authentication")
            .await?;
        let data = cm.data.unwrap_or_default();
        let ca = data
            .get("requestheader-client-ca-file")
            .filter(|s| !s.is_empty())
            .ok_or(ConfigError::NoCa)?;
        let or_default = |key: &str, d: &str| {
            let v = json_list(data.get(key));
            if v.is_empty() {
                vec![d.to_string()]
            } else {
                v
            }
        };
        Ok(Self {
            client_ca_pem: ca.as_bytes().to_vec(),
            allowed_names: json_list(data.get("requestheader-allowed-names")),
            username_headers: or_default("requestheader-username-headers", "X-Remote-User"),
            uid_headers: or_default("requestheader-uid-headers", "X-Remote-Uid"),
            group_headers: or_default("requestheader-group-headers", "X-Remote-Group"),
            extra_headers_prefix: or_default(
                "requestheader-extra-headers-prefix",
                "X-Remote-Extra-",
            ),
        })
    }
}

/// The common name of a client certificate.
pub fn common_name(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(cert.as_ref()).ok()?;
    let cn = cert.subject().iter_common_name().next()?.as_str().ok()?;
    Some(cn.to_string())
}

/// The user a client certificate (already verified against the client CA) names: the
/// common name, with the organizations as groups (upstream's x509 authenticator).
pub fn from_client_cert(cert: &CertificateDer<'_>) -> Option<User> {
    let (_, parsed) = X509Certificate::from_der(cert.as_ref()).ok()?;
    let name = common_name(cert)?;
    if name.is_empty() {
        return None;
    }
    let groups = parsed
        .subject()
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(String::from))
        .collect();
    Some(User {
        name,
        groups,
        ..Default::default()
    })
}

/// The bearer token of an `Authorization: Bearer …` header, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Upstream's anonymous user, for requests that carry no credentials.
pub fn anonymous() -> User {
    User {
        name: "system:anonymous".into(),
        groups: vec!["system:unauthenticated".into()],
        ..Default::default()
    }
}

fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The user the front proxy asserts, if the connection's verified client certificate is an
/// allowed front proxy and a user name header is present.
pub fn from_request_headers(
    config: &RequestHeaderConfig,
    peer_cert: Option<&CertificateDer<'_>>,
    headers: &HeaderMap,
) -> Option<User> {
    let cn = common_name(peer_cert?)?;
    if !config.allowed_names.is_empty() && !config.allowed_names.contains(&cn) {
        return None;
    }
    let values = |names: &[String]| -> Vec<String> {
        names
            .iter()
            .flat_map(|n| headers.get_all(n.as_str()).iter())
            .filter_map(|v| v.to_str().ok().map(String::from))
            .collect()
    };
    let name = values(&config.username_headers).into_iter().next()?;
    if name.is_empty() {
        return None;
    }
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in headers {
        for prefix in &config.extra_headers_prefix {
            let p = prefix.to_ascii_lowercase();
            if let Some(key) = k.as_str().strip_prefix(&p) {
                if let Ok(v) = v.to_str() {
                    extra.entry(unescape(key)).or_default().push(v.to_string());
                }
            }
        }
    }
    Some(User {
        name,
        uid: values(&config.uid_headers)
            .into_iter()
            .next()
            .unwrap_or_default(),
        groups: values(&config.group_headers),
        extra,
    })
}

/// Check a bearer token with a TokenReview.
pub async fn from_token(client: &kube::Client, token: &str) -> Option<User> {
    let review = TokenReview {
        spec: TokenReviewSpec {
            token: Some(token.to_string()),
            audiences: None,
        },
        ..Default::default()
    };
    let out = Api::<TokenReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .ok()?;
    let status = out.status?;
    if status.authenticated != Some(true) {
        return None;
    }
    let u = status.user?;
    Some(User {
        name: u.username?,
        uid: u.uid.unwrap_or_default(),
        groups: u.groups.unwrap_or_default(),
        extra: u.extra.unwrap_or_default().into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert(
            http::header::AUTHORIZATION,
            "bearer abc ".parse().expect("value"),
        );
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(
            http::header::AUTHORIZATION,
            "Basic abc".parse().expect("value"),
        );
        assert_eq!(bearer_token(&h), None);
        h.insert(
            http::header::AUTHORIZATION,
            "Bearer ".parse().expect("value"),
        );
        assert_eq!(bearer_token(&h), None);
    }

    #[test]
    fn client_cert_names_user_and_groups() {
        let ca = crate::pki::Ca::generate("test-ca").expect("ca");
        let issued = ca
            .issue_client("jane", &["admins".to_string(), "devs".to_string()])
            .expect("client cert");
        let der = rustls_pemfile::certs(&mut issued.cert_pem.as_bytes())
            .next()
            .expect("a cert")
            .expect("pem");
        let user = from_client_cert(&der).expect("user");
        assert_eq!(user.name, "jane");
        assert_eq!(user.groups, ["admins", "devs"]);
    }

    #[test]
    fn extra_keys_are_unescaped() {
        assert_eq!(
            unescape("authentication.kubernetes.io%2fpod-name"),
            "authentication.kubernetes.io/pod-name"
        );
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(unescape("bad%zz"), "bad%zz");
    }
}
