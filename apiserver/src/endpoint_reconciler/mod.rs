//! Keeps the `default/kubernetes` Endpoints and EndpointSlice listing the apiservers that
//! are alive (upstream's endpoint reconciler, `--endpoint-reconciler-type`):
//!
//! - `lease` (the default): every apiserver refreshes a record with a time to live in etcd
//!   every [`INTERVAL`] ([`leases`]), and writes the Endpoints from the records that are
//!   still alive. An apiserver that dies drops out within [`TTL`]; one that shuts down
//!   gracefully removes itself before it stops serving.
//! - `none`: the Endpoints are left to someone else.
//!
//! Upstream's deprecated `master-count` type is refused at start-up with a message.
//! All apiservers must serve on the same port: the Endpoints have one port, which each
//! apiserver sets to its own.

pub mod adapter;
pub mod leases;

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::errors::ApiError;
use crate::handlers::ApiServer;
use crate::storage::EtcdStore;
use crate::store::Store;

use leases::MasterLeases;

/// How often each apiserver refreshes its record and the Endpoints (upstream's 10 s).
pub const INTERVAL: Duration = Duration::from_secs(10);
/// How long a record outlives its last refresh (upstream's default 15 s).
pub const TTL: Duration = Duration::from_secs(15);

/// `--endpoint-reconciler-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcilerType {
    /// Records with a time to live in etcd (upstream's default).
    Lease,
    /// Leave the Endpoints alone.
    None,
}

/// A `--endpoint-reconciler-type` value Rudder does not run.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Upstream's deprecated reconciler, which trusts `--apiserver-count`.
    #[error("--endpoint-reconciler-type=master-count is deprecated upstream and not built in Rudder; use lease (the default) or none")]
    MasterCount,
    /// Anything else.
    #[error("--endpoint-reconciler-type: unknown type {0:?} (lease or none)")]
    Unknown(String),
}

impl FromStr for ReconcilerType {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "lease" => Ok(Self::Lease),
            "none" => Ok(Self::None),
            "master-count" => Err(ParseError::MasterCount),
            other => Err(ParseError::Unknown(other.to_string())),
        }
    }
}

/// One apiserver's part in keeping the `kubernetes` Endpoints true.
pub struct EndpointReconciler {
    leases: MasterLeases,
    ip: IpAddr,
    port: u16,
    /// Set once this apiserver has taken itself out; later passes must not put it back.
    stopped: Mutex<bool>,
}

impl EndpointReconciler {
    /// The lease reconciler for the apiserver advertised at `ip:port`.
    pub fn lease(etcd: EtcdStore, prefix: &str, ip: IpAddr, port: u16) -> Self {
        Self {
            leases: MasterLeases::new(etcd, prefix, TTL),
            ip,
            port,
            stopped: Mutex::new(false),
        }
    }

    /// Refresh this apiserver's record, then write the Endpoints from every live record.
    pub async fn reconcile(&self, store: &Store) -> Result<(), ApiError> {
        let stopped = self.stopped.lock().await;
        if *stopped {
            return Ok(());
        }
        // Refresh first, whatever happens below: the other apiservers then list us.
        self.leases.update(self.ip).await?;
        self.write_endpoints(store).await
    }

    async fn write_endpoints(&self, store: &Store) -> Result<(), ApiError> {
        let ips = self.leases.list().await?;
        if ips.is_empty() {
            // Our own record was just written: an empty list means etcd answered something
            // odd, and erasing every endpoint of the kubernetes Service would be worse.
            return Err(ApiError::internal(
                "no apiserver records listed in etcd; refusing to erase the kubernetes endpoints",
            ));
        }
        adapter::sync(store, self.ip, &ips, self.port).await
    }

    /// Take this apiserver out for good (graceful shutdown): remove its record and rewrite
    /// the Endpoints without it, before it stops serving. The last apiserver leaves the
    /// Endpoints as they are, as upstream does: an empty list would help no client.
    pub async fn remove(&self, store: &Store) -> Result<(), ApiError> {
        let mut stopped = self.stopped.lock().await;
        *stopped = true;
        self.leases.remove(self.ip).await?;
        let ips = self.leases.list().await?;
        if ips.is_empty() {
            return Ok(());
        }
        adapter::sync(store, self.ip, &ips, self.port).await
    }

    /// Reconcile every [`INTERVAL`] until the process ends; failures are logged and retried
    /// at the next pass, as upstream does.
    pub async fn run(self: Arc<Self>, api: Arc<ApiServer>) {
        let mut tick = tokio::time::interval(INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.reconcile(&api.store).await {
                tracing::warn!(error = %e.message, "reconciling the kubernetes service's endpoints");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_as_upstream_names_them() {
        assert_eq!(
            "lease".parse::<ReconcilerType>().ok(),
            Some(ReconcilerType::Lease)
        );
        assert_eq!(
            "none".parse::<ReconcilerType>().ok(),
            Some(ReconcilerType::None)
        );
        assert!(matches!(
            "master-count".parse::<ReconcilerType>(),
            Err(ParseError::MasterCount)
        ));
        assert!(matches!(
            "leases".parse::<ReconcilerType>(),
            Err(ParseError::Unknown(_))
        ));
    }
}
