//! The rule layout of upstream kube-proxy's nftables mode, as a pure function from a
//! [`ProxyModel`] to a [`Ruleset`].
//!
//! Packet path: the nat hooks (`nat-prerouting`, `nat-output`) jump to `services`, which looks
//! up `daddr . proto . dport` in the `service-ips` verdict map (cluster, external and
//! load-balancer IPs) and `proto . dport` in `service-nodeports` for local destinations. A
//! Service port's `service-…` chain picks an endpoint with `numgen random mod N vmap`, and the
//! `endpoint-…` chain DNATs to it. Traffic to a Service without endpoints is rejected in the
//! filter hooks (`no-endpoint-services`, `no-endpoint-nodeports`) before NAT sees it, so
//! clients get "connection refused" at once. Packets marked with 0x4000 on the way are
//! masqueraded in `nat-postrouting`.
//!
//! Each IP family gets its own table (`ip kube-proxy`, `ip6 kube-proxy`) rendered from that
//! family's model; the layout is the same, only address types and matches differ. Node ports
//! on loopback exist only for IPv4 (IPv6 has no `route_localnet`), as upstream.

use std::fmt::Write;
use std::net::IpAddr;

use sha2::{Digest, Sha256};

use crate::model::{categorize, Endpoint, IpFamily, ProxyModel, ServicePort, ServicePortName};
use crate::ruleset::{Chain, Collection, Ruleset};

/// The IPv4 table's family and name, as upstream names it (IPv6: `ip6 kube-proxy`, see
/// [`IpFamily::table`]).
pub const TABLE: &str = "ip kube-proxy";

/// The packet mark that asks `nat-postrouting` to masquerade.
const MASQ_MARK: &str = "0x4000";

const SERVICE_IPS: &str = "service-ips";
const SERVICE_NODEPORTS: &str = "service-nodeports";
const NO_ENDPOINT_SERVICES: &str = "no-endpoint-services";
const NO_ENDPOINT_NODEPORTS: &str = "no-endpoint-nodeports";
const CLUSTER_IPS: &str = "cluster-ips";
const NODEPORT_IPS: &str = "nodeport-ips";
const CLUSTER_CIDRS: &str = "cluster-cidrs";
const FIREWALL_IPS: &str = "firewall-ips";

