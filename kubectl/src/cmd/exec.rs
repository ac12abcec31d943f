//! `kubectl exec (POD | TYPE/NAME) [-c CONTAINER] [-i] [-t] -- COMMAND [args...]`: runs a
//! command in a container through `pods/<name>/exec` over a WebSocket.

use std::time::Duration;

use clap::Args;
use serde_json::Value;

use super::attachable::{container_for, pod_for};
use super::Ctx;
use crate::client::q;
use crate::error::{KubectlError, Result};
use crate::remote::{self, terminal, Errors, Input, Output, Session};

/// The stream flags `exec` and `attach` share (upstream's StreamOptions).
#[derive(Debug, Args)]
pub struct StreamArgs {
    /// Container name. If omitted, use the kubectl.kubernetes.io/default-container
    /// annotation, else the first container in the pod.
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Pass stdin to the container.
    #[arg(short = 'i', long)]
    pub stdin: bool,
    /// Stdin is a TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Only print output from the remote session.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// How long to wait until at least one pod is running (e.g. 5s, 2m).
    #[arg(long, default_value = "1m0s", value_parser = crate::flags::go_duration)]
    pub pod_running_timeout: String,
}

/// `kubectl exec`
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// POD or TYPE/NAME.
    args: Vec<String>,
    /// to use to exec into the resource
    #[arg(short = 'f', long = "filename", value_delimiter = ',')]
    filename: Vec<String>,
    #[command(flatten)]
    streams: StreamArgs,
    /// The command and its arguments, after `--`.
    #[arg(last = true)]
    command: Vec<String>,
}

/// The first object of the `-f` files as `TYPE/NAME`, with its namespace if it names one:
/// what exec attaches to (a pod, or a workload whose pod is picked as for `TYPE/NAME`).
fn object_from_files(files: &[String]) -> Result<(Option<String>, String)> {
    let manifests = crate::manifest::read_all(files, false)?;
    let Some(m) = manifests.first() else {
        return Err(KubectlError::usage("no objects passed to exec"));
    };
    let kind = m.object["kind"].as_str().unwrap_or_default().to_lowercase();
    let name = m.object["metadata"]["name"].as_str().unwrap_or_default();
    let ns = m.object["metadata"]["namespace"].as_str().map(String::from);
    Ok((ns, format!("{kind}/{name}")))
}

/// Runs `kubectl exec`.
pub async fn run(ctx: &Ctx, a: ExecArgs) -> Result<()> {
    let s = &a.streams;
    if a.args.len() > 1 {
        return Err(KubectlError::usage(
            "exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee 'kubectl exec -h' for help and examples",
        ));
    }
    // A namespace the file names wins over the current one.
    let (file_ns, target) = match a.args.first() {
        Some(word) => (None, word.clone()),
        None if !a.filename.is_empty() => object_from_files(&a.filename)?,
        None => {
            return Err(KubectlError::usage(
                "pod, type/name or --filename must be specified",
            ))
        }
    };
    if a.command.is_empty() {
        return Err(KubectlError::usage(
            "you must specify at least one command for the container",
        ));
    }
    let timeout = pod_running_timeout(&s.pod_running_timeout)?;
    let client = ctx.client().await?;
    let ns = file_ns.unwrap_or_else(|| client.namespace.clone());
    let target = &target;
    let pod = pod_for(&client, &ns, target, timeout).await?;
    refuse_completed(&pod, "exec into")?;
    // An explicit container goes to the server unchecked, as upstream: its answer names
    // the problem.
    let container = match s.container.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => c.to_string(),
        None => container_for(&pod, None, s.quiet)?,
    };
    let tty = s.tty && s.stdin && tty_usable(s.quiet);
    let path = exec_path(&pod, &container, &a.command, s.stdin, tty);
    let session = Session {
        input: if s.stdin { Input::Stdin } else { Input::None },
        output: Output::Stdout,
        errors: if tty { Errors::None } else { Errors::Stderr },
        tty,
        redraw: false,
    };
    run_session(&client, &path, session, tty).await
}

/// The `pods/<name>/exec` request for `command` in `container` (stderr is its own stream
/// unless there is a TTY).
pub fn exec_path(
    pod: &Value,
    container: &str,
    command: &[String],
    stdin: bool,
    tty: bool,
) -> String {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or("");
    let name = pod["metadata"]["name"].as_str().unwrap_or("");
    let mut query = vec![format!("container={}", q(container))];
    query.extend(command.iter().map(|c| format!("command={}", q(c))));
    query.push(format!("stdin={stdin}"));
    query.push("stdout=true".into());
    query.push(format!("stderr={}", !tty));
    query.push(format!("tty={tty}"));
    format!(
        "/api/v1/namespaces/{ns}/pods/{name}/exec?{}",
        query.join("&")
    )
}

/// Runs a session, with the local terminal raw while it lasts when `tty` is set.
pub async fn run_session(
    client: &crate::client::ApiClient,
    path: &str,
    session: Session<'_>,
    tty: bool,
) -> Result<()> {
    let raw = if tty {
        Some(terminal::RawMode::enable().map_err(|e| {
            KubectlError::usage(format!("unable to put the terminal into raw mode: {e}"))
        })?)
    } else {
        None
    };
    let result = remote::run(client, path, session).await;
    drop(raw);
    result
}

/// Whether a TTY can be used: stdin must be a terminal; otherwise upstream warns (unless
/// quiet) and goes on without one.
pub fn tty_usable(quiet: bool) -> bool {
    if terminal::stdin_is_terminal() {
        return true;
    }
    if !quiet {
        eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
    }
    false
}

/// Upstream refuses pods that have finished.
pub fn refuse_completed(pod: &Value, verb: &str) -> Result<()> {
    match pod["status"]["phase"].as_str() {
        Some(phase @ ("Succeeded" | "Failed")) => Err(KubectlError::usage(format!(
            "cannot {verb} a container in a completed pod; current phase is {phase}"
        ))),
        _ => Ok(()),
    }
}

/// `--pod-running-timeout` as a duration (must be positive, as upstream).
pub fn pod_running_timeout(text: &str) -> Result<Duration> {
    match common::duration::parse(text) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(KubectlError::usage(
            "--pod-running-timeout must be higher than zero",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn completed_pods_are_refused_with_upstream_text() {
        let done = json!({"status": {"phase": "Succeeded"}});
        assert_eq!(
            refuse_completed(&done, "exec into")
                .unwrap_err()
                .to_string(),
            "error: cannot exec into a container in a completed pod; current phase is Succeeded"
        );
        assert!(refuse_completed(&json!({"status": {"phase": "Running"}}), "exec into").is_ok());
    }

    #[test]
    fn pod_running_timeout_must_be_positive() {
        assert_eq!(
            pod_running_timeout("1m0s").unwrap(),
            Duration::from_secs(60)
        );
        assert!(pod_running_timeout("0s").is_err());
        assert!(pod_running_timeout("x").is_err());
    }
}
