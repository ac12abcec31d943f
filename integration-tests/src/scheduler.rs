//! Starting kube-scheduler against a [`TestCluster`](crate::TestCluster).

use anyhow::Result;

use crate::process::{self, Daemon};
use crate::TestCluster;

/// Start the kube-scheduler binary (next to kube-apiserver) with the admin kubeconfig and
/// `extra_args`; its log is `kube-scheduler.log` in the cluster directory. Killed on drop.
pub fn start_scheduler(cluster: &TestCluster, extra_args: &[&str]) -> Result<Daemon> {
    let bin = process::bin_dir()?.join("kube-scheduler");
    let mut args = vec![
        format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
        "-v=4".to_string(),
    ];
    args.extend(extra_args.iter().map(|s| s.to_string()));
    Daemon::spawn(
        "kube-scheduler",
        &bin,
        &args,
        &cluster.dir().join("kube-scheduler.log"),
    )
}

/// Create the Node `node` (JSON) with `status`, then write the status again through the
/// `status` subresource, as the kubelet would: create may drop status, and schedulers in
/// these tests read capacity and conditions from it.
pub async fn create_node_with_status(
    cluster: &TestCluster,
    mut node: serde_json::Value,
    status: &serde_json::Value,
) -> Result<()> {
    let name = node["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    node["status"] = status.clone();
    let (code, body) = cluster.post_json("/api/v1/nodes", &node).await?;
    if !code.is_success() {
        anyhow::bail!("creating node {name}: {code} {body}");
    }
    let (code, body) = cluster
        .patch_json(
            &format!("/api/v1/nodes/{name}/status"),
            "application/merge-patch+json",
            &serde_json::json!({ "status": status }),
        )
        .await?;
    if !code.is_success() {
        anyhow::bail!("setting node {name} status: {code} {body}");
    }
    Ok(())
}

/// GET `path` from kube-scheduler's secure port on loopback. The scheduler serves a
/// self-signed certificate when given none (as upstream), so it is not verified here.
pub async fn get_secure_port(port: u16, path: &str) -> Result<String> {
    crate::loopback_https_get(port, path).await
}
