//! Sidecar containers (init containers with `restartPolicy: Always`) on the real kubelet and
//! containerd: each lets the init sequence go on once it runs, keeps running beside the app
//! containers (restarted whatever the pod's policy), counts for readiness, and is stopped
//! when the app containers have finished, so that a Job-style pod completes.

use anyhow::Result;
use integration_tests::containerd::Containerd;
use integration_tests::kubelet::{create_bound_pod, pod_condition, start_kubelet, wait_pod};
use integration_tests::TestCluster;
use serde_json::{json, Value};

fn status_of<'a>(pod: &'a Value, list: &str, name: &str) -> &'a Value {
    pod["status"][list]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["name"] == name))
        .unwrap_or(&Value::Null)
}

fn restart_count(pod: &Value, list: &str, name: &str) -> i64 {
    status_of(pod, list, name)["restartCount"]
        .as_i64()
        .unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sidecars_start_first_run_beside_the_app_and_stop_after_it() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let containerd = Containerd::start()?;
    let kubelet = start_kubelet(&cluster, &containerd, "kubelet-sidecars", "10.244.107.0/24")?;
    let node = kubelet.node_name.clone();
    let shared = json!([{"name": "shared", "emptyDir": {}}]);
    let mount = json!([{"name": "shared", "mountPath": "/shared"}]);

    // A Job-style pod: the regular init container fails unless the sidecar already runs,
    // the app needs the init container's file, and the sidecar never exits by itself: the
    // pod can only succeed if the kubelet stops it once the app is done.
    let sidecar_script =
        "touch /shared/sidecar-up; trap 'exit 0' TERM; while true; do sleep 0.2; done";
    create_bound_pod(&cluster, &node, "job-like", json!({}), json!({
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 5,
        "volumes": shared,
        "initContainers": [
            {"name": "log-shipper", "image": "busybox:latest", "restartPolicy": "Always",
             "command": ["sh", "-c", sidecar_script], "volumeMounts": mount},
            {"name": "migrate", "image": "busybox:latest", "volumeMounts": mount,
             "command": ["sh", "-c", "test -f /shared/sidecar-up && echo migrated > /shared/migrated"]}
        ],
        "containers": [{"name": "work", "image": "busybox:latest", "volumeMounts": mount,
            "command": ["sh", "-c", "grep -q migrated /shared/migrated && sleep 1"]}]
    })).await?;
    let done = wait_pod(&cluster, &kubelet, "job-like", "finished", |p| {
        matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed"))
    })
    .await?;
    assert_eq!(done["status"]["phase"], "Succeeded", "{}", done["status"]);
    let migrate = &status_of(&done, "initContainerStatuses", "migrate")["state"]["terminated"];
    assert_eq!(
        migrate["exitCode"], 0,
        "migrate saw the sidecar running: {migrate}"
    );
    let sidecar = &status_of(&done, "initContainerStatuses", "log-shipper")["state"];
    assert!(
        sidecar["terminated"].is_object(),
        "the sidecar was stopped after the app: {sidecar}"
    );
    assert_eq!(
        sidecar["terminated"]["exitCode"], 0,
        "stopped with SIGTERM, not killed"
    );
    assert_eq!(
        restart_count(&done, "initContainerStatuses", "log-shipper"),
        0
    );

    // A serving pod whose sidecar exits every few seconds: it is restarted although the
    // pod's restartPolicy is Never, and the app keeps running meanwhile.
    create_bound_pod(&cluster, &node, "serving", json!({}), json!({
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 1,
        "initContainers": [{"name": "flaky", "image": "busybox:latest", "restartPolicy": "Always",
            "command": ["sh", "-c", "sleep 2; exit 1"]}],
        "containers": [{"name": "web", "image": "busybox:latest",
            "command": ["httpd", "-f", "-p", "8080"]}]
    })).await?;
    let serving = wait_pod(&cluster, &kubelet, "serving", "sidecar restarted", |p| {
        restart_count(p, "initContainerStatuses", "flaky") >= 1
            && status_of(p, "containerStatuses", "web")["state"]["running"].is_object()
    })
    .await?;
    assert_eq!(serving["status"]["phase"], "Running");
    assert_eq!(pod_condition(&serving, "Initialized"), "True");
    assert_eq!(restart_count(&serving, "containerStatuses", "web"), 0);

    // A healthy sidecar beside the app: the pod is Ready, with the sidecar started and ready.
    create_bound_pod(&cluster, &node, "steady", json!({}), json!({
        "terminationGracePeriodSeconds": 1,
        "initContainers": [{"name": "proxy", "image": "busybox:latest", "restartPolicy": "Always",
            "command": ["sleep", "3600"],
            "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1}}],
        "containers": [{"name": "app", "image": "busybox:latest", "command": ["sleep", "3600"]}]
    })).await?;
    let steady = wait_pod(&cluster, &kubelet, "steady", "Ready", |p| {
        pod_condition(p, "Ready") == "True"
    })
    .await?;
    let proxy = status_of(&steady, "initContainerStatuses", "proxy");
    assert_eq!(
        (proxy["ready"].clone(), proxy["started"].clone()),
        (json!(true), json!(true))
    );
    assert!(proxy["state"]["running"].is_object(), "{proxy}");
    Ok(())
}
