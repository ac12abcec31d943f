//! The kubelet's own admission of a new pod, as upstream's: the pod must fit in what the
//! node's allocatable leaves after the pods already admitted (the scheduler may have raced,
//! or the pod was bound by hand), and a node under pressure turns pods away — BestEffort ones
//! under memory pressure, all but critical ones under disk or PID pressure.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod};

use crate::eviction::ranking::evictable;
use crate::eviction::thresholds::Pressure;
use crate::eviction::{EvictionState, Verdict};
use crate::node::allocatable::Amounts;
use crate::pods::qos::{self, parse_quantity};

/// Requests of one container, by resource (cpu in millis).
fn container_requests(c: &Container) -> Amounts {
    let mut out = Amounts::new();
    let Some(r) = c.resources.as_ref() else {
        return out;
    };
    // A limit stands in for an unset request, as the apiserver defaults it.
    for map in [r.limits.as_ref(), r.requests.as_ref()]
        .into_iter()
        .flatten()
    {
        for (name, q) in map {
            if let Some(n) = parse_quantity(q, name == "cpu") {
                out.insert(name.clone(), n);
            }
        }
    }
    out
}

/// The pod's effective requests: the larger of its app containers' sum (with restartable
/// init containers, i.e. sidecars) and any single init container, plus overhead, and one pod.
pub fn pod_requests(pod: &Pod) -> Amounts {
    let mut total = Amounts::new();
    let Some(spec) = pod.spec.as_ref() else {
        return total;
    };
    let add = |into: &mut Amounts, from: &Amounts| {
        for (k, v) in from {
            *into.entry(k.clone()).or_default() += v;
        }
    };
    let mut sidecars = Amounts::new();
    let mut init_peak = Amounts::new();
    for c in spec.init_containers.iter().flatten() {
        let req = container_requests(c);
        if c.restart_policy.as_deref() == Some("Always") {
            add(&mut sidecars, &req);
            add(&mut total, &req);
        } else {
            // A regular init container runs beside the sidecars started before it.
            let mut with_sidecars = sidecars.clone();
            add(&mut with_sidecars, &req);
            for (k, v) in with_sidecars {
                let peak = init_peak.entry(k).or_default();
                *peak = (*peak).max(v);
            }
        }
    }
    for c in &spec.containers {
        add(&mut total, &container_requests(c));
    }
    for (k, v) in init_peak {
        let t = total.entry(k).or_default();
        *t = (*t).max(v);
    }
    for (name, q) in spec.overhead.iter().flatten() {
        if let Some(n) = parse_quantity(q, name == "cpu") {
            *total.entry(name.clone()).or_default() += n;
        }
    }
    total.insert("pods".into(), 1);
    total
}

/// Admit `pod` next to the `active` pods on a node with `allocatable`, or say why not.
pub fn admit(
    pod: &Pod,
    active: &[Pod],
    allocatable: &Amounts,
    eviction: &EvictionState,
) -> Result<(), Verdict> {
    let critical = !evictable(pod);
    let pressures: Vec<&str> = [Pressure::Memory, Pressure::Disk, Pressure::Pid]
        .into_iter()
        .filter(|p| eviction.under(*p))
        .map(|p| p.condition_type())
        .collect();
    if !critical && !pressures.is_empty() {
        let only_memory = pressures == ["MemoryPressure"];
        if !only_memory || qos::qos_class(pod) == "BestEffort" {
            return Err(Verdict {
                reason: "Evicted".into(),
                message: format!("The node had condition: [{}]. ", pressures.join(", ")),
            });
        }
    }
    let requested = pod_requests(pod);
    let mut used = Amounts::new();
    for other in active {
        for (k, v) in pod_requests(other) {
            *used.entry(k).or_default() += v;
        }
    }
    // Upstream checks pods first, then cpu, memory, ephemeral-storage, then the rest.
    let mut order: Vec<&String> = requested.keys().collect();
    let rank = |n: &str| match n {
        "pods" => 0,
        "cpu" => 1,
        "memory" => 2,
        "ephemeral-storage" => 3,
        _ => 4,
    };
    order.sort_by_key(|n| (rank(n), n.to_string()));
    for name in order {
        let want = requested[name];
        if want == 0 {
            continue;
        }
        let have = used.get(name).copied().unwrap_or(0);
        // An extended resource the node does not offer has a capacity of zero.
        let capacity = allocatable.get(name).copied().unwrap_or(0);
        if have + want > capacity {
            return Err(Verdict {
                reason: format!("OutOf{name}"),
                message: format!(
                    "Pod was rejected: Node didn't have enough resource: {name}, requested: {want}, used: {have}, capacity: {capacity}"
                ),
            });
        }
    }
    Ok(())
}

/// Allocatable as admission counts it, from the Node's quantities.
pub fn amounts(
    allocatable: &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
) -> Amounts {
    allocatable
        .iter()
        .filter_map(|(k, q)| Some((k.clone(), parse_quantity(q, k == "cpu")?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(cpu: Option<&str>, init_cpu: Option<&str>) -> Pod {
        let res = |c: Option<&str>| match c {
            Some(c) => json!({"requests": {"cpu": c}}),
            None => json!({}),
        };
        serde_json::from_value(json!({
            "metadata": {"name": "p", "uid": "u"},
            "spec": {
                "initContainers": [{"name": "i", "image": "x", "resources": res(init_cpu)}],
                "containers": [{"name": "c", "image": "x", "resources": res(cpu)}]
            }
        }))
        .expect("pod")
    }

    fn alloc(cpu_millis: i64, pods: i64) -> Amounts {
        Amounts::from([("cpu".into(), cpu_millis), ("pods".into(), pods)])
    }

    #[test]
    fn init_containers_count_at_their_peak_not_on_top() {
        let p = pod(Some("200m"), Some("500m"));
        assert_eq!(pod_requests(&p)["cpu"], 500);
        let q = pod(Some("700m"), Some("500m"));
        assert_eq!(pod_requests(&q)["cpu"], 700);
    }

    #[test]
    fn a_pod_that_does_not_fit_is_rejected_with_upstreams_words() {
        let state = EvictionState::default();
        let running = vec![pod(Some("1500m"), None)];
        assert!(admit(&pod(Some("500m"), None), &running, &alloc(2000, 10), &state).is_ok());
        let v = admit(&pod(Some("600m"), None), &running, &alloc(2000, 10), &state)
            .expect_err("too much cpu");
        assert_eq!(v.reason, "OutOfcpu");
        assert_eq!(
            v.message,
            "Pod was rejected: Node didn't have enough resource: cpu, requested: 600, used: 1500, capacity: 2000"
        );
        let full = admit(&pod(None, None), &running, &alloc(2000, 1), &state).expect_err("pods");
        assert_eq!(full.reason, "OutOfpods");
    }
}
