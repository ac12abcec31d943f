//! How many replicas a resource metric asks for (upstream's `ReplicaCalculator`): pods are
//! grouped into ready, unready (pending, or CPU samples taken while the pod was starting),
//! missing (no sample) and ignored (deleting, failed); the usage ratio of the ready ones
//! against the target decides, and when pods are missing or unready the ratio is recomputed
//! with conservative stand-ins (0 on a scale-up, the request or target on a scale-down) so
//! that pods without data never push the scale further in the direction it is going.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Container, Pod};

/// One pod's sample from the metrics API, in milli-units of the resource.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PodMetric {
    /// Usage (milli-cores for cpu, milli-bytes for memory), summed over the containers.
    pub value: i64,
    /// When the sample was taken, Unix milliseconds.
    pub timestamp_ms: i64,
    /// The window the sample covers, milliseconds.
    pub window_ms: i64,
}

/// Samples by pod name.
pub type PodMetricsInfo = BTreeMap<String, PodMetric>;

/// The tunables of the calculation (upstream's flags of the same meaning).
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// `--horizontal-pod-autoscaler-tolerance`: ratios within 1 ± this change nothing.
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period`, milliseconds: CPU samples of
    /// a pod this young count only once it is ready and the sample postdates readiness.
    pub cpu_initialization_period_ms: i64,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay`, milliseconds: a pod that never
    /// became ready within this of its start is treated as unready.
    pub initial_readiness_delay_ms: i64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            tolerance: 0.1,
            cpu_initialization_period_ms: 5 * 60 * 1000,
            initial_readiness_delay_ms: 30 * 1000,
        }
    }
}

/// Why no replica count could be computed; the messages are upstream's.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CalcError {
    #[error("no pods returned by selector while calculating replica count")]
    NoPods,
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoMetrics,
    #[error("missing request for {resource} in container {container} of Pod {pod}")]
    MissingRequest {
        resource: String,
        container: String,
        pod: String,
    },
    #[error("no metrics returned matched known pods")]
    NoMatchingPods,
}

/// A utilization proposal: replicas, the utilization (percent of request) and the raw
/// average usage (milli-units) of the ready pods.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UtilizationProposal {
    pub replicas: i32,
    pub utilization: i32,
    pub raw_average: i64,
}

/// The pods as the calculation sees them.
struct Groups {
    ready: usize,
    unready: BTreeSet<String>,
    missing: BTreeSet<String>,
    ignored: BTreeSet<String>,
}

/// upstream's `groupPods`.
fn group_pods(
    pods: &[Pod],
    metrics: &PodMetricsInfo,
    resource: &str,
    cfg: &Config,
    now_ms: i64,
) -> Groups {
    let mut g = Groups {
        ready: 0,
        unready: BTreeSet::new(),
        missing: BTreeSet::new(),
        ignored: BTreeSet::new(),
    };
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let status = pod.status.as_ref();
        let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
        if pod.metadata.deletion_timestamp.is_some() || phase == "Failed" {
            g.ignored.insert(name);
            continue;
        }
        if phase == "Pending" {
            g.unready.insert(name);
            continue;
        }
        let Some(metric) = metrics.get(&name) else {
            g.missing.insert(name);
            continue;
        };
        if resource == "cpu" && cpu_sample_unready(pod, metric, cfg, now_ms) {
            g.unready.insert(name);
            continue;
        }
        g.ready += 1;
    }
    g
}

/// CPU usage of a starting pod is misleading (start-up bursts): a sample counts only when
/// the pod is ready and the sample's window began after it became ready; after the
/// initialization period, only a pod that has never been ready is excluded.
fn cpu_sample_unready(pod: &Pod, metric: &PodMetric, cfg: &Config, now_ms: i64) -> bool {
    let status = pod.status.as_ref();
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"));
    let start = status
        .and_then(|s| s.start_time.as_ref())
        .map(|t| t.0.as_millisecond());
    let (Some(ready), Some(start)) = (ready, start) else {
        return true;
    };
    let transition = ready
        .last_transition_time
        .as_ref()
        .map_or(0, |t| t.0.as_millisecond());
    if start + cfg.cpu_initialization_period_ms > now_ms {
        ready.status == "False" || metric.timestamp_ms < transition + metric.window_ms
    } else {
        ready.status == "False" && start + cfg.initial_readiness_delay_ms > transition
    }
}

