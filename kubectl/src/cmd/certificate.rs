//! `kubectl certificate approve|deny`: add the Approved or Denied condition to
//! CertificateSigningRequests through their `approval` subresource.

use clap::{Args, Subcommand};
use http::Method;
use serde_json::{json, Value};

use super::create::FileArgs;
use super::print_flags::{DryRun, PrintFlags};
use super::{out, Ctx};
use crate::client::{ApiClient, Body};
use crate::error::{KubectlError, Result};
use crate::manifest;

const CSR_PATH: &str = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

/// Upstream re-reads and retries this many times when the approval update conflicts.
const CONFLICT_RETRIES: usize = 10;

/// `kubectl certificate`
#[derive(Debug, Args)]
pub struct CertificateArgs {
    #[command(subcommand)]
    command: CertificateCommand,
}

#[derive(Debug, Subcommand)]
enum CertificateCommand {
    /// Approve a certificate signing request.
    Approve(DecisionArgs),
    /// Deny a certificate signing request.
    Deny(DecisionArgs),
}

/// Flags of `approve` and `deny`.
#[derive(Debug, Args)]
pub struct DecisionArgs {
    /// CSR names.
    names: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// Update the CSR even if it already has the condition.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    pub print_flags: PrintFlags,
}

/// The condition a decision adds and the one that must not be there already.
struct Decision {
    condition: &'static str,
    conflicting: &'static str,
    reason: &'static str,
    message: &'static str,
    verb: &'static str,
}

const APPROVE: Decision = Decision {
    condition: "Approved",
    conflicting: "Denied",
    reason: "KubectlApprove",
    message: "This CSR was approved by kubectl certificate approve.",
    verb: "approved",
};

const DENY: Decision = Decision {
    condition: "Denied",
    conflicting: "Approved",
    reason: "KubectlDeny",
    message: "This CSR was denied by kubectl certificate deny.",
    verb: "denied",
};

/// Runs `kubectl certificate …`.
pub async fn run(ctx: &Ctx, args: CertificateArgs) -> Result<()> {
    let (decision, a) = match args.command {
        CertificateCommand::Approve(a) => (APPROVE, a),
        CertificateCommand::Deny(a) => (DENY, a),
    };
    let format = a.print_flags.format()?;
    if a.names.is_empty() && a.files.filename.is_empty() {
        return Err(KubectlError::usage(
            "one or more CSRs must be specified as <name> or -f <filename>",
        ));
    }
    let mut names = Vec::new();
    let mut errors = Vec::new();
    for m in manifest::read_all(&a.files.filename, a.files.recursive)? {
        let api_version = m.object["apiVersion"].as_str().unwrap_or("");
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let kind = m.object["kind"].as_str().unwrap_or("");
        if kind == "CertificateSigningRequest" && group == "certificates.k8s.io" {
            names.push(
                m.object["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
        } else {
            let got = if group.is_empty() {
                kind.to_string()
            } else {
                format!("{kind}.{group}")
            };
            errors.push(KubectlError::usage(format!(
                "can only handle CertificateSigningRequest.certificates.k8s.io objects, got {got}"
            )));
        }
    }
    names.extend(a.names.iter().map(|n| strip_type(n).to_string()));
    let client = ctx.client().await?;
    let mut found = 0;
    for name in names {
        match decide(&client, &name, &decision, a.force).await {
            Ok(csr) => {
                found += 1;
                a.print_flags
                    .print(&format, &csr, decision.verb, DryRun::None)?;
            }
            Err(e) => errors.push(e),
        }
    }
    if found == 0 && errors.is_empty() {
        out("No resources found\n");
    }
    super::get::report(errors)
}

/// `csr/NAME` and `certificatesigningrequest/NAME` name the same object as `NAME`.
fn strip_type(name: &str) -> &str {
    match name.split_once('/') {
        Some((_, n)) => n,
        None => name,
    }
}

/// Reads the CSR, adds the condition unless it is there (or `--force`), and returns the CSR
/// as first read (upstream prints that object, not the updated one).
async fn decide(client: &ApiClient, name: &str, d: &Decision, force: bool) -> Result<Value> {
    let path = format!("{CSR_PATH}/{name}");
    let first = client.get(&path).await?;
    let mut csr = first.clone();
    for attempt in 0.. {
        let Some(updated) = with_condition(&csr, d, force)? else {
            break;
        };
        let body = Body::json(&updated);
        match client
            .request(
                Method::PUT,
                &format!("{path}/approval"),
                "application/json",
                Some(body),
            )
            .await
        {
            Ok(_) => break,
            Err(KubectlError::Server { code: 409, .. }) if attempt < CONFLICT_RETRIES => {
                csr = client.get(&path).await?;
            }
            Err(e) => return Err(e),
        }
    }
    let mut printed = first;
    if printed.get("kind").is_none() {
        printed["kind"] = json!("CertificateSigningRequest");
        printed["apiVersion"] = json!("certificates.k8s.io/v1");
    }
    Ok(printed)
}

/// The CSR with the decision's condition appended, or None when it already has it and
/// `force` is off. A CSR holding the opposite decision is an error.
fn with_condition(csr: &Value, d: &Decision, force: bool) -> Result<Option<Value>> {
    let name = csr["metadata"]["name"].as_str().unwrap_or("");
    let conditions = csr["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut has = false;
    for c in &conditions {
        let t = c["type"].as_str().unwrap_or("");
        if t == d.conflicting {
            return Err(KubectlError::usage(format!(
                "certificate signing request \"{name}\" is already {t}"
            )));
        }
        has |= t == d.condition;
    }
    if has && !force {
        return Ok(None);
    }
    let mut updated = csr.clone();
    // With --force and the condition present upstream sends the CSR unchanged.
    if !has {
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut conds = conditions;
        conds.push(json!({
            "type": d.condition,
            "status": "True",
            "reason": d.reason,
            "message": d.message,
            "lastUpdateTime": now,
        }));
        updated["status"]["conditions"] = Value::Array(conds);
    }
    Ok(Some(updated))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr(conds: Value) -> Value {
        json!({"metadata": {"name": "c1"}, "status": {"conditions": conds}})
    }

    #[test]
    fn approve_appends_the_condition_once() {
        let v = with_condition(&csr(json!([])), &APPROVE, false)
            .unwrap()
            .unwrap();
        let c = &v["status"]["conditions"][0];
        assert_eq!(c["type"], "Approved");
        assert_eq!(c["reason"], "KubectlApprove");
        assert_eq!(c["status"], "True");
        let again = with_condition(&v, &APPROVE, false).unwrap();
        assert!(again.is_none(), "already approved needs no update");
        let forced = with_condition(&v, &APPROVE, true).unwrap().unwrap();
        assert_eq!(forced["status"]["conditions"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn the_opposite_decision_is_an_error() {
        let denied = csr(json!([{"type": "Denied", "status": "True"}]));
        let e = with_condition(&denied, &APPROVE, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "error: certificate signing request \"c1\" is already Denied"
        );
        assert!(with_condition(&denied, &DENY, false).unwrap().is_none());
    }

    #[test]
    fn type_prefixes_are_dropped() {
        assert_eq!(strip_type("csr/a"), "a");
        assert_eq!(strip_type("a"), "a");
    }
}
