//! The scheduling cycle: pop a pod, filter and score the nodes of a fresh snapshot, assume
//! the pod on the best node and bind it in the background; or record why it fits nowhere.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Client, Resource};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::cache::{pod_key, SchedulerCache};
use crate::events::EventSink;
use crate::framework::feasible_nodes::num_feasible_nodes_to_find;
use crate::framework::fit_error::fit_error_message;
use crate::framework::preemption::{eligible, find_candidate, Candidate, PreemptionContext};
use crate::framework::runtime::Framework;
use crate::informers::{Informers, Responsibility};
use crate::metrics::Metrics;
use crate::queue::{QueuedPod, SchedulingQueue};

/// What a cycle decided for a pod.
enum Decision {
    /// Bind to this node (Reserve plugins have reserved what the pod needs there).
    Bind(String),
    /// A Reserve plugin failed on the chosen node: retry after backoff.
    ReserveFailed(String),
    /// Fits nowhere: the FailedScheduling message, and the preemption to carry out.
    Unschedulable {
        message: String,
        preemption: Option<(String, Candidate)>,
    },
}

/// `PodScheduled=False` reason when no node fits (upstream's `PodReasonUnschedulable`).
const REASON_UNSCHEDULABLE: &str = "Unschedulable";
/// `PodScheduled=False` reason when Reserve or PreBind failed (upstream's
/// `PodReasonSchedulerError`).
const REASON_SCHEDULER_ERROR: &str = "SchedulerError";

/// Bindings in flight at once (each is one POST; more would only queue in the apiserver).
pub const MAX_BINDINGS_IN_FLIGHT: usize = 64;

/// Everything the cycle needs.
pub struct Scheduler {
    /// API client.
    pub client: Client,
    /// One framework per profile, by `schedulerName`.
    pub profiles: HashMap<String, Arc<Framework>>,
    /// Pending pods.
    pub queue: Arc<SchedulingQueue>,
    /// Nodes with their bound and assumed pods.
    pub cache: SchedulerCache,
    /// The global `percentageOfNodesToScore` (None or 0: adaptive).
    pub percentage_of_nodes_to_score: Option<i32>,
    /// Where the next cycle's filtering starts (upstream's `nextStartNodeIndex`).
    pub next_start_node_index: AtomicUsize,
    /// Permits for bindings in flight.
    pub bind_slots: Arc<Semaphore>,
    /// Pod and node stores.
    pub informers: Informers,
    /// Which pods are ours.
    pub responsibility: Responsibility,
    /// Events (events.k8s.io/v1, as upstream), recorded in the background.
    pub events: EventSink,
    /// Metrics.
    pub metrics: Metrics,
}

impl Scheduler {
    /// Schedule pods one at a time, forever.
    pub async fn run(self: Arc<Self>) {
        loop {
            let qp = self.queue.pop().await;
            self.schedule_one(qp).await;
        }
    }

