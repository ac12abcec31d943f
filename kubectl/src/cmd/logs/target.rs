//! What `kubectl logs` reads from: the pods a selector matches, one pod, or a workload or
//! Service standing for its pods (upstream's `logsForObject` with `GetFirstPod` /
//! `GetPodList`, which wait up to `--pod-running-timeout` for a first pod to exist).

use std::time::Duration;

use chrono::DateTime;
use serde_json::Value;
use tokio::time::Instant;

use super::super::describe::format::selector_string;
use crate::client::{q, ApiClient};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::resource::ApiResource;
use crate::watch;

/// What the command line named, as read from the server.
pub enum Target {
    /// The pods `-l` matched, in the server's order (maybe none).
    Selected(Vec<Value>),
    /// One pod.
    Pod(Value),
    /// Any other object: its pods are looked up by [`pods_of`].
    Object {
        /// The object.
        object: Value,
        /// Its resource.
        resource: ApiResource,
    },
}

/// Reads the pods of `selector`, or the object `name` (`POD` or `TYPE/NAME`) in `ns`.
pub async fn read(
    client: &ApiClient,
    ns: &str,
    name: Option<&str>,
    selector: Option<&str>,
) -> Result<Target> {
    let Some(name) = name else {
        let selector = selector.unwrap_or_default();
        let list = client
            .get(&format!(
                "/api/v1/namespaces/{ns}/pods?labelSelector={}",
                q(selector)
            ))
            .await
            .map_err(|e| with_list_context(e, selector))?;
        let items = list["items"].as_array().cloned().unwrap_or_default();
        return Ok(Target::Selected(items));
    };
    let found = match split_type_name(name)? {
        None => client
            .get(&format!("/api/v1/namespaces/{ns}/pods/{name}"))
            .await
            .map(Target::Pod),
        Some((kind, object_name)) => {
            let mut disc = Discovery::load(client).await?;
            let resource = disc.resolve(client, kind).await?;
            let ns_param = resource.namespaced.then_some(ns);
            let object = client
                .get(&resource.object_path(ns_param, object_name))
                .await;
            object.and_then(|object| {
                if !crate::resource::CLIENT_GO_SCHEME_GROUPS.contains(&resource.group.as_str()) {
                    // Upstream decodes into its compiled-in types and fails on others.
                    return Err(KubectlError::usage(format!(
                        "no kind {:?} is registered for version {:?} in scheme \"pkg/scheme/scheme.go:28\"",
                        resource.kind,
                        resource.api_version()
                    )));
                }
                Ok(if resource.kind == "Pod" && resource.group.is_empty() {
                    Target::Pod(object)
                } else {
                    Target::Object { object, resource }
                })
            })
        }
    };
    // Upstream words a missing object its own way, naming the namespace.
    found.map_err(|e| match e {
        KubectlError::Server {
            code: 404, message, ..
        } => KubectlError::Usage(format!(
            "error from server (NotFound): {message} in namespace \"{ns}\""
        )),
        other => other,
    })
}

/// Upstream's resource builder says which list failed when the server refuses a selector
/// (BadRequest) or the list (NotFound), keeping the server's reason.
fn with_list_context(e: KubectlError, selector: &str) -> KubectlError {
    match e {
        KubectlError::Server {
            reason,
            message,
            code: code @ (400 | 404),
            context,
            details,
        } => KubectlError::Server {
            details,
            reason,
            message: format!(
                "Unable to find \"/v1, Resource=pods\" that match label selector {selector:?}, field selector \"\": {message}"
            ),
            code,
            context,
        },
        other => other,
    }
}

/// `TYPE/NAME` as its type and name, None for a bare pod name; upstream's resource
/// builder refuses other uses of `/`.
pub fn split_type_name(arg: &str) -> Result<Option<(&str, &str)>> {
    let Some((kind, name)) = arg.split_once('/') else {
        return Ok(None);
    };
    if name.contains('/') {
        return Err(KubectlError::usage(
            "arguments in resource/name form may not have more than one slash",
        ));
    }
    if kind.is_empty() || name.is_empty() {
        return Err(KubectlError::usage(
            "arguments in resource/name form must have a single resource and name",
        ));
    }
    Ok(Some((kind, name)))
}

