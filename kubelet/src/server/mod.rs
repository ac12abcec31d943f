//! The kubelet's HTTPS server (upstream's port 10250): container logs, exec / attach /
//! port-forward through the runtime's streaming server, Prometheus metrics, the stats summary
//! and health. Plus the plain-HTTP `/healthz` on loopback (upstream's port 10248).
//!
//! Everything the server shows comes from CRI at request time (found by the labels the
//! kubelet puts on sandboxes and containers) and from /proc, so it shares no state with the
//! pod workers.
//!
//! Modules, one job each:
//! - `tls`: serving certificate (given or self-signed) and client-certificate checking.
//! - `lookup`: finding a pod's sandbox and containers by CRI labels.
//! - `logs`: `/containerLogs` (CRI log format parsing, tail/since/limit, follow).
//! - `streaming` + `upgrade_proxy`: `/exec`, `/attach`, `/portForward`.
//! - `metrics`, `stats`, `node_stats`: `/metrics`, `/metrics/resource`, `/stats/summary`.

pub mod authz;
pub mod logs;
pub mod lookup;
pub mod metrics;
pub mod node_stats;
pub mod response;
pub mod stats;
pub mod streaming;
pub mod tls;
pub mod upgrade_proxy;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use self::lookup::PodRef;
use self::response::Body;
use self::streaming::StreamKind;
use crate::cri::Runtime;

