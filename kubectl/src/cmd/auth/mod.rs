//! `kubectl auth whoami` (SelfSubjectReview), `kubectl auth can-i` (a
//! SelfSubjectAccessReview, exit status 1 for "no"; or with `--list` the rules of a
//! SelfSubjectRulesReview) and `kubectl auth reconcile` (RBAC objects from files, merged
//! into the server's).

mod can_i;
#[cfg(test)]
mod fake_api;
mod policy;
mod reconcile;
mod reconciliation;
mod rules;
mod typed;

use clap::{Args, Subcommand};
use http::Method;
use serde_json::{json, Value};

use super::print_flags::{DryRun, PrintFlags};
use super::{out, Ctx};
use crate::client::Body;
use crate::error::Result;
use crate::printers::{json as jsonp, tabwriter::TabWriter, OutputFormat};

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
        #[command(flatten)]
        print_flags: PrintFlags,
    },
    /// Check whether an action is allowed.
    #[command(name = "can-i")]
    CanI(can_i::CanIArgs),
    /// Reconciles rules for RBAC role, role binding, cluster role, and cluster role binding
    /// objects.
    Reconcile(reconcile::ReconcileArgs),
}

/// Runs `kubectl auth …`.
pub async fn run(ctx: &Ctx, args: AuthArgs) -> Result<()> {
    match args.command {
        AuthCommand::Whoami { print_flags } => whoami(ctx, &print_flags).await,
        AuthCommand::CanI(a) => can_i::run(ctx, a).await,
        AuthCommand::Reconcile(a) => reconcile::run(ctx, a).await,
    }
}

/// The attributes as a table, or with `-o` the SelfSubjectReview the server answered.
async fn whoami(ctx: &Ctx, print_flags: &PrintFlags) -> Result<()> {
    // As upstream: the printer is chosen before the server is asked, and only `-o` (not
    // `--template` alone) leaves the table.
    let format = print_flags
        .output_specified()
        .then(|| print_flags.format())
        .transpose()?;
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
    match format {
        Some(OutputFormat::Json) => {
            // A typed object upstream: fields print in struct order.
            let order = [
                "kind",
                "apiVersion",
                "metadata",
                "creationTimestamp",
                "status",
                "userInfo",
                "username",
                "uid",
                "groups",
                "extra",
            ];
            let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(usize::MAX);
            out(&jsonp::to_json_ordered(&res, &rank));
            return Ok(());
        }
        Some(format) => return print_flags.print(&format, &res, "", DryRun::None),
        None => {}
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