/// The sum of the pod's requests of `resource` over its containers (or only `container`),
/// counting restartable init containers (sidecars) as upstream does.
fn pod_request(pod: &Pod, container: Option<&str>, resource: &str) -> Result<i64, CalcError> {
    let spec = pod.spec.as_ref();
    let sidecars = spec
        .and_then(|s| s.init_containers.as_ref())
        .into_iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    let containers: Vec<&Container> = spec
        .map(|s| s.containers.iter())
        .into_iter()
        .flatten()
        .chain(sidecars)
        .collect();
    let mut total = 0i64;
    for c in containers {
        if container.is_some_and(|want| want != c.name) {
            continue;
        }
        let request = c
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get(resource))
            .and_then(|q| common::quantity::parse_milli(&q.0));
        match request {
            Some(v) => total += v as i64,
            None => {
                return Err(CalcError::MissingRequest {
                    resource: resource.to_string(),
                    container: c.name.clone(),
                    pod: pod.metadata.name.clone().unwrap_or_default(),
                })
            }
        }
    }
    Ok(total)
}

/// upstream's `GetResourceUtilizationRatio`: (usage ratio, utilization percent, average raw
/// usage) over the pods that have both a sample and a request.
fn utilization_ratio(
    metrics: &PodMetricsInfo,
    requests: &BTreeMap<String, i64>,
    target: i32,
) -> Result<(f64, i32, i64), CalcError> {
    let (mut used, mut requested, mut entries) = (0i64, 0i64, 0i64);
    for (name, m) in metrics {
        if let Some(r) = requests.get(name) {
            used += m.value;
            requested += r;
            entries += 1;
        }
    }
    if requested == 0 {
        return Err(CalcError::NoMatchingPods);
    }
    // Integer percent first, as upstream: the truncation is part of the result.
    let utilization = (used * 100 / requested) as i32;
    Ok((
        f64::from(utilization) / f64::from(target),
        utilization,
        used / entries,
    ))
}

fn within(cfg: &Config, ratio: f64) -> bool {
    (1.0 - ratio).abs() <= cfg.tolerance
}

/// Replicas for a `Utilization` target of `resource` (upstream's `GetResourceReplicas`).
#[allow(clippy::too_many_arguments)]
pub fn resource_replicas(
    current: i32,
    target_utilization: i32,
    resource: &str,
    container: Option<&str>,
    pods: &[Pod],
    mut metrics: PodMetricsInfo,
    cfg: &Config,
    now_ms: i64,
) -> Result<UtilizationProposal, CalcError> {
    if pods.is_empty() {
        return Err(CalcError::NoPods);
    }
    let g = group_pods(pods, &metrics, resource, cfg, now_ms);
    for name in g.ignored.iter().chain(&g.unready) {
        metrics.remove(name);
    }
    if metrics.is_empty() {
        return Err(CalcError::NoMetrics);
    }
    let mut requests = BTreeMap::new();
    for pod in pods {
        requests.insert(
            pod.metadata.name.clone().unwrap_or_default(),
            pod_request(pod, container, resource)?,
        );
    }
    let (ratio, utilization, raw_average) =
        utilization_ratio(&metrics, &requests, target_utilization)?;
    let proposal = |replicas| UtilizationProposal {
        replicas,
        utilization,
        raw_average,
    };
    let scale_up_with_unready = !g.unready.is_empty() && ratio > 1.0;
    if !scale_up_with_unready && g.missing.is_empty() {
        if within(cfg, ratio) {
            return Ok(proposal(current));
        }
        return Ok(proposal((ratio * g.ready as f64).ceil() as i32));
    }
    if !g.missing.is_empty() {
        // Scale-down: a pod without a sample counts as using all of its request (or the
        // target if that is higher); scale-up: as using nothing.
        let fallback = i64::from(target_utilization.max(100));
        for name in &g.missing {
            let value = if ratio < 1.0 {
                requests.get(name).copied().unwrap_or(0) * fallback / 100
            } else {
                0
            };
            if ratio != 1.0 {
                metrics.insert(name.clone(), stand_in(value));
            }
        }
    }
    if scale_up_with_unready {
        for name in &g.unready {
            metrics.insert(name.clone(), stand_in(0));
        }
    }
    let (new_ratio, _, _) = utilization_ratio(&metrics, &requests, target_utilization)?;
    Ok(proposal(settle(
        cfg,
        current,
        ratio,
        new_ratio,
        metrics.len(),
    )))
}

