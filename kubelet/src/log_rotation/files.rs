//! The file side of container log rotation, as upstream's container log manager does it:
//! a running container's log `0.log` that has grown past the limit is renamed to
//! `0.log.<YYYYMMDD-HHMMSS>` and the runtime is told to reopen it; older rotated files are
//! gzip-compressed (`.gz`) and the oldest removed so that at most `max_files` files exist
//! for the container, the live one included.

use std::fs;
use std::io::{self, BufReader, BufWriter};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;

/// Suffix of a compressed rotated log.
pub const COMPRESS_SUFFIX: &str = ".gz";
/// Suffix of a compression in progress; left over only by a crash, and then removed.
pub const TMP_SUFFIX: &str = ".tmp";
/// Upstream's rotation timestamp (Go layout `20060102-150405`), UTC.
pub const TIMESTAMP_FORMAT: &str = "%Y%m%d-%H%M%S";

/// Rotated siblings of `log` (`<log>.*`), oldest first. Rotation names sort by time because
/// the timestamp is fixed-width.
pub fn rotated_logs(log: &Path) -> io::Result<Vec<PathBuf>> {
    let Some(dir) = log.parent() else {
        return Ok(Vec::new());
    };
    let Some(name) = log.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{name}.");
    let mut found: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    Ok(found)
}

/// Removes what an interrupted rotation left behind: `.tmp` files and uncompressed logs
/// whose compressed copy already exists. Returns the logs that remain.
pub fn cleanup_unused(logs: Vec<PathBuf>) -> io::Result<Vec<PathBuf>> {
    let names: Vec<String> = logs
        .iter()
        .map(|l| l.to_string_lossy().into_owned())
        .collect();
    let mut kept = Vec::new();
    for (log, name) in logs.into_iter().zip(&names) {
        let compressed_exists = names.contains(&format!("{name}{COMPRESS_SUFFIX}"));
        if name.ends_with(TMP_SUFFIX) || compressed_exists {
            remove_if_present(&log)?;
        } else {
            kept.push(log);
        }
    }
    Ok(kept)
}

/// Removes the oldest rotated logs so that, with the live log and the one about to be
/// rotated, at most `max_files` remain. Returns the logs that remain.
pub fn remove_excess(mut logs: Vec<PathBuf>, max_files: usize) -> io::Result<Vec<PathBuf>> {
    // The live log and the log about to be rotated take two of the allowed files.
    let max_rotated = max_files.saturating_sub(2);
    let excess = logs.len().saturating_sub(max_rotated);
    for old in logs.drain(..excess) {
        remove_if_present(&old)?;
    }
    Ok(logs)
}

/// Gzips `log` into `<log>.gz` (through a `.tmp` file, so a crash never leaves a truncated
/// `.gz`) and removes the original.
pub fn compress(log: &Path) -> io::Result<PathBuf> {
    let name = log.to_string_lossy();
    let tmp = PathBuf::from(format!("{name}{TMP_SUFFIX}"));
    let target = PathBuf::from(format!("{name}{COMPRESS_SUFFIX}"));
    {
        let mut reader = BufReader::new(fs::File::open(log)?);
        let mut encoder = GzEncoder::new(
            BufWriter::new(fs::File::create(&tmp)?),
            Compression::default(),
        );
        io::copy(&mut reader, &mut encoder)?;
        encoder.finish()?.into_inner().map_err(|e| e.into_error())?;
    }
    fs::rename(&tmp, &target)?;
    fs::remove_file(log)?;
    Ok(target)
}

/// The name `log` gets when rotated at `now`.
pub fn rotated_name(log: &Path, now: chrono::DateTime<chrono::Utc>) -> PathBuf {
    PathBuf::from(format!(
        "{}.{}",
        log.to_string_lossy(),
        now.format(TIMESTAMP_FORMAT)
    ))
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn touch(dir: &Path, name: &str, content: &str) -> PathBuf {
        let p = dir.join(name);
        fs::write(&p, content).unwrap();
        p
    }

    #[test]
    fn rotated_logs_are_the_siblings_sorted_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let log = touch(dir.path(), "0.log", "");
        touch(dir.path(), "0.log.20260101-000002.gz", "");
        touch(dir.path(), "0.log.20260101-000001.gz", "");
        touch(dir.path(), "0.log.20260101-000003", "");
        touch(dir.path(), "1.log", "");
        let names: Vec<String> = rotated_logs(&log)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "0.log.20260101-000001.gz",
                "0.log.20260101-000002.gz",
                "0.log.20260101-000003"
            ]
        );
    }

    #[test]
    fn cleanup_drops_tmp_files_and_uncompressed_copies_of_compressed_logs() {
        let dir = tempfile::tempdir().unwrap();
        let log = touch(dir.path(), "0.log", "");
        touch(dir.path(), "0.log.20260101-000001", "x");
        touch(dir.path(), "0.log.20260101-000001.gz", "");
        touch(dir.path(), "0.log.20260101-000002.gz.tmp", "");
        touch(dir.path(), "0.log.20260101-000003", "y");
        let kept = cleanup_unused(rotated_logs(&log).unwrap()).unwrap();
        assert_eq!(
            kept,
            [
                dir.path().join("0.log.20260101-000001.gz"),
                dir.path().join("0.log.20260101-000003")
            ]
        );
        assert!(!dir.path().join("0.log.20260101-000001").exists());
        assert!(!dir.path().join("0.log.20260101-000002.gz.tmp").exists());
    }

    #[test]
    fn remove_excess_keeps_room_for_the_live_and_the_next_rotated_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = touch(dir.path(), "0.log", "");
        for i in 1..=4 {
            touch(dir.path(), &format!("0.log.20260101-00000{i}.gz"), "");
        }
        let kept = remove_excess(rotated_logs(&log).unwrap(), 4).unwrap();
        assert_eq!(
            kept,
            [
                dir.path().join("0.log.20260101-000003.gz"),
                dir.path().join("0.log.20260101-000004.gz")
            ]
        );
        assert!(!dir.path().join("0.log.20260101-000001.gz").exists());
    }

    #[test]
    fn compress_writes_a_gzip_copy_and_removes_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let rotated = touch(dir.path(), "0.log.20260101-000001", "line one\nline two\n");
        let gz = compress(&rotated).unwrap();
        assert_eq!(gz, dir.path().join("0.log.20260101-000001.gz"));
        assert!(!rotated.exists());
        let mut text = String::new();
        flate2::read::GzDecoder::new(fs::File::open(&gz).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "line one\nline two\n");
    }

    #[test]
    fn rotated_name_carries_upstreams_timestamp_layout() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T06:07:08Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            rotated_name(Path::new("/logs/app/0.log"), at),
            PathBuf::from("/logs/app/0.log.20261130-060708")
        );
    }
}
