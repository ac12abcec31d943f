//! The garbage collector: deletes objects whose owners are all gone (background cascading
//! deletion), and carries out the `orphan` and `foregroundDeletion` finalizers the
//! apiserver puts on owners deleted with `propagationPolicy` Orphan / Foreground.
//!
//! This first cut scans the metadata of every listable resource at a fixed interval
//! instead of keeping upstream's watch-fed ownership graph; each decision to delete is
//! confirmed by a live GET of the missing owner (as upstream does), so a stale list can
//! never delete a dependent whose owner exists.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::params::Preconditions;
use kube::core::ObjectMeta;
use kube::discovery::{verbs, Discovery, Scope};
use kube::Client;
use serde_json::json;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

/// Finalizer asking the collector to release dependents before the owner goes.
const ORPHAN: &str = "orphan";
/// Finalizer asking the collector to delete dependents before the owner goes.
const FOREGROUND: &str = "foregroundDeletion";
/// Time between scans.
const SCAN_INTERVAL: Duration = Duration::from_secs(1);
/// How often the set of resources is discovered again (CRDs come and go).
const DISCOVERY_INTERVAL: Duration = Duration::from_secs(30);

/// Why a scan failed (it is retried at the next interval).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
}

/// A listable, deletable resource.
#[derive(Clone)]
struct Resource {
    ar: ApiResource,
    namespaced: bool,
}

/// One object of the cluster, by metadata.
struct Item {
    res: usize,
    meta: ObjectMeta,
}

/// Run forever.
pub async fn run(client: Client) {
    let mut resources: Vec<Resource> = Vec::new();
    let mut discovered_at: Option<Instant> = None;
    loop {
        if discovered_at.is_none_or(|t| t.elapsed() > DISCOVERY_INTERVAL) {
            match discover(&client).await {
                Ok(r) => {
                    resources = r;
                    discovered_at = Some(Instant::now());
                }
                Err(e) => tracing::warn!(error = %e, "garbage collector: discovery failed"),
            }
        }
        if let Err(e) = scan(&client, &resources).await {
            tracing::warn!(error = %e, "garbage collector: scan failed");
        }
        tokio::time::sleep(SCAN_INTERVAL).await;
    }
}

async fn discover(client: &Client) -> Result<Vec<Resource>, Error> {
    let discovery = Discovery::new(client.clone()).run().await?;
    let mut out = Vec::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if caps.supports_operation(verbs::LIST) && caps.supports_operation(verbs::DELETE) {
                out.push(Resource {
                    ar,
                    namespaced: caps.scope == Scope::Namespaced,
                });
            }
        }
    }
    Ok(out)
}

fn api_for(client: &Client, res: &Resource, ns: Option<&str>) -> Api<DynamicObject> {
    match (res.namespaced, ns) {
        (true, Some(ns)) => Api::namespaced_with(client.clone(), ns, &res.ar),
        _ => Api::all_with(client.clone(), &res.ar),
    }
}

/// The resource serving `apiVersion` + `kind`.
fn resource_of<'a>(resources: &'a [Resource], r: &OwnerReference) -> Option<&'a Resource> {
    resources
        .iter()
        .find(|res| res.ar.api_version == r.api_version && res.ar.kind == r.kind)
}

