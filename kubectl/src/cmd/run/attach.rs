//! `kubectl run`'s attached half: wait for the new pod to run, attach to it (or show its
//! logs when it has already finished, or when attaching fails), then, for pods that are not
//! restarted forever, wait for the end and return the container's exit code.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::time::Instant;

use super::super::attach::{attach, AttachOptions};
use super::super::attachable::container_for;
use super::super::out;
use crate::client::{q, ApiClient};
use crate::error::{KubectlError, Result};
use crate::watch;

/// How the session is run: what `-i`, `-t`, `-q`, `--leave-stdin-open`, `--restart` and
/// `--pod-running-timeout` asked.
#[derive(Debug, Clone)]
pub struct Session<'a> {
    /// `-i`
    pub stdin: bool,
    /// `-t`
    pub tty: bool,
    /// `-q`
    pub quiet: bool,
    /// `--leave-stdin-open`: the session is not the container's whole life.
    pub leave_stdin_open: bool,
    /// The pod's restart policy.
    pub restart: &'a str,
    /// `--pod-running-timeout`, for each wait.
    pub timeout: Duration,
}

/// Waits for the new pod to run, attaches to it (or prints its logs when it has already
/// finished, or when attaching fails), then, for pods that are not restarted forever, waits
/// for the end and returns the container's exit code as upstream's `kubectl run` does.
pub async fn attach_and_wait(client: &ApiClient, created: &Value, s: &Session<'_>) -> Result<()> {
    let ns = client.namespace.clone();
    let name = created["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let pod = wait_for_pod(client, &ns, &name, s.timeout, running_and_ready_or_done).await?;
    let options = || AttachOptions {
        container: None,
        stdin: s.stdin,
        tty: s.tty,
        quiet: s.quiet,
    };
    if is_completed(&pod) {
        print_logs(client, &pod, None).await?;
    } else if let Err(e) = attach(client, &pod, options()).await {
        eprintln!("warning: couldn't attach to pod/{name}, falling back to streaming logs: {e}");
        print_logs(client, &pod, None).await?;
    }
    if s.leave_stdin_open || s.restart == "Always" {
        return Ok(());
    }
    let done: fn(&Value) -> bool = if s.restart == "OnFailure" {
        |p| p["status"]["phase"] == "Succeeded"
    } else {
        is_completed
    };
    let pod = wait_for_pod(client, &ns, &name, s.timeout, done).await?;
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
pub async fn print_logs(client: &ApiClient, pod: &Value, container: Option<&str>) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_finished_pod_ends_the_wait_for_running() {
        let running = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        let starting = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}});
        let failed = json!({"status": {"phase": "Failed"}});
        assert!(running_and_ready_or_done(&running));
        assert!(!running_and_ready_or_done(&starting));
        assert!(running_and_ready_or_done(&failed));
        assert!(is_completed(&failed));
        assert!(!is_completed(&running));
    }
}
