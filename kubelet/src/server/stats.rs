//! `GET /stats/summary`: upstream's Summary API (`stats/v1alpha1`) — node usage from /proc
//! and statvfs, pod and container usage from CRI stats — and the CRI snapshot it shares with
//! `/metrics/resource`.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use http::{Response, StatusCode};
use proto::cri::v1 as cri;
use serde_json::{json, Map, Value};

use super::lookup::{CONTAINER_NAME_LABEL, POD_NAMESPACE_LABEL, POD_NAME_LABEL, POD_UID_LABEL};
use super::node_stats::{self, CpuSampler, FsUsage};
use super::response::{self, Body};
use crate::cri::{call_error, CriError, Runtime};

/// What the runtime reports about running pods and containers, read once per request.
pub struct CriSnapshot {
    /// Ready sandboxes.
    pub sandboxes: Vec<cri::PodSandbox>,
    /// Running containers.
    pub containers: Vec<cri::Container>,
    /// Container stats by container ID.
    pub container_stats: HashMap<String, cri::ContainerStats>,
    /// Sandbox stats by sandbox ID; empty when the runtime does not implement them.
    pub sandbox_stats: HashMap<String, cri::PodSandboxStats>,
}

impl CriSnapshot {
    pub async fn read(runtime: &Runtime) -> Result<CriSnapshot, CriError> {
        let mut rt = runtime.runtime.clone();
        let sandboxes = rt
            .list_pod_sandbox(cri::ListPodSandboxRequest {
                filter: Some(cri::PodSandboxFilter {
                    state: Some(cri::PodSandboxStateValue {
                        state: cri::PodSandboxState::SandboxReady as i32,
                    }),
                    ..Default::default()
                }),
            })
            .await
            .map_err(call_error("ListPodSandbox"))?
            .into_inner()
            .items;
        let containers = runtime.running_containers().await?;
        let container_stats = rt
            .list_container_stats(cri::ListContainerStatsRequest { filter: None })
            .await
            .map_err(call_error("ListContainerStats"))?
            .into_inner()
            .stats
            .into_iter()
            .filter_map(|s| Some((s.attributes.as_ref()?.id.clone(), s)))
            .collect();
        // Newer CRI; a runtime without it still gets pod figures summed from containers.
        let sandbox_stats = match rt
            .list_pod_sandbox_stats(cri::ListPodSandboxStatsRequest { filter: None })
            .await
        {
            Ok(r) => r
                .into_inner()
                .stats
                .into_iter()
                .filter_map(|s| Some((s.attributes.as_ref()?.id.clone(), s)))
                .collect(),
            Err(status) => {
                tracing::debug!(%status, "ListPodSandboxStats unavailable");
                HashMap::new()
            }
        };
        Ok(CriSnapshot {
            sandboxes,
            containers,
            container_stats,
            sandbox_stats,
        })
    }

    /// The running containers of one sandbox.
    pub fn containers_of<'a>(
        &'a self,
        sandbox: &'a cri::PodSandbox,
    ) -> impl Iterator<Item = &'a cri::Container> + 'a {
        self.containers
            .iter()
            .filter(move |c| c.pod_sandbox_id == sandbox.id)
    }
}

/// Pod identity from a sandbox's metadata, falling back to its labels.
pub fn pod_identity(sandbox: &cri::PodSandbox) -> (String, String, String) {
    let label = |k: &str| sandbox.labels.get(k).cloned().unwrap_or_default();
    match &sandbox.metadata {
        Some(m) => (m.namespace.clone(), m.name.clone(), m.uid.clone()),
        None => (
            label(POD_NAMESPACE_LABEL),
            label(POD_NAME_LABEL),
            label(POD_UID_LABEL),
        ),
    }
}

/// A container's name: its metadata, falling back to the kubelet's label.
pub fn container_name(c: &cri::Container) -> String {
    c.metadata
        .as_ref()
        .map(|m| m.name.clone())
        .filter(|n| !n.is_empty())
        .or_else(|| c.labels.get(CONTAINER_NAME_LABEL).cloned())
        .unwrap_or_default()
}

/// CPU and memory figures a pod or container reports, flattened from CRI.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Nanoseconds since the epoch of the CPU sample.
    pub cpu_time: i64,
    pub usage_core_nano_seconds: Option<u64>,
    pub usage_nano_cores: Option<u64>,
    pub memory_time: i64,
    pub working_set_bytes: Option<u64>,
    pub usage_bytes: Option<u64>,
    pub rss_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
    pub page_faults: Option<u64>,
    pub major_page_faults: Option<u64>,
}

