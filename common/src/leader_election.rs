//! Leader election on a `coordination.k8s.io/v1` Lease (upstream's `leases` lock): only the
//! holder schedules; it renews every retry period and steps down (the process exits, as
//! upstream's does) when it cannot renew within the renew deadline.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::PostParams;
use kube::{Api, Client};

/// Timings, upstream's defaults 15s / 10s / 2s.
#[derive(Debug, Clone)]
pub struct LeaderElectionConfig {
    /// `kube-system` by default.
    pub namespace: String,
    /// `kube-scheduler` by default.
    pub name: String,
    /// How long a lease is valid without renewal.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before giving up.
    pub renew_deadline: Duration,
    /// Pause between attempts.
    pub retry_period: Duration,
}

impl Default for LeaderElectionConfig {
    fn default() -> Self {
        LeaderElectionConfig {
            namespace: "kube-system".into(),
            name: "kube-scheduler".into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// A candidate for the lease.
pub struct LeaderElector {
    api: Api<Lease>,
    config: LeaderElectionConfig,
    identity: String,
}

impl LeaderElector {
    /// A candidate named `identity` (upstream: `<hostname>_<uuid>`).
    pub fn new(client: Client, config: LeaderElectionConfig, identity: String) -> LeaderElector {
        LeaderElector {
            api: Api::namespaced(client, &config.namespace),
            config,
            identity,
        }
    }

    /// Wait until this candidate holds the lease.
    pub async fn acquire(&self) {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => {
                    tracing::info!(lease = %self.config.name, identity = %self.identity, "successfully acquired lease");
                    return;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "error acquiring lease"),
            }
            tokio::time::sleep(self.config.retry_period).await;
        }
    }

    /// Keep renewing; returns when the lease could not be renewed within the deadline.
    pub async fn hold(&self) {
        let mut last_renew = Instant::now();
        loop {
            tokio::time::sleep(self.config.retry_period).await;
            match self.try_acquire_or_renew().await {
                Ok(true) => last_renew = Instant::now(),
                Ok(false) => {
                    tracing::error!("lease taken by another candidate");
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "error renewing lease"),
            }
            if last_renew.elapsed() > self.config.renew_deadline {
                tracing::error!("failed to renew lease within the renew deadline");
                return;
            }
        }
    }

    /// Give the lease up on shutdown so a successor need not wait for it to expire.
    pub async fn release(&self) {
        if let Ok(Some(mut lease)) = self.api.get_opt(&self.config.name).await {
            let spec = lease.spec.get_or_insert_with(Default::default);
            if spec.holder_identity.as_deref() == Some(self.identity.as_str()) {
                spec.holder_identity = None;
                spec.lease_duration_seconds = Some(1);
                if let Err(e) = self
                    .api
                    .replace(&self.config.name, &PostParams::default(), &lease)
                    .await
                {
                    tracing::warn!(error = %e, "releasing lease failed");
                }
            }
        }
    }

    async fn try_acquire_or_renew(&self) -> Result<bool, kube::Error> {
        let now = Timestamp::now();
        let duration_secs = i32::try_from(self.config.lease_duration.as_secs()).unwrap_or(15);
        let Some(mut lease) = self.api.get_opt(&self.config.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.name.clone()),
                    namespace: Some(self.config.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(duration_secs),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.get_or_insert_with(Default::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let ours = holder == self.identity;
        if !ours && !holder.is_empty() {
            let valid_for = SignedDuration::from_secs(i64::from(
                spec.lease_duration_seconds.unwrap_or(duration_secs),
            ));
            let expired = spec
                .renew_time
                .as_ref()
                .is_none_or(|t| t.0 + valid_for < now);
            if !expired {
                return Ok(false);
            }
        }
        if !ours {
            spec.acquire_time = Some(MicroTime(now));
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.holder_identity = Some(self.identity.clone());
        spec.lease_duration_seconds = Some(duration_secs);
        spec.renew_time = Some(MicroTime(now));
        // The update carries the resourceVersion we read: a concurrent winner makes it 409.
        match self
            .api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }
}
