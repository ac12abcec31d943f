//! What the mirrored slices of one Endpoints object should hold: its subsets repacked into
//! canonical form (upstream's `RepackSubsets`), each address turned into an endpoint of its
//! address type, grouped by address type and port set, at most `max_per_subset` per subset.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort as CorePort, EndpointSubset};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort};

/// One port as both APIs can spell it, normalized for comparison:
/// (name, port, protocol, appProtocol). A missing name is `""`, a missing protocol `TCP`.
pub type PortKey = (String, i32, String, Option<String>);

/// The identity of one mirrored slice: its address type and its (sorted) ports. Upstream
/// keeps one slice per identity.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SliceKey {
    /// `IPv4` or `IPv6`.
    pub address_type: String,
    /// The slice's ports, sorted.
    pub ports: Vec<PortKey>,
}

impl SliceKey {
    /// The key of an existing slice, so it can be matched with what is desired.
    pub fn of_slice(address_type: &str, ports: &[EndpointPort]) -> SliceKey {
        let mut ports: Vec<PortKey> = ports
            .iter()
            .map(|p| {
                (
                    p.name.clone().unwrap_or_default(),
                    p.port.unwrap_or_default(),
                    p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                    p.app_protocol.clone(),
                )
            })
            .collect();
        ports.sort();
        SliceKey {
            address_type: address_type.to_string(),
            ports,
        }
    }

    /// The ports as an EndpointSlice spells them (upstream always sets name and protocol).
    pub fn slice_ports(&self) -> Vec<EndpointPort> {
        self.ports
            .iter()
            .map(|(name, port, protocol, app_protocol)| EndpointPort {
                name: Some(name.clone()),
                port: Some(*port),
                protocol: Some(protocol.clone()),
                app_protocol: app_protocol.clone(),
            })
            .collect()
    }
}

fn core_port_key(p: &CorePort) -> PortKey {
    (
        p.name.clone().unwrap_or_default(),
        p.port,
        p.protocol.clone().unwrap_or_else(|| "TCP".into()),
        p.app_protocol.clone(),
    )
}

/// An Endpoints subset in canonical form: one unique port set and the addresses that
/// offer exactly those ports, each address once, sorted.
#[derive(Debug, PartialEq)]
pub struct Subset {
    /// The ports, sorted.
    pub ports: Vec<PortKey>,
    /// Ready addresses, sorted by IP then target UID.
    pub ready: Vec<EndpointAddress>,
    /// Not-ready addresses, sorted the same way.
    pub not_ready: Vec<EndpointAddress>,
}

/// An address's identity when repacking: its IP and its target's UID (two pods may share a
/// node IP and still be distinct endpoints).
type AddressKey = (String, String);

fn address_key(a: &EndpointAddress) -> AddressKey {
    let uid = a.target_ref.as_ref().and_then(|r| r.uid.clone());
    (a.ip.clone(), uid.unwrap_or_default())
}

/// Upstream's `RepackSubsets`: expand the subsets to (port, address, ready) triples and
/// pack them again so that every port set appears once. An address listed as both ready
/// and not ready for a port is not ready; addresses of a subset without ports vanish.
pub fn repack(subsets: &[EndpointSubset]) -> Vec<Subset> {
    let mut addresses: BTreeMap<AddressKey, EndpointAddress> = BTreeMap::new();
    let mut by_port: BTreeMap<PortKey, BTreeMap<AddressKey, bool>> = BTreeMap::new();
    for subset in subsets {
        let ready = subset.addresses.iter().flatten().map(|a| (a, true));
        let not_ready = subset
            .not_ready_addresses
            .iter()
            .flatten()
            .map(|a| (a, false));
        let all: Vec<(&EndpointAddress, bool)> = ready.chain(not_ready).collect();
        for port in subset.ports.iter().flatten() {
            let offered = by_port.entry(core_port_key(port)).or_default();
            for (addr, is_ready) in &all {
                let key = address_key(addr);
                // The first spelling of an address is the one kept (targetRef, hostname…).
                addresses
                    .entry(key.clone())
                    .or_insert_with(|| (*addr).clone());
                let slot = offered.entry(key).or_insert(*is_ready);
                *slot = *slot && *is_ready;
            }
        }
    }
    // Ports offered by exactly the same addresses (with the same readiness) share a subset.
    let mut by_addresses: BTreeMap<Vec<(AddressKey, bool)>, Vec<PortKey>> = BTreeMap::new();
    for (port, offered) in by_port {
        by_addresses
            .entry(offered.into_iter().collect())
            .or_default()
            .push(port);
    }
    by_addresses
        .into_iter()
        .map(|(offered, ports)| {
            let pick = |want: bool| -> Vec<EndpointAddress> {
                offered
                    .iter()
                    .filter(|(_, ready)| *ready == want)
                    .filter_map(|(key, _)| addresses.get(key).cloned())
                    .collect()
            };
            Subset {
                ready: pick(true),
                not_ready: pick(false),
                ports,
            }
        })
        .collect()
}

