//! The metrics add-on end to end: a real kubelet runs a CPU-burning pod and an idle one;
//! rudder-metrics (the real binary, on the host with the admin kubeconfig) scrapes the
//! kubelet's `/metrics/resource` through the apiserver, and behind the add-on's own
//! APIService manifest `metrics.k8s.io` returns PodMetrics and NodeMetrics through the
//! aggregation layer — with the front-proxy settings read from the
//! extension-apiserver-authentication ConfigMap — and the real `kubectl top` prints them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use common::pki::Ca;
use integration_tests::containerd::Containerd;
use integration_tests::kubelet::{create_bound_pod, start_kubelet, wait_pod};
use integration_tests::process::{self, Daemon};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(120);

/// A CPU quantity in nanocores (`123n`, `5m`, `1`).
fn nanocores(q: &str) -> Option<u64> {
    if let Some(n) = q.strip_suffix('n') {
        return n.parse().ok();
    }
    if let Some(m) = q.strip_suffix('m') {
        return m.parse::<u64>().ok().map(|m| m * 1_000_000);
    }
    q.parse::<u64>().ok().map(|c| c * 1_000_000_000)
}

fn pod_cpu(metrics: &Value) -> Option<u64> {
    metrics["containers"]
        .as_array()?
        .iter()
        .map(|c| c["usage"]["cpu"].as_str().and_then(nanocores))
        .sum()
}

fn kubectl(cluster: &TestCluster, args: &[&str]) -> Result<String> {
    cluster.real_kubectl().run(args)
}

fn manifest(name: &str) -> PathBuf {
    process::workspace_root()
        .join("addons/metrics/manifests")
        .join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_and_node_metrics_reach_kubectl_top() -> Result<()> {
    let pki = tempfile::tempdir()?;
    let path = |n: &str| pki.path().join(n);
    let front_proxy_ca = Ca::generate("front-proxy-ca")?;
    front_proxy_ca.write(&path("front-proxy-ca.crt"), &path("front-proxy-ca.key"))?;
    front_proxy_ca
        .issue_client("front-proxy-client", &[])?
        .write(
            &path("front-proxy-client.crt"),
            &path("front-proxy-client.key"),
        )?;
    let arg = |flag: &str, file: &str| format!("{flag}={}", path(file).display());
    let args = [
        arg("--proxy-client-cert-file", "front-proxy-client.crt"),
        arg("--proxy-client-key-file", "front-proxy-client.key"),
        arg("--requestheader-client-ca-file", "front-proxy-ca.crt"),
        "--requestheader-allowed-names=front-proxy-client".to_string(),
        // The node's name does not resolve; its InternalIP (127.0.0.1) does (the scrape goes
        // through the apiserver's node proxy).
        "--kubelet-preferred-address-types=InternalIP,Hostname".to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let cluster = TestCluster::start_with_args(&args).await?;
    let containerd = Containerd::start()?;
    let kubelet = start_kubelet(&cluster, &containerd, "metrics-node", "10.244.151.0/24")?;

    // One pod burns CPU, one sleeps.
    create_bound_pod(
        &cluster,
        &kubelet.node_name,
        "burn",
        json!({"app": "burn"}),
        json!({
        "containers": [{"name": "burn", "image": "busybox:latest",
                        "command": ["sh", "-c", "while true; do :; done"]}]}),
    )
    .await?;
    create_bound_pod(
        &cluster,
        &kubelet.node_name,
        "idle",
        json!({"app": "idle"}),
        json!({
        "containers": [{"name": "idle", "image": "busybox:latest", "command": ["sleep", "3600"]}]}),
    )
    .await?;
    for name in ["burn", "idle"] {
        wait_pod(&cluster, &kubelet, name, "Running", |p| {
            p["status"]["phase"] == "Running"
        })
        .await?;
    }

    // rudder-metrics on the host, registered the way the add-on's manifests register it.
    let port = process::free_port()?;
    let metrics_log = cluster.dir().join("rudder-metrics.log");
    let metrics = Daemon::spawn(
        "rudder-metrics",
        &process::bin_dir()?.join("rudder-metrics"),
        &[
            format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
            "--bind-address=127.0.0.1".into(),
            format!("--secure-port={port}"),
            "--metric-resolution=3s".into(),
            "-v=2".into(),
        ],
        &metrics_log,
    )?;
    for file in [
        "service.yaml",
        "apiservice.yaml",
        "rbac.yaml",
        "serviceaccount.yaml",
    ] {
        kubectl(
            &cluster,
            &["apply", "-f", &manifest(file).to_string_lossy()],
        )?;
    }
    // No endpoints controller runs here: the Service's endpoint is the host process.
    let (code, body) = cluster
        .post_json(
            "/api/v1/namespaces/kube-system/endpoints",
            &json!({"metadata": {"name": "metrics-server"},
                    "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": port}]}]}),
        )
        .await?;
    assert!(code.is_success(), "{body}");

    let burn = metrics
        .eventually_within(LIMIT, "PodMetrics of burn with CPU", || async {
            let (code, m) = cluster
                .get_json("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/burn")
                .await?;
            Ok((code.is_success() && pod_cpu(&m).is_some_and(|c| c > 0)).then_some(m))
        })
        .await?;
    assert_eq!(burn["kind"], "PodMetrics");
    assert_eq!(burn["metadata"]["labels"]["app"], "burn");
    assert_eq!(burn["containers"][0]["name"], "burn");
    let memory = burn["containers"][0]["usage"]["memory"]
        .as_str()
        .context("memory")?;
    assert_ne!(memory, "0", "a running container has a working set");
    let burn_cpu = pod_cpu(&burn).context("cpu")?;

    // Label selectors select; the idle pod uses less CPU than the busy loop.
    let (code, list) = cluster
        .get_json("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Didle")
        .await?;
    assert!(code.is_success(), "{list}");
    let items = list["items"].as_array().context("items")?;
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["metadata"]["name"], "idle");
    let idle_cpu = pod_cpu(&items[0]).context("idle cpu")?;
    assert!(idle_cpu < burn_cpu, "idle {idle_cpu}n vs burn {burn_cpu}n");
    let (code, missing) = cluster
        .get_json("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope")
        .await?;
    assert_eq!(code.as_u16(), 404, "{missing}");

    let (code, node) = cluster
        .get_json("/apis/metrics.k8s.io/v1beta1/nodes/metrics-node")
        .await?;
    assert!(code.is_success(), "{node}");
    assert_eq!(node["kind"], "NodeMetrics");
    assert!(
        node["usage"]["cpu"]
            .as_str()
            .and_then(nanocores)
            .is_some_and(|c| c > 0),
        "{node}"
    );

    // The real kubectl top.
    let top = kubectl(&cluster, &["top", "pod", "-n", "default"])?;
    let burn_line = top
        .lines()
        .find(|l| l.starts_with("burn "))
        .with_context(|| format!("burn in kubectl top pod:\n{top}"))?;
    let cols: Vec<&str> = burn_line.split_whitespace().collect();
    assert!(
        cols.len() >= 3 && cols[1].ends_with('m') && cols[2].ends_with("Mi"),
        "{top}"
    );
    assert!(top.contains("idle"), "{top}");
    let top_nodes = kubectl(&cluster, &["top", "node"])?;
    assert!(top_nodes.contains("metrics-node"), "{top_nodes}");
    assert!(top_nodes.contains("CPU(cores)"), "{top_nodes}");
    drop(metrics);
    Ok(())
}
