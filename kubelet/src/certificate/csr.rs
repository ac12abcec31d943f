//! The node client CertificateSigningRequest: an ECDSA P-256 key, a PKCS#10 request for
//! `CN=system:node:<node>, O=system:nodes`, and the certificates.k8s.io/v1 object that
//! carries it to the `kubernetes.io/kube-apiserver-client-kubelet` signer — the identity the
//! Node authorizer and the NodeRestriction rules expect. Also what the CSR's status says.

use base64::Engine as _;
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestSpec,
};
use k8s_openapi::ByteString;
use kube::api::ObjectMeta;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PublicKeyData};
use sha2::{Digest, Sha512_256};

use super::CertificateError;

/// The signer that issues kubelets' client certificates (auto-approved for nodes by the
/// csrapproving controller, signed by the csrsigning controller with the cluster CA).
pub const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// The group every node's identity belongs to.
pub const NODES_GROUP: &str = "system:nodes";
/// Key usages of a kubelet client certificate with an ECDSA key (RSA keys would add
/// "key encipherment").
pub const CLIENT_USAGES: [&str; 2] = ["digital signature", "client auth"];

/// The user name a node authenticates as.
pub fn node_user(node_name: &str) -> String {
    format!("system:node:{node_name}")
}

/// A freshly generated private key (ECDSA P-256, PKCS#8 PEM).
pub fn generate_key() -> Result<KeyPair, CertificateError> {
    KeyPair::generate().map_err(|source| CertificateError::Generate {
        what: "the client key",
        source,
    })
}

/// Reads a PEM private key (the one a previous, interrupted bootstrap left behind).
pub fn parse_key(pem: &str) -> Result<KeyPair, CertificateError> {
    KeyPair::from_pem(pem).map_err(|e| CertificateError::Parse {
        what: "the client key".into(),
        reason: e.to_string(),
    })
}

/// A node's client certificate request, ready to be posted.
#[derive(Clone, Debug)]
pub struct NodeClientRequest {
    /// The CSR object's name: derived from the key, subject and usages, so a kubelet that
    /// restarts with the same key finds its earlier request instead of making another.
    pub name: String,
    /// The PKCS#10 request, PEM (`-----BEGIN CERTIFICATE REQUEST-----`).
    pub request_pem: String,
}

/// Builds the PKCS#10 request for `node_name`, signed with `key`.
pub fn node_client_request(
    key: &KeyPair,
    node_name: &str,
) -> Result<NodeClientRequest, CertificateError> {
    let common_name = node_user(node_name);
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, NODES_GROUP);
    params
        .distinguished_name
        .push(DnType::CommonName, common_name.as_str());
    let generate = |source| CertificateError::Generate {
        what: "the certificate request",
        source,
    };
    let request_pem = params
        .serialize_request(key)
        .and_then(|csr| csr.pem())
        .map_err(generate)?;
    let name = digested_name(
        &key.subject_public_key_info(),
        &common_name,
        &[NODES_GROUP],
        &CLIENT_USAGES,
    );
    Ok(NodeClientRequest { name, request_pem })
}

/// `node-csr-<digest>`: a SHA-512/256 over the public key, the subject and the usages, each
/// base64url-encoded and '|'-terminated ('|' is outside that alphabet, so no two inputs
/// give the same stream), as upstream names the kubelet's requests.
pub fn digested_name(
    public_key_der: &[u8],
    common_name: &str,
    organizations: &[&str],
    usages: &[&str],
) -> String {
    let encode = |data: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data);
    let mut hash = Sha512_256::new();
    let mut write = |data: &[u8]| {
        hash.update(encode(data).as_bytes());
        hash.update(b"|");
    };
    write(public_key_der);
    write(common_name.as_bytes());
    for org in organizations {
        write(org.as_bytes());
    }
    for usage in usages {
        write(usage.as_bytes());
    }
    format!("node-csr-{}", encode(&hash.finalize()))
}

/// The certificates.k8s.io/v1 object for `request`.
pub fn csr_object(request: &NodeClientRequest) -> CertificateSigningRequest {
    CertificateSigningRequest {
        metadata: ObjectMeta {
            name: Some(request.name.clone()),
            ..Default::default()
        },
        spec: CertificateSigningRequestSpec {
            request: ByteString(request.request_pem.as_bytes().to_vec()),
            signer_name: KUBELET_CLIENT_SIGNER.into(),
            usages: Some(CLIENT_USAGES.iter().map(|u| u.to_string()).collect()),
            ..Default::default()
        },
        status: None,
    }
}

/// Where a CertificateSigningRequest stands, read from its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CsrState {
    /// Neither approved nor denied yet.
    Pending,
    /// Approved; the signer has not written the certificate yet.
    Approved,
    /// Approved and signed: the PEM certificate chain.
    Issued(Vec<u8>),
    /// An approver denied it.
    Denied { reason: String, message: String },
    /// The signer gave up on it.
    Failed { reason: String, message: String },
}

