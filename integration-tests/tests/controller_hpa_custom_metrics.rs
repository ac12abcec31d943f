//! The HorizontalPodAutoscaler controller with Pods, Object and External metrics, read
//! through the aggregation layer from a stand-in metrics adapter
//! ([`integration_tests::metrics_adapter`]): each source scales its Deployment to upstream's
//! count, the status carries upstream's `currentMetrics` entries and conditions (as
//! `kubectl describe` shows them), and when the adapter fails the HPA reports
//! FailedGet…Metric and leaves the Deployment alone.

use anyhow::Result;
use integration_tests::controller_manager::{get_ok, post_ok, start_controller_manager};
use integration_tests::hpa::{
    condition, events, make_ready, pod_names, spec_replicas, DEPLOYMENTS, HPAS_V2,
};
use integration_tests::metrics_adapter::MetricsAdapter;
use integration_tests::process::Daemon;
use integration_tests::TestCluster;
use serde_json::{json, Value};

const PODS_METRIC: &str =
    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/requests_per_second";
const INGRESS_METRIC: &str = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/ingresses.networking.k8s.io/main-route/requests_per_second";
const EXTERNAL_METRIC: &str =
    "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_messages_ready";
/// How upstream prints the External metric's selector (Go's `%+v` of the LabelSelector).
const QUEUE_SELECTOR: &str = "&LabelSelector{MatchLabels:map[string]string{queue: worker_tasks,},MatchExpressions:[]LabelSelectorRequirement{},}";

fn deployment(name: &str, replicas: i32) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
}

fn hpa(name: &str, metric: Value) -> Value {
    json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 1, "maxReplicas": 10, "metrics": [metric]}})
}

/// A custom metrics MetricValueList entry.
fn metric_value(kind: &str, name: &str, value: &str) -> Value {
    json!({"describedObject": {"kind": kind, "namespace": "default", "name": name},
        "metric": {"name": "requests_per_second"}, "timestamp": "2026-01-01T00:00:00Z",
        "windowSeconds": 60, "value": value})
}

fn metric_values(items: Vec<Value>) -> Value {
    json!({"kind": "MetricValueList", "apiVersion": "custom.metrics.k8s.io/v1beta2",
        "metadata": {}, "items": items})
}

fn start(cluster: &TestCluster) -> Result<Daemon> {
    start_controller_manager(
        cluster,
        &[
            "--leader-elect=false",
            "--controllers=deployment,replicaset,horizontalpodautoscaling",
            "--horizontal-pod-autoscaler-sync-period=1s",
        ],
    )
}

/// Wait until Deployment `name` has `n` pods.
async fn wait_pods(cm: &Daemon, cluster: &TestCluster, name: &str, n: usize) -> Result<()> {
    cm.eventually(&format!("{n} pods of {name}"), || async {
        Ok((pod_names(cluster, name).await?.len() == n).then_some(()))
    })
    .await
}

async fn wait_replicas(cm: &Daemon, cluster: &TestCluster, name: &str, n: i64) -> Result<()> {
    cm.eventually(&format!("{name} scaled to {n}"), || async {
        Ok((spec_replicas(cluster, name).await? == n).then_some(()))
    })
    .await
}