/// A short, stable hash that keeps chain names unique even when the readable tail is cut.
fn hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    let mut out = String::with_capacity(8);
    for b in &digest[..4] {
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// `service-<hash>-ns/name/proto/port`: balances across cluster-wide endpoints.
pub fn service_chain(name: &ServicePortName) -> String {
    let key = name.to_string();
    format!("service-{}-{key}", hash(&key))
}

/// `local-<hash>-…`: balances across this node's endpoints (the `Local` policies).
pub fn local_chain(name: &ServicePortName) -> String {
    let key = name.to_string();
    format!("local-{}-{key}", hash(&key))
}

/// `external-<hash>-…`: node port, external IP and load-balancer traffic.
pub fn external_chain(name: &ServicePortName) -> String {
    let key = name.to_string();
    format!("external-{}-{key}", hash(&key))
}

/// `firewall-<hash>-…`: drops load-balancer traffic from sources outside
/// `loadBalancerSourceRanges`.
pub fn firewall_chain(name: &ServicePortName) -> String {
    let key = name.to_string();
    format!("firewall-{}-{key}", hash(&key))
}

/// `ip/port` of an endpoint, readable in a chain name: an IPv6 address's colons become dots,
/// since nft identifiers cannot hold a colon (the hash is of the exact address).
fn endpoint_key(name: &ServicePortName, ep: &Endpoint) -> (String, String) {
    let key = format!("{name}__{}/{}", ep.ip, ep.port);
    let readable = key.replace(':', ".");
    (key, readable)
}

/// `endpoint-<hash>-…__ip/port`: DNAT to one endpoint.
pub fn endpoint_chain(name: &ServicePortName, ep: &Endpoint) -> String {
    let (key, readable) = endpoint_key(name, ep);
    format!("endpoint-{}-{readable}", hash(&key))
}

/// `affinity-<hash>-…__ip/port`: clients recently sent to one endpoint. The timeout is part of
/// the hash, so a changed timeout makes a new set instead of redeclaring one in place.
pub fn affinity_set(name: &ServicePortName, ep: &Endpoint, timeout: u32) -> String {
    let (key, readable) = endpoint_key(name, ep);
    format!("affinity-{}-{readable}", hash(&format!("{key}@{timeout}")))
}

/// The `dnat to` target: `[addr]:port` for IPv6, whose address has colons of its own.
fn dnat_target(ep: &Endpoint) -> String {
    match ep.ip {
        IpAddr::V4(ip) => format!("{ip}:{}", ep.port),
        IpAddr::V6(ip) => format!("[{ip}]:{}", ep.port),
    }
}

fn hook(kind: &str, hook: &str, priority: i32) -> Option<String> {
    Some(format!(
        "type {kind} hook {hook} priority {priority} ; policy accept ;"
    ))
}

fn chain(hook: Option<String>, rules: &[&str]) -> Chain {
    Chain {
        hook,
        rules: rules.iter().map(|r| r.to_string()).collect(),
    }
}

fn map(declaration: &str) -> Collection {
    Collection {
        declaration: declaration.into(),
        ..Default::default()
    }
}

/// The chains and collections every ruleset has, whatever the Services.
fn base(model: &ProxyModel, out: &mut Ruleset) {
    let f = model.family.nft();
    let addr = model.family.nft_addr_type();
    let addr_port = format!("type {addr} . inet_proto . inet_service : verdict ;");
    let addr_port = addr_port.as_str();
    let port = "type inet_proto . inet_service : verdict ;";
    out.collections.insert(SERVICE_IPS.into(), map(addr_port));
    out.collections.insert(SERVICE_NODEPORTS.into(), map(port));
    out.collections
        .insert(NO_ENDPOINT_SERVICES.into(), map(addr_port));
    out.collections
        .insert(NO_ENDPOINT_NODEPORTS.into(), map(port));
    out.collections
        .insert(CLUSTER_IPS.into(), map(&format!("type {addr} ;")));
    out.collections.insert(FIREWALL_IPS.into(), map(addr_port));

    if !model.cluster_cidrs.is_empty() {
        let mut set = map(&format!("type {addr} ; flags interval ;"));
        for net in &model.cluster_cidrs {
            set.elements.insert(net.to_string(), String::new());
        }
        out.collections.insert(CLUSTER_CIDRS.into(), set);
    }
    let local_nodeport_match = if model.nodeport_addresses.is_empty() {
        match model.family {
            IpFamily::V4 => "fib daddr type local".to_string(),
            // No route_localnet for IPv6: a node port on ::1 could not be DNATed off the
            // loopback device, so it is not one (upstream's rule).
            IpFamily::V6 => "fib daddr type local ip6 daddr != ::1".to_string(),
        }
    } else {
        let mut set = map(&format!("type {addr} ; flags interval ;"));
        for net in &model.nodeport_addresses {
            set.elements.insert(net.to_string(), String::new());
        }
        out.collections.insert(NODEPORT_IPS.into(), set);
        format!("fib daddr type local {f} daddr @{NODEPORT_IPS}")
    };
    // Node ports on 127.0.0.1 need route_localnet, which would also accept packets for
    // 127/8 from the wire; those are dropped here, as upstream's iptables mode does.
    let mut prerouting = Vec::new();
    if model.family == IpFamily::V4 {
        prerouting.push("iifname != \"lo\" ip daddr 127.0.0.0/8 drop");
    }
    prerouting.push("ct state new jump firewall-check");

    let chains = &mut out.chains;
    // Filter hooks run before (-110) and after (-90) DNAT (-100).
    chains.insert(
        "filter-prerouting".into(),
        chain(hook("filter", "prerouting", -110), &prerouting),
    );
    chains.insert(
        "filter-input".into(),
        chain(
            hook("filter", "input", -110),
            &[
                "ct state new jump nodeport-endpoints-check",
                "ct state new jump service-endpoints-check",
            ],
        ),
    );
    chains.insert(
        "filter-forward".into(),
        chain(
            hook("filter", "forward", -110),
            &[
                "ct state new jump service-endpoints-check",
                "ct state new jump cluster-ips-check",
            ],
        ),
    );
    chains.insert(
        "filter-output".into(),
        chain(
            hook("filter", "output", -110),
            &[
                "ct state new jump service-endpoints-check",
                "ct state new jump firewall-check",
            ],
        ),
    );
    chains.insert(
        "filter-output-post-dnat".into(),
        chain(
            hook("filter", "output", -90),
            &["ct state new jump cluster-ips-check"],
        ),
    );
    chains.insert(
        "nat-prerouting".into(),
        chain(hook("nat", "prerouting", -100), &["jump services"]),
    );
    chains.insert(
        "nat-output".into(),
        chain(hook("nat", "output", -100), &["jump services"]),
    );
    chains.insert(
        "nat-postrouting".into(),
        chain(hook("nat", "postrouting", 100), &["jump masquerading"]),
    );
    chains.insert(
        "cluster-ips-check".into(),
        // Still addressed to a cluster IP after DNAT: a port the Service does not have.
        chain(None, &[&format!("{f} daddr @{CLUSTER_IPS} reject")]),
    );
    chains.insert(
        "service-endpoints-check".into(),
        chain(
            None,
            &[&format!(
                "{f} daddr . meta l4proto . th dport vmap @{NO_ENDPOINT_SERVICES}"
            )],
        ),
    );
    chains.insert(
        "nodeport-endpoints-check".into(),
        chain(
            None,
            &[&format!(
                "{local_nodeport_match} meta l4proto . th dport vmap @{NO_ENDPOINT_NODEPORTS}"
            )],
        ),
    );
    chains.insert(
        "firewall-check".into(),
        // Before DNAT: load-balancer IPs with loadBalancerSourceRanges go to their
        // `firewall-…` chain, which drops other sources.
        chain(
            None,
            &[&format!(
                "{f} daddr . meta l4proto . th dport vmap @{FIREWALL_IPS}"
            )],
        ),
    );
    chains.insert(
        "reject-chain".into(),
        chain(None, &["meta l4proto tcp reject with tcp reset", "reject"]),
    );
    chains.insert(
        "mark-for-masquerade".into(),
        chain(None, &[&format!("meta mark set meta mark | {MASQ_MARK}")]),
    );
    chains.insert(
        "masquerading".into(),
        chain(
            None,
            &[
                &format!("meta mark & {MASQ_MARK} == 0 return"),
                &format!("meta mark set meta mark ^ {MASQ_MARK}"),
                "masquerade fully-random",
            ],
        ),
    );
    chains.insert(
        "services".into(),
        chain(
            None,
            &[
                &format!("{f} daddr . meta l4proto . th dport vmap @{SERVICE_IPS}"),
                &format!(
                    "{local_nodeport_match} meta l4proto . th dport vmap @{SERVICE_NODEPORTS}"
                ),
            ],
        ),
    );
}

/// `ip saddr != @cluster-cidrs` (`ip6` for IPv6), the "not from a pod" match.
fn not_from_cluster(model: &ProxyModel) -> Option<String> {
    if model.masquerade_all {
        return Some(String::new());
    }
    if model.cluster_cidrs.is_empty() {
        return None;
    }
    Some(format!("{} saddr != @{CLUSTER_CIDRS} ", model.family.nft()))
}

/// Rules that pick one of `endpoints` for `chain`: sticky clients first, then a random
/// choice through the named verdict map of the same name as the chain. (Named, not an
/// anonymous `vmap { … }`: the kernel allocates anonymous set names by scanning every set of
/// the table, which made a 2,000-Service transaction take 26 s instead of 3 s here.)
fn balance(
    family: IpFamily,
    name: &ServicePortName,
    sp: &ServicePort,
    endpoints: &[&Endpoint],
    chain: &str,
    out: &mut Ruleset,
) -> Vec<String> {
    let mut rules = Vec::new();
    if let Some(timeout) = sp.affinity_timeout {
        for ep in endpoints {
            rules.push(format!(
                "{} saddr @{} goto {}",
                family.nft(),
                affinity_set(name, ep, timeout),
                endpoint_chain(name, ep)
            ));
        }
    }
    if !endpoints.is_empty() {
        let mut vmap = map("typeof numgen random mod 1 : verdict ;");
        for (i, ep) in endpoints.iter().enumerate() {
            vmap.elements
                .insert(i.to_string(), format!("goto {}", endpoint_chain(name, ep)));
        }
        out.collections.insert(chain.to_string(), vmap);
        rules.push(format!(
            "numgen random mod {} vmap @{chain}",
            endpoints.len()
        ));
    }
    rules
}

/// The verdict for traffic that has no endpoint to go to: refuse when the Service has no
/// endpoints at all, drop when endpoints exist but the traffic policy rules them out.
fn no_endpoint_verdict(any: bool) -> &'static str {
    if any {
        "drop"
    } else {
        "goto reject-chain"
    }
}

