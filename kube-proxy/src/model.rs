//! What the proxier programs, independent of the API objects it came from: one
//! [`ServicePort`] per (Service, port) with the endpoints that back it, plus the node-wide
//! settings ([`ProxyModel`]). The renderer turns this into nftables rules; tests build it by
//! hand.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

/// An IP family. Each family has its own table (`table ip kube-proxy`, `table ip6 kube-proxy`)
/// and its own sync, as upstream runs one proxier per family on dual-stack nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum IpFamily {
    /// IPv4: `table ip kube-proxy`.
    #[default]
    V4,
    /// IPv6: `table ip6 kube-proxy`.
    V6,
}

impl IpFamily {
    /// Both families, IPv4 first.
    pub const ALL: [IpFamily; 2] = [IpFamily::V4, IpFamily::V6];

    /// The family of `ip`.
    pub fn of(ip: &IpAddr) -> IpFamily {
        match ip {
            IpAddr::V4(_) => IpFamily::V4,
            IpAddr::V6(_) => IpFamily::V6,
        }
    }

    /// The family of `net`.
    pub fn of_net(net: &IpNet) -> IpFamily {
        IpFamily::of(&net.addr())
    }

    /// The Kubernetes spelling, as in `spec.ipFamilies` and an EndpointSlice's `addressType`.
    pub fn k8s(self) -> &'static str {
        match self {
            IpFamily::V4 => "IPv4",
            IpFamily::V6 => "IPv6",
        }
    }

    /// The nftables table family, and the keyword of its address matches (`ip daddr`,
    /// `ip6 daddr`).
    pub fn nft(self) -> &'static str {
        match self {
            IpFamily::V4 => "ip",
            IpFamily::V6 => "ip6",
        }
    }

    /// The nftables address type of sets and map keys.
    pub fn nft_addr_type(self) -> &'static str {
        match self {
            IpFamily::V4 => "ipv4_addr",
            IpFamily::V6 => "ipv6_addr",
        }
    }

    /// The name `conntrack -f` knows the family by.
    pub fn conntrack(self) -> &'static str {
        match self {
            IpFamily::V4 => "ipv4",
            IpFamily::V6 => "ipv6",
        }
    }

    /// This family's kube-proxy table, e.g. `ip6 kube-proxy`.
    pub fn table(self) -> String {
        format!("{} kube-proxy", self.nft())
    }
}

/// A transport protocol a Service port can use; spelled as nftables' `inet_proto` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// Parse a Kubernetes protocol name (`TCP`, `UDP`, `SCTP`; absent means TCP).
    pub fn from_k8s(name: Option<&str>) -> Option<Protocol> {
        match name.unwrap_or("TCP") {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// The nftables keyword (`tcp`, `udp`, `sctp`).
    pub fn nft(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// Identifies one port of one Service: upstream's `ServicePortName`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServicePortName {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
    /// The port's name (empty for a Service's single unnamed port).
    pub port: String,
    /// The port's protocol.
    pub protocol: Protocol,
}

impl fmt::Display for ServicePortName {
    /// `ns/name/proto/port` — the readable tail of every chain name belonging to this port.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.namespace,
            self.name,
            self.protocol.nft(),
            self.port
        )
    }
}

/// One endpoint of a Service port, from an EndpointSlice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The endpoint's address.
    pub ip: IpAddr,
    /// The target port on the endpoint.
    pub port: u16,
    /// `conditions.ready` (absent counts as ready).
    pub ready: bool,
    /// `conditions.serving` (absent: same as ready).
    pub serving: bool,
    /// `conditions.terminating` (absent: false).
    pub terminating: bool,
    /// The node the endpoint runs on, for the `Local` traffic policies.
    pub node_name: Option<String>,
}

/// Everything the rules need about one Service port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePort {
    /// The cluster IP (absent for headless Services, which get no rules).
    pub cluster_ip: Option<IpAddr>,
    /// The Service port.
    pub port: u16,
    /// The allocated node port (NodePort and LoadBalancer Services).
    pub node_port: Option<u16>,
    /// `spec.externalIPs`.
    pub external_ips: Vec<IpAddr>,
    /// `status.loadBalancer.ingress[].ip`.
    pub load_balancer_ips: Vec<IpAddr>,
    /// `externalTrafficPolicy: Local`.
    pub external_policy_local: bool,
    /// `internalTrafficPolicy: Local`.
    pub internal_policy_local: bool,
    /// `sessionAffinity: ClientIP` with this timeout in seconds.
    pub affinity_timeout: Option<u32>,
    /// `spec.loadBalancerSourceRanges`: when set, only these sources may reach the
    /// load-balancer IPs (node ports and cluster IPs are not filtered, as upstream).
    pub source_ranges: Vec<IpNet>,
    /// `spec.healthCheckNodePort` (with `externalTrafficPolicy: Local`): where this node
    /// tells load balancers whether it has local endpoints.
    pub health_check_node_port: Option<u16>,
    /// Every endpoint of the port, in any condition.
    pub endpoints: Vec<Endpoint>,
}

impl ServicePort {
    /// Whether traffic arrives at this port from outside the cluster IP (node port, external
    /// IPs or load-balancer IPs) and so needs the external chain.
    pub fn has_external_destinations(&self) -> bool {
        self.node_port.is_some()
            || !self.external_ips.is_empty()
            || !self.load_balancer_ips.is_empty()
    }
}

