//! The pod a command attaches to (`exec`, `attach`, `cp`): `POD` or `TYPE/NAME`, where a
//! workload or Service stands for one of its pods (upstream's AttachablePodForObject), and
//! the container inside it (upstream's FindOrDefaultContainerByName).

use std::time::Duration;

use chrono::DateTime;
use serde_json::Value;
use tokio::time::Instant;

use super::describe::format::selector_string;
use crate::client::ApiClient;
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::watch;

/// Annotation naming the container commands default to.
const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// The pod named by `target` in `ns`. For `TYPE/NAME` other than pods, waits up to
/// `timeout` for the object's selector to match a pod.
pub async fn pod_for(
    client: &ApiClient,
    ns: &str,
    target: &str,
    timeout: Duration,
) -> Result<Value> {
    let Some((kind, name)) = target.split_once('/') else {
        return client
            .get(&format!("/api/v1/namespaces/{ns}/pods/{target}"))
            .await;
    };
    let mut disc = Discovery::load(client).await?;
    let res = disc.resolve(client, kind).await?;
    let obj = client.get(&res.object_path(Some(ns), name)).await?;
    if res.kind == "Pod" {
        return Ok(obj);
    }
    let selector = pod_selector(&obj).ok_or_else(|| {
        KubectlError::usage(format!(
            "cannot attach to {}: selector for {} not implemented",
            res.kind_prefix().trim_end_matches('/'),
            obj["kind"].as_str().unwrap_or(&res.kind)
        ))
    })?;
    let deadline = Instant::now() + timeout;
    let pod = watch::first_pod(client, ns, &selector, deadline, most_active).await?;
    // Upstream's GetFirstPod gives up with the wait package's bare timeout error.
    pod.ok_or_else(|| KubectlError::usage("timed out waiting for the condition"))
}

/// The label selector (as a string) of the pods an object stands for.
fn pod_selector(obj: &Value) -> Option<String> {
    let sel = &obj["spec"]["selector"];
    let text = match obj["kind"].as_str()? {
        // Plain maps.
        "Service" | "ReplicationController" => {
            let map = sel.as_object()?;
            selector_string(&serde_json::json!({ "matchLabels": map }))
        }
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => selector_string(sel),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// The pod upstream's `GetFirstPod` picks: the most active one (assigned, running, ready,
/// ready longest, fewest restarts, oldest), name as the last tie-break.
fn most_active(pods: Vec<Value>) -> Option<Value> {
    pods.into_iter()
        .min_by(|a, b| activity_key(a).cmp(&activity_key(b)))
}

/// Smaller is more active.
fn activity_key(pod: &Value) -> (u8, u8, u8, i64, i64, i64, String) {
    let assigned = u8::from(pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty());
    let phase = match pod["status"]["phase"].as_str() {
        Some("Running") => 0,
        Some("Unknown") => 1,
        Some("Pending") => 2,
        _ => 3,
    };
    let ready_since = ready_since(pod);
    let ready = u8::from(ready_since.is_none());
    let restarts: i64 = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["restartCount"].as_i64())
        .max()
        .unwrap_or(0);
    let created = timestamp(&pod["metadata"]["creationTimestamp"]);
    (
        assigned,
        phase,
        ready,
        ready_since.unwrap_or(0),
        restarts,
        created,
        pod["metadata"]["name"].as_str().unwrap_or("").to_string(),
    )
}

/// When the pod's Ready condition turned true, if it is true.
fn ready_since(pod: &Value) -> Option<i64> {
    pod["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready" && c["status"] == "True")
        .map(|c| timestamp(&c["lastTransitionTime"]))
}

fn timestamp(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.timestamp())
        .unwrap_or(i64::MAX)
}

