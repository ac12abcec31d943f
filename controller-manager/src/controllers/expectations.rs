//! What a controller has asked the apiserver to create or delete but not yet seen come back
//! through its watch (upstream's `ControllerExpectations` and
//! `UIDTrackingControllerExpectations` in `pkg/controller/controller_utils.go`).
//!
//! A controller that reads its pods from an informer cache must not act on a cache that
//! lags behind its own writes: after creating 10 pods it would still see 0 and create 10
//! more. So before writing it records "expect N creations" (or the keys of the pods it
//! deletes) under the owner's key; every pod ADD (or DELETE) the watch delivers lowers the
//! count, and until it reaches zero the owner's sync leaves replicas alone. A write that
//! fails lowers the count at once, since the watch will never report it. A record older
//! than [`EXPECTATIONS_TIMEOUT`] no longer blocks: it guards against a lost event keeping
//! the controller asleep forever.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long unfulfilled expectations block a sync (upstream's `ExpectationsTimeout`).
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// One owner's outstanding writes.
#[derive(Debug)]
struct Record {
    /// Creations not yet observed.
    adds: i64,
    /// Keys (`namespace/name`) of pods whose deletion is not yet observed; each pod lowers
    /// the count once however many times its deletion is reported (a graceful deletion
    /// shows as an update with `deletionTimestamp`, then as the DELETE itself).
    deletes: HashSet<String>,
    /// When the expectations were set; they expire [`EXPECTATIONS_TIMEOUT`] later.
    set_at: Instant,
}

impl Record {
    fn fulfilled(&self) -> bool {
        self.adds <= 0 && self.deletes.is_empty()
    }
}

/// Per-owner expectations, keyed by the owner's `namespace/name`. Shared between the
/// pod event handlers (which lower them) and the syncs (which set and read them).
#[derive(Debug, Default)]
pub struct Expectations {
    records: Mutex<HashMap<String, Record>>,
}

impl Expectations {
    /// An empty set: every owner may sync.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Record>) -> T) -> T {
        // A panic while holding the lock leaves plain counters behind, still usable.
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut records)
    }

    /// Whether `key` may manage its replicas now: no record, all writes observed, or the
    /// record expired (upstream's `SatisfiedExpectations`).
    pub fn satisfied(&self, key: &str) -> bool {
        self.satisfied_at(key, Instant::now())
    }

    /// [`Expectations::satisfied`] as of `now`.
    pub fn satisfied_at(&self, key: &str, now: Instant) -> bool {
        self.with(|records| match records.get(key) {
            None => true,
            Some(r) if r.fulfilled() => true,
            Some(r) if now.duration_since(r.set_at) > EXPECTATIONS_TIMEOUT => {
                tracing::info!(key, "expectations expired; syncing anyway");
                true
            }
            Some(_) => false,
        })
    }

    /// About to create `count` pods for `key`; replaces whatever was recorded.
    pub fn expect_creations(&self, key: &str, count: usize) {
        self.expect_creations_at(key, count, Instant::now());
    }

    fn expect_creations_at(&self, key: &str, count: usize, now: Instant) {
        let record = Record {
            adds: count as i64,
            deletes: HashSet::new(),
            set_at: now,
        };
        self.with(|records| records.insert(key.to_string(), record));
    }

    /// About to delete the pods `pod_keys` (`namespace/name`) for `key`; replaces whatever
    /// was recorded.
    pub fn expect_deletions(&self, key: &str, pod_keys: impl IntoIterator<Item = String>) {
        let record = Record {
            adds: 0,
            deletes: pod_keys.into_iter().collect(),
            set_at: Instant::now(),
        };
        self.with(|records| records.insert(key.to_string(), record));
    }

    /// One creation for `key` was observed by the watch, or failed and never will be.
    pub fn creation_observed(&self, key: &str) {
        self.with(|records| {
            if let Some(r) = records.get_mut(key) {
                r.adds -= 1;
            }
        });
    }

    /// The deletion of `pod_key` for `key` was observed, or failed and never will be.
    /// Only a pod this owner is waiting for lowers the count, and only once.
    pub fn deletion_observed(&self, key: &str, pod_key: &str) {
        self.with(|records| {
            if let Some(r) = records.get_mut(key) {
                r.deletes.remove(pod_key);
            }
        });
    }

    /// Forget `key` (its owner was deleted): a new owner of the same name starts clean.
    pub fn delete(&self, key: &str) {
        self.with(|records| records.remove(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_owner_may_sync() {
        assert!(Expectations::new().satisfied("ns/rs"));
    }

    #[test]
    fn creations_block_until_each_is_observed() {
        let e = Expectations::new();
        e.expect_creations("ns/rs", 3);
        assert!(!e.satisfied("ns/rs"));
        e.creation_observed("ns/rs");
        e.creation_observed("ns/rs");
        assert!(!e.satisfied("ns/rs"), "one creation is still in flight");
        e.creation_observed("ns/rs");
        assert!(e.satisfied("ns/rs"));
        // Other owners are independent.
        e.expect_creations("ns/other", 1);
        assert!(e.satisfied("ns/rs"));
        assert!(!e.satisfied("ns/other"));
    }

    #[test]
    fn deletions_count_each_expected_pod_once() {
        let e = Expectations::new();
        e.expect_deletions("ns/rs", ["ns/a".to_string(), "ns/b".to_string()]);
        // A graceful deletion is seen twice (update with deletionTimestamp, then DELETE).
        e.deletion_observed("ns/rs", "ns/a");
        e.deletion_observed("ns/rs", "ns/a");
        // A pod nobody asked to delete changes nothing.
        e.deletion_observed("ns/rs", "ns/zzz");
        assert!(!e.satisfied("ns/rs"), "ns/b is still expected");
        e.deletion_observed("ns/rs", "ns/b");
        assert!(e.satisfied("ns/rs"));
    }

    #[test]
    fn unfulfilled_expectations_expire() {
        let e = Expectations::new();
        let t0 = Instant::now();
        e.expect_creations_at("ns/rs", 5, t0);
        assert!(!e.satisfied_at("ns/rs", t0 + Duration::from_secs(60)));
        assert!(e.satisfied_at("ns/rs", t0 + EXPECTATIONS_TIMEOUT + Duration::from_secs(1)));
    }

    #[test]
    fn new_expectations_replace_old_ones_and_delete_forgets() {
        let e = Expectations::new();
        e.expect_creations("ns/rs", 5);
        e.expect_deletions("ns/rs", ["ns/a".to_string()]);
        e.deletion_observed("ns/rs", "ns/a");
        assert!(e.satisfied("ns/rs"), "the five creations were replaced");
        e.expect_creations("ns/rs", 2);
        e.delete("ns/rs");
        assert!(e.satisfied("ns/rs"));
        // Observations for a forgotten owner are harmless no-ops.
        e.creation_observed("ns/rs");
        assert!(e.satisfied("ns/rs"));
    }
}
