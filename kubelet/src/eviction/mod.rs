//! Node-pressure eviction, as upstream's eviction manager does it with hard thresholds:
//! every monitoring interval the signals are read; a signal below its threshold puts the node
//! under pressure (MemoryPressure / DiskPressure / PIDPressure, held for
//! `--eviction-pressure-transition-period` after the last time a threshold was met) and one
//! pod, ranked by [`ranking`], is evicted: its containers are killed and it ends `Failed` with
//! reason `Evicted`. Under pressure, admission turns new pods away ([`crate::pods::admission`]).

pub mod ranking;
pub mod signals;
pub mod thresholds;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use tokio::sync::mpsc;

use crate::cri::Runtime;
use crate::events::Recorder;
use crate::server::stats::{pod_identity, pod_usage, CriSnapshot};
use ranking::Candidate;
use signals::Observations;
use thresholds::{Pressure, Signal, Threshold};

/// Why the kubelet ended a pod itself (eviction, or rejection at admission).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The pod status `reason` (`Evicted`, `OutOfcpu` …).
    pub reason: String,
    /// The pod status `message`.
    pub message: String,
}

/// What the eviction manager shares with the node status loop, admission and pod workers.
#[derive(Debug, Default)]
pub struct EvictionState {
    pressure: Mutex<BTreeSet<Pressure>>,
    verdicts: Mutex<HashMap<String, Verdict>>,
    active: Mutex<BTreeMap<String, Pod>>,
}

impl EvictionState {
    /// Whether the node is under `p` pressure now.
    pub fn under(&self, p: Pressure) -> bool {
        self.pressure
            .lock()
            .map(|s| s.contains(&p))
            .unwrap_or(false)
    }

    fn set_pressure(&self, now: BTreeSet<Pressure>) {
        if let Ok(mut s) = self.pressure.lock() {
            *s = now;
        }
    }

    /// The verdict on a pod, if the kubelet ended it.
    pub fn verdict(&self, uid: &str) -> Option<Verdict> {
        self.verdicts.lock().ok()?.get(uid).cloned()
    }

    /// End a pod: its worker kills it and reports `verdict`.
    pub fn set_verdict(&self, uid: &str, verdict: Verdict) {
        if let Ok(mut v) = self.verdicts.lock() {
            v.insert(uid.to_string(), verdict);
        }
    }

    /// A pod admitted to run here (or still running here).
    pub fn admit(&self, uid: &str, pod: &Pod) {
        if let Ok(mut a) = self.active.lock() {
            a.insert(uid.to_string(), pod.clone());
        }
    }

    /// A pod gone from this node: forget it entirely.
    pub fn forget(&self, uid: &str) {
        if let Ok(mut a) = self.active.lock() {
            a.remove(uid);
        }
        if let Ok(mut v) = self.verdicts.lock() {
            v.remove(uid);
        }
    }

