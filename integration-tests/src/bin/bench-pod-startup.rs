//! Pod startup latency (issue 4, "Must show" 5): a private etcd, kube-apiserver, containerd
//! and kubelet (the integration-tests harness), then 30 busybox pods (image already imported)
//! created at once on the one node. For each pod: the time from its create request to the
//! watch event that shows it Running. Prints p50/p99/max and the kubelet's peak RSS as a
//! markdown table, and appends it to the file given by `--out` (default
//! `hack/bench/RESULTS.md`). Run it through `hack/bench/pod-startup`.
//!
//! A second table breaks the wave down by stage: the kubelet's
//! `kubelet_runtime_operations_duration_seconds` (one row per CRI operation) and
//! `kubelet_pod_worker_duration_seconds`, read from the kubelet's port before and
//! after the wave and diffed, so the warm-up pod's calls are not counted.
//!
//! A third table says where the machine's CPU went during the wave (containerd, what it
//! runs, the shims, the OCI runtime, the containers, each daemon), from /proc before and after.
//!
//! `--during-wave CMD` runs `sh -c CMD` from just before the creates until every pod runs,
//! then interrupts it (SIGINT): a profiler such as `perf record -a -g -o FILE` sees the wave
//! and nothing else.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use integration_tests::containerd::Containerd;
use integration_tests::kubelet::start_kubelet;
use integration_tests::proc_stats::{apiserver_pid, etcd_pid};
use integration_tests::runtime_cpu::{breakdown_for, CpuSnapshot, Roles};
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
    let mut during_wave = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().context("--out needs a path")?.into(),
            "--during-wave" => during_wave = Some(args.next().context("--during-wave needs a command")?),
            other => bail!(
                "unknown argument {other:?} (usage: bench-pod-startup [--out FILE] [--during-wave CMD])"
            ),
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

    let before = kubelet_histograms(kubelet.port).await?;
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

    let roles = Roles {
        containerd: containerd.pid().context("containerd is not running")?,
        containerd_socket: containerd.socket_path(),
        daemons: vec![
            ("kubelet".into(), kubelet.daemon.pid()),
            ("kube-apiserver".into(), apiserver_pid(&cluster)?),
            ("etcd".into(), etcd_pid(&cluster)?),
            ("the bench (creates, watch)".into(), std::process::id()),
        ],
    };
    let mut observer = match &during_wave {
        Some(cmd) => Some(WaveObserver::start(cmd)?),
        None => None,
    };
    let cpu_before = CpuSnapshot::take();
    let wave_start = Instant::now();
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
    let cpu_after = CpuSnapshot::take();
    let wave = wave_start.elapsed();
    if let Some(observer) = observer.take() {
        observer.stop()?;
    }
    let cpu = cpu_table(&breakdown_for(&cpu_before, &cpu_after, &roles), wave);
    let rss = peak_rss_kib(kubelet.daemon.pid()).unwrap_or(0);
    let after = kubelet_histograms(kubelet.port).await?;
    let stages = stage_table(&after, &before);
    let mut latencies: Vec<Duration> = running.values().copied().collect();
    latencies.sort();
    let ms = |d: Duration| format!("{:.0}", d.as_secs_f64() * 1000.0);
    let runtime = runtime_version(&containerd.oci_runtime()?);
    let report = format!(
        "\n## Pod startup (hack/bench/pod-startup)\n\n- date: {}\n- {PODS} busybox pods created at once on one node (image already imported); latency = create request → watch shows Running\n- kubelet, apiserver, etcd, containerd and the bench share the machine\n- OCI runtime (containerd's default CRI handler): {runtime}\n\n| pods | p50 ms | p99 ms | max ms | kubelet peak RSS |\n|---:|---:|---:|---:|---:|\n| {PODS} | {} | {} | {} | {:.1} MiB |\n",
        chrono_like_now(),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(*latencies.last().unwrap_or(&Duration::ZERO)),
        rss as f64 / 1024.0
    ) + &stages
        + &cpu;
    println!("{report}");
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let text = replace_section(&text, "\n## Pod startup (hack/bench/pod-startup)", &report);
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

/// The `--during-wave` command, running while the pods start.
struct WaveObserver(std::process::Child);

impl WaveObserver {
    fn start(cmd: &str) -> Result<Self> {
        let child = std::process::Command::new("sh")
            .args(["-c", &format!("exec {cmd}")])
            .spawn()
            .with_context(|| format!("starting {cmd:?}"))?;
        // Profilers need a moment to attach before the wave begins.
        std::thread::sleep(Duration::from_millis(500));
        Ok(WaveObserver(child))
    }

    /// Interrupts the command (as Ctrl-C would, so that a profiler writes its file) and
    /// waits for it.
    fn stop(mut self) -> Result<()> {
        std::process::Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status()
            .context("interrupting the --during-wave command")?;
        self.0
            .wait()
            .context("waiting for the --during-wave command")?;
        Ok(())
    }
}

