//! The `metrics.k8s.io/v1beta1` API: discovery, NodeMetrics and PodMetrics (get and list,
//! label and field selectors, all namespaces or one), errors as `Status` objects.
//!
//! Objects only exist for nodes and pods the API still has: each request lists them (with the
//! caller's selectors, so selector semantics are the apiserver's) and joins the list with the
//! stored usage.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::ListParams;
use kube::Api;
use serde_json::{json, Value};

use crate::quantity;
use crate::storage::{Storage, Usage};

/// The served group.
pub const GROUP: &str = "metrics.k8s.io";
/// The served version.
pub const VERSION: &str = "v1beta1";
const GROUP_VERSION: &str = "metrics.k8s.io/v1beta1";

/// A response: HTTP status and JSON body.
pub type Reply = (u16, Value);

/// What a path under the API asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/apis`.
    GroupList,
    /// `/apis/metrics.k8s.io`.
    Group,
    /// `/apis/metrics.k8s.io/v1beta1`.
    ResourceList,
    /// `nodes` or `nodes/<name>`.
    Nodes(Option<String>),
    /// `pods`, `namespaces/<ns>/pods` or `namespaces/<ns>/pods/<name>`.
    Pods {
        /// The namespace, `None` for all.
        namespace: Option<String>,
        /// The pod, for get.
        name: Option<String>,
    },
}

/// Parse a request path; `None` for paths outside the API.
pub fn route(path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match segs.as_slice() {
        ["apis"] => return Some(Route::GroupList),
        ["apis", GROUP] => return Some(Route::Group),
        ["apis", GROUP, VERSION] => return Some(Route::ResourceList),
        ["apis", GROUP, VERSION, rest @ ..] => rest,
        _ => return None,
    };
    let s = |x: &&str| Some(x.to_string());
    match rest {
        ["nodes"] => Some(Route::Nodes(None)),
        ["nodes", name] => Some(Route::Nodes(s(name))),
        ["pods"] => Some(Route::Pods {
            namespace: None,
            name: None,
        }),
        ["namespaces", ns, "pods"] => Some(Route::Pods {
            namespace: s(ns),
            name: None,
        }),
        ["namespaces", ns, "pods", name] => Some(Route::Pods {
            namespace: s(ns),
            name: s(name),
        }),
        _ => None,
    }
}

fn status(code: u16, reason: &str, message: String) -> Reply {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code}),
    )
}

/// A 404 for a missing object, worded as upstream.
pub fn not_found(resource: &str, name: &str) -> Reply {
    status(
        404,
        "NotFound",
        format!("{resource}.{GROUP} \"{name}\" not found"),
    )
}

/// The discovery documents.
pub fn discovery(route: &Route) -> Option<Value> {
    let gv = json!({"groupVersion": GROUP_VERSION, "version": VERSION});
    let group = json!({"name": GROUP, "versions": [gv], "preferredVersion": gv});
    match route {
        Route::GroupList => {
            Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]}))
        }
        Route::Group => {
            let mut g = group;
            g["kind"] = json!("APIGroup");
            g["apiVersion"] = json!("v1");
            Some(g)
        }
        Route::ResourceList => Some(json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": GROUP_VERSION,
            "resources": [
                {"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": ["get", "list"]},
                {"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": ["get", "list"]},
            ],
        })),
        _ => None,
    }
}

/// A window as Go's `time.Duration` prints it (`15s`, `14.998s`, `1m0.5s`).
pub fn go_duration(ms: i64) -> String {
    let (minutes, ms) = (ms / 60_000, ms % 60_000);
    let secs = if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        let s = format!("{}.{:03}", ms / 1000, ms % 1000);
        format!("{}s", s.trim_end_matches('0'))
    };
    if minutes > 0 {
        format!("{minutes}m{secs}")
    } else {
        secs
    }
}

