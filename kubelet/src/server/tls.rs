//! The serving TLS configuration: `--tls-cert-file`/`--tls-private-key-file`, or a
//! self-signed certificate generated at start (as upstream does when both are unset), and
//! client certificates checked against `--client-ca-file`.

use std::io::BufReader;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;

use super::{ServerConfig, ServerError};

/// Builds the rustls configuration. Client certificates are requested but not required at
/// the TLS layer, so that a request without one gets an HTTP 401 instead of a failed
/// handshake; a certificate that is presented must chain to the client CA.
pub fn server_tls(config: &ServerConfig) -> Result<rustls::ServerConfig, ServerError> {
    let (certs, key) = match (&config.tls_cert_file, &config.tls_private_key_file) {
        (Some(cert), Some(key)) => (read_certs(cert)?, read_key(key)?),
        (None, None) => self_signed(config)?,
        _ => {
            return Err(ServerError::Tls(
                "--tls-cert-file and --tls-private-key-file must be set together".into(),
            ))
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    let builder = match &config.client_ca_file {
        Some(ca_file) => {
            let mut roots = RootCertStore::empty();
            for ca in read_certs(ca_file)? {
                roots.add(ca).map_err(|e| {
                    ServerError::Tls(format!("client CA {}: {e}", ca_file.display()))
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| ServerError::Tls(format!("client verifier: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut tls = builder
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(format!("serving certificate: {e}")))?;
    // HTTP/1.1 only: exec, attach and port-forward are HTTP/1.1 upgrades.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

fn read(path: &Path) -> Result<Vec<u8>, ServerError> {
    std::fs::read(path).map_err(|source| ServerError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ServerError> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut BufReader::new(read(path)?.as_slice()))
        .collect::<Result<_, _>>()
        .map_err(|e| ServerError::Tls(format!("parsing {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!(
            "no certificate in {}",
            path.display()
        )));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, ServerError> {
    rustls_pemfile::private_key(&mut BufReader::new(read(path)?.as_slice()))
        .map_err(|e| ServerError::Tls(format!("parsing {}: {e}", path.display())))?
        .ok_or_else(|| ServerError::Tls(format!("no private key in {}", path.display())))
}

/// A throwaway CA and a serving certificate it signs, for the node name, the bind address
/// and loopback. Clients that verify the kubelet must be given a real certificate instead.
fn self_signed(
    config: &ServerConfig,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), ServerError> {
    let (chain_pem, key_pem) = self_signed_pem(&config.node_name, config.address)?;
    let chain: Vec<CertificateDer<'static>> =
        rustls_pemfile::certs(&mut BufReader::new(chain_pem.as_bytes()))
            .collect::<Result<_, _>>()
            .map_err(|e| ServerError::Tls(format!("generated certificate: {e}")))?;
    let key = rustls_pemfile::private_key(&mut BufReader::new(key_pem.as_bytes()))
        .map_err(|e| ServerError::Tls(format!("generated key: {e}")))?
        .ok_or_else(|| ServerError::Tls("generated key missing".into()))?;
    Ok((chain, key))
}

/// Upstream's self-signed serving pair, PEM: a CA named `<host>-ca@<unix time>` and the
/// certificate `<host>@<unix time>` it signs for the node name, `address` and loopback.
/// Returns the chain (leaf, then CA) and the leaf's key.
pub fn self_signed_pem(node_name: &str, address: IpAddr) -> Result<(String, String), ServerError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let host = if node_name.is_empty() {
        "localhost"
    } else {
        node_name
    };
    let ca = common::pki::Ca::generate(&format!("{host}-ca@{now}"))?;
    let mut dns = vec!["localhost".to_string()];
    if host != "localhost" && host.parse::<IpAddr>().is_err() {
        dns.push(host.to_string());
    }
    let mut ips = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    for ip in [Some(address), host.parse().ok()].into_iter().flatten() {
        if !ip.is_unspecified() && !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    let issued = ca.issue_server(&format!("{host}@{now}"), &dns, &ips)?;
    let mut chain = issued.cert_pem;
    if !chain.ends_with('\n') {
        chain.push('\n');
    }
    chain.push_str(ca.cert_pem());
    Ok((chain, issued.key_pem))
}
