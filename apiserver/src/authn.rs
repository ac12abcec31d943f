//! Authentication: x509 client certificates signed by `--client-ca-file` (CN = user name,
//! O = groups), as upstream's x509 authenticator.

use x509_parser::prelude::{FromDer, X509Certificate};

/// Who is making a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// User name.
    pub name: String,
    /// Groups, including `system:authenticated`.
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A user the server itself acts as.
    pub fn system(name: &str, groups: &[&str]) -> Self {
        Self {
            name: name.to_string(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }
}

/// Authenticate from the peer certificate chain the TLS layer verified (leaf first).
/// `None` when the client presented no certificate.
pub fn from_client_cert(
    chain: Option<&[rustls::pki_types::CertificateDer<'static>]>,
) -> Option<UserInfo> {
    let leaf = chain?.first()?;
    let (_, cert) = X509Certificate::from_der(leaf.as_ref()).ok()?;
    let subject = cert.subject();
    let name = subject
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_string();
    if name.is_empty() {
        return None;
    }
    let mut groups: Vec<String> = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(String::from))
        .collect();
    groups.push("system:authenticated".to_string());
    Some(UserInfo { name, groups })
}
