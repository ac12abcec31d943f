//! The scheduling queue: `activeQ` (highest priority first, then oldest), `backoffQ` (pods
//! that failed, waiting 1s·2^(attempts-1) capped at 10s) and the unschedulable pods, which
//! wait for a cluster event that could help them (node added or updated, pod deleted), or
//! at most five minutes.

use std::collections::{BinaryHeap, HashMap, HashSet};
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

/// Which `pending_pods` gauge counts a pod at `place` (in flight: none).
fn gauge_slot(place: &Place) -> Option<usize> {
    match place {
        Place::Active(_) => Some(0),
        Place::Backoff => Some(1),
        Place::Unschedulable(_) => Some(2),
        Place::InFlight => None,
    }
}

fn is_waiting(place: &Place) -> bool {
    matches!(place, Place::Backoff | Place::Unschedulable(_))
}

#[derive(Default)]
struct Inner {
    pods: HashMap<String, (QueuedPod, Place)>,
    active: BinaryHeap<HeapEntry>,
    /// Keys of the pods in backoffQ or among the unschedulable: flushing, moving and
    /// finding the next backoff expiry scan these, so a queue operation costs O(waiting
    /// pods), not O(all pending pods) — 10,000 pending pods made every pop a full scan.
    waiting: HashSet<String>,
    /// Pods per gauge slot (active, backoff, unschedulable), kept in step with `pods`.
    counts: [i64; 3],
    seq: u64,
    move_requests: u64,
}

impl Inner {
    /// Put `qp` at `place`, replacing wherever it was.
    fn put(&mut self, qp: QueuedPod, place: Place) {
        let key = qp.key.clone();
        if let Some((_, old)) = self.pods.insert(key.clone(), (qp, place)) {
            self.forget_place(&key, &old);
        }
        if let Some(i) = gauge_slot(&place) {
            self.counts[i] += 1;
        }
        if is_waiting(&place) {
            self.waiting.insert(key);
        }
    }

    /// Drop the pod with `key` wherever it is.
    fn remove(&mut self, key: &str) -> Option<QueuedPod> {
        let (qp, place) = self.pods.remove(key)?;
        self.forget_place(key, &place);
        Some(qp)
    }

    fn forget_place(&mut self, key: &str, place: &Place) {
        if let Some(i) = gauge_slot(place) {
            self.counts[i] -= 1;
        }
        if is_waiting(place) {
            self.waiting.remove(key);
        }
    }

    /// The waiting pods (backoff and unschedulable) `select` picks, cloned.
    fn waiting_where(&self, select: impl Fn(&QueuedPod, &Place) -> bool) -> Vec<QueuedPod> {
        self.waiting
            .iter()
            .filter_map(|key| self.pods.get(key))
            .filter(|(qp, place)| select(qp, place))
            .map(|(qp, _)| qp.clone())
            .collect()
    }

    fn activate(&mut self, qp: QueuedPod) {
        self.seq += 1;
        self.active.push(HeapEntry {
            priority: qp.priority,
            older: std::cmp::Reverse(qp.created),
            seq: std::cmp::Reverse(self.seq),
            key: qp.key.clone(),
        });
        let seq = self.seq;
        self.put(qp, Place::Active(seq));
    }

    /// Backoff if the pod's delay has not passed, else straight to active.
    fn requeue(&mut self, qp: QueuedPod, now: Instant) {
        if qp.backoff_expiry() > now {
            self.put(qp, Place::Backoff);
        } else {
            self.activate(qp);
        }
    }

    fn flush(&mut self, now: Instant) {
        let due = self.waiting_where(|qp, place| match place {
            Place::Backoff => qp.backoff_expiry() <= now,
            Place::Unschedulable(since) => now.duration_since(*since) >= MAX_UNSCHEDULABLE,
            _ => false,
        });
        for qp in due {
            self.requeue(qp, now);
        }
    }

    fn pop_active(&mut self) -> Option<QueuedPod> {
        while let Some(entry) = self.active.pop() {
            // Entries are removed lazily: skip ones whose pod moved or left since.
            let current = self
                .pods
                .get(&entry.key)
                .is_some_and(|(_, place)| *place == Place::Active(entry.seq.0));
            if current {
                let mut qp = self.remove(&entry.key)?;
                qp.popped_at_move = self.move_requests;
                self.put(qp.clone(), Place::InFlight);
                return Some(qp);
            }
        }
        None
    }

    fn next_backoff(&self) -> Option<Instant> {
        self.waiting
            .iter()
            .filter_map(|key| self.pods.get(key))
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
        for (queue, n) in ["active", "backoff", "unschedulable"]
            .iter()
            .zip(inner.counts)
        {
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
        self.with(|inner| inner.remove(key));
    }

    /// A cluster event that may make unschedulable pods fit (node added/updated, pod
    /// deleted): move them all to backoffQ/activeQ.
    pub fn move_all_to_active_or_backoff(&self) {
        self.with(|inner| {
            inner.move_requests += 1;
            let now = Instant::now();
            let waiting = inner.waiting_where(|_, place| matches!(place, Place::Unschedulable(_)));
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
                inner.put(qp, Place::Backoff);
            } else {
                inner.put(qp, Place::Unschedulable(now));
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
                inner.put(qp, Place::Backoff);
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

    /// The incremental gauge counts and waiting set against a full recount.
    fn assert_bookkeeping(q: &SchedulingQueue) -> [i64; 3] {
        let inner = q.inner.lock().expect("queue lock");
        let mut counts = [0i64; 3];
        let mut waiting = HashSet::new();
        for (key, (_, place)) in &inner.pods {
            if let Some(i) = gauge_slot(place) {
                counts[i] += 1;
            }
            if is_waiting(place) {
                waiting.insert(key.clone());
            }
        }
        assert_eq!(inner.counts, counts);
        assert_eq!(inner.waiting, waiting);
        counts
    }

    #[tokio::test]
    async fn counts_follow_every_move() {
        let q = queue();
        for name in ["a", "b", "c", "d"] {
            q.add_or_update(&pod(name, 0, "2024-01-01T00:00:00Z"));
        }
        assert_eq!(assert_bookkeeping(&q), [4, 0, 0]);
        let a = q.pop().await;
        let b = q.pop().await;
        let c = q.pop().await;
        assert_eq!(assert_bookkeeping(&q), [1, 0, 0]);
        q.add_unschedulable(a);
        q.add_backoff(b);
        q.done(&c.key);
        assert_eq!(assert_bookkeeping(&q), [1, 1, 1]);
        // A cluster event moves the unschedulable pod to backoff (its delay has not passed).
        q.move_all_to_active_or_backoff();
        assert_eq!(assert_bookkeeping(&q), [1, 2, 0]);
        q.delete("ns/a");
        q.delete("ns/d");
        assert_eq!(assert_bookkeeping(&q), [0, 1, 0]);
        // Backoff expires after a second: the pod pops again.
        let again = tokio::time::timeout(Duration::from_secs(5), q.pop())
            .await
            .expect("backed-off pod comes back");
        assert_eq!(again.key, "ns/b");
        assert_eq!(assert_bookkeeping(&q), [0, 0, 0]);
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
