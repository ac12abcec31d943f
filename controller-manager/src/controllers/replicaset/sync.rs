//! One sync of one owner (upstream's `syncReplicaSet` and `manageReplicas`): claim the
//! pods from the cache, create or delete the difference when expectations allow, then
//! write status.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::ResourceExt;

use super::{owner_key, status, Context, Error, ReplicaOwner, BURST_REPLICAS};
use crate::controllers::{pod_control, podutil, ref_manager, selector};

/// Deletions in flight at once (upstream issues them all at once behind its client's rate
/// limiter; this bounds the open requests instead).
const DELETE_PARALLELISM: usize = 64;

pub(super) async fn reconcile<K: ReplicaOwner>(
    owner: Arc<K>,
    ctx: Arc<Context<K>>,
) -> Result<Action, Error> {
    let ns = owner.namespace().ok_or(Error::NoNamespace)?;
    let Some(sel) = owner.selector() else {
        return Ok(Action::await_change());
    };
    if selector::is_empty(&sel) {
        // Upstream's validation rejects these; never select every pod in the namespace.
        return Ok(Action::await_change());
    }
    if ctx.pods.wait_until_ready().await.is_err() {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let key = owner_key(owner.as_ref());
    // Read before the cache: an event that meets the expectations is in the cache first.
    let needs_sync = ctx.expectations.satisfied(&key);
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let active = claim_pods(&ctx, &pods_api, owner.as_ref(), &ns, &sel).await?;

    let managed = if needs_sync && owner.meta().deletion_timestamp.is_none() {
        manage_replicas(&ctx, &pods_api, owner.as_ref(), &key, &active).await
    } else {
        Ok(())
    };
    let new_status = status::calculate(owner.as_ref(), &active, managed.as_ref().err());
    status::update(&ctx.client, owner.as_ref(), new_status.clone()).await?;
    managed?;
    let min_ready = owner.min_ready_seconds();
    let ready = new_status.ready_replicas.unwrap_or(0);
    if min_ready > 0
        && ready == new_status.replicas
        && new_status.available_replicas.unwrap_or(0) != new_status.replicas
    {
        // Ready pods become available minReadySeconds later with no event to tell us.
        return Ok(Action::requeue(Duration::from_secs(min_ready as u64)));
    }
    Ok(Action::await_change())
}

/// The owner's active pods from the cache (upstream's `FilterActivePods` + `ClaimPods`):
/// pods it controls that still match, plus matching orphans it adopts; pods it controls
/// that no longer match are released. A terminating owner adopts and releases nothing.
async fn claim_pods<K: ReplicaOwner>(
    ctx: &Context<K>,
    api: &Api<Pod>,
    owner: &K,
    ns: &str,
    sel: &LabelSelector,
) -> Result<Vec<Arc<Pod>>, Error> {
    let uid = owner.uid().unwrap_or_default();
    let deleting = owner.meta().deletion_timestamp.is_some();
    let candidates = ctx
        .pods
        .state_filter(|p| p.metadata.namespace.as_deref() == Some(ns) && podutil::is_active(p));
    let mut owned = Vec::new();
    for pod in candidates {
        let selected = selector::matches(sel, pod.labels());
        match podutil::controller_of(&pod.metadata) {
            Some(r) if r.uid == uid => {
                if selected {
                    owned.push(pod);
                } else if !deleting {
                    ref_manager::release(api, &pod, &uid).await?;
                }
            }
            Some(_) => {} // Another controller's pod.
            None if selected && !deleting => {
                if let Some(p) = ref_manager::adopt(api, &pod, controller_ref(owner)).await? {
                    owned.push(Arc::new(p));
                }
            }
            None => {}
        }
    }
    Ok(owned)
}

/// The controller reference our pods carry.
fn controller_ref<K: ReplicaOwner>(owner: &K) -> OwnerReference {
    podutil::controller_ref(
        &K::api_version(&()),
        &K::kind(&()),
        &owner.name_any(),
        &owner.uid().unwrap_or_default(),
    )
}

/// Create or delete up to [`BURST_REPLICAS`] pods toward `spec.replicas`, recording each
/// write as an expectation first.
async fn manage_replicas<K: ReplicaOwner>(
    ctx: &Context<K>,
    api: &Api<Pod>,
    owner: &K,
    key: &str,
    active: &[Arc<Pod>],
) -> Result<(), Error> {
    let want = owner.replicas().max(0) as usize;
    if active.len() < want {
        let count = (want - active.len()).min(BURST_REPLICAS);
        ctx.expectations.expect_creations(key, count);
        let (created, result) = create_pods(ctx, api, owner, count).await;
        // Failed and never attempted creations will not show up in the watch.
        for _ in created..count {
            ctx.expectations.creation_observed(key);
        }
        tracing::info!(controller = K::CONTROLLER, key, created, "created pods");
        result
    } else if active.len() > want {
        let mut doomed: Vec<&Arc<Pod>> = active.iter().collect();
        doomed.sort_by_key(|p| podutil::deletion_rank(p));
        doomed.truncate((active.len() - want).min(BURST_REPLICAS));
        ctx.expectations
            .expect_deletions(key, doomed.iter().map(|p| pod_key(p)));
        // The futures are built first: a closure inside the stream would not be `Send` for
        // every lifetime, which spawning the sync needs.
        let deletions: Vec<_> = doomed
            .iter()
            .map(|pod| delete_pod(ctx, api, owner, key, pod))
            .collect();
        let results: Vec<Result<(), kube::Error>> = futures::stream::iter(deletions)
            .buffer_unordered(DELETE_PARALLELISM)
            .collect()
            .await;
        tracing::info!(
            controller = K::CONTROLLER,
            key,
            count = doomed.len(),
            "deleted pods"
        );
        for result in results {
            match result {
                Ok(()) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    } else {
        Ok(())
    }
}

/// `namespace/name`, the key deletions are expected under.
fn pod_key(pod: &Pod) -> String {
    format!("{}/{}", pod.namespace().unwrap_or_default(), pod.name_any())
}

/// Delete one pod (an event on the owner says so); a failed deletion is no longer expected, since the watch will not
/// report a deletion that did not happen.
async fn delete_pod<K: ReplicaOwner>(
    ctx: &Context<K>,
    api: &Api<Pod>,
    owner: &K,
    key: &str,
    pod: &Pod,
) -> Result<(), kube::Error> {
    let result = pod_control::delete(api, &pod.name_any(), owner, &ctx.recorder).await;
    if result.is_err() {
        ctx.expectations.deletion_observed(key, &pod_key(pod));
    }
    result
}

/// The pod an owner creates from its template (upstream's `GetPodFromTemplate`).
pub fn pod_from_template<K: ReplicaOwner>(owner: &K) -> Pod {
    let template = owner.template().cloned().unwrap_or_default();
    let tmeta = template.metadata.unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", owner.name_any())),
            namespace: owner.namespace(),
            labels: tmeta.labels,
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![controller_ref(owner)]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    }
}

/// Create `count` pods in slow-start batches of 1, 2, 4, … as upstream, so a template the
/// apiserver rejects fails after one request, not hundreds. Returns how many were created
/// and the first error, after which no further batch is started.
async fn create_pods<K: ReplicaOwner>(
    ctx: &Context<K>,
    api: &Api<Pod>,
    owner: &K,
    count: usize,
) -> (usize, Result<(), Error>) {
    let pod = pod_from_template(owner);
    let mut created = 0;
    let mut batch = 1;
    while created < count {
        let n = batch.min(count - created);
        let results = futures::future::join_all(
            (0..n).map(|_| pod_control::create(api, &pod, owner, &ctx.recorder)),
        )
        .await;
        let mut failure = None;
        for r in results {
            match r {
                Ok(_) => created += 1,
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        if let Some(e) = failure {
            return (created, Err(e.into()));
        }
        batch *= 2;
    }
    (created, Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
    use k8s_openapi::api::core::v1::PodTemplateSpec;
    use std::collections::BTreeMap;

    #[test]
    fn pods_from_template_carry_labels_generate_name_and_controller_ref() {
        let labels: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels.clone()),
                        ..Default::default()
                    }),
                    spec: None,
                }),
                ..Default::default()
            }),
            status: None,
        };
        let pod = pod_from_template(&rs);
        assert_eq!(pod.metadata.generate_name.as_deref(), Some("web-"));
        assert_eq!(pod.metadata.labels, Some(labels));
        let r = podutil::controller_of(&pod.metadata).expect("controller ref");
        assert_eq!(
            (r.api_version.as_str(), r.kind.as_str(), r.uid.as_str()),
            ("apps/v1", "ReplicaSet", "u1")
        );
        assert_eq!(r.block_owner_deletion, Some(true));
    }
}
