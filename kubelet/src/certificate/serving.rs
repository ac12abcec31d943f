//! The serving certificate a kubelet without `--tls-cert-file` uses: self-signed, kept in
//! `<cert-dir>/kubelet.crt` and `kubelet.key` as upstream keeps it, so that it stays the same
//! across restarts (a client that pinned it keeps working). A joining node thus needs no
//! certificate signed by the cluster CA to serve logs, exec and metrics; the apiserver
//! verifies kubelets only when given `--kubelet-certificate-authority`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::Utc;

use super::store::{certificates_valid_at, write_private};
use super::CertificateError;

/// `<cert-dir>/kubelet.crt` and `<cert-dir>/kubelet.key`, generated unless both exist and
/// the certificate is unexpired.
pub fn ensure_self_signed(
    cert_dir: &Path,
    node_name: &str,
    address: IpAddr,
) -> Result<(PathBuf, PathBuf), CertificateError> {
    let cert = cert_dir.join("kubelet.crt");
    let key = cert_dir.join("kubelet.key");
    let current = std::fs::read(&cert)
        .ok()
        .filter(|pem| certificates_valid_at(pem, Utc::now()));
    if current.is_some() && key.exists() {
        return Ok((cert, key));
    }
    let (chain_pem, key_pem) =
        crate::server::tls::self_signed_pem(node_name, address).map_err(|e| {
            CertificateError::Parse {
                what: "the self-signed serving certificate".into(),
                reason: e.to_string(),
            }
        })?;
    std::fs::create_dir_all(cert_dir).map_err(CertificateError::io(cert_dir))?;
    // The key first: a crash between the two leaves no certificate without its key.
    write_private(&key, key_pem.as_bytes())?;
    write_private(&cert, chain_pem.as_bytes())?;
    Ok((cert, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::{FromDer, X509Certificate};

    #[test]
    fn generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let ip: IpAddr = "172.30.60.61".parse().unwrap();
        let (cert, key) = ensure_self_signed(dir.path(), "w1", ip).unwrap();
        let first = std::fs::read(&cert).unwrap();
        let certs = crate::certificate::store::pem_certificates(&first).unwrap();
        assert_eq!(certs.len(), 2, "leaf and its self-signed CA");
        let (_, leaf) = X509Certificate::from_der(&certs[0]).unwrap();
        let sans = leaf.subject_alternative_name().unwrap().unwrap();
        let text = format!("{:?}", sans.value.general_names);
        assert!(text.contains("w1"), "{text}");
        assert!(text.contains("[172, 30, 60, 61]"), "{text}");
        assert!(key.exists());
        let (cert2, _) = ensure_self_signed(dir.path(), "w1", ip).unwrap();
        assert_eq!(
            std::fs::read(cert2).unwrap(),
            first,
            "reused, not regenerated"
        );
        std::fs::remove_file(&key).unwrap();
        ensure_self_signed(dir.path(), "w1", ip).unwrap();
        assert_ne!(
            std::fs::read(&cert).unwrap(),
            first,
            "regenerated without its key"
        );
    }
}
