//! The HorizontalPodAutoscaler controller against a real apiserver and etcd, without a
//! resource metrics API (none is served here): what an HPA does when its metrics are
//! unavailable (conditions and events as upstream's, no scaling), the min/maxReplicas
//! clamps that apply without metrics (also for an autoscaling/v1 object), a target scaled
//! to zero, and a target that does not exist.

use anyhow::Result;
use integration_tests::controller_manager::{
    get_ok, merge_patch_ok, post_ok, start_controller_manager,
};
use integration_tests::hpa::{condition, events, spec_replicas, DEPLOYMENTS, HPAS_V2};
use integration_tests::process::Daemon;
use integration_tests::TestCluster;
use serde_json::{json, Value};

const HPAS_V1: &str = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers";

fn deployment(name: &str, replicas: i32) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "busybox",
                    "resources": {"requests": {"cpu": "100m"}}}]}}}})
}

fn hpa_v2(name: &str, target: &str, min: i32, max: i32) -> Value {
    json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": min, "maxReplicas": max,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 50}}}]}})
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

#[tokio::test]
async fn unavailable_metrics_make_scaling_inactive_without_scaling() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start(&cluster)?;
    post_ok(&cluster, DEPLOYMENTS, &deployment("web", 2)).await?;
    post_ok(&cluster, HPAS_V2, &hpa_v2("web", "web", 1, 5)).await?;

    let active = cm
        .eventually("ScalingActive=False", || async {
            Ok(condition(&cluster, "web", "ScalingActive")
                .await?
                .filter(|c| c["status"] == "False"))
        })
        .await?;
    assert_eq!(active["reason"], "FailedGetResourceMetric", "{active}");
    let message = active["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(
            "the HPA was unable to compute the replica count: failed to get cpu utilization: \
             unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API:"
        ),
        "{message}"
    );
    let able = condition(&cluster, "web", "AbleToScale")
        .await?
        .unwrap_or_default();
    assert_eq!(able["status"], "True", "{able}");
    assert_eq!(able["reason"], "SucceededGetScale");

    let h = get_ok(&cluster, &format!("{HPAS_V2}/web")).await?;
    assert_eq!(h["status"]["currentReplicas"], 2, "{h}");
    assert!(
        h["status"]["lastScaleTime"].is_null(),
        "nothing was scaled: {h}"
    );

    let warned = cm
        .eventually("FailedGetResourceMetric event", || async {
            let e = events(&cluster, "web", "FailedGetResourceMetric").await?;
            Ok(e.first().cloned())
        })
        .await?;
    assert_eq!(warned["type"], "Warning", "{warned}");
    let failed = cm
        .eventually("FailedComputeMetricsReplicas event", || async {
            let e = events(&cluster, "web", "FailedComputeMetricsReplicas").await?;
            Ok(e.first().cloned())
        })
        .await?;
    assert!(
        failed["message"].as_str().unwrap_or_default().starts_with(
            "invalid metrics (1 invalid out of 1), first error is: failed to get cpu utilization:"
        ),
        "{failed}"
    );
    // Several periods passed (1 s each): still the Deployment's own 2.
    assert_eq!(spec_replicas(&cluster, "web").await?, 2);

    // A target at zero replicas disables scaling, as upstream.
    post_ok(&cluster, DEPLOYMENTS, &deployment("idle", 0)).await?;
    post_ok(&cluster, HPAS_V2, &hpa_v2("idle", "idle", 1, 5)).await?;
    let disabled = cm
        .eventually("ScalingDisabled", || async {
            Ok(condition(&cluster, "idle", "ScalingActive")
                .await?
                .filter(|c| c["reason"] == "ScalingDisabled"))
        })
        .await?;
    assert_eq!(disabled["status"], "False");
    assert_eq!(spec_replicas(&cluster, "idle").await?, 0);

    // A target that does not exist: AbleToScale=False, FailedGetScale.
    post_ok(&cluster, HPAS_V2, &hpa_v2("ghost", "missing", 1, 5)).await?;
    let unable = cm
        .eventually("FailedGetScale", || async {
            Ok(condition(&cluster, "ghost", "AbleToScale")
                .await?
                .filter(|c| c["status"] == "False"))
        })
        .await?;
    assert_eq!(unable["reason"], "FailedGetScale", "{unable}");
    Ok(())
}

#[tokio::test]
async fn min_and_max_replicas_clamp_the_target_without_metrics() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start(&cluster)?;
    post_ok(&cluster, DEPLOYMENTS, &deployment("small", 1)).await?;
    post_ok(&cluster, DEPLOYMENTS, &deployment("big", 6)).await?;
    // An autoscaling/v1 object: the controller sees it through v2 all the same.
    post_ok(
        &cluster,
        HPAS_V1,
        &json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "small"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "small"},
                "minReplicas": 3, "maxReplicas": 5, "targetCPUUtilizationPercentage": 50}}),
    )
    .await?;
    post_ok(&cluster, HPAS_V2, &hpa_v2("big", "big", 1, 4)).await?;

    cm.eventually("small scaled up to minReplicas", || async {
        Ok((spec_replicas(&cluster, "small").await? == 3).then_some(()))
    })
    .await?;
    cm.eventually("big scaled down to maxReplicas", || async {
        Ok((spec_replicas(&cluster, "big").await? == 4).then_some(()))
    })
    .await?;

    let rescaled = cm
        .eventually("SuccessfulRescale event", || async {
            Ok(events(&cluster, "small", "SuccessfulRescale")
                .await?
                .first()
                .cloned())
        })
        .await?;
    assert_eq!(
        rescaled["message"],
        "New size: 3; reason: Current number of replicas below Spec.MinReplicas"
    );
    assert_eq!(rescaled["type"], "Normal");
    let down = cm
        .eventually("big's SuccessfulRescale", || async {
            Ok(events(&cluster, "big", "SuccessfulRescale")
                .await?
                .first()
                .cloned())
        })
        .await?;
    assert_eq!(
        down["message"],
        "New size: 4; reason: Current number of replicas above Spec.MaxReplicas"
    );

    let v1 = cm
        .eventually("v1 status with lastScaleTime", || async {
            let h = get_ok(&cluster, &format!("{HPAS_V1}/small")).await?;
            Ok(
                (!h["status"]["lastScaleTime"].is_null() && h["status"]["desiredReplicas"] == 3)
                    .then_some(h),
            )
        })
        .await?;
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    let able = condition(&cluster, "small", "AbleToScale")
        .await?
        .unwrap_or_default();
    assert_eq!(able["status"], "True", "{able}");

    // A second rescale with another message is another event (events are keyed by their
    // message too); the first keeps its own message.
    merge_patch_ok(
        &cluster,
        &format!("{HPAS_V1}/small"),
        &json!({"spec": {"minReplicas": 1, "maxReplicas": 2}}),
    )
    .await?;
    let second = "New size: 2; reason: Current number of replicas above Spec.MaxReplicas";
    let rescales = cm
        .eventually("small's second SuccessfulRescale", || async {
            let all = events(&cluster, "small", "SuccessfulRescale").await?;
            Ok(all.iter().any(|e| e["message"] == second).then_some(all))
        })
        .await?;
    let mut messages = integration_tests::events::messages(&rescales);
    messages.sort();
    assert_eq!(
        messages,
        [
            second,
            "New size: 3; reason: Current number of replicas below Spec.MinReplicas"
        ],
        "{rescales:?}"
    );
    for e in &rescales {
        assert_eq!(e["source"]["component"], "horizontal-pod-autoscaler", "{e}");
        assert_eq!(e["count"], 1, "{e}");
    }
    Ok(())
}
