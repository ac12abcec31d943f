//! Pods on this node: the sources that say which pods should run (the apiserver, static
//! manifests), the manager that keeps one worker per pod, and the relister (upstream's PLEG)
//! that wakes a worker when its containers change in the runtime.
pub mod admission;
pub mod backoff;
pub mod container;
pub mod context;
pub mod env;
pub mod ephemeral;
pub mod hooks;
pub mod images;
pub mod qos;
pub mod runtime;
pub mod sandbox;
pub mod sidecar;
pub mod source_api;
pub mod static_pods;
pub mod status;
pub mod worker;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;

use context::KubeletContext;
use worker::PodWorker;

/// Where a pod came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PodSource {
    Api,
    Static,
}

/// A pod this node should run, as its source last described it.
#[derive(Clone, Debug)]
pub struct DesiredPod {
    pub pod: Pod,
    pub source: PodSource,
}

/// What sources tell the manager.
#[derive(Debug)]
pub enum SourceEvent {
    Upsert(Box<DesiredPod>),
    Remove {
        uid: String,
    },
    /// The source has delivered its complete state at least once (orphans may be cleaned).
    Synced(PodSource),
}

/// Whether two versions of a pod differ in more than their status and bookkeeping
/// (resourceVersion, managedFields).
fn differs_beyond_status(a: &Pod, b: &Pod) -> bool {
    let strip = |p: &Pod| {
        let mut p = p.clone();
        p.status = None;
        p.metadata.resource_version = None;
        p.metadata.managed_fields = None;
        p
    };
    strip(a) != strip(b)
}

/// How often the runtime is relisted for changes (upstream's PLEG period).
const RELIST_PERIOD: Duration = Duration::from_secs(1);

struct WorkerHandle {
    desired: watch::Sender<Option<DesiredPod>>,
    /// Wakes the worker (a probe result).
    wake: Arc<Notify>,
    /// Wakes the worker for a runtime change the relister saw.
    runtime_changed: Arc<Notify>,
    task: JoinHandle<()>,
}

/// Keeps one worker per desired pod and removes what the runtime holds for pods that are not.
pub struct PodManager {
    ctx: Arc<KubeletContext>,
    workers: HashMap<String, WorkerHandle>,
    cleaning: HashMap<String, JoinHandle<()>>,
    synced: HashSet<PodSource>,
    expected_sources: HashSet<PodSource>,
}

impl PodManager {
    pub fn new(ctx: Arc<KubeletContext>, expected_sources: HashSet<PodSource>) -> PodManager {
        PodManager {
            ctx,
            workers: HashMap::new(),
            cleaning: HashMap::new(),
            synced: HashSet::new(),
            expected_sources,
        }
    }

