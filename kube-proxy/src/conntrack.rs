//! Clearing stale UDP conntrack entries, as upstream kube-proxy does after each sync.
//!
//! UDP has no connection to end: a client that keeps sending from one socket keeps its
//! conntrack entry alive, and with it the DNAT to an endpoint that may be gone. So when an
//! endpoint stops being used, entries DNATed to it through any of the Service's addresses
//! are deleted; and when a UDP Service gets its first endpoint, entries made while it had none
//! (rejected or dropped flows) are deleted so the next packet is balanced afresh. Deletion
//! uses the `conntrack` tool (conntrack-tools).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;

use tokio::process::Command;

use crate::model::{categorize, IpFamily, Protocol, ProxyModel, ServicePort};

/// One `conntrack -D` filter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum StaleFlow {
    /// Entries to a Service address (cluster, external or load-balancer IP) DNATed to an
    /// endpoint that is no longer used.
    ServiceIpToEndpoint {
        /// The Service address the client used.
        service_ip: IpAddr,
        /// The former endpoint.
        endpoint: IpAddr,
    },
    /// Entries to a node port DNATed to an endpoint that is no longer used.
    NodePortToEndpoint {
        /// The node port.
        node_port: u16,
        /// The former endpoint.
        endpoint: IpAddr,
    },
    /// Every entry to a Service address and port (made while it had no endpoints).
    ServiceIp {
        /// The Service address.
        service_ip: IpAddr,
        /// The Service port.
        port: u16,
    },
    /// Every entry to a node port (made while it had no endpoints).
    NodePort {
        /// The node port.
        node_port: u16,
    },
}

impl StaleFlow {
    /// The arguments of `conntrack` that delete these entries of `family` (the tool looks
    /// at IPv4 entries unless told `-f ipv6`).
    pub fn args(&self, family: IpFamily) -> Vec<String> {
        let mut args: Vec<String> = vec!["-D".into(), "-p".into(), "udp".into()];
        if family != IpFamily::V4 {
            args.extend(["-f".into(), family.conntrack().into()]);
        }
        match self {
            StaleFlow::ServiceIpToEndpoint {
                service_ip,
                endpoint,
            } => args.extend([
                "--orig-dst".into(),
                service_ip.to_string(),
                "--dst-nat".into(),
                endpoint.to_string(),
            ]),
            StaleFlow::NodePortToEndpoint {
                node_port,
                endpoint,
            } => args.extend([
                "--orig-port-dst".into(),
                node_port.to_string(),
                "--dst-nat".into(),
                endpoint.to_string(),
            ]),
            StaleFlow::ServiceIp { service_ip, port } => args.extend([
                "--orig-dst".into(),
                service_ip.to_string(),
                "--orig-port-dst".into(),
                port.to_string(),
            ]),
            StaleFlow::NodePort { node_port } => {
                args.extend(["--orig-port-dst".into(), node_port.to_string()])
            }
        }
        args
    }
}

/// Addresses traffic to `sp` arrives on.
fn service_ips(sp: &ServicePort) -> impl Iterator<Item = IpAddr> + '_ {
    sp.cluster_ip
        .into_iter()
        .chain(sp.external_ips.iter().copied())
        .chain(sp.load_balancer_ips.iter().copied())
}

/// The endpoints traffic to `sp` may be DNATed to on node `node`.
fn used_endpoints(sp: &ServicePort, node: &str) -> BTreeSet<IpAddr> {
    let eps = categorize(sp, node);
    eps.cluster.iter().chain(&eps.local).map(|e| e.ip).collect()
}

/// The UDP entries made stale by going from the rules of `old` to those of `new`.
pub fn stale_flows(old: &ProxyModel, new: &ProxyModel) -> BTreeSet<StaleFlow> {
    let mut out = BTreeSet::new();
    for (name, old_sp) in &old.services {
        if name.protocol != Protocol::Udp {
            continue;
        }
        let before = used_endpoints(old_sp, &old.node_name);
        let after = new
            .services
            .get(name)
            .map(|sp| used_endpoints(sp, &new.node_name))
            .unwrap_or_default();
        for endpoint in before.difference(&after) {
            for service_ip in service_ips(old_sp) {
                out.insert(StaleFlow::ServiceIpToEndpoint {
                    service_ip,
                    endpoint: *endpoint,
                });
            }
            if let Some(node_port) = old_sp.node_port {
                out.insert(StaleFlow::NodePortToEndpoint {
                    node_port,
                    endpoint: *endpoint,
                });
            }
        }
    }
    for (name, new_sp) in &new.services {
        if name.protocol != Protocol::Udp {
            continue;
        }
        let had_none = old
            .services
            .get(name)
            .is_none_or(|sp| used_endpoints(sp, &old.node_name).is_empty());
        if !had_none || used_endpoints(new_sp, &new.node_name).is_empty() {
            continue;
        }
        for service_ip in service_ips(new_sp) {
            out.insert(StaleFlow::ServiceIp {
                service_ip,
                port: new_sp.port,
            });
        }
        if let Some(node_port) = new_sp.node_port {
            out.insert(StaleFlow::NodePort { node_port });
        }
    }
    out
}

/// Runs the `conntrack` tool.
#[derive(Debug, Clone)]
pub struct Conntrack {
    bin: Option<PathBuf>,
}

