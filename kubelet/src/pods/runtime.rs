//! What the runtime holds for one pod: its sandboxes and containers, found through the labels
//! the kubelet puts on everything it creates (the same labels upstream uses, so tools that
//! read CRI — and the kubelet's own server — can map them back to pods).
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

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

/// One sandbox by id, from CRI PodSandboxStatus (state, attempt and network); `None` when
/// the runtime no longer has it.
pub async fn sandbox(runtime: &Runtime, id: &str) -> Result<Option<SandboxInfo>, CriError> {
    let status = match runtime
        .runtime
        .clone()
        .pod_sandbox_status(cri::PodSandboxStatusRequest {
            pod_sandbox_id: id.to_string(),
            verbose: false,
        })
        .await
    {
        Ok(r) => r.into_inner().status.unwrap_or_default(),
        Err(status) if status.code() == tonic::Code::NotFound => return Ok(None),
        Err(status) => return Err(call_error("PodSandboxStatus")(status)),
    };
    let ready = status.state == cri::PodSandboxState::SandboxReady as i32;
    let network = status.network.filter(|_| ready).unwrap_or_default();
    Ok(Some(SandboxInfo {
        id: id.to_string(),
        attempt: status.metadata.map(|m| m.attempt).unwrap_or(0),
        ready,
        created_at: status.created_at,
        ip: Some(network.ip).filter(|ip| !ip.is_empty()),
        additional_ips: network.additional_ips.into_iter().map(|i| i.ip).collect(),
    }))
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
        let info = if ready {
            // Only a ready sandbox has a network worth asking for.
            match self::sandbox(runtime, &sandbox.id).await? {
                Some(info) => info,
                None => continue,
            }
        } else {
            SandboxInfo {
                id: sandbox.id.clone(),
                attempt: sandbox.metadata.map(|m| m.attempt).unwrap_or(0),
                ready,
                created_at: sandbox.created_at,
                ip: None,
                additional_ips: Vec::new(),
            }
        };
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

/// One sandbox in a fingerprint: its id and CRI state.
fn sandbox_part(id: &str, state: i32) -> String {
    format!("s{id}:{state}")
}

/// One container in a fingerprint: its id and CRI state.
fn container_part(id: &str, state: i32) -> String {
    format!("c{id}:{state}")
}

/// The parts in a fixed order, so two readings of the same state compare equal.
fn fingerprint_of(mut parts: Vec<String>) -> String {
    parts.sort_unstable();
    parts.join(";")
}

impl PodRuntime {
    /// The same fingerprint [`fingerprints`] gives for this pod, from what was inspected:
    /// equal fingerprints mean the relister and the worker saw the same sandboxes and
    /// containers in the same states.
    pub fn fingerprint(&self) -> String {
        let sandbox_state = |ready: bool| {
            if ready {
                cri::PodSandboxState::SandboxReady as i32
            } else {
                cri::PodSandboxState::SandboxNotready as i32
            }
        };
        let sandboxes = self
            .sandboxes
            .iter()
            .map(|s| sandbox_part(&s.id, sandbox_state(s.ready)));
        let containers = self
            .containers
            .iter()
            .map(|c| container_part(&c.id, c.state));
        fingerprint_of(sandboxes.chain(containers).collect())
    }
}

/// The pod UIDs the runtime holds anything for, with a fingerprint of their sandboxes' and
/// containers' states — the relister compares fingerprints to wake only the workers whose
/// pods changed.
pub async fn fingerprints(runtime: &Runtime) -> Result<HashMap<String, String>, CriError> {
    let mut rt = runtime.runtime.clone();
    let mut parts: HashMap<String, Vec<String>> = HashMap::new();
    let sandboxes = rt
        .list_pod_sandbox(cri::ListPodSandboxRequest { filter: None })
        .await
        .map_err(call_error("ListPodSandbox"))?
        .into_inner()
        .items;
    for s in sandboxes {
        if let Some(uid) = s.labels.get(LABEL_POD_UID) {
            parts
                .entry(uid.clone())
                .or_default()
                .push(sandbox_part(&s.id, s.state));
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
            parts
                .entry(uid.clone())
                .or_default()
                .push(container_part(&c.id, c.state));
        }
    }
    Ok(parts
        .into_iter()
        .map(|(uid, parts)| (uid, fingerprint_of(parts)))
        .collect())
}

/// Each pod's state as the relister last listed it and as its worker last acted on it (a
/// state in which the worker found nothing to do), with when each was read. The relister
/// wakes a worker only for a state the worker has not acted on, and a woken worker skips the
/// sync when what it acted on was read after the relister's list: the relister often lists
/// a pod halfway through its worker's creates and starts, and the worker, which has already
/// seen its containers run, would only repeat the sync (upstream's kubelet gets the same
/// from its pod cache's timestamps).
#[derive(Default)]
pub struct RuntimeStates(Mutex<States>);

#[derive(Default)]
struct States {
    /// Per pod: the fingerprint a worker acted on, and when its inspect began.
    acted_on: HashMap<String, (String, Instant)>,
    /// The relister's last fingerprints, and when that list had completed.
    relisted: HashMap<String, String>,
    relisted_at: Option<Instant>,
}

impl RuntimeStates {
    fn states(&self) -> std::sync::MutexGuard<'_, States> {
        // Plain maps: a panic elsewhere cannot leave them inconsistent.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A worker read its pod in this state (its inspect began at `read_at`) and found nothing
    /// to do in it.
    pub fn record_acted_on(&self, uid: &str, fingerprint: String, read_at: Instant) {
        self.states()
            .acted_on
            .insert(uid.to_string(), (fingerprint, read_at));
    }

    /// Stores the relister's reading of every pod, from a list that completed at
    /// `listed_at`, and returns the reading before it.
    pub fn replace_relisted(
        &self,
        fingerprints: HashMap<String, String>,
        listed_at: Instant,
    ) -> HashMap<String, String> {
        let mut states = self.states();
        states.relisted_at = Some(listed_at);
        std::mem::replace(&mut states.relisted, fingerprints)
    }

    /// Whether the relister's last list found anything of the pod in the runtime.
    pub fn relisted_holds(&self, uid: &str) -> bool {
        self.states().relisted.contains_key(uid)
    }

    /// Whether the pod's worker has acted on the pod in exactly this state.
    pub fn worker_acted_on(&self, uid: &str, fingerprint: &str) -> bool {
        self.states()
            .acted_on
            .get(uid)
            .is_some_and(|(seen, _)| seen == fingerprint)
    }

    /// Whether the worker has acted on a reading at least as new as the relister's last
    /// (a wake for that list is moot).
    pub fn worker_is_current(&self, uid: &str) -> bool {
        let states = self.states();
        let Some((seen, read_at)) = states.acted_on.get(uid) else {
            return false;
        };
        states.relisted_at.is_some_and(|at| *read_at >= at)
            || states
                .relisted
                .get(uid)
                .is_some_and(|listed| listed == seen)
    }

    /// Keeps what the workers of the pods `keep` names acted on (those still running).
    pub fn retain_workers(&self, keep: impl Fn(&str) -> bool) {
        self.states().acted_on.retain(|uid, _| keep(uid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_runtime::serve_fake_runtime;

    fn labels(uid: &str) -> HashMap<String, String> {
        HashMap::from([(LABEL_POD_UID.to_string(), uid.to_string())])
    }

    async fn run_sandbox(runtime: &Runtime, uid: &str, logs: &std::path::Path) -> String {
        runtime
            .runtime
            .clone()
            .run_pod_sandbox(cri::RunPodSandboxRequest {
                config: Some(cri::PodSandboxConfig {
                    metadata: Some(cri::PodSandboxMetadata {
                        name: "p".into(),
                        uid: uid.into(),
                        namespace: "default".into(),
                        attempt: 0,
                    }),
                    labels: labels(uid),
                    log_directory: logs.to_string_lossy().into_owned(),
                    ..Default::default()
                }),
                runtime_handler: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .pod_sandbox_id
    }

    async fn create_container(runtime: &Runtime, uid: &str, sandbox: &str) -> String {
        runtime
            .runtime
            .clone()
            .create_container(cri::CreateContainerRequest {
                pod_sandbox_id: sandbox.into(),
                config: Some(cri::ContainerConfig {
                    metadata: Some(cri::ContainerMetadata {
                        name: "app".into(),
                        attempt: 0,
                    }),
                    image: Some(cri::ImageSpec {
                        image: "busybox".into(),
                        ..Default::default()
                    }),
                    labels: labels(uid),
                    log_path: "app/0.log".into(),
                    ..Default::default()
                }),
                sandbox_config: None,
            })
            .await
            .unwrap()
            .into_inner()
            .container_id
    }

    /// The relister's fingerprint (from two lists) and the worker's (from inspecting one
    /// pod) agree on the same state and both move when a container changes state: the
    /// relister skips a wake only when they are equal, so a difference in format would
    /// wake every worker and a missed state would leave one asleep.
    #[tokio::test]
    async fn relister_and_worker_fingerprints_agree() {
        let dir = tempfile::tempdir().unwrap();
        let server = serve_fake_runtime(dir.path().join("fake.sock"), "10.9.8.0/24")
            .await
            .unwrap();
        let runtime = Runtime::connect(&server.endpoint()).await.unwrap();
        let logs = dir.path().join("logs");

        let sandbox = run_sandbox(&runtime, "u1", &logs).await;
        let other = run_sandbox(&runtime, "u2", &logs).await;
        let container = create_container(&runtime, "u1", &sandbox).await;
        create_container(&runtime, "u2", &other).await;

        let inspected = inspect(&runtime, "u1").await.unwrap();
        assert_eq!(inspected.sandboxes.len(), 1);
        assert_eq!(inspected.containers.len(), 1);
        let listed = fingerprints(&runtime).await.unwrap();
        assert_eq!(listed["u1"], inspected.fingerprint());
        assert_ne!(listed["u1"], listed["u2"]);
        let created = inspected.fingerprint();

        runtime
            .runtime
            .clone()
            .start_container(cri::StartContainerRequest {
                container_id: container.clone(),
            })
            .await
            .unwrap();
        let started = inspect(&runtime, "u1").await.unwrap().fingerprint();
        assert_ne!(
            started, created,
            "starting the container changes the fingerprint"
        );
        assert_eq!(fingerprints(&runtime).await.unwrap()["u1"], started);

        runtime
            .runtime
            .clone()
            .stop_pod_sandbox(cri::StopPodSandboxRequest {
                pod_sandbox_id: sandbox.clone(),
            })
            .await
            .unwrap();
        let stopped = inspect(&runtime, "u1").await.unwrap();
        assert!(!stopped.sandboxes[0].ready);
        assert_ne!(stopped.fingerprint(), started);
        assert_eq!(
            fingerprints(&runtime).await.unwrap()["u1"],
            stopped.fingerprint()
        );
        server.abort();
    }

    /// A single sandbox read by id carries its attempt, readiness and address, and a
    /// sandbox the runtime no longer has reads as `None`.
    #[tokio::test]
    async fn one_sandbox_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let server = serve_fake_runtime(dir.path().join("fake.sock"), "10.9.7.0/24")
            .await
            .unwrap();
        let runtime = Runtime::connect(&server.endpoint()).await.unwrap();
        let id = run_sandbox(&runtime, "u1", &dir.path().join("logs")).await;
        let info = sandbox(&runtime, &id).await.unwrap().unwrap();
        assert!(info.ready);
        assert_eq!(info.id, id);
        assert_eq!(info.ip.as_deref(), Some("10.9.7.2"));
        assert!(sandbox(&runtime, "missing").await.unwrap().is_none());
        server.abort();
    }

    /// A wake is moot once the worker has acted on the relisted state, or on a reading taken
    /// after the relister's list; a finished worker is forgotten.
    #[test]
    fn runtime_states_compare_worker_and_relister() {
        let states = RuntimeStates::default();
        let t0 = Instant::now();
        let later = |ms| t0 + std::time::Duration::from_millis(ms);
        states.record_acted_on("a", "s1:0".into(), t0);
        states.record_acted_on("b", "s2:0".into(), t0);
        assert!(states.worker_acted_on("a", "s1:0"));
        assert!(!states.worker_acted_on("a", "s1:1"));
        // Nothing relisted yet: a wake is never skipped.
        assert!(!states.worker_is_current("a"));

        // Listed after the workers read: a's state is the one it acted on, b's is new.
        let listed = HashMap::from([
            ("a".to_string(), "s1:0".to_string()),
            ("b".to_string(), "s2:1".to_string()),
        ]);
        assert!(states.replace_relisted(listed, later(10)).is_empty());
        assert!(states.relisted_holds("a"));
        assert!(states.worker_is_current("a"));
        assert!(
            !states.worker_is_current("b"),
            "b's worker has not seen s2:1"
        );
        // b's worker reads again after the list (a newer state than the list's, say).
        states.record_acted_on("b", "s2:1;c3:1".into(), later(20));
        assert!(states.worker_is_current("b"));
        // A list after that reading with a change wakes it again.
        let previous = states.replace_relisted(
            HashMap::from([("b".to_string(), "s2:1;c3:2".to_string())]),
            later(30),
        );
        assert_eq!(previous.len(), 2, "the list before is handed back");
        assert!(!states.relisted_holds("a"));
        assert!(!states.worker_is_current("b"));

        states.retain_workers(|uid| uid == "b");
        assert!(!states.worker_acted_on("a", "s1:0"));
        assert!(!states.worker_is_current("a"));
    }
}
