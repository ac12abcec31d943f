//! The routing table: our Ingresses' host and path rules, each resolved to the ready
//! endpoints of its backend Service, and the match of a request against them.
//!
//! Matching follows the Ingress API: a host is exact or a `*.` wildcard covering exactly one
//! label; `Exact` paths compare whole, `Prefix` paths compare element by element (split on
//! `/`, so `/foo` matches `/foo/bar` but not `/foobar`), `ImplementationSpecific` is treated as
//! `Prefix`. The longest matching path wins, `Exact` before `Prefix` at equal length.
//! Hosts pick a "server" first (exact host, else wildcard, else the rules without a host);
//! a path not matched there goes to the default backend.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressBackend};

/// The label every EndpointSlice carries naming its Service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// How a rule's path is compared with the request's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathType {
    /// The whole path, case-sensitively.
    Exact,
    /// Element-wise prefix (`ImplementationSpecific` too).
    Prefix,
}

/// Where matched requests go: the ready endpoints of one Service port.
#[derive(Debug)]
pub struct Backend {
    /// `namespace/service:port`, for logs and errors.
    pub name: String,
    /// Ready endpoint addresses (pod IP and target port), sorted.
    pub endpoints: Vec<SocketAddr>,
    next: AtomicUsize,
}

impl Backend {
    /// A backend named `name` over `endpoints`.
    pub fn new(name: String, mut endpoints: Vec<SocketAddr>) -> Backend {
        endpoints.sort();
        endpoints.dedup();
        Backend {
            name,
            endpoints,
            next: AtomicUsize::new(0),
        }
    }

    /// The endpoints in the order to try them for one request: round robin over requests,
    /// the rest following as fallbacks for connect failures.
    pub fn pick_order(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        let len = self.endpoints.len();
        let start = if len == 0 {
            0
        } else {
            self.next.fetch_add(1, Ordering::Relaxed) % len
        };
        (0..len).map(move |i| self.endpoints[(start + i) % len])
    }
}

#[derive(Debug)]
struct PathRule {
    path: String,
    path_type: PathType,
    backend: Arc<Backend>,
}

/// The rules of one host ("server"), merged across Ingresses.
#[derive(Debug, Default)]
struct Server {
    paths: Vec<PathRule>,
}

/// All routes of the Ingresses this controller serves.
#[derive(Debug, Default)]
pub struct RouteTable {
    exact: HashMap<String, Server>,
    /// Keyed by the suffix after `*` (e.g. `.foo.com`).
    wildcard: HashMap<String, Server>,
    any_host: Server,
    default_backend: Option<Arc<Backend>>,
}

/// The Services and EndpointSlices backends are resolved against.
pub struct Cluster<'a> {
    /// All Services.
    pub services: &'a [Arc<Service>],
    /// All EndpointSlices.
    pub slices: &'a [Arc<EndpointSlice>],
}

