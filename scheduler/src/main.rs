//! kube-scheduler: watches pods without a node and binds each to the best node, as
//! upstream's default profile does — a scheduling queue, a cache of assumed pods, and a
//! framework of filter and score plugins (see `framework`).
//!
//! The cache is kept incrementally from informer events; each cycle filters only until
//! `percentageOfNodesToScore` of the nodes are feasible; bindings and events go out in the
//! background, bounded.
//!
//! `--config` profiles are applied as upstream applies them (see `profile`): each
//! `schedulerName` gets its own framework with its plugins, weights and plugin args.
//!
//! /healthz, /readyz and /metrics are served over HTTPS on `--secure-port`, behind delegated
//! authentication and authorization (see `server`).

mod cache;
mod config;
mod events;
mod framework;
mod informers;
mod metrics;
mod profile;
mod queue;
mod schedule_one;
mod server;
mod serving_cert;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use kube::runtime::events::{Recorder, Reporter};

use crate::framework::runtime::Framework;
use crate::informers::{Informers, Responsibility};
use crate::schedule_one::Scheduler;
use common::leader_election::LeaderElector;

/// Flags, named as upstream's.
#[derive(Debug, Parser)]
#[command(name = "kube-scheduler", version)]
struct Flags {
    /// Path to a kubeconfig with the apiserver's address and credentials.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// A KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1): profiles with
    /// their plugins and pluginConfig, leaderElection, clientConnection.kubeconfig,
    /// percentageOfNodesToScore.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Elect a leader on a Lease before scheduling (default true, as upstream).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    leader_elect: Option<bool>,
    /// Namespace of the leader election Lease.
    #[arg(long)]
    leader_elect_resource_namespace: Option<String>,
    /// Name of the leader election Lease.
    #[arg(long)]
    leader_elect_resource_name: Option<String>,
    /// Port of the HTTPS /healthz, /readyz and /metrics endpoint; 0 disables it.
    #[arg(long, default_value_t = 10259)]
    secure_port: u16,
    /// Address of the secure port. Loopback by default (Rudder's rule for every server;
    /// upstream's default is all interfaces).
    #[arg(long, default_value = "127.0.0.1")]
    bind_address: IpAddr,
    /// Serving certificate (PEM, with intermediates); without it and
    /// `--tls-private-key-file`, a self-signed one is made at start.
    #[arg(long)]
    tls_cert_file: Option<PathBuf>,
    /// The serving certificate's private key (PEM).
    #[arg(long)]
    tls_private_key_file: Option<PathBuf>,
    /// Log verbosity.
    #[command(flatten)]
    auth: common::delegated_auth::options::DelegatingAuthFlags,
    #[arg(short = 'v', long = "v", default_value_t = 0)]
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

/// Upstream's identity: `<hostname>_<uuid>`.
fn identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}_{}", uuid::Uuid::new_v4())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    common::logging::init(flags.verbosity);
    let mut config = match &flags.config {
        Some(path) => config::load(path)?,
        None => config::SchedulerConfig::default(),
    };
    // Refuse a bad profile before touching the cluster, naming the field (as upstream).
    let (handle, handle_writers) = framework::handle::Handle::new();
    let frameworks = profile::build_frameworks(&config.profiles, &handle)
        .map_err(|e| anyhow::anyhow!("invalid KubeSchedulerConfiguration: {e}"))?;
    for fw in &frameworks {
        tracing::info!(
            profile = %fw.profile_name,
            filters = ?fw.filter_names(),
            scores = ?fw.score_names(),
            preemption = fw.preemption,
            "profile"
        );
    }
    if let Some(le) = flags.leader_elect {
        config.leader_elect = le;
    }
    if let Some(ns) = flags.leader_elect_resource_namespace.clone() {
        config.leader_election.namespace = ns;
    }
    if let Some(name) = flags.leader_elect_resource_name.clone() {
        config.leader_election.name = name;
    }
    let kubeconfig = flags.kubeconfig.as_ref().or(config.kubeconfig.as_ref());
    let client = client(kubeconfig)
        .await
        .context("building the API client")?;
    let metrics = metrics::Metrics::new()?;
    if flags.secure_port != 0 {
        let addr = SocketAddr::new(flags.bind_address, flags.secure_port);
        let auth = common::delegated_auth::options::DelegatingAuth::from_flags(&flags.auth)
            .await
            .context("setting up delegated authentication")?;
        let tls = serving_cert::server_config(
            flags.tls_cert_file.as_deref(),
            flags.tls_private_key_file.as_deref(),
            flags.bind_address,
            auth.client_cert_verifier(),
        )
        .context("setting up the secure port")?;
        let m = metrics.clone();
        let auth = Arc::new(auth);
        tokio::spawn(async move {
            if let Err(e) = server::serve(addr, tls, m, auth).await {
                tracing::error!(%addr, error = %e, "health/metrics server failed");
            }
        });
    }

    let identity = identity();
    let elector = config.leader_elect.then(|| {
        LeaderElector::new(
            client.clone(),
            config.leader_election.clone(),
            identity.clone(),
        )
    });
    if let Some(elector) = &elector {
        tokio::select! {
            _ = elector.acquire() => {}
            _ = common::signals::shutdown() => return Ok(()),
        }
    }

    let first_profile = frameworks
        .first()
        .map(|f| f.profile_name.clone())
        .unwrap_or_else(|| "default-scheduler".into());
    let profiles: HashMap<String, Arc<Framework>> = frameworks
        .into_iter()
        .map(|f| (f.profile_name.clone(), Arc::new(f)))
        .collect();
    let responsibility = Responsibility {
        scheduler_names: Arc::new(profiles.keys().cloned().collect::<HashSet<_>>()),
    };
    let queue = Arc::new(queue::SchedulingQueue::new(metrics.clone()));
    let cache = cache::SchedulerCache::default();
    let informers = Informers::start(
        client.clone(),
        queue.clone(),
        cache.clone(),
        responsibility.clone(),
        handle,
        handle_writers,
    );
    informers.wait_until_ready().await?;
    let reporter = Reporter {
        controller: first_profile,
        instance: Some(identity),
    };
    let scheduler = Arc::new(Scheduler {
        events: events::EventSink::new(Recorder::new(client.clone(), reporter)),
        client,
        profiles,
        queue,
        cache,
        percentage_of_nodes_to_score: config.percentage_of_nodes_to_score,
        next_start_node_index: Default::default(),
        bind_slots: Arc::new(tokio::sync::Semaphore::new(
            schedule_one::MAX_BINDINGS_IN_FLIGHT,
        )),
        informers,
        responsibility,
        metrics,
    });
    tracing::info!("kube-scheduler started");

    let lost = async {
        match &elector {
            Some(e) => e.hold().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = scheduler.run() => {}
        _ = lost => {
            tracing::error!("leaderelection lost");
            std::process::exit(1);
        }
        _ = common::signals::shutdown() => tracing::info!("shutting down"),
    }
    if let Some(elector) = &elector {
        elector.release().await;
    }
    Ok(())
}
