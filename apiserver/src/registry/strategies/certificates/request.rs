//! The PKCS#10 request a CSR carries and the certificates its signer returns: PEM decoding,
//! parsing and the signature check upstream's `validateCSR` makes, plus the subject rules
//! of the `kubernetes.io/kube-apiserver-client-kubelet` signer (upstream's
//! `ValidateKubeletClientCSR`).

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::pem::Pem;
use x509_parser::prelude::FromDer;

/// The signer of kubelet client certificates.
pub const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// The signer of client certificates for the apiserver (never auto-approved).
pub const APISERVER_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client";

/// Why a request is not an acceptable certificate request.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    /// Not a `CERTIFICATE REQUEST` PEM block.
    #[error("PEM block type must be CERTIFICATE REQUEST")]
    NotPem,
    /// The DER inside did not parse.
    #[error("x509: malformed certificate request: {0}")]
    Malformed(String),
    /// The self-signature does not verify with the request's own key.
    #[error("x509: certificate request signature verification failed: {0}")]
    BadSignature(String),
}

/// What the checks need from a parsed certificate request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateRequest {
    /// Subject common name (the first one).
    pub common_name: String,
    /// Subject organizations, in order.
    pub organizations: Vec<String>,
    /// Requested DNS subject alternative names.
    pub dns_names: usize,
    /// Requested email subject alternative names.
    pub email_addresses: usize,
    /// Requested IP subject alternative names.
    pub ip_addresses: usize,
    /// Requested URI subject alternative names.
    pub uris: usize,
}