/// The pods behind a workload or Service, best for logging first: all of them with
/// `all_pods`, else the first (with upstream's note on stderr when there were more).
/// Waits up to `timeout` for a first pod to exist.
pub async fn pods_of(
    client: &ApiClient,
    object: &Value,
    resource: &ApiResource,
    timeout: Duration,
    all_pods: bool,
) -> Result<(Vec<Value>, Option<String>)> {
    let selector = pod_selector(object, resource).map_err(|why| {
        let go_type = go_type_name(resource);
        KubectlError::usage(format!("cannot get the logs from {go_type}: {why}"))
    })?;
    let ns = object["metadata"]["namespace"].as_str().unwrap_or("");
    let deadline = Instant::now() + timeout;
    // A listed set comes back whole (as an array) so that all of it can be read; a pod
    // seen by the watch that follows an empty list comes back alone.
    let found = watch::first_pod(client, ns, &selector, deadline, |mut pods| {
        sort_for_logging(&mut pods);
        (!pods.is_empty()).then_some(Value::Array(pods))
    })
    .await?;
    let pods = match found {
        Some(Value::Array(pods)) => pods,
        Some(pod) => vec![pod],
        // The wait package's bare timeout error, as upstream prints it.
        None => return Err(KubectlError::usage("timed out waiting for the condition")),
    };
    if all_pods || pods.len() < 2 {
        return Ok((pods, None));
    }
    let count = pods.len();
    let mut pods = pods;
    pods.truncate(1);
    let first = pods[0]["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    Ok((pods, Some(format!("Found {count} pods, using pod/{first}"))))
}

/// The label selector of the pods `object` stands for (upstream's `SelectorsForObject`),
/// or why there is none.
fn pod_selector(object: &Value, resource: &ApiResource) -> std::result::Result<String, String> {
    let spec_selector = &object["spec"]["selector"];
    match (resource.group.as_str(), resource.kind.as_str()) {
        ("apps" | "extensions", "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Deployment")
        | ("batch", "Job") => Ok(selector_string(spec_selector)),
        ("", "ReplicationController") => Ok(set_selector(spec_selector)),
        ("", "Service") => {
            if spec_selector.as_object().is_none_or(|m| m.is_empty()) {
                let name = object["metadata"]["name"].as_str().unwrap_or("");
                return Err(format!(
                    "invalid service '{name}': Service is defined without a selector"
                ));
            }
            Ok(set_selector(spec_selector))
        }
        _ => Err(format!(
            "selector for {} not implemented",
            go_type_name(resource)
        )),
    }
}

/// A plain label map as a selector (`labels.SelectorFromSet`).
fn set_selector(map: &Value) -> String {
    selector_string(&serde_json::json!({ "matchLabels": map }))
}

/// The Go type upstream holds an object of `resource` as (`*v1.ConfigMap`), which its
/// messages name.
fn go_type_name(resource: &ApiResource) -> String {
    format!("*{}.{}", resource.version, resource.kind)
}

/// Orders pods as upstream's `podutils.ByLogging`: the best to read logs from first.
/// The sort is stable, so ties keep the server's order.
pub fn sort_for_logging(pods: &mut [Value]) {
    pods.sort_by_key(logging_rank);
}

/// Smaller ranks first: scheduled, running (or finished) before unknown before pending,
/// ready, ready for longer, more restarts, older.
fn logging_rank(pod: &Value) -> (u8, u8, u8, (bool, i64), i64, (bool, i64)) {
    let unscheduled = u8::from(pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty());
    // Upstream's table has no entry for Succeeded and Failed: they rank as Running.
    let phase = match pod["status"]["phase"].as_str() {
        Some("Unknown") => 1,
        Some("Pending") => 2,
        _ => 0,
    };
    let ready_at = pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready" && c["status"] == "True")
        .map(|c| time_rank(&c["lastTransitionTime"]));
    let restarts = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["restartCount"].as_i64())
        .max()
        .unwrap_or(0)
        .max(0);
    (
        unscheduled,
        phase,
        u8::from(ready_at.is_none()),
        ready_at.unwrap_or((false, 0)),
        -restarts,
        time_rank(&pod["metadata"]["creationTimestamp"]),
    )
}

