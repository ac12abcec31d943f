//! rudder-ingress: flags, API client, the controller loop and the listeners.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use rudder_ingress::controller::{self, Settings, Shared};
use rudder_ingress::metrics::{self, Metrics};
use rudder_ingress::proxy::Proxy;
use rudder_ingress::status::PublishSource;
use rudder_ingress::tls::{server_config, SniResolver};

/// Ingress controller for Rudder: a reverse proxy routing Ingress rules to pod endpoints.
#[derive(Parser, Debug)]
#[command(name = "rudder-ingress", version)]
struct Flags {
    /// Path to a kubeconfig; without it, the in-cluster configuration is used.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// The IngressClass `spec.controller` value this controller implements.
    #[arg(long, default_value = "rudder.dev/ingress")]
    controller_name: String,
    /// Address (ip:port) for plain HTTP.
    #[arg(long, default_value = "0.0.0.0:80")]
    http_listen: SocketAddr,
    /// Address (ip:port) for HTTPS; empty disables it.
    #[arg(long, default_value = "0.0.0.0:443")]
    https_listen: String,
    /// Address (ip:port) of /metrics, /healthz and /readyz; empty disables them.
    #[arg(long, default_value = "0.0.0.0:10254")]
    metrics_listen: String,
    /// The address written into the Ingresses' status.loadBalancer.ingress (an IP or a
    /// hostname); defaults to the HTTP listen IP when that is a specific address, else the
    /// POD_IP environment variable.
    #[arg(long)]
    publish_address: Option<String>,
    /// Publish the load-balancer addresses of this Service (namespace/name), the one in front
    /// of the proxy, into the Ingresses' status; overrides --publish-address.
    #[arg(long)]
    publish_service: Option<String>,
    /// Log verbosity (0-10, as klog's -v).
    #[arg(short = 'v', long = "v", default_value_t = 2)]
    verbosity: u8,
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

fn optional_addr(flag: &str, value: &str) -> anyhow::Result<Option<SocketAddr>> {
    if value.is_empty() {
        return Ok(None);
    }
    Ok(Some(value.parse().with_context(|| {
        format!("{flag} {value:?}: not ip:port")
    })?))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    common::logging::init(flags.verbosity);
    let https = optional_addr("--https-listen", &flags.https_listen)?;
    let metrics_addr = optional_addr("--metrics-listen", &flags.metrics_listen)?;
    let publish_address = flags.publish_address.clone().or_else(|| {
        let ip = flags.http_listen.ip();
        if ip.is_unspecified() {
            std::env::var("POD_IP").ok().filter(|v| !v.is_empty())
        } else {
            Some(ip.to_string())
        }
    });
    let publish = match (&flags.publish_service, publish_address) {
        (Some(service), _) => {
            let (ns, name) = service
                .split_once('/')
                .with_context(|| format!("--publish-service {service:?}: not namespace/name"))?;
            PublishSource::Service(ns.to_string(), name.to_string())
        }
        (None, Some(address)) => PublishSource::Address(address),
        (None, None) => PublishSource::None,
    };

    let client = client(flags.kubeconfig.as_ref())
        .await
        .context("building the API client")?;
    let resolver = Arc::new(SniResolver::new()?);
    let shared = Shared::new(resolver.clone());
    let metrics = Metrics::new()?;
    let proxy = Proxy::new(shared.clone(), metrics.clone());

    let http_listener = TcpListener::bind(flags.http_listen)
        .await
        .with_context(|| format!("binding {}", flags.http_listen))?;
    let mut servers = tokio::task::JoinSet::new();
    servers.spawn(proxy.clone().serve_http(http_listener));
    if let Some(addr) = https {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        let acceptor = TlsAcceptor::from(Arc::new(server_config(resolver)?));
        servers.spawn(proxy.serve_https(listener, acceptor));
    }
    if let Some(addr) = metrics_addr {
        servers.spawn(metrics::serve(addr, metrics, shared.clone()));
    }
    tokio::spawn(controller::run(
        client,
        Settings {
            controller_name: flags.controller_name.clone(),
            publish: publish.clone(),
        },
        shared,
    ));
    tracing::info!(
        http = %flags.http_listen, https = ?https, controller = %flags.controller_name,
        publish = ?publish, "rudder-ingress serving"
    );
    tokio::select! {
        Some(r) = servers.join_next() => {
            r.context("server task panicked")?.context("server failed")?;
        }
        _ = common::signals::shutdown() => tracing::info!("shutting down"),
    }
    Ok(())
}
