//! What one metric of an HPA proposes (upstream's `computeReplicasForMetric` and its
//! `computeStatusFor…Metric` helpers): the replica count, the metric's name for the rescale
//! event, and its `currentMetrics` entry — or, when its data is unavailable, the condition
//! and event reason and the messages upstream words.

use k8s_openapi::api::autoscaling::v2::{
    ContainerResourceMetricStatus, ExternalMetricSource, ExternalMetricStatus, MetricIdentifier,
    MetricSpec, MetricStatus, MetricValueStatus, ObjectMetricSource, ObjectMetricStatus,
    PodsMetricSource, PodsMetricStatus, ResourceMetricStatus,
};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Client;

use super::custom_metrics::{self, selector_string};
use super::object_replicas::{average_value_replicas, value_replicas};
use super::replica_calculator::{self, CalcError, Config};
use super::status::milli_quantity;
use super::{metrics, now_ms};

/// What the sync knows when it asks each metric.
pub struct Inputs<'a> {
    pub client: &'a Client,
    pub namespace: &'a str,
    /// The scale's pod selector, as a query string.
    pub selector: &'a str,
    /// The scale's `spec.replicas`.
    pub spec_replicas: i32,
    /// The scale's `status.replicas` (what AverageValue targets of Object and External
    /// metrics divide by, as upstream).
    pub status_replicas: i32,
    /// The pods the selector picks, or why they could not be listed.
    pub pods: &'a Result<Vec<Pod>, String>,
    pub calc: &'a Config,
}

/// One metric's proposal.
pub struct Proposal {
    pub replicas: i32,
    /// How the rescale event names the metric ("pods metric qps").
    pub metric: String,
    pub status: MetricStatus,
}

/// Why one metric gave no proposal.
pub struct Failure {
    /// The ScalingActive condition's and the event's reason (`FailedGetPodsMetric` …).
    pub reason: &'static str,
    /// The event's message; the condition says "the HPA was unable to compute the replica
    /// count: " and this.
    pub message: String,
    /// The error as `FailedComputeMetricsReplicas` quotes it ("first error is: …").
    pub wrapped: String,
}

impl Failure {
    fn new(reason: &'static str, message: String, wrap: impl FnOnce(&str) -> String) -> Failure {
        let wrapped = wrap(&message);
        Failure {
            reason,
            message,
            wrapped,
        }
    }
}

fn quantity(milli: i64) -> Option<Quantity> {
    Some(Quantity(milli_quantity(milli)))
}

fn target_milli(q: &Option<Quantity>) -> Option<i64> {
    q.as_ref()
        .and_then(|q| common::quantity::parse_milli(&q.0))
        .and_then(|m| i64::try_from(m).ok())
}

/// Go's `%+v` of a `*metav1.LabelSelector` (its generated `String()`), as upstream prints
/// External metrics in events: `nil`, or `&LabelSelector{MatchLabels:map[string]string{k: v,},…}`.
fn go_selector(selector: Option<&LabelSelector>) -> String {
    let Some(s) = selector else {
        return "nil".into();
    };
    let labels: String = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}: {v},"))
        .collect();
    let exprs: String = s
        .match_expressions
        .iter()
        .flatten()
        .map(|e| {
            let values = e.values.clone().unwrap_or_default().join(" ");
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[{values}],}},",
                e.key, e.operator
            )
        })
        .collect();
    format!("&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}")
}

/// The proposal of one metric of any source type.
pub async fn metric(input: &Inputs<'_>, spec: &MetricSpec) -> Result<Proposal, Failure> {
    let invalid = |m: &str| Failure::new("InvalidMetricSourceType", m.into(), str::to_string);
    match spec.type_.as_str() {
        "Resource" | "ContainerResource" => resource(input, spec).await,
        "Pods" => match &spec.pods {
            Some(s) => pods(input, s).await,
            None => Err(invalid("pods metric without a source")),
        },
        "Object" => match &spec.object {
            Some(s) => object(input, s).await,
            None => Err(invalid("object metric without a source")),
        },
        "External" => match &spec.external {
            Some(s) => external(input, s).await,
            None => Err(invalid("external metric without a source")),
        },
        other => Err(invalid(&format!("unknown metric source type \"{other}\""))),
    }
}

