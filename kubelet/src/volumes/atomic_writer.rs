//! Atomic updates of a directory of projected files (configMap, secret, downwardAPI,
//! projected volumes), with upstream's layout so readers never see half-written content:
//!
//! ```text
//! <volume>/..2026_11_30_00_20_00.123456789/   the current generation of every file
//! <volume>/..data -> ..2026_11_30_00_20_00.123456789   swapped by rename(2), atomic
//! <volume>/<key> -> ..data/<key>              user-visible names (top-level only)
//! ```
//!
//! A new generation is written next to the old one, `..data` is switched to it in one
//! rename, then names that left the payload and the old generation are removed.
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::VolumeError;

const DATA_DIR: &str = "..data";
const DATA_DIR_TMP: &str = "..data_tmp";
/// Upstream's limits on a projected path and on one of its components.
const MAX_PATH_LEN: usize = 4096;
const MAX_FILE_NAME_LEN: usize = 255;

/// One file of a payload: its bytes and permission bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProjection {
    pub data: Vec<u8>,
    pub mode: u32,
}

/// Relative path inside the volume → file. A path may have several components (`a/b/c`);
/// only the first one gets a user-visible symlink.
pub type Payload = BTreeMap<String, FileProjection>;

/// Hook run on the new generation directory before it becomes visible (fsGroup ownership).
pub type SetPerms<'a> = &'a dyn Fn(&Path) -> io::Result<()>;