/// Replicas for an `AverageValue` target (milli-units per pod) of `resource` (upstream's
/// `GetRawResourceReplicas` / `calcPlainMetricReplicas`); also returns the average usage.
pub fn plain_replicas(
    current: i32,
    target_average: i64,
    resource: &str,
    pods: &[Pod],
    mut metrics: PodMetricsInfo,
    cfg: &Config,
    now_ms: i64,
) -> Result<(i32, i64), CalcError> {
    if pods.is_empty() {
        return Err(CalcError::NoPods);
    }
    let g = group_pods(pods, &metrics, resource, cfg, now_ms);
    for name in g.ignored.iter().chain(&g.unready) {
        metrics.remove(name);
    }
    if metrics.is_empty() {
        return Err(CalcError::NoMetrics);
    }
    let usage_ratio = |m: &PodMetricsInfo| {
        let average = m.values().map(|p| p.value).sum::<i64>() / m.len() as i64;
        (average as f64 / target_average as f64, average)
    };
    let (ratio, average) = usage_ratio(&metrics);
    let scale_up_with_unready = !g.unready.is_empty() && ratio > 1.0;
    if !scale_up_with_unready && g.missing.is_empty() {
        if within(cfg, ratio) {
            return Ok((current, average));
        }
        return Ok(((ratio * g.ready as f64).ceil() as i32, average));
    }
    if !g.missing.is_empty() && ratio != 1.0 {
        // Scale-down: a pod without a sample uses exactly the target; scale-up: nothing.
        let value = if ratio < 1.0 { target_average } else { 0 };
        for name in &g.missing {
            metrics.insert(name.clone(), stand_in(value));
        }
    }
    if scale_up_with_unready {
        for name in &g.unready {
            metrics.insert(name.clone(), stand_in(0));
        }
    }
    let (new_ratio, _) = usage_ratio(&metrics);
    Ok((
        settle(cfg, current, ratio, new_ratio, metrics.len()),
        average,
    ))
}

fn stand_in(value: i64) -> PodMetric {
    PodMetric {
        value,
        timestamp_ms: 0,
        window_ms: 0,
    }
}

