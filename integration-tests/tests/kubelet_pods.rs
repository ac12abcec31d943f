//! The kubelet against a real apiserver, etcd and a private containerd: pods bound to its
//! node run as real containers, report truthful status, restart by policy, and are removed
//! on deletion; a restarted kubelet adopts running containers; static pods get mirrors.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use integration_tests::containerd::Containerd;
use integration_tests::kubelet::{
    create_bound_pod, metrics_text, start_kubelet, wait_pod, Kubelet,
};
use integration_tests::TestCluster;
use serde_json::{json, Value};

/// Pod starts on a busy 2-core machine running a debug build.
const LIMIT: Duration = Duration::from_secs(90);

async fn get_pod(cluster: &TestCluster, name: &str) -> Result<Option<Value>> {
    let (code, body) = cluster
        .get_json(&format!("/api/v1/namespaces/default/pods/{name}"))
        .await?;
    if code.as_u16() == 404 {
        return Ok(None);
    }
    if !code.is_success() {
        bail!("GET pod {name}: {code} {body}");
    }
    Ok(Some(body))
}

async fn create_pod(cluster: &TestCluster, node: &str, name: &str, spec: Value) -> Result<()> {
    create_bound_pod(cluster, node, name, json!({"app": name}), spec).await
}

fn phase(pod: &Value) -> &str {
    pod["status"]["phase"].as_str().unwrap_or_default()
}

fn container_status<'a>(pod: &'a Value, name: &str) -> &'a Value {
    pod["status"]["containerStatuses"]
        .as_array()
        .and_then(|list| list.iter().find(|c| c["name"] == name))
        .unwrap_or(&Value::Null)
}

/// Container IDs containerd holds in the CRI namespace.
fn runtime_containers(containerd: &Containerd) -> Result<Vec<String>> {
    let out = std::process::Command::new("ctr")
        .args([
            "--address",
            &containerd.socket_path().to_string_lossy(),
            "-n",
            "k8s.io",
            "containers",
            "ls",
            "-q",
        ])
        .output()
        .context("running ctr")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect())
}

