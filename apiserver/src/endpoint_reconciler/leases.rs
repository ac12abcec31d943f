//! The apiserver liveness records behind the lease reconciler (upstream's `storageLeases`):
//! one etcd key per apiserver IP under `<prefix>/masterleases/`, holding a minimal v1
//! Endpoints with that IP and attached to an etcd lease, so the key vanishes by itself when
//! its apiserver stops refreshing it.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{json, Value};

use crate::storage::etcd::prefix_end;
use crate::storage::{EtcdStore, StorageError};

/// The set of live apiservers, as etcd keys with a time to live.
#[derive(Clone)]
pub struct MasterLeases {
    etcd: EtcdStore,
    /// `<prefix>/masterleases/`.
    base: String,
    ttl: Duration,
}

impl MasterLeases {
    /// Leases under `<prefix>/masterleases/`, each living `ttl` after its last refresh.
    pub fn new(etcd: EtcdStore, prefix: &str, ttl: Duration) -> Self {
        Self {
            etcd,
            base: format!("{}/masterleases/", prefix.trim_end_matches('/')),
            ttl,
        }
    }

    fn key(&self, ip: IpAddr) -> String {
        format!("{}{ip}", self.base)
    }

    /// Add or refresh `ip`'s record for another `ttl`.
    pub async fn update(&self, ip: IpAddr) -> Result<(), StorageError> {
        let record = json!({
            "kind": "Endpoints",
            "apiVersion": "v1",
            "metadata": {"name": ip.to_string()},
            "subsets": [{"addresses": [{"ip": ip.to_string()}]}],
        });
        self.etcd
            .put_with_ttl(&self.key(ip), record.to_string().into_bytes(), self.ttl)
            .await
    }

    /// Remove `ip`'s record now (graceful shutdown), instead of waiting for it to expire.
    pub async fn remove(&self, ip: IpAddr) -> Result<(), StorageError> {
        self.etcd.delete_unguarded(&self.key(ip)).await
    }

    /// The IPs of every apiserver whose record is still alive, in etcd's key order.
    pub async fn list(&self) -> Result<Vec<String>, StorageError> {
        let page = self
            .etcd
            .range_raw(&self.base, &prefix_end(&self.base), 0, 0)
            .await?;
        Ok(page
            .items
            .iter()
            .filter_map(|o| record_ip(&o.value))
            .collect())
    }
}

/// The IP a record names (the first address of its first subset), if it is well formed.
fn record_ip(value: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(value).ok()?;
    v.pointer("/subsets/0/addresses/0/ip")
        .and_then(Value::as_str)
        .filter(|ip| !ip.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_name_their_ip_and_malformed_ones_are_skipped() {
        let ok = br#"{"subsets":[{"addresses":[{"ip":"10.0.0.7"}]}]}"#;
        assert_eq!(record_ip(ok).as_deref(), Some("10.0.0.7"));
        assert_eq!(record_ip(br#"{"subsets":[]}"#), None);
        assert_eq!(
            record_ip(br#"{"subsets":[{"addresses":[{"ip":""}]}]}"#),
            None
        );
        assert_eq!(record_ip(b"\x00not json"), None);
    }
}
