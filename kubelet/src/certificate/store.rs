//! The kubelet's client certificate files in `--cert-dir`, laid out as upstream's: each
//! certificate the kubelet receives is written with its key as
//! `kubelet-client-<YYYY-MM-DD-HH-MM-SS>.pem`, and the symlink `kubelet-client-current.pem`
//! points at the newest, so `--kubeconfig` can name one path that survives renewals.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rustls::pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::CertificateError;

/// File name prefix of the client certificates.
pub const CLIENT_PREFIX: &str = "kubelet-client";
/// The key a bootstrap in progress keeps (so a restart reuses its pending CSR); removed once
/// the certificate is stored.
pub const PENDING_KEY_FILE: &str = "kubelet-client.key.tmp";

/// The client certificate store in one directory.
#[derive(Clone, Debug)]
pub struct ClientCertStore {
    dir: PathBuf,
}

impl ClientCertStore {
    /// The store in `cert_dir` (created on the first write).
    pub fn new(cert_dir: &Path) -> Self {
        ClientCertStore {
            dir: cert_dir.to_path_buf(),
        }
    }

    /// `<cert-dir>/kubelet-client-current.pem`.
    pub fn current_path(&self) -> PathBuf {
        self.dir.join(format!("{CLIENT_PREFIX}-current.pem"))
    }

    /// `<cert-dir>/kubelet-client.key.tmp`.
    pub fn pending_key_path(&self) -> PathBuf {
        self.dir.join(PENDING_KEY_FILE)
    }

    /// The current certificate's PEM (certificate and key), if the link resolves.
    pub fn current_pem(&self) -> Option<Vec<u8>> {
        std::fs::read(self.current_path()).ok()
    }

    /// Writes `cert_pem` followed by `key_pem` to a new timestamped file (mode 0600: it holds
    /// the key) and points `kubelet-client-current.pem` at it. Returns the link's path.
    pub fn update(
        &self,
        cert_pem: &[u8],
        key_pem: &str,
        now: DateTime<Utc>,
    ) -> Result<PathBuf, CertificateError> {
        std::fs::create_dir_all(&self.dir).map_err(CertificateError::io(&self.dir))?;
        let stamp = now.format("%Y-%m-%d-%H-%M-%S");
        let file = self.dir.join(format!("{CLIENT_PREFIX}-{stamp}.pem"));
        let mut contents = cert_pem.to_vec();
        if !contents.ends_with(b"\n") {
            contents.push(b'\n');
        }
        contents.extend_from_slice(key_pem.as_bytes());
        write_private(&file, &contents)?;
        // A new link beside the old one, renamed over it: the current path always resolves.
        let link = self.current_path();
        let tmp = self.dir.join(format!(".{CLIENT_PREFIX}-current.pem.tmp"));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&file, &tmp).map_err(CertificateError::io(&tmp))?;
        std::fs::rename(&tmp, &link).map_err(CertificateError::io(&link))?;
        Ok(link)
    }
}

/// Writes `contents` to `path` with mode 0600, whole or not at all.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> Result<(), CertificateError> {
    common::atomic_file::write(path, contents, 0o600).map_err(CertificateError::io(path))
}

/// The DER certificates in a PEM buffer (other blocks, such as the key, are skipped).
pub fn pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, CertificateError> {
    rustls_pemfile::certs(&mut BufReader::new(pem))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertificateError::Parse {
            what: "PEM certificates".into(),
            reason: e.to_string(),
        })
}

/// Whether every certificate in `pem` is still valid at `now` (upstream's test: a client
/// config whose certificates are all unexpired need not bootstrap). No certificate, or one
/// that does not parse, is not valid.
pub fn certificates_valid_at(pem: &[u8], now: DateTime<Utc>) -> bool {
    let Ok(certs) = pem_certificates(pem) else {
        return false;
    };
    !certs.is_empty()
        && certs
            .iter()
            .all(|der| match X509Certificate::from_der(der) {
                Ok((_, cert)) => now.timestamp() <= cert.validity().not_after.timestamp(),
                Err(_) => false,
            })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn issued() -> common::pki::IssuedCert {
        common::pki::Ca::generate("test-ca")
            .unwrap()
            .issue_client("system:node:n1", &["system:nodes".to_string()])
            .unwrap()
    }

    #[test]
    fn update_writes_a_stamped_file_and_moves_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let store = ClientCertStore::new(&dir.path().join("pki"));
        assert!(store.current_pem().is_none());
        let first = issued();
        let t1 = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let link = store
            .update(first.cert_pem.as_bytes(), &first.key_pem, t1)
            .unwrap();
        assert_eq!(link, store.current_path());
        let stamped = dir
            .path()
            .join("pki/kubelet-client-2026-01-02-03-04-05.pem");
        assert_eq!(std::fs::read_link(&link).unwrap(), stamped);
        let contents = String::from_utf8(store.current_pem().unwrap()).unwrap();
        assert!(contents.starts_with(&first.cert_pem));
        assert!(contents.ends_with(&first.key_pem));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&stamped).unwrap().permissions().mode() & 0o777,
            0o600
        );

        let second = issued();
        let t2 = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        store
            .update(second.cert_pem.as_bytes(), &second.key_pem, t2)
            .unwrap();
        assert_eq!(
            std::fs::read_link(store.current_path()).unwrap(),
            dir.path()
                .join("pki/kubelet-client-2026-06-01-00-00-00.pem")
        );
        assert!(String::from_utf8(store.current_pem().unwrap())
            .unwrap()
            .starts_with(&second.cert_pem));
        // The older certificate stays (upstream keeps it too).
        assert!(stamped.exists());
    }

    #[test]
    fn expiry_is_judged_against_not_after() {
        let cert = issued();
        let ders = pem_certificates(cert.cert_pem.as_bytes()).unwrap();
        let (_, parsed) = X509Certificate::from_der(&ders[0]).unwrap();
        let not_after = parsed.validity().not_after.timestamp();
        let at = |t: i64| Utc.timestamp_opt(t, 0).unwrap();
        assert!(certificates_valid_at(
            cert.cert_pem.as_bytes(),
            at(not_after - 60)
        ));
        assert!(!certificates_valid_at(
            cert.cert_pem.as_bytes(),
            at(not_after + 1)
        ));
        // Key only, garbage, nothing: no valid certificate.
        assert!(!certificates_valid_at(cert.key_pem.as_bytes(), at(0)));
        assert!(!certificates_valid_at(b"not a pem", at(0)));
        assert!(!certificates_valid_at(b"", at(0)));
    }
}
