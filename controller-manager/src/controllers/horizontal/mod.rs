//! The HorizontalPodAutoscaler controller (upstream's `pkg/controller/podautoscaler`),
//! autoscaling/v2; autoscaling/v1 objects are the same objects (the apiserver converts), so
//! they are handled too.
//!
//! Every `--horizontal-pod-autoscaler-sync-period` (15 s) each HPA is reconciled: the
//! target's `scale` subresource gives the current count and the pod selector; each metric
//! proposes a count ([`compute`]: resource metrics are PodMetrics from
//! `metrics.k8s.io/v1beta1`, see [`metrics`]; Pods and Object metrics come from
//! `custom.metrics.k8s.io/v1beta2` and External metrics from `external.metrics.k8s.io/v1beta1`,
//! see [`custom_metrics`]; the math is [`replica_calculator`] and [`object_replicas`]), the
//! largest proposal wins, [`normalize`]
//! stabilizes and rate-limits it, and the scale is written when it changed. Status
//! (counts, current metrics, conditions) is written when it changed; rescales and failures
//! are events as upstream words them.
//!
//! The custom and external metrics APIs are aggregated APIs served by an adapter; without
//! one those metrics fail as upstream's do (FailedGetPodsMetric, FailedGetObjectMetric,
//! FailedGetExternalMetric) and the HPA stays on its other metrics.

pub mod compute;
pub mod custom_metrics;
pub mod metrics;
pub mod normalize;
pub mod object_replicas;
pub mod replica_calculator;
pub mod status;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::events::{self, EventType, Recorder};
use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, MetricStatus,
};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use normalize::History;
use status::set_condition;

/// The controller's tunables (upstream's flags).
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// `--horizontal-pod-autoscaler-sync-period`.
    pub sync_period: Duration,
    /// `--horizontal-pod-autoscaler-downscale-stabilization`.
    pub downscale_stabilization: Duration,
    /// Tolerance and readiness delays of the replica calculation.
    pub calc: replica_calculator::Config,
}

/// Why one sync failed (it is retried at the next period).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    #[error("HorizontalPodAutoscaler has no namespace")]
    NoNamespace,
    #[error("{0}")]
    Reconcile(String),
}

struct Context {
    client: Client,
    config: Config,
    recorder: Recorder,
    history: Mutex<History>,
}

/// Run until the watch stream ends.
pub async fn run(client: Client, config: Config) {
    let hpas: Api<HorizontalPodAutoscaler> = Api::all(client.clone());
    let recorder = Recorder::new(client.clone(), "horizontal-pod-autoscaler");
    let ctx = Arc::new(Context {
        client,
        config,
        recorder,
        history: Mutex::new(History::default()),
    });
    let results =
        Controller::new(hpas, watcher::Config::default()).run(reconcile, error_policy, ctx);
    super::drain("horizontalpodautoscaling", results).await;
}

fn error_policy(_hpa: Arc<HorizontalPodAutoscaler>, _err: &Error, ctx: Arc<Context>) -> Action {
    // As upstream, a failed HPA is simply looked at again at the next period.
    Action::requeue(ctx.config.sync_period)
}

/// The current time, Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    k8s_openapi::jiff::Timestamp::now().as_millisecond()
}

/// The API resource of a `scaleTargetRef` kind: the workload kinds directly, anything
/// else (a custom resource with a scale subresource) through discovery.
async fn target_resource(
    client: &Client,
    api_version: &str,
    kind: &str,
) -> Result<ApiResource, kube::Error> {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let plural = match (group, kind) {
        ("apps", "Deployment") => Some("deployments"),
        ("apps", "ReplicaSet") => Some("replicasets"),
        ("apps", "StatefulSet") => Some("statefulsets"),
        ("", "ReplicationController") => Some("replicationcontrollers"),
        _ => None,
    };
    let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
    match plural {
        Some(p) => Ok(ApiResource::from_gvk_with_plural(&gvk, p)),
        None => Ok(kube::discovery::pinned_kind(client, &gvk).await?.0),
    }
}

/// What the metrics of one sync concluded.
struct MetricsOutcome {
    replicas: i32,
    metric: String,
    statuses: Vec<MetricStatus>,
}