    async fn schedule_one(self: &Arc<Self>, qp: QueuedPod) {
        let start = Instant::now();
        let Some((ns, name)) = qp.key.split_once('/') else {
            self.queue.done(&qp.key);
            return;
        };
        let Some(pod) = self.informers.pods.get(&ObjectRef::new(name).within(ns)) else {
            self.queue.done(&qp.key);
            return;
        };
        if !self.responsibility.wants(&pod) || self.cache.is_assumed(&qp.key) {
            self.queue.done(&qp.key);
            return;
        }
        let profile_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduler_name.clone())
            .unwrap_or_else(|| "default-scheduler".into());
        let Some(framework) = self.profiles.get(&profile_name).cloned() else {
            self.queue.done(&qp.key);
            return;
        };
        let decision = self.decide(&framework, &pod);
        match decision {
            Decision::Bind(node) => {
                self.metrics
                    .algorithm_duration
                    .observe(start.elapsed().as_secs_f64());
                tracing::debug!(pod = %qp.key, %node, "node chosen");
                self.cache.assume(&pod, &node);
                let this = self.clone();
                tokio::spawn(async move {
                    // Bounded: thousands of bindings at once would each open a connection.
                    let Ok(_slot) = this.bind_slots.clone().acquire_owned().await else {
                        return;
                    };
                    this.binding_cycle(qp, pod, node, &framework, start).await
                });
            }
            Decision::ReserveFailed(message) => {
                self.metrics
                    .observe_attempt("error", &profile_name, start.elapsed().as_secs_f64());
                tracing::warn!(pod = %qp.key, %message, "reserve failed; retrying after backoff");
                self.queue.add_backoff(qp);
                let this = self.clone();
                tokio::spawn(async move {
                    this.report_failure(&pod, REASON_SCHEDULER_ERROR, &message)
                        .await
                });
            }
            Decision::Unschedulable {
                message,
                preemption,
            } => {
                self.metrics.observe_attempt(
                    "unschedulable",
                    &profile_name,
                    start.elapsed().as_secs_f64(),
                );
                tracing::info!(pod = %qp.key, %message, "unable to schedule pod");
                self.queue.add_unschedulable(qp);
                let this = self.clone();
                tokio::spawn(async move {
                    if let Some((node, candidate)) = preemption {
                        this.preempt(&pod, &node, candidate).await;
                    }
                    this.report_failure(&pod, REASON_UNSCHEDULABLE, &message)
                        .await
                });
            }
        }
    }

    /// The synchronous part of a cycle, under the cache's read lock: filter (up to
    /// `percentageOfNodesToScore`), score, pick; or explain and find preemption victims.
    fn decide(&self, framework: &Framework, pod: &Pod) -> Decision {
        let state = self.cache.read();
        let nodes = state.nodes();
        let wanted = num_feasible_nodes_to_find(
            framework
                .percentage_of_nodes_to_score
                .or(self.percentage_of_nodes_to_score),
            nodes.len(),
        );
        let start = self.next_start_node_index.load(Ordering::Relaxed) % nodes.len().max(1);
        let found = framework.find_feasible_from(
            pod,
            nodes,
            Some(state.label_index()),
            Some(state.nominated()),
            start,
            wanted,
        );
        self.next_start_node_index.store(
            (start + found.processed) % nodes.len().max(1),
            Ordering::Relaxed,
        );
        if let Some(i) =
            framework.select_host(pod, nodes, &found.feasible, Some(state.label_index()))
        {
            // Reserve while the snapshot is held, so the next cycle sees the reservation.
            return match framework.reserve(pod, &nodes[i]) {
                Ok(()) => Decision::Bind(nodes[i].name().to_string()),
                Err(message) => Decision::ReserveFailed(message),
            };
        }
        // PostFilter: make room by evicting lower-priority pods. The preemptor waits in the
        // unschedulable queue; the victims' deletion brings it back.
        let mut diagnosis = found.diagnosis;
        if !framework.preemption {
            diagnosis.preemption_disabled = true;
            return Decision::Unschedulable {
                message: fit_error_message(pod, nodes.len(), &diagnosis),
                preemption: None,
            };
        }
        let pdbs = self.informers.pdbs.state();
        let ctx = PreemptionContext {
            pdbs: &pdbs,
            nominated: Some(state.nominated()),
        };
        let preemption = find_candidate(framework, pod, nodes, &diagnosis, ctx)
            .map(|c| (nodes[c.node].name().to_string(), c));
        diagnosis.nominated = preemption.is_some();
        diagnosis.waiting_for_victims =
            preemption.is_none() && eligible_policy(pod) && !eligible(pod, nodes);
        Decision::Unschedulable {
            message: fit_error_message(pod, nodes.len(), &diagnosis),
            preemption,
        }
    }

    /// Upstream's binding cycle: PreBind (volumes), then the binding; either failing
    /// forgets the pod, undoes its reservations and retries it after backoff.
    async fn binding_cycle(
        &self,
        qp: QueuedPod,
        pod: Arc<Pod>,
        node: String,
        framework: &Framework,
        start: Instant,
    ) {
        let profile = framework.profile_name.clone();
        if let Err(message) = framework.pre_bind(&self.client, &pod, &node).await {
            tracing::warn!(pod = %qp.key, %node, %message, "prebind failed; retrying after backoff");
            self.metrics
                .observe_attempt("error", &profile, start.elapsed().as_secs_f64());
            framework.unreserve(&pod);
            self.cache.forget(&pod_key(&pod));
            self.queue.add_backoff(qp);
            self.report_failure(&pod, REASON_SCHEDULER_ERROR, &message)
                .await;
            return;
        }
        self.bind(qp, pod.clone(), node, profile, start).await;
        // Bound or not, what PreBind wrote is in the API (and the informers) by now.
        framework.unreserve(&pod);
    }

    /// POST pods/<name>/binding; on failure the pod is forgotten and retried after backoff.
    async fn bind(
        &self,
        qp: QueuedPod,
        pod: Arc<Pod>,
        node: String,
        profile: String,
        start: Instant,
    ) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let binding = json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name, "namespace": ns, "uid": pod.metadata.uid},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        let result: Result<serde_json::Value, kube::Error> = api
            .create_subresource("binding", &name, &PostParams::default(), &binding)
            .await;
        match result {
            Ok(_) => {
                self.metrics
                    .observe_attempt("scheduled", &profile, start.elapsed().as_secs_f64());
                self.queue.done(&qp.key);
                tracing::info!(pod = %qp.key, %node, "successfully bound pod to node");
                let note = format!("Successfully assigned {ns}/{name} to {node}");
                self.publish(&pod, EventType::Normal, "Scheduled", "Binding", note);
            }
            Err(e) => {
                tracing::warn!(pod = %qp.key, error = %e, "binding failed; retrying after backoff");
                self.metrics
                    .observe_attempt("error", &profile, start.elapsed().as_secs_f64());
                self.cache.forget(&pod_key(&pod));
                self.queue.add_backoff(qp);
            }
        }
    }

    /// Nominate `node` for the preemptor (`status.nominatedNodeName`) and delete the
    /// victims gracefully, each with a `Preempted` event.
    async fn preempt(&self, pod: &Pod, node: &str, candidate: Candidate) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let patch = json!({"status": {"nominatedNodeName": node}});
        if let Err(e) = api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await
        {
            tracing::warn!(pod = %pod_key(pod), error = %e, "setting nominatedNodeName failed");
            return;
        }
        tracing::info!(
            preemptor = %pod_key(pod),
            %node,
            victims = candidate.victims.len(),
            pdb_violations = candidate.pdb_violations,
            "preemption candidate chosen"
        );
        for victim in candidate.victims {
            let vns = victim.metadata.namespace.clone().unwrap_or_default();
            let vname = victim.metadata.name.clone().unwrap_or_default();
            tracing::info!(preemptor = %pod_key(pod), victim = %pod_key(&victim), %node, "preempting");
            let note = format!("Preempted by {ns}/{name} on node {node}");
            self.publish(&victim, EventType::Normal, "Preempted", "Preempting", note);
            let vapi: Api<Pod> = Api::namespaced(self.client.clone(), &vns);
            if let Err(e) = vapi.delete(&vname, &DeleteParams::default()).await {
                tracing::warn!(victim = %pod_key(&victim), error = %e, "deleting preemption victim failed");
            }
        }
    }

    /// Set `PodScheduled=False` with `reason` (only when it changes, to spare the
    /// apiserver) and record a FailedScheduling event.
    async fn report_failure(&self, pod: &Pod, reason: &str, message: &str) {
        let current = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled"));
        let unchanged = current.is_some_and(|c| {
            c.status == "False"
                && c.reason.as_deref() == Some(reason)
                && c.message.as_deref() == Some(message)
        });
        if !unchanged {
            let transition = match current {
                Some(c) if c.status == "False" => {
                    c.last_transition_time.as_ref().map(|t| t.0.to_string())
                }
                _ => None,
            }
            .unwrap_or_else(now_rfc3339);
            let patch = json!({"status": {"conditions": [{
                "type": "PodScheduled",
                "status": "False",
                "reason": reason,
                "message": message,
                "lastProbeTime": null,
                "lastTransitionTime": transition,
            }]}});
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
            let name = pod.metadata.name.clone().unwrap_or_default();
            if let Err(e) = api
                .patch_status(&name, &PatchParams::default(), &Patch::Strategic(patch))
                .await
            {
                tracing::warn!(pod = %pod_key(pod), error = %e, "updating the PodScheduled condition failed");
            }
        }
        self.publish(
            pod,
            EventType::Warning,
            "FailedScheduling",
            "Scheduling",
            message.to_string(),
        );
    }

    fn publish(&self, pod: &Pod, type_: EventType, reason: &str, action: &str, note: String) {
        let event = Event {
            type_,
            reason: reason.to_string(),
            note: Some(note),
            action: action.to_string(),
            secondary: None,
        };
        self.events.emit(event, pod.object_ref(&()));
    }
}

/// Whether `preemptionPolicy` allows preempting (it has its own FailedScheduling text).
fn eligible_policy(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.preemption_policy.as_deref())
        != Some("Never")
}

/// Now as RFC 3339 with second precision (metav1.Time's wire format).
fn now_rfc3339() -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    k8s_openapi::jiff::Timestamp::from_second(now.as_second())
        .unwrap_or(now)
        .to_string()
}
