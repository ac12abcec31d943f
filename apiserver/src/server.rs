//! The HTTPS server: rustls with optional client certificates (verified against
//! `--client-ca-file` and `--requestheader-client-ca-file`), HTTP/1.1 (with upgrades) and HTTP/2, graceful shutdown.

use std::io::BufReader;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::handlers::{self, ApiServer};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Tls(String),
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

fn read_pem(path: &Path) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|source| ServeError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// The TLS configuration: serving cert, and client certs from the CAs accepted but not required
/// (an anonymous client may still reach the health endpoints). Authentication tells later which
/// of the CAs signed a certificate.
pub fn tls_config(
    cert: &Path,
    key: &Path,
    client_cas: &[&Path],
) -> Result<rustls::ServerConfig, ServeError> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut BufReader::new(read_pem(cert)?.as_slice()))
        .collect::<Result<_, _>>()
        .map_err(|e| ServeError::Tls(format!("parsing {}: {e}", cert.display())))?;
    let key = rustls_pemfile::private_key(&mut BufReader::new(read_pem(key)?.as_slice()))
        .map_err(|e| ServeError::Tls(format!("parsing {}: {e}", key.display())))?
        .ok_or_else(|| ServeError::Tls(format!("no private key in {}", key.display())))?;
    let mut roots = RootCertStore::empty();
    for client_ca in client_cas {
        for ca in rustls_pemfile::certs(&mut BufReader::new(read_pem(client_ca)?.as_slice())) {
            let ca =
                ca.map_err(|e| ServeError::Tls(format!("parsing {}: {e}", client_ca.display())))?;
            roots
                .add(ca)
                .map_err(|e| ServeError::Tls(format!("client CA: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| ServeError::Tls(format!("client verifier: {e}")))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(format!("serving certificate: {e}")))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// Bind the listener.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// Accept connections until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    tls: rustls::ServerConfig,
    api: Arc<ApiServer>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => return,
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
        let api = api.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let user = api.authn.client_cert(tls.get_ref().1.peer_certificates());
            let service = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                let api = api.clone();
                let user = user.clone();
                // The client address, for audit events' sourceIPs.
                req.extensions_mut().insert(handlers::Peer(peer.ip()));
                async move { Ok::<_, std::convert::Infallible>(handlers::handle(api, req, user).await) }
            });
            let mut builder = Builder::new(TokioExecutor::new());
            builder.http2().max_concurrent_streams(1000);
            // With upgrades: exec, attach and port-forward switch protocols (HTTP/1.1 only).
            if let Err(e) = builder
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}
