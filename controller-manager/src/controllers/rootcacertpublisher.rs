//! The root-ca-cert-publisher: every namespace gets a ConfigMap `kube-root-ca.crt` whose
//! `ca.crt` holds the cluster CA (`--root-ca-file`), so pods (projected service-account
//! volumes) can verify the apiserver. Edited or deleted copies are put back.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

/// The ConfigMap every namespace gets.
pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";
/// Its one data key.
pub const CA_KEY: &str = "ca.crt";
/// Upstream's description annotation on the ConfigMap.
const DESCRIPTION_KEY: &str = "kubernetes.io/description";
const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver \
when using internal endpoints such as the internal service IP or kubernetes.default.svc. \
No other usage is guaranteed across distributions of Kubernetes clusters.";

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
}

struct Context {
    client: Client,
    ca: String,
}

/// Run until the watch streams end, publishing `ca_pem`.
pub async fn run(client: Client, ca_pem: String) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let maps: Api<ConfigMap> = Api::all(client.clone());
    let ctx = Arc::new(Context { client, ca: ca_pem });
    let results = Controller::new(namespaces, watcher::Config::default())
        .watches(
            maps,
            watcher::Config::default().fields(&format!("metadata.name={ROOT_CA_CONFIGMAP}")),
            |cm: ConfigMap| cm.namespace().map(|ns| ObjectRef::<Namespace>::new(&ns)),
        )
        .run(reconcile, error_policy, ctx);
    super::drain("root-ca-cert-publisher", results).await;
}

fn error_policy(_ns: Arc<Namespace>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

/// The data the ConfigMap must hold.
fn desired_data(ca: &str) -> BTreeMap<String, String> {
    [(CA_KEY.to_string(), ca.to_string())].into()
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Context>) -> Result<Action, Error> {
    let terminating = ns.metadata.deletion_timestamp.is_some()
        || ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating");
    if terminating {
        return Ok(Action::await_change());
    }
    let name = ns.name_any();
    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &name);
    let want = desired_data(&ctx.ca);
    match api.get_opt(ROOT_CA_CONFIGMAP).await? {
        Some(cm) if cm.data.as_ref() == Some(&want) => {}
        Some(cm) => {
            // Someone edited it: put the CA back (data only, other fields stay theirs).
            let patch = json!({"metadata": {"resourceVersion": cm.resource_version()},
                               "data": want, "binaryData": null});
            match api
                .patch(
                    ROOT_CA_CONFIGMAP,
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await
            {
                Ok(_) => tracing::info!(namespace = %name, "restored kube-root-ca.crt"),
                Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => {
                    return Ok(Action::requeue(Duration::from_millis(200)))
                }
                Err(e) => return Err(e.into()),
            }
        }
        None => {
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(ROOT_CA_CONFIGMAP.into()),
                    annotations: Some(
                        [(DESCRIPTION_KEY.to_string(), DESCRIPTION.to_string())].into(),
                    ),
                    ..Default::default()
                },
                data: Some(want),
                ..Default::default()
            };
            match api.create(&PostParams::default(), &cm).await {
                Ok(_) => tracing::info!(namespace = %name, "published kube-root-ca.crt"),
                // Created meanwhile, or the namespace started terminating.
                Err(kube::Error::Api(e)) if e.code == 409 || e.code == 403 => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_holds_only_ca_crt() {
        let d = desired_data("PEM");
        assert_eq!(d.len(), 1);
        assert_eq!(d.get("ca.crt").map(String::as_str), Some("PEM"));
    }
}
