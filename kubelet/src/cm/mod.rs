//! The container manager (upstream's `pkg/kubelet/cm`): the kubelet's cgroup tree.
//!
//! With `--cgroups-per-qos` (the default) every pod runs under `<cgroup-root>/kubepods`:
//! Guaranteed pods directly (`kubepods/pod<uid>`), the others under the QoS cgroups
//! `kubepods/burstable` and `kubepods/besteffort`. The kubelet creates and keeps these:
//! - `kubepods` is held to node allocatable when `--enforce-node-allocatable` has `pods`
//!   (capacity − kube-reserved − system-reserved; the hard eviction threshold is left inside,
//!   so the kubelet evicts before the kernel OOM-kills, as upstream);
//! - `besteffort` gets the least CPU weight, `burstable` the weight of its pods' requests;
//! - each pod's cgroup is created with the pod's limits before its sandbox starts (the
//!   runtime then places every container of the pod inside it) and removed once the pod
//!   is gone.
//!
//! `--enforce-node-allocatable` may also name `kube-reserved` / `system-reserved`, which hold
//! the existing cgroups `--kube-reserved-cgroup` / `--system-reserved-cgroup` to those
//! reservations.
pub mod cgroupfs;
pub mod resources;

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::Pod;

use crate::node::allocatable::Amounts;
use crate::pods::qos;
use cgroupfs::{CgroupError, CgroupFs};

/// The flag values that shape the cgroup tree.
#[derive(Clone, Debug, Default)]
pub struct CgroupConfig {
    /// `--cgroups-per-qos`.
    pub cgroups_per_qos: bool,
    /// `--cgroup-root` (empty: the root of the hierarchy).
    pub cgroup_root: String,
    /// `--enforce-node-allocatable`.
    pub enforce: Enforcement,
    /// `--kube-reserved-cgroup`, `--system-reserved-cgroup`.
    pub kube_reserved_cgroup: String,
    pub system_reserved_cgroup: String,
    /// `--pod-max-pids` (-1: unlimited).
    pub pod_pids_limit: i64,
}

/// Which cgroups are held to their share (`--enforce-node-allocatable`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Enforcement {
    pub pods: bool,
    pub kube_reserved: bool,
    pub system_reserved: bool,
}

/// Bad cgroup flags, or a cgroup the kubelet could not set up.
#[derive(Debug, thiserror::Error)]
pub enum ContainerManagerError {
    #[error("invalid --enforce-node-allocatable value {0:?} (want pods, kube-reserved, system-reserved or none)")]
    BadEnforcement(String),
    #[error("--enforce-node-allocatable=none cannot be combined with other values")]
    NoneWithOthers,
    #[error("node allocatable enforcement needs --cgroups-per-qos")]
    EnforcementWithoutQos,
    #[error("--enforce-node-allocatable has {0} but {1} is not set")]
    MissingReservedCgroup(&'static str, &'static str),
    #[error("only the cgroupfs cgroup driver is supported, not {0:?}")]
    UnsupportedDriver(String),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
}

impl Enforcement {
    /// Parses the flag's list (`pods,kube-reserved`; `none` or empty for nothing).
    pub fn parse(values: &[String]) -> Result<Enforcement, ContainerManagerError> {
        let values: Vec<&str> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        let mut out = Enforcement::default();
        if values.contains(&"none") {
            return if values.len() == 1 {
                Ok(out)
            } else {
                Err(ContainerManagerError::NoneWithOthers)
            };
        }
        for v in values {
            match v {
                "pods" => out.pods = true,
                "kube-reserved" => out.kube_reserved = true,
                "system-reserved" => out.system_reserved = true,
                other => return Err(ContainerManagerError::BadEnforcement(other.to_string())),
            }
        }
        Ok(out)
    }
}

impl CgroupConfig {
    /// Checks the combination of flags as upstream does at start-up.
    pub fn validate(&self) -> Result<(), ContainerManagerError> {
        if self.enforce.pods && !self.cgroups_per_qos {
            return Err(ContainerManagerError::EnforcementWithoutQos);
        }
        if self.enforce.kube_reserved && self.kube_reserved_cgroup.is_empty() {
            return Err(ContainerManagerError::MissingReservedCgroup(
                "kube-reserved",
                "--kube-reserved-cgroup",
            ));
        }
        if self.enforce.system_reserved && self.system_reserved_cgroup.is_empty() {
            return Err(ContainerManagerError::MissingReservedCgroup(
                "system-reserved",
                "--system-reserved-cgroup",
            ));
        }
        Ok(())
    }

