//! certificates.k8s.io/v1 CertificateSigningRequest, as upstream's
//! `pkg/registry/certificates/certificates/strategy.go` and
//! `pkg/apis/certificates/validation`: the requestor is recorded from the authenticated
//! user, the spec is immutable, `/approval` changes only the conditions and `/status` only
//! the certificate and the non-approval conditions; the certificate cannot change once set.

pub mod request;

use base64::Engine;
use serde_json::{json, Value};

use super::json::{get, get_i64, get_str, items};
use crate::authn::UserInfo;
use crate::errors::FieldError;
use crate::registry::strategy::NameRule;
use crate::registry::Strategy;

/// Every usage upstream accepts in `spec.usages`, sorted as its error lists them.
pub const VALID_USAGES: &[&str] = &[
    "any",
    "cert sign",
    "client auth",
    "code signing",
    "content commitment",
    "crl sign",
    "data encipherment",
    "decipher only",
    "digital signature",
    "email protection",
    "encipher only",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "key agreement",
    "key encipherment",
    "microsoft sgc",
    "netscape sgc",
    "ocsp signing",
    "s/mime",
    "server auth",
    "signing",
    "timestamping",
];

/// The signer name v1beta1 used for requests without one; v1 refuses it.
const LEGACY_UNKNOWN_SIGNER: &str = "kubernetes.io/legacy-unknown";

/// certificates.k8s.io/v1 CertificateSigningRequest.
pub struct CertificateSigningRequest;

impl Strategy for CertificateSigningRequest {
    fn prepare_for_create(&self, obj: &mut Value, user: &UserInfo) {
        // Whatever the client wrote about who it is, the server records who it really is.
        let spec = &mut obj["spec"];
        if !spec.is_object() {
            *spec = json!({});
        }
        if let Some(s) = spec.as_object_mut() {
            for f in ["username", "uid", "groups", "extra"] {
                s.remove(f);
            }
            s.insert("username".into(), json!(user.name));
            if !user.uid.is_empty() {
                s.insert("uid".into(), json!(user.uid));
            }
            if !user.groups.is_empty() {
                s.insert("groups".into(), json!(user.groups));
            }
            if !user.extra.is_empty() {
                s.insert("extra".into(), json!(user.extra));
            }
        }
        // Users cannot create pre-approved or pre-issued requests.
        if let Some(o) = obj.as_object_mut() {
            o.remove("status");
        }
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value, subresource: Option<&str>) {
        match subresource {
            None => {
                // Immutable after creation except through the subresources.
                copy_field(new, old, "spec");
                copy_field(new, old, "status");
            }
            Some("status") => {
                copy_field(new, old, "spec");
                // The signer may not touch the approver's decision: keep the old instances
                // when their count is unchanged (a changed count fails validation).
                preserve_conditions(new, old, "Approved");
                preserve_conditions(new, old, "Denied");
                populate_condition_timestamps(new, old);
            }
            Some("approval") => {
                copy_field(new, old, "spec");
                let cert = old.pointer("/status/certificate").cloned();
                match (cert, new.get_mut("status").and_then(Value::as_object_mut)) {
                    (Some(c), Some(status)) => {
                        status.insert("certificate".into(), c);
                    }
                    (None, Some(status)) => {
                        status.remove("certificate");
                    }
                    (Some(c), None) => new["status"] = json!({"certificate": c}),
                    (None, None) => {}
                }
                preserve_conditions(new, old, "Failed");
                populate_condition_timestamps(new, old);
            }
            Some(_) => {}
        }
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        validate_csr(obj, old, Options::default())
    }

    fn validate_subresource_update(
        &self,
        new: &Value,
        old: &Value,
        subresource: &str,
    ) -> Vec<FieldError> {
        let opts = Options {
            setting_certificate: subresource == "status",
            setting_approval: subresource == "approval",
        };
        validate_csr(new, Some(old), opts)
    }

    fn field_labels(&self) -> &'static [&'static str] {
        &["spec.signerName"]
    }

    fn name_rule(&self) -> NameRule {
        // Upstream: "We don't care what you call your certificate requests."
        NameRule::PathSegment
    }
}

