//! The kubelet's volumes and probes with real containers (issue 4, "Must show" 2 and 3):
//! ConfigMap, Secret, downwardAPI, projected and emptyDir contents are visible inside the
//! container and a ConfigMap update reaches the file; a failing liveness probe restarts the
//! container into CrashLoopBackOff, a failing readiness probe keeps the pod out of Ready, and
//! a container over its memory limit reports OOMKilled.

use std::time::Duration;

use anyhow::{bail, Result};
use integration_tests::containerd::Containerd;
use integration_tests::kubelet::{create_bound_pod, pod_condition, start_kubelet, wait_pod};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(120);

async fn create(cluster: &TestCluster, path: &str, body: Value) -> Result<()> {
    let (code, resp) = cluster.post_json(path, &body).await?;
    if !code.is_success() {
        bail!("POST {path}: {code} {resp}");
    }
    Ok(())
}

async fn create_pod(cluster: &TestCluster, node: &str, name: &str, spec: Value) -> Result<()> {
    let mut spec = spec;
    spec["terminationGracePeriodSeconds"] = json!(1);
    create_bound_pod(
        cluster,
        node,
        name,
        json!({"app": name, "tier": "test"}),
        spec,
    )
    .await
}

fn first_container(pod: &Value) -> &Value {
    &pod["status"]["containerStatuses"][0]
}

