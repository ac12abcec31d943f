//! The events the workload controllers record, as `kubectl describe` shows them: reason,
//! message, source component, involved object and count, against a real apiserver and
//! etcd. Pods are API objects only (no scheduler, no kubelet); where a pod must finish the
//! test writes its phase as a kubelet would.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Result;
use integration_tests::controller_manager::{
    create_node, get_ok, merge_patch_ok, pod_names, post_ok, start_controller_manager,
};
use integration_tests::events::{about, messages};
use integration_tests::process::Daemon;
use integration_tests::{real_kubectl, TestCluster};
use serde_json::{json, Value};

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const JOBS: &str = "/apis/batch/v1/namespaces/default/jobs";

fn start(cluster: &TestCluster, controllers: &str) -> Result<Daemon> {
    start_controller_manager(
        cluster,
        &[
            "--leader-elect=false",
            &format!("--controllers={controllers}"),
        ],
    )
}

fn pod_template(app: &str) -> Value {
    json!({"metadata": {"labels": {"app": app}},
           "spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "busybox"}]}})
}

/// Wait for the event about `kind/name` with `reason` and `message`.
async fn wait_for(
    cm: &Daemon,
    cluster: &TestCluster,
    kind: &str,
    name: &str,
    reason: &str,
    message: &str,
) -> Result<Value> {
    cm.eventually(
        &format!("{kind}/{name} event {reason}: {message}"),
        || async {
            let events = about(cluster, kind, name, Some(reason)).await?;
            Ok(events.into_iter().find(|e| e["message"] == message))
        },
    )
    .await
}

fn assert_from(event: &Value, component: &str, type_: &str) {
    assert_eq!(event["source"]["component"], component, "{event}");
    assert_eq!(event["reportingComponent"], component, "{event}");
    assert_eq!(event["type"], type_, "{event}");
}

async fn set_replicas(cluster: &TestCluster, name: &str, replicas: i64) -> Result<()> {
    merge_patch_ok(
        cluster,
        &format!("{DEPLOYMENTS}/{name}"),
        &json!({"spec": {"replicas": replicas}}),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn deployment_and_replicaset_report_every_scale_and_pod() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start(&cluster, "deployment,replicaset")?;
    let d = post_ok(
        &cluster,
        DEPLOYMENTS,
        &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": pod_template("web")}}),
    )
    .await?;
    let rs = cm
        .eventually("the Deployment's ReplicaSet", || async {
            let list = get_ok(&cluster, "/apis/apps/v1/namespaces/default/replicasets").await?;
            Ok(list["items"].as_array().and_then(|items| {
                items
                    .iter()
                    .find_map(|rs| rs["metadata"]["name"].as_str().map(str::to_string))
            }))
        })
        .await?;

    let created = wait_for(
        &cm,
        &cluster,
        "Deployment",
        "web",
        "ScalingReplicaSet",
        &format!("Scaled up replica set {rs} from 0 to 1"),
    )
    .await?;
    assert_from(&created, "deployment-controller", "Normal");
    assert_eq!(created["involvedObject"]["uid"], d["metadata"]["uid"]);
    assert_eq!(created["involvedObject"]["apiVersion"], "apps/v1");
    assert_eq!(created["count"], 1);
    let event_name = created["metadata"]["name"].as_str().unwrap_or_default();
    assert!(event_name.starts_with("web."), "{event_name}");

    set_replicas(&cluster, "web", 3).await?;
    let up = format!("Scaled up replica set {rs} from 1 to 3");
    wait_for(&cm, &cluster, "Deployment", "web", "ScalingReplicaSet", &up).await?;
    cm.eventually("3 pods", || async {
        Ok((pod_names(&cluster, "web").await?.len() == 3).then_some(()))
    })
    .await?;
    set_replicas(&cluster, "web", 1).await?;
    let down = format!("Scaled down replica set {rs} from 3 to 1");
    wait_for(
        &cm,
        &cluster,
        "Deployment",
        "web",
        "ScalingReplicaSet",
        &down,
    )
    .await?;

    // The same scale again is the same event, counted twice.
    cm.eventually("1 pod", || async {
        Ok((pod_names(&cluster, "web").await?.len() == 1).then_some(()))
    })
    .await?;
    set_replicas(&cluster, "web", 3).await?;
    let again = cm
        .eventually("the repeated scale-up counted", || async {
            let events = about(&cluster, "Deployment", "web", Some("ScalingReplicaSet")).await?;
            Ok(events
                .into_iter()
                .find(|e| e["message"] == up.as_str() && e["count"] == 2))
        })
        .await?;
    assert_ne!(again["firstTimestamp"], Value::Null);
    let ups = about(&cluster, "Deployment", "web", Some("ScalingReplicaSet")).await?;
    assert_eq!(
        messages(&ups).iter().filter(|m| **m == up).count(),
        1,
        "one event object per message: {ups:?}"
    );

    // One SuccessfulCreate per pod the ReplicaSet made, one SuccessfulDelete per pod removed.
    cm.eventually("3 live pods again", || async {
        Ok((pod_names(&cluster, "web").await?.len() == 3).then_some(()))
    })
    .await?;
    let creates = cm
        .eventually("5 SuccessfulCreate events", || async {
            let events = about(&cluster, "ReplicaSet", &rs, Some("SuccessfulCreate")).await?;
            Ok((events.len() == 5).then_some(events))
        })
        .await?;
    let mut created_pods = HashSet::new();
    for e in &creates {
        assert_from(e, "replicaset-controller", "Normal");
        assert_eq!(e["count"], 1, "{e}");
        let message = e["message"].as_str().unwrap_or_default();
        let pod = message.strip_prefix("Created pod: ").unwrap_or_default();
        assert!(pod.starts_with(&format!("{rs}-")), "{message}");
        created_pods.insert(pod.to_string());
    }
    assert_eq!(created_pods.len(), 5, "{creates:?}");
    for pod in pod_names(&cluster, "web").await? {
        assert!(created_pods.contains(&pod), "{pod} has no SuccessfulCreate");
    }
    let deletes = cm
        .eventually("2 SuccessfulDelete events", || async {
            let events = about(&cluster, "ReplicaSet", &rs, Some("SuccessfulDelete")).await?;
            Ok((events.len() == 2).then_some(events))
        })
        .await?;
    for e in &deletes {
        assert_from(e, "replicaset-controller", "Normal");
        let message = e["message"].as_str().unwrap_or_default();
        let pod = message.strip_prefix("Deleted pod: ").unwrap_or_default();
        assert!(created_pods.contains(pod), "{message}");
    }

    real_kubectl::require()?;
    let out = cluster
        .real_kubectl()
        .run(&["describe", "deployment", "web"])?;
    assert!(out.contains("ScalingReplicaSet"), "{out}");
    assert!(out.contains(&down), "{out}");
    assert!(out.contains("deployment-controller"), "{out}");
    Ok(())
}

/// Finish a pod as a kubelet would: `phase` through the status subresource.
async fn finish_pod(cluster: &TestCluster, name: &str, phase: &str) -> Result<()> {
    merge_patch_ok(
        cluster,
        &format!("/api/v1/namespaces/default/pods/{name}/status"),
        &json!({"status": {"phase": phase}}),
    )
    .await?;
    Ok(())
}

fn job(name: &str, backoff_limit: i64) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"backoffLimit": backoff_limit, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "busybox"}]}}}})
}

