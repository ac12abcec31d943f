//! The kubelet's own certificates.
//!
//! - `csr`: the node client CertificateSigningRequest (key, PKCS#10 request, API object,
//!   and reading the answer).
//! - `store`: `<cert-dir>/kubelet-client-<timestamp>.pem` files and the
//!   `kubelet-client-current.pem` link to the newest one; certificate expiry checks.
//! - `kubeconfig`: the `--kubeconfig` the kubelet writes once it holds a client certificate.
//! - `bootstrap`: TLS bootstrapping (`--bootstrap-kubeconfig`): when `--kubeconfig` is missing
//!   or its client certificate expired, ask the apiserver for one with the bootstrap
//!   credentials, as upstream's kubelet does (kubeadm join relies on it).
//! - `serving`: the self-signed serving certificate kept in `<cert-dir>` when no
//!   `--tls-cert-file` is given.

pub mod bootstrap;
pub mod csr;
pub mod kubeconfig;
pub mod serving;
pub mod store;

use std::path::PathBuf;

/// What can go wrong while obtaining or storing the kubelet's certificates.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Generating a key or a request failed.
    #[error("generating {what}: {source}")]
    Generate {
        /// The key, request or certificate being generated.
        what: &'static str,
        /// rcgen's reason.
        source: rcgen::Error,
    },
    /// A PEM file or block could not be parsed.
    #[error("parsing {what}: {reason}")]
    Parse {
        /// What was being parsed.
        what: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A kubeconfig is unusable (no current context, no cluster, no server…).
    #[error("kubeconfig {path}: {reason}")]
    Kubeconfig {
        /// The kubeconfig file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The apiserver refused or failed a request.
    #[error("{action}: {source}")]
    Api {
        /// What the kubelet was doing.
        action: String,
        /// The client's error.
        source: kube::Error,
    },
    /// The CertificateSigningRequest was denied by an approver.
    #[error("certificate signing request {name} is denied, reason: {reason}, message: {message}")]
    Denied {
        /// The CSR's name.
        name: String,
        /// The Denied condition's reason.
        reason: String,
        /// The Denied condition's message.
        message: String,
    },
    /// The signer could not issue the certificate.
    #[error("certificate signing request {name} failed, reason: {reason}, message: {message}")]
    Failed {
        /// The CSR's name.
        name: String,
        /// The Failed condition's reason.
        reason: String,
        /// The Failed condition's message.
        message: String,
    },
    /// No certificate arrived in time.
    #[error(
        "timed out after {seconds}s waiting for certificate signing request {name} to be {state}"
    )]
    Timeout {
        /// The CSR's name.
        name: String,
        /// How long the kubelet waited.
        seconds: u64,
        /// "approved" or "issued": what had not happened yet.
        state: &'static str,
    },
    /// The issued certificate does not fit the request.
    #[error("the certificate issued for {name} is unusable: {reason}")]
    BadCertificate {
        /// The CSR's name.
        name: String,
        /// Why it cannot be used.
        reason: String,
    },
}

impl CertificateError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| CertificateError::Io { path, source }
    }
}
