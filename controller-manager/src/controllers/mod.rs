//! One module per controller, as upstream's `pkg/controller/<name>/`, plus the helpers
//! they share (label selectors, pod facts).

pub mod cronjob;
pub mod cronjob_schedule;
pub mod deployment;
pub mod deployment_scale;
pub mod deployment_status;
pub mod deployment_util;
pub mod endpoint_util;
pub mod endpoints;
pub mod endpointslice;
pub mod garbagecollector;
pub mod job;
pub mod job_status;
pub mod namespace;
pub mod podutil;
pub mod replicaset;
pub mod selector;
pub mod serviceaccount;