/// The one pod of Job `name`, once it exists.
async fn job_pod(cm: &Daemon, cluster: &TestCluster, name: &str) -> Result<String> {
    cm.eventually(&format!("the pod of Job {name}"), || async {
        let list = get_ok(
            cluster,
            &format!("/api/v1/namespaces/default/pods?labelSelector=batch.kubernetes.io%2Fjob-name%3D{name}"),
        )
        .await?;
        Ok(list["items"]
            .as_array()
            .and_then(|items| items.first())
            .and_then(|p| p["metadata"]["name"].as_str().map(str::to_string)))
    })
    .await
}

#[tokio::test]
async fn job_reports_its_pods_and_how_it_finished() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start(&cluster, "job")?;

    post_ok(&cluster, JOBS, &job("ok", 6)).await?;
    let pod = job_pod(&cm, &cluster, "ok").await?;
    let created = wait_for(
        &cm,
        &cluster,
        "Job",
        "ok",
        "SuccessfulCreate",
        &format!("Created pod: {pod}"),
    )
    .await?;
    assert_from(&created, "job-controller", "Normal");
    finish_pod(&cluster, &pod, "Succeeded").await?;
    let done = wait_for(&cm, &cluster, "Job", "ok", "Completed", "Job completed").await?;
    assert_from(&done, "job-controller", "Normal");
    assert_eq!(done["involvedObject"]["apiVersion"], "batch/v1");

    post_ok(&cluster, JOBS, &job("bad", 0)).await?;
    let pod = job_pod(&cm, &cluster, "bad").await?;
    finish_pod(&cluster, &pod, "Failed").await?;
    let failed = wait_for(
        &cm,
        &cluster,
        "Job",
        "bad",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    .await?;
    assert_from(&failed, "job-controller", "Warning");
    assert_eq!(failed["count"], 1);
    Ok(())
}

