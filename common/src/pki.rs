//! PKI helpers: a cluster CA and the certificates it signs (rcgen), plus the kubeconfig that
//! carries a client certificate.
//!
//! Kubernetes identifies an x509 client by its subject: the Common Name is the user name and
//! every Organization is a group (`system:masters` is the admin group). Serving certificates
//! carry the DNS names and IP addresses clients dial (`kubernetes.default.svc`, the first
//! Service IP, 127.0.0.1).
//!
//! Keys are ECDSA P-256: small, fast to generate, and accepted by rustls, Go's crypto/tls
//! (kubectl) and OpenSSL (the Python client).

use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// How long issued certificates are valid. Local clusters are short-lived, but a year keeps a
/// long-running dev cluster from expiring under the user.
const LEAF_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
/// CA validity: ten years, as kubeadm does.
const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// Back-date `notBefore` so that small clock differences between processes do not reject a
/// certificate that was just issued.
const CLOCK_SKEW: Duration = Duration::from_secs(3600);
/// The Organization attribute (X.520 `id-at-organizationName`).
const ORGANIZATION_OID: [u64; 4] = [2, 5, 4, 10];
/// rcgen keys subject attributes by type, so a subject holds at most one `OrganizationName`
/// plus one Organization written under its raw OID: two groups per client certificate.
pub const MAX_CLIENT_GROUPS: usize = 2;

/// What can go wrong while generating, loading or writing PKI material.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// rcgen refused the parameters or could not sign.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// The CA certificate or key PEM could not be parsed.
    #[error("cannot load CA from PEM: {0}")]
    LoadCa(rcgen::Error),
    /// A DNS name is not valid in a subjectAltName.
    #[error("invalid DNS name {name:?} for subjectAltName: {source}")]
    InvalidDnsName {
        /// The rejected name.
        name: String,
        /// Why rcgen rejected it.
        source: rcgen::Error,
    },
    /// More groups than one certificate subject can carry.
    #[error("a client certificate carries at most {MAX_CLIENT_GROUPS} groups, got {0}")]
    TooManyGroups(usize),
    /// An empty common name would authenticate as the empty user.
    #[error("common name must not be empty")]
    EmptyCommonName,
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A certificate and its private key, both PEM encoded.
#[derive(Clone, Debug)]
pub struct IssuedCert {
    /// `-----BEGIN CERTIFICATE-----` …
    pub cert_pem: String,
    /// `-----BEGIN PRIVATE KEY-----` … (PKCS#8)
    pub key_pem: String,
}

impl IssuedCert {
    /// Write the certificate (mode 0644) and key (mode 0600) to the given paths.
    pub fn write(&self, cert_path: &Path, key_path: &Path) -> Result<(), PkiError> {
        write_cert_pem(cert_path, &self.cert_pem)?;
        write_key_pem(key_path, &self.key_pem)
    }
}