async fn scan(client: &Client, resources: &[Resource]) -> Result<(), Error> {
    let mut items = Vec::new();
    for (i, res) in resources.iter().enumerate() {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &res.ar);
        match api.list_metadata(&ListParams::default()).await {
            Ok(list) => items.extend(list.items.into_iter().map(|o| Item {
                res: i,
                meta: o.metadata,
            })),
            Err(e) => tracing::debug!(resource = %res.ar.plural, error = %e, "list failed"),
        }
    }
    let by_uid: HashMap<&str, &Item> = items
        .iter()
        .filter_map(|it| it.meta.uid.as_deref().map(|u| (u, it)))
        .collect();

    // Owners being deleted with Orphan or Foreground propagation.
    for owner in items
        .iter()
        .filter(|it| it.meta.deletion_timestamp.is_some())
    {
        let finalizers = owner.meta.finalizers.clone().unwrap_or_default();
        let uid = owner.meta.uid.clone().unwrap_or_default();
        let dependents: Vec<&Item> = items
            .iter()
            .filter(|d| refs(&d.meta).iter().any(|r| r.uid == uid))
            .collect();
        if finalizers.iter().any(|f| f == ORPHAN) {
            for dep in &dependents {
                remove_refs(client, &resources[dep.res], &dep.meta, &[uid.as_str()]).await?;
            }
            remove_finalizer(client, &resources[owner.res], &owner.meta, ORPHAN).await?;
        } else if finalizers.iter().any(|f| f == FOREGROUND) {
            let mut blocking = 0;
            for dep in &dependents {
                let blocks = refs(&dep.meta)
                    .iter()
                    .any(|r| r.uid == uid && r.block_owner_deletion == Some(true));
                if blocks {
                    blocking += 1;
                }
                if dep.meta.deletion_timestamp.is_none() {
                    let dp = if blocks {
                        DeleteParams::foreground()
                    } else {
                        DeleteParams::background()
                    };
                    delete(client, &resources[dep.res], &dep.meta, dp).await?;
                }
            }
            if blocking == 0 {
                remove_finalizer(client, &resources[owner.res], &owner.meta, FOREGROUND).await?;
            }
        }
    }

    // Dependents whose owners are gone.
    for dep in &items {
        let owner_refs = refs(&dep.meta);
        if owner_refs.is_empty() || dep.meta.deletion_timestamp.is_some() {
            continue;
        }
        let mut missing = Vec::new();
        for r in &owner_refs {
            if by_uid.contains_key(r.uid.as_str()) {
                continue;
            }
            if owner_absent(client, resources, dep, r).await? {
                missing.push(r.uid.as_str());
            }
        }
        if missing.is_empty() {
            continue;
        }
        let res = &resources[dep.res];
        if missing.len() == owner_refs.len() {
            tracing::info!(kind = %res.ar.kind, name = ?dep.meta.name, "deleting object whose owners are gone");
            delete(client, res, &dep.meta, DeleteParams::background()).await?;
        } else {
            remove_refs(client, res, &dep.meta, &missing).await?;
        }
    }
    Ok(())
}

fn refs(meta: &ObjectMeta) -> Vec<OwnerReference> {
    meta.owner_references.clone().unwrap_or_default()
}

/// Confirm with a live GET that the owner named by `r` does not exist (or is another
/// object of the same name). Unknown kinds count as present: never delete on a guess.
async fn owner_absent(
    client: &Client,
    resources: &[Resource],
    dep: &Item,
    r: &OwnerReference,
) -> Result<bool, Error> {
    let Some(res) = resource_of(resources, r) else {
        return Ok(false);
    };
    let api = api_for(client, res, dep.meta.namespace.as_deref());
    match api.get_metadata_opt(&r.name).await? {
        Some(owner) => Ok(owner.metadata.uid.as_deref() != Some(r.uid.as_str())),
        None => Ok(true),
    }
}

async fn delete(
    client: &Client,
    res: &Resource,
    meta: &ObjectMeta,
    dp: DeleteParams,
) -> Result<(), Error> {
    let api = api_for(client, res, meta.namespace.as_deref());
    let dp = dp.preconditions(Preconditions {
        uid: meta.uid.clone(),
        resource_version: None,
    });
    match api
        .delete(meta.name.as_deref().unwrap_or_default(), &dp)
        .await
    {
        Ok(_) => Ok(()),
        // Gone already, or replaced by another object of the same name.
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Patch with the object's resourceVersion so a concurrent change makes us retry next scan.
async fn patch_meta(
    client: &Client,
    res: &Resource,
    meta: &ObjectMeta,
    field: &str,
    value: serde_json::Value,
) -> Result<(), Error> {
    let api = api_for(client, res, meta.namespace.as_deref());
    let patch = json!({"metadata": {field: value, "resourceVersion": meta.resource_version}});
    match api
        .patch(
            meta.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn remove_refs(
    client: &Client,
    res: &Resource,
    meta: &ObjectMeta,
    uids: &[&str],
) -> Result<(), Error> {
    let kept: Vec<OwnerReference> = refs(meta)
        .into_iter()
        .filter(|r| !uids.contains(&r.uid.as_str()))
        .collect();
    let value = if kept.is_empty() {
        serde_json::Value::Null
    } else {
        json!(kept)
    };
    patch_meta(client, res, meta, "ownerReferences", value).await
}

async fn remove_finalizer(
    client: &Client,
    res: &Resource,
    meta: &ObjectMeta,
    finalizer: &str,
) -> Result<(), Error> {
    let kept: Vec<String> = meta
        .finalizers
        .iter()
        .flatten()
        .filter(|f| f.as_str() != finalizer)
        .cloned()
        .collect();
    tracing::info!(kind = %res.ar.kind, name = ?meta.name, finalizer, "removing finalizer");
    let value = if kept.is_empty() {
        serde_json::Value::Null
    } else {
        json!(kept)
    };
    patch_meta(client, res, meta, "finalizers", value).await
}
