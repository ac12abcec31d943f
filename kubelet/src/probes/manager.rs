//! The periodic side of probes: one worker task per (pod, container, kind, container id),
//! thresholds, and the published results the pod worker reads.
//!
//! Upstream semantics kept here:
//! - a worker waits until the container has run `initialDelaySeconds`, then probes every
//!   `periodSeconds`; a result is published only after `successThreshold` consecutive
//!   successes or `failureThreshold` consecutive failures (liveness and startup always use
//!   a success threshold of 1);
//! - initial results per container: readiness Failure (not ready), liveness Success,
//!   startup Unknown;
//! - liveness and readiness do not probe until the startup probe has succeeded; the startup
//!   probe stops once it has;
//! - after a liveness or startup failure is published the worker goes on hold until a new
//!   container id shows up (the pod worker restarts the container);
//! - an errored run (no verdict) changes nothing.
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Container, Pod, Probe};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

use super::{
    ProbeKind, ProbeOutcome, Prober, DEFAULT_FAILURE_THRESHOLD, DEFAULT_PERIOD_SECONDS,
    DEFAULT_SUCCESS_THRESHOLD,
};
use crate::cri::Runtime;

/// A published probe result.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Unknown,
    Success,
    Failure(String),
}

/// Results of one running container (by pod uid + container name).
struct ContainerState {
    container_id: String,
    has_startup: bool,
    has_readiness: bool,
    startup: Verdict,
    readiness: Verdict,
    liveness: Verdict,
}

impl ContainerState {
    fn new(container_id: &str, container: Option<&Container>) -> ContainerState {
        let has = |kind: ProbeKind| container.and_then(|c| kind.of(c)).is_some();
        ContainerState {
            container_id: container_id.to_string(),
            has_startup: has(ProbeKind::Startup),
            has_readiness: has(ProbeKind::Readiness),
            startup: Verdict::Unknown,
            readiness: Verdict::Failure(String::new()),
            liveness: Verdict::Success,
        }
    }

    fn started(&self) -> bool {
        !self.has_startup || self.startup == Verdict::Success
    }