/// What an update path may change (upstream's `certificateValidationOptions` of the
/// subresource strategies).
#[derive(Debug, Clone, Copy, Default)]
struct Options {
    /// `/status`: may set `status.certificate` (once).
    setting_certificate: bool,
    /// `/approval`: may add Approved/Denied conditions.
    setting_approval: bool,
}

fn copy_field(new: &mut Value, old: &Value, field: &str) {
    let Some(n) = new.as_object_mut() else { return };
    match old.get(field) {
        Some(v) => {
            n.insert(field.into(), v.clone());
        }
        None => {
            n.remove(field);
        }
    }
}

fn conditions_of<'a>(obj: &'a Value, t: &str) -> Vec<&'a Value> {
    items(obj, &["status", "conditions"])
        .iter()
        .filter(|c| c.get("type").and_then(Value::as_str) == Some(t))
        .collect()
}

/// Upstream's `preserveConditionInstances`: when old and new have as many conditions of type
/// `t`, the new ones are replaced by the old ones.
fn preserve_conditions(new: &mut Value, old: &Value, t: &str) {
    let old_ones: Vec<Value> = conditions_of(old, t).into_iter().cloned().collect();
    if old_ones.len() != conditions_of(new, t).len() || old_ones.is_empty() {
        return;
    }
    let Some(conds) = new
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    let mut replacements = old_ones.into_iter();
    for c in conds.iter_mut() {
        if c.get("type").and_then(Value::as_str) == Some(t) {
            if let Some(r) = replacements.next() {
                *c = r;
            }
        }
    }
}

/// Upstream's `populateConditionTimestamps`: `lastUpdateTime` defaults to now;
/// `lastTransitionTime` keeps the old one for an unchanged type/status, else now.
fn populate_condition_timestamps(new: &mut Value, old: &Value) {
    let now = crate::store::meta::now();
    let old_conds = items(old, &["status", "conditions"]).to_vec();
    let Some(conds) = new
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for c in conds.iter_mut() {
        let Some(o) = c.as_object_mut() else { continue };
        let unset = |v: Option<&Value>| v.is_none_or(|v| v.is_null() || v == "");
        if unset(o.get("lastUpdateTime")) {
            o.insert("lastUpdateTime".into(), json!(now));
        }
        if unset(o.get("lastTransitionTime")) {
            let previous = old_conds.iter().find(|oc| {
                oc.get("type") == o.get("type")
                    && oc.get("status") == o.get("status")
                    && !unset(oc.get("lastTransitionTime"))
            });
            let t = previous
                .and_then(|p| p.get("lastTransitionTime").cloned())
                .unwrap_or_else(|| json!(now));
            o.insert("lastTransitionTime".into(), t);
        }
    }
}

fn decode_bytes(obj: &Value, path: &[&str]) -> Vec<u8> {
    get_str(obj, path)
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .unwrap_or_default()
}

