//! `kubectl config set-cluster NAME [--server=] [--certificate-authority=] [--embed-certs]
//! [--insecure-skip-tls-verify] [--tls-server-name=] [--proxy-url=]`.
//!
//! Field names match the global flags they shadow (`server`, `certificate_authority`, …): clap
//! lets a subcommand's flag replace a global one only when the ids are the same.

use clap::Args;
use serde_json::{Map, Value};

use crate::cmd::out;
use crate::error::{KubectlError, Result};

use super::access::ConfigAccess;
use super::help::Page;
use super::model::{Entry, Section};
use super::modify::modify_config;
use super::{canonical, file_refs, go_fmt};

/// `kubectl config set-cluster`
#[derive(Debug, Args)]
pub struct SetClusterArgs {
    args: Vec<String>,
    /// server for the cluster entry in kubeconfig
    #[arg(long)]
    server: Option<String>,
    /// tls-server-name for the cluster entry in kubeconfig
    #[arg(long)]
    tls_server_name: Option<String>,
    /// insecure-skip-tls-verify for the cluster entry in kubeconfig
    #[arg(long)]
    insecure_skip_tls_verify: bool,
    /// Path to certificate-authority file for the cluster entry in kubeconfig
    #[arg(long)]
    certificate_authority: Option<String>,
    /// embed-certs for the cluster entry in kubeconfig
    #[arg(long)]
    embed_certs: bool,
    /// proxy-url for the cluster entry in kubeconfig
    #[arg(long)]
    proxy_url: Option<String>,
}

/// Runs `config set-cluster`.
pub fn run(access: &ConfigAccess, args: SetClusterArgs) -> Result<()> {
    let [name] = args.args.as_slice() else {
        return Err(Page::SetCluster.unexpected_args(&args.args));
    };
    validate(name, &args)?;
    let start = access.starting_config()?;
    let mut edited = start.clone();
    let entry = edited
        .entries_mut(Section::Clusters)
        .entry(name.clone())
        .or_insert_with(|| Entry::empty(Section::Clusters));
    let raw = Value::Object(std::mem::take(&mut entry.payload));
    entry.payload = modify_cluster(raw, &args);
    modify_config(access, &start, &edited, true)?;
    out(&format!("Cluster {} set.\n", go_fmt::quote(name)));
    Ok(())
}

fn validate(name: &str, args: &SetClusterArgs) -> Result<()> {
    if name.is_empty() {
        return Err(KubectlError::usage(
            "you must specify a non-empty cluster name",
        ));
    }
    let ca = args.certificate_authority.as_deref().unwrap_or("");
    if args.insecure_skip_tls_verify && !ca.is_empty() {
        return Err(KubectlError::usage(
            "you cannot specify a certificate authority and insecure mode at the same time",
        ));
    }
    if args.embed_certs {
        if ca.is_empty() {
            return Err(KubectlError::usage(
                "you must specify a --certificate-authority to embed",
            ));
        }
        if let Err(e) = std::fs::metadata(ca) {
            return Err(KubectlError::usage(format!(
                "could not stat certificate-authority file {ca}: {}",
                go_fmt::os_error("stat", ca, &e)
            )));
        }
    }
    Ok(())
}

/// The cluster with the flags applied, as kubectl 1.32 applies them: a new server drops the
/// old TLS server name, `--insecure-skip-tls-verify` is always written (so leaving it out turns
/// insecure mode off) and clears the certificate authority, and a certificate authority
/// (embedded or as an absolute path) turns insecure mode off.
fn modify_cluster(mut cluster: Value, args: &SetClusterArgs) -> Map<String, Value> {
    use base64::Engine;
    let Some(c) = cluster.as_object_mut() else {
        return canonical::payload(Section::Clusters, &Value::Null);
    };
    if let Some(server) = &args.server {
        c.insert("server".into(), Value::String(server.clone()));
        c.remove("tls-server-name");
    }
    if let Some(name) = &args.tls_server_name {
        c.insert("tls-server-name".into(), Value::String(name.clone()));
    }
    c.insert(
        "insecure-skip-tls-verify".into(),
        Value::Bool(args.insecure_skip_tls_verify),
    );
    if args.insecure_skip_tls_verify {
        c.remove("certificate-authority");
        c.remove("certificate-authority-data");
    }
    if let Some(ca) = &args.certificate_authority {
        c.remove("insecure-skip-tls-verify");
        if args.embed_certs {
            // Upstream ignores a read error here (the file was found a moment ago).
            let data = std::fs::read(ca).unwrap_or_default();
            let text = base64::engine::general_purpose::STANDARD.encode(data);
            c.insert("certificate-authority-data".into(), Value::String(text));
            c.remove("certificate-authority");
        } else {
            c.insert(
                "certificate-authority".into(),
                Value::String(file_refs::abs(ca)),
            );
            c.remove("certificate-authority-data");
        }
    }
    if let Some(url) = &args.proxy_url {
        c.insert("proxy-url".into(), Value::String(url.clone()));
    }
    canonical::payload(Section::Clusters, &cluster)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(flags: &[(&str, &str)]) -> SetClusterArgs {
        let get = |k: &str| {
            flags
                .iter()
                .find(|(f, _)| *f == k)
                .map(|(_, v)| v.to_string())
        };
        SetClusterArgs {
            args: vec!["c".into()],
            server: get("server"),
            tls_server_name: get("tls-server-name"),
            insecure_skip_tls_verify: get("insecure").is_some(),
            certificate_authority: get("ca"),
            embed_certs: get("embed").is_some(),
            proxy_url: get("proxy-url"),
        }
    }

    #[test]
    fn a_new_server_drops_the_tls_server_name_and_insecure_mode_is_always_written() {
        let before =
            json!({"server": "a", "tls-server-name": "t", "insecure-skip-tls-verify": true});
        let after = modify_cluster(before, &args(&[("server", "b")]));
        assert_eq!(Value::Object(after), json!({"server": "b"}));
        let after = modify_cluster(
            json!({"server": "a", "certificate-authority-data": "QQ=="}),
            &args(&[("insecure", ""), ("proxy-url", "http://p")]),
        );
        assert_eq!(
            Value::Object(after),
            json!({"server": "a", "insecure-skip-tls-verify": true, "proxy-url": "http://p"})
        );
    }

    #[test]
    fn a_certificate_authority_is_embedded_or_made_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.crt");
        std::fs::write(&ca, "CA\n").unwrap();
        let ca = ca.to_string_lossy().into_owned();
        let before = json!({"server": "s", "certificate-authority": "old.crt"});
        let after = modify_cluster(before.clone(), &args(&[("ca", &ca), ("embed", "")]));
        assert_eq!(
            Value::Object(after),
            json!({"server": "s", "certificate-authority-data": "Q0EK"})
        );
        let after = modify_cluster(before, &args(&[("ca", &ca)]));
        assert_eq!(after["certificate-authority"], json!(ca));
    }

    #[test]
    fn conflicting_flags_are_refused() {
        let err = |a: SetClusterArgs| validate("c", &a).unwrap_err().to_string();
        assert_eq!(
            err(args(&[("insecure", ""), ("ca", "x")])),
            "error: you cannot specify a certificate authority and insecure mode at the same time"
        );
        assert_eq!(
            err(args(&[("embed", ""), ("ca", "")])),
            "error: you must specify a --certificate-authority to embed"
        );
        assert_eq!(
            err(args(&[("embed", ""), ("ca", "/nonexistent/ca")])),
            "error: could not stat certificate-authority file /nonexistent/ca: stat /nonexistent/ca: no such file or directory"
        );
        assert!(validate("", &args(&[])).is_err());
    }
}
