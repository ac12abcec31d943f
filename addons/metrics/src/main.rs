//! rudder-metrics: flags, the scrape loop and the HTTPS server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use k8s_openapi::api::core::v1::Node;
use kube::api::ListParams;
use kube::Api;

use common::delegated_auth::authn::RequestHeaderConfig;
use common::delegated_auth::authz::Authorizer;
use rudder_metrics::scrape;
use rudder_metrics::server::{self, State};
use rudder_metrics::storage::Storage;

/// Resource metrics for Rudder: serves metrics.k8s.io from the kubelets' resource metrics.
#[derive(Parser, Debug)]
#[command(name = "rudder-metrics", version)]
struct Flags {
    /// Path to a kubeconfig; without it, the in-cluster configuration is used.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Address to serve HTTPS on.
    #[arg(long, default_value = "0.0.0.0")]
    bind_address: std::net::IpAddr,
    /// Port to serve HTTPS on.
    #[arg(long, default_value_t = 10250)]
    secure_port: u16,
    /// How often kubelets are scraped (upstream's default is 60s; 15s is its recommended
    /// setting for the HPA).
    #[arg(long, default_value = "15s", value_parser = common::duration::parse_flag)]
    metric_resolution: Duration,
    /// Serving certificate; without it a self-signed one is generated.
    #[arg(long)]
    tls_cert_file: Option<PathBuf>,
    /// Key of --tls-cert-file.
    #[arg(long)]
    tls_private_key_file: Option<PathBuf>,
    /// CA of the front proxy's client certificate; without it the
    /// kube-system/extension-apiserver-authentication ConfigMap is read.
    #[arg(long)]
    requestheader_client_ca_file: Option<PathBuf>,
    /// Common names the front proxy's certificate may carry (with
    /// --requestheader-client-ca-file).
    #[arg(long, value_delimiter = ',')]
    requestheader_allowed_names: Vec<String>,
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

/// One scrape cycle over every node; nodes that fail are logged and left out.
async fn scrape_all(client: &kube::Client) -> anyhow::Result<HashMap<String, scrape::NodeScrape>> {
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .context("listing nodes")?;
    let mut tasks = tokio::task::JoinSet::new();
    for n in nodes.items {
        let Some(name) = n.metadata.name else {
            continue;
        };
        let client = client.clone();
        tasks.spawn(async move {
            let r = scrape::fetch_via_apiserver(&client, &name).await;
            (name, r)
        });
    }
    let mut out = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((name, Ok(s))) => {
                out.insert(name, s);
            }
            Ok((_, Err(e))) => tracing::warn!(error = %e, "scrape failed"),
            Err(e) => tracing::warn!(error = %e, "scrape task failed"),
        }
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    common::logging::init(flags.verbosity);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = client(flags.kubeconfig.as_ref()).await?;
    let requestheader = match &flags.requestheader_client_ca_file {
        Some(path) => RequestHeaderConfig::with_defaults(
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
            flags.requestheader_allowed_names.clone(),
        ),
        None => RequestHeaderConfig::from_cluster(&client).await?,
    };
    let identity = match (&flags.tls_cert_file, &flags.tls_private_key_file) {
        (Some(c), Some(k)) => server::load_identity(c, k)?,
        (None, None) => server::self_signed(&[
            "metrics-server".to_string(),
            "metrics-server.kube-system.svc".to_string(),
            "localhost".to_string(),
        ])?,
        _ => anyhow::bail!("--tls-cert-file and --tls-private-key-file go together"),
    };
    let tls = server::tls_config(identity, &requestheader.client_ca_pem)?;
    let storage = Arc::new(Storage::default());
    let state = Arc::new(State {
        client: client.clone(),
        storage: storage.clone(),
        requestheader,
        authorizer: Authorizer::new(client.clone()),
        ready: AtomicBool::new(false),
    });
    let addr = SocketAddr::new(flags.bind_address, flags.secure_port);
    let listener = server::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, resolution = ?flags.metric_resolution, "serving metrics.k8s.io");
    let scraper = {
        let state = state.clone();
        async move {
            let mut tick = tokio::time::interval(flags.metric_resolution);
            loop {
                tick.tick().await;
                match scrape_all(&client).await {
                    Ok(s) => {
                        let containers: usize = s.values().map(|n| n.containers.len()).sum();
                        tracing::info!(nodes = s.len(), containers, "scraped");
                        storage.store(&s);
                        state.ready.store(true, Ordering::Relaxed);
                    }
                    Err(e) => tracing::warn!(error = %e, "scrape cycle failed"),
                }
            }
        }
    };
    tokio::select! {
        _ = server::serve(listener, tls, state) => {}
        _ = scraper => {}
        _ = common::signals::shutdown() => tracing::info!("shut down"),
    }
    Ok(())
}
