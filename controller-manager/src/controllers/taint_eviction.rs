//! The taint eviction controller (upstream's taint-eviction-controller): a pod on a node
//! with a NoExecute taint it does not tolerate is deleted at once; one that tolerates all
//! of them with `tolerationSeconds` is deleted when the shortest of those runs out
//! (counted from when we first saw it due); tolerations without a limit keep it forever.
//! Before deleting, the pod gets the `DisruptionTarget` condition, as upstream.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod, Taint, Toleration};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

use super::informer;
use super::taints::{self, NO_EXECUTE};

/// How often pods are checked against their node's taints.
const CHECK_PERIOD: Duration = Duration::from_millis(500);

/// When a pod must go, given its node's NoExecute taints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Tolerates every NoExecute taint without limit (or there are none).
    Stay,
    /// Some NoExecute taint is not tolerated.
    EvictNow,
    /// Tolerated for this long.
    EvictAfter(Duration),
}

/// Judge one pod (upstream's `getMinTolerationTime` over the tolerations used).
pub fn verdict(taints: &[Taint], tolerations: &[Toleration]) -> Verdict {
    let no_execute: Vec<&Taint> = taints.iter().filter(|t| t.effect == NO_EXECUTE).collect();
    if no_execute.is_empty() {
        return Verdict::Stay;
    }
    let mut min: Option<i64> = None;
    for taint in no_execute {
        let used: Vec<&Toleration> = tolerations
            .iter()
            .filter(|t| taints::tolerates(t, taint))
            .collect();
        if used.is_empty() {
            return Verdict::EvictNow;
        }
        for t in used {
            if let Some(secs) = t.toleration_seconds {
                min = Some(min.map_or(secs, |m: i64| m.min(secs)));
            }
        }
    }
    match min {
        None => Verdict::Stay,
        Some(s) if s <= 0 => Verdict::EvictNow,
        Some(s) => Verdict::EvictAfter(Duration::from_secs(s as u64)),
    }
}

/// Run forever.
pub async fn run(client: Client) {
    let nodes = informer::store(Api::<Node>::all(client.clone()), watcher::Config::default()).await;
    let pods = informer::store(Api::<Pod>::all(client.clone()), watcher::Config::default()).await;
    // Pod uid -> when we first saw it due for eviction.
    let mut due: HashMap<String, Instant> = HashMap::new();
    loop {
        check(&client, &nodes, &pods, &mut due).await;
        tokio::time::sleep(CHECK_PERIOD).await;
    }
}

async fn check(
    client: &Client,
    nodes: &Store<Node>,
    pods: &Store<Pod>,
    due: &mut HashMap<String, Instant>,
) {
    let now = Instant::now();
    let node_taints: HashMap<String, Vec<Taint>> = nodes
        .state()
        .iter()
        .filter_map(|n| {
            let t = n.spec.as_ref()?.taints.clone()?;
            t.iter()
                .any(|t| t.effect == NO_EXECUTE)
                .then(|| (n.name_any(), t))
        })
        .collect();
    let mut still_due = HashMap::new();
    for pod in pods.state() {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.as_ref()) else {
            continue;
        };
        let Some(taints) = node_taints.get(node) else {
            continue;
        };
        let tolerations = pod
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.clone())
            .unwrap_or_default();
        let uid = pod.uid().unwrap_or_default();
        let fire = match verdict(taints, &tolerations) {
            Verdict::Stay => false,
            Verdict::EvictNow => true,
            Verdict::EvictAfter(d) => {
                let since = *due.get(&uid).unwrap_or(&now);
                still_due.insert(uid.clone(), since);
                now.duration_since(since) >= d
            }
        };
        if fire {
            evict(client, &pod, node).await;
            still_due.remove(&uid);
        }
    }
    *due = still_due;
}

async fn evict(client: &Client, pod: &Pod, node: &str) {
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace().unwrap_or_default());
    let name = pod.name_any();
    let mut conditions = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    conditions.retain(|c| c.type_ != "DisruptionTarget");
    conditions.push(k8s_openapi::api::core::v1::PodCondition {
        type_: "DisruptionTarget".into(),
        status: "True".into(),
        reason: Some("DeletionByTaintManager".into()),
        message: Some("Taint manager: deleting due to NoExecute taint".into()),
        last_transition_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::now(),
        )),
        ..Default::default()
    });
    let patch = json!({"status": {"conditions": conditions}});
    if let Err(e) = api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        tracing::debug!(pod = %name, error = %e, "could not set DisruptionTarget");
    }
    match api.delete(&name, &Default::default()).await {
        Ok(_) => tracing::info!(pod = %name, node, "evicted pod from NoExecute-tainted node"),
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => tracing::warn!(pod = %name, error = %e, "eviction failed; retrying"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tol(key: &str, seconds: Option<i64>) -> Toleration {
        Toleration {
            toleration_seconds: seconds,
            ..taints::exists_toleration(key, NO_EXECUTE)
        }
    }

    #[test]
    fn verdicts_follow_tolerations() {
        let unreachable = [taints::taint(taints::UNREACHABLE, NO_EXECUTE)];
        assert_eq!(verdict(&unreachable, &[]), Verdict::EvictNow);
        assert_eq!(
            verdict(&unreachable, &[tol(taints::UNREACHABLE, None)]),
            Verdict::Stay
        );
        assert_eq!(
            verdict(
                &unreachable,
                &[tol(taints::UNREACHABLE, Some(300)), tol("", Some(30))]
            ),
            Verdict::EvictAfter(Duration::from_secs(30))
        );
        // NoSchedule taints never evict.
        assert_eq!(
            verdict(&[taints::taint("x", taints::NO_SCHEDULE)], &[]),
            Verdict::Stay
        );
        // Two taints: tolerating one is not enough.
        let both = [
            taints::taint(taints::UNREACHABLE, NO_EXECUTE),
            taints::taint("other", NO_EXECUTE),
        ];
        assert_eq!(
            verdict(&both, &[tol(taints::UNREACHABLE, Some(10))]),
            Verdict::EvictNow
        );
    }
}