/// Runs a command in the pod's (first) running container through containerd.
fn exec_in(containerd: &Containerd, pod: &Value, cmd: &[&str]) -> Result<String> {
    let id = first_container(pod)["containerID"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("containerd://")
        .to_string();
    let exec_id = format!(
        "t{}",
        std::process::id() ^ (cmd.len() as u32) ^ rand_suffix()
    );
    let mut args = vec!["tasks", "exec", "--exec-id", exec_id.as_str(), id.as_str()];
    args.extend_from_slice(cmd);
    containerd.ctr_output(&args)
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volume_contents_are_visible_and_follow_updates() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let containerd = Containerd::start()?;
    let kubelet = start_kubelet(&cluster, &containerd, "kubelet-node-v", "10.244.103.0/24")?;

    create(
        &cluster,
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "app-config"}, "data": {"greeting": "hello"}}),
    )
    .await?;
    create(
        &cluster,
        "/api/v1/namespaces/default/secrets",
        json!({"metadata": {"name": "app-secret"}, "stringData": {"password": "s3cr3t"}}),
    )
    .await?;
    create_pod(&cluster, &kubelet.node_name, "volumes", json!({
        "volumes": [
            {"name": "config", "configMap": {"name": "app-config"}},
            {"name": "secret", "secret": {"secretName": "app-secret"}},
            {"name": "podinfo", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
            {"name": "projected", "projected": {"sources": [
                {"configMap": {"name": "app-config", "items": [{"key": "greeting", "path": "cm-greeting"}]}},
                {"downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}}
            ]}},
            {"name": "scratch", "emptyDir": {}},
            {"name": "fast", "emptyDir": {"medium": "Memory"}}
        ],
        "containers": [{"name": "main", "image": "busybox:latest", "command": ["sh", "-c", "echo from-container > /scratch/note; sleep 3600"],
            "volumeMounts": [
                {"name": "config", "mountPath": "/etc/config"},
                {"name": "secret", "mountPath": "/etc/secret"},
                {"name": "podinfo", "mountPath": "/etc/podinfo"},
                {"name": "projected", "mountPath": "/etc/projected"},
                {"name": "scratch", "mountPath": "/scratch"},
                {"name": "fast", "mountPath": "/fast"}
            ]}]
    })).await?;
    let pod = wait_pod(&cluster, &kubelet, "volumes", "Running", |p| {
        p["status"]["phase"] == "Running"
    })
    .await?;

    assert_eq!(
        exec_in(&containerd, &pod, &["cat", "/etc/config/greeting"])?,
        "hello"
    );
    assert_eq!(
        exec_in(&containerd, &pod, &["cat", "/etc/secret/password"])?,
        "s3cr3t"
    );
    let labels = exec_in(&containerd, &pod, &["cat", "/etc/podinfo/labels"])?;
    assert!(
        labels.contains("app=\"volumes\"") && labels.contains("tier=\"test\""),
        "labels: {labels}"
    );
    assert_eq!(
        exec_in(&containerd, &pod, &["cat", "/etc/projected/cm-greeting"])?,
        "hello"
    );
    assert_eq!(
        exec_in(&containerd, &pod, &["cat", "/etc/projected/name"])?,
        "volumes"
    );
    assert_eq!(
        exec_in(&containerd, &pod, &["cat", "/scratch/note"])?.trim(),
        "from-container"
    );
    let mounts = exec_in(&containerd, &pod, &["cat", "/proc/mounts"])?;
    assert!(
        mounts
            .lines()
            .any(|l| l.contains(" /fast ") && l.starts_with("tmpfs")),
        "Memory emptyDir is tmpfs: {mounts}"
    );
    assert!(
        mounts
            .lines()
            .any(|l| l.contains(" /etc/secret ") && l.starts_with("tmpfs")),
        "secret volume is tmpfs: {mounts}"
    );
    // Volumes a container must not write to are read-only mounts.
    assert!(exec_in(&containerd, &pod, &["touch", "/etc/config/new"]).is_err());

    // Updating the ConfigMap reaches the file (the kubelet refreshes volumes periodically).
    let (code, body) = cluster
        .patch_json(
            "/api/v1/namespaces/default/configmaps/app-config",
            "application/merge-patch+json",
            &json!({"data": {"greeting": "bonjour"}}),
        )
        .await?;
    assert!(code.is_success(), "{body}");
    kubelet
        .daemon
        .eventually_within(LIMIT, "the ConfigMap update in the container", || async {
            let now = exec_in(&containerd, &pod, &["cat", "/etc/config/greeting"])?;
            Ok((now == "bonjour").then_some(()))
        })
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_restart_and_gate_readiness_and_oom_is_reported() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let containerd = Containerd::start()?;
    let kubelet = start_kubelet(&cluster, &containerd, "kubelet-node-p", "10.244.104.0/24")?;

    // Healthy for a few seconds, then the liveness probe fails: restarted, then backed off.
    create_pod(&cluster, &kubelet.node_name, "liveness", json!({"containers": [{
        "name": "main", "image": "busybox:latest",
        "command": ["sh", "-c", "touch /tmp/healthy; sleep 3; rm /tmp/healthy; sleep 3600"],
        "livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1, "failureThreshold": 1}
    }]})).await?;
    // Never ready: the readiness probe always fails, but the container keeps running.
    create_pod(
        &cluster,
        &kubelet.node_name,
        "unready",
        json!({"containers": [{
            "name": "main", "image": "busybox:latest", "command": ["sleep", "3600"],
            "readinessProbe": {"exec": {"command": ["false"]}, "periodSeconds": 1}
        }]}),
    )
    .await?;
    // Over its memory limit: killed by the kernel, reported as OOMKilled.
    create_pod(&cluster, &kubelet.node_name, "oom", json!({"restartPolicy": "Never", "containers": [{
        "name": "main", "image": "busybox:latest", "command": ["sh", "-c", "dd if=/dev/zero of=/dev/null bs=200M count=1"],
        "resources": {"limits": {"memory": "32Mi"}}
    }]})).await?;

    let restarted = wait_pod(
        &cluster,
        &kubelet,
        "liveness",
        "restarted by liveness",
        |p| first_container(p)["restartCount"].as_i64().unwrap_or(0) >= 1,
    )
    .await?;
    assert_eq!(restarted["status"]["phase"], "Running");
    wait_pod(&cluster, &kubelet, "liveness", "CrashLoopBackOff", |p| {
        first_container(p)["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    })
    .await?;
    let (_, events) = cluster
        .get_json("/api/v1/namespaces/default/events")
        .await?;
    let reasons: Vec<String> = events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["involvedObject"]["name"] == "liveness")
        .filter_map(|e| e["reason"].as_str().map(String::from))
        .collect();
    assert!(
        reasons.iter().any(|r| r == "Unhealthy") && reasons.iter().any(|r| r == "Killing"),
        "events: {reasons:?}"
    );

    let unready = wait_pod(&cluster, &kubelet, "unready", "Running", |p| {
        p["status"]["phase"] == "Running"
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (_, unready_now) = cluster
        .get_json("/api/v1/namespaces/default/pods/unready")
        .await?;
    assert_eq!(
        pod_condition(&unready_now, "Ready"),
        "False",
        "{}",
        unready_now["status"]
    );
    assert_eq!(pod_condition(&unready_now, "ContainersReady"), "False");
    assert_eq!(first_container(&unready_now)["ready"], false);
    assert!(first_container(&unready_now)["state"]["running"].is_object());
    assert_eq!(
        first_container(&unready_now)["containerID"],
        first_container(&unready)["containerID"],
        "readiness never restarts"
    );

    let oom = wait_pod(&cluster, &kubelet, "oom", "Failed", |p| {
        p["status"]["phase"] == "Failed"
    })
    .await?;
    let terminated = &first_container(&oom)["state"]["terminated"];
    assert_eq!(terminated["reason"], "OOMKilled", "{}", oom["status"]);
    assert_eq!(terminated["exitCode"], 137);
    Ok(())
}
