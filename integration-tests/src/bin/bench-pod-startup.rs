//! Pod startup latency (issue 4, "Must show" 5): a private etcd, kube-apiserver, containerd
//! and kubelet (the integration-tests harness), then 30 busybox pods (image already imported)
//! created at once on the one node. For each pod: the time from its create request to the
//! watch event that shows it Running. Prints p50/p99/max and the kubelet's peak RSS as a
//! markdown table, and appends it to the file given by `--out` (default
//! `hack/bench/RESULTS.md`). Run it through `hack/bench/pod-startup`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use integration_tests::containerd::Containerd;
use integration_tests::kubelet::start_kubelet;
use integration_tests::{watch_events, TestCluster};
use serde_json::json;

const PODS: usize = 30;
const LIMIT: Duration = Duration::from_secs(300);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A process's peak resident set (VmHWM) in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        l.strip_prefix("VmHWM:")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut out = integration_tests::process::workspace_root().join("hack/bench/RESULTS.md");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().context("--out needs a path")?.into(),
            other => bail!("unknown argument {other:?} (usage: bench-pod-startup [--out FILE])"),
        }
    }
    let cluster = TestCluster::start().await?;
    let containerd = Containerd::start()?;
    let kubelet = start_kubelet(&cluster, &containerd, "bench-node", "10.244.200.0/24")?;
    kubelet
        .daemon
        .eventually_within(LIMIT, "node Ready", || async {
            let (code, node) = cluster.get_json("/api/v1/nodes/bench-node").await?;
            let ready = code.is_success()
                && node["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                });
            Ok(ready.then_some(()))
        })
        .await?;
    // One pod first, so the first-ever sandbox (bridge creation, snapshot unpack) is not
    // counted against the batch — upstream's SLO excludes image pulls the same way.
    let warmup = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "warmup"},
        "spec": {"nodeName": "bench-node", "terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "c", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent", "command": ["sleep", "3600"]}]}});
    cluster
        .post_json("/api/v1/namespaces/default/pods", &warmup)
        .await?;
    kubelet
        .daemon
        .eventually_within(LIMIT, "warm-up pod Running", || async {
            let (_, pod) = cluster
                .get_json("/api/v1/namespaces/default/pods/warmup")
                .await?;
            Ok((pod["status"]["phase"] == "Running").then_some(()))
        })
        .await?;

    let (_, list) = cluster.get_json("/api/v1/namespaces/default/pods").await?;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("0")
        .to_string();
    let watch = cluster
        .client()
        .get(cluster.url(&format!(
            "/api/v1/namespaces/default/pods?watch=true&resourceVersion={rv}"
        )))
        .send()
        .await?;
    let mut events = Box::pin(watch_events(watch));

    let mut created: HashMap<String, Instant> = HashMap::new();
    let creates = (0..PODS).map(|i| {
        let name = format!("startup-{i:02}");
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": "bench-node", "terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "c", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent", "command": ["sleep", "3600"]}]}});
        let cluster = &cluster;
        async move {
            let start = Instant::now();
            let (code, body) = cluster.post_json("/api/v1/namespaces/default/pods", &pod).await?;
            if !code.is_success() {
                bail!("creating {name}: {code} {body}");
            }
            Ok((name, start))
        }
    });
    for result in futures::future::join_all(creates).await {
        let (name, start) = result?;
        created.insert(name, start);
    }
    let mut running: HashMap<String, Duration> = HashMap::new();
    let deadline = Instant::now() + LIMIT;
    while running.len() < PODS {
        let event = tokio::time::timeout_at(deadline.into(), events.next())
            .await
            .context("pods did not all reach Running")?;
        let Some(event) = event else {
            bail!("watch ended")
        };
        let event = event?;
        let name = event.name().to_string();
        if event.object["status"]["phase"] == "Running" && !running.contains_key(&name) {
            if let Some(start) = created.get(&name) {
                running.insert(name, start.elapsed());
            }
        }
    }
    let rss = peak_rss_kib(kubelet.daemon.pid()).unwrap_or(0);
    let mut latencies: Vec<Duration> = running.values().copied().collect();
    latencies.sort();
    let ms = |d: Duration| format!("{:.0}", d.as_secs_f64() * 1000.0);
    let report = format!(
        "\n## Pod startup (hack/bench/pod-startup)\n\n- date: {}\n- {PODS} busybox pods created at once on one node (image already imported); latency = create request → watch shows Running\n- kubelet, apiserver, etcd, containerd and the bench share the machine\n\n| pods | p50 ms | p99 ms | max ms | kubelet peak RSS |\n|---:|---:|---:|---:|---:|\n| {PODS} | {} | {} | {} | {:.1} MiB |\n",
        chrono_like_now(),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(*latencies.last().unwrap_or(&Duration::ZERO)),
        rss as f64 / 1024.0
    );
    println!("{report}");
    let mut text = std::fs::read_to_string(&out).unwrap_or_default();
    if let Some(at) = text.find("\n## Pod startup (hack/bench/pod-startup)") {
        text.truncate(at);
    }
    text.push_str(&report);
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

/// UTC now as "YYYY-MM-DD HH:MM UTC" from the system clock (no date crate needed here).
fn chrono_like_now() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
