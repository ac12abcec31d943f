//! `bench-apiserver`: the numbers issue 2 asks for ("Must show" 4), measured in one run against
//! a private etcd + release kube-apiserver started by the integration-test harness.
//!
//! 1. Create throughput and latency of ConfigMaps (~1 KiB and ~4 KiB JSON) through the
//!    apiserver (HTTPS POST, admin client certificate, pooled keep-alive connections) next to
//!    raw etcd puts of values of the stored size under the same key layout, for 1, 10 and 100
//!    concurrent clients.
//! 2. LIST latency and response size of 10,000 realistic Pods in one namespace.
//! 3. Idle and peak RSS of the kube-apiserver process.
//!
//! The markdown report goes to stdout and to the file named by `--out` (default
//! `hack/bench/RESULTS.md`). Run it through `hack/bench/apiserver`, which builds release
//! binaries and points `RUDDER_BIN_DIR` at them. Nothing here asserts times: it is a bench.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use integration_tests::proc_stats::{apiserver_pid, cpu_time, etcd_pid};
use integration_tests::TestCluster;
use serde_json::{json, Value};

/// Concurrent clients per create cell.
const CLIENTS: [usize; 3] = [1, 10, 100];
/// Target JSON sizes of the created objects.
const SIZES: [usize; 2] = [1024, 4096];
/// A create cell stops after this long or this many operations, whichever comes first.
const CELL_TIME: Duration = Duration::from_secs(3);
const CELL_OPS: usize = 2000;
/// The LIST part.
const LIST_PODS: usize = 10_000;
const LIST_RUNS: usize = 10;
const POD_CREATE_CLIENTS: usize = 50;
/// Raw etcd puts use the apiserver's key layout under a root its watches do not cover.
const RAW_ROOT: &str = "/registry-bench";

/// The whole run is bounded; the cluster is torn down (on drop) when it is exceeded.
const RUN_LIMIT: Duration = Duration::from_secs(600);

#[tokio::main]
async fn main() -> Result<()> {
    let out = parse_out_path()?;
    // On SIGTERM/SIGINT or the time limit, return normally so that the harness's drop kills
    // kube-apiserver and etcd instead of leaving them orphaned.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        res = run(&out) => res,
        _ = tokio::time::sleep(RUN_LIMIT) => bail!("bench exceeded {RUN_LIMIT:?}; stopped"),
        _ = term.recv() => bail!("terminated"),
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    }
}

async fn run(out: &std::path::Path) -> Result<()> {
    let cluster = TestCluster::start()
        .await
        .context("starting etcd + apiserver")?;
    let pid = apiserver_pid(&cluster)?;
    let pids = Pids {
        apiserver: pid,
        etcd: etcd_pid(&cluster)?,
    };
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
    eprintln!("bench: kube-apiserver pid {pid} ({})", exe.display());
    // Idle: after /readyz and a short settle, before any load.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = Memory::read(pid)?;

    let etcd = etcd_client::Client::connect([cluster.etcd().endpoint()], None)
        .await
        .context("connecting to etcd")?;
    let mut creates = Vec::new();
    for &clients in &CLIENTS {
        for &size in &SIZES {
            eprintln!("bench: creates, {clients} clients, {size} B");
            creates.push(create_cell(&cluster, &etcd, pids, clients, size).await?);
        }
    }
    let after_creates = Memory::read(pid)?;

    eprintln!("bench: creating {LIST_PODS} pods");
    let pod_fill = create_pods(&cluster, "bench-list", LIST_PODS).await?;
    let after_fill = Memory::read(pid)?;
    let path = "/api/v1/namespaces/bench-list/pods";
    let list = time_lists(&cluster, pids, path, LIST_PODS).await?;
    let list_rv0 = time_lists(
        &cluster,
        pids,
        &format!("{path}?resourceVersion=0"),
        LIST_PODS,
    )
    .await?;
    let peak = Memory::read(pid)?;

    let report = Report {
        exe: exe.display().to_string(),
        creates,
        pod_fill,
        list,
        list_rv0,
        memory: vec![
            ("idle (after start, before load)", idle),
            ("after the create cells", after_creates),
            ("after creating 10,000 pods", after_fill),
            ("after the LISTs (end)", peak),
        ],
    }
    .render();
    println!("{report}");
    std::fs::write(out, &report).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("bench: wrote {}", out.display());
    Ok(())
}