/// One HPA sync (upstream's `reconcileAutoscaler`).
async fn reconcile(hpa: Arc<HorizontalPodAutoscaler>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = hpa.namespace().ok_or(Error::NoNamespace)?;
    let key = format!("{ns}/{}", hpa.name_any());
    let requeue = Action::requeue(ctx.config.sync_period);
    let Some(spec) = hpa.spec.as_ref() else {
        return Ok(requeue);
    };
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let old_status = hpa.status.clone().unwrap_or_default();
    let mut conditions = old_status.conditions.clone().unwrap_or_default();
    let target = &spec.scale_target_ref;
    let reference = format!("{}/{}", target.kind, target.name);

    let scale = match get_scale(&ctx.client, &ns, target).await {
        Ok(s) => s,
        Err(e) => {
            set_condition(
                &mut conditions,
                "AbleToScale",
                false,
                "FailedGetScale",
                format!("the HPA controller was unable to get the target's current scale: {e}"),
                &now,
            );
            event(
                &ctx,
                &hpa,
                EventType::Warning,
                "FailedGetScale",
                e.to_string(),
            );
            let current = old_status.current_replicas.unwrap_or(0);
            write_status(
                &ctx,
                &hpa,
                current,
                old_status.desired_replicas,
                old_status.current_metrics.clone(),
                conditions,
                None,
            )
            .await?;
            return Err(Error::Reconcile(format!(
                "failed to query scale subresource for {reference}: {e}"
            )));
        }
    };
    set_condition(
        &mut conditions,
        "AbleToScale",
        true,
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale".into(),
        &now,
    );
    let current = scale.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
    let min = spec.min_replicas.unwrap_or(1);
    let max = spec.max_replicas;

    // As upstream, the clamps and a disabled scale report no current metrics.
    let mut statuses: Option<Vec<MetricStatus>> = None;
    let (desired, rescale, reason) = if current == 0 && min != 0 {
        set_condition(
            &mut conditions,
            "ScalingActive",
            false,
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero".into(),
            &now,
        );
        (0, false, String::new())
    } else if current > max {
        (
            max,
            true,
            "Current number of replicas above Spec.MaxReplicas".to_string(),
        )
    } else if current < min {
        (
            min,
            true,
            "Current number of replicas below Spec.MinReplicas".to_string(),
        )
    } else {
        let outcome =
            compute_replicas_for_metrics(&ctx, &hpa, &ns, &scale, &mut conditions, &now).await;
        let outcome = match outcome {
            Ok(o) => o,
            Err((message, metric_statuses)) => {
                event(
                    &ctx,
                    &hpa,
                    EventType::Warning,
                    "FailedComputeMetricsReplicas",
                    message.clone(),
                );
                write_status(
                    &ctx,
                    &hpa,
                    current,
                    old_status.desired_replicas,
                    Some(metric_statuses),
                    conditions,
                    None,
                )
                .await?;
                return Err(Error::Reconcile(format!(
                    "failed to compute desired number of replicas based on listed metrics for {reference}: {message}"
                )));
            }
        };
        statuses = Some(outcome.statuses);
        let reason = if outcome.replicas > current {
            format!("{} above target", outcome.metric)
        } else {
            "All metrics below target".to_string()
        };
        let normalized = ctx.history.lock().map_or(None, |mut h| {
            Some(h.normalize(&normalize::Args {
                key: &key,
                behavior: spec.behavior.as_ref(),
                min,
                max,
                current,
                desired: outcome.replicas,
                downscale_window_s: ctx.config.downscale_stabilization.as_secs() as i64,
                now_ms: now_ms(),
            }))
        });
        let Some(n) = normalized else {
            return Err(Error::Reconcile("scale history lock poisoned".into()));
        };
        set_condition(
            &mut conditions,
            "AbleToScale",
            true,
            n.able_to_scale.0,
            n.able_to_scale.1.into(),
            &now,
        );
        set_condition(
            &mut conditions,
            "ScalingLimited",
            n.limited,
            n.scaling_limited.0,
            n.scaling_limited.1.into(),
            &now,
        );
        (n.replicas, n.replicas != current, reason)
    };

    let mut last_scale = None;
    if rescale {
        if let Err(e) = set_scale(&ctx.client, &ns, target, scale.clone(), desired).await {
            set_condition(
                &mut conditions,
                "AbleToScale",
                false,
                "FailedUpdateScale",
                format!("the HPA controller was unable to update the target scale: {e}"),
                &now,
            );
            event(
                &ctx,
                &hpa,
                EventType::Warning,
                "FailedRescale",
                format!("New size: {desired}; reason: {reason}; error: {e}"),
            );
            write_status(
                &ctx,
                &hpa,
                current,
                old_status.desired_replicas,
                statuses,
                conditions,
                None,
            )
            .await?;
            return Err(Error::Reconcile(format!(
                "failed to rescale {reference}: {e}"
            )));
        }
        set_condition(
            &mut conditions,
            "AbleToScale",
            true,
            "SucceededRescale",
            format!("the HPA controller was able to update the target scale to {desired}"),
            &now,
        );
        event(
            &ctx,
            &hpa,
            EventType::Normal,
            "SuccessfulRescale",
            format!("New size: {desired}; reason: {reason}"),
        );
        if let Ok(mut h) = ctx.history.lock() {
            h.record_scale(&key, spec.behavior.as_ref(), current, desired, now_ms());
        }
        tracing::info!(hpa = %key, from = current, to = desired, reason, "rescaled");
        last_scale = Some(now.clone());
    }
    write_status(
        &ctx, &hpa, current, desired, statuses, conditions, last_scale,
    )
    .await?;
    Ok(requeue)
}

