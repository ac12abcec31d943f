//! The pod worker: one task per pod, level-triggered. Each sync reads what the runtime holds
//! for the pod, compares it with the spec, takes the next steps (sandbox, init containers in
//! order, app containers, restarts with back-off, liveness kills) and reports the status.
//! Deletion runs the graceful termination and then lets the apiserver forget the pod.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use k8s_openapi::api::core::v1::{Container, Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::Api;
use proto::cri::v1 as cri;
use sha2::{Digest, Sha256};
use tokio::sync::{watch, Notify};

use super::backoff::Backoff;
use super::container::{self, ContainerInputs, ContainerType};
use super::context::KubeletContext;
use super::runtime::{self, ContainerInfo, PodRuntime, SandboxInfo};
use super::status::{self, StatusInputs, Waiting};
use super::{env, ephemeral, hooks, sandbox, sidecar, DesiredPod, PodSource};
use crate::cri::call_error;
use crate::metrics;
use crate::network;

/// Annotation carrying a hash of the container's spec: a changed spec restarts the container.
pub const ANNOTATION_CONTAINER_HASH: &str = "io.kubernetes.container.hash";
/// Passes of `advance` in one sync. The second normally finds the containers the first
/// started running and does nothing; a bound keeps a pod whose every pass changes something
/// from holding its worker.
const MAX_ADVANCE_PASSES: u32 = 2;
/// How often a worker re-syncs when nothing wakes it (volumes refresh, probes, back-off).
const RESYNC: Duration = Duration::from_secs(10);
/// How often configMap/secret/projected volume contents are refreshed.
const VOLUME_REFRESH: Duration = Duration::from_secs(15);

fn container_hash(c: &Container) -> String {
    let json = serde_json::to_vec(c).unwrap_or_default();
    let digest = Sha256::digest(&json);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn field_path(kind: ContainerType, name: &str) -> Option<String> {
    Some(match kind {
        ContainerType::Init => format!("spec.initContainers{{{name}}}"),
        ContainerType::App => format!("spec.containers{{{name}}}"),
        ContainerType::Ephemeral => format!("spec.ephemeralContainers{{{name}}}"),
    })
}

/// What kind of container [`PodWorker::launch`] starts, and how.
struct Launch<'a> {
    kind: ContainerType,
    attempt: u32,
    /// For an ephemeral container: the running container whose process namespace it joins.
    target_id: Option<&'a str>,
}

fn grace_seconds(pod: &Pod) -> i64 {
    pod.metadata
        .deletion_grace_period_seconds
        .or_else(|| {
            pod.spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds)
        })
        .unwrap_or(30)
        .max(0)
}

/// What wakes a worker besides a change of its pod and its own timer.
pub struct Wakers {
    /// Anything that needs a sync (a probe result).
    pub any: Arc<Notify>,
    /// The relister saw the pod change in the runtime; moot if the worker has read that
    /// state itself since.
    pub runtime_changed: Arc<Notify>,
}

pub struct PodWorker {
    ctx: Arc<KubeletContext>,
    uid: String,
    desired: watch::Receiver<Option<DesiredPod>>,
    wakers: Wakers,
    backoff: Backoff,
    waiting: HashMap<String, Waiting>,
    termination_messages: HashMap<String, String>,
    last_status: Option<PodStatus>,
    start_time: Option<Time>,
    volumes: Option<crate::volumes::PodVolumes>,
    volumes_synced_at: Option<Instant>,
    /// The last pod this worker ran, for the final cleanup after it disappears.
    last_pod: Option<Pod>,
    deleted_in_api: bool,
}

impl PodWorker {
    pub fn new(
        ctx: Arc<KubeletContext>,
        uid: String,
        desired: watch::Receiver<Option<DesiredPod>>,
        wakers: Wakers,
    ) -> Self {
        PodWorker {
            ctx,
            uid,
            desired,
            wakers,
            backoff: Backoff::default(),
            waiting: HashMap::new(),
            termination_messages: HashMap::new(),
            last_status: None,
            start_time: None,
            volumes: None,
            volumes_synced_at: None,
            last_pod: None,
            deleted_in_api: false,
        }
    }

    /// Runs until the pod is gone from both the desired set and the runtime.
    pub async fn run(mut self) {
        // Upstream's pod worker operation types: the first sync creates, a sync after the
        // pod changed updates, any other (resync, wake-up) is a plain sync.
        let mut operation = metrics::POD_WORKER_CREATE;
        loop {
            let desired = self.desired.borrow_and_update().clone();
            let next = match desired {
                Some(d) if d.pod.metadata.deletion_timestamp.is_none() => {
                    self.last_pod = Some(d.pod.clone());
                    let began = Instant::now();
                    let synced = self.sync(&d).await;
                    metrics::kubelet()
                        .pod_worker_duration
                        .with_label_values(&[operation])
                        .observe(began.elapsed().as_secs_f64());
                    match synced {
                        Ok(next) => next,
                        Err(e) => {
                            tracing::warn!(pod = %pod_key(&d.pod), error = %e, "sync failed");
                            Some(Duration::from_secs(2))
                        }
                    }
                }
                Some(d) => {
                    self.last_pod = Some(d.pod.clone());
                    self.terminate(&d).await;
                    Some(Duration::from_secs(5))
                }
                None => {
                    self.cleanup().await;
                    return;
                }
            };
            let deadline = tokio::time::Instant::now() + next.unwrap_or(RESYNC).min(RESYNC);
            operation = match self.wait(deadline).await {
                Some(operation) => operation,
                None => {
                    self.cleanup().await;
                    return;
                }
            };
        }
    }

