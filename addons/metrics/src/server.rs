//! HTTPS serving: a serving certificate (given, or self-signed at start as upstream's
//! metrics-server does), client certificates verified against the request-header CA and
//! optional (so token callers and health probes get through the handshake), then per request:
//! authentication, authorization, the API.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::BufReader;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, Method, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::api::{self, Route};
use crate::storage::Storage;
use common::delegated_auth::authn::{self, RequestHeaderConfig, User};
use common::delegated_auth::authz::{Attributes, Authorizer};

/// Why the server could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Certificate material was unusable.
    #[error("{0}")]
    Tls(String),
    /// Reading a file failed.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// A self-signed serving certificate for the Service's names (what upstream generates when
/// no `--tls-cert-file` is given; the APIService then sets insecureSkipTLSVerify).
pub fn self_signed(names: &[String]) -> Result<Identity, ServerError> {
    let cert = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    let key = PrivateKeyDer::try_from(cert.signing_key.serialize_der())
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    Ok((vec![cert.cert.der().clone()], key))
}

/// Load a serving certificate and key from PEM files.
pub fn load_identity(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Identity, ServerError> {
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|source| ServerError::Read {
            path: p.display().to_string(),
            source,
        })
    };
    let chain = rustls_pemfile::certs(&mut BufReader::new(read(cert)?.as_slice()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    let key = rustls_pemfile::private_key(&mut BufReader::new(read(key)?.as_slice()))
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .ok_or_else(|| ServerError::Tls(format!("no private key in {}", key.display())))?;
    Ok((chain, key))
}

/// The TLS configuration: serving identity, optional client certificates from `client_ca`.
pub fn tls_config(
    identity: Identity,
    client_ca_pem: &[u8],
) -> Result<rustls::ServerConfig, ServerError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut BufReader::new(client_ca_pem)) {
        let c = c.map_err(|e| ServerError::Tls(e.to_string()))?;
        roots.add(c).map_err(|e| ServerError::Tls(e.to_string()))?;
    }
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    let builder = if roots.is_empty() {
        builder.with_no_client_auth()
    } else {
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .allow_unauthenticated()
            .build()
            .map_err(|e| ServerError::Tls(e.to_string()))?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut cfg = builder
        .with_single_cert(identity.0, identity.1)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// What every request needs.
pub struct State {
    /// API client (as the add-on's ServiceAccount).
    pub client: kube::Client,
    /// Usage.
    pub storage: Arc<Storage>,
    /// Front-proxy settings.
    pub requestheader: RequestHeaderConfig,
    /// Delegated authorization.
    pub authorizer: Authorizer,
    /// Whether at least one scrape cycle has completed (readiness).
    pub ready: std::sync::atomic::AtomicBool,
}

fn reply(code: u16, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(
        serde_json::to_vec(body).unwrap_or_default(),
    )));
    *r.status_mut() =
        http::StatusCode::from_u16(code).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

fn text(code: u16, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = http::StatusCode::from_u16(code).unwrap_or(http::StatusCode::OK);
    r
}

fn failure(code: u16, reason: &str, message: &str) -> Response<Full<Bytes>> {
    reply(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code}),
    )
}

async fn authenticate(
    state: &State,
    cert: Option<&CertificateDer<'_>>,
    req: &Request<Incoming>,
) -> Option<User> {
    if let Some(u) = authn::from_request_headers(&state.requestheader, cert, req.headers()) {
        return Some(u);
    }
    let token = authn::bearer_token(req.headers())?;
    authn::from_token(&state.client, token).await
}

/// Serve one request.
pub async fn handle(
    state: Arc<State>,
    cert: Option<CertificateDer<'static>>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    match path.as_str() {
        "/healthz" | "/livez" => return text(200, "ok"),
        "/readyz" => {
            return if state.ready.load(std::sync::atomic::Ordering::Relaxed) {
                text(200, "ok")
            } else {
                text(500, "no metrics scraped yet")
            }
        }
        _ => {}
    }
    let Some(user) = authenticate(&state, cert.as_ref(), &req).await else {
        return failure(401, "Unauthorized", "Unauthorized");
    };
    let query: BTreeMap<String, String> = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let Some(route) = api::route(&path) else {
        return failure(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
    };
    if req.method() != Method::GET {
        return failure(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        );
    }
    let watch = query.get("watch").is_some_and(|w| w == "true" || w == "1");
    let attrs = match &route {
        Route::Nodes(name) => Attributes::Resource {
            group: "metrics.k8s.io".into(),
            version: "v1beta1".into(),
            verb: verb(name.is_some(), watch),
            resource: "nodes".into(),
            namespace: None,
            name: name.clone(),
        },
        Route::Pods { namespace, name } => Attributes::Resource {
            group: "metrics.k8s.io".into(),
            version: "v1beta1".into(),
            verb: verb(name.is_some(), watch),
            resource: "pods".into(),
            namespace: namespace.clone(),
            name: name.clone(),
        },
        _ => Attributes::NonResource {
            verb: "get".into(),
            path: path.clone(),
        },
    };
    if !state.authorizer.allowed(&user, &attrs).await {
        let message = match &attrs {
            Attributes::Resource { verb, resource, .. } => format!(
                "{resource}.metrics.k8s.io is forbidden: User \"{}\" cannot {verb} resource \"{resource}\" in API group \"metrics.k8s.io\"",
                user.name
            ),
            Attributes::NonResource { path, .. } => {
                format!("forbidden: User \"{}\" cannot get path \"{path}\"", user.name)
            }
        };
        return failure(403, "Forbidden", &message);
    }
    if watch {
        return failure(
            405,
            "MethodNotAllowed",
            "watch is not supported on metrics.k8s.io",
        );
    }
    if let Some(doc) = api::discovery(&route) {
        return reply(200, &doc);
    }
    let (code, body) = match route {
        Route::Nodes(name) => {
            api::nodes(&state.client, &state.storage, name.as_deref(), &query).await
        }
        Route::Pods { namespace, name } => {
            api::pods(
                &state.client,
                &state.storage,
                namespace.as_deref(),
                name.as_deref(),
                &query,
            )
            .await
        }
        _ => (404, json!({})),
    };
    reply(code, &body)
}

fn verb(named: bool, watch: bool) -> String {
    match (named, watch) {
        (_, true) => "watch",
        (true, _) => "get",
        _ => "list",
    }
    .to_string()
}

/// Accept connections until the process ends.
pub async fn serve(listener: TcpListener, tls: rustls::ServerConfig, state: Arc<State>) {
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let state = state.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let cert = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| c.clone().into_owned());
            let service = service_fn(move |req| {
                let state = state.clone();
                let cert = cert.clone();
                async move { Ok::<_, Infallible>(handle(state, cert, req).await) }
            });
            if let Err(e) = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

/// Bind the secure port.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
