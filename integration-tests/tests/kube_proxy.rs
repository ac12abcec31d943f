//! kube-proxy (nftables mode) with real pods: a ClusterIP reaches every endpoint, follows the
//! endpoints as they scale down, refuses connections at once with no endpoints, serves the
//! node port on 127.0.0.1, and keeps serving while kube-proxy restarts. Then:
//! `loadBalancerSourceRanges` drop other sources at a load-balancer IP, the health-check node
//! port of an `externalTrafficPolicy: Local` Service reports this node's endpoints, and a UDP
//! flow kept alive by its client follows its endpoint when the endpoint changes (stale
//! conntrack entries cleared).
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

    // On a host with IPv6, kube-proxy also owns `table ip6 kube-proxy` (upstream's second
    // proxier); this IPv4-only Service has no rules there.
    let ipv6_on = std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/disable_ipv6")
        .is_ok_and(|v| v.trim() == "0");
    if ipv6_on {
        let out = std::process::Command::new("nft")
            .args(["list", "table", "ip6", "kube-proxy"])
            .output()?;
        let ip6 = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && ip6.contains("chain services"),
            "{ip6}"
        );
        assert!(ip6.contains("type ipv6_addr"), "{ip6}");
        assert!(!ip6.contains(&format!("__{}/8080", pod_ips[0])), "{ip6}");
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

    load_balancer_source_ranges(&cluster, &proxy).await?;
    health_check_node_port(&cluster, &proxy).await?;
    stale_udp_flows_are_cleared(&cluster, &proxy, &pod_ips).await?;
    Ok(())
}

/// POST a Service in `default`; its stored form.
async fn create_service(cluster: &TestCluster, spec: Value) -> Result<Value> {
    let (code, svc) = cluster
        .post_json("/api/v1/namespaces/default/services", &spec)
        .await?;
    if !code.is_success() {
        bail!("creating a Service: {code} {svc}");
    }
    Ok(svc)
}

async fn merge_patch(cluster: &TestCluster, path: &str, patch: Value) -> Result<()> {
    let (code, body) = cluster
        .patch_json(path, "application/merge-patch+json", &patch)
        .await?;
    if !code.is_success() {
        bail!("patching {path}: {code} {body}");
    }
    Ok(())
}

/// A TCP connection to `addr` from this host is not answered within two seconds (dropped,
/// not refused).
async fn dropped(addr: &str) -> bool {
    tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr))
        .await
        .is_err()
}

/// `loadBalancerSourceRanges`: a load-balancer IP drops sources outside the ranges, before
/// DNAT (the host's request times out), and serves them once a range holds them.
async fn load_balancer_source_ranges(cluster: &TestCluster, proxy: &KubeProxy) -> Result<()> {
    // No service-lb controller runs here: the ingress IP is written into status by hand.
    let lb_ip = "127.240.0.77";
    create_service(
        cluster,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
               "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                        "loadBalancerSourceRanges": ["192.0.2.0/24"],
                        "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
    )
    .await?;
    merge_patch(
        cluster,
        "/api/v1/namespaces/default/services/lb/status",
        json!({"status": {"loadBalancer": {"ingress": [{"ip": lb_ip}]}}}),
    )
    .await?;
    let firewall_entry = format!("{lb_ip} . tcp . 80 : goto firewall-");
    // Until the new Service's endpoints reach kube-proxy, its IP is in the no-endpoints map,
    // whose reject (a reset, checked before the firewall as upstream orders them) would
    // answer the connection instead of the drop under test.
    let rejected_entry = format!("{lb_ip} . tcp . 80 : goto reject-chain");
    proxy
        .daemon
        .eventually_within(
            LIMIT,
            "the load-balancer IP's firewall entry, with endpoints",
            || async {
                let rules = proxy.ruleset()?;
                Ok(
                    (rules.contains(&firewall_entry) && !rules.contains(&rejected_entry))
                        .then_some(()),
                )
            },
        )
        .await
        .with_context(|| proxy.ruleset().unwrap_or_default())?;
    let addr = format!("{lb_ip}:80");
    assert!(
        dropped(&addr).await,
        "127.0.0.1 is outside 192.0.2.0/24: the load-balancer IP must drop it\n{}",
        proxy.ruleset()?
    );
    // Now the host's range is allowed: the same address answers.
    merge_patch(
        cluster,
        "/api/v1/namespaces/default/services/lb",
        json!({"spec": {"loadBalancerSourceRanges": ["192.0.2.0/24", "127.0.0.0/8"]}}),
    )
    .await?;
    let host = http()?;
    let url = format!("http://{addr}/");
    proxy
        .daemon
        .eventually_within(LIMIT, "the load-balancer IP answers 127.0.0.1", || async {
            Ok(match host.get(&url).send().await {
                Ok(resp) if resp.status().is_success() => Some(resp.text().await?),
                _ => None,
            })
        })
        .await
        .with_context(|| proxy.ruleset().unwrap_or_default())
        .map(|body| assert!(PODS.contains(&body.trim()), "{body}"))?;
    cluster
        .delete("/api/v1/namespaces/default/services/lb")
        .await?;
    Ok(())
}

/// A free port in the node-port range, for a health-check node port chosen by the test.
fn free_node_port() -> Result<u16> {
    let start = 30000 + (std::process::id() % 2000) as u16;
    (start..32767)
        .find(|p| std::net::TcpListener::bind(("0.0.0.0", *p)).is_ok())
        .context("no free port in the node-port range")
}

