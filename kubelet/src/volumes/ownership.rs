//! fsGroup: volume contents owned by the pod's fsGroup, group-readable (and writable for
//! writable volumes), directories setgid so new files inherit the group — upstream's
//! SetVolumeOwnership.
use std::io;
use std::os::unix::fs::{lchown, MetadataExt, PermissionsExt};
use std::path::Path;

const RW_MASK: u32 = 0o660;
const RO_MASK: u32 = 0o440;
const EXEC_MASK: u32 = 0o110;
const SETGID: u32 = 0o2000;

/// Applies `fs_group` to everything below `dir` (symlinks are re-grouped, never followed).
/// With `only_on_root_mismatch` (fsGroupChangePolicy `OnRootMismatch`) nothing is walked
/// when the root already looks right.
pub fn set_volume_ownership(
    dir: &Path,
    fs_group: u32,
    read_only: bool,
    only_on_root_mismatch: bool,
) -> io::Result<()> {
    let mask = if read_only { RO_MASK } else { RW_MASK };
    if only_on_root_mismatch && root_matches(dir, fs_group, mask)? {
        return Ok(());
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path)?;
        lchown(&path, None, Some(fs_group))?;
        if meta.file_type().is_symlink() {
            continue;
        }
        let mut mode = meta.permissions().mode() & 0o7777 | mask;
        if meta.is_dir() {
            mode |= EXEC_MASK | SETGID;
            for entry in std::fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

fn root_matches(dir: &Path, fs_group: u32, mask: u32) -> io::Result<bool> {
    let meta = std::fs::metadata(dir)?;
    let mode = meta.permissions().mode();
    Ok(meta.gid() == fs_group && mode & mask == mask && mode & SETGID == SETGID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_modes_follow_fs_group() {
        let tmp = tempfile::tempdir().unwrap();
        let vol = tmp.path().join("vol");
        std::fs::create_dir_all(vol.join("sub")).unwrap();
        std::fs::write(vol.join("sub/f"), "x").unwrap();
        std::fs::set_permissions(vol.join("sub/f"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
        std::os::unix::fs::symlink("sub/f", vol.join("link")).unwrap();

        set_volume_ownership(&vol, 4321, false, false).unwrap();
        for p in [vol.clone(), vol.join("sub"), vol.join("sub/f")] {
            assert_eq!(std::fs::metadata(&p).unwrap().gid(), 4321, "{p:?}");
        }
        assert_eq!(
            std::fs::symlink_metadata(vol.join("link")).unwrap().gid(),
            4321
        );
        let dir_mode = std::fs::metadata(vol.join("sub"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & SETGID, SETGID);
        assert_eq!(dir_mode & 0o070, 0o070);
        let file_mode = std::fs::metadata(vol.join("sub/f"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(file_mode & 0o777, 0o660);

        // Read-only volumes only gain group read.
        let ro = tmp.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::write(ro.join("f"), "x").unwrap();
        std::fs::set_permissions(ro.join("f"), std::fs::Permissions::from_mode(0o400)).unwrap();
        set_volume_ownership(&ro, 4321, true, false).unwrap();
        let mode = std::fs::metadata(ro.join("f"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o440);
    }

    #[test]
    fn on_root_mismatch_skips_a_matching_root() {
        let tmp = tempfile::tempdir().unwrap();
        let vol = tmp.path().join("vol");
        std::fs::create_dir(&vol).unwrap();
        set_volume_ownership(&vol, 777, false, false).unwrap();
        // A file added later keeps its group: the root matches, nothing is walked.
        std::fs::write(vol.join("late"), "x").unwrap();
        lchown(vol.join("late"), None, Some(0)).unwrap();
        set_volume_ownership(&vol, 777, false, true).unwrap();
        assert_eq!(std::fs::metadata(vol.join("late")).unwrap().gid(), 0);
        set_volume_ownership(&vol, 777, false, false).unwrap();
        assert_eq!(std::fs::metadata(vol.join("late")).unwrap().gid(), 777);
    }
}
