//! Authentication: who is making a request.
//!
//! The chain, as upstream's union authenticator runs it: with
//! `--requestheader-client-ca-file`, a front proxy's certificate and the user it names in
//! `X-Remote-*` headers ([`requestheader`]); an x509 client certificate
//! ([`x509`], CN = user, O = groups; the chain was verified by rustls against
//! `--client-ca-file`), then an `Authorization: Bearer` service account token
//! ([`service_account`], JWTs signed with `--service-account-signing-key-file`), then, with
//! `--enable-bootstrap-token-auth`, a bootstrap token ([`bootstrap_token`]). A request with
//! no credentials is anonymous (the caller decides what anonymous may do); a request whose
//! credentials are all refused is `401 Unauthorized`. Once a request is authenticated, its
//! `Authorization` and request-header identity headers are removed, as upstream does, so no
//! backend it is proxied to sees them.
//!
//! Also here: the endpoints that belong to authentication — TokenRequest
//! (`serviceaccounts/token`, [`token_request`]), TokenReview and SelfSubjectReview
//! ([`reviews`]) and the OIDC discovery documents for the token issuer ([`oidc`]).

pub mod bootstrap_token;
pub mod impersonation;
pub mod jwt;
pub mod keys;
pub mod oidc;
pub mod requestheader;
pub mod reviews;
pub mod service_account;
pub mod token_request;
pub mod x509;

use std::collections::BTreeMap;
use std::sync::Arc;

use http::HeaderMap;
use rustls::pki_types::CertificateDer;
use rustls::server::danger::ClientCertVerifier;
use serde_json::{json, Value};

pub use requestheader::{FrontProxy, RequestHeaderAuthenticator};
pub use service_account::ServiceAccountTokens;
pub use x509::CertUser;

use crate::config::Config;
use crate::errors::ApiError;
use crate::store::Store;

/// The group every authenticated user is in.
pub const AUTHENTICATED: &str = "system:authenticated";

/// Who is making a request (upstream's `user.Info`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    /// User name.
    pub name: String,
    /// A unique, stable ID when the authenticator knows one (a service account's UID).
    pub uid: String,
    /// Groups, including `system:authenticated`.
    pub groups: Vec<String>,
    /// Extra attributes (`authentication.kubernetes.io/pod-name` …).
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// A user the server itself acts as.
    pub fn system(name: &str, groups: &[&str]) -> Self {
        Self {
            name: name.to_string(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            ..Default::default()
        }
    }

    /// The `authentication.k8s.io/v1 UserInfo` JSON form (TokenReview, SelfSubjectReview).
    pub fn to_json(&self) -> Value {
        let mut v = json!({"username": self.name, "groups": self.groups});
        if !self.uid.is_empty() {
            v["uid"] = json!(self.uid);
        }
        if !self.extra.is_empty() {
            v["extra"] = json!(self.extra);
        }
        v
    }
}

/// The authenticators a server was configured with.
#[derive(Debug, Default)]
pub struct Authenticator {
    /// Service account tokens; `None` when no service account keys were given.
    pub service_accounts: Option<ServiceAccountTokens>,
    /// Whether bootstrap tokens authenticate (`--enable-bootstrap-token-auth`).
    pub bootstrap_tokens: bool,
    /// Front proxies (`--requestheader-client-ca-file`); `None` when not configured.
    pub request_header: Option<RequestHeaderAuthenticator>,
    /// The client CA, to tell its certificates from the request-header CA's once the TLS layer
    /// accepts both; `None` when the TLS layer accepts the client CA only.
    pub client_ca: Option<Arc<dyn ClientCertVerifier>>,
    /// The identity headers removed from every authenticated request: upstream's standard
    /// names, and the configured ones when a request-header CA is set.
    pub identity_headers: requestheader::HeaderNames,
}