/// The first `currentMetrics` entry of HPA `name` once `done` accepts it.
async fn current_metric(
    cm: &Daemon,
    cluster: &TestCluster,
    name: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Value> {
    cm.eventually(&format!("currentMetrics of {name}"), || async {
        let h = get_ok(cluster, &format!("{HPAS_V2}/{name}")).await?;
        let m = h["status"]["currentMetrics"][0].clone();
        Ok(done(&m).then_some(m))
    })
    .await
}

async fn first_event(
    cm: &Daemon,
    cluster: &TestCluster,
    name: &str,
    reason: &str,
) -> Result<Value> {
    cm.eventually(&format!("{reason} event of {name}"), || async {
        Ok(events(cluster, name, reason).await?.first().cloned())
    })
    .await
}

/// Wait for a Normal SuccessfulRescale event of HPA `name` giving `reason`.
async fn rescale_event(cm: &Daemon, cluster: &TestCluster, name: &str, reason: &str) -> Result<()> {
    let tail = format!("; reason: {reason}");
    cm.eventually(&format!("rescale of {name}: {reason}"), || async {
        let all = events(cluster, name, "SuccessfulRescale").await?;
        let found = all.iter().any(|e| {
            let m = e["message"].as_str().unwrap_or_default();
            e["type"] == "Normal" && m.starts_with("New size: ") && m.ends_with(&tail)
        });
        Ok(found.then_some(()))
    })
    .await
}

/// ScalingActive of HPA `name` once it is False.
async fn inactive(cm: &Daemon, cluster: &TestCluster, name: &str) -> Result<Value> {
    cm.eventually(&format!("ScalingActive=False on {name}"), || async {
        Ok(condition(cluster, name, "ScalingActive")
            .await?
            .filter(|c| c["status"] == "False"))
    })
    .await
}

#[tokio::test]
async fn pods_object_and_external_metrics_scale_and_failures_do_not() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let adapter = MetricsAdapter::start()?;
    adapter.register(&cluster).await?;
    let cm = start(&cluster)?;
    for (name, replicas) in [("web", 2), ("front", 2), ("worker", 1)] {
        post_ok(&cluster, DEPLOYMENTS, &deployment(name, replicas)).await?;
    }
    wait_pods(&cm, &cluster, "web", 2).await?;
    wait_pods(&cm, &cluster, "front", 2).await?;
    // Pods metrics count only pods past Pending; Object Value targets scale the Ready ones.
    let web = make_ready(&cluster, "web").await?;
    make_ready(&cluster, "front").await?;

    // web: 1 and 2 requests/s per pod, 500m wanted → ratio 3 → 6 pods.
    let samples = vec![
        metric_value("Pod", &web[0], "1"),
        metric_value("Pod", &web[1], "2"),
    ];
    adapter.set(PODS_METRIC, 200, metric_values(samples));
    // front: the Ingress has 30 requests/s, 10 wanted → ratio 3 × 2 ready pods → 6.
    let ingress = vec![metric_value("Ingress", "main-route", "30")];
    adapter.set(INGRESS_METRIC, 200, metric_values(ingress));
    // worker: 50 + 70 messages queued, 30 per replica wanted → 4.
    adapter.set(
        EXTERNAL_METRIC,
        200,
        json!({"kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1",
            "metadata": {}, "items": [
                {"metricName": "queue_messages_ready", "metricLabels": {"queue": "worker_tasks"},
                 "timestamp": "2026-01-01T00:00:00Z", "value": "50"},
                {"metricName": "queue_messages_ready", "metricLabels": {"queue": "worker_tasks"},
                 "timestamp": "2026-01-01T00:00:00Z", "value": "70"}]}),
    );

    let pods_metric = json!({"type": "Pods", "pods": {"metric": {"name": "requests_per_second"},
        "target": {"type": "AverageValue", "averageValue": "500m"}}});
    post_ok(&cluster, HPAS_V2, &hpa("web", pods_metric)).await?;
    let object_metric = json!({"type": "Object", "object": {
        "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main-route"},
        "metric": {"name": "requests_per_second"}, "target": {"type": "Value", "value": "10"}}});
    post_ok(&cluster, HPAS_V2, &hpa("front", object_metric)).await?;
    let external_metric = json!({"type": "External", "external": {
        "metric": {"name": "queue_messages_ready", "selector": {"matchLabels": {"queue": "worker_tasks"}}},
        "target": {"type": "AverageValue", "averageValue": "30"}}});
    post_ok(&cluster, HPAS_V2, &hpa("worker", external_metric)).await?;

    wait_replicas(&cm, &cluster, "web", 6).await?;
    wait_replicas(&cm, &cluster, "front", 6).await?;
    wait_replicas(&cm, &cluster, "worker", 4).await?;

    // The adapter was asked as upstream asks: pods by the scale's selector, the external
    // metric by the metric's selector.
    let asked = adapter.requests(PODS_METRIC);
    assert!(
        asked.iter().any(|l| l.contains("labelSelector=app%3Dweb")),
        "{asked:?}"
    );
    let asked = adapter.requests(EXTERNAL_METRIC);
    assert!(
        asked
            .iter()
            .any(|l| l.contains("labelSelector=queue%3Dworker_tasks")),
        "{asked:?}"
    );

    // currentMetrics in upstream's shape. The 4 new web pods are Pending: they count as 0
    // on a scale-up, which brings the ratio to 1 — so web stays at 6.
    let m = current_metric(&cm, &cluster, "web", |m| !m.is_null()).await?;
    assert_eq!(
        m,
        json!({"type": "Pods", "pods": {"metric": {"name": "requests_per_second"},
            "current": {"averageValue": "1500m"}}})
    );
    let m = current_metric(&cm, &cluster, "front", |m| !m.is_null()).await?;
    assert_eq!(
        m,
        json!({"type": "Object", "object": {
            "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main-route"},
            "metric": {"name": "requests_per_second"}, "current": {"value": "30"}}})
    );
    // The average is over the scale's status replicas: 120 / 4 once all 4 exist.
    let m = current_metric(&cm, &cluster, "worker", |m| {
        m["external"]["current"]["averageValue"] == "30"
    })
    .await?;
    assert_eq!(
        m["external"]["metric"],
        json!({"name": "queue_messages_ready", "selector": {"matchLabels": {"queue": "worker_tasks"}}})
    );

    let active = condition(&cluster, "web", "ScalingActive")
        .await?
        .unwrap_or_default();
    assert_eq!(active["status"], "True", "{active}");
    assert_eq!(active["reason"], "ValidMetricFound");
    assert_eq!(
        active["message"],
        "the HPA was able to successfully calculate a replica count from pods metric requests_per_second"
    );
    // Without `behavior` a scale-up is capped at max(2 × current, 4) per sync, so web and
    // front pass through 4 on their way to 6; the recorder folds both rescales into one
    // event series, which keeps the first message.
    rescale_event(
        &cm,
        &cluster,
        "web",
        "pods metric requests_per_second above target",
    )
    .await?;
    rescale_event(
        &cm,
        &cluster,
        "front",
        "Ingress metric requests_per_second above target",
    )
    .await?;
    rescale_event(
        &cm,
        &cluster,
        "worker",
        &format!("external metric queue_messages_ready({QUEUE_SELECTOR}) above target"),
    )
    .await?;

    // What `kubectl describe` makes of the status.
    integration_tests::real_kubectl::require()?;
    let out = cluster.real_kubectl().run(&["describe", "hpa", "web"])?;
    assert!(out.contains("\"requests_per_second\" on pods:"), "{out}");
    assert!(out.contains("1500m / 500m"), "{out}");
    assert!(out.contains("ValidMetricFound"), "{out}");
    let out = cluster.real_kubectl().run(&["describe", "hpa", "front"])?;
    assert!(
        out.contains("\"requests_per_second\" on Ingress/main-route"),
        "{out}"
    );
    assert!(out.contains("30 / 10"), "{out}");

    // The adapter fails: a 500 for the pods metric, 404s for the others.
    adapter.set(
        PODS_METRIC,
        500,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 500,
            "reason": "InternalError", "message": "adapter backend exploded"}),
    );
    adapter.set(INGRESS_METRIC, 404, json!({"kind": "Status", "apiVersion": "v1",
        "status": "Failure", "code": 404, "reason": "NotFound",
        "message": "the server could not find the metric requests_per_second for ingresses.networking.k8s.io main-route"}));
    adapter.set(
        EXTERNAL_METRIC,
        404,
        json!({"kind": "Status", "apiVersion": "v1",
        "status": "Failure", "code": 404, "reason": "NotFound",
        "message": "the server could not find the metric queue_messages_ready"}),
    );

    let c = inactive(&cm, &cluster, "web").await?;
    assert_eq!(c["reason"], "FailedGetPodsMetric", "{c}");
    assert_eq!(
        c["message"],
        "the HPA was unable to compute the replica count: unable to get metric requests_per_second: \
         unable to fetch metrics from custom metrics API: adapter backend exploded"
    );
    let c = inactive(&cm, &cluster, "front").await?;
    assert_eq!(c["reason"], "FailedGetObjectMetric", "{c}");
    assert_eq!(
        c["message"],
        "the HPA was unable to compute the replica count: unable to get metric requests_per_second: \
         Ingress on default main-route/unable to fetch metrics from custom metrics API: the server \
         could not find the metric requests_per_second for ingresses.networking.k8s.io main-route"
    );
    let c = inactive(&cm, &cluster, "worker").await?;
    assert_eq!(c["reason"], "FailedGetExternalMetric", "{c}");
    assert_eq!(
        c["message"],
        format!(
            "the HPA was unable to compute the replica count: unable to get external metric \
             default/queue_messages_ready/{QUEUE_SELECTOR}: unable to fetch metrics from external \
             metrics API: the server could not find the metric queue_messages_ready"
        )
    );

    let warned = first_event(&cm, &cluster, "web", "FailedGetPodsMetric").await?;
    assert_eq!(warned["type"], "Warning", "{warned}");
    assert_eq!(
        warned["message"],
        "unable to get metric requests_per_second: unable to fetch metrics from custom metrics API: \
         adapter backend exploded"
    );
    first_event(&cm, &cluster, "front", "FailedGetObjectMetric").await?;
    first_event(&cm, &cluster, "worker", "FailedGetExternalMetric").await?;
    let failed = first_event(&cm, &cluster, "web", "FailedComputeMetricsReplicas").await?;
    assert_eq!(
        failed["message"],
        "invalid metrics (1 invalid out of 1), first error is: failed to get pods metric value: \
         unable to get metric requests_per_second: unable to fetch metrics from custom metrics \
         API: adapter backend exploded"
    );

    // Several 1 s periods later nothing was scaled.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(spec_replicas(&cluster, "web").await?, 6);
    assert_eq!(spec_replicas(&cluster, "front").await?, 6);
    assert_eq!(spec_replicas(&cluster, "worker").await?, 4);
    Ok(())
}
