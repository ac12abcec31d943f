//! The fake runtime's memory: sandboxes, containers and the images it has been asked about,
//! with the state machine containerd's CRI plugin follows. Nothing runs: a started container
//! stays RUNNING until StopContainer (or StopPodSandbox) says otherwise.
use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use proto::cri::v1 as cri;
use sha2::{Digest, Sha256};
use tonic::Status;

use super::ipam::Ipam;

/// Size reported for every image (the Node lists images with a size; zero would sort oddly).
const IMAGE_SIZE: u64 = 1 << 20;

/// Nanoseconds since the epoch, CRI's timestamp unit.
fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// True when every pair of `selector` is among `labels` (CRI label selectors are exact).
fn selects(selector: &HashMap<String, String>, labels: &HashMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// `sha256:<hex>` of an image name: a stable image id and digest without any registry.
pub fn image_id(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[derive(Debug, Clone)]
struct Sandbox {
    id: String,
    metadata: cri::PodSandboxMetadata,
    state: cri::PodSandboxState,
    created_at: i64,
    labels: HashMap<String, String>,
    annotations: HashMap<String, String>,
    log_directory: String,
    runtime_handler: String,
    /// None for host-network sandboxes (their pods use the node's address).
    ip: Option<Ipv4Addr>,
    /// Whether `ip` is still held in the IPAM (released when the sandbox stops).
    ip_held: bool,
}

#[derive(Debug, Clone)]
struct Container {
    id: String,
    sandbox_id: String,
    metadata: cri::ContainerMetadata,
    image: cri::ImageSpec,
    image_ref: String,
    state: cri::ContainerState,
    created_at: i64,
    started_at: i64,
    finished_at: i64,
    exit_code: i32,
    labels: HashMap<String, String>,
    annotations: HashMap<String, String>,
    mounts: Vec<cri::Mount>,
    log_path: String,
}

impl Container {
    fn reason(&self) -> &'static str {
        match (self.state, self.exit_code) {
            (cri::ContainerState::ContainerExited, 0) => "Completed",
            (cri::ContainerState::ContainerExited, _) => "Error",
            _ => "",
        }
    }

    fn to_cri(&self) -> cri::Container {
        cri::Container {
            id: self.id.clone(),
            pod_sandbox_id: self.sandbox_id.clone(),
            metadata: Some(self.metadata.clone()),
            image: Some(self.image.clone()),
            image_ref: self.image_ref.clone(),
            state: self.state as i32,
            created_at: self.created_at,
            labels: self.labels.clone(),
            annotations: self.annotations.clone(),
        }
    }

    fn attributes(&self) -> cri::ContainerAttributes {
        cri::ContainerAttributes {
            id: self.id.clone(),
            metadata: Some(self.metadata.clone()),
            labels: self.labels.clone(),
            annotations: self.annotations.clone(),
        }
    }
}

/// A running container's stats: all zeros, stamped now.
fn zero_stats(attributes: cri::ContainerAttributes, mountpoint: &str) -> cri::ContainerStats {
    let now = now_ns();
    let zero = || Some(cri::UInt64Value { value: 0 });
    cri::ContainerStats {
        attributes: Some(attributes),
        cpu: Some(cri::CpuUsage {
            timestamp: now,
            usage_core_nano_seconds: zero(),
            usage_nano_cores: zero(),
        }),
        memory: Some(cri::MemoryUsage {
            timestamp: now,
            working_set_bytes: zero(),
            available_bytes: zero(),
            usage_bytes: zero(),
            rss_bytes: zero(),
            page_faults: zero(),
            major_page_faults: zero(),
        }),
        writable_layer: Some(fs_usage(mountpoint)),
    }
}

fn fs_usage(mountpoint: &str) -> cri::FilesystemUsage {
    cri::FilesystemUsage {
        timestamp: now_ns(),
        fs_id: Some(cri::FilesystemIdentifier {
            mountpoint: mountpoint.to_string(),
        }),
        used_bytes: Some(cri::UInt64Value { value: 0 }),
        inodes_used: Some(cri::UInt64Value { value: 0 }),
    }
}

/// Everything one fake runtime holds.
#[derive(Debug)]
pub struct Store {
    ipam: Ipam,
    sandboxes: HashMap<String, Sandbox>,
    containers: HashMap<String, Container>,
    images: BTreeSet<String>,
    /// Distinguishes the ids of two stores (two hollow nodes), as real ids are random.
    id_seed: String,
    next_id: u64,
    /// Reported as the image and container filesystem's mountpoint.
    root_dir: String,
}

impl Store {
    /// An empty runtime handing out pod addresses from `pod_cidr`.
    pub fn new(pod_cidr: &str, root_dir: &Path) -> Result<Store, super::ipam::IpamError> {
        Ok(Store {
            ipam: Ipam::new(pod_cidr)?,
            sandboxes: HashMap::new(),
            containers: HashMap::new(),
            images: BTreeSet::new(),
            id_seed: format!("{}:{}", root_dir.display(), now_ns()),
            next_id: 0,
            root_dir: root_dir.to_string_lossy().into_owned(),
        })
    }

    /// A 64-hex id, like containerd's.
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        let digest = Sha256::digest(format!("{}:{}", self.id_seed, self.next_id).as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// CRI Version.
    pub fn version() -> cri::VersionResponse {
        cri::VersionResponse {
            version: "0.1.0".into(),
            runtime_name: "fake".into(),
            runtime_version: "0.1.0".into(),
            runtime_api_version: "v1".into(),
        }
    }

    /// CRI Status: runtime and network are always ready.
    pub fn status() -> cri::StatusResponse {
        let condition = |kind: &str| cri::RuntimeCondition {
            r#type: kind.into(),
            status: true,
            reason: String::new(),
            message: String::new(),
        };
        cri::StatusResponse {
            status: Some(cri::RuntimeStatus {
                conditions: vec![condition("RuntimeReady"), condition("NetworkReady")],
            }),
            info: HashMap::new(),
        }
    }

    /// UpdateRuntimeConfig: a new pod CIDR (the kubelet learns its node's CIDR after
    /// registering). Addresses held by live sandboxes stay reserved.
    pub fn set_pod_cidr(&mut self, cidr: &str) -> Result<(), Status> {
        if cidr.is_empty() || cidr == self.ipam.cidr() {
            return Ok(());
        }
        let mut ipam = Ipam::new(cidr).map_err(|e| Status::invalid_argument(e.to_string()))?;
        for sandbox in self.sandboxes.values().filter(|s| s.ip_held) {
            if let Some(ip) = sandbox.ip {
                ipam.reserve(ip);
            }
        }
        self.ipam = ipam;
        Ok(())
    }

    /// RunPodSandbox: a READY sandbox with an address (none for host-network pods).
    pub fn run_pod_sandbox(
        &mut self,
        request: cri::RunPodSandboxRequest,
    ) -> Result<String, Status> {
        let config = request
            .config
            .ok_or_else(|| Status::invalid_argument("sandbox config is required"))?;
        let metadata = config
            .metadata
            .clone()
            .ok_or_else(|| Status::invalid_argument("sandbox config must include metadata"))?;
        if metadata.name.is_empty() || metadata.namespace.is_empty() || metadata.uid.is_empty() {
            return Err(Status::invalid_argument(
                "sandbox metadata needs name, namespace and uid",
            ));
        }
        // containerd reserves `<name>_<namespace>_<uid>_<attempt>` until the sandbox is removed.
        if let Some(other) = self.sandboxes.values().find(|s| s.metadata == metadata) {
            return Err(Status::already_exists(format!(
                "sandbox name {}_{}_{}_{} is reserved for {}",
                metadata.name, metadata.namespace, metadata.uid, metadata.attempt, other.id
            )));
        }
        let host_network = config
            .linux
            .as_ref()
            .and_then(|l| l.security_context.as_ref())
            .and_then(|s| s.namespace_options.as_ref())
            .is_some_and(|n| n.network == cri::NamespaceMode::Node as i32);
        let ip = if host_network {
            None
        } else {
            Some(
                self.ipam
                    .allocate()
                    .map_err(|e| Status::resource_exhausted(e.to_string()))?,
            )
        };
        let id = self.new_id();
        self.sandboxes.insert(
            id.clone(),
            Sandbox {
                id: id.clone(),
                metadata,
                state: cri::PodSandboxState::SandboxReady,
                created_at: now_ns(),
                labels: config.labels,
                annotations: config.annotations,
                log_directory: config.log_directory,
                runtime_handler: request.runtime_handler,
                ip,
                ip_held: ip.is_some(),
            },
        );
        Ok(id)
    }

    fn stop_containers_of(&mut self, sandbox_id: &str) {
        let ids: Vec<String> = self
            .containers
            .values()
            .filter(|c| c.sandbox_id == sandbox_id)
            .map(|c| c.id.clone())
            .collect();
        for id in ids {
            self.stop_container(&id).ok();
        }
    }

    /// StopPodSandbox: stops its containers, tears down its network (the address goes back
    /// to the pool) and marks it NOTREADY. Idempotent; an unknown id is not an error (CRI).
    pub fn stop_pod_sandbox(&mut self, id: &str) {
        if !self.sandboxes.contains_key(id) {
            return;
        }
        self.stop_containers_of(id);
        if let Some(sandbox) = self.sandboxes.get_mut(id) {
            sandbox.state = cri::PodSandboxState::SandboxNotready;
            if let (Some(ip), true) = (sandbox.ip, sandbox.ip_held) {
                self.ipam.release(ip);
                sandbox.ip_held = false;
            }
        }
    }

    /// RemovePodSandbox: stops it and removes it with all its containers. Idempotent.
    pub fn remove_pod_sandbox(&mut self, id: &str) {
        self.stop_pod_sandbox(id);
        self.containers.retain(|_, c| c.sandbox_id != id);
        self.sandboxes.remove(id);
    }

    /// PodSandboxStatus, NotFound for an unknown id.
    pub fn pod_sandbox_status(&self, id: &str) -> Result<cri::PodSandboxStatus, Status> {
        let s = self
            .sandboxes
            .get(id)
            .ok_or_else(|| Status::not_found(format!("pod sandbox {id} not found")))?;
        Ok(cri::PodSandboxStatus {
            id: s.id.clone(),
            metadata: Some(s.metadata.clone()),
            state: s.state as i32,
            created_at: s.created_at,
            network: Some(cri::PodSandboxNetworkStatus {
                ip: s.ip.map(|ip| ip.to_string()).unwrap_or_default(),
                additional_ips: Vec::new(),
            }),
            linux: None,
            labels: s.labels.clone(),
            annotations: s.annotations.clone(),
            runtime_handler: s.runtime_handler.clone(),
        })
    }

    /// ListPodSandbox with CRI's filter (id, state, label selector), oldest first.
    pub fn list_pod_sandbox(&self, filter: Option<&cri::PodSandboxFilter>) -> Vec<cri::PodSandbox> {
        let mut out: Vec<&Sandbox> = self
            .sandboxes
            .values()
            .filter(|s| match filter {
                None => true,
                Some(f) => {
                    (f.id.is_empty() || f.id == s.id)
                        && f.state.as_ref().is_none_or(|v| v.state == s.state as i32)
                        && selects(&f.label_selector, &s.labels)
                }
            })
            .collect();
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        out.into_iter()
            .map(|s| cri::PodSandbox {
                id: s.id.clone(),
                metadata: Some(s.metadata.clone()),
                state: s.state as i32,
                created_at: s.created_at,
                labels: s.labels.clone(),
                annotations: s.annotations.clone(),
                runtime_handler: s.runtime_handler.clone(),
            })
            .collect()
    }

    /// CreateContainer in a READY sandbox: a CREATED container whose log path is the
    /// sandbox's log directory joined with the config's log path. Returns (id, log path).
    pub fn create_container(
        &mut self,
        request: cri::CreateContainerRequest,
    ) -> Result<(String, String), Status> {
        let config = request
            .config
            .ok_or_else(|| Status::invalid_argument("container config is required"))?;
        let metadata = config
            .metadata
            .clone()
            .ok_or_else(|| Status::invalid_argument("container config must include metadata"))?;
        if metadata.name.is_empty() {
            return Err(Status::invalid_argument("container metadata needs a name"));
        }
        let image = config
            .image
            .clone()
            .filter(|i| !i.image.is_empty())
            .ok_or_else(|| Status::invalid_argument("container config must name an image"))?;
        let sandbox = self.sandboxes.get(&request.pod_sandbox_id).ok_or_else(|| {
            Status::not_found(format!("pod sandbox {} not found", request.pod_sandbox_id))
        })?;
        if sandbox.state != cri::PodSandboxState::SandboxReady {
            return Err(Status::failed_precondition(format!(
                "pod sandbox {} is not ready",
                sandbox.id
            )));
        }
        // containerd reserves `<name>_<sandbox name>_..._<attempt>` per sandbox.
        if let Some(other) = self
            .containers
            .values()
            .find(|c| c.sandbox_id == sandbox.id && c.metadata == metadata)
        {
            return Err(Status::already_exists(format!(
                "container name {} attempt {} is reserved for {}",
                metadata.name, metadata.attempt, other.id
            )));
        }
        let log_path = if config.log_path.is_empty() || sandbox.log_directory.is_empty() {
            String::new()
        } else {
            Path::new(&sandbox.log_directory)
                .join(&config.log_path)
                .to_string_lossy()
                .into_owned()
        };
        let sandbox_id = sandbox.id.clone();
        self.images.insert(image.image.clone());
        let id = self.new_id();
        self.containers.insert(
            id.clone(),
            Container {
                id: id.clone(),
                sandbox_id,
                metadata,
                image_ref: image_id(&image.image),
                image,
                state: cri::ContainerState::ContainerCreated,
                created_at: now_ns(),
                started_at: 0,
                finished_at: 0,
                exit_code: 0,
                labels: config.labels,
                annotations: config.annotations,
                mounts: config.mounts,
                log_path: log_path.clone(),
            },
        );
        Ok((id, log_path))
    }

    fn container_mut(&mut self, id: &str) -> Result<&mut Container, Status> {
        self.containers
            .get_mut(id)
            .ok_or_else(|| Status::not_found(format!("container {id} not found")))
    }

    /// StartContainer: CREATED → RUNNING; any other state is an error, as in containerd.
    pub fn start_container(&mut self, id: &str) -> Result<(), Status> {
        let sandbox_id = self.container_mut(id)?.sandbox_id.clone();
        let sandbox_ready = self
            .sandboxes
            .get(&sandbox_id)
            .is_some_and(|s| s.state == cri::PodSandboxState::SandboxReady);
        if !sandbox_ready {
            return Err(Status::failed_precondition(format!(
                "sandbox {sandbox_id} of container {id} is not ready"
            )));
        }
        let c = self.container_mut(id)?;
        if c.state != cri::ContainerState::ContainerCreated {
            return Err(Status::failed_precondition(format!(
                "container {id} is in state {}, not CREATED",
                c.state.as_str_name()
            )));
        }
        c.state = cri::ContainerState::ContainerRunning;
        c.started_at = now_ns();
        Ok(())
    }

    /// StopContainer: RUNNING or CREATED → EXITED with exit code 0 (the fake's processes end
    /// gracefully). Stopping an exited container is a no-op.
    pub fn stop_container(&mut self, id: &str) -> Result<(), Status> {
        let c = self.container_mut(id)?;
        if c.state != cri::ContainerState::ContainerExited {
            c.state = cri::ContainerState::ContainerExited;
            c.finished_at = now_ns();
            c.exit_code = 0;
        }
        Ok(())
    }

    /// RemoveContainer: removes it in any state (CRI: a running one is forcibly removed).
    /// Idempotent.
    pub fn remove_container(&mut self, id: &str) {
        self.containers.remove(id);
    }

    /// ListContainers with CRI's filter (id, state, sandbox id, label selector), oldest first.
    pub fn list_containers(&self, filter: Option<&cri::ContainerFilter>) -> Vec<cri::Container> {
        let mut out: Vec<&Container> = self
            .containers
            .values()
            .filter(|c| match filter {
                None => true,
                Some(f) => {
                    (f.id.is_empty() || f.id == c.id)
                        && (f.pod_sandbox_id.is_empty() || f.pod_sandbox_id == c.sandbox_id)
                        && f.state.as_ref().is_none_or(|v| v.state == c.state as i32)
                        && selects(&f.label_selector, &c.labels)
                }
            })
            .collect();
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        out.into_iter().map(Container::to_cri).collect()
    }

    /// ContainerStatus, NotFound for an unknown id.
    pub fn container_status(&self, id: &str) -> Result<cri::ContainerStatus, Status> {
        let c = self
            .containers
            .get(id)
            .ok_or_else(|| Status::not_found(format!("container {id} not found")))?;
        Ok(cri::ContainerStatus {
            id: c.id.clone(),
            metadata: Some(c.metadata.clone()),
            state: c.state as i32,
            created_at: c.created_at,
            started_at: c.started_at,
            finished_at: c.finished_at,
            exit_code: c.exit_code,
            image: Some(c.image.clone()),
            image_ref: c.image_ref.clone(),
            reason: c.reason().to_string(),
            message: String::new(),
            labels: c.labels.clone(),
            annotations: c.annotations.clone(),
            mounts: c.mounts.clone(),
            log_path: c.log_path.clone(),
            resources: None,
        })
    }

    /// ExecSync: NotFound unless the container is running; then exit 0, no output.
    pub fn exec_sync(&self, id: &str) -> Result<cri::ExecSyncResponse, Status> {
        let c = self
            .containers
            .get(id)
            .ok_or_else(|| Status::not_found(format!("container {id} not found")))?;
        if c.state != cri::ContainerState::ContainerRunning {
            return Err(Status::failed_precondition(format!(
                "container {id} is not running"
            )));
        }
        Ok(cri::ExecSyncResponse::default())
    }

    /// ContainerStats: zeros for an existing container.
    pub fn container_stats(&self, id: &str) -> Result<cri::ContainerStats, Status> {
        let c = self
            .containers
            .get(id)
            .ok_or_else(|| Status::not_found(format!("container {id} not found")))?;
        Ok(zero_stats(c.attributes(), &self.root_dir))
    }

    /// ListContainerStats: zeros for the running containers the filter selects.
    pub fn list_container_stats(
        &self,
        filter: Option<&cri::ContainerStatsFilter>,
    ) -> Vec<cri::ContainerStats> {
        let mut out: Vec<&Container> = self
            .containers
            .values()
            .filter(|c| c.state == cri::ContainerState::ContainerRunning)
            .filter(|c| match filter {
                None => true,
                Some(f) => {
                    (f.id.is_empty() || f.id == c.id)
                        && (f.pod_sandbox_id.is_empty() || f.pod_sandbox_id == c.sandbox_id)
                        && selects(&f.label_selector, &c.labels)
                }
            })
            .collect();
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        out.into_iter()
            .map(|c| zero_stats(c.attributes(), &self.root_dir))
            .collect()
    }

    /// ListPodSandboxStats: zeros for the READY sandboxes the filter selects, with their
    /// running containers' (zero) stats.
    pub fn list_pod_sandbox_stats(
        &self,
        filter: Option<&cri::PodSandboxStatsFilter>,
    ) -> Vec<cri::PodSandboxStats> {
        let mut sandboxes: Vec<&Sandbox> = self
            .sandboxes
            .values()
            .filter(|s| s.state == cri::PodSandboxState::SandboxReady)
            .filter(|s| match filter {
                None => true,
                Some(f) => {
                    (f.id.is_empty() || f.id == s.id) && selects(&f.label_selector, &s.labels)
                }
            })
            .collect();
        sandboxes.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        sandboxes
            .into_iter()
            .map(|s| {
                let containers = self.list_container_stats(Some(&cri::ContainerStatsFilter {
                    pod_sandbox_id: s.id.clone(),
                    ..Default::default()
                }));
                let totals = zero_stats(cri::ContainerAttributes::default(), &self.root_dir);
                cri::PodSandboxStats {
                    attributes: Some(cri::PodSandboxAttributes {
                        id: s.id.clone(),
                        metadata: Some(s.metadata.clone()),
                        labels: s.labels.clone(),
                        annotations: s.annotations.clone(),
                    }),
                    linux: Some(cri::LinuxPodSandboxStats {
                        cpu: totals.cpu,
                        memory: totals.memory,
                        network: None,
                        process: None,
                        containers,
                    }),
                    windows: None,
                }
            })
            .collect()
    }

    /// ImageStatus / PullImage: every image is present; asking about one makes it listed.
    pub fn image(&mut self, name: &str) -> Result<cri::Image, Status> {
        if name.is_empty() {
            return Err(Status::invalid_argument("image name is required"));
        }
        self.images.insert(name.to_string());
        Ok(Self::image_of(name))
    }

    fn image_of(name: &str) -> cri::Image {
        let id = image_id(name);
        let repo = name.split('@').next().unwrap_or(name);
        let repo = match repo.rsplit_once(':') {
            Some((r, tag)) if !tag.contains('/') => r,
            _ => repo,
        };
        cri::Image {
            id: id.clone(),
            repo_tags: if name.contains('@') {
                Vec::new()
            } else {
                vec![name.to_string()]
            },
            repo_digests: vec![format!("{repo}@{id}")],
            size: IMAGE_SIZE,
            uid: None,
            username: String::new(),
            spec: Some(cri::ImageSpec {
                image: name.to_string(),
                annotations: HashMap::new(),
            }),
            pinned: false,
        }
    }

    /// ListImages: the images pulled, inspected or used so far (optionally one of them).
    pub fn list_images(&self, filter: Option<&cri::ImageFilter>) -> Vec<cri::Image> {
        let wanted = filter
            .and_then(|f| f.image.as_ref())
            .map(|i| i.image.as_str())
            .filter(|i| !i.is_empty());
        self.images
            .iter()
            .filter(|name| wanted.is_none_or(|w| w == name.as_str() || image_id(name) == w))
            .map(|name| Self::image_of(name))
            .collect()
    }

    /// RemoveImage: forgets it (it stays "present" for a later ImageStatus, as a pull would
    /// bring it back).
    pub fn remove_image(&mut self, name: &str) {
        self.images.retain(|i| i != name && image_id(i) != name);
    }

    /// ImageFsInfo: one empty filesystem at the runtime's directory.
    pub fn image_fs_info(&self) -> cri::ImageFsInfoResponse {
        cri::ImageFsInfoResponse {
            image_filesystems: vec![fs_usage(&self.root_dir)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        Store::new("10.200.7.0/24", Path::new("/tmp/fake")).unwrap()
    }

    fn sandbox_request(
        name: &str,
        uid: &str,
        attempt: u32,
        host_network: bool,
    ) -> cri::RunPodSandboxRequest {
        cri::RunPodSandboxRequest {
            config: Some(cri::PodSandboxConfig {
                metadata: Some(cri::PodSandboxMetadata {
                    name: name.into(),
                    uid: uid.into(),
                    namespace: "default".into(),
                    attempt,
                }),
                log_directory: format!("/logs/default_{name}_{uid}"),
                labels: HashMap::from([("io.kubernetes.pod.uid".to_string(), uid.to_string())]),
                linux: Some(cri::LinuxPodSandboxConfig {
                    security_context: Some(cri::LinuxSandboxSecurityContext {
                        namespace_options: Some(cri::NamespaceOption {
                            network: if host_network {
                                cri::NamespaceMode::Node as i32
                            } else {
                                cri::NamespaceMode::Pod as i32
                            },
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            runtime_handler: String::new(),
        }
    }

    fn container_request(sandbox: &str, name: &str, attempt: u32) -> cri::CreateContainerRequest {
        cri::CreateContainerRequest {
            pod_sandbox_id: sandbox.into(),
            config: Some(cri::ContainerConfig {
                metadata: Some(cri::ContainerMetadata {
                    name: name.into(),
                    attempt,
                }),
                image: Some(cri::ImageSpec {
                    image: "busybox:1.36".into(),
                    annotations: HashMap::new(),
                }),
                command: vec!["sleep".into(), "3600".into()],
                labels: HashMap::from([(
                    "io.kubernetes.container.name".to_string(),
                    name.to_string(),
                )]),
                log_path: format!("{name}/{attempt}.log"),
                ..Default::default()
            }),
            sandbox_config: None,
        }
    }

    #[test]
    fn sandbox_gets_an_address_and_gives_it_back_on_stop() {
        let mut s = store();
        let a = s
            .run_pod_sandbox(sandbox_request("a", "u1", 0, false))
            .unwrap();
        let b = s
            .run_pod_sandbox(sandbox_request("b", "u2", 0, false))
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        let status = s.pod_sandbox_status(&a).unwrap();
        assert_eq!(status.network.unwrap().ip, "10.200.7.2");
        assert_eq!(status.state, cri::PodSandboxState::SandboxReady as i32);
        assert_eq!(status.metadata.unwrap().name, "a");
        assert_eq!(
            s.pod_sandbox_status(&b).unwrap().network.unwrap().ip,
            "10.200.7.3"
        );
        s.stop_pod_sandbox(&a);
        assert_eq!(
            s.pod_sandbox_status(&a).unwrap().state,
            cri::PodSandboxState::SandboxNotready as i32
        );
        let c = s
            .run_pod_sandbox(sandbox_request("c", "u3", 0, false))
            .unwrap();
        assert_eq!(
            s.pod_sandbox_status(&c).unwrap().network.unwrap().ip,
            "10.200.7.2"
        );
        // Stopping twice, or stopping/removing the unknown, is fine (CRI is idempotent).
        s.stop_pod_sandbox(&a);
        s.remove_pod_sandbox("nope");
    }

    #[test]
    fn host_network_sandbox_has_no_address() {
        let mut s = store();
        let id = s
            .run_pod_sandbox(sandbox_request("h", "u1", 0, true))
            .unwrap();
        assert_eq!(s.pod_sandbox_status(&id).unwrap().network.unwrap().ip, "");
        let next = s
            .run_pod_sandbox(sandbox_request("p", "u2", 0, false))
            .unwrap();
        assert_eq!(
            s.pod_sandbox_status(&next).unwrap().network.unwrap().ip,
            "10.200.7.2"
        );
    }

    #[test]
    fn sandbox_name_is_reserved_until_removed() {
        let mut s = store();
        let id = s
            .run_pod_sandbox(sandbox_request("a", "u1", 0, false))
            .unwrap();
        let again = s.run_pod_sandbox(sandbox_request("a", "u1", 0, false));
        assert_eq!(again.unwrap_err().code(), tonic::Code::AlreadyExists);
        s.run_pod_sandbox(sandbox_request("a", "u1", 1, false))
            .unwrap();
        s.remove_pod_sandbox(&id);
        s.run_pod_sandbox(sandbox_request("a", "u1", 0, false))
            .unwrap();
    }

    #[test]
    fn container_lifecycle() {
        let mut s = store();
        let sb = s
            .run_pod_sandbox(sandbox_request("a", "u1", 0, false))
            .unwrap();
        let (id, log_path) = s
            .create_container(container_request(&sb, "app", 0))
            .unwrap();
        assert_eq!(log_path, "/logs/default_a_u1/app/0.log");
        let created = s.container_status(&id).unwrap();
        assert_eq!(created.state, cri::ContainerState::ContainerCreated as i32);
        assert!(created.created_at > 0);
        assert_eq!(created.started_at, 0);
        assert_eq!(created.image_ref, image_id("busybox:1.36"));
        assert_eq!(created.log_path, log_path);
        assert_eq!(created.metadata.unwrap().name, "app");

        s.start_container(&id).unwrap();
        let running = s.container_status(&id).unwrap();
        assert_eq!(running.state, cri::ContainerState::ContainerRunning as i32);
        assert!(running.started_at >= running.created_at);
        assert_eq!(running.reason, "");
        assert_eq!(s.exec_sync(&id).unwrap().exit_code, 0);
        // Starting twice is an error, as in containerd.
        assert_eq!(
            s.start_container(&id).unwrap_err().code(),
            tonic::Code::FailedPrecondition
        );

        s.stop_container(&id).unwrap();
        let exited = s.container_status(&id).unwrap();
        assert_eq!(exited.state, cri::ContainerState::ContainerExited as i32);
        assert_eq!(exited.exit_code, 0);
        assert_eq!(exited.reason, "Completed");
        assert!(exited.finished_at >= exited.started_at);
        let finished = exited.finished_at;
        s.stop_container(&id).unwrap();
        assert_eq!(s.container_status(&id).unwrap().finished_at, finished);
        assert!(s.exec_sync(&id).is_err());

        s.remove_container(&id);
        assert_eq!(
            s.container_status(&id).unwrap_err().code(),
            tonic::Code::NotFound
        );
        s.remove_container(&id);
    }

    #[test]
    fn containers_need_a_ready_sandbox_and_unique_names() {
        let mut s = store();
        let missing = s.create_container(container_request("nope", "app", 0));
        assert_eq!(missing.unwrap_err().code(), tonic::Code::NotFound);
        let sb = s
            .run_pod_sandbox(sandbox_request("a", "u1", 0, false))
            .unwrap();
        s.create_container(container_request(&sb, "app", 0))
            .unwrap();
        let dup = s.create_container(container_request(&sb, "app", 0));
        assert_eq!(dup.unwrap_err().code(), tonic::Code::AlreadyExists);
        s.create_container(container_request(&sb, "app", 1))
            .unwrap();
        s.stop_pod_sandbox(&sb);
        let stopped = s.create_container(container_request(&sb, "app", 2));
        assert_eq!(stopped.unwrap_err().code(), tonic::Code::FailedPrecondition);
    }

    #[test]
    fn stopping_and_removing_a_sandbox_covers_its_containers() {
        let mut s = store();
        let sb = s
            .run_pod_sandbox(sandbox_request("a", "u1", 0, false))
            .unwrap();
        let other = s
            .run_pod_sandbox(sandbox_request("b", "u2", 0, false))
            .unwrap();
        let (c1, _) = s
            .create_container(container_request(&sb, "app", 0))
            .unwrap();
        let (c2, _) = s
            .create_container(container_request(&other, "app", 0))
            .unwrap();
        s.start_container(&c1).unwrap();
        s.start_container(&c2).unwrap();
        s.stop_pod_sandbox(&sb);
        assert_eq!(
            s.container_status(&c1).unwrap().state,
            cri::ContainerState::ContainerExited as i32
        );
        assert_eq!(
            s.container_status(&c2).unwrap().state,
            cri::ContainerState::ContainerRunning as i32
        );
        s.remove_pod_sandbox(&sb);
        assert!(s.container_status(&c1).is_err());
        assert!(s.pod_sandbox_status(&sb).is_err());
        assert_eq!(s.list_containers(None).len(), 1);
    }

    #[test]
    fn list_filters() {
        let mut s = store();
        let a = s
            .run_pod_sandbox(sandbox_request("a", "u1", 0, false))
            .unwrap();
        let b = s
            .run_pod_sandbox(sandbox_request("b", "u2", 0, false))
            .unwrap();
        let (ca, _) = s.create_container(container_request(&a, "app", 0)).unwrap();
        let (cb, _) = s
            .create_container(container_request(&b, "side", 0))
            .unwrap();
        s.start_container(&ca).unwrap();
        s.stop_pod_sandbox(&b);

        let by_label = cri::PodSandboxFilter {
            label_selector: HashMap::from([(
                "io.kubernetes.pod.uid".to_string(),
                "u2".to_string(),
            )]),
            ..Default::default()
        };
        let got: Vec<String> = s
            .list_pod_sandbox(Some(&by_label))
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(got, vec![b.clone()]);
        let ready = cri::PodSandboxFilter {
            state: Some(cri::PodSandboxStateValue {
                state: cri::PodSandboxState::SandboxReady as i32,
            }),
            ..Default::default()
        };
        let got: Vec<String> = s
            .list_pod_sandbox(Some(&ready))
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(got, vec![a.clone()]);
        let by_id = cri::PodSandboxFilter {
            id: a.clone(),
            ..Default::default()
        };
        assert_eq!(s.list_pod_sandbox(Some(&by_id)).len(), 1);
        assert_eq!(s.list_pod_sandbox(None).len(), 2);

        let running = cri::ContainerFilter {
            state: Some(cri::ContainerStateValue {
                state: cri::ContainerState::ContainerRunning as i32,
            }),
            ..Default::default()
        };
        let got: Vec<String> = s
            .list_containers(Some(&running))
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(got, vec![ca.clone()]);
        let in_b = cri::ContainerFilter {
            pod_sandbox_id: b.clone(),
            ..Default::default()
        };
        let got: Vec<String> = s
            .list_containers(Some(&in_b))
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(got, vec![cb.clone()]);
        let by_name = cri::ContainerFilter {
            label_selector: HashMap::from([(
                "io.kubernetes.container.name".to_string(),
                "side".to_string(),
            )]),
            ..Default::default()
        };
        assert_eq!(s.list_containers(Some(&by_name)).len(), 1);
        let no_match = cri::ContainerFilter {
            id: cb.clone(),
            pod_sandbox_id: a.clone(),
            ..Default::default()
        };
        assert!(s.list_containers(Some(&no_match)).is_empty());

        // Stats cover running containers only.
        let stats = s.list_container_stats(None);
        assert_eq!(stats.len(), 1);
        assert_eq!(stats[0].attributes.as_ref().unwrap().id, ca);
        let sandbox_stats = s.list_pod_sandbox_stats(None);
        assert_eq!(sandbox_stats.len(), 1);
        assert_eq!(sandbox_stats[0].linux.as_ref().unwrap().containers.len(), 1);
    }

    #[test]
    fn every_image_is_present_and_listed_once_used() {
        let mut s = store();
        assert!(s.list_images(None).is_empty());
        let image = s.image("registry.local:5000/app:v2").unwrap();
        assert_eq!(image.id, image_id("registry.local:5000/app:v2"));
        assert_eq!(
            image.repo_tags,
            vec!["registry.local:5000/app:v2".to_string()]
        );
        assert_eq!(
            image.repo_digests,
            vec![format!("registry.local:5000/app@{}", image.id)]
        );
        let sb = s
            .run_pod_sandbox(sandbox_request("a", "u1", 0, false))
            .unwrap();
        s.create_container(container_request(&sb, "app", 0))
            .unwrap();
        assert_eq!(s.list_images(None).len(), 2);
        s.remove_image("busybox:1.36");
        assert_eq!(s.list_images(None).len(), 1);
    }

    #[test]
    fn new_pod_cidr_keeps_held_addresses() {
        let mut s = store();
        let a = s
            .run_pod_sandbox(sandbox_request("a", "u1", 0, false))
            .unwrap();
        assert!(s.set_pod_cidr("bad").is_err());
        s.set_pod_cidr("10.200.0.0/16").unwrap();
        let b = s
            .run_pod_sandbox(sandbox_request("b", "u2", 0, false))
            .unwrap();
        assert_eq!(
            s.pod_sandbox_status(&a).unwrap().network.unwrap().ip,
            "10.200.7.2"
        );
        assert_eq!(
            s.pod_sandbox_status(&b).unwrap().network.unwrap().ip,
            "10.200.0.2"
        );
    }
}
