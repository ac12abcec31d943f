//! Files written whole or not at all: the contents go to a temporary sibling with the final
//! mode, which is then renamed over the target. Keys, tokens and kubeconfigs are read by
//! other processes while they are being replaced; a reader never sees half a file, and an
//! interrupted write leaves the old one in place.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `contents` to `path` with permission bits `mode` (applied exactly, whatever the
/// umask), creating the parent directory if needed. On error, the failing path is the
/// temporary sibling or `path`, as the error's message says.
pub fn write(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let tmp = sibling(path);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    #[cfg(unix)]
    {
        // `mode` on open is masked by the umask and ignored for an existing file.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    fs::rename(&tmp, path)
}

/// `<path>.tmp`: in the same directory, so the rename stays on one filesystem.
fn sibling(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    PathBuf::from(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_the_file_whole_with_the_exact_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/key.pem");
        write(&path, b"first", 0o644).unwrap();
        write(&path, b"second", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!sibling(&path).exists(), "no temporary file is left behind");
    }
}
