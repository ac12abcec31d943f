//! Harness for the integration tests: starts a private etcd and kube-apiserver on free
//! loopback ports and gives tests HTTPS clients with x509 credentials.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let cluster = integration_tests::TestCluster::start().await?;
//! let resp = cluster.client().get(cluster.url("/api/v1/namespaces")).send().await?;
//! assert!(resp.status().is_success());
//! # Ok(()) }
//! ```
//! The binaries come from `cargo build --workspace` (hack/test.sh builds them first); see
//! [`process::bin_dir`] for where they are looked up. Everything started is killed on drop.

pub mod api;
pub mod containerd;
pub mod controller_manager;
pub mod etcd;
pub mod events;
pub mod hpa;
pub mod kube_proxy;
pub mod kubelet;
pub mod metrics_adapter;
pub mod proc_stats;
pub mod process;
pub mod real_kubectl;
pub mod runtime_cpu;
pub mod scheduler;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use common::pki::{self, Ca, IssuedCert};
use tempfile::TempDir;

pub use api::{loopback_https_get, status_of, watch_events, WatchEvent};
use etcd::Etcd;
use process::Daemon;

/// The Service range the harness gives the apiserver (upstream's default).
pub const SERVICE_CIDR: &str = "10.96.0.0/12";
/// The NodePort range the harness gives the apiserver (upstream's default).
pub const NODE_PORT_RANGE: (u16, u16) = (30000, 32767);
/// The service account token issuer the harness gives the apiserver (kubeadm's default).
pub const SERVICE_ACCOUNT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
/// How long the apiserver may take to answer /readyz (a debug build on a busy machine).
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// A private etcd + kube-apiserver.
pub struct TestCluster {
    // Field order is drop order: the apiserver dies before etcd, the directory goes last.
    apiserver: Option<Daemon>,
    etcd: Etcd,
    ca: Ca,
    admin: IssuedCert,
    client: reqwest::Client,
    api_port: u16,
    extra_args: Vec<String>,
    bin_dir: PathBuf,
    kubeconfig: PathBuf,
    dir: TempDir,
}

impl TestCluster {
    /// Start etcd and kube-apiserver with default flags and wait until ready.
    pub async fn start() -> Result<TestCluster> {
        Self::start_with_args(&[]).await
    }

