//! rudder-dns serving real pods: a kubelet started with `--cluster-dns` pointing at rudder-dns
//! (listening on the pod bridge's gateway address, port 53) writes the pods' resolv.conf, and
//! busybox `nslookup` in a pod resolves a Service by its short name (search path
//! `<ns>.svc.cluster.local`, `ndots:5`) and by its full name.
//!
//! kube-proxy is left out on purpose: it owns the host's `table ip kube-proxy`, which
//! tests/kube_proxy.rs programs and checks, and two of them side by side would overwrite
//! each other's rules. So the pods talk to rudder-dns directly rather than through the
//! `kube-dns` Service address.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use integration_tests::containerd::Containerd;
use integration_tests::controller_manager::post_ok;
use integration_tests::kubelet::{create_bound_pod, start_kubelet_with, wait_pod};
use integration_tests::process::{self, Daemon};
use integration_tests::TestCluster;
use serde_json::json;

const NODE: &str = "dns-node";
/// A pod CIDR no other test uses (each gets its own bridge, `rdr71` here).
const POD_CIDR: &str = "10.244.71.0/24";
/// The bridge's gateway address (host-local IPAM's first address), where rudder-dns listens.
const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 244, 71, 1);

/// Exec ids of the resolv.conf reads (each exec needs its own).
static RESOLV_READS: AtomicUsize = AtomicUsize::new(0);

/// Run `nslookup name` in the pod's container; (exit ok, output).
fn nslookup(
    containerd: &Containerd,
    container: &str,
    name: &str,
    n: usize,
) -> Result<(bool, String)> {
    let out = Command::new("ctr")
        .args([
            "--address",
            &containerd.socket_path().to_string_lossy(),
            "-n",
            "k8s.io",
        ])
        .args([
            "task",
            "exec",
            "--exec-id",
            &format!("nslookup-{n}"),
            container,
        ])
        .args(["nslookup", name])
        .stdin(std::process::Stdio::null())
        .output()
        .context("ctr task exec")?;
    Ok((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

/// Whether `ip` is assigned to an interface of this host.
fn host_has_address(ip: Ipv4Addr) -> bool {
    Command::new("ip")
        .args(["-4", "-o", "addr", "show"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("inet {ip}/")))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_resolve_services_through_cluster_dns() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let containerd = Containerd::start()?;
    let kubelet = start_kubelet_with(
        &cluster,
        &containerd,
        NODE,
        POD_CIDR,
        &[
            format!("--cluster-dns={GATEWAY}"),
            "--cluster-domain=cluster.local".to_string(),
        ],
    )?;
    create_bound_pod(
        &cluster,
        NODE,
        "client",
        json!({"app": "client"}),
        json!({"containers": [{"name": "client", "image": "busybox:latest",
                               "command": ["sleep", "3600"]}]}),
    )
    .await?;
    let pod = wait_pod(&cluster, &kubelet, "client", "Running", |p| {
        p["status"]["phase"] == "Running"
    })
    .await?;
    let container = pod["status"]["containerStatuses"][0]["containerID"]
        .as_str()
        .and_then(|id| id.strip_prefix("containerd://"))
        .context("client container ID")?
        .to_string();
    kubelet
        .daemon
        .eventually_within(
            Duration::from_secs(30),
            &format!("the pod bridge's address {GATEWAY} (did the CNI set-up change?)"),
            || {
                let found = host_has_address(GATEWAY);
                async move { Ok(found.then_some(())) }
            },
        )
        .await?;

    // rudder-dns on the bridge's gateway, port 53 (busybox nslookup asks nowhere else).
    let health_port = process::free_port()?;
    let dns = Daemon::spawn(
        "rudder-dns",
        &process::bin_dir()?.join("rudder-dns"),
        &[
            format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
            format!("--listen={GATEWAY}:53"),
            format!("--health-listen=127.0.0.1:{health_port}"),
            "-v=4".to_string(),
        ],
        &cluster.dir().join("rudder-dns.log"),
    )?;
    dns.eventually("rudder-dns /ready", || async {
        let url = format!("http://127.0.0.1:{health_port}/ready");
        Ok(match reqwest::get(url).await {
            Ok(r) if r.status().is_success() => Some(()),
            _ => None,
        })
    })
    .await?;

    let web = post_ok(
        &cluster,
        "/api/v1/namespaces/default/services",
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    )
    .await?;
    let cluster_ip = web["spec"]["clusterIP"]
        .as_str()
        .context("clusterIP")?
        .to_string();

    // The kubelet wrote our server and the search path into the pod's resolv.conf.
    let resolv = kubelet
        .daemon
        .eventually_within(Duration::from_secs(30), "the pod's resolv.conf", || {
            let out = Command::new("ctr")
                .args(["--address", &containerd.socket_path().to_string_lossy()])
                .args(["-n", "k8s.io", "task", "exec", "--exec-id"])
                .arg(format!(
                    "resolv-{}",
                    RESOLV_READS.fetch_add(1, Ordering::Relaxed)
                ))
                .args([container.as_str(), "cat", "/etc/resolv.conf"])
                .stdin(std::process::Stdio::null())
                .output();
            let text = out
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
            async move { Ok(text) }
        })
        .await?;
    assert!(
        resolv.contains(&format!("nameserver {GATEWAY}")),
        "{resolv}"
    );
    assert!(resolv.contains("default.svc.cluster.local"), "{resolv}");

    let mut n = 0;
    let last_output = std::sync::Mutex::new(String::new());
    // (Not `web.default`: busybox's nslookup applies the search list only to names without
    // a dot, and asks `web.default.` as it is, which is outside the zone.)
    for name in ["web", "web.default.svc.cluster.local"] {
        let (ok, out) = dns
            .eventually_within(
                Duration::from_secs(60),
                &format!("nslookup {name} in the pod"),
                || {
                    n += 1;
                    let attempt = nslookup(&containerd, &container, name, n);
                    if let Ok((_, out)) = &attempt {
                        if let Ok(mut last) = last_output.lock() {
                            last.clone_from(out);
                        }
                    }
                    let found = attempt
                        .map(|(ok, out)| out.contains(cluster_ip.as_str()).then_some((ok, out)));
                    async move { found }
                },
            )
            .await
            .with_context(|| {
                format!(
                    "last nslookup output:\n{}",
                    last_output.lock().map(|l| l.clone()).unwrap_or_default()
                )
            })?;
        // busybox's nslookup goes on through the remaining search domains (and AAAA) after
        // an answer, and exits non-zero when any of those fail, so its status says nothing;
        // the answer for the Service's full name is what counts.
        let _ = ok;
        assert!(
            out.contains("web.default.svc.cluster.local"),
            "nslookup {name}: answered for another name:\n{out}"
        );
    }
    // A name that does not exist: NXDOMAIN, no address.
    // (Retried: a `ctr task exec` can fail on a busy machine before nslookup runs.)
    let out = dns
        .eventually_within(Duration::from_secs(30), "nslookup nope in the pod", || {
            n += 1;
            let out = nslookup(&containerd, &container, "nope.default.svc.cluster.local", n)
                .map(|(_, out)| out.contains("NXDOMAIN").then_some(out));
            async move { out }
        })
        .await?;
    assert!(!out.contains("Address: 10."), "{out}");
    drop(kubelet);
    Ok(())
}
