//! From API objects to the [`ProxyModel`]: Services give the ports and addresses,
//! EndpointSlices (joined on the `kubernetes.io/service-name` label) give the endpoints; and
//! the [`ChangeTracker`] that tells the sync loop something changed and since when.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use tokio::sync::Notify;

use ipnet::IpNet;

use crate::model::{Endpoint, IpFamily, Protocol, ProxyModel, ServicePort, ServicePortName};

/// The label tying an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Set by the EndpointSlice controller: when the change behind this slice happened (the start
/// of upstream's network programming latency).
pub const TRIGGER_TIME_ANNOTATION: &str = "endpoints.kubernetes.io/last-change-trigger-time";
/// Upstream's default `sessionAffinityConfig.clientIP.timeoutSeconds` (3 hours).
const DEFAULT_AFFINITY_TIMEOUT: u32 = 10800;

/// `s` as an address of `family`; anything else (another family, garbage, `None`) is skipped.
fn parse_ip(family: IpFamily, s: &str) -> Option<IpAddr> {
    s.trim()
        .parse::<IpAddr>()
        .ok()
        .filter(|ip| IpFamily::of(ip) == family)
}

/// The Service's cluster IP of `family`: from `spec.clusterIPs` (dual-stack Services list one
/// per family, primary first), else `spec.clusterIP` (objects written before `clusterIPs`).
fn cluster_ip(family: IpFamily, spec: &k8s_openapi::api::core::v1::ServiceSpec) -> Option<IpAddr> {
    match spec.cluster_ips.as_deref() {
        Some(ips) if !ips.is_empty() => ips.iter().find_map(|s| parse_ip(family, s)),
        _ => spec.cluster_ip.as_deref().and_then(|s| parse_ip(family, s)),
    }
}

/// Endpoints of one Service, by (port name, protocol), deduplicated across slices.
type SliceEndpoints = HashMap<(String, Protocol), Vec<Endpoint>>;

fn slice_endpoints(family: IpFamily, slice: &EndpointSlice, into: &mut SliceEndpoints) {
    if slice.address_type != family.k8s() {
        return;
    }
    for port in slice.ports.iter().flatten() {
        let Some(protocol) = Protocol::from_k8s(port.protocol.as_deref()) else {
            continue;
        };
        let Some(number) = port.port.and_then(|p| u16::try_from(p).ok()) else {
            continue;
        };
        let list = into
            .entry((port.name.clone().unwrap_or_default(), protocol))
            .or_default();
        for ep in &slice.endpoints {
            let Some(ip) = ep.addresses.first().and_then(|a| parse_ip(family, a)) else {
                continue;
            };
            if list.iter().any(|e| e.ip == ip && e.port == number) {
                continue;
            }
            let cond = ep.conditions.as_ref();
            let ready = cond.and_then(|c| c.ready).unwrap_or(true);
            list.push(Endpoint {
                ip,
                port: number,
                ready,
                serving: cond.and_then(|c| c.serving).unwrap_or(ready),
                terminating: cond.and_then(|c| c.terminating).unwrap_or(false),
                node_name: ep.node_name.clone(),
            });
        }
    }
}

