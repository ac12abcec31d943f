//! The aggregation layer's connection to extension apiservers: TLS that presents the
//! `--proxy-client-cert-file` identity and verifies the backend against the APIService's
//! `caBundle` (as `<service>.<namespace>.svc`, the name upstream checks) unless
//! `insecureSkipTLSVerify` is set; then one HTTP/1.1 request per connection.

use std::collections::HashMap;
use std::io::BufReader;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::{Body as HttpBody, Incoming};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// How long connecting (TCP and TLS) to a backend may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the proxy identity could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// A PEM file could not be read or held nothing usable.
    #[error("{0}")]
    Pem(String),
    /// Only one of certificate and key was given.
    #[error("--proxy-client-cert-file and --proxy-client-key-file must be given together")]
    HalfIdentity,
}

/// Why a request to a backend failed; displayed as Go's dialer words it, since the text ends
/// up in APIService conditions.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// TCP connect failed or timed out.
    #[error("dial tcp {addr}: {reason}")]
    Dial {
        /// `ip:port`.
        addr: SocketAddr,
        /// What went wrong.
        reason: String,
    },
    /// The TLS handshake failed (untrusted certificate, wrong name …).
    #[error("tls: {0}")]
    Tls(String),
    /// The caBundle holds no usable certificate.
    #[error("invalid caBundle: {0}")]
    CaBundle(String),
    /// The HTTP exchange failed.
    #[error("{0}")]
    Http(String),
}

/// What a backend is trusted as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Trust {
    /// `insecureSkipTLSVerify: true`.
    Insecure,
    /// `caBundle` (PEM bytes; empty when unset, which trusts nothing).
    CaBundle(Vec<u8>),
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// Dials extension apiservers. Client configs are built once per distinct trust.
pub struct Transport {
    identity: Option<Identity>,
    configs: Mutex<HashMap<Trust, Arc<ClientConfig>>>,
}

fn read_pem_file(path: &std::path::Path) -> Result<Vec<u8>, TransportError> {
    std::fs::read(path).map_err(|e| TransportError::Pem(format!("reading {}: {e}", path.display())))
}

/// Every certificate in a PEM document.
pub fn parse_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut BufReader::new(pem))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no certificate found".into());
    }
    Ok(certs)
}

impl Transport {
    /// Load the proxy client identity (none when the flags are unset: backends then see an
    /// anonymous TLS client and will refuse the request headers).
    pub fn new(
        cert: Option<&std::path::Path>,
        key: Option<&std::path::Path>,
    ) -> Result<Self, TransportError> {
        let identity = match (cert, key) {
            (Some(c), Some(k)) => {
                let chain = parse_certs(&read_pem_file(c)?)
                    .map_err(|e| TransportError::Pem(format!("{}: {e}", c.display())))?;
                let key =
                    rustls_pemfile::private_key(&mut BufReader::new(read_pem_file(k)?.as_slice()))
                        .map_err(|e| TransportError::Pem(format!("{}: {e}", k.display())))?
                        .ok_or_else(|| {
                            TransportError::Pem(format!("no private key in {}", k.display()))
                        })?;
                Some((chain, key))
            }
            (None, None) => None,
            _ => return Err(TransportError::HalfIdentity),
        };
        Ok(Self {
            identity,
            configs: Mutex::new(HashMap::new()),
        })
    }

    fn config(&self, trust: &Trust) -> Result<Arc<ClientConfig>, BackendError> {
        let mut configs = self.configs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = configs.get(trust) {
            return Ok(c.clone());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| BackendError::Tls(e.to_string()))?;
        let builder = match trust {
            Trust::Insecure => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(common::tls::AcceptAnyServerCert(
                    provider,
                ))),
            Trust::CaBundle(pem) => {
                let mut roots = RootCertStore::empty();
                if !pem.is_empty() {
                    for c in parse_certs(pem).map_err(BackendError::CaBundle)? {
                        roots
                            .add(c)
                            .map_err(|e| BackendError::CaBundle(e.to_string()))?;
                    }
                }
                builder.with_root_certificates(roots)
            }
        };
        let mut cfg = match &self.identity {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| BackendError::Tls(e.to_string()))?,
            None => builder.with_no_client_auth(),
        };
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        let cfg = Arc::new(cfg);
        configs.insert(trust.clone(), cfg.clone());
        Ok(cfg)
    }

    /// Send one request to `addr`, verifying the backend as `server_name`; the response
    /// body streams from the connection as the caller reads it.
    pub async fn send<B>(
        &self,
        addr: SocketAddr,
        server_name: &str,
        trust: &Trust,
        req: Request<B>,
    ) -> Result<Response<Incoming>, BackendError>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let connector = TlsConnector::from(self.config(trust)?);
        let name = ServerName::try_from(server_name.to_string())
            .map_err(|e| BackendError::Tls(e.to_string()))?;
        let dial = async {
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(|e| BackendError::Dial {
                    addr,
                    reason: e.to_string(),
                })?;
            let _ = tcp.set_nodelay(true);
            connector
                .connect(name, tcp)
                .await
                .map_err(|e| BackendError::Tls(e.to_string()))
        };
        let tls = tokio::time::timeout(DIAL_TIMEOUT, dial)
            .await
            .map_err(|_| BackendError::Dial {
                addr,
                reason: "i/o timeout".into(),
            })??;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| BackendError::Http(e.to_string()))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "extension apiserver connection ended with an error");
            }
        });
        sender
            .send_request(req)
            .await
            .map_err(|e| BackendError::Http(e.to_string()))
    }
}