fn parse_out_path() -> Result<PathBuf> {
    let mut args = std::env::args().skip(1);
    let mut out = integration_tests::process::workspace_root().join("hack/bench/RESULTS.md");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().context("--out needs a path")?.into(),
            other => bail!("unknown argument {other:?} (usage: bench-apiserver [--out FILE])"),
        }
    }
    Ok(out)
}

/// CPU used by the apiserver and etcd during one measured phase, per operation.
#[derive(Clone, Copy)]
struct CpuPerOp {
    apiserver: Duration,
    etcd: Duration,
}

/// The processes whose CPU time is sampled around each phase.
#[derive(Clone, Copy)]
struct Pids {
    apiserver: u32,
    etcd: u32,
}

impl Pids {
    fn sample(&self) -> (Duration, Duration) {
        (cpu_time(self.apiserver), cpu_time(self.etcd))
    }

    fn per_op(&self, before: (Duration, Duration), ops: usize) -> CpuPerOp {
        let after = self.sample();
        let n = ops.max(1) as u32;
        CpuPerOp {
            apiserver: after.0.saturating_sub(before.0) / n,
            etcd: after.1.saturating_sub(before.1) / n,
        }
    }
}

/// VmRSS and VmHWM (peak RSS) of a process, in KiB.
#[derive(Clone, Copy)]
struct Memory {
    rss_kib: u64,
    hwm_kib: u64,
}

impl Memory {
    fn read(pid: u32) -> Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Ok(Memory {
            rss_kib: field("VmRSS:"),
            hwm_kib: field("VmHWM:"),
        })
    }
}

/// Latencies of one measured phase.
struct Timings {
    ops: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Timings {
    fn new(mut latencies: Vec<Duration>, elapsed: Duration) -> Timings {
        latencies.sort();
        Timings {
            ops: latencies.len(),
            elapsed,
            latencies,
        }
    }

    fn per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let idx = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies[idx.min(self.latencies.len() - 1)]
    }
}

struct CreateCell {
    clients: usize,
    size: usize,
    stored_bytes: usize,
    api: Timings,
    api_cpu: CpuPerOp,
    etcd: Timings,
    etcd_cpu: CpuPerOp,
}

/// One row of table 1: `clients` workers creating ConfigMaps of ~`size` bytes through the
/// apiserver, then the same number of workers putting values of the stored size into etcd.
async fn create_cell(
    cluster: &TestCluster,
    etcd: &etcd_client::Client,
    pids: Pids,
    clients: usize,
    size: usize,
) -> Result<CreateCell> {
    let ns = format!("bench-c{clients}-s{size}");
    create_namespace(cluster, &ns).await?;
    warm_connections(cluster, clients).await;

    let url = cluster.url(&format!("/api/v1/namespaces/{ns}/configmaps"));
    let template = Arc::new(configmap(&ns, "template", size));
    let cpu_before = pids.sample();
    let api = run_workers(clients, |worker, seq| {
        let client = cluster.client().clone();
        let url = url.clone();
        let mut body = (*template).clone();
        body["metadata"]["name"] = json!(format!("cm-{worker}-{seq}"));
        async move {
            let resp = client.post(url).json(&body).send().await?;
            let status = resp.status();
            let text = resp.bytes().await?;
            if status.as_u16() != 201 {
                bail!("create: {status} {}", String::from_utf8_lossy(&text));
            }
            Ok(())
        }
    })
    .await?;
    let api_cpu = pids.per_op(cpu_before, api.ops);

    // The value etcd holds for one of them: raw puts write exactly that many bytes.
    let stored = cluster
        .etcd()
        .get_raw(&format!("/registry/configmaps/{ns}/cm-0-0"))
        .await?
        .context("the first created ConfigMap is not in etcd")?;
    let stored_bytes = stored.len();
    let value = Arc::new(stored);
    let cpu_before = pids.sample();
    let etcd_timings = run_workers(clients, |worker, seq| {
        let mut kv = etcd.kv_client();
        let key = format!("{RAW_ROOT}/configmaps/{ns}/cm-{worker}-{seq}");
        let value = (*value).clone();
        async move {
            kv.put(key, value, None).await?;
            Ok(())
        }
    })
    .await?;
    let etcd_cpu = pids.per_op(cpu_before, etcd_timings.ops);
    Ok(CreateCell {
        clients,
        size,
        stored_bytes,
        api,
        api_cpu,
        etcd: etcd_timings,
        etcd_cpu,
    })
}

