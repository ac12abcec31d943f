//! `kubectl auth whoami` (SelfSubjectReview) and `kubectl auth can-i` (a
//! SelfSubjectAccessReview, exit status 1 for "no"; or with `--list` the rules of a
//! SelfSubjectRulesReview).

mod can_i;
mod rules;

use clap::{Args, Subcommand};
use http::Method;
use serde_json::{json, Value};

use super::{out, Ctx};
use crate::client::Body;
use crate::error::{KubectlError, Result};
use crate::printers::{json as jsonp, tabwriter::TabWriter, yaml};

/// `kubectl auth`
#[derive(Debug, Args)]
pub struct AuthArgs {
    #[command(subcommand)]
    command: AuthCommand,
}

#[derive(Debug, Subcommand)]
enum AuthCommand {
    /// Check who you are.
    Whoami {
        /// Output format: json or yaml.
        #[arg(short = 'o', long)]
        output: Option<String>,
    },
    /// Check whether an action is allowed.
    #[command(name = "can-i")]
    CanI(can_i::CanIArgs),
}

/// Runs `kubectl auth …`.
pub async fn run(ctx: &Ctx, args: AuthArgs) -> Result<()> {
    match args.command {
        AuthCommand::Whoami { output } => whoami(ctx, output.as_deref()).await,
        AuthCommand::CanI(a) => can_i::run(ctx, a).await,
    }
}

async fn whoami(ctx: &Ctx, output: Option<&str>) -> Result<()> {
    let client = ctx.client().await?;
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let res = client
        .request(
            Method::POST,
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            "application/json",
            Some(Body::json(&review)),
        )
        .await?;
    match output {
        Some("json") => {
            // A typed object upstream: fields print in struct order.
            let order = [
                "kind", "apiVersion", "metadata", "creationTimestamp", "status", "userInfo",
                "username", "uid", "groups", "extra",
            ];
            let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(usize::MAX);
            out(&jsonp::to_json_ordered(&res, &rank));
            return Ok(());
        }
        Some("yaml") => {
            out(&yaml::to_yaml(&res));
            return Ok(());
        }
        Some(o) if !o.is_empty() => {
            return Err(KubectlError::usage(format!(
                "unable to match a printer suitable for the output format \"{o}\", allowed formats are: json,yaml"
            )))
        }
        _ => {}
    }
    let user = &res["status"]["userInfo"];
    let mut tw = TabWriter::new();
    tw.row(vec!["ATTRIBUTE".into(), "VALUE".into()]);
    tw.row(vec![
        "Username".into(),
        user["username"].as_str().unwrap_or("").into(),
    ]);
    if let Some(uid) = user["uid"].as_str().filter(|u| !u.is_empty()) {
        tw.row(vec!["UID".into(), uid.into()]);
    }
    let list = |v: &Value| -> String {
        let items: Vec<&str> = v
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        format!("[{}]", items.join(" "))
    };
    if user["groups"].as_array().is_some_and(|g| !g.is_empty()) {
        tw.row(vec!["Groups".into(), list(&user["groups"])]);
    }
    if let Some(extra) = user["extra"].as_object() {
        for (k, v) in extra {
            tw.row(vec![format!("Extra: {k}"), list(v)]);
        }
    }
    out(&tw.flush());
    Ok(())
}
