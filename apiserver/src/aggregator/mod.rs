//! The aggregation layer (upstream's kube-aggregator, folded into kube-apiserver as upstream
//! runs it): `apiregistration.k8s.io/v1` APIServices register extension apiservers for a
//! group-version; requests under `/apis/<group>/<version>` of such a registration are proxied
//! to the Service's endpoints with the caller's identity in request headers, the groups are
//! merged into discovery, and a controller keeps each APIService's `Available` condition.
//!
//! Modules, one job each:
//! - `transport`: TLS to backends (proxy client certificate, caBundle / insecure).
//! - `resolve`: Service → ready endpoint addresses.
//! - `proxy`: forwarding one request with the `X-Remote-*` identity headers.
//! - `available`: the availability controller (status conditions) and the discovery cache.
//! - `discovery`: aggregated groups in `/apis` (legacy and `apidiscovery.k8s.io/v2`).
//! - `authentication_config`: the `kube-system/extension-apiserver-authentication` ConfigMap.

pub mod authentication_config;
pub mod available;
pub mod discovery;
pub mod proxy;
pub mod resolve;
pub mod transport;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use api_types::catalog;
use base64::Engine;
use serde_json::Value;

use crate::config::Config;
use crate::storage::WatchCache;
pub use resolve::ServiceRef;
pub use transport::{Transport, TransportError, Trust};

/// The storage prefix of APIServices (upstream's layout).
pub const STORAGE: &str = "apiregistration.k8s.io/apiservices";

/// One APIService, as the proxy and discovery need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// `<version>.<group>`.
    pub name: String,
    /// `spec.group`.
    pub group: String,
    /// `spec.version`.
    pub version: String,
    /// `spec.groupPriorityMinimum`.
    pub group_priority_minimum: i64,
    /// `spec.versionPriority`.
    pub version_priority: i64,
    /// `spec.service`; `None` for groups this server serves itself.
    pub service: Option<ServiceRef>,
    /// How the backend's certificate is checked.
    pub trust: Trust,
    /// Whether `status.conditions[Available]` is `True`.
    pub available: bool,
}

impl Registration {
    /// Read an APIService object; `None` if it lacks a group-version.
    pub fn from_object(obj: &Value) -> Option<Self> {
        let spec = obj.get("spec")?;
        let name = obj.pointer("/metadata/name")?.as_str()?.to_string();
        let group = spec.get("group").and_then(Value::as_str).unwrap_or("");
        let version = spec.get("version").and_then(Value::as_str)?;
        let service = spec
            .get("service")
            .filter(|s| s.is_object())
            .map(|s| ServiceRef {
                namespace: s
                    .get("namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                name: s
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                port: s
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(443),
            });
        let trust = if spec.get("insecureSkipTLSVerify") == Some(&Value::Bool(true)) {
            Trust::Insecure
        } else {
            let pem = spec
                .get("caBundle")
                .and_then(Value::as_str)
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .unwrap_or_default();
            Trust::CaBundle(pem)
        };
        let available = obj
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Available" && c["status"] == "True");
        Some(Self {
            name,
            group: group.to_string(),
            version: version.to_string(),
            group_priority_minimum: spec
                .get("groupPriorityMinimum")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            version_priority: spec
                .get("versionPriority")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            service,
            trust,
            available,
        })
    }

    /// Whether this server serves the group-version itself (no Service, or a group-version
    /// in the built-in catalog, which an APIService can never take over).
    pub fn is_local(&self) -> bool {
        self.service.is_none() || is_builtin(&self.group, &self.version)
    }
}

/// Whether the built-in catalog serves a group-version.
pub fn is_builtin(group: &str, version: &str) -> bool {
    catalog::resources_in(group, version).next().is_some()
}

/// The aggregation layer's shared state.
pub struct Aggregator {
    cache: Arc<WatchCache>,
    prefix: String,
    /// Connections to backends.
    pub transport: Transport,
    /// The last `APIResourceList` each APIService's backend served, by APIService name.
    discovery: RwLock<HashMap<String, Value>>,
    /// Round-robin over a Service's endpoints.
    next_endpoint: AtomicUsize,
    /// The `--requestheader-*` header names (and the rest of the flags).
    config: Config,
}

impl Aggregator {
    /// Build the aggregator over the apiserver's watch cache.
    pub fn new(
        cache: Arc<WatchCache>,
        prefix: &str,
        config: &Config,
    ) -> Result<Self, TransportError> {
        Ok(Self {
            cache,
            prefix: prefix.trim_end_matches('/').to_string(),
            transport: Transport::new(
                config.proxy_client_cert_file.as_deref(),
                config.proxy_client_key_file.as_deref(),
            )?,
            discovery: RwLock::new(HashMap::new()),
            next_endpoint: AtomicUsize::new(0),
            config: config.clone(),
        })
    }