impl RouteTable {
    /// Build the table from `ingresses` (already filtered to our class), resolving backends
    /// in `cluster`. Ingresses are taken oldest first, so the first-created rule for a
    /// host/path and the oldest default backend win, whatever order the watch delivered.
    pub fn build(ingresses: &[Arc<Ingress>], cluster: &Cluster<'_>) -> RouteTable {
        let mut resolver = BackendResolver::new(cluster);
        let mut ordered: Vec<&Arc<Ingress>> = ingresses.iter().collect();
        ordered.sort_by(|a, b| {
            let key = |i: &Ingress| {
                (
                    i.metadata.creation_timestamp.clone().map(|t| t.0),
                    i.metadata.namespace.clone(),
                    i.metadata.name.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        let mut table = RouteTable::default();
        for ingress in ordered {
            let ns = ingress.metadata.namespace.as_deref().unwrap_or("default");
            let Some(spec) = ingress.spec.as_ref() else {
                continue;
            };
            if table.default_backend.is_none() {
                if let Some(backend) = spec.default_backend.as_ref() {
                    table.default_backend = Some(resolver.resolve(ns, backend));
                }
            }
            for rule in spec.rules.iter().flatten() {
                let server = match rule.host.as_deref().map(str::to_ascii_lowercase) {
                    None => &mut table.any_host,
                    Some(host) if host.is_empty() => &mut table.any_host,
                    Some(host) => match host.strip_prefix('*') {
                        Some(suffix) => table.wildcard.entry(suffix.to_string()).or_default(),
                        None => table.exact.entry(host).or_default(),
                    },
                };
                for path in rule.http.iter().flat_map(|h| h.paths.iter()) {
                    let path_type = match path.path_type.as_str() {
                        "Exact" => PathType::Exact,
                        _ => PathType::Prefix,
                    };
                    let path_str = path.path.clone().unwrap_or_else(|| "/".to_string());
                    if server
                        .paths
                        .iter()
                        .any(|p| p.path == path_str && p.path_type == path_type)
                    {
                        // A later Ingress repeating a host/path does not take it over.
                        continue;
                    }
                    server.paths.push(PathRule {
                        path: path_str,
                        path_type,
                        backend: resolver.resolve(ns, &path.backend),
                    });
                }
            }
        }
        table
    }

    /// The backend for a request to `host` (the Host header, port allowed) and `path`, or
    /// `None` when nothing matches (404).
    pub fn route(&self, host: &str, path: &str) -> Option<&Arc<Backend>> {
        let host = strip_port(host).to_ascii_lowercase();
        let server = self
            .exact
            .get(&host)
            .or_else(|| {
                let (_, suffix) = host.split_once('.')?;
                self.wildcard.get(&format!(".{suffix}"))
            })
            .unwrap_or(&self.any_host);
        best_path(&server.paths, path).or(self.default_backend.as_ref())
    }

    /// Every backend of the table (a backend named by several rules appears once per rule).
    fn backends(&self) -> impl Iterator<Item = &Arc<Backend>> {
        self.exact
            .values()
            .chain(self.wildcard.values())
            .chain(std::iter::once(&self.any_host))
            .flat_map(|server| server.paths.iter().map(|p| &p.backend))
            .chain(self.default_backend.iter())
    }

    /// Carry on each backend's round robin from `previous` (the table this one replaces), so
    /// a reload does not send the next requests to the first endpoint again.
    pub fn continue_round_robin(&self, previous: &RouteTable) {
        let positions: HashMap<&str, usize> = previous
            .backends()
            .map(|b| (b.name.as_str(), b.next.load(Ordering::Relaxed)))
            .collect();
        for backend in self.backends() {
            if let Some(position) = positions.get(backend.name.as_str()) {
                backend.next.store(*position, Ordering::Relaxed);
            }
        }
    }

    /// Whether the table has no rules and no default backend.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
            && self.wildcard.is_empty()
            && self.any_host.paths.is_empty()
            && self.default_backend.is_none()
    }
}

/// The longest matching path; `Exact` wins a tie.
fn best_path<'a>(paths: &'a [PathRule], request_path: &str) -> Option<&'a Arc<Backend>> {
    paths
        .iter()
        .filter(|rule| path_matches(rule.path_type, &rule.path, request_path))
        .max_by_key(|rule| {
            (
                rule.path.trim_end_matches('/').len(),
                rule.path_type == PathType::Exact,
            )
        })
        .map(|rule| &rule.backend)
}

/// Whether `request_path` matches a rule's `path` of `path_type`.
pub fn path_matches(path_type: PathType, path: &str, request_path: &str) -> bool {
    match path_type {
        PathType::Exact => path == request_path,
        PathType::Prefix => {
            let rule: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            let request: Vec<&str> = request_path.split('/').filter(|s| !s.is_empty()).collect();
            request.len() >= rule.len() && request[..rule.len()] == rule[..]
        }
    }
}

/// `host` without a `:port` (IPv6 literals keep their brackets' content intact).
fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Resolves Ingress backends to endpoint addresses.
struct BackendResolver<'a> {
    services: HashMap<(&'a str, &'a str), &'a Service>,
    slices: HashMap<(&'a str, &'a str), Vec<&'a EndpointSlice>>,
    /// One backend per `namespace/service:port`, shared by every rule naming it (so they
    /// share one round robin).
    resolved: HashMap<String, Arc<Backend>>,
}

