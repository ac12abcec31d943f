//! The apiserver's connection to kubelets: TLS with the `--kubelet-client-certificate`
//! identity, serving certificates verified against `--kubelet-certificate-authority` when one
//! is given (and not verified otherwise, as upstream does).

use std::io::BufReader;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::config::Config;

/// Why the kubelet client could not be built from the flags.
#[derive(Debug, thiserror::Error)]
pub enum KubeletClientError {
    /// A PEM file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A PEM file held nothing usable.
    #[error("{0}")]
    Pem(String),
    /// rustls refused the material.
    #[error("kubelet client TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// Only one of certificate and key was given.
    #[error("--kubelet-client-certificate and --kubelet-client-key must be given together")]
    HalfIdentity,
}

/// Why dialing a kubelet failed. Displayed the way Go's dialer words it, because upstream
/// puts that text into the Status message (`error dialing backend: dial tcp …`).
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    /// TCP connect failed.
    #[error("dial tcp {addr}: {source}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// TCP connect or TLS handshake took longer than `--kubelet-timeout`.
    #[error("dial tcp {addr}: i/o timeout")]
    Timeout {
        /// `host:port`.
        addr: String,
    },
    /// The TLS handshake failed (e.g. the serving certificate is not trusted).
    #[error("tls: {0}")]
    Tls(std::io::Error),
    /// The host is neither an IP address nor a valid DNS name.
    #[error("invalid kubelet host {0:?}")]
    BadHost(String),
}

/// Dials kubelets over TLS.
#[derive(Clone)]
pub struct KubeletClient {
    /// Verifies serving certificates when a CA was given.
    verified: TlsConnector,
    /// Never verifies (for `insecureSkipTLSVerifyBackend=true`, and the no-CA default).
    insecure: TlsConnector,
    /// `--kubelet-preferred-address-types`.
    pub preferred_address_types: Vec<String>,
    /// `--kubelet-port`.
    pub default_port: u16,
    timeout: Duration,
}

fn read(path: &Path) -> Result<Vec<u8>, KubeletClientError> {
    std::fs::read(path).map_err(|source| KubeletClientError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, KubeletClientError> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut BufReader::new(read(path)?.as_slice()))
        .collect::<Result<_, _>>()
        .map_err(|e| KubeletClientError::Pem(format!("parsing {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(KubeletClientError::Pem(format!(
            "no certificate in {}",
            path.display()
        )));
    }
    Ok(certs)
}

fn key(path: &Path) -> Result<PrivateKeyDer<'static>, KubeletClientError> {
    rustls_pemfile::private_key(&mut BufReader::new(read(path)?.as_slice()))
        .map_err(|e| KubeletClientError::Pem(format!("parsing {}: {e}", path.display())))?
        .ok_or_else(|| KubeletClientError::Pem(format!("no private key in {}", path.display())))
}

impl KubeletClient {
    /// Build the client from the `--kubelet-*` flags.
    pub fn from_config(config: &Config) -> Result<Self, KubeletClientError> {
        let identity = match (
            &config.kubelet_client_certificate,
            &config.kubelet_client_key,
        ) {
            (Some(c), Some(k)) => Some((certs(c)?, key(k)?)),
            (None, None) => None,
            _ => return Err(KubeletClientError::HalfIdentity),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let insecure = client_config(
            provider.clone(),
            // Without --kubelet-certificate-authority upstream does not verify kubelets either.
            Arc::new(common::tls::AcceptAnyServerCert(provider.clone())),
            identity
                .as_ref()
                .map(|(chain, key)| (chain.clone(), key.clone_key())),
        )?;
        let verified = match &config.kubelet_certificate_authority {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for c in certs(ca)? {
                    roots.add(c)?;
                }
                let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider.clone(),
                )
                .build()
                .map_err(|e| KubeletClientError::Pem(format!("kubelet CA: {e}")))?;
                client_config(provider, verifier, identity)?
            }
            None => insecure.clone(),
        };
        Ok(Self {
            verified: TlsConnector::from(Arc::new(verified)),
            insecure: TlsConnector::from(Arc::new(insecure)),
            preferred_address_types: config.kubelet_preferred_address_types.clone(),
            default_port: config.kubelet_port,
            timeout: config.kubelet_timeout,
        })
    }

    /// Open a TLS connection to a kubelet. `skip_verify` ignores `--kubelet-certificate-authority`
    /// (`insecureSkipTLSVerifyBackend`).
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
        skip_verify: bool,
    ) -> Result<TlsStream<TcpStream>, DialError> {
        let addr = join_host_port(host, port);
        let server_name = match host.parse::<IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::try_from(host)
                .map_err(|_| DialError::BadHost(host.to_string()))?
                .to_owned(),
        };
        let connector = if skip_verify {
            &self.insecure
        } else {
            &self.verified
        };
        let dial = async {
            let tcp = TcpStream::connect(&addr)
                .await
                .map_err(|source| DialError::Connect {
                    addr: addr.clone(),
                    source,
                })?;
            let _ = tcp.set_nodelay(true);
            connector
                .connect(server_name, tcp)
                .await
                .map_err(DialError::Tls)
        };
        tokio::time::timeout(self.timeout, dial)
            .await
            .map_err(|_| DialError::Timeout { addr: addr.clone() })?
    }
}

/// `host:port`, with IPv6 addresses in brackets (Go's `net.JoinHostPort`).
pub fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn client_config(
    provider: Arc<CryptoProvider>,
    verifier: Arc<dyn ServerCertVerifier>,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<ClientConfig, KubeletClientError> {
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut cfg = match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key)?,
        None => builder.with_no_client_auth(),
    };
    // HTTP/1.1 only: exec, attach and port-forward are HTTP/1.1 upgrades.
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}