/// Run `clients` workers, each calling `op(worker, seq)` in a loop until the cell's time or
/// operation budget is spent; returns every operation's latency.
async fn run_workers<F, Fut>(clients: usize, op: F) -> Result<Timings>
where
    F: Fn(usize, usize) -> Fut,
    Fut: std::future::Future<Output = Result<()>> + Send + 'static,
{
    let started = Instant::now();
    let deadline = started + CELL_TIME;
    let issued = Arc::new(AtomicUsize::new(0));
    let op = &op;
    let workers = (0..clients).map(|worker| {
        let issued = issued.clone();
        async move {
            let mut latencies = Vec::new();
            let mut seq = 0;
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < CELL_OPS {
                // Spawned so that the work is spread over the runtime's threads.
                let fut = op(worker, seq);
                let t0 = Instant::now();
                tokio::spawn(fut).await??;
                latencies.push(t0.elapsed());
                seq += 1;
            }
            Ok::<_, anyhow::Error>(latencies)
        }
    });
    let results = futures::future::join_all(workers).await;
    let elapsed = started.elapsed();
    let mut all = Vec::new();
    for r in results {
        all.extend(r?);
    }
    Ok(Timings::new(all, elapsed))
}

/// Open `n` pooled connections (TLS handshakes excluded from the measurement).
async fn warm_connections(cluster: &TestCluster, n: usize) {
    let url = cluster.url("/healthz");
    let gets = (0..n).map(|_| cluster.client().get(&url).send());
    for resp in futures::future::join_all(gets).await.into_iter().flatten() {
        let _ = resp.bytes().await;
    }
}

async fn create_namespace(cluster: &TestCluster, name: &str) -> Result<()> {
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    let (status, resp) = cluster.post_json("/api/v1/namespaces", &body).await?;
    if status.as_u16() != 201 {
        bail!("creating namespace {name}: {status} {resp}");
    }
    Ok(())
}

/// A ConfigMap whose JSON is about `size` bytes: labels and annotations as tools write them,
/// and data entries padding it to size.
fn configmap(ns: &str, name: &str, size: usize) -> Value {
    let mut cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {
                "app.kubernetes.io/name": "bench",
                "app.kubernetes.io/component": "config",
                "app.kubernetes.io/managed-by": "rudder-bench"
            },
            "annotations": {"bench.rudder.dev/purpose": "apiserver create throughput"}
        },
        "data": {}
    });
    let base = cm.to_string().len();
    let line = "log.level=info feature.flag=enabled endpoint=http://svc.local:8080/path\n";
    let mut i = 0;
    while cm.to_string().len() + 40 < size {
        let room = size.saturating_sub(base).min(800);
        let text: String = line.chars().cycle().take(room.max(16)).collect();
        cm["data"][format!("setting-{i}.properties")] = json!(text);
        i += 1;
        let len = cm.to_string().len();
        if len > size {
            // Trim the last entry so the object lands on the target size.
            let over = len - size;
            let keep = text.len().saturating_sub(over).max(1);
            cm["data"][format!("setting-{}.properties", i - 1)] = json!(&text[..keep]);
            break;
        }
    }
    cm
}

