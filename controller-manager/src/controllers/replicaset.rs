//! The ReplicaSet controller: keeps `spec.replicas` active pods matching the selector,
//! adopting orphans and releasing pods that stop matching, and reports counts in status.
//!
//! Pods are listed from the apiserver (not from a watch cache) at every sync, so a watch
//! that lags behind our own creations can never make us create twice: the list already
//! contains them. Pod events of owned pods requeue their ReplicaSet (`Controller::owns`).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

use super::podutil;
use super::ref_manager;
use super::selector;

/// Most pods created or deleted in one sync (upstream's `burstReplicas`).
const BURST_REPLICAS: usize = 500;

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    #[error("ReplicaSet has no namespace")]
    NoNamespace,
}

struct Context {
    client: Client,
}

/// Run until the watch streams end.
pub async fn run(client: Client) {
    let sets: Api<ReplicaSet> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    let ctx = Arc::new(Context { client });
    let results = Controller::new(sets, watcher::Config::default())
        .owns(pods, watcher::Config::default())
        .run(reconcile, error_policy, ctx);
    super::drain("replicaset", results).await;
}

fn error_policy(_rs: Arc<ReplicaSet>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

async fn reconcile(rs: Arc<ReplicaSet>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = rs.namespace().ok_or(Error::NoNamespace)?;
    let uid = rs.uid().unwrap_or_default();
    let Some(spec) = rs.spec.as_ref() else {
        return Ok(Action::await_change());
    };
    if selector::is_empty(&spec.selector) {
        // Upstream's validation rejects these; never select every pod in the namespace.
        return Ok(Action::await_change());
    }
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let all = pods_api.list(&ListParams::default()).await?.items;
    let deleting = rs.metadata.deletion_timestamp.is_some();

    let mut owned = Vec::new();
    for pod in all {
        let labels = pod.labels().clone();
        let selected = selector::matches(&spec.selector, &labels);
        match podutil::controller_of(&pod.metadata) {
            Some(r) if r.uid == uid => {
                if selected {
                    owned.push(pod);
                } else if !deleting {
                    release(&pods_api, &pod, &uid).await?;
                }
            }
            Some(_) => {} // Another controller's pod.
            None if selected && !deleting && podutil::is_active(&pod) => {
                if let Some(p) = adopt(&pods_api, &pod, &rs).await? {
                    owned.push(p);
                }
            }
            None => {}
        }
    }
    let active: Vec<&Pod> = owned.iter().filter(|p| podutil::is_active(p)).collect();

    if !deleting {
        let want = spec.replicas.unwrap_or(1).max(0) as usize;
        if active.len() < want {
            let missing = (want - active.len()).min(BURST_REPLICAS);
            create_pods(&pods_api, &rs, missing).await?;
        } else if active.len() > want {
            let mut doomed = active.clone();
            doomed.sort_by_key(|p| podutil::deletion_rank(p));
            for pod in doomed
                .iter()
                .take((active.len() - want).min(BURST_REPLICAS))
            {
                match pods_api
                    .delete(&pod.name_any(), &DeleteParams::default())
                    .await
                {
                    Ok(_) => {}
                    Err(kube::Error::Api(e)) if e.code == 404 => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    update_status(&ctx.client, &rs, &active).await?;
    Ok(Action::await_change())
}

async fn adopt(api: &Api<Pod>, pod: &Pod, rs: &ReplicaSet) -> Result<Option<Pod>, Error> {
    let owner = podutil::controller_ref(
        "apps/v1",
        "ReplicaSet",
        &rs.name_any(),
        &rs.uid().unwrap_or_default(),
    );
    Ok(ref_manager::adopt(api, pod, owner).await?)
}

async fn release(api: &Api<Pod>, pod: &Pod, uid: &str) -> Result<(), Error> {
    Ok(ref_manager::release(api, pod, uid).await?)
}

/// The pod a ReplicaSet creates from its template (upstream's `GetPodFromTemplate`).
pub fn pod_from_template(rs: &ReplicaSet) -> Pod {
    let template = rs
        .spec
        .as_ref()
        .map(|s| s.template.clone().unwrap_or_default())
        .unwrap_or_default();
    let tmeta = template.metadata.unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", rs.name_any())),
            namespace: rs.namespace(),
            labels: tmeta.labels,
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![podutil::controller_ref(
                "apps/v1",
                "ReplicaSet",
                &rs.name_any(),
                &rs.uid().unwrap_or_default(),
            )]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    }
}

async fn create_pods(api: &Api<Pod>, rs: &ReplicaSet, count: usize) -> Result<(), Error> {
    let pod = pod_from_template(rs);
    // Slow start as upstream: batches of 1, 2, 4, … so a broken template fails fast.
    let mut created = 0;
    let mut batch = 1;
    while created < count {
        let n = batch.min(count - created);
        let results = futures::future::join_all(
            (0..n).map(|_| async { api.create(&PostParams::default(), &pod).await }),
        )
        .await;
        for r in results {
            r?;
        }
        created += n;
        batch *= 2;
    }
    tracing::info!(replicaset = %rs.name_any(), count, "created pods");
    Ok(())
}

/// Write the counts through the status subresource when they changed.
async fn update_status(client: &Client, rs: &ReplicaSet, active: &[&Pod]) -> Result<(), Error> {
    let Some(spec) = rs.spec.as_ref() else {
        return Ok(());
    };
    let template_labels = spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let count = |f: &dyn Fn(&Pod) -> bool| active.iter().filter(|p| f(p)).count() as i32;
    let replicas = active.len() as i32;
    let fully_labeled = count(&|p| {
        let labels = p.labels();
        template_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
    });
    let ready = count(&podutil::is_ready);
    let available = count(&|p| podutil::is_available(p, min_ready));
    let generation = rs.metadata.generation.unwrap_or(0);
    let old = rs.status.clone().unwrap_or_default();
    if old.replicas == replicas
        && old.fully_labeled_replicas.unwrap_or(0) == fully_labeled
        && old.ready_replicas.unwrap_or(0) == ready
        && old.available_replicas.unwrap_or(0) == available
        && old.observed_generation.unwrap_or(0) == generation
    {
        return Ok(());
    }
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), &rs.namespace().unwrap_or_default());
    let patch = json!({"replicas": replicas, "fullyLabeledReplicas": fully_labeled,
        "readyReplicas": ready, "availableReplicas": available, "observedGeneration": generation});
    super::status::patch_status(&api, &rs.name_any(), &patch).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSetSpec;
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
        assert_eq!((r.kind.as_str(), r.uid.as_str()), ("ReplicaSet", "u1"));
        assert_eq!(r.block_owner_deletion, Some(true));
    }
}
