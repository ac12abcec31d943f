//! The limits the kubelet writes into its cgroups, computed as upstream's container manager
//! computes them: the node-allocatable cgroup (`kubepods`) from capacity minus reservations,
//! the QoS cgroups from the pods in them, and each pod's cgroup from its containers.
use k8s_openapi::api::core::v1::{Container, Pod};

use crate::node::allocatable::Amounts;
use crate::pods::qos::{self, CPU_PERIOD_US};

/// The smallest CFS quota the kernel takes (1 ms), as upstream clamps it.
const MIN_QUOTA_US: i64 = 1000;

/// The limits of one cgroup; `None` leaves a setting as it is, `Some(-1)` means unlimited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceConfig {
    pub cpu_shares: Option<u64>,
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<u64>,
    pub memory: Option<i64>,
    pub pids: Option<i64>,
}

/// CFS quota for a milli-CPU limit over the standard period.
pub fn cpu_quota(milli: i64) -> i64 {
    (milli * CPU_PERIOD_US / 1000).max(MIN_QUOTA_US)
}

/// The node-allocatable cgroup's limits for these amounts (cpu in millis, memory in bytes,
/// `pid` a count): shares rather than a quota for CPU, so pods may use idle reserved CPU
/// while reservations still win under contention, as upstream.
pub fn node_allocatable(amounts: &Amounts) -> ResourceConfig {
    ResourceConfig {
        cpu_shares: amounts.get("cpu").map(|m| qos::cpu_shares(Some(*m)) as u64),
        memory: amounts.get("memory").copied(),
        pids: amounts.get("pid").copied(),
        ..Default::default()
    }
}

/// What a reserved cgroup (`--kube-reserved-cgroup`, `--system-reserved-cgroup`) is held to.
pub fn reserved(amounts: &Amounts) -> ResourceConfig {
    node_allocatable(amounts)
}

/// The best-effort QoS cgroup: the least CPU weight there is.
pub fn besteffort() -> ResourceConfig {
    ResourceConfig {
        cpu_shares: Some(qos::cpu_shares(None) as u64),
        ..Default::default()
    }
}

/// The burstable QoS cgroup: CPU weight for the sum of its pods' CPU requests.
pub fn burstable(cpu_request_millis: i64) -> ResourceConfig {
    ResourceConfig {
        cpu_shares: Some(qos::cpu_shares(Some(cpu_request_millis)) as u64),
        ..Default::default()
    }
}

fn quantity(c: &Container, limits: bool, name: &str) -> Option<i64> {
    let res = c.resources.as_ref()?;
    let map = if limits {
        res.limits.as_ref()
    } else {
        res.requests.as_ref()
    }?;
    qos::parse_quantity(map.get(name)?, name == "cpu")
}

/// A container's request (its limit when no request is given, as the apiserver defaults).
fn request(c: &Container, name: &str) -> i64 {
    quantity(c, false, name)
        .or_else(|| quantity(c, true, name))
        .unwrap_or(0)
}

/// The pod's effective amount: the larger of the app containers' sum and the largest init
/// container (init containers run one at a time, before the app), plus the pod overhead.
fn effective(pod: &Pod, name: &str, per_container: impl Fn(&Container) -> i64) -> i64 {
    let Some(spec) = pod.spec.as_ref() else {
        return 0;
    };
    let apps: i64 = spec.containers.iter().map(&per_container).sum();
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .map(&per_container)
        .max()
        .unwrap_or(0);
    let overhead = spec
        .overhead
        .as_ref()
        .and_then(|o| o.get(name))
        .and_then(|q| qos::parse_quantity(q, name == "cpu"))
        .unwrap_or(0);
    apps.max(init) + overhead
}

/// The pod's CPU request in millis (what its burstable QoS cgroup weighs).
pub fn pod_cpu_request(pod: &Pod) -> i64 {
    effective(pod, "cpu", |c| request(c, "cpu"))
}

