use base64::Engine;
use serde_json::{json, Value};

use super::request::tests::csr_pem;
use super::*;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn kubelet_csr() -> Value {
    json!({"metadata": {"name": "node-csr-1"}, "spec": {
        "request": b64(&csr_pem("system:node:n1", &["system:nodes"], &[])),
        "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
        "usages": ["digital signature", "client auth"],
        "expirationSeconds": 3600,
    }})
}

fn fields(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(|e| e.field.clone()).collect()
}

#[test]
fn a_well_formed_kubelet_request_validates() {
    let errs = CertificateSigningRequest.validate(&kubelet_csr(), None);
    assert!(errs.is_empty(), "{errs:?}");
}

#[test]
fn create_records_the_requestor_and_drops_status() {
    let mut csr = kubelet_csr();
    csr["spec"]["username"] = json!("someone-else");
    csr["spec"]["groups"] = json!(["system:masters"]);
    csr["status"] = json!({"conditions": [{"type": "Approved", "status": "True"}]});
    let mut user = UserInfo::system(
        "system:bootstrap:abcdef",
        &["system:bootstrappers", "system:authenticated"],
    );
    user.extra.insert("k".into(), vec!["v".into()]);
    CertificateSigningRequest.prepare_for_create(&mut csr, &user);
    assert_eq!(csr["spec"]["username"], "system:bootstrap:abcdef");
    assert_eq!(
        csr["spec"]["groups"],
        json!(["system:bootstrappers", "system:authenticated"])
    );
    assert_eq!(csr["spec"]["extra"]["k"][0], "v");
    assert!(csr["spec"].get("uid").is_none());
    assert!(csr.get("status").is_none());
}

#[test]
fn bad_requests_and_fields_are_invalid_with_paths() {
    let mut csr = kubelet_csr();
    csr["spec"]["request"] = json!(b64("not a pem"));
    csr["spec"]["usages"] = json!(["client auth", "flying", "client auth"]);
    csr["spec"]["signerName"] = json!("kubernetes.io");
    csr["spec"]["expirationSeconds"] = json!(599);
    let errs = CertificateSigningRequest.validate(&csr, None);
    let f = fields(&errs);
    assert!(f.contains(&"spec.request".to_string()), "{errs:?}");
    assert!(f.contains(&"spec.usages[1]".to_string()), "{errs:?}");
    assert!(f.contains(&"spec.usages[2]".to_string()), "{errs:?}");
    assert!(f.contains(&"spec.signerName".to_string()), "{errs:?}");
    assert!(
        f.contains(&"spec.expirationSeconds".to_string()),
        "{errs:?}"
    );
    let mut no_signer = kubelet_csr();
    no_signer["spec"]["signerName"] = json!("");
    let errs = CertificateSigningRequest.validate(&no_signer, None);
    assert_eq!(errs[0].message(), "spec.signerName: Required value");
}

#[test]
fn kubelet_signer_requires_a_node_subject() {
    let mut csr = kubelet_csr();
    csr["spec"]["request"] = json!(b64(&csr_pem("alice", &["devs"], &[])));
    let errs = CertificateSigningRequest.validate(&csr, None);
    assert_eq!(fields(&errs), ["spec.request"]);
    assert!(errs[0].detail.contains("system:nodes"), "{errs:?}");
    // Another signer does not care about the subject.
    csr["spec"]["signerName"] = json!("example.com/anything");
    assert!(CertificateSigningRequest.validate(&csr, None).is_empty());
}

#[test]
fn signer_names_follow_upstream() {
    assert!(validate_signer_name("f", "kubernetes.io/kube-apiserver-client").is_empty());
    assert!(validate_signer_name("f", "example.com/a/b.c").is_empty());
    assert!(!validate_signer_name("f", "nodomain/x").is_empty());
    assert!(!validate_signer_name("f", "example.com/UPPER").is_empty());
    assert!(!validate_signer_name("f", "example.com").is_empty());
}

fn stored() -> Value {
    let mut csr = kubelet_csr();
    CertificateSigningRequest
        .prepare_for_create(&mut csr, &UserInfo::system("u", &["system:authenticated"]));
    csr
}

