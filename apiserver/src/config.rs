//! Command-line flags, named as upstream's kube-apiserver names them.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// kube-apiserver flags.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "kube-apiserver",
    about = "Serves the Kubernetes API from etcd.",
    version
)]
pub struct Config {
    /// etcd servers to connect to (comma separated URLs).
    #[arg(long = "etcd-servers", value_delimiter = ',', required = true)]
    pub etcd_servers: Vec<String>,
    /// CA file that signs etcd's serving certificate (TLS towards etcd).
    #[arg(long = "etcd-cafile")]
    pub etcd_cafile: Option<PathBuf>,
    /// Client certificate the apiserver presents to etcd.
    #[arg(long = "etcd-certfile", requires = "etcd_keyfile")]
    pub etcd_certfile: Option<PathBuf>,
    /// Key of `--etcd-certfile`.
    #[arg(long = "etcd-keyfile", requires = "etcd_certfile")]
    pub etcd_keyfile: Option<PathBuf>,
    /// Prefix of every key in etcd.
    #[arg(long = "etcd-prefix", default_value = "/registry")]
    pub etcd_prefix: String,
    /// Interval of etcd compaction (e.g. 5m, 30s; 0 disables).
    #[arg(long = "etcd-compaction-interval", default_value = "5m", value_parser = common::duration::parse_flag)]
    pub etcd_compaction_interval: Duration,
    /// Address to listen on.
    #[arg(long = "bind-address", default_value = "127.0.0.1")]
    pub bind_address: IpAddr,
    /// HTTPS port.
    #[arg(long = "secure-port", default_value_t = 6443)]
    pub secure_port: u16,
    /// Address advertised to members of the cluster (the `kubernetes` Service's endpoint).
    #[arg(long = "advertise-address")]
    pub advertise_address: Option<IpAddr>,
    /// Serving certificate (PEM).
    #[arg(long = "tls-cert-file")]
    pub tls_cert_file: PathBuf,
    /// Serving key (PEM).
    #[arg(long = "tls-private-key-file")]
    pub tls_private_key_file: PathBuf,
    /// CA bundle that signs client certificates.
    #[arg(long = "client-ca-file")]
    pub client_ca_file: PathBuf,
    /// CIDRs the Service ClusterIPs come from: one, or two of different families for a
    /// dual-stack cluster (`10.96.0.0/12,fd00:10:96::/108`); the first is the primary family.
    #[arg(long = "service-cluster-ip-range", default_value = "10.96.0.0/12", value_parser = parse_service_cidrs,
        overrides_with = "service_cluster_ip_range")]
    pub service_cluster_ip_range: ServiceCidrs,
    /// NodePort range, inclusive (e.g. 30000-32767).
    #[arg(long = "service-node-port-range", default_value = "30000-32767", value_parser = parse_port_range)]
    pub service_node_port_range: (u16, u16),
    /// How long the watch cache keeps events for watches that resume from a resourceVersion.
    #[arg(long = "watch-cache-window", default_value = "75s", value_parser = common::duration::parse_flag)]
    pub watch_cache_window: Duration,
    /// Largest request body accepted, in bytes (upstream: 3 MiB).
    #[arg(long = "max-request-body-bytes", default_value_t = 3 * 1024 * 1024)]
    pub max_request_body_bytes: usize,
    /// Most requests served at once (non-watch); beyond that, 429.
    #[arg(long = "max-requests-inflight", default_value_t = 400)]
    pub max_requests_inflight: usize,
    /// Client certificate (PEM) the apiserver presents to kubelets.
    #[arg(long = "kubelet-client-certificate")]
    pub kubelet_client_certificate: Option<PathBuf>,
    /// Key (PEM) of `--kubelet-client-certificate`.
    #[arg(long = "kubelet-client-key")]
    pub kubelet_client_key: Option<PathBuf>,
    /// CA bundle that signs kubelet serving certificates. Without it, kubelet serving
    /// certificates are not verified (upstream's default too).
    #[arg(long = "kubelet-certificate-authority")]
    pub kubelet_certificate_authority: Option<PathBuf>,
    /// Which Node address to dial a kubelet on, in order of preference.
    #[arg(
        long = "kubelet-preferred-address-types",
        value_delimiter = ',',
        default_value = "Hostname,InternalDNS,InternalIP,ExternalDNS,ExternalIP"
    )]
    pub kubelet_preferred_address_types: Vec<String>,
    /// Kubelet port, used when a Node does not report `status.daemonEndpoints.kubeletEndpoint`.
    #[arg(long = "kubelet-port", default_value_t = 10250)]
    pub kubelet_port: u16,
    /// Timeout for connecting to a kubelet (TCP + TLS).
    #[arg(long = "kubelet-timeout", default_value = "5s", value_parser = common::duration::parse_flag)]
    pub kubelet_timeout: Duration,
    /// File with PEM public keys (or certificates, or private keys) that verify service
    /// account tokens. Repeatable.
    #[arg(long = "service-account-key-file")]
    pub service_account_key_file: Vec<PathBuf>,
    /// PEM private key (RSA or ECDSA, PKCS#8 or PKCS#1) that signs service account tokens.
    #[arg(long = "service-account-signing-key-file")]
    pub service_account_signing_key_file: Option<PathBuf>,
    /// Issuer (`iss`) of service account tokens. Repeatable: the first issues, all are
    /// accepted.
    #[arg(long = "service-account-issuer")]
    pub service_account_issuer: Vec<String>,
    /// Audiences the API accepts in tokens (comma separated). Default: the issuers.
    #[arg(long = "api-audiences", value_delimiter = ',')]
    pub api_audiences: Vec<String>,
    /// Longest lifetime TokenRequest grants.
    #[arg(long = "service-account-max-token-expiration", value_parser = common::duration::parse_flag)]
    pub service_account_max_token_expiration: Option<Duration>,
    /// Issue the kubelet's pod-bound 3607 s tokens for a year, with a `warnafter` claim
    /// (upstream's default), so clients that never reload the token keep working.
    #[arg(long = "service-account-extend-token-expiration", default_value_t = true, action = clap::ArgAction::Set,
        num_args = 0..=1, default_missing_value = "true")]
    pub service_account_extend_token_expiration: bool,
    /// Serve requests without credentials as `system:anonymous` (group
    /// `system:unauthenticated`), for authorization to decide; when false (Rudder's default)
    /// only health and version endpoints are open to them and everything else is 401.
    #[arg(long = "anonymous-auth", default_value_t = false, action = clap::ArgAction::Set,
        num_args = 0..=1, default_missing_value = "true")]
    pub anonymous_auth: bool,
    /// Let bearer tokens of the form `<id>.<secret>` authenticate against the Secrets
    /// `kube-system/bootstrap-token-<id>` (TLS bootstrapping of nodes; off by default).
    #[arg(long = "enable-bootstrap-token-auth", default_value_t = false, action = clap::ArgAction::Set,
        num_args = 0..=1, default_missing_value = "true")]
    pub enable_bootstrap_token_auth: bool,
    /// Admission plugins to turn on in addition to the default ones (comma separated).
    #[arg(long = "enable-admission-plugins", value_delimiter = ',')]
    pub enable_admission_plugins: Vec<String>,
    /// Admission plugins to turn off even though they are on by default (comma separated).
    #[arg(long = "disable-admission-plugins", value_delimiter = ',')]
    pub disable_admission_plugins: Vec<String>,
    /// `apiserver.config.k8s.io/v1 AdmissionConfiguration` (YAML or JSON) giving admission
    /// plugins their configuration (PodSecurity's defaults and exemptions).
    #[arg(long = "admission-control-config-file")]
    pub admission_control_config_file: Option<PathBuf>,
    /// Seconds a pod tolerates `node.kubernetes.io/not-ready:NoExecute`, added by
    /// DefaultTolerationSeconds to pods without such a toleration.
    #[arg(long = "default-not-ready-toleration-seconds", default_value_t = 300)]
    pub default_not_ready_toleration_seconds: i64,
    /// Seconds a pod tolerates `node.kubernetes.io/unreachable:NoExecute` (see above).
    #[arg(long = "default-unreachable-toleration-seconds", default_value_t = 300)]
    pub default_unreachable_toleration_seconds: i64,
    /// Ordered list of authorizers (comma separated): AlwaysAllow, AlwaysDeny, Node, RBAC.
    #[arg(long = "authorization-mode", default_value = "AlwaysAllow")]
    pub authorization_mode: String,
    /// Audit policy (`audit.k8s.io/v1 Policy`, YAML or JSON). Auditing is on when this and
    /// `--audit-log-path` are both given.
    #[arg(long = "audit-policy-file")]
    pub audit_policy_file: Option<PathBuf>,
    /// File audit events are appended to, one JSON event per line; `-` means stdout.
    #[arg(long = "audit-log-path")]
    pub audit_log_path: Option<String>,
    /// Largest size in megabytes of the audit log before it is rotated (0: never).
    #[arg(long = "audit-log-maxsize", default_value_t = 0)]
    pub audit_log_maxsize: u64,
    /// Most rotated audit logs kept (0: all).
    #[arg(long = "audit-log-maxbackup", default_value_t = 0)]
    pub audit_log_maxbackup: usize,
    /// Most days a rotated audit log is kept (0: forever).
    #[arg(long = "audit-log-maxage", default_value_t = 0)]
    pub audit_log_maxage: u64,
    /// Format of audit events; only `json` (upstream's default) is supported.
    #[arg(long = "audit-log-format", default_value = "json", value_parser = ["json"])]
    pub audit_log_format: String,
    /// `apiserver.config.k8s.io/v1 EncryptionConfiguration`: how resources are encrypted at
    /// rest in etcd.
    #[arg(long = "encryption-provider-config")]
    pub encryption_provider_config: Option<PathBuf>,
    /// Re-read `--encryption-provider-config` when the file changes.
    #[arg(long = "encryption-provider-config-automatic-reload", default_value_t = false, action = clap::ArgAction::Set,
        num_args = 0..=1, default_missing_value = "true")]
    pub encryption_provider_config_automatic_reload: bool,
    /// Client certificate the aggregation layer presents to extension apiservers.
    #[arg(long = "proxy-client-cert-file")]
    pub proxy_client_cert_file: Option<PathBuf>,
    /// Key of `--proxy-client-cert-file`.
    #[arg(long = "proxy-client-key-file")]
    pub proxy_client_key_file: Option<PathBuf>,
    /// CA that signs front-proxy client certificates; extension apiservers read it from the
    /// `kube-system/extension-apiserver-authentication` ConfigMap.
    #[arg(long = "requestheader-client-ca-file")]
    pub requestheader_client_ca_file: Option<PathBuf>,
    /// Common names a front-proxy client certificate may carry (empty: any).
    #[arg(long = "requestheader-allowed-names", value_delimiter = ',')]
    pub requestheader_allowed_names: Vec<String>,
    /// Headers carrying the user name, in order of preference.
    #[arg(
        long = "requestheader-username-headers",
        value_delimiter = ',',
        default_value = "X-Remote-User"
    )]
    pub requestheader_username_headers: Vec<String>,
    /// Headers carrying the user's UID.
    #[arg(
        long = "requestheader-uid-headers",
        value_delimiter = ',',
        default_value = "X-Remote-Uid"
    )]
    pub requestheader_uid_headers: Vec<String>,
    /// Headers carrying the user's groups.
    #[arg(
        long = "requestheader-group-headers",
        value_delimiter = ',',
        default_value = "X-Remote-Group"
    )]
    pub requestheader_group_headers: Vec<String>,
    /// Header prefixes carrying the user's extra attributes.
    #[arg(
        long = "requestheader-extra-headers-prefix",
        value_delimiter = ',',
        default_value = "X-Remote-Extra-"
    )]
    pub requestheader_extra_headers_prefix: Vec<String>,
    /// Upstream proxies to a Service's ClusterIP unless this is on; Rudder always resolves
    /// the Service's endpoints (its apiserver runs on the host, where pod IPs route), so the
    /// flag is accepted for compatibility only.
    #[arg(long = "enable-aggregator-routing", default_value_t = true, action = clap::ArgAction::Set,
        num_args = 0..=1, default_missing_value = "true")]
    pub enable_aggregator_routing: bool,
    /// How the `default/kubernetes` Endpoints are kept: `lease` (each apiserver keeps a
    /// record with a time to live in etcd and the Endpoints list the live ones) or `none`.
    #[arg(long = "endpoint-reconciler-type", default_value = "lease",
        value_parser = |s: &str| s.parse::<crate::endpoint_reconciler::ReconcilerType>())]
    pub endpoint_reconciler_type: crate::endpoint_reconciler::ReconcilerType,
    /// Log verbosity (klog style).
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}

