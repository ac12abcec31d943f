//! The pod garbage collector (upstream's podgc): deletes the oldest terminated pods above
//! `--terminated-pod-gc-threshold`, pods bound to nodes that no longer exist (after a
//! quarantine, re-checking the node), terminating pods that were never scheduled, and
//! terminating pods on not-ready nodes an operator tainted `out-of-service`. Deletions are
//! forced (grace period 0), as upstream: no kubelet is left to finish them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::json;

use super::nodelifecycle_state;
use super::taints;

/// Settings, from upstream's flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// `--terminated-pod-gc-threshold`: terminated pods kept (0 disables that part).
    pub terminated_threshold: usize,
    /// How often to collect (upstream's gcCheckPeriod, 20 s).
    pub period: Duration,
    /// How long a pod's node must be missing before the pod goes (upstream 40 s).
    pub quarantine: Duration,
}

/// Run forever.
pub async fn run(client: Client, config: Config) {
    let mut missing_since: HashMap<String, Instant> = HashMap::new();
    loop {
        if let Err(e) = collect(&client, &config, &mut missing_since).await {
            tracing::warn!(error = %e, "podgc: pass failed");
        }
        tokio::time::sleep(config.period).await;
    }
}

fn is_terminated(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

fn key(pod: &Pod) -> String {
    format!("{}/{}", pod.namespace().unwrap_or_default(), pod.name_any())
}

/// The terminated pods to delete so at most `threshold` remain, oldest first
/// (`0` keeps them all).
pub fn terminated_over_threshold(pods: &[Pod], threshold: usize) -> Vec<&Pod> {
    if threshold == 0 {
        return Vec::new();
    }
    let mut done: Vec<&Pod> = pods
        .iter()
        .filter(|p| is_terminated(p) && p.metadata.deletion_timestamp.is_none())
        .collect();
    if done.len() <= threshold {
        return Vec::new();
    }
    done.sort_by_key(|p| {
        (
            p.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_second())
                .unwrap_or_default(),
            p.name_any(),
        )
    });
    let excess = done.len() - threshold;
    done.truncate(excess);
    done
}

async fn collect(
    client: &Client,
    config: &Config,
    missing_since: &mut HashMap<String, Instant>,
) -> Result<(), kube::Error> {
    let pods = Api::<Pod>::all(client.clone())
        .list(&ListParams::default())
        .await?
        .items;
    let nodes_api: Api<Node> = Api::all(client.clone());
    let nodes: HashMap<String, Node> = nodes_api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .map(|n| (n.name_any(), n))
        .collect();

    for pod in terminated_over_threshold(&pods, config.terminated_threshold) {
        force_delete(client, pod, None).await?;
    }

    let now = Instant::now();
    let mut still_missing = HashMap::new();
    for pod in &pods {
        let node_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty());
        let terminating = pod.metadata.deletion_timestamp.is_some();
        match node_name {
            None if terminating => force_delete(client, pod, None).await?,
            None => {}
            Some(node) => match nodes.get(&node) {
                None => {
                    let since = *missing_since.get(&node).unwrap_or(&now);
                    still_missing.insert(node.clone(), since);
                    if now.duration_since(since) >= config.quarantine
                        && nodes_api.get_opt(&node).await?.is_none()
                    {
                        let why = ("DeletionByPodGC", "PodGC: node no longer exists");
                        force_delete(client, pod, Some(why)).await?;
                    }
                }
                Some(n) if terminating && out_of_service(n) => {
                    let why = ("DeletionByPodGC", "PodGC: node is out of service");
                    force_delete(client, pod, Some(why)).await?;
                }
                Some(_) => {}
            },
        }
    }
    *missing_since = still_missing;
    Ok(())
}

/// A node an operator declared shut down: out-of-service taint and not Ready.
fn out_of_service(node: &Node) -> bool {
    let tainted = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|ts| ts.iter().any(|t| t.key == taints::OUT_OF_SERVICE));
    tainted && nodelifecycle_state::ready_status(node) != Some("True")
}

/// Delete with grace period 0. With `why`, first mark the pod Failed with a
/// `DisruptionTarget` condition so its controllers see why it went.
async fn force_delete(
    client: &Client,
    pod: &Pod,
    why: Option<(&str, &str)>,
) -> Result<(), kube::Error> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace().unwrap_or_default());
    let name = pod.name_any();
    if let Some((reason, message)) = why {
        if !is_terminated(pod) {
            let mut conditions = pod
                .status
                .as_ref()
                .and_then(|s| s.conditions.clone())
                .unwrap_or_default();
            conditions.retain(|c| c.type_ != "DisruptionTarget");
            conditions.push(PodCondition {
                type_: "DisruptionTarget".into(),
                status: "True".into(),
                reason: Some(reason.into()),
                message: Some(message.into()),
                last_transition_time: Some(Time(k8s_openapi::jiff::Timestamp::now())),
                ..Default::default()
            });
            let patch = json!({"status": {"phase": "Failed", "conditions": conditions}});
            if let Err(e) = api
                .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                tracing::debug!(pod = %name, error = %e, "podgc: could not mark pod failed");
            }
        }
    }
    match api
        .delete(&name, &DeleteParams::default().grace_period(0))
        .await
    {
        Ok(_) => {
            tracing::info!(pod = %key(pod), "podgc: deleted pod");
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use std::collections::HashSet;

    fn names(pods: &[&Pod]) -> HashSet<String> {
        pods.iter().map(|p| p.name_any()).collect()
    }

    fn pod(name: &str, phase: &str, created: i64) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                creation_timestamp: Some(Time(
                    k8s_openapi::jiff::Timestamp::from_second(created).unwrap_or_default(),
                )),
                ..Default::default()
            },
            spec: None,
            status: Some(PodStatus {
                phase: Some(phase.into()),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn oldest_terminated_pods_above_threshold_go() {
        let pods = vec![
            pod("old-done", "Succeeded", 100),
            pod("running", "Running", 50),
            pod("mid-failed", "Failed", 200),
            pod("new-done", "Succeeded", 300),
        ];
        assert_eq!(
            names(&terminated_over_threshold(&pods, 1)),
            ["old-done".to_string(), "mid-failed".to_string()].into()
        );
        assert!(terminated_over_threshold(&pods, 3).is_empty());
        assert!(terminated_over_threshold(&pods, 0).is_empty());
    }
}
