//! Starting kube-controller-manager against a [`TestCluster`](crate::TestCluster).

use anyhow::Result;

use crate::process::{self, Daemon};
use crate::TestCluster;

/// Start the kube-controller-manager binary (next to kube-apiserver) with the admin
/// kubeconfig and `extra_args` (e.g. `--controllers=replicaset`); its log is
/// `kube-controller-manager.log` in the cluster directory. Killed on drop.
pub fn start_controller_manager(cluster: &TestCluster, extra_args: &[&str]) -> Result<Daemon> {
    let bin = process::bin_dir()?.join("kube-controller-manager");
    let mut args = vec![
        format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
        "-v=4".to_string(),
    ];
    args.extend(extra_args.iter().map(|s| s.to_string()));
    Daemon::spawn(
        "kube-controller-manager",
        &bin,
        &args,
        &cluster.dir().join("kube-controller-manager.log"),
    )
}

/// GET `path`, failing on a non-2xx answer.
pub async fn get_ok(cluster: &TestCluster, path: &str) -> Result<serde_json::Value> {
    let (code, body) = cluster.get_json(path).await?;
    if !code.is_success() {
        anyhow::bail!("GET {path}: {code} {body}");
    }
    Ok(body)
}

/// POST `obj` to `path`, failing on a non-2xx answer.
pub async fn post_ok(
    cluster: &TestCluster,
    path: &str,
    obj: &serde_json::Value,
) -> Result<serde_json::Value> {
    let (code, body) = cluster.post_json(path, obj).await?;
    if !code.is_success() {
        anyhow::bail!("POST {path}: {code} {body}");
    }
    Ok(body)
}

/// JSON merge patch `patch` onto `path`, failing on a non-2xx answer.
pub async fn merge_patch_ok(
    cluster: &TestCluster,
    path: &str,
    patch: &serde_json::Value,
) -> Result<serde_json::Value> {
    let (code, body) = cluster
        .patch_json(path, "application/merge-patch+json", patch)
        .await?;
    if !code.is_success() {
        anyhow::bail!("PATCH {path}: {code} {body}");
    }
    Ok(body)
}

/// The names of the pods in `default` labelled `app=<app>` that are not being deleted.
pub async fn pod_names(cluster: &TestCluster, app: &str) -> Result<Vec<String>> {
    let list = get_ok(
        cluster,
        &format!("/api/v1/namespaces/default/pods?labelSelector=app%3D{app}"),
    )
    .await?;
    Ok(list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
        .collect())
}

/// Play kubelet for one pod: phase Running and a Ready condition that is True (or False),
/// through the status subresource.
pub async fn set_pod_ready(cluster: &TestCluster, ns: &str, name: &str, ready: bool) -> Result<()> {
    let now = rfc3339_now();
    let status = if ready { "True" } else { "False" };
    merge_patch_ok(
        cluster,
        &format!("/api/v1/namespaces/{ns}/pods/{name}/status"),
        &serde_json::json!({"status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": status, "lastTransitionTime": now}]}}),
    )
    .await?;
    Ok(())
}

/// Create a Node object through the API (no kubelet behind it) with `labels` and
/// `taints`, and, when `ready`, a Ready=True condition with a fresh heartbeat.
pub async fn create_node(
    cluster: &TestCluster,
    name: &str,
    labels: serde_json::Value,
    taints: serde_json::Value,
    ready: bool,
) -> Result<serde_json::Value> {
    let node = post_ok(
        cluster,
        "/api/v1/nodes",
        &serde_json::json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints}}),
    )
    .await?;
    if ready {
        heartbeat_node(cluster, name).await?;
    }
    Ok(node)
}

/// Post a Ready=True heartbeat for `name`, as a kubelet's status update would.
pub async fn heartbeat_node(cluster: &TestCluster, name: &str) -> Result<()> {
    let now = rfc3339_now();
    merge_patch_ok(
        cluster,
        &format!("/api/v1/nodes/{name}/status"),
        &serde_json::json!({"status": {"conditions": [{"type": "Ready", "status": "True",
            "reason": "KubeletReady", "message": "kubelet is posting ready status",
            "lastHeartbeatTime": now, "lastTransitionTime": now}]}}),
    )
    .await?;
    Ok(())
}

/// The current UTC time as RFC 3339 with second precision (metav1.Time's format).
pub fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if mo <= 2 { y + 1 } else { y };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}
