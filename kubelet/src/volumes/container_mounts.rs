//! volumeMounts → CRI mounts: which host path each mount binds (with `subPath` /
//! `subPathExpr`), read-only-ness and mount propagation.
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, VolumeMount};
use proto::cri::v1 as cri;

use super::VolumeError;

/// Where one pod volume lives on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodVolume {
    /// The directory (or, for a hostPath of a file/socket/device, the file) to bind.
    pub host_path: PathBuf,
    /// Read-only by nature: configMap, secret, downwardAPI and projected volumes (and
    /// read-only PVC/NFS sources) are always mounted read-only, as upstream.
    pub read_only: bool,
}

/// A pod's set-up volumes, by volume name. Returned by `VolumeManager::setup`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodVolumes {
    volumes: BTreeMap<String, PodVolume>,
}

impl PodVolumes {
    /// Records a volume (used by the volume manager; handy for tests of callers too).
    pub fn insert(&mut self, name: impl Into<String>, volume: PodVolume) {
        self.volumes.insert(name.into(), volume);
    }

    /// The volume called `name`, if the pod has it.
    pub fn get(&self, name: &str) -> Option<&PodVolume> {
        self.volumes.get(name)
    }

    /// All volumes, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &PodVolume)> {
        self.volumes.iter()
    }

    /// The CRI mounts for one container's `volumeMounts`. `env` is the container's
    /// resolved environment, used to expand `$(VAR)` in `subPathExpr`.
    ///
    /// Errors name the problem: an unknown volume, a subPath that is absolute or contains
    /// `..` or leaves the volume through a symlink, Bidirectional propagation on an
    /// unprivileged container. A missing subPath directory is created (with the volume
    /// root's mode), as upstream does.
    pub fn container_mounts(
        &self,
        container: &Container,
        env: &BTreeMap<String, String>,
    ) -> Result<Vec<cri::Mount>, VolumeError> {
        let privileged = container
            .security_context
            .as_ref()
            .and_then(|s| s.privileged)
            .unwrap_or(false);
        container
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| self.mount(container, m, env, privileged))
            .collect()
    }

    fn mount(
        &self,
        container: &Container,
        m: &VolumeMount,
        env: &BTreeMap<String, String>,
        privileged: bool,
    ) -> Result<cri::Mount, VolumeError> {
        let volume = self
            .volumes
            .get(&m.name)
            .ok_or_else(|| VolumeError::UnknownVolume {
                volume: m.name.clone(),
                container: container.name.clone(),
            })?;
        let sub_path = match (m.sub_path.as_deref(), m.sub_path_expr.as_deref()) {
            (Some(p), _) if !p.is_empty() => p.to_string(),
            (_, Some(expr)) if !expr.is_empty() => expand(expr, env),
            _ => String::new(),
        };
        let host_path = if sub_path.is_empty() {
            volume.host_path.clone()
        } else {
            sub_path_host_path(&volume.host_path, &sub_path)?
        };
        let propagation = match m.mount_propagation.as_deref() {
            None | Some("") | Some("None") => cri::MountPropagation::PropagationPrivate,
            Some("HostToContainer") => cri::MountPropagation::PropagationHostToContainer,
            Some("Bidirectional") if privileged => cri::MountPropagation::PropagationBidirectional,
            Some("Bidirectional") => {
                return Err(VolumeError::Propagation(
                    "Bidirectional mount propagation is available only to privileged containers"
                        .into(),
                ))
            }
            Some(other) => {
                return Err(VolumeError::Propagation(format!(
                    "invalid mount propagation mode {other:?}"
                )))
            }
        };
        Ok(cri::Mount {
            container_path: m.mount_path.clone(),
            host_path: host_path.to_string_lossy().into_owned(),
            readonly: m.read_only.unwrap_or(false) || volume.read_only,
            selinux_relabel: false,
            propagation: propagation as i32,
        })
    }
}

/// Resolves `sub_path` inside `volume_root`, refusing anything that leaves the volume, and
/// creates it as a directory when it does not exist yet.
fn sub_path_host_path(volume_root: &Path, sub_path: &str) -> Result<PathBuf, VolumeError> {
    let invalid = |reason: &str| VolumeError::InvalidPath {
        path: sub_path.to_string(),
        reason: reason.to_string(),
    };
    if Path::new(sub_path).is_absolute() {
        return Err(invalid("subPath must not be an absolute path"));
    }
    if Path::new(sub_path)
        .components()
        .any(|c| c == Component::ParentDir)
    {
        return Err(invalid("subPath must not contain '..'"));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| VolumeError::Io { path, source }
    };
    let root = volume_root.canonicalize().map_err(io(volume_root))?;
    let wanted = root.join(sub_path);
    if std::fs::symlink_metadata(&wanted).is_err() {
        // Create it below the volume with the root's mode; a symlink planted in a parent
        // could still redirect this, so the resolved result is checked again below.
        let mode = std::fs::metadata(&root).map_err(io(&root))?;
        std::fs::create_dir_all(&wanted).map_err(io(&wanted))?;
        std::fs::set_permissions(&wanted, mode.permissions()).map_err(io(&wanted))?;
    }
    let resolved = wanted.canonicalize().map_err(io(&wanted))?;
    if !resolved.starts_with(&root) {
        return Err(invalid("subPath resolves outside of the volume"));
    }
    Ok(resolved)
}

