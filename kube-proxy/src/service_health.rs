//! The health-check node ports of `externalTrafficPolicy: Local` Services (upstream's
//! `ServiceHealthServer`): for each such Service with a `spec.healthCheckNodePort`, this node
//! serves HTTP on that port, answering every path with
//! `{"service":{"namespace":…,"name":…},"localEndpoints":N,"serviceProxyHealthy":…}` —
//! 200 when the node has ready local endpoints and kube-proxy is healthy, else 503 — so an
//! external load balancer sends traffic only to nodes that keep it local.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::health::ProxierHealth;
use crate::model::ProxyModel;

/// What one health-check port reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceHealth {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
    /// Ready endpoints of the Service on this node.
    pub local_endpoints: usize,
}

/// The health-check ports the model asks for: every Service port with a health-check node
/// port, counting this node's ready endpoints (the largest count over the Service's ports).
pub fn health_check_ports(model: &ProxyModel) -> BTreeMap<u16, ServiceHealth> {
    let mut out: BTreeMap<u16, ServiceHealth> = BTreeMap::new();
    for (name, sp) in &model.services {
        let Some(port) = sp.health_check_node_port else {
            continue;
        };
        let local = sp
            .endpoints
            .iter()
            .filter(|e| e.ready && e.node_name.as_deref() == Some(model.node_name.as_str()))
            .count();
        let entry = out.entry(port).or_insert_with(|| ServiceHealth {
            namespace: name.namespace.clone(),
            name: name.name.clone(),
            local_endpoints: 0,
        });
        entry.local_endpoints = entry.local_endpoints.max(local);
    }
    out
}

/// Add `more` (another family's ports) into `into`: a dual-stack Service has one health-check
/// port for both families, and its local endpoints are the same pods in each, so the larger
/// count stands.
pub fn merge_health_check_ports(
    into: &mut BTreeMap<u16, ServiceHealth>,
    more: BTreeMap<u16, ServiceHealth>,
) {
    for (port, health) in more {
        match into.get_mut(&port) {
            Some(have) => have.local_endpoints = have.local_endpoints.max(health.local_endpoints),
            None => {
                into.insert(port, health);
            }
        }
    }
}

/// The status and JSON body of one answer.
pub fn answer(service: &ServiceHealth, proxy_healthy: bool) -> (StatusCode, String) {
    let body = serde_json::json!({
        "service": {"namespace": service.namespace, "name": service.name},
        "localEndpoints": service.local_endpoints,
        "serviceProxyHealthy": proxy_healthy,
    })
    .to_string();
    let status = if service.local_endpoints > 0 && proxy_healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body)
}

type Reports = Arc<Mutex<HashMap<u16, ServiceHealth>>>;

/// Listens on the health-check ports of the current Services, opening and closing them as
/// Services come and go.
pub struct ServiceHealthServer {
    bind_ip: IpAddr,
    proxier: Arc<ProxierHealth>,
    reports: Reports,
    listeners: HashMap<u16, JoinHandle<()>>,
}

impl ServiceHealthServer {
    /// Ports are opened on `bind_ip` (every address unless `--nodeport-addresses` narrows
    /// it); answers include `proxier`'s health.
    pub fn new(bind_ip: IpAddr, proxier: Arc<ProxierHealth>) -> ServiceHealthServer {
        ServiceHealthServer {
            bind_ip,
            proxier,
            reports: Arc::default(),
            listeners: HashMap::new(),
        }
    }

    /// The ports currently listened on.
    pub fn ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self.listeners.keys().copied().collect();
        ports.sort_unstable();
        ports
    }

    /// Serve exactly `wanted`: update the counts, open new ports, close ports no Service
    /// names any more. A port that cannot be bound is logged and retried on the next sync.
    pub async fn sync(&mut self, wanted: BTreeMap<u16, ServiceHealth>) {
        if let Ok(mut reports) = self.reports.lock() {
            *reports = wanted.iter().map(|(p, s)| (*p, s.clone())).collect();
        }
        self.listeners.retain(|port, task| {
            let keep = wanted.contains_key(port);
            if !keep {
                task.abort();
                tracing::info!(port, "closed health-check node port");
            }
            keep
        });
        for (port, service) in wanted {
            if self.listeners.contains_key(&port) {
                continue;
            }
            let addr = SocketAddr::new(self.bind_ip, port);
            match TcpListener::bind(addr).await {
                Ok(listener) => {
                    tracing::info!(%addr, service = %format!("{}/{}", service.namespace, service.name), "serving health-check node port");
                    let (reports, proxier) = (self.reports.clone(), self.proxier.clone());
                    self.listeners
                        .insert(port, tokio::spawn(serve(listener, port, reports, proxier)));
                }
                Err(e) => {
                    tracing::error!(%addr, error = %e, "cannot open health-check node port")
                }
            }
        }
    }
}

impl Drop for ServiceHealthServer {
    fn drop(&mut self) {
        for task in self.listeners.values() {
            task.abort();
        }
    }
}

