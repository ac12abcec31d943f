//! `bench-scheduler`: issue 3's "Must show" 3, scheduler_perf-like, through a real
//! kube-apiserver and etcd (started by the integration-test harness; release builds, or debug
//! with `BENCH_PROFILE=debug`).
//!
//! Each run starts a fresh cluster, creates the Node objects and the pending pods through
//! the API (as upstream's SchedulingBasic 5000Nodes/10000Pods and TopologySpreading do, with
//! their node and pod shapes: 4 cpu / 32Gi / 110 pods nodes, pods requesting 100m / 500Mi),
//! then starts kube-scheduler and watches the pods until every one is bound.
//!
//! Printed per run: pods/s from the first to the last binding the watch sees (and from the
//! scheduler's start, which includes its informers' initial list), p50/p99 of
//! `scheduler_scheduling_attempt_duration_seconds` and
//! `scheduler_scheduling_algorithm_duration_seconds` (interpolated in the histogram buckets,
//! as upstream's scheduler_perf reads them), and the scheduler's peak RSS (VmHWM).
//!
//! `bench-scheduler [--out FILE] [--nodes N] [--pods N] [--runs basic,spread]`; run it through
//! `hack/bench/scheduler`. Nothing here asserts times: it is a bench.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use integration_tests::proc_stats::{apiserver_pid, cpu_time, etcd_pid, status_kib};
use integration_tests::process::{self, Daemon};
use integration_tests::TestCluster;
use serde_json::{json, Value};

/// Concurrent clients creating nodes and pods.
const CREATE_CLIENTS: usize = 50;
/// Zones of the topology-spread run.
const ZONES: usize = 10;
/// The namespace the pods go to.
const NS: &str = "sched-bench";
/// A run gives up when not every pod is bound after this long.
const SCHEDULE_LIMIT: Duration = Duration::from_secs(300);
/// The whole bench is bounded; clusters are torn down (on drop) when it is exceeded.
const RUN_LIMIT: Duration = Duration::from_secs(1500);

struct Args {
    out: PathBuf,
    nodes: usize,
    pods: usize,
    runs: Vec<Workload>,
}

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    /// SchedulingBasic: identical pods, no constraints.
    Basic,
    /// TopologySpreading: zone-labelled nodes, a hard zone spread constraint.
    Spread,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Basic => "basic",
            Workload::Spread => "topology-spread",
        }
    }
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        out: process::workspace_root().join("hack/bench/RESULTS.md"),
        nodes: 5000,
        pods: 10_000,
        runs: vec![Workload::Basic, Workload::Spread],
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--out" => args.out = PathBuf::from(value()?),
            "--nodes" => args.nodes = value()?.parse()?,
            "--pods" => args.pods = value()?.parse()?,
            "--runs" => {
                args.runs = value()?
                    .split(',')
                    .map(|r| match r {
                        "basic" => Ok(Workload::Basic),
                        "spread" => Ok(Workload::Spread),
                        other => bail!("unknown run {other} (basic, spread)"),
                    })
                    .collect::<Result<_>>()?
            }
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        res = run_all(&args) => res,
        _ = tokio::time::sleep(RUN_LIMIT) => bail!("bench exceeded {RUN_LIMIT:?}; stopped"),
        _ = term.recv() => bail!("terminated"),
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    }
}

/// One run's numbers.
struct Outcome {
    workload: Workload,
    nodes: usize,
    pods: usize,
    node_create: Duration,
    pod_create: Duration,
    /// Scheduler start → last binding seen.
    total: Duration,
    /// First binding seen → last.
    binding_span: Duration,
    attempt: Quantiles,
    algorithm: Quantiles,
    peak_rss_kib: u64,
    scheduler_cpu: Duration,
    apiserver_cpu: Duration,
    etcd_cpu: Duration,
}

