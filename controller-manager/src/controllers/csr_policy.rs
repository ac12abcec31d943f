//! What each built-in signer accepts (upstream's `ValidateKubeletClientCSR`,
//! `ValidateKubeletServingCSR` and the kube-apiserver-client usage check), and how the
//! certificates API's usage names map onto x509 key usages.

use std::collections::BTreeSet;

use rcgen::{ExtendedKeyUsagePurpose, KeyUsagePurpose};

use super::csr::{self, CertificateRequest};

/// The one organization a kubelet's certificates may carry.
pub const NODES_GROUP: &str = "system:nodes";
/// The prefix of a kubelet's user name (and so of its certificates' common name).
pub const NODE_USER_PREFIX: &str = "system:node:";

/// Usage names of `spec.usages` (upstream's `KeyUsage` constants).
pub mod usage {
    /// `digital signature`
    pub const DIGITAL_SIGNATURE: &str = "digital signature";
    /// `key encipherment` (needed by RSA key exchange only)
    pub const KEY_ENCIPHERMENT: &str = "key encipherment";
    /// `client auth`
    pub const CLIENT_AUTH: &str = "client auth";
    /// `server auth`
    pub const SERVER_AUTH: &str = "server auth";
}

/// Why a request does not fit its signer (the message of the Failed condition).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("subject organization is not system:nodes")]
    OrganizationNotSystemNodes,
    #[error("subject common name does not begin with system:node:")]
    CommonNameNotSystemNode,
    #[error("DNS or IP subjectAltName is required")]
    DnsOrIpSanRequired,
    #[error("DNS subjectAltNames are not allowed")]
    DnsSanNotAllowed,
    #[error("Email subjectAltNames are not allowed")]
    EmailSanNotAllowed,
    #[error("IP subjectAltNames are not allowed")]
    IpSanNotAllowed,
    #[error("URI subjectAltNames are not allowed")]
    UriSanNotAllowed,
    #[error("usages did not match {0:?}")]
    UsagesDidNotMatch(Vec<&'static str>),
    #[error("invalid usage for client certificate: {0}")]
    InvalidClientUsage(String),
    #[error("missing required usage for client certificate: client auth")]
    MissingClientAuth,
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `digital signature` + `client auth`, optionally with `key encipherment` (for RSA keys).
fn usages_match(usages: &BTreeSet<String>, eku: &'static str) -> Result<(), PolicyError> {
    use usage::*;
    let with_rsa = [DIGITAL_SIGNATURE, KEY_ENCIPHERMENT, eku];
    if *usages == set(&with_rsa) || *usages == set(&[DIGITAL_SIGNATURE, eku]) {
        return Ok(());
    }
    let mut listed = with_rsa.to_vec();
    listed.sort_unstable();
    Err(PolicyError::UsagesDidNotMatch(listed))
}

fn only_system_nodes(req: &CertificateRequest) -> Result<(), PolicyError> {
    if req.organizations != [NODES_GROUP] {
        return Err(PolicyError::OrganizationNotSystemNodes);
    }
    Ok(())
}

/// A kubelet client certificate: O=system:nodes only, CN=system:node:<name>, no SANs,
/// usages {digital signature, client auth} (+ key encipherment).
pub fn validate_kubelet_client(
    req: &CertificateRequest,
    usages: &BTreeSet<String>,
) -> Result<(), PolicyError> {
    only_system_nodes(req)?;
    if !req.dns_names.is_empty() {
        return Err(PolicyError::DnsSanNotAllowed);
    }
    if !req.email_addresses.is_empty() {
        return Err(PolicyError::EmailSanNotAllowed);
    }
    if !req.ip_addresses.is_empty() {
        return Err(PolicyError::IpSanNotAllowed);
    }
    if !req.uris.is_empty() {
        return Err(PolicyError::UriSanNotAllowed);
    }
    if !req.common_name.starts_with(NODE_USER_PREFIX) {
        return Err(PolicyError::CommonNameNotSystemNode);
    }
    usages_match(usages, usage::CLIENT_AUTH)
}

/// A kubelet serving certificate: O=system:nodes only, at least one DNS or IP SAN, no email
/// or URI SANs, usages {digital signature, server auth} (+ key encipherment),
/// CN=system:node:<name>.
pub fn validate_kubelet_serving(
    req: &CertificateRequest,
    usages: &BTreeSet<String>,
) -> Result<(), PolicyError> {
    only_system_nodes(req)?;
    if req.dns_names.is_empty() && req.ip_addresses.is_empty() {
        return Err(PolicyError::DnsOrIpSanRequired);
    }
    if !req.email_addresses.is_empty() {
        return Err(PolicyError::EmailSanNotAllowed);
    }
    if !req.uris.is_empty() {
        return Err(PolicyError::UriSanNotAllowed);
    }
    usages_match(usages, usage::SERVER_AUTH)?;
    if !req.common_name.starts_with(NODE_USER_PREFIX) {
        return Err(PolicyError::CommonNameNotSystemNode);
    }
    Ok(())
}

/// A generic apiserver client certificate: `client auth` required, only `digital
/// signature` and `key encipherment` besides it; the subject is free.
pub fn validate_kube_apiserver_client(usages: &BTreeSet<String>) -> Result<(), PolicyError> {
    let mut client_auth = false;
    for u in usages {
        match u.as_str() {
            usage::DIGITAL_SIGNATURE | usage::KEY_ENCIPHERMENT => {}
            usage::CLIENT_AUTH => client_auth = true,
            other => return Err(PolicyError::InvalidClientUsage(other.to_string())),
        }
    }
    if !client_auth {
        return Err(PolicyError::MissingClientAuth);
    }
    Ok(())
}

/// The check of the signer `signer_name`, or None for a signer this controller does not
/// serve.
pub fn validate_for_signer(
    signer_name: &str,
    req: &CertificateRequest,
    usages: &BTreeSet<String>,
) -> Option<Result<(), PolicyError>> {
    Some(match signer_name {
        csr::KUBE_APISERVER_CLIENT_KUBELET => validate_kubelet_client(req, usages),
        csr::KUBELET_SERVING => validate_kubelet_serving(req, usages),
        csr::KUBE_APISERVER_CLIENT => validate_kube_apiserver_client(usages),
        // No restrictions, for backward compatibility (as upstream).
        csr::LEGACY_UNKNOWN => Ok(()),
        _ => return None,
    })
}

/// Whether this is a node client request as the approver recognises it: the kubelet client
/// signer and a request that passes its checks.
pub fn is_node_client(
    signer_name: &str,
    req: &CertificateRequest,
    usages: &BTreeSet<String>,
) -> bool {
    signer_name == csr::KUBE_APISERVER_CLIENT_KUBELET
        && validate_kubelet_client(req, usages).is_ok()
}

/// A node client request made by the node itself (its user name is the CN).
pub fn is_self_node_client(
    signer_name: &str,
    username: &str,
    req: &CertificateRequest,
    usages: &BTreeSet<String>,
) -> bool {
    username == req.common_name && is_node_client(signer_name, req, usages)
}

/// The x509 usages the certificate gets for `spec.usages`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct X509Usages {
    /// keyUsage bits.
    pub key_usages: Vec<KeyUsagePurpose>,
    /// extKeyUsage purposes, in Go's order (as upstream's sorted list).
    pub extended_key_usages: Vec<ExtendedKeyUsagePurpose>,
}