impl Usage {
    pub fn from_cri(cpu: Option<&cri::CpuUsage>, memory: Option<&cri::MemoryUsage>) -> Usage {
        let v = |x: &Option<cri::UInt64Value>| x.as_ref().map(|v| v.value);
        let mut u = Usage::default();
        if let Some(c) = cpu {
            u.cpu_time = c.timestamp;
            u.usage_core_nano_seconds = v(&c.usage_core_nano_seconds);
            u.usage_nano_cores = v(&c.usage_nano_cores);
        }
        if let Some(m) = memory {
            u.memory_time = m.timestamp;
            u.working_set_bytes = v(&m.working_set_bytes);
            u.usage_bytes = v(&m.usage_bytes);
            u.rss_bytes = v(&m.rss_bytes);
            u.available_bytes = v(&m.available_bytes);
            u.page_faults = v(&m.page_faults);
            u.major_page_faults = v(&m.major_page_faults);
        }
        u
    }

    /// Sums container figures into a pod figure (for runtimes without sandbox stats).
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Usage>) -> Usage {
        fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
            match (a, b) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
            }
        }
        all.into_iter().fold(Usage::default(), |acc, u| Usage {
            cpu_time: acc.cpu_time.max(u.cpu_time),
            usage_core_nano_seconds: add(acc.usage_core_nano_seconds, u.usage_core_nano_seconds),
            usage_nano_cores: add(acc.usage_nano_cores, u.usage_nano_cores),
            memory_time: acc.memory_time.max(u.memory_time),
            working_set_bytes: add(acc.working_set_bytes, u.working_set_bytes),
            usage_bytes: add(acc.usage_bytes, u.usage_bytes),
            rss_bytes: add(acc.rss_bytes, u.rss_bytes),
            available_bytes: None,
            page_faults: add(acc.page_faults, u.page_faults),
            major_page_faults: add(acc.major_page_faults, u.major_page_faults),
        })
    }
}

/// Per-pod usage: the runtime's sandbox stats when it has them, else the containers' sum.
pub fn pod_usage(
    snapshot: &CriSnapshot,
    sandbox: &cri::PodSandbox,
) -> (Usage, Vec<(String, Usage, i64)>) {
    let containers: Vec<(String, Usage, i64)> = snapshot
        .containers_of(sandbox)
        .map(|c| {
            let stats = snapshot.container_stats.get(&c.id);
            let usage = Usage::from_cri(
                stats.and_then(|s| s.cpu.as_ref()),
                stats.and_then(|s| s.memory.as_ref()),
            );
            (container_name(c), usage, c.created_at)
        })
        .collect();
    let pod = snapshot
        .sandbox_stats
        .get(&sandbox.id)
        .and_then(|s| s.linux.as_ref())
        .map(|l| Usage::from_cri(l.cpu.as_ref(), l.memory.as_ref()))
        .filter(|u| u.usage_core_nano_seconds.is_some() || u.working_set_bytes.is_some())
        .unwrap_or_else(|| Usage::sum(containers.iter().map(|(_, u, _)| u)));
    (pod, containers)
}

/// metav1.Time text (RFC 3339, whole seconds) of a sample's nanosecond timestamp; a runtime
/// that leaves the timestamp unset (0, e.g. containerd 1.6 for the writable layer) means "now".
pub fn sample_time(nanos: i64) -> String {
    if nanos <= 0 {
        return Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    }
    time_of_nanos(nanos)
}

/// metav1.Time text (RFC 3339, whole seconds) of a nanosecond timestamp.
pub fn time_of_nanos(nanos: i64) -> String {
    DateTime::<Utc>::from_timestamp(
        nanos.div_euclid(1_000_000_000),
        nanos.rem_euclid(1_000_000_000) as u32,
    )
    .unwrap_or_default()
    .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<u64>) {
    if let Some(v) = value {
        map.insert(key.to_string(), json!(v));
    }
}

fn cpu_json(u: &Usage) -> Value {
    let mut m = Map::new();
    m.insert("time".into(), json!(sample_time(u.cpu_time)));
    put(&mut m, "usageNanoCores", u.usage_nano_cores);
    put(&mut m, "usageCoreNanoSeconds", u.usage_core_nano_seconds);
    Value::Object(m)
}

fn memory_json(u: &Usage) -> Value {
    let mut m = Map::new();
    m.insert("time".into(), json!(sample_time(u.memory_time)));
    put(&mut m, "availableBytes", u.available_bytes);
    put(&mut m, "usageBytes", u.usage_bytes);
    put(&mut m, "workingSetBytes", u.working_set_bytes);
    put(&mut m, "rssBytes", u.rss_bytes);
    put(&mut m, "pageFaults", u.page_faults);
    put(&mut m, "majorPageFaults", u.major_page_faults);
    Value::Object(m)
}

