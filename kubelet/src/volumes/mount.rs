//! Mount-table helpers: tmpfs for memory-backed volumes, NFS through the system's mount
//! helper, and unmounting everything below a pod's directory at teardown.
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::VolumeError;

/// Current mount points, from /proc/mounts (only the target paths, field 2, are needed),
/// with the kernel's octal escapes undone.
pub fn mount_points() -> Result<Vec<PathBuf>, VolumeError> {
    let text = std::fs::read_to_string("/proc/mounts").map_err(|source| VolumeError::Io {
        path: "/proc/mounts".into(),
        source,
    })?;
    Ok(parse_mount_points(&text))
}

fn parse_mount_points(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|line| line.split(' ').nth(1))
        .map(|field| PathBuf::from(unescape_octal(field)))
        .collect()
}

/// /proc/mounts writes space, tab, newline and backslash as `\040`-style octal escapes.
fn unescape_octal(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let digits = std::str::from_utf8(&bytes[i + 1..i + 4]).ok();
            if let Some(v) = digits.and_then(|d| u8::from_str_radix(d, 8).ok()) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// True when `path` is itself a mount point.
pub fn is_mount_point(path: &Path) -> Result<bool, VolumeError> {
    Ok(mount_points()?.iter().any(|p| p == path))
}

fn cstring(path: &Path) -> Result<CString, VolumeError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| VolumeError::InvalidPath {
        path: path.display().to_string(),
        reason: "contains a NUL byte".into(),
    })
}

/// Mounts a tmpfs on `dir` unless one is there already. `size` (bytes) limits it, as
/// upstream does with an emptyDir's sizeLimit; without it the kernel's default applies.
pub fn ensure_tmpfs(dir: &Path, size: Option<u64>) -> Result<(), VolumeError> {
    if is_mount_point(dir)? {
        return Ok(());
    }
    let target = cstring(dir)?;
    let fstype = CString::new("tmpfs").expect("static string");
    let data = CString::new(match size {
        Some(bytes) => format!("mode=0777,size={bytes}"),
        None => "mode=0777".to_string(),
    })
    .expect("no NUL in formatted options");
    // SAFETY: all pointers are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::mount(
            fstype.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            data.as_ptr().cast(),
        )
    };
    if rc != 0 {
        return Err(VolumeError::Mount {
            what: "tmpfs".into(),
            path: dir.to_path_buf(),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// Where an NFS mount helper may live; without one the kernel mount needs options only
/// the helper computes, so we refuse instead of half-working.
const NFS_HELPERS: &[&str] = &[
    "/sbin/mount.nfs",
    "/usr/sbin/mount.nfs",
    "/usr/bin/mount.nfs",
];

/// Mounts `server:export` on `dir` with the system's `mount -t nfs`, unless already mounted.
pub async fn ensure_nfs(
    server: &str,
    export: &str,
    read_only: bool,
    dir: &Path,
) -> Result<(), VolumeError> {
    if is_mount_point(dir)? {
        return Ok(());
    }
    if !NFS_HELPERS.iter().any(|p| Path::new(p).exists()) {
        return Err(VolumeError::NfsHelperMissing);
    }
    let mut cmd = tokio::process::Command::new("mount");
    cmd.arg("-t").arg("nfs");
    if read_only {
        cmd.arg("-o").arg("ro");
    }
    cmd.arg(format!("{server}:{export}")).arg(dir);
    let out = cmd.output().await.map_err(|source| VolumeError::Io {
        path: "mount".into(),
        source,
    })?;
    if !out.status.success() {
        return Err(VolumeError::MountCommand {
            path: dir.to_path_buf(),
            output: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// Unmounts every mount point at or below `root`, deepest first, so that the directory can
/// be removed without reaching into a mounted filesystem.
pub fn unmount_all_below(root: &Path) -> Result<(), VolumeError> {
    let mut below: Vec<PathBuf> = mount_points()?
        .into_iter()
        .filter(|p| p.starts_with(root))
        .collect();
    // Deepest first; a path mounted twice appears twice and needs two unmounts.
    below.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for path in below {
        let target = cstring(&path)?;
        // SAFETY: `target` is a valid NUL-terminated string.
        let mut rc = unsafe { libc::umount2(target.as_ptr(), 0) };
        if rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBUSY) {
            // A process still holds it (e.g. a container shutting down): detach lazily so
            // the pod's directory can go; the kernel frees it when the last user leaves.
            // SAFETY: as above.
            rc = unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
        }
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            // Already gone (unmounted by someone else between our read and now) is fine.
            if err.raw_os_error() != Some(libc::EINVAL) && err.raw_os_error() != Some(libc::ENOENT)
            {
                return Err(VolumeError::Mount {
                    what: "unmount".into(),
                    path,
                    source: err,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_unescapes_mount_points() {
        let text = "proc /proc proc rw 0 0\ntmpfs /var/lib/kubelet/pods/a\\040b/vol tmpfs rw 0 0\n";
        assert_eq!(
            parse_mount_points(text),
            vec![
                PathBuf::from("/proc"),
                PathBuf::from("/var/lib/kubelet/pods/a b/vol")
            ]
        );
    }
}
