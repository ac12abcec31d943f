//! `NodeInfo`: one node plus what the pods on it (bound or assumed) already take.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};

use super::resource::{node_allocatable, pod_requests, Resource};

/// A host port in use on a node: (hostIP, protocol, port).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// `0.0.0.0` when the pod did not name one (it then takes the port on every address).
    pub ip: String,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// The port number.
    pub port: i32,
}

/// The host ports a pod asks for (containers only, as upstream's NodePorts counts them).
pub fn pod_host_ports(pod: &Pod) -> Vec<HostPort> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let port = p.host_port.filter(|hp| *hp > 0)?;
            Some(HostPort {
                ip: p
                    .host_ip
                    .clone()
                    .filter(|ip| !ip.is_empty())
                    .unwrap_or_else(|| "0.0.0.0".into()),
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                port,
            })
        })
        .collect()
}

/// A node and the load already placed on it.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// The node object.
    pub node: Arc<Node>,
    /// `status.allocatable`.
    pub allocatable: Resource,
    /// Sum of the effective requests of its pods.
    pub requested: Resource,
    /// Same, with scoring defaults for containers that request no cpu/memory.
    pub non_zero_requested: Resource,
    /// How many pods it holds.
    pub pod_count: i64,
    /// Host ports taken by its pods.
    pub used_ports: Vec<HostPort>,
    /// The pods themselves (bound and assumed), for plugins that look at other pods'
    /// labels and affinity (PodTopologySpread, InterPodAffinity).
    pub pods: Vec<Arc<Pod>>,
    /// The subset of `pods` with any pod affinity or anti-affinity term (upstream's
    /// `PodsWithAffinity`): InterPodAffinity's PreScore only needs these when the incoming
    /// pod has no preferred terms of its own.
    pub pods_with_affinity: Vec<Arc<Pod>>,
    /// The subset of `pods` with required anti-affinity (upstream's
    /// `PodsWithRequiredAntiAffinity`): the only existing pods InterPodAffinity's
    /// PreFilter must check against an incoming pod without terms.
    pub pods_with_required_anti_affinity: Vec<Arc<Pod>>,
}

/// Whether the pod has any pod affinity or anti-affinity term.
fn has_pod_affinity(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .is_some_and(|a| a.pod_affinity.is_some() || a.pod_anti_affinity.is_some())
}

/// Whether the pod has required (hard) anti-affinity terms.
fn has_required_anti_affinity(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .is_some_and(|t| !t.is_empty())
}

/// Whether two pods are the same object by namespace and name.
fn same_pod(a: &Pod, b: &Pod) -> bool {
    a.metadata.name == b.metadata.name && a.metadata.namespace == b.metadata.namespace
}

impl NodeInfo {
    /// An empty node.
    pub fn new(node: Arc<Node>) -> NodeInfo {
        NodeInfo {
            allocatable: node_allocatable(&node),
            node,
            requested: Resource::default(),
            non_zero_requested: Resource::default(),
            pod_count: 0,
            used_ports: Vec::new(),
            pods: Vec::new(),
            pods_with_affinity: Vec::new(),
            pods_with_required_anti_affinity: Vec::new(),
        }
    }

    /// Replace the node object (labels, taints, allocatable changed), keeping its pods.
    pub fn set_node(&mut self, node: Arc<Node>) {
        self.allocatable = node_allocatable(&node);
        self.node = node;
    }

    /// Count `pod` as running here (tests build nodes this way).
    #[cfg(test)]
    pub fn add_pod(&mut self, pod: &Pod) {
        self.add_shared_pod(Arc::new(pod.clone()));
    }

    /// Count `pod` as running here without copying it (the snapshot's path).
    pub fn add_shared_pod(&mut self, pod: Arc<Pod>) {
        let pod_ref: &Pod = &pod;
        self.requested.add(&pod_requests(pod_ref, false));
        self.non_zero_requested.add(&pod_requests(pod_ref, true));
        self.pod_count += 1;
        self.used_ports.extend(pod_host_ports(pod_ref));
        if has_pod_affinity(pod_ref) {
            self.pods_with_affinity.push(pod.clone());
        }
        if has_required_anti_affinity(pod_ref) {
            self.pods_with_required_anti_affinity.push(pod.clone());
        }
        self.pods.push(pod);
    }

    /// Stop counting the pod with `pod`'s namespace and name (the exact inverse of
    /// `add_shared_pod` for the object that was added); false when it is not here.
    pub fn remove_pod(&mut self, pod: &Pod) -> bool {
        let Some(i) = self.pods.iter().position(|p| same_pod(p, pod)) else {
            return false;
        };
        let removed = self.pods.swap_remove(i);
        let removed: &Pod = &removed;
        self.requested.sub(&pod_requests(removed, false));
        self.non_zero_requested.sub(&pod_requests(removed, true));
        self.pod_count -= 1;
        for port in pod_host_ports(removed) {
            if let Some(j) = self.used_ports.iter().position(|p| *p == port) {
                self.used_ports.swap_remove(j);
            }
        }
        self.pods_with_affinity.retain(|p| !same_pod(p, removed));
        self.pods_with_required_anti_affinity
            .retain(|p| !same_pod(p, removed));
        true
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        self.node.metadata.name.as_deref().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "ns"}, "spec": spec}))
            .expect("pod")
    }

    #[test]
    fn remove_pod_undoes_add_pod() {
        let node: Node = serde_json::from_value(json!({"metadata": {"name": "n"}})).expect("node");
        let mut info = NodeInfo::new(Arc::new(node));
        let anti = pod(
            "anti",
            json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
                    "ports": [{"containerPort": 80, "hostPort": 80}]}],
                   "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                       {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"a": "b"}}}]}}}),
        );
        let plain = pod("plain", json!({"containers": [{"name": "c"}]}));
        info.add_pod(&anti);
        info.add_pod(&plain);
        assert_eq!(info.pod_count, 2);
        assert_eq!(info.pods_with_affinity.len(), 1);
        assert_eq!(info.pods_with_required_anti_affinity.len(), 1);
        assert!(info.remove_pod(&anti));
        assert!(!info.remove_pod(&anti));
        assert_eq!(info.requested.milli_cpu, 0);
        assert_eq!(info.requested.memory, 0);
        assert_eq!(info.pod_count, 1);
        assert!(info.used_ports.is_empty());
        assert!(info.pods_with_affinity.is_empty());
        assert!(info.pods_with_required_anti_affinity.is_empty());
        // The plain pod still counts its scoring defaults.
        assert_eq!(info.non_zero_requested.milli_cpu, 100);
    }
}