/// A Pod as a Deployment would create it (labels, owner, one container with ports, env,
/// resources, probes, the service-account token volume): about 2 KiB of JSON.
fn pod(ns: &str, name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {"app": "web", "pod-template-hash": "5d8f7c9b6d", "tier": "frontend"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"},
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f7c9b6d",
                "uid": "0b0c7e1e-3f56-4a8c-9a2d-6f1f0b8c1d2e",
                "controller": true, "blockOwnerDeletion": true
            }]
        },
        "spec": {
            "containers": [{
                "name": "web",
                "image": "registry.example.com/team/web:1.27.3",
                "imagePullPolicy": "IfNotPresent",
                "args": ["--port=8080", "--log-level=info"],
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "env": [
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "MODE", "value": "production"}
                ],
                "resources": {
                    "requests": {"cpu": "100m", "memory": "128Mi"},
                    "limits": {"cpu": "500m", "memory": "256Mi"}
                },
                "readinessProbe": {
                    "httpGet": {"path": "/healthz", "port": 8080},
                    "periodSeconds": 10
                },
                "volumeMounts": [{
                    "name": "kube-api-access", "readOnly": true,
                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"
                }]
            }],
            "volumes": [{
                "name": "kube-api-access",
                "projected": {"sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt",
                                   "items": [{"key": "ca.crt", "path": "ca.crt"}]}}
                ]}
            }],
            "nodeName": format!("node-{}", name.len() % 7),
            "tolerations": [{
                "key": "node.kubernetes.io/not-ready", "operator": "Exists",
                "effect": "NoExecute", "tolerationSeconds": 300
            }]
        }
    })
}

/// Create `count` pods in a fresh namespace `ns` with a pool of concurrent clients.
async fn create_pods(cluster: &TestCluster, ns: &str, count: usize) -> Result<Timings> {
    create_namespace(cluster, ns).await?;
    warm_connections(cluster, POD_CREATE_CLIENTS).await;
    let url = cluster.url(&format!("/api/v1/namespaces/{ns}/pods"));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers = (0..POD_CREATE_CLIENTS).map(|_| {
        let client = cluster.client().clone();
        let (url, next, ns) = (url.clone(), next.clone(), ns.to_string());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let body = pod(&ns, &format!("web-5d8f7c9b6d-{i:05}"));
                let t0 = Instant::now();
                let resp = client.post(&url).json(&body).send().await?;
                let status = resp.status();
                let text = resp.bytes().await?;
                if status.as_u16() != 201 {
                    bail!("pod create: {status} {}", String::from_utf8_lossy(&text));
                }
                latencies.push(t0.elapsed());
            }
        })
    });
    let mut all = Vec::new();
    for r in futures::future::join_all(workers).await {
        all.extend(r??);
    }
    Ok(Timings::new(all, started.elapsed()))
}

struct ListRuns {
    query: String,
    timings: Timings,
    bytes: usize,
    cpu: CpuPerOp,
}

/// GET `path` LIST_RUNS times one after another; checks each answer holds `expect` items.
async fn time_lists(
    cluster: &TestCluster,
    pids: Pids,
    path: &str,
    expect: usize,
) -> Result<ListRuns> {
    let mut latencies = Vec::new();
    let mut cpu = Duration::ZERO;
    let mut bytes = 0;
    let started = Instant::now();
    for _ in 0..LIST_RUNS {
        let cpu_before = cpu_time(pids.apiserver);
        let t0 = Instant::now();
        let resp = cluster.client().get(cluster.url(path)).send().await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        latencies.push(t0.elapsed());
        // Sampled before the client parses the answer (that CPU is not the apiserver's).
        cpu += cpu_time(pids.apiserver).saturating_sub(cpu_before);
        if !status.is_success() {
            bail!("LIST {path}: {status} {}", String::from_utf8_lossy(&body));
        }
        bytes = body.len();
        let list: Value = serde_json::from_slice(&body).context("LIST answer is not JSON")?;
        let items = list["items"].as_array().map_or(0, Vec::len);
        if items != expect {
            bail!("LIST {path}: {items} items, expected {expect}");
        }
    }
    Ok(ListRuns {
        query: path.to_string(),
        timings: Timings::new(latencies, started.elapsed()),
        bytes,
        cpu: CpuPerOp {
            apiserver: cpu / LIST_RUNS as u32,
            etcd: Duration::ZERO,
        },
    })
}

