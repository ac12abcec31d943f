//! Resource amounts as the scheduler counts them: a pod's effective requests (init containers,
//! sidecars and overhead included, as upstream computes them) and a node's allocatable.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::framework::CycleState;

/// CPU the scoring plugins assume for a container that requests none (upstream's
/// `DefaultMilliCPURequest`), so best-effort pods still spread.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory the scoring plugins assume for a container that requests none (200Mi, upstream's
/// `DefaultMemoryRequest`).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// An amount of each resource: CPU in millicores, the rest in their base unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resource {
    /// CPU in millicores.
    pub milli_cpu: i64,
    /// Memory in bytes.
    pub memory: i64,
    /// Ephemeral storage in bytes.
    pub ephemeral_storage: i64,
    /// Number of pods (only meaningful for a node's allocatable).
    pub allowed_pods: i64,
    /// Extended resources (`example.com/gpu`, `hugepages-2Mi` …) in their base unit.
    pub scalar: BTreeMap<String, i64>,
}

impl Resource {
    /// Read a `requests`/`allocatable` map.
    pub fn from_list(list: Option<&BTreeMap<String, Quantity>>) -> Resource {
        let mut r = Resource::default();
        for (name, q) in list.into_iter().flatten() {
            match name.as_str() {
                "cpu" => r.milli_cpu = parse_milli(&q.0).unwrap_or(0),
                "memory" => r.memory = parse_value(&q.0).unwrap_or(0),
                "ephemeral-storage" => r.ephemeral_storage = parse_value(&q.0).unwrap_or(0),
                "pods" => r.allowed_pods = parse_value(&q.0).unwrap_or(0),
                other => {
                    r.scalar
                        .insert(other.to_string(), parse_value(&q.0).unwrap_or(0));
                }
            }
        }
        r
    }

    /// `self += other`.
    pub fn add(&mut self, other: &Resource) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        self.allowed_pods += other.allowed_pods;
        for (k, v) in &other.scalar {
            *self.scalar.entry(k.clone()).or_insert(0) += v;
        }
    }

    /// `self -= other` (a pod leaving a node).
    pub fn sub(&mut self, other: &Resource) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        self.allowed_pods -= other.allowed_pods;
        for (k, v) in &other.scalar {
            *self.scalar.entry(k.clone()).or_insert(0) -= v;
        }
    }

    /// Each resource becomes the larger of `self` and `other`.
    pub fn set_max(&mut self, other: &Resource) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = (*e).max(*v);
        }
    }

    /// The amount of a resource by its API name (`cpu` in millicores).
    pub fn get(&self, name: &str) -> i64 {
        match name {
            "cpu" => self.milli_cpu,
            "memory" => self.memory,
            "ephemeral-storage" => self.ephemeral_storage,
            "pods" => self.allowed_pods,
            other => self.scalar.get(other).copied().unwrap_or(0),
        }
    }
}

/// A node's allocatable resources (`status.allocatable`; upstream ignores capacity here).
pub fn node_allocatable(node: &Node) -> Resource {
    Resource::from_list(node.status.as_ref().and_then(|s| s.allocatable.as_ref()))
}

fn container_requests(c: &Container, non_zero: bool) -> Resource {
    let mut r = Resource::from_list(c.resources.as_ref().and_then(|r| r.requests.as_ref()));
    if non_zero {
        let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref());
        let has = |name: &str| requests.is_some_and(|m| m.contains_key(name));
        if !has("cpu") {
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !has("memory") {
            r.memory = DEFAULT_MEMORY_REQUEST;
        }
    }
    r
}

/// CycleState keys of the incoming pod's requests, shared by every plugin that reads them.
fn requests_key(non_zero: bool) -> &'static str {
    if non_zero {
        "PodRequestsNonZero"
    } else {
        "PodRequests"
    }
}

/// Parse the pod's requests into `state` for this cycle, unless a plugin's PreFilter or
/// PreScore already did: the quantities are parsed once per cycle, not once per node and
/// plugin (with 500 nodes scored that parsing was a sixth of the scheduling loop's CPU).
pub fn remember_pod_requests(state: &mut CycleState, pod: &Pod, non_zero: bool) {
    let key = requests_key(non_zero);
    if state.read::<Resource>(key).is_none() {
        state.write(key, pod_requests(pod, non_zero));
    }
}

/// The pod's requests as [`remember_pod_requests`] stored them, or parsed now when no
/// phase did (tests, direct calls).
pub fn cycle_pod_requests<'a>(
    state: &'a CycleState,
    pod: &Pod,
    non_zero: bool,
) -> Cow<'a, Resource> {
    match state.read::<Resource>(requests_key(non_zero)) {
        Some(stored) => Cow::Borrowed(stored),
        None => Cow::Owned(pod_requests(pod, non_zero)),
    }
}

