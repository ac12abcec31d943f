//! NodePorts: a pod's host ports must be free on the node. A port bound on 0.0.0.0 clashes
//! with the same port and protocol on any address.

use k8s_openapi::api::core::v1::Pod;

use crate::framework::node_info::{pod_host_ports, HostPort};
use crate::framework::{CycleState, FilterPlugin, NodeInfo, Status};

/// Upstream's `ErrReason`.
pub const ERR_REASON: &str = "node(s) didn't have free ports for the requested pod ports";

fn conflicts(a: &HostPort, b: &HostPort) -> bool {
    a.port == b.port
        && a.protocol == b.protocol
        && (a.ip == b.ip || a.ip == "0.0.0.0" || b.ip == "0.0.0.0")
}

/// The NodePorts filter.
pub struct NodePorts;

impl FilterPlugin for NodePorts {
    fn name(&self) -> &'static str {
        "NodePorts"
    }

    fn filter(&self, _state: &CycleState, pod: &Pod, node: &NodeInfo) -> Result<(), Status> {
        let wanted = pod_host_ports(pod);
        if wanted
            .iter()
            .any(|w| node.used_ports.iter().any(|u| conflicts(w, u)))
        {
            Err(Status::unschedulable(ERR_REASON))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::testing::{node, pod};
    use serde_json::json;

    fn with_port(port: i32, protocol: &str, ip: Option<&str>) -> Pod {
        let mut p = json!({"containerPort": 80, "hostPort": port, "protocol": protocol});
        if let Some(ip) = ip {
            p["hostIP"] = json!(ip);
        }
        pod(json!({"containers": [{"name": "c", "ports": [p]}]}))
    }

    #[test]
    fn taken_host_port_rejects() {
        let mut n = node("a", json!({}));
        n.add_pod(&with_port(8080, "TCP", None));
        assert_eq!(
            NodePorts.filter(&CycleState::default(), &with_port(8080, "TCP", None), &n),
            Err(Status::unschedulable(ERR_REASON))
        );
        assert!(NodePorts
            .filter(&CycleState::default(), &with_port(8080, "UDP", None), &n)
            .is_ok());
        assert!(NodePorts
            .filter(&CycleState::default(), &with_port(8081, "TCP", None), &n)
            .is_ok());
        assert!(NodePorts
            .filter(
                &CycleState::default(),
                &with_port(8080, "TCP", Some("10.0.0.1")),
                &n
            )
            .is_err());
    }

    #[test]
    fn distinct_addresses_do_not_clash() {
        let mut n = node("a", json!({}));
        n.add_pod(&with_port(53, "UDP", Some("10.0.0.1")));
        assert!(NodePorts
            .filter(
                &CycleState::default(),
                &with_port(53, "UDP", Some("10.0.0.2")),
                &n
            )
            .is_ok());
    }
}