/// Picks the endpoints traffic may go to, as upstream's `CategorizeEndpoints` does: ready
/// endpoints, or when none is ready, those still serving while terminating (so a rolling
/// update never leaves a moment with nothing to answer).
pub fn usable_endpoints<'a>(
    endpoints: impl Iterator<Item = &'a Endpoint> + Clone,
) -> Vec<&'a Endpoint> {
    let ready: Vec<&Endpoint> = endpoints.clone().filter(|e| e.ready).collect();
    if !ready.is_empty() {
        return ready;
    }
    endpoints.filter(|e| e.serving && e.terminating).collect()
}

/// The endpoints one Service port sends traffic to, by the kind of traffic.
#[derive(Debug, Default)]
pub struct CategorizedEndpoints<'a> {
    /// For cluster-wide balancing (internal and external traffic with policy `Cluster`).
    pub cluster: Vec<&'a Endpoint>,
    /// Endpoints on this node (the `Local` policies).
    pub local: Vec<&'a Endpoint>,
}

impl CategorizedEndpoints<'_> {
    /// Whether the port has any endpoint at all that traffic could reach; without one,
    /// clients are rejected (connection refused) rather than dropped.
    pub fn any(&self) -> bool {
        !self.cluster.is_empty() || !self.local.is_empty()
    }
}

/// Sort `port`'s endpoints into the cluster-wide and node-local candidates for `node_name`.
pub fn categorize<'a>(port: &'a ServicePort, node_name: &str) -> CategorizedEndpoints<'a> {
    let all = port.endpoints.iter();
    let cluster = usable_endpoints(all.clone());
    let local = usable_endpoints(all.filter(|e| e.node_name.as_deref() == Some(node_name)));
    CategorizedEndpoints { cluster, local }
}

/// The whole input of a sync: node-wide settings and every Service port.
#[derive(Debug, Clone, Default)]
pub struct ProxyModel {
    /// The family this model is for: every address below is of this family.
    pub family: IpFamily,
    /// This node's name (`--hostname-override`), for the `Local` policies.
    pub node_name: String,
    /// `--cluster-cidr`: traffic to a cluster IP from outside these ranges is masqueraded.
    pub cluster_cidrs: Vec<IpNet>,
    /// `--masquerade-all`: masquerade all traffic to cluster IPs.
    pub masquerade_all: bool,
    /// `--nodeport-addresses`: node ports answer only on local addresses in these ranges;
    /// empty means every local address, 127.0.0.1 included.
    pub nodeport_addresses: Vec<IpNet>,
    /// Every Service port with a cluster IP, by name.
    pub services: BTreeMap<ServicePortName, ServicePort>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(last: u8, ready: bool, serving: bool, terminating: bool, node: &str) -> Endpoint {
        Endpoint {
            ip: IpAddr::from([10, 244, 0, last]),
            port: 80,
            ready,
            serving,
            terminating,
            node_name: Some(node.into()),
        }
    }

    fn port(endpoints: Vec<Endpoint>) -> ServicePort {
        ServicePort {
            cluster_ip: Some(IpAddr::from([10, 96, 0, 10])),
            port: 80,
            node_port: None,
            external_ips: vec![],
            load_balancer_ips: vec![],
            external_policy_local: false,
            internal_policy_local: false,
            affinity_timeout: None,
            source_ranges: vec![],
            health_check_node_port: None,
            endpoints,
        }
    }

    #[test]
    fn ready_endpoints_win_over_terminating_ones() {
        let p = port(vec![
            ep(1, true, true, false, "a"),
            ep(2, false, true, true, "b"),
        ]);
        let c = categorize(&p, "a");
        assert_eq!(c.cluster.len(), 1);
        assert_eq!(c.cluster[0].ip, IpAddr::from([10, 244, 0, 1]));
    }

    #[test]
    fn serving_terminating_endpoints_are_the_fallback() {
        let p = port(vec![
            ep(1, false, false, true, "a"),
            ep(2, false, true, true, "b"),
            ep(3, false, false, false, "b"),
        ]);
        let c = categorize(&p, "a");
        assert_eq!(
            c.cluster
                .iter()
                .map(|e| e.ip.to_string())
                .collect::<Vec<_>>(),
            vec!["10.244.0.2".to_string()]
        );
        assert!(c.local.is_empty(), "the only local endpoint is not serving");
        assert!(c.any());
    }

    #[test]
    fn local_endpoints_fall_back_per_node() {
        let p = port(vec![
            ep(1, true, true, false, "b"),
            ep(2, false, true, true, "a"),
        ]);
        let c = categorize(&p, "a");
        assert_eq!(c.cluster.len(), 1, "cluster-wide, the ready one wins");
        assert_eq!(c.local.len(), 1, "locally, the terminating one serves");
        assert_eq!(c.local[0].ip, IpAddr::from([10, 244, 0, 2]));
    }

    #[test]
    fn no_endpoints_means_none_at_all() {
        let p = port(vec![ep(1, false, false, false, "a")]);
        assert!(!categorize(&p, "a").any());
    }
}
