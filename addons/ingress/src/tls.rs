//! TLS from Ingress Secrets: a rustls certificate resolver choosing by SNI among the
//! `kubernetes.io/tls` Secrets the Ingresses' `tls` sections name, with a self-signed
//! fallback (as other controllers' "fake certificate") for names no Secret covers.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Why a Secret could not be used as a certificate.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// The Secret lacks `tls.crt` or `tls.key`.
    #[error("secret has no {0}")]
    MissingKey(&'static str),
    /// The PEM data did not parse.
    #[error("bad PEM: {0}")]
    Pem(String),
    /// rustls rejected the key.
    #[error("unsupported private key: {0}")]
    Key(#[from] rustls::Error),
    /// Generating the fallback certificate failed.
    #[error("generating the fallback certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// Certificates by server name (lowercase; `*.` wildcard names as written).
#[derive(Debug)]
pub struct SniResolver {
    by_name: RwLock<Arc<HashMap<String, Arc<CertifiedKey>>>>,
    fallback: Arc<CertifiedKey>,
}

impl SniResolver {
    /// A resolver with no certificates yet and a fresh self-signed fallback.
    pub fn new() -> Result<SniResolver, CertError> {
        let generated = rcgen::generate_simple_self_signed(vec!["ingress.local".to_string()])?;
        let key_der =
            rustls::pki_types::PrivateKeyDer::try_from(generated.signing_key.serialize_der())
                .map_err(|e| CertError::Pem(e.to_string()))?;
        let key = rustls::crypto::ring::sign::any_supported_type(&key_der)?;
        let fallback = Arc::new(CertifiedKey::new(vec![generated.cert.der().clone()], key));
        Ok(SniResolver {
            by_name: RwLock::new(Arc::new(HashMap::new())),
            fallback,
        })
    }

    /// Replace the whole name → certificate map (after any Ingress or Secret change).
    pub fn replace(&self, by_name: HashMap<String, Arc<CertifiedKey>>) {
        *self.by_name.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(by_name);
    }

    /// The certificate for `server_name`: exact name, then a `*.` wildcard one label up.
    pub fn lookup(&self, server_name: Option<&str>) -> Arc<CertifiedKey> {
        let map = self
            .by_name
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(name) = server_name.map(str::to_ascii_lowercase) else {
            return self.fallback.clone();
        };
        if let Some(cert) = map.get(&name) {
            return cert.clone();
        }
        if let Some((_, parent)) = name.split_once('.') {
            if let Some(cert) = map.get(&format!("*.{parent}")) {
                return cert.clone();
            }
        }
        self.fallback.clone()
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.lookup(client_hello.server_name()))
    }
}

/// A certificate from a Secret's `tls.crt` (chain) and `tls.key` (PEM).
pub fn certified_key(tls_crt: &[u8], tls_key: &[u8]) -> Result<Arc<CertifiedKey>, CertError> {
    let certs = rustls_pemfile::certs(&mut &tls_crt[..])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::Pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(CertError::MissingKey("certificate in tls.crt"));
    }
    let key = rustls_pemfile::private_key(&mut &tls_key[..])
        .map_err(|e| CertError::Pem(e.to_string()))?
        .ok_or(CertError::MissingKey("private key in tls.key"))?;
    let key = rustls::crypto::ring::sign::any_supported_type(&key)?;
    Ok(Arc::new(CertifiedKey::new(certs, key)))
}

/// A rustls server configuration answering with `resolver`'s certificates, HTTP/1.1 only.
pub fn server_config(resolver: Arc<SniResolver>) -> Result<rustls::ServerConfig, rustls::Error> {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued(name: &str) -> (String, String) {
        let c = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
        (c.cert.pem(), c.signing_key.serialize_pem())
    }

    #[test]
    fn sni_picks_exact_then_wildcard_then_fallback() {
        let resolver = SniResolver::new().unwrap();
        let (crt, key) = issued("a.example.com");
        let exact = certified_key(crt.as_bytes(), key.as_bytes()).unwrap();
        let (crt, key) = issued("*.example.com");
        let wild = certified_key(crt.as_bytes(), key.as_bytes()).unwrap();
        resolver.replace(HashMap::from([
            ("a.example.com".to_string(), exact.clone()),
            ("*.example.com".to_string(), wild.clone()),
        ]));
        assert!(Arc::ptr_eq(&resolver.lookup(Some("A.example.com")), &exact));
        assert!(Arc::ptr_eq(&resolver.lookup(Some("b.example.com")), &wild));
        let other = resolver.lookup(Some("x.b.example.com"));
        assert!(!Arc::ptr_eq(&other, &wild) && !Arc::ptr_eq(&other, &exact));
    }

    #[test]
    fn bad_secret_data_is_an_error() {
        assert!(certified_key(b"nope", b"nope").is_err());
    }
}
