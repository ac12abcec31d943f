//! The collector's API calls. Each write is guarded so that a decision made on a stale
//! graph cannot do harm: deletes carry a uid precondition (and, for ownerless objects, the
//! resourceVersion the decision was made on), metadata patches carry the resourceVersion,
//! and a 409 or 404 is reported as such for the next pass to look again.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::params::Preconditions;
use kube::Client;
use serde_json::json;

use super::cache::Node;
use super::decide::{finalizers_without, refs_without, Propagation};
use super::discovery::{resource_of, Resource};

/// What a write found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The object is gone (or was replaced by another of the same name).
    Gone,
    /// The object changed since the graph saw it; nothing was written.
    Conflict,
}

fn api_for(client: &Client, res: &Resource, ns: Option<&str>) -> Api<DynamicObject> {
    match (res.namespaced, ns) {
        (true, Some(ns)) => Api::namespaced_with(client.clone(), ns, &res.ar),
        _ => Api::all_with(client.clone(), &res.ar),
    }
}

fn outcome(result: Result<(), kube::Error>) -> Result<Outcome, kube::Error> {
    match result {
        Ok(()) => Ok(Outcome::Done),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(Outcome::Gone),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(Outcome::Conflict),
        Err(e) => Err(e),
    }
}

/// Confirm with a live GET that the owner named by `r` does not exist (or is another
/// object of the same name). Unknown kinds count as present: never delete on a guess.
pub async fn owner_absent(
    client: &Client,
    resources: &[Arc<Resource>],
    dependent: &Node,
    r: &OwnerReference,
) -> Result<bool, kube::Error> {
    let Some(res) = resource_of(resources, r) else {
        return Ok(false);
    };
    let api = api_for(client, res, dependent.meta.namespace.as_deref());
    match api.get_metadata_opt(&r.name).await? {
        Some(owner) => Ok(owner.metadata.uid.as_deref() != Some(r.uid.as_str())),
        None => Ok(true),
    }
}

/// Delete `node`. With `exact_version`, only the version the graph holds: the decision was
/// made on its ownerReferences, and a newer version may have been re-parented or released.
pub async fn delete(
    client: &Client,
    node: &Node,
    how: Propagation,
    exact_version: bool,
) -> Result<Outcome, kube::Error> {
    let meta = &node.meta;
    let api = api_for(client, &node.resource, meta.namespace.as_deref());
    let dp = match how {
        Propagation::Foreground => DeleteParams::foreground(),
        Propagation::Background => DeleteParams::background(),
    }
    .preconditions(Preconditions {
        uid: meta.uid.clone(),
        resource_version: exact_version
            .then(|| meta.resource_version.clone())
            .flatten(),
    });
    let name = meta.name.as_deref().unwrap_or_default();
    let result = outcome(api.delete(name, &dp).await.map(|_| ()));
    // Logged once done: a pass working from a graph that has not yet seen an earlier
    // pass's writes repeats them harmlessly (404/409), and should not say so at info.
    if matches!(result, Ok(Outcome::Done)) {
        tracing::info!(kind = %node.resource.ar.kind, namespace = ?meta.namespace,
            name = ?meta.name, propagation = ?how, "garbage collector: deleted");
    }
    result
}

/// Remove the references to `uids` from `node`'s ownerReferences.
pub async fn remove_refs(
    client: &Client,
    node: &Node,
    uids: &[String],
) -> Result<Outcome, kube::Error> {
    let kept = refs_without(&node.meta, uids);
    patch_meta(client, node, "ownerReferences", json!(kept)).await
}

/// Remove `finalizer` from `node`.
pub async fn remove_finalizer(
    client: &Client,
    node: &Node,
    finalizer: &str,
) -> Result<Outcome, kube::Error> {
    let meta = &node.meta;
    let kept = finalizers_without(meta, finalizer);
    let result = patch_meta(client, node, "finalizers", json!(kept)).await;
    if matches!(result, Ok(Outcome::Done)) {
        tracing::info!(kind = %node.resource.ar.kind, namespace = ?meta.namespace,
            name = ?meta.name, finalizer, "garbage collector: removed finalizer");
    }
    result
}

/// Merge-patch one metadata field, guarded by the resourceVersion the graph holds so that
/// a concurrent change makes the patch fail (409) instead of overwriting it.
async fn patch_meta(
    client: &Client,
    node: &Node,
    field: &str,
    value: serde_json::Value,
) -> Result<Outcome, kube::Error> {
    let meta: &ObjectMeta = &node.meta;
    let api = api_for(client, &node.resource, meta.namespace.as_deref());
    let patch = json!({"metadata": {field: value, "resourceVersion": meta.resource_version}});
    let name = meta.name.as_deref().unwrap_or_default();
    let result = api
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await;
    outcome(result.map(|_| ()))
}
