//! Starts the kubelet's parts and runs until SIGTERM/SIGINT. Stopping the kubelet leaves the
//! pods' containers running: a restarted kubelet adopts them from the runtime.
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;

use crate::cm::cgroupfs::CgroupFs;
use crate::cm::{
    CgroupConfig, ContainerManager, ContainerManagerError, Enforcement, NodeResources,
};
use crate::config::Flags;
use crate::cri::Runtime;
use crate::events::Recorder;
use crate::eviction::{EvictionConfig, EvictionManager, EvictionState};
use crate::fake_runtime;
use crate::network::{self, DnsSettings};
use crate::node::{self, NodeConfig};
use crate::pods::context::KubeletContext;
use crate::pods::{source_api, static_pods, PodManager, PodSource};
use crate::probes::ProbeManager;
use crate::server::{KubeletServer, ServerConfig};
use crate::volumes::VolumeManager;

async fn api_client(flags: &Flags) -> anyhow::Result<kube::Client> {
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

/// `--bootstrap-kubeconfig`: makes sure `--kubeconfig` holds a client certificate before
/// anything talks to the apiserver. Denied, failed or timed-out requests end the kubelet.
async fn tls_bootstrap(
    flags: &Flags,
    bootstrap: std::path::PathBuf,
    node_name: &str,
) -> anyhow::Result<()> {
    use crate::certificate::bootstrap::{self, BootstrapConfig, BootstrapOutcome};
    let kubeconfig = flags
        .kubeconfig
        .clone()
        .context("--bootstrap-kubeconfig needs --kubeconfig (where the result is written)")?;
    let config = BootstrapConfig {
        kubeconfig: kubeconfig.clone(),
        bootstrap_kubeconfig: bootstrap,
        cert_dir: flags.cert_dir(),
        node_name: node_name.to_string(),
        timeout: bootstrap::CERTIFICATE_WAIT_TIMEOUT,
    };
    match bootstrap::load_client_cert(&config)
        .await
        .context("TLS bootstrap: obtaining the kubelet's client certificate")?
    {
        BootstrapOutcome::KubeconfigValid => {
            tracing::info!(kubeconfig = %kubeconfig.display(), "the kubeconfig's client certificate is valid; no bootstrap needed")
        }
        BootstrapOutcome::ReusedStoredCertificate => {
            tracing::info!(kubeconfig = %kubeconfig.display(), "wrote the kubeconfig for the stored client certificate")
        }
        BootstrapOutcome::Issued { csr_name } => {
            tracing::info!(csr = %csr_name, kubeconfig = %kubeconfig.display(), "TLS bootstrap done: client certificate issued")
        }
    }
    Ok(())
}

/// Waits for the runtime to answer Version (containerd may start after us).
async fn connect_runtime(endpoint: &str) -> anyhow::Result<Runtime> {
    let mut last = None;
    for _ in 0..60 {
        match Runtime::connect(endpoint).await {
            Ok(runtime) => match runtime.version().await {
                Ok(v) => {
                    tracing::info!(runtime = %v.runtime_name, version = %v.runtime_version, api = %v.runtime_api_version, "connected to the container runtime");
                    return Ok(runtime);
                }
                Err(e) => last = Some(e.to_string()),
            },
            Err(e) => last = Some(e.to_string()),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    anyhow::bail!(
        "container runtime at {endpoint} did not answer: {}",
        last.unwrap_or_default()
    )
}

/// CRI UpdateRuntimeConfig with the node's pod CIDR.
async fn set_runtime_pod_cidr(runtime: &Runtime, cidr: &str) -> anyhow::Result<()> {
    let request = proto::cri::v1::UpdateRuntimeConfigRequest {
        runtime_config: Some(proto::cri::v1::RuntimeConfig {
            network_config: Some(proto::cri::v1::NetworkConfig {
                pod_cidr: cidr.to_string(),
            }),
        }),
    };
    runtime
        .runtime
        .clone()
        .update_runtime_config(request)
        .await
        .map_err(crate::cri::call_error("UpdateRuntimeConfig"))?;
    Ok(())
}

/// Runs the kubelet until SIGTERM/SIGINT. With `--fake-runtime` it first starts an
/// in-memory runtime on `<root-dir>/fake-cri.sock` and uses it instead of
/// `--container-runtime-endpoint`.
pub async fn run(mut flags: Flags) -> anyhow::Result<()> {
    let node_name = flags.node_name();
    if let Some(bootstrap) = flags.bootstrap_kubeconfig.clone() {
        tls_bootstrap(&flags, bootstrap, &node_name).await?;
    }
    if flags.tls_cert_file.is_none() && flags.tls_private_key_file.is_none() && !flags.fake_runtime
    {
        let (cert, key) = crate::certificate::serving::ensure_self_signed(
            &flags.cert_dir(),
            &node_name,
            flags.node_ip,
        )
        .context("the self-signed serving certificate")?;
        flags.tls_cert_file = Some(cert);
        flags.tls_private_key_file = Some(key);
    }
    let client = api_client(&flags)
        .await
        .context("building the API client")?;
    std::fs::create_dir_all(&flags.root_dir)
        .with_context(|| format!("creating {}", flags.root_dir.display()))?;
    let fake = if flags.fake_runtime {
        let socket = flags.root_dir.join("fake-cri.sock");
        let cidr = flags
            .pod_cidr
            .as_deref()
            .unwrap_or(fake_runtime::DEFAULT_POD_CIDR);
        let server = fake_runtime::serve_fake_runtime(socket, cidr)
            .await
            .context("starting the fake runtime")?;
        tracing::info!(endpoint = %server.endpoint(), "serving a fake container runtime (--fake-runtime)");
        Some(server)
    } else {
        None
    };
    let endpoint = fake
        .as_ref()
        .map(|f| f.endpoint())
        .unwrap_or_else(|| flags.container_runtime_endpoint.clone());
    let runtime = connect_runtime(&endpoint).await?;
    let runtime_name = runtime.version().await?.runtime_name;
    let logs_dir = flags.pod_logs_dir();
    std::fs::create_dir_all(&logs_dir)
        .with_context(|| format!("creating {}", logs_dir.display()))?;

    // Bound before registering, so the Node advertises the port actually bound (`--port 0`
    // picks a free one: many kubelets in one process, hollow-node).
    let server_config = ServerConfig {
        address: flags.address,
        port: flags.port,
        healthz_port: flags.healthz_port,
        tls_cert_file: flags.tls_cert_file.clone(),
        tls_private_key_file: flags.tls_private_key_file.clone(),
        client_ca_file: flags.client_ca_file.clone(),
        node_name: node_name.clone(),
        root_dir: flags.root_dir.clone(),
        authorizer: (flags.authorization_mode == "Webhook").then(|| {
            Arc::new(crate::server::authz::WebhookAuthorizer::new(
                client.clone(),
                node_name.clone(),
            ))
        }),
    };
    let server = KubeletServer::bind(server_config, runtime.clone())
        .await
        .context("starting the kubelet server")?;
    tracing::info!(address = %server.local_addr(), "kubelet server listening");

    let thresholds = crate::eviction::thresholds::parse_hard(&flags.eviction_hard)?;
    let rotation = crate::log_rotation::RotationPolicy::from_flags(
        &flags.container_log_max_size,
        flags.container_log_max_files,
        flags.container_log_monitor_interval,
    )?;
    let node_config = NodeConfig {
        name: node_name.clone(),
        ip: flags.node_ip,
        kubelet_port: server.local_addr().port(),
        root_dir: flags.root_dir.clone(),
        max_pods: flags.max_pods,
        pod_cidr: flags.pod_cidr.clone(),
        labels: flags.node_labels.clone(),
        taints: flags.register_with_taints.clone(),
        status_update_frequency: Duration::from_secs(flags.node_status_update_frequency.max(1)),
        reserved: node::allocatable::parse_reserved(
            flags.kube_reserved.iter().chain(&flags.system_reserved),
        )?,
        thresholds: thresholds.clone(),
    };
    let capacity = node::machine::capacity(&flags.root_dir, flags.max_pods);
    let memory_capacity = capacity
        .get("memory")
        .and_then(|q| crate::pods::qos::parse_quantity(q, false))
        .unwrap_or(0);
    let cpu_capacity_millis = capacity
        .get("cpu")
        .and_then(|q| crate::pods::qos::parse_quantity(q, true))
        .unwrap_or(1000);
    let allocatable = node::allocatable::compute(&capacity, &node_config.reserved, &thresholds);
    let cgroups = Arc::new(container_manager(
        &flags,
        memory_capacity,
        cpu_capacity_millis,
    )?);
    let eviction = Arc::new(EvictionState::default());
    let (probe_tx, probe_rx) = mpsc::unbounded_channel();
    let recorder = Recorder::new(client.clone(), node_name.clone());
    if !thresholds.is_empty() {
        let config = EvictionConfig {
            thresholds: thresholds.clone(),
            pressure_transition_period: flags.eviction_pressure_transition_period,
            monitoring_interval: flags.housekeeping_interval.max(Duration::from_millis(100)),
            root_dir: flags.root_dir.clone(),
        };
        let manager = EvictionManager::new(
            config,
            eviction.clone(),
            runtime.clone(),
            recorder.clone(),
            probe_tx.clone(),
        );
        tokio::spawn(manager.run());
    }
    tokio::spawn(crate::log_rotation::LogRotator::new(runtime.clone(), rotation).run());
    let ctx = Arc::new(KubeletContext {
        client: client.clone(),
        runtime: runtime.clone(),
        runtime_name,
        node_name: node_name.clone(),
        node_ip: flags.node_ip.to_string(),
        root_dir: flags.root_dir.clone(),
        logs_dir,
        dns: DnsSettings {
            cluster_dns: flags.cluster_dns.clone(),
            cluster_domain: flags.cluster_domain.clone(),
            resolv_conf: flags.resolv_conf.clone(),
        },
        pull_from_registries: flags.pull_from_registries,
        memory_capacity,
        cpu_capacity_millis,
        recorder,
        volumes: VolumeManager::new(client.clone(), flags.root_dir.clone(), node_name.clone()),
        probes: ProbeManager::new(runtime.clone(), probe_tx),
        eviction: eviction.clone(),
        allocatable: crate::pods::admission::amounts(&allocatable),
        cgroups,
        runtime_states: Default::default(),
    });

    let (tx, rx) = mpsc::channel(256);
    let mut sources = HashSet::from([PodSource::Api]);
    if let Some(dir) = flags
        .pod_manifest_path
        .clone()
        .filter(|d| !d.as_os_str().is_empty())
    {
        sources.insert(PodSource::Static);
        let period = Duration::from_secs(flags.file_check_frequency.max(1));
        tokio::spawn(static_pods::run(
            client.clone(),
            dir,
            node_name.clone(),
            period,
            tx.clone(),
        ));
    }
    // The pod manager runs before the node is registered: static pods may be the control
    // plane itself (kubeadm's layout), so they must start while the apiserver is still down.
    let manager = PodManager::new(ctx, sources);
    let mut manager_task = tokio::spawn(manager.run(rx, probe_rx));
    let mut server_task = tokio::spawn(server.run(std::future::pending()));

    let node = tokio::select! {
        node = register(&client, &flags, &node_config) => node?,
        _ = common::signals::shutdown() => {
            tracing::info!("shutting down before the node registered; containers keep running");
            return Ok(());
        }
        _ = &mut manager_task => anyhow::bail!("the pod manager stopped"),
        result = &mut server_task => anyhow::bail!("the kubelet server stopped: {result:?}"),
    };
    // spec.podCIDRs (one per family on a dual-stack node), else spec.podCIDR, else the flag.
    let spec = node.spec.as_ref();
    let pod_cidrs: Vec<String> = spec
        .and_then(|s| s.pod_cidrs.clone())
        .filter(|c| !c.is_empty())
        .or_else(|| spec.and_then(|s| s.pod_cidr.clone()).map(|c| vec![c]))
        .or_else(|| flags.pod_cidr.clone().map(|c| vec![c]))
        .unwrap_or_default();
    if let (Some(cidr), Some(_)) = (pod_cidrs.first(), &fake) {
        // Upstream's kubelet tells the runtime the node's CIDR; the fake hands out pod
        // addresses from it. (containerd gets its CIDRs from the conflist below instead.)
        set_runtime_pod_cidr(&runtime, cidr).await?;
    }
    match pod_cidrs.is_empty() {
        false => network::write_conflist(
            &flags.cni_conf_dir,
            &flags.cni_bridge_name,
            &pod_cidrs,
            &flags.root_dir.join("cni-ipam"),
        )?,
        true => {
            tracing::warn!("the node has no pod CIDR (set --pod-cidr): pods cannot get a network")
        }
    }

    tokio::spawn(node::run(
        client.clone(),
        runtime.clone(),
        node_config,
        node,
        eviction,
    ));
    tokio::spawn(source_api::run(
        client.clone(),
        node_name.clone(),
        tx.clone(),
    ));
    drop(tx);

    tracing::info!(node = %node_name, "kubelet running");
    tokio::select! {
        _ = common::signals::shutdown() => tracing::info!("shutting down; containers keep running"),
        _ = manager_task => anyhow::bail!("the pod manager stopped"),
        result = server_task => anyhow::bail!("the kubelet server stopped: {result:?}"),
    }
    Ok(())
}

/// Builds the container manager from the cgroup flags and sets up `kubepods` and the QoS
/// cgroups. The fake runtime runs nothing, so it gets no cgroups.
fn container_manager(
    flags: &Flags,
    memory_capacity: i64,
    cpu_capacity_millis: i64,
) -> anyhow::Result<ContainerManager> {
    if flags.cgroup_driver != "cgroupfs" {
        return Err(ContainerManagerError::UnsupportedDriver(flags.cgroup_driver.clone()).into());
    }
    let config = CgroupConfig {
        cgroups_per_qos: flags.cgroups_per_qos,
        cgroup_root: flags.cgroup_root.clone(),
        enforce: Enforcement::parse(&flags.enforce_node_allocatable)?,
        kube_reserved_cgroup: flags.kube_reserved_cgroup.clone(),
        system_reserved_cgroup: flags.system_reserved_cgroup.clone(),
        pod_pids_limit: flags.pod_max_pids,
    };
    config.validate()?;
    let fs = if flags.fake_runtime || !flags.cgroups_per_qos {
        None
    } else {
        Some(CgroupFs::detect().context("finding the cgroup filesystem")?)
    };
    let manager = ContainerManager::new(config, fs);
    let mut capacity = node::allocatable::Amounts::from([
        ("cpu".to_string(), cpu_capacity_millis),
        ("memory".to_string(), memory_capacity),
    ]);
    if let Some(pids) = crate::cm::pid_capacity() {
        capacity.insert("pid".into(), pids);
    }
    let resources = NodeResources {
        capacity,
        kube_reserved: node::allocatable::parse_reserved(&flags.kube_reserved)?,
        system_reserved: node::allocatable::parse_reserved(&flags.system_reserved)?,
    };
    manager
        .start(&resources)
        .context("setting up the node's cgroups")?;
    Ok(manager)
}

/// How long to wait between attempts to reach the apiserver while registering.
const REGISTER_RETRY: Duration = Duration::from_secs(2);

/// Registers the node (or reads it with `--register-node=false`), retrying while the
/// apiserver cannot be reached or refuses: under kubeadm's layout it is one of our own
/// static pods and answers only once we have started it. Bad flags fail at once.
async fn register(
    client: &kube::Client,
    flags: &Flags,
    config: &NodeConfig,
) -> anyhow::Result<k8s_openapi::api::core::v1::Node> {
    let mut attempts = 0u32;
    loop {
        let result = if flags.register_node {
            node::register(client, config).await
        } else {
            kube::Api::<k8s_openapi::api::core::v1::Node>::all(client.clone())
                .get(&config.name)
                .await
                .map_err(node::NodeError::from)
        };
        match result {
            Ok(node) => return Ok(node),
            Err(node::NodeError::Api(e)) => {
                attempts += 1;
                // Quiet at first: the apiserver is usually a few seconds away.
                if attempts % 5 == 1 {
                    tracing::warn!(error = %e, attempts, "registering the node; retrying");
                }
            }
            Err(e) => return Err(e.into()),
        }
        tokio::time::sleep(REGISTER_RETRY).await;
    }
}