    /// Runs until the sources' channel closes.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<SourceEvent>,
        mut probe_results: mpsc::UnboundedReceiver<String>,
    ) {
        let mut relist = tokio::time::interval(RELIST_PERIOD);
        relist.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(event) => self.handle(event),
                    None => return,
                },
                Some(uid) = probe_results.recv() => self.wake(&uid),
                _ = relist.tick() => self.relist().await,
            }
        }
    }

    fn handle(&mut self, event: SourceEvent) {
        match event {
            SourceEvent::Upsert(desired) => {
                let desired = *desired;
                let uid = desired.pod.metadata.uid.clone().unwrap_or_default();
                if uid.is_empty() {
                    return;
                }
                if let Some(handle) = self.workers.get(&uid).filter(|h| !h.task.is_finished()) {
                    self.ctx.eviction.admit(&uid, &desired.pod);
                    // Most updates are the worker's own status patches coming back: keep
                    // the newest copy but wake the worker only for a change it must act
                    // on, as upstream's pod config sends status-only updates nowhere.
                    handle.desired.send_if_modified(|current| {
                        let wake = current
                            .as_ref()
                            .is_none_or(|c| differs_beyond_status(&c.pod, &desired.pod));
                        *current = Some(desired);
                        wake
                    });
                    return;
                }
                tracing::debug!(pod = %worker::pod_key(&desired.pod), "starting a pod worker");
                self.admit(&uid, &desired);
                let (tx, rx) = watch::channel(Some(desired));
                let wake = Arc::new(Notify::new());
                let runtime_changed = Arc::new(Notify::new());
                let worker = PodWorker::new(
                    self.ctx.clone(),
                    uid.clone(),
                    rx,
                    worker::Wakers {
                        any: wake.clone(),
                        runtime_changed: runtime_changed.clone(),
                    },
                );
                let task = tokio::spawn(worker.run());
                self.workers.insert(
                    uid,
                    WorkerHandle {
                        desired: tx,
                        wake,
                        runtime_changed,
                        task,
                    },
                );
            }
            SourceEvent::Remove { uid } => {
                if let Some(handle) = self.workers.get(&uid) {
                    let _ = handle.desired.send(None);
                }
                self.ctx.eviction.forget(&uid);
            }
            SourceEvent::Synced(source) => {
                self.synced.insert(source);
            }
        }
    }

    /// Admission of a pod new to this kubelet: a pod the API still shows Pending and the
    /// runtime does not hold must fit and find the node free of pressure, or it ends
    /// `Failed` (its worker reports the verdict). Pods already running — a restarted
    /// kubelet adopting them — and static pods are not re-admitted.
    fn admit(&mut self, uid: &str, desired: &DesiredPod) {
        let pod = &desired.pod;
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        let fresh = desired.source == PodSource::Api
            && matches!(phase, None | Some("Pending"))
            && !self.ctx.runtime_states.relisted_holds(uid)
            && self.ctx.eviction.verdict(uid).is_none();
        if fresh {
            let others: Vec<Pod> = self
                .ctx
                .eviction
                .active_pods()
                .into_iter()
                .filter(|(u, _)| u != uid)
                .map(|(_, p)| p)
                .collect();
            if let Err(verdict) =
                admission::admit(pod, &others, &self.ctx.allocatable, &self.ctx.eviction)
            {
                tracing::info!(pod = %worker::pod_key(pod), reason = %verdict.reason, "pod rejected at admission");
                self.ctx.recorder.pod_event(
                    pod,
                    None,
                    true,
                    &verdict.reason,
                    verdict.message.clone(),
                );
                self.ctx.eviction.set_verdict(uid, verdict);
            }
        }
        self.ctx.eviction.admit(uid, pod);
    }

    fn wake(&self, uid: &str) {
        if let Some(handle) = self.workers.get(uid) {
            handle.wake.notify_one();
        }
    }

    /// Wakes workers whose pods changed in the runtime, reaps finished workers, and cleans up
    /// pods the runtime holds that no source wants (once every source has synced).
    async fn relist(&mut self) {
        self.workers.retain(|_, h| !h.task.is_finished());
        self.cleaning.retain(|_, t| !t.is_finished());
        let current = match runtime::fingerprints(&self.ctx.runtime).await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "relisting the runtime");
                return;
            }
        };
        let previous = self
            .ctx
            .runtime_states
            .replace_relisted(current.clone(), std::time::Instant::now());
        for (uid, print) in &current {
            let changed = previous.get(uid) != Some(print);
            if changed && !self.ctx.runtime_states.worker_acted_on(uid, print) {
                if let Some(handle) = self.workers.get(uid) {
                    handle.runtime_changed.notify_one();
                }
            }
        }
        self.ctx
            .runtime_states
            .retain_workers(|uid| self.workers.contains_key(uid));
        let all_synced = self
            .expected_sources
            .iter()
            .all(|s| self.synced.contains(s));
        if all_synced {
            for uid in current.keys() {
                if !self.workers.contains_key(uid) && !self.cleaning.contains_key(uid) {
                    tracing::info!(uid, "the runtime holds a pod no source wants; removing it");
                    let ctx = self.ctx.clone();
                    let owned = uid.clone();
                    let task = tokio::spawn(async move {
                        worker::remove_pod_from_runtime(&ctx, &owned, None).await
                    });
                    self.cleaning.insert(uid.clone(), task);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn status_only_updates_do_not_count_as_changes() {
        let base = pod(serde_json::json!({
            "metadata": {"name": "p", "uid": "u", "resourceVersion": "1"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}
        }));
        let mut patched = base.clone();
        patched.metadata.resource_version = Some("2".into());
        patched.status = Some(k8s_openapi::api::core::v1::PodStatus {
            phase: Some("Running".into()),
            ..Default::default()
        });
        assert!(!differs_beyond_status(&base, &patched));
        let mut deleting = patched.clone();
        deleting.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::now(),
            ));
        assert!(differs_beyond_status(&patched, &deleting));
        let mut relabeled = patched.clone();
        relabeled.metadata.labels = Some([("a".to_string(), "b".to_string())].into());
        assert!(differs_beyond_status(&patched, &relabeled));
    }
}