/// Earlier first, a missing time last.
fn time_rank(v: &Value) -> (bool, i64) {
    match v
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    {
        Some(t) => (false, t.timestamp()),
        None => (true, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, node: &str, phase: &str, ready_at: Option<&str>, restarts: i64) -> Value {
        let conditions = match ready_at {
            Some(t) => json!([{"type": "Ready", "status": "True", "lastTransitionTime": t}]),
            None => json!([{"type": "Ready", "status": "False"}]),
        };
        json!({
            "metadata": {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"nodeName": node},
            "status": {"phase": phase, "conditions": conditions,
                       "containerStatuses": [{"restartCount": restarts}]}
        })
    }

    fn names(pods: &[Value]) -> Vec<&str> {
        pods.iter()
            .filter_map(|p| p["metadata"]["name"].as_str())
            .collect()
    }

    #[test]
    fn pods_are_ranked_as_upstream_ranks_them_for_logs() {
        let mut pods = vec![
            pod("unscheduled", "", "Pending", None, 0),
            pod("pending", "n", "Pending", None, 0),
            pod("unknown", "n", "Unknown", None, 0),
            pod("running-unready", "n", "Running", None, 0),
            pod(
                "ready-late",
                "n",
                "Running",
                Some("2026-01-01T00:05:00Z"),
                0,
            ),
            pod(
                "ready-early",
                "n",
                "Running",
                Some("2026-01-01T00:01:00Z"),
                0,
            ),
        ];
        sort_for_logging(&mut pods);
        assert_eq!(
            names(&pods),
            [
                "ready-early",
                "ready-late",
                "running-unready",
                "unknown",
                "pending",
                "unscheduled"
            ]
        );
    }

    #[test]
    fn finished_pods_rank_with_running_ones_and_restarts_come_first() {
        let mut pods = vec![
            pod("a-calm", "n", "Running", None, 0),
            pod("b-done", "n", "Succeeded", None, 0),
            pod("c-restarted", "n", "Running", None, 3),
        ];
        sort_for_logging(&mut pods);
        assert_eq!(names(&pods), ["c-restarted", "a-calm", "b-done"]);
    }

    #[test]
    fn type_and_name_as_the_resource_builder_splits_them() {
        assert_eq!(split_type_name("web").unwrap(), None);
        assert_eq!(
            split_type_name("deploy/web").unwrap(),
            Some(("deploy", "web"))
        );
        for bad in ["deploy/", "/web"] {
            assert_eq!(
                split_type_name(bad).unwrap_err().to_string(),
                "error: arguments in resource/name form must have a single resource and name"
            );
        }
        assert_eq!(
            split_type_name("a/b/c").unwrap_err().to_string(),
            "error: arguments in resource/name form may not have more than one slash"
        );
    }

    #[test]
    fn a_refused_selector_names_the_list_as_upstreams_builder_does() {
        let refused = KubectlError::Server {
            details: None,
            reason: "BadRequest".into(),
            message: "unable to parse requirement: invalid label key \"a b\"".into(),
            code: 400,
            context: None,
        };
        assert_eq!(
            with_list_context(refused, "a b").to_string(),
            "Error from server (BadRequest): Unable to find \"/v1, Resource=pods\" that match \
             label selector \"a b\", field selector \"\": unable to parse requirement: invalid \
             label key \"a b\""
        );
    }

    fn deployment() -> (Value, ApiResource) {
        let object = json!({
            "metadata": {"name": "web", "namespace": "ns"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}}
        });
        (object, res("apps", "v1", "Deployment"))
    }

    /// Two pods of app=web, the second ready (so best for logs); none of app=idle.
    fn pods(uri: &str) -> (u16, String) {
        if uri.contains("watch=true") {
            return (200, String::new());
        }
        if uri.contains("app%3Didle") {
            let empty = json!({"metadata": {"resourceVersion": "5"}, "items": []});
            return (200, empty.to_string());
        }
        let list = json!({"metadata": {"resourceVersion": "5"}, "items": [
            pod("web-a", "n", "Running", None, 0),
            pod("web-b", "n", "Running", Some("2026-01-01T00:01:00Z"), 0),
        ]});
        (200, list.to_string())
    }

    #[tokio::test]
    async fn a_workload_reads_its_best_pod_and_says_how_many_there_were() {
        let (client, asked) = super::super::consume::tests::fake_server(pods).await;
        let (object, resource) = deployment();
        let timeout = Duration::from_secs(5);
        let (first, notice) = pods_of(&client, &object, &resource, timeout, false)
            .await
            .unwrap();
        assert_eq!(names(&first), ["web-b"]);
        assert_eq!(notice.as_deref(), Some("Found 2 pods, using pod/web-b"));
        assert_eq!(
            asked.lock().unwrap()[0],
            "/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb"
        );
        let (all, notice) = pods_of(&client, &object, &resource, timeout, true)
            .await
            .unwrap();
        assert_eq!(names(&all), ["web-b", "web-a"]);
        assert_eq!(notice, None);
    }

    #[tokio::test]
    async fn a_workload_without_pods_times_out_as_upstream() {
        let (client, _) = super::super::consume::tests::fake_server(pods).await;
        let (mut object, resource) = deployment();
        object["spec"]["selector"]["matchLabels"]["app"] = json!("idle");
        let timeout = Duration::from_millis(300);
        let err = pods_of(&client, &object, &resource, timeout, false)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "error: timed out waiting for the condition"
        );
        let cm = (
            json!({"metadata": {"name": "c"}}),
            res("", "v1", "ConfigMap"),
        );
        let err = pods_of(&client, &cm.0, &cm.1, timeout, false)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "error: cannot get the logs from *v1.ConfigMap: selector for *v1.ConfigMap not implemented"
        );
    }

    fn res(group: &str, version: &str, kind: &str) -> ApiResource {
        ApiResource {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: String::new(),
            singular: String::new(),
            short_names: Vec::new(),
            namespaced: true,
            verbs: Vec::new(),
            categories: Vec::new(),
            preferred: true,
        }
    }

    #[test]
    fn selectors_of_workloads_and_services_and_upstreams_refusals() {
        let deploy = json!({"spec": {"selector": {"matchLabels": {"app": "web"}}}});
        assert_eq!(
            pod_selector(&deploy, &res("apps", "v1", "Deployment")).as_deref(),
            Ok("app=web")
        );
        let rc = json!({"spec": {"selector": {"b": "2", "a": "1"}}});
        assert_eq!(
            pod_selector(&rc, &res("", "v1", "ReplicationController")).as_deref(),
            Ok("a=1,b=2")
        );
        let headless = json!({"metadata": {"name": "h"}, "spec": {}});
        assert_eq!(
            pod_selector(&headless, &res("", "v1", "Service")),
            Err("invalid service 'h': Service is defined without a selector".to_string())
        );
        assert_eq!(
            pod_selector(&json!({}), &res("", "v1", "ConfigMap")),
            Err("selector for *v1.ConfigMap not implemented".to_string())
        );
        assert_eq!(
            go_type_name(&res("autoscaling", "v2", "HorizontalPodAutoscaler")),
            "*v2.HorizontalPodAutoscaler"
        );
    }
}
