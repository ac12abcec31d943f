//! Upstream's delegated authentication and authorization flags, and [`DelegatingAuth`], the
//! chain they configure for every request to a secure port:
//!
//! 1. a client certificate signed by the request-header CA (with an allowed common name)
//!    asserts the user in `X-Remote-*` headers;
//! 2. a client certificate signed by the client CA (`--client-ca-file`, or the
//!    `client-ca-file` of `kube-system/extension-apiserver-authentication` unless
//!    `--authentication-skip-lookup`) is the user it names;
//! 3. a bearer token is checked with a TokenReview (through `--authentication-kubeconfig`),
//!    answers cached for `--authentication-token-webhook-cache-ttl`; a token the review does
//!    not accept is a 401;
//! 4. no credentials: `system:anonymous`.
//!
//! Then authorization: `--authorization-always-allow-paths` (default `/healthz`, `/readyz`,
//! `/livez`; a trailing `*` matches a prefix) and the group `system:masters` pass; anything
//! else is a SubjectAccessReview (through `--authorization-kubeconfig`) for the path and
//! the lower-case HTTP verb. Without that kubeconfig nothing else is allowed, as upstream.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::HeaderMap;
use rustls::pki_types::CertificateDer;
use rustls::server::danger::ClientCertVerifier;

use super::authn::{self, RequestHeaderConfig, User};
use super::authz::{Attributes, Authorizer};
use super::client_verifier::{chain_verifies, verifier_for, AnyOf, CaError};

/// The flags, named and defaulted as upstream's (flatten them into a daemon's flags).
#[derive(Debug, Clone, clap::Args)]
pub struct DelegatingAuthFlags {
    /// Kubeconfig with rights to create tokenreviews.authentication.k8s.io (and read the
    /// extension-apiserver-authentication ConfigMap).
    #[arg(long)]
    pub authentication_kubeconfig: Option<PathBuf>,
    /// Do not look up missing authentication settings in the cluster.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value_t = false, action = clap::ArgAction::Set)]
    pub authentication_skip_lookup: bool,
    /// How long TokenReview answers are cached.
    #[arg(long, default_value = "10s", value_parser = crate::duration::parse_flag)]
    pub authentication_token_webhook_cache_ttl: Duration,
    /// Carry on (anonymous only) when the in-cluster lookup fails.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value_t = true, action = clap::ArgAction::Set)]
    pub authentication_tolerate_lookup_failure: bool,
    /// CA bundle for client certificates.
    #[arg(long)]
    pub client_ca_file: Option<PathBuf>,
    /// Common names allowed to assert users in request headers (empty: any from the CA).
    #[arg(long, value_delimiter = ',')]
    pub requestheader_allowed_names: Vec<String>,
    /// CA bundle for front-proxy client certificates.
    #[arg(long)]
    pub requestheader_client_ca_file: Option<PathBuf>,
    /// Request header prefixes for extra attributes.
    #[arg(long, value_delimiter = ',', default_value = "x-remote-extra-")]
    pub requestheader_extra_headers_prefix: Vec<String>,
    /// Request headers for groups.
    #[arg(long, value_delimiter = ',', default_value = "x-remote-group")]
    pub requestheader_group_headers: Vec<String>,
    /// Request headers for the user name.
    #[arg(long, value_delimiter = ',', default_value = "x-remote-user")]
    pub requestheader_username_headers: Vec<String>,
    /// Request headers for the UID.
    #[arg(long, value_delimiter = ',')]
    pub requestheader_uid_headers: Vec<String>,
    /// Paths anyone may request.
    #[arg(long, value_delimiter = ',', default_value = "/healthz,/readyz,/livez")]
    pub authorization_always_allow_paths: Vec<String>,
    /// Kubeconfig with rights to create subjectaccessreviews.authorization.k8s.io.
    #[arg(long)]
    pub authorization_kubeconfig: Option<PathBuf>,
    /// How long allowed answers are cached.
    #[arg(long, default_value = "10s", value_parser = crate::duration::parse_flag)]
    pub authorization_webhook_cache_authorized_ttl: Duration,
    /// How long denied answers are cached.
    #[arg(long, default_value = "10s", value_parser = crate::duration::parse_flag)]
    pub authorization_webhook_cache_unauthorized_ttl: Duration,
}

