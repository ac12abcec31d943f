//! rudder-dns: flags, API client, informers, the DNS listeners and the health server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use hickory_proto::rr::Name;

use rudder_dns::forward::{nameservers_from_resolv_conf, Forwarder};
use rudder_dns::hosts::HostsFile;
use rudder_dns::informers::{self, Zone};
use rudder_dns::server::{Handler, Listeners};

/// Cluster DNS for Rudder: answers `<svc>.<ns>.svc.<cluster-domain>` from the API.
#[derive(Parser, Debug)]
#[command(name = "rudder-dns", version)]
struct Flags {
    /// The cluster domain this server is authoritative for.
    #[arg(long, default_value = "cluster.local")]
    cluster_domain: String,
    /// Address (ip:port) to serve DNS on, over UDP and TCP.
    #[arg(long, default_value = "0.0.0.0:53")]
    listen: SocketAddr,
    /// Path to a kubeconfig; without it, the in-cluster configuration is used.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Address (ip:port) of the HTTP /health and /ready endpoints; empty disables them.
    #[arg(long, default_value = "0.0.0.0:8080")]
    health_listen: String,
    /// Upstream resolver (ip:port, or ip for port 53) for names outside the cluster
    /// domain; repeatable. With none (and no --resolv-conf), such names are REFUSED.
    #[arg(long = "upstream")]
    upstreams: Vec<String>,
    /// Also forward to the loopback nameservers of this resolv.conf (the node's, e.g.
    /// /etc/resolv.conf in a pod with dnsPolicy Default); others are never asked, and with
    /// no usable one, names outside the cluster get SERVFAIL at once.
    #[arg(long)]
    resolv_conf: Option<PathBuf>,
    /// Answer names listed in this hosts file (`address name…` lines; re-read when it
    /// changes) before forwarding, as CoreDNS's `hosts` plugin does.
    #[arg(long)]
    hosts_file: Option<PathBuf>,
    /// Time-to-live of the cluster records, seconds.
    #[arg(long, default_value_t = 30)]
    ttl: u32,
    /// How long to wait for one upstream before trying the next.
    #[arg(long, default_value = "2s", value_parser = common::duration::parse_flag)]
    upstream_timeout: Duration,
    /// Log verbosity (0-10, as klog's -v).
    #[arg(short = 'v', long = "v", default_value_t = 2)]
    verbosity: u8,
}

fn parse_upstream(s: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let ip: std::net::IpAddr = s
        .parse()
        .with_context(|| format!("--upstream {s:?}: not an ip or ip:port"))?;
    Ok(SocketAddr::new(ip, 53))
}

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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    common::logging::init(flags.verbosity);
    let zone_name = Name::from_ascii(flags.cluster_domain.trim_end_matches('.'))
        .with_context(|| format!("--cluster-domain {:?}", flags.cluster_domain))?;
    let mut upstreams = flags
        .upstreams
        .iter()
        .map(|s| parse_upstream(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let listeners = Listeners::bind(flags.listen)
        .await
        .with_context(|| format!("binding {}", flags.listen))?;
    let local = listeners.local_addr()?;
    let mut unreachable = Vec::new();
    if let Some(path) = &flags.resolv_conf {
        match nameservers_from_resolv_conf(path, local) {
            Ok(found) => {
                upstreams.extend(found.usable);
                unreachable = found.unreachable;
            }
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot read resolv.conf"),
        }
    }
    if !unreachable.is_empty() {
        tracing::info!(
            ?unreachable,
            "resolv.conf nameservers outside loopback are never asked"
        );
    }
    if upstreams.is_empty() {
        tracing::info!(
            "no upstream resolvers: names outside the cluster domain are {}",
            if unreachable.is_empty() {
                "REFUSED"
            } else {
                "SERVFAIL"
            }
        );
    }
    let client = client(flags.kubeconfig.as_ref())
        .await
        .context("building the API client")?;
    let zone = Zone::new(&zone_name, flags.ttl);
    tokio::spawn(informers::run(
        client,
        zone.clone(),
        zone_name.clone(),
        flags.ttl,
    ));
    if !flags.health_listen.is_empty() {
        let addr: SocketAddr = flags
            .health_listen
            .parse()
            .with_context(|| format!("--health-listen {:?}", flags.health_listen))?;
        let zone = zone.clone();
        tokio::spawn(async move {
            if let Err(e) = rudder_dns::health::serve(addr, zone).await {
                tracing::error!(%addr, error = %e, "health server failed");
            }
        });
    }
    tracing::info!(listen = %local, domain = %zone_name, ?upstreams, "rudder-dns serving");
    let mut handler = Handler::new(
        zone,
        Forwarder::new(upstreams, flags.upstream_timeout).with_unreachable(unreachable),
    );
    if let Some(path) = &flags.hosts_file {
        let hosts = std::sync::Arc::new(HostsFile::open(path, flags.ttl));
        tokio::spawn(hosts.clone().watch());
        handler = handler.with_hosts(hosts);
    }
    tokio::select! {
        r = handler.serve(listeners) => r.context("DNS server failed")?,
        _ = common::signals::shutdown() => tracing::info!("shutting down"),
    }
    Ok(())
}
