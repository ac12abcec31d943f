//! `kubectl run NAME --image=IMAGE`: creates one pod (upstream's only remaining generator).

use std::time::Duration;

use tokio::time::Instant;

use clap::Args;
use futures::StreamExt;
use http::Method;
use serde_json::Value;

use super::attach::{attach, AttachOptions};
use super::attachable::container_for;
use super::create::post;
use super::exec::pod_running_timeout;
use super::generators::{self as gen, RunSpec};
use super::print_flags::{DryRun, DryRunFlag, PrintFlags};
use super::write::Write;
use super::{out, Ctx};
use crate::client::{q, ApiClient};
use crate::error::{KubectlError, Result};
use crate::watch;

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
    /// The restart policy for this Pod. Legal values [Always, OnFailure, Never]
    /// (default Always, OnFailure with -i).
    #[arg(long)]
    restart: Option<String>,
    /// The image pull policy for the container.
    #[arg(long)]
    image_pull_policy: Option<String>,
    /// Keep stdin open on the container in the pod.
    #[arg(short = 'i', long)]
    stdin: bool,
    /// Allocate a TTY for the container in the pod.
    #[arg(short = 't', long)]
    tty: bool,
    /// Wait for the Pod to start running, then attach to it as 'kubectl attach' would
    /// (default with -i). With --restart=Never the container's exit code is returned.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    attach: Option<bool>,
    /// Delete the pod after it exits (only when attaching).
    #[arg(long)]
    rm: bool,
    /// Leave stdin open after the first attach completes.
    #[arg(long)]
    leave_stdin_open: bool,
    /// Only print output from the remote session.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// How long to wait until the pod is running (e.g. 5s, 2m).
    #[arg(long, default_value = "1m0s", value_parser = crate::flags::go_duration)]
    pod_running_timeout: String,
    #[command(flatten)]
    pub print_flags: PrintFlags,
    #[command(flatten)]
    pub dry_run: DryRunFlag,
    /// Name of the manager used to track field ownership.
    #[arg(long, default_value = "kubectl-run")]
    field_manager: String,
    /// An inline JSON override for the generated object, applied as --override-type says.
    #[arg(long)]
    overrides: Option<String>,
    /// The method used to override the generated object: json, merge, or strategic.
    #[arg(long, default_value = "merge")]
    override_type: String,
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
    let restart = a
        .restart
        .clone()
        .unwrap_or_else(|| if a.stdin { "OnFailure" } else { "Always" }.to_string());
    if !matches!(restart.as_str(), "Always" | "OnFailure" | "Never") {
        return Err(KubectlError::usage(format!(
            "invalid restart policy: {restart}\nSee 'kubectl run -h' for help and examples"
        )));
    }
    let attach = a.attach.unwrap_or(a.stdin);
    if !attach && a.rm {
        return Err(KubectlError::usage(
            "--rm should only be used for attached containers\nSee 'kubectl run -h' for help and examples",
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
        restart: &restart,
        pull_policy: a.image_pull_policy.as_deref(),
        annotations: &a.annotations,
        stdin: a.stdin,
        tty: a.tty,
    })?;
    if a.leave_stdin_open {
        if let Some(c) = pod["spec"]["containers"][0].as_object_mut() {
            c.remove("stdinOnce");
        }
    }
    if let Some(overrides) = a.overrides.as_deref().filter(|o| !o.is_empty()) {
        pod = super::overrides::apply(&pod, overrides, &a.override_type)?;
    }
    let format = a.print_flags.format()?;
    let dry = a.dry_run.strategy()?;
    if attach && dry != DryRun::None {
        return Err(KubectlError::usage(
            "--dry-run=[server|client] can't be used with attached containers options (--attach, --stdin, or --tty)\nSee 'kubectl run -h' for help and examples",
        ));
    }
    let timeout = pod_running_timeout(&a.pod_running_timeout)?;
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
            &Write::by(&a.field_manager, dry),
        )
        .await?
    };
    if !attach {
        return a.print_flags.print(&format, &created, "created", dry);
    }
    let result = attach_and_wait(&client, &created, &a, &restart, timeout).await;
    if a.rm {
        let ns = &client.namespace;
        client
            .request(
                Method::DELETE,
                &format!("/api/v1/namespaces/{ns}/pods/{name}"),
                "application/json",
                None,
            )
            .await?;
        out(&format!("pod \"{name}\" deleted\n"));
    }
    result
}

