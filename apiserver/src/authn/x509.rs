//! x509 client certificates signed by `--client-ca-file`: the subject's Common Name is the user
//! name and every Organization is a group, as upstream's x509 authenticator reads them.
//!
//! rustls has already verified the chain during the handshake — against the client CA, or,
//! with `--requestheader-client-ca-file`, against either CA; [`crate::authn::Authenticator::client_cert`]
//! then says which one signed it. This module maps the leaf to a user, and refuses a leaf
//! outside its validity window (a connection can outlive its certificate).

use x509_parser::prelude::{FromDer, X509Certificate};

use super::requestheader::FrontProxy;
use super::UserInfo;

/// What a client certificate says about its holder, read once per TLS connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertUser {
    /// The user the certificate names.
    pub user: UserInfo,
    /// `notBefore`, seconds since the epoch.
    pub not_before: i64,
    /// `notAfter`, seconds since the epoch.
    pub not_after: i64,
    /// Whether the chain verifies against `--client-ca-file`: only then is the certificate
    /// itself an identity.
    pub client_ca: bool,
    /// What the request-header authenticator made of the certificate; `None` when it is not
    /// from `--requestheader-client-ca-file` (or that flag is unset).
    pub front_proxy: Option<FrontProxy>,
}

impl CertUser {
    /// Whether the certificate is within its validity window at `now` (seconds since the
    /// epoch).
    pub fn valid_at(&self, now: i64) -> bool {
        self.not_before <= now && now <= self.not_after
    }

    /// The user, if the certificate is a client-CA identity valid at `now`.
    pub fn user_at(&self, now: i64) -> Option<&UserInfo> {
        (self.client_ca && self.valid_at(now)).then_some(&self.user)
    }
}

/// Read the user from the peer certificate chain the TLS layer verified (leaf first), taking
/// the chain to be from the client CA. `None` when the client presented no certificate or the
/// leaf names no user.
pub fn from_client_cert(
    chain: Option<&[rustls::pki_types::CertificateDer<'static>]>,
) -> Option<CertUser> {
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
    groups.push(super::AUTHENTICATED.to_string());
    let validity = cert.validity();
    Some(CertUser {
        user: UserInfo {
            name,
            groups,
            ..Default::default()
        },
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        client_ca: true,
        front_proxy: None,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rustls::pki_types::CertificateDer;

    /// The first certificate of a PEM text (test certificates made with `common::pki`).
    pub(crate) fn der_of(pem: &str) -> CertificateDer<'static> {
        rustls_pemfile::certs(&mut pem.as_bytes())
            .next()
            .expect("one certificate")
            .expect("valid PEM")
    }

    #[test]
    fn common_name_is_the_user_and_organizations_are_groups() {
        let ca = common::pki::Ca::generate("kubernetes").expect("ca");
        let cert = ca
            .issue_client("kubernetes-admin", &["system:masters".to_string()])
            .expect("cert");
        let chain = [der_of(&cert.cert_pem)];
        let cu = from_client_cert(Some(&chain)).expect("a user");
        assert_eq!(cu.user.name, "kubernetes-admin");
        assert_eq!(
            cu.user.groups,
            vec![
                "system:masters".to_string(),
                "system:authenticated".to_string()
            ]
        );
        let now = chrono::Utc::now().timestamp();
        assert!(cu.user_at(now).is_some());
        // Past notAfter the same connection no longer authenticates.
        assert!(cu.user_at(cu.not_after + 1).is_none());
        assert!(cu.user_at(cu.not_before - 1).is_none());
    }

    #[test]
    fn no_certificate_is_no_user() {
        assert!(from_client_cert(None).is_none());
        assert!(from_client_cert(Some(&[])).is_none());
        let garbage = [CertificateDer::from(vec![0x30, 0x03, 0x01, 0x01, 0xff])];
        assert!(from_client_cert(Some(&garbage)).is_none());
    }
}
