//! hollow-node: N kubelets in one process, each with its own in-memory CRI runtime
//! (`--fake-runtime`), for scale tests against a real apiserver (upstream's kubemark idea).
//! Every node runs the real kubelet code — registration, Lease heartbeats, node status, pod
//! workers, status updates — only the runtime below the CRI boundary is fake.
//!
//! Node `i` is `<name-prefix><i>`, keeps its files in `<root-dir>/<name>`, owns the pod CIDR
//! `10.<128 + i/256>.<i%256>.0/24`, and serves its kubelet API on a free loopback port.
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use kubelet::config::Flags;
use tokio::task::JoinSet;

#[derive(Debug, Parser)]
#[command(name = "hollow-node", version)]
struct Args {
    /// kubeconfig every node uses to reach the apiserver.
    #[arg(long)]
    kubeconfig: PathBuf,
    /// How many nodes to run.
    #[arg(long, default_value_t = 1)]
    nodes: u32,
    /// Node names are this prefix followed by the node's index.
    #[arg(long, default_value = "hollow-")]
    name_prefix: String,
    /// Index of the first node (to run several hollow-node processes without name clashes).
    #[arg(long, default_value_t = 0)]
    first_index: u32,
    /// Parent of the nodes' root directories.
    #[arg(long)]
    root_dir: PathBuf,
    /// Each node's `pods` capacity.
    #[arg(long, default_value_t = 110)]
    max_pods: u32,
    /// Seconds between each node's status computations.
    #[arg(long, default_value_t = 10)]
    node_status_update_frequency: u64,
    /// Further kubelet flags given to every node (repeatable), e.g.
    /// `--kubelet-arg=--node-labels=pool=hollow`.
    #[arg(long = "kubelet-arg", allow_hyphen_values = true)]
    kubelet_args: Vec<String>,
    /// Log verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    verbosity: u8,
}

/// A distinct /24 per node: 65536 nodes before the CIDRs would repeat.
fn pod_cidr(index: u32) -> String {
    format!("10.{}.{}.0/24", 128 + (index / 256) % 128, index % 256)
}

/// The kubelet flags of node `index`, parsed as the kubelet binary would parse them.
fn node_flags(args: &Args, index: u32) -> anyhow::Result<Flags> {
    let name = format!("{}{index}", args.name_prefix);
    let root = args.root_dir.join(&name);
    let mut argv = vec![
        "kubelet".to_string(),
        format!("--kubeconfig={}", args.kubeconfig.display()),
        "--fake-runtime".into(),
        format!("--hostname-override={name}"),
        format!("--root-dir={}", root.display()),
        format!("--pod-cidr={}", pod_cidr(index)),
        // The fake runtime reads no CNI config; keep the conflist away from the host's.
        format!("--cni-conf-dir={}", root.join("cni-net.d").display()),
        format!("--max-pods={}", args.max_pods),
        format!(
            "--node-status-update-frequency={}",
            args.node_status_update_frequency
        ),
        // Many servers in one process: a free port each, no healthz listeners.
        // Simulated nodes share this machine: its memory and disk are not theirs to evict for.
        "--eviction-hard=".into(),
        "--port=0".into(),
        "--healthz-port=0".into(),
        format!("--v={}", args.verbosity),
    ];
    argv.extend(args.kubelet_args.iter().cloned());
    Flags::try_parse_from(argv).with_context(|| format!("kubelet flags of {name}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    common::logging::init(args.verbosity);
    let mut nodes = JoinSet::new();
    for index in args.first_index..args.first_index + args.nodes {
        let flags = node_flags(&args, index)?;
        let name = flags.node_name();
        nodes.spawn(async move {
            let result = kubelet::run::run(flags).await;
            (name, result)
        });
    }
    tracing::info!(nodes = args.nodes, prefix = %args.name_prefix, "hollow nodes started");
    // Each kubelet returns on SIGTERM/SIGINT too; the first one to return decides.
    match nodes.join_next().await {
        Some(Ok((name, Err(e)))) => Err(e.context(format!("hollow node {name} stopped"))),
        Some(Ok((_, Ok(())))) | None => Ok(()),
        Some(Err(e)) => Err(anyhow::anyhow!("a hollow node task failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_get_distinct_cidrs_names_and_dirs() {
        assert_eq!(pod_cidr(0), "10.128.0.0/24");
        assert_eq!(pod_cidr(257), "10.129.1.0/24");
        let args = Args::parse_from([
            "hollow-node",
            "--kubeconfig=/k",
            "--root-dir=/r",
            "--nodes=2",
            "--kubelet-arg=--node-labels=pool=hollow",
        ]);
        let flags = node_flags(&args, 1).unwrap();
        assert_eq!(flags.node_name(), "hollow-1");
        assert_eq!(flags.root_dir, PathBuf::from("/r/hollow-1"));
        assert!(flags.fake_runtime);
        assert_eq!(flags.port, 0);
        assert_eq!(flags.healthz_port, 0);
        assert_eq!(flags.pod_cidr.as_deref(), Some("10.128.1.0/24"));
        assert_eq!(flags.node_labels, vec!["pool=hollow".to_string()]);
    }
}