    /// Every APIService, in name order.
    pub fn registrations(&self) -> Vec<Registration> {
        let (items, _) = self.cache.list(&format!("{}/{STORAGE}/", self.prefix));
        items
            .iter()
            .filter_map(|o| Registration::from_object(o.value()))
            .collect()
    }

    /// The APIService that proxies `path`, if the path is under an extension apiserver's
    /// group-version (`/apis/<group>/<version>` or below).
    pub fn route(&self, path: &str) -> Option<Registration> {
        let mut segs = path.trim_start_matches('/').split('/');
        if segs.next()? != "apis" {
            return None;
        }
        let group = segs.next().filter(|g| !g.is_empty())?;
        let version = segs.next().filter(|v| !v.is_empty())?;
        if is_builtin(group, version) {
            return None;
        }
        let obj = self
            .cache
            .get(&format!("{}/{STORAGE}/{version}.{group}", self.prefix))?;
        Registration::from_object(obj.value()).filter(|r| !r.is_local())
    }

    /// A ready endpoint of the registration's Service (round-robin), or why there is none.
    pub fn endpoint(&self, svc: &ServiceRef) -> Result<std::net::SocketAddr, resolve::Unresolved> {
        let all = resolve::endpoints(&self.cache, &self.prefix, svc)?;
        let i = self.next_endpoint.fetch_add(1, Ordering::Relaxed);
        Ok(all[i % all.len()])
    }

    /// The cached `APIResourceList` of an APIService's backend.
    pub fn cached_discovery(&self, name: &str) -> Option<Value> {
        self.discovery
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    fn set_discovery(&self, name: &str, doc: Option<Value>) {
        let mut map = self.discovery.write().unwrap_or_else(|p| p.into_inner());
        match doc {
            Some(d) => {
                map.insert(name.to_string(), d);
            }
            None => {
                map.remove(name);
            }
        }
    }

    /// Forget the discovery of APIServices that no longer exist.
    fn retain_discovery(&self, names: &[&str]) {
        self.discovery
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|k, _| names.contains(&k.as_str()));
    }

    /// The flags naming the identity headers.
    pub(crate) fn config_headers(&self) -> &Config {
        &self.config
    }

    /// The watch cache (for the availability controller).
    pub(crate) fn cache(&self) -> &WatchCache {
        &self.cache
    }

    /// The storage prefix (`/registry`).
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn registration_reads_spec_and_availability() {
        let obj = json!({
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100,
                     "versionPriority": 100, "insecureSkipTLSVerify": true,
                     "service": {"namespace": "kube-system", "name": "metrics-server"}},
            "status": {"conditions": [{"type": "Available", "status": "True"}]},
        });
        let r = Registration::from_object(&obj).expect("registration");
        assert_eq!(r.service.as_ref().map(|s| s.port), Some(443));
        assert_eq!(r.trust, Trust::Insecure);
        assert!(r.available);
        assert!(!r.is_local());
        let local =
            json!({"metadata": {"name": "v1.apps"}, "spec": {"group": "apps", "version": "v1"}});
        assert!(Registration::from_object(&local).expect("local").is_local());
    }

    #[test]
    fn built_in_group_versions_are_never_proxied() {
        assert!(is_builtin("apps", "v1"));
        assert!(!is_builtin("metrics.k8s.io", "v1beta1"));
    }
}
