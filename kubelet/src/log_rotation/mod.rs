//! Container log rotation (upstream's container log manager): every
//! `--container-log-monitor-interval` the kubelet looks at the log of each running
//! container and, once it has reached `--container-log-max-size`, rotates it (see
//! [`files`]) and asks the runtime to reopen it through CRI `ReopenContainerLog`, so a
//! chatty container cannot fill the node's disk.

pub mod files;

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use proto::cri::v1 as cri;
use thiserror::Error;

use crate::cri::{call_error, CriError, Runtime};

/// Upstream's defaults: 10Mi per file, 5 files per container, checked every 10 s.
pub const DEFAULT_MAX_SIZE: &str = "10Mi";
pub const DEFAULT_MAX_FILES: usize = 5;

/// What a rotation round is allowed to keep.
#[derive(Debug, Clone)]
pub struct RotationPolicy {
    /// A live log at or above this many bytes is rotated.
    pub max_size: u64,
    /// Files kept per container, the live log included (at least 2).
    pub max_files: usize,
    /// Time between rounds.
    pub monitor_interval: Duration,
}

#[derive(Debug, Error)]
pub enum RotationError {
    #[error("--container-log-max-size {0:?} is not a quantity of bytes")]
    BadMaxSize(String),
    #[error("--container-log-max-files must be at least 2, got {0}")]
    TooFewFiles(usize),
    #[error("--container-log-monitor-interval must be at least 3s")]
    IntervalTooShort,
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Cri(#[from] CriError),
}

impl RotationPolicy {
    /// Validates the flags as upstream's kubelet config validation does.
    pub fn from_flags(
        max_size: &str,
        max_files: usize,
        monitor_interval: Duration,
    ) -> Result<RotationPolicy, RotationError> {
        let max_size = crate::pods::qos::parse_quantity(&Quantity(max_size.to_string()), false)
            .filter(|&b| b > 0)
            .ok_or_else(|| RotationError::BadMaxSize(max_size.to_string()))?;
        if max_files < 2 {
            return Err(RotationError::TooFewFiles(max_files));
        }
        if monitor_interval < Duration::from_secs(3) {
            return Err(RotationError::IntervalTooShort);
        }
        Ok(RotationPolicy {
            max_size: max_size as u64,
            max_files,
            monitor_interval,
        })
    }
}

/// Rotates the logs of the runtime's running containers, forever.
pub struct LogRotator {
    runtime: Runtime,
    policy: RotationPolicy,
}

impl LogRotator {
    pub fn new(runtime: Runtime, policy: RotationPolicy) -> LogRotator {
        LogRotator { runtime, policy }
    }

    pub async fn run(self) {
        let mut tick = tokio::time::interval(self.policy.monitor_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.round().await {
                tracing::warn!("container log rotation: {e}");
            }
        }
    }

    /// One pass over the running containers; one container's failure does not stop the rest.
    pub async fn round(&self) -> Result<(), RotationError> {
        for container in self.runtime.running_containers().await? {
            let id = container.id;
            let Some(log) = self.log_path(&id).await? else {
                continue;
            };
            let size = match tokio::fs::metadata(&log).await {
                Ok(m) => m.len(),
                // The runtime has not created it yet, or the container just went away.
                Err(_) => continue,
            };
            if size < self.policy.max_size {
                continue;
            }
            if let Err(e) = self.rotate(&id, &log).await {
                tracing::warn!("rotating the log of container {id}: {e}");
            }
        }
        Ok(())
    }

    async fn rotate(&self, id: &str, log: &Path) -> Result<(), RotationError> {
        let (owned, max_files) = (log.to_path_buf(), self.policy.max_files);
        tokio::task::spawn_blocking(move || prepare_rotated_logs(&owned, max_files))
            .await
            .map_err(|e| RotationError::Io {
                action: "compress rotated logs of",
                path: log.to_path_buf(),
                source: std::io::Error::other(e),
            })??;
        let rotated = files::rotated_name(log, chrono::Utc::now());
        tokio::fs::rename(log, &rotated)
            .await
            .map_err(io_error("rename", log))?;
        let reopened = self
            .runtime
            .runtime
            .clone()
            .reopen_container_log(cri::ReopenContainerLogRequest {
                container_id: id.to_string(),
            })
            .await;
        if let Err(status) = reopened {
            // Put the log back so the next round tries again and nothing is lost.
            tokio::fs::rename(&rotated, log)
                .await
                .map_err(io_error("rename back", &rotated))?;
            return Err(call_error("ReopenContainerLog")(status).into());
        }
        tracing::info!("rotated the log of container {id} to {}", rotated.display());
        Ok(())
    }

    async fn log_path(&self, id: &str) -> Result<Option<PathBuf>, RotationError> {
        let status = self
            .runtime
            .runtime
            .clone()
            .container_status(cri::ContainerStatusRequest {
                container_id: id.to_string(),
                verbose: false,
            })
            .await;
        match status {
            Ok(reply) => Ok(reply
                .into_inner()
                .status
                .map(|s| s.log_path)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)),
            // Gone between the list and now.
            Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
            Err(s) => Err(call_error("ContainerStatus")(s).into()),
        }
    }
}

/// Before rotating `log`: clean up leftovers, drop the oldest rotated files and compress the
/// rest, leaving room for the file about to be rotated.
fn prepare_rotated_logs(log: &Path, max_files: usize) -> Result<(), RotationError> {
    let rotated = files::rotated_logs(log).map_err(io_error("list rotated logs of", log))?;
    let rotated = files::cleanup_unused(rotated).map_err(io_error("clean up logs of", log))?;
    let rotated =
        files::remove_excess(rotated, max_files).map_err(io_error("remove old logs of", log))?;
    for old in rotated {
        if !old.to_string_lossy().ends_with(files::COMPRESS_SUFFIX) {
            files::compress(&old).map_err(io_error("compress", &old))?;
        }
    }
    Ok(())
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> RotationError {
    let path = path.to_path_buf();
    move |source| RotationError::Io {
        action,
        path,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_validated_like_upstream() {
        let p = RotationPolicy::from_flags("10Mi", 5, Duration::from_secs(10)).unwrap();
        assert_eq!(p.max_size, 10 * 1024 * 1024);
        assert!(matches!(
            RotationPolicy::from_flags("ten", 5, Duration::from_secs(10)),
            Err(RotationError::BadMaxSize(_))
        ));
        assert!(matches!(
            RotationPolicy::from_flags("10Mi", 1, Duration::from_secs(10)),
            Err(RotationError::TooFewFiles(1))
        ));
        assert!(matches!(
            RotationPolicy::from_flags("10Mi", 5, Duration::from_secs(1)),
            Err(RotationError::IntervalTooShort)
        ));
    }

    #[test]
    fn preparing_keeps_max_files_minus_two_compressed_logs() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("0.log");
        std::fs::write(&log, "live").unwrap();
        for i in 1..=3 {
            std::fs::write(dir.path().join(format!("0.log.20260101-00000{i}")), "old").unwrap();
        }
        prepare_rotated_logs(&log, 4).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "0.log",
                "0.log.20260101-000002.gz",
                "0.log.20260101-000003.gz"
            ]
        );
    }
}
