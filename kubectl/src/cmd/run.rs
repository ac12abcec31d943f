//! `kubectl run NAME --image=IMAGE`: creates one pod (upstream's only remaining generator).

use clap::Args;
use serde_json::Value;

use super::create::{post, print_result, DryRun};
use super::generators::{self as gen, RunSpec};
use super::Ctx;
use crate::error::{KubectlError, Result};
use crate::printers::OutputFormat;

/// `kubectl run NAME --image=image [--env="key=value"] [--port=port] [--dry-run=server|client] -- [COMMAND] [args...]`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Pod name.
    name: Option<String>,
    /// The image for the container to run.
    #[arg(long)]
    image: Option<String>,
    /// Environment variables to set in the container.
    #[arg(long)]
    env: Vec<String>,
    /// Comma separated labels to apply to the pod. Will override previous values.
    #[arg(short = 'l', long)]
    labels: Option<String>,
    /// Annotations to apply to the pod.
    #[arg(long)]
    annotations: Vec<String>,
    /// The port that this container exposes.
    #[arg(long)]
    port: Option<i64>,
    /// If true and extra arguments are present, use them as the 'command' field in the container.
    #[arg(long)]
    command: bool,
    /// The restart policy for this Pod. Legal values [Always, OnFailure, Never].
    #[arg(long, default_value = "Always")]
    restart: String,
    /// The image pull policy for the container.
    #[arg(long)]
    image_pull_policy: Option<String>,
    /// Keep stdin open on the container in the pod.
    #[arg(short = 'i', long)]
    stdin: bool,
    /// Allocate a TTY for the container in the pod.
    #[arg(short = 't', long)]
    tty: bool,
    /// Output format: name, yaml, json.
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// Must be "none", "server", or "client".
    #[arg(long, num_args = 0..=1, default_missing_value = "client")]
    dry_run: Option<String>,
    /// Arguments (or the command with --command) after `--`.
    #[arg(last = true)]
    args: Vec<String>,
}

/// Runs `kubectl run`.
pub async fn run(ctx: &Ctx, a: RunArgs) -> Result<()> {
    let Some(name) = a.name.as_deref() else {
        return Err(KubectlError::usage(
            "NAME is required for run\nSee 'kubectl run -h' for help and examples",
        ));
    };
    let Some(image) = a.image.as_deref().filter(|i| !i.is_empty()) else {
        return Err(KubectlError::usage("required flag(s) \"image\" not set"));
    };
    if !matches!(a.restart.as_str(), "Always" | "OnFailure" | "Never") {
        return Err(KubectlError::usage(format!(
            "invalid restart policy: {}",
            a.restart
        )));
    }
    if a.stdin || a.tty {
        return Err(KubectlError::usage(
            "attaching to the pod (-i/-t) is not supported by this kubectl",
        ));
    }
    let labels = a.labels.as_deref().map(gen::parse_labels).transpose()?;
    let mut pod = gen::run_pod(&RunSpec {
        name,
        image,
        labels,
        env: &a.env,
        port: a.port,
        args: &a.args,
        command: a.command,
        restart: &a.restart,
        pull_policy: a.image_pull_policy.as_deref(),
        annotations: &a.annotations,
        stdin: a.stdin,
        tty: a.tty,
    })?;
    let format = OutputFormat::parse(a.output.as_deref())?;
    let dry = DryRun::parse(a.dry_run.as_deref())?;
    let client = ctx.client().await?;
    if client.namespace_explicit {
        pod["metadata"]["namespace"] = Value::String(client.namespace.clone());
    }
    let created: Value = if dry == DryRun::Client {
        pod
    } else {
        post(
            &client,
            &format!("/api/v1/namespaces/{}/pods", client.namespace),
            &pod,
            dry,
        )
        .await?
    };
    print_result(&format, &created, "created", dry)
}