    /// Waits for the next reason to sync and returns its operation type; `None` when the
    /// pod's source is gone.
    async fn wait(&mut self, deadline: tokio::time::Instant) -> Option<&'static str> {
        loop {
            tokio::select! {
                changed = self.desired.changed() => {
                    return changed.is_ok().then_some(metrics::POD_WORKER_UPDATE);
                }
                _ = self.wakers.any.notified() => {
                    tracing::debug!(uid = %self.uid, "sync: woken");
                    return Some(metrics::POD_WORKER_SYNC);
                }
                _ = self.wakers.runtime_changed.notified() => {
                    // Often the worker's own creates and starts, relisted while it was
                    // still syncing: it has read and acted on the result already.
                    if !self.ctx.runtime_states.worker_is_current(&self.uid) {
                        tracing::debug!(uid = %self.uid, "sync: the runtime changed");
                        return Some(metrics::POD_WORKER_SYNC);
                    }
                    tracing::debug!(uid = %self.uid, "sync: runtime change already acted on");
                }
                _ = tokio::time::sleep_until(deadline) => {
                    tracing::debug!(uid = %self.uid, "sync: timer");
                    return Some(metrics::POD_WORKER_SYNC);
                }
            }
        }
    }

    /// One pass toward the desired state. Returns when the worker should look again.
    async fn sync(
        &mut self,
        desired: &DesiredPod,
    ) -> Result<Option<Duration>, crate::cri::CriError> {
        let pod = &desired.pod;
        let began = Instant::now();
        // When the state in `rt` was read (at the latest): the relister compares it with
        // when it listed.
        let mut read_at = began;
        let mut rt = runtime::inspect(&self.ctx.runtime, &self.uid).await?;
        tracing::debug!(pod = %pod_key(pod), ms = began.elapsed().as_millis() as u64, "sync: inspected");
        if let Some(verdict) = self.ctx.eviction.verdict(&self.uid) {
            return self.end_with_verdict(desired, &rt, verdict).await;
        }
        if self.start_time.is_none() {
            self.start_time = pod
                .status
                .as_ref()
                .and_then(|s| s.start_time.clone())
                .or_else(|| Some(Time(k8s_openapi::jiff::Timestamp::now())));
        }
        let terminal = matches!(
            self.last_status
                .as_ref()
                .or(pod.status.as_ref())
                .and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        );
        let mut next: Option<Duration> = None;
        if terminal {
            self.stop_everything(pod, &rt, 0).await;
        } else {
            // Advance until a pass finds nothing to do (at most twice): the state read last
            // is then one the worker has acted on, and the relister need not wake it for
            // that state again.
            for pass in 1..=MAX_ADVANCE_PASSES {
                if !self.advance(pod, &mut rt, &mut next).await? {
                    self.ctx
                        .runtime_states
                        .record_acted_on(&self.uid, rt.fingerprint(), read_at);
                    break;
                }
                read_at = Instant::now();
                rt = runtime::inspect(&self.ctx.runtime, &self.uid).await?;
                tracing::trace!(pod = %pod_key(pod), pass, "sync: advanced");
            }
            self.read_termination_messages(pod, &rt);
            let running: Vec<(String, String, Option<chrono::DateTime<chrono::Utc>>)> = rt
                .ready_sandbox()
                .map(|s| {
                    rt.running()
                        .filter(|c| c.sandbox_id == s.id)
                        .map(|c| {
                            (
                                c.name.clone(),
                                c.id.clone(),
                                (c.started_at > 0)
                                    .then(|| chrono::DateTime::from_timestamp_nanos(c.started_at)),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            // Network probes need the pod IP, which the first syncs' API status may not
            // carry yet (and the worker is not woken by its own status patches): take it
            // from the sandbox.
            let sandbox_ip = rt.ready_sandbox().and_then(|s| s.ip.clone());
            let status_ip = pod.status.as_ref().and_then(|s| s.pod_ip.as_ref());
            if status_ip.is_none() && sandbox_ip.is_some() {
                let mut with_ip = pod.clone();
                with_ip.status.get_or_insert_with(Default::default).pod_ip = sandbox_ip;
                self.ctx.probes.sync_pod(&with_ip, &running);
            } else {
                self.ctx.probes.sync_pod(pod, &running);
            }
        }
        let status = self.status(pod, &rt);
        let now_terminal = matches!(status.phase.as_deref(), Some("Succeeded" | "Failed"));
        self.publish(desired, status).await;
        if now_terminal && !terminal {
            // Finished: stop the sandbox (nothing will run in it again).
            self.stop_everything(pod, &rt, 0).await;
        }
        self.prune(&rt).await;
        Ok(next)
    }

    /// The kubelet itself ended this pod (evicted, or rejected at admission): kill what
    /// runs, and report `Failed` with the verdict's reason and message.
    async fn end_with_verdict(
        &mut self,
        desired: &DesiredPod,
        rt: &PodRuntime,
        verdict: crate::eviction::Verdict,
    ) -> Result<Option<Duration>, crate::cri::CriError> {
        let pod = &desired.pod;
        self.ctx.probes.sync_pod(pod, &[]);
        let rt = if rt.running().next().is_some() || rt.ready_sandbox().is_some() {
            // Hard eviction does not wait out the grace period (upstream gives it 1 s).
            self.stop_everything(pod, rt, 1).await;
            runtime::inspect(&self.ctx.runtime, &self.uid).await?
        } else {
            rt.clone()
        };
        let mut status = self.status(pod, &rt);
        status.phase = Some("Failed".into());
        status.reason = Some(verdict.reason);
        status.message = Some(verdict.message);
        self.publish(desired, status).await;
        Ok(None)
    }

    fn status(&self, pod: &Pod, rt: &PodRuntime) -> PodStatus {
        let probes = &self.ctx.probes;
        let uid = self.uid.clone();
        let ready = |name: &str| probes.is_ready(&uid, name);
        let started = |name: &str| probes.is_started(&uid, name);
        status::compute(&StatusInputs {
            pod,
            runtime: rt,
            host_ip: &self.ctx.node_ip,
            waiting: &self.waiting,
            termination_messages: &self.termination_messages,
            ready: &ready,
            started: &started,
            start_time: self.start_time.clone(),
            runtime_name: &self.ctx.runtime_name,
        })
    }

    /// Takes the next steps; returns whether anything in the runtime changed.
    async fn advance(
        &mut self,
        pod: &Pod,
        rt: &mut PodRuntime,
        next: &mut Option<Duration>,
    ) -> Result<bool, crate::cri::CriError> {
        let spec = pod.spec.clone().unwrap_or_default();
        let restart_policy = spec
            .restart_policy
            .clone()
            .unwrap_or_else(|| "Always".into());
        let mut changed = false;

        // 1. A ready sandbox, with the volumes set up first.
        let sandbox = match rt.ready_sandbox().cloned() {
            Some(s) => s,
            None => {
                let ever_ran = !rt.containers.is_empty();
                if ever_ran && restart_policy == "Never" {
                    // The sandbox died under a pod that must not restart: nothing more to do.
                    return Ok(false);
                }
                self.stop_everything(pod, rt, 0).await;
                match self.ensure_volumes(pod, true).await {
                    Ok(()) => {}
                    Err(message) => {
                        self.ctx.recorder.pod_event(
                            pod,
                            None,
                            true,
                            "FailedMount",
                            message.clone(),
                        );
                        *next = Some(Duration::from_secs(5));
                        return Ok(changed);
                    }
                }
                let attempt = rt.sandboxes.first().map(|s| s.attempt + 1).unwrap_or(0);
                // The pod's cgroup exists, with its limits, before anything runs in it.
                if let Err(e) = self.ctx.cgroups.ensure_pod(pod) {
                    tracing::warn!(pod = %pod_key(pod), error = %e, "creating the pod's cgroup");
                    *next = Some(Duration::from_secs(2));
                    return Ok(changed);
                }
                let config = sandbox::config(
                    pod,
                    attempt,
                    self.ctx.cgroups.pod_cgroup(pod),
                    &self.ctx.logs_dir,
                    &self.ctx.dns,
                );
                let started = Instant::now();
                tracing::debug!(pod = %pod_key(pod), "RunPodSandbox");
                let result = self
                    .ctx
                    .runtime
                    .runtime
                    .clone()
                    .run_pod_sandbox(cri::RunPodSandboxRequest {
                        config: Some(config),
                        runtime_handler: String::new(),
                    })
                    .await;
                tracing::debug!(pod = %pod_key(pod), ms = started.elapsed().as_millis() as u64, "RunPodSandbox done");
                let id = match result {
                    Ok(r) => r.into_inner().pod_sandbox_id,
                    Err(status) => {
                        self.ctx.recorder.pod_event(
                            pod,
                            None,
                            true,
                            "FailedCreatePodSandBox",
                            format!("Failed to create pod sandbox: {}", status.message()),
                        );
                        *next = Some(Duration::from_secs(5));
                        return Ok(true);
                    }
                };
                changed = true;
                // Only the new sandbox changed: read it alone rather than the whole pod
                // again (the sync inspects everything once more after this pass).
                match runtime::sandbox(&self.ctx.runtime, &id).await? {
                    Some(s) if s.ready => {
                        rt.sandboxes.insert(0, s.clone());
                        s
                    }
                    _ => return Ok(changed),
                }
            }
        };
        if self
            .volumes_synced_at
            .is_none_or(|t| t.elapsed() >= VOLUME_REFRESH)
        {
            if let Err(message) = self.ensure_volumes(pod, false).await {
                self.ctx
                    .recorder
                    .pod_event(pod, None, true, "FailedMount", message);
            }
        }
        self.write_hosts_file(pod, &sandbox);

        // The app containers are done for good: stop the sidecars, last-declared first, and
        // start nothing more. The pod's phase follows once they have stopped.
        if sidecar::app_containers_finished(&spec, rt, &sandbox.id) {
            let running: Vec<&ContainerInfo> = rt
                .running()
                .filter(|c| c.sandbox_id == sandbox.id)
                .collect();
            for (c, info) in sidecar::running_sidecars_in_stop_order(&spec, &running) {
                self.kill_container(pod, c, info, grace_seconds(pod)).await;
                changed = true;
            }
            return Ok(changed);
        }

        // 2. Init containers, one at a time and in order. A sidecar lets the next one start
        // once it is up, and is kept running (without holding up the app containers once
        // they have been started in this sandbox).
        let app_started = spec
            .containers
            .iter()
            .any(|c| rt.latest(&sandbox.id, &c.name).is_some());
        for c in spec.init_containers.iter().flatten() {
            if sidecar::is_sidecar(c) {
                let (acted, up) = self.keep_sidecar(pod, c, &sandbox, rt, next).await;
                changed |= acted;
                if up || app_started {
                    continue;
                }
                return Ok(changed);
            }
            let current = rt.latest(&sandbox.id, &c.name).cloned();
            match current {
                Some(cur) if cur.is_running() => return Ok(changed),
                Some(cur) if cur.is_exited() && cur.exit_code == 0 => continue,
                Some(cur) if cur.is_exited() => {
                    if restart_policy == "Never" {
                        return Ok(changed);
                    }
                    if self
                        .restart(pod, c, ContainerType::Init, &sandbox, Some(&cur), rt, next)
                        .await
                    {
                        changed = true;
                    }
                    return Ok(changed);
                }
                Some(cur) => {
                    // Created but never started: start it over.
                    self.remove_container(&cur.id).await;
                    changed |= self
                        .start(pod, c, ContainerType::Init, &sandbox, cur.attempt + 1, next)
                        .await;
                    return Ok(changed);
                }
                None => {
                    let attempt = rt
                        .latest_anywhere(&c.name)
                        .map(|p| p.attempt + 1)
                        .unwrap_or(0);
                    changed |= self
                        .start(pod, c, ContainerType::Init, &sandbox, attempt, next)
                        .await;
                    return Ok(changed);
                }
            }
        }

        // 3. App containers.
        for c in &spec.containers {
            let current = rt.latest(&sandbox.id, &c.name).cloned();
            match current {
                Some(cur) if cur.is_running() => {
                    changed |= self
                        .kill_if_unhealthy(pod, c, ContainerType::App, &cur)
                        .await;
                }
                Some(cur) if cur.is_exited() => {
                    let restart = match restart_policy.as_str() {
                        "Always" => true,
                        "OnFailure" => cur.exit_code != 0,
                        _ => false,
                    };
                    if restart
                        && self
                            .restart(pod, c, ContainerType::App, &sandbox, Some(&cur), rt, next)
                            .await
                    {
                        changed = true;
                    }
                }
                Some(cur) => {
                    self.remove_container(&cur.id).await;
                    changed |= self
                        .start(pod, c, ContainerType::App, &sandbox, cur.attempt + 1, next)
                        .await;
                }
                None => {
                    let attempt = rt
                        .latest_anywhere(&c.name)
                        .map(|p| p.attempt + 1)
                        .unwrap_or(0);
                    changed |= self
                        .start(pod, c, ContainerType::App, &sandbox, attempt, next)
                        .await;
                }
            }
        }

        // 4. Ephemeral containers, each once, beside the app containers.
        for due in ephemeral::due(&spec, rt, &sandbox) {
            changed |= self.start_ephemeral(pod, &due, &sandbox, next).await;
        }
        Ok(changed)
    }

    /// Starts an ephemeral container in its target's process namespace; returns whether a
    /// container was created.
    async fn start_ephemeral(
        &mut self,
        pod: &Pod,
        due: &ephemeral::DueContainer,
        sandbox: &SandboxInfo,
        next: &mut Option<Duration>,
    ) -> bool {
        let launch = Launch {
            kind: ContainerType::Ephemeral,
            attempt: 0,
            target_id: due.target_id.as_deref(),
        };
        self.launch(pod, &due.container, launch, sandbox, next)
            .await
    }

    /// Kills a running container whose liveness (or startup) probe has failed or whose spec
    /// changed, so that it is started again; returns whether it did.
    async fn kill_if_unhealthy(
        &self,
        pod: &Pod,
        c: &Container,
        kind: ContainerType,
        cur: &ContainerInfo,
    ) -> bool {
        let spec_changed = cur
            .annotations
            .get(ANNOTATION_CONTAINER_HASH)
            .is_some_and(|h| *h != container_hash(c));
        let liveness = self
            .ctx
            .probes
            .liveness_failed(&self.uid, &c.name)
            .or_else(|| self.ctx.probes.startup_failed(&self.uid, &c.name));
        if !spec_changed && liveness.is_none() {
            return false;
        }
        let message = match &liveness {
            Some(reason) => {
                self.ctx.recorder.pod_event(
                    pod,
                    field_path(kind, &c.name),
                    true,
                    "Unhealthy",
                    reason.clone(),
                );
                format!(
                    "Container {} failed liveness probe, will be restarted",
                    c.name
                )
            }
            None => format!("Container {} definition changed, will be restarted", c.name),
        };
        self.ctx
            .recorder
            .pod_event(pod, field_path(kind, &c.name), false, "Killing", message);
        self.kill_container(pod, c, cur, grace_seconds(pod)).await;
        true
    }

    /// Keeps a sidecar running: starts it, restarts it (with back-off) whatever the pod's
    /// restartPolicy, and kills it when its probes say so. Returns (whether the runtime
    /// changed, whether the sidecar is up: running and started, so the init sequence may
    /// go on).
    async fn keep_sidecar(
        &mut self,
        pod: &Pod,
        c: &Container,
        sandbox: &SandboxInfo,
        rt: &PodRuntime,
        next: &mut Option<Duration>,
    ) -> (bool, bool) {
        let kind = ContainerType::Init;
        match rt.latest(&sandbox.id, &c.name).cloned() {
            Some(cur) if cur.is_running() => {
                if self.kill_if_unhealthy(pod, c, kind, &cur).await {
                    return (true, false);
                }
                // Without a startup probe a running sidecar has started; with one, the
                // probe's result wakes the worker when it passes.
                let started =
                    c.startup_probe.is_none() || self.ctx.probes.is_started(&self.uid, &c.name);
                (false, started)
            }
            Some(cur) if cur.is_exited() => {
                let started = self
                    .restart(pod, c, kind, sandbox, Some(&cur), rt, next)
                    .await;
                (started, false)
            }
            Some(cur) => {
                self.remove_container(&cur.id).await;
                let started = self
                    .start(pod, c, kind, sandbox, cur.attempt + 1, next)
                    .await;
                (started, false)
            }
            None => {
                let attempt = rt
                    .latest_anywhere(&c.name)
                    .map(|p| p.attempt + 1)
                    .unwrap_or(0);
                let started = self.start(pod, c, kind, sandbox, attempt, next).await;
                (started, false)
            }
        }
    }

    /// Restarts an exited container unless it is in back-off; returns whether it started.
    #[allow(clippy::too_many_arguments)]
    async fn restart(
        &mut self,
        pod: &Pod,
        c: &Container,
        kind: ContainerType,
        sandbox: &SandboxInfo,
        exited: Option<&ContainerInfo>,
        rt: &PodRuntime,
        next: &mut Option<Duration>,
    ) -> bool {
        let finished = exited
            .map(|e| SystemTime::UNIX_EPOCH + Duration::from_nanos(e.finished_at.max(0) as u64))
            .unwrap_or_else(SystemTime::now);
        let now = SystemTime::now();
        if let Some(wait) = self.backoff.remaining(&c.name, finished, now) {
            let delay = self.backoff.delay(&c.name);
            let message = format!(
                "back-off {} restarting failed container={} pod={}_{}({})",
                humanize(delay),
                c.name,
                pod.metadata.name.as_deref().unwrap_or_default(),
                pod.metadata.namespace.as_deref().unwrap_or_default(),
                self.uid
            );
            if self
                .waiting
                .get(&c.name)
                .is_none_or(|w| w.reason != "CrashLoopBackOff")
            {
                self.ctx.recorder.pod_event(
                    pod,
                    field_path(kind, &c.name),
                    true,
                    "BackOff",
                    "Back-off restarting failed container",
                );
            }
            self.waiting.insert(
                c.name.clone(),
                Waiting {
                    reason: "CrashLoopBackOff".into(),
                    message,
                },
            );
            *next = Some(next.map_or(wait, |n| n.min(wait)));
            return false;
        }
        let attempt = rt
            .latest_anywhere(&c.name)
            .map(|p| p.attempt + 1)
            .unwrap_or(0);
        self.backoff.restarted(&c.name, now);
        self.start(pod, c, kind, sandbox, attempt, next).await
    }

    /// Starts attempt `attempt` of an init or app container (see [`PodWorker::launch`]).
    async fn start(
        &mut self,
        pod: &Pod,
        c: &Container,
        kind: ContainerType,
        sandbox: &SandboxInfo,
        attempt: u32,
        next: &mut Option<Duration>,
    ) -> bool {
        let launch = Launch {
            kind,
            attempt,
            target_id: None,
        };
        self.launch(pod, c, launch, sandbox, next).await
    }

    /// Pulls (per policy), creates and starts one container; failures become the container's
    /// waiting reason and an event. Returns whether a container was created.
    async fn launch(
        &mut self,
        pod: &Pod,
        c: &Container,
        launch: Launch<'_>,
        sandbox: &SandboxInfo,
        next: &mut Option<Duration>,
    ) -> bool {
        let Launch {
            kind,
            attempt,
            target_id,
        } = launch;
        let fp = field_path(kind, &c.name);
        let began = Instant::now();
        if let Err(w) = super::images::ensure(&self.ctx, pod, c, fp.clone()).await {
            self.waiting.insert(c.name.clone(), w);
            retry_soon(next);
            return false;
        }
        let env_ctx = env::EnvContext {
            client: &self.ctx.client,
            pod_ip: sandbox.ip.as_deref(),
            host_ip: &self.ctx.node_ip,
            node_cpu_millis: self.ctx.cpu_capacity_millis,
            node_memory_bytes: self.ctx.memory_capacity,
        };
        let env = match env::resolve(pod, c, &env_ctx).await {
            Ok(env) => env,
            Err(e) => {
                self.hold(
                    pod,
                    fp,
                    c,
                    "CreateContainerConfigError",
                    e.to_string(),
                    next,
                );
                return false;
            }
        };
        let mut mounts = match self.volumes.as_ref().map(|v| v.container_mounts(c, &env)) {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                self.hold(
                    pod,
                    fp,
                    c,
                    "CreateContainerConfigError",
                    e.to_string(),
                    next,
                );
                return false;
            }
            None => Vec::new(),
        };
        mounts.extend(self.managed_mounts(pod, c, attempt));
        let mut config = container::config(
            pod,
            c,
            ContainerInputs {
                kind,
                attempt,
                env: &env,
                mounts,
                memory_capacity: self.ctx.memory_capacity,
                target_id,
            },
        );
        config
            .annotations
            .insert(ANNOTATION_CONTAINER_HASH.into(), container_hash(c));
        let sandbox_config = sandbox::config(
            pod,
            sandbox.attempt,
            self.ctx.cgroups.pod_cgroup(pod),
            &self.ctx.logs_dir,
            &self.ctx.dns,
        );
        let mut rt = self.ctx.runtime.runtime.clone();
        tracing::debug!(pod = %pod_key(pod), container = %c.name, ms = began.elapsed().as_millis() as u64, "CreateContainer");
        let created = rt
            .create_container(cri::CreateContainerRequest {
                pod_sandbox_id: sandbox.id.clone(),
                config: Some(config),
                sandbox_config: Some(sandbox_config),
            })
            .await;
        let id = match created {
            Ok(r) => r.into_inner().container_id,
            Err(status) => {
                self.hold(
                    pod,
                    fp,
                    c,
                    "CreateContainerError",
                    status.message().to_string(),
                    next,
                );
                return false;
            }
        };
        self.ctx.recorder.pod_event(
            pod,
            fp.clone(),
            false,
            "Created",
            format!("Created container {}", c.name),
        );
        if let Err(status) = rt
            .start_container(cri::StartContainerRequest {
                container_id: id.clone(),
            })
            .await
        {
            self.hold(
                pod,
                fp,
                c,
                "RunContainerError",
                status.message().to_string(),
                next,
            );
            return true;
        }
        tracing::debug!(pod = %pod_key(pod), container = %c.name, ms = began.elapsed().as_millis() as u64, "StartContainer done");
        self.ctx.recorder.pod_event(
            pod,
            fp.clone(),
            false,
            "Started",
            format!("Started container {}", c.name),
        );
        self.waiting.remove(&c.name);
        if let Some(handler) = c.lifecycle.as_ref().and_then(|l| l.post_start.as_ref()) {
            if let Err(message) =
                hooks::run(&self.ctx, handler, &id, sandbox.ip.as_deref(), c, 30).await
            {
                self.ctx
                    .recorder
                    .pod_event(pod, fp.clone(), true, "FailedPostStartHook", message);
                let info = ContainerInfo {
                    id: id.clone(),
                    name: c.name.clone(),
                    ..Default::default()
                };
                self.kill_container(pod, c, &info, grace_seconds(pod)).await;
            }
        }
        true
    }

    /// A container could not be started: report it (event and waiting reason) and look again
    /// soon.
    fn hold(
        &mut self,
        pod: &Pod,
        fp: Option<String>,
        c: &Container,
        reason: &str,
        message: String,
        next: &mut Option<Duration>,
    ) {
        self.ctx
            .recorder
            .pod_event(pod, fp, true, "Failed", format!("Error: {message}"));
        self.waiting.insert(
            c.name.clone(),
            Waiting {
                reason: reason.into(),
                message,
            },
        );
        retry_soon(next);
    }

    /// Kubelet-managed files mounted into every container: /etc/hosts and the termination log.
    fn managed_mounts(&self, pod: &Pod, c: &Container, attempt: u32) -> Vec<cri::Mount> {
        let mut mounts = Vec::new();
        let dir = self.ctx.pod_dir(&self.uid);
        let host_network = pod
            .spec
            .as_ref()
            .and_then(|s| s.host_network)
            .unwrap_or(false);
        let hosts = dir.join("etc-hosts");
        let mounts_etc_hosts = c
            .volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == "/etc/hosts");
        if !host_network && !mounts_etc_hosts && hosts.exists() {
            mounts.push(cri::Mount {
                container_path: "/etc/hosts".into(),
                host_path: hosts.to_string_lossy().into_owned(),
                ..Default::default()
            });
        }
        let log = termination_log_path(&dir, &c.name, attempt);
        if let Some(parent) = log.parent() {
            if std::fs::create_dir_all(parent).is_ok() && std::fs::write(&log, b"").is_ok() {
                mounts.push(cri::Mount {
                    container_path: c
                        .termination_message_path
                        .clone()
                        .unwrap_or_else(|| "/dev/termination-log".into()),
                    host_path: log.to_string_lossy().into_owned(),
                    ..Default::default()
                });
            }
        }
        mounts
    }

    fn write_hosts_file(&self, pod: &Pod, sandbox: &SandboxInfo) {
        let dir = self.ctx.pod_dir(&self.uid);
        let text = network::hosts_file(pod, sandbox.ip.as_deref(), &self.ctx.dns.cluster_domain);
        let path = dir.join("etc-hosts");
        if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
            return;
        }
        let _ = std::fs::create_dir_all(&dir);
        if let Err(e) = std::fs::write(&path, text) {
            tracing::warn!(path = %path.display(), error = %e, "writing the pod's hosts file");
        }
    }

    /// Reads the termination message of every exited container once.
    fn read_termination_messages(&mut self, pod: &Pod, rt: &PodRuntime) {
        let dir = self.ctx.pod_dir(&self.uid);
        let spec = pod.spec.clone().unwrap_or_default();
        for info in rt.containers.iter().filter(|c| c.is_exited()) {
            if self.termination_messages.contains_key(&info.id) {
                continue;
            }
            let policy = spec
                .containers
                .iter()
                .chain(spec.init_containers.iter().flatten())
                .find(|c| c.name == info.name)
                .and_then(|c| c.termination_message_policy.clone())
                .unwrap_or_else(|| "File".into());
            let mut message =
                std::fs::read_to_string(termination_log_path(&dir, &info.name, info.attempt))
                    .map(|m| m.chars().take(4096).collect::<String>())
                    .unwrap_or_default();
            if message.is_empty() && policy == "FallbackToLogsOnError" && info.exit_code != 0 {
                message = hooks::log_tail(&info.log_path, 80, 2048);
            }
            self.termination_messages.insert(info.id.clone(), message);
        }
    }

    async fn ensure_volumes(&mut self, pod: &Pod, force: bool) -> Result<(), String> {
        if !force
            && self.volumes.is_some()
            && self
                .volumes_synced_at
                .is_some_and(|t| t.elapsed() < VOLUME_REFRESH)
        {
            return Ok(());
        }
        match self.ctx.volumes.setup(pod).await {
            Ok(v) => {
                self.volumes = Some(v);
                self.volumes_synced_at = Some(Instant::now());
                Ok(())
            }
            Err(e) => Err(format!("MountVolume.SetUp failed: {e}")),
        }
    }

    /// Stops a container: preStop hook, then SIGTERM and SIGKILL after the grace period.
    async fn kill_container(&self, pod: &Pod, c: &Container, info: &ContainerInfo, grace: i64) {
        let started = Instant::now();
        if let Some(handler) = c.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref()) {
            if grace > 0 {
                if let Err(message) = hooks::run(&self.ctx, handler, &info.id, None, c, grace).await
                {
                    self.ctx.recorder.pod_event(
                        pod,
                        field_path(ContainerType::App, &c.name),
                        true,
                        "FailedPreStopHook",
                        message,
                    );
                }
            }
        }
        let remaining =
            (grace - started.elapsed().as_secs() as i64).max(if grace > 0 { 2 } else { 0 });
        let result = self
            .ctx
            .runtime
            .runtime
            .clone()
            .stop_container(cri::StopContainerRequest {
                container_id: info.id.clone(),
                timeout: remaining,
            })
            .await;
        if let Err(status) = result {
            if status.code() != tonic::Code::NotFound {
                tracing::warn!(container = %info.id, error = %status.message(), "stopping container");
            }
        }
    }

    /// Stops every running container (gracefully, in parallel) and every sandbox of the pod.
    /// Sidecars stop after the other containers, one by one and last-declared first, within
    /// what is left of the grace period.
    async fn stop_everything(&self, pod: &Pod, rt: &PodRuntime, grace: i64) {
        let spec = pod.spec.clone().unwrap_or_default();
        let spec_of = |info: &ContainerInfo| {
            spec.containers
                .iter()
                .chain(spec.init_containers.iter().flatten())
                .find(|c| c.name == info.name)
                .cloned()
                .unwrap_or_else(|| Container {
                    name: info.name.clone(),
                    ..Default::default()
                })
        };
        let began = Instant::now();
        let running: Vec<&ContainerInfo> = rt.running().collect();
        let sidecars = sidecar::running_sidecars_in_stop_order(&spec, &running);
        let kills = running
            .iter()
            .filter(|info| !sidecars.iter().any(|(_, s)| s.id == info.id))
            .map(|info| {
                let c = spec_of(info);
                async move { self.kill_container(pod, &c, info, grace).await }
            });
        futures::future::join_all(kills).await;
        for (c, info) in sidecars {
            let left = grace - began.elapsed().as_secs() as i64;
            let left = if grace > 0 { left.max(1) } else { 0 };
            self.kill_container(pod, c, info, left).await;
        }
        for s in rt.sandboxes.iter().filter(|s| s.ready) {
            let result = self
                .ctx
                .runtime
                .runtime
                .clone()
                .stop_pod_sandbox(cri::StopPodSandboxRequest {
                    pod_sandbox_id: s.id.clone(),
                })
                .await;
            if let Err(status) = result {
                tracing::warn!(sandbox = %s.id, error = %status.message(), "stopping sandbox");
            }
        }
    }

    async fn remove_container(&self, id: &str) {
        let result = self
            .ctx
            .runtime
            .runtime
            .clone()
            .remove_container(cri::RemoveContainerRequest {
                container_id: id.to_string(),
            })
            .await;
        if let Err(status) = result {
            if status.code() != tonic::Code::NotFound {
                tracing::warn!(container = %id, error = %status.message(), "removing container");
            }
        }
    }

    /// Garbage: per container name keep the current and the previous attempt (for
    /// `logs --previous`); drop older attempts and sandboxes that hold nothing we keep.
    async fn prune(&self, rt: &PodRuntime) {
        let mut kept: HashMap<&str, usize> = HashMap::new();
        let mut keep_sandboxes: Vec<&str> = rt
            .sandboxes
            .first()
            .map(|s| vec![s.id.as_str()])
            .unwrap_or_default();
        for c in &rt.containers {
            let n = kept.entry(c.name.as_str()).or_default();
            *n += 1;
            if *n > 2 && c.is_exited() {
                self.remove_container(&c.id).await;
            } else {
                keep_sandboxes.push(c.sandbox_id.as_str());
            }
        }
        for s in rt
            .sandboxes
            .iter()
            .filter(|s| !s.ready && !keep_sandboxes.contains(&s.id.as_str()))
        {
            let _ = self
                .ctx
                .runtime
                .runtime
                .clone()
                .remove_pod_sandbox(cri::RemovePodSandboxRequest {
                    pod_sandbox_id: s.id.clone(),
                })
                .await;
        }
    }

    /// Graceful deletion: stop everything within the grace period, report the final status,
    /// then delete the pod from the API (grace 0), which ends this worker.
    async fn terminate(&mut self, desired: &DesiredPod) {
        let pod = &desired.pod;
        let rt = match runtime::inspect(&self.ctx.runtime, &self.uid).await {
            Ok(rt) => rt,
            Err(e) => {
                tracing::warn!(pod = %pod_key(pod), error = %e, "inspecting a terminating pod");
                return;
            }
        };
        if rt.running().next().is_some() || rt.sandboxes.iter().any(|s| s.ready) {
            for c in rt.running() {
                self.ctx.recorder.pod_event(
                    pod,
                    field_path(ContainerType::App, &c.name),
                    false,
                    "Killing",
                    format!("Stopping container {}", c.name),
                );
            }
            self.stop_everything(pod, &rt, grace_seconds(pod)).await;
        }
        self.ctx.probes.remove_pod(&self.uid);
        let rt = runtime::inspect(&self.ctx.runtime, &self.uid)
            .await
            .unwrap_or(rt);
        let status = self.status(pod, &rt);
        self.publish(desired, status).await;
        if desired.source == PodSource::Api && !self.deleted_in_api {
            let api: Api<Pod> = Api::namespaced(
                self.ctx.client.clone(),
                pod.metadata.namespace.as_deref().unwrap_or("default"),
            );
            let params = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(Preconditions {
                    uid: pod.metadata.uid.clone(),
                    resource_version: None,
                }),
                ..Default::default()
            };
            match api
                .delete(pod.metadata.name.as_deref().unwrap_or_default(), &params)
                .await
            {
                Ok(_) => self.deleted_in_api = true,
                Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {
                    self.deleted_in_api = true
                }
                Err(e) => {
                    tracing::warn!(pod = %pod_key(pod), error = %e, "deleting a terminated pod")
                }
            }
        }
    }

    /// The pod is gone: remove its containers, sandboxes and directory.
    async fn cleanup(&mut self) {
        self.ctx.probes.remove_pod(&self.uid);
        remove_pod_from_runtime(&self.ctx, &self.uid, self.last_pod.as_ref()).await;
    }

    /// Posts the status when it changed since the last post.
    async fn publish(&mut self, desired: &DesiredPod, status: PodStatus) {
        if self.last_status.as_ref() == Some(&status) {
            return;
        }
        let pod = &desired.pod;
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), namespace);
        let patch = serde_json::json!({ "status": status });
        let began = Instant::now();
        let result = api
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await;
        tracing::debug!(pod = %pod_key(pod), phase = ?status.phase, ms = began.elapsed().as_millis() as u64, "status patched");
        match result {
            Ok(_) => self.last_status = Some(status),
            // A static pod's mirror may not exist yet: keep the status, post it next time.
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => tracing::warn!(pod = %pod_key(pod), error = %e, "posting pod status"),
        }
    }
}

