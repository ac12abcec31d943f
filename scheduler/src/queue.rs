//! The scheduling queue: `activeQ` (highest priority first, then oldest), `backoffQ` (pods
//! that failed, waiting 1s·2^(attempts-1) capped at 10s) and the unschedulable pods, which
//! wait for a cluster event that could help them (node added or updated, pod deleted), or
//! at most five minutes.

use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use tokio::sync::Notify;

use crate::cache::pod_key;
use crate::metrics::Metrics;

/// First retry delay of a failed pod (upstream `podInitialBackoffSeconds`).
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// Longest retry delay (upstream `podMaxBackoffSeconds`).
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Longest stay among the unschedulable pods without an event (upstream's default).
pub const MAX_UNSCHEDULABLE: Duration = Duration::from_secs(300);

/// A pod in the queue.
#[derive(Debug, Clone)]
pub struct QueuedPod {
    /// `namespace/name`.
    pub key: String,
    /// `spec.priority` (0 when unset).
    pub priority: i32,
    /// Creation time in seconds; older pods go first among equals.
    pub created: i64,
    /// Scheduling attempts so far.
    pub attempts: u32,
    last_attempt: Option<Instant>,
    /// The move-request counter when this pod was popped.
    popped_at_move: u64,
    /// Hash of the pod's spec, labels and annotations: status-only updates (our own
    /// PodScheduled condition) must not retry an unschedulable pod.
    fingerprint: u64,
}

impl QueuedPod {
    fn backoff_expiry(&self) -> Instant {
        let exp = self.attempts.saturating_sub(1).min(8);
        let delay = (INITIAL_BACKOFF * 2u32.pow(exp)).min(MAX_BACKOFF);
        self.last_attempt.map_or_else(Instant::now, |t| t + delay)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Active(u64),
    Backoff,
    Unschedulable(Instant),
    InFlight,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct HeapEntry {
    priority: i32,
    older: std::cmp::Reverse<i64>,
    seq: std::cmp::Reverse<u64>,
    key: String,
}

#[derive(Default)]
struct Inner {
    pods: HashMap<String, (QueuedPod, Place)>,
    active: BinaryHeap<HeapEntry>,
    seq: u64,
    move_requests: u64,
}

impl Inner {
    fn activate(&mut self, qp: QueuedPod) {
        self.seq += 1;
        self.active.push(HeapEntry {
            priority: qp.priority,
            older: std::cmp::Reverse(qp.created),
            seq: std::cmp::Reverse(self.seq),
            key: qp.key.clone(),
        });
        self.pods
            .insert(qp.key.clone(), (qp, Place::Active(self.seq)));
    }

    /// Backoff if the pod's delay has not passed, else straight to active.
    fn requeue(&mut self, qp: QueuedPod, now: Instant) {
        if qp.backoff_expiry() > now {
            self.pods.insert(qp.key.clone(), (qp, Place::Backoff));
        } else {
            self.activate(qp);
        }
    }

    fn flush(&mut self, now: Instant) {
        let due: Vec<QueuedPod> = self
            .pods
            .values()
            .filter(|(qp, place)| match place {
                Place::Backoff => qp.backoff_expiry() <= now,
                Place::Unschedulable(since) => now.duration_since(*since) >= MAX_UNSCHEDULABLE,
                _ => false,
            })
            .map(|(qp, _)| qp.clone())
            .collect();
        for qp in due {
            self.requeue(qp, now);
        }
    }

    fn pop_active(&mut self) -> Option<QueuedPod> {
        while let Some(entry) = self.active.pop() {
            // Entries are removed lazily: skip ones whose pod moved or left since.
            if let Some((qp, place)) = self.pods.get_mut(&entry.key) {
                if *place == Place::Active(entry.seq.0) {
                    *place = Place::InFlight;
                    qp.popped_at_move = self.move_requests;
                    return Some(qp.clone());
                }
            }
        }
        None
    }

    fn next_backoff(&self) -> Option<Instant> {
        self.pods
            .values()
            .filter(|(_, p)| *p == Place::Backoff)
            .map(|(qp, _)| qp.backoff_expiry())
            .min()
    }
}

fn fingerprint(pod: &Pod) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(&(&pod.spec, &pod.metadata.labels, &pod.metadata.annotations))
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

/// The queue, shared by the informer handlers and the scheduling loop.
pub struct SchedulingQueue {
    inner: Mutex<Inner>,
    notify: Notify,
    metrics: Metrics,
}

impl SchedulingQueue {
    /// An empty queue reporting its sizes to `metrics`.
    pub fn new(metrics: Metrics) -> SchedulingQueue {
        SchedulingQueue {
            inner: Mutex::new(Inner::default()),
            notify: Notify::new(),
            metrics,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let out = f(&mut inner);
        let mut counts = [0i64; 3];
        for (_, place) in inner.pods.values() {
            match place {
                Place::Active(_) => counts[0] += 1,
                Place::Backoff => counts[1] += 1,
                Place::Unschedulable(_) => counts[2] += 1,
                Place::InFlight => {}
            }
        }
        for (queue, n) in ["active", "backoff", "unschedulable"].iter().zip(counts) {
            self.metrics.pending_pods.with_label_values(&[queue]).set(n);
        }
        out
    }

    /// A pending pod was added or updated. New pods go to activeQ; an unschedulable pod that
    /// changed gets another chance (after its backoff).
    pub fn add_or_update(&self, pod: &Pod) {
        let key = pod_key(pod);
        let priority = pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
        let created = pod
            .metadata
            .creation_timestamp
            .as_ref()
            .map_or(0, |t| t.0.as_second());
        let fingerprint = fingerprint(pod);
        self.with(
            |inner| match inner.pods.get(&key).map(|(qp, place)| (qp.clone(), *place)) {
                None => inner.activate(QueuedPod {
                    key,
                    priority,
                    created,
                    attempts: 0,
                    last_attempt: None,
                    popped_at_move: 0,
                    fingerprint,
                }),
                Some((mut qp, Place::Unschedulable(_))) if qp.fingerprint != fingerprint => {
                    qp.fingerprint = fingerprint;
                    inner.requeue(qp, Instant::now())
                }
                Some(_) => {}
            },
        );
        self.notify.notify_one();
    }

    /// The pod is gone or bound: drop it wherever it is.
    pub fn delete(&self, key: &str) {
        self.with(|inner| inner.pods.remove(key));
    }

    /// A cluster event that may make unschedulable pods fit (node added/updated, pod
    /// deleted): move them all to backoffQ/activeQ.
    pub fn move_all_to_active_or_backoff(&self) {
        self.with(|inner| {
            inner.move_requests += 1;
            let now = Instant::now();
            let waiting: Vec<QueuedPod> = inner
                .pods
                .values()
                .filter(|(_, p)| matches!(p, Place::Unschedulable(_)))
                .map(|(qp, _)| qp.clone())
                .collect();
            for qp in waiting {
                inner.requeue(qp, now);
            }
        });
        self.notify.notify_one();
    }

    /// Wait for the next pod to schedule.
    pub async fn pop(&self) -> QueuedPod {
        loop {
            let next = self.with(|inner| {
                inner.flush(Instant::now());
                inner
                    .pop_active()
                    .map(Ok)
                    .unwrap_or_else(|| Err(inner.next_backoff()))
            });
            let wake = match next {
                Ok(qp) => return qp,
                Err(wake) => wake,
            };
            let sleep = wake
                .map(|t| t.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1));
            tokio::select! {
                _ = self.notify.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }

    /// The popped pod was bound (or needs no scheduling any more).
    pub fn done(&self, key: &str) {
        self.delete(key);
    }

    /// The popped pod fit nowhere: park it until a cluster event, unless one already
    /// happened while it was being scheduled (then it only backs off).
    pub fn add_unschedulable(&self, mut qp: QueuedPod) {
        let now = Instant::now();
        qp.attempts += 1;
        qp.last_attempt = Some(now);
        self.with(|inner| {
            if !inner.pods.contains_key(&qp.key) {
                return; // deleted meanwhile
            }
            if qp.popped_at_move != inner.move_requests {
                inner.pods.insert(qp.key.clone(), (qp, Place::Backoff));
            } else {
                inner
                    .pods
                    .insert(qp.key.clone(), (qp, Place::Unschedulable(now)));
            }
        });
        self.notify.notify_one();
    }

    /// The popped pod hit an error (binding failed, API error): retry after backoff.
    pub fn add_backoff(&self, mut qp: QueuedPod) {
        qp.attempts += 1;
        qp.last_attempt = Some(Instant::now());
        self.with(|inner| {
            if inner.pods.contains_key(&qp.key) {
                inner.pods.insert(qp.key.clone(), (qp, Place::Backoff));
            }
        });
        self.notify.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, priority: i32, created: &str) -> Pod {
        serde_json::from_value(
            json!({"metadata": {"name": name, "namespace": "ns", "creationTimestamp": created},
            "spec": {"priority": priority, "containers": []}}),
        )
        .expect("pod")
    }

    fn queue() -> SchedulingQueue {
        SchedulingQueue::new(Metrics::new().expect("metrics"))
    }

    #[tokio::test]
    async fn priority_then_age() {
        let q = queue();
        q.add_or_update(&pod("young", 0, "2024-01-02T00:00:00Z"));
        q.add_or_update(&pod("old", 0, "2024-01-01T00:00:00Z"));
        q.add_or_update(&pod("important", 100, "2024-01-03T00:00:00Z"));
        assert_eq!(q.pop().await.key, "ns/important");
        assert_eq!(q.pop().await.key, "ns/old");
        assert_eq!(q.pop().await.key, "ns/young");
    }

    #[tokio::test]
    async fn unschedulable_waits_for_a_cluster_event() {
        let q = queue();
        q.add_or_update(&pod("p", 0, "2024-01-01T00:00:00Z"));
        let qp = q.pop().await;
        q.add_unschedulable(qp);
        // Our own status update is not a reason to retry.
        let mut updated = pod("p", 0, "2024-01-01T00:00:00Z");
        updated.status = Some(Default::default());
        q.add_or_update(&updated);
        let waited = tokio::time::timeout(Duration::from_millis(1200), q.pop()).await;
        assert!(
            waited.is_err(),
            "an unschedulable pod must not come back by itself"
        );
        q.move_all_to_active_or_backoff();
        let qp = tokio::time::timeout(Duration::from_secs(5), q.pop())
            .await
            .expect("moved back");
        assert_eq!((qp.key.as_str(), qp.attempts), ("ns/p", 1));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let now = Instant::now();
        let mut qp = QueuedPod {
            key: "k".into(),
            priority: 0,
            created: 0,
            attempts: 1,
            last_attempt: Some(now),
            popped_at_move: 0,
            fingerprint: 0,
        };
        assert_eq!(qp.backoff_expiry() - now, Duration::from_secs(1));
        qp.attempts = 3;
        assert_eq!(qp.backoff_expiry() - now, Duration::from_secs(4));
        qp.attempts = 9;
        assert_eq!(qp.backoff_expiry() - now, MAX_BACKOFF);
    }

    #[tokio::test]
    async fn deleted_pods_are_not_popped() {
        let q = queue();
        q.add_or_update(&pod("gone", 0, "2024-01-01T00:00:00Z"));
        q.add_or_update(&pod("stays", 0, "2024-01-02T00:00:00Z"));
        q.delete("ns/gone");
        assert_eq!(q.pop().await.key, "ns/stays");
    }
}
