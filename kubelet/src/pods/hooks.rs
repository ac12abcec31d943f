//! Lifecycle hooks (postStart, preStop): exec through CRI ExecSync, httpGet, and sleep.
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, LifecycleHandler};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use proto::cri::v1 as cri;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::context::KubeletContext;

/// Runs a hook handler to completion within `timeout_seconds`; Err carries the message for
/// the FailedPostStartHook / FailedPreStopHook event.
pub async fn run(
    ctx: &KubeletContext,
    handler: &LifecycleHandler,
    container_id: &str,
    pod_ip: Option<&str>,
    c: &Container,
    timeout_seconds: i64,
) -> Result<(), String> {
    if let Some(exec) = &handler.exec {
        let cmd = exec.command.clone().unwrap_or_default();
        let result = ctx
            .runtime
            .runtime
            .clone()
            .exec_sync(cri::ExecSyncRequest {
                container_id: container_id.into(),
                cmd: cmd.clone(),
                timeout: timeout_seconds.max(1),
            })
            .await
            .map_err(|s| {
                format!(
                    "Exec lifecycle hook ({cmd:?}) for Container {:?} failed - error: {}",
                    c.name,
                    s.message()
                )
            })?
            .into_inner();
        if result.exit_code != 0 {
            return Err(format!(
                "Exec lifecycle hook ({cmd:?}) for Container {:?} failed - error: command {:?} exited with {}, message: {:?}",
                c.name,
                cmd.join(" "),
                result.exit_code,
                String::from_utf8_lossy(&result.stdout)
            ));
        }
        return Ok(());
    }
    if let Some(sleep) = &handler.sleep {
        let secs = sleep.seconds.clamp(0, timeout_seconds.max(0));
        tokio::time::sleep(Duration::from_secs(secs as u64)).await;
        return Ok(());
    }
    if let Some(http) = &handler.http_get {
        let host = http
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .or(pod_ip.map(String::from))
            .unwrap_or_else(|| "127.0.0.1".into());
        let port = match &http.port {
            IntOrString::Int(p) => *p,
            IntOrString::String(name) => c
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name))
                .map(|p| p.container_port)
                .ok_or_else(|| format!("HTTP lifecycle hook: no container port named {name:?}"))?,
        };
        let path = http.path.clone().unwrap_or_else(|| "/".into());
        let timeout = Duration::from_secs(timeout_seconds.max(1) as u64);
        let status = tokio::time::timeout(timeout, http_get_status(&host, port, &path))
            .await
            .map_err(|_| {
                format!(
                    "HTTP lifecycle hook ({path}) for Container {:?} timed out",
                    c.name
                )
            })?
            .map_err(|e| {
                format!(
                    "HTTP lifecycle hook ({path}) for Container {:?} failed - error: {e}",
                    c.name
                )
            })?;
        if !(200..400).contains(&status) {
            return Err(format!(
                "HTTP lifecycle hook ({path}) for Container {:?} failed - status {status}",
                c.name
            ));
        }
        return Ok(());
    }
    Ok(())
}

/// A minimal HTTP/1.1 GET returning the status code.
async fn http_get_status(host: &str, port: i32, path: &str) -> std::io::Result<u16> {
    let mut stream = tokio::net::TcpStream::connect((host, port as u16)).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-lifecycle/1.33\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut head = vec![0u8; 64];
    let n = stream.read(&mut head).await?;
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad HTTP response {line:?}")))
}

/// The last `lines` lines (at most `max_bytes`) of a CRI-format log file, content only —
/// for `terminationMessagePolicy: FallbackToLogsOnError`.
pub fn log_tail(path: &str, lines: usize, max_bytes: usize) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return String::new();
    };
    let content: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            // <timestamp> <stream> <tag> <content>
            let mut parts = l.splitn(4, ' ');
            let (_, _, _) = (parts.next()?, parts.next()?, parts.next()?);
            Some(parts.next().unwrap_or(""))
        })
        .collect();
    let start = content.len().saturating_sub(lines);
    let mut out = content[start..].join("\n");
    if out.len() > max_bytes {
        let mut cut = out.len() - max_bytes;
        while !out.is_char_boundary(cut) {
            cut += 1;
        }
        out = out[cut..].to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn log_tail_reads_cri_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(&path, "2024-01-01T00:00:00.1Z stdout F one\n2024-01-01T00:00:00.2Z stderr F two\n2024-01-01T00:00:00.3Z stdout F three\n").unwrap();
        assert_eq!(
            super::log_tail(path.to_str().unwrap(), 2, 100),
            "two\nthree"
        );
        assert_eq!(super::log_tail(path.to_str().unwrap(), 5, 4), "hree");
    }
}
