//! Which pod goes first when the node runs short, by upstream's order.
//!
//! Memory: pods using more than they requested first, then lower priority, then the largest
//! excess over the request. Disk and pids: lower priority first, then BestEffort before
//! Burstable before Guaranteed (per-pod disk use is not measured here). Critical pods —
//! static pods and priority ≥ 2,000,000,000 (`system-cluster-critical` and above) — are never
//! candidates.

use std::cmp::Reverse;

use k8s_openapi::api::core::v1::Pod;

use super::thresholds::Signal;
use crate::pods::qos::{self, parse_quantity};

/// Priority from which upstream treats a pod as critical.
const SYSTEM_CRITICAL_PRIORITY: i32 = 2_000_000_000;

/// A pod that may be evicted, with its measured memory working set.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub uid: String,
    pub pod: Pod,
    pub memory_working_set: u64,
}

/// Whether the kubelet may evict this pod at all.
pub fn evictable(pod: &Pod) -> bool {
    let priority = pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
    let source = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("kubernetes.io/config.source"))
        .map(String::as_str);
    priority < SYSTEM_CRITICAL_PRIORITY && matches!(source, None | Some("api"))
}

/// The sum of the pod's containers' memory requests (limits stand in for unset requests).
fn memory_request(pod: &Pod) -> u64 {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .filter_map(|c| {
            let r = c.resources.as_ref()?;
            r.requests
                .as_ref()
                .and_then(|m| m.get("memory"))
                .or_else(|| r.limits.as_ref().and_then(|m| m.get("memory")))
                .and_then(|q| parse_quantity(q, false))
        })
        .map(|b| b.max(0) as u64)
        .sum()
}

fn priority(pod: &Pod) -> i32 {
    pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

fn qos_rank(pod: &Pod) -> u8 {
    match qos::qos_class(pod) {
        "BestEffort" => 0,
        "Burstable" => 1,
        _ => 2,
    }
}

/// Sort `candidates` so the first is the one to evict for `signal`.
pub fn rank(signal: Signal, candidates: &mut [Candidate]) {
    match signal {
        Signal::MemoryAvailable => candidates.sort_by_key(|c| {
            let request = memory_request(&c.pod);
            let exceeds = c.memory_working_set > request;
            (
                !exceeds,
                priority(&c.pod),
                Reverse(c.memory_working_set.saturating_sub(request)),
            )
        }),
        _ => candidates.sort_by_key(|c| (priority(&c.pod), qos_rank(&c.pod))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, priority: i32, memory_request: Option<&str>) -> Pod {
        let resources = match memory_request {
            Some(m) => json!({"requests": {"memory": m}, "limits": {"memory": m}}),
            None => json!({}),
        };
        serde_json::from_value(json!({
            "metadata": {"name": name, "uid": name},
            "spec": {"priority": priority, "containers": [{"name": "c", "image": "i", "resources": resources}]}
        }))
        .expect("pod")
    }

    fn cand(p: Pod, usage_mi: u64) -> Candidate {
        Candidate {
            uid: p.metadata.name.clone().unwrap_or_default(),
            pod: p,
            memory_working_set: usage_mi << 20,
        }
    }

    #[test]
    fn memory_evicts_pods_over_their_request_before_priority() {
        let mut c = vec![
            // Within its request, lowest priority: still last.
            cand(pod("within", -10, Some("100Mi")), 50),
            cand(pod("over-high", 1000, Some("10Mi")), 20),
            cand(pod("besteffort-big", 0, None), 200),
            cand(pod("besteffort-small", 0, None), 10),
        ];
        rank(Signal::MemoryAvailable, &mut c);
        let order: Vec<&str> = c.iter().map(|c| c.uid.as_str()).collect();
        assert_eq!(
            order,
            ["besteffort-big", "besteffort-small", "over-high", "within"]
        );
    }

    #[test]
    fn disk_goes_by_priority_then_qos_and_critical_pods_are_exempt() {
        let mut c = vec![
            cand(pod("guaranteed", 0, Some("10Mi")), 0),
            cand(pod("besteffort", 0, None), 0),
            cand(pod("low", -5, Some("10Mi")), 0),
        ];
        rank(Signal::NodeFsAvailable, &mut c);
        let order: Vec<&str> = c.iter().map(|c| c.uid.as_str()).collect();
        assert_eq!(order, ["low", "besteffort", "guaranteed"]);
        assert!(evictable(&pod("x", 0, None)));
        assert!(!evictable(&pod("x", 2_000_001_000, None)));
        let mut static_pod = pod("s", 0, None);
        static_pod.metadata.annotations = Some(
            [(
                "kubernetes.io/config.source".to_string(),
                "file".to_string(),
            )]
            .into(),
        );
        assert!(!evictable(&static_pod));
    }
}
