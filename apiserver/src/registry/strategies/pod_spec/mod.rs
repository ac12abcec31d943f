//! The pod spec rules shared by Pods and every pod template (Deployment, ReplicaSet,
//! StatefulSet, DaemonSet, Job, CronJob, ReplicationController, PodTemplate): upstream's
//! `SetDefaults_PodSpec` and friends, and the most-hit parts of `ValidatePodSpec`.

mod defaults;
pub(crate) use defaults::refresh_qos_class;
mod ephemeral;
mod update;
mod validation;

pub(crate) use defaults::{default_pod_only, default_pod_spec, default_pvc_spec};
pub(crate) use ephemeral::{
    forbid_on_create, keep_only_ephemeral_containers, validate_ephemeral_containers_update,
};
pub(crate) use update::validate_pod_update;
pub(crate) use validation::{validate_pod_spec, validate_template};
