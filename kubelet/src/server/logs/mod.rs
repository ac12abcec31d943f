//! `GET /containerLogs/{namespace}/{pod}/{container}`: reads the container's CRI log file
//! (its path comes from CRI ContainerStatus) and streams it as `kubectl logs` prints it.
//!
//! With `follow`, the file is polled for growth until the container is no longer running and
//! the file has been drained, or the client goes away.

pub mod filter;
pub mod format;
pub mod options;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use http::{Response, StatusCode};
use proto::cri::v1 as cri;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use self::filter::LogFilter;
use self::options::{LogOptions, LogQueryError};
use super::lookup::{self, PodRef};
use super::response::{self, Body};
use crate::cri::{call_error, Runtime};

/// How often a followed file is checked for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(200);
/// How often a follower asks the runtime whether the container still runs.
const STATUS_POLL: Duration = Duration::from_secs(1);

/// Serves one log request.
pub async fn container_logs(
    runtime: &Runtime,
    pod: PodRef,
    container: &str,
    query: &str,
) -> Response<Body> {
    let opts = match LogOptions::from_query(query, Utc::now()) {
        Ok(o) => o,
        Err(e @ LogQueryError::Decode(_)) => {
            return response::text(
                StatusCode::BAD_REQUEST,
                format!(r#"{{"message": {:?}}}"#, e.to_string()),
            )
        }
        Err(e @ LogQueryError::Invalid(_)) => {
            return response::text(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(r#"{{"message": {:?}}}"#, e.to_string()),
            )
        }
    };
    let found = match lookup::log_container(runtime, &pod, container, opts.previous).await {
        Ok(c) => c,
        Err(e) => return response::text(e.status(), e.to_string()),
    };
    let path = match log_path(runtime, &found.id).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return response::text(
                StatusCode::BAD_REQUEST,
                format!(
                    "container {container:?} in pod {:?} has no log file",
                    pod.name
                ),
            )
        }
        Err(e) => return response::text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) => {
            return response::text(
                StatusCode::BAD_REQUEST,
                format!(
                    "failed to open log file {:?}: {e}",
                    path.display().to_string()
                ),
            )
        }
    };
    let (tx, rx) = mpsc::channel(16);
    let follower = Follower {
        runtime: runtime.clone(),
        container_id: found.id,
        follow: opts.follow,
        filter: LogFilter::new(&opts),
        tx,
    };
    tokio::spawn(follower.run(BufReader::new(file), path));
    response::with_body(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        response::streamed(rx),
    )
}

/// The log path from ContainerStatus (absolute in CRI v1; empty when the runtime keeps none).
async fn log_path(runtime: &Runtime, id: &str) -> Result<Option<PathBuf>, crate::cri::CriError> {
    let status = container_status(runtime, id).await?;
    Ok(status
        .map(|s| s.log_path)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from))
}

async fn container_status(
    runtime: &Runtime,
    id: &str,
) -> Result<Option<cri::ContainerStatus>, crate::cri::CriError> {
    Ok(runtime
        .runtime
        .clone()
        .container_status(cri::ContainerStatusRequest {
            container_id: id.to_string(),
            verbose: false,
        })
        .await
        .map_err(call_error("ContainerStatus"))?
        .into_inner()
        .status)
}

/// The file now at `path` when it is no longer the one `reader` reads (the kubelet's log
/// rotation renamed it and the runtime reopened a new one); `None` while they are the same.
async fn reopened_after_rotation(
    reader: &BufReader<tokio::fs::File>,
    path: &std::path::Path,
) -> Option<BufReader<tokio::fs::File>> {
    use std::os::unix::fs::MetadataExt;
    let reading = reader.get_ref().metadata().await.ok()?.ino();
    let at_path = tokio::fs::metadata(path).await.ok()?.ino();
    if reading == at_path {
        return None;
    }
    tokio::fs::File::open(path).await.ok().map(BufReader::new)
}

/// Reads one log file into one response.
struct Follower {
    runtime: Runtime,
    container_id: String,
    follow: bool,
    filter: LogFilter,
    tx: mpsc::Sender<Bytes>,
}

impl Follower {
    async fn run(mut self, mut reader: BufReader<tokio::fs::File>, path: PathBuf) {
        let mut line = Vec::new();
        let mut caught_up = false;
        // Set once the container is seen stopped: one more pass drains what it wrote last.
        let mut draining = false;
        let mut last_status_check: Option<Instant> = None;
        loop {
            if !self.read_available(&mut reader, &mut line, &path).await {
                return;
            }
            if !caught_up {
                self.filter.caught_up();
                caught_up = true;
            }
            let stop = !self.follow || draining || self.filter.is_done();
            if stop && !line.is_empty() {
                self.filter.push(&line);
            }
            if stop {
                self.filter.finish();
            }
            if !self.send().await || stop {
                if self.filter.skipped > 0 {
                    tracing::debug!(path = %path.display(), skipped = self.filter.skipped, "unparsable log lines skipped");
                }
                return;
            }
            if last_status_check.is_none_or(|t| t.elapsed() >= STATUS_POLL) {
                last_status_check = Some(Instant::now());
                draining = !self.container_running().await;
                if draining {
                    continue;
                }
            }
            // Log rotation renamed the file under us: what was in it has been read, so go on
            // with the new file the runtime reopened at the same path, from its start.
            if let Some(rotated_to) = reopened_after_rotation(&reader, &path).await {
                // The runtime may have written to the old file between our last read and
                // its reopen; take that first.
                if !self.read_available(&mut reader, &mut line, &path).await {
                    return;
                }
                reader = rotated_to;
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(FOLLOW_POLL) => {}
                _ = self.tx.closed() => return,
            }
        }
    }

    /// Feeds every complete line now in the file to the filter (an incomplete last line stays
    /// in `line` until the rest is written); false when the file cannot be read.
    async fn read_available(
        &mut self,
        reader: &mut BufReader<tokio::fs::File>,
        line: &mut Vec<u8>,
        path: &std::path::Path,
    ) -> bool {
        loop {
            match reader.read_until(b'\n', line).await {
                Ok(0) => return true,
                Ok(_) if line.ends_with(b"\n") => {
                    self.filter.push(line);
                    line.clear();
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "reading container log failed");
                    return false;
                }
            }
            if self.filter.is_done() {
                return true;
            }
        }
    }

    /// Sends what the filter produced; false when the client has gone.
    async fn send(&mut self) -> bool {
        let out = self.filter.take_output();
        out.is_empty() || self.tx.send(Bytes::from(out)).await.is_ok()
    }

    /// Upstream keeps following only while the container runs; a failed status call (the
    /// container was removed) ends the stream too.
    async fn container_running(&self) -> bool {
        matches!(
            container_status(&self.runtime, &self.container_id).await,
            Ok(Some(s)) if s.state == cri::ContainerState::ContainerRunning as i32
        )
    }
}