fn addr_key(ip: IpAddr, sp: &ServicePort, proto: &str) -> String {
    format!("{ip} . {proto} . {}", sp.port)
}

fn add_element(out: &mut Ruleset, set: &str, key: String, value: String) {
    if let Some(c) = out.collections.get_mut(set) {
        c.elements.insert(key, value);
    }
}

/// The chains and map elements of one Service port.
fn service_port(model: &ProxyModel, name: &ServicePortName, sp: &ServicePort, out: &mut Ruleset) {
    let Some(cluster_ip) = sp.cluster_ip else {
        return;
    };
    let proto = name.protocol.nft();
    let f = model.family.nft();
    let eps = categorize(sp, &model.node_name);
    let svc_chain = service_chain(name);
    let loc_chain = local_chain(name);

    add_element(out, CLUSTER_IPS, cluster_ip.to_string(), String::new());

    // Endpoint chains (shared by the cluster and local chains) and affinity sets.
    let mut used: Vec<&Endpoint> = eps.cluster.clone();
    for ep in &eps.local {
        if !used.iter().any(|u| u.ip == ep.ip && u.port == ep.port) {
            used.push(ep);
        }
    }
    for ep in &used {
        let mut rules = vec![format!("{f} saddr {} jump mark-for-masquerade", ep.ip)];
        if let Some(timeout) = sp.affinity_timeout {
            let set = affinity_set(name, ep, timeout);
            out.collections.insert(
                set.clone(),
                Collection {
                    declaration: format!(
                        "type {} ; flags dynamic,timeout ; timeout {timeout}s ;",
                        model.family.nft_addr_type()
                    ),
                    elements: Default::default(),
                    dynamic: true,
                },
            );
            rules.push(format!("update @{set} {{ {f} saddr }}"));
        }
        rules.push(format!("meta l4proto {proto} dnat to {}", dnat_target(ep)));
        out.chains
            .insert(endpoint_chain(name, ep), Chain { hook: None, rules });
    }

    // The cluster-wide chain.
    let mut rules = Vec::new();
    if let Some(not_pod) = not_from_cluster(model) {
        rules.push(format!(
            "{f} daddr {cluster_ip} {proto} dport {} {not_pod}jump mark-for-masquerade",
            sp.port
        ));
    }
    rules.extend(balance(
        model.family,
        name,
        sp,
        &eps.cluster,
        &svc_chain,
        out,
    ));
    out.chains
        .insert(svc_chain.clone(), Chain { hook: None, rules });

    let needs_local = sp.internal_policy_local || sp.external_policy_local;
    if needs_local {
        let rules = balance(model.family, name, sp, &eps.local, &loc_chain, out);
        out.chains
            .insert(loc_chain.clone(), Chain { hook: None, rules });
    }

    // Traffic to the cluster IP.
    let internal = if sp.internal_policy_local {
        (&eps.local, &loc_chain)
    } else {
        (&eps.cluster, &svc_chain)
    };
    let key = addr_key(cluster_ip, sp, proto);
    if internal.0.is_empty() {
        add_element(
            out,
            NO_ENDPOINT_SERVICES,
            key,
            no_endpoint_verdict(eps.any()).into(),
        );
    } else {
        add_element(out, SERVICE_IPS, key, format!("goto {}", internal.1));
    }

    if !sp.has_external_destinations() {
        return;
    }
    // Traffic from outside: node ports, external IPs, load-balancer IPs.
    let ext_chain = external_chain(name);
    let external_eps = if sp.external_policy_local {
        &eps.local
    } else {
        &eps.cluster
    };
    let mut rules = Vec::new();
    if sp.external_policy_local {
        // Pods and the node itself may use any endpoint (upstream's short-circuits); only
        // traffic from elsewhere keeps its source and stays on this node.
        if !model.cluster_cidrs.is_empty() && !eps.cluster.is_empty() {
            rules.push(format!("{f} saddr @{CLUSTER_CIDRS} goto {svc_chain}"));
        }
        if !eps.cluster.is_empty() {
            rules.push("fib saddr type local jump mark-for-masquerade".into());
            rules.push(format!("fib saddr type local goto {svc_chain}"));
        }
        if eps.local.is_empty() {
            rules.push("drop".into());
        } else {
            rules.push(format!("goto {loc_chain}"));
        }
    } else {
        rules.push("jump mark-for-masquerade".into());
        rules.push(format!("goto {svc_chain}"));
    }
    out.chains
        .insert(ext_chain.clone(), Chain { hook: None, rules });

    if !sp.load_balancer_ips.is_empty() && !sp.source_ranges.is_empty() {
        let fw_chain = firewall_chain(name);
        let ranges: Vec<String> = sp.source_ranges.iter().map(|r| r.to_string()).collect();
        out.chains.insert(
            fw_chain.clone(),
            Chain {
                hook: None,
                rules: vec![format!("{f} saddr != {{ {} }} drop", ranges.join(", "))],
            },
        );
        for ip in &sp.load_balancer_ips {
            add_element(
                out,
                FIREWALL_IPS,
                addr_key(*ip, sp, proto),
                format!("goto {fw_chain}"),
            );
        }
    }

    let external_ok = !external_eps.is_empty();
    let verdict = no_endpoint_verdict(eps.any());
    for ip in sp.external_ips.iter().chain(&sp.load_balancer_ips) {
        let key = addr_key(*ip, sp, proto);
        if external_ok {
            add_element(out, SERVICE_IPS, key, format!("goto {ext_chain}"));
        } else {
            add_element(out, NO_ENDPOINT_SERVICES, key, verdict.into());
        }
    }
    if let Some(node_port) = sp.node_port {
        let key = format!("{proto} . {node_port}");
        // Local policy with only remote endpoints still serves pods and the node through
        // the external chain's short-circuits; only a port with no endpoints is refused.
        if external_ok || (sp.external_policy_local && !eps.cluster.is_empty()) {
            add_element(out, SERVICE_NODEPORTS, key, format!("goto {ext_chain}"));
        } else {
            add_element(out, NO_ENDPOINT_NODEPORTS, key, verdict.into());
        }
    }
}

