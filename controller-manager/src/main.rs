//! kube-controller-manager: runs the controllers that keep the cluster at its desired state.
//!
//! Like every Rudder daemon it talks only to the apiserver (REST + watch through kube-rs).
//! Controllers (names as `--controllers` takes them): `namespace`, `replicaset`,
//! `replicationcontroller`,
//! `deployment`, `garbagecollector`, `serviceaccount`, `job`, `cronjob`,
//! `ttl-after-finished`, `endpointslice`, `endpointslicemirroring`, `endpoints`, `statefulset`, `daemonset`,
//! `nodelifecycle`, `taint-eviction-controller`, `podgc`, `service-lb`, `disruption`, `persistentvolume-binder`, `ephemeral-volume`, `pvc-protection`, `pv-protection`, `resourcequota`, `horizontalpodautoscaling`, `nodeipam` (with `--allocate-node-cidrs`),
//! `root-ca-cert-publisher` (with `--root-ca-file`), `csrapproving`, `csrcleaner`,
//! `csrsigning` (with `--cluster-signing-*-file`), and, off by default as upstream,
//! `bootstrapsigner` and `tokencleaner`. See README.md.

mod client_builder;
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
    /// Controllers to run: `*` for all that are on by default, `name` to add one,
    /// `-name` to leave one out (e.g. `*,bootstrapsigner,tokencleaner`).
    #[arg(long, value_delimiter = ',', default_value = "*")]
    controllers: Vec<String>,
    /// Elect a leader on the Lease `kube-system/kube-controller-manager` before running
    /// controllers (upstream's default: true).
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true",
          action = clap::ArgAction::Set)]
    leader_elect: bool,
    /// How long a leader's Lease is valid without renewal.
    #[arg(long, default_value = "15s", value_parser = common::duration::parse_flag)]
    leader_elect_lease_duration: std::time::Duration,
    /// How long the leader keeps trying to renew before it gives up (and exits).
    #[arg(long, default_value = "10s", value_parser = common::duration::parse_flag)]
    leader_elect_renew_deadline: std::time::Duration,
    /// Pause between attempts to acquire or renew.
    #[arg(long, default_value = "2s", value_parser = common::duration::parse_flag)]
    leader_elect_retry_period: std::time::Duration,
    /// Namespace of the leader election Lease.
    #[arg(long, default_value = "kube-system")]
    leader_elect_resource_namespace: String,
    /// Name of the leader election Lease.
    #[arg(long, default_value = "kube-controller-manager")]
    leader_elect_resource_name: String,
    /// Make `kubernetes.io/host-path` volumes for claims of classes naming that provisioner
    /// (directories under `/tmp/hostpath_pv/` on this machine: single-node clusters and tests
    /// only, as upstream).
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true",
          action = clap::ArgAction::Set)]
    enable_hostpath_provisioner: bool,
    /// PEM bundle published as `ca.crt` in every namespace's `kube-root-ca.crt` ConfigMap;
    /// the root-ca-cert-publisher runs only when this is set.
    #[arg(long)]
    root_ca_file: Option<std::path::PathBuf>,
    /// How often the node lifecycle controller checks nodes.
    #[arg(long, default_value = "5s", value_parser = common::duration::parse_flag)]
    node_monitor_period: std::time::Duration,
    /// Heartbeat silence after which a node is marked Unknown (upstream's default since
    /// v1.32 is 50s).
    #[arg(long, default_value = "50s", value_parser = common::duration::parse_flag)]
    node_monitor_grace_period: std::time::Duration,
    /// The same for a node that never posted status.
    #[arg(long, default_value = "1m0s", value_parser = common::duration::parse_flag)]
    node_startup_grace_period: std::time::Duration,
    /// Nodes per second tainted NoExecute (so evicted) in a healthy zone.
    #[arg(long, default_value_t = 0.1)]
    node_eviction_rate: f64,
    /// Nodes per second tainted NoExecute in a partially disrupted zone of a large cluster.
    #[arg(long, default_value_t = 0.01)]
    secondary_node_eviction_rate: f64,
    /// Terminated pods kept before the pod GC deletes the oldest (0 keeps all).
    #[arg(long, default_value_t = 12500)]
    terminated_pod_gc_threshold: usize,
    /// Addresses for Services of type LoadBalancer: a CIDR (network and broadcast
    /// excluded) or an inclusive `first-last` range.
    #[arg(long, default_value = controllers::servicelb::DEFAULT_POOL)]
    service_lb_pool: controllers::servicelb_pool::Pool,
    /// Give nodes without one a pod range (`spec.podCIDR`) from `--cluster-cidr` (the
    /// nodeipam controller runs only with this, as upstream).
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true",
          action = clap::ArgAction::Set)]
    allocate_node_cidrs: bool,
    /// The ranges node pod ranges are cut from: one CIDR, or an IPv4 and an IPv6 one
    /// (comma separated) for a dual-stack cluster.
    #[arg(long, default_value = controllers::nodeipam::DEFAULT_CLUSTER_CIDR, value_delimiter = ',')]
    cluster_cidr: Vec<controllers::nodeipam_cidrset::Cidr>,
    /// Prefix length of each node's pod range (single-stack clusters only).
    #[arg(long)]
    node_cidr_mask_size: Option<u8>,
    /// Prefix length of each node's IPv4 pod range (default 24).
    #[arg(long = "node-cidr-mask-size-ipv4")]
    node_cidr_mask_size_ipv4: Option<u8>,
    /// Prefix length of each node's IPv6 pod range (default 64).
    #[arg(long = "node-cidr-mask-size-ipv6")]
    node_cidr_mask_size_ipv6: Option<u8>,
    /// How often each HorizontalPodAutoscaler is reconciled.
    #[arg(long, default_value = "15s", value_parser = common::duration::parse_flag)]
    horizontal_pod_autoscaler_sync_period: std::time::Duration,
    /// How long a scale-down waits for the highest recent recommendation to age out (HPAs
    /// without `behavior.scaleDown.stabilizationWindowSeconds`).
    #[arg(long, default_value = "5m0s", value_parser = common::duration::parse_flag)]
    horizontal_pod_autoscaler_downscale_stabilization: std::time::Duration,
    /// Metric ratios within 1 ± this do not rescale.
    #[arg(long, default_value_t = 0.1)]
    horizontal_pod_autoscaler_tolerance: f64,
    /// CPU samples of pods younger than this count only once they postdate readiness.
    #[arg(long, default_value = "5m0s", value_parser = common::duration::parse_flag)]
    horizontal_pod_autoscaler_cpu_initialization_period: std::time::Duration,
    /// A pod not ready within this of its start is treated as not yet ready.
    #[arg(long, default_value = "30s", value_parser = common::duration::parse_flag)]
    horizontal_pod_autoscaler_initial_readiness_delay: std::time::Duration,
    /// CA certificate (PEM) the csrsigning controller issues cluster-scoped certificates
    /// with; needs `--cluster-signing-key-file`.
    #[arg(long)]
    cluster_signing_cert_file: Option<std::path::PathBuf>,
    /// The PKCS#8 private key of `--cluster-signing-cert-file`.
    #[arg(long)]
    cluster_signing_key_file: Option<std::path::PathBuf>,
    /// CA certificate for `kubernetes.io/kubelet-serving` only.
    #[arg(long)]
    cluster_signing_kubelet_serving_cert_file: Option<std::path::PathBuf>,
    /// Its key.
    #[arg(long)]
    cluster_signing_kubelet_serving_key_file: Option<std::path::PathBuf>,
    /// CA certificate for `kubernetes.io/kube-apiserver-client-kubelet` only.
    #[arg(long)]
    cluster_signing_kubelet_client_cert_file: Option<std::path::PathBuf>,
    /// Its key.
    #[arg(long)]
    cluster_signing_kubelet_client_key_file: Option<std::path::PathBuf>,
    /// CA certificate for `kubernetes.io/kube-apiserver-client` only.
    #[arg(long)]
    cluster_signing_kube_apiserver_client_cert_file: Option<std::path::PathBuf>,
    /// Its key.
    #[arg(long)]
    cluster_signing_kube_apiserver_client_key_file: Option<std::path::PathBuf>,
    /// CA certificate for `kubernetes.io/legacy-unknown` only.
    #[arg(long)]
    cluster_signing_legacy_unknown_cert_file: Option<std::path::PathBuf>,
    /// Its key.
    #[arg(long)]
    cluster_signing_legacy_unknown_key_file: Option<std::path::PathBuf>,
    /// The longest certificate csrsigning issues (`spec.expirationSeconds` may ask for
    /// less, down to 10m).
    #[arg(long, default_value = "8760h0m0s", value_parser = common::duration::parse_flag)]
    cluster_signing_duration: std::time::Duration,
    /// Most addresses of one Endpoints subset the endpointslicemirroring controller
    /// mirrors into EndpointSlices (1–1000); the rest are skipped with a warning event.
    #[arg(long, default_value_t = controllers::endpointslicemirroring::DEFAULT_MAX_ENDPOINTS_PER_SUBSET,
          value_parser = controllers::endpointslicemirroring::parse_max_endpoints_per_subset)]
    mirroring_max_endpoints_per_subset: usize,
    /// Run each controller with its own ServiceAccount's credentials
    /// (`system:serviceaccount:kube-system:<controller>`), so its `system:controller:*`
    /// RBAC role applies; the manager's own credentials only create those accounts and
    /// their tokens.
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true",
          action = clap::ArgAction::Set)]
    use_service_account_credentials: bool,
    /// Log verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    verbosity: u8,
}