async fn run_all(args: &Args) -> Result<()> {
    let mut outcomes = Vec::new();
    for &w in &args.runs {
        eprintln!(
            "bench: {} run, {} nodes, {} pods",
            w.name(),
            args.nodes,
            args.pods
        );
        let o = run(w, args.nodes, args.pods).await?;
        eprintln!(
            "bench: {}: {:.0} pods/s ({} pods in {:.2} s after the first binding)",
            w.name(),
            o.pods as f64 / o.binding_span.as_secs_f64(),
            o.pods,
            o.binding_span.as_secs_f64()
        );
        outcomes.push(o);
    }
    let report = report(&outcomes);
    println!("{report}");
    let mut existing = std::fs::read_to_string(&args.out).unwrap_or_default();
    if !existing.is_empty() && !existing.ends_with('\n') {
        existing.push('\n');
    }
    existing.push('\n');
    existing.push_str(&report);
    std::fs::write(&args.out, existing)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("bench: appended to {}", args.out.display());
    Ok(())
}

async fn run(workload: Workload, nodes: usize, pods: usize) -> Result<Outcome> {
    let cluster = TestCluster::start()
        .await
        .context("starting etcd + apiserver")?;
    let started = Instant::now();
    create_many(&cluster, "/api/v1/nodes", nodes, move |i| node(workload, i)).await?;
    let node_create = started.elapsed();
    let (code, body) = cluster
        .post_json(
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
        )
        .await?;
    if !code.is_success() {
        bail!("creating namespace: {code} {body}");
    }
    let started = Instant::now();
    create_many(
        &cluster,
        &format!("/api/v1/namespaces/{NS}/pods"),
        pods,
        move |i| pod(workload, i),
    )
    .await?;
    let pod_create = started.elapsed();
    eprintln!(
        "bench: created {nodes} nodes in {:.1} s, {pods} pods in {:.1} s",
        node_create.as_secs_f64(),
        pod_create.as_secs_f64()
    );

    // Watch from the current state on: every pod is pending now; MODIFIED with a nodeName
    // is its binding.
    let (code, list) = cluster
        .get_json(&format!("/api/v1/namespaces/{NS}/pods?limit=1"))
        .await?;
    if !code.is_success() {
        bail!("listing pods: {code} {list}");
    }
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let events = cluster
        .watch(
            &format!("/api/v1/namespaces/{NS}/pods?watch=true&resourceVersion={rv}"),
            SCHEDULE_LIMIT + Duration::from_secs(30),
        )
        .await?;
    tokio::pin!(events);

    let metrics_port = process::free_port()?;
    let cpu_before = (
        cpu_time(apiserver_pid(&cluster)?),
        cpu_time(etcd_pid(&cluster)?),
    );
    let scheduler = start_scheduler(&cluster, metrics_port)?;
    let t0 = Instant::now();
    let mut bound: HashSet<String> = HashSet::new();
    let mut first: Option<Instant> = None;
    let mut last = t0;
    let deadline = tokio::time::sleep(SCHEDULE_LIMIT);
    tokio::pin!(deadline);
    while bound.len() < pods {
        tokio::select! {
            ev = events.next() => {
                let Some(ev) = ev else { bail!("watch ended with {} of {pods} pods bound", bound.len()) };
                let ev = ev?;
                let node = ev.object["spec"]["nodeName"].as_str().unwrap_or_default();
                if !node.is_empty() && bound.insert(ev.name().to_string()) {
                    let now = Instant::now();
                    first.get_or_insert(now);
                    last = now;
                    if bound.len().is_multiple_of(2000) {
                        eprintln!("bench: {} bound after {:.1} s", bound.len(), t0.elapsed().as_secs_f64());
                    }
                }
            }
            _ = &mut deadline => bail!(
                "only {} of {pods} pods bound after {SCHEDULE_LIMIT:?}; scheduler log:\n{}",
                bound.len(),
                scheduler.log_tail(30)
            ),
        }
    }
    let scheduler_cpu = cpu_time(scheduler.pid());
    let metrics = integration_tests::scheduler::get_secure_port(metrics_port, "/metrics").await?;
    let peak_rss_kib = status_kib(scheduler.pid(), "VmHWM:");
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("scheduler_schedule_attempts_total"))
    {
        eprintln!("bench: {line}");
    }
    if let Some(dump) = std::env::var_os("BENCH_SCHEDULER_METRICS") {
        std::fs::write(&dump, &metrics)?;
    }
    if std::env::var_os("BENCH_SCHEDULER_LOG").is_some() {
        eprintln!("bench: scheduler log tail:\n{}", scheduler.log_tail(40));
    }
    Ok(Outcome {
        workload,
        nodes,
        pods,
        node_create,
        pod_create,
        total: last - t0,
        binding_span: last - first.unwrap_or(t0),
        attempt: Quantiles::from_histogram(
            &metrics,
            "scheduler_scheduling_attempt_duration_seconds_bucket",
            Some("result=\"scheduled\""),
        ),
        algorithm: Quantiles::from_histogram(
            &metrics,
            "scheduler_scheduling_algorithm_duration_seconds_bucket",
            None,
        ),
        peak_rss_kib,
        scheduler_cpu,
        apiserver_cpu: cpu_time(apiserver_pid(&cluster)?).saturating_sub(cpu_before.0),
        etcd_cpu: cpu_time(etcd_pid(&cluster)?).saturating_sub(cpu_before.1),
    })
}

