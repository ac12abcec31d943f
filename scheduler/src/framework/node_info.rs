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
        }
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
        self.pods.push(pod);
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        self.node.metadata.name.as_deref().unwrap_or_default()
    }
}