/// The count after stand-ins were added: unchanged when the change is within tolerance or
/// the stand-ins flipped the direction of the change.
fn settle(cfg: &Config, current: i32, ratio: f64, new_ratio: f64, considered: usize) -> i32 {
    if within(cfg, new_ratio)
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return current;
    }
    let replicas = (new_ratio * considered as f64).ceil() as i32;
    if (new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current) {
        return current;
    }
    replicas
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000_000;
    /// Started 10 minutes ago: past the CPU initialization period.
    const OLD: i64 = NOW - 600_000;

    fn ts(ms: i64) -> String {
        let t = k8s_openapi::jiff::Timestamp::from_millisecond(ms).expect("timestamp");
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// A Running, Ready pod requesting `cpu_m` milli-cpu, started at `start`.
    fn pod(name: &str, phase: &str, ready: bool, start: i64, cpu_m: i64) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"containers": [{"name": "app",
                "resources": {"requests": {"cpu": format!("{cpu_m}m"), "memory": "100Mi"}}}]},
            "status": {"phase": phase, "startTime": ts(start),
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" },
                                "lastTransitionTime": ts(start + 10_000)}]}
        }))
        .expect("pod")
    }

    fn running(n: usize, cpu_m: i64) -> Vec<Pod> {
        (0..n)
            .map(|i| pod(&format!("p{i}"), "Running", true, OLD, cpu_m))
            .collect()
    }

    fn samples(values: &[(&str, i64)]) -> PodMetricsInfo {
        values
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    PodMetric {
                        value: *v,
                        timestamp_ms: NOW - 10_000,
                        window_ms: 30_000,
                    },
                )
            })
            .collect()
    }

    fn cpu(current: i32, target: i32, pods: &[Pod], m: PodMetricsInfo) -> UtilizationProposal {
        resource_replicas(
            current,
            target,
            "cpu",
            None,
            pods,
            m,
            &Config::default(),
            NOW,
        )
        .expect("proposal")
    }

    #[test]
    fn three_pods_at_90_percent_with_target_50_scale_to_6() {
        let pods = running(3, 1000);
        let p = cpu(
            3,
            50,
            &pods,
            samples(&[("p0", 900), ("p1", 900), ("p2", 900)]),
        );
        assert_eq!((p.replicas, p.utilization, p.raw_average), (6, 90, 900));
    }

    #[test]
    fn upstream_scale_up_case_30_percent_target_of_mixed_usage() {
        // upstream TestReplicaCalcScaleUp: requests 1 cpu, usage 300/500/700m, target 30 %.
        let pods = running(3, 1000);
        let p = cpu(
            3,
            30,
            &pods,
            samples(&[("p0", 300), ("p1", 500), ("p2", 700)]),
        );
        assert_eq!((p.replicas, p.utilization), (5, 50));
    }

    #[test]
    fn upstream_scale_down_case() {
        // upstream TestReplicaCalcScaleDown: 5 pods, usage 100,300,500,250,250m, target 50 %.
        let pods = running(5, 1000);
        let m = samples(&[
            ("p0", 100),
            ("p1", 300),
            ("p2", 500),
            ("p3", 250),
            ("p4", 250),
        ]);
        let p = cpu(5, 50, &pods, m);
        assert_eq!((p.replicas, p.utilization), (3, 28));
    }

    #[test]
    fn within_tolerance_keeps_the_current_count() {
        // 1.05 of the target: inside 0.1.
        let pods = running(3, 1000);
        let p = cpu(
            3,
            100,
            &pods,
            samples(&[("p0", 1050), ("p1", 1050), ("p2", 1050)]),
        );
        assert_eq!(p.replicas, 3);
        assert_eq!(p.utilization, 105);
    }

    #[test]
    fn missing_metrics_on_scale_down_count_as_full_request() {
        // upstream TestReplicaCalcMissingMetricsScaleDown-like: one pod has no sample. With
        // the missing pod at 100 % the ratio is (0.2+0.2+0.2+1.0)/4/0.5 = 0.8 → 4 * 0.8 = 3.2
        // → 4: no change; a naive calculation over the 3 sampled pods would say 2.
        let pods = running(4, 1000);
        let p = cpu(
            4,
            50,
            &pods,
            samples(&[("p0", 200), ("p1", 200), ("p2", 200)]),
        );
        assert_eq!(p.replicas, 4);
        assert_eq!(p.utilization, 20);
    }

    #[test]
    fn missing_metrics_on_scale_up_count_as_zero() {
        // 3 pods at 100 %, one missing, target 50 %: with the missing pod at 0 the ratio is
        // 0.75 / 0.5 = 1.5 → ceil(1.5 * 4) = 6 (not 6 from the three alone + 1).
        let pods = running(4, 1000);
        let p = cpu(
            4,
            50,
            &pods,
            samples(&[("p0", 1000), ("p1", 1000), ("p2", 1000)]),
        );
        assert_eq!(p.replicas, 6);
    }

    #[test]
    fn missing_metric_that_would_flip_direction_keeps_count() {
        // Ready pods just above target (ratio 1.2) but the missing pod at 0 makes it 0.9:
        // the stand-in turned the direction, so nothing changes.
        let pods = running(4, 1000);
        let p = cpu(
            4,
            50,
            &pods,
            samples(&[("p0", 600), ("p1", 600), ("p2", 600)]),
        );
        assert_eq!(p.replicas, 4);
    }

    #[test]
    fn unready_pods_count_as_zero_on_scale_up_and_are_ignored_otherwise() {
        // upstream TestReplicaCalcScaleUpUnreadyLessScale-like: one pod Pending.
        let mut pods = running(2, 1000);
        pods.push(pod("p2", "Pending", false, OLD, 1000));
        let p = cpu(3, 50, &pods, samples(&[("p0", 1000), ("p1", 1000)]));
        // ratio 2.0 over 2 ready; the pending pod at 0: (1+1+0)/3 / 0.5 = 1.33 → ceil(4) = 4.
        assert_eq!(p.replicas, 4);
        // Scale-down: the unready pod is simply left out: 2 pods at 10 % → ceil(0.2 * 2) = 1.
        let p = cpu(3, 50, &pods, samples(&[("p0", 100), ("p1", 100)]));
        assert_eq!(p.replicas, 1);
    }

    #[test]
    fn young_pod_sample_taken_before_readiness_is_unready_for_cpu_only() {
        // Started 1 minute ago, ready 50 s ago; the sample's 30 s window reaches back before
        // that transition + window, so the CPU sample is not trusted.
        let young = NOW - 60_000;
        let mut pods = running(1, 1000);
        pods.push(pod("p1", "Running", true, young, 1000));
        let mut m = samples(&[("p0", 1000), ("p1", 1000)]);
        m.get_mut("p1").expect("p1").timestamp_ms = young + 20_000;
        let p = cpu(2, 50, &pods, m.clone());
        // p1 unready and the ratio 2.0 > 1: p1 counts 0 → (1 + 0)/2/0.5 = 1.0 → unchanged.
        assert_eq!(p.replicas, 2);
        // Memory does not look at readiness: both pods count.
        let (r, avg) =
            plain_replicas(2, 500, "memory", &pods, m, &Config::default(), NOW).expect("proposal");
        assert_eq!((r, avg), (4, 1000));
    }

    #[test]
    fn deleting_and_failed_pods_are_ignored() {
        let mut pods = running(2, 1000);
        pods.push(pod("p2", "Failed", false, OLD, 1000));
        // Were the failed pod's sample counted, utilization would be 200 % and the count 6.
        let p = cpu(
            3,
            50,
            &pods,
            samples(&[("p0", 500), ("p1", 500), ("p2", 5000)]),
        );
        assert_eq!((p.replicas, p.utilization), (3, 50));
    }

    #[test]
    fn errors_are_upstream_messages() {
        let none: Vec<Pod> = Vec::new();
        let cfg = Config::default();
        let err = resource_replicas(1, 50, "cpu", None, &none, samples(&[]), &cfg, NOW);
        assert_eq!(err, Err(CalcError::NoPods));
        let pending = vec![pod("p0", "Pending", false, OLD, 1000)];
        let err = resource_replicas(
            1,
            50,
            "cpu",
            None,
            &pending,
            samples(&[("p0", 1)]),
            &cfg,
            NOW,
        );
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("did not receive metrics for targeted pods (pods might be unready)".into())
        );
        let mut no_request = running(1, 1000);
        no_request[0].spec.as_mut().expect("spec").containers[0].resources = None;
        let err = resource_replicas(
            1,
            50,
            "cpu",
            None,
            &no_request,
            samples(&[("p0", 1)]),
            &cfg,
            NOW,
        );
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("missing request for cpu in container app of Pod p0".into())
        );
    }

    #[test]
    fn average_value_target() {
        // upstream TestReplicaCalcScaleUpCMUnreadyLessScale-like plain metric: 3 pods using
        // 250Mi each with a 100Mi target → ceil(2.5 * 3) = 8.
        let pods = running(3, 1000);
        let mi = 1024 * 1024 * 1000;
        let m = samples(&[("p0", 250 * mi), ("p1", 250 * mi), ("p2", 250 * mi)]);
        let (r, avg) =
            plain_replicas(3, 100 * mi, "memory", &pods, m, &Config::default(), NOW).expect("ok");
        assert_eq!((r, avg), (8, 250 * mi));
    }

    fn pods_metric(current: i32, target: i64, pods: &[Pod], m: PodMetricsInfo) -> i32 {
        // A Pods metric has no resource name: readiness of samples is never judged.
        plain_replicas(current, target, "", pods, m, &Config::default(), NOW)
            .expect("proposal")
            .0
    }

    #[test]
    fn pods_metric_scales_by_the_average_and_ignores_readiness_but_not_pending() {
        // upstream TestReplicaCalcScaleUpCM: 20, 10 and 30 against 15 → ceil(4/3 * 3) = 4.
        let pods = running(3, 1000);
        let m = samples(&[("p0", 20_000), ("p1", 10_000), ("p2", 30_000)]);
        assert_eq!(pods_metric(3, 15_000, &pods, m), 4);
        // A Running pod that is not Ready still counts (only cpu looks at readiness).
        let mut pods = running(2, 1000);
        pods.push(pod("p2", "Running", false, NOW - 1000, 1000));
        let m = samples(&[("p0", 30_000), ("p1", 30_000), ("p2", 30_000)]);
        assert_eq!(pods_metric(3, 15_000, &pods, m), 6);
        // A Pending pod's sample is dropped; on a scale-up it counts as 0:
        // (30 + 30 + 0) / 3 / 15 = 4/3 → ceil(4) = 4 rather than 6.
        pods[2] = pod("p2", "Pending", false, NOW - 1000, 1000);
        let m = samples(&[("p0", 30_000), ("p1", 30_000), ("p2", 30_000)]);
        assert_eq!(pods_metric(3, 15_000, &pods, m), 4);
    }

    #[test]
    fn pods_metric_missing_samples_count_as_the_target_on_scale_down() {
        // 5 and 5 against 15 with the third pod missing: (5 + 5 + 15) / 3 / 15 → ceil(1.67) = 2,
        // where the two sampled pods alone would say 1.
        let pods = running(3, 1000);
        let m = samples(&[("p0", 5_000), ("p1", 5_000)]);
        assert_eq!(pods_metric(3, 15_000, &pods, m), 2);
    }
}