/// The pod's effective requests: the larger of (containers + sidecars) and the peak of any
/// init container running alongside the sidecars started before it, plus the pod overhead.
/// With `non_zero`, containers without a cpu/memory request count the scoring defaults.
pub fn pod_requests(pod: &Pod, non_zero: bool) -> Resource {
    let Some(spec) = pod.spec.as_ref() else {
        return Resource::default();
    };
    let mut reqs = Resource::default();
    for c in &spec.containers {
        reqs.add(&container_requests(c, non_zero));
    }
    // Restartable init containers (sidecars) keep running, so they add to the steady state
    // and to every later init container's peak.
    let mut sidecars = Resource::default();
    let mut init_peak = Resource::default();
    for c in spec.init_containers.iter().flatten() {
        let mut this = container_requests(c, non_zero);
        if c.restart_policy.as_deref() == Some("Always") {
            reqs.add(&this);
            sidecars.add(&this);
            this = sidecars.clone();
        } else {
            this.add(&sidecars);
        }
        init_peak.set_max(&this);
    }
    reqs.set_max(&init_peak);
    if let Some(overhead) = spec.overhead.as_ref() {
        reqs.add(&Resource::from_list(Some(overhead)));
    }
    reqs
}

/// Parse a quantity into its value scaled by 1000, rounded up (`100m` → 100, `1` → 1000).
pub fn parse_milli(s: &str) -> Option<i64> {
    parse_scaled(s, 1000.0)
}

/// Parse a quantity into its value, rounded up (`1Ki` → 1024, `1k` → 1000, `500m` → 1).
pub fn parse_value(s: &str) -> Option<i64> {
    parse_scaled(s, 1.0)
}

fn parse_scaled(s: &str, scale: f64) -> Option<i64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let number: f64 = num.parse().ok()?;
    let multiplier = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0f64.powi(3),
        "Ti" => 1024.0f64.powi(4),
        "Pi" => 1024.0f64.powi(5),
        "Ei" => 1024.0f64.powi(6),
        exp if exp.starts_with(['e', 'E']) => 10f64.powi(exp[1..].parse().ok()?),
        _ => return None,
    };
    let v = number * multiplier * scale;
    // Guard against float noise (0.1*1000 = 100.00000000000001) before rounding up.
    Some((v - 1e-9).ceil().max(0.0).min(i64::MAX as f64) as i64)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(
            json!({"metadata": {"name": "p", "namespace": "default"}, "spec": spec}),
        )
        .expect("test pod")
    }

    fn c(cpu: &str, mem: &str) -> serde_json::Value {
        json!({"name": "c", "resources": {"requests": {"cpu": cpu, "memory": mem}}})
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_milli("100m"), Some(100));
        assert_eq!(parse_milli("1"), Some(1000));
        assert_eq!(parse_milli("0.1"), Some(100));
        assert_eq!(parse_value("1Gi"), Some(1 << 30));
        assert_eq!(parse_value("1k"), Some(1000));
        assert_eq!(parse_value("1e3"), Some(1000));
        assert_eq!(parse_value("bogus"), None);
    }

    #[test]
    fn init_container_peak_wins_over_containers() {
        let p = pod(json!({"containers": [c("100m", "1Mi"), c("100m", "1Mi")],
                            "initContainers": [c("500m", "1Mi")]}));
        let r = pod_requests(&p, false);
        assert_eq!(r.milli_cpu, 500);
        assert_eq!(r.memory, 2 << 20);
    }

    #[test]
    fn sidecars_add_to_containers_and_later_init_containers() {
        let mut sidecar = c("200m", "0");
        sidecar["restartPolicy"] = json!("Always");
        let p = pod(json!({"containers": [c("100m", "0")],
                            "initContainers": [sidecar, c("250m", "0")],
                            "overhead": {"cpu": "10m"}}));
        // steady: 100 + 200 = 300; init peak: 200 + 250 = 450; plus overhead 10.
        assert_eq!(pod_requests(&p, false).milli_cpu, 460);
    }

    #[test]
    fn non_zero_defaults_for_scoring() {
        let p = pod(json!({"containers": [{"name": "c"}]}));
        let r = pod_requests(&p, true);
        assert_eq!(
            (r.milli_cpu, r.memory),
            (DEFAULT_MILLI_CPU_REQUEST, DEFAULT_MEMORY_REQUEST)
        );
        assert_eq!(pod_requests(&p, false).milli_cpu, 0);
    }
}
