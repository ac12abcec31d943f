//! etcd access for the generic store. Objects are stored as JSON without their
//! resourceVersion; the resourceVersion a client sees is the key's `mod_revision`.
//! Every write is a transaction guarded by the revision it expects, so concurrent writers
//! cannot lose each other's updates.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use etcd_client::{
    Client, Compare, CompareOp, GetOptions, KvClient, PutOptions, Txn, TxnOp, TxnOpResponse,
};

use super::encryption::{Encryption, TransformError};
use super::failover::{with_failover, Retry};
use crate::metrics;

/// A storage failure that is not a normal outcome of the operation.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// etcd could not be reached or answered with an error.
    #[error("etcd: {0}")]
    Etcd(#[from] etcd_client::Error),
    /// The requested revision has been compacted away.
    #[error("required revision has been compacted")]
    Compacted,
    /// A value could not be encrypted or decrypted (encryption at rest).
    #[error("unable to transform key {key:?}: {source}")]
    Transform {
        /// The etcd key.
        key: String,
        /// Why.
        source: TransformError,
    },
}

/// A key read from etcd.
#[derive(Debug, Clone)]
pub struct StoredObject {
    /// The full key.
    pub key: String,
    /// The stored bytes (JSON).
    pub value: Vec<u8>,
    /// `mod_revision`, the object's resourceVersion.
    pub mod_revision: i64,
}

/// Outcome of a guarded write.
#[derive(Debug)]
pub enum WriteOutcome {
    /// Written at this revision.
    Written(i64),
    /// The guard failed: the key's current state (None if it does not exist).
    Conflict(Option<StoredObject>),
}

/// One page of a range read.
#[derive(Debug)]
pub struct Page {
    /// Objects in key order.
    pub items: Vec<StoredObject>,
    /// Whether more keys follow.
    pub more: bool,
    /// Revision the page was read at.
    pub revision: i64,
}

/// Thin wrapper over the etcd KV API with the operations the generic store needs.
#[derive(Clone)]
pub struct EtcdStore {
    client: Client,
    kv: KvClient,
    /// Encryption at rest; shared by clones so that a reloaded configuration reaches all.
    encryption: Arc<RwLock<Option<Arc<Encryption>>>>,
}

fn is_compacted(e: &etcd_client::Error) -> bool {
    e.to_string()
        .contains("required revision has been compacted")
}

/// The end of the key range that holds every key starting with `prefix`.
pub fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// Client TLS towards etcd (`--etcd-cafile`, `--etcd-certfile`, `--etcd-keyfile`), as PEM.
#[derive(Debug, Clone, Default)]
pub struct EtcdTls {
    /// CA bundle that signs etcd's serving certificate.
    pub ca_pem: Option<Vec<u8>>,
    /// Client certificate and key etcd authenticates the apiserver by.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl EtcdTls {
    fn options(&self) -> etcd_client::TlsOptions {
        let mut tls = etcd_client::TlsOptions::new();
        if let Some(ca) = &self.ca_pem {
            tls = tls.ca_certificate(etcd_client::Certificate::from_pem(ca));
        }
        if let Some((cert, key)) = &self.identity {
            tls = tls.identity(etcd_client::Identity::from_pem(cert, key));
        }
        tls
    }
}

impl EtcdStore {
    /// Connect to the given endpoints (`https://` ones with `tls`).
    pub async fn connect(
        endpoints: &[String],
        tls: Option<&EtcdTls>,
    ) -> Result<Self, StorageError> {
        let mut opts = etcd_client::ConnectOptions::new()
            .with_connect_timeout(std::time::Duration::from_secs(5))
            .with_keep_alive(
                std::time::Duration::from_secs(30),
                std::time::Duration::from_secs(10),
            );
        if let Some(tls) = tls {
            opts = opts.with_tls(tls.options());
        }
        let client = Client::connect(endpoints, Some(opts)).await?;
        let kv = client
            .kv_client()
            .max_decoding_message_size(1 << 30)
            .max_encoding_message_size(64 << 20);
        Ok(Self {
            client,
            kv,
            encryption: Arc::default(),
        })
    }