fn fs_json(time: &str, fs: &FsUsage) -> Value {
    json!({
        "time": time,
        "availableBytes": fs.available_bytes,
        "capacityBytes": fs.capacity_bytes,
        "usedBytes": fs.used_bytes,
        "inodesFree": fs.inodes_free,
        "inodes": fs.inodes,
        "inodesUsed": fs.inodes_used,
    })
}

fn network_json(n: &cri::NetworkUsage) -> Value {
    let iface = |i: &cri::NetworkInterfaceUsage| {
        let v = |x: &Option<cri::UInt64Value>| x.as_ref().map(|v| v.value);
        let mut m = Map::new();
        m.insert("name".into(), json!(i.name));
        put(&mut m, "rxBytes", v(&i.rx_bytes));
        put(&mut m, "rxErrors", v(&i.rx_errors));
        put(&mut m, "txBytes", v(&i.tx_bytes));
        put(&mut m, "txErrors", v(&i.tx_errors));
        m
    };
    let mut m = n.default_interface.as_ref().map(iface).unwrap_or_default();
    m.insert("time".into(), json!(sample_time(n.timestamp)));
    m.insert(
        "interfaces".into(),
        Value::Array(
            n.interfaces
                .iter()
                .map(|i| Value::Object(iface(i)))
                .collect(),
        ),
    );
    Value::Object(m)
}

/// The summary document.
pub async fn summary(
    runtime: &Runtime,
    node_name: &str,
    root_dir: &Path,
    cpu: &CpuSampler,
) -> Response<Body> {
    let snapshot = match CriSnapshot::read(runtime).await {
        Ok(s) => s,
        Err(e) => {
            return response::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("failed to get node info: {e}"),
            )
        }
    };
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut node = Map::new();
    node.insert("nodeName".into(), json!(node_name));
    if let Some(boot) = node_stats::boot_time() {
        node.insert(
            "startTime".into(),
            json!(time_of_nanos(boot * 1_000_000_000)),
        );
    }
    if let Some(c) = cpu.sample().await {
        node.insert(
            "cpu".into(),
            json!({"time": now, "usageNanoCores": c.usage_nano_cores, "usageCoreNanoSeconds": c.usage_core_nano_seconds}),
        );
    }
    if let Some(m) = node_stats::memory() {
        node.insert(
            "memory".into(),
            json!({"time": now, "availableBytes": m.available_bytes, "usageBytes": m.usage_bytes,
                   "workingSetBytes": m.working_set_bytes, "rssBytes": m.rss_bytes,
                   "pageFaults": m.page_faults, "majorPageFaults": m.major_page_faults}),
        );
    }
    if let Some(fs) = node_stats::filesystem(root_dir) {
        node.insert("fs".into(), fs_json(&now, &fs));
    }
    if let Some(image_fs) = image_fs(runtime, &now).await {
        node.insert("runtime".into(), json!({ "imageFs": image_fs }));
    }
    if let Some((max, cur)) = node_stats::process_counts() {
        node.insert(
            "rlimit".into(),
            json!({"time": now, "maxpid": max, "curproc": cur}),
        );
    }

    let pods: Vec<Value> = snapshot
        .sandboxes
        .iter()
        .map(|sandbox| {
            let (namespace, name, uid) = pod_identity(sandbox);
            let (pod, containers) = pod_usage(&snapshot, sandbox);
            let containers: Vec<Value> = containers
                .iter()
                .map(|(name, usage, created)| {
                    let mut c = json!({
                        "name": name,
                        "startTime": time_of_nanos(*created),
                        "cpu": cpu_json(usage),
                        "memory": memory_json(usage),
                    });
                    let rootfs = snapshot
                        .containers
                        .iter()
                        .find(|x| x.pod_sandbox_id == sandbox.id && &container_name(x) == name)
                        .and_then(|x| snapshot.container_stats.get(&x.id))
                        .and_then(|s| s.writable_layer.as_ref());
                    if let Some(layer) = rootfs {
                        c["rootfs"] = json!({
                            "time": sample_time(layer.timestamp),
                            "usedBytes": layer.used_bytes.as_ref().map(|v| v.value),
                            "inodesUsed": layer.inodes_used.as_ref().map(|v| v.value),
                        });
                    }
                    c
                })
                .collect();
            let mut p = json!({
                "podRef": {"name": name, "namespace": namespace, "uid": uid},
                "startTime": time_of_nanos(sandbox.created_at),
                "containers": containers,
                "cpu": cpu_json(&pod),
                "memory": memory_json(&pod),
            });
            let linux = snapshot
                .sandbox_stats
                .get(&sandbox.id)
                .and_then(|s| s.linux.as_ref());
            if let Some(net) = linux.and_then(|l| l.network.as_ref()) {
                p["network"] = network_json(net);
            }
            if let Some(count) = linux
                .and_then(|l| l.process.as_ref())
                .and_then(|p| p.process_count.as_ref())
            {
                p["process_stats"] = json!({ "process_count": count.value });
            }
            p
        })
        .collect();
    response::json(&json!({ "node": Value::Object(node), "pods": pods }))
}

