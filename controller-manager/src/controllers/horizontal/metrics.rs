//! The resource metrics client (upstream's `resourceMetricsClient`): PodMetrics of the
//! pods a selector picks, from `metrics.k8s.io/v1beta1`, as one milli-unit sample per pod.

use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::Client;
use serde_json::Value;

use super::replica_calculator::{PodMetric, PodMetricsInfo};

/// Why no samples could be read.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("unable to fetch metrics from resource metrics API: {0}")]
    Fetch(#[source] kube::Error),
    #[error("no metrics returned from resource metrics API")]
    Empty,
}

/// `metrics.k8s.io/v1beta1` PodMetrics, served by an aggregated API (metrics-server).
fn pod_metrics_resource() -> ApiResource {
    ApiResource {
        group: "metrics.k8s.io".into(),
        version: "v1beta1".into(),
        api_version: "metrics.k8s.io/v1beta1".into(),
        kind: "PodMetrics".into(),
        plural: "pods".into(),
    }
}

/// Usage of `resource` per pod matching `selector` in `namespace`, summed over the pod's
/// containers (or only `container`).
pub async fn resource_metric(
    client: &Client,
    namespace: &str,
    selector: &str,
    resource: &str,
    container: Option<&str>,
) -> Result<PodMetricsInfo, MetricsError> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &pod_metrics_resource());
    let list = api
        .list(&ListParams::default().labels(selector))
        .await
        .map_err(MetricsError::Fetch)?;
    if list.items.is_empty() {
        return Err(MetricsError::Empty);
    }
    let samples: PodMetricsInfo = list
        .items
        .iter()
        .filter_map(|pm| {
            let name = pm.metadata.name.clone()?;
            Some((name, sample(&pm.data, resource, container)?))
        })
        .collect();
    if samples.is_empty() {
        return Err(MetricsError::Empty);
    }
    Ok(samples)
}

/// One PodMetrics object as a sample; `None` when a (selected) container lacks the
/// resource or no container is selected — upstream drops such pods, so they count as
/// missing.
fn sample(data: &Value, resource: &str, container: Option<&str>) -> Option<PodMetric> {
    let mut total = 0i64;
    let mut found = false;
    for c in data["containers"].as_array()? {
        if container.is_some_and(|want| c["name"].as_str() != Some(want)) {
            continue;
        }
        let usage = c["usage"][resource].as_str()?;
        total += common::quantity::parse_milli(usage)? as i64;
        found = true;
    }
    if !found {
        return None;
    }
    let timestamp_ms = data["timestamp"]
        .as_str()
        .and_then(|t| t.parse::<k8s_openapi::jiff::Timestamp>().ok())
        .map_or(0, |t| t.as_millisecond());
    let window_ms = data["window"]
        .as_str()
        .and_then(|w| common::duration::parse(w).ok())
        .map_or(0, |d| d.as_millis() as i64);
    Some(PodMetric {
        value: total,
        timestamp_ms,
        window_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn samples_sum_containers_and_skip_pods_missing_the_resource() {
        let pm = json!({"timestamp": "2026-01-01T00:00:00Z", "window": "30s", "containers": [
            {"name": "app", "usage": {"cpu": "250m", "memory": "10Mi"}},
            {"name": "sidecar", "usage": {"cpu": "50m", "memory": "1Mi"}}]});
        let s = sample(&pm, "cpu", None).expect("sample");
        assert_eq!((s.value, s.window_ms), (300, 30_000));
        assert_eq!(s.timestamp_ms, 1_767_225_600_000);
        assert_eq!(
            sample(&pm, "cpu", Some("sidecar")).map(|s| s.value),
            Some(50)
        );
        assert_eq!(sample(&pm, "cpu", Some("other")), None);
        let partial = json!({"containers": [{"name": "a", "usage": {"cpu": "1"}},
                                            {"name": "b", "usage": {}}]});
        assert_eq!(sample(&partial, "cpu", None), None);
        assert_eq!(
            sample(&partial, "cpu", Some("a")).map(|s| s.value),
            Some(1000)
        );
    }
}
