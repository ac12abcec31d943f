//! The watch cache: one etcd watch over the whole registry prefix keeps an in-memory copy of
//! every object and a window of recent events. Watches and most lists are served from here, so
//! N clients watching pods cost one etcd watch, not N.
//!
//! Why one watch for all resources rather than one per resource: a single stream sees every
//! revision in order, so "the cache has caught up with etcd revision R" is one number, which is
//! what a consistent list from cache needs.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use etcd_client::{EventType as EtcdEventType, WatchOptions};
use serde_json::Value;
use tokio::sync::{broadcast, watch};

use super::etcd::{prefix_end, EtcdStore, StorageError};
use super::failover::{with_failover, Retry};
use super::object::Object;

/// Kind of a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    /// The wire name (`ADDED` …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change to one key.
#[derive(Debug)]
pub struct WatchEvent {
    /// Revision of the change.
    pub revision: i64,
    /// The etcd key.
    pub key: String,
    /// What happened.
    pub kind: EventType,
    /// The object after the change (for deletes: its last state, resourceVersion = deletion revision).
    pub object: Arc<Object>,
    /// The object before the change, if any (selectors use it to turn updates into
    /// ADDED/DELETED for watchers whose selector the object enters or leaves).
    pub prev: Option<Arc<Object>>,
}

/// The events a watch replays from the window, and the receiver for the ones after them.
pub type Replay = (Vec<Arc<WatchEvent>>, broadcast::Receiver<Arc<WatchEvent>>);

/// A watch from a revision the cache no longer holds.
#[derive(Debug, thiserror::Error)]
#[error("too old resource version: {requested} ({oldest})")]
pub struct TooOld {
    /// What the client asked for.
    pub requested: i64,
    /// The oldest revision that can still be watched from.
    pub oldest: i64,
}

struct Inner {
    objects: BTreeMap<String, Arc<Object>>,
    log: VecDeque<(Instant, Arc<WatchEvent>)>,
    revision: i64,
    /// Every event after this revision is in `log`.
    oldest: i64,
    tx: broadcast::Sender<Arc<WatchEvent>>,
}

/// The cache. Cheap to share (`Arc`).
pub struct WatchCache {
    inner: RwLock<Inner>,
    revision_tx: watch::Sender<i64>,
    window: Duration,
    capacity: usize,
}

/// Set `metadata.resourceVersion` on a decoded object.
pub fn with_resource_version(mut v: Value, rev: i64) -> Value {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), Value::String(rev.to_string()));
    }
    v
}

fn decode(bytes: &[u8], rev: i64) -> Option<Value> {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .map(|v| with_resource_version(v, rev))
}

const BROADCAST_CAPACITY: usize = 16 * 1024;

