//! The ReplicationController controller (upstream's `pkg/controller/replication`): the
//! ReplicaSet controller's engine run on v1 ReplicationControllers. As upstream, which
//! converts each RC to a ReplicaSet and back, only the adapter below is specific to RCs:
//! the plain-map `spec.selector` reads as `matchLabels`, and status and its
//! `ReplicaFailure` condition map field for field. Pods it creates are controlled by
//! `v1/ReplicationController`.

use k8s_openapi::api::apps::v1::{ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{
    PodTemplateSpec, ReplicationController, ReplicationControllerCondition,
    ReplicationControllerStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Client;

use super::replicaset::{self, ReplicaOwner};

/// Run until the watches end.
pub async fn run(client: Client) {
    replicaset::run_owner::<ReplicationController>(client).await
}

impl ReplicaOwner for ReplicationController {
    const CONTROLLER: &'static str = "replicationcontroller";
    const EVENT_SOURCE: &'static str = "replication-controller";

    fn selector(&self) -> Option<LabelSelector> {
        // The apiserver defaults an empty selector to the template's labels; one still
        // empty selects nothing (the sync refuses empty selectors).
        self.spec.as_ref().map(|s| LabelSelector {
            match_labels: s.selector.clone(),
            match_expressions: None,
        })
    }

    fn replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }

    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0)
    }

    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref().and_then(|s| s.template.as_ref())
    }

    fn replica_status(&self) -> ReplicaSetStatus {
        let s = self.status.clone().unwrap_or_default();
        ReplicaSetStatus {
            replicas: s.replicas,
            fully_labeled_replicas: s.fully_labeled_replicas,
            ready_replicas: s.ready_replicas,
            available_replicas: s.available_replicas,
            observed_generation: s.observed_generation,
            conditions: s.conditions.map(|cs| {
                cs.into_iter()
                    .map(|c| ReplicaSetCondition {
                        type_: c.type_,
                        status: c.status,
                        reason: c.reason,
                        message: c.message,
                        last_transition_time: c.last_transition_time,
                    })
                    .collect()
            }),
            // Not a ReplicationController field.
            terminating_replicas: None,
        }
    }

    fn with_replica_status(&self, s: ReplicaSetStatus) -> Self {
        let status = ReplicationControllerStatus {
            replicas: s.replicas,
            fully_labeled_replicas: s.fully_labeled_replicas,
            ready_replicas: s.ready_replicas,
            available_replicas: s.available_replicas,
            observed_generation: s.observed_generation,
            conditions: s.conditions.map(|cs| {
                cs.into_iter()
                    .map(|c| ReplicationControllerCondition {
                        type_: c.type_,
                        status: c.status,
                        reason: c.reason,
                        message: c.message,
                        last_transition_time: c.last_transition_time,
                    })
                    .collect()
            }),
        };
        ReplicationController {
            status: Some(status),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ReplicationControllerSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::BTreeMap;

    fn rc() -> ReplicationController {
        let labels: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        ReplicationController {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(ReplicationControllerSpec {
                selector: Some(labels.clone()),
                replicas: Some(3),
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels),
                        ..Default::default()
                    }),
                    spec: None,
                }),
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn the_map_selector_reads_as_match_labels() {
        let rc = rc();
        let sel = rc.selector().expect("selector");
        let labels: BTreeMap<String, String> = [
            ("app".to_string(), "web".to_string()),
            ("extra".to_string(), "x".to_string()),
        ]
        .into();
        assert!(crate::controllers::selector::matches(&sel, &labels));
        assert_eq!(rc.replicas(), 3);
    }

    #[test]
    fn pods_are_controlled_by_a_v1_replication_controller() {
        let pod = replicaset::pod_from_template(&rc());
        let r = crate::controllers::podutil::controller_of(&pod.metadata).expect("controller ref");
        assert_eq!(
            (r.api_version.as_str(), r.kind.as_str(), r.name.as_str()),
            ("v1", "ReplicationController", "web")
        );
    }

    #[test]
    fn status_round_trips_through_the_replicaset_shape() {
        let status = ReplicaSetStatus {
            replicas: 3,
            fully_labeled_replicas: Some(3),
            ready_replicas: Some(2),
            available_replicas: Some(1),
            observed_generation: Some(4),
            conditions: Some(vec![ReplicaSetCondition {
                type_: "ReplicaFailure".into(),
                status: "True".into(),
                reason: Some("FailedCreate".into()),
                message: Some("quota".into()),
                last_transition_time: None,
            }]),
            terminating_replicas: None,
        };
        let updated = rc().with_replica_status(status.clone());
        let rc_status = updated.status.clone().expect("status");
        assert_eq!(rc_status.ready_replicas, Some(2));
        assert_eq!(
            rc_status.conditions.expect("conditions")[0]
                .reason
                .as_deref(),
            Some("FailedCreate")
        );
        assert_eq!(updated.replica_status(), status);
    }
}