fn start_scheduler(cluster: &TestCluster, port: u16) -> Result<Daemon> {
    let bin = process::bin_dir()?.join("kube-scheduler");
    let args = vec![
        format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
        "--leader-elect=false".to_string(),
        format!("--secure-port={port}"),
        "--bind-address=127.0.0.1".to_string(),
        // The bench reads /metrics without credentials.
        "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics".to_string(),
    ];
    Daemon::spawn(
        "kube-scheduler",
        &bin,
        &args,
        &cluster.dir().join("kube-scheduler.log"),
    )
}

/// POST `count` objects built by `make` to `path` with a pool of clients.
async fn create_many(
    cluster: &TestCluster,
    path: &str,
    count: usize,
    make: impl Fn(usize) -> Value + Send + Sync + 'static,
) -> Result<()> {
    let url = cluster.url(path);
    let next = Arc::new(AtomicUsize::new(0));
    let make = Arc::new(make);
    let workers = (0..CREATE_CLIENTS).map(|_| {
        let client = cluster.client().clone();
        let (url, next, make) = (url.clone(), next.clone(), make.clone());
        tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(());
                }
                let resp = client.post(&url).json(&make(i)).send().await?;
                let status = resp.status();
                let text = resp.bytes().await?;
                if status.as_u16() != 201 {
                    bail!("create: {status} {}", String::from_utf8_lossy(&text));
                }
            }
        })
    });
    for r in futures::future::join_all(workers).await {
        r??;
    }
    Ok(())
}

/// Upstream scheduler_perf's node-default: 4 cpu, 32Gi, 110 pods, Ready (status is kept on
/// create, as upstream's node strategy keeps it).
fn node(workload: Workload, i: usize) -> Value {
    let name = format!("node-{i:05}");
    let mut labels = json!({"kubernetes.io/hostname": name});
    if workload == Workload::Spread {
        labels["topology.kubernetes.io/zone"] = json!(format!("zone-{}", i % ZONES));
    }
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {},
        "status": {
            "capacity": {"cpu": "4", "memory": "32Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "32Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "bench node", "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                            "lastTransitionTime": "2026-01-01T00:00:00Z"}]
        }
    })
}

/// Upstream scheduler_perf's pod-default (one pause container, 100m / 500Mi); the spread run
/// adds pod-with-topology-spreading's hard zone constraint (maxSkew 5).
fn pod(workload: Workload, i: usize) -> Value {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("pod-{i:05}"), "labels": {"color": "blue"}},
        "spec": {
            "containers": [{
                "name": "pause", "image": "registry.k8s.io/pause:3.10",
                "ports": [{"containerPort": 80}],
                "resources": {"requests": {"cpu": "100m", "memory": "500Mi"},
                              "limits": {"cpu": "100m", "memory": "500Mi"}}
            }]
        }
    });
    if workload == Workload::Spread {
        pod["spec"]["topologySpreadConstraints"] = json!([{
            "maxSkew": 5,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"color": "blue"}}
        }]);
    }
    pod
}