/// Upstream's `validateCertificateSigningRequest` plus, on updates,
/// `validateCertificateSigningRequestUpdate`. Problems already present in the stored object
/// are tolerated on update, as upstream does for compatibility.
fn validate_csr(obj: &Value, old: Option<&Value>, opts: Options) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let request = decode_bytes(obj, &["spec", "request"]);
    let parsed = request::parse(&request);
    if let Err(e) = &parsed {
        errs.push(FieldError::invalid(
            "spec.request",
            "<request data>",
            e.to_string(),
        ));
    }
    let usages: Vec<&str> = items(obj, &["spec", "usages"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let old_usages: Vec<&str> = old
        .map(|o| items(o, &["spec", "usages"]))
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if usages.is_empty() {
        errs.push(FieldError::required("spec.usages", ""));
    }
    let allow_unknown = old_usages.iter().any(|u| !VALID_USAGES.contains(u));
    let allow_duplicate = has_duplicates(&old_usages);
    for (i, u) in usages.iter().enumerate() {
        if !allow_unknown && !VALID_USAGES.contains(u) {
            errs.push(FieldError::not_supported(
                format!("spec.usages[{i}]"),
                *u,
                VALID_USAGES,
            ));
        }
        if !allow_duplicate && usages[..i].contains(u) {
            errs.push(FieldError::duplicate(format!("spec.usages[{i}]"), *u));
        }
    }
    let signer = get_str(obj, &["spec", "signerName"]).unwrap_or_default();
    let old_signer = old.and_then(|o| get_str(o, &["spec", "signerName"]));
    if signer == LEGACY_UNKNOWN_SIGNER && old_signer != Some(LEGACY_UNKNOWN_SIGNER) {
        errs.push(FieldError::invalid(
            "spec.signerName",
            signer,
            "the legacy signerName is not allowed via this API version",
        ));
    } else {
        errs.extend(validate_signer_name("spec.signerName", signer));
    }
    if let Some(secs) = get_i64(obj, &["spec", "expirationSeconds"]) {
        if secs < 600 {
            errs.push(FieldError::invalid(
                "spec.expirationSeconds",
                secs,
                "may not specify a duration less than 600 seconds (10 minutes)",
            ));
        }
    }
    // The kubelet client signer only issues node identities; refusing a request it would
    // never sign gives the requester the reason at once.
    if old.is_none() && signer == request::KUBELET_CLIENT_SIGNER {
        if let Ok(req) = &parsed {
            if let Err(why) = request::validate_kubelet_client(req, &usages) {
                errs.push(FieldError::invalid("spec.request", "<request data>", why));
            }
        }
    }
    errs.extend(validate_conditions(obj, old));
    let cert = decode_bytes(obj, &["status", "certificate"]);
    let old_cert = old.map(|o| decode_bytes(o, &["status", "certificate"]));
    let cert_unchanged = old_cert.as_deref() == Some(cert.as_slice());
    let old_cert_invalid = old_cert
        .as_deref()
        .is_some_and(|c| request::validate_certificate_chain(c).is_err());
    if !cert_unchanged && !old_cert_invalid {
        if let Err(why) = request::validate_certificate_chain(&cert) {
            errs.push(FieldError::invalid(
                "status.certificate",
                "<certificate data>",
                why,
            ));
        }
    }
    if let Some(old) = old {
        errs.extend(validate_update(obj, old, &cert, old_cert.as_deref(), opts));
    }
    errs
}

fn has_duplicates(v: &[&str]) -> bool {
    v.iter().enumerate().any(|(i, u)| v[..i].contains(u))
}

/// Upstream's `validateConditions`: types required and unique; Approved, Denied and Failed
/// only `True`; Approved and Denied mutually exclusive.
fn validate_conditions(obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let old_types: Vec<&str> = old
        .map(|o| items(o, &["status", "conditions"]))
        .unwrap_or_default()
        .iter()
        .map(|c| c.get("type").and_then(Value::as_str).unwrap_or_default())
        .collect();
    let allow_both = old_types.contains(&"Approved") && old_types.contains(&"Denied");
    let allow_duplicate = has_duplicates(&old_types);
    let allow_empty = old_types.contains(&"");
    let (mut approved, mut denied) = (false, false);
    let mut seen: Vec<&str> = Vec::new();
    for (i, c) in items(obj, &["status", "conditions"]).iter().enumerate() {
        let base = format!("status.conditions[{i}]");
        let t = c.get("type").and_then(Value::as_str).unwrap_or_default();
        if t.is_empty() && !allow_empty {
            errs.push(FieldError::required(format!("{base}.type"), ""));
        }
        let status = c.get("status").and_then(Value::as_str).unwrap_or_default();
        let allowed: &[&str] = if matches!(t, "Approved" | "Denied" | "Failed") {
            &["True"]
        } else {
            &["False", "True", "Unknown"]
        };
        if status.is_empty() {
            errs.push(FieldError::required(format!("{base}.status"), ""));
        } else if !allowed.contains(&status) {
            errs.push(FieldError::not_supported(
                format!("{base}.status"),
                status,
                allowed,
            ));
        }
        if !allow_both {
            let clash = match t {
                "Approved" => {
                    approved = true;
                    denied
                }
                "Denied" => {
                    denied = true;
                    approved
                }
                _ => false,
            };
            if clash {
                errs.push(FieldError::invalid(
                    format!("{base}.type"),
                    t,
                    "Approved and Denied conditions are mutually exclusive",
                ));
            }
        }
        if !allow_duplicate && seen.contains(&t) {
            errs.push(FieldError::duplicate(format!("{base}.type"), t));
        }
        seen.push(t);
    }
    errs
}

/// The update rules: decisions and failures cannot be removed; Approved/Denied change only
/// through `/approval`; the certificate is set only through `/status`, and only once.
fn validate_update(
    new: &Value,
    old: &Value,
    cert: &[u8],
    old_cert: Option<&[u8]>,
    opts: Options,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for t in ["Approved", "Denied", "Failed"] {
        if conditions_of(new, t).len() < conditions_of(old, t).len() {
            errs.push(FieldError::forbidden(
                "status.conditions",
                format!("updates may not remove a condition of type {t:?}"),
            ));
        }
    }
    if !opts.setting_approval {
        for t in ["Approved", "Denied"] {
            let (n, o) = (conditions_of(new, t), conditions_of(old, t));
            if n.len() > o.len() {
                errs.push(FieldError::forbidden(
                    "status.conditions",
                    format!("updates may not add a condition of type {t:?}"),
                ));
            } else if n.len() == o.len() && n != o {
                errs.push(FieldError::forbidden(
                    "status.conditions",
                    format!("updates may not modify a condition of type {t:?}"),
                ));
            }
        }
    }
    let old_cert = old_cert.unwrap_or_default();
    if cert != old_cert {
        if !opts.setting_certificate {
            errs.push(FieldError::forbidden(
                "status.certificate",
                "updates may not set certificate content",
            ));
        } else if !old_cert.is_empty() {
            errs.push(FieldError::forbidden(
                "status.certificate",
                "updates may not modify existing certificate content",
            ));
        }
    }
    if get(new, &["metadata", "name"]) != get(old, &["metadata", "name"]) {
        errs.push(FieldError::invalid(
            "metadata.name",
            get_str(new, &["metadata", "name"]).unwrap_or_default(),
            "field is immutable",
        ));
    }
    errs
}

/// Upstream's `ValidateSignerName`: `<domain>/<path>`, the domain DNS labels with at least
/// one dot, each path segment a DNS-1123 subdomain.
pub fn validate_signer_name(field: &str, signer: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if signer.is_empty() {
        errs.push(FieldError::required(field, ""));
        return errs;
    }
    let segments: Vec<&str> = signer.split('/').collect();
    if segments.len() < 2 {
        errs.push(FieldError::invalid(
            field,
            signer,
            "must be a fully qualified domain and path of the form 'example.com/signer-name'",
        ));
        return errs;
    }
    let domain = segments[0];
    if domain.len() > 253 {
        errs.push(FieldError {
            kind: crate::errors::FieldErrorKind::TooLong,
            field: field.to_string(),
            value: Some(json!(domain)),
            detail: "may not be more than 253 bytes".into(),
        });
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for l in &labels {
        for msg in api_types::names::dns1123_label(l) {
            errs.push(FieldError::invalid(field, domain, msg));
        }
    }
    if labels.len() < 2 {
        errs.push(FieldError::invalid(
            field,
            domain,
            "should be a domain with at least two segments separated by dots",
        ));
    }
    let path = segments[1..].join("/");
    let max_path = 253usize.saturating_sub(domain.len() + 1).max(1);
    if path.len() > max_path {
        errs.push(FieldError {
            kind: crate::errors::FieldErrorKind::TooLong,
            field: field.to_string(),
            value: Some(json!(path)),
            detail: format!("may not be more than {max_path} bytes"),
        });
    }
    for seg in &segments[1..] {
        for msg in api_types::names::dns1123_subdomain(seg) {
            errs.push(FieldError::invalid(field, path.as_str(), msg));
        }
    }
    errs
}

#[cfg(test)]
mod tests;