    fn slot(&mut self, kind: ProbeKind) -> &mut Verdict {
        match kind {
            ProbeKind::Liveness => &mut self.liveness,
            ProbeKind::Readiness => &mut self.readiness,
            ProbeKind::Startup => &mut self.startup,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct WorkerKey {
    pod_uid: String,
    container: String,
    kind: ProbeKind,
    container_id: String,
    /// The address network probes go to. Part of the key because the first sync of a
    /// pod often comes before its status carries the sandbox's IP: a worker started
    /// without one is replaced once the IP is known, instead of erroring forever.
    pod_ip: Option<IpAddr>,
}

#[derive(Default)]
struct State {
    containers: HashMap<(String, String), ContainerState>,
    workers: HashMap<WorkerKey, AbortHandle>,
}

struct Inner {
    prober: Arc<dyn Prober>,
    updates: UnboundedSender<String>,
    state: Mutex<State>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs the probes of every running container and remembers their results.
///
/// `sync_pod` must be called from within a tokio runtime (it spawns the workers). Dropping
/// the manager stops every worker.
pub struct ProbeManager {
    inner: Arc<Inner>,
}

/// Consecutive-result counting, upstream's `lastResult`/`resultRun`.
#[derive(Debug, Default)]
struct Counter {
    last: Option<bool>,
    run: i32,
}

impl Counter {
    /// Records one verdict; returns it when its threshold is reached (it is then to be
    /// published).
    fn observe(
        &mut self,
        success: bool,
        success_threshold: i32,
        failure_threshold: i32,
    ) -> Option<bool> {
        if self.last == Some(success) {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = Some(success);
            self.run = 1;
        }
        let threshold = if success {
            success_threshold
        } else {
            failure_threshold
        };
        (self.run >= threshold).then_some(success)
    }
}

impl ProbeManager {
    /// A manager probing through the container runtime. `updates` receives a pod's uid
    /// whenever one of its published results changes, so its worker re-syncs promptly.
    pub fn new(runtime: Runtime, updates: UnboundedSender<String>) -> ProbeManager {
        ProbeManager::with_prober(Arc::new(runtime), updates)
    }

    /// A manager with another way of running probes (tests, the fake runtime).
    pub fn with_prober(prober: Arc<dyn Prober>, updates: UnboundedSender<String>) -> ProbeManager {
        ProbeManager {
            inner: Arc::new(Inner {
                prober,
                updates,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Makes the workers match the pod's running containers: `running` lists
    /// (container name, container id, started at). New container ids get fresh results and
    /// workers; containers no longer running lose theirs. Init containers with
    /// `restartPolicy: Always` (sidecars) are probed like app containers.
    pub fn sync_pod(&self, pod: &Pod, running: &[(String, String, Option<DateTime<Utc>>)]) {
        let Some(uid) = pod.metadata.uid.clone() else {
            return;
        };
        let pod_ip = pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.as_deref())
            .and_then(|ip| ip.parse::<IpAddr>().ok());
        let spec_container = |name: &str| -> Option<Container> {
            let spec = pod.spec.as_ref()?;
            spec.containers
                .iter()
                .chain(spec.init_containers.iter().flatten())
                .find(|c| c.name == name)
                .cloned()
        };

        let mut state = self.inner.lock();
        let mut wanted = HashSet::new();
        let mut running_names = HashSet::new();
        for (name, container_id, started_at) in running {
            running_names.insert(name.clone());
            let container = spec_container(name);
            let key = (uid.clone(), name.clone());
            let fresh = state
                .containers
                .get(&key)
                .is_none_or(|s| &s.container_id != container_id);
            if fresh {
                state
                    .containers
                    .insert(key, ContainerState::new(container_id, container.as_ref()));
            }
            let Some(container) = container else { continue };
            for kind in [
                ProbeKind::Startup,
                ProbeKind::Readiness,
                ProbeKind::Liveness,
            ] {
                let Some(probe) = kind.of(&container).cloned() else {
                    continue;
                };
                let worker = WorkerKey {
                    pod_uid: uid.clone(),
                    container: name.clone(),
                    kind,
                    container_id: container_id.clone(),
                    pod_ip,
                };
                wanted.insert(worker.clone());
                if state.workers.contains_key(&worker) {
                    continue;
                }
                let task = tokio::spawn(run_worker(
                    self.inner.clone(),
                    worker.clone(),
                    probe,
                    container.clone(),
                    pod_ip,
                    *started_at,
                ));
                state.workers.insert(worker, task.abort_handle());
            }
        }
        state.workers.retain(|key, handle| {
            let keep = key.pod_uid != uid || wanted.contains(key);
            if !keep {
                handle.abort();
            }
            keep
        });
        state
            .containers
            .retain(|(pod_uid, name), _| pod_uid != &uid || running_names.contains(name));
    }

    /// Stops every worker of the pod and forgets its results.
    pub fn remove_pod(&self, pod_uid: &str) {
        let mut state = self.inner.lock();
        state.workers.retain(|key, handle| {
            let keep = key.pod_uid != pod_uid;
            if !keep {
                handle.abort();
            }
            keep
        });
        state.containers.retain(|(uid, _), _| uid != pod_uid);
    }

    /// Readiness of a running container: started, and its readiness probe (if any) has
    /// succeeded. False for containers not reported running by the last `sync_pod`.
    pub fn is_ready(&self, pod_uid: &str, container: &str) -> bool {
        self.with(pod_uid, container, |s| {
            s.started() && (!s.has_readiness || s.readiness == Verdict::Success)
        })
        .unwrap_or(false)
    }

    /// Whether a running container counts as started: no startup probe, or it succeeded.
    pub fn is_started(&self, pod_uid: &str, container: &str) -> bool {
        self.with(pod_uid, container, ContainerState::started)
            .unwrap_or(false)
    }

    /// The failure message when the liveness probe of the current container has reached
    /// its failureThreshold: the container must be restarted.
    pub fn liveness_failed(&self, pod_uid: &str, container: &str) -> Option<String> {
        self.with(pod_uid, container, |s| match &s.liveness {
            Verdict::Failure(msg) => Some(msg.clone()),
            _ => None,
        })
        .flatten()
    }

    /// Like [`ProbeManager::liveness_failed`] for the startup probe (upstream restarts the
    /// container too: "failed startup probe, will be restarted").
    pub fn startup_failed(&self, pod_uid: &str, container: &str) -> Option<String> {
        self.with(pod_uid, container, |s| match &s.startup {
            Verdict::Failure(msg) => Some(msg.clone()),
            _ => None,
        })
        .flatten()
    }

    fn with<T>(
        &self,
        pod_uid: &str,
        container: &str,
        f: impl FnOnce(&ContainerState) -> T,
    ) -> Option<T> {
        let state = self.inner.lock();
        state
            .containers
            .get(&(pod_uid.to_string(), container.to_string()))
            .map(f)
    }
}

impl Drop for ProbeManager {
    fn drop(&mut self) {
        for handle in self.inner.lock().workers.values() {
            handle.abort();
        }
    }
}

/// What a worker should do on a tick.
enum Gate {
    Probe,
    Skip,
    Stop,
}

fn gate(inner: &Inner, key: &WorkerKey) -> Gate {
    let state = inner.lock();
    let Some(s) = state
        .containers
        .get(&(key.pod_uid.clone(), key.container.clone()))
        .filter(|s| s.container_id == key.container_id)
    else {
        return Gate::Stop;
    };
    match key.kind {
        ProbeKind::Startup if s.startup == Verdict::Success => Gate::Stop,
        ProbeKind::Startup => Gate::Probe,
        _ if !s.started() => Gate::Skip,
        _ => Gate::Probe,
    }
}

/// Publishes `verdict`; returns whether it changed.
fn publish(inner: &Inner, key: &WorkerKey, verdict: Verdict) -> bool {
    let mut state = inner.lock();
    let Some(s) = state
        .containers
        .get_mut(&(key.pod_uid.clone(), key.container.clone()))
        .filter(|s| s.container_id == key.container_id)
    else {
        return false;
    };
    let slot = s.slot(key.kind);
    if *slot == verdict {
        return false;
    }
    *slot = verdict;
    true
}

fn seconds(value: Option<i32>, default: i32) -> Duration {
    Duration::from_secs(value.unwrap_or(default).max(0) as u64)
}

async fn run_worker(
    inner: Arc<Inner>,
    key: WorkerKey,
    probe: Probe,
    container: Container,
    pod_ip: Option<IpAddr>,
    started_at: Option<DateTime<Utc>>,
) {
    let period = seconds(probe.period_seconds, DEFAULT_PERIOD_SECONDS).max(Duration::from_secs(1));
    let initial_delay = seconds(probe.initial_delay_seconds, 0);
    let success_threshold = match key.kind {
        // Validation forces 1 for these; be robust to objects that skipped it.
        ProbeKind::Liveness | ProbeKind::Startup => 1,
        ProbeKind::Readiness => probe
            .success_threshold
            .unwrap_or(DEFAULT_SUCCESS_THRESHOLD)
            .max(1),
    };
    let failure_threshold = probe
        .failure_threshold
        .unwrap_or(DEFAULT_FAILURE_THRESHOLD)
        .max(1);

    // The delay counts from the container's start, so a restarted kubelet does not wait
    // again for containers that have run long enough.
    let ran_for = started_at
        .and_then(|t| (Utc::now() - t).to_std().ok())
        .unwrap_or_default();
    tokio::time::sleep(initial_delay.saturating_sub(ran_for)).await;

    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut counter = Counter::default();
    loop {
        ticker.tick().await;
        match gate(&inner, &key) {
            Gate::Stop => return,
            Gate::Skip => continue,
            Gate::Probe => {}
        }
        let outcome = inner
            .prober
            .probe(key.kind, &probe, &container, &key.container_id, pod_ip)
            .await;
        let success = match outcome {
            ProbeOutcome::Success => true,
            ProbeOutcome::Failure(_) => false,
            ProbeOutcome::Unknown(why) => {
                tracing::debug!(pod = %key.pod_uid, container = %key.container, %why, "probe errored");
                continue;
            }
        };
        let Some(result) = counter.observe(success, success_threshold, failure_threshold) else {
            continue;
        };
        let verdict = match (&outcome, result) {
            (ProbeOutcome::Failure(msg), false) => Verdict::Failure(msg.clone()),
            _ => Verdict::Success,
        };
        if publish(&inner, &key, verdict) {
            let _ = inner.updates.send(key.pod_uid.clone());
        }
        match (key.kind, result) {
            // On hold until the pod worker replaces the container (a new id, a new worker).
            (ProbeKind::Liveness | ProbeKind::Startup, false) => return,
            (ProbeKind::Startup, true) => return,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    use futures::future::BoxFuture;
    use k8s_openapi::api::core::v1::{ExecAction, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use tokio::sync::mpsc;

    /// Answers from a script per kind; once a script runs out its last answer repeats.
    #[derive(Default)]
    struct Script {
        answers: Mutex<HashMap<ProbeKind, VecDeque<ProbeOutcome>>>,
        calls: Mutex<Vec<(ProbeKind, tokio::time::Instant)>>,
        addresses: Mutex<Vec<Option<IpAddr>>>,
    }

    impl Script {
        fn set(&self, kind: ProbeKind, answers: &[ProbeOutcome]) {
            self.answers
                .lock()
                .unwrap()
                .insert(kind, answers.iter().cloned().collect());
        }
        fn calls(&self, kind: ProbeKind) -> usize {
            self.calls
                .lock()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k == kind)
                .count()
        }
    }

    impl Prober for Script {
        fn probe<'a>(
            &'a self,
            kind: ProbeKind,
            _probe: &'a Probe,
            _container: &'a Container,
            _container_id: &'a str,
            pod_ip: Option<IpAddr>,
        ) -> BoxFuture<'a, ProbeOutcome> {
            self.addresses.lock().unwrap().push(pod_ip);
            self.calls
                .lock()
                .unwrap()
                .push((kind, tokio::time::Instant::now()));
            let mut answers = self.answers.lock().unwrap();
            let queue = answers.entry(kind).or_default();
            let answer = if queue.len() > 1 {
                queue.pop_front()
            } else {
                queue.front().cloned()
            }
            .unwrap_or(ProbeOutcome::Success);
            Box::pin(async move { answer })
        }
    }

    fn probe(period: i32, delay: i32, success: Option<i32>, failure: Option<i32>) -> Probe {
        Probe {
            exec: Some(ExecAction {
                command: Some(vec!["true".into()]),
            }),
            period_seconds: Some(period),
            initial_delay_seconds: Some(delay),
            success_threshold: success,
            failure_threshold: failure,
            ..Default::default()
        }
    }

    fn pod(container: Container) -> Pod {
        Pod {
            metadata: ObjectMeta {
                uid: Some("uid-1".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![container],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn fail(msg: &str) -> ProbeOutcome {
        ProbeOutcome::Failure(msg.into())
    }

    /// Lets spawned workers run up to the current (paused) time.
    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    async fn advance(secs: u64) {
        for _ in 0..secs {
            tokio::time::advance(Duration::from_secs(1)).await;
            settle().await;
        }
    }

    fn running(id: &str) -> Vec<(String, String, Option<DateTime<Utc>>)> {
        vec![("app".into(), id.into(), None)]
    }

    #[test]
    fn counter_thresholds() {
        let mut c = Counter::default();
        assert_eq!(c.observe(false, 1, 3), None);
        assert_eq!(c.observe(false, 1, 3), None);
        assert_eq!(
            c.observe(true, 2, 3),
            None,
            "a success resets the failure run"
        );
        assert_eq!(c.observe(true, 2, 3), Some(true));
        assert_eq!(c.observe(false, 2, 3), None);
        assert_eq!(c.observe(false, 2, 3), None);
        assert_eq!(c.observe(false, 2, 3), Some(false));
    }

    #[tokio::test(start_paused = true)]
    async fn probes_follow_the_pod_ip_once_the_status_carries_it() {
        let script = Arc::new(Script::default());
        let (tx, _rx) = mpsc::unbounded_channel();
        let manager = ProbeManager::with_prober(script.clone(), tx);
        let c = Container {
            name: "app".into(),
            readiness_probe: Some(probe(5, 0, None, None)),
            ..Default::default()
        };
        // First sync: the containers run but the API status has no IP yet.
        let mut p = pod(c);
        manager.sync_pod(&p, &running("c1"));
        settle().await;
        p.status = Some(PodStatus {
            pod_ip: Some("10.244.0.7".into()),
            ..Default::default()
        });
        manager.sync_pod(&p, &running("c1"));
        settle().await;
        advance(5).await;
        let seen = script.addresses.lock().unwrap().clone();
        assert_eq!(
            seen.last().copied().flatten(),
            Some("10.244.0.7".parse().unwrap()),
            "probes after the IP is known go to it: {seen:?}"
        );
        assert!(manager.is_ready("uid-1", "app"));
    }

    #[tokio::test(start_paused = true)]
    async fn readiness_waits_for_success_threshold_then_flips_on_failures() {
        let script = Arc::new(Script::default());
        script.set(
            ProbeKind::Readiness,
            &[
                ProbeOutcome::Success,
                ProbeOutcome::Success,
                fail("Readiness probe failed: no"),
                fail("Readiness probe failed: no"),
                ProbeOutcome::Success,
            ],
        );
        let (tx, mut rx) = mpsc::unbounded_channel();
        let manager = ProbeManager::with_prober(script.clone(), tx);
        let c = Container {
            name: "app".into(),
            readiness_probe: Some(probe(5, 10, Some(2), Some(2))),
            ..Default::default()
        };
        manager.sync_pod(&pod(c), &running("c1"));
        settle().await;
        assert!(
            !manager.is_ready("uid-1", "app"),
            "readiness starts as not ready"
        );
        assert!(manager.is_started("uid-1", "app"));

        advance(9).await;
        assert_eq!(
            script.calls(ProbeKind::Readiness),
            0,
            "initialDelaySeconds honoured"
        );
        advance(1).await; // t=10: first success (1 of 2)
        assert_eq!(script.calls(ProbeKind::Readiness), 1);
        assert!(!manager.is_ready("uid-1", "app"));
        advance(5).await; // t=15: second success → ready
        assert!(manager.is_ready("uid-1", "app"));
        assert_eq!(rx.try_recv().unwrap(), "uid-1");
        advance(5).await; // t=20: failure 1 of 2, still ready
        assert!(manager.is_ready("uid-1", "app"));
        advance(5).await; // t=25: failure 2 of 2 → not ready
        assert!(!manager.is_ready("uid-1", "app"));
        assert_eq!(rx.try_recv().unwrap(), "uid-1");
        assert_eq!(script.calls(ProbeKind::Readiness), 4, "period 5 s");
    }

    #[tokio::test(start_paused = true)]
    async fn liveness_failure_threshold_then_hold_until_new_container() {
        let script = Arc::new(Script::default());
        script.set(
            ProbeKind::Liveness,
            &[fail(
                "Liveness probe failed: HTTP probe failed with statuscode: 500",
            )],
        );
        let (tx, mut rx) = mpsc::unbounded_channel();
        let manager = ProbeManager::with_prober(script.clone(), tx);
        let c = Container {
            name: "app".into(),
            liveness_probe: Some(probe(10, 0, None, None)),
            ..Default::default()
        };
        let p = pod(c);
        manager.sync_pod(&p, &running("c1"));
        settle().await; // t=0: failure 1
        assert_eq!(manager.liveness_failed("uid-1", "app"), None);
        advance(10).await; // failure 2
        assert_eq!(manager.liveness_failed("uid-1", "app"), None);
        advance(10).await; // failure 3 = default threshold
        assert_eq!(
            manager.liveness_failed("uid-1", "app").as_deref(),
            Some("Liveness probe failed: HTTP probe failed with statuscode: 500")
        );
        assert_eq!(rx.try_recv().unwrap(), "uid-1");
        advance(30).await;
        assert_eq!(
            script.calls(ProbeKind::Liveness),
            3,
            "on hold after the failure"
        );

        // The pod worker restarted the container: a new id starts over as alive.
        script.set(ProbeKind::Liveness, &[ProbeOutcome::Success]);
        manager.sync_pod(&p, &running("c2"));
        settle().await;
        assert_eq!(manager.liveness_failed("uid-1", "app"), None);
        assert_eq!(script.calls(ProbeKind::Liveness), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn startup_gates_liveness_and_readiness() {
        let script = Arc::new(Script::default());
        script.set(
            ProbeKind::Startup,
            &[
                fail("Startup probe failed: x"),
                fail("Startup probe failed: x"),
                ProbeOutcome::Success,
            ],
        );
        let (tx, _rx) = mpsc::unbounded_channel();
        let manager = ProbeManager::with_prober(script.clone(), tx);
        let c = Container {
            name: "app".into(),
            startup_probe: Some(probe(1, 0, None, Some(5))),
            liveness_probe: Some(probe(1, 0, None, None)),
            readiness_probe: Some(probe(1, 0, None, None)),
            ..Default::default()
        };
        manager.sync_pod(&pod(c), &running("c1"));
        settle().await;
        advance(1).await; // startup: fail, fail
        assert!(!manager.is_started("uid-1", "app"));
        assert!(!manager.is_ready("uid-1", "app"));
        assert_eq!(script.calls(ProbeKind::Liveness), 0);
        assert_eq!(script.calls(ProbeKind::Readiness), 0);
        advance(1).await; // startup succeeds
        assert!(manager.is_started("uid-1", "app"));
        advance(2).await;
        assert!(manager.is_ready("uid-1", "app"));
        assert!(script.calls(ProbeKind::Liveness) >= 1);
        advance(5).await;
        assert_eq!(
            script.calls(ProbeKind::Startup),
            3,
            "startup probing stops once started"
        );
        assert_eq!(manager.startup_failed("uid-1", "app"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_results_change_nothing_and_removal_stops_workers() {
        let script = Arc::new(Script::default());
        script.set(
            ProbeKind::Readiness,
            &[ProbeOutcome::Unknown("Readiness probe errored: x".into())],
        );
        let (tx, _rx) = mpsc::unbounded_channel();
        let manager = ProbeManager::with_prober(script.clone(), tx);
        let plain = Container {
            name: "plain".into(),
            ..Default::default()
        };
        let mut p = pod(Container {
            name: "app".into(),
            readiness_probe: Some(probe(1, 0, None, None)),
            ..Default::default()
        });
        p.spec.as_mut().unwrap().containers.push(plain);
        let both = vec![
            ("app".to_string(), "c1".to_string(), None),
            ("plain".to_string(), "c2".to_string(), None),
        ];
        manager.sync_pod(&p, &both);
        advance(3).await;
        assert!(!manager.is_ready("uid-1", "app"));
        assert!(
            manager.is_ready("uid-1", "plain"),
            "no readiness probe: ready when running"
        );

        // "plain" stopped running: no longer ready.
        manager.sync_pod(&p, &both[..1]);
        assert!(!manager.is_ready("uid-1", "plain"));

        manager.remove_pod("uid-1");
        let before = script.calls(ProbeKind::Readiness);
        advance(3).await;
        assert_eq!(script.calls(ProbeKind::Readiness), before);
        assert!(!manager.is_started("uid-1", "app"));
    }
}
