//! What the runtime holds for one pod: its sandboxes and containers, found through the labels
//! the kubelet puts on everything it creates (the same labels upstream uses, so tools that
//! read CRI — and the kubelet's own server — can map them back to pods).
use std::collections::HashMap;

use proto::cri::v1 as cri;

use crate::cri::{call_error, CriError, Runtime};

pub const LABEL_POD_NAME: &str = "io.kubernetes.pod.name";
pub const LABEL_POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
pub const LABEL_POD_UID: &str = "io.kubernetes.pod.uid";
pub const LABEL_CONTAINER_NAME: &str = "io.kubernetes.container.name";
/// Marks which containers of the pod spec a container is (init or app), so restarts of a
/// kubelet can tell them apart.
pub const LABEL_CONTAINER_TYPE: &str = "io.rudder.container.type";
pub const ANNOTATION_RESTART_COUNT: &str = "io.kubernetes.container.restartCount";
pub const ANNOTATION_TERMINATION_MESSAGE_PATH: &str =
    "io.kubernetes.container.terminationMessagePath";
pub const ANNOTATION_TERMINATION_GRACE: &str = "io.kubernetes.pod.terminationGracePeriod";

/// One sandbox of the pod.
#[derive(Clone, Debug)]
pub struct SandboxInfo {
    pub id: String,
    pub attempt: u32,
    pub ready: bool,
    pub created_at: i64,
    pub ip: Option<String>,
    pub additional_ips: Vec<String>,
}

/// One container of the pod, with the details of CRI ContainerStatus.
#[derive(Clone, Debug, Default)]
pub struct ContainerInfo {
    pub id: String,
    pub sandbox_id: String,
    pub name: String,
    pub attempt: u32,
    pub state: i32,
    pub created_at: i64,
    pub started_at: i64,
    pub finished_at: i64,
    pub exit_code: i32,
    pub reason: String,
    pub message: String,
    pub image: String,
    pub image_ref: String,
    pub log_path: String,
    pub labels: HashMap<String, String>,
    pub annotations: HashMap<String, String>,
}

impl ContainerInfo {
    pub fn is_running(&self) -> bool {
        self.state == cri::ContainerState::ContainerRunning as i32
    }
    pub fn is_exited(&self) -> bool {
        self.state == cri::ContainerState::ContainerExited as i32
    }
}

/// Everything of one pod in the runtime, newest first.
#[derive(Clone, Debug, Default)]
pub struct PodRuntime {
    pub sandboxes: Vec<SandboxInfo>,
    pub containers: Vec<ContainerInfo>,
}

impl PodRuntime {
    /// The newest sandbox, if it is ready.
    pub fn ready_sandbox(&self) -> Option<&SandboxInfo> {
        self.sandboxes.first().filter(|s| s.ready)
    }

    /// The newest container with this name in the given sandbox.
    pub fn latest(&self, sandbox_id: &str, name: &str) -> Option<&ContainerInfo> {
        self.containers
            .iter()
            .find(|c| c.sandbox_id == sandbox_id && c.name == name)
    }

    /// The newest container with this name in any sandbox.
    pub fn latest_anywhere(&self, name: &str) -> Option<&ContainerInfo> {
        self.containers.iter().find(|c| c.name == name)
    }

    /// The newest exited container with this name that is older than `current`.
    pub fn previous(&self, name: &str, current_id: &str) -> Option<&ContainerInfo> {
        self.containers
            .iter()
            .filter(|c| c.name == name && c.id != current_id && c.is_exited())
            .find(|_| true)
    }

    pub fn running(&self) -> impl Iterator<Item = &ContainerInfo> {
        self.containers.iter().filter(|c| c.is_running())
    }
}

fn uid_filter(uid: &str) -> HashMap<String, String> {
    HashMap::from([(LABEL_POD_UID.to_string(), uid.to_string())])
}