/// The whole ruleset for `model`, in its family's table.
pub fn render(model: &ProxyModel) -> Ruleset {
    let mut out = Ruleset {
        table: model.family.table(),
        ..Default::default()
    };
    base(model, &mut out);
    for (name, sp) in &model.services {
        service_port(model, name, sp, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;

    fn name(svc: &str) -> ServicePortName {
        ServicePortName {
            namespace: "ns".into(),
            name: svc.into(),
            port: "http".into(),
            protocol: Protocol::Tcp,
        }
    }

    fn ep(last: u8, node: &str) -> Endpoint {
        Endpoint {
            ip: IpAddr::from([10, 244, 1, last]),
            port: 8080,
            ready: true,
            serving: true,
            terminating: false,
            node_name: Some(node.into()),
        }
    }

    fn sp(endpoints: Vec<Endpoint>) -> ServicePort {
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

    fn model(ports: Vec<(ServicePortName, ServicePort)>) -> ProxyModel {
        ProxyModel {
            family: IpFamily::V4,
            node_name: "node-a".into(),
            cluster_cidrs: vec!["10.244.0.0/16".parse().unwrap()],
            masquerade_all: false,
            nodeport_addresses: vec![],
            services: ports.into_iter().collect(),
        }
    }

    fn element<'a>(r: &'a Ruleset, set: &str, key: &str) -> Option<&'a str> {
        r.collections[set].elements.get(key).map(String::as_str)
    }

    #[test]
    fn cluster_ip_balances_randomly_across_ready_endpoints() {
        let n = name("web");
        let r = render(&model(vec![(
            n.clone(),
            sp(vec![ep(1, "node-a"), ep(2, "node-b"), ep(3, "node-b")]),
        )]));
        assert_eq!(
            element(&r, SERVICE_IPS, "10.96.0.10 . tcp . 80"),
            Some(format!("goto {}", service_chain(&n)).as_str())
        );
        let rules = &r.chains[&service_chain(&n)].rules;
        assert_eq!(
            rules.last().unwrap(),
            &format!("numgen random mod 3 vmap @{}", service_chain(&n))
        );
        assert_eq!(
            element(&r, &service_chain(&n), "2"),
            Some(format!("goto {}", endpoint_chain(&n, &ep(3, "node-b"))).as_str())
        );
        let dnat = &r.chains[&endpoint_chain(&n, &ep(2, "x"))].rules;
        assert_eq!(
            dnat.last().unwrap(),
            "meta l4proto tcp dnat to 10.244.1.2:8080"
        );
        assert!(element(&r, CLUSTER_IPS, "10.96.0.10").is_some());
        assert!(element(&r, NO_ENDPOINT_SERVICES, "10.96.0.10 . tcp . 80").is_none());
    }

    #[test]
    fn terminating_serving_endpoints_are_used_when_none_is_ready() {
        let n = name("web");
        let mut old = ep(1, "node-a");
        old.ready = false;
        old.terminating = true;
        let mut gone = ep(2, "node-a");
        gone.ready = false;
        gone.serving = false;
        gone.terminating = true;
        let r = render(&model(vec![(
            n.clone(),
            sp(vec![old.clone(), gone.clone()]),
        )]));
        let numgen = r.chains[&service_chain(&n)].rules.last().unwrap().clone();
        assert!(numgen.starts_with("numgen random mod 1 "), "{numgen}");
        assert_eq!(
            element(&r, &service_chain(&n), "0"),
            Some(format!("goto {}", endpoint_chain(&n, &old)).as_str())
        );
        assert!(!r.chains.contains_key(&endpoint_chain(&n, &gone)));
    }

    #[test]
    fn service_without_endpoints_is_rejected() {
        let n = name("empty");
        let mut sport = sp(vec![]);
        sport.node_port = Some(30080);
        let r = render(&model(vec![(n, sport)]));
        assert_eq!(
            element(&r, NO_ENDPOINT_SERVICES, "10.96.0.10 . tcp . 80"),
            Some("goto reject-chain")
        );
        assert_eq!(
            element(&r, NO_ENDPOINT_NODEPORTS, "tcp . 30080"),
            Some("goto reject-chain")
        );
        assert!(element(&r, SERVICE_IPS, "10.96.0.10 . tcp . 80").is_none());
        assert_eq!(
            r.chains["reject-chain"].rules,
            vec!["meta l4proto tcp reject with tcp reset", "reject"]
        );
        // The check runs in every filter hook a client's first packet passes.
        for hook in ["filter-input", "filter-forward", "filter-output"] {
            assert!(r.chains[hook]
                .rules
                .iter()
                .any(|x| x == "ct state new jump service-endpoints-check"));
        }
    }

    #[test]
    fn traffic_from_outside_the_cluster_cidr_and_hairpin_is_masqueraded() {
        let n = name("web");
        let r = render(&model(vec![(n.clone(), sp(vec![ep(1, "node-a")]))]));
        assert_eq!(
            r.chains[&service_chain(&n)].rules[0],
            "ip daddr 10.96.0.10 tcp dport 80 ip saddr != @cluster-cidrs jump mark-for-masquerade"
        );
        assert!(element(&r, CLUSTER_CIDRS, "10.244.0.0/16").is_some());
        assert_eq!(
            r.chains[&endpoint_chain(&n, &ep(1, "node-a"))].rules[0],
            "ip saddr 10.244.1.1 jump mark-for-masquerade",
            "a pod reaching itself through its Service is masqueraded (hairpin)"
        );
        assert_eq!(
            r.chains["masquerading"].rules,
            vec![
                "meta mark & 0x4000 == 0 return",
                "meta mark set meta mark ^ 0x4000",
                "masquerade fully-random"
            ]
        );
    }

    #[test]
    fn without_cluster_cidr_only_masquerade_all_masquerades_cluster_ip_traffic() {
        let n = name("web");
        let mut m = model(vec![(n.clone(), sp(vec![ep(1, "node-a")]))]);
        m.cluster_cidrs.clear();
        let r = render(&m);
        assert!(r.chains[&service_chain(&n)].rules[0].starts_with("numgen"));
        m.masquerade_all = true;
        let r = render(&m);
        assert_eq!(
            r.chains[&service_chain(&n)].rules[0],
            "ip daddr 10.96.0.10 tcp dport 80 jump mark-for-masquerade"
        );
    }

    #[test]
    fn node_port_on_every_local_address_goes_through_the_external_chain() {
        let n = name("web");
        let mut sport = sp(vec![ep(1, "node-b")]);
        sport.node_port = Some(30080);
        let r = render(&model(vec![(n.clone(), sport)]));
        assert_eq!(
            element(&r, SERVICE_NODEPORTS, "tcp . 30080"),
            Some(format!("goto {}", external_chain(&n)).as_str())
        );
        assert_eq!(
            r.chains[&external_chain(&n)].rules,
            vec![
                "jump mark-for-masquerade".to_string(),
                format!("goto {}", service_chain(&n))
            ]
        );
        assert!(r.chains["services"].rules[1]
            .starts_with("fib daddr type local meta l4proto . th dport vmap @service-nodeports"));
        assert!(r.chains["filter-prerouting"].rules[0].contains("127.0.0.0/8 drop"));
    }

    #[test]
    fn nodeport_addresses_limit_the_local_addresses() {
        let n = name("web");
        let mut sport = sp(vec![ep(1, "node-b")]);
        sport.node_port = Some(30080);
        let mut m = model(vec![(n, sport)]);
        m.nodeport_addresses = vec!["192.0.2.0/24".parse().unwrap()];
        let r = render(&m);
        assert!(element(&r, NODEPORT_IPS, "192.0.2.0/24").is_some());
        assert!(r.chains["services"].rules[1]
            .starts_with("fib daddr type local ip daddr @nodeport-ips meta l4proto"));
    }

    #[test]
    fn load_balancer_and_external_ips_use_the_external_chain() {
        let n = name("web");
        let mut sport = sp(vec![ep(1, "node-a")]);
        sport.load_balancer_ips = vec![IpAddr::from([127, 0, 0, 100])];
        sport.external_ips = vec![IpAddr::from([192, 0, 2, 50])];
        let r = render(&model(vec![(n.clone(), sport)]));
        let ext = format!("goto {}", external_chain(&n));
        assert_eq!(
            element(&r, SERVICE_IPS, "127.0.0.100 . tcp . 80"),
            Some(ext.as_str())
        );
        assert_eq!(
            element(&r, SERVICE_IPS, "192.0.2.50 . tcp . 80"),
            Some(ext.as_str())
        );
    }

    #[test]
    fn load_balancer_source_ranges_drop_other_sources_before_dnat() {
        let n = name("lb");
        let mut port = sp(vec![ep(1, "node-a")]);
        port.load_balancer_ips = vec![IpAddr::from([127, 240, 0, 5])];
        port.source_ranges = vec![
            "192.0.2.0/24".parse().unwrap(),
            "10.1.0.0/16".parse().unwrap(),
        ];
        let r = render(&model(vec![(n.clone(), port.clone())]));
        let fw = firewall_chain(&n);
        assert_eq!(
            element(&r, FIREWALL_IPS, "127.240.0.5 . tcp . 80"),
            Some(format!("goto {fw}").as_str())
        );
        assert_eq!(
            r.chains[&fw].rules,
            vec!["ip saddr != { 192.0.2.0/24, 10.1.0.0/16 } drop".to_string()]
        );
        // The check runs in the filter hooks before DNAT, for new connections only.
        for hook in ["filter-prerouting", "filter-output"] {
            assert!(r.chains[hook]
                .rules
                .contains(&"ct state new jump firewall-check".to_string()));
        }
        // The cluster IP is not filtered; without ranges nothing is.
        assert_eq!(element(&r, FIREWALL_IPS, "10.96.0.10 . tcp . 80"), None);
        port.source_ranges.clear();
        let r = render(&model(vec![(n.clone(), port)]));
        assert!(r.collections[FIREWALL_IPS].elements.is_empty());
        assert!(!r.chains.contains_key(&fw));
    }

    #[test]
    fn external_policy_local_keeps_outside_traffic_on_local_endpoints() {
        let n = name("web");
        let mut sport = sp(vec![ep(1, "node-a"), ep(2, "node-b")]);
        sport.node_port = Some(30080);
        sport.external_policy_local = true;
        let r = render(&model(vec![(n.clone(), sport.clone())]));
        let ext = &r.chains[&external_chain(&n)].rules;
        assert_eq!(
            ext,
            &vec![
                format!("ip saddr @cluster-cidrs goto {}", service_chain(&n)),
                "fib saddr type local jump mark-for-masquerade".to_string(),
                format!("fib saddr type local goto {}", service_chain(&n)),
                format!("goto {}", local_chain(&n)),
            ]
        );
        let local = r.chains[&local_chain(&n)].rules.last().unwrap().clone();
        assert!(local.starts_with("numgen random mod 1 "));
        assert_eq!(
            element(&r, &local_chain(&n), "0"),
            Some(format!("goto {}", endpoint_chain(&n, &ep(1, "node-a"))).as_str())
        );

        // No local endpoint: outside traffic is dropped, not refused.
        sport.endpoints = vec![ep(2, "node-b")];
        let r = render(&model(vec![(n.clone(), sport)]));
        assert_eq!(r.chains[&external_chain(&n)].rules.last().unwrap(), "drop");
    }

    #[test]
    fn internal_policy_local_sends_cluster_ip_traffic_to_local_endpoints_only() {
        let n = name("web");
        let mut sport = sp(vec![ep(1, "node-a"), ep(2, "node-b")]);
        sport.internal_policy_local = true;
        let r = render(&model(vec![(n.clone(), sport.clone())]));
        assert_eq!(
            element(&r, SERVICE_IPS, "10.96.0.10 . tcp . 80"),
            Some(format!("goto {}", local_chain(&n)).as_str())
        );
        sport.endpoints = vec![ep(2, "node-b")];
        let r = render(&model(vec![(n, sport)]));
        assert_eq!(
            element(&r, NO_ENDPOINT_SERVICES, "10.96.0.10 . tcp . 80"),
            Some("drop"),
            "endpoints exist elsewhere: dropped, not refused"
        );
    }

    #[test]
    fn client_ip_affinity_uses_timed_sets() {
        let n = name("sticky");
        let mut sport = sp(vec![ep(1, "node-a"), ep(2, "node-a")]);
        sport.affinity_timeout = Some(600);
        let r = render(&model(vec![(n.clone(), sport)]));
        let e1 = ep(1, "node-a");
        let set = affinity_set(&n, &e1, 600);
        assert_eq!(
            r.collections[&set].declaration,
            "type ipv4_addr ; flags dynamic,timeout ; timeout 600s ;"
        );
        assert!(r.collections[&set].dynamic);
        let svc = &r.chains[&service_chain(&n)].rules;
        assert!(svc.contains(&format!("ip saddr @{set} goto {}", endpoint_chain(&n, &e1))));
        assert!(
            svc.last().unwrap().starts_with("numgen"),
            "stickiness is checked first"
        );
        assert!(r.chains[&endpoint_chain(&n, &e1)]
            .rules
            .contains(&format!("update @{set} {{ ip saddr }}")));
        assert_ne!(
            set,
            affinity_set(&n, &e1, 601),
            "a new timeout is a new set"
        );
    }

    #[test]
    fn headless_services_get_no_rules() {
        let n = name("headless");
        let mut sport = sp(vec![ep(1, "node-a")]);
        sport.cluster_ip = None;
        let r = render(&model(vec![(n.clone(), sport)]));
        assert!(!r.chains.contains_key(&service_chain(&n)));
        assert!(r.collections[SERVICE_IPS].elements.is_empty());
    }

    fn ep6(last: u16, node: &str) -> Endpoint {
        Endpoint {
            ip: IpAddr::from([0xfd00, 0x244, 0, 1, 0, 0, 0, last]),
            ..ep(1, node)
        }
    }

    fn model6(ports: Vec<(ServicePortName, ServicePort)>) -> ProxyModel {
        ProxyModel {
            family: IpFamily::V6,
            cluster_cidrs: vec!["fd00:244::/56".parse().unwrap()],
            ..model(ports)
        }
    }

    fn sp6(endpoints: Vec<Endpoint>) -> ServicePort {
        ServicePort {
            cluster_ip: Some("fd00:96::10".parse().unwrap()),
            ..sp(endpoints)
        }
    }

    #[test]
    fn ipv6_model_renders_the_ip6_table() {
        let n = name("web");
        let e1 = ep6(1, "node-a");
        let mut port = sp6(vec![e1.clone(), ep6(2, "node-b")]);
        port.affinity_timeout = Some(60);
        port.node_port = Some(30080);
        let r = render(&model6(vec![(n.clone(), port)]));
        assert_eq!(r.table, "ip6 kube-proxy");
        assert_eq!(
            r.collections[SERVICE_IPS].declaration,
            "type ipv6_addr . inet_proto . inet_service : verdict ;"
        );
        assert_eq!(
            element(&r, SERVICE_IPS, "fd00:96::10 . tcp . 80"),
            Some(format!("goto {}", service_chain(&n)).as_str())
        );
        assert!(element(&r, CLUSTER_IPS, "fd00:96::10").is_some());
        assert!(element(&r, CLUSTER_CIDRS, "fd00:244::/56").is_some());
        assert_eq!(
            r.chains["services"].rules,
            vec![
                "ip6 daddr . meta l4proto . th dport vmap @service-ips".to_string(),
                "fib daddr type local ip6 daddr != ::1 meta l4proto . th dport vmap @service-nodeports"
                    .to_string(),
            ],
            "no node ports on ::1 (IPv6 has no route_localnet)"
        );
        assert_eq!(
            r.chains[&service_chain(&n)].rules[0],
            "ip6 daddr fd00:96::10 tcp dport 80 ip6 saddr != @cluster-cidrs jump mark-for-masquerade"
        );
        let chain = endpoint_chain(&n, &e1);
        assert!(
            chain.ends_with("__fd00.244.0.1..1/8080"),
            "colons cannot be in a chain name: {chain}"
        );
        let set = affinity_set(&n, &e1, 60);
        assert_eq!(
            r.collections[&set].declaration,
            "type ipv6_addr ; flags dynamic,timeout ; timeout 60s ;"
        );
        assert_eq!(
            r.chains[&chain].rules,
            vec![
                "ip6 saddr fd00:244:0:1::1 jump mark-for-masquerade".to_string(),
                format!("update @{set} {{ ip6 saddr }}"),
                "meta l4proto tcp dnat to [fd00:244:0:1::1]:8080".to_string(),
            ]
        );
        assert!(
            r.chains["filter-prerouting"]
                .rules
                .iter()
                .all(|rule| !rule.contains("127.0.0.0/8")),
            "no IPv4 match in the ip6 table"
        );
        assert!(r
            .chains
            .values()
            .flat_map(|c| &c.rules)
            .all(|rule| !rule.contains("ip daddr") && !rule.contains("ip saddr")));
    }

    #[test]
    fn ipv6_rejects_services_without_endpoints_and_filters_source_ranges() {
        let n = name("lb");
        let mut port = sp6(vec![]);
        port.load_balancer_ips = vec!["fd00:1b::5".parse().unwrap()];
        let r = render(&model6(vec![(n.clone(), port.clone())]));
        assert_eq!(
            element(&r, NO_ENDPOINT_SERVICES, "fd00:96::10 . tcp . 80"),
            Some("goto reject-chain")
        );
        assert_eq!(
            element(&r, NO_ENDPOINT_SERVICES, "fd00:1b::5 . tcp . 80"),
            Some("goto reject-chain")
        );
        port.endpoints = vec![ep6(1, "node-a")];
        port.source_ranges = vec!["2001:db8::/64".parse().unwrap()];
        let r = render(&model6(vec![(n.clone(), port)]));
        assert_eq!(
            r.chains[&firewall_chain(&n)].rules,
            vec!["ip6 saddr != { 2001:db8::/64 } drop".to_string()]
        );
        assert_eq!(
            element(&r, FIREWALL_IPS, "fd00:1b::5 . tcp . 80"),
            Some(format!("goto {}", firewall_chain(&n)).as_str())
        );
    }

    #[test]
    fn ipv6_nodeport_addresses_use_an_ip6_set() {
        let n = name("web");
        let mut port = sp6(vec![ep6(1, "node-a")]);
        port.node_port = Some(30080);
        let mut m = model6(vec![(n, port)]);
        m.nodeport_addresses = vec!["2001:db8:1::/64".parse().unwrap()];
        let r = render(&m);
        assert_eq!(
            r.collections[NODEPORT_IPS].declaration,
            "type ipv6_addr ; flags interval ;"
        );
        assert!(r.chains["services"].rules[1]
            .starts_with("fib daddr type local ip6 daddr @nodeport-ips meta l4proto"));
    }

    #[test]
    fn chain_names_are_valid_nft_identifiers() {
        let n = name("web");
        let c = endpoint_chain(&n, &ep(1, "x"));
        assert!(c.starts_with("endpoint-"));
        assert!(c.ends_with("-ns/web/tcp/http__10.244.1.1/8080"));
        assert!(c
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "/-_.".contains(ch)));
    }
}
