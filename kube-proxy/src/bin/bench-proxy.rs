//! The kube-proxy sync bench: how long rendering and applying the nftables rules takes for
//! 1,000 and 10,000 Services with 10 endpoints each, and what one EndpointSlice change costs
//! as a partial sync next to a full rewrite. Everything runs in a private network namespace
//! (`ip netns add`), so the host's ruleset is never touched. Prints a markdown table and
//! appends it to `--out` (default `hack/bench/RESULTS.md`). Run it through `hack/bench/proxy`.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use kube_proxy::model::{Endpoint, Protocol, ProxyModel, ServicePort, ServicePortName};
use kube_proxy::nft::Nft;
use kube_proxy::render::render;
use kube_proxy::ruleset::{Ruleset, SyncKind};

const ENDPOINTS_PER_SERVICE: u32 = 10;
/// Partial syncs measured per size; the median is reported.
const CHANGES: usize = 7;

fn model(services: u32) -> ProxyModel {
    let mut model = ProxyModel {
        node_name: "bench-node".into(),
        cluster_cidrs: vec!["10.244.0.0/16".parse().expect("cidr")],
        ..Default::default()
    };
    for i in 0..services {
        let name = ServicePortName {
            namespace: format!("ns-{}", i % 50),
            name: format!("svc-{i}"),
            port: "http".into(),
            protocol: Protocol::Tcp,
        };
        let endpoints = (0..ENDPOINTS_PER_SERVICE)
            .map(|e| {
                let n = i * ENDPOINTS_PER_SERVICE + e;
                Endpoint {
                    // 10.128.0.0/9 holds 100,000 endpoints without overlapping.
                    ip: Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 128, 0, 0)) + n).into(),
                    port: 8080,
                    ready: true,
                    serving: true,
                    terminating: false,
                    node_name: Some(format!("node-{}", e % 3)),
                }
            })
            .collect();
        let port = ServicePort {
            cluster_ip: Some(Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 96, 0, 0)) + i + 1).into()),
            port: 80,
            // Every tenth Service is a NodePort one.
            node_port: (i % 10 == 0).then(|| 30000 + (i / 10) as u16 % 2768),
            external_ips: vec![],
            load_balancer_ips: vec![],
            external_policy_local: false,
            internal_policy_local: false,
            affinity_timeout: None,
            source_ranges: vec![],
            health_check_node_port: None,
            endpoints,
        };
        model.services.insert(name, port);
    }
    model
}

/// Replace endpoint `round` of one Service with a fresh address: what a pod replaced by its
/// ReplicaSet looks like to kube-proxy.
fn change_one_endpoint(model: &mut ProxyModel, round: usize) {
    let services = model.services.len();
    if let Some(port) = model.services.values_mut().nth(round * 7919 % services) {
        let e = round % port.endpoints.len();
        port.endpoints[e].ip =
            Ipv4Addr::new(10, 127, (round / 256) as u8, (round % 256) as u8).into();
    }
}

struct Netns(String);

impl Netns {
    fn create() -> Result<Netns> {
        let name = format!("rudder-bench-proxy-{}", std::process::id());
        let status = Command::new("ip").args(["netns", "add", &name]).status()?;
        if !status.success() {
            bail!("ip netns add {name} failed");
        }
        Ok(Netns(name))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Row {
    services: u32,
    render: Duration,
    replace_apply: Duration,
    replace_lines: usize,
    full_sync: Duration,
    partial_sync: Duration,
    partial_lines: usize,
}

async fn measure(nft: &Nft, services: u32) -> Result<Row> {
    let mut m = model(services);
    let t = Instant::now();
    let first = render(&m);
    let render_time = t.elapsed();
    let text = first.transaction(SyncKind::Replace, &Ruleset::default());
    let t = Instant::now();
    nft.apply(&text).await.context("initial replace")?;
    let replace_apply = t.elapsed();
    let replace_lines = text.lines().count();

    // One endpoint change, applied as a partial sync (render + diff + apply).
    let mut applied = first;
    let mut partial = Vec::new();
    let mut partial_lines = 0;
    for round in 0..CHANGES {
        change_one_endpoint(&mut m, round);
        let t = Instant::now();
        let next = render(&m);
        let text = next.transaction(SyncKind::Partial, &applied);
        nft.apply(&text).await.context("partial sync")?;
        partial.push(t.elapsed());
        partial_lines = text.lines().count();
        applied = next;
    }

    // The same change as a full rewrite (render + rewrite every chain and map + apply).
    let mut full = Vec::new();
    for round in CHANGES..CHANGES + 3 {
        change_one_endpoint(&mut m, round);
        let t = Instant::now();
        let next = render(&m);
        let text = next.transaction(SyncKind::Full, &applied);
        nft.apply(&text).await.context("full sync")?;
        full.push(t.elapsed());
        applied = next;
    }
    nft.delete_table(kube_proxy::render::TABLE).await?;
    Ok(Row {
        services,
        render: render_time,
        replace_apply,
        replace_lines,
        full_sync: median(full),
        partial_sync: median(partial),
        partial_lines,
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut out: PathBuf = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("hack/bench/RESULTS.md");
    let mut sizes = vec![1000u32, 10000];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().context("--out needs a path")?.into(),
            "--services" => {
                sizes = args
                    .next()
                    .context("--services needs a list")?
                    .split(',')
                    .map(|s| s.parse().context("service count"))
                    .collect::<Result<_>>()?
            }
            other => bail!(
                "unknown argument {other:?} (usage: bench-proxy [--out FILE] [--services 1000,10000])"
            ),
        }
    }
    let netns = Netns::create()?;
    let nft = Nft::new().in_netns(&netns.0);
    let mut rows = Vec::new();
    for n in sizes {
        eprintln!("bench-proxy: {n} Services × {ENDPOINTS_PER_SERVICE} endpoints…");
        rows.push(measure(&nft, n).await?);
    }
    drop(netns);

    let mut table = String::new();
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let _ = writeln!(table, "\n## kube-proxy sync (hack/bench/proxy)\n");
    let _ = writeln!(table, "- date: {now}");
    let profile = if cfg!(debug_assertions) {
        "debug build (render times are several times what a release build takes; nft's are not affected)"
    } else {
        "release build"
    };
    let _ = writeln!(table, "- bench-proxy: {profile}; 2 shared cores");
    let _ = writeln!(
        table,
        "- {ENDPOINTS_PER_SERVICE} ready endpoints per Service, every tenth Service also a NodePort; rules applied with `nft -f -` in a private network namespace"
    );
    let _ = writeln!(
        table,
        "- render = model → ruleset; replace = one transaction deleting and recreating the table (start-up); \
         partial = one endpoint changed, render + diff + apply (median of {CHANGES}); \
         full = the same change as a rewrite of every chain and map (median of 3)\n"
    );
    let _ = writeln!(
        table,
        "| Services | render ms | replace apply ms | replace lines | full sync ms | partial sync ms | partial lines |"
    );
    let _ = writeln!(table, "|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let _ = writeln!(
            table,
            "| {} | {:.1} | {:.1} | {} | {:.1} | {:.1} | {} |",
            r.services,
            ms(r.render),
            ms(r.replace_apply),
            r.replace_lines,
            ms(r.full_sync),
            ms(r.partial_sync),
            r.partial_lines
        );
    }
    print!("{table}");
    let mut existing = std::fs::read_to_string(&out).unwrap_or_default();
    existing.push_str(&table);
    std::fs::write(&out, existing).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("bench-proxy: appended to {}", out.display());
    Ok(())
}
