//! One module per controller, as upstream's `pkg/controller/<name>/`, plus the helpers
//! they share (label selectors, pod facts).

pub mod bootstrap_jws;
pub mod bootstrap_token;
pub mod bootstrapsigner;
pub mod controller_history;
pub mod cronjob;
pub mod cronjob_schedule;
pub mod csr;
pub mod csr_authority;
pub mod csr_policy;
pub mod csrapproving;
pub mod csrcleaner;
pub mod csrsigning;
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
pub mod endpointslicemirroring;
pub mod ephemeral;
pub mod expectations;
pub mod garbagecollector;
pub mod horizontal;
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
pub mod persistentvolume_provision;
pub mod pod_control;
pub mod podgc;
pub mod podutil;
pub mod pvcprotection;
pub mod pvprotection;
pub mod ref_manager;
pub mod replicaset;
pub mod replication;
pub mod resourcequota;
pub mod resourcequota_scopes;
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
pub mod tokencleaner;
pub mod ttlafterfinished;
pub mod volume_protection;

/// How often the same failure of the same object is logged again while it keeps failing.
const SYNC_ERROR_REPEAT: std::time::Duration = std::time::Duration::from_secs(60);

/// Drive a controller's reconcile stream until it ends. A failed sync is logged at warn
/// level with the object's key (upstream's `utilruntime.HandleError`), so refused requests
/// (an RBAC 403, a validation error) are visible; while one object keeps failing the same
/// way it is logged again only every [`SYNC_ERROR_REPEAT`], and a success clears it.
/// Reconciles of objects already gone from the cache are routine and stay at debug.
pub async fn drain<S, K, E, Q>(controller: &str, results: S)
where
    S: futures::Stream<
        Item = Result<
            (
                kube::runtime::reflector::ObjectRef<K>,
                kube::runtime::controller::Action,
            ),
            kube::runtime::controller::Error<E, Q>,
        >,
    >,
    K: kube::Resource,
    E: std::fmt::Display + 'static,
    Q: std::fmt::Display + 'static,
{
    use futures::StreamExt;
    use kube::runtime::controller::Error;
    let mut failing = SyncErrorLog::default();
    futures::pin_mut!(results);
    while let Some(result) = results.next().await {
        match result {
            Ok((obj, _)) => failing.succeeded(&obj.to_string()),
            Err(Error::ReconcilerFailed(err, obj)) => {
                let (key, error) = (obj.to_string(), err.to_string());
                if failing.should_log(&key, &error, std::time::Instant::now()) {
                    tracing::warn!(controller, key, error, "error syncing; requeuing");
                }
            }
            Err(Error::ObjectNotFound(obj)) => {
                tracing::debug!(controller, key = %obj, "object gone before its sync")
            }
            Err(e) => tracing::warn!(controller, error = %e, "controller queue error"),
        }
    }
}

/// The failures already logged, per object key: the message and when it was logged.
#[derive(Default)]
struct SyncErrorLog {
    logged: std::collections::HashMap<String, (String, std::time::Instant)>,
}

impl SyncErrorLog {
    /// Whether this failure is worth a log line: a new key, a new message, or the
    /// repeat interval passed. Records it when it is.
    fn should_log(&mut self, key: &str, error: &str, now: std::time::Instant) -> bool {
        if let Some((last, at)) = self.logged.get(key) {
            if last == error && now.duration_since(*at) < SYNC_ERROR_REPEAT {
                return false;
            }
        }
        self.logged
            .insert(key.to_string(), (error.to_string(), now));
        true
    }

    fn succeeded(&mut self, key: &str) {
        self.logged.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn repeated_failures_are_logged_once_per_interval_and_after_a_change() {
        let mut log = SyncErrorLog::default();
        let t0 = Instant::now();
        assert!(log.should_log("ns/a", "403 forbidden", t0));
        assert!(!log.should_log("ns/a", "403 forbidden", t0 + Duration::from_secs(2)));
        assert!(log.should_log("ns/b", "403 forbidden", t0 + Duration::from_secs(2)));
        assert!(log.should_log("ns/a", "409 conflict", t0 + Duration::from_secs(3)));
        assert!(log.should_log(
            "ns/a",
            "409 conflict",
            t0 + SYNC_ERROR_REPEAT + Duration::from_secs(3)
        ));
        log.succeeded("ns/b");
        assert!(log.should_log("ns/b", "403 forbidden", t0 + Duration::from_secs(4)));
    }
}
