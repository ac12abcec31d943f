//! Starting a kubelet against a [`TestCluster`](crate::TestCluster) and a private
//! [`Containerd`](crate::containerd::Containerd).

use std::path::PathBuf;

use anyhow::Result;

use crate::containerd::Containerd;
use crate::process::{self, Daemon};
use crate::TestCluster;

/// A kubelet started by [`start_kubelet`], with the paths a test needs.
pub struct Kubelet {
    pub daemon: Daemon,
    pub node_name: String,
    pub root_dir: PathBuf,
    pub manifest_dir: PathBuf,
    pub port: u16,
    args: Vec<String>,
    log: PathBuf,
}

/// A bridge per pod CIDR (`rdr<third octet>`), so kubelets of tests running side by side
/// never share one.
fn bridge_name(pod_cidr: &str) -> String {
    let octet = pod_cidr.split('.').nth(2).unwrap_or("0");
    format!("rdr{octet}")
}

/// The kubelet's arguments for this cluster, containerd and pod CIDR.
fn kubelet_args(
    cluster: &TestCluster,
    containerd: &Containerd,
    node_name: &str,
    pod_cidr: &str,
    root_dir: &std::path::Path,
    manifest_dir: &std::path::Path,
    port: u16,
) -> Vec<String> {
    vec![
        format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
        format!("--container-runtime-endpoint={}", containerd.endpoint()),
        format!("--hostname-override={node_name}"),
        "--node-ip=127.0.0.1".into(),
        format!("--root-dir={}", root_dir.display()),
        format!("--pod-manifest-path={}", manifest_dir.display()),
        "--file-check-frequency=1".into(),
        format!("--pod-cidr={pod_cidr}"),
        format!("--cni-bridge-name={}", bridge_name(pod_cidr)),
        format!("--cni-conf-dir={}", containerd.cni_conf_dir().display()),
        "--address=127.0.0.1".into(),
        format!("--port={port}"),
        "--healthz-port=0".into(),
        "--node-status-update-frequency=2".into(),
        // Memory as upstream; disk thresholds low, as kind sets them: test machines keep big
        // build trees on the same disk, and upstream's 10%/15% would evict every test pod.
        format!("--eviction-hard={TEST_EVICTION_HARD}"),
        "-v=2".into(),
    ]
}

/// Starts the kubelet binary registering `node_name`, running pods on `pod_cidr`; its log is
/// `kubelet-<node>.log` in the cluster directory. Killed on drop (containers keep running
/// until the containerd harness cleans up).
pub fn start_kubelet(
    cluster: &TestCluster,
    containerd: &Containerd,
    node_name: &str,
    pod_cidr: &str,
) -> Result<Kubelet> {
    start_kubelet_with(cluster, containerd, node_name, pod_cidr, &[])
}

/// `args` with each `--flag=value` of `overrides` in place of the same flag's default.
fn with_overrides(args: &[String], overrides: &[String]) -> Vec<String> {
    let flag = |a: &str| a.split('=').next().unwrap_or_default().to_string();
    let replaced: Vec<String> = overrides.iter().map(|o| flag(o)).collect();
    args.iter()
        .filter(|a| !replaced.contains(&flag(a)))
        .chain(overrides)
        .cloned()
        .collect()
}

/// [`start_kubelet`] with extra flags (`--flag=value`), which replace the harness's own.
pub fn start_kubelet_with(
    cluster: &TestCluster,
    containerd: &Containerd,
    node_name: &str,
    pod_cidr: &str,
    extra: &[String],
) -> Result<Kubelet> {
    let root_dir = cluster.dir().join(format!("kubelet-{node_name}"));
    let manifest_dir = root_dir.join("manifests");
    std::fs::create_dir_all(&manifest_dir)?;
    let port = process::free_port()?;
    let args = kubelet_args(
        cluster,
        containerd,
        node_name,
        pod_cidr,
        &root_dir,
        &manifest_dir,
        port,
    );
    let args = with_overrides(&args, extra);
    let log = cluster.dir().join(format!("kubelet-{node_name}.log"));
    let bin = process::bin_dir()?.join("kubelet");
    let daemon = Daemon::spawn("kubelet", &bin, &args, &log)?;
    Ok(Kubelet {
        daemon,
        node_name: node_name.into(),
        root_dir,
        manifest_dir,
        port,
        args,
        log,
    })
}

impl Kubelet {
    /// Kills the kubelet (SIGKILL, as a crash) without touching its containers.
    pub fn kill(&mut self) {
        self.daemon.kill();
    }

    /// Starts the kubelet again with the flags changed by `overrides` (`--flag=value`).
    pub fn restart_with(&mut self, overrides: &[String]) -> Result<()> {
        self.args = with_overrides(&self.args, overrides);
        self.restart()
    }

    /// Starts the kubelet again with the same flags (appending to the same log).
    pub fn restart(&mut self) -> Result<()> {
        self.daemon.kill();
        let bin = process::bin_dir()?.join("kubelet");
        self.daemon = Daemon::spawn("kubelet", &bin, &self.args, &self.log)?;
        Ok(())
    }
}

/// The hard eviction thresholds test kubelets run with.
pub const TEST_EVICTION_HARD: &str =
    "memory.available<100Mi,nodefs.available<1%,imagefs.available<1%,nodefs.inodesFree<1%";

/// How long a pod may take to reach a state on a busy 2-core machine running debug builds.
pub const POD_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Creates a pod in `default` already bound to `node` (no scheduler involved), with `labels`.
pub async fn create_bound_pod(
    cluster: &TestCluster,
    node: &str,
    name: &str,
    labels: serde_json::Value,
    spec: serde_json::Value,
) -> Result<()> {
    let mut spec = spec;
    spec["nodeName"] = serde_json::json!(node);
    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels}, "spec": spec});
    let (code, body) = cluster
        .post_json("/api/v1/namespaces/default/pods", &pod)
        .await?;
    if !code.is_success() {
        anyhow::bail!("creating pod {name}: {code} {body}");
    }
    Ok(())
}

/// Waits until `check` accepts pod `default/name`, returning it; fails with the kubelet's log.
pub async fn wait_pod(
    cluster: &TestCluster,
    kubelet: &Kubelet,
    name: &str,
    what: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> Result<serde_json::Value> {
    kubelet
        .daemon
        .eventually_within(POD_LIMIT, &format!("pod {name}: {what}"), || async {
            let (code, pod) = cluster
                .get_json(&format!("/api/v1/namespaces/default/pods/{name}"))
                .await?;
            Ok((code.is_success() && check(&pod)).then_some(pod))
        })
        .await
}

/// The kubelet's `/metrics` text, straight from its port on loopback. The harness's kubelet
/// serves with a self-signed certificate and upstream's default `AlwaysAllow` authorization
/// (the test apiserver has no kubelet client certificate for its node proxy).
pub async fn metrics_text(port: u16) -> Result<String> {
    crate::loopback_https_get(port, "/metrics").await
}

/// The status (`True`, `False`, …) of the pod's condition `kind`, or empty when absent.
pub fn pod_condition(pod: &serde_json::Value, kind: &str) -> String {
    pod["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind))
        .and_then(|c| c["status"].as_str())
        .unwrap_or_default()
        .to_string()
}