/// Whether every container of the pod has a limit on `name`: only then is the pod as a
/// whole bounded.
fn all_limited(pod: &Pod, name: &str) -> bool {
    pod.spec.as_ref().is_some_and(|s| {
        s.containers
            .iter()
            .chain(s.init_containers.iter().flatten())
            .all(|c| quantity(c, true, name).is_some_and(|n| n > 0))
    })
}

/// The pod cgroup's limits: CPU weight from the requests, a CFS quota when every container
/// limits CPU, a memory limit when every container limits memory; best-effort pods get the
/// least weight. `pod_pids_limit` (`--pod-max-pids`) applies when positive.
pub fn pod(pod: &Pod, pod_pids_limit: i64) -> ResourceConfig {
    let pids = (pod_pids_limit > 0).then_some(pod_pids_limit);
    if qos::qos_class(pod) == "BestEffort" {
        return ResourceConfig {
            pids,
            ..besteffort()
        };
    }
    let cpu_limited = all_limited(pod, "cpu");
    let memory_limited = all_limited(pod, "memory");
    let cpu_limit = effective(pod, "cpu", |c| quantity(c, true, "cpu").unwrap_or(0));
    let memory_limit = effective(pod, "memory", |c| quantity(c, true, "memory").unwrap_or(0));
    ResourceConfig {
        cpu_shares: Some(qos::cpu_shares(Some(pod_cpu_request(pod))) as u64),
        cpu_quota: cpu_limited.then(|| cpu_quota(cpu_limit)),
        cpu_period: cpu_limited.then_some(CPU_PERIOD_US as u64),
        memory: memory_limited.then_some(memory_limit),
        pids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_of(spec: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "uid": "u1"},
            "spec": spec
        }))
        .unwrap()
    }

    #[test]
    fn guaranteed_pods_get_quota_and_memory_from_summed_limits() {
        let p = pod_of(serde_json::json!({"containers": [
            {"name": "a", "resources": {"limits": {"cpu": "200m", "memory": "64Mi"}}},
            {"name": "b", "resources": {"limits": {"cpu": "300m", "memory": "64Mi"}}}
        ]}));
        let c = pod(&p, -1);
        assert_eq!(c.cpu_shares, Some(512));
        assert_eq!(c.cpu_quota, Some(50_000));
        assert_eq!(c.cpu_period, Some(100_000));
        assert_eq!(c.memory, Some(128 << 20));
        assert_eq!(c.pids, None);
    }

    #[test]
    fn burstable_pods_are_bounded_only_where_every_container_is() {
        let p = pod_of(serde_json::json!({
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "900m"}, "limits": {"memory": "256Mi"}}}],
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "64Mi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "64Mi", "cpu": "1"}}}
            ],
            "overhead": {"cpu": "10m", "memory": "1Mi"}
        }));
        let c = pod(&p, 1024);
        // max(100m + 100m, 900m) + 10m overhead
        assert_eq!(c.cpu_shares, Some(910 * 1024 / 1000));
        assert_eq!(c.cpu_quota, None, "container a has no cpu limit");
        assert_eq!(c.memory, Some((256 << 20) + (1 << 20)));
        assert_eq!(c.pids, Some(1024));
    }

    #[test]
    fn besteffort_pods_and_qos_cgroups() {
        let p = pod_of(serde_json::json!({"containers": [{"name": "a"}]}));
        assert_eq!(pod(&p, -1), besteffort());
        assert_eq!(besteffort().cpu_shares, Some(2));
        assert_eq!(burstable(0).cpu_shares, Some(2));
        assert_eq!(burstable(1500).cpu_shares, Some(1536));
        let amounts = Amounts::from([
            ("cpu".to_string(), 1800),
            ("memory".to_string(), 1 << 30),
            ("pid".to_string(), 4096),
        ]);
        let node = node_allocatable(&amounts);
        assert_eq!(node.cpu_shares, Some(1843));
        assert_eq!(node.cpu_quota, None);
        assert_eq!(node.memory, Some(1 << 30));
        assert_eq!(node.pids, Some(4096));
    }

    #[test]
    fn tiny_cpu_limits_get_the_minimum_quota() {
        assert_eq!(cpu_quota(1), 1000);
        assert_eq!(cpu_quota(2500), 250_000);
    }
}
