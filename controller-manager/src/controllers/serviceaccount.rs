//! The ServiceAccount controller: every namespace that is not being deleted has a
//! `default` ServiceAccount; it is recreated if deleted.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

/// The ServiceAccount every namespace gets.
const DEFAULT_SA: &str = "default";

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
}

struct Context {
    client: Client,
}

/// Run until the watch streams end.
pub async fn run(client: Client) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let accounts: Api<ServiceAccount> = Api::all(client.clone());
    let ctx = Arc::new(Context { client });
    Controller::new(namespaces, watcher::Config::default())
        // A deleted `default` ServiceAccount requeues its namespace.
        .watches(
            accounts,
            watcher::Config::default(),
            |sa: ServiceAccount| sa.namespace().map(|ns| ObjectRef::<Namespace>::new(&ns)),
        )
        .run(reconcile, error_policy, ctx)
        .for_each(|_| async {})
        .await;
}

fn error_policy(_ns: Arc<Namespace>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Context>) -> Result<Action, Error> {
    let terminating = ns.metadata.deletion_timestamp.is_some()
        || ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating");
    if terminating {
        return Ok(Action::await_change());
    }
    let name = ns.name_any();
    let api: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), &name);
    if api.get_opt(DEFAULT_SA).await?.is_some() {
        return Ok(Action::await_change());
    }
    let sa = ServiceAccount {
        metadata: ObjectMeta {
            name: Some(DEFAULT_SA.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &sa).await {
        Ok(_) => tracing::info!(namespace = %name, "created default ServiceAccount"),
        // Created meanwhile, or the namespace started terminating (403 Forbidden).
        Err(kube::Error::Api(e)) if e.code == 409 || e.code == 403 => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::await_change())
}