async fn serve(listener: TcpListener, port: u16, reports: Reports, proxier: Arc<ProxierHealth>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (reports, proxier) = (reports.clone(), proxier.clone());
        tokio::spawn(async move {
            let service = service_fn(move |_req| {
                let report = reports.lock().ok().and_then(|r| r.get(&port).cloned());
                let resp = match report {
                    Some(service) => {
                        let (status, body) = answer(&service, proxier.report().healthy);
                        let mut resp = Response::new(Full::new(Bytes::from(body)));
                        *resp.status_mut() = status;
                        let headers = resp.headers_mut();
                        headers.insert(
                            http::header::CONTENT_TYPE,
                            http::HeaderValue::from_static("application/json"),
                        );
                        headers.insert(
                            "X-Content-Type-Options",
                            http::HeaderValue::from_static("nosniff"),
                        );
                        // Upstream's hint for weighted load balancers.
                        headers.insert(
                            "X-Load-Balancing-Endpoint-Weight",
                            http::HeaderValue::from(service.local_endpoints),
                        );
                        resp
                    }
                    None => {
                        let mut resp = Response::new(Full::new(Bytes::from_static(
                            b"no Service for this port\n",
                        )));
                        *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                        resp
                    }
                };
                async move { Ok::<_, Infallible>(resp) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Protocol, ServicePort, ServicePortName};
    use std::net::IpAddr;

    fn ep(last: u8, node: &str, ready: bool) -> Endpoint {
        Endpoint {
            ip: IpAddr::from([10, 244, 0, last]),
            port: 80,
            ready,
            serving: ready,
            terminating: false,
            node_name: Some(node.into()),
        }
    }

    fn port(hc: Option<u16>, endpoints: Vec<Endpoint>) -> ServicePort {
        ServicePort {
            cluster_ip: Some(IpAddr::from([10, 96, 0, 9])),
            port: 80,
            node_port: Some(30080),
            external_ips: vec![],
            load_balancer_ips: vec![],
            external_policy_local: hc.is_some(),
            internal_policy_local: false,
            affinity_timeout: None,
            source_ranges: vec![],
            health_check_node_port: hc,
            endpoints,
        }
    }

    fn name(svc: &str, port: &str) -> ServicePortName {
        ServicePortName {
            namespace: "ns".into(),
            name: svc.into(),
            port: port.into(),
            protocol: Protocol::Tcp,
        }
    }

    #[test]
    fn counts_ready_endpoints_on_this_node() {
        let model = ProxyModel {
            node_name: "a".into(),
            services: [
                (
                    name("web", "http"),
                    port(
                        Some(31000),
                        vec![ep(1, "a", true), ep(2, "a", false), ep(3, "b", true)],
                    ),
                ),
                (
                    name("web", "https"),
                    port(Some(31000), vec![ep(1, "a", true), ep(4, "a", true)]),
                ),
                (name("plain", "http"), port(None, vec![ep(5, "a", true)])),
                (
                    name("remote", "http"),
                    port(Some(31001), vec![ep(6, "b", true)]),
                ),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let ports = health_check_ports(&model);
        assert_eq!(
            ports.keys().copied().collect::<Vec<_>>(),
            vec![31000, 31001]
        );
        assert_eq!(ports[&31000].local_endpoints, 2);
        assert_eq!(ports[&31000].name, "web");
        assert_eq!(ports[&31001].local_endpoints, 0);
    }

    #[test]
    fn families_merge_into_one_port_per_service() {
        let v4 = ProxyModel {
            node_name: "a".into(),
            services: [(
                name("web", "http"),
                port(Some(31000), vec![ep(1, "a", true)]),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let mut six = port(Some(31000), vec![]);
        six.cluster_ip = Some("fd00::9".parse().unwrap());
        let v6 = ProxyModel {
            family: crate::model::IpFamily::V6,
            services: [
                (name("web", "http"), six.clone()),
                (
                    name("only6", "http"),
                    port(Some(31002), vec![ep(7, "a", true)]),
                ),
            ]
            .into_iter()
            .collect(),
            ..v4.clone()
        };
        let mut ports = health_check_ports(&v6);
        merge_health_check_ports(&mut ports, health_check_ports(&v4));
        assert_eq!(ports.len(), 2);
        assert_eq!(ports[&31000].local_endpoints, 1, "the larger count stands");
        assert_eq!(ports[&31002].name, "only6");
    }

    #[test]
    fn answers_200_only_with_local_endpoints_and_a_healthy_proxy() {
        let service = ServiceHealth {
            namespace: "ns".into(),
            name: "web".into(),
            local_endpoints: 2,
        };
        let (status, body) = answer(&service, true);
        assert_eq!(status, StatusCode::OK);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["service"]["name"], "web");
        assert_eq!(json["localEndpoints"], 2);
        assert_eq!(json["serviceProxyHealthy"], true);
        assert_eq!(answer(&service, false).0, StatusCode::SERVICE_UNAVAILABLE);
        let none = ServiceHealth {
            local_endpoints: 0,
            ..service
        };
        assert_eq!(answer(&none, true).0, StatusCode::SERVICE_UNAVAILABLE);
    }
}
