//! exec probes: the command runs in the container through CRI ExecSync; exit code 0 is
//! success, anything else a failure whose message is the command's output.
use std::time::Duration;

use proto::cri::v1 as cri;

use crate::cri::Runtime;

/// What an exec probe found.
#[derive(Debug, PartialEq, Eq)]
pub enum ExecResult {
    /// Exit code 0.
    Success,
    /// Non-zero exit or timeout, with upstream's message (the combined output, or
    /// "command \"…\" timed out").
    Failure(String),
    /// The runtime could not run the command (container gone, runtime down): no verdict.
    Error(String),
}

/// Runs `command` in `container_id` with `timeout`. The runtime enforces the timeout; we
/// also bound the call ourselves, a little later, in case the runtime hangs.
pub async fn probe(
    runtime: &Runtime,
    container_id: &str,
    command: &[String],
    timeout: Duration,
) -> ExecResult {
    let request = cri::ExecSyncRequest {
        container_id: container_id.to_string(),
        cmd: command.to_vec(),
        timeout: timeout.as_secs().max(1) as i64,
    };
    let timed_out = || ExecResult::Failure(format!("command {:?} timed out", command.join(" ")));
    let mut client = runtime.runtime.clone();
    let call = client.exec_sync(request);
    match tokio::time::timeout(timeout + Duration::from_secs(2), call).await {
        Err(_) => timed_out(),
        Ok(Err(status)) if status.code() == tonic::Code::DeadlineExceeded => timed_out(),
        Ok(Err(status)) => ExecResult::Error(format!("ExecSync: {}", status.message())),
        Ok(Ok(resp)) => {
            let resp = resp.into_inner();
            if resp.exit_code == 0 {
                ExecResult::Success
            } else {
                let mut output = resp.stdout;
                output.extend_from_slice(&resp.stderr);
                ExecResult::Failure(String::from_utf8_lossy(&output).into_owned())
            }
        }
    }
}