impl<'a> BackendResolver<'a> {
    fn new(cluster: &Cluster<'a>) -> BackendResolver<'a> {
        let mut services = HashMap::new();
        for s in cluster.services {
            if let (Some(ns), Some(name)) =
                (s.metadata.namespace.as_deref(), s.metadata.name.as_deref())
            {
                services.insert((ns, name), s.as_ref());
            }
        }
        let mut slices: HashMap<(&str, &str), Vec<&EndpointSlice>> = HashMap::new();
        for slice in cluster.slices {
            let ns = slice.metadata.namespace.as_deref();
            let svc = slice
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(SERVICE_NAME_LABEL));
            if let (Some(ns), Some(svc)) = (ns, svc) {
                slices
                    .entry((ns, svc.as_str()))
                    .or_default()
                    .push(slice.as_ref());
            }
        }
        BackendResolver {
            services,
            slices,
            resolved: HashMap::new(),
        }
    }

    /// The backend's ready endpoints; a missing Service, port or endpoints (or a resource
    /// backend, which a proxy cannot serve) resolves to no endpoints, which answers 503.
    fn resolve(&mut self, ns: &str, backend: &IngressBackend) -> Arc<Backend> {
        let key = backend_key(ns, backend);
        if let Some(resolved) = self.resolved.get(&key) {
            return resolved.clone();
        }
        let resolved = self.resolve_uncached(ns, backend);
        self.resolved.insert(key, resolved.clone());
        resolved
    }

    fn resolve_uncached(&self, ns: &str, backend: &IngressBackend) -> Arc<Backend> {
        let Some(svc_backend) = backend.service.as_ref() else {
            return Arc::new(Backend::new(format!("{ns}/<resource backend>"), vec![]));
        };
        let port = svc_backend.port.as_ref();
        let port_label = port
            .and_then(|p| p.name.clone().or_else(|| p.number.map(|n| n.to_string())))
            .unwrap_or_default();
        let name = format!("{ns}/{}:{port_label}", svc_backend.name);
        let Some(service) = self.services.get(&(ns, svc_backend.name.as_str())) else {
            return Arc::new(Backend::new(name, vec![]));
        };
        let service_port = service
            .spec
            .iter()
            .flat_map(|s| s.ports.iter().flatten())
            .find(|sp| match port {
                Some(p) if p.name.is_some() => sp.name == p.name,
                Some(p) => p.number == Some(sp.port),
                None => true,
            });
        let Some(service_port) = service_port else {
            return Arc::new(Backend::new(name, vec![]));
        };
        // EndpointSlice ports carry the Service port's name; the number there is the pods'.
        let wanted_name = service_port.name.clone().unwrap_or_default();
        let mut endpoints = Vec::new();
        let mut seen = HashSet::new();
        for slice in self
            .slices
            .get(&(ns, svc_backend.name.as_str()))
            .into_iter()
            .flatten()
        {
            let Some(port) = slice
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.clone().unwrap_or_default() == wanted_name)
                .and_then(|p| p.port)
                .and_then(|p| u16::try_from(p).ok())
            else {
                continue;
            };
            for endpoint in &slice.endpoints {
                let ready = endpoint
                    .conditions
                    .as_ref()
                    .and_then(|c| c.ready)
                    .unwrap_or(true);
                if !ready {
                    continue;
                }
                for address in &endpoint.addresses {
                    if let Ok(ip) = address.parse::<IpAddr>() {
                        let addr = SocketAddr::new(ip, port);
                        if seen.insert(addr) {
                            endpoints.push(addr);
                        }
                    }
                }
            }
        }
        Arc::new(Backend::new(name, endpoints))
    }
}

/// The identity of a backend for sharing: namespace, Service and port as written.
fn backend_key(ns: &str, backend: &IngressBackend) -> String {
    match backend.service.as_ref() {
        Some(svc) => {
            let port = svc.port.as_ref();
            format!(
                "{ns}/{}:{}:{}",
                svc.name,
                port.and_then(|p| p.name.clone()).unwrap_or_default(),
                port.and_then(|p| p.number).unwrap_or_default()
            )
        }
        None => format!("{ns}/<resource backend>"),
    }
}

/// Hosts by Ingress TLS section: `(namespace, secret name)` → hosts it serves.
pub fn tls_hosts(ingresses: &[Arc<Ingress>]) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for ingress in ingresses {
        let ns = ingress
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        for tls in ingress.spec.iter().flat_map(|s| s.tls.iter().flatten()) {
            let Some(secret) = tls.secret_name.clone() else {
                continue;
            };
            out.entry((ns.clone(), secret))
                .or_default()
                .extend(tls.hosts.iter().flatten().map(|h| h.to_ascii_lowercase()));
        }
    }
    out
}

#[cfg(test)]
mod tests;