/// Writes payloads into one volume directory.
pub struct AtomicWriter {
    target_dir: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> VolumeError + '_ {
    move |source| VolumeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Rejects paths that could leave the volume or clash with the writer's own `..` names.
pub fn validate_path(path: &str) -> Result<(), VolumeError> {
    let invalid = |reason: &str| VolumeError::InvalidPath {
        path: path.to_string(),
        reason: reason.to_string(),
    };
    if path.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if path.len() > MAX_PATH_LEN {
        return Err(invalid("must not be longer than 4096 characters"));
    }
    if Path::new(path).is_absolute() {
        return Err(invalid("must be a relative path"));
    }
    if path.starts_with("..") {
        return Err(invalid("must not start with '..'"));
    }
    for component in Path::new(path).components() {
        match component {
            Component::ParentDir => return Err(invalid("must not contain '..'")),
            Component::Normal(name) if name.len() > MAX_FILE_NAME_LEN => {
                return Err(invalid("has a component longer than 255 characters"))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The first component of a payload path: the name that gets a user-visible symlink.
fn top_level(path: &str) -> String {
    Path::new(path)
        .components()
        .find_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            _ => None,
        })
        .unwrap_or_default()
}

impl AtomicWriter {
    /// A writer for `target_dir`, which must exist.
    pub fn new(target_dir: impl Into<PathBuf>) -> AtomicWriter {
        AtomicWriter {
            target_dir: target_dir.into(),
        }
    }

    /// Makes the directory show exactly `payload`. Returns whether anything changed; an
    /// unchanged payload writes nothing (so the periodic refresh is cheap).
    pub fn write(
        &self,
        payload: &Payload,
        set_perms: Option<SetPerms>,
    ) -> Result<bool, VolumeError> {
        for path in payload.keys() {
            validate_path(path)?;
        }
        let data_link = self.target_dir.join(DATA_DIR);
        let old_generation = std::fs::read_link(&data_link)
            .ok()
            .map(|target| self.target_dir.join(target))
            .filter(|dir| dir.is_dir());
        let old_files = match &old_generation {
            Some(dir) => list_files(dir)?,
            None => BTreeSet::new(),
        };

        let unchanged = match &old_generation {
            Some(dir) => same_content(dir, &old_files, payload)?,
            None => false,
        };
        if unchanged {
            // Still repair user-visible links someone may have removed.
            self.create_user_visible(payload)?;
            return Ok(false);
        }

        let generation = self.new_generation_dir()?;
        for (path, file) in payload {
            let full = generation.join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            std::fs::write(&full, &file.data).map_err(io_err(&full))?;
            // Explicit chmod: the umask must not change the requested mode.
            std::fs::set_permissions(&full, std::fs::Permissions::from_mode(file.mode))
                .map_err(io_err(&full))?;
        }
        if let Some(set_perms) = set_perms {
            set_perms(&generation).map_err(io_err(&generation))?;
        }

        // The swap: a fresh symlink renamed over `..data` replaces it atomically.
        let tmp_link = self.target_dir.join(DATA_DIR_TMP);
        match std::fs::remove_file(&tmp_link) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&tmp_link)(e)),
        }
        let generation_name = generation
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_default();
        symlink(&generation_name, &tmp_link).map_err(io_err(&tmp_link))?;
        std::fs::rename(&tmp_link, &data_link).map_err(io_err(&data_link))?;

        self.create_user_visible(payload)?;

        // Names that left the payload go after the swap, so they never point at nothing
        // while still listed.
        let new_top: BTreeSet<String> = payload.keys().map(|p| top_level(p)).collect();
        for old in old_files.iter().map(|p| top_level(p)) {
            if !new_top.contains(&old) {
                let link = self.target_dir.join(&old);
                match std::fs::remove_file(&link) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err(&link)(e)),
                }
            }
        }
        if let Some(old) = old_generation {
            std::fs::remove_dir_all(&old).map_err(io_err(&old))?;
        }
        Ok(true)
    }

    /// `<name> -> ..data/<name>` for every top-level name of the payload.
    fn create_user_visible(&self, payload: &Payload) -> Result<(), VolumeError> {
        let tops: BTreeSet<String> = payload.keys().map(|p| top_level(p)).collect();
        for top in tops {
            let link = self.target_dir.join(&top);
            if std::fs::symlink_metadata(&link).is_ok() {
                continue;
            }
            symlink(Path::new(DATA_DIR).join(&top), &link).map_err(io_err(&link))?;
        }
        Ok(())
    }

    /// `..<UTC timestamp>.<unique suffix>`, mode 0755 like upstream's generation dirs.
    fn new_generation_dir(&self) -> Result<PathBuf, VolumeError> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let now = chrono::Utc::now();
        loop {
            let name = format!(
                "..{}.{}{}",
                now.format("%Y_%m_%d_%H_%M_%S"),
                now.timestamp_subsec_nanos(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            );
            let dir = self.target_dir.join(name);
            match std::fs::create_dir(&dir) {
                Ok(()) => {
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
                        .map_err(io_err(&dir))?;
                    return Ok(dir);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err(&dir)(e)),
            }
        }
    }
}

/// Every regular file below `dir`, as paths relative to it.
fn list_files(dir: &Path) -> Result<BTreeSet<String>, VolumeError> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).map_err(io_err(&current))? {
            let entry = entry.map_err(io_err(&current))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(io_err(&path))?;
            if kind.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.insert(rel.to_string_lossy().into_owned());
            }
        }
    }
    Ok(out)
}

