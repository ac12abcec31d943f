//! Pod volumes on the host. PLACEHOLDER until the volumes work of issue 4 lands: emptyDir
//! and hostPath only.
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use k8s_openapi::api::core::v1::{Container, Pod};
use proto::cri::v1 as cri;

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("{0}")]
    Other(String),
}

pub struct VolumeManager {
    root_dir: PathBuf,
}

pub struct PodVolumes {
    paths: HashMap<String, PathBuf>,
}

impl VolumeManager {
    pub fn new(_client: kube::Client, root_dir: PathBuf, _node_name: String) -> Self {
        VolumeManager { root_dir }
    }

    pub async fn setup(&self, pod: &Pod) -> Result<PodVolumes, VolumeError> {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let mut paths = HashMap::new();
        for v in pod.spec.as_ref().and_then(|s| s.volumes.as_ref()).into_iter().flatten() {
            if let Some(hp) = &v.host_path {
                paths.insert(v.name.clone(), PathBuf::from(&hp.path));
            } else if v.empty_dir.is_some() {
                let dir = self.root_dir.join("pods").join(&uid).join("volumes/kubernetes.io~empty-dir").join(&v.name);
                std::fs::create_dir_all(&dir).map_err(|e| VolumeError::Other(e.to_string()))?;
                paths.insert(v.name.clone(), dir);
            } else {
                return Err(VolumeError::Other(format!("volume {:?}: type not supported yet", v.name)));
            }
        }
        Ok(PodVolumes { paths })
    }

    pub async fn teardown(&self, pod_uid: &str) -> Result<(), VolumeError> {
        let dir = self.root_dir.join("pods").join(pod_uid);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(VolumeError::Other(e.to_string())),
        }
    }
}

impl PodVolumes {
    pub fn container_mounts(&self, container: &Container, _env: &BTreeMap<String, String>) -> Result<Vec<cri::Mount>, VolumeError> {
        container
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| {
                let path = self.paths.get(&m.name).ok_or_else(|| VolumeError::Other(format!("unknown volume {:?}", m.name)))?;
                Ok(cri::Mount {
                    container_path: m.mount_path.clone(),
                    host_path: path.to_string_lossy().into_owned(),
                    readonly: m.read_only.unwrap_or(false),
                    ..Default::default()
                })
            })
            .collect()
    }
}