    /// Like [`TestCluster::start`], with extra kube-apiserver flags (e.g.
    /// `--etcd-compaction-interval=1s`).
    pub async fn start_with_args(extra_args: &[&str]) -> Result<TestCluster> {
        process::ensure_traffic_guard();
        let bin_dir = process::bin_dir()?;
        let dir = tempfile::Builder::new().prefix("rudder-it-").tempdir()?;
        let etcd = Etcd::start(dir.path()).await?;

        let ca = Ca::generate("kubernetes")?;
        let pki_dir = dir.path().join("pki");
        ca.write(&pki_dir.join("ca.crt"), &pki_dir.join("ca.key"))?;
        // 127.0.0.2 and .3 for tests that run more apiservers (`spawn_apiserver_at`).
        let ips: Vec<IpAddr> = vec![
            [127, 0, 0, 1].into(),
            [127, 0, 0, 2].into(),
            [127, 0, 0, 3].into(),
            [10, 96, 0, 1].into(),
        ];
        let dns: Vec<String> = ["localhost", "kubernetes", "kubernetes.default.svc"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        ca.issue_server("kube-apiserver", &dns, &ips)?.write(
            &pki_dir.join("apiserver.crt"),
            &pki_dir.join("apiserver.key"),
        )?;
        // Service account token keys, kubeadm's layout.
        pki::ServiceAccountKey::generate()?
            .write(&pki_dir.join("sa.key"), &pki_dir.join("sa.pub"))?;
        let admin = ca.issue_client("kubernetes-admin", &["system:masters".to_string()])?;
        admin.write(&pki_dir.join("admin.crt"), &pki_dir.join("admin.key"))?;

        let api_port = process::free_port()?;
        let server = format!("https://127.0.0.1:{api_port}");
        let kubeconfig = dir.path().join("admin.kubeconfig");
        pki::write_key_pem(
            &kubeconfig,
            &pki::kubeconfig(&server, ca.cert_pem(), "admin", &admin, "rudder"),
        )?;
        let client = build_client(ca.cert_pem(), Some(&admin))?;

        let mut cluster = TestCluster {
            apiserver: None,
            etcd,
            ca,
            admin,
            client,
            api_port,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            bin_dir,
            kubeconfig,
            dir,
        };
        cluster.start_apiserver().await?;
        Ok(cluster)
    }

    /// Start kube-apiserver (again) on the same port, etcd and certificates, and wait for
    /// /readyz.
    pub async fn start_apiserver(&mut self) -> Result<()> {
        if self.apiserver.as_mut().is_some_and(Daemon::is_running) {
            bail!("kube-apiserver is already running");
        }
        let args = self.apiserver_args("127.0.0.1");
        let log = self.dir.path().join("kube-apiserver.log");
        let daemon = Daemon::spawn(
            "kube-apiserver",
            &self.bin_dir.join("kube-apiserver"),
            &args,
            &log,
        )?;
        self.apiserver = Some(daemon);
        self.wait_ready().await
    }

    /// The flags of this cluster's kube-apiserver, serving and advertised on `host`.
    fn apiserver_args(&self, host: &str) -> Vec<String> {
        let pki_dir = self.dir.path().join("pki");
        let path = |name: &str| pki_dir.join(name).to_string_lossy().into_owned();
        let mut args = vec![
            format!("--etcd-servers={}", self.etcd.endpoint()),
            format!("--bind-address={host}"),
            format!("--secure-port={}", self.api_port),
            format!("--advertise-address={host}"),
            format!("--tls-cert-file={}", path("apiserver.crt")),
            format!("--tls-private-key-file={}", path("apiserver.key")),
            format!("--client-ca-file={}", path("ca.crt")),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            format!(
                "--service-node-port-range={}-{}",
                NODE_PORT_RANGE.0, NODE_PORT_RANGE.1
            ),
            format!("--service-account-issuer={SERVICE_ACCOUNT_ISSUER}"),
            format!("--service-account-key-file={}", path("sa.pub")),
            format!("--service-account-signing-key-file={}", path("sa.key")),
            "-v=2".to_string(),
        ];
        // Pods would need a `default` ServiceAccount (kube-controller-manager makes it) and the
        // `kube-root-ca.crt` ConfigMap for their token volume; tests that want the
        // ServiceAccount admission plugin ask for it with --enable-admission-plugins.
        if !self
            .extra_args
            .iter()
            .any(|a| a.starts_with("--enable-admission-plugins") && a.contains("ServiceAccount"))
        {
            args.push("--disable-admission-plugins=ServiceAccount".to_string());
        }
        // Authorization as kubeadm configures it, unless a test chose its own mode.
        if !self
            .extra_args
            .iter()
            .any(|a| a.starts_with("--authorization-mode"))
        {
            args.push("--authorization-mode=Node,RBAC".to_string());
        }
        args.extend(self.extra_args.iter().cloned());
        args
    }

    /// Start one more kube-apiserver on the same etcd, certificates and port, serving and
    /// advertised on `host` (127.0.0.2 or 127.0.0.3: the serving certificate names them),
    /// and wait for its /readyz. The caller owns it; the cluster's own apiserver is unaffected.
    pub async fn spawn_apiserver_at(&self, host: &str) -> Result<Daemon> {
        let log = self.dir.path().join(format!("kube-apiserver-{host}.log"));
        let mut daemon = Daemon::spawn(
            "kube-apiserver",
            &self.bin_dir.join("kube-apiserver"),
            &self.apiserver_args(host),
            &log,
        )?;
        let url = format!("https://{host}:{}/readyz", self.api_port);
        wait_ready(&self.client, &url, &mut daemon).await?;
        Ok(daemon)
    }

    /// SIGKILL the apiserver (no graceful shutdown), as a crash would.
    pub fn kill_apiserver(&mut self) {
        if let Some(mut daemon) = self.apiserver.take() {
            daemon.kill();
        }
    }

    /// Kill the apiserver abruptly and start it again; returns when it is ready.
    pub async fn restart_apiserver(&mut self) -> Result<()> {
        self.kill_apiserver();
        self.start_apiserver().await
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let url = self.url("/readyz");
        let Some(daemon) = self.apiserver.as_mut() else {
            bail!("kube-apiserver is not running");
        };
        wait_ready(&self.client, &url, daemon).await
    }

    /// `https://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.api_port)
    }

