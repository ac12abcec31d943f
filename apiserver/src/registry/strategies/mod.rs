//! One strategy per resource, as upstream's `pkg/registry/<group>/<resource>/strategy.go`.
//! Resources without special rules use [`Plain`]. Shared rules live in helper modules:
//! [`pod_spec`] for every pod spec and template, `selector` for workload selectors.

mod apps;
mod batch;
mod cron;
mod json;
mod pod_spec;
mod pods;
mod quantity;
mod selector;

use api_types::catalog::ResourceInfo;

use super::Strategy;

pub use apps::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
pub use batch::{CronJob, Job};
pub use pods::{Pod, PodTemplate, ReplicationController};

/// A resource with no defaulting or validation beyond the generic metadata checks.
pub struct Plain;
impl Strategy for Plain {}

/// The strategy for a resource.
pub fn for_resource(res: &ResourceInfo) -> &'static dyn Strategy {
    match (res.group, res.plural) {
        ("", "pods") => &Pod,
        ("", "podtemplates") => &PodTemplate,
        ("", "replicationcontrollers") => &ReplicationController,
        ("apps", "deployments") => &Deployment,
        ("apps", "replicasets") => &ReplicaSet,
        ("apps", "statefulsets") => &StatefulSet,
        ("apps", "daemonsets") => &DaemonSet,
        ("batch", "jobs") => &Job,
        ("batch", "cronjobs") => &CronJob,
        _ => &Plain,
    }
}
