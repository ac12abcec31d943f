//! hostPath volumes: the `type` checks upstream makes before the path is bind-mounted.
use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use super::VolumeError;

/// Checks (and for the `…OrCreate` types creates) `path` as its hostPath `type` demands.
/// Messages are upstream's ("hostPath type check failed: /x is not a directory").
pub fn check_type(path: &Path, host_path_type: Option<&str>) -> Result<(), VolumeError> {
    let failed = |what: &str| {
        VolumeError::HostPathType(format!(
            "hostPath type check failed: {} is not a {what}",
            path.display()
        ))
    };
    let meta = std::fs::metadata(path);
    let exists = match &meta {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => {
            return Err(VolumeError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(e.kind(), e.to_string()),
            })
        }
    };
    let kind = meta.as_ref().ok().map(|m| m.file_type());
    match host_path_type.unwrap_or_default() {
        // No type: anything (or nothing) goes; the runtime's bind mount reports problems.
        "" => Ok(()),
        "DirectoryOrCreate" if !exists => {
            std::fs::create_dir_all(path).map_err(|source| VolumeError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            // 0755 regardless of the kubelet's umask, as upstream's MkdirAll(path, 0755).
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(
                |source| VolumeError::Io {
                    path: path.to_path_buf(),
                    source,
                },
            )
        }
        "DirectoryOrCreate" | "Directory" => match kind {
            Some(k) if k.is_dir() => Ok(()),
            _ => Err(failed("directory")),
        },
        "FileOrCreate" if !exists => {
            // Like upstream, the parent directory is not created: a missing parent fails.
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                .open(path)
                .map(drop)
                .map_err(|source| VolumeError::Io {
                    path: path.to_path_buf(),
                    source,
                })
        }
        "FileOrCreate" | "File" => match kind {
            Some(k) if k.is_file() => Ok(()),
            _ => Err(failed("file")),
        },
        "Socket" => match kind {
            Some(k) if k.is_socket() => Ok(()),
            _ => Err(failed("socket file")),
        },
        "CharDevice" => match kind {
            Some(k) if k.is_char_device() => Ok(()),
            _ => Err(failed("character device")),
        },
        "BlockDevice" => match kind {
            Some(k) if k.is_block_device() => Ok(()),
            _ => Err(failed("block device")),
        },
        other => Err(VolumeError::HostPathType(format!(
            "{other} is an invalid volume type"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_checked_and_created() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("made/by/kubelet");
        check_type(&dir, Some("DirectoryOrCreate")).unwrap();
        assert!(dir.is_dir());
        check_type(&dir, Some("Directory")).unwrap();
        let err = check_type(&dir, Some("File")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "hostPath type check failed: {} is not a file",
                dir.display()
            )
        );

        let file = tmp.path().join("f");
        check_type(&file, Some("FileOrCreate")).unwrap();
        assert!(file.is_file());
        check_type(&file, Some("File")).unwrap();
        assert!(check_type(&file, Some("Directory"))
            .unwrap_err()
            .to_string()
            .ends_with("is not a directory"));
        // FileOrCreate does not create parents.
        assert!(check_type(&tmp.path().join("no/parent"), Some("FileOrCreate")).is_err());

        assert!(check_type(&tmp.path().join("missing"), Some("Directory")).is_err());
        check_type(&tmp.path().join("missing"), None).unwrap();
        check_type(&tmp.path().join("missing"), Some("")).unwrap();

        let sock = tmp.path().join("s.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        check_type(&sock, Some("Socket")).unwrap();
        assert!(check_type(&file, Some("Socket"))
            .unwrap_err()
            .to_string()
            .ends_with("is not a socket file"));
        check_type(Path::new("/dev/null"), Some("CharDevice")).unwrap();
        assert!(check_type(Path::new("/dev/null"), Some("BlockDevice"))
            .unwrap_err()
            .to_string()
            .ends_with("is not a block device"));
        assert_eq!(
            check_type(&file, Some("Bogus")).unwrap_err().to_string(),
            "Bogus is an invalid volume type"
        );
    }
}