    /// `base_url() + path` (path starts with '/').
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// An HTTPS client authenticated as the admin (`kubernetes-admin`, group `system:masters`).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// An HTTPS client that trusts the cluster CA but presents no certificate.
    pub fn anonymous_client(&self) -> Result<reqwest::Client> {
        build_client(self.ca.cert_pem(), None)
    }

    /// An HTTPS client authenticated as `user` in `groups` (a fresh certificate from the CA).
    pub fn client_for(&self, user: &str, groups: &[&str]) -> Result<reqwest::Client> {
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        let issued = self.ca.issue_client(user, &groups)?;
        build_client(self.ca.cert_pem(), Some(&issued))
    }

    /// The cluster CA (to issue more certificates).
    pub fn ca(&self) -> &Ca {
        &self.ca
    }

    /// The admin client certificate and key.
    pub fn admin_cert(&self) -> &IssuedCert {
        &self.admin
    }

    /// A kubeconfig for the admin user (context `rudder`), for kubectl or the Python client.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The real kubectl as the admin, with a discovery cache of this cluster's own.
    pub fn real_kubectl(&self) -> real_kubectl::RealKubectl {
        real_kubectl::RealKubectl::new(&self.kubeconfig)
    }

    /// The directory holding the PKI, logs and etcd data.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Direct access to the cluster's etcd (revision, compaction, raw keys).
    pub fn etcd(&self) -> &Etcd {
        &self.etcd
    }

    /// Compact etcd at its current revision now; returns that revision.
    pub async fn compact_now(&self) -> Result<i64> {
        self.etcd.compact_now().await
    }

    /// The apiserver log's last lines (for assertion messages).
    pub fn apiserver_log_tail(&self, lines: usize) -> String {
        process::log_tail(&self.dir.path().join("kube-apiserver.log"), lines)
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- kube-apiserver log (last 60 lines) ---\n{}\n--- etcd log ---\n{}",
                self.apiserver_log_tail(60),
                self.etcd.log_tail(10)
            );
        }
        self.kill_apiserver();
        process::unmount_under(self.dir.path());
    }
}

/// Poll `url` (an apiserver's /readyz) until it answers 200, failing with `daemon`'s log
/// tail if the daemon exits or [`READY_TIMEOUT`] passes.
async fn wait_ready(client: &reqwest::Client, url: &str, daemon: &mut Daemon) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if !daemon.is_running() {
            bail!(
                "{url}: kube-apiserver exited during start-up:\n{}",
                daemon.log_tail(40)
            );
        }
        if let Ok(resp) = client.get(url).send().await {
            if resp.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!(
                "{url}: kube-apiserver not ready after {READY_TIMEOUT:?}:\n{}",
                daemon.log_tail(40)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A reqwest client trusting only `ca_pem`, presenting `identity` if given.
fn build_client(ca_pem: &str, identity: Option<&IssuedCert>) -> Result<reqwest::Client> {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).context("CA certificate")?;
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(60));
    if let Some(issued) = identity {
        let pem = format!("{}{}", issued.cert_pem, issued.key_pem);
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes())?);
    }
    Ok(builder.build()?)
}
