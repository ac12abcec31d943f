//! How many replicas an Object or External metric asks for (upstream's
//! `GetObjectMetricReplicas`, `GetObjectPerPodMetricReplicas`, `GetExternalMetricReplicas`,
//! `GetExternalPerPodMetricReplicas`). These metrics describe something other than the
//! pods (a queue, an Ingress), so there is no per-pod grouping: a `Value` target scales the
//! Running and Ready pods by the ratio of the value to the target, an `AverageValue` target
//! divides the value by the target per pod.

use k8s_openapi::api::core::v1::Pod;

use super::replica_calculator::{CalcError, Config};

/// Why a `Value` target gave no count; the messages are upstream's.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ValueError {
    #[error("unable to calculate ready pods: {0}")]
    ReadyPods(CalcError),
}

/// Pods that are Running with condition Ready=True (upstream's `getReadyPodsCount`).
fn ready_pods(pods: &[Pod]) -> Result<i64, CalcError> {
    if pods.is_empty() {
        return Err(CalcError::NoPods);
    }
    let ready = pods.iter().filter(|p| {
        let status = p.status.as_ref();
        status.and_then(|s| s.phase.as_deref()) == Some("Running")
            && status
                .and_then(|s| s.conditions.as_ref())
                .into_iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True")
    });
    Ok(ready.count() as i64)
}

/// Replicas for a `Value` target (upstream's `getUsageRatioReplicaCount`): `value` and
/// `target` in milli-units, `current` the scale's spec replicas. At zero replicas the ratio
/// alone decides (scale from zero); otherwise a ratio within tolerance keeps the count and
/// any other scales the ready pods.
pub fn value_replicas(
    cfg: &Config,
    current: i32,
    value: i64,
    target: i64,
    pods: &[Pod],
) -> Result<i32, ValueError> {
    let ratio = value as f64 / target as f64;
    if current == 0 {
        return Ok(ratio.ceil() as i32);
    }
    if (1.0 - ratio).abs() <= cfg.tolerance {
        return Ok(current);
    }
    let ready = ready_pods(pods).map_err(ValueError::ReadyPods)?;
    Ok((ratio * ready as f64).ceil() as i32)
}

/// Replicas for an `AverageValue` target (upstream's `Get…PerPodMetricReplicas`): the
/// total `value` over `target_per_pod`, unless the per-pod average over the scale's
/// `status_replicas` is within tolerance of the target. Also returns that average (the
/// status' `averageValue`), rounded up as upstream; with no replicas it is the total.
pub fn average_value_replicas(
    cfg: &Config,
    status_replicas: i32,
    value: i64,
    target_per_pod: i64,
) -> (i32, i64) {
    let mut replicas = status_replicas;
    let ratio = value as f64 / (target_per_pod as f64 * f64::from(status_replicas));
    if (1.0 - ratio).abs() > cfg.tolerance {
        replicas = (value as f64 / target_per_pod as f64).ceil() as i32;
    }
    let average = if status_replicas == 0 {
        value
    } else {
        (value as f64 / f64::from(status_replicas)).ceil() as i64
    };
    (replicas, average)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(phase: &str, ready: bool) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"},
            "status": {"phase": phase, "conditions": [
                {"type": "Ready", "status": if ready { "True" } else { "False" }}]}}))
        .expect("pod")
    }

    fn cfg() -> Config {
        Config::default()
    }

    #[test]
    fn value_target_scales_the_ready_pods_by_the_ratio() {
        // upstream TestReplicaCalcScaleUpCMObject-like: 3 ready pods, value 30k over a 10k
        // target: ratio 3 → ceil(3 * 3) = 9. Pending and unready pods do not count.
        let mut pods = vec![pod("Running", true); 3];
        pods.push(pod("Pending", false));
        pods.push(pod("Running", false));
        assert_eq!(value_replicas(&cfg(), 5, 30_000, 10_000, &pods), Ok(9));
        // Half the target: ceil(0.5 * 3) = 2.
        assert_eq!(value_replicas(&cfg(), 3, 5_000, 10_000, &pods), Ok(2));
    }

    #[test]
    fn value_target_within_tolerance_keeps_the_count_without_looking_at_pods() {
        assert_eq!(value_replicas(&cfg(), 4, 10_500, 10_000, &[]), Ok(4));
    }

    #[test]
    fn value_target_at_zero_replicas_scales_by_the_ratio_alone() {
        assert_eq!(value_replicas(&cfg(), 0, 25_000, 10_000, &[]), Ok(3));
        assert_eq!(value_replicas(&cfg(), 0, 0, 10_000, &[]), Ok(0));
    }

    #[test]
    fn value_target_without_pods_is_an_upstream_error() {
        let err = value_replicas(&cfg(), 2, 30_000, 10_000, &[]).map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("unable to calculate ready pods: no pods returned by selector while calculating replica count".into())
        );
    }

    #[test]
    fn average_value_divides_the_total_by_the_per_pod_target() {
        // 10 jobs queued, 2 per pod wanted, 3 replicas now: 5 replicas; average ceil(10/3).
        assert_eq!(average_value_replicas(&cfg(), 3, 10_000, 2_000), (5, 3334));
        // 6.2 per pod over 3 replicas against 2 each: within 10 % → unchanged.
        assert_eq!(average_value_replicas(&cfg(), 3, 6_200, 2_000), (3, 2067));
        // Scale-down: 1 job, 1 per pod → 1.
        assert_eq!(average_value_replicas(&cfg(), 4, 1_000, 1_000), (1, 250));
        // No replicas yet: the total decides, the average is the total.
        assert_eq!(average_value_replicas(&cfg(), 0, 3_000, 1_000), (3, 3_000));
    }
}
