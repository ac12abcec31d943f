//! The cluster zone: every resource record upstream's DNS-based service discovery spec
//! (kubernetes/dns docs/specification.md, schema 1.1.0) asks for, computed from Services and
//! EndpointSlices, and the lookup that answers a question from it.
//!
//! A [`ClusterRecords`] is an immutable snapshot: the informers build a new one after every
//! change and swap it in, so a query never sees half an update.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use hickory_proto::rr::rdata::{A, AAAA, CNAME, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// The schema version served at `dns-version.<zone>` (spec section 2.2).
pub const SCHEMA_VERSION: &str = "1.1.0";
/// The label every EndpointSlice carries naming its Service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// What the zone says about one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The name exists and has records of the asked type (or a CNAME): NOERROR with answers,
    /// and records the answers point at for the additional section.
    Records {
        /// The answer section.
        answers: Vec<Record>,
        /// The additional section (A/AAAA of SRV targets).
        additionals: Vec<Record>,
    },
    /// The name exists (or has names below it) but holds no record of the asked type:
    /// NOERROR with an empty answer and the SOA in the authority section.
    NoData,
    /// The name is inside the cluster zone and does not exist: NXDOMAIN.
    NxDomain,
    /// The name is outside the zones this server is authoritative for: forward it.
    NotAuthoritative,
}

/// All records of the cluster zone (and the reverse names of cluster addresses).
#[derive(Debug, Clone)]
pub struct ClusterRecords {
    zone: Name,
    ttl: u32,
    /// Records by owner name (names compare case-insensitively).
    records: HashMap<Name, Vec<Record>>,
    /// Every proper ancestor of an owner name inside the zone (empty non-terminals answer
    /// NODATA, not NXDOMAIN).
    ancestors: HashSet<Name>,
    soa: Record,
}

/// One endpoint address of a headless Service as DNS sees it.
struct ReadyEndpoint {
    ip: IpAddr,
    /// The endpoint's hostname, or a system-assigned one (the dashed IP) when it has none.
    hostname: String,
}

impl ClusterRecords {
    /// Build the zone `zone` (e.g. `cluster.local.`) from the current Services and
    /// EndpointSlices, every record with time-to-live `ttl`.
    pub fn build(
        zone: &Name,
        ttl: u32,
        services: &[Arc<Service>],
        slices: &[Arc<EndpointSlice>],
    ) -> ClusterRecords {
        let zone = fqdn(zone).to_lowercase();
        let mut zone_records = ClusterRecords {
            soa: soa_record(&zone, ttl),
            zone: zone.clone(),
            ttl,
            records: HashMap::new(),
            ancestors: HashSet::new(),
        };
        if let Ok(name) = Name::from_ascii("dns-version").and_then(|n| n.append_domain(&zone)) {
            zone_records.add(name, RData::TXT(TXT::new(vec![SCHEMA_VERSION.to_string()])));
        }
        let slices_by_service = group_slices(slices);
        for service in services {
            let (Some(name), Some(ns)) = (
                service.metadata.name.as_deref(),
                service.metadata.namespace.as_deref(),
            ) else {
                continue;
            };
            let Some(service_name) = service_name(name, ns, &zone) else {
                continue;
            };
            let slices = slices_by_service
                .get(&(ns, name))
                .map(Vec::as_slice)
                .unwrap_or_default();
            zone_records.add_service(service, &service_name, slices);
        }
        zone_records
    }

    /// The zone's apex (`cluster.local.`).
    pub fn zone(&self) -> &Name {
        &self.zone
    }

    /// The zone's SOA record (the authority section of negative answers).
    pub fn soa(&self) -> &Record {
        &self.soa
    }

    /// How many owner names the zone holds (for logs).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the zone holds no owner names at all.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Answer `name IN qtype`.
    pub fn lookup(&self, name: &Name, qtype: RecordType) -> Answer {
        let name = fqdn(name);
        if let Some(records) = self.records.get(&name) {
            return self.answer_from(&name, records, qtype);
        }
        let in_zone = self.zone.zone_of(&name);
        if in_zone {
            if let Some(ip) = self.pod_address(&name) {
                let rdata = match ip {
                    IpAddr::V4(v4) => RData::A(A(v4)),
                    IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
                };
                let record = Record::from_rdata(name.clone(), self.ttl, rdata);
                return self.answer_from(&name, &[record], qtype);
            }
            if name == self.zone {
                return match qtype {
                    RecordType::SOA => Answer::Records {
                        answers: vec![self.soa.clone()],
                        additionals: Vec::new(),
                    },
                    _ => Answer::NoData,
                };
            }
            if self.ancestors.contains(&name) {
                return Answer::NoData;
            }
            return Answer::NxDomain;
        }
        // Reverse names of addresses we know were answered above; other reverse names
        // (pods, the node, the Internet) go on to the upstream resolvers, as CoreDNS's
        // `fallthrough in-addr.arpa ip6.arpa` does.
        Answer::NotAuthoritative
    }