/// Decode the first PEM block of `pem`, which must be a `CERTIFICATE REQUEST`, parse it and
/// check its signature (upstream's `ParseCSR` + `CheckSignature`).
pub fn parse(pem: &[u8]) -> Result<CertificateRequest, RequestError> {
    let block = Pem::iter_from_buffer(pem)
        .next()
        .and_then(Result::ok)
        .filter(|b| b.label == "CERTIFICATE REQUEST")
        .ok_or(RequestError::NotPem)?;
    let (_, csr) = X509CertificationRequest::from_der(&block.contents)
        .map_err(|e| RequestError::Malformed(e.to_string()))?;
    csr.verify_signature()
        .map_err(|e| RequestError::BadSignature(e.to_string()))?;
    let subject = &csr.certification_request_info.subject;
    let text = |a: &x509_parser::x509::AttributeTypeAndValue| {
        a.as_str().map(str::to_string).unwrap_or_default()
    };
    let mut out = CertificateRequest {
        common_name: subject
            .iter_common_name()
            .next()
            .map(text)
            .unwrap_or_default(),
        organizations: subject.iter_organization().map(text).collect(),
        ..Default::default()
    };
    if let Some(exts) = csr.requested_extensions() {
        for ext in exts {
            if let ParsedExtension::SubjectAlternativeName(san) = ext {
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(_) => out.dns_names += 1,
                        GeneralName::RFC822Name(_) => out.email_addresses += 1,
                        GeneralName::IPAddress(_) => out.ip_addresses += 1,
                        GeneralName::URI(_) => out.uris += 1,
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The usages a kubelet client certificate may ask for: exactly these (RSA keys), or these
/// without `key encipherment` (other keys).
const KUBELET_CLIENT_USAGES: [&str; 3] = ["digital signature", "key encipherment", "client auth"];

/// Upstream's `ValidateKubeletClientCSR`: subject `O=system:nodes`, `CN=system:node:<name>`,
/// no subject alternative names, usages exactly {digital signature, [key encipherment],
/// client auth}.
pub fn validate_kubelet_client(req: &CertificateRequest, usages: &[&str]) -> Result<(), String> {
    if req.organizations != ["system:nodes"] {
        return Err("subject organization is not system:nodes".into());
    }
    if req.dns_names > 0 {
        return Err("DNS subjectAltNames are not allowed".into());
    }
    if req.email_addresses > 0 {
        return Err("Email subjectAltNames are not allowed".into());
    }
    if req.ip_addresses > 0 {
        return Err("IP subjectAltNames are not allowed".into());
    }
    if req.uris > 0 {
        return Err("URI subjectAltNames are not allowed".into());
    }
    if !req.common_name.starts_with("system:node:") {
        return Err("subject common name does not begin with system:node:".into());
    }
    let mut set: Vec<&str> = usages.to_vec();
    set.sort_unstable();
    set.dedup();
    let mut with_rsa = KUBELET_CLIENT_USAGES.to_vec();
    with_rsa.sort_unstable();
    let without_rsa: Vec<&str> = with_rsa
        .iter()
        .copied()
        .filter(|u| *u != "key encipherment")
        .collect();
    if set != with_rsa && set != without_rsa {
        return Err(format!("usages did not match [{}]", with_rsa.join(" ")));
    }
    Ok(())
}

/// Upstream's `validateCertificate` for `status.certificate`: one or more `CERTIFICATE` PEM
/// blocks, without headers, each holding a parseable certificate (text around the blocks is
/// allowed).
pub fn validate_certificate_chain(pem: &[u8]) -> Result<(), String> {
    if pem.is_empty() {
        return Ok(());
    }
    let mut blocks = 0;
    for block in Pem::iter_from_buffer(pem) {
        let Ok(block) = block else { break };
        if block.label != "CERTIFICATE" {
            return Err(format!(
                "only CERTIFICATE PEM blocks are allowed, found {:?}",
                block.label
            ));
        }
        x509_parser::parse_x509_certificate(&block.contents)
            .map_err(|e| format!("x509: malformed certificate: {e}"))?;
        blocks += 1;
    }
    if blocks == 0 {
        return Err("must contain at least one CERTIFICATE PEM block".into());
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A PEM certificate request for `cn` in `orgs`, with `dns` SANs.
    pub(crate) fn csr_pem(cn: &str, orgs: &[&str], dns: &[&str]) -> String {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(dns.iter().map(|d| d.to_string()).collect::<Vec<_>>())
                .expect("params");
        params.distinguished_name = rcgen::DistinguishedName::new();
        for o in orgs {
            params
                .distinguished_name
                .push(rcgen::DnType::OrganizationName, *o);
        }
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params
            .serialize_request(&key)
            .expect("csr")
            .pem()
            .expect("pem")
    }

    #[test]
    fn parses_subject_and_sans_of_a_signed_request() {
        let pem = csr_pem("system:node:n1", &["system:nodes"], &["n1.example"]);
        let req = parse(pem.as_bytes()).expect("parse");
        assert_eq!(req.common_name, "system:node:n1");
        assert_eq!(req.organizations, ["system:nodes"]);
        assert_eq!(req.dns_names, 1);
    }

    #[test]
    fn refuses_other_pem_garbage_and_bad_signatures() {
        assert_eq!(parse(b"hello"), Err(RequestError::NotPem));
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(parse(cert.as_bytes()), Err(RequestError::NotPem));
        let junk = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
        assert!(matches!(
            parse(junk.as_bytes()),
            Err(RequestError::Malformed(_))
        ));
        // Flip a byte of the signature (the last bytes of the DER).
        let pem = csr_pem("alice", &[], &[]);
        let block = Pem::iter_from_buffer(pem.as_bytes())
            .next()
            .expect("block")
            .expect("pem");
        let mut der = block.contents.clone();
        let last = der.len() - 1;
        der[last] ^= 0x55;
        let tampered = Pem {
            label: "CERTIFICATE REQUEST".into(),
            contents: der,
        };
        let text = format!(
            "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                &tampered.contents
            )
        );
        assert!(matches!(
            parse(text.as_bytes()),
            Err(RequestError::BadSignature(_))
        ));
    }

    #[test]
    fn kubelet_client_subject_rules() {
        let usages = ["digital signature", "client auth"];
        let ok = parse(csr_pem("system:node:n1", &["system:nodes"], &[]).as_bytes()).expect("ok");
        assert_eq!(validate_kubelet_client(&ok, &usages), Ok(()));
        assert_eq!(
            validate_kubelet_client(
                &ok,
                &["key encipherment", "digital signature", "client auth"]
            ),
            Ok(())
        );
        assert!(validate_kubelet_client(&ok, &["client auth"]).is_err());
        assert!(
            validate_kubelet_client(&ok, &["digital signature", "client auth", "server auth"])
                .is_err()
        );
        let wrong_org =
            parse(csr_pem("system:node:n1", &["system:masters"], &[]).as_bytes()).expect("parse");
        assert_eq!(
            validate_kubelet_client(&wrong_org, &usages),
            Err("subject organization is not system:nodes".into())
        );
        let wrong_cn = parse(csr_pem("n1", &["system:nodes"], &[]).as_bytes()).expect("parse");
        assert_eq!(
            validate_kubelet_client(&wrong_cn, &usages),
            Err("subject common name does not begin with system:node:".into())
        );
        let san =
            parse(csr_pem("system:node:n1", &["system:nodes"], &["n1"]).as_bytes()).expect("parse");
        assert_eq!(
            validate_kubelet_client(&san, &usages),
            Err("DNS subjectAltNames are not allowed".into())
        );
    }

    #[test]
    fn certificate_chains_must_be_certificate_blocks() {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["x".into()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let pem = format!("leading text\n{}", cert.pem());
        assert_eq!(validate_certificate_chain(pem.as_bytes()), Ok(()));
        assert!(validate_certificate_chain(b"no pem here").is_err());
        let req = csr_pem("a", &[], &[]);
        assert!(validate_certificate_chain(req.as_bytes())
            .is_err_and(|e| e.contains("only CERTIFICATE PEM blocks")));
    }
}