    /// Encrypt values at rest with `config` from now on (`None`: store them as they are).
    pub fn set_encryption(&self, config: Option<Encryption>) {
        *self.encryption.write().unwrap_or_else(|p| p.into_inner()) = config.map(Arc::new);
    }

    fn encryption(&self) -> Option<Arc<Encryption>> {
        self.encryption
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The plain value of what is stored at `key`.
    pub fn decrypt(&self, key: &str, value: Vec<u8>) -> Result<Vec<u8>, StorageError> {
        match self.encryption() {
            Some(e) => e
                .decrypt(key, &value)
                .map_err(|source| StorageError::Transform {
                    key: key.to_string(),
                    source,
                }),
            None => Ok(value),
        }
    }

    fn encrypt(&self, key: &str, value: Vec<u8>) -> Result<Vec<u8>, StorageError> {
        match self.encryption() {
            Some(e) => e
                .encrypt(key, &value)
                .map_err(|source| StorageError::Transform {
                    key: key.to_string(),
                    source,
                }),
            None => Ok(value),
        }
    }

    fn plain(&self, kv: etcd_client::KeyValue) -> Result<StoredObject, StorageError> {
        let mut o = to_stored(kv);
        o.value = self.decrypt(&o.key, std::mem::take(&mut o.value))?;
        Ok(o)
    }

    /// The underlying client (for watches).
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// Read one key.
    pub async fn get(&self, key: &str) -> Result<Option<StoredObject>, StorageError> {
        let start = Instant::now();
        let mut resp = with_failover(Retry::Read, || {
            let mut kv = self.kv.clone();
            async move { kv.get(key, None).await }
        })
        .await?;
        metrics::observe_etcd("get", start);
        resp.take_kvs()
            .into_iter()
            .next()
            .map(|kv| self.plain(kv))
            .transpose()
    }

    /// The store's current revision (a cheap quorum read).
    pub async fn current_revision(&self) -> Result<i64, StorageError> {
        let resp = with_failover(Retry::Read, || {
            let mut kv = self.kv.clone();
            async move {
                kv.get(
                    "/rudder-revision-probe",
                    Some(GetOptions::new().with_count_only()),
                )
                .await
            }
        })
        .await?;
        Ok(resp.header().map(|h| h.revision()).unwrap_or(0))
    }

    /// Read up to `limit` keys (0 = no limit) in `[start, end)` at `revision` (0 = latest),
    /// decrypted; a value that cannot be decrypted fails the read.
    pub async fn range(
        &self,
        start: &str,
        end: &[u8],
        limit: i64,
        revision: i64,
    ) -> Result<Page, StorageError> {
        let mut page = self.range_raw(start, end, limit, revision).await?;
        for o in &mut page.items {
            o.value = self.decrypt(&o.key, std::mem::take(&mut o.value))?;
        }
        Ok(page)
    }

    /// [`EtcdStore::range`] without decryption: values exactly as etcd holds them.
    pub async fn range_raw(
        &self,
        start: &str,
        end: &[u8],
        limit: i64,
        revision: i64,
    ) -> Result<Page, StorageError> {
        let begin = Instant::now();
        let mut opts = GetOptions::new().with_range(end.to_vec());
        if limit > 0 {
            opts = opts.with_limit(limit);
        }
        if revision > 0 {
            opts = opts.with_revision(revision);
        }
        let read = with_failover(Retry::Read, || {
            let (mut kv, opts) = (self.kv.clone(), opts.clone());
            async move { kv.get(start, Some(opts)).await }
        });
        let mut resp = match read.await {
            Ok(r) => r,
            Err(e) if is_compacted(&e) => return Err(StorageError::Compacted),
            Err(e) => return Err(e.into()),
        };
        metrics::observe_etcd("list", begin);
        let revision = resp.header().map(|h| h.revision()).unwrap_or(0);
        let more = resp.more();
        let items = resp.take_kvs().into_iter().map(to_stored).collect();
        Ok(Page {
            items,
            more,
            revision,
        })
    }

    /// Create `key` only if it does not exist.
    pub async fn create(&self, key: &str, value: Vec<u8>) -> Result<WriteOutcome, StorageError> {
        let value = self.encrypt(key, value)?;
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, value, None)])
            .or_else([TxnOp::get(key, None)]);
        self.guarded("create", txn).await
    }

    /// Replace `key` only if its mod_revision is still `expected`.
    pub async fn update(
        &self,
        key: &str,
        value: Vec<u8>,
        expected: i64,
    ) -> Result<WriteOutcome, StorageError> {
        let value = self.encrypt(key, value)?;
        let txn = Txn::new()
            .when([Compare::mod_revision(key, CompareOp::Equal, expected)])
            .and_then([TxnOp::put(key, value, None)])
            .or_else([TxnOp::get(key, None)]);
        self.guarded("update", txn).await
    }

    /// Delete `key` only if its mod_revision is still `expected`.
    pub async fn delete(&self, key: &str, expected: i64) -> Result<WriteOutcome, StorageError> {
        let txn = Txn::new()
            .when([Compare::mod_revision(key, CompareOp::Equal, expected)])
            .and_then([TxnOp::delete(key, None)])
            .or_else([TxnOp::get(key, None)]);
        self.guarded("delete", txn).await
    }

    async fn guarded(&self, op: &'static str, txn: Txn) -> Result<WriteOutcome, StorageError> {
        let start = Instant::now();
        let resp = with_failover(Retry::Write, || {
            let (mut kv, txn) = (self.kv.clone(), txn.clone());
            async move { kv.txn(txn).await }
        })
        .await?;
        metrics::observe_etcd(op, start);
        let revision = resp.header().map(|h| h.revision()).unwrap_or(0);
        if resp.succeeded() {
            return Ok(WriteOutcome::Written(revision));
        }
        let current = resp.op_responses().into_iter().find_map(|r| match r {
            TxnOpResponse::Get(mut g) => g.take_kvs().into_iter().next(),
            _ => None,
        });
        Ok(WriteOutcome::Conflict(
            current.map(|kv| self.plain(kv)).transpose()?,
        ))
    }

    /// Put `key` (unencrypted, unguarded) on a fresh etcd lease of `ttl`: the key disappears
    /// by itself unless it is put again before the lease runs out. The apiserver's own
    /// liveness records (`masterleases`) are the only user; they are not API objects.
    pub async fn put_with_ttl(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: std::time::Duration,
    ) -> Result<(), StorageError> {
        let start = Instant::now();
        let seconds = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX).max(1);
        let lease = with_failover(Retry::Write, || {
            let mut client = self.client.clone();
            async move { client.lease_grant(seconds, None).await }
        })
        .await?;
        let opts = PutOptions::new().with_lease(lease.id());
        with_failover(Retry::Write, || {
            let (mut kv, value, opts) = (self.kv.clone(), value.clone(), opts.clone());
            async move { kv.put(key, value, Some(opts)).await }
        })
        .await?;
        metrics::observe_etcd("put_with_ttl", start);
        Ok(())
    }

    /// Delete `key` whatever its revision (no-op when it is absent).
    pub async fn delete_unguarded(&self, key: &str) -> Result<(), StorageError> {
        with_failover(Retry::Write, || {
            let mut kv = self.kv.clone();
            async move { kv.delete(key, None).await }
        })
        .await?;
        Ok(())
    }

    /// Compact history up to `revision`.
    pub async fn compact(&self, revision: i64) -> Result<(), StorageError> {
        let compact = with_failover(Retry::Write, || {
            let mut kv = self.kv.clone();
            async move { kv.compact(revision, None).await }
        });
        match compact.await {
            Ok(_) => Ok(()),
            Err(e) if is_compacted(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether etcd answers (readiness).
    pub async fn healthy(&self) -> bool {
        tokio::time::timeout(std::time::Duration::from_secs(2), self.current_revision())
            .await
            .map(|r| r.is_ok())
            .unwrap_or(false)
    }
}

fn to_stored(kv: etcd_client::KeyValue) -> StoredObject {
    let mod_revision = kv.mod_revision();
    let (k, v) = kv.into_key_value();
    StoredObject {
        key: String::from_utf8_lossy(&k).into_owned(),
        value: v,
        mod_revision,
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_increments_last_byte() {
        assert_eq!(prefix_end("/registry/pods/"), b"/registry/pods0".to_vec());
    }
}