    fn answer_from(&self, name: &Name, records: &[Record], qtype: RecordType) -> Answer {
        let matching: Vec<Record> = records
            .iter()
            .filter(|r| {
                qtype == RecordType::ANY
                    || r.record_type() == qtype
                    // A CNAME answers every type at its name (the client follows it).
                    || r.record_type() == RecordType::CNAME
            })
            .map(|r| {
                // Echo the question's spelling (resolvers randomise case as a spoofing check).
                let mut r = r.clone();
                r.set_name(name.clone());
                r
            })
            .collect();
        if matching.is_empty() {
            return Answer::NoData;
        }
        let mut additionals = Vec::new();
        for record in &matching {
            if let RData::SRV(srv) = record.data() {
                if let Some(targets) = self.records.get(srv.target()) {
                    additionals.extend(
                        targets
                            .iter()
                            .filter(|t| matches!(t.data(), RData::A(_) | RData::AAAA(_)))
                            .cloned(),
                    );
                }
            }
        }
        Answer::Records {
            answers: matching,
            additionals,
        }
    }

    /// The deprecated `<a>-<b>-<c>-<d>.<ns>.pod.<zone>` records (spec section 2.6): the
    /// address is read from the name itself.
    fn pod_address(&self, name: &Name) -> Option<IpAddr> {
        let zone_labels = self.zone.num_labels();
        if name.num_labels() != zone_labels + 3 {
            return None;
        }
        let labels: Vec<String> = name
            .iter()
            .map(|l| String::from_utf8_lossy(l).to_lowercase())
            .collect();
        if labels.get(2).map(String::as_str) != Some("pod") {
            return None;
        }
        let dashed = labels.first()?;
        if let Ok(v4) = dashed.replace('-', ".").parse::<Ipv4Addr>() {
            return Some(IpAddr::V4(v4));
        }
        dashed
            .replace('-', ":")
            .parse::<Ipv6Addr>()
            .ok()
            .map(IpAddr::V6)
    }

    fn add_service(&mut self, service: &Service, service_name: &Name, slices: &[&EndpointSlice]) {
        let Some(spec) = service.spec.as_ref() else {
            return;
        };
        if spec.type_.as_deref() == Some("ExternalName") {
            // Spec section 2.5.
            if let Some(target) = spec
                .external_name
                .as_deref()
                .and_then(|n| Name::from_ascii(n).ok())
            {
                self.add(service_name.clone(), RData::CNAME(CNAME(fqdn(&target))));
            }
            return;
        }
        let cluster_ips: Vec<IpAddr> = spec
            .cluster_ips
            .iter()
            .flatten()
            .chain(spec.cluster_ip.iter())
            .filter_map(|ip| ip.parse().ok())
            .collect::<BTreeSet<IpAddr>>()
            .into_iter()
            .collect();
        let headless = spec.cluster_ip.as_deref() == Some("None");
        if !headless {
            if cluster_ips.is_empty() {
                // Not allocated yet: no records until it is.
                return;
            }
            // Spec section 2.3: the ClusterIP, SRV per named port pointing at the Service
            // name, PTR back to it.
            for ip in &cluster_ips {
                self.add(service_name.clone(), address_rdata(*ip));
                self.add(Name::from(*ip), RData::PTR(PTR(service_name.clone())));
            }
            for port in spec.ports.iter().flatten() {
                let Some(port_name) = port.name.as_deref().filter(|n| !n.is_empty()) else {
                    continue;
                };
                let protocol = port.protocol.as_deref().unwrap_or("TCP");
                if let Some(srv_name) = srv_name(port_name, protocol, service_name) {
                    let number = u16::try_from(port.port).unwrap_or_default();
                    self.add(
                        srv_name,
                        RData::SRV(SRV::new(0, 100, number, service_name.clone())),
                    );
                }
            }
            return;
        }
        // Spec section 2.4: a headless Service resolves to its ready endpoints.
        let publish_not_ready = spec.publish_not_ready_addresses.unwrap_or(false);
        let endpoints = ready_endpoints(slices, publish_not_ready);
        for endpoint in &endpoints {
            self.add(service_name.clone(), address_rdata(endpoint.ip));
            let Some(host_name) = Name::from_ascii(&endpoint.hostname)
                .ok()
                .and_then(|h| h.append_domain(service_name).ok())
            else {
                continue;
            };
            self.add(host_name.clone(), address_rdata(endpoint.ip));
            self.add(Name::from(endpoint.ip), RData::PTR(PTR(host_name)));
        }
        // SRV: one per (ready endpoint hostname, named port); the port number is the
        // endpoints' (the pods listen there; no virtual IP translates it).
        for port in spec.ports.iter().flatten() {
            let Some(port_name) = port.name.as_deref().filter(|n| !n.is_empty()) else {
                continue;
            };
            let protocol = port.protocol.as_deref().unwrap_or("TCP");
            let number = endpoint_port(slices, port_name, protocol)
                .unwrap_or_else(|| u16::try_from(port.port).unwrap_or_default());
            let Some(srv_name) = srv_name(port_name, protocol, service_name) else {
                continue;
            };
            let hostnames: BTreeSet<&str> = endpoints.iter().map(|e| e.hostname.as_str()).collect();
            for hostname in hostnames {
                if let Some(target) = Name::from_ascii(hostname)
                    .ok()
                    .and_then(|h| h.append_domain(service_name).ok())
                {
                    self.add(
                        srv_name.clone(),
                        RData::SRV(SRV::new(0, 100, number, target)),
                    );
                }
            }
        }
    }