async fn client(flags: &Flags) -> anyhow::Result<(kube::Client, kube::Config)> {
    let config = match &flags.kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?
        }
        None => kube::Config::infer().await?,
    };
    Ok((kube::Client::try_from(config.clone())?, config))
}

/// Controllers `*` leaves out, as upstream: they run only when named.
const DISABLED_BY_DEFAULT: &[&str] = &["bootstrapsigner", "tokencleaner"];

fn enabled(flags: &Flags, name: &str) -> bool {
    controller_enabled(&flags.controllers, name)
}

/// Upstream's `--controllers` rule: `-name` wins, then `name`, then `*` for the
/// controllers that are on by default.
fn controller_enabled(controllers: &[String], name: &str) -> bool {
    if controllers.iter().any(|c| c == &format!("-{name}")) {
        return false;
    }
    if controllers.iter().any(|c| c == name) {
        return true;
    }
    controllers.iter().any(|c| c == "*") && !DISABLED_BY_DEFAULT.contains(&name)
}

/// The `--cluster-signing-*` flags for csrsigning.
fn signing_flags(flags: &Flags) -> controllers::csrsigning::SigningFlags {
    use controllers::csrsigning::SigningFiles;
    let pair = |cert: &Option<std::path::PathBuf>, key: &Option<std::path::PathBuf>| SigningFiles {
        cert: cert.clone(),
        key: key.clone(),
    };
    controllers::csrsigning::SigningFlags {
        default: pair(
            &flags.cluster_signing_cert_file,
            &flags.cluster_signing_key_file,
        ),
        kubelet_serving: pair(
            &flags.cluster_signing_kubelet_serving_cert_file,
            &flags.cluster_signing_kubelet_serving_key_file,
        ),
        kubelet_client: pair(
            &flags.cluster_signing_kubelet_client_cert_file,
            &flags.cluster_signing_kubelet_client_key_file,
        ),
        kube_apiserver_client: pair(
            &flags.cluster_signing_kube_apiserver_client_cert_file,
            &flags.cluster_signing_kube_apiserver_client_key_file,
        ),
        legacy_unknown: pair(
            &flags.cluster_signing_legacy_unknown_cert_file,
            &flags.cluster_signing_legacy_unknown_key_file,
        ),
    }
}

