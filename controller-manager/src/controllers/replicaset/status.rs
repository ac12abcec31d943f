//! An owner's status (upstream's `calculateStatus` and `updateReplicaSetStatus`): counts of
//! its active pods, the generation they reflect, and a `ReplicaFailure` condition while
//! creating or deleting pods fails.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};

use super::{Error, ReplicaOwner};
use crate::controllers::podutil;

/// The condition type set while pods cannot be created or deleted.
const REPLICA_FAILURE: &str = "ReplicaFailure";

/// The status `active` (the owner's claimed, active pods) calls for. `manage_error` is the
/// failure of this sync's creates or deletes, if any.
pub(super) fn calculate<K: ReplicaOwner>(
    owner: &K,
    active: &[Arc<Pod>],
    manage_error: Option<&Error>,
) -> ReplicaSetStatus {
    let template_labels = owner
        .template()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.as_ref());
    let min_ready = owner.min_ready_seconds();
    let count = |f: &dyn Fn(&Pod) -> bool| active.iter().filter(|p| f(p)).count() as i32;
    let fully_labeled = count(&|p| {
        let labels = p.labels();
        template_labels
            .into_iter()
            .flatten()
            .all(|(k, v)| labels.get(k) == Some(v))
    });
    let mut status = owner.replica_status();
    status.replicas = active.len() as i32;
    status.fully_labeled_replicas = Some(fully_labeled);
    status.ready_replicas = Some(count(&podutil::is_ready));
    status.available_replicas = Some(count(&|p| podutil::is_available(p, min_ready)));
    status.observed_generation = owner.meta().generation;

    let mut conditions = status.conditions.take().unwrap_or_default();
    let has_failure = conditions.iter().any(|c| c.type_ == REPLICA_FAILURE);
    match manage_error {
        // As upstream, an existing failure condition keeps its first reason and time.
        Some(err) if !has_failure => {
            let want = owner.replicas();
            let reason = match (active.len() as i64).cmp(&i64::from(want)) {
                std::cmp::Ordering::Less => Some("FailedCreate".to_string()),
                std::cmp::Ordering::Greater => Some("FailedDelete".to_string()),
                std::cmp::Ordering::Equal => None,
            };
            conditions.push(ReplicaSetCondition {
                type_: REPLICA_FAILURE.into(),
                status: "True".into(),
                reason,
                message: Some(err.to_string()),
                last_transition_time: Some(Time(k8s_openapi::jiff::Timestamp::now())),
            });
        }
        Some(_) => {}
        None => conditions.retain(|c| c.type_ != REPLICA_FAILURE),
    }
    status.conditions = (!conditions.is_empty()).then_some(conditions);
    status
}

/// Whether writing `new` would change anything (upstream skips the write otherwise).
fn unchanged<K: ReplicaOwner>(owner: &K, new: &ReplicaSetStatus) -> bool {
    let old = owner.replica_status();
    old.replicas == new.replicas
        && old.fully_labeled_replicas.unwrap_or(0) == new.fully_labeled_replicas.unwrap_or(0)
        && old.ready_replicas.unwrap_or(0) == new.ready_replicas.unwrap_or(0)
        && old.available_replicas.unwrap_or(0) == new.available_replicas.unwrap_or(0)
        && old.observed_generation == new.observed_generation
        && old.conditions.unwrap_or_default() == new.conditions.clone().unwrap_or_default()
}

/// Write `new` through the status subresource with an update (the verb the
/// `system:controller:*` roles grant). A cached object may be stale: on a conflict the
/// object is read again and the write retried once, as upstream's `statusUpdateRetries`.
/// An owner deleted meanwhile is not an error.
pub(super) async fn update<K: ReplicaOwner>(
    client: &Client,
    owner: &K,
    new: ReplicaSetStatus,
) -> Result<(), Error> {
    if unchanged(owner, &new) {
        return Ok(());
    }
    let api: Api<K> = Api::namespaced(client.clone(), &owner.namespace().unwrap_or_default());
    let name = owner.name_any();
    let mut current = owner.clone();
    for attempt in 0..2 {
        match api
            .replace_status(
                &name,
                &PostParams::default(),
                &current.with_replica_status(new.clone()),
            )
            .await
        {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 => return Ok(()),
            Err(kube::Error::Api(e)) if e.code == 409 && attempt == 0 => {
                match api.get(&name).await {
                    Ok(fresh) => current = fresh,
                    Err(kube::Error::Api(e)) if e.code == 404 => return Ok(()),
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus, PodTemplateSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn rs(replicas: i32) -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                generation: Some(7),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: labels(&[("app", "web"), ("tier", "front")]),
                        ..Default::default()
                    }),
                    spec: None,
                }),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn pod(pod_labels: &[(&str, &str)], ready: bool) -> Arc<Pod> {
        let status = if ready { "True" } else { "False" };
        Arc::new(Pod {
            metadata: ObjectMeta {
                labels: labels(pod_labels),
                ..Default::default()
            },
            spec: None,
            status: Some(PodStatus {
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: status.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        })
    }

    #[test]
    fn counts_pods_labels_readiness_and_generation() {
        let pods = [
            pod(&[("app", "web"), ("tier", "front")], true),
            pod(&[("app", "web")], false),
        ];
        let s = calculate(&rs(2), &pods, None);
        assert_eq!(s.replicas, 2);
        assert_eq!(
            s.fully_labeled_replicas,
            Some(1),
            "only one has every template label"
        );
        assert_eq!(s.ready_replicas, Some(1));
        assert_eq!(s.available_replicas, Some(1));
        assert_eq!(s.observed_generation, Some(7));
        assert_eq!(s.conditions, None);
    }

    #[test]
    fn a_failed_create_sets_replica_failure_until_a_sync_succeeds() {
        let err = Error::NoNamespace;
        let owner = rs(3);
        let failed = calculate(&owner, &[], Some(&err));
        let cond = &failed.conditions.clone().expect("condition")[0];
        assert_eq!(
            (
                cond.type_.as_str(),
                cond.status.as_str(),
                cond.reason.as_deref()
            ),
            ("ReplicaFailure", "True", Some("FailedCreate"))
        );
        // A second failure keeps the first condition (and its transition time).
        let owner = owner.with_replica_status(failed.clone());
        let again = calculate(&owner, &[], Some(&Error::Aborted("x".into())));
        assert_eq!(again.conditions, failed.conditions);
        // Success removes it.
        let ok = calculate(&owner, &[], None);
        assert_eq!(ok.conditions, None);
    }

    #[test]
    fn too_many_pods_failing_reads_as_failed_delete() {
        let pods = [pod(&[("app", "web")], false), pod(&[("app", "web")], false)];
        let s = calculate(&rs(1), &pods, Some(&Error::NoNamespace));
        let cond = &s.conditions.expect("condition")[0];
        assert_eq!(cond.reason.as_deref(), Some("FailedDelete"));
    }
}