    fn add(&mut self, name: Name, rdata: RData) {
        let name = fqdn(&name).to_lowercase();
        let records = self.records.entry(name.clone()).or_default();
        if records.iter().any(|r| r.data() == &rdata) {
            return;
        }
        records.push(Record::from_rdata(name.clone(), self.ttl, rdata));
        if self.zone.zone_of(&name) {
            let mut parent = name.base_name();
            while parent.num_labels() > self.zone.num_labels() && self.zone.zone_of(&parent) {
                if !self.ancestors.insert(parent.clone()) {
                    break;
                }
                parent = parent.base_name();
            }
        }
    }
}

/// `<service>.<ns>.svc.<zone>`.
fn service_name(service: &str, namespace: &str, zone: &Name) -> Option<Name> {
    Name::from_ascii(format!("{service}.{namespace}.svc"))
        .ok()?
        .append_domain(zone)
        .ok()
}

/// `_<port>._<proto>.<service name>` (protocol in lower case, as resolvers ask for it).
fn srv_name(port: &str, protocol: &str, service_name: &Name) -> Option<Name> {
    Name::from_ascii(format!("_{port}._{}", protocol.to_lowercase()))
        .ok()?
        .append_domain(service_name)
        .ok()
}

fn address_rdata(ip: IpAddr) -> RData {
    match ip {
        IpAddr::V4(v4) => RData::A(A(v4)),
        IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
    }
}

fn fqdn(name: &Name) -> Name {
    let mut name = name.clone();
    name.set_fqdn(true);
    name
}

fn soa_record(zone: &Name, ttl: u32) -> Record {
    let mname = Name::from_ascii("ns.dns")
        .and_then(|n| n.append_domain(zone))
        .unwrap_or_else(|_| zone.clone());
    let rname = Name::from_ascii("hostmaster")
        .and_then(|n| n.append_domain(zone))
        .unwrap_or_else(|_| zone.clone());
    // The serial only has to change when the zone does for secondaries; nobody transfers
    // this zone, so a constant is honest. The minimum is the negative-caching TTL.
    Record::from_rdata(
        zone.clone(),
        ttl,
        RData::SOA(SOA::new(mname, rname, 1, 7200, 1800, 86400, ttl)),
    )
}

/// EndpointSlices by (namespace, Service name).
fn group_slices(slices: &[Arc<EndpointSlice>]) -> HashMap<(&str, &str), Vec<&EndpointSlice>> {
    let mut grouped: HashMap<(&str, &str), Vec<&EndpointSlice>> = HashMap::new();
    for slice in slices {
        let Some(ns) = slice.metadata.namespace.as_deref() else {
            continue;
        };
        let Some(service) = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL))
        else {
            continue;
        };
        grouped
            .entry((ns, service.as_str()))
            .or_default()
            .push(slice);
    }
    grouped
}

/// The ready addresses of a Service's slices, each once (slices overlap while the
/// EndpointSlice controller moves endpoints between them). An endpoint whose `ready`
/// condition is unset counts as ready, as the EndpointSlice API defines.
fn ready_endpoints(slices: &[&EndpointSlice], publish_not_ready: bool) -> Vec<ReadyEndpoint> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for slice in slices {
        for endpoint in &slice.endpoints {
            let ready = endpoint
                .conditions
                .as_ref()
                .and_then(|c| c.ready)
                .unwrap_or(true);
            if !ready && !publish_not_ready {
                continue;
            }
            for address in &endpoint.addresses {
                let Ok(ip) = address.parse::<IpAddr>() else {
                    continue;
                };
                if !seen.insert(ip) {
                    continue;
                }
                let hostname = endpoint
                    .hostname
                    .clone()
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| dashed(ip));
                out.push(ReadyEndpoint { ip, hostname });
            }
        }
    }
    out.sort_by_key(|e| e.ip);
    out
}

/// The endpoints' port number for the Service port named `name` (EndpointSlice ports carry
/// the Service port's name).
fn endpoint_port(slices: &[&EndpointSlice], name: &str, protocol: &str) -> Option<u16> {
    slices
        .iter()
        .flat_map(|s| s.ports.iter().flatten())
        .find(|p| {
            p.name.as_deref() == Some(name)
                && p.protocol
                    .as_deref()
                    .unwrap_or("TCP")
                    .eq_ignore_ascii_case(protocol)
        })
        .and_then(|p| p.port)
        .and_then(|p| u16::try_from(p).ok())
}

/// The system-assigned hostname of an endpoint without one: its address with dashes
/// (`10-244-0-5`), the form CoreDNS uses.
fn dashed(ip: IpAddr) -> String {
    ip.to_string().replace(['.', ':'], "-")
}

#[cfg(test)]
mod tests;
