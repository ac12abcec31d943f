//! `bench-controllers`: issue 5's "Must show" 4, through a real kube-apiserver and etcd
//! (started by the integration-test harness, release builds) and kube-controller-manager
//! running the deployment and replicaset controllers. No scheduler and no kubelet: the pods
//! stay Pending, so what is measured is the controllers' create path alone.
//!
//! A Deployment is created with `replicas: 0`; once its ReplicaSet exists it is scaled to
//! `--pods` (default 3,000) through the `scale` subresource, and two watches (pods,
//! ReplicaSets) time: the first pod, every pod existing, and the ReplicaSet reporting
//! `status.replicas == --pods`. Also the controller-manager's peak RSS (VmHWM) and the CPU
//! time of each process over the scale-up.
//!
//! `bench-controllers [--out FILE] [--pods N]`; run it through `hack/bench/controllers`.
//! The table replaces the "## Controllers" section of the results file (others are kept).
//! Nothing here asserts times: it is a bench.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use integration_tests::proc_stats::{apiserver_pid, cpu_time, etcd_pid, status_kib};
use integration_tests::process::{self, Daemon};
use integration_tests::TestCluster;
use serde_json::json;

/// The namespace the Deployment lives in.
const NS: &str = "ctrl-bench";
/// Gives up when the pods are not all there after this long.
const SCALE_LIMIT: Duration = Duration::from_secs(600);
/// The heading of this bench's section in the results file.
const SECTION: &str = "## Controllers (hack/bench/controllers)";

struct Args {
    out: PathBuf,
    pods: usize,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        out: process::workspace_root().join("hack/bench/RESULTS.md"),
        pods: 3000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--out" => args.out = PathBuf::from(value()?),
            "--pods" => args.pods = value()?.parse()?,
            other => {
                bail!("unknown argument {other} (usage: bench-controllers [--out FILE] [--pods N])")
            }
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let outcome = tokio::select! {
        res = run(args.pods) => res?,
        _ = term.recv() => bail!("terminated"),
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    };
    let report = report(&outcome);
    println!("{report}");
    let mut text = std::fs::read_to_string(&args.out).unwrap_or_default();
    replace_section(&mut text, &report);
    std::fs::write(&args.out, text).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("bench: wrote {}", args.out.display());
    Ok(())
}

/// Put `report` (starting with [`SECTION`]) in place of the old section, up to the next
/// `## ` or `# ` heading, or append it.
fn replace_section(text: &mut String, report: &str) {
    if let Some(start) = text.find(SECTION) {
        let after = start + SECTION.len();
        let end = text[after..]
            .find("\n## ")
            .or_else(|| text[after..].find("\n# "))
            .map_or(text.len(), |e| after + e + 1);
        text.replace_range(start..end, report);
    } else {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push('\n');
        text.push_str(report);
    }
}

/// The numbers of one scale-up.
struct Outcome {
    pods: usize,
    first_pod: Duration,
    all_pods: Duration,
    status_replicas: Duration,
    peak_rss_kib: u64,
    idle_rss_kib: u64,
    cm_cpu: Duration,
    apiserver_cpu: Duration,
    etcd_cpu: Duration,
}