/// The value of `name{operation_type="op"}` (0 when absent).
fn sample(metrics: &str, name: &str, op: &str) -> f64 {
    let series = format!("{name}{{operation_type=\"{op}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&series))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn wait_node_ready(cluster: &TestCluster, kubelet: &Kubelet) -> Result<Value> {
    let name = kubelet.node_name.clone();
    kubelet
        .daemon
        .eventually_within(LIMIT, "node Ready", || async {
            let (code, node) = cluster.get_json(&format!("/api/v1/nodes/{name}")).await?;
            let ready = code.is_success()
                && node["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                });
            Ok(ready.then_some(node))
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_run_report_status_restart_and_are_removed() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let containerd = Containerd::start()?;
    let kubelet = start_kubelet(&cluster, &containerd, "kubelet-node-a", "10.244.101.0/24")?;
    let node = wait_node_ready(&cluster, &kubelet).await?;
    assert_eq!(node["status"]["capacity"]["pods"], "110");
    assert_eq!(
        node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"],
        kubelet.port
    );
    assert!(node["status"]["nodeInfo"]["containerRuntimeVersion"]
        .as_str()
        .unwrap_or_default()
        .starts_with("containerd://"));
    let (code, lease) = cluster
        .get_json("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/kubelet-node-a")
        .await?;
    assert!(code.is_success(), "node lease: {lease}");

    // A web server whose page carries values from the downward API and a ConfigMap.
    let (code, body) = cluster
        .post_json(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata": {"name": "web-config"}, "data": {"greeting": "hello"}}),
        )
        .await?;
    assert!(code.is_success(), "{body}");
    let script = "mkdir -p /www && echo \"$GREETING from $POD_NAME\" > /www/index.html && exec httpd -f -p 8080 -h /www";
    create_pod(&cluster, &kubelet.node_name, "web", json!({"containers": [{
        "name": "web", "image": "busybox:latest", "command": ["sh", "-c", script],
        "env": [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "greeting"}}}
        ]
    }]})).await?;
    let web = wait_pod(&cluster, &kubelet, "web", "Running with an IP", |p| {
        phase(p) == "Running" && p["status"]["podIP"].is_string()
    })
    .await?;
    let ip = web["status"]["podIP"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        ip.starts_with("10.244.101."),
        "pod IP {ip} is in the node's CIDR"
    );
    assert_eq!(web["status"]["hostIP"], "127.0.0.1");
    let status = container_status(&web, "web");
    assert!(status["containerID"]
        .as_str()
        .unwrap_or_default()
        .starts_with("containerd://"));
    assert_eq!(status["restartCount"], 0);
    // The container was made by the OCI runtime the harness configured: its state is there.
    let id = status["containerID"]
        .as_str()
        .and_then(|c| c.strip_prefix("containerd://"))
        .unwrap_or_default();
    let runtime = containerd.oci_runtime()?;
    let state = containerd.dir().join(&runtime).join("k8s.io").join(id);
    assert!(
        state.is_dir(),
        "no {runtime} state for container {id} at {}",
        state.display()
    );
    let page = kubelet
        .daemon
        .eventually_within(LIMIT, "the page on the pod IP", || async {
            let resp = reqwest::Client::new()
                .get(format!("http://{ip}:8080/"))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            Ok(match resp {
                Ok(r) if r.status().is_success() => Some(r.text().await?),
                _ => None,
            })
        })
        .await?;
    assert_eq!(page.trim(), "hello from web");

    // restartPolicy Never: the exit code and reason are reported, the pod fails.
    create_pod(&cluster, &kubelet.node_name, "fails", json!({"restartPolicy": "Never",
        "containers": [{"name": "main", "image": "busybox:latest", "command": ["sh", "-c", "echo bye > /dev/termination-log; exit 3"]}]})).await?;
    let fails = wait_pod(&cluster, &kubelet, "fails", "Failed", |p| {
        phase(p) == "Failed"
    })
    .await?;
    let terminated = &container_status(&fails, "main")["state"]["terminated"];
    assert_eq!(terminated["exitCode"], 3);
    assert_eq!(terminated["reason"], "Error");
    assert_eq!(terminated["message"].as_str().map(str::trim), Some("bye"));

    // restartPolicy Always: a crashing container restarts and backs off.
    create_pod(&cluster, &kubelet.node_name, "crasher", json!({
        "containers": [{"name": "main", "image": "busybox:latest", "command": ["sh", "-c", "exit 1"]}]})).await?;
    let crasher = wait_pod(
        &cluster,
        &kubelet,
        "crasher",
        "CrashLoopBackOff after a restart",
        |p| {
            let s = container_status(p, "main");
            s["restartCount"].as_i64().unwrap_or(0) >= 1
                && s["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        },
    )
    .await?;
    assert_eq!(
        container_status(&crasher, "main")["lastState"]["terminated"]["exitCode"],
        1
    );

    // Init containers run first, in order; the app sees their work.
    create_pod(&cluster, &kubelet.node_name, "inits", json!({
        "volumes": [{"name": "shared", "emptyDir": {}}],
        "initContainers": [
            {"name": "one", "image": "busybox:latest", "command": ["sh", "-c", "echo one > /work/log"], "volumeMounts": [{"name": "shared", "mountPath": "/work"}]},
            {"name": "two", "image": "busybox:latest", "command": ["sh", "-c", "echo two >> /work/log"], "volumeMounts": [{"name": "shared", "mountPath": "/work"}]}
        ],
        "containers": [{"name": "main", "image": "busybox:latest", "command": ["sh", "-c", "cat /work/log; test \"$(cat /work/log | tr '\\n' ' ')\" = 'one two '"],
                        "volumeMounts": [{"name": "shared", "mountPath": "/work"}]}],
        "restartPolicy": "Never"})).await?;
    let inits = wait_pod(&cluster, &kubelet, "inits", "Succeeded", |p| {
        matches!(phase(p), "Succeeded" | "Failed")
    })
    .await?;
    assert_eq!(
        phase(&inits),
        "Succeeded",
        "init containers ran in order: {}",
        inits["status"]
    );
    let init_states = inits["status"]["initContainerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(init_states.len(), 2);
    assert!(init_states
        .iter()
        .all(|s| s["state"]["terminated"]["reason"] == "Completed"));

    // The CRI calls above were counted as upstream names them (the harness's kubelet serves
    // /metrics with AlwaysAllow on a self-signed certificate).
    let metrics = metrics_text(kubelet.port).await?;
    let sandboxes = sample(
        &metrics,
        "kubelet_runtime_operations_total",
        "run_podsandbox",
    );
    assert!(
        sandboxes >= 4.0,
        "one RunPodSandbox per pod (web, fails, crasher, inits), got {sandboxes}"
    );
    assert!(
        sample(
            &metrics,
            "kubelet_runtime_operations_duration_seconds_count",
            "start_container"
        ) >= 7.0,
        "containers started: web, fails, crasher twice, and inits' two init containers and main"
    );
    assert!(
        sample(
            &metrics,
            "kubelet_pod_worker_duration_seconds_count",
            "create"
        ) >= 4.0,
        "each pod's first sync is a create"
    );

    // Deleting the pod stops and removes its containers, then the pod object goes away.
    let web_container = status["containerID"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("containerd://")
        .to_string();
    assert!(runtime_containers(&containerd)?.contains(&web_container));
    let (code, body) = cluster
        .delete("/api/v1/namespaces/default/pods/web")
        .await?;
    assert!(code.is_success(), "{body}");
    kubelet
        .daemon
        .eventually_within(
            LIMIT,
            "web pod gone from the API and the runtime",
            || async {
                let gone_from_api = get_pod(&cluster, "web").await?.is_none();
                let gone_from_runtime = !runtime_containers(&containerd)?.contains(&web_container);
                Ok((gone_from_api && gone_from_runtime).then_some(()))
            },
        )
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_kubelet_adopts_containers_and_static_pods_get_mirrors() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let containerd = Containerd::start()?;
    let mut kubelet = start_kubelet(&cluster, &containerd, "kubelet-node-b", "10.244.102.0/24")?;
    wait_node_ready(&cluster, &kubelet).await?;

    create_pod(
        &cluster,
        &kubelet.node_name,
        "sleeper",
        json!({"terminationGracePeriodSeconds": 1,
        "containers": [{"name": "main", "image": "busybox:latest", "command": ["sleep", "3600"]}]}),
    )
    .await?;
    let before = wait_pod(&cluster, &kubelet, "sleeper", "Running", |p| {
        phase(p) == "Running"
    })
    .await?;
    let id_before = container_status(&before, "main")["containerID"].clone();

    // A static pod dropped into the manifest directory runs and shows as a mirror pod.
    std::fs::write(
        kubelet.manifest_dir.join("static-web.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\nspec:\n  containers:\n  - name: web\n    image: busybox:latest\n    command: [\"sleep\", \"3600\"]\n",
    )?;
    let mirror_name = format!("static-web-{}", kubelet.node_name);
    let mirror = wait_pod(
        &cluster,
        &kubelet,
        &mirror_name,
        "mirror pod Running",
        |p| phase(p) == "Running",
    )
    .await?;
    assert!(mirror["metadata"]["annotations"]["kubernetes.io/config.mirror"].is_string());
    assert_eq!(mirror["metadata"]["ownerReferences"][0]["kind"], "Node");

    // Kill the kubelet; delete a pod while it is down; start it again.
    kubelet.kill();
    let (code, body) = cluster
        .patch_json(
            "/api/v1/namespaces/default/pods/sleeper",
            "application/merge-patch+json",
            &json!({"metadata": {"labels": {"touched": "yes"}}}),
        )
        .await?;
    assert!(code.is_success(), "{body}");
    create_pod(&cluster, &kubelet.node_name, "doomed", json!({"containers": [{"name": "main", "image": "busybox:latest", "command": ["sleep", "3600"]}]})).await?;
    kubelet.restart()?;
    let doomed = wait_pod(&cluster, &kubelet, "doomed", "Running", |p| {
        phase(p) == "Running"
    })
    .await?;
    let doomed_id = container_status(&doomed, "main")["containerID"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("containerd://")
        .to_string();
    kubelet.kill();
    let (code, body) = cluster
        .delete("/api/v1/namespaces/default/pods/doomed?gracePeriodSeconds=0")
        .await?;
    assert!(code.is_success(), "{body}");
    kubelet.restart()?;

    let after = wait_pod(
        &cluster,
        &kubelet,
        "sleeper",
        "still Running after restarts",
        |p| phase(p) == "Running",
    )
    .await?;
    assert_eq!(
        container_status(&after, "main")["containerID"],
        id_before,
        "the running container was adopted, not replaced"
    );
    assert_eq!(container_status(&after, "main")["restartCount"], 0);
    kubelet
        .daemon
        .eventually_within(
            LIMIT,
            "the pod deleted while the kubelet was down is removed from the runtime",
            || async { Ok((!runtime_containers(&containerd)?.contains(&doomed_id)).then_some(())) },
        )
        .await?;

    // Removing the manifest stops the static pod and deletes its mirror.
    std::fs::remove_file(kubelet.manifest_dir.join("static-web.yaml"))?;
    kubelet
        .daemon
        .eventually_within(LIMIT, "mirror pod deleted", || async {
            Ok(get_pod(&cluster, &mirror_name)
                .await?
                .is_none()
                .then_some(()))
        })
        .await?;
    Ok(())
}
