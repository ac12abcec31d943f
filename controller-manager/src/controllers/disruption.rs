//! The disruption controller (upstream `pkg/controller/disruption`): keeps every
//! PodDisruptionBudget's status — expected, desired and current healthy pods, the
//! disruptions allowed now, the evictions still in flight (`disruptedPods`) and the
//! `DisruptionAllowed` condition — so the apiserver's `pods/eviction` can respect it.
//!
//! Budgets whose numbers depend on scale (`maxUnavailable`, percentage `minAvailable`) ask
//! each selected pod's controller for its replicas: a ReplicaSet owned by a Deployment
//! counts as the Deployment, anything else through its `scale` subresource (so StatefulSets,
//! ReplicationControllers and custom resources with a scale all work). Pods without a
//! controller are left out of the expected count (upstream logs them as unmanaged); a
//! controller that cannot be found fails the sync, which leaves the budget allowing no
//! disruption (upstream's fail-safe).
//!
//! The status is written with the budget's resourceVersion, never merged: the apiserver's
//! eviction handler spends disruptions on the same object, and a conflicting write must be
//! recomputed rather than overwrite an eviction.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::disruption_status::{self as calc, Computed};
use super::{podutil, selector};

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    #[error("PodDisruptionBudget has no namespace")]
    NoNamespace,
    /// The budget's numbers cannot be computed; its status says so (fail-safe).
    #[error("{0}")]
    Compute(String),
}

struct Context {
    client: Client,
    /// Discovered API resources by `(apiVersion, kind)`, for scale lookups.
    resources: Mutex<HashMap<(String, String), ApiResource>>,
}

/// Run until the watch streams end.
pub async fn run(client: Client) {
    let pdbs: Api<PodDisruptionBudget> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    let controller = Controller::new(pdbs, watcher::Config::default());
    let store = controller.store();
    let controller = controller.watches(pods, watcher::Config::default(), move |pod: Pod| {
        let ns = pod.namespace();
        let labels = pod.labels().clone();
        store
            .state()
            .into_iter()
            .filter(|b| b.namespace() == ns && selects(b, &labels))
            .map(|b| ObjectRef::from_obj(b.as_ref()))
            .collect::<Vec<_>>()
    });
    let ctx = Arc::new(Context {
        client,
        resources: Mutex::new(HashMap::new()),
    });
    let results = controller.run(reconcile, error_policy, ctx);
    super::drain("disruption", results).await;
}

/// Whether the budget selects pods with `labels`. In policy/v1 an empty selector selects
/// every pod of the namespace; a missing one selects none.
fn selects(pdb: &PodDisruptionBudget, labels: &BTreeMap<String, String>) -> bool {
    pdb.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|sel| selector::matches(sel, labels))
}

