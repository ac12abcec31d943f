//! The certificates admission plugins, on by default as upstream:
//! - CertificateApproval: an update of `/approval` needs verb `approve` on the request's
//!   signer (resource `signers` in `certificates.k8s.io`, named after the signer or
//!   `<domain>/*`);
//! - CertificateSigning: a `/status` update that changes `status.certificate` needs verb `sign`
//!   on the signer;
//! - CertificateSubjectRestriction: no request for the `kubernetes.io/kube-apiserver-client`
//!   signer may ask for the `system:masters` group.

use base64::Engine;
use serde_json::Value;

use crate::authn::UserInfo;
use crate::authz::{forbidden_for, Attributes, Authorizer};
use crate::errors::ApiError;
use crate::registry::strategies::certificates::request;

const GROUP: &str = "certificates.k8s.io";
const RESOURCE: &str = "certificatesigningrequests";

fn signer_name(csr: &Value) -> &str {
    csr.pointer("/spec/signerName")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn csr_name(csr: &Value) -> &str {
    csr.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Upstream's `IsAuthorizedForSignerName`: `verb` on `signers/<signerName>`, or on
/// `signers/<domain>/*`.
pub fn authorized_for_signer(
    authz: &Authorizer,
    user: &UserInfo,
    verb: &str,
    signer: &str,
) -> bool {
    let mut attrs = Attributes {
        user: user.name.clone(),
        groups: user.groups.clone(),
        verb: verb.to_string(),
        resource_request: true,
        group: GROUP.to_string(),
        version: "*".to_string(),
        resource: "signers".to_string(),
        name: signer.to_string(),
        ..Default::default()
    };
    if authz.authorize(&attrs).allowed() {
        return true;
    }
    let domain = signer.split('/').next().unwrap_or_default();
    attrs.name = format!("{domain}/*");
    authz.authorize(&attrs).allowed()
}

/// CertificateApproval and CertificateSigning for an update through `subresource`.
pub fn admit_update(
    authz: &Authorizer,
    user: &UserInfo,
    subresource: &str,
    new: &Value,
    old: &Value,
) -> Result<(), ApiError> {
    let signer = signer_name(old);
    match subresource {
        "approval" => {
            if !authorized_for_signer(authz, user, "approve", signer) {
                return Err(forbidden_for(
                    GROUP,
                    RESOURCE,
                    csr_name(old),
                    &format!("user not permitted to approve requests with signerName {signer:?}"),
                ));
            }
        }
        "status" => {
            let cert = |o: &Value| o.pointer("/status/certificate").cloned();
            if cert(new) != cert(old) && !authorized_for_signer(authz, user, "sign", signer) {
                return Err(forbidden_for(
                    GROUP,
                    RESOURCE,
                    csr_name(old),
                    &format!("user not permitted to sign requests with signerName {signer:?}"),
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// CertificateSubjectRestriction on create.
pub fn admit_create(csr: &Value) -> Result<(), ApiError> {
    let signer = signer_name(csr);
    if signer != request::APISERVER_CLIENT_SIGNER {
        return Ok(());
    }
    let pem = csr
        .pointer("/spec/request")
        .and_then(Value::as_str)
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .unwrap_or_default();
    // An unparseable request is refused by validation; nothing to restrict here.
    let Ok(req) = request::parse(&pem) else {
        return Ok(());
    };
    if req
        .organizations
        .iter()
        .any(|o| o == crate::authz::PRIVILEGED_GROUP)
    {
        return Err(forbidden_for(
            GROUP,
            RESOURCE,
            csr_name(csr),
            &format!("use of {signer} signer with system:masters group is not allowed"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::Mode;
    use serde_json::json;

    fn csr(signer: &str, pem: &str) -> Value {
        json!({"metadata": {"name": "c1"}, "spec": {"signerName": signer,
            "request": base64::engine::general_purpose::STANDARD.encode(pem)}})
    }

    #[test]
    fn approval_and_signing_need_the_signer_permission() {
        let authz = Authorizer::new(vec![Mode::Rbac]);
        let alice = UserInfo::system("alice", &["system:authenticated"]);
        let old = csr("kubernetes.io/kube-apiserver-client-kubelet", "");
        let e = admit_update(&authz, &alice, "approval", &old, &old).expect_err("forbidden");
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            r#"certificatesigningrequests.certificates.k8s.io "c1" is forbidden: user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client-kubelet""#
        );
        let mut issued = old.clone();
        issued["status"] = json!({"certificate": "Zm9v"});
        let e = admit_update(&authz, &alice, "status", &issued, &old).expect_err("forbidden");
        assert!(e.message.ends_with(r#"user not permitted to sign requests with signerName "kubernetes.io/kube-apiserver-client-kubelet""#));
        // A status update that leaves the certificate alone needs no signer permission.
        assert!(admit_update(&authz, &alice, "status", &old, &old).is_ok());
        let admin = UserInfo::system("admin", &["system:masters"]);
        assert!(admit_update(&authz, &admin, "approval", &old, &old).is_ok());
    }

    #[test]
    fn apiserver_client_requests_may_not_ask_for_system_masters() {
        use crate::registry::strategies::certificates::request::tests::csr_pem;
        let masters = csr_pem("eve", &["system:masters"], &[]);
        let e = admit_create(&csr(request::APISERVER_CLIENT_SIGNER, &masters)).expect_err("403");
        assert_eq!(e.code, 403);
        assert!(e.message.ends_with(
            "use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed"
        ));
        assert!(admit_create(&csr("example.com/x", &masters)).is_ok());
        let devs = csr_pem("bob", &["devs"], &[]);
        assert!(admit_create(&csr(request::APISERVER_CLIENT_SIGNER, &devs)).is_ok());
    }
}
