//! `kubectl cordon` / `kubectl uncordon`: flip `spec.unschedulable` on nodes.

use clap::Args;
use http::Method;
use serde_json::json;

use super::print_flags::{DryRun, DryRunFlag};
use super::{out, Ctx};
use crate::client::{q, Body};
use crate::error::{KubectlError, Result};

/// `kubectl cordon|uncordon NODE…`
#[derive(Debug, Args)]
pub struct CordonArgs {
    /// Node names.
    nodes: Vec<String>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    #[command(flatten)]
    pub dry_run: DryRunFlag,
}

/// Runs cordon (`unschedulable = true`) or uncordon (`false`).
pub async fn run(ctx: &Ctx, args: CordonArgs, unschedulable: bool) -> Result<()> {
    let verb = if unschedulable {
        "cordoned"
    } else {
        "uncordoned"
    };
    let client = ctx.client().await?;
    let mut names = args.nodes.clone();
    if let Some(sel) = &args.selector {
        let list = client
            .get(&format!("/api/v1/nodes?labelSelector={}", q(sel)))
            .await?;
        for n in list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            names.push(n["metadata"]["name"].as_str().unwrap_or("").to_string());
        }
    }
    if names.is_empty() {
        return Err(KubectlError::usage(
            "USAGE: cordon NODE [flags]\nSee 'kubectl cordon -h' for help and examples",
        ));
    }
    let dry = args.dry_run.strategy()?;
    let mut errors = Vec::new();
    for name in names {
        let name = name
            .strip_prefix("node/")
            .or(name.strip_prefix("nodes/"))
            .unwrap_or(&name)
            .to_string();
        let path = format!("/api/v1/nodes/{name}");
        let r = async {
            let node = client.get(&path).await?;
            if node["spec"]["unschedulable"].as_bool().unwrap_or(false) == unschedulable {
                return Ok(format!("node/{name} already {verb}{}\n", dry.suffix()));
            }
            if dry != DryRun::Client {
                let body = Body::strategic_merge_patch(&json!({"spec": {"unschedulable": if unschedulable { json!(true) } else { json!(null) }}}));
                client
                    .request(Method::PATCH, &format!("{path}?{}", dry.query().trim_start_matches('&')), "application/json", Some(body))
                    .await?;
            }
            // As every upstream printer under a dry run: `(dry run)` / `(server dry run)`.
            Ok::<_, KubectlError>(format!("node/{name} {verb}{}\n", dry.suffix()))
        }
        .await;
        match r {
            Ok(msg) => out(&msg),
            Err(e) => errors.push(e),
        }
    }
    super::get::report(errors)
}
