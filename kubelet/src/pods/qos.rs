//! Quality of service: the pod's QoS class and the CRI Linux resources of
//! each container — the arithmetic upstream's kubelet uses.
use k8s_openapi::api::core::v1::{Container, Pod, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use proto::cri::v1 as cri;

pub const CPU_PERIOD_US: i64 = 100_000;
const MIN_SHARES: i64 = 2;
const MAX_SHARES: i64 = 262_144;

/// A quantity as a number of whole units (or of millis when `milli`), rounded up
/// ("100m" cpu in millis = 100, "1Gi" = 2^30); the parsing is the downward API's.
pub fn parse_quantity(q: &Quantity, milli: bool) -> Option<i64> {
    let nanos = crate::volumes::downward_api::parse_quantity(&q.0).ok()?;
    let unit: i128 = if milli { 1_000_000 } else { 1_000_000_000 };
    let units = nanos / unit + i128::from(nanos % unit > 0);
    i64::try_from(units).ok()
}

fn get(res: Option<&ResourceRequirements>, limits: bool, name: &str, milli: bool) -> Option<i64> {
    let res = res?;
    let map = if limits {
        res.limits.as_ref()
    } else {
        res.requests.as_ref()
    };
    map?.get(name).and_then(|q| parse_quantity(q, milli))
}

/// A container's request, defaulting to its limit as the apiserver does.
fn request(c: &Container, name: &str, milli: bool) -> Option<i64> {
    get(c.resources.as_ref(), false, name, milli)
        .or_else(|| get(c.resources.as_ref(), true, name, milli))
}

/// Guaranteed, Burstable or BestEffort, by upstream's rules.
pub fn qos_class(pod: &Pod) -> &'static str {
    let Some(spec) = pod.spec.as_ref() else {
        return "BestEffort";
    };
    let all: Vec<&Container> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .collect();
    let mut any_set = false;
    let mut guaranteed = true;
    for c in &all {
        for name in ["cpu", "memory"] {
            let req = request(c, name, true);
            let lim = get(c.resources.as_ref(), true, name, true);
            if req.is_some_and(|v| v != 0) || lim.is_some_and(|v| v != 0) {
                any_set = true;
            }
            if lim.is_none() || req != lim {
                guaranteed = false;
            }
        }
    }
    match (any_set, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

/// CPU shares for a milli-CPU request (2 when unset, as upstream).
pub fn cpu_shares(milli: Option<i64>) -> i64 {
    match milli {
        None | Some(0) => MIN_SHARES,
        Some(m) => (m * 1024 / 1000).clamp(MIN_SHARES, MAX_SHARES),
    }
}

/// The OOM score adjustment by QoS, as upstream computes it.
pub fn oom_score_adj(pod: &Pod, container: &Container, memory_capacity: i64) -> i64 {
    match qos_class(pod) {
        "Guaranteed" => -997,
        "BestEffort" => 1000,
        _ => {
            let req = request(container, "memory", false).unwrap_or(0);
            if memory_capacity <= 0 {
                return 999;
            }
            let adj = 1000 - (1000 * req) / memory_capacity;
            adj.clamp(2, 999)
        }
    }
}

/// CRI Linux resources of a container.
pub fn linux_resources(
    pod: &Pod,
    c: &Container,
    memory_capacity: i64,
) -> cri::LinuxContainerResources {
    let cpu_limit = get(c.resources.as_ref(), true, "cpu", true);
    cri::LinuxContainerResources {
        cpu_period: if cpu_limit.is_some() {
            CPU_PERIOD_US
        } else {
            0
        },
        cpu_quota: cpu_limit
            .map(|m| (m * CPU_PERIOD_US / 1000).max(1000))
            .unwrap_or(0),
        cpu_shares: cpu_shares(request(c, "cpu", true)),
        memory_limit_in_bytes: get(c.resources.as_ref(), true, "memory", false).unwrap_or(0),
        oom_score_adj: oom_score_adj(pod, c, memory_capacity),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(containers: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "uid": "u1"},
            "spec": {"containers": containers}
        }))
        .unwrap()
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity(&Quantity("100m".into()), true), Some(100));
        assert_eq!(parse_quantity(&Quantity("1.5".into()), true), Some(1500));
        assert_eq!(
            parse_quantity(&Quantity("64Mi".into()), false),
            Some(64 << 20)
        );
        assert_eq!(
            parse_quantity(&Quantity("1G".into()), false),
            Some(1_000_000_000)
        );
        assert_eq!(parse_quantity(&Quantity("bogus".into()), false), None);
    }

    #[test]
    fn classes_and_resources() {
        let best = pod(serde_json::json!([{"name": "a"}]));
        assert_eq!(qos_class(&best), "BestEffort");
        let guaranteed = pod(
            serde_json::json!([{"name": "a", "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}]),
        );
        assert_eq!(qos_class(&guaranteed), "Guaranteed");
        let burst = pod(
            serde_json::json!([{"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}}]),
        );
        assert_eq!(qos_class(&burst), "Burstable");
        let c = &burst.spec.as_ref().unwrap().containers[0];
        let r = linux_resources(&burst, c, 1 << 30);
        assert_eq!(r.cpu_shares, 256);
        assert_eq!(r.cpu_quota, 0);
        assert_eq!(r.memory_limit_in_bytes, 128 << 20);
        assert_eq!(r.oom_score_adj, 1000 - 1000 * (64 << 20) / (1 << 30));
        let gc = &guaranteed.spec.as_ref().unwrap().containers[0];
        let g = linux_resources(&guaranteed, gc, 1 << 30);
        assert_eq!(
            (g.cpu_quota, g.cpu_period, g.oom_score_adj),
            (50_000, 100_000, -997)
        );
    }
}