    /// `<cgroup-root>/kubepods`.
    pub fn kubepods(&self) -> String {
        join(&self.cgroup_root, "kubepods")
    }
}

fn join(parent: &str, child: &str) -> String {
    format!("{}/{child}", parent.trim_end_matches('/'))
}

/// What the node's cgroups are sized from.
#[derive(Clone, Debug, Default)]
pub struct NodeResources {
    /// The machine: cpu (millis), memory (bytes), pid (`/proc/sys/kernel/pid_max`).
    pub capacity: Amounts,
    pub kube_reserved: Amounts,
    pub system_reserved: Amounts,
}

impl NodeResources {
    /// Capacity minus both reservations, never below zero (no eviction threshold: that
    /// stays inside the cgroup, for the kubelet to act on before the kernel does).
    pub fn allocatable(&self) -> Amounts {
        self.capacity
            .iter()
            .map(|(name, cap)| {
                let reserved = self.kube_reserved.get(name).copied().unwrap_or(0)
                    + self.system_reserved.get(name).copied().unwrap_or(0);
                (name.clone(), (cap - reserved).max(0))
            })
            .collect()
    }
}

/// The process ids this machine can hand out (the `pid` capacity upstream reserves from).
pub fn pid_capacity() -> Option<i64> {
    std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Keeps the kubelet's cgroups. Without a cgroup filesystem (a fake runtime) or without
/// `--cgroups-per-qos` it only answers pods' cgroup parents.
pub struct ContainerManager {
    config: CgroupConfig,
    fs: Option<CgroupFs>,
    /// Pods with a cgroup in `burstable`, by uid, with their CPU requests (millis).
    burstable: Mutex<HashMap<String, i64>>,
}

impl ContainerManager {
    /// A manager writing through `fs`; `None` writes nothing.
    pub fn new(config: CgroupConfig, fs: Option<CgroupFs>) -> ContainerManager {
        let fs = fs.filter(|_| config.cgroups_per_qos);
        ContainerManager {
            config,
            fs,
            burstable: Mutex::new(HashMap::new()),
        }
    }

    /// Whether pod cgroups are managed.
    pub fn enabled(&self) -> bool {
        self.fs.is_some()
    }

    /// Sets up the top of the tree: `kubepods` with its limits, the QoS cgroups, and the
    /// reserved cgroups named for enforcement (which must already exist).
    pub fn start(&self, node: &NodeResources) -> Result<(), ContainerManagerError> {
        let Some(fs) = &self.fs else {
            return Ok(());
        };
        // Even unenforced, kubepods gets capacity: a new cgroup's default CPU weight is
        // low enough to starve the pods against the rest of the machine.
        let amounts = if self.config.enforce.pods {
            node.allocatable()
        } else {
            node.capacity.clone()
        };
        let kubepods = self.config.kubepods();
        let limits = resources::node_allocatable(&amounts);
        if let Err(e) = fs.ensure(&kubepods, &limits) {
            // The memory limit cannot go below what the pods already use (EBUSY): keep the
            // rest and say so; the kubelet still runs.
            tracing::warn!(cgroup = %kubepods, error = %e, "applying node allocatable to the pods' cgroup");
        }
        fs.ensure(&join(&kubepods, "besteffort"), &resources::besteffort())?;
        fs.ensure(&join(&kubepods, "burstable"), &resources::burstable(0))?;
        let reserved = [
            (
                self.config.enforce.kube_reserved,
                &self.config.kube_reserved_cgroup,
                &node.kube_reserved,
            ),
            (
                self.config.enforce.system_reserved,
                &self.config.system_reserved_cgroup,
                &node.system_reserved,
            ),
        ];
        for (enforced, cgroup, amounts) in reserved {
            if !enforced {
                continue;
            }
            if !fs.exists(cgroup) {
                return Err(CgroupError::Missing(cgroup.clone()).into());
            }
            fs.apply(cgroup, &resources::reserved(amounts))?;
        }
        tracing::info!(cgroup = %kubepods, memory = ?limits.memory, cpu_shares = ?limits.cpu_shares, "node allocatable cgroup ready");
        Ok(())
    }

    /// The cgroup the pod's sandbox and containers go in (CRI `cgroup_parent`).
    pub fn pod_cgroup(&self, pod: &Pod) -> String {
        if !self.config.cgroups_per_qos {
            return self.config.cgroup_root.clone();
        }
        let uid = pod.metadata.uid.as_deref().unwrap_or_default();
        let kubepods = self.config.kubepods();
        match qos::qos_class(pod) {
            "Guaranteed" => join(&kubepods, &format!("pod{uid}")),
            "Burstable" => join(&kubepods, &format!("burstable/pod{uid}")),
            _ => join(&kubepods, &format!("besteffort/pod{uid}")),
        }
    }

    /// Creates the pod's cgroup with its limits (before its sandbox starts), re-weighing the
    /// burstable QoS cgroup when the pod is burstable.
    pub fn ensure_pod(&self, pod: &Pod) -> Result<(), ContainerManagerError> {
        let Some(fs) = &self.fs else {
            return Ok(());
        };
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if qos::qos_class(pod) == "Burstable" {
            let total = {
                let mut burstable = self.lock();
                burstable.insert(uid, resources::pod_cpu_request(pod));
                burstable.values().sum::<i64>()
            };
            let cgroup = join(&self.config.kubepods(), "burstable");
            fs.ensure(&cgroup, &resources::burstable(total))?;
        }
        let limits = resources::pod(pod, self.config.pod_pids_limit);
        fs.ensure(&self.pod_cgroup(pod), &limits)?;
        Ok(())
    }

    /// Removes the cgroup of pod `uid` (wherever its QoS put it) once nothing runs in it.
    pub fn remove_pod(&self, uid: &str) -> Result<(), ContainerManagerError> {
        let Some(fs) = &self.fs else {
            return Ok(());
        };
        let kubepods = self.config.kubepods();
        let leaf = format!("pod{uid}");
        for parent in [
            kubepods.clone(),
            join(&kubepods, "burstable"),
            join(&kubepods, "besteffort"),
        ] {
            fs.remove(&join(&parent, &leaf))?;
        }
        let total = {
            let mut burstable = self.lock();
            burstable
                .remove(uid)
                .map(|_| burstable.values().sum::<i64>())
        };
        if let Some(total) = total {
            fs.ensure(&join(&kubepods, "burstable"), &resources::burstable(total))?;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        // A panic while holding the map leaves plain numbers behind: still usable.
        self.burstable.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::cgroupfs::Layout;
    use super::*;
    use std::collections::BTreeMap;

    fn pod(uid: &str, resources: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "uid": uid},
            "spec": {"containers": [{"name": "c", "resources": resources}]}
        }))
        .unwrap()
    }

    fn manager(root: &std::path::Path, enforce: &str) -> ContainerManager {
        let mut controllers = BTreeMap::new();
        for c in ["cpu", "memory", "pids"] {
            std::fs::create_dir_all(root.join(c)).unwrap();
            controllers.insert(c.to_string(), root.join(c));
        }
        let config = CgroupConfig {
            cgroups_per_qos: true,
            cgroup_root: "/test".into(),
            enforce: Enforcement::parse(&[enforce.to_string()]).unwrap(),
            pod_pids_limit: -1,
            ..Default::default()
        };
        config.validate().unwrap();
        let fs = CgroupFs::new(Layout::V1 {
            controllers,
            others: Vec::new(),
        });
        ContainerManager::new(config, Some(fs))
    }

    fn read(root: &std::path::Path, path: &str) -> String {
        std::fs::read_to_string(root.join(path))
            .unwrap()
            .trim()
            .to_string()
    }

    #[test]
    fn enforcement_flags_parse_and_validate_as_upstream() {
        let parse =
            |v: &[&str]| Enforcement::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(parse(&["pods"]).unwrap().pods);
        assert_eq!(parse(&["none"]).unwrap(), Enforcement::default());
        assert_eq!(parse(&[]).unwrap(), Enforcement::default());
        assert!(parse(&["none", "pods"]).is_err());
        assert!(parse(&["nodes"]).is_err());
        let config = CgroupConfig {
            cgroups_per_qos: false,
            enforce: parse(&["pods"]).unwrap(),
            ..Default::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ContainerManagerError::EnforcementWithoutQos)
        ));
        let config = CgroupConfig {
            cgroups_per_qos: true,
            enforce: parse(&["pods", "system-reserved"]).unwrap(),
            ..Default::default()
        };
        assert!(config.validate().is_err());
    }

    #[test]
    fn kubepods_holds_allocatable_and_pods_land_by_qos() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let cm = manager(root, "pods");
        let node = NodeResources {
            capacity: Amounts::from([
                ("cpu".to_string(), 2000),
                ("memory".to_string(), 4 << 30),
                ("pid".to_string(), 10_000),
            ]),
            kube_reserved: Amounts::from([
                ("cpu".to_string(), 100),
                ("memory".to_string(), 1 << 30),
            ]),
            system_reserved: Amounts::from([("cpu".to_string(), 100), ("pid".to_string(), 1000)]),
        };
        cm.start(&node).unwrap();
        assert_eq!(
            read(root, "memory/test/kubepods/memory.limit_in_bytes"),
            (3u64 << 30).to_string()
        );
        assert_eq!(read(root, "cpu/test/kubepods/cpu.shares"), "1843");
        assert_eq!(read(root, "pids/test/kubepods/pids.max"), "9000");
        assert_eq!(read(root, "cpu/test/kubepods/besteffort/cpu.shares"), "2");

        let guaranteed = pod(
            "g",
            serde_json::json!({"limits": {"cpu": "250m", "memory": "64Mi"}}),
        );
        let burst_a = pod("b1", serde_json::json!({"requests": {"cpu": "500m"}}));
        let burst_b = pod("b2", serde_json::json!({"requests": {"cpu": "250m"}}));
        let best = pod("e", serde_json::json!({}));
        assert_eq!(cm.pod_cgroup(&guaranteed), "/test/kubepods/podg");
        assert_eq!(cm.pod_cgroup(&burst_a), "/test/kubepods/burstable/podb1");
        assert_eq!(cm.pod_cgroup(&best), "/test/kubepods/besteffort/pode");
        for p in [&guaranteed, &burst_a, &burst_b, &best] {
            cm.ensure_pod(p).unwrap();
        }
        assert_eq!(
            read(root, "memory/test/kubepods/podg/memory.limit_in_bytes"),
            (64u64 << 20).to_string()
        );
        assert_eq!(
            read(root, "cpu/test/kubepods/podg/cpu.cfs_quota_us"),
            "25000"
        );
        assert_eq!(read(root, "cpu/test/kubepods/burstable/cpu.shares"), "768");
        assert_eq!(
            read(root, "cpu/test/kubepods/besteffort/pode/cpu.shares"),
            "2"
        );

        // Removal takes the directory away everywhere and re-weighs burstable. The files
        // are gone first here, as a real cgroupfs would let rmdir take them.
        for c in ["cpu", "memory", "pids"] {
            for entry in std::fs::read_dir(root.join(c).join("test/kubepods/burstable/podb1"))
                .unwrap()
                .flatten()
            {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
        cm.remove_pod("b1").unwrap();
        assert!(!root.join("memory/test/kubepods/burstable/podb1").exists());
        assert_eq!(read(root, "cpu/test/kubepods/burstable/cpu.shares"), "256");
    }

    #[test]
    fn without_qos_cgroups_pods_take_the_cgroup_root() {
        let config = CgroupConfig {
            cgroups_per_qos: false,
            cgroup_root: "/custom".into(),
            ..Default::default()
        };
        let cm = ContainerManager::new(config, CgroupFs::detect().ok());
        assert!(!cm.enabled());
        assert_eq!(cm.pod_cgroup(&pod("x", serde_json::json!({}))), "/custom");
        cm.ensure_pod(&pod("x", serde_json::json!({}))).unwrap();
    }
}
