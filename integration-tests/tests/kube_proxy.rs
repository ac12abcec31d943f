//! kube-proxy (nftables mode) with real pods: a ClusterIP reaches every endpoint, follows the
//! endpoints as they scale down, refuses connections at once with no endpoints, serves the
//! node port on 127.0.0.1, and keeps serving while kube-proxy restarts.
//!
//! Service traffic comes from a client pod (`nc` run in it with `ctr task exec`), as a pod's
//! traffic would: the host itself cannot reach cluster IPs here, because the traffic guard
//! matches `oifname` in the output hook, which still names the pre-DNAT route (eth0), so it
//! drops host-originated packets that kube-proxy DNATs to a pod. The node port is reached from
//! the host on 127.0.0.1 (routed via lo before DNAT, so the guard lets it pass).
//!
//! One test function: kube-proxy owns the host's `table ip kube-proxy`, so two of these tests
//! running side by side would overwrite each other's rules. The traffic guard is installed
//! by `TestCluster::start` before anything sends a packet.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use integration_tests::containerd::Containerd;
use integration_tests::controller_manager::start_controller_manager;
use integration_tests::kube_proxy::{start_kube_proxy, KubeProxy};
use integration_tests::kubelet::{create_bound_pod, start_kubelet, wait_pod};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const NODE: &str = "proxy-node";
const POD_CIDR: &str = "10.244.60.0/24";
const PODS: [&str; 3] = ["web-0", "web-1", "web-2"];
/// Generous: a debug build on a busy 2-core machine.
const LIMIT: Duration = Duration::from_secs(120);

/// Sends HTTP requests from inside the client pod: `nc` run in its container through
/// `ctr task exec`, so each request is a new connection balanced anew.
#[derive(Clone)]
struct PodClient {
    ctr_address: String,
    container_id: String,
}

static EXEC_ID: AtomicUsize = AtomicUsize::new(0);

