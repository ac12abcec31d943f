//! One strategy per resource, as upstream's `pkg/registry/<group>/<resource>/strategy.go`.
//! Resources without special rules use [`Plain`]. Shared rules live in helper modules:
//! [`pod_spec`] for every pod spec and template, `selector` for workload selectors.

mod apiregistration;
mod apps;
mod batch;
pub mod certificates;
mod config;
mod core;
mod cron;
mod json;
mod networking;
mod pod_spec;
pub(crate) use pod_spec::refresh_qos_class;
mod pods;
mod policy;
mod quantity;
mod rbac;
mod selector;
mod service;
mod storage;

use api_types::catalog::ResourceInfo;

use super::Strategy;

pub use apiregistration::ApiService;
pub use apps::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
pub use batch::{CronJob, Job};
pub use certificates::CertificateSigningRequest;
pub use config::{ConfigMap, Secret};
pub use core::{Endpoints, Event, EventV1, Namespace, Node};
pub use networking::{EndpointSlice, Ingress, IngressClass, NetworkPolicy};
pub use pods::{Pod, PodTemplate, ReplicationController};
pub use policy::{
    HorizontalPodAutoscaler, HorizontalPodAutoscalerV1, PodDisruptionBudget, PriorityClass,
};
pub use rbac::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
pub use service::Service;
pub use storage::{PersistentVolume, PersistentVolumeClaim, StorageClass};

/// A resource with no defaulting or validation beyond the generic metadata checks.
pub struct Plain;
impl Strategy for Plain {}

/// The strategy for a resource. Served versions of one kind that differ in shape
/// (autoscaling/v1 HorizontalPodAutoscaler, events.k8s.io/v1 Event) get a strategy that
/// understands that version's shape.
pub fn for_resource(res: &ResourceInfo) -> &'static dyn Strategy {
    match (res.group, res.plural) {
        ("", "configmaps") => &ConfigMap,
        ("", "endpoints") => &Endpoints,
        ("", "events") => &Event,
        ("", "namespaces") => &Namespace,
        ("", "nodes") => &Node,
        ("", "persistentvolumeclaims") => &PersistentVolumeClaim,
        ("", "persistentvolumes") => &PersistentVolume,
        ("", "pods") => &Pod,
        ("", "podtemplates") => &PodTemplate,
        ("", "replicationcontrollers") => &ReplicationController,
        ("apps", "deployments") => &Deployment,
        ("apps", "replicasets") => &ReplicaSet,
        ("apps", "statefulsets") => &StatefulSet,
        ("apps", "daemonsets") => &DaemonSet,
        ("batch", "jobs") => &Job,
        ("batch", "cronjobs") => &CronJob,
        ("", "secrets") => &Secret,
        ("", "services") => &Service,
        ("autoscaling", "horizontalpodautoscalers") if res.version == "v1" => {
            &HorizontalPodAutoscalerV1
        }
        ("autoscaling", "horizontalpodautoscalers") => &HorizontalPodAutoscaler,
        ("discovery.k8s.io", "endpointslices") => &EndpointSlice,
        ("events.k8s.io", "events") => &EventV1,
        ("networking.k8s.io", "ingresses") => &Ingress,
        ("networking.k8s.io", "ingressclasses") => &IngressClass,
        ("networking.k8s.io", "networkpolicies") => &NetworkPolicy,
        ("policy", "poddisruptionbudgets") => &PodDisruptionBudget,
        ("rbac.authorization.k8s.io", "roles") => &Role,
        ("rbac.authorization.k8s.io", "clusterroles") => &ClusterRole,
        ("rbac.authorization.k8s.io", "rolebindings") => &RoleBinding,
        ("rbac.authorization.k8s.io", "clusterrolebindings") => &ClusterRoleBinding,
        ("scheduling.k8s.io", "priorityclasses") => &PriorityClass,
        ("storage.k8s.io", "storageclasses") => &StorageClass,
        ("apiregistration.k8s.io", "apiservices") => &ApiService,
        ("certificates.k8s.io", "certificatesigningrequests") => &CertificateSigningRequest,
        _ => &Plain,
    }
}

/// The value of a field selector label on an object, as upstream's `ToSelectableFields`
/// computes it: some labels are not plain JSON paths (`source` is `source.component`,
/// `status.successful` is `status.succeeded`), and unset numbers and booleans read as their
/// zero value (`spec.unschedulable=false` selects schedulable nodes). Labels the resource does
/// not support, other than `metadata.name`/`metadata.namespace`, give `None`.
pub fn field_value(res: &ResourceInfo, obj: &serde_json::Value, label: &str) -> Option<String> {
    use serde_json::Value;
    let supported = matches!(label, "metadata.name" | "metadata.namespace")
        || for_resource(res).field_labels().contains(&label);
    if !supported {
        return None;
    }
    let path = match label {
        "source" => "source.component",
        "status.successful" => "status.succeeded",
        other => other,
    };
    let v = path.split('.').try_fold(obj, |v, k| v.get(k));
    Some(match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => match label {
            "spec.unschedulable" | "spec.hostNetwork" => "false".to_string(),
            "status.successful" | "status.replicas" => "0".to_string(),
            _ => String::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::strategy::NameRule;
    use api_types::catalog::{find, RESOURCES};

    #[test]
    fn every_catalog_resource_has_a_strategy_and_names_follow_upstream() {
        for r in RESOURCES {
            let _ = for_resource(r).name_rule();
        }
        let rule = |g, v, p| find(g, v, p).map(|r| for_resource(r).name_rule());
        assert_eq!(rule("", "v1", "namespaces"), Some(NameRule::Label));
        assert_eq!(rule("", "v1", "services"), Some(NameRule::Label));
        assert_eq!(
            rule("rbac.authorization.k8s.io", "v1", "clusterroles"),
            Some(NameRule::PathSegment)
        );
        assert_eq!(rule("", "v1", "configmaps"), Some(NameRule::Subdomain));
    }

    #[test]
    fn field_labels_follow_upstream() {
        let labels = |g, v, p| {
            find(g, v, p)
                .map(|r| for_resource(r).field_labels())
                .unwrap_or(&[])
        };
        assert!(labels("", "v1", "pods").contains(&"spec.nodeName"));
        assert_eq!(labels("", "v1", "secrets"), &["type"]);
        assert_eq!(labels("", "v1", "nodes"), &["spec.unschedulable"]);
        assert!(labels("", "v1", "events").contains(&"involvedObject.name"));
    }

    #[test]
    fn field_values_use_upstream_mappings_and_zero_values() {
        let ev = find("", "v1", "events").expect("events");
        let e = serde_json::json!({"source": {"component": "kubelet"}, "reason": "Pulled"});
        assert_eq!(field_value(ev, &e, "source").as_deref(), Some("kubelet"));
        assert_eq!(field_value(ev, &e, "reason").as_deref(), Some("Pulled"));
        assert_eq!(field_value(ev, &e, "spec.nodeName"), None);
        let jobs = find("batch", "v1", "jobs").expect("jobs");
        assert_eq!(
            field_value(jobs, &serde_json::json!({}), "status.successful").as_deref(),
            Some("0")
        );
        let nodes = find("", "v1", "nodes").expect("nodes");
        assert_eq!(
            field_value(nodes, &serde_json::json!({}), "spec.unschedulable").as_deref(),
            Some("false")
        );
    }
}