/// Why delegated authentication could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A kubeconfig was unusable.
    #[error("loading {path}: {message}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A CA bundle was unusable.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// The in-cluster lookup failed and `--authentication-tolerate-lookup-failure=false`.
    #[error("looking up the authentication configuration: {0}")]
    Lookup(String),
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// 401: credentials were offered and not accepted.
    Unauthorized,
    /// 403: the user may not do this; the message is upstream's.
    Forbidden(String),
}

fn read(path: &Path) -> Result<Vec<u8>, SetupError> {
    std::fs::read(path).map_err(|source| SetupError::Read {
        path: path.display().to_string(),
        source,
    })
}

async fn client_from(path: &Path) -> Result<kube::Client, SetupError> {
    let err = |message: String| SetupError::Kubeconfig {
        path: path.display().to_string(),
        message,
    };
    let kc = kube::config::Kubeconfig::read_from(path).map_err(|e| err(e.to_string()))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .map_err(|e| err(e.to_string()))?;
    kube::Client::try_from(config).map_err(|e| err(e.to_string()))
}

type TokenCache = Mutex<HashMap<String, (Option<User>, Instant)>>;

/// The configured chain; see the module doc.
pub struct DelegatingAuth {
    token_client: Option<kube::Client>,
    token_ttl: Duration,
    tokens: TokenCache,
    client_ca: Option<Arc<dyn ClientCertVerifier>>,
    requestheader_ca: Option<Arc<dyn ClientCertVerifier>>,
    requestheader: RequestHeaderConfig,
    always_allow_paths: Vec<String>,
    authorizer: Option<Authorizer>,
}

impl DelegatingAuth {
    /// Build the chain from `flags`, reading files and, unless skipped, the cluster's
    /// `extension-apiserver-authentication` ConfigMap.
    pub async fn from_flags(flags: &DelegatingAuthFlags) -> Result<DelegatingAuth, SetupError> {
        let token_client = match &flags.authentication_kubeconfig {
            Some(p) => Some(client_from(p).await?),
            None => {
                tracing::warn!("no --authentication-kubeconfig: token and client certificate authentication (without --client-ca-file) will not work");
                None
            }
        };
        let mut client_ca_pem = match &flags.client_ca_file {
            Some(p) => read(p)?,
            None => Vec::new(),
        };
        let mut requestheader = RequestHeaderConfig {
            client_ca_pem: match &flags.requestheader_client_ca_file {
                Some(p) => read(p)?,
                None => Vec::new(),
            },
            allowed_names: flags.requestheader_allowed_names.clone(),
            username_headers: flags.requestheader_username_headers.clone(),
            uid_headers: flags.requestheader_uid_headers.clone(),
            group_headers: flags.requestheader_group_headers.clone(),
            extra_headers_prefix: flags.requestheader_extra_headers_prefix.clone(),
        };
        let lookup = !flags.authentication_skip_lookup
            && (client_ca_pem.is_empty() || requestheader.client_ca_pem.is_empty());
        if let (true, Some(client)) = (lookup, &token_client) {
            match lookup_cluster(client).await {
                Ok((client_ca, cluster_rh)) => {
                    if client_ca_pem.is_empty() {
                        client_ca_pem = client_ca;
                    }
                    if requestheader.client_ca_pem.is_empty() {
                        if let Some(rh) = cluster_rh {
                            requestheader = rh;
                        }
                    }
                }
                Err(e) if flags.authentication_tolerate_lookup_failure => {
                    tracing::warn!(error = %e, "continuing without the cluster's authentication configuration")
                }
                Err(e) => return Err(SetupError::Lookup(e)),
            }
        }
        let authorizer = match &flags.authorization_kubeconfig {
            Some(p) => Some(Authorizer::with_ttls(
                client_from(p).await?,
                flags.authorization_webhook_cache_authorized_ttl,
                flags.authorization_webhook_cache_unauthorized_ttl,
            )),
            None => {
                tracing::warn!("no --authorization-kubeconfig: only --authorization-always-allow-paths and system:masters are allowed");
                None
            }
        };
        Ok(DelegatingAuth {
            token_client,
            token_ttl: flags.authentication_token_webhook_cache_ttl,
            tokens: Mutex::default(),
            client_ca: verifier_for(&client_ca_pem)?,
            requestheader_ca: verifier_for(&requestheader.client_ca_pem)?,
            requestheader,
            always_allow_paths: flags.authorization_always_allow_paths.clone(),
            authorizer,
        })
    }

