//! The secure port's certificate: `--tls-cert-file`/`--tls-private-key-file`, or, as
//! upstream's `MaybeDefaultWithSelfSignedCerts` when neither is given, a self-signed one made
//! at start (in memory) for localhost, loopback and the bind address.

use std::io::BufReader;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;

/// Why the serving certificate could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ServingCertError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Bad or missing PEM, or a combination rustls refused.
    #[error("{0}")]
    Tls(String),
    /// Generating the self-signed certificate failed.
    #[error("generating a self-signed certificate: {0}")]
    Pki(#[from] common::pki::PkiError),
}

type Chain = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn certs_from_pem(
    pem: &[u8],
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, ServingCertError> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut BufReader::new(pem))
        .collect::<Result<_, _>>()
        .map_err(|e| ServingCertError::Tls(format!("parsing {what}: {e}")))?;
    if certs.is_empty() {
        return Err(ServingCertError::Tls(format!("no certificate in {what}")));
    }
    Ok(certs)
}

fn key_from_pem(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, ServingCertError> {
    rustls_pemfile::private_key(&mut BufReader::new(pem))
        .map_err(|e| ServingCertError::Tls(format!("parsing {what}: {e}")))?
        .ok_or_else(|| ServingCertError::Tls(format!("no private key in {what}")))
}

fn read(path: &Path) -> Result<Vec<u8>, ServingCertError> {
    std::fs::read(path).map_err(|source| ServingCertError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// A throwaway CA and a serving certificate it signs.
fn self_signed(bind_address: IpAddr) -> Result<Chain, ServingCertError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let ca = common::pki::Ca::generate(&format!("localhost-ca@{now}"))?;
    let mut ips = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    if !bind_address.is_unspecified() && !ips.contains(&bind_address) {
        ips.push(bind_address);
    }
    let issued = ca.issue_server(
        &format!("localhost@{now}"),
        &["localhost".to_string()],
        &ips,
    )?;
    let mut chain = certs_from_pem(issued.cert_pem.as_bytes(), "the generated certificate")?;
    chain.extend(certs_from_pem(
        ca.cert_pem().as_bytes(),
        "the generated CA",
    )?);
    let key = key_from_pem(issued.key_pem.as_bytes(), "the generated key")?;
    Ok((chain, key))
}

/// The rustls server configuration for the secure port; `client_verifier` (delegated
/// authentication's) asks for optional client certificates.
pub fn server_config(
    cert_file: Option<&Path>,
    key_file: Option<&Path>,
    bind_address: IpAddr,
    client_verifier: Option<Arc<dyn ClientCertVerifier>>,
) -> Result<Arc<rustls::ServerConfig>, ServingCertError> {
    let (certs, key) = match (cert_file, key_file) {
        (Some(c), Some(k)) => (
            certs_from_pem(&read(c)?, &c.display().to_string())?,
            key_from_pem(&read(k)?, &k.display().to_string())?,
        ),
        (None, None) => self_signed(bind_address)?,
        _ => {
            return Err(ServingCertError::Tls(
                "--tls-cert-file and --tls-private-key-file must be set together".into(),
            ))
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServingCertError::Tls(e.to_string()))?;
    let builder = match client_verifier {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut tls = builder
        .with_single_cert(certs, key)
        .map_err(|e| ServingCertError::Tls(format!("serving certificate: {e}")))?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_when_no_files_and_both_or_neither() {
        assert!(server_config(None, None, "127.0.0.1".parse().expect("ip"), None).is_ok());
        let err = server_config(
            Some(Path::new("/x.crt")),
            None,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            None,
        )
        .expect_err("half a pair");
        assert!(err.to_string().contains("must be set together"), "{err}");
        let err = server_config(
            Some(Path::new("/nonexistent.crt")),
            Some(Path::new("/nonexistent.key")),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            None,
        )
        .expect_err("missing files");
        assert!(
            err.to_string().starts_with("reading /nonexistent.crt"),
            "{err}"
        );
    }
}