    /// Pods admitted and not ended by a verdict or a terminal phase.
    pub fn active_pods(&self) -> Vec<(String, Pod)> {
        let verdicts = self.verdicts.lock().map(|v| v.clone()).unwrap_or_default();
        self.active
            .lock()
            .map(|a| {
                a.iter()
                    .filter(|(uid, _)| !verdicts.contains_key(*uid))
                    .filter(|(_, p)| {
                        !matches!(
                            p.status.as_ref().and_then(|s| s.phase.as_deref()),
                            Some("Succeeded" | "Failed")
                        )
                    })
                    .map(|(u, p)| (u.clone(), p.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Settings of the eviction manager.
#[derive(Debug, Clone)]
pub struct EvictionConfig {
    pub thresholds: Vec<Threshold>,
    /// How long a pressure condition stays after the last threshold met.
    pub pressure_transition_period: Duration,
    /// How often signals are read (upstream's housekeeping: 10 s).
    pub monitoring_interval: Duration,
    /// The kubelet's root dir (nodefs).
    pub root_dir: PathBuf,
}

/// The loop that watches the signals and evicts.
pub struct EvictionManager {
    config: EvictionConfig,
    state: Arc<EvictionState>,
    runtime: Runtime,
    recorder: Recorder,
    /// Wakes a pod's worker (the pod manager's channel, by pod UID).
    wake: mpsc::UnboundedSender<String>,
    last_met: BTreeMap<Pressure, Instant>,
}

impl EvictionManager {
    pub fn new(
        config: EvictionConfig,
        state: Arc<EvictionState>,
        runtime: Runtime,
        recorder: Recorder,
        wake: mpsc::UnboundedSender<String>,
    ) -> Self {
        Self {
            config,
            state,
            runtime,
            recorder,
            wake,
            last_met: BTreeMap::new(),
        }
    }

    /// Runs until the process ends.
    pub async fn run(mut self) {
        let image_fs = signals::image_fs_path(&self.runtime).await;
        let mut tick = tokio::time::interval(self.config.monitoring_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let observations = signals::observe(&self.config.root_dir, image_fs.as_deref());
            let met = met_thresholds(&self.config.thresholds, &observations);
            let now = Instant::now();
            for (t, _) in &met {
                self.last_met.insert(t.signal.condition(), now);
            }
            let period = self.config.pressure_transition_period;
            let pressure: BTreeSet<Pressure> = self
                .last_met
                .iter()
                .filter(|(_, at)| now.duration_since(**at) <= period)
                .map(|(p, _)| *p)
                .collect();
            self.state.set_pressure(pressure);
            // Memory first, as upstream orders the signals it reclaims.
            if let Some((threshold, observed)) = met.into_iter().min_by_key(|(t, _)| t.signal) {
                self.evict_one(&threshold, observed.available).await;
            }
        }
    }

    /// Evict the first-ranked pod for `threshold`'s signal.
    async fn evict_one(&mut self, threshold: &Threshold, available: u64) {
        let usage = memory_by_pod(&self.runtime).await;
        let mut candidates: Vec<Candidate> = self
            .state
            .active_pods()
            .into_iter()
            .filter(|(_, p)| ranking::evictable(p))
            .map(|(uid, pod)| Candidate {
                memory_working_set: usage.get(&uid).copied().unwrap_or(0),
                uid,
                pod,
            })
            .collect();
        ranking::rank(threshold.signal, &mut candidates);
        let Some(victim) = candidates.into_iter().next() else {
            tracing::warn!(%threshold, "eviction threshold met but no pod can be evicted");
            return;
        };
        let message = format!(
            "The node was low on resource: {}. Threshold quantity: {}, available: {}. ",
            threshold.signal.resource(),
            threshold.text,
            format_available(threshold.signal, available),
        );
        tracing::info!(pod = %victim.uid, %threshold, "evicting pod");
        self.recorder
            .pod_event(&victim.pod, None, true, "Evicted", message.clone());
        self.state.set_verdict(
            &victim.uid,
            Verdict {
                reason: "Evicted".into(),
                message,
            },
        );
        let _ = self.wake.send(victim.uid);
    }
}

/// Thresholds whose signal is below the limit now, with the reading.
fn met_thresholds(
    thresholds: &[Threshold],
    observations: &Observations,
) -> Vec<(Threshold, signals::Observation)> {
    thresholds
        .iter()
        .filter_map(|t| {
            let o = observations.get(&t.signal)?;
            (o.available < t.amount(o.capacity)).then(|| (t.clone(), *o))
        })
        .collect()
}

/// Available amount as upstream prints it: memory and storage in Ki, counts plain.
fn format_available(signal: Signal, available: u64) -> String {
    match signal {
        Signal::MemoryAvailable | Signal::NodeFsAvailable | Signal::ImageFsAvailable => {
            format!("{}Ki", available / 1024)
        }
        _ => available.to_string(),
    }
}

/// Working set per pod UID, from the runtime's stats.
async fn memory_by_pod(runtime: &Runtime) -> HashMap<String, u64> {
    let Ok(snapshot) = CriSnapshot::read(runtime).await else {
        return HashMap::new();
    };
    snapshot
        .sandboxes
        .iter()
        .map(|s| {
            let (_, _, uid) = pod_identity(s);
            let (usage, _) = pod_usage(&snapshot, s);
            (uid, usage.working_set_bytes.unwrap_or(0))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use signals::Observation;

    #[test]
    fn thresholds_are_met_below_their_limit_only() {
        let t = thresholds::parse_hard("memory.available<100Mi,nodefs.available<10%").unwrap();
        let obs = Observations::from([
            (
                Signal::MemoryAvailable,
                Observation {
                    available: 99 << 20,
                    capacity: 8 << 30,
                },
            ),
            (
                Signal::NodeFsAvailable,
                Observation {
                    available: 100,
                    capacity: 1000,
                },
            ),
        ]);
        let met = met_thresholds(&t, &obs);
        assert_eq!(met.len(), 1, "10% of 1000 available is not below 10%");
        assert_eq!(met[0].0.signal, Signal::MemoryAvailable);
        assert_eq!(
            format_available(Signal::MemoryAvailable, 99 << 20),
            "101376Ki"
        );
    }

    #[test]
    fn verdicts_take_pods_out_of_the_active_set() {
        let state = EvictionState::default();
        let pod = Pod::default();
        state.admit("a", &pod);
        state.admit("b", &pod);
        state.set_verdict(
            "a",
            Verdict {
                reason: "Evicted".into(),
                message: "m".into(),
            },
        );
        let active: Vec<String> = state.active_pods().into_iter().map(|(u, _)| u).collect();
        assert_eq!(active, ["b"]);
        state.forget("a");
        assert!(state.verdict("a").is_none());
    }
}