impl WatchCache {
    /// Load everything under `prefix` and keep following it. Returns once the initial state is in.
    pub async fn start(
        store: EtcdStore,
        prefix: String,
        window: Duration,
    ) -> Result<Arc<Self>, StorageError> {
        let (objects, revision) = load(&store, &prefix).await?;
        let (tx, _) = broadcast::channel(BROADCAST_CAPACITY);
        let (revision_tx, _) = watch::channel(revision);
        let cache = Arc::new(Self {
            inner: RwLock::new(Inner {
                objects,
                log: VecDeque::new(),
                revision,
                oldest: revision,
                tx,
            }),
            revision_tx,
            window,
            capacity: 200_000,
        });
        let follower = cache.clone();
        tokio::spawn(async move { follower.follow(store, prefix).await });
        Ok(cache)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The revision the cache has caught up to.
    pub fn revision(&self) -> i64 {
        self.read().revision
    }

    /// Wait until the cache has seen `rev`. False on timeout.
    pub async fn wait_for(&self, rev: i64, timeout: Duration) -> bool {
        let mut rx = self.revision_tx.subscribe();
        let wait = async {
            loop {
                if *rx.borrow_and_update() >= rev {
                    return true;
                }
                if rx.changed().await.is_err() {
                    return false;
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.unwrap_or(false)
    }

    /// All objects under `prefix`, in key order, with the revision they are current at.
    pub fn list(&self, prefix: &str) -> (Vec<Arc<Object>>, i64) {
        let inner = self.read();
        let items = inner
            .objects
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v.clone())
            .collect();
        (items, inner.revision)
    }

    /// One object by key.
    pub fn get(&self, key: &str) -> Option<Arc<Object>> {
        self.read().objects.get(key).cloned()
    }

    /// Events under `prefix` after `from` plus a receiver for the ones to come. Events from the
    /// receiver with `revision <=` the last returned one must be skipped by the caller.
    pub fn watch_from(&self, prefix: &str, from: i64) -> Result<Replay, TooOld> {
        let inner = self.read();
        if from < inner.oldest {
            return Err(TooOld {
                requested: from,
                oldest: inner.oldest,
            });
        }
        let rx = inner.tx.subscribe();
        let past = inner
            .log
            .iter()
            .filter(|(_, e)| e.revision > from && e.key.starts_with(prefix))
            .map(|(_, e)| e.clone())
            .collect();
        Ok((past, rx))
    }

    /// The current objects under `prefix`, the revision, and a receiver for later events:
    /// what a watch that starts with synthetic ADDED events needs, taken atomically.
    pub fn snapshot_and_watch(
        &self,
        prefix: &str,
    ) -> (Vec<Arc<Object>>, i64, broadcast::Receiver<Arc<WatchEvent>>) {
        let inner = self.read();
        let rx = inner.tx.subscribe();
        let items = inner
            .objects
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v.clone())
            .collect();
        (items, inner.revision, rx)
    }

    async fn follow(self: Arc<Self>, store: EtcdStore, prefix: String) {
        loop {
            let from = self.revision() + 1;
            match self.follow_once(&store, &prefix, from).await {
                Ok(()) => tracing::warn!("etcd watch ended; re-establishing"),
                Err(StorageError::Compacted) => {
                    tracing::warn!("etcd watch fell behind compaction; reloading the cache");
                    self.reload(&store, &prefix).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "etcd watch failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    async fn reload(&self, store: &EtcdStore, prefix: &str) {
        loop {
            match load(store, prefix).await {
                Ok((objects, revision)) => {
                    let (tx, _) = broadcast::channel(BROADCAST_CAPACITY);
                    let mut inner = self.write();
                    // Replacing the sender ends every current watch: their view has a gap.
                    *inner = Inner {
                        objects,
                        log: VecDeque::new(),
                        revision,
                        oldest: revision,
                        tx,
                    };
                    drop(inner);
                    self.revision_tx.send_replace(revision);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reloading the watch cache failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn follow_once(
        &self,
        store: &EtcdStore,
        prefix: &str,
        from: i64,
    ) -> Result<(), StorageError> {
        let opts = WatchOptions::new()
            .with_range(prefix_end(prefix))
            .with_start_revision(from)
            .with_prev_key();
        // Opening a watch is a read: when the member picked is down, another one is tried.
        let mut stream = with_failover(Retry::Read, || {
            let (mut watch, opts) = (store.client().watch_client(), opts.clone());
            async move { watch.watch(prefix, Some(opts)).await }
        })
        .await?;
        while let Some(resp) = stream.message().await? {
            if resp.compact_revision() > 0 {
                return Err(StorageError::Compacted);
            }
            if resp.canceled() {
                return Ok(());
            }
            for ev in resp.events() {
                self.apply(store, ev);
            }
        }
        Ok(())
    }

    fn apply(&self, store: &EtcdStore, ev: &etcd_client::Event) {
        let Some(kv) = ev.kv() else { return };
        let rev = kv.mod_revision();
        let key = String::from_utf8_lossy(kv.key()).into_owned();
        let plain = |key: &str, value: &[u8]| match store.decrypt(key, value.to_vec()) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(error = %e, "undecryptable object in etcd");
                None
            }
        };
        // Decrypt, decode and serialize before taking the lock: readers never wait for that.
        let put = match ev.event_type() {
            EtcdEventType::Put => Some(
                plain(&key, kv.value())
                    .and_then(|v| decode(&v, rev))
                    .map(|o| Arc::new(Object::serialized(o))),
            ),
            EtcdEventType::Delete => None,
        };
        let mut inner = self.write();
        if rev <= inner.revision {
            return;
        }
        let prev = inner.objects.get(&key).cloned();
        let event = match put {
            Some(decoded) => {
                let Some(obj) = decoded else {
                    tracing::warn!(%key, "undecodable object in etcd; skipped");
                    inner.revision = rev;
                    return;
                };
                inner.objects.insert(key.clone(), obj.clone());
                let kind = if prev.is_some() {
                    EventType::Modified
                } else {
                    EventType::Added
                };
                WatchEvent {
                    revision: rev,
                    key,
                    kind,
                    object: obj,
                    prev,
                }
            }
            None => {
                inner.objects.remove(&key);
                let last = prev.as_deref().map(|o| o.value().clone()).or_else(|| {
                    ev.prev_kv()
                        .and_then(|p| plain(&key, p.value()))
                        .and_then(|v| decode(&v, rev))
                });
                let Some(last) = last else {
                    inner.revision = rev;
                    return;
                };
                let obj = Arc::new(Object::serialized(with_resource_version(last, rev)));
                WatchEvent {
                    revision: rev,
                    key,
                    kind: EventType::Deleted,
                    object: obj,
                    prev,
                }
            }
        };
        let event = Arc::new(event);
        inner.revision = rev;
        let now = Instant::now();
        inner.log.push_back((now, event.clone()));
        while let Some((at, e)) = inner.log.front() {
            if now.duration_since(*at) > self.window || inner.log.len() > self.capacity {
                let r = e.revision;
                inner.log.pop_front();
                inner.oldest = r;
            } else {
                break;
            }
        }
        let _ = inner.tx.send(event);
        drop(inner);
        self.revision_tx.send_replace(rev);
    }
}

async fn load(
    store: &EtcdStore,
    prefix: &str,
) -> Result<(BTreeMap<String, Arc<Object>>, i64), StorageError> {
    let end = prefix_end(prefix);
    let mut objects = BTreeMap::new();
    let mut start = prefix.to_string();
    let mut revision = 0;
    loop {
        let page = store.range_raw(&start, &end, 10_000, revision).await?;
        revision = page.revision;
        let last = page.items.last().map(|o| o.key.clone());
        for o in page.items {
            // An object no configured key can decrypt stays out of the cache; reads of it from
            // etcd answer an internal error that names the key.
            let value = match store.decrypt(&o.key, o.value) {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!(error = %e, "skipping an undecryptable object");
                    continue;
                }
            };
            if let Some(v) = decode(&value, o.mod_revision) {
                objects.insert(o.key, Arc::new(Object::serialized(v)));
            }
        }
        match (page.more, last) {
            (true, Some(k)) => start = format!("{k}\0"),
            _ => break,
        }
    }
    Ok((objects, revision))
}