impl Conntrack {
    /// `conntrack` from PATH or /usr/sbin; without it, clean-up is skipped (with a warning).
    pub fn new() -> Conntrack {
        let dirs = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default();
        let bin = dirs
            .into_iter()
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
            .map(|d| d.join("conntrack"))
            .find(|p| p.is_file());
        if bin.is_none() {
            tracing::warn!("conntrack (conntrack-tools) not found: stale UDP flows are not cleared when endpoints go away");
        }
        Conntrack { bin }
    }

    /// Delete the entries of every flow in `flows` (all of `family`); failures are logged (a
    /// missing entry is not a failure).
    pub async fn clear(&self, family: IpFamily, flows: &BTreeSet<StaleFlow>) {
        let Some(bin) = &self.bin else {
            return;
        };
        for flow in flows {
            let args = flow.args(family);
            match Command::new(bin).args(&args).output().await {
                Ok(out) => {
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    // conntrack exits 1 with "0 flow entries have been deleted" when
                    // nothing matched.
                    if out.status.success() || stderr.contains("0 flow entries") {
                        tracing::debug!(?flow, result = %stderr.trim(), "cleared stale UDP flows");
                    } else {
                        tracing::warn!(?flow, error = %stderr.trim(), "conntrack -D failed");
                    }
                }
                Err(e) => tracing::warn!(?flow, error = %e, "running conntrack failed"),
            }
        }
    }
}

impl Default for Conntrack {
    fn default() -> Self {
        Conntrack::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, ServicePortName};

    fn ep(last: u8) -> Endpoint {
        Endpoint {
            ip: IpAddr::from([10, 244, 0, last]),
            port: 53,
            ready: true,
            serving: true,
            terminating: false,
            node_name: Some("a".into()),
        }
    }

    fn name(protocol: Protocol) -> ServicePortName {
        ServicePortName {
            namespace: "ns".into(),
            name: "dns".into(),
            port: "dns".into(),
            protocol,
        }
    }

    fn model(protocol: Protocol, endpoints: Vec<Endpoint>) -> ProxyModel {
        let sp = ServicePort {
            cluster_ip: Some(IpAddr::from([10, 96, 0, 10])),
            port: 53,
            node_port: Some(30053),
            external_ips: vec![],
            load_balancer_ips: vec![IpAddr::from([127, 240, 0, 9])],
            external_policy_local: false,
            internal_policy_local: false,
            affinity_timeout: None,
            source_ranges: vec![],
            health_check_node_port: None,
            endpoints,
        };
        ProxyModel {
            node_name: "a".into(),
            services: [(name(protocol), sp)].into_iter().collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_removed_udp_endpoint_clears_its_flows_on_every_service_address() {
        let old = model(Protocol::Udp, vec![ep(1), ep(2)]);
        let new = model(Protocol::Udp, vec![ep(2)]);
        let flows = stale_flows(&old, &new);
        let gone = IpAddr::from([10, 244, 0, 1]);
        assert_eq!(
            flows,
            [
                StaleFlow::ServiceIpToEndpoint {
                    service_ip: IpAddr::from([10, 96, 0, 10]),
                    endpoint: gone
                },
                StaleFlow::ServiceIpToEndpoint {
                    service_ip: IpAddr::from([127, 240, 0, 9]),
                    endpoint: gone
                },
                StaleFlow::NodePortToEndpoint {
                    node_port: 30053,
                    endpoint: gone
                },
            ]
            .into_iter()
            .collect()
        );
        assert!(
            stale_flows(&new, &new).is_empty(),
            "no change, nothing stale"
        );
        // A deleted Service counts as all endpoints removed.
        let empty = ProxyModel::default();
        assert_eq!(stale_flows(&new, &empty).len(), 3);
    }

    #[test]
    fn a_first_endpoint_clears_flows_made_while_there_was_none() {
        let old = model(Protocol::Udp, vec![]);
        let new = model(Protocol::Udp, vec![ep(1)]);
        let flows = stale_flows(&old, &new);
        assert!(flows.contains(&StaleFlow::ServiceIp {
            service_ip: IpAddr::from([10, 96, 0, 10]),
            port: 53
        }));
        assert!(flows.contains(&StaleFlow::NodePort { node_port: 30053 }));
        assert_eq!(
            flows
                .iter()
                .next()
                .map(|f| f.args(IpFamily::V4))
                .unwrap_or_default()[..3],
            ["-D", "-p", "udp"]
        );
    }

    #[test]
    fn ipv6_flows_are_deleted_from_the_ipv6_table() {
        let flow = StaleFlow::ServiceIpToEndpoint {
            service_ip: "fd00:96::a".parse().unwrap(),
            endpoint: "fd00:244::1".parse().unwrap(),
        };
        assert_eq!(
            flow.args(IpFamily::V6),
            [
                "-D",
                "-p",
                "udp",
                "-f",
                "ipv6",
                "--orig-dst",
                "fd00:96::a",
                "--dst-nat",
                "fd00:244::1"
            ]
        );
        assert!(!flow.args(IpFamily::V4).contains(&"-f".to_string()));
    }

    #[test]
    fn tcp_is_left_alone() {
        let old = model(Protocol::Tcp, vec![ep(1)]);
        let new = model(Protocol::Tcp, vec![]);
        assert!(stale_flows(&old, &new).is_empty());
    }
}