/// The first line `runtime --version` prints (`crun version 1.8.1`), or the bare name.
fn runtime_version(runtime: &str) -> String {
    std::process::Command::new(runtime)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| runtime.to_string())
}

/// `text` with the section starting at `heading` (up to the next `## ` or `# ` heading)
/// replaced by `report`; appended when there is no such section yet.
fn replace_section(text: &str, heading: &str, report: &str) -> String {
    let Some(start) = text.find(heading) else {
        return format!("{text}{report}");
    };
    let body = start + heading.len();
    let end = ["\n## ", "\n# "]
        .iter()
        .filter_map(|h| text[body..].find(h).map(|i| body + i))
        .min()
        .unwrap_or(text.len());
    format!(
        "{}{}{}",
        &text[..start],
        report.trim_end_matches('\n'),
        &text[end..]
    )
}

/// The markdown CPU table: each role's CPU seconds and its share of the machine's cores
/// over the wave's wall time.
fn cpu_table(rows: &[(String, Duration)], wave: Duration) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let capacity = wave.as_secs_f64() * cores as f64;
    let mut table = format!(
        "\nCPU during the wave ({:.2} s wall × {cores} cores = {capacity:.2} CPU-s; from /proc: each process's utime+stime plus the children it reaped, machine busy time from /proc/stat):\n\n| where | CPU s | share of the cores |\n|---|---:|---:|\n",
        wave.as_secs_f64()
    );
    for (name, cpu) in rows {
        table.push_str(&format!(
            "| {name} | {:.2} | {:.0} % |\n",
            cpu.as_secs_f64(),
            100.0 * cpu.as_secs_f64() / capacity.max(f64::EPSILON)
        ));
    }
    table
}

/// UTC now as "YYYY-MM-DD HH:MM UTC" from the system clock (no date crate needed here).
fn chrono_like_now() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// One histogram series: cumulative bucket counts by upper bound, sum and count.
#[derive(Debug, Default, Clone, PartialEq)]
struct Histogram {
    buckets: Vec<(f64, f64)>,
    sum: f64,
    count: f64,
}

impl Histogram {
    /// `self - earlier`, bucket by bucket (the same series read twice).
    fn minus(&self, earlier: Option<&Histogram>) -> Histogram {
        let Some(earlier) = earlier else {
            return self.clone();
        };
        let buckets = self
            .buckets
            .iter()
            .map(|&(le, n)| {
                let old = earlier
                    .buckets
                    .iter()
                    .find(|(l, _)| *l == le)
                    .map_or(0.0, |b| b.1);
                (le, n - old)
            })
            .collect();
        Histogram {
            buckets,
            sum: self.sum - earlier.sum,
            count: self.count - earlier.count,
        }
    }

    /// The q-quantile interpolated linearly inside its bucket, as PromQL's
    /// `histogram_quantile` does; in the `+Inf` bucket it is the highest finite bound.
    fn quantile(&self, q: f64) -> f64 {
        if self.count <= 0.0 {
            return 0.0;
        }
        let rank = q * self.count;
        let mut lower = (0.0, 0.0);
        for &(le, n) in &self.buckets {
            if n >= rank {
                if le.is_infinite() {
                    return lower.0;
                }
                let in_bucket = n - lower.1;
                if in_bucket <= 0.0 {
                    return le;
                }
                return lower.0 + (le - lower.0) * (rank - lower.1) / in_bucket;
            }
            lower = (le, n);
        }
        lower.0
    }
}

/// The `name{labels} value` lines of one Prometheus text exposition: labels as a map.
fn parse_samples(text: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let value: f64 = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().ok()?,
            };
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    Some((k.to_string(), v.trim_matches('"').to_string()))
                })
                .collect();
            Some((name.to_string(), labels, value))
        })
        .collect()
}

