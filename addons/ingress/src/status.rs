//! Writing `status.loadBalancer.ingress` of the Ingresses we serve: the addresses clients
//! reach the proxy at — a fixed address, or (as ingress-nginx's `--publish-service`) the
//! load-balancer addresses of the Service in front of the proxy.

use std::net::IpAddr;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::{Ingress, IngressLoadBalancerIngress};
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use serde_json::json;

/// Where the published addresses come from.
#[derive(Debug, Clone, PartialEq)]
pub enum PublishSource {
    /// Nothing is written.
    None,
    /// One fixed address (an IP, or else a hostname).
    Address(String),
    /// The `status.loadBalancer.ingress` of this Service (`namespace`, `name`).
    Service(String, String),
}

impl PublishSource {
    /// The entries to publish, given the Services we watch; `None` when there is nothing to
    /// publish yet (no source, or the Service has no load-balancer address).
    pub fn entries(&self, services: &[Arc<Service>]) -> Option<Vec<IngressLoadBalancerIngress>> {
        match self {
            PublishSource::None => None,
            PublishSource::Address(address) => Some(vec![address_entry(address)]),
            PublishSource::Service(ns, name) => {
                let service = services.iter().find(|s| {
                    s.metadata.namespace.as_deref() == Some(ns.as_str())
                        && s.metadata.name.as_deref() == Some(name.as_str())
                })?;
                let entries: Vec<IngressLoadBalancerIngress> = service
                    .status
                    .as_ref()?
                    .load_balancer
                    .as_ref()?
                    .ingress
                    .iter()
                    .flatten()
                    .filter_map(|lb| {
                        lb.ip
                            .as_deref()
                            .or(lb.hostname.as_deref())
                            .map(address_entry)
                    })
                    .collect();
                (!entries.is_empty()).then_some(entries)
            }
        }
    }
}

/// Patches Ingress status when it differs from the addresses we serve at.
pub struct StatusWriter {
    client: Client,
}

impl StatusWriter {
    /// A writer using `client`.
    pub fn new(client: Client) -> StatusWriter {
        StatusWriter { client }
    }

    /// Bring every Ingress in `ingresses` to `desired` (only those that differ are patched,
    /// so a steady state costs no writes). Returns whether a write failed (the caller tries
    /// again later).
    pub async fn update(
        &self,
        ingresses: &[Arc<Ingress>],
        desired: &[IngressLoadBalancerIngress],
    ) -> bool {
        let mut failed = false;
        for ingress in ingresses {
            let current = ingress
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.clone())
                .unwrap_or_default();
            if current == desired {
                continue;
            }
            let (Some(ns), Some(name)) = (
                ingress.metadata.namespace.as_deref(),
                ingress.metadata.name.as_deref(),
            ) else {
                continue;
            };
            let api: Api<Ingress> = Api::namespaced(self.client.clone(), ns);
            let patch = json!({"status": {"loadBalancer": {"ingress": desired}}});
            match api
                .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    tracing::info!(ingress = %format!("{ns}/{name}"), ?desired, "status updated")
                }
                // A vanished Ingress needs no status.
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => {
                    failed = true;
                    tracing::warn!(ingress = %format!("{ns}/{name}"), error = %e, "status update failed")
                }
            }
        }
        failed
    }
}

fn address_entry(address: &str) -> IngressLoadBalancerIngress {
    if address.parse::<IpAddr>().is_ok() {
        IngressLoadBalancerIngress {
            ip: Some(address.to_string()),
            ..Default::default()
        }
    } else {
        IngressLoadBalancerIngress {
            hostname: Some(address.to_string()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(status: serde_json::Value) -> Arc<Service> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": "front", "namespace": "kube-system"},
                "spec": {"type": "LoadBalancer"},
                "status": status
            }))
            .unwrap(),
        )
    }

    #[test]
    fn entries_from_an_address_or_a_service() {
        let fixed = PublishSource::Address("127.0.0.1".into())
            .entries(&[])
            .unwrap();
        assert_eq!(fixed[0].ip.as_deref(), Some("127.0.0.1"));
        let named = PublishSource::Address("ingress.example".into())
            .entries(&[])
            .unwrap();
        assert_eq!(named[0].hostname.as_deref(), Some("ingress.example"));
        assert_eq!(PublishSource::None.entries(&[]), None);

        let source = PublishSource::Service("kube-system".into(), "front".into());
        assert_eq!(source.entries(&[]), None, "no such Service yet");
        assert_eq!(
            source.entries(&[service(json!({}))]),
            None,
            "no address assigned yet"
        );
        let lb = service(json!({"loadBalancer": {"ingress": [{"ip": "127.240.0.5"}]}}));
        let entries = source.entries(&[lb]).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].ip.as_deref(), Some("127.240.0.5"));
    }
}