/// How the server is set up (upstream flag names in the field docs).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// `--address`: where the HTTPS server listens (upstream default 0.0.0.0).
    pub address: IpAddr,
    /// `--port` (10250). 0 picks a free port (see [`KubeletServer::local_addr`]).
    pub port: u16,
    /// `--healthz-port` (10248): plain HTTP `/healthz` on 127.0.0.1; 0 turns it off.
    pub healthz_port: u16,
    /// `--tls-cert-file` / `--tls-private-key-file`. When both are unset a self-signed
    /// certificate for the node name, the address and loopback is generated at start.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_private_key_file: Option<PathBuf>,
    /// `--client-ca-file`: when set, every request must carry a client certificate signed by
    /// it (401 otherwise). When unset, no client authentication.
    pub client_ca_file: Option<PathBuf>,
    /// The node's name, reported by `/stats/summary` and `kubelet_node_name`.
    pub node_name: String,
    /// `--root-dir` (/var/lib/kubelet): the filesystem whose usage is the node's `fs` stats.
    pub root_dir: PathBuf,
    /// `--authorization-mode=Webhook`: every request is authorized by a SubjectAccessReview
    /// (None: `AlwaysAllow`, upstream's flag default).
    pub authorizer: Option<Arc<authz::WebhookAuthorizer>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 10250,
            healthz_port: 10248,
            tls_cert_file: None,
            tls_private_key_file: None,
            client_ca_file: None,
            node_name: String::new(),
            root_dir: PathBuf::from("/var/lib/kubelet"),
            authorizer: None,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("generating the self-signed serving certificate: {0}")]
    Pki(#[from] common::pki::PkiError),
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// What every request handler can reach.
struct State {
    runtime: Runtime,
    node_name: String,
    root_dir: PathBuf,
    require_client_cert: bool,
    authorizer: Option<Arc<authz::WebhookAuthorizer>>,
    node_cpu: node_stats::CpuSampler,
}

/// A bound, not yet running server (binding first lets callers learn the ports).
pub struct KubeletServer {
    listener: TcpListener,
    healthz: Option<TcpListener>,
    acceptor: TlsAcceptor,
    state: Arc<State>,
}

/// Binds and runs the server until `shutdown` resolves.
pub async fn serve(
    config: ServerConfig,
    runtime: Runtime,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    KubeletServer::bind(config, runtime)
        .await?
        .run(shutdown)
        .await;
    Ok(())
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}

impl KubeletServer {
    /// Loads or generates the TLS material and binds both listeners.
    pub async fn bind(
        config: ServerConfig,
        runtime: Runtime,
    ) -> Result<KubeletServer, ServerError> {
        let tls = tls::server_tls(&config)?;
        let listener = bind(SocketAddr::new(config.address, config.port)).await?;
        let healthz = match config.healthz_port {
            0 => None,
            port => Some(bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)).await?),
        };
        Ok(KubeletServer {
            listener,
            healthz,
            acceptor: TlsAcceptor::from(Arc::new(tls)),
            state: Arc::new(State {
                runtime,
                node_name: config.node_name,
                root_dir: config.root_dir,
                require_client_cert: config.client_ca_file.is_some(),
                authorizer: config.authorizer,
                node_cpu: node_stats::CpuSampler::default(),
            }),
        })
    }

    /// The HTTPS listener's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has a local address")
    }

    /// The plain-HTTP healthz listener's address, when enabled.
    pub fn healthz_addr(&self) -> Option<SocketAddr> {
        self.healthz.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Accepts connections until `shutdown` resolves. Streams already open (log follows,
    /// exec sessions) are not cut; they end with the process.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let KubeletServer {
            listener,
            healthz,
            acceptor,
            state,
        } = self;
        let (stop_healthz, healthz_stopped) = tokio::sync::oneshot::channel::<()>();
        if let Some(healthz) = healthz {
            tokio::spawn(serve_healthz(healthz, healthz_stopped));
        }
        tokio::pin!(shutdown);
        loop {
            let (tcp, peer) = tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
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
                let user = authz::user_from_cert(tls.get_ref().1.peer_certificates());
                let service = service_fn(move |req| {
                    let state = state.clone();
                    let user = user.clone();
                    async move { Ok::<_, Infallible>(handle(state, req, user).await) }
                });
                if let Err(e) = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .with_upgrades()
                    .await
                {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
        let _ = stop_healthz.send(());
    }
}

/// Upstream's healthz port: `/healthz` only, no TLS, loopback only.
async fn serve_healthz(listener: TcpListener, mut stop: tokio::sync::oneshot::Receiver<()>) {
    loop {
        let tcp = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(_) => continue,
            },
        };
        tokio::spawn(async move {
            let service = service_fn(|req: Request<Incoming>| async move {
                Ok::<_, Infallible>(match req.uri().path() {
                    "/healthz" => response::text(StatusCode::OK, "ok"),
                    _ => response::text(StatusCode::NOT_FOUND, "404 page not found"),
                })
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

/// Authentication, authorization, then routing by upstream's paths.
async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
    user: Option<authz::User>,
) -> Response<Body> {
    if state.require_client_cert && user.is_none() {
        return response::text(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    if let Some(authorizer) = &state.authorizer {
        let Some(user) = &user else {
            return response::text(StatusCode::UNAUTHORIZED, "Unauthorized");
        };
        let attrs = authz::attributes(req.method(), req.uri().path());
        match authorizer.allowed(user, &attrs).await {
            Ok(true) => {}
            Ok(false) => {
                return response::text(
                    StatusCode::FORBIDDEN,
                    authz::forbidden_message(user, &attrs),
                )
            }
            Err(e) => {
                tracing::warn!(error = %e, "SubjectAccessReview failed");
                return response::text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!(
                        "Authorization error (user={}, verb={}, resource=nodes, subresource={})",
                        user.name, attrs.verb, attrs.subresource
                    ),
                );
            }
        }
    }
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let is_get = req.method() == Method::GET;
    let is_stream_method = is_get || req.method() == Method::POST;
    let rt = &state.runtime;
    match segments.as_slice() {
        ["healthz"] if is_get => response::text(StatusCode::OK, "ok"),
        ["metrics"] if is_get => metrics::kubelet_metrics(rt, &state.node_name).await,
        ["metrics", "resource"] if is_get => metrics::resource_metrics(rt, &state.node_cpu).await,
        ["stats", "summary"] if is_get => {
            stats::summary(rt, &state.node_name, &state.root_dir, &state.node_cpu).await
        }
        ["containerLogs", ns, pod, container] if is_get => {
            let query = req.uri().query().unwrap_or("");
            logs::container_logs(rt, pod_ref(ns, pod, None), container, query).await
        }
        [kind @ ("exec" | "attach"), ns, pod, rest @ ..] if is_stream_method => {
            let (uid, container) = match rest {
                [container] => (None, *container),
                [uid, container] => (Some(*uid), *container),
                _ => return not_found(),
            };
            let container = container.to_string();
            let kind = if *kind == "exec" {
                StreamKind::Exec { container }
            } else {
                StreamKind::Attach { container }
            };
            let pod = pod_ref(ns, pod, uid);
            streaming::serve(rt, pod, kind, req).await
        }
        ["portForward", ns, pod, rest @ ..] if is_stream_method && rest.len() <= 1 => {
            let pod = pod_ref(ns, pod, rest.first().copied());
            streaming::serve(rt, pod, StreamKind::PortForward, req).await
        }
        ["healthz" | "metrics" | "containerLogs" | "stats", ..]
        | ["exec" | "attach" | "portForward", _, _, ..]
            if !is_get =>
        {
            response::text(StatusCode::METHOD_NOT_ALLOWED, "405: Method Not Allowed")
        }
        _ => not_found(),
    }
}

fn pod_ref(namespace: &str, name: &str, uid: Option<&str>) -> PodRef {
    PodRef {
        namespace: namespace.to_string(),
        name: name.to_string(),
        uid: uid.filter(|u| !u.is_empty()).map(str::to_string),
    }
}

fn not_found() -> Response<Body> {
    response::text(StatusCode::NOT_FOUND, "404 page not found")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Empty};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A runtime client that never connects: enough for endpoints that do not call CRI.
    fn unconnected_runtime() -> Runtime {
        let channel = tonic::transport::Endpoint::from_static("http://cri.invalid")
            .connect_with_connector_lazy(tower::service_fn(|_: tonic::transport::Uri| async {
                Err::<TokioIo<tokio::net::UnixStream>, _>(std::io::Error::other(
                    "no runtime in this test",
                ))
            }));
        Runtime::over(channel)
    }

    /// Trusts whatever certificate the server shows and records it.
    #[derive(Debug)]
    struct AcceptAny(Arc<std::sync::Mutex<Vec<u8>>>);

    impl rustls::client::danger::ServerCertVerifier for AcceptAny {
        fn verify_server_cert(
            &self,
            end_entity: &rustls::pki_types::CertificateDer<'_>,
            _: &[rustls::pki_types::CertificateDer<'_>],
            _: &rustls::pki_types::ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            *self.0.lock().unwrap() = end_entity.to_vec();
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            rustls::crypto::ring::default_provider()
                .signature_verification_algorithms
                .supported_schemes()
        }
    }

    #[tokio::test]
    async fn self_signed_certificate_and_plain_healthz_port() {
        let config = ServerConfig {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            healthz_port: 0,
            node_name: "node-a".into(),
            ..Default::default()
        };
        let mut server = KubeletServer::bind(config, unconnected_runtime())
            .await
            .unwrap();
        // healthz_port 0 means off; bind a free loopback port by hand to exercise it.
        server.healthz = Some(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = server.local_addr();
        let healthz = server.healthz_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));

        let mut plain = tokio::net::TcpStream::connect(healthz).await.unwrap();
        plain
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut reply = String::new();
        plain.read_to_string(&mut reply).await.unwrap();
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        assert!(reply.ends_with("\r\n\r\nok\n"), "{reply}");

        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let client = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(seen.clone())))
        .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(client))
            .connect("node-a".try_into().unwrap(), tcp)
            .await
            .unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        for (path, status, body) in [
            ("/healthz", 200, "ok\n"),
            ("/nothing/here", 404, "404 page not found\n"),
        ] {
            let req = Request::get(path)
                .header("host", "node-a")
                .body(Empty::<bytes::Bytes>::new())
                .unwrap();
            let resp = sender.send_request(req).await.unwrap();
            assert_eq!(resp.status().as_u16(), status, "{path}");
            let got = resp.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(got, body.as_bytes(), "{path}");
        }

        // The generated certificate names the node and loopback.
        let der = seen.lock().unwrap().clone();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let san = cert.subject_alternative_name().unwrap().unwrap().value;
        let names: Vec<String> = san.general_names.iter().map(|n| format!("{n}")).collect();
        assert!(names.iter().any(|n| n.contains("node-a")), "{names:?}");
        assert!(
            names.iter().any(|n| n == "IPAddress(7f:00:00:01)"),
            "{names:?}"
        );

        let _ = stop.send(());
        task.await.unwrap();
    }

    #[tokio::test]
    async fn cert_and_key_must_come_together() {
        let config = ServerConfig {
            port: 0,
            healthz_port: 0,
            tls_cert_file: Some("/nonexistent.crt".into()),
            ..Default::default()
        };
        let err = KubeletServer::bind(config, unconnected_runtime())
            .await
            .err()
            .unwrap();
        assert!(matches!(err, ServerError::Tls(_)), "{err}");
    }
}
