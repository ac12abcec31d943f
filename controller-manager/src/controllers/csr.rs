//! What the certificate controllers (`csrapproving`, `csrsigning`, `csrcleaner`) share about a
//! CertificateSigningRequest: the built-in signer names, reading its conditions, and the
//! x509 request in `spec.request` decoded into the facts the checks look at (upstream's
//! `pkg/apis/certificates` helpers and `pkg/controller/certificates` utilities).

use std::net::IpAddr;

use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition,
};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

/// Client certificates the apiserver honours, for any user (`--client-ca-file`).
pub const KUBE_APISERVER_CLIENT: &str = "kubernetes.io/kube-apiserver-client";
/// Client certificates of kubelets (`system:node:<name>` in `system:nodes`).
pub const KUBE_APISERVER_CLIENT_KUBELET: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// Serving certificates of kubelets.
pub const KUBELET_SERVING: &str = "kubernetes.io/kubelet-serving";
/// The v1beta1-era signer with no restrictions (not creatable through certificates/v1).
pub const LEGACY_UNKNOWN: &str = "kubernetes.io/legacy-unknown";

/// Condition types of `status.conditions`.
pub const APPROVED: &str = "Approved";
/// The request was denied by an approver.
pub const DENIED: &str = "Denied";
/// The signer gave up on the request.
pub const FAILED: &str = "Failed";

/// The PEM label of `spec.request`.
const REQUEST_PEM_LABEL: &str = "CERTIFICATE REQUEST";

/// Why `spec.request` could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// Not a PEM block labelled `CERTIFICATE REQUEST`.
    #[error("PEM block type must be CERTIFICATE REQUEST")]
    NotPem,
    /// The DER inside does not parse as a PKCS#10 request.
    #[error("invalid certificate request: {0}")]
    Malformed(String),
    /// The request is not signed by the key it carries.
    #[error("unable to verify certificate request signature")]
    BadSignature,
}

/// One attribute of the request's subject, kept with its string type so the issued
/// certificate reproduces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectAttribute {
    /// The attribute type (`2.5.4.3` CN, `2.5.4.10` O, …), as arcs.
    pub oid: Vec<u64>,
    /// Its value.
    pub value: rcgen::DnValue,
}

/// The facts of a parsed, signature-checked x509 certificate request.
#[derive(Debug, Clone)]
pub struct CertificateRequest {
    /// The subject, attribute by attribute, in the request's order.
    pub subject: Vec<SubjectAttribute>,
    /// The subject's common name (the last CN attribute, as Go reads it).
    pub common_name: String,
    /// Every organization (O) of the subject, in order.
    pub organizations: Vec<String>,
    /// Requested DNS subjectAltNames.
    pub dns_names: Vec<String>,
    /// Requested IP subjectAltNames.
    pub ip_addresses: Vec<IpAddr>,
    /// Requested email subjectAltNames.
    pub email_addresses: Vec<String>,
    /// Requested URI subjectAltNames.
    pub uris: Vec<String>,
    /// The subject's public key, a DER SubjectPublicKeyInfo.
    pub public_key_info: Vec<u8>,
}