/// Each metric's proposal; the largest wins (upstream's `computeReplicasForMetrics`). Err
/// carries the message of the first invalid metric and the statuses so far when no
/// proposal can be trusted (all invalid, or some invalid and the rest would scale down).
async fn compute_replicas_for_metrics(
    ctx: &Context,
    hpa: &HorizontalPodAutoscaler,
    ns: &str,
    scale: &k8s_openapi::api::autoscaling::v1::Scale,
    conditions: &mut Vec<HorizontalPodAutoscalerCondition>,
    now: &Time,
) -> Result<MetricsOutcome, (String, Vec<MetricStatus>)> {
    let current = scale.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
    let (selector, status_replicas) = scale.status.as_ref().map_or(("", 0), |s| {
        (s.selector.as_deref().unwrap_or_default(), s.replicas)
    });
    if selector.is_empty() {
        event(
            ctx,
            hpa,
            EventType::Warning,
            "SelectorRequired",
            "selector is required".into(),
        );
        set_condition(
            conditions,
            "ScalingActive",
            false,
            "InvalidSelector",
            "the HPA target's scale is missing a selector".into(),
            now,
        );
        return Err(("selector is required".into(), Vec::new()));
    }
    let specs = hpa
        .spec
        .as_ref()
        .and_then(|s| s.metrics.clone())
        .unwrap_or_default();
    let mut statuses = Vec::with_capacity(specs.len());
    let (mut replicas, mut metric) = (0, String::new());
    let mut invalid: Option<(String, &'static str, String)> = None;
    let mut invalid_count = 0;
    let pods = match Api::<Pod>::namespaced(ctx.client.clone(), ns)
        .list(&ListParams::default().labels(selector))
        .await
    {
        Ok(l) => Ok(l.items),
        Err(e) => Err(format!(
            "unable to get pods while calculating replica count: {e}"
        )),
    };
    let input = compute::Inputs {
        client: &ctx.client,
        namespace: ns,
        selector,
        spec_replicas: current,
        status_replicas,
        pods: &pods,
        calc: &ctx.config.calc,
    };
    for spec in &specs {
        match compute::metric(&input, spec).await {
            Ok(p) => {
                statuses.push(p.status);
                if replicas == 0 || p.replicas > replicas {
                    (replicas, metric) = (p.replicas, p.metric);
                }
            }
            Err(f) => {
                statuses.push(MetricStatus::default());
                event(ctx, hpa, EventType::Warning, f.reason, f.message.clone());
                if invalid.is_none() {
                    invalid = Some((
                        f.wrapped,
                        f.reason,
                        format!(
                            "the HPA was unable to compute the replica count: {}",
                            f.message
                        ),
                    ));
                }
                invalid_count += 1;
            }
        }
    }
    if let Some((err, reason, message)) = invalid {
        let message_all = format!(
            "invalid metrics ({invalid_count} invalid out of {}), first error is: {err}",
            specs.len()
        );
        if invalid_count >= specs.len() || replicas < current {
            set_condition(conditions, "ScalingActive", false, reason, message, now);
            return Err((message_all, statuses));
        }
    }
    if specs.is_empty() {
        // The apiserver defaults an 80 % CPU target; an HPA without metrics has nothing to go on.
        return Err(("no metrics configured".into(), statuses));
    }
    set_condition(
        conditions,
        "ScalingActive",
        true,
        "ValidMetricFound",
        format!("the HPA was able to successfully calculate a replica count from {metric}"),
        now,
    );
    Ok(MetricsOutcome {
        replicas,
        metric,
        statuses,
    })
}

async fn scale_api(
    client: &Client,
    ns: &str,
    target: &k8s_openapi::api::autoscaling::v2::CrossVersionObjectReference,
) -> Result<Api<DynamicObject>, kube::Error> {
    let ar = target_resource(
        client,
        target.api_version.as_deref().unwrap_or("v1"),
        &target.kind,
    )
    .await?;
    Ok(Api::namespaced_with(client.clone(), ns, &ar))
}

async fn get_scale(
    client: &Client,
    ns: &str,
    target: &k8s_openapi::api::autoscaling::v2::CrossVersionObjectReference,
) -> Result<k8s_openapi::api::autoscaling::v1::Scale, kube::Error> {
    scale_api(client, ns, target)
        .await?
        .get_scale(&target.name)
        .await
}

/// Update the target's scale (an update, not a patch, as upstream: the role grants
/// `update` on `*/scale`, and the resourceVersion guards against a concurrent change).
async fn set_scale(
    client: &Client,
    ns: &str,
    target: &k8s_openapi::api::autoscaling::v2::CrossVersionObjectReference,
    mut scale: k8s_openapi::api::autoscaling::v1::Scale,
    replicas: i32,
) -> Result<(), kube::Error> {
    scale.spec.get_or_insert_with(Default::default).replicas = Some(replicas);
    scale_api(client, ns, target)
        .await?
        .replace_scale(&target.name, &PostParams::default(), &scale)
        .await?;
    Ok(())
}

/// Write status when it changed (upstream's `setStatus` + `updateStatusIfNeeded`).
async fn write_status(
    ctx: &Context,
    hpa: &HorizontalPodAutoscaler,
    current: i32,
    desired: i32,
    metrics: Option<Vec<MetricStatus>>,
    conditions: Vec<HorizontalPodAutoscalerCondition>,
    last_scale: Option<Time>,
) -> Result<(), Error> {
    let old = hpa.status.clone().unwrap_or_default();
    let mut new = old.clone();
    new.current_replicas = Some(current);
    new.desired_replicas = desired;
    new.current_metrics = metrics.filter(|m| !m.is_empty());
    new.conditions = Some(conditions);
    new.observed_generation = hpa.metadata.generation;
    if last_scale.is_some() {
        new.last_scale_time = last_scale;
    }
    if new == old {
        return Ok(());
    }
    // An update of the status subresource, as upstream (its role grants `update` only); a
    // conflict fails this sync and the next period recomputes from the fresh object.
    let api: Api<HorizontalPodAutoscaler> =
        Api::namespaced(ctx.client.clone(), &hpa.namespace().unwrap_or_default());
    let mut obj = hpa.clone();
    obj.status = Some(new);
    match api
        .replace_status(&hpa.name_any(), &PostParams::default(), &obj)
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Record an event on the HPA (in the background: a failure to record is logged, never
/// fatal to the sync).
fn event(
    ctx: &Context,
    hpa: &HorizontalPodAutoscaler,
    type_: EventType,
    reason: &str,
    message: String,
) {
    ctx.recorder
        .record(events::reference(hpa), type_, reason, message);
}
