//! The custom and external metrics clients (upstream's `customMetricsClient` and
//! `externalMetricsClient`): `custom.metrics.k8s.io/v1beta2` for Pods and Object metrics,
//! `external.metrics.k8s.io/v1beta1` for External metrics. Both are aggregated APIs (an
//! adapter such as prometheus-adapter serves them); the controller reads them through the
//! apiserver like any other group.

use k8s_openapi::api::autoscaling::v2::CrossVersionObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Client;
use serde_json::Value;

use super::replica_calculator::{PodMetric, PodMetricsInfo};

const CUSTOM: &str = "/apis/custom.metrics.k8s.io/v1beta2";
const EXTERNAL: &str = "/apis/external.metrics.k8s.io/v1beta1";
/// The window assumed when an adapter gives none (upstream's metrics-server default).
const DEFAULT_WINDOW_MS: i64 = 60_000;

/// Why a custom or external metric could not be read; the messages are upstream's.
#[derive(Debug, thiserror::Error)]
pub enum CustomMetricsError {
    #[error("unable to fetch metrics from custom metrics API: {0}")]
    FetchCustom(String),
    #[error("no metrics returned from custom metrics API")]
    EmptyCustom,
    #[error("unable to fetch metrics from external metrics API: {0}")]
    FetchExternal(String),
    #[error("no metrics returned from external metrics API")]
    EmptyExternal,
}

/// A failed request as client-go's REST client words it (the text ends up in conditions
/// and events): the Status message when the server sent one, else a generic sentence.
fn request_error(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.reason == "Failed to parse error data" || s.message.is_empty() => {
            match s.code {
                404 => "the server could not find the requested resource".to_string(),
                code => format!(
                    "an error on the server ({:?}) has prevented the request from succeeding (status {code})",
                    s.message
                ),
            }
        }
        kube::Error::Api(s) => s.message,
        other => other.to_string(),
    }
}

/// Percent-encode a query parameter value (selectors carry `=`, `,`, `!`, spaces …).
fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn get_json(client: &Client, url: String) -> Result<Value, kube::Error> {
    let req = http::Request::get(url)
        .body(Vec::new())
        .map_err(kube::Error::HttpError)?;
    client.request::<Value>(req).await
}

fn milli(v: &Value) -> Option<i64> {
    v.as_str()
        .and_then(common::quantity::parse_milli)
        .and_then(|m| i64::try_from(m).ok())
}

/// The items of a MetricValueList as samples by described object name.
fn pod_samples(list: &Value) -> PodMetricsInfo {
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let name = m["describedObject"]["name"].as_str()?.to_string();
            let timestamp_ms = m["timestamp"]
                .as_str()
                .and_then(|t| t.parse::<k8s_openapi::jiff::Timestamp>().ok())
                .map_or(0, |t| t.as_millisecond());
            let window_ms = m["windowSeconds"]
                .as_i64()
                .map_or(DEFAULT_WINDOW_MS, |s| s * 1000);
            Some((
                name,
                PodMetric {
                    value: milli(&m["value"])?,
                    timestamp_ms,
                    window_ms,
                },
            ))
        })
        .collect()
}

/// `metric` of every pod matching `pod_selector` (upstream's `GetRawMetric`).
pub async fn pods_metric(
    client: &Client,
    namespace: &str,
    metric: &str,
    pod_selector: &str,
    metric_selector: &str,
) -> Result<PodMetricsInfo, CustomMetricsError> {
    let url = format!(
        "{CUSTOM}/namespaces/{namespace}/pods/*/{metric}?labelSelector={}&metricLabelSelector={}",
        encode(pod_selector),
        encode(metric_selector)
    );
    let list = get_json(client, url)
        .await
        .map_err(|e| CustomMetricsError::FetchCustom(request_error(e)))?;
    let samples = pod_samples(&list);
    if samples.is_empty() {
        return Err(CustomMetricsError::EmptyCustom);
    }
    Ok(samples)
}

/// The `group/resource` path segment of a kind, as upstream's RESTMapper gives it
/// (`services`, `ingresses.networking.k8s.io`), through discovery.
async fn qualified_resource(
    client: &Client,
    object: &CrossVersionObjectReference,
) -> Result<String, String> {
    let api_version = object.api_version.as_deref().unwrap_or_default();
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let unmapped = |e: kube::Error| {
        let gk = if group.is_empty() {
            object.kind.clone()
        } else {
            format!("{}.{group}", object.kind)
        };
        format!("unable to map kind {gk} to resource: {e}")
    };
    let plural = if version.is_empty() {
        let g = kube::discovery::group(client, group)
            .await
            .map_err(unmapped)?;
        match g.recommended_kind(&object.kind) {
            Some((ar, _)) => ar.plural,
            None => {
                return Err(format!(
                "unable to map kind {} to resource: no matches for kind {:?} in group {group:?}",
                object.kind, object.kind
            ))
            }
        }
    } else {
        let gvk = kube::api::GroupVersionKind::gvk(group, version, &object.kind);
        kube::discovery::pinned_kind(client, &gvk)
            .await
            .map_err(unmapped)?
            .0
            .plural
    };
    Ok(if group.is_empty() {
        plural
    } else {
        format!("{plural}.{group}")
    })
}