/// `--service-cluster-ip-range`: the primary range and, on a dual-stack cluster, the
/// range of the other family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCidrs {
    /// The first CIDR: its family is the default of single-stack Services.
    pub primary: ipnet::IpNet,
    /// The second CIDR, of the other family.
    pub secondary: Option<ipnet::IpNet>,
}

/// Upstream keeps a Service range to 20 host bits (an IPv4 /12, an IPv6 /108): the allocator
/// state of bigger ranges would add nothing but size.
const MAX_SERVICE_CIDR_HOST_BITS: u8 = 20;

/// Parse and check `--service-cluster-ip-range` as upstream's `validateClusterIPFlags` does.
fn parse_service_cidrs(s: &str) -> Result<ServiceCidrs, String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.iter().all(|p| p.is_empty()) {
        return Err("--service-cluster-ip-range must contain at least one valid cidr".into());
    }
    if parts.len() > 2 {
        return Err("--service-cluster-ip-range must not contain more than two entries".into());
    }
    let mut nets = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let net: ipnet::IpNet = p
            .parse()
            .map_err(|_| format!("--service-cluster-ip-range[{i}] {p:?} is not a valid cidr"))?;
        let flag = if i == 0 {
            "--service-cluster-ip-range".to_string()
        } else {
            format!("--service-cluster-ip-range[{i}]")
        };
        let bits = net.max_prefix_len();
        if bits - net.prefix_len() > MAX_SERVICE_CIDR_HOST_BITS {
            return Err(format!(
                "specified {flag} is too large; for {bits}-bit addresses, the mask must be >= {}",
                bits - MAX_SERVICE_CIDR_HOST_BITS
            ));
        }
        nets.push(net.trunc());
    }
    if let [a, b] = nets[..] {
        if a.max_prefix_len() == b.max_prefix_len() {
            return Err("--service-cluster-ip-range[0] and --service-cluster-ip-range[1] must be of different IP family".into());
        }
    }
    Ok(ServiceCidrs {
        primary: nets[0],
        secondary: nets.get(1).copied(),
    })
}