/// p50 / p99 of a Prometheus histogram, linearly interpolated inside the bucket (as
/// `histogram_quantile` does).
#[derive(Clone, Copy, Default)]
struct Quantiles {
    count: u64,
    p50: f64,
    p99: f64,
}

impl Quantiles {
    fn from_histogram(text: &str, bucket_metric: &str, label: Option<&str>) -> Quantiles {
        let mut buckets: Vec<(f64, u64)> = text
            .lines()
            .filter(|l| l.starts_with(bucket_metric))
            .filter(|l| label.is_none_or(|lab| l.contains(lab)))
            .filter_map(|l| {
                let le = l.rsplit("le=\"").next()?.split('"').next()?;
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                let count = l.rsplit(' ').next()?.parse().ok()?;
                Some((le, count))
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let count = buckets.last().map_or(0, |b| b.1);
        let q = |q: f64| -> f64 {
            let rank = q * count as f64;
            let mut prev = (0.0, 0u64);
            for &(le, c) in &buckets {
                if c as f64 >= rank {
                    if le.is_infinite() {
                        return prev.0;
                    }
                    let inside = (c - prev.1) as f64;
                    let frac = if inside > 0.0 {
                        (rank - prev.1 as f64) / inside
                    } else {
                        0.0
                    };
                    return prev.0 + (le - prev.0) * frac;
                }
                prev = (le, c);
            }
            prev.0
        };
        Quantiles {
            count,
            p50: q(0.5),
            p99: q(0.99),
        }
    }
}

fn report(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    let now = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(process::workspace_root())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let _ = writeln!(s, "## kube-scheduler (hack/bench/scheduler)\n");
    let _ = writeln!(s, "- date: {now}; commit: {commit}; 2 shared cores");
    // Which build the binaries came from (hack/bench/scheduler's BENCH_PROFILE).
    let build = process::bin_dir()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "release".into());
    let _ = writeln!(
        s,
        "- {build} kube-apiserver + kube-scheduler, etcd, and the bench (watching the pods) on one machine"
    );
    let _ = writeln!(
        s,
        "- nodes and pending pods created through the API first, then kube-scheduler started; \
         pods/s = pods / (last binding − first binding) as the bench's watch sees them; \
         \"from start\" includes the scheduler's initial list of nodes and pods"
    );
    let _ = writeln!(
        s,
        "- latencies from the scheduler's histograms (1 ms, 2 ms, 4 ms … buckets, interpolated): \
         attempt = pop → binding done (includes waiting for a binding slot), algorithm = filter + score\n"
    );
    let _ = writeln!(
        s,
        "| run | nodes | pods | pods/s | pods/s from start | attempt p50 ms | attempt p99 ms | algorithm p50 ms | algorithm p99 ms | scheduler peak RSS MiB | CPU s scheduler / apiserver / etcd |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for o in outcomes {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} | {:.1} | {:.1} / {:.1} / {:.1} |",
            o.workload.name(),
            o.nodes,
            o.pods,
            o.pods as f64 / o.binding_span.as_secs_f64().max(1e-3),
            o.pods as f64 / o.total.as_secs_f64().max(1e-3),
            o.attempt.p50 * 1e3,
            o.attempt.p99 * 1e3,
            o.algorithm.p50 * 1e3,
            o.algorithm.p99 * 1e3,
            o.peak_rss_kib as f64 / 1024.0,
            o.scheduler_cpu.as_secs_f64(),
            o.apiserver_cpu.as_secs_f64(),
            o.etcd_cpu.as_secs_f64(),
        );
    }
    let _ = writeln!(s);
    for o in outcomes {
        let _ = writeln!(
            s,
            "- {}: nodes created in {:.1} s, pods in {:.1} s; {} attempts in the histogram",
            o.workload.name(),
            o.node_create.as_secs_f64(),
            o.pod_create.as_secs_f64(),
            o.attempt.count
        );
    }
    s
}
