//! Starting kube-proxy (nftables mode) against a [`TestCluster`](crate::TestCluster).
//!
//! kube-proxy programs the host's `table ip kube-proxy`; the table is removed
//! (`kube-proxy --cleanup`) when the [`KubeProxy`] is dropped, so a test leaves no rules for
//! addresses that no longer exist.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Result};

use crate::process::{self, Daemon};
use crate::TestCluster;

/// A running kube-proxy with the ports of its HTTP endpoints.
pub struct KubeProxy {
    /// The process.
    pub daemon: Daemon,
    /// Port of `/healthz` on 127.0.0.1.
    pub healthz_port: u16,
    /// Port of `/metrics` on 127.0.0.1.
    pub metrics_port: u16,
    args: Vec<String>,
    log: PathBuf,
}

/// How long a graceful stop may take before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Starts kube-proxy for node `node_name` with the admin kubeconfig, masquerading traffic
/// from outside `cluster_cidr`; its log is `kube-proxy.log` in the cluster directory.
pub fn start_kube_proxy(
    cluster: &TestCluster,
    node_name: &str,
    cluster_cidr: &str,
) -> Result<KubeProxy> {
    let healthz_port = process::free_port()?;
    let metrics_port = process::free_port()?;
    let args = vec![
        format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
        "--proxy-mode=nftables".into(),
        format!("--hostname-override={node_name}"),
        format!("--cluster-cidr={cluster_cidr}"),
        format!("--healthz-bind-address=127.0.0.1:{healthz_port}"),
        format!("--metrics-bind-address=127.0.0.1:{metrics_port}"),
        "--min-sync-period=200ms".into(),
        "--sync-period=30s".into(),
        "-v=4".into(),
    ];
    let log = cluster.dir().join("kube-proxy.log");
    let daemon = Daemon::spawn("kube-proxy", &bin()?, &args, &log)?;
    Ok(KubeProxy {
        daemon,
        healthz_port,
        metrics_port,
        args,
        log,
    })
}

fn bin() -> Result<PathBuf> {
    Ok(process::bin_dir()?.join("kube-proxy"))
}

impl KubeProxy {
    /// SIGTERM (a normal exit: the rules stay), wait for the exit, and start again with the
    /// same flags, appending to the same log.
    pub fn restart(&mut self) -> Result<()> {
        self.daemon.terminate(STOP_GRACE);
        self.daemon = Daemon::spawn("kube-proxy", &bin()?, &self.args, &self.log)?;
        Ok(())
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> Result<String> {
        let url = format!("http://127.0.0.1:{}/metrics", self.metrics_port);
        Ok(reqwest::get(url).await?.text().await?)
    }

    /// `/healthz`: status code and body.
    pub async fn healthz(&self) -> Result<(u16, String)> {
        let url = format!("http://127.0.0.1:{}/healthz", self.healthz_port);
        let resp = reqwest::get(url).await?;
        Ok((resp.status().as_u16(), resp.text().await?))
    }

    /// Wait until `/healthz` says the rules are programmed.
    pub async fn wait_healthy(&self) -> Result<()> {
        self.daemon
            .eventually("kube-proxy /healthz 200", || async {
                Ok(matches!(self.healthz().await, Ok((200, _))).then_some(()))
            })
            .await
    }

    /// `nft list table ip kube-proxy`.
    pub fn ruleset(&self) -> Result<String> {
        let out = Command::new("nft")
            .args(["list", "table", "ip", "kube-proxy"])
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            bail!("nft list: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for KubeProxy {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- kube-proxy log (last 40 lines) ---\n{}",
                self.daemon.log_tail(40)
            );
        }
        self.daemon.kill();
        if let Ok(bin) = bin() {
            let _ = Command::new(bin)
                .arg("--cleanup")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}