/// Leader election identity, as upstream: `<hostname>_<unique suffix>`.
fn identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{host}_{}-{nanos:08x}", std::process::id())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    common::logging::init(flags.verbosity);
    let (client, config) = client(&flags).await.context("building the API client")?;
    let elector = flags.leader_elect.then(|| {
        common::leader_election::LeaderElector::new(
            client.clone(),
            common::leader_election::LeaderElectionConfig {
                namespace: flags.leader_elect_resource_namespace.clone(),
                name: flags.leader_elect_resource_name.clone(),
                lease_duration: flags.leader_elect_lease_duration,
                renew_deadline: flags.leader_elect_renew_deadline,
                retry_period: flags.leader_elect_retry_period,
            },
            identity(),
        )
    });
    if let Some(elector) = &elector {
        tracing::info!("waiting to become the leader");
        tokio::select! {
            _ = elector.acquire() => {}
            _ = common::signals::shutdown() => return Ok(()),
        }
    }
    let clients = client_builder::ClientBuilder::new(
        client.clone(),
        config,
        flags.use_service_account_credentials,
    )?;
    let mut tasks = Vec::new();
    if enabled(&flags, "namespace") {
        tasks.push(tokio::spawn(controllers::namespace::run(
            clients.client("namespace-controller").await?,
        )));
    }
    if enabled(&flags, "replicaset") {
        tasks.push(tokio::spawn(controllers::replicaset::run(
            clients.client("replicaset-controller").await?,
        )));
    }
    if enabled(&flags, "replicationcontroller") {
        tasks.push(tokio::spawn(controllers::replication::run(
            clients.client("replication-controller").await?,
        )));
    }
    if enabled(&flags, "deployment") {
        tasks.push(tokio::spawn(controllers::deployment::run(
            clients.client("deployment-controller").await?,
        )));
    }
    if enabled(&flags, "garbagecollector") {
        tasks.push(tokio::spawn(controllers::garbagecollector::run(
            clients.client("generic-garbage-collector").await?,
        )));
    }
    if enabled(&flags, "serviceaccount") {
        tasks.push(tokio::spawn(controllers::serviceaccount::run(
            clients.client("service-account-controller").await?,
        )));
    }
    if enabled(&flags, "job") {
        tasks.push(tokio::spawn(controllers::job::run(
            clients.client("job-controller").await?,
        )));
    }
    if enabled(&flags, "cronjob") {
        tasks.push(tokio::spawn(controllers::cronjob::run(
            clients.client("cronjob-controller").await?,
        )));
    }
    if enabled(&flags, "endpointslice") {
        tasks.push(tokio::spawn(controllers::endpointslice::run(
            clients.client("endpointslice-controller").await?,
        )));
    }
    if enabled(&flags, "endpointslicemirroring") {
        let config = controllers::endpointslicemirroring::Config {
            max_endpoints_per_subset: flags.mirroring_max_endpoints_per_subset,
        };
        tasks.push(tokio::spawn(controllers::endpointslicemirroring::run(
            clients.client("endpointslicemirroring-controller").await?,
            config,
        )));
    }
    if enabled(&flags, "endpoints") {
        tasks.push(tokio::spawn(controllers::endpoints::run(
            clients.client("endpoint-controller").await?,
        )));
    }
    if enabled(&flags, "statefulset") {
        tasks.push(tokio::spawn(controllers::statefulset::run(
            clients.client("statefulset-controller").await?,
        )));
    }
    if enabled(&flags, "daemonset") {
        tasks.push(tokio::spawn(controllers::daemonset::run(
            clients.client("daemon-set-controller").await?,
        )));
    }
    if enabled(&flags, "nodelifecycle") {
        let config = controllers::nodelifecycle::Config {
            monitor_period: flags.node_monitor_period,
            grace_period: flags.node_monitor_grace_period,
            startup_grace_period: flags.node_startup_grace_period,
            eviction_rate: flags.node_eviction_rate,
            secondary_eviction_rate: flags.secondary_node_eviction_rate,
        };
        tasks.push(tokio::spawn(controllers::nodelifecycle::run(
            clients.client("node-controller").await?,
            config,
        )));
    }
    if enabled(&flags, "taint-eviction-controller") {
        tasks.push(tokio::spawn(controllers::taint_eviction::run(
            clients.client("node-controller").await?,
        )));
    }
    if enabled(&flags, "podgc") {
        let config = controllers::podgc::Config {
            terminated_threshold: flags.terminated_pod_gc_threshold,
            period: std::time::Duration::from_secs(20),
            quarantine: std::time::Duration::from_secs(40),
        };
        tasks.push(tokio::spawn(controllers::podgc::run(
            clients.client("pod-garbage-collector").await?,
            config,
        )));
    }
    if enabled(&flags, "service-lb") {
        tasks.push(tokio::spawn(controllers::servicelb::run(
            clients.client("service-controller").await?,
            flags.service_lb_pool,
        )));
    }
    if enabled(&flags, "persistentvolume-binder") {
        tasks.push(tokio::spawn(controllers::persistentvolume::run(
            clients.client("persistent-volume-binder").await?,
            controllers::persistentvolume::Options {
                host_path_provisioner: flags.enable_hostpath_provisioner,
            },
        )));
    }
    if enabled(&flags, "ephemeral-volume") {
        tasks.push(tokio::spawn(controllers::ephemeral::run(
            clients.client("ephemeral-volume-controller").await?,
        )));
    }
    if enabled(&flags, "pvc-protection") {
        tasks.push(tokio::spawn(controllers::pvcprotection::run(
            clients.client("pvc-protection-controller").await?,
        )));
    }
    if enabled(&flags, "pv-protection") {
        tasks.push(tokio::spawn(controllers::pvprotection::run(
            clients.client("pv-protection-controller").await?,
        )));
    }
    if enabled(&flags, "resourcequota") {
        tasks.push(tokio::spawn(controllers::resourcequota::run(
            clients.client("resourcequota-controller").await?,
        )));
    }
    if enabled(&flags, "horizontalpodautoscaling") {
        let config = controllers::horizontal::Config {
            sync_period: flags.horizontal_pod_autoscaler_sync_period,
            downscale_stabilization: flags.horizontal_pod_autoscaler_downscale_stabilization,
            calc: controllers::horizontal::replica_calculator::Config {
                tolerance: flags.horizontal_pod_autoscaler_tolerance,
                cpu_initialization_period_ms: flags
                    .horizontal_pod_autoscaler_cpu_initialization_period
                    .as_millis() as i64,
                initial_readiness_delay_ms: flags
                    .horizontal_pod_autoscaler_initial_readiness_delay
                    .as_millis() as i64,
            },
        };
        tasks.push(tokio::spawn(controllers::horizontal::run(
            clients.client("horizontal-pod-autoscaler").await?,
            config,
        )));
    }
    if enabled(&flags, "disruption") {
        tasks.push(tokio::spawn(controllers::disruption::run(
            clients.client("disruption-controller").await?,
        )));
    }
    if flags.allocate_node_cidrs && enabled(&flags, "nodeipam") {
        // Fail at startup, not later, on masks that do not fit the cluster CIDRs.
        let config = controllers::nodeipam::Config::from_flags(&controllers::nodeipam::Flags {
            cluster_cidrs: flags.cluster_cidr.clone(),
            node_cidr_mask_size: flags.node_cidr_mask_size,
            node_cidr_mask_size_ipv4: flags.node_cidr_mask_size_ipv4,
            node_cidr_mask_size_ipv6: flags.node_cidr_mask_size_ipv6,
        })
        .context("--cluster-cidr / --node-cidr-mask-size")?;
        let client = clients.client("node-controller").await?;
        tasks.push(tokio::spawn(async move {
            if let Err(e) = controllers::nodeipam::run(client, config).await {
                tracing::error!(error = %e, "nodeipam controller stopped");
            }
        }));
    }
    if enabled(&flags, "ttl-after-finished") {
        tasks.push(tokio::spawn(controllers::ttlafterfinished::run(
            clients.client("ttl-after-finished-controller").await?,
        )));
    }
    if let Some(path) = flags.root_ca_file.as_ref() {
        if enabled(&flags, "root-ca-cert-publisher") {
            let ca = std::fs::read_to_string(path)
                .with_context(|| format!("reading --root-ca-file {}", path.display()))?;
            tasks.push(tokio::spawn(controllers::rootcacertpublisher::run(
                clients.client("root-ca-cert-publisher").await?,
                ca,
            )));
        }
    }
    if enabled(&flags, "csrsigning") {
        // Loaded before anything runs, so a bad CA file fails the start, as upstream.
        match controllers::csrsigning::Config::from_flags(
            &signing_flags(&flags),
            flags.cluster_signing_duration,
        )
        .context("csrsigning")?
        {
            Some(config) => tasks.push(tokio::spawn(controllers::csrsigning::run(
                clients.client("certificate-controller").await?,
                config,
            ))),
            None => tracing::info!(
                "Skipping CSR signer controller because no csr cert/key was specified"
            ),
        }
    }
    if enabled(&flags, "csrapproving") {
        tasks.push(tokio::spawn(controllers::csrapproving::run(
            clients.client("certificate-controller").await?,
        )));
    }
    if enabled(&flags, "csrcleaner") {
        tasks.push(tokio::spawn(controllers::csrcleaner::run(
            clients.client("certificate-controller").await?,
        )));
    }
    if enabled(&flags, "tokencleaner") {
        tasks.push(tokio::spawn(controllers::tokencleaner::run(
            clients.client("token-cleaner").await?,
        )));
    }
    if enabled(&flags, "bootstrapsigner") {
        tasks.push(tokio::spawn(controllers::bootstrapsigner::run(
            clients.client("bootstrap-signer").await?,
        )));
    }
    tracing::info!(count = tasks.len(), "controllers started");
    let lost = async {
        match &elector {
            Some(e) => e.hold().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = common::signals::shutdown() => tracing::info!("shutting down"),
        _ = futures::future::join_all(tasks) => tracing::warn!("all controllers stopped"),
        _ = lost => {
            // As upstream: a controller manager that lost its lease must stop acting now.
            tracing::error!("leaderelection lost");
            std::process::exit(1);
        }
    }
    if let Some(elector) = &elector {
        elector.release().await;
    }
    clients.cleanup();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::controller_enabled;

    fn list(s: &str) -> Vec<String> {
        s.split(',').map(str::to_string).collect()
    }

    #[test]
    fn star_leaves_out_the_bootstrap_controllers_unless_named() {
        assert!(controller_enabled(&list("*"), "csrsigning"));
        assert!(!controller_enabled(&list("*"), "tokencleaner"));
        assert!(!controller_enabled(&list("*"), "bootstrapsigner"));
        let both = list("*,bootstrapsigner,tokencleaner");
        assert!(controller_enabled(&both, "tokencleaner"));
        assert!(controller_enabled(&both, "bootstrapsigner"));
        assert!(controller_enabled(&both, "csrapproving"));
        assert!(!controller_enabled(
            &list("*,-csrapproving"),
            "csrapproving"
        ));
        assert!(!controller_enabled(
            &list("tokencleaner,-tokencleaner"),
            "tokencleaner"
        ));
        assert!(!controller_enabled(&list("csrsigning"), "csrapproving"));
    }
}