/// Kills and removes everything the runtime holds for a pod uid, then its directory. Used
/// for pods that left this node, including those deleted while the kubelet was down.
pub async fn remove_pod_from_runtime(ctx: &KubeletContext, uid: &str, pod: Option<&Pod>) {
    let rt = match runtime::inspect(&ctx.runtime, uid).await {
        Ok(rt) => rt,
        Err(e) => {
            tracing::warn!(uid, error = %e, "inspecting a removed pod");
            return;
        }
    };
    let grace = pod.map(grace_seconds).unwrap_or(2).min(30);
    let mut client = ctx.runtime.runtime.clone();
    let stops = rt.running().map(|c| {
        let mut client = client.clone();
        let id = c.id.clone();
        async move {
            let _ = client
                .stop_container(cri::StopContainerRequest {
                    container_id: id,
                    timeout: grace,
                })
                .await;
        }
    });
    futures::future::join_all(stops).await;
    for c in &rt.containers {
        let _ = client
            .remove_container(cri::RemoveContainerRequest {
                container_id: c.id.clone(),
            })
            .await
            .map_err(call_error("RemoveContainer"));
    }
    for s in &rt.sandboxes {
        let _ = client
            .stop_pod_sandbox(cri::StopPodSandboxRequest {
                pod_sandbox_id: s.id.clone(),
            })
            .await;
        let _ = client
            .remove_pod_sandbox(cri::RemovePodSandboxRequest {
                pod_sandbox_id: s.id.clone(),
            })
            .await;
    }
    remove_pod_cgroup(ctx, uid).await;
    if let Err(e) = ctx.volumes.teardown(uid).await {
        tracing::warn!(uid, error = %e, "tearing down volumes");
    }
    if let Some(pod) = pod {
        let _ = std::fs::remove_dir_all(sandbox::log_directory(pod, &ctx.logs_dir));
    }
    tracing::info!(uid, "removed pod from the runtime");
}

/// Removes the pod's cgroup. The runtime removes its containers' cgroups as it deletes them,
/// which may trail the CRI answer a little: a busy cgroup is tried again a few times.
async fn remove_pod_cgroup(ctx: &KubeletContext, uid: &str) {
    let mut last = None;
    for _ in 0..10 {
        match ctx.cgroups.remove_pod(uid) {
            Ok(()) => return,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if let Some(e) = last {
        tracing::warn!(uid, error = %e, "removing the pod's cgroup");
    }
}

/// Wake the worker again within 5 s (a failed start is retried, as upstream's sync loop does).
fn retry_soon(next: &mut Option<Duration>) {
    *next = Some(next.map_or(Duration::from_secs(5), |n| n.min(Duration::from_secs(5))));
}

fn termination_log_path(pod_dir: &std::path::Path, name: &str, attempt: u32) -> std::path::PathBuf {
    pod_dir
        .join("containers")
        .join(name)
        .join(format!("termination-{attempt}"))
}

pub fn pod_key(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

/// "10s", "1m20s", "5m0s" — the way upstream prints back-off durations.
fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else {
        format!("{}m{}s", s / 60, s % 60)
    }
}
