//! The kubelet's flags, named as upstream's so its documentation applies.
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

#[derive(Debug, Clone, Parser)]
#[command(name = "kubelet", version)]
pub struct Flags {
    /// kubeconfig with the apiserver's address and this node's credentials. With
    /// `--bootstrap-kubeconfig` the kubelet writes it once it holds a client certificate.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig with bootstrap credentials (a bootstrap token): used when `--kubeconfig` is
    /// missing or its client certificate expired, to request a client certificate through a
    /// CertificateSigningRequest (TLS bootstrapping).
    #[arg(long)]
    pub bootstrap_kubeconfig: Option<PathBuf>,
    /// Where the kubelet keeps its certificates: the bootstrapped client certificate
    /// (`kubelet-client-current.pem`) and, without `--tls-cert-file`, the self-signed serving
    /// pair `kubelet.crt`/`kubelet.key` (default `<root-dir>/pki`).
    #[arg(long)]
    pub cert_dir: Option<PathBuf>,
    /// The CRI endpoint of the container runtime (`unix:///path/containerd.sock`).
    #[arg(long, default_value = "unix:///run/containerd/containerd.sock")]
    pub container_runtime_endpoint: String,
    /// Run an in-memory CRI runtime on `<root-dir>/fake-cri.sock` instead of connecting to
    /// `--container-runtime-endpoint` (scale tests: pods "run" without running anything).
    #[arg(long, default_value_t = false)]
    pub fake_runtime: bool,
    /// Node name to register instead of the machine's hostname.
    #[arg(long)]
    pub hostname_override: Option<String>,
    /// The node's IP address (reported as InternalIP and used as the pods' hostIP).
    #[arg(long, default_value = "127.0.0.1")]
    pub node_ip: IpAddr,
    /// Where the kubelet keeps pod directories and volumes.
    #[arg(long, default_value = "/var/lib/kubelet")]
    pub root_dir: PathBuf,
    /// Where containers' logs are written (`<dir>/<ns>_<pod>_<uid>/<container>/<n>.log`).
    #[arg(long)]
    pub pod_logs_dir: Option<PathBuf>,
    /// Directory of static pod manifests (kubeadm layout); empty disables static pods.
    #[arg(long)]
    pub pod_manifest_path: Option<PathBuf>,
    /// Seconds between scans of the static pod directory.
    #[arg(long, default_value_t = 5)]
    pub file_check_frequency: u64,
    /// Most pods this node accepts (the Node's `pods` capacity).
    #[arg(long, default_value_t = 110)]
    pub max_pods: u32,
    /// The pod CIDR to use when the Node object has none (standalone / local clusters).
    #[arg(long)]
    pub pod_cidr: Option<String>,
    /// Where the CNI conflist for the pod network is written (containerd's `conf_dir`).
    #[arg(long, default_value = "/etc/cni/net.d")]
    pub cni_conf_dir: PathBuf,
    /// The Linux bridge of the pod network (one per node: two kubelets on one machine need
    /// different bridges, as their pod CIDRs differ).
    #[arg(long, default_value = crate::network::DEFAULT_BRIDGE)]
    pub cni_bridge_name: String,
    /// DNS server IPs given to ClusterFirst pods.
    #[arg(long, value_delimiter = ',')]
    pub cluster_dns: Vec<IpAddr>,
    /// The cluster's DNS domain (search paths of ClusterFirst pods).
    #[arg(long, default_value = "cluster.local")]
    pub cluster_domain: String,
    /// Resolver configuration given to pods with dnsPolicy Default.
    #[arg(long, default_value = "/etc/resolv.conf")]
    pub resolv_conf: PathBuf,
    /// Address the HTTPS server binds.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: IpAddr,
    /// Port of the HTTPS server (logs, exec, metrics).
    #[arg(long, default_value_t = 10250)]
    pub port: u16,
    /// Port of the plain-HTTP /healthz on 127.0.0.1 (0 disables it).
    #[arg(long, default_value_t = 10248)]
    pub healthz_port: u16,
    /// Serving certificate (a self-signed one is generated when absent).
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,
    /// CA that signs clients' certificates (the apiserver's kubelet client cert).
    #[arg(long)]
    pub client_ca_file: Option<PathBuf>,
    /// Register this node with the apiserver.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub register_node: bool,
    /// Labels added to the Node at registration (`key=value,...`).
    #[arg(long, value_delimiter = ',')]
    pub node_labels: Vec<String>,
    /// Taints added to the Node at registration (`key=value:Effect,...`).
    #[arg(long, value_delimiter = ',')]
    pub register_with_taints: Vec<String>,
    /// Seconds between node status computations (posted when changed).
    #[arg(long, default_value_t = 10)]
    pub node_status_update_frequency: u64,
    /// Let the runtime pull images from registries. Off by default: this project's machines
    /// reach no registry, and a pull attempt would send traffic off the machine, so images
    /// must be imported (hack/build-images.sh) and a missing image is `ErrImagePull`.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
    pub pull_from_registries: bool,
    /// Hard eviction thresholds (`memory.available<100Mi,nodefs.available<10%`); an empty
    /// value turns eviction off.
    #[arg(long, default_value = crate::eviction::thresholds::DEFAULT_HARD)]
    pub eviction_hard: String,
    /// How long a pressure condition is held after its threshold was last met (`5m`, `30s`).
    #[arg(long, default_value = "5m", value_parser = common::duration::parse_flag)]
    pub eviction_pressure_transition_period: Duration,
    /// How often the eviction signals are read (`10s`).
    #[arg(long, default_value = "10s", value_parser = common::duration::parse_flag)]
    pub housekeeping_interval: Duration,
    /// Resources set aside for Kubernetes daemons (`cpu=100m,memory=100Mi,pid=1000`), taken
    /// out of allocatable.
    #[arg(long, value_delimiter = ',')]
    pub kube_reserved: Vec<String>,
    /// Resources set aside for the OS (`cpu=100m,memory=100Mi,pid=1000`), taken out of
    /// allocatable.
    #[arg(long, value_delimiter = ',')]
    pub system_reserved: Vec<String>,
    /// Create the QoS cgroup hierarchy (`kubepods`, `kubepods/burstable`,
    /// `kubepods/besteffort`) and one cgroup per pod.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub cgroups_per_qos: bool,
    /// The cgroup under which `kubepods` lives (default: the hierarchy's root).
    #[arg(long, default_value = "")]
    pub cgroup_root: String,
    /// The cgroup driver; only `cgroupfs` (containerd's default) is supported.
    #[arg(long, default_value = "cgroupfs")]
    pub cgroup_driver: String,
    /// Which cgroups are held to their share: `pods` (kubepods to node allocatable),
    /// `kube-reserved`, `system-reserved`, or `none`.
    #[arg(long, value_delimiter = ',', default_value = "pods")]
    pub enforce_node_allocatable: Vec<String>,
    /// The existing cgroup of the Kubernetes daemons, limited to `--kube-reserved` when
    /// enforced.
    #[arg(long, default_value = "")]
    pub kube_reserved_cgroup: String,
    /// The existing cgroup of the OS daemons, limited to `--system-reserved` when enforced.
    #[arg(long, default_value = "")]
    pub system_reserved_cgroup: String,
    /// Most processes per pod (its cgroup's pids limit); -1 for no limit.
    #[arg(long, default_value_t = -1, allow_hyphen_values = true)]
    pub pod_max_pids: i64,
    /// A running container's log is rotated once it reaches this size (`10Mi`).
    #[arg(long, default_value = crate::log_rotation::DEFAULT_MAX_SIZE)]
    pub container_log_max_size: String,
    /// Log files kept per container, the live one included (at least 2).
    #[arg(long, default_value_t = crate::log_rotation::DEFAULT_MAX_FILES)]
    pub container_log_max_files: usize,
    /// How often container logs are checked for rotation (`10s`, at least `3s`).
    #[arg(long, default_value = "10s", value_parser = common::duration::parse_flag)]
    pub container_log_monitor_interval: Duration,
    /// Who may use the kubelet's API: `AlwaysAllow` (upstream's flag default) or `Webhook`
    /// (a SubjectAccessReview per request, cached; what kubeadm configures).
    #[arg(long, default_value = "AlwaysAllow", value_parser = ["AlwaysAllow", "Webhook"])]
    pub authorization_mode: String,
    /// Log verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}

impl Flags {
    /// The node name: `--hostname-override`, else the machine's hostname, lower-cased.
    pub fn node_name(&self) -> String {
        if let Some(name) = &self.hostname_override {
            return name.to_lowercase();
        }
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_lowercase())
            .unwrap_or_else(|_| "localhost".into())
    }

    /// `--cert-dir`, else `<root-dir>/pki` (upstream's /var/lib/kubelet/pki).
    pub fn cert_dir(&self) -> PathBuf {
        self.cert_dir
            .clone()
            .unwrap_or_else(|| self.root_dir.join("pki"))
    }

    pub fn pod_logs_dir(&self) -> PathBuf {
        self.pod_logs_dir
            .clone()
            .unwrap_or_else(|| self.root_dir.join("pod-logs"))
    }
}
