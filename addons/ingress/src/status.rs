//! Writing `status.loadBalancer.ingress` of the Ingresses we serve: the address clients
//! reach the proxy at.

use std::net::IpAddr;
use std::sync::Arc;

use k8s_openapi::api::networking::v1::{Ingress, IngressLoadBalancerIngress};
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use serde_json::json;

/// Patches Ingress status when it differs from the address we serve at.
pub struct StatusWriter {
    client: Client,
    address: Option<String>,
}

impl StatusWriter {
    /// Writes `address` (an IP, or else a hostname) into our Ingresses; `None` writes nothing.
    pub fn new(client: Client, address: Option<String>) -> StatusWriter {
        StatusWriter { client, address }
    }

    /// Bring every Ingress in `ingresses` to the desired status (only those that differ are
    /// patched, so a steady state costs no writes). Returns whether a write failed (the
    /// caller tries again later).
    pub async fn update(&self, ingresses: &[Arc<Ingress>]) -> bool {
        let Some(address) = self.address.as_deref() else {
            return false;
        };
        let mut failed = false;
        let desired = desired_entry(address);
        for ingress in ingresses {
            let current = ingress
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.clone())
                .unwrap_or_default();
            if current == [desired.clone()] {
                continue;
            }
            let (Some(ns), Some(name)) = (
                ingress.metadata.namespace.as_deref(),
                ingress.metadata.name.as_deref(),
            ) else {
                continue;
            };
            let api: Api<Ingress> = Api::namespaced(self.client.clone(), ns);
            let patch = json!({"status": {"loadBalancer": {"ingress": [desired]}}});
            match api
                .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    tracing::info!(ingress = %format!("{ns}/{name}"), %address, "status updated")
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

fn desired_entry(address: &str) -> IngressLoadBalancerIngress {
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