/// GET the health-check port; (status, localEndpoints) once it answers.
async fn health_check(port: u16) -> Option<(u16, u64)> {
    let resp = http()
        .ok()?
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .ok()?;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.ok()?;
    Some((status, body["localEndpoints"].as_u64()?))
}

/// `externalTrafficPolicy: Local` with `healthCheckNodePort`: kube-proxy answers 200 with
/// the count of this node's ready endpoints, 503 with none, and closes the port with the
/// Service.
async fn health_check_node_port(cluster: &TestCluster, proxy: &KubeProxy) -> Result<()> {
    let hc = free_node_port()?;
    let svc = create_service(
        cluster,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "local"},
               "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                        "externalTrafficPolicy": "Local", "healthCheckNodePort": hc,
                        "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
    )
    .await?;
    assert_eq!(svc["spec"]["healthCheckNodePort"], json!(hc), "{svc}");
    proxy
        .daemon
        .eventually_within(
            LIMIT,
            "health check: 200 with 3 local endpoints",
            || async { Ok((health_check(hc).await == Some((200, 3))).then_some(())) },
        )
        .await?;
    // No endpoints on this node (none at all here): 503, localEndpoints 0.
    merge_patch(
        cluster,
        "/api/v1/namespaces/default/services/local",
        json!({"spec": {"selector": {"app": "nothing"}}}),
    )
    .await?;
    proxy
        .daemon
        .eventually_within(
            LIMIT,
            "health check: 503 without local endpoints",
            || async { Ok((health_check(hc).await == Some((503, 0))).then_some(())) },
        )
        .await?;
    cluster
        .delete("/api/v1/namespaces/default/services/local")
        .await?;
    proxy
        .daemon
        .eventually_within(
            LIMIT,
            "health-check port closed with the Service",
            || async {
                Ok(matches!(
                    tokio::net::TcpStream::connect(("127.0.0.1", hc)).await,
                    Err(e) if e.kind() == ErrorKind::ConnectionRefused
                )
                .then_some(()))
            },
        )
        .await?;
    Ok(())
}

/// The conntrack entries of UDP flows to `node_port` (`conntrack -L` lines).
fn udp_flows(node_port: u16) -> Result<String> {
    let out = std::process::Command::new("conntrack")
        .args(["-L", "-p", "udp", "--orig-port-dst", &node_port.to_string()])
        .output()
        .context("running conntrack -L")?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// An EndpointSlice (not the controller's) giving Service `udp` one endpoint at `ip`.
fn udp_slice(ip: &str) -> Value {
    json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
           "metadata": {"name": "udp-manual", "labels": {
               "kubernetes.io/service-name": "udp",
               "endpointslice.kubernetes.io/managed-by": "kube-proxy-test"}},
           "addressType": "IPv4",
           "endpoints": [{"addresses": [ip], "conditions": {"ready": true}, "nodeName": NODE}],
           "ports": [{"name": "dns", "protocol": "UDP", "port": 5353}]})
}

/// A client that keeps sending from one UDP socket keeps its conntrack entry (and its DNAT)
/// alive; when the endpoint changes, kube-proxy deletes the entry so the next packet goes to
/// the new endpoint instead of the old one forever.
async fn stale_udp_flows_are_cleared(
    cluster: &TestCluster,
    proxy: &KubeProxy,
    pod_ips: &[String],
) -> Result<()> {
    let svc = create_service(
        cluster,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "udp"},
               "spec": {"type": "NodePort",
                        "ports": [{"name": "dns", "protocol": "UDP", "port": 53,
                                   "targetPort": 5353}]}}),
    )
    .await?;
    let node_port = svc["spec"]["ports"][0]["nodePort"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .context("udp nodePort")?;
    let slices = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
    let (code, body) = cluster.post_json(slices, &udp_slice(&pod_ips[0])).await?;
    assert!(code.is_success(), "{body}");
    let entry = format!("udp . {node_port} : goto");
    proxy
        .daemon
        .eventually_within(LIMIT, "the UDP node port's rules", || async {
            Ok(proxy.ruleset()?.contains(&entry).then_some(()))
        })
        .await?;

    // One socket, one source port: every datagram refreshes the same entry.
    let stop = Arc::new(AtomicBool::new(false));
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    let sender = {
        let stop = stop.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                // Errors (ICMP port unreachable: nothing listens in the pod) do not matter;
                // the entry is made by the first packet.
                let _ = socket.send_to(b"ping", ("127.0.0.1", node_port)).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let reply_from = |ip: &str| format!("src={ip} ");
    let first = reply_from(&pod_ips[0]);
    proxy
        .daemon
        .eventually_within(LIMIT, "a UDP flow DNATed to the first endpoint", || async {
            Ok(udp_flows(node_port)?.contains(&first).then_some(()))
        })
        .await?;

    // Move the endpoint: the old entry must go, and the flow follow to the new endpoint.
    merge_patch(
        cluster,
        &format!("{slices}/udp-manual"),
        json!({"endpoints": udp_slice(&pod_ips[1])["endpoints"]}),
    )
    .await?;
    let second = reply_from(&pod_ips[1]);
    let result = proxy
        .daemon
        .eventually_within(LIMIT, "the UDP flow moved to the new endpoint", || async {
            let flows = udp_flows(node_port)?;
            Ok((flows.contains(&second) && !flows.contains(&first)).then_some(()))
        })
        .await;
    stop.store(true, Ordering::Relaxed);
    sender.await?;
    result.with_context(|| udp_flows(node_port).unwrap_or_default())?;
    cluster.delete(&format!("{slices}/udp-manual")).await?;
    cluster
        .delete("/api/v1/namespaces/default/services/udp")
        .await?;
    Ok(())
}