/// As stored after an approval: the approval path gave the condition its timestamps.
fn approved(mut csr: Value) -> Value {
    csr["status"] = json!({"conditions": [{"type": "Approved", "status": "True", "reason": "R",
        "lastUpdateTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z"}]});
    csr
}

#[test]
fn approval_changes_only_conditions_and_gets_timestamps() {
    let old = stored();
    let mut new = approved(old.clone());
    for t in ["lastUpdateTime", "lastTransitionTime"] {
        new["status"]["conditions"][0]
            .as_object_mut()
            .map(|c| c.remove(t));
    }
    new["spec"]["usages"] = json!(["server auth"]);
    new["status"]["certificate"] = json!(b64("x"));
    CertificateSigningRequest.prepare_for_update(&mut new, &old, Some("approval"));
    assert_eq!(new["spec"], old["spec"]);
    assert!(new["status"].get("certificate").is_none());
    let c = &new["status"]["conditions"][0];
    assert!(c["lastUpdateTime"].is_string() && c["lastTransitionTime"].is_string());
    let errs = CertificateSigningRequest.validate_subresource_update(&new, &old, "approval");
    assert!(errs.is_empty(), "{errs:?}");
    // Approved and Denied together is invalid.
    let mut both = new.clone();
    both["status"]["conditions"]
        .as_array_mut()
        .expect("conditions")
        .push(json!({"type": "Denied", "status": "True"}));
    let errs = CertificateSigningRequest.validate_subresource_update(&both, &old, "approval");
    assert_eq!(fields(&errs), ["status.conditions[1].type"]);
    // A decision cannot be taken back.
    let errs = CertificateSigningRequest.validate_subresource_update(&old, &new, "approval");
    assert!(
        errs.iter().any(|e| e.detail.contains("may not remove")),
        "{errs:?}"
    );
}

#[test]
fn status_sets_the_certificate_once_and_not_the_decision() {
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["x".into()])
        .expect("params")
        .self_signed(&key)
        .expect("cert")
        .pem();
    let old = approved(stored());
    let mut new = old.clone();
    new["status"]["certificate"] = json!(b64(&cert));
    CertificateSigningRequest.prepare_for_update(&mut new, &old, Some("status"));
    let errs = CertificateSigningRequest.validate_subresource_update(&new, &old, "status");
    assert!(errs.is_empty(), "{errs:?}");
    // Once set it is immutable.
    let mut again = new.clone();
    again["status"]["certificate"] = json!(b64(&cert.replace('A', "B")));
    let errs = CertificateSigningRequest.validate_subresource_update(&again, &new, "status");
    assert!(
        errs.iter()
            .any(|e| e.detail == "updates may not modify existing certificate content"),
        "{errs:?}"
    );
    // Garbage is not a certificate.
    let mut junk = old.clone();
    junk["status"]["certificate"] = json!(b64("junk"));
    let errs = CertificateSigningRequest.validate_subresource_update(&junk, &old, "status");
    assert_eq!(fields(&errs), ["status.certificate"]);
    // /status cannot approve.
    let pending = stored();
    let mut self_approved = approved(pending.clone());
    CertificateSigningRequest.prepare_for_update(&mut self_approved, &pending, Some("status"));
    let errs =
        CertificateSigningRequest.validate_subresource_update(&self_approved, &pending, "status");
    assert!(
        errs.iter().any(|e| e.detail.contains("may not add")),
        "{errs:?}"
    );
    // /approval cannot issue.
    let errs = CertificateSigningRequest.validate_subresource_update(&new, &old, "approval");
    assert!(
        errs.iter()
            .any(|e| e.detail == "updates may not set certificate content"),
        "{errs:?}"
    );
}

#[test]
fn main_resource_updates_keep_spec_and_status() {
    let old = approved(stored());
    let mut new = old.clone();
    new["spec"]["signerName"] = json!("example.com/other");
    new["status"] = json!({});
    new["metadata"]["labels"] = json!({"a": "b"});
    CertificateSigningRequest.prepare_for_update(&mut new, &old, None);
    assert_eq!(new["spec"], old["spec"]);
    assert_eq!(new["status"], old["status"]);
    assert_eq!(new["metadata"]["labels"]["a"], "b");
    assert!(CertificateSigningRequest
        .validate(&new, Some(&old))
        .is_empty());
}