/// Build the `family` half of the Service ports of `services` with the endpoints from
/// `slices` of that `addressType`. Services of type ExternalName, headless Services, Services
/// without a cluster IP of `family`, and addresses of the other family contribute nothing.
pub fn service_ports<'a>(
    family: IpFamily,
    services: impl IntoIterator<Item = &'a Service>,
    slices: impl IntoIterator<Item = &'a EndpointSlice>,
) -> BTreeMap<ServicePortName, ServicePort> {
    let mut by_service: HashMap<(String, String), SliceEndpoints> = HashMap::new();
    for slice in slices {
        let Some(svc) = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL))
        else {
            continue;
        };
        let ns = slice.metadata.namespace.clone().unwrap_or_default();
        slice_endpoints(
            family,
            slice,
            by_service.entry((ns, svc.clone())).or_default(),
        );
    }

    let mut out = BTreeMap::new();
    for svc in services {
        let Some(spec) = svc.spec.as_ref() else {
            continue;
        };
        if spec.type_.as_deref() == Some("ExternalName") {
            continue;
        }
        let Some(cluster_ip) = cluster_ip(family, spec) else {
            continue;
        };
        let namespace = svc.metadata.namespace.clone().unwrap_or_default();
        let name = svc.metadata.name.clone().unwrap_or_default();
        let affinity_timeout = (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
            spec.session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .and_then(|c| c.timeout_seconds)
                .and_then(|t| u32::try_from(t).ok())
                .filter(|t| *t > 0)
                .unwrap_or(DEFAULT_AFFINITY_TIMEOUT)
        });
        let external_ips: Vec<IpAddr> = spec
            .external_ips
            .iter()
            .flatten()
            .filter_map(|s| parse_ip(family, s))
            .collect();
        let load_balancer_ips: Vec<IpAddr> = if spec.type_.as_deref() == Some("LoadBalancer") {
            svc.status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_ref())
                .into_iter()
                .flatten()
                .filter_map(|i| i.ip.as_deref().and_then(|ip| parse_ip(family, ip)))
                .collect()
        } else {
            Vec::new()
        };
        // Invalid ranges are refused by the apiserver's validation; any that slip through
        // are skipped rather than failing the whole sync.
        let source_ranges: Vec<IpNet> = spec
            .load_balancer_source_ranges
            .iter()
            .flatten()
            .filter_map(|r| r.trim().parse::<IpNet>().ok())
            .filter(|n| IpFamily::of_net(n) == family)
            .map(|n| n.trunc())
            .collect();
        let health_check_node_port = spec
            .health_check_node_port
            .filter(|_| spec.external_traffic_policy.as_deref() == Some("Local"))
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0);
        let endpoints = by_service.get(&(namespace.clone(), name.clone()));
        for port in spec.ports.iter().flatten() {
            let Some(protocol) = Protocol::from_k8s(port.protocol.as_deref()) else {
                continue;
            };
            let Ok(number) = u16::try_from(port.port) else {
                continue;
            };
            let port_name = port.name.clone().unwrap_or_default();
            let eps = endpoints
                .and_then(|e| e.get(&(port_name.clone(), protocol)))
                .cloned()
                .unwrap_or_default();
            let key = ServicePortName {
                namespace: namespace.clone(),
                name: name.clone(),
                port: if port_name.is_empty() {
                    format!("p{number}")
                } else {
                    port_name
                },
                protocol,
            };
            out.insert(
                key,
                ServicePort {
                    cluster_ip: Some(cluster_ip),
                    port: number,
                    node_port: port.node_port.and_then(|p| u16::try_from(p).ok()),
                    external_ips: external_ips.clone(),
                    load_balancer_ips: load_balancer_ips.clone(),
                    external_policy_local: spec.external_traffic_policy.as_deref() == Some("Local"),
                    internal_policy_local: spec.internal_traffic_policy.as_deref() == Some("Local"),
                    affinity_timeout,
                    source_ranges: source_ranges.clone(),
                    health_check_node_port,
                    endpoints: eps,
                },
            );
        }
    }
    out
}

/// The node-wide half of the model (everything but the Services).
#[derive(Debug, Clone, Default)]
pub struct NodeSettings {
    /// See [`ProxyModel::node_name`].
    pub node_name: String,
    /// `--cluster-cidr`, both families (each model gets its own family's ranges).
    pub cluster_cidrs: Vec<IpNet>,
    /// See [`ProxyModel::masquerade_all`].
    pub masquerade_all: bool,
    /// `--nodeport-addresses`, both families. A family with no range of its own answers on
    /// every local address, as upstream's `NodePortAddresses` does.
    pub nodeport_addresses: Vec<IpNet>,
}

fn of_family(family: IpFamily, nets: &[IpNet]) -> Vec<IpNet> {
    nets.iter()
        .filter(|n| IpFamily::of_net(n) == family)
        .copied()
        .collect()
}

/// The `family` model from the informers' current contents.
pub fn build_model<'a>(
    settings: &NodeSettings,
    family: IpFamily,
    services: impl IntoIterator<Item = &'a Service>,
    slices: impl IntoIterator<Item = &'a EndpointSlice>,
) -> ProxyModel {
    ProxyModel {
        family,
        node_name: settings.node_name.clone(),
        cluster_cidrs: of_family(family, &settings.cluster_cidrs),
        masquerade_all: settings.masquerade_all,
        nodeport_addresses: of_family(family, &settings.nodeport_addresses),
        services: service_ports(family, services, slices),
    }
}

/// When a slice's change happened: its trigger-time annotation, else now (when we saw it).
pub fn change_time(slice: &EndpointSlice) -> SystemTime {
    slice
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(TRIGGER_TIME_ANNOTATION))
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(SystemTime::from)
        .unwrap_or_else(SystemTime::now)
}

