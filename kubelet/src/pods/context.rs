//! What every pod worker shares: clients, node facts and the kubelet's managers.
use std::path::PathBuf;
use std::sync::Arc;

use crate::cri::Runtime;
use crate::events::Recorder;
use crate::network::DnsSettings;
use crate::probes::ProbeManager;
use crate::volumes::VolumeManager;

pub struct KubeletContext {
    pub client: kube::Client,
    pub runtime: Runtime,
    /// The runtime's name from CRI Version (`containerd`): the scheme of container IDs.
    pub runtime_name: String,
    pub node_name: String,
    pub node_ip: String,
    pub root_dir: PathBuf,
    pub logs_dir: PathBuf,
    pub dns: DnsSettings,
    pub pull_from_registries: bool,
    /// The node's memory (bytes) and cpu (millis), for OOM scores and resourceFieldRef.
    pub memory_capacity: i64,
    pub cpu_capacity_millis: i64,
    pub recorder: Recorder,
    pub volumes: VolumeManager,
    pub probes: ProbeManager,
    /// Pressure, verdicts and the admitted pods, shared with the eviction manager.
    pub eviction: Arc<crate::eviction::EvictionState>,
    /// The node's allocatable as admission counts it (cpu in millis).
    pub allocatable: crate::node::allocatable::Amounts,
    /// The cgroup tree: pods' cgroup parents and their cgroups.
    pub cgroups: Arc<crate::cm::ContainerManager>,
    /// What the relister and each pod worker last read from the runtime.
    pub runtime_states: super::runtime::RuntimeStates,
}

impl KubeletContext {
    /// `<root>/pods/<uid>`: the pod's directory (volumes, hosts file, termination logs).
    pub fn pod_dir(&self, uid: &str) -> PathBuf {
        self.root_dir.join("pods").join(uid)
    }
}
