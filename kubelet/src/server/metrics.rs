//! `/metrics` and `/metrics/resource` in the Prometheus text format, with upstream's metric
//! names. The CRI-derived figures are computed from the runtime at scrape time; `/metrics`
//! also carries whatever the rest of the kubelet registered in the default prometheus
//! registry.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use http::{Response, StatusCode};
use proto::cri::v1 as cri;

use super::node_stats::{self, CpuSampler};
use super::response::{self, Body};
use super::stats::{pod_identity, pod_usage, CriSnapshot};
use crate::cri::{call_error, CriError, Runtime};

const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One metric family being written.
pub struct Family<'a> {
    out: &'a mut String,
    name: &'static str,
}

/// Starts a family: `# HELP` and `# TYPE` lines.
pub fn family<'a>(out: &'a mut String, name: &'static str, kind: &str, help: &str) -> Family<'a> {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    Family { out, name }
}

impl Family<'_> {
    /// One sample; `timestamp_ms` is the optional sample time (milliseconds since the epoch).
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64, timestamp_ms: Option<i64>) {
        self.out.push_str(self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        let _ = write!(self.out, " {value}");
        if let Some(ts) = timestamp_ms {
            let _ = write!(self.out, " {ts}");
        }
        self.out.push('\n');
    }
}