/// A `Pods` metric: the average of the pods' samples against `averageValue`, with
/// upstream's handling of pending pods and pods without a sample.
async fn pods(input: &Inputs<'_>, source: &PodsMetricSource) -> Result<Proposal, Failure> {
    let name = &source.metric.name;
    let fail = |m: String| {
        Failure::new("FailedGetPodsMetric", m, |m| {
            format!("failed to get pods metric value: {m}")
        })
    };
    let metric_selector = selector_string(source.metric.selector.as_ref()).map_err(fail)?;
    let Some(target) = target_milli(&source.target.average_value) else {
        return Err(fail(
            "invalid pods metric source: no average value target was set".into(),
        ));
    };
    let samples = custom_metrics::pods_metric(
        input.client,
        input.namespace,
        name,
        input.selector,
        &metric_selector,
    )
    .await
    .map_err(|e| fail(format!("unable to get metric {name}: {e}")))?;
    let pods = input.pods.as_ref().map_err(|e| fail(e.clone()))?;
    // No resource name: readiness of the samples is only judged for cpu.
    let (replicas, average) = replica_calculator::plain_replicas(
        input.spec_replicas,
        target,
        "",
        pods,
        samples,
        input.calc,
        now_ms(),
    )
    .map_err(|e| fail(e.to_string()))?;
    Ok(Proposal {
        replicas,
        metric: format!("pods metric {name}"),
        status: MetricStatus {
            type_: "Pods".into(),
            pods: Some(PodsMetricStatus {
                metric: source.metric.clone(),
                current: MetricValueStatus {
                    average_value: quantity(average),
                    ..Default::default()
                },
            }),
            ..Default::default()
        },
    })
}

