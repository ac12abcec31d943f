//! kube-proxy: programs nftables so that Service addresses reach their endpoints. See the
//! library's documentation for the structure; this file wires flags, client, informers, the
//! HTTP servers and the sync loop together.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use kube_proxy::changes::{ChangeTracker, NodeSettings};
use kube_proxy::config::{check_mode, parse_bind, parse_cidrs, Flags};
use kube_proxy::health::ProxierHealth;
use kube_proxy::informers::Informers;
use kube_proxy::metrics::Metrics;
use kube_proxy::model::IpFamily;
use kube_proxy::nft::Nft;
use kube_proxy::proxier::{Proxier, SyncPeriods};
use kube_proxy::server::{self, Endpoints};
use kube_proxy::service_health::ServiceHealthServer;

async fn client(kubeconfig: Option<&PathBuf>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?
        }
        None => kube::Config::infer().await?,
    };
    Ok(kube::Client::try_from(config)?)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_lowercase())
        .unwrap_or_else(|_| "localhost".into())
}

/// Node ports on 127.0.0.1 only work when the kernel routes loopback-sourced packets off
/// the loopback device (they are masqueraded on the way out).
fn enable_route_localnet() {
    let path = "/proc/sys/net/ipv4/conf/all/route_localnet";
    match std::fs::read_to_string(path) {
        Ok(v) if v.trim() == "1" => {}
        _ => {
            if let Err(e) = std::fs::write(path, "1") {
                tracing::warn!(error = %e, "cannot set net.ipv4.conf.all.route_localnet=1; node ports on 127.0.0.1 will not work");
            } else {
                tracing::info!("set net.ipv4.conf.all.route_localnet=1");
            }
        }
    }
}

/// Whether this host can carry IPv6 Services: the kernel has IPv6 (`/proc/net/if_inet6`),
/// it is not disabled (`net.ipv6.conf.all.disable_ipv6`), and nft can make an `ip6` table.
/// Upstream likewise falls back to single-stack when the second family is unusable.
async fn ipv6_usable(nft: &Nft) -> Result<(), String> {
    if !std::path::Path::new("/proc/net/if_inet6").exists() {
        return Err("the kernel has no IPv6 (/proc/net/if_inet6 is missing)".into());
    }
    let disabled = std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/disable_ipv6")
        .map(|v| v.trim() == "1")
        .unwrap_or(false);
    if disabled {
        return Err("net.ipv6.conf.all.disable_ipv6=1".into());
    }
    // Creating the (possibly existing) table is harmless: the first sync replaces it.
    nft.apply(&format!("add table {}\n", IpFamily::V6.table()))
        .await
        .map_err(|e| format!("nft cannot create an ip6 table: {e}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    common::logging::init(flags.verbosity);
    check_mode(&flags.proxy_mode)?;
    let nft = Nft::new();
    if flags.cleanup {
        nft.delete_table(&IpFamily::V4.table()).await?;
        tracing::info!(table = %IpFamily::V4.table(), "removed kube-proxy's nftables table");
        // A host without IPv6 has no ip6 table to remove.
        match nft.delete_table(&IpFamily::V6.table()).await {
            Ok(()) => {
                tracing::info!(table = %IpFamily::V6.table(), "removed kube-proxy's nftables table")
            }
            Err(e) => tracing::info!(error = %e, "no ip6 table removed (IPv6 unavailable)"),
        }
        return Ok(());
    }
    let settings = NodeSettings {
        node_name: flags.hostname_override.clone().unwrap_or_else(hostname),
        cluster_cidrs: parse_cidrs("--cluster-cidr", &flags.cluster_cidr)?,
        masquerade_all: flags.masquerade_all,
        nodeport_addresses: parse_cidrs("--nodeport-addresses", &flags.nodeport_addresses)?,
    };
    if settings.cluster_cidrs.is_empty() && !settings.masquerade_all {
        tracing::warn!("no --cluster-cidr: traffic to cluster IPs from outside the pod network is not masqueraded");
    }
    let healthz = parse_bind("--healthz-bind-address", &flags.healthz_bind_address)?;
    let metrics_addr = parse_bind("--metrics-bind-address", &flags.metrics_bind_address)?;
    if !settings
        .nodeport_addresses
        .iter()
        .any(|n| n.addr().is_ipv4())
        || settings
            .nodeport_addresses
            .iter()
            .any(|n| n.contains(&std::net::IpAddr::from(std::net::Ipv4Addr::LOCALHOST)))
    {
        enable_route_localnet();
    }

    let families: Vec<IpFamily> = match ipv6_usable(&nft).await {
        Ok(()) => IpFamily::ALL.to_vec(),
        Err(why) => {
            tracing::warn!(reason = %why, "IPv6 is unavailable: programming IPv4 Services only");
            vec![IpFamily::V4]
        }
    };

    let client = client(flags.kubeconfig.as_ref())
        .await
        .context("building the API client")?;
    let metrics = Metrics::new()?;
    let health = Arc::new(ProxierHealth::new(&settings.node_name, flags.sync_period));
    for (addr, endpoints) in [
        (healthz, Endpoints::Health(health.clone())),
        (metrics_addr, Endpoints::Metrics(metrics.clone())),
    ] {
        if let Some(addr) = addr {
            tokio::spawn(async move {
                if let Err(e) = server::serve(addr, endpoints).await {
                    tracing::error!(%addr, error = %e, "HTTP server failed");
                }
            });
        }
    }

    let tracker = ChangeTracker::new();
    let informers = Informers::start(client, tracker.clone(), health.clone());
    tracing::info!(node = %settings.node_name, "kube-proxy (nftables) waiting for the informers");
    tokio::select! {
        r = informers.wait_until_ready() => r.context("informers stopped")?,
        _ = common::signals::shutdown() => return Ok(()),
    }
    // Health-check node ports answer on every address, or only on --nodeport-addresses
    // when that names exactly one address.
    // `[::]` also takes IPv4 connections (Linux's default), so one listener serves both.
    let hc_bind: std::net::IpAddr = match settings.nodeport_addresses.as_slice() {
        [one] if one.prefix_len() == one.max_prefix_len() => one.addr(),
        _ if families.contains(&IpFamily::V6) => std::net::Ipv6Addr::UNSPECIFIED.into(),
        _ => std::net::Ipv4Addr::UNSPECIFIED.into(),
    };
    let service_health = ServiceHealthServer::new(hc_bind, health.clone());
    let proxier = Proxier::new(
        nft,
        settings,
        informers,
        tracker,
        health,
        metrics,
        SyncPeriods {
            min: flags.min_sync_period,
            full: flags.sync_period,
        },
    )
    .with_families(&families)
    .with_service_health(service_health);
    proxier.run(common::signals::shutdown()).await;
    Ok(())
}
