//! Where an APIService's Service is served: its port, then the ready addresses of its
//! Endpoints (or, when there is no Endpoints object, its EndpointSlices) for that port's name,
//! as upstream's endpoint routing resolves them. Read from the watch cache, so it follows
//! every change without extra etcd reads.

use std::net::{IpAddr, SocketAddr};

use serde_json::Value;

use crate::storage::WatchCache;

/// An APIService's `spec.service`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceRef {
    /// Namespace of the Service.
    pub namespace: String,
    /// Name of the Service.
    pub name: String,
    /// Service port (defaults to 443).
    pub port: u16,
}

impl ServiceRef {
    /// The DNS name the backend's serving certificate must carry.
    pub fn server_name(&self) -> String {
        format!("{}.{}.svc", self.name, self.namespace)
    }
}

/// Why a Service has no usable endpoint, as an `Available=False` reason and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// `ServiceNotFound`, `ServicePortError` or `MissingEndpoints`.
    pub reason: &'static str,
    /// Upstream's wording.
    pub message: String,
}

fn unresolved(reason: &'static str, message: String) -> Unresolved {
    Unresolved { reason, message }
}

/// The addresses (pod IP and target port) serving `svc`, ready ones only.
pub fn endpoints(
    cache: &WatchCache,
    prefix: &str,
    svc: &ServiceRef,
) -> Result<Vec<SocketAddr>, Unresolved> {
    let service = cache
        .get(&format!(
            "{prefix}/services/specs/{}/{}",
            svc.namespace, svc.name
        ))
        .ok_or_else(|| {
            unresolved(
                "ServiceNotFound",
                format!("service/{} in {:?} is not present", svc.name, svc.namespace),
            )
        })?;
    let ports = service
        .value()
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let port = ports
        .iter()
        .find(|p| p.get("port").and_then(Value::as_i64) == Some(i64::from(svc.port)))
        .ok_or_else(|| {
            unresolved(
                "ServicePortError",
                format!(
                    "service/{} in {:?} is not listening on port {}",
                    svc.name, svc.namespace, svc.port
                ),
            )
        })?;
    let port_name = port.get("name").and_then(Value::as_str).unwrap_or("");
    let found = match cache.get(&format!(
        "{prefix}/services/endpoints/{}/{}",
        svc.namespace, svc.name
    )) {
        Some(ep) => from_endpoints(ep.value(), port_name),
        None => from_slices(cache, prefix, svc, port_name),
    };
    if found.is_empty() {
        return Err(unresolved(
            "MissingEndpoints",
            format!(
                "endpoints for service/{} in {:?} have no addresses with port name {:?}",
                svc.name, svc.namespace, port_name
            ),
        ));
    }
    Ok(found)
}

/// The number of the port called `port_name` in an Endpoints subset's or an EndpointSlice's
/// `ports` (an unnamed port has the name "").
fn named_port(ports_owner: &Value, port_name: &str) -> Option<u16> {
    ports_owner
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|p| p.get("name").and_then(Value::as_str).unwrap_or("") == port_name)
        .and_then(|p| p.get("port").and_then(Value::as_u64))
        .and_then(|p| u16::try_from(p).ok())
}

/// Ready addresses of a core/v1 Endpoints object for the named port.
fn from_endpoints(ep: &Value, port_name: &str) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for subset in ep
        .get("subsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let port = named_port(subset, port_name);
        let Some(port) = port else { continue };
        for addr in subset
            .get("addresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(ip) = addr
                .get("ip")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<IpAddr>().ok())
            {
                out.push(SocketAddr::new(ip, port));
            }
        }
    }
    out
}

/// Ready addresses of the Service's EndpointSlices for the named port.
fn from_slices(
    cache: &WatchCache,
    prefix: &str,
    svc: &ServiceRef,
    port_name: &str,
) -> Vec<SocketAddr> {
    let (slices, _) = cache.list(&format!("{prefix}/endpointslices/{}/", svc.namespace));
    let mut out = Vec::new();
    for slice in slices {
        let slice = slice.value();
        if slice
            .pointer("/metadata/labels/kubernetes.io~1service-name")
            .and_then(Value::as_str)
            != Some(svc.name.as_str())
        {
            continue;
        }
        let port = named_port(slice, port_name);
        let Some(port) = port else { continue };
        for ep in slice
            .get("endpoints")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // A missing `ready` means ready (the field is optional in the API).
            if ep.pointer("/conditions/ready").and_then(Value::as_bool) == Some(false) {
                continue;
            }
            for a in ep
                .get("addresses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(ip) = a.as_str().and_then(|s| s.parse::<IpAddr>().ok()) {
                    out.push(SocketAddr::new(ip, port));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoints_pick_the_service_port_by_name() {
        let ep = json!({"subsets": [
            {"addresses": [{"ip": "10.244.0.5"}], "notReadyAddresses": [{"ip": "10.244.0.6"}],
             "ports": [{"name": "https", "port": 10250}, {"name": "metrics", "port": 9090}]},
        ]});
        assert_eq!(
            from_endpoints(&ep, "https"),
            vec!["10.244.0.5:10250".parse::<SocketAddr>().unwrap()]
        );
        assert!(from_endpoints(&ep, "grpc").is_empty());
        let unnamed =
            json!({"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 443}]}]});
        assert_eq!(from_endpoints(&unnamed, "").len(), 1);
    }
}