impl PodClient {
    /// GET `url` (`http://ip:port/`) from the pod with `nc` (the image's busybox `wget`
    /// crashes); `Ok(body)` on a 200, else `Err(what happened)`.
    fn get(&self, url: &str) -> Result<std::result::Result<String, String>> {
        let target = url.trim_start_matches("http://").trim_end_matches('/');
        let (host, port) = target.rsplit_once(':').unwrap_or((target, "80"));
        let exec_id = format!("get-{}", EXEC_ID.fetch_add(1, Ordering::Relaxed));
        let script = format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {host} {port}");
        let out = std::process::Command::new("ctr")
            .args([
                "--address",
                &self.ctr_address,
                "-n",
                "k8s.io",
                "task",
                "exec",
            ])
            .args(["--exec-id", &exec_id, &self.container_id])
            .args(["sh", "-c", &script])
            .stdin(std::process::Stdio::null())
            .output()
            .context("running ctr task exec")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && stdout.starts_with("HTTP/1.1 200") {
            let body = stdout.split("\r\n\r\n").nth(1).unwrap_or_default();
            Ok(Ok(body.trim().to_string()))
        } else {
            Ok(Err(format!(
                "{}{}",
                stdout,
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }
}

/// One GET from the client pod; the page's body (the serving pod's name).
async fn fetch(client: &PodClient, url: &str) -> Result<String> {
    let (client, target) = (client.clone(), url.to_string());
    match tokio::task::spawn_blocking(move || client.get(&target)).await?? {
        Ok(body) => Ok(body),
        Err(message) => bail!("GET {url} from the client pod: {message}"),
    }
}

/// A GET from the client pod is refused at once ("Connection refused", not a timeout).
async fn refused(client: &PodClient, url: &str) -> Result<bool> {
    let (client, url) = (client.clone(), url.to_string());
    Ok(matches!(
        tokio::task::spawn_blocking(move || client.get(&url)).await??,
        Err(message) if message.contains("Connection refused")
    ))
}

/// A host client opening a new connection per request (for the node port on 127.0.0.1).
fn http() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()?)
}

async fn set_app_label(cluster: &TestCluster, pod: &str, app: &str) -> Result<()> {
    let (code, body) = cluster
        .patch_json(
            &format!("/api/v1/namespaces/default/pods/{pod}"),
            "application/merge-patch+json",
            &json!({"metadata": {"labels": {"app": app}}}),
        )
        .await?;
    if !code.is_success() {
        bail!("labelling {pod}: {code} {body}");
    }
    Ok(())
}

/// Ready endpoint addresses in the Service's slices.
async fn ready_endpoints(cluster: &TestCluster, svc: &str) -> Result<BTreeSet<String>> {
    let (code, list) = cluster
        .get_json(&format!(
            "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D{svc}"
        ))
        .await?;
    if !code.is_success() {
        bail!("listing slices: {code} {list}");
    }
    let mut out = BTreeSet::new();
    for slice in list["items"].as_array().into_iter().flatten() {
        for ep in slice["endpoints"].as_array().into_iter().flatten() {
            if ep["conditions"]["ready"] != Value::Bool(false) {
                if let Some(ip) = ep["addresses"][0].as_str() {
                    out.insert(ip.to_string());
                }
            }
        }
    }
    Ok(out)
}

/// Wait until `want` (pod names) are exactly the pods answering: `rounds` requests in a row
/// all succeed and all answers come from `want`, and every pod of `want` answered.
async fn wait_answering(
    proxy: &KubeProxy,
    client: &PodClient,
    url: &str,
    want: &[&str],
    rounds: usize,
) -> Result<()> {
    let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    let last = std::sync::Mutex::new(String::new());
    let result = proxy
        .daemon
        .eventually_within(
            LIMIT,
            &format!("{url} answered by exactly {want:?}"),
            || {
                let want = want.clone();
                let last = &last;
                async move {
                    let mut seen = BTreeSet::new();
                    for _ in 0..rounds {
                        let outcome = fetch(client, url).await;
                        let accepted = matches!(&outcome, Ok(name) if want.contains(name));
                        if let Ok(mut l) = last.lock() {
                            *l = format!("{outcome:?}");
                        }
                        match outcome {
                            Ok(name) if accepted => {
                                seen.insert(name);
                            }
                            _ => return Ok(None),
                        }
                    }
                    Ok((seen == want).then_some(()))
                }
            },
        )
        .await;
    result.with_context(|| {
        format!(
            "last answer: {}\n--- nft ---\n{}",
            last.lock().map(|l| l.clone()).unwrap_or_default(),
            proxy.ruleset().unwrap_or_else(|e| e.to_string())
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_ip_and_node_port_follow_endpoints_and_survive_restarts() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let containerd = Containerd::start()?;
    let kubelet = start_kubelet(&cluster, &containerd, NODE, POD_CIDR)?;
    let _cm = start_controller_manager(&cluster, &["--controllers=endpointslice,endpoints"])?;
    let mut proxy = start_kube_proxy(&cluster, NODE, "10.244.0.0/16")?;

    // Three web servers, each answering with its own name.
    let script =
        "mkdir -p /www && echo \"$POD_NAME\" > /www/index.html && exec httpd -f -p 8080 -h /www";
    for name in PODS {
        create_bound_pod(&cluster, NODE, name, json!({"app": "web"}), json!({"containers": [{
            "name": "web", "image": "busybox:latest", "command": ["sh", "-c", script],
            "ports": [{"containerPort": 8080, "name": "http"}],
            "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
        }]}))
        .await?;
    }
    create_bound_pod(
        &cluster,
        NODE,
        "client",
        json!({"app": "client"}),
        json!({"containers": [{
        "name": "client", "image": "busybox:latest", "command": ["sleep", "3600"]}]}),
    )
    .await?;
    let client_pod = wait_pod(&cluster, &kubelet, "client", "Running", |p| {
        p["status"]["phase"] == "Running"
    })
    .await?;
    let container_id = client_pod["status"]["containerStatuses"][0]["containerID"]
        .as_str()
        .and_then(|id| id.strip_prefix("containerd://"))
        .context("client container ID")?
        .to_string();
    let client = PodClient {
        ctr_address: containerd.socket_path().to_string_lossy().into_owned(),
        container_id,
    };
    let mut pod_ips = Vec::new();
    for name in PODS {
        let pod = wait_pod(&cluster, &kubelet, name, "Ready with an IP", |p| {
            p["status"]["podIP"].is_string()
                && p["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
        })
        .await?;
        pod_ips.push(
            pod["status"]["podIP"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }

    let (code, svc) = cluster
        .post_json(
            "/api/v1/namespaces/default/services",
            &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                    "spec": {"type": "NodePort", "selector": {"app": "web"},
                             "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
        )
        .await?;
    assert!(code.is_success(), "{svc}");
    let cluster_ip = svc["spec"]["clusterIP"]
        .as_str()
        .context("clusterIP")?
        .to_string();
    let node_port = svc["spec"]["ports"][0]["nodePort"]
        .as_u64()
        .context("nodePort")?;
    let svc_url = format!("http://{cluster_ip}:80/");
    let node_url = format!("http://127.0.0.1:{node_port}/");

    proxy
        .daemon
        .eventually_within(LIMIT, "3 ready endpoints", || async {
            Ok((ready_endpoints(&cluster, "web").await?.len() == 3).then_some(()))
        })
        .await?;
    proxy.wait_healthy().await?;
    let host = http()?;

    // 60 requests to the ClusterIP reach all three pods.
    wait_answering(&proxy, &client, &svc_url, &PODS, 6).await?;
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..60 {
        let name = fetch(&client, &svc_url)
            .await
            .with_context(|| format!("GET {svc_url}\n{}", proxy.daemon.log_tail(30)))?;
        *counts.entry(name).or_default() += 1;
    }
    assert_eq!(
        counts.keys().cloned().collect::<Vec<_>>(),
        PODS.to_vec(),
        "every pod answers: {counts:?}"
    );
    assert_eq!(counts.values().sum::<usize>(), 60);

    // The node port answers on 127.0.0.1.
    let resp = host
        .get(&node_url)
        .send()
        .await
        .context("node port on 127.0.0.1")?;
    assert!(resp.status().is_success(), "{}", resp.status());
    let name = resp.text().await?.trim().to_string();
    assert!(PODS.contains(&name.as_str()), "{name}");

    let metrics = proxy.metrics().await?;
    for metric in [
        "kubeproxy_sync_proxy_rules_duration_seconds_count",
        "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
        "kubeproxy_network_programming_duration_seconds_count",
    ] {
        assert!(metrics.contains(metric), "{metric} in\n{metrics}");
    }

    // Down to one endpoint: every request still succeeds, all on web-0; the other pods'
    // endpoint chains are gone.
    set_app_label(&cluster, "web-1", "retired").await?;
    set_app_label(&cluster, "web-2", "retired").await?;
    wait_answering(&proxy, &client, &svc_url, &["web-0"], 10).await?;
    for _ in 0..20 {
        assert_eq!(fetch(&client, &svc_url).await?, "web-0");
    }
    let rules = proxy.ruleset()?;
    assert!(rules.contains(&format!("__{}/8080", pod_ips[0])));
    assert!(
        !rules.contains(&format!("__{}/8080", pod_ips[1])),
        "{rules}"
    );

    // No endpoints: refused at once, on the ClusterIP and on the node port.
    set_app_label(&cluster, "web-0", "retired").await?;
    let node_addr = format!("127.0.0.1:{node_port}");
    proxy
        .daemon
        .eventually_within(LIMIT, "connection refused without endpoints", || async {
            let node_refused = matches!(
                tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(&node_addr)).await,
                Ok(Err(e)) if e.kind() == ErrorKind::ConnectionRefused
            );
            Ok((refused(&client, &svc_url).await? && node_refused).then_some(()))
        })
        .await?;
    for _ in 0..5 {
        assert!(
            refused(&client, &svc_url).await?,
            "ClusterIP refuses, no timeout"
        );
    }

    // Back to three, then restart kube-proxy while a client keeps asking.
    for name in PODS {
        set_app_label(&cluster, name, "web").await?;
    }
    wait_answering(&proxy, &client, &svc_url, &PODS, 12).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let looper = {
        let (stop, ok, failures, url, client) = (
            stop.clone(),
            ok.clone(),
            failures.clone(),
            svc_url.clone(),
            client.clone(),
        );
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match fetch(&client, &url).await {
                    Ok(_) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => failures
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("{e:#}")),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    // Some requests before, then the restart, then until the new process has synced.
    proxy
        .daemon
        .eventually_within(LIMIT, "requests before the restart", || async {
            Ok((ok.load(Ordering::Relaxed) >= 20).then_some(()))
        })
        .await?;
    let before_restart = ok.load(Ordering::Relaxed);
    proxy.restart()?;
    proxy.wait_healthy().await?;
    let after_sync = ok.load(Ordering::Relaxed);
    proxy
        .daemon
        .eventually_within(LIMIT, "requests after the restart", || async {
            Ok((ok.load(Ordering::Relaxed) >= after_sync + 20).then_some(()))
        })
        .await?;
    stop.store(true, Ordering::Relaxed);
    looper.await?;
    let failures = failures.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(
        failures.is_empty(),
        "no request failed across the restart ({} ok, {before_restart} before it): {failures:?}",
        ok.load(Ordering::Relaxed)
    );
    // The restarted proxy replaced the table: one copy of each Service's entry.
    let rules = proxy.ruleset()?;
    assert_eq!(
        rules
            .matches(&format!("{cluster_ip} . tcp . 80 : goto"))
            .count(),
        1,
        "{rules}"
    );
    Ok(())
}
