//! The TLS side of delegated authentication: client certificates are optional (token
//! callers and health probes have none); one that is offered must chain to the client CA
//! or the request-header (front-proxy) CA. Which of the two signed it decides, per request,
//! whether it names the user or may assert one in headers.

use std::io::BufReader;
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};

/// Why a CA bundle could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CaError(String);

/// A verifier for certificates signed by the CAs in `pem` (one or more PEM certificates);
/// `None` for an empty bundle.
pub fn verifier_for(pem: &[u8]) -> Result<Option<Arc<dyn ClientCertVerifier>>, CaError> {
    let mut roots = RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut BufReader::new(pem)) {
        let c = c.map_err(|e| CaError(format!("parsing CA bundle: {e}")))?;
        roots
            .add(c)
            .map_err(|e| CaError(format!("CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .allow_unauthenticated()
        .build()
        .map(Some)
        .map_err(|e| CaError(e.to_string()))
}

/// Accepts a certificate any of its verifiers accepts (and a connection without one).
#[derive(Debug)]
pub struct AnyOf {
    verifiers: Vec<Arc<dyn ClientCertVerifier>>,
    hints: Vec<DistinguishedName>,
}

impl AnyOf {
    /// Over `verifiers` (at least one).
    pub fn new(verifiers: Vec<Arc<dyn ClientCertVerifier>>) -> AnyOf {
        let hints = verifiers
            .iter()
            .flat_map(|v| v.root_hint_subjects().to_vec())
            .collect();
        AnyOf { verifiers, hints }
    }
}

impl ClientCertVerifier for AnyOf {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let mut last = rustls::Error::General("no client CA configured".into());
        for v in &self.verifiers {
            match v.verify_client_cert(end_entity, intermediates, now) {
                Ok(ok) => return Ok(ok),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let provider = rustls::crypto::ring::default_provider();
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let provider = rustls::crypto::ring::default_provider();
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Whether `verifier` accepts the chain `certs` (leaf first) now.
pub fn chain_verifies(verifier: &dyn ClientCertVerifier, certs: &[CertificateDer<'_>]) -> bool {
    let Some((leaf, intermediates)) = certs.split_first() else {
        return false;
    };
    verifier
        .verify_client_cert(leaf, intermediates, UnixTime::now())
        .is_ok()
}
