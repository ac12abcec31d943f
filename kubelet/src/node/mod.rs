//! This machine as a Node: registration, status reports and Lease heartbeats.
pub mod allocatable;
pub mod lease;
pub mod machine;
pub mod status;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ContainerImage, Node, NodeSpec, NodeStatus, Taint};
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};
use kube::Api;
use proto::cri::v1 as cri;

use crate::cri::Runtime;
use crate::eviction::thresholds::Pressure;

/// Upstream posts node status at least this often even when nothing changed.
const STATUS_REPORT_FREQUENCY: Duration = Duration::from_secs(300);

/// What registration and status reports need to know about this node.
#[derive(Clone)]
pub struct NodeConfig {
    pub name: String,
    pub ip: IpAddr,
    pub kubelet_port: u16,
    pub root_dir: PathBuf,
    pub max_pods: u32,
    pub pod_cidr: Option<String>,
    pub labels: Vec<String>,
    pub taints: Vec<String>,
    pub status_update_frequency: Duration,
    /// kube-reserved + system-reserved.
    pub reserved: allocatable::Amounts,
    /// Hard eviction thresholds (memory and nodefs come off allocatable).
    pub thresholds: Vec<crate::eviction::thresholds::Threshold>,
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("bad --node-labels entry {0:?} (want key=value)")]
    BadLabel(String),
    #[error("bad --register-with-taints entry {0:?} (want key[=value]:Effect)")]
    BadTaint(String),
    #[error("registering node: {0}")]
    Api(#[from] kube::Error),
}

/// Parses `key=value`.
fn parse_labels(entries: &[String]) -> Result<BTreeMap<String, String>, NodeError> {
    entries
        .iter()
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| NodeError::BadLabel(e.clone()))
        })
        .collect()
}

/// Parses `key[=value]:Effect`.
fn parse_taints(entries: &[String]) -> Result<Vec<Taint>, NodeError> {
    entries
        .iter()
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (kv, effect) = e
                .rsplit_once(':')
                .ok_or_else(|| NodeError::BadTaint(e.clone()))?;
            if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
                return Err(NodeError::BadTaint(e.clone()));
            }
            let (key, value) = match kv.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (kv, None),
            };
            Ok(Taint {
                key: key.into(),
                value,
                effect: effect.into(),
                time_added: None,
            })
        })
        .collect()
}

/// The labels every upstream kubelet puts on its Node.
fn well_known_labels(name: &str) -> BTreeMap<String, String> {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    BTreeMap::from([
        ("kubernetes.io/hostname".into(), name.into()),
        ("kubernetes.io/os".into(), "linux".into()),
        ("kubernetes.io/arch".into(), arch.into()),
        ("beta.kubernetes.io/os".into(), "linux".into()),
        ("beta.kubernetes.io/arch".into(), arch.into()),
    ])
}

/// Creates the Node, or adopts an existing one (adding missing labels and the pod CIDR).
/// Returns the Node as stored.
pub async fn register(client: &kube::Client, config: &NodeConfig) -> Result<Node, NodeError> {
    let nodes: Api<Node> = Api::all(client.clone());
    let mut labels = well_known_labels(&config.name);
    labels.extend(parse_labels(&config.labels)?);
    let taints = parse_taints(&config.taints)?;
    let node = Node {
        metadata: ObjectMeta {
            name: Some(config.name.clone()),
            labels: Some(labels.clone()),
            ..Default::default()
        },
        spec: Some(NodeSpec {
            pod_cidr: config.pod_cidr.clone(),
            pod_cidrs: config.pod_cidr.clone().map(|c| vec![c]),
            taints: (!taints.is_empty()).then_some(taints),
            ..Default::default()
        }),
        status: None,
    };
    match nodes.create(&PostParams::default(), &node).await {
        Ok(created) => {
            tracing::info!(node = %config.name, "registered node");
            Ok(created)
        }
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let existing = nodes.get(&config.name).await?;
            let mut patch = serde_json::json!({"metadata": {"labels": {}}});
            let have = existing.metadata.labels.clone().unwrap_or_default();
            for (k, v) in &labels {
                if !have.contains_key(k) {
                    patch["metadata"]["labels"][k] = serde_json::Value::String(v.clone());
                }
            }
            let has_cidr = existing
                .spec
                .as_ref()
                .and_then(|s| s.pod_cidr.as_ref())
                .is_some();
            if let (false, Some(cidr)) = (has_cidr, &config.pod_cidr) {
                patch["spec"] = serde_json::json!({"podCIDR": cidr, "podCIDRs": [cidr]});
            }
            let node = nodes
                .patch(&config.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
            tracing::info!(node = %config.name, "node already registered; adopted it");
            Ok(node)
        }
        Err(e) => Err(e.into()),
    }
}

