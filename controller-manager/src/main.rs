//! kube-controller-manager: runs the controllers that keep the cluster at its desired state.
//!
//! Like every Rudder daemon it talks only to the apiserver (REST + watch through kube-rs).
//! Controllers so far (names as `--controllers` takes them): `namespace` (deletes a
//! terminating namespace's content, then finalizes it), `replicaset`, `deployment`,
//! `garbagecollector` (cascading deletion), `serviceaccount` (a `default` ServiceAccount per
//! namespace), `job`, `cronjob`, `endpointslice` and `endpoints`.
//! The rest of upstream's controllers arrive with issue 5.

mod controllers;

use anyhow::Context;
use clap::Parser;

/// Flags, named as upstream's.
#[derive(Debug, Parser)]
#[command(name = "kube-controller-manager", version)]
struct Flags {
    /// Path to a kubeconfig with the apiserver's address and credentials.
    #[arg(long)]
    kubeconfig: Option<std::path::PathBuf>,
    /// Controllers to run: `*` for all, or a comma separated list.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    controllers: Vec<String>,
    /// Log verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    verbosity: u8,
}

async fn client(flags: &Flags) -> anyhow::Result<kube::Client> {
    let config = match &flags.kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?
        }
        None => kube::Config::infer().await?,
    };
    Ok(kube::Client::try_from(config)?)
}

fn enabled(flags: &Flags, name: &str) -> bool {
    flags.controllers.iter().any(|c| c == "*" || c == name)
        && !flags.controllers.iter().any(|c| c == &format!("-{name}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    common::logging::init(flags.verbosity);
    let client = client(&flags).await.context("building the API client")?;
    let mut tasks = Vec::new();
    if enabled(&flags, "namespace") {
        tasks.push(tokio::spawn(controllers::namespace::run(client.clone())));
    }
    if enabled(&flags, "replicaset") {
        tasks.push(tokio::spawn(controllers::replicaset::run(client.clone())));
    }
    if enabled(&flags, "deployment") {
        tasks.push(tokio::spawn(controllers::deployment::run(client.clone())));
    }
    if enabled(&flags, "garbagecollector") {
        tasks.push(tokio::spawn(controllers::garbagecollector::run(
            client.clone(),
        )));
    }
    if enabled(&flags, "serviceaccount") {
        tasks.push(tokio::spawn(controllers::serviceaccount::run(
            client.clone(),
        )));
    }
    if enabled(&flags, "job") {
        tasks.push(tokio::spawn(controllers::job::run(client.clone())));
    }
    if enabled(&flags, "cronjob") {
        tasks.push(tokio::spawn(controllers::cronjob::run(client.clone())));
    }
    if enabled(&flags, "endpointslice") {
        tasks.push(tokio::spawn(controllers::endpointslice::run(
            client.clone(),
        )));
    }
    if enabled(&flags, "endpoints") {
        tasks.push(tokio::spawn(controllers::endpoints::run(client.clone())));
    }
    tracing::info!(count = tasks.len(), "controllers started");
    tokio::select! {
        _ = common::signals::shutdown() => tracing::info!("shutting down"),
        _ = futures::future::join_all(tasks) => tracing::warn!("all controllers stopped"),
    }
    Ok(())
}