/// Decode `spec.request` (PEM) and check that the request is signed by its own key, as
/// upstream's signer does before issuing anything.
pub fn parse_request(pem: &[u8]) -> Result<CertificateRequest, RequestError> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem).map_err(|_| RequestError::NotPem)?;
    if block.label != REQUEST_PEM_LABEL {
        return Err(RequestError::NotPem);
    }
    let (_, req) = X509CertificationRequest::from_der(&block.contents)
        .map_err(|e| RequestError::Malformed(e.to_string()))?;
    req.verify_signature()
        .map_err(|_| RequestError::BadSignature)?;
    let info = &req.certification_request_info;
    let mut out = CertificateRequest {
        subject: Vec::new(),
        common_name: String::new(),
        organizations: Vec::new(),
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        email_addresses: Vec::new(),
        uris: Vec::new(),
        public_key_info: info.subject_pki.raw.to_vec(),
    };
    for attr in info.subject.iter_attributes() {
        let oid: Vec<u64> = attr
            .attr_type()
            .iter()
            .ok_or_else(|| RequestError::Malformed("subject attribute type".into()))?
            .collect();
        let value = dn_value(attr).map_err(RequestError::Malformed)?;
        let text = attr.as_str().unwrap_or_default().to_string();
        match oid.as_slice() {
            [2, 5, 4, 3] => out.common_name = text,
            [2, 5, 4, 10] => out.organizations.push(text),
            _ => {}
        }
        out.subject.push(SubjectAttribute { oid, value });
    }
    for ext in req.requested_extensions().into_iter().flatten() {
        let ParsedExtension::SubjectAlternativeName(san) = ext else {
            continue;
        };
        for name in &san.general_names {
            match name {
                GeneralName::DNSName(d) => out.dns_names.push(d.to_string()),
                GeneralName::RFC822Name(e) => out.email_addresses.push(e.to_string()),
                GeneralName::URI(u) => out.uris.push(u.to_string()),
                GeneralName::IPAddress(bytes) => out.ip_addresses.push(ip_from_bytes(bytes)?),
                // Go's parser drops the other name forms, and so does the issued certificate.
                _ => {}
            }
        }
    }
    Ok(out)
}

fn ip_from_bytes(bytes: &[u8]) -> Result<IpAddr, RequestError> {
    match bytes.len() {
        4 => Ok(IpAddr::from(<[u8; 4]>::try_from(bytes).unwrap_or_default())),
        16 => Ok(IpAddr::from(
            <[u8; 16]>::try_from(bytes).unwrap_or_default(),
        )),
        n => Err(RequestError::Malformed(format!(
            "IP subjectAltName of {n} bytes"
        ))),
    }
}

/// The attribute's value with its ASN.1 string type.
fn dn_value(attr: &x509_parser::x509::AttributeTypeAndValue<'_>) -> Result<rcgen::DnValue, String> {
    use x509_parser::der_parser::asn1_rs::Tag;
    let any = attr.attr_value();
    let text = || {
        std::str::from_utf8(any.data)
            .map(str::to_string)
            .map_err(|_| "subject attribute is not valid UTF-8".to_string())
    };
    let bad = |e: rcgen::Error| e.to_string();
    Ok(match any.header.tag() {
        Tag::Utf8String => rcgen::DnValue::Utf8String(text()?),
        Tag::PrintableString => rcgen::DnValue::PrintableString(text()?.try_into().map_err(bad)?),
        Tag::Ia5String => rcgen::DnValue::Ia5String(text()?.try_into().map_err(bad)?),
        Tag::T61String => rcgen::DnValue::TeletexString(text()?.try_into().map_err(bad)?),
        tag => return Err(format!("unsupported subject string type {tag}")),
    })
}

fn conditions(csr: &CertificateSigningRequest) -> &[CertificateSigningRequestCondition] {
    csr.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
}

/// Whether an Approved condition is present and no Denied one (upstream's
/// `IsCertificateRequestApproved`).
pub fn is_approved(csr: &CertificateSigningRequest) -> bool {
    let (approved, denied) = approval(csr);
    approved && !denied
}

/// Whether the request carries an Approved and/or a Denied condition.
pub fn approval(csr: &CertificateSigningRequest) -> (bool, bool) {
    let c = conditions(csr);
    (
        c.iter().any(|c| c.type_ == APPROVED),
        c.iter().any(|c| c.type_ == DENIED),
    )
}

/// Whether a condition of `type_` has status True.
pub fn has_true_condition(csr: &CertificateSigningRequest, type_: &str) -> bool {
    conditions(csr)
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True")
}

/// The condition of `type_`, if any.
pub fn condition<'a>(
    csr: &'a CertificateSigningRequest,
    type_: &str,
) -> Option<&'a CertificateSigningRequestCondition> {
    conditions(csr).iter().find(|c| c.type_ == type_)
}

/// Whether `status.certificate` holds a certificate.
pub fn is_issued(csr: &CertificateSigningRequest) -> bool {
    csr.status
        .as_ref()
        .and_then(|s| s.certificate.as_ref())
        .is_some_and(|c| !c.0.is_empty())
}