/// The address in canonical text and its address type, or `None` when it is not an IP.
/// An IPv4-mapped IPv6 address counts as IPv4, as Go's `net.IP.To4` has it.
pub fn parse_address(ip: &str) -> Option<(String, &'static str)> {
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some((v4.to_string(), "IPv4")),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Some((v4.to_string(), "IPv4")),
            None => Some((v6.to_string(), "IPv6")),
        },
    }
}

/// One Endpoints address as a slice endpoint: ready as listed (`addresses` or
/// `notReadyAddresses`), hostname, nodeName and targetRef carried over.
pub fn address_to_endpoint(addr: &EndpointAddress, ip: String, ready: bool) -> Endpoint {
    Endpoint {
        addresses: vec![ip],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            ..Default::default()
        }),
        hostname: addr.hostname.clone().filter(|h| !h.is_empty()),
        node_name: addr.node_name.clone(),
        target_ref: addr.target_ref.clone(),
        ..Default::default()
    }
}

/// Sort endpoints canonically (by address, then target UID), so a slice's endpoints can be
/// compared with the desired ones whatever order the server keeps them in.
pub fn sort_endpoints(endpoints: &mut [Endpoint]) {
    endpoints.sort_by(|a, b| {
        let key = |e: &Endpoint| {
            (
                e.addresses.clone(),
                e.target_ref.as_ref().and_then(|r| r.uid.clone()),
            )
        };
        key(a).cmp(&key(b))
    });
}

/// The desired state of one Endpoints object's mirrored slices.
#[derive(Debug, Default)]
pub struct Desired {
    /// The endpoints of each slice, sorted; only identities with at least one endpoint.
    pub groups: BTreeMap<SliceKey, Vec<Endpoint>>,
    /// Addresses that are not IPs (never mirrored).
    pub invalid: usize,
    /// Addresses left out, invalid or beyond the per-subset limit.
    pub skipped: usize,
}