/// `metric` of one object (upstream's `GetObjectMetric`); a Namespace is asked for through
/// the root-scoped `metrics` path, as upstream does.
pub async fn object_metric(
    client: &Client,
    namespace: &str,
    metric: &str,
    object: &CrossVersionObjectReference,
    metric_selector: &str,
) -> Result<i64, CustomMetricsError> {
    let fetch = CustomMetricsError::FetchCustom;
    let api_version = object.api_version.as_deref().unwrap_or_default();
    let core = !api_version.contains('/');
    let url = if object.kind == "Namespace" && core {
        // The object's name is ignored: a reference cannot escape the HPA's namespace.
        format!(
            "{CUSTOM}/namespaces/{namespace}/metrics/{metric}?metricLabelSelector={}",
            encode(metric_selector)
        )
    } else {
        let resource = qualified_resource(client, object).await.map_err(fetch)?;
        format!(
            "{CUSTOM}/namespaces/{namespace}/{resource}/{}/{metric}?metricLabelSelector={}",
            object.name,
            encode(metric_selector)
        )
    };
    let list = get_json(client, url)
        .await
        .map_err(|e| fetch(request_error(e)))?;
    let items = list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if items.len() != 1 {
        return Err(fetch(format!(
            "the custom metrics API server returned {} results when we asked for exactly one",
            items.len()
        )));
    }
    milli(&items[0]["value"]).ok_or_else(|| fetch("the metric value is not a quantity".into()))
}

/// Every value of the external `metric` matching `metric_selector` (upstream's
/// `GetExternalMetric`), in milli-units.
pub async fn external_metric(
    client: &Client,
    namespace: &str,
    metric: &str,
    metric_selector: &str,
) -> Result<Vec<i64>, CustomMetricsError> {
    let url = format!(
        "{EXTERNAL}/namespaces/{namespace}/{metric}?labelSelector={}",
        encode(metric_selector)
    );
    let list = get_json(client, url)
        .await
        .map_err(|e| CustomMetricsError::FetchExternal(request_error(e)))?;
    let values: Vec<i64> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| milli(&m["value"]))
        .collect();
    if values.is_empty() {
        return Err(CustomMetricsError::EmptyExternal);
    }
    Ok(values)
}

/// A metric's label selector as a query string (upstream's `LabelSelectorAsSelector` then
/// `String()`): requirements sorted by key, set values sorted; `None` selects everything.
pub fn selector_string(selector: Option<&LabelSelector>) -> Result<String, String> {
    let Some(selector) = selector else {
        return Ok(String::new());
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    for (k, v) in selector.match_labels.iter().flatten() {
        reqs.push((k.clone(), format!("{k}={v}")));
    }
    for e in selector.match_expressions.iter().flatten() {
        let mut values = e.values.clone().unwrap_or_default();
        values.sort();
        let k = &e.key;
        let text = match e.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => {
                return Err(
                    "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"
                        .to_string(),
                )
            }
            "In" => format!("{k} in ({})", values.join(",")),
            "NotIn" => format!("{k} notin ({})", values.join(",")),
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                return Err(
                    "values: Invalid value: for 'exists', 'doesnotexist' operators, values set must be empty"
                        .to_string(),
                )
            }
            "Exists" => k.clone(),
            "DoesNotExist" => format!("!{k}"),
            other => return Err(format!("{other:?} is not a valid label selector operator")),
        };
        reqs.push((k.clone(), text));
    }
    // A stable sort: a key with a label and an expression keeps that order, as upstream.
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(reqs
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
    use serde_json::json;

    #[test]
    fn metric_value_lists_become_samples_by_pod_name() {
        let list = json!({"kind": "MetricValueList", "items": [
            {"describedObject": {"kind": "Pod", "name": "web-1"}, "metric": {"name": "qps"},
             "timestamp": "2026-01-01T00:00:00Z", "windowSeconds": 30, "value": "1500m"},
            {"describedObject": {"kind": "Pod", "name": "web-2"}, "metric": {"name": "qps"},
             "timestamp": "2026-01-01T00:00:00Z", "value": "2"},
            {"describedObject": {"kind": "Pod", "name": "bad"}, "value": "lots"}]});
        let s = pod_samples(&list);
        assert_eq!(s.len(), 2, "an unparsable value is no sample: {s:?}");
        assert_eq!(s["web-1"].value, 1500);
        assert_eq!(s["web-1"].window_ms, 30_000);
        assert_eq!((s["web-2"].value, s["web-2"].window_ms), (2000, 60_000));
    }

    #[test]
    fn selectors_print_as_upstream_sorted_by_key() {
        assert_eq!(selector_string(None), Ok(String::new()));
        let sel = LabelSelector {
            match_labels: Some([("queue".to_string(), "jobs".to_string())].into()),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "env".into(),
                    operator: "In".into(),
                    values: Some(vec!["prod".into(), "canary".into()]),
                },
                LabelSelectorRequirement {
                    key: "zone".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        assert_eq!(
            selector_string(Some(&sel)).as_deref(),
            Ok("env in (canary,prod),queue=jobs,!zone")
        );
        let bad = LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "a".into(),
                operator: "Near".into(),
                values: None,
            }]),
            ..Default::default()
        };
        assert!(selector_string(Some(&bad)).is_err());
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("app=web,!x"), "app%3Dweb%2C%21x");
        assert_eq!(encode("env in (a,b)"), "env%20in%20%28a%2Cb%29");
    }
}
