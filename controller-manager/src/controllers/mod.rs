//! One module per controller, as upstream's `pkg/controller/<name>/`, plus the helpers
//! they share (label selectors, pod facts).

pub mod controller_history;
pub mod cronjob;
pub mod cronjob_schedule;
pub mod daemonset;
pub mod daemonset_util;
pub mod deployment;
pub mod deployment_scale;
pub mod deployment_status;
pub mod deployment_util;
pub mod disruption;
pub mod disruption_status;
pub mod endpoint_util;
pub mod endpoints;
pub mod endpointslice;
pub mod garbagecollector;
pub mod informer;
pub mod job;
pub mod job_status;
pub mod namespace;
pub mod nodeaffinity;
pub mod nodeipam;
pub mod nodeipam_cidrset;
pub mod nodelifecycle;
pub mod nodelifecycle_state;
pub mod persistentvolume;
pub mod persistentvolume_match;
pub mod podgc;
pub mod podutil;
pub mod ref_manager;
pub mod replicaset;
pub mod resourcequota;
pub mod rootcacertpublisher;
pub mod selector;
pub mod serviceaccount;
pub mod servicelb;
pub mod servicelb_pool;
pub mod statefulset;
pub mod statefulset_plan;
pub mod status;
pub mod taint_eviction;
pub mod taints;
pub mod ttlafterfinished;

/// Drive a controller's reconcile stream until it ends. Failed syncs are logged at debug
/// level only: each controller's error policy has already warned and requeued them.
pub async fn drain<S, T, E>(controller: &str, results: S)
where
    S: futures::Stream<Item = Result<T, E>>,
    E: std::fmt::Display,
{
    use futures::StreamExt;
    results
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(controller, error = %e, "sync failed");
            }
        })
        .await;
}