/// True when the generation in `dir` already holds exactly `payload` (bytes and modes).
fn same_content(
    dir: &Path,
    files: &BTreeSet<String>,
    payload: &Payload,
) -> Result<bool, VolumeError> {
    let wanted: BTreeSet<String> = payload
        .keys()
        .map(|p| {
            Path::new(p)
                .components()
                .collect::<PathBuf>()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    if &wanted != files {
        return Ok(false);
    }
    for (path, file) in payload {
        let full = dir.join(path);
        let meta = std::fs::metadata(&full).map_err(io_err(&full))?;
        if meta.permissions().mode() & 0o7777 != file.mode & 0o7777 {
            return Ok(false);
        }
        if std::fs::read(&full).map_err(io_err(&full))? != file.data {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(data: &str, mode: u32) -> FileProjection {
        FileProjection {
            data: data.as_bytes().to_vec(),
            mode,
        }
    }

    fn generations(dir: &Path) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("..") && n != DATA_DIR)
            .collect();
        out.sort();
        out
    }

    #[test]
    fn writes_links_and_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let writer = AtomicWriter::new(tmp.path());
        let payload = Payload::from([
            ("game.properties".to_string(), file("lives=3", 0o644)),
            ("nested/deep/key".to_string(), file("x", 0o400)),
        ]);
        assert!(writer.write(&payload, None).unwrap());

        let link = std::fs::read_link(tmp.path().join("game.properties")).unwrap();
        assert_eq!(link, Path::new("..data/game.properties"));
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("game.properties")).unwrap(),
            "lives=3"
        );
        assert_eq!(
            std::fs::read_link(tmp.path().join("nested")).unwrap(),
            Path::new("..data/nested")
        );
        let mode = std::fs::metadata(tmp.path().join("nested/deep/key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o400);
        let data = std::fs::read_link(tmp.path().join(DATA_DIR)).unwrap();
        assert!(data.to_string_lossy().starts_with(".."), "{data:?}");
        assert_eq!(generations(tmp.path()).len(), 1);
    }

    #[test]
    fn update_swaps_content_and_removes_dropped_keys() {
        let tmp = tempfile::tempdir().unwrap();
        let writer = AtomicWriter::new(tmp.path());
        let first = Payload::from([
            ("a".to_string(), file("one", 0o644)),
            ("b".to_string(), file("bee", 0o644)),
        ]);
        writer.write(&first, None).unwrap();
        let first_generation = generations(tmp.path());

        let second = Payload::from([("a".to_string(), file("two", 0o600))]);
        assert!(writer.write(&second, None).unwrap());
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("a")).unwrap(),
            "two"
        );
        assert!(
            std::fs::symlink_metadata(tmp.path().join("b")).is_err(),
            "b must be gone"
        );
        let now = generations(tmp.path());
        assert_eq!(now.len(), 1, "old generation removed: {now:?}");
        assert_ne!(now, first_generation);
        let mode = std::fs::metadata(tmp.path().join("a"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn unchanged_payload_writes_nothing_but_mode_change_does() {
        let tmp = tempfile::tempdir().unwrap();
        let writer = AtomicWriter::new(tmp.path());
        let payload = Payload::from([("a".to_string(), file("one", 0o644))]);
        assert!(writer.write(&payload, None).unwrap());
        let before = generations(tmp.path());
        assert!(!writer.write(&payload, None).unwrap());
        assert_eq!(generations(tmp.path()), before);

        let chmod = Payload::from([("a".to_string(), file("one", 0o640))]);
        assert!(writer.write(&chmod, None).unwrap());
        assert_ne!(generations(tmp.path()), before);
    }

    #[test]
    fn set_perms_sees_the_new_generation_before_the_swap() {
        let tmp = tempfile::tempdir().unwrap();
        let writer = AtomicWriter::new(tmp.path());
        let seen = std::cell::RefCell::new(None);
        let hook = |dir: &Path| {
            // The new generation is complete but not yet what ..data points to.
            assert!(dir.join("k").exists());
            assert!(std::fs::read_link(tmp.path().join(DATA_DIR)).is_err());
            *seen.borrow_mut() = Some(dir.to_path_buf());
            Ok(())
        };
        writer
            .write(
                &Payload::from([("k".to_string(), file("v", 0o644))]),
                Some(&hook),
            )
            .unwrap();
        assert!(seen.borrow().is_some());
    }

    #[test]
    fn rejects_escaping_paths() {
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "..data", "..hidden"] {
            assert!(validate_path(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["a", "a/b", "a..b", ".hidden"] {
            assert!(validate_path(good).is_ok(), "{good:?} rejected");
        }
        let tmp = tempfile::tempdir().unwrap();
        let writer = AtomicWriter::new(tmp.path());
        let err = writer
            .write(
                &Payload::from([("../evil".to_string(), file("x", 0o644))]),
                None,
            )
            .unwrap_err();
        assert!(err.to_string().contains(".."), "{err}");
        assert!(!tmp.path().parent().unwrap().join("evil").exists());
    }
}