/// The container to use: `requested` when given (it must exist), else the default-container
/// annotation's, else the first, telling the user which when there was a choice.
pub fn container_for(pod: &Value, requested: Option<&str>, quiet: bool) -> Result<String> {
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or("");
    let names = |key: &str| -> Vec<String> {
        pod["spec"][key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(String::from))
            .collect()
    };
    let (regular, init, ephemeral) = (
        names("containers"),
        names("initContainers"),
        names("ephemeralContainers"),
    );
    let exists = |n: &str| {
        regular
            .iter()
            .chain(&init)
            .chain(&ephemeral)
            .any(|c| c == n)
    };
    if let Some(name) = requested.filter(|n| !n.is_empty()) {
        if !exists(name) {
            return Err(KubectlError::usage(format!(
                "container {name} not found in pod {pod_name}"
            )));
        }
        return Ok(name.to_string());
    }
    let Some(first) = regular.first() else {
        return Err(KubectlError::usage(format!(
            "pod {}/{pod_name} does not have any containers",
            pod["metadata"]["namespace"].as_str().unwrap_or("")
        )));
    };
    if let Some(annotated) = pod["metadata"]["annotations"][DEFAULT_CONTAINER_ANNOTATION]
        .as_str()
        .filter(|n| exists(n))
    {
        return Ok(annotated.to_string());
    }
    if !quiet && (regular.len() > 1 || !init.is_empty() || !ephemeral.is_empty()) {
        let all: Vec<String> = regular
            .iter()
            .cloned()
            .chain(ephemeral.iter().map(|n| format!("{n} (ephem)")))
            .chain(init.iter().map(|n| format!("{n} (init)")))
            .collect();
        eprintln!("Defaulted container \"{first}\" out of: {}", all.join(", "));
    }
    Ok(first.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, phase: &str, ready_at: Option<&str>, node: &str) -> Value {
        let conditions = match ready_at {
            Some(t) => json!([{"type": "Ready", "status": "True", "lastTransitionTime": t}]),
            None => json!([]),
        };
        json!({
            "metadata": {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"nodeName": node, "containers": [{"name": "c"}]},
            "status": {"phase": phase, "conditions": conditions}
        })
    }

    #[test]
    fn the_running_ready_pod_is_chosen_over_pending_and_unready_ones() {
        let pods = vec![
            pod("a-pending", "Pending", None, ""),
            pod("b-unready", "Running", None, "n1"),
            pod(
                "c-ready-late",
                "Running",
                Some("2026-01-01T00:05:00Z"),
                "n1",
            ),
            pod(
                "d-ready-early",
                "Running",
                Some("2026-01-01T00:01:00Z"),
                "n1",
            ),
        ];
        let chosen = most_active(pods).unwrap();
        assert_eq!(chosen["metadata"]["name"], "d-ready-early");
        assert!(most_active(Vec::new()).is_none());
    }

    #[test]
    fn selectors_of_workloads_and_services() {
        let deploy = json!({"kind": "Deployment", "spec": {"selector": {"matchLabels": {"app": "web", "tier": "a"}}}});
        assert_eq!(pod_selector(&deploy).as_deref(), Some("app=web,tier=a"));
        let svc = json!({"kind": "Service", "spec": {"selector": {"app": "web"}}});
        assert_eq!(pod_selector(&svc).as_deref(), Some("app=web"));
        let headless = json!({"kind": "Service", "spec": {}});
        assert_eq!(pod_selector(&headless), None);
        let cm = json!({"kind": "ConfigMap"});
        assert_eq!(pod_selector(&cm), None);
    }

    #[test]
    fn containers_default_by_annotation_then_first() {
        let mut p = json!({
            "metadata": {"name": "p", "namespace": "ns", "annotations": {}},
            "spec": {"containers": [{"name": "app"}, {"name": "side"}], "initContainers": [{"name": "init"}]}
        });
        assert_eq!(container_for(&p, None, true).unwrap(), "app");
        assert_eq!(container_for(&p, Some("init"), true).unwrap(), "init");
        let err = container_for(&p, Some("nope"), true).unwrap_err();
        assert_eq!(err.to_string(), "error: container nope not found in pod p");
        p["metadata"]["annotations"][DEFAULT_CONTAINER_ANNOTATION] = json!("side");
        assert_eq!(container_for(&p, None, true).unwrap(), "side");
        p["metadata"]["annotations"][DEFAULT_CONTAINER_ANNOTATION] = json!("gone");
        assert_eq!(container_for(&p, None, true).unwrap(), "app");
    }
}