fn parse_port_range(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("invalid port range {s:?}"))?;
    let lo: u16 = a
        .trim()
        .parse()
        .map_err(|_| format!("invalid port range {s:?}"))?;
    let hi: u16 = b
        .trim()
        .parse()
        .map_err(|_| format!("invalid port range {s:?}"))?;
    if lo > hi {
        return Err(format!("invalid port range {s:?}"));
    }
    Ok((lo, hi))
}

impl Config {
    /// Whether an admission plugin that is on by default is on (`--disable-admission-plugins`
    /// wins over `--enable-admission-plugins`, as upstream).
    pub fn admission_plugin_enabled(&self, name: &str) -> bool {
        !self.disable_admission_plugins.iter().any(|p| p == name)
    }

    /// The address clients should use for this server.
    pub fn advertise_ip(&self) -> IpAddr {
        self.advertise_address.unwrap_or(self.bind_address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> Config {
        let base = [
            "kube-apiserver",
            "--etcd-servers=http://127.0.0.1:2379",
            "--tls-cert-file=a",
            "--tls-private-key-file=b",
            "--client-ca-file=c",
        ];
        Config::try_parse_from(base.iter().chain(extra)).expect("flags parse")
    }

    #[test]
    fn service_cluster_ip_range_takes_one_cidr_or_one_per_family() {
        let single = parse(&[]).service_cluster_ip_range;
        assert_eq!(single.primary.to_string(), "10.96.0.0/12");
        assert!(single.secondary.is_none());
        let dual = parse(&["--service-cluster-ip-range=fd00:10:96::/108, 10.96.0.0/16"])
            .service_cluster_ip_range;
        assert_eq!(dual.primary.to_string(), "fd00:10:96::/108");
        assert_eq!(
            dual.secondary.map(|n| n.to_string()).as_deref(),
            Some("10.96.0.0/16")
        );
        for (flag, want) in [
            ("10.96.0.0/12,10.100.0.0/16", "must be of different IP family"),
            ("10.96.0.0/12,fd00::/64", "specified --service-cluster-ip-range[1] is too large; for 128-bit addresses, the mask must be >= 108"),
            ("10.0.0.0/8", "specified --service-cluster-ip-range is too large; for 32-bit addresses, the mask must be >= 12"),
            ("10.96.0.0/12,fd00::/108,10.1.0.0/16", "must not contain more than two entries"),
            ("bogus", "is not a valid cidr"),
        ] {
            let err = Config::try_parse_from([
                "kube-apiserver",
                "--etcd-servers=x",
                "--tls-cert-file=a",
                "--tls-private-key-file=b",
                "--client-ca-file=c",
                &format!("--service-cluster-ip-range={flag}"),
            ])
            .unwrap_err()
            .to_string();
            assert!(err.contains(want), "{flag}: {err}");
        }
    }

    #[test]
    fn service_account_flags_parse_as_upstream() {
        let c = parse(&[
            "--service-account-issuer=https://a",
            "--service-account-issuer=https://b",
            "--service-account-key-file=k1",
            "--service-account-key-file=k2",
            "--api-audiences=x,y",
            "--disable-admission-plugins=ServiceAccount",
        ]);
        assert_eq!(c.service_account_issuer, vec!["https://a", "https://b"]);
        assert_eq!(c.service_account_key_file.len(), 2);
        assert_eq!(c.api_audiences, vec!["x", "y"]);
        assert!(!c.admission_plugin_enabled("ServiceAccount"));
        assert!(c.service_account_extend_token_expiration);
        let c = parse(&["--service-account-extend-token-expiration=false"]);
        assert!(!c.service_account_extend_token_expiration);
        assert!(c.admission_plugin_enabled("ServiceAccount"));
        assert!(
            parse(&["--service-account-extend-token-expiration"])
                .service_account_extend_token_expiration
        );
    }

    #[test]
    fn bootstrap_and_etcd_tls_flags() {
        let c = parse(&[]);
        assert!(!c.enable_bootstrap_token_auth && !c.anonymous_auth);
        assert!(c.etcd_cafile.is_none());
        let c = parse(&[
            "--enable-bootstrap-token-auth",
            "--anonymous-auth=true",
            "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
            "--etcd-certfile=c.crt",
            "--etcd-keyfile=c.key",
        ]);
        assert!(c.enable_bootstrap_token_auth && c.anonymous_auth);
        assert_eq!(
            c.etcd_keyfile.as_deref(),
            Some(std::path::Path::new("c.key"))
        );
        // A client certificate without its key is refused.
        let base = [
            "kube-apiserver",
            "--etcd-servers=https://127.0.0.1:2379",
            "--tls-cert-file=a",
            "--tls-private-key-file=b",
            "--client-ca-file=c",
        ];
        assert!(Config::try_parse_from(base).is_ok());
        assert!(Config::try_parse_from(base.iter().chain(&["--etcd-certfile=c.crt"])).is_err());
    }
}