/// The runtime's image filesystem: usage from CRI, capacity from statvfs of its mountpoint.
async fn image_fs(runtime: &Runtime, now: &str) -> Option<Value> {
    let info = runtime
        .images
        .clone()
        .image_fs_info(cri::ImageFsInfoRequest {})
        .await
        .ok()?
        .into_inner();
    let first = info.image_filesystems.first()?;
    let mountpoint = first
        .fs_id
        .as_ref()
        .map(|f| f.mountpoint.clone())
        .unwrap_or_default();
    let mut v = match node_stats::filesystem(Path::new(&mountpoint)) {
        Some(fs) => fs_json(now, &fs),
        None => json!({ "time": now }),
    };
    v["usedBytes"] = json!(first.used_bytes.as_ref().map(|u| u.value).unwrap_or(0));
    if let Some(inodes) = &first.inodes_used {
        v["inodesUsed"] = json!(inodes.value);
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u64v(v: u64) -> Option<cri::UInt64Value> {
        Some(cri::UInt64Value { value: v })
    }

    fn container(id: &str, sandbox: &str, name: &str) -> cri::Container {
        cri::Container {
            id: id.into(),
            pod_sandbox_id: sandbox.into(),
            metadata: Some(cri::ContainerMetadata {
                name: name.into(),
                attempt: 0,
            }),
            ..Default::default()
        }
    }

    fn stats(id: &str, cpu: u64, mem: u64) -> cri::ContainerStats {
        cri::ContainerStats {
            attributes: Some(cri::ContainerAttributes {
                id: id.into(),
                ..Default::default()
            }),
            cpu: Some(cri::CpuUsage {
                timestamp: 1_700_000_000_000_000_000,
                usage_core_nano_seconds: u64v(cpu),
                usage_nano_cores: u64v(cpu / 10),
            }),
            memory: Some(cri::MemoryUsage {
                timestamp: 1_700_000_000_000_000_000,
                working_set_bytes: u64v(mem),
                ..Default::default()
            }),
            writable_layer: None,
        }
    }

    #[test]
    fn pod_usage_sums_containers_without_sandbox_stats() {
        let sandbox = cri::PodSandbox {
            id: "s1".into(),
            ..Default::default()
        };
        let snapshot = CriSnapshot {
            sandboxes: vec![sandbox.clone()],
            containers: vec![
                container("a", "s1", "web"),
                container("b", "s1", "side"),
                container("c", "s2", "other"),
            ],
            container_stats: [
                stats("a", 100, 10),
                stats("b", 50, 5),
                stats("c", 1000, 1000),
            ]
            .into_iter()
            .map(|s| (s.attributes.as_ref().unwrap().id.clone(), s))
            .collect(),
            sandbox_stats: HashMap::new(),
        };
        let (pod, containers) = pod_usage(&snapshot, &sandbox);
        assert_eq!(pod.usage_core_nano_seconds, Some(150));
        assert_eq!(pod.working_set_bytes, Some(15));
        assert_eq!(pod.usage_bytes, None, "no container reported it");
        let names: Vec<_> = containers.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, ["web", "side"]);
    }

    #[test]
    fn sandbox_stats_win_when_present() {
        let sandbox = cri::PodSandbox {
            id: "s1".into(),
            ..Default::default()
        };
        let pod_stats = cri::PodSandboxStats {
            attributes: Some(cri::PodSandboxAttributes {
                id: "s1".into(),
                ..Default::default()
            }),
            linux: Some(cri::LinuxPodSandboxStats {
                cpu: Some(cri::CpuUsage {
                    timestamp: 1,
                    usage_core_nano_seconds: u64v(999),
                    usage_nano_cores: None,
                }),
                ..Default::default()
            }),
            windows: None,
        };
        let snapshot = CriSnapshot {
            sandboxes: vec![sandbox.clone()],
            containers: vec![container("a", "s1", "web")],
            container_stats: [("a".to_string(), stats("a", 100, 10))].into(),
            sandbox_stats: [("s1".to_string(), pod_stats)].into(),
        };
        assert_eq!(
            pod_usage(&snapshot, &sandbox).0.usage_core_nano_seconds,
            Some(999)
        );
    }

    #[test]
    fn times_render_as_metav1_time() {
        assert_eq!(
            time_of_nanos(1_700_000_000_900_000_000),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            sample_time(1_700_000_000_900_000_000),
            "2023-11-14T22:13:20Z"
        );
        let today = Utc::now().format("%Y-%m-%d").to_string();
        assert!(sample_time(0).starts_with(&today), "unset means now");
    }
}
