//! `kubectl scale`: sets `spec.replicas` through the `/scale` subresource, so any scalable
//! type works, with upstream's preconditions (`--current-replicas`, `--resource-version`),
//! dry runs, `-o` and `--timeout` to wait for the new size.

use std::time::Duration;

use clap::Args;
use http::Method;
use serde_json::{json, Value};

use super::create::FileArgs;
use super::label::{file_targets, resolve_objects, Picking, Target};
use super::print_flags::{DryRun, DryRunFlag, PrintFlags};
use super::Ctx;
use crate::client::{ApiClient, Body};
use crate::error::{KubectlError, Result};

/// `kubectl scale`
#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// TYPE NAME or TYPE/NAME.
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// The new desired number of replicas.
    #[arg(long, required = true)]
    replicas: i64,
    /// Precondition for current size.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    current_replicas: i64,
    /// Precondition for resource version.
    #[arg(long)]
    resource_version: Option<String>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Select all resources in the namespace of the specified resource types.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    pub print_flags: PrintFlags,
    #[command(flatten)]
    pub dry_run: DryRunFlag,
    /// How long to wait for the new size before giving up; zero means not to wait.
    #[arg(long, default_value = "0s", value_parser = crate::flags::go_duration)]
    timeout: String,
}

/// Runs `kubectl scale`.
pub async fn run(ctx: &Ctx, args: ScaleArgs) -> Result<()> {
    if args.replicas < 0 {
        return Err(KubectlError::usage(
            "The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0",
        ));
    }
    let format = args.print_flags.format()?;
    let dry = args.dry_run.strategy()?;
    let timeout = crate::flags::go_duration_secs(&args.timeout)
        .filter(|secs| *secs > 0.0)
        .map(Duration::from_secs_f64);
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets = if args.files.filename.is_empty() {
        let picking = Picking {
            selector: args.selector.as_deref(),
            all: args.all,
            ..Picking::default()
        };
        resolve_objects(&client, &mut disc, &args.args, picking).await?
    } else {
        file_targets(&client, &disc, &args.files)?
    };
    let mut errors = Vec::new();
    for t in targets {
        let r = async {
            let printed = scale_one(&client, &t, &args, dry).await?;
            if let Some(limit) = timeout.filter(|_| dry == DryRun::None) {
                wait_for_size(&client, &t, args.replicas, limit).await?;
            }
            args.print_flags.print(&format, &printed, "scaled", dry)
        };
        if let Err(e) = r.await {
            errors.push(e);
        }
    }
    super::get::report(errors)
}

/// Scales one object after checking the preconditions (none in a client dry run, where
/// nothing is sent), and gives back what upstream prints: the object as it was read.
async fn scale_one(client: &ApiClient, t: &Target, args: &ScaleArgs, dry: DryRun) -> Result<Value> {
    let obj = client.get(&t.path()).await?;
    if dry == DryRun::Client {
        return Ok(obj);
    }
    let scale_path = format!("{}/scale", t.path());
    let scale = client.get(&scale_path).await?;
    if args.current_replicas >= 0 {
        let have = scale["spec"]["replicas"].as_i64().unwrap_or(0);
        if have != args.current_replicas {
            return Err(KubectlError::usage(format!(
                "Expected replicas to be {}, was {have}",
                args.current_replicas
            )));
        }
    }
    if let Some(want) = &args.resource_version {
        let have = scale["metadata"]["resourceVersion"].as_str().unwrap_or("");
        if have != want {
            return Err(KubectlError::usage(format!(
                "Expected resource version to be {want}, was {have}"
            )));
        }
    }
    let body = Body {
        content_type: "application/merge-patch+json",
        bytes: json!({"spec": {"replicas": args.replicas}})
            .to_string()
            .into_bytes(),
    };
    client
        .request(
            Method::PATCH,
            &format!("{scale_path}?{}", dry.query().trim_start_matches('&')),
            "application/json",
            Some(body),
        )
        .await?;
    Ok(obj)
}

/// Polls the scale every second, as upstream's scaler does, until it reports `replicas`.
async fn wait_for_size(
    client: &ApiClient,
    t: &Target,
    replicas: i64,
    limit: Duration,
) -> Result<()> {
    let deadline = tokio::time::Instant::now() + limit;
    let scale_path = format!("{}/scale", t.path());
    loop {
        let scale = client.get(&scale_path).await?;
        if scale["status"]["replicas"].as_i64().unwrap_or(0) == replicas {
            return Ok(());
        }
        if tokio::time::Instant::now() + Duration::from_secs(1) > deadline {
            return Err(KubectlError::usage("timed out waiting for the condition"));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