/// `spec.usages` as a sorted, deduplicated set.
pub fn usages(csr: &CertificateSigningRequest) -> std::collections::BTreeSet<String> {
    csr.spec.usages.iter().flatten().cloned().collect()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Requests built with rcgen, for the tests of the certificate controllers.

    use rcgen::{CertificateParams, DnType, KeyPair, SanType};

    /// A PEM request for `cn` in `orgs` with `dns` SANs, and its key.
    pub fn request(cn: &str, orgs: &[&str], dns: &[&str]) -> (String, KeyPair) {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        if let Some(first) = orgs.first() {
            params
                .distinguished_name
                .push(DnType::OrganizationName, *first);
        }
        if let Some(second) = orgs.get(1) {
            params
                .distinguished_name
                .push(DnType::CustomDnType(vec![2, 5, 4, 10]), *second);
        }
        params.distinguished_name.push(DnType::CommonName, cn);
        for d in dns {
            params
                .subject_alt_names
                .push(SanType::DnsName((*d).try_into().expect("dns")));
        }
        let csr = params.serialize_request(&key).expect("csr");
        (csr.pem().expect("pem"), key)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::request;
    use super::*;
    use k8s_openapi::api::certificates::v1::CertificateSigningRequestStatus;

    #[test]
    fn parses_subject_sans_and_key() {
        let (pem, key) = request("system:node:n1", &["system:nodes"], &["n1.example"]);
        let req = parse_request(pem.as_bytes()).expect("parse");
        assert_eq!(req.common_name, "system:node:n1");
        assert_eq!(req.organizations, vec!["system:nodes".to_string()]);
        assert_eq!(req.dns_names, vec!["n1.example".to_string()]);
        assert!(req.ip_addresses.is_empty() && req.email_addresses.is_empty());
        assert_eq!(
            req.public_key_info,
            rcgen::PublicKeyData::subject_public_key_info(&key)
        );
        assert_eq!(req.subject.len(), 2);
    }

    #[test]
    fn rejects_other_pem_and_tampered_requests() {
        let (pem, _) = request("tamperme", &[], &[]);
        let cert_label = pem.replace("CERTIFICATE REQUEST", "CERTIFICATE");
        assert_eq!(
            parse_request(cert_label.as_bytes()).unwrap_err(),
            RequestError::NotPem
        );
        assert_eq!(parse_request(b"junk").unwrap_err(), RequestError::NotPem);
        // Flip a bit inside the subject: the signature no longer covers what is there.
        let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("pem");
        let mut der = block.contents.clone();
        let at = der
            .windows(8)
            .position(|w| w == b"tamperme")
            .expect("CN bytes");
        der[at] = b'd';
        let forged = pem_encode(&der);
        assert_eq!(
            parse_request(forged.as_bytes()).unwrap_err(),
            RequestError::BadSignature
        );
    }

    fn pem_encode(der: &[u8]) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
            lines.join("\n")
        )
    }

    fn with_conditions(conds: &[(&str, &str)]) -> CertificateSigningRequest {
        CertificateSigningRequest {
            status: Some(CertificateSigningRequestStatus {
                conditions: Some(
                    conds
                        .iter()
                        .map(|(t, s)| CertificateSigningRequestCondition {
                            type_: t.to_string(),
                            status: s.to_string(),
                            ..Default::default()
                        })
                        .collect(),
                ),
                certificate: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn approval_is_approved_without_denied() {
        assert!(is_approved(&with_conditions(&[(APPROVED, "True")])));
        assert!(!is_approved(&with_conditions(&[
            (APPROVED, "True"),
            (DENIED, "True")
        ])));
        assert!(!is_approved(&with_conditions(&[])));
        assert!(has_true_condition(
            &with_conditions(&[(FAILED, "True")]),
            FAILED
        ));
        assert!(!has_true_condition(
            &with_conditions(&[(FAILED, "False")]),
            FAILED
        ));
        assert!(!is_issued(&with_conditions(&[(APPROVED, "True")])));
    }
}