    /// The TLS client-certificate verifier: optional certificates from either CA; `None`
    /// when neither is configured (no certificate is asked for).
    pub fn client_cert_verifier(&self) -> Option<Arc<dyn ClientCertVerifier>> {
        let verifiers: Vec<_> = [&self.client_ca, &self.requestheader_ca]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        (!verifiers.is_empty()).then(|| Arc::new(AnyOf::new(verifiers)) as Arc<_>)
    }

    /// Who sent the request (`peer` is the verified client chain, leaf first).
    pub async fn authenticate(
        &self,
        peer: &[CertificateDer<'static>],
        headers: &HeaderMap,
    ) -> Result<User, Denied> {
        if let Some(v) = &self.requestheader_ca {
            if chain_verifies(v.as_ref(), peer) {
                if let Some(u) =
                    authn::from_request_headers(&self.requestheader, peer.first(), headers)
                {
                    return Ok(u);
                }
            }
        }
        if let (Some(v), Some(leaf)) = (&self.client_ca, peer.first()) {
            if chain_verifies(v.as_ref(), peer) {
                if let Some(u) = authn::from_client_cert(leaf) {
                    return Ok(u);
                }
            }
        }
        if let Some(token) = authn::bearer_token(headers) {
            return self.review_token(token).await.ok_or(Denied::Unauthorized);
        }
        Ok(authn::anonymous())
    }

    async fn review_token(&self, token: &str) -> Option<User> {
        let cached = self
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .filter(|(_, at)| at.elapsed() < self.token_ttl)
            .map(|(u, _)| u.clone());
        if let Some(user) = cached {
            return user;
        }
        let user = match &self.token_client {
            Some(client) => authn::from_token(client, token).await,
            None => None,
        };
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.retain(|_, (_, at)| at.elapsed() < self.token_ttl);
        tokens.insert(token.to_string(), (user.clone(), Instant::now()));
        user
    }

    /// Whether `user` may send `method` to `path` (a non-resource request).
    pub async fn authorize(
        &self,
        user: &User,
        method: &http::Method,
        path: &str,
    ) -> Result<(), Denied> {
        if path_always_allowed(&self.always_allow_paths, path)
            || user.groups.iter().any(|g| g == "system:masters")
        {
            return Ok(());
        }
        let verb = method.as_str().to_ascii_lowercase();
        let attrs = Attributes::NonResource {
            verb: verb.clone(),
            path: path.to_string(),
        };
        let allowed = match &self.authorizer {
            Some(a) => a.allowed(user, &attrs).await,
            None => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(Denied::Forbidden(format!(
                "forbidden: User \"{}\" cannot {verb} path \"{path}\"",
                user.name
            )))
        }
    }

    /// Authenticate, then authorize.
    pub async fn check(
        &self,
        peer: &[CertificateDer<'static>],
        method: &http::Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<User, Denied> {
        // Upstream authenticates every request, so a bad token is a 401 even on an
        // always-allowed path.
        let user = self.authenticate(peer, headers).await?;
        self.authorize(&user, method, path).await?;
        Ok(user)
    }
}

/// Upstream's always-allow path match: exact, or a prefix for an entry ending in `*`.
pub fn path_always_allowed(allowed: &[String], path: &str) -> bool {
    allowed.iter().any(|a| match a.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => a == path,
    })
}

/// The client CA and request-header settings the apiserver publishes.
async fn lookup_cluster(
    client: &kube::Client,
) -> Result<(Vec<u8>, Option<RequestHeaderConfig>), String> {
    use k8s_openapi::api::core::v1::ConfigMap;
    let cm = kube::Api::<ConfigMap>::namespaced(client.clone(), "kube-system")
        .get("extension-apiserver-authentication")
        .await
        .map_err(|e| e.to_string())?;
    let data = cm.data.unwrap_or_default();
    let client_ca = data
        .get("client-ca-file")
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_default();
    let requestheader = RequestHeaderConfig::from_cluster(client).await.ok();
    Ok((client_ca, requestheader))
}

/// A 401 or 403 as a Kubernetes `Status` JSON body: (code, body).
pub fn status_body(denied: &Denied) -> (u16, String) {
    let (code, reason, message) = match denied {
        Denied::Unauthorized => (401, "Unauthorized", "Unauthorized".to_string()),
        Denied::Forbidden(m) => (403, "Forbidden", m.clone()),
    };
    let body = serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "details": {}, "code": code});
    (code, body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_allow_paths_match_exactly_or_by_prefix() {
        let allowed: Vec<String> = vec!["/healthz".into(), "/debug/*".into()];
        assert!(path_always_allowed(&allowed, "/healthz"));
        assert!(!path_always_allowed(&allowed, "/healthz/extra"));
        assert!(path_always_allowed(&allowed, "/debug/pprof"));
        assert!(!path_always_allowed(&allowed, "/metrics"));
    }

    #[test]
    fn flags_default_as_upstream() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct F {
            #[command(flatten)]
            auth: DelegatingAuthFlags,
        }
        let f = F::parse_from(["x"]);
        assert_eq!(
            f.auth.authorization_always_allow_paths,
            ["/healthz", "/readyz", "/livez"]
        );
        assert!(f.auth.authentication_tolerate_lookup_failure);
        assert_eq!(
            f.auth.authentication_token_webhook_cache_ttl,
            Duration::from_secs(10)
        );
        let f = F::parse_from([
            "x",
            "--authentication-skip-lookup",
            "--authentication-tolerate-lookup-failure=false",
            "--authorization-always-allow-paths=/metrics,/healthz",
        ]);
        assert!(f.auth.authentication_skip_lookup);
        assert!(!f.auth.authentication_tolerate_lookup_failure);
        assert_eq!(
            f.auth.authorization_always_allow_paths,
            ["/metrics", "/healthz"]
        );
    }

