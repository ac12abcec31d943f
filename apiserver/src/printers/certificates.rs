//! CertificateSigningRequests, printed as upstream prints them: the signer, who asked, the
//! requested duration and a condition summary (`Pending`, `Approved,Issued`, `Denied` …).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::format::{age, array_at, human_duration, name, opt_int_at, or_none, s, str_at};
use super::{Column, Printer, AGE, NAME};

const CSR: &[Column] = &[
    NAME,
    AGE,
    Column::new(
        "SignerName",
        "string",
        "Only one signer is allowed per CSR.",
    ),
    Column::new(
        "Requestor",
        "string",
        "Name of the user who created the CSR.",
    ),
    Column::new(
        "RequestedDuration",
        "string",
        "The requested duration of validity of the issued certificate.",
    ),
    Column::new("Condition", "string", "The condition of the CSR."),
];

/// Upstream's `extractCSRStatus`: Denied wins over Approved, otherwise Pending; `,Failed` and
/// `,Issued` are appended when the signer failed or a certificate is present.
pub fn condition_summary(csr: &Value) -> String {
    let has = |t: &str| {
        array_at(csr, "/status/conditions")
            .iter()
            .any(|c| c["type"] == t)
    };
    let mut out = if has("Denied") {
        "Denied".to_string()
    } else if has("Approved") {
        "Approved".to_string()
    } else {
        "Pending".to_string()
    };
    if has("Failed") {
        out.push_str(",Failed");
    }
    if !str_at(csr, "/status/certificate").is_empty() {
        out.push_str(",Issued");
    }
    out
}

fn csr(c: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let duration = match opt_int_at(c, "/spec/expirationSeconds") {
        Some(secs) => s(human_duration(chrono::Duration::seconds(secs))),
        None => or_none(""),
    };
    vec![
        name(c),
        age(c, now),
        or_none(str_at(c, "/spec/signerName")),
        s(str_at(c, "/spec/username")),
        duration,
        s(condition_summary(c)),
    ]
}

/// The printer of `certificates.k8s.io` resources.
pub fn printer(plural: &str) -> Option<Printer> {
    (plural == "certificatesigningrequests").then(|| Printer::new(CSR, csr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_follow_upstream() {
        let now = Utc::now();
        let pending = json!({"metadata": {"name": "node-csr-x"},
            "spec": {"signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                     "username": "system:bootstrap:abcdef", "expirationSeconds": 3600}});
        let cells = csr(&pending, now);
        assert_eq!(cells[0], "node-csr-x");
        assert_eq!(cells[2], "kubernetes.io/kube-apiserver-client-kubelet");
        assert_eq!(cells[3], "system:bootstrap:abcdef");
        assert_eq!(cells[4], "60m");
        assert_eq!(cells[5], "Pending");
        let issued = json!({"metadata": {"name": "a"}, "spec": {"signerName": "x.io/y"},
            "status": {"certificate": "Zm9v", "conditions": [{"type": "Approved", "status": "True"}]}});
        let cells = csr(&issued, now);
        assert_eq!(cells[4], "<none>");
        assert_eq!(cells[5], "Approved,Issued");
        let denied = json!({"status": {"conditions": [{"type": "Approved"}, {"type": "Denied"}, {"type": "Failed"}]}});
        assert_eq!(condition_summary(&denied), "Denied,Failed");
    }
}