/// Waits for the new pod to run, attaches to it (or prints its logs when it has already
/// finished, or when attaching fails), then, for pods that are not restarted forever, waits
/// for the end and returns the container's exit code as upstream's `kubectl run` does.
async fn attach_and_wait(
    client: &ApiClient,
    created: &Value,
    a: &RunArgs,
    restart: &str,
    timeout: Duration,
) -> Result<()> {
    let ns = client.namespace.clone();
    let name = created["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let pod = wait_for_pod(client, &ns, &name, timeout, running_and_ready_or_done).await?;
    let options = || AttachOptions {
        container: None,
        stdin: a.stdin,
        tty: a.tty,
        quiet: a.quiet,
    };
    if is_completed(&pod) {
        print_logs(client, &pod, None).await?;
    } else if let Err(e) = attach(client, &pod, options()).await {
        eprintln!("warning: couldn't attach to pod/{name}, falling back to streaming logs: {e}");
        print_logs(client, &pod, None).await?;
    }
    if a.leave_stdin_open || restart == "Always" {
        return Ok(());
    }
    let done: fn(&Value) -> bool = if restart == "OnFailure" {
        |p| p["status"]["phase"] == "Succeeded"
    } else {
        is_completed
    };
    let pod = wait_for_pod(client, &ns, &name, timeout, done).await?;
    match pod["status"]["phase"].as_str().unwrap_or("") {
        "Succeeded" => Ok(()),
        "Failed" => {
            let terminated = &pod["status"]["containerStatuses"][0]["state"]["terminated"];
            match terminated["exitCode"].as_i64().filter(|rc| *rc != 0) {
                Some(rc) => {
                    let msg = format!(
                        "pod {ns}/{name} terminated ({})\n{}",
                        terminated["reason"].as_str().unwrap_or(""),
                        terminated["message"].as_str().unwrap_or("")
                    );
                    // Upstream ends the message with one newline, not two.
                    if msg.ends_with('\n') {
                        eprint!("{msg}");
                    } else {
                        eprintln!("{msg}");
                    }
                    Err(KubectlError::Exit(i32::try_from(rc).unwrap_or(1)))
                }
                None => Err(KubectlError::usage(format!(
                    "pod {ns}/{name} failed with unknown exit code"
                ))),
            }
        }
        phase => Err(KubectlError::usage(format!(
            "pod {ns}/{name} left in phase {phase}"
        ))),
    }
}

fn is_completed(pod: &Value) -> bool {
    matches!(
        pod["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed")
    )
}

/// Upstream's podRunningAndReady, with a finished pod also ending the wait.
fn running_and_ready_or_done(pod: &Value) -> bool {
    if is_completed(pod) {
        return true;
    }
    pod["status"]["phase"] == "Running"
        && pod["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// Watches the pod until `done` holds, for at most `timeout`.
async fn wait_for_pod(
    client: &ApiClient,
    ns: &str,
    name: &str,
    timeout: Duration,
    done: fn(&Value) -> bool,
) -> Result<Value> {
    let deadline = Instant::now() + timeout;
    let collection = format!("/api/v1/namespaces/{ns}/pods");
    let pod = watch::object_until(client, &collection, name, deadline, |pod| match pod {
        Some(pod) => Ok(done(pod).then(|| pod.clone())),
        None => Err(KubectlError::not_found("pods", name)),
    });
    pod.await?
        .ok_or_else(|| KubectlError::usage("timed out waiting for the condition"))
}

/// A container's whole log (the default container's when none is named), to stdout.
pub(super) async fn print_logs(
    client: &ApiClient,
    pod: &Value,
    container: Option<&str>,
) -> Result<()> {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or("");
    let name = pod["metadata"]["name"].as_str().unwrap_or("");
    let container = container_for(pod, container, true)?;
    let path = format!(
        "/api/v1/namespaces/{ns}/pods/{name}/log?container={}",
        q(&container)
    );
    let mut stream = Box::pin(client.stream(&path, "*/*").await?);
    while let Some(chunk) = stream.next().await {
        out(&String::from_utf8_lossy(&chunk?));
    }
    Ok(())
}