/// Label values escape backslash, double quote and newline.
fn escape(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

/// `/metrics`: the default registry plus pod and container counts from CRI.
pub async fn kubelet_metrics(runtime: &Runtime, node_name: &str) -> Response<Body> {
    let counts = match runtime_counts(runtime).await {
        Ok(c) => c,
        Err(e) => return response::text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let mut out = String::new();
    // Registers the kubelet's own families before the first scrape, so they are listed
    // (empty) even before the first CRI call.
    crate::metrics::kubelet();
    let mut registered = Vec::new();
    if let Err(e) = prometheus::Encoder::encode(
        &prometheus::TextEncoder::new(),
        &prometheus::gather(),
        &mut registered,
    ) {
        tracing::warn!(error = %e, "encoding registered metrics failed");
    }
    out.push_str(&String::from_utf8_lossy(&registered));
    render_counts(&mut out, node_name, &counts);
    response::with_body(StatusCode::OK, TEXT_FORMAT, response::full(out))
}

/// What `/metrics` counts.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RuntimeCounts {
    pub running_pods: usize,
    /// Containers by upstream's `container_state` label value.
    pub containers: BTreeMap<&'static str, usize>,
}

async fn runtime_counts(runtime: &Runtime) -> Result<RuntimeCounts, CriError> {
    let mut rt = runtime.runtime.clone();
    let sandboxes = rt
        .list_pod_sandbox(cri::ListPodSandboxRequest { filter: None })
        .await
        .map_err(call_error("ListPodSandbox"))?
        .into_inner()
        .items;
    let containers = rt
        .list_containers(cri::ListContainersRequest { filter: None })
        .await
        .map_err(call_error("ListContainers"))?
        .into_inner()
        .containers;
    Ok(count(&sandboxes, &containers))
}

/// Running pods are pods with a ready sandbox; containers are counted by state.
pub fn count(sandboxes: &[cri::PodSandbox], containers: &[cri::Container]) -> RuntimeCounts {
    let mut counts = RuntimeCounts {
        running_pods: sandboxes
            .iter()
            .filter(|s| s.state == cri::PodSandboxState::SandboxReady as i32)
            .count(),
        containers: ["created", "running", "exited", "unknown"]
            .into_iter()
            .map(|s| (s, 0))
            .collect(),
    };
    for c in containers {
        let state = match cri::ContainerState::try_from(c.state) {
            Ok(cri::ContainerState::ContainerCreated) => "created",
            Ok(cri::ContainerState::ContainerRunning) => "running",
            Ok(cri::ContainerState::ContainerExited) => "exited",
            _ => "unknown",
        };
        *counts.containers.entry(state).or_default() += 1;
    }
    counts
}

fn render_counts(out: &mut String, node_name: &str, counts: &RuntimeCounts) {
    family(
        out,
        "kubelet_node_name",
        "gauge",
        "[ALPHA] The node's name. The count is always 1.",
    )
    .sample(&[("node", node_name)], 1.0, None);
    family(
        out,
        "kubelet_running_pods",
        "gauge",
        "[ALPHA] Number of pods that have a running pod sandbox",
    )
    .sample(&[], counts.running_pods as f64, None);
    let mut f = family(
        out,
        "kubelet_running_containers",
        "gauge",
        "[ALPHA] Number of containers currently running",
    );
    for (state, n) in &counts.containers {
        f.sample(&[("container_state", state)], *n as f64, None);
    }
}

/// `/metrics/resource`: the resource metrics endpoint metrics-server scrapes.
pub async fn resource_metrics(runtime: &Runtime, cpu: &CpuSampler) -> Response<Body> {
    let snapshot = CriSnapshot::read(runtime).await;
    let mut out = String::new();
    let now_ms = chrono::Utc::now().timestamp_millis();
    if let Some(c) = cpu.sample().await {
        family(
            &mut out,
            "node_cpu_usage_seconds_total",
            "counter",
            "[STABLE] Cumulative cpu time consumed by the node in core-seconds",
        )
        .sample(&[], c.usage_core_nano_seconds as f64 / 1e9, Some(now_ms));
    }
    if let Some(m) = node_stats::memory() {
        family(
            &mut out,
            "node_memory_working_set_bytes",
            "gauge",
            "[STABLE] Current working set of the node in bytes",
        )
        .sample(&[], m.working_set_bytes as f64, Some(now_ms));
    }
    let scrape_error = snapshot.is_err();
    if let Ok(snapshot) = &snapshot {
        render_resource(&mut out, snapshot);
    }
    family(
        &mut out,
        "scrape_error",
        "gauge",
        "[ALPHA] 1 if there was an error while getting container metrics, 0 otherwise",
    )
    .sample(&[], if scrape_error { 1.0 } else { 0.0 }, None);
    response::with_body(StatusCode::OK, TEXT_FORMAT, response::full(out))
}

/// Container and pod families of `/metrics/resource`.
pub fn render_resource(out: &mut String, snapshot: &CriSnapshot) {
    struct Row {
        namespace: String,
        pod: String,
        container: Option<String>,
        cpu: Option<(f64, i64)>,
        memory: Option<(f64, i64)>,
        start: Option<f64>,
    }
    let ns_to_ms = |t: i64| t / 1_000_000;
    let mut rows = Vec::new();
    for sandbox in &snapshot.sandboxes {
        let (namespace, pod, _) = pod_identity(sandbox);
        let (pod_total, containers) = pod_usage(snapshot, sandbox);
        let row = |container: Option<String>, u: &super::stats::Usage, start: Option<i64>| Row {
            namespace: namespace.clone(),
            pod: pod.clone(),
            container,
            cpu: u
                .usage_core_nano_seconds
                .map(|v| (v as f64 / 1e9, ns_to_ms(u.cpu_time))),
            memory: u
                .working_set_bytes
                .map(|v| (v as f64, ns_to_ms(u.memory_time))),
            start: start.map(|s| s as f64 / 1e9),
        };
        for (name, usage, created) in &containers {
            rows.push(row(Some(name.clone()), usage, Some(*created)));
        }
        rows.push(row(None, &pod_total, None));
    }
    let containers = || rows.iter().filter(|r| r.container.is_some());
    let pods = || rows.iter().filter(|r| r.container.is_none());
    let clabels = |r: &Row| -> [(&'static str, String); 3] {
        [
            ("container", r.container.clone().unwrap_or_default()),
            ("namespace", r.namespace.clone()),
            ("pod", r.pod.clone()),
        ]
    };
    fn refs<'a, const N: usize>(
        l: &'a [(&'static str, String); N],
    ) -> Vec<(&'static str, &'a str)> {
        l.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    let mut f = family(
        out,
        "container_cpu_usage_seconds_total",
        "counter",
        "[STABLE] Cumulative cpu time consumed by the container in core-seconds",
    );
    for r in containers() {
        if let Some((v, t)) = r.cpu {
            f.sample(&refs(&clabels(r)), v, Some(t));
        }
    }
    let mut f = family(
        out,
        "container_memory_working_set_bytes",
        "gauge",
        "[STABLE] Current working set of the container in bytes",
    );
    for r in containers() {
        if let Some((v, t)) = r.memory {
            f.sample(&refs(&clabels(r)), v, Some(t));
        }
    }
    let mut f = family(
        out,
        "container_start_time_seconds",
        "gauge",
        "[STABLE] Start time of the container since unix epoch in seconds",
    );
    for r in containers() {
        if let Some(s) = r.start {
            f.sample(&refs(&clabels(r)), s, None);
        }
    }
    let plabels = |r: &Row| [("namespace", r.namespace.clone()), ("pod", r.pod.clone())];
    let mut f = family(
        out,
        "pod_cpu_usage_seconds_total",
        "counter",
        "[STABLE] Cumulative cpu time consumed by the pod in core-seconds",
    );
    for r in pods() {
        if let Some((v, t)) = r.cpu {
            f.sample(&refs(&plabels(r)), v, Some(t));
        }
    }
    let mut f = family(
        out,
        "pod_memory_working_set_bytes",
        "gauge",
        "[STABLE] Current working set of the pod in bytes",
    );
    for r in pods() {
        if let Some((v, t)) = r.memory {
            f.sample(&refs(&plabels(r)), v, Some(t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn counts_pods_and_containers_by_state() {
        use cri::ContainerState::*;
        let sandboxes = vec![
            cri::PodSandbox {
                state: cri::PodSandboxState::SandboxReady as i32,
                ..Default::default()
            },
            cri::PodSandbox {
                state: cri::PodSandboxState::SandboxNotready as i32,
                ..Default::default()
            },
        ];
        let containers: Vec<_> = [ContainerRunning, ContainerRunning, ContainerExited]
            .into_iter()
            .map(|s| cri::Container {
                state: s as i32,
                ..Default::default()
            })
            .collect();
        let counts = count(&sandboxes, &containers);
        assert_eq!(counts.running_pods, 1);
        assert_eq!(counts.containers["running"], 2);
        assert_eq!(counts.containers["exited"], 1);
        assert_eq!(counts.containers["created"], 0);
        let mut out = String::new();
        render_counts(&mut out, "node-a", &counts);
        assert!(out.contains("kubelet_running_pods 1\n"), "{out}");
        assert!(
            out.contains("kubelet_running_containers{container_state=\"running\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("kubelet_node_name{node=\"node-a\"} 1\n"),
            "{out}"
        );
    }

    #[test]
    fn resource_families_have_upstream_names_labels_and_timestamps() {
        let sandbox = cri::PodSandbox {
            id: "s1".into(),
            metadata: Some(cri::PodSandboxMetadata {
                name: "web".into(),
                namespace: "default".into(),
                uid: "u".into(),
                attempt: 0,
            }),
            ..Default::default()
        };
        let container = cri::Container {
            id: "c1".into(),
            pod_sandbox_id: "s1".into(),
            created_at: 1_700_000_000_000_000_000,
            metadata: Some(cri::ContainerMetadata {
                name: "app".into(),
                attempt: 0,
            }),
            ..Default::default()
        };
        let stats = cri::ContainerStats {
            attributes: Some(cri::ContainerAttributes {
                id: "c1".into(),
                ..Default::default()
            }),
            cpu: Some(cri::CpuUsage {
                timestamp: 1_700_000_001_000_000_000,
                usage_core_nano_seconds: Some(cri::UInt64Value {
                    value: 2_500_000_000,
                }),
                usage_nano_cores: None,
            }),
            memory: Some(cri::MemoryUsage {
                timestamp: 1_700_000_001_000_000_000,
                working_set_bytes: Some(cri::UInt64Value { value: 4096 }),
                ..Default::default()
            }),
            writable_layer: None,
        };
        let snapshot = CriSnapshot {
            sandboxes: vec![sandbox],
            containers: vec![container],
            container_stats: HashMap::from([("c1".to_string(), stats)]),
            sandbox_stats: HashMap::new(),
        };
        let mut out = String::new();
        render_resource(&mut out, &snapshot);
        let labels = r#"{container="app",namespace="default",pod="web"}"#;
        assert!(
            out.contains(&format!(
                "container_cpu_usage_seconds_total{labels} 2.5 1700000001000\n"
            )),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "container_memory_working_set_bytes{labels} 4096 1700000001000\n"
            )),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "container_start_time_seconds{labels} 1700000000\n"
            )),
            "{out}"
        );
        assert!(out.contains("pod_cpu_usage_seconds_total{namespace=\"default\",pod=\"web\"} 2.5 1700000001000\n"), "{out}");
        assert!(
            out.contains("# TYPE pod_memory_working_set_bytes gauge\n"),
            "{out}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        family(&mut out, "kubelet_node_name", "gauge", "x").sample(
            &[("node", "a\"b\\c\nd")],
            1.0,
            None,
        );
        assert!(
            out.ends_with("kubelet_node_name{node=\"a\\\"b\\\\c\\nd\"} 1\n"),
            "{out}"
        );
    }
}