/// The kubelet's stage histograms, keyed by row name (`operation_type`, pod worker rows
/// prefixed `pod_worker/`).
fn histograms(text: &str) -> BTreeMap<String, Histogram> {
    const FAMILIES: [(&str, &str); 2] = [
        ("kubelet_runtime_operations_duration_seconds", ""),
        ("kubelet_pod_worker_duration_seconds", "pod_worker/"),
    ];
    let mut out: BTreeMap<String, Histogram> = BTreeMap::new();
    for (name, labels, value) in parse_samples(text) {
        for (family, prefix) in FAMILIES {
            let Some(part) = name.strip_prefix(family) else {
                continue;
            };
            let Some(op) = labels.get("operation_type") else {
                continue;
            };
            let h = out.entry(format!("{prefix}{op}")).or_default();
            match part {
                "_bucket" => {
                    let le = match labels.get("le").map(String::as_str) {
                        Some("+Inf") => f64::INFINITY,
                        Some(le) => le.parse().unwrap_or(f64::NAN),
                        None => continue,
                    };
                    h.buckets.push((le, value));
                }
                "_sum" => h.sum = value,
                "_count" => h.count = value,
                _ => {}
            }
        }
    }
    for h in out.values_mut() {
        h.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

/// The kubelet's stage histograms, read from its port.
async fn kubelet_histograms(port: u16) -> Result<BTreeMap<String, Histogram>> {
    Ok(histograms(
        &integration_tests::kubelet::metrics_text(port).await?,
    ))
}

/// The markdown stage table: the wave's calls per operation (after minus before).
fn stage_table(
    after: &BTreeMap<String, Histogram>,
    before: &BTreeMap<String, Histogram>,
) -> String {
    let mut table = String::from(
        "\nPer stage during the wave (kubelet `/metrics` after minus before, so the warm-up pod is not counted; runtime rows are CRI calls by `operation_type`, `pod_worker/*` rows are whole pod-worker syncs; p99 interpolated inside its histogram bucket):\n\n| operation_type | count | mean ms | p99 ms |\n|---|---:|---:|---:|\n",
    );
    for (op, h) in after {
        let wave = h.minus(before.get(op));
        if wave.count <= 0.0 {
            continue;
        }
        table.push_str(&format!(
            "| {op} | {:.0} | {:.1} | {:.1} |\n",
            wave.count,
            wave.sum / wave.count * 1000.0,
            wave.quantile(0.99) * 1000.0
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "# TYPE kubelet_runtime_operations_duration_seconds histogram
kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"run_podsandbox\",le=\"0.1\"} 1
kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"run_podsandbox\",le=\"1\"} 1
kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"run_podsandbox\",le=\"+Inf\"} 1
kubelet_runtime_operations_duration_seconds_sum{operation_type=\"run_podsandbox\"} 0.05
kubelet_runtime_operations_duration_seconds_count{operation_type=\"run_podsandbox\"} 1
";

    const AFTER: &str = "kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"run_podsandbox\",le=\"0.1\"} 1
kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"run_podsandbox\",le=\"1\"} 11
kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"run_podsandbox\",le=\"+Inf\"} 11
kubelet_runtime_operations_duration_seconds_sum{operation_type=\"run_podsandbox\"} 5.05
kubelet_runtime_operations_duration_seconds_count{operation_type=\"run_podsandbox\"} 11
kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"version\",le=\"0.1\"} 2
kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"version\",le=\"1\"} 2
kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"version\",le=\"+Inf\"} 2
kubelet_runtime_operations_duration_seconds_sum{operation_type=\"version\"} 0.01
kubelet_runtime_operations_duration_seconds_count{operation_type=\"version\"} 2
";

    #[test]
    fn wave_is_after_minus_before() {
        let before = histograms(BEFORE);
        let after = histograms(AFTER);
        let wave = after["run_podsandbox"].minus(before.get("run_podsandbox"));
        assert_eq!(wave.count, 10.0);
        assert!((wave.sum - 5.0).abs() < 1e-9);
        assert_eq!(
            wave.buckets,
            vec![(0.1, 0.0), (1.0, 10.0), (f64::INFINITY, 10.0)]
        );
        // Rank 9.9 of 10, all in (0.1, 1]: 0.1 + 0.9 * 9.9 / 10.
        assert!((wave.quantile(0.99) - 0.991).abs() < 1e-9);
        let table = stage_table(&after, &before);
        assert!(
            table.contains("| run_podsandbox | 10 | 500.0 | 991.0 |"),
            "{table}"
        );
        // Operations first seen during the wave count in full.
        assert!(table.contains("| version | 2 | 5.0 |"), "{table}");
    }

    #[test]
    fn section_is_replaced_up_to_the_next_heading() {
        let heading = "\n## Pod startup (hack/bench/pod-startup)";
        let text = "# A\n\nintro\n## Pod startup (hack/bench/pod-startup)\n\nold\n### Re-run\n\nolder\n## kube-proxy\n\nkept\n";
        let report = "\n## Pod startup (hack/bench/pod-startup)\n\nnew\n";
        assert_eq!(
            replace_section(text, heading, report),
            "# A\n\nintro\n## Pod startup (hack/bench/pod-startup)\n\nnew\n## kube-proxy\n\nkept\n"
        );
        assert_eq!(
            replace_section("# A\n", heading, report),
            format!("# A\n{report}")
        );
    }

    #[test]
    fn quantile_in_inf_bucket_is_highest_finite_bound() {
        let h = Histogram {
            buckets: vec![(0.5, 0.0), (f64::INFINITY, 4.0)],
            sum: 10.0,
            count: 4.0,
        };
        assert_eq!(h.quantile(0.99), 0.5);
    }
}
