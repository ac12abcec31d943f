//! The namespace controller: when a namespace is being deleted, delete everything in it, and
//! once nothing is left remove the `kubernetes` finalizer through `namespaces/<name>/finalize`,
//! which lets the apiserver remove the namespace.
//!
//! Level-triggered and idempotent: `reconcile` reads the world each time and is requeued
//! until the namespace's content is gone.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::discovery::{verbs, Discovery, Scope};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

/// Finalizer the apiserver puts in `spec.finalizers` of every namespace.
const FINALIZER: &str = "kubernetes";

/// Why one reconcile failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
}

struct Context {
    client: Client,
}

/// Run until the watch stream ends.
pub async fn run(client: Client) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ctx = Arc::new(Context { client });
    let results =
        Controller::new(namespaces, watcher::Config::default()).run(reconcile, error_policy, ctx);
    super::drain("namespace", results).await;
}

fn error_policy(_ns: Arc<Namespace>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(5))
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Context>) -> Result<Action, Error> {
    if ns.metadata.deletion_timestamp.is_none() {
        return Ok(Action::await_change());
    }
    let has_finalizer = ns
        .spec
        .as_ref()
        .and_then(|s| s.finalizers.as_ref())
        .is_some_and(|f| f.iter().any(|x| x == FINALIZER));
    if !has_finalizer {
        return Ok(Action::await_change());
    }
    let name = ns.name_any();
    let remaining = delete_content(&ctx.client, &name).await?;
    if remaining > 0 {
        tracing::info!(namespace = %name, remaining, "waiting for namespace content to be deleted");
        return Ok(Action::requeue(Duration::from_secs(2)));
    }
    finalize(&ctx.client, &name).await?;
    tracing::info!(namespace = %name, "namespace finalized");
    Ok(Action::await_change())
}

/// Delete every namespaced object in `ns`; returns how many still exist afterwards.
async fn delete_content(client: &Client, ns: &str) -> Result<usize, Error> {
    let discovery = Discovery::new(client.clone()).run().await?;
    let mut remaining = 0;
    for group in discovery.groups() {
        // Only the preferred version: other versions are the same objects.
        for (ar, caps) in group.recommended_resources() {
            if caps.scope != Scope::Namespaced || !caps.supports_operation(verbs::LIST) {
                continue;
            }
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
            if caps.supports_operation(verbs::DELETE_COLLECTION) {
                api.delete_collection(&DeleteParams::background(), &ListParams::default())
                    .await?;
            }
            remaining += api.list_metadata(&ListParams::default()).await?.items.len();
        }
    }
    Ok(remaining)
}

/// Remove our finalizer through the `finalize` subresource.
async fn finalize(client: &Client, name: &str) -> Result<(), Error> {
    let api: Api<Namespace> = Api::all(client.clone());
    let mut ns = api.get(name).await?;
    if let Some(spec) = ns.spec.as_mut() {
        if let Some(f) = spec.finalizers.as_mut() {
            f.retain(|x| x != FINALIZER);
        }
    }
    api.replace_subresource("finalize", name, &PostParams::default(), &ns)
        .await?;
    Ok(())
}