/// Unknown usage names (upstream: "unrecognized usage values").
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unrecognized usage values: {0:?}")]
pub struct UnknownUsages(pub Vec<String>);

/// Map the API's usage names to keyUsage bits and extKeyUsage purposes.
pub fn x509_usages<'a>(
    usages: impl IntoIterator<Item = &'a String>,
) -> Result<X509Usages, UnknownUsages> {
    use ExtendedKeyUsagePurpose as E;
    use KeyUsagePurpose as K;
    let mut key = BTreeSet::new();
    let mut ext = BTreeSet::new();
    let mut unknown = Vec::new();
    for u in usages {
        // Key usages keyed by their bit position, EKUs by Go's enum order.
        let bit = match u.as_str() {
            "signing" | "digital signature" => Some(0),
            "content commitment" => Some(1),
            "key encipherment" => Some(2),
            "data encipherment" => Some(3),
            "key agreement" => Some(4),
            "cert sign" => Some(5),
            "crl sign" => Some(6),
            "encipher only" => Some(7),
            "decipher only" => Some(8),
            _ => None,
        };
        let eku = match u.as_str() {
            "any" => Some(0),
            "server auth" => Some(1),
            "client auth" => Some(2),
            "code signing" => Some(3),
            "email protection" | "s/mime" => Some(4),
            "ipsec end system" => Some(5),
            "ipsec tunnel" => Some(6),
            "ipsec user" => Some(7),
            "timestamping" => Some(8),
            "ocsp signing" => Some(9),
            "microsoft sgc" => Some(10),
            "netscape sgc" => Some(11),
            _ => None,
        };
        match (bit, eku) {
            (Some(b), _) => {
                key.insert(b);
            }
            (None, Some(e)) => {
                ext.insert(e);
            }
            (None, None) => unknown.push(u.clone()),
        }
    }
    if !unknown.is_empty() {
        return Err(UnknownUsages(unknown));
    }
    let key_usages = key
        .into_iter()
        .map(|b| match b {
            0 => K::DigitalSignature,
            1 => K::ContentCommitment,
            2 => K::KeyEncipherment,
            3 => K::DataEncipherment,
            4 => K::KeyAgreement,
            5 => K::KeyCertSign,
            6 => K::CrlSign,
            7 => K::EncipherOnly,
            _ => K::DecipherOnly,
        })
        .collect();
    let extended_key_usages = ext
        .into_iter()
        .map(|e| match e {
            0 => E::Any,
            1 => E::ServerAuth,
            2 => E::ClientAuth,
            3 => E::CodeSigning,
            4 => E::EmailProtection,
            5 => E::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 5]),
            6 => E::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 6]),
            7 => E::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 7]),
            8 => E::TimeStamping,
            9 => E::OcspSigning,
            10 => E::Other(vec![1, 3, 6, 1, 4, 1, 311, 10, 3, 3]),
            _ => E::Other(vec![2, 16, 840, 1, 113_730, 4, 1]),
        })
        .collect();
    Ok(X509Usages {
        key_usages,
        extended_key_usages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::csr::parse_request;
    use crate::controllers::csr::testing::request;

    fn parsed(cn: &str, orgs: &[&str], dns: &[&str]) -> CertificateRequest {
        parse_request(request(cn, orgs, dns).0.as_bytes()).expect("parse")
    }

    const CLIENT: &[&str] = &["digital signature", "client auth"];
    const CLIENT_RSA: &[&str] = &["digital signature", "key encipherment", "client auth"];

    #[test]
    fn node_client_requests_are_recognised() {
        let req = parsed("system:node:n1", &["system:nodes"], &[]);
        let signer = csr::KUBE_APISERVER_CLIENT_KUBELET;
        assert!(is_node_client(signer, &req, &set(CLIENT)));
        assert!(is_node_client(signer, &req, &set(CLIENT_RSA)));
        assert!(is_self_node_client(
            signer,
            "system:node:n1",
            &req,
            &set(CLIENT)
        ));
        assert!(!is_self_node_client(
            signer,
            "system:bootstrap:abcdef",
            &req,
            &set(CLIENT)
        ));
        // Another signer, or a request the kubelet client signer refuses: not recognised.
        assert!(!is_node_client(
            csr::KUBE_APISERVER_CLIENT,
            &req,
            &set(CLIENT)
        ));
        assert!(!is_node_client(signer, &req, &set(&["client auth"])));
        assert!(!is_node_client(
            signer,
            &req,
            &set(&["digital signature", "client auth", "server auth"])
        ));
    }

    #[test]
    fn kubelet_client_checks_subject_and_sans() {
        let u = set(CLIENT);
        assert_eq!(
            validate_kubelet_client(&parsed("system:node:n1", &["system:masters"], &[]), &u),
            Err(PolicyError::OrganizationNotSystemNodes)
        );
        assert_eq!(
            validate_kubelet_client(
                &parsed("system:node:n1", &["system:nodes", "system:masters"], &[]),
                &u
            ),
            Err(PolicyError::OrganizationNotSystemNodes)
        );
        assert_eq!(
            validate_kubelet_client(&parsed("system:node:n1", &[], &[]), &u),
            Err(PolicyError::OrganizationNotSystemNodes)
        );
        assert_eq!(
            validate_kubelet_client(&parsed("alice", &["system:nodes"], &[]), &u),
            Err(PolicyError::CommonNameNotSystemNode)
        );
        assert_eq!(
            validate_kubelet_client(&parsed("system:node:n1", &["system:nodes"], &["n1"]), &u),
            Err(PolicyError::DnsSanNotAllowed)
        );
        assert_eq!(
            validate_kubelet_client(
                &parsed("system:node:n1", &["system:nodes"], &[]),
                &set(&["digital signature", "server auth"])
            ),
            Err(PolicyError::UsagesDidNotMatch(vec![
                "client auth",
                "digital signature",
                "key encipherment"
            ]))
        );
    }

    #[test]
    fn kubelet_serving_needs_a_san_and_server_auth() {
        let u = set(&["digital signature", "key encipherment", "server auth"]);
        assert_eq!(
            validate_kubelet_serving(&parsed("system:node:n1", &["system:nodes"], &["n1"]), &u),
            Ok(())
        );
        assert_eq!(
            validate_kubelet_serving(&parsed("system:node:n1", &["system:nodes"], &[]), &u),
            Err(PolicyError::DnsOrIpSanRequired)
        );
        assert_eq!(
            validate_kubelet_serving(&parsed("n1", &["system:nodes"], &["n1"]), &u),
            Err(PolicyError::CommonNameNotSystemNode)
        );
        assert!(validate_kubelet_serving(
            &parsed("system:node:n1", &["system:nodes"], &["n1"]),
            &set(CLIENT)
        )
        .is_err());
    }

    #[test]
    fn apiserver_client_needs_client_auth_only() {
        assert_eq!(validate_kube_apiserver_client(&set(CLIENT_RSA)), Ok(()));
        assert_eq!(
            validate_kube_apiserver_client(&set(&["client auth"])),
            Ok(())
        );
        assert_eq!(
            validate_kube_apiserver_client(&set(&["digital signature"])),
            Err(PolicyError::MissingClientAuth)
        );
        assert_eq!(
            validate_kube_apiserver_client(&set(&["client auth", "server auth"])),
            Err(PolicyError::InvalidClientUsage("server auth".into()))
        );
        let req = parsed("anyone", &["a", "b"], &["x"]);
        assert_eq!(
            validate_for_signer(csr::KUBE_APISERVER_CLIENT, &req, &set(CLIENT)),
            Some(Ok(()))
        );
        assert_eq!(
            validate_for_signer("example.com/other", &req, &set(CLIENT)),
            None
        );
    }

    #[test]
    fn usages_map_to_key_usage_and_eku() {
        let got = x509_usages(&set(&[
            "client auth",
            "digital signature",
            "key encipherment",
            "server auth",
        ]))
        .expect("known");
        assert_eq!(
            got.key_usages,
            vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment
            ]
        );
        assert_eq!(
            got.extended_key_usages,
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth
            ]
        );
        assert_eq!(
            x509_usages(&set(&["client auth", "frobnicate"])),
            Err(UnknownUsages(vec!["frobnicate".into()]))
        );
        // "signing" and "digital signature" are one bit.
        assert_eq!(
            x509_usages(&set(&["signing", "digital signature"])).map(|u| u.key_usages.len()),
            Ok(1)
        );
    }
}