#[tokio::test]
async fn cronjob_reports_the_jobs_it_creates_and_sees_finish() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start(&cluster, "cronjob,job")?;
    post_ok(
        &cluster,
        "/apis/batch/v1/namespaces/default/cronjobs",
        &json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "tick"},
            "spec": {"schedule": "* * * * *", "concurrencyPolicy": "Forbid",
                "jobTemplate": {"spec": {"backoffLimit": 0, "template": {"spec": {
                    "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}}}),
    )
    .await?;
    // The first due time is at most a minute away.
    let created = cm
        .eventually_within(Duration::from_secs(150), "a SuccessfulCreate", || async {
            let events = about(&cluster, "CronJob", "tick", Some("SuccessfulCreate")).await?;
            Ok(events.into_iter().next())
        })
        .await?;
    assert_from(&created, "cronjob-controller", "Normal");
    let message = created["message"].as_str().unwrap_or_default();
    let job = message.strip_prefix("Created job ").unwrap_or_default();
    assert!(job.starts_with("tick-"), "{message}");

    let pod = job_pod(&cm, &cluster, job).await?;
    finish_pod(&cluster, &pod, "Succeeded").await?;
    let saw = wait_for(
        &cm,
        &cluster,
        "CronJob",
        "tick",
        "SawCompletedJob",
        &format!("Saw completed job: {job}, condition: Complete"),
    )
    .await?;
    assert_from(&saw, "cronjob-controller", "Normal");
    Ok(())
}

#[tokio::test]
async fn statefulset_reports_claims_and_pods() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start(&cluster, "statefulset")?;
    post_ok(
        &cluster,
        "/apis/apps/v1/namespaces/default/statefulsets",
        &json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"replicas": 1, "serviceName": "db", "podManagementPolicy": "Parallel",
                "selector": {"matchLabels": {"app": "db"}},
                "template": pod_template("db"),
                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"],
                             "resources": {"requests": {"storage": "1Gi"}}}}]}}),
    )
    .await?;
    let claim = wait_for(
        &cm,
        &cluster,
        "StatefulSet",
        "db",
        "SuccessfulCreate",
        "create Claim data-db-0 Pod db-0 in StatefulSet db success",
    )
    .await?;
    assert_from(&claim, "statefulset-controller", "Normal");
    wait_for(
        &cm,
        &cluster,
        "StatefulSet",
        "db",
        "SuccessfulCreate",
        "create Pod db-0 in StatefulSet db successful",
    )
    .await?;
    merge_patch_ok(
        &cluster,
        "/apis/apps/v1/namespaces/default/statefulsets/db",
        &json!({"spec": {"replicas": 0}}),
    )
    .await?;
    let deleted = wait_for(
        &cm,
        &cluster,
        "StatefulSet",
        "db",
        "SuccessfulDelete",
        "delete Pod db-0 in StatefulSet db successful",
    )
    .await?;
    assert_from(&deleted, "statefulset-controller", "Normal");
    Ok(())
}

#[tokio::test]
async fn daemonset_reports_each_pod_it_creates() -> Result<()> {
    let cluster = TestCluster::start().await?;
    create_node(&cluster, "n1", json!({}), json!([]), true).await?;
    let cm = start(&cluster, "daemonset")?;
    post_ok(
        &cluster,
        "/apis/apps/v1/namespaces/default/daemonsets",
        &json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": pod_template("agent")}}),
    )
    .await?;
    let pod = cm
        .eventually("the daemon pod", || async {
            Ok(pod_names(&cluster, "agent").await?.into_iter().next())
        })
        .await?;
    let created = wait_for(
        &cm,
        &cluster,
        "DaemonSet",
        "agent",
        "SuccessfulCreate",
        &format!("Created pod: {pod}"),
    )
    .await?;
    assert_from(&created, "daemonset-controller", "Normal");
    assert_eq!(created["involvedObject"]["namespace"], "default");
    Ok(())
}