fn error_policy(_pdb: Arc<PodDisruptionBudget>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

async fn reconcile(pdb: Arc<PodDisruptionBudget>, ctx: Arc<Context>) -> Result<Action, Error> {
    if pdb.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = pdb.namespace().ok_or(Error::NoNamespace)?;
    let api: Api<PodDisruptionBudget> = Api::namespaced(ctx.client.clone(), &ns);
    let now = chrono::Utc::now();
    let old = pdb.status.clone().unwrap_or_default();
    let (new, recheck, failure) = match compute(&pdb, &ns, &ctx, now).await {
        Ok((status, recheck)) => (status, recheck, None),
        Err(Error::Compute(why)) => (calc::fail_safe(&old, &why, now), None, Some(why)),
        Err(e) => return Err(e),
    };
    if new != old {
        let mut updated = (*pdb).clone();
        updated.status = Some(new);
        match api
            .replace_status(&pdb.name_any(), &PostParams::default(), &updated)
            .await
        {
            Ok(_) => {}
            // Deleted meanwhile: its deletion is the next event.
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(why) = failure {
        return Err(Error::Compute(why));
    }
    Ok(match recheck {
        Some(at) => Action::requeue(
            (at - now)
                .to_std()
                .unwrap_or_default()
                .max(Duration::from_secs(1)),
        ),
        None => Action::await_change(),
    })
}

/// The budget's new status and when to look again (an in-flight eviction expiring).
async fn compute(
    pdb: &PodDisruptionBudget,
    ns: &str,
    ctx: &Context,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<
    (
        PodDisruptionBudgetStatus,
        Option<chrono::DateTime<chrono::Utc>>,
    ),
    Error,
> {
    let spec = pdb.spec.clone().unwrap_or_default();
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let all = pods_api.list(&ListParams::default()).await?.items;
    let pods: Vec<&Pod> = all.iter().filter(|p| selects(pdb, p.labels())).collect();
    let scale = if calc::needs_scale(&spec) {
        expected_scale(ctx, ns, &pods).await?
    } else {
        0
    };
    let (expected, desired) =
        calc::expected_and_desired(&spec, pods.len() as i32, scale).map_err(Error::Compute)?;
    let old = pdb.status.clone().unwrap_or_default();
    let recorded = old.disrupted_pods.clone().unwrap_or_default();
    let (disrupted, recheck) = calc::live_disrupted_pods(&recorded, &pods, now);
    let healthy = calc::current_healthy(&pods, &disrupted);
    let computed = Computed {
        expected,
        desired_healthy: desired,
        current_healthy: healthy,
        disrupted,
    };
    let generation = pdb.metadata.generation.unwrap_or(0);
    Ok((calc::status(&old, generation, computed, now), recheck))
}

/// The summed replicas of the pods' controllers, each controller counted once (upstream's
/// `getExpectedScale`).
async fn expected_scale(ctx: &Context, ns: &str, pods: &[&Pod]) -> Result<i32, Error> {
    let mut by_controller: HashMap<String, i32> = HashMap::new();
    let mut seen_refs: HashMap<String, ()> = HashMap::new();
    let mut unmanaged = Vec::new();
    for pod in pods {
        let Some(owner) = podutil::controller_of(&pod.metadata) else {
            unmanaged.push(pod.name_any());
            continue;
        };
        if seen_refs.insert(owner.uid.clone(), ()).is_some() {
            continue;
        }
        match controller_scale(ctx, ns, owner).await? {
            Some((uid, replicas)) => {
                by_controller.insert(uid, replicas);
            }
            None => {
                return Err(Error::Compute(format!(
                    "found no controllers for pod {:?}",
                    pod.name_any()
                )))
            }
        }
    }
    if !unmanaged.is_empty() {
        tracing::debug!(namespace = ns, pods = ?unmanaged, "pods without a controller are not counted");
    }
    Ok(by_controller.values().sum())
}

/// `(uid, replicas)` of the controller `owner` names, or `None` when it is gone or is
/// another object with the same name.
async fn controller_scale(
    ctx: &Context,
    ns: &str,
    owner: &OwnerReference,
) -> Result<Option<(String, i32)>, Error> {
    // A ReplicaSet run by a Deployment: the Deployment's replicas are what is expected
    // (during a rollout the ReplicaSets' replicas move; the Deployment's do not).
    if owner.kind == "ReplicaSet" && owner.api_version == "apps/v1" {
        let sets: Api<ReplicaSet> = Api::namespaced(ctx.client.clone(), ns);
        if let Some(rs) = sets.get_opt(&owner.name).await? {
            if rs.uid().as_deref() != Some(owner.uid.as_str()) {
                return Ok(None);
            }
            if let Some(d) = podutil::controller_of(&rs.metadata)
                .filter(|r| r.kind == "Deployment" && r.api_version == "apps/v1")
            {
                let deployments: Api<Deployment> = Api::namespaced(ctx.client.clone(), ns);
                return Ok(deployments
                    .get_opt(&d.name)
                    .await?
                    .filter(|dep| dep.uid().as_deref() == Some(d.uid.as_str()))
                    .map(|dep| {
                        let replicas = dep.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                        (d.uid.clone(), replicas)
                    }));
            }
        }
    }
    let Some(ar) = api_resource(ctx, &owner.api_version, &owner.kind).await? else {
        return Ok(None);
    };
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), ns, &ar);
    match api.get_scale(&owner.name).await {
        Ok(scale) if scale.metadata.uid.as_deref() == Some(owner.uid.as_str()) => Ok(Some((
            owner.uid.clone(),
            scale.spec.and_then(|s| s.replicas).unwrap_or(0),
        ))),
        Ok(_) => Ok(None),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The API resource serving `kind` in `api_version`, from discovery (cached).
async fn api_resource(
    ctx: &Context,
    api_version: &str,
    kind: &str,
) -> Result<Option<ApiResource>, Error> {
    let key = (api_version.to_string(), kind.to_string());
    if let Some(ar) = ctx.resources.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(Some(ar));
    }
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let gvk = GroupVersionKind::gvk(group, version, kind);
    match kube::discovery::pinned_kind(&ctx.client, &gvk).await {
        Ok((ar, _caps)) => {
            if let Ok(mut m) = ctx.resources.lock() {
                m.insert(key, ar.clone());
            }
            Ok(Some(ar))
        }
        // Unknown kind: no controller to ask.
        Err(kube::Error::Discovery(_)) => Ok(None),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

    fn pdb(selector: Option<LabelSelector>) -> PodDisruptionBudget {
        PodDisruptionBudget {
            spec: Some(PodDisruptionBudgetSpec {
                selector,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn policy_v1_empty_selector_selects_all_and_missing_selects_none() {
        let labels: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        assert!(selects(&pdb(Some(LabelSelector::default())), &labels));
        assert!(!selects(&pdb(None), &labels));
        let other = LabelSelector {
            match_labels: Some([("app".to_string(), "db".to_string())].into()),
            ..Default::default()
        };
        assert!(!selects(&pdb(Some(other)), &labels));
    }
}