    #[tokio::test]
    async fn without_kubeconfigs_only_allowed_paths_and_masters_pass() {
        let auth = DelegatingAuth {
            token_client: None,
            token_ttl: Duration::from_secs(10),
            tokens: Mutex::default(),
            client_ca: None,
            requestheader_ca: None,
            requestheader: RequestHeaderConfig::default(),
            always_allow_paths: vec!["/healthz".into()],
            authorizer: None,
        };
        let get = http::Method::GET;
        let mut headers = HeaderMap::new();
        let anon = auth.check(&[], &get, "/healthz", &headers).await;
        assert_eq!(anon.map(|u| u.name), Ok("system:anonymous".to_string()));
        assert_eq!(
            auth.check(&[], &get, "/metrics", &headers).await,
            Err(Denied::Forbidden(
                "forbidden: User \"system:anonymous\" cannot get path \"/metrics\"".into()
            ))
        );
        // A token nobody can review is not accepted.
        headers.insert(
            http::header::AUTHORIZATION,
            "Bearer x".parse().expect("value"),
        );
        assert_eq!(
            auth.check(&[], &get, "/healthz", &headers).await,
            Err(Denied::Unauthorized)
        );
        let master = User {
            name: "admin".into(),
            groups: vec!["system:masters".into()],
            ..Default::default()
        };
        assert_eq!(auth.authorize(&master, &get, "/metrics").await, Ok(()));
    }
}