/// Collects "something changed" from the informers for the sync loop: a wake-up, and the
/// times of the endpoint changes not yet programmed (for
/// `kubeproxy_network_programming_duration_seconds`).
#[derive(Default)]
pub struct ChangeTracker {
    notify: Notify,
    pending: Mutex<Vec<SystemTime>>,
}

impl ChangeTracker {
    /// A new tracker, shared between the informers and the sync loop.
    pub fn new() -> Arc<ChangeTracker> {
        Arc::new(ChangeTracker::default())
    }

    /// A Service changed.
    pub fn service_changed(&self) {
        self.notify.notify_one();
    }

    /// An EndpointSlice changed at `when`.
    pub fn endpoints_changed(&self, when: SystemTime) {
        if let Ok(mut p) = self.pending.lock() {
            p.push(when);
        }
        self.notify.notify_one();
    }

    /// Wait until something changed since the last call.
    pub async fn changed(&self) {
        self.notify.notified().await;
    }

    /// Take the change times recorded so far; the caller programs them.
    pub fn take_pending(&self) -> Vec<SystemTime> {
        self.pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(v: serde_json::Value) -> Service {
        serde_json::from_value(v).expect("service")
    }

    fn slice(v: serde_json::Value) -> EndpointSlice {
        serde_json::from_value(v).expect("slice")
    }

    #[test]
    fn services_join_their_slices_by_label_and_port_name() {
        let svc = service(json!({
            "metadata": {"namespace": "default", "name": "web"},
            "spec": {"clusterIP": "10.96.0.20", "type": "LoadBalancer",
                     "externalTrafficPolicy": "Local", "sessionAffinity": "ClientIP",
                     "ports": [{"name": "http", "port": 80, "nodePort": 30080},
                               {"name": "dns", "port": 53, "protocol": "UDP"}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "127.0.0.100"}]}}
        }));
        let s1 = slice(json!({
            "metadata": {"namespace": "default", "name": "web-abc",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [
                {"addresses": ["10.244.0.5"], "conditions": {"ready": true}, "nodeName": "n1"},
                {"addresses": ["10.244.0.6"], "conditions": {"ready": false, "serving": true, "terminating": true}}
            ]
        }));
        let other = slice(json!({
            "metadata": {"namespace": "other", "name": "web-x",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 9999}],
            "endpoints": [{"addresses": ["10.244.9.9"]}]
        }));
        let ports = service_ports(IpFamily::V4, [&svc], [&s1, &other]);
        assert_eq!(ports.len(), 2);
        let http = ports
            .iter()
            .find(|(k, _)| k.port == "http")
            .map(|(_, v)| v)
            .unwrap();
        assert_eq!(http.cluster_ip, Some("10.96.0.20".parse().unwrap()));
        assert_eq!(http.node_port, Some(30080));
        assert_eq!(
            http.load_balancer_ips,
            vec!["127.0.0.100".parse::<IpAddr>().unwrap()]
        );
        assert!(http.external_policy_local);
        assert_eq!(http.affinity_timeout, Some(10800));
        assert_eq!(
            http.endpoints.len(),
            2,
            "the other namespace's slice is not ours"
        );
        assert_eq!(http.endpoints[0].port, 8080);
        assert_eq!(http.endpoints[0].node_name.as_deref(), Some("n1"));
        assert!(http.endpoints[1].serving && http.endpoints[1].terminating);
        let dns = ports.iter().find(|(k, _)| k.port == "dns").unwrap();
        assert_eq!(dns.0.protocol, Protocol::Udp);
        assert!(dns.1.endpoints.is_empty(), "the slice has no dns port");
    }

    #[test]
    fn dual_stack_service_splits_into_one_model_per_family() {
        let svc = service(json!({
            "metadata": {"namespace": "default", "name": "web"},
            "spec": {"clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20", "fd00:96::20"],
                     "ipFamilies": ["IPv4", "IPv6"], "type": "LoadBalancer",
                     "externalIPs": ["192.0.2.1", "2001:db8::1"],
                     "loadBalancerSourceRanges": ["192.0.2.0/24", "2001:db8::/64"],
                     "ports": [{"name": "http", "port": 80, "nodePort": 30080}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "127.0.0.100"}, {"ip": "fd00:1b::1"}]}}
        }));
        let v4 = slice(json!({
            "metadata": {"namespace": "default", "name": "web-v4",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080}],
            "endpoints": [{"addresses": ["10.244.0.5"]}]
        }));
        let v6 = slice(json!({
            "metadata": {"namespace": "default", "name": "web-v6",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv6",
            "ports": [{"name": "http", "port": 8080}],
            "endpoints": [{"addresses": ["fd00:244::5"]}, {"addresses": ["10.244.0.9"]}]
        }));
        let four = service_ports(IpFamily::V4, [&svc], [&v4, &v6]);
        let six = service_ports(IpFamily::V6, [&svc], [&v4, &v6]);
        let (p4, p6) = (four.values().next().unwrap(), six.values().next().unwrap());
        assert_eq!(p4.cluster_ip, Some("10.96.0.20".parse().unwrap()));
        assert_eq!(p6.cluster_ip, Some("fd00:96::20".parse().unwrap()));
        let ips = |eps: &[Endpoint]| eps.iter().map(|e| e.ip.to_string()).collect::<Vec<_>>();
        assert_eq!(ips(&p4.endpoints), vec!["10.244.0.5"]);
        assert_eq!(
            ips(&p6.endpoints),
            vec!["fd00:244::5"],
            "an IPv4 address in an IPv6 slice is not an endpoint"
        );
        assert_eq!(
            p6.external_ips,
            vec!["2001:db8::1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            p6.load_balancer_ips,
            vec!["fd00:1b::1".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            p6.source_ranges,
            vec!["2001:db8::/64".parse::<IpNet>().unwrap()]
        );
        assert_eq!(
            p4.source_ranges,
            vec!["192.0.2.0/24".parse::<IpNet>().unwrap()]
        );
        assert_eq!(
            p6.node_port,
            Some(30080),
            "node ports exist in both families"
        );
    }

    #[test]
    fn single_stack_service_is_absent_from_the_other_family() {
        let v6only = service(json!({"metadata": {"namespace": "d", "name": "s"},
            "spec": {"clusterIP": "fd00:96::1", "clusterIPs": ["fd00:96::1"],
                     "ipFamilies": ["IPv6"], "ports": [{"port": 443}]}}));
        let legacy = service(json!({"metadata": {"namespace": "d", "name": "old"},
            "spec": {"clusterIP": "10.96.0.7", "ports": [{"port": 443}]}}));
        let six = service_ports(IpFamily::V6, [&v6only, &legacy], []);
        assert_eq!(six.len(), 1);
        assert_eq!(six.keys().next().unwrap().name, "s");
        let four = service_ports(IpFamily::V4, [&v6only, &legacy], []);
        assert_eq!(four.len(), 1);
        assert_eq!(four.keys().next().unwrap().name, "old");
    }

    #[test]
    fn node_settings_are_split_by_family() {
        let settings = NodeSettings {
            node_name: "n".into(),
            cluster_cidrs: vec![
                "10.244.0.0/16".parse().unwrap(),
                "fd00:244::/56".parse().unwrap(),
            ],
            masquerade_all: false,
            nodeport_addresses: vec!["192.0.2.0/24".parse().unwrap()],
        };
        let m6 = build_model(&settings, IpFamily::V6, [], []);
        assert_eq!(m6.family, IpFamily::V6);
        assert_eq!(
            m6.cluster_cidrs,
            vec!["fd00:244::/56".parse::<IpNet>().unwrap()]
        );
        assert!(
            m6.nodeport_addresses.is_empty(),
            "no IPv6 range given: every local IPv6 address answers"
        );
        let m4 = build_model(&settings, IpFamily::V4, [], []);
        assert_eq!(
            m4.cluster_cidrs,
            vec!["10.244.0.0/16".parse::<IpNet>().unwrap()]
        );
        assert_eq!(m4.nodeport_addresses.len(), 1);
    }

    #[test]
    fn headless_and_external_name_services_are_skipped() {
        let headless = service(json!({"metadata": {"namespace": "d", "name": "h"},
            "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}));
        let ext = service(json!({"metadata": {"namespace": "d", "name": "e"},
            "spec": {"type": "ExternalName", "externalName": "example.com"}}));
        assert!(service_ports(IpFamily::V4, [&headless, &ext], []).is_empty());
    }

    #[test]
    fn unnamed_port_gets_a_name_from_its_number() {
        let svc = service(json!({"metadata": {"namespace": "d", "name": "s"},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 443}]}}));
        let ports = service_ports(IpFamily::V4, [&svc], []);
        assert_eq!(ports.keys().next().unwrap().port, "p443");
    }

    #[test]
    fn trigger_time_annotation_is_the_change_time() {
        let s = slice(json!({
            "metadata": {"annotations": {TRIGGER_TIME_ANNOTATION: "2024-01-02T03:04:05Z"}},
            "addressType": "IPv4", "endpoints": []
        }));
        let t = change_time(&s);
        let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1704164645);
    }
}