/// The images the runtime holds, as the Node lists them (largest first, as upstream).
async fn node_images(runtime: &Runtime) -> Vec<ContainerImage> {
    let Ok(response) = runtime
        .images
        .clone()
        .list_images(cri::ListImagesRequest { filter: None })
        .await
    else {
        return Vec::new();
    };
    let mut images: Vec<ContainerImage> = response
        .into_inner()
        .images
        .into_iter()
        .map(|image| {
            let mut names = image.repo_digests.clone();
            names.extend(image.repo_tags.clone());
            ContainerImage {
                names: Some(names),
                size_bytes: Some(image.size as i64),
            }
        })
        .collect();
    images.sort_by_key(|i| std::cmp::Reverse(i.size_bytes));
    images.truncate(50);
    images
}

/// Why the runtime is not ready, from CRI Status (None when runtime and network are ready).
async fn runtime_not_ready(runtime: &Runtime) -> Option<String> {
    let status = match runtime
        .runtime
        .clone()
        .status(cri::StatusRequest { verbose: false })
        .await
    {
        Ok(r) => r.into_inner().status.unwrap_or_default(),
        Err(e) => return Some(format!("container runtime is down: {}", e.message())),
    };
    let problems: Vec<String> = status
        .conditions
        .iter()
        .filter(|c| !c.status)
        .map(|c| {
            format!("{} is false: {} {}", c.r#type, c.reason, c.message)
                .trim()
                .to_string()
        })
        .collect();
    (!problems.is_empty()).then(|| format!("container runtime not ready: {}", problems.join("; ")))
}

/// Posts node status when it changes (or every 5 minutes) and renews the Lease every 10 s,
/// until the process ends.
pub async fn run(
    client: kube::Client,
    runtime: Runtime,
    config: NodeConfig,
    node: Node,
    eviction: std::sync::Arc<crate::eviction::EvictionState>,
) {
    let nodes: Api<Node> = Api::all(client.clone());
    let node_uid = node.metadata.uid.clone();
    let mut last_posted: Option<NodeStatus> = node.status.clone();
    let mut last_post_at: Option<Instant> = None;
    let mut next_lease = Instant::now();
    let mut next_status = Instant::now();
    loop {
        let now = Instant::now();
        if now >= next_lease {
            if let Err(e) = lease::renew(&client, &config.name, node_uid.as_deref()).await {
                tracing::warn!(error = %e, "renewing the node lease");
            }
            next_lease = now + lease::RENEW_INTERVAL;
        }
        if now >= next_status {
            let runtime_version = match runtime.version().await {
                Ok(v) => format!("{}://{}", v.runtime_name, v.runtime_version),
                Err(_) => "unknown://unknown".into(),
            };
            let capacity = machine::capacity(&config.root_dir, config.max_pods);
            let allocatable = allocatable::compute(&capacity, &config.reserved, &config.thresholds);
            let observed = status::Observed {
                node_name: config.name.clone(),
                node_ip: config.ip,
                kubelet_port: config.kubelet_port,
                capacity,
                allocatable,
                info: machine::node_info(&runtime_version),
                images: node_images(&runtime).await,
                not_ready_reason: runtime_not_ready(&runtime).await,
                // From the eviction manager's signals and thresholds.
                memory_pressure: eviction.under(Pressure::Memory),
                disk_pressure: eviction.under(Pressure::Disk),
                pid_pressure: eviction.under(Pressure::Pid),
            };
            let new = status::build(&observed, last_posted.as_ref());
            let due = last_post_at.is_none_or(|t| t.elapsed() >= STATUS_REPORT_FREQUENCY);
            if due
                || last_posted
                    .as_ref()
                    .is_none_or(|old| status::changed(old, &new))
            {
                let patch = serde_json::json!({"status": new});
                match nodes
                    .patch_status(&config.name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                {
                    Ok(_) => {
                        last_posted = Some(new);
                        last_post_at = Some(Instant::now());
                    }
                    Err(e) => tracing::warn!(error = %e, "posting node status"),
                }
            }
            next_status = now + config.status_update_frequency;
        }
        let wake = next_lease.min(next_status);
        tokio::time::sleep_until(wake.into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labels_and_taints() {
        let labels = parse_labels(&["a=b".into(), "zone=z1".into()]).unwrap();
        assert_eq!(labels["zone"], "z1");
        assert!(parse_labels(&["novalue".into()]).is_err());
        let taints =
            parse_taints(&["dedicated=infra:NoSchedule".into(), "gpu:NoExecute".into()]).unwrap();
        assert_eq!(taints[0].key, "dedicated");
        assert_eq!(taints[0].value.as_deref(), Some("infra"));
        assert_eq!(taints[1].value, None);
        assert_eq!(taints[1].effect, "NoExecute");
        assert!(parse_taints(&["x=y:Sometimes".into()]).is_err());
    }
}