async fn run(pods: usize) -> Result<Outcome> {
    let cluster = TestCluster::start()
        .await
        .context("starting etcd + apiserver")?;
    let cm = start_controller_manager(&cluster)?;
    ok(cluster
        .post_json(
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
        )
        .await?)?;
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "bench"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "bench"}},
            "template": {
                "metadata": {"labels": {"app": "bench"}},
                "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
            }
        }
    });
    ok(cluster
        .post_json(
            &format!("/apis/apps/v1/namespaces/{NS}/deployments"),
            &deployment,
        )
        .await?)?;
    // The Deployment controller makes the (empty) ReplicaSet first, so the scale-up below
    // measures scaling, not the ReplicaSet's creation.
    let rs_ready = Instant::now();
    loop {
        let (_, list) = cluster
            .get_json(&format!("/apis/apps/v1/namespaces/{NS}/replicasets"))
            .await?;
        if list["items"].as_array().is_some_and(|i| !i.is_empty()) {
            break;
        }
        if rs_ready.elapsed() > Duration::from_secs(60) {
            bail!("no ReplicaSet after 60 s; log:\n{}", cm.log_tail(30));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the controller-manager settle (initial lists done) before its idle RSS is read.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss_kib = status_kib(cm.pid(), "VmRSS:");

    let pods_watch = watch_from_now(&cluster, &format!("/api/v1/namespaces/{NS}/pods")).await?;
    let rs_watch = watch_from_now(
        &cluster,
        &format!("/apis/apps/v1/namespaces/{NS}/replicasets"),
    )
    .await?;
    let (mut pods_watch, mut rs_watch) = (Box::pin(pods_watch), Box::pin(rs_watch));

    let pids = (cm.pid(), apiserver_pid(&cluster)?, etcd_pid(&cluster)?);
    let cpu_before = (cpu_time(pids.0), cpu_time(pids.1), cpu_time(pids.2));
    let t0 = Instant::now();
    let (code, body) = cluster
        .patch_json(
            &format!("/apis/apps/v1/namespaces/{NS}/deployments/bench/scale"),
            "application/merge-patch+json",
            &json!({"spec": {"replicas": pods}}),
        )
        .await?;
    if !code.is_success() {
        bail!("scaling: {code} {body}");
    }

    let mut seen: HashSet<String> = HashSet::new();
    let mut first_pod = None;
    let mut all_pods = None;
    let mut status_replicas = None;
    let deadline = tokio::time::sleep(SCALE_LIMIT);
    tokio::pin!(deadline);
    while all_pods.is_none() || status_replicas.is_none() {
        tokio::select! {
            ev = pods_watch.next(), if all_pods.is_none() => {
                let Some(ev) = ev else { bail!("pod watch ended with {} pods", seen.len()) };
                let ev = ev?;
                if ev.kind == "ADDED" && seen.insert(ev.name().to_string()) {
                    first_pod.get_or_insert(t0.elapsed());
                    if seen.len().is_multiple_of(500) {
                        eprintln!("bench: {} pods after {:.1} s", seen.len(), t0.elapsed().as_secs_f64());
                    }
                    if seen.len() >= pods {
                        all_pods = Some(t0.elapsed());
                    }
                }
            }
            ev = rs_watch.next(), if status_replicas.is_none() => {
                let Some(ev) = ev else { bail!("ReplicaSet watch ended") };
                let ev = ev?;
                if ev.object["status"]["replicas"].as_u64() == Some(pods as u64) {
                    status_replicas = Some(t0.elapsed());
                }
            }
            _ = &mut deadline => bail!(
                "{} of {pods} pods after {SCALE_LIMIT:?}; controller-manager log:\n{}",
                seen.len(),
                cm.log_tail(30)
            ),
        }
    }
    Ok(Outcome {
        pods,
        first_pod: first_pod.unwrap_or_default(),
        all_pods: all_pods.unwrap_or_default(),
        status_replicas: status_replicas.unwrap_or_default(),
        peak_rss_kib: status_kib(cm.pid(), "VmHWM:"),
        idle_rss_kib,
        cm_cpu: cpu_time(pids.0).saturating_sub(cpu_before.0),
        apiserver_cpu: cpu_time(pids.1).saturating_sub(cpu_before.1),
        etcd_cpu: cpu_time(pids.2).saturating_sub(cpu_before.2),
    })
}

/// A watch on `collection` from its current resourceVersion on.
async fn watch_from_now(
    cluster: &TestCluster,
    collection: &str,
) -> Result<impl futures::Stream<Item = Result<integration_tests::api::WatchEvent>>> {
    let (code, list) = cluster.get_json(&format!("{collection}?limit=1")).await?;
    if !code.is_success() {
        bail!("listing {collection}: {code} {list}");
    }
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    cluster
        .watch(
            &format!("{collection}?watch=true&resourceVersion={rv}"),
            SCALE_LIMIT + Duration::from_secs(30),
        )
        .await
}

fn ok((code, body): (reqwest::StatusCode, serde_json::Value)) -> Result<()> {
    if !code.is_success() {
        bail!("{code} {body}");
    }
    Ok(())
}

/// kube-controller-manager with only the two controllers on the scale-up's path, no leader
/// election (one instance), default log level.
fn start_controller_manager(cluster: &TestCluster) -> Result<Daemon> {
    let bin = process::bin_dir()?.join("kube-controller-manager");
    let args = vec![
        format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
        "--leader-elect=false".to_string(),
        "--controllers=deployment,replicaset".to_string(),
    ];
    Daemon::spawn(
        "kube-controller-manager",
        &bin,
        &args,
        &cluster.dir().join("kube-controller-manager.log"),
    )
}

fn report(o: &Outcome) -> String {
    let cmd = |args: &[&str]| {
        std::process::Command::new(args[0])
            .args(&args[1..])
            .current_dir(process::workspace_root())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let now = cmd(&["date", "-u", "+%Y-%m-%d %H:%M UTC"]);
    let bins = process::bin_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let commit = cmd(&["git", "rev-parse", "--short", "HEAD"]);
    let secs = |d: Duration| format!("{:.2}", d.as_secs_f64());
    let mib = |k: u64| format!("{:.1}", k as f64 / 1024.0);
    format!(
        "{SECTION}\n\n\
         - date: {now}; commit: {commit}; 2 shared cores; binaries from `{bins}`\n\
         - kube-apiserver, etcd, kube-controller-manager (`--controllers=deployment,replicaset`) and the bench on one machine; no scheduler or kubelet, pods stay Pending\n\
         - a Deployment with `replicas: 0` (its empty ReplicaSet already made) is scaled to {pods} through `/scale`; times from the PATCH to what the bench's watches see\n\n\
         | pods | first pod s | all pods exist s | pods/s | RS status.replicas = {pods} s | controller-manager idle RSS MiB | peak RSS MiB | CPU s controller-manager / apiserver / etcd |\n\
         |---:|---:|---:|---:|---:|---:|---:|---|\n\
         | {pods} | {} | {} | {:.0} | {} | {} | {} | {:.1} / {:.1} / {:.1} |\n",
        secs(o.first_pod),
        secs(o.all_pods),
        o.pods as f64 / o.all_pods.as_secs_f64().max(1e-3),
        secs(o.status_replicas),
        mib(o.idle_rss_kib),
        mib(o.peak_rss_kib),
        o.cm_cpu.as_secs_f64(),
        o.apiserver_cpu.as_secs_f64(),
        o.etcd_cpu.as_secs_f64(),
        pods = o.pods,
    )
}