/// The cluster certificate authority: signs serving and client certificates.
pub struct Ca {
    cert_pem: String,
    key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    /// Create a new self-signed CA with the given common name (kubeadm uses `kubernetes`).
    pub fn generate(common_name: &str) -> Result<Ca, PkiError> {
        if common_name.is_empty() {
            return Err(PkiError::EmptyCommonName);
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
        ];
        set_validity(&mut params, CA_VALIDITY);
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(Ca {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// Load an existing CA from its certificate and private key (PEM).
    pub fn load(cert_pem: &str, key_pem: &str) -> Result<Ca, PkiError> {
        let key = KeyPair::from_pem(key_pem).map_err(PkiError::LoadCa)?;
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key).map_err(PkiError::LoadCa)?;
        Ok(Ca {
            cert_pem: cert_pem.to_string(),
            key_pem: key_pem.to_string(),
            issuer,
        })
    }

    /// Load a CA from `cert_path` and `key_path`.
    pub fn load_files(cert_path: &Path, key_path: &Path) -> Result<Ca, PkiError> {
        Ca::load(&read_file(cert_path)?, &read_file(key_path)?)
    }

    /// The CA certificate, PEM encoded (what `--client-ca-file` and kubeconfigs carry).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA private key, PEM encoded.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// Write the CA certificate (0644) and key (0600).
    pub fn write(&self, cert_path: &Path, key_path: &Path) -> Result<(), PkiError> {
        write_cert_pem(cert_path, &self.cert_pem)?;
        write_key_pem(key_path, &self.key_pem)
    }

    /// Issue a serving certificate valid for the given DNS names and IP addresses.
    pub fn issue_server(
        &self,
        common_name: &str,
        dns_names: &[String],
        ip_sans: &[IpAddr],
    ) -> Result<IssuedCert, PkiError> {
        let mut params = leaf_params(common_name)?;
        for name in dns_names {
            let dns = name
                .clone()
                .try_into()
                .map_err(|source| PkiError::InvalidDnsName {
                    name: name.clone(),
                    source,
                })?;
            params.subject_alt_names.push(SanType::DnsName(dns));
        }
        params
            .subject_alt_names
            .extend(ip_sans.iter().copied().map(SanType::IpAddress));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    /// Issue a client certificate for user `common_name` in `groups` (at most
    /// [`MAX_CLIENT_GROUPS`]).
    pub fn issue_client(
        &self,
        common_name: &str,
        groups: &[String],
    ) -> Result<IssuedCert, PkiError> {
        if groups.len() > MAX_CLIENT_GROUPS {
            return Err(PkiError::TooManyGroups(groups.len()));
        }
        let mut params = leaf_params(common_name)?;
        // Organization first, then CN: the order kubeadm's certificates use.
        let mut subject = rcgen::DistinguishedName::new();
        if let Some(first) = groups.first() {
            subject.push(DnType::OrganizationName, first.as_str());
        }
        if let Some(second) = groups.get(1) {
            subject.push(
                DnType::CustomDnType(ORGANIZATION_OID.to_vec()),
                second.as_str(),
            );
        }
        subject.push(DnType::CommonName, common_name);
        params.distinguished_name = subject;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Result<IssuedCert, PkiError> {
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Parameters shared by every leaf certificate: CN, validity, key usage, AKI.
/// The key pair that signs and verifies service account tokens (kubeadm's `sa.key` and
/// `sa.pub`): an ECDSA P-256 private key (PKCS#8 PEM) and its public key (SPKI PEM).
#[derive(Clone, Debug)]
pub struct ServiceAccountKey {
    /// `-----BEGIN PRIVATE KEY-----` … (for `--service-account-signing-key-file`)
    pub private_pem: String,
    /// `-----BEGIN PUBLIC KEY-----` … (for `--service-account-key-file`)
    pub public_pem: String,
}

impl ServiceAccountKey {
    /// Generate a new key pair.
    pub fn generate() -> Result<ServiceAccountKey, PkiError> {
        let key = KeyPair::generate()?;
        Ok(ServiceAccountKey {
            private_pem: key.serialize_pem(),
            public_pem: key.public_key_pem(),
        })
    }

    /// Write the private key (0600) and the public key (0644).
    pub fn write(&self, key_path: &Path, pub_path: &Path) -> Result<(), PkiError> {
        write_key_pem(key_path, &self.private_pem)?;
        write_cert_pem(pub_path, &self.public_pem)
    }
}

fn leaf_params(common_name: &str) -> Result<CertificateParams, PkiError> {
    if common_name.is_empty() {
        return Err(PkiError::EmptyCommonName);
    }
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    // Lets verifiers pick the right CA when several are trusted.
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, LEAF_VALIDITY);
    Ok(params)
}

/// Set notBefore to now minus the skew allowance and notAfter to now plus `validity`.
fn set_validity(params: &mut CertificateParams, validity: Duration) {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    let now = epoch + since_epoch;
    params.not_before = now - CLOCK_SKEW;
    params.not_after = now + validity;
}

/// Render a kubeconfig with one cluster, one user and one context (all data embedded as
/// base64, as kubeadm writes `admin.conf`), with `context` as the current context.
pub fn kubeconfig(
    server: &str,
    ca_pem: &str,
    user: &str,
    client: &IssuedCert,
    context: &str,
) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    // Values are JSON-quoted: a JSON string is a valid YAML double-quoted scalar, so any
    // server URL or name is rendered safely without a YAML dependency.
    let q = |s: &str| quote(s);
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {context_q}\n  \
           cluster:\n    \
             server: {server}\n    \
             certificate-authority-data: {ca}\n\
         users:\n\
         - name: {user_q}\n  \
           user:\n    \
             client-certificate-data: {cert}\n    \
             client-key-data: {key}\n\
         contexts:\n\
         - name: {context_q}\n  \
           context:\n    \
             cluster: {context_q}\n    \
             user: {user_q}\n\
         current-context: {context_q}\n\
         preferences: {{}}\n",
        context_q = q(context),
        server = q(server),
        ca = b64(ca_pem),
        user_q = q(user),
        cert = b64(&client.cert_pem),
        key = b64(&client.key_pem),
    )
}

/// Quote a string as a YAML double-quoted scalar (JSON string syntax).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Read a UTF-8 file, naming the path in the error.
pub fn read_file(path: &Path) -> Result<String, PkiError> {
    fs::read_to_string(path).map_err(|source| PkiError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Write a certificate (public) file, mode 0644.
pub fn write_cert_pem(path: &Path, pem: &str) -> Result<(), PkiError> {
    write_with_mode(path, pem.as_bytes(), 0o644)
}

/// Write a private key or credential-bearing file (a kubeconfig), mode 0600.
pub fn write_key_pem(path: &Path, pem: &str) -> Result<(), PkiError> {
    write_with_mode(path, pem.as_bytes(), 0o600)
}

/// [`crate::atomic_file::write`], with the path in the error.
fn write_with_mode(path: &Path, contents: &[u8], mode: u32) -> Result<(), PkiError> {
    crate::atomic_file::write(path, contents, mode).map_err(|source| PkiError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::extensions::GeneralName;
    use x509_parser::pem::parse_x509_pem;

    fn with_parsed<T>(
        pem: &str,
        f: impl FnOnce(&x509_parser::certificate::X509Certificate) -> T,
    ) -> T {
        let (_, pem) = parse_x509_pem(pem.as_bytes()).expect("PEM");
        let cert = pem.parse_x509().expect("x509");
        f(&cert)
    }

    fn strings<'a>(
        it: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'a>>,
    ) -> Vec<String> {
        it.map(|a| a.as_str().expect("utf8").to_string()).collect()
    }

    #[test]
    fn client_cert_carries_user_and_groups_and_is_signed_by_ca() {
        let ca = Ca::generate("kubernetes").unwrap();
        let groups = vec!["system:masters".to_string(), "devs".to_string()];
        let issued = ca.issue_client("kubernetes-admin", &groups).unwrap();
        let (_, ca_pem) = parse_x509_pem(ca.cert_pem().as_bytes()).unwrap();
        let ca_cert = ca_pem.parse_x509().unwrap();
        assert!(ca_cert.is_ca());
        with_parsed(&issued.cert_pem, |cert| {
            assert_eq!(
                strings(cert.subject().iter_common_name()),
                ["kubernetes-admin"]
            );
            let mut orgs = strings(cert.subject().iter_organization());
            orgs.sort();
            assert_eq!(orgs, ["devs", "system:masters"]);
            assert_eq!(cert.issuer(), ca_cert.subject());
            cert.verify_signature(Some(ca_cert.public_key()))
                .expect("signed by the CA");
            let eku = cert.extended_key_usage().unwrap().expect("EKU").value;
            assert!(eku.client_auth && !eku.server_auth);
            assert!(cert.validity().is_valid());
        });
    }

    #[test]
    fn client_cert_with_one_or_no_group() {
        let ca = Ca::generate("kubernetes").unwrap();
        let one = ca
            .issue_client("system:node:n1", &["system:nodes".into()])
            .unwrap();
        with_parsed(&one.cert_pem, |c| {
            assert_eq!(strings(c.subject().iter_organization()), ["system:nodes"]);
        });
        let none = ca.issue_client("alice", &[]).unwrap();
        with_parsed(&none.cert_pem, |c| {
            assert_eq!(c.subject().iter_organization().count(), 0);
            assert_eq!(strings(c.subject().iter_common_name()), ["alice"]);
        });
    }

    #[test]
    fn too_many_groups_and_empty_cn_are_refused() {
        let ca = Ca::generate("kubernetes").unwrap();
        let groups: Vec<String> = (0..3).map(|i| format!("g{i}")).collect();
        assert!(matches!(
            ca.issue_client("bob", &groups),
            Err(PkiError::TooManyGroups(3))
        ));
        assert!(matches!(
            ca.issue_client("", &[]),
            Err(PkiError::EmptyCommonName)
        ));
    }

    #[test]
    fn server_cert_has_dns_and_ip_sans() {
        let ca = Ca::generate("kubernetes").unwrap();
        let dns = vec![
            "localhost".to_string(),
            "kubernetes.default.svc".to_string(),
        ];
        let ips: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "10.96.0.1".parse().unwrap()];
        let issued = ca.issue_server("kube-apiserver", &dns, &ips).unwrap();
        with_parsed(&issued.cert_pem, |cert| {
            let san = cert.subject_alternative_name().unwrap().expect("SAN").value;
            let mut names = Vec::new();
            let mut addrs = Vec::new();
            for n in &san.general_names {
                match n {
                    GeneralName::DNSName(d) => names.push(d.to_string()),
                    GeneralName::IPAddress(b) => addrs.push(b.to_vec()),
                    _ => {}
                }
            }
            assert_eq!(names, dns);
            assert_eq!(addrs, vec![vec![127, 0, 0, 1], vec![10, 96, 0, 1]]);
            let eku = cert.extended_key_usage().unwrap().expect("EKU").value;
            assert!(eku.server_auth);
        });
    }

    #[test]
    fn bad_dns_name_is_a_typed_error() {
        let ca = Ca::generate("kubernetes").unwrap();
        let err = ca
            .issue_server("x", &["bad name\u{7f}é".to_string()], &[])
            .unwrap_err();
        assert!(matches!(err, PkiError::InvalidDnsName { .. }), "{err}");
    }

    #[test]
    fn loaded_ca_signs_certs_that_verify_against_the_original() {
        let ca = Ca::generate("kubernetes").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (crt, key) = (dir.path().join("ca.crt"), dir.path().join("ca.key"));
        ca.write(&crt, &key).unwrap();
        let loaded = Ca::load_files(&crt, &key).unwrap();
        let issued = loaded.issue_client("carol", &[]).unwrap();
        let (_, ca_pem) = parse_x509_pem(ca.cert_pem().as_bytes()).unwrap();
        let ca_cert = ca_pem.parse_x509().unwrap();
        with_parsed(&issued.cert_pem, |cert| {
            cert.verify_signature(Some(ca_cert.public_key())).unwrap();
        });
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn garbage_pem_is_a_load_error() {
        assert!(matches!(
            Ca::load("not a cert", "not a key"),
            Err(PkiError::LoadCa(_))
        ));
    }

    #[test]
    fn kubeconfig_embeds_base64_data_and_context() {
        let ca = Ca::generate("kubernetes").unwrap();
        let admin = ca
            .issue_client("kubernetes-admin", &["system:masters".into()])
            .unwrap();
        let text = kubeconfig(
            "https://127.0.0.1:6443",
            ca.cert_pem(),
            "admin",
            &admin,
            "rudder",
        );
        assert!(text.contains("current-context: \"rudder\""));
        assert!(text.contains("server: \"https://127.0.0.1:6443\""));
        let b64 = base64::engine::general_purpose::STANDARD;
        let line = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("client-certificate-data: "))
            .unwrap();
        let decoded = String::from_utf8(b64.decode(line).unwrap()).unwrap();
        assert_eq!(decoded, admin.cert_pem);
    }

    #[test]
    fn quote_escapes_yaml_specials() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}
