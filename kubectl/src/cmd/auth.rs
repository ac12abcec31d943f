//! `kubectl auth whoami` (SelfSubjectReview) and `kubectl auth can-i`
//! (SelfSubjectAccessReview; exit status 1 for "no").

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
    CanI {
        /// VERB [TYPE | TYPE/NAME | NONRESOURCEURL]
        args: Vec<String>,
        /// If true, check the specified action in all namespaces.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        /// If true, suppress output and just return the exit code.
        #[arg(short = 'q', long)]
        quiet: bool,
        /// SubResource such as pod/log or deployment/scale.
        #[arg(long)]
        subresource: Option<String>,
    },
}

/// Runs `kubectl auth …`.
pub async fn run(ctx: &Ctx, args: AuthArgs) -> Result<()> {
    match args.command {
        AuthCommand::Whoami { output } => whoami(ctx, output.as_deref()).await,
        AuthCommand::CanI {
            args,
            all_namespaces,
            quiet,
            subresource,
        } => can_i(ctx, &args, all_namespaces, quiet, subresource).await,
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

async fn can_i(
    ctx: &Ctx,
    args: &[String],
    all_ns: bool,
    quiet: bool,
    subresource: Option<String>,
) -> Result<()> {
    let (Some(verb), Some(target)) = (args.first(), args.get(1)) else {
        return Err(KubectlError::usage("you must specify two arguments: verb resource or verb resource/resourceName.\nSee 'kubectl auth can-i -h' for help and examples"));
    };
    let client = ctx.client().await?;
    let spec = if target.starts_with('/') {
        json!({"nonResourceAttributes": {"verb": verb, "path": target}})
    } else {
        let (ty, name) = match target.split_once('/') {
            Some((t, n)) => (t.to_string(), n.to_string()),
            None => (target.clone(), args.get(2).cloned().unwrap_or_default()),
        };
        let mut disc = crate::discovery::Discovery::load(&client).await?;
        let (group, resource) = match disc.resolve(&client, &ty).await {
            Ok(r) => (r.group.clone(), r.plural.clone()),
            Err(_) => {
                eprintln!("Warning: the server doesn't have a resource type '{ty}'\n");
                let (r, g) = ty.split_once('.').unwrap_or((ty.as_str(), ""));
                (g.to_string(), r.to_string())
            }
        };
        let ns = if all_ns {
            String::new()
        } else {
            client.namespace.clone()
        };
        json!({"resourceAttributes": {
            "namespace": ns, "verb": verb, "group": group, "resource": resource,
            "subresource": subresource.unwrap_or_default(), "name": name}})
    };
    let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": spec});
    let res = client
        .request(
            Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            "application/json",
            Some(Body::json(&review)),
        )
        .await?;
    let allowed = res["status"]["allowed"].as_bool().unwrap_or(false);
    if !quiet {
        let mut line = if allowed {
            "yes".to_string()
        } else {
            "no".to_string()
        };
        if let Some(reason) = res["status"]["reason"]
            .as_str()
            .filter(|r| !r.is_empty() && !allowed)
        {
            line = format!("{line} - {reason}");
        }
        out(&format!("{line}\n"));
    }
    if allowed {
        Ok(())
    } else {
        Err(KubectlError::Reported)
    }
}