/// An `Object` metric: one value of the described object against `value`, or divided
/// among the replicas against `averageValue`.
async fn object(input: &Inputs<'_>, source: &ObjectMetricSource) -> Result<Proposal, Failure> {
    let name = &source.metric.name;
    let described = &source.described_object;
    let value_error = |m: String| {
        Failure::new("FailedGetObjectMetric", m, |m| {
            format!("failed to get object metric value: {m}")
        })
    };
    let metric_selector = selector_string(source.metric.selector.as_ref()).map_err(value_error)?;
    let target = &source.target;
    let (value_target, average_target) = match target.type_.as_str() {
        "Value" => (target_milli(&target.value), None),
        "AverageValue" => (None, target_milli(&target.average_value)),
        _ => (None, None),
    };
    if value_target.is_none() && average_target.is_none() {
        return Err(value_error("invalid object metric source: neither a value target nor an average value target was set".into()));
    }
    // upstream's wording, argument order included.
    let value = custom_metrics::object_metric(
        input.client,
        input.namespace,
        name,
        described,
        &metric_selector,
    )
    .await
    .map_err(|e| {
        format!(
            "unable to get metric {name}: {} on {} {}/{e}",
            described.kind, input.namespace, described.name
        )
    });
    let identifier = MetricIdentifier {
        name: name.clone(),
        selector: source.metric.selector.clone(),
    };
    if let Some(target) = value_target {
        let value = value.map_err(value_error)?;
        let pods: &[Pod] = input.pods.as_deref().unwrap_or_default();
        let replicas = value_replicas(input.calc, input.spec_replicas, value, target, pods)
            .map_err(|e| value_error(e.to_string()))?;
        return Ok(Proposal {
            replicas,
            metric: format!("{} metric {name}", described.kind),
            status: MetricStatus {
                type_: "Object".into(),
                object: Some(ObjectMetricStatus {
                    described_object: described.clone(),
                    metric: identifier,
                    current: MetricValueStatus {
                        value: quantity(value),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            },
        });
    }
    let target = average_target.unwrap_or(1);
    let value = value.map_err(|m| {
        Failure::new("FailedGetObjectMetric", m, |m| {
            format!("failed to get object metric value: failed to get {name} object metric: {m}")
        })
    })?;
    let (replicas, average) =
        average_value_replicas(input.calc, input.status_replicas, value, target);
    Ok(Proposal {
        replicas,
        // upstream names an averaged Object metric this way too.
        metric: format!(
            "external metric {name}({})",
            go_selector(source.metric.selector.as_ref())
        ),
        status: MetricStatus {
            type_: "Object".into(),
            // upstream leaves describedObject empty in this branch.
            object: Some(ObjectMetricStatus {
                metric: identifier,
                current: MetricValueStatus {
                    average_value: quantity(average),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        },
    })
}

/// The target of an External metric, in milli-units.
#[derive(Clone, Copy)]
enum ExternalTarget {
    AverageValue(i64),
    Value(i64),
}

/// An `External` metric: the sum of the matching series against `averageValue` per
/// replica, or against `value` scaling the ready pods.
async fn external(input: &Inputs<'_>, source: &ExternalMetricSource) -> Result<Proposal, Failure> {
    let name = &source.metric.name;
    let shown = go_selector(source.metric.selector.as_ref());
    // As upstream, an AverageValue target wins over a Value target.
    let target = match (
        target_milli(&source.target.average_value),
        target_milli(&source.target.value),
    ) {
        (Some(t), _) => ExternalTarget::AverageValue(t),
        (None, Some(t)) => ExternalTarget::Value(t),
        (None, None) => {
            return Err(Failure::new(
                "FailedGetExternalMetric",
                "invalid external metric source: neither a value target nor an average value target was set".into(),
                |m| format!("failed to get {name} external metric value: {m}"),
            ))
        }
    };
    let fail = |m: String| {
        Failure::new("FailedGetExternalMetric", m, |m| {
            match target {
            ExternalTarget::AverageValue(_) => format!(
                "failed to get {name} external metric value: failed to get {name} external metric: {m}"
            ),
            ExternalTarget::Value(_) => format!(
                "failed to get {name} external metric value: failed to get external metric {name}: {m}"
            ),
        }
        })
    };
    let metric_selector = selector_string(source.metric.selector.as_ref()).map_err(fail)?;
    let values =
        custom_metrics::external_metric(input.client, input.namespace, name, &metric_selector)
            .await
            .map_err(|e| {
                fail(format!(
                    "unable to get external metric {}/{name}/{shown}: {e}",
                    input.namespace
                ))
            })?;
    let total: i64 = values.iter().sum();
    let (replicas, current) = match target {
        ExternalTarget::AverageValue(target) => {
            let (r, average) =
                average_value_replicas(input.calc, input.status_replicas, total, target);
            let current = MetricValueStatus {
                average_value: quantity(average),
                ..Default::default()
            };
            (r, current)
        }
        ExternalTarget::Value(target) => {
            let pods: &[Pod] = input.pods.as_deref().unwrap_or_default();
            let r = value_replicas(input.calc, input.spec_replicas, total, target, pods)
                .map_err(|e| fail(e.to_string()))?;
            let current = MetricValueStatus {
                value: quantity(total),
                ..Default::default()
            };
            (r, current)
        }
    };
    Ok(Proposal {
        replicas,
        metric: format!("external metric {name}({shown})"),
        status: MetricStatus {
            type_: "External".into(),
            external: Some(ExternalMetricStatus {
                metric: source.metric.clone(),
                current,
            }),
            ..Default::default()
        },
    })
}

/// A `Resource` or `ContainerResource` metric from the resource metrics API.
async fn resource(input: &Inputs<'_>, spec: &MetricSpec) -> Result<Proposal, Failure> {
    let plain = |reason: &'static str, m: String| Failure::new(reason, m, str::to_string);
    let (resource, container, target, reason) = match (&spec.resource, &spec.container_resource) {
        (Some(r), _) if spec.type_ == "Resource" => (
            r.name.clone(),
            None,
            r.target.clone(),
            "FailedGetResourceMetric",
        ),
        (_, Some(r)) if spec.type_ == "ContainerResource" => (
            r.name.clone(),
            Some(r.container.clone()),
            r.target.clone(),
            "FailedGetContainerResourceMetric",
        ),
        _ => {
            return Err(plain(
                "InvalidMetricSourceType",
                format!("{} metric without a source", spec.type_),
            ))
        }
    };
    let what = if target.average_value.is_some() {
        "usage"
    } else {
        "utilization"
    };
    let fail = |e: String| plain(reason, format!("failed to get {resource} {what}: {e}"));
    let samples = metrics::resource_metric(
        input.client,
        input.namespace,
        input.selector,
        &resource,
        container.as_deref(),
    )
    .await
    .map_err(|e| {
        fail(format!(
            "unable to get metrics for resource {resource}: {e}"
        ))
    })?;
    let pods = input.pods.as_ref().map_err(|e| fail(e.clone()))?;
    let calc = |e: CalcError| fail(e.to_string());
    let current = input.spec_replicas;
    let (replicas, name, current_value) = if let Some(target) = target_milli(&target.average_value)
    {
        let (r, usage) = replica_calculator::plain_replicas(
            current,
            target,
            &resource,
            pods,
            samples,
            input.calc,
            now_ms(),
        )
        .map_err(calc)?;
        let status = MetricValueStatus {
            average_value: quantity(usage),
            ..Default::default()
        };
        (r, format!("{resource} resource"), status)
    } else if let Some(util) = target.average_utilization {
        let p = replica_calculator::resource_replicas(
            current,
            util,
            &resource,
            container.as_deref(),
            pods,
            samples,
            input.calc,
            now_ms(),
        )
        .map_err(calc)?;
        let status = MetricValueStatus {
            average_utilization: Some(p.utilization),
            average_value: quantity(p.raw_average),
            ..Default::default()
        };
        let name = format!("{resource} resource utilization (percentage of request)");
        (p.replicas, name, status)
    } else {
        return Err(plain(reason, "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set".into()));
    };
    let status = match container {
        None => MetricStatus {
            type_: "Resource".into(),
            resource: Some(ResourceMetricStatus {
                name: resource,
                current: current_value,
            }),
            ..Default::default()
        },
        Some(c) => MetricStatus {
            type_: "ContainerResource".into(),
            container_resource: Some(ContainerResourceMetricStatus {
                name: resource,
                container: c,
                current: current_value,
            }),
            ..Default::default()
        },
    };
    Ok(Proposal {
        replicas,
        metric: name,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    #[test]
    fn external_metric_names_print_the_selector_as_go_does() {
        assert_eq!(go_selector(None), "nil");
        let sel = LabelSelector {
            match_labels: Some([("queue".to_string(), "jobs".to_string())].into()),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "env".into(),
                operator: "In".into(),
                values: Some(vec!["a".into(), "b".into()]),
            }]),
        };
        assert_eq!(
            go_selector(Some(&sel)),
            "&LabelSelector{MatchLabels:map[string]string{queue: jobs,},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:env,Operator:In,Values:[a b],},},}"
        );
    }
}