/// Reads the CSR's conditions and certificate. Denied and Failed are final whatever else
/// the status holds; a certificate counts only once the request is approved.
pub fn csr_state(csr: &CertificateSigningRequest) -> CsrState {
    let Some(status) = &csr.status else {
        return CsrState::Pending;
    };
    let mut approved = false;
    for condition in status.conditions.iter().flatten() {
        let reason = condition.reason.clone().unwrap_or_default();
        let message = condition.message.clone().unwrap_or_default();
        match condition.type_.as_str() {
            "Denied" => return CsrState::Denied { reason, message },
            "Failed" => return CsrState::Failed { reason, message },
            "Approved" => approved = true,
            _ => {}
        }
    }
    match &status.certificate {
        Some(cert) if approved && !cert.0.is_empty() => CsrState::Issued(cert.0.clone()),
        _ if approved => CsrState::Approved,
        _ => CsrState::Pending,
    }
}

/// Whether a CSR found under our name is the one we would post (same request bytes, same
/// signer): a kubelet restarted with its cached key reuses it, anything else is a clash.
pub fn same_request(existing: &CertificateSigningRequest, request: &NodeClientRequest) -> bool {
    existing.spec.signer_name == KUBELET_CLIENT_SIGNER
        && existing.spec.request.0 == request.request_pem.as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::certificates::v1::{
        CertificateSigningRequestCondition, CertificateSigningRequestStatus,
    };
    use x509_parser::certification_request::X509CertificationRequest;
    use x509_parser::prelude::FromDer;

    fn pem_der(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("base64 PEM body")
    }

    #[test]
    fn request_has_the_node_subject_and_verifies() {
        let key = generate_key().unwrap();
        let req = node_client_request(&key, "worker-1").unwrap();
        assert!(req
            .request_pem
            .starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
        let der = pem_der(&req.request_pem);
        let (_, parsed) = X509CertificationRequest::from_der(&der).unwrap();
        let subject = &parsed.certification_request_info.subject;
        let cn: Vec<_> = subject
            .iter_common_name()
            .map(|a| a.as_str().unwrap())
            .collect();
        let org: Vec<_> = subject
            .iter_organization()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(cn, ["system:node:worker-1"]);
        assert_eq!(org, ["system:nodes"]);
        // Signed by the key it carries.
        parsed.verify_signature().unwrap();
        assert_eq!(
            parsed.certification_request_info.subject_pki.raw,
            key.subject_public_key_info().as_slice()
        );
    }

    #[test]
    fn object_names_signer_usages_and_a_stable_name() {
        let key = generate_key().unwrap();
        let a = node_client_request(&key, "n1").unwrap();
        let b = node_client_request(&key, "n1").unwrap();
        let other_node = node_client_request(&key, "n2").unwrap();
        let other_key = node_client_request(&generate_key().unwrap(), "n1").unwrap();
        assert!(a.name.starts_with("node-csr-"));
        assert_eq!(a.name, b.name, "same key and subject: same name");
        assert_ne!(a.name, other_node.name);
        assert_ne!(a.name, other_key.name);
        let obj = csr_object(&a);
        assert_eq!(obj.metadata.name.as_deref(), Some(a.name.as_str()));
        assert_eq!(obj.spec.signer_name, KUBELET_CLIENT_SIGNER);
        assert_eq!(
            obj.spec.usages.as_deref(),
            Some(&["digital signature".to_string(), "client auth".to_string()][..])
        );
        assert_eq!(obj.spec.request.0, a.request_pem.as_bytes());
        // JSON carries the request base64-encoded, as the API wants.
        let json = serde_json::to_value(&obj).unwrap();
        let wire = json["spec"]["request"].as_str().unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(wire)
                .unwrap(),
            a.request_pem.as_bytes()
        );
        assert!(same_request(&obj, &a));
        assert!(!same_request(&obj, &other_key));
    }

    #[test]
    fn digested_name_separates_fields() {
        // Without a delimiter "CN:ab,O:c" and "CN:a,O:bc" would hash alike.
        assert_ne!(
            digested_name(b"k", "ab", &["c"], &[]),
            digested_name(b"k", "a", &["bc"], &[])
        );
    }

    fn with_conditions(types: &[&str], cert: Option<&[u8]>) -> CertificateSigningRequest {
        CertificateSigningRequest {
            status: Some(CertificateSigningRequestStatus {
                conditions: Some(
                    types
                        .iter()
                        .map(|t| CertificateSigningRequestCondition {
                            type_: t.to_string(),
                            status: "True".into(),
                            reason: Some(format!("{t}Reason")),
                            message: Some(format!("{t} message")),
                            ..Default::default()
                        })
                        .collect(),
                ),
                certificate: cert.map(|c| ByteString(c.to_vec())),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn state_follows_conditions_and_certificate() {
        assert_eq!(
            csr_state(&CertificateSigningRequest::default()),
            CsrState::Pending
        );
        assert_eq!(csr_state(&with_conditions(&[], None)), CsrState::Pending);
        assert_eq!(
            csr_state(&with_conditions(&["Approved"], None)),
            CsrState::Approved
        );
        assert_eq!(
            csr_state(&with_conditions(&["Approved"], Some(b"PEM"))),
            CsrState::Issued(b"PEM".to_vec())
        );
        // A certificate without approval is not trusted to be final.
        assert_eq!(
            csr_state(&with_conditions(&[], Some(b"PEM"))),
            CsrState::Pending
        );
        assert_eq!(
            csr_state(&with_conditions(&["Denied"], None)),
            CsrState::Denied {
                reason: "DeniedReason".into(),
                message: "Denied message".into()
            }
        );
        assert!(matches!(
            csr_state(&with_conditions(&["Approved", "Failed"], Some(b"PEM"))),
            CsrState::Failed { .. }
        ));
    }
}