/// Kubernetes' `$(VAR)` expansion (command, args, subPathExpr): a defined variable is
/// replaced, an undefined one stays as written, and `$$` is an escaped `$`.
pub fn expand(input: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(end) => {
                    let name = &inner[..end];
                    match env.get(name) {
                        Some(value) => out.push_str(value),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &inner[end + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = inner;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::SecurityContext;

    fn container(mounts: Vec<VolumeMount>) -> Container {
        Container {
            name: "app".into(),
            volume_mounts: Some(mounts),
            ..Default::default()
        }
    }

    fn vm(name: &str, path: &str) -> VolumeMount {
        VolumeMount {
            name: name.into(),
            mount_path: path.into(),
            ..Default::default()
        }
    }

    fn volumes(root: &Path) -> PodVolumes {
        let mut v = PodVolumes::default();
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::create_dir_all(root.join("cfg")).unwrap();
        v.insert(
            "data",
            PodVolume {
                host_path: root.join("data"),
                read_only: false,
            },
        );
        v.insert(
            "cfg",
            PodVolume {
                host_path: root.join("cfg"),
                read_only: true,
            },
        );
        v
    }

    #[test]
    fn expansion_rules() {
        let env = BTreeMap::from([("POD".to_string(), "web-0".to_string())]);
        assert_eq!(expand("logs/$(POD)", &env), "logs/web-0");
        assert_eq!(expand("$(MISSING)/x", &env), "$(MISSING)/x");
        assert_eq!(expand("$$(POD)", &env), "$(POD)");
        assert_eq!(expand("a$b$(", &env), "a$b$(");
    }

    #[test]
    fn mounts_carry_paths_read_only_and_propagation() {
        let tmp = tempfile::tempdir().unwrap();
        let vols = volumes(tmp.path());
        let mut data = vm("data", "/data");
        data.mount_propagation = Some("HostToContainer".into());
        let c = container(vec![data, vm("cfg", "/etc/cfg")]);
        let mounts = vols.container_mounts(&c, &BTreeMap::new()).unwrap();
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].container_path, "/data");
        assert_eq!(Path::new(&mounts[0].host_path), tmp.path().join("data"));
        assert!(!mounts[0].readonly);
        assert_eq!(
            mounts[0].propagation,
            cri::MountPropagation::PropagationHostToContainer as i32
        );
        assert!(mounts[1].readonly, "configMap-like volumes are read-only");
    }

    #[test]
    fn sub_path_expr_is_expanded_and_created() {
        let tmp = tempfile::tempdir().unwrap();
        let vols = volumes(tmp.path());
        let mut m = vm("data", "/logs");
        m.sub_path_expr = Some("pods/$(POD_NAME)".into());
        let env = BTreeMap::from([("POD_NAME".to_string(), "web-0".to_string())]);
        let mounts = vols.container_mounts(&container(vec![m]), &env).unwrap();
        let expected = tmp.path().join("data/pods/web-0").canonicalize().unwrap();
        assert_eq!(Path::new(&mounts[0].host_path), expected);
        assert!(expected.is_dir());
    }

    #[test]
    fn bad_mounts_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let vols = volumes(tmp.path());
        let err = vols
            .container_mounts(&container(vec![vm("nope", "/x")]), &BTreeMap::new())
            .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");

        for bad in ["../escape", "/abs", "a/../../b"] {
            let mut m = vm("data", "/x");
            m.sub_path = Some(bad.into());
            assert!(
                vols.container_mounts(&container(vec![m]), &BTreeMap::new())
                    .is_err(),
                "{bad} accepted"
            );
        }
        // A symlink inside the volume pointing out of it.
        std::os::unix::fs::symlink("/etc", tmp.path().join("data/out")).unwrap();
        let mut m = vm("data", "/x");
        m.sub_path = Some("out".into());
        let err = vols
            .container_mounts(&container(vec![m]), &BTreeMap::new())
            .unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");

        let mut m = vm("data", "/x");
        m.mount_propagation = Some("Bidirectional".into());
        let mut c = container(vec![m]);
        assert!(vols.container_mounts(&c, &BTreeMap::new()).is_err());
        c.security_context = Some(SecurityContext {
            privileged: Some(true),
            ..Default::default()
        });
        assert!(vols.container_mounts(&c, &BTreeMap::new()).is_ok());
    }
}