/// Why the authenticators could not be set up from the flags.
#[derive(Debug, thiserror::Error)]
pub enum AuthnConfigError {
    /// A key file could not be used.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// A flag combination upstream refuses too.
    #[error("{0}")]
    Flags(String),
    /// A CA bundle could not be used.
    #[error("loading the CA bundle {path}: {reason}")]
    Ca {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl Authenticator {
    /// Build from the `--service-account-*`, `--api-audiences` and `--requestheader-*`
    /// flags.
    pub fn from_config(config: &Config) -> Result<Self, AuthnConfigError> {
        let request_header = RequestHeaderAuthenticator::from_config(config)?;
        let mut identity_headers = requestheader::HeaderNames::standard();
        let mut client_ca = None;
        if let Some(rh) = &request_header {
            identity_headers = identity_headers.union(&rh.names);
            client_ca = Some(requestheader::ca_verifier(&config.client_ca_file)?);
        }
        Ok(Authenticator {
            service_accounts: ServiceAccountTokens::from_config(config)?,
            bootstrap_tokens: config.enable_bootstrap_token_auth,
            request_header,
            client_ca,
            identity_headers,
        })
    }

    /// What a connection's client certificate chain (leaf first, verified by the TLS layer
    /// against the client CA or the request-header CA) says, read once per connection.
    pub fn client_cert(&self, chain: Option<&[CertificateDer<'static>]>) -> Option<CertUser> {
        let mut cert = x509::from_client_cert(chain)?;
        let (Some(rh), Some(chain)) = (&self.request_header, chain) else {
            return Some(cert);
        };
        cert.front_proxy = rh.classify(chain, &cert.user.name);
        cert.client_ca = self
            .client_ca
            .as_ref()
            .is_none_or(|ca| requestheader::verifies(ca.as_ref(), chain));
        Some(cert)
    }
}

/// Authenticate one request: a front proxy's headers first, then a valid client certificate,
/// then a bearer token. `Ok(None)`: no credentials at all (anonymous). `Err`: credentials
/// were presented and refused (401). On success the credentials and identity headers are
/// removed from `headers`.
pub async fn authenticate(
    authn: &Authenticator,
    store: &Store,
    headers: &mut HeaderMap,
    cert: Option<&CertUser>,
) -> Result<Option<UserInfo>, ApiError> {
    let user = authenticate_headers(authn, store, headers, cert).await?;
    if user.is_some() {
        headers.remove(http::header::AUTHORIZATION);
        authn.identity_headers.clear(headers);
    }
    Ok(user)
}

/// The front proxy's user, when the connection's certificate is an allowed front proxy's and
/// a user name header has a value. A request-header CA certificate that may not act as a
/// front proxy is no identity either: like upstream's union authenticator, the request is then
/// refused (401) unless a later authenticator (a bearer token) accepts it.
fn front_proxy_user(
    authn: &Authenticator,
    headers: &HeaderMap,
    cert: &CertUser,
    now: i64,
) -> Option<UserInfo> {
    let (Some(rh), Some(judged)) = (&authn.request_header, &cert.front_proxy) else {
        return None;
    };
    if !cert.valid_at(now) {
        tracing::debug!("front-proxy certificate expired or not yet valid");
        return None;
    }
    if let FrontProxy::NameNotAllowed(cn) = judged {
        tracing::debug!(cn = %cn, "front-proxy certificate's common name is not in --requestheader-allowed-names");
        return None;
    }
    requestheader::user_from_headers(&rh.names, headers)
}

async fn authenticate_headers(
    authn: &Authenticator,
    store: &Store,
    headers: &HeaderMap,
    cert: Option<&CertUser>,
) -> Result<Option<UserInfo>, ApiError> {
    let now = chrono::Utc::now().timestamp();
    if let Some(cert) = cert {
        if let Some(user) = front_proxy_user(authn, headers, cert, now) {
            return Ok(Some(user));
        }
        if let Some(user) = cert.user_at(now) {
            return Ok(Some(user.clone()));
        }
    }
    let bearer = match bearer_token(headers) {
        Ok(b) => b,
        Err(why) => {
            tracing::debug!(reason = why, "refused the Authorization header");
            return Err(ApiError::unauthorized());
        }
    };
    if let Some(token) = bearer {
        return match authenticate_token(authn, store, token, now).await {
            Some(user) => Ok(Some(user)),
            None => Err(ApiError::unauthorized()),
        };
    }
    if cert.is_some() {
        // A certificate outside its validity window, or a request-header CA's certificate
        // that named no user (or may not), and nothing else to go on.
        tracing::debug!("client certificate refused");
        return Err(ApiError::unauthorized());
    }
    Ok(None)
}

/// The token authenticators in upstream's order: service account tokens, then bootstrap
/// tokens. `None` when none of them accepts the token.
pub async fn authenticate_token(
    authn: &Authenticator,
    store: &Store,
    token: &str,
    now: i64,
) -> Option<UserInfo> {
    if let Some(sa) = &authn.service_accounts {
        match sa.authenticate(store, token, None, now).await {
            Ok(auth) => return Some(auth.user),
            Err(e) => tracing::debug!(error = %e, "service account token refused"),
        }
    }
    if authn.bootstrap_tokens {
        match bootstrap_token::authenticate(store, token, now) {
            Some(Ok(user)) => return Some(user),
            Some(Err(e)) => tracing::debug!(error = %e, "bootstrap token refused"),
            None => {}
        }
    }
    None
}

/// The token of an `Authorization: Bearer <token>` header. A header of another scheme is not
/// ours to judge (`Ok(None)`); a malformed bearer header is an error.
fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, &'static str> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "Authorization header is not ASCII")?
        .trim();
    let Some((scheme, token)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err("empty bearer token");
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(auth).expect("header"),
        );
        h
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        assert_eq!(bearer_token(&headers("Bearer abc")), Ok(Some("abc")));
        assert_eq!(bearer_token(&headers("bearer  abc ")), Ok(Some("abc")));
        assert_eq!(bearer_token(&headers("Basic dXNlcg==")), Ok(None));
        assert!(bearer_token(&headers("Bearer ")).is_ok_and(|t| t.is_none()));
        assert_eq!(bearer_token(&HeaderMap::new()), Ok(None));
    }

    #[test]
    fn user_info_json_has_upstream_field_names() {
        let mut u = UserInfo::system("system:serviceaccount:a:b", &["system:serviceaccounts"]);
        u.uid = "u-1".into();
        u.extra.insert(
            "authentication.kubernetes.io/pod-name".into(),
            vec!["p".into()],
        );
        let j = u.to_json();
        assert_eq!(j["username"], "system:serviceaccount:a:b");
        assert_eq!(j["uid"], "u-1");
        assert_eq!(j["groups"][0], "system:serviceaccounts");
        assert_eq!(j["extra"]["authentication.kubernetes.io/pod-name"][0], "p");
        assert!(UserInfo::system("x", &[]).to_json().get("uid").is_none());
    }
}
