//! The log backend (`--audit-log-path`): one JSON event per line, to a file or to stdout
//! (`-`), with size-based rotation (`--audit-log-maxsize` MB, keeping `--audit-log-maxbackup`
//! files no older than `--audit-log-maxage` days) named as upstream's lumberjack names them:
//! `audit-2006-01-02T15-04-05.000.log` next to `audit.log`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where events go.
pub struct LogBackend {
    target: Mutex<Target>,
    rotation: Rotation,
}

/// Rotation settings; zero means "no limit".
#[derive(Debug, Clone, Copy, Default)]
pub struct Rotation {
    /// Rotate when the file would exceed this many megabytes.
    pub max_size_mb: u64,
    /// Keep at most this many rotated files.
    pub max_backups: usize,
    /// Delete rotated files older than this many days.
    pub max_age_days: u64,
}

enum Target {
    Stdout,
    File {
        path: PathBuf,
        file: File,
        size: u64,
    },
}

fn open(path: &Path) -> std::io::Result<(File, u64)> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let size = file.metadata()?.len();
    Ok((file, size))
}

impl LogBackend {
    /// Open the log (`-` is stdout).
    pub fn open(path: &str, rotation: Rotation) -> std::io::Result<Self> {
        let target = if path == "-" {
            Target::Stdout
        } else {
            let path = PathBuf::from(path);
            let (file, size) = open(&path)?;
            Target::File { path, file, size }
        };
        Ok(Self {
            target: Mutex::new(target),
            rotation,
        })
    }

    /// Write one line. A failing write is logged, never fails the request (upstream's
    /// blocking log backend does the same).
    pub fn write_line(&self, line: &[u8]) {
        let mut target = self.target.lock().unwrap_or_else(|p| p.into_inner());
        let result = match &mut *target {
            Target::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(line).and_then(|_| out.write_all(b"\n"))
            }
            Target::File { path, file, size } => {
                let len = line.len() as u64 + 1;
                let max = self.rotation.max_size_mb * 1024 * 1024;
                if max > 0 && *size > 0 && *size + len > max {
                    match rotate(path, &self.rotation) {
                        Ok((f, s)) => {
                            *file = f;
                            *size = s;
                        }
                        Err(e) => tracing::warn!(error = %e, "rotating the audit log failed"),
                    }
                }
                let r = file.write_all(line).and_then(|_| file.write_all(b"\n"));
                if r.is_ok() {
                    *size += len;
                }
                r
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "writing the audit log failed");
        }
    }
}

/// The name of a rotated file: `<stem>-<UTC time>.<ext>`.
fn backup_name(path: &Path, now: chrono::DateTime<chrono::Utc>) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let stamp = now.format("%Y-%m-%dT%H-%M-%S%.3f");
    path.with_file_name(format!("{stem}-{stamp}{ext}"))
}

/// Move the current file aside, prune old backups, open a fresh file.
fn rotate(path: &Path, rotation: &Rotation) -> std::io::Result<(File, u64)> {
    let now = chrono::Utc::now();
    std::fs::rename(path, backup_name(path, now))?;
    prune(path, rotation, now);
    open(path)
}

fn prune(path: &Path, rotation: &Rotation, now: chrono::DateTime<chrono::Utc>) {
    let (Some(dir), Some(stem)) = (path.parent(), path.file_stem()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}-", stem.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    // Backup names sort by time, so the newest are last.
    let mut backups: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .collect();
    backups.sort();
    let mut remove = Vec::new();
    if rotation.max_backups > 0 && backups.len() > rotation.max_backups {
        let excess = backups.len() - rotation.max_backups;
        remove.extend(backups.drain(..excess));
    }
    if rotation.max_age_days > 0 {
        let cutoff = std::time::Duration::from_secs(rotation.max_age_days * 86_400);
        let now: std::time::SystemTime = now.into();
        for b in backups {
            let old = std::fs::metadata(&b)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age > cutoff);
            if old {
                remove.push(b);
            }
        }
    }
    for r in remove {
        let _ = std::fs::remove_file(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_max_backups() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("audit.log");
        let log = LogBackend::open(
            path.to_str().expect("utf8"),
            Rotation {
                max_size_mb: 1,
                max_backups: 2,
                max_age_days: 0,
            },
        )
        .expect("open");
        let line = vec![b'x'; 300 * 1024];
        for _ in 0..16 {
            log.write_line(&line);
            // Distinct backup names need distinct milliseconds.
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().any(|n| n == "audit.log"));
        assert!(names
            .iter()
            .filter(|n| *n != "audit.log")
            .all(|n| n.starts_with("audit-") && n.ends_with(".log")));
        let size = std::fs::metadata(&path).expect("meta").len();
        assert!(size <= 1024 * 1024, "{size}");
    }
}