/// Reads the pod's sandboxes and containers (with statuses) from the runtime.
pub async fn inspect(runtime: &Runtime, uid: &str) -> Result<PodRuntime, CriError> {
    let mut rt = runtime.runtime.clone();
    let sandboxes = rt
        .list_pod_sandbox(cri::ListPodSandboxRequest {
            filter: Some(cri::PodSandboxFilter {
                label_selector: uid_filter(uid),
                ..Default::default()
            }),
        })
        .await
        .map_err(call_error("ListPodSandbox"))?
        .into_inner()
        .items;
    let mut pod = PodRuntime::default();
    for sandbox in sandboxes {
        let ready = sandbox.state == cri::PodSandboxState::SandboxReady as i32;
        let mut info = SandboxInfo {
            id: sandbox.id.clone(),
            attempt: sandbox.metadata.map(|m| m.attempt).unwrap_or(0),
            ready,
            created_at: sandbox.created_at,
            ip: None,
            additional_ips: Vec::new(),
        };
        if ready {
            match rt
                .pod_sandbox_status(cri::PodSandboxStatusRequest {
                    pod_sandbox_id: sandbox.id.clone(),
                    verbose: false,
                })
                .await
            {
                Ok(status) => {
                    let network = status.into_inner().status.and_then(|s| s.network);
                    if let Some(network) = network {
                        info.ip = Some(network.ip).filter(|ip| !ip.is_empty());
                        info.additional_ips =
                            network.additional_ips.into_iter().map(|i| i.ip).collect();
                    }
                }
                Err(status) if status.code() == tonic::Code::NotFound => continue,
                Err(status) => return Err(call_error("PodSandboxStatus")(status)),
            }
        }
        pod.sandboxes.push(info);
    }
    pod.sandboxes
        .sort_by_key(|s| std::cmp::Reverse(s.created_at));

    let containers = rt
        .list_containers(cri::ListContainersRequest {
            filter: Some(cri::ContainerFilter {
                label_selector: uid_filter(uid),
                ..Default::default()
            }),
        })
        .await
        .map_err(call_error("ListContainers"))?
        .into_inner()
        .containers;
    for container in containers {
        let status = match rt
            .container_status(cri::ContainerStatusRequest {
                container_id: container.id.clone(),
                verbose: false,
            })
            .await
        {
            Ok(r) => r.into_inner().status.unwrap_or_default(),
            // Removed between the list and the status call.
            Err(status) if status.code() == tonic::Code::NotFound => continue,
            Err(status) => return Err(call_error("ContainerStatus")(status)),
        };
        let metadata = container.metadata.clone().unwrap_or_default();
        pod.containers.push(ContainerInfo {
            id: container.id,
            sandbox_id: container.pod_sandbox_id,
            name: metadata.name,
            attempt: metadata.attempt,
            state: status.state,
            created_at: status.created_at,
            started_at: status.started_at,
            finished_at: status.finished_at,
            exit_code: status.exit_code,
            reason: status.reason,
            message: status.message,
            image: status.image.map(|i| i.image).unwrap_or_default(),
            image_ref: status.image_ref,
            log_path: status.log_path,
            labels: container.labels,
            annotations: container.annotations,
        });
    }
    // Newest first: by attempt, then creation time.
    pod.containers
        .sort_by_key(|c| std::cmp::Reverse((c.attempt, c.created_at)));
    Ok(pod)
}

/// The pod UIDs the runtime holds anything for, with a fingerprint of their containers'
/// states — the relister compares fingerprints to wake only the workers whose pods changed.
pub async fn fingerprints(runtime: &Runtime) -> Result<HashMap<String, String>, CriError> {
    let mut rt = runtime.runtime.clone();
    let mut out: HashMap<String, String> = HashMap::new();
    let sandboxes = rt
        .list_pod_sandbox(cri::ListPodSandboxRequest { filter: None })
        .await
        .map_err(call_error("ListPodSandbox"))?
        .into_inner()
        .items;
    for s in sandboxes {
        if let Some(uid) = s.labels.get(LABEL_POD_UID) {
            out.entry(uid.clone())
                .or_default()
                .push_str(&format!("s{}:{};", s.id, s.state));
        }
    }
    let containers = rt
        .list_containers(cri::ListContainersRequest { filter: None })
        .await
        .map_err(call_error("ListContainers"))?
        .into_inner()
        .containers;
    for c in containers {
        if let Some(uid) = c.labels.get(LABEL_POD_UID) {
            out.entry(uid.clone())
                .or_default()
                .push_str(&format!("c{}:{};", c.id, c.state));
        }
    }
    for v in out.values_mut() {
        let mut parts: Vec<&str> = v.split(';').collect();
        parts.sort_unstable();
        *v = parts.join(";");
    }
    Ok(out)
}