/// The desired endpoints of Endpoints `subsets`: per repacked subset, ready addresses
/// first, then not-ready ones, until `max_per_subset` valid addresses are mirrored.
pub fn desired(subsets: &[EndpointSubset], max_per_subset: usize) -> Desired {
    let mut out = Desired::default();
    for subset in repack(subsets) {
        let total = subset.ready.len() + subset.not_ready.len();
        let mut added = 0;
        let ready = subset.ready.iter().map(|a| (a, true));
        let not_ready = subset.not_ready.iter().map(|a| (a, false));
        for (addr, is_ready) in ready.chain(not_ready) {
            if added >= max_per_subset {
                break;
            }
            let Some((ip, address_type)) = parse_address(&addr.ip) else {
                out.invalid += 1;
                continue;
            };
            let key = SliceKey {
                address_type: address_type.to_string(),
                ports: subset.ports.clone(),
            };
            out.groups
                .entry(key)
                .or_default()
                .push(address_to_endpoint(addr, ip, is_ready));
            added += 1;
        }
        out.skipped += total - added;
    }
    for endpoints in out.groups.values_mut() {
        sort_endpoints(endpoints);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ObjectReference;

    fn addr(ip: &str, pod: &str) -> EndpointAddress {
        EndpointAddress {
            ip: ip.into(),
            target_ref: Some(ObjectReference {
                kind: Some("Pod".into()),
                name: Some(pod.into()),
                uid: Some(format!("uid-{pod}")),
                ..Default::default()
            }),
            node_name: Some("node-1".into()),
            hostname: Some(pod.into()),
        }
    }

    fn port(name: &str, n: i32) -> CorePort {
        CorePort {
            name: Some(name.into()),
            port: n,
            protocol: Some("TCP".into()),
            app_protocol: None,
        }
    }

    fn subset(
        ready: &[EndpointAddress],
        not_ready: &[EndpointAddress],
        ports: &[CorePort],
    ) -> EndpointSubset {
        EndpointSubset {
            addresses: Some(ready.to_vec()),
            not_ready_addresses: Some(not_ready.to_vec()),
            ports: Some(ports.to_vec()),
        }
    }

    fn readiness(eps: &[Endpoint]) -> Vec<(String, Option<bool>)> {
        eps.iter()
            .map(|e| {
                let ready = e.conditions.as_ref().and_then(|c| c.ready);
                (e.addresses.join(","), ready)
            })
            .collect()
    }

    #[test]
    fn ready_and_not_ready_addresses_become_one_slice_with_their_details() {
        let d = desired(
            &[subset(
                &[addr("10.0.0.2", "b"), addr("10.0.0.1", "a")],
                &[addr("10.0.0.3", "c")],
                &[port("http", 8080)],
            )],
            1000,
        );
        assert_eq!(d.groups.len(), 1);
        let (key, eps) = d.groups.iter().next().expect("one group");
        assert_eq!(key.address_type, "IPv4");
        assert_eq!(
            key.slice_ports(),
            vec![EndpointPort {
                name: Some("http".into()),
                port: Some(8080),
                protocol: Some("TCP".into()),
                app_protocol: None
            }]
        );
        assert_eq!(
            readiness(eps),
            vec![
                ("10.0.0.1".into(), Some(true)),
                ("10.0.0.2".into(), Some(true)),
                ("10.0.0.3".into(), Some(false))
            ]
        );
        assert_eq!(eps[0].hostname.as_deref(), Some("a"));
        assert_eq!(eps[0].node_name.as_deref(), Some("node-1"));
        assert_eq!(
            eps[0].target_ref.as_ref().and_then(|r| r.name.as_deref()),
            Some("a")
        );
        assert_eq!((d.invalid, d.skipped), (0, 0));
    }

    #[test]
    fn each_address_type_and_port_set_gets_its_own_group() {
        let d = desired(
            &[
                subset(
                    &[addr("10.0.0.1", "a"), addr("fd00::1", "a6")],
                    &[],
                    &[port("http", 80)],
                ),
                subset(&[addr("10.0.0.2", "b")], &[], &[port("https", 443)]),
            ],
            1000,
        );
        let keys: Vec<(String, i32)> = d
            .groups
            .keys()
            .map(|k| (k.address_type.clone(), k.ports[0].1))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("IPv4".into(), 80),
                ("IPv4".into(), 443),
                ("IPv6".into(), 80)
            ]
        );
    }

    #[test]
    fn subsets_are_repacked_and_not_ready_wins() {
        // The same address in two subsets with the same port, once ready and once not:
        // one not-ready endpoint.
        let d = desired(
            &[
                subset(&[addr("10.0.0.1", "a")], &[], &[port("http", 80)]),
                subset(&[], &[addr("10.0.0.1", "a")], &[port("http", 80)]),
            ],
            1000,
        );
        assert_eq!(d.groups.len(), 1);
        let eps = d.groups.values().next().expect("group");
        assert_eq!(readiness(eps), vec![("10.0.0.1".into(), Some(false))]);
        // Addresses without ports are not mirrored at all.
        assert!(desired(&[subset(&[addr("10.0.0.1", "a")], &[], &[])], 1000)
            .groups
            .is_empty());
    }

    #[test]
    fn addresses_beyond_the_limit_and_invalid_ones_are_skipped() {
        let ready: Vec<EndpointAddress> = (1..=4)
            .map(|i| addr(&format!("10.0.0.{i}"), &format!("p{i}")))
            .collect();
        let d = desired(
            &[subset(
                &ready,
                &[addr("10.0.1.1", "nr"), addr("not-an-ip", "bad")],
                &[port("http", 80)],
            )],
            3,
        );
        let eps = d.groups.values().next().expect("group");
        assert_eq!(eps.len(), 3, "ready addresses are mirrored first");
        assert!(readiness(eps).iter().all(|(_, r)| *r == Some(true)));
        assert_eq!(d.skipped, 3);

        let d = desired(
            &[subset(
                &[addr("not-an-ip", "bad")],
                &[addr("10.0.1.1", "nr")],
                &[port("http", 80)],
            )],
            1000,
        );
        assert_eq!((d.invalid, d.skipped), (1, 1));
        assert_eq!(d.groups.values().next().map(Vec::len), Some(1));
    }

    #[test]
    fn addresses_are_written_canonically() {
        assert_eq!(
            parse_address("::ffff:10.0.0.1"),
            Some(("10.0.0.1".into(), "IPv4"))
        );
        assert_eq!(parse_address("FD00:0::1"), Some(("fd00::1".into(), "IPv6")));
        assert_eq!(parse_address("example.com"), None);
    }

    #[test]
    fn slice_keys_ignore_port_order_and_missing_defaults() {
        let a = SliceKey::of_slice(
            "IPv4",
            &[
                EndpointPort {
                    name: None,
                    port: Some(80),
                    protocol: None,
                    app_protocol: None,
                },
                EndpointPort {
                    name: Some("b".into()),
                    port: Some(81),
                    protocol: Some("UDP".into()),
                    app_protocol: None,
                },
            ],
        );
        let b = SliceKey {
            address_type: "IPv4".into(),
            ports: vec![
                ("b".into(), 81, "UDP".into(), None),
                (String::new(), 80, "TCP".into(), None),
            ],
        };
        assert_ne!(a, b, "unsorted ports differ");
        let b = SliceKey::of_slice("IPv4", &b.slice_ports());
        assert_eq!(a, b);
    }
}
