//! From API objects to the [`ProxyModel`]: Services give the ports and addresses,
//! EndpointSlices (joined on the `kubernetes.io/service-name` label) give the endpoints; and
//! the [`ChangeTracker`] that tells the sync loop something changed and since when.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use tokio::sync::Notify;

use crate::model::{Endpoint, Protocol, ProxyModel, ServicePort, ServicePortName};

/// The label tying an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Set by the EndpointSlice controller: when the change behind this slice happened (the start
/// of upstream's network programming latency).
pub const TRIGGER_TIME_ANNOTATION: &str = "endpoints.kubernetes.io/last-change-trigger-time";
/// Upstream's default `sessionAffinityConfig.clientIP.timeoutSeconds` (3 hours).
const DEFAULT_AFFINITY_TIMEOUT: u32 = 10800;

fn parse_v4(s: &str) -> Option<Ipv4Addr> {
    s.parse().ok()
}

/// Endpoints of one Service, by (port name, protocol), deduplicated across slices.
type SliceEndpoints = HashMap<(String, Protocol), Vec<Endpoint>>;

fn slice_endpoints(slice: &EndpointSlice, into: &mut SliceEndpoints) {
    if slice.address_type != "IPv4" {
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
            let Some(ip) = ep.addresses.first().and_then(|a| parse_v4(a)) else {
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

/// Build the Service ports of `services` with the endpoints from `slices`. Services of type
/// ExternalName, headless Services and non-IPv4 addresses contribute nothing.
pub fn service_ports<'a>(
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
        slice_endpoints(slice, by_service.entry((ns, svc.clone())).or_default());
    }

    let mut out = BTreeMap::new();
    for svc in services {
        let Some(spec) = svc.spec.as_ref() else {
            continue;
        };
        if spec.type_.as_deref() == Some("ExternalName") {
            continue;
        }
        let Some(cluster_ip) = spec.cluster_ip.as_deref().and_then(parse_v4) else {
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
        let external_ips: Vec<Ipv4Addr> = spec
            .external_ips
            .iter()
            .flatten()
            .filter_map(|s| parse_v4(s))
            .collect();
        let load_balancer_ips: Vec<Ipv4Addr> = if spec.type_.as_deref() == Some("LoadBalancer") {
            svc.status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_ref())
                .into_iter()
                .flatten()
                .filter_map(|i| i.ip.as_deref().and_then(parse_v4))
                .collect()
        } else {
            Vec::new()
        };
        // Invalid ranges are refused by the apiserver's validation; any that slip through
        // are skipped rather than failing the whole sync.
        let source_ranges: Vec<ipnet::Ipv4Net> = spec
            .load_balancer_source_ranges
            .iter()
            .flatten()
            .filter_map(|r| r.trim().parse::<ipnet::Ipv4Net>().ok())
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
    /// See [`ProxyModel::cluster_cidrs`].
    pub cluster_cidrs: Vec<ipnet::Ipv4Net>,
    /// See [`ProxyModel::masquerade_all`].
    pub masquerade_all: bool,
    /// See [`ProxyModel::nodeport_addresses`].
    pub nodeport_addresses: Vec<ipnet::Ipv4Net>,
}

/// The full model from the informers' current contents.
pub fn build_model<'a>(
    settings: &NodeSettings,
    services: impl IntoIterator<Item = &'a Service>,
    slices: impl IntoIterator<Item = &'a EndpointSlice>,
) -> ProxyModel {
    ProxyModel {
        node_name: settings.node_name.clone(),
        cluster_cidrs: settings.cluster_cidrs.clone(),
        masquerade_all: settings.masquerade_all,
        nodeport_addresses: settings.nodeport_addresses.clone(),
        services: service_ports(services, slices),
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
        let ports = service_ports([&svc], [&s1, &other]);
        assert_eq!(ports.len(), 2);
        let http = ports
            .iter()
            .find(|(k, _)| k.port == "http")
            .map(|(_, v)| v)
            .unwrap();
        assert_eq!(http.cluster_ip, Some(Ipv4Addr::new(10, 96, 0, 20)));
        assert_eq!(http.node_port, Some(30080));
        assert_eq!(http.load_balancer_ips, vec![Ipv4Addr::new(127, 0, 0, 100)]);
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
    fn headless_and_external_name_services_are_skipped() {
        let headless = service(json!({"metadata": {"namespace": "d", "name": "h"},
            "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}));
        let ext = service(json!({"metadata": {"namespace": "d", "name": "e"},
            "spec": {"type": "ExternalName", "externalName": "example.com"}}));
        assert!(service_ports([&headless, &ext], []).is_empty());
    }

    #[test]
    fn unnamed_port_gets_a_name_from_its_number() {
        let svc = service(json!({"metadata": {"namespace": "d", "name": "s"},
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 443}]}}));
        let ports = service_ports([&svc], []);
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