struct Report {
    exe: String,
    creates: Vec<CreateCell>,
    pod_fill: Timings,
    list: ListRuns,
    list_rv0: ListRuns,
    memory: Vec<(&'static str, Memory)>,
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

impl Report {
    fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# kube-apiserver bench\n");
        let _ = writeln!(
            s,
            "Produced by `hack/bench/apiserver` (integration-tests/src/bin/bench-apiserver.rs).\n"
        );
        let _ = writeln!(
            s,
            "- date: {}",
            command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
        );
        let _ = writeln!(
            s,
            "- commit: {}",
            command_line("git", &["rev-parse", "--short", "HEAD"])
        );
        let _ = writeln!(s, "- machine: {} cores, {}", cores(), cpu_model());
        let _ = writeln!(
            s,
            "- apiserver: release build `{}`; etcd {}",
            self.exe,
            etcd_version()
        );
        let _ = writeln!(
            s,
            "- client, apiserver and etcd share the machine; everything on 127.0.0.1\n"
        );

        let _ = writeln!(
            s,
            "## 1. Creates: apiserver (HTTPS POST ConfigMap) vs raw etcd put\n"
        );
        let _ = writeln!(s, "Each cell: {} s or {CELL_OPS} operations, whichever first. `size` is the JSON sent; \
             `stored` the bytes etcd holds per object (the raw puts write that many). Target ratio ≥ 60 %.\n", CELL_TIME.as_secs());
        let _ = writeln!(s, "| clients | size | stored | apiserver creates/s | p50 ms | p99 ms | etcd puts/s | p50 ms | p99 ms | ratio |");
        let _ = writeln!(s, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for c in &self.creates {
            let ratio = 100.0 * c.api.per_sec() / c.etcd.per_sec().max(1e-9);
            let _ = writeln!(
                s,
                "| {} | {} B | {} B | {:.0} | {} | {} | {:.0} | {} | {} | {:.0} % |",
                c.clients,
                c.size,
                c.stored_bytes,
                c.api.per_sec(),
                ms(c.api.quantile(0.5)),
                ms(c.api.quantile(0.99)),
                c.etcd.per_sec(),
                ms(c.etcd.quantile(0.5)),
                ms(c.etcd.quantile(0.99)),
                ratio
            );
        }
        let _ = writeln!(
            s,
            "\nCPU time per operation (from /proc/<pid>/stat, 10 ms ticks): where the create \
             cost goes. The bench client (TLS, JSON) runs on the same 2 cores.\n"
        );
        let _ = writeln!(s, "| clients | size | apiserver µs/create | etcd µs/create (behind the apiserver) | etcd µs/raw put |");
        let _ = writeln!(s, "|---:|---:|---:|---:|---:|");
        for c in &self.creates {
            let _ = writeln!(
                s,
                "| {} | {} B | {} | {} | {} |",
                c.clients,
                c.size,
                c.api_cpu.apiserver.as_micros(),
                c.api_cpu.etcd.as_micros(),
                c.etcd_cpu.etcd.as_micros()
            );
        }

        let f = &self.pod_fill;
        let _ = writeln!(s, "\n## 2. LIST of {LIST_PODS} pods\n");
        let _ = writeln!(
            s,
            "Filled with {POD_CREATE_CLIENTS} concurrent clients: {:.0} pod creates/s \
             (p50 {} ms, p99 {} ms). {LIST_RUNS} sequential LISTs per row. Target < 300 ms.\n",
            f.per_sec(),
            ms(f.quantile(0.5)),
            ms(f.quantile(0.99))
        );
        let _ = writeln!(
            s,
            "| request | p50 ms | p99 ms | max ms | response | apiserver CPU ms/LIST |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
        for l in [&self.list, &self.list_rv0] {
            let _ = writeln!(
                s,
                "| `GET {}` | {} | {} | {} | {:.1} MiB | {} |",
                l.query,
                ms(l.timings.quantile(0.5)),
                ms(l.timings.quantile(0.99)),
                ms(l.timings.quantile(1.0)),
                l.bytes as f64 / (1024.0 * 1024.0),
                l.cpu.apiserver.as_millis()
            );
        }

        let _ = writeln!(s, "\n## 3. kube-apiserver memory\n");
        let _ = writeln!(
            s,
            "From /proc/<pid>/status: VmRSS now, VmHWM the peak so far. Target idle < 40 MiB.\n"
        );
        let _ = writeln!(s, "| when | RSS MiB | peak RSS MiB |");
        let _ = writeln!(s, "|---|---:|---:|");
        for (when, m) in &self.memory {
            let _ = writeln!(s, "| {when} | {} | {} |", mib(m.rss_kib), mib(m.hwm_kib));
        }
        s
    }
}

/// First line of a command's stdout, or "unknown".
fn command_line(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

fn etcd_version() -> String {
    let bin = integration_tests::process::etcd_bin();
    command_line(&bin.to_string_lossy(), &["--version"])
}