fn timestamp(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn usage_value(u: &Usage) -> Value {
    json!({"cpu": quantity::cpu(u.cpu_nanocores), "memory": quantity::memory(u.memory_bytes)})
}

/// One NodeMetrics object.
pub fn node_metrics(name: &str, labels: &BTreeMap<String, String>, u: &Usage) -> Value {
    json!({
        "kind": "NodeMetrics",
        "apiVersion": GROUP_VERSION,
        "metadata": {"name": name, "labels": labels, "creationTimestamp": timestamp(Utc::now().timestamp_millis())},
        "timestamp": timestamp(u.timestamp_ms),
        "window": go_duration(u.window_ms),
        "usage": usage_value(u),
    })
}

/// One PodMetrics object; the pod's timestamp and window are its first container's.
pub fn pod_metrics(
    namespace: &str,
    name: &str,
    labels: &BTreeMap<String, String>,
    containers: &BTreeMap<String, Usage>,
) -> Value {
    let first = containers.values().next();
    json!({
        "kind": "PodMetrics",
        "apiVersion": GROUP_VERSION,
        "metadata": {"name": name, "namespace": namespace, "labels": labels,
                     "creationTimestamp": timestamp(Utc::now().timestamp_millis())},
        "timestamp": timestamp(first.map(|u| u.timestamp_ms).unwrap_or_else(|| Utc::now().timestamp_millis())),
        "window": go_duration(first.map(|u| u.window_ms).unwrap_or(0)),
        "containers": containers.iter().map(|(c, u)| json!({"name": c, "usage": usage_value(u)})).collect::<Vec<_>>(),
    })
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({"kind": kind, "apiVersion": GROUP_VERSION, "metadata": {}, "items": items})
}

fn list_params(query: &BTreeMap<String, String>) -> ListParams {
    let mut lp = ListParams::default();
    if let Some(l) = query.get("labelSelector").filter(|s| !s.is_empty()) {
        lp = lp.labels(l);
    }
    if let Some(f) = query.get("fieldSelector").filter(|s| !s.is_empty()) {
        lp = lp.fields(f);
    }
    lp
}

fn api_error(e: kube::Error) -> Reply {
    match e {
        kube::Error::Api(s) => {
            let code = s.code;
            (code, serde_json::to_value(&s).unwrap_or_else(|_| json!({})))
        }
        other => status(500, "InternalError", other.to_string()),
    }
}

/// NodeMetrics: one, or all matching the selectors.
pub async fn nodes(
    client: &kube::Client,
    storage: &Storage,
    name: Option<&str>,
    query: &BTreeMap<String, String>,
) -> Reply {
    let api = Api::<Node>::all(client.clone());
    if let Some(name) = name {
        let node = match api.get_opt(name).await {
            Ok(Some(n)) => n,
            Ok(None) => return not_found("nodemetrics", name),
            Err(e) => return api_error(e),
        };
        return match storage.node(name) {
            Some(u) => (
                200,
                node_metrics(name, &node.metadata.labels.unwrap_or_default(), &u),
            ),
            None => not_found("nodemetrics", name),
        };
    }
    let nodes = match api.list(&list_params(query)).await {
        Ok(l) => l.items,
        Err(e) => return api_error(e),
    };
    let usage = storage.nodes();
    let items = nodes
        .iter()
        .filter_map(|n| {
            let name = n.metadata.name.as_deref()?;
            let u = usage.get(name)?;
            Some(node_metrics(
                name,
                n.metadata.labels.as_ref().unwrap_or(&BTreeMap::new()),
                u,
            ))
        })
        .collect();
    (200, list("NodeMetricsList", items))
}

/// PodMetrics: one, or all matching the selectors in a namespace or everywhere.
pub async fn pods(
    client: &kube::Client,
    storage: &Storage,
    namespace: Option<&str>,
    name: Option<&str>,
    query: &BTreeMap<String, String>,
) -> Reply {
    let api = match namespace {
        Some(ns) => Api::<Pod>::namespaced(client.clone(), ns),
        None => Api::<Pod>::all(client.clone()),
    };
    let usage = storage.pods(namespace);
    if let (Some(ns), Some(name)) = (namespace, name) {
        let pod = match api.get_opt(name).await {
            Ok(Some(p)) => p,
            Ok(None) => return not_found("podmetrics", name),
            Err(e) => return api_error(e),
        };
        return match usage.get(&(ns.to_string(), name.to_string())) {
            Some(u) => (
                200,
                pod_metrics(
                    ns,
                    name,
                    &pod.metadata.labels.unwrap_or_default(),
                    &u.containers,
                ),
            ),
            None => not_found("podmetrics", name),
        };
    }
    let pods = match api.list(&list_params(query)).await {
        Ok(l) => l.items,
        Err(e) => return api_error(e),
    };
    let items = pods
        .iter()
        .filter_map(|p| {
            let ns = p.metadata.namespace.as_deref()?;
            let name = p.metadata.name.as_deref()?;
            let u = usage.get(&(ns.to_string(), name.to_string()))?;
            Some(pod_metrics(
                ns,
                name,
                p.metadata.labels.as_ref().unwrap_or(&BTreeMap::new()),
                &u.containers,
            ))
        })
        .collect();
    (200, list("PodMetricsList", items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_follow_the_api_layout() {
        assert_eq!(
            route("/apis/metrics.k8s.io/v1beta1"),
            Some(Route::ResourceList)
        );
        assert_eq!(
            route("/apis/metrics.k8s.io/v1beta1/nodes/n1"),
            Some(Route::Nodes(Some("n1".into())))
        );
        assert_eq!(
            route("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"),
            Some(Route::Pods {
                namespace: Some("default".into()),
                name: None
            })
        );
        assert_eq!(
            route("/apis/metrics.k8s.io/v1beta1/pods"),
            Some(Route::Pods {
                namespace: None,
                name: None
            })
        );
        assert_eq!(route("/apis/apps/v1"), None);
        assert_eq!(route("/apis/metrics.k8s.io/v1beta1/services"), None);
    }

    #[test]
    fn windows_print_like_go_durations() {
        assert_eq!(go_duration(15_000), "15s");
        assert_eq!(go_duration(14_998), "14.998s");
        assert_eq!(go_duration(15_100), "15.1s");
        assert_eq!(go_duration(60_500), "1m0.5s");
    }

    #[test]
    fn pod_metrics_carry_container_usage() {
        let mut c = BTreeMap::new();
        c.insert(
            "busy".to_string(),
            Usage {
                cpu_nanocores: 250_000_000,
                memory_bytes: 4096,
                timestamp_ms: 1_700_000_000_000,
                window_ms: 15_000,
            },
        );
        let v = pod_metrics("default", "burn", &BTreeMap::new(), &c);
        assert_eq!(v["kind"], "PodMetrics");
        assert_eq!(v["containers"][0]["usage"]["cpu"], "250000000n");
        assert_eq!(v["containers"][0]["usage"]["memory"], "4Ki");
        assert_eq!(v["window"], "15s");
        assert_eq!(v["timestamp"], "2023-11-14T22:13:20Z");
    }
}
