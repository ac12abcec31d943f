//! Core (`v1`) resources other than pods, events and volumes: services, endpoints, nodes,
//! namespaces, config maps, secrets, service accounts, resource quotas, pod templates and
//! replication controllers.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::format::{
    age, array_at, bool_at, container_cells, format_labels, int_at, len_at, name, opt_int_at,
    or_none, quantity, s, str_at, NONE, UNKNOWN,
};
use super::{Cells, Column, Printer, AGE, CONTAINERS, IMAGES, NAME, SELECTOR};

/// The printer of a core resource, if it has one here.
pub fn printer(plural: &str) -> Option<Printer> {
    let (columns, cells): (&'static [Column], Cells) = match plural {
        "services" => (SERVICE, service),
        "endpoints" => (ENDPOINTS, endpoints),
        "nodes" => (NODE, node),
        "namespaces" => (NAMESPACE, namespace),
        "configmaps" => (CONFIGMAP, configmap),
        "secrets" => (SECRET, secret),
        "serviceaccounts" => (SERVICEACCOUNT, serviceaccount),
        "resourcequotas" => (RESOURCEQUOTA, resourcequota),
        "podtemplates" => (PODTEMPLATE, podtemplate),
        "replicationcontrollers" => (RC, replicationcontroller),
        _ => return None,
    };
    Some(Printer::new(columns, cells))
}

const SERVICE: &[Column] = &[
    NAME,
    Column::new("Type", "string", "How the Service is exposed."),
    Column::new("Cluster-IP", "string", "The IP address of the service."),
    Column::new(
        "External-IP",
        "string",
        "External addresses of the service.",
    ),
    Column::new("Port(s)", "string", "The ports exposed by this service."),
    AGE,
    Column::new("Selector", "string", "Pods the service routes traffic to.").wide(),
];

fn service(svc: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let cluster_ip = array_at(svc, "/spec/clusterIPs")
        .first()
        .and_then(Value::as_str)
        .unwrap_or_else(|| str_at(svc, "/spec/clusterIP"));
    let ports: Vec<String> = array_at(svc, "/spec/ports")
        .iter()
        .map(|p| {
            let protocol = match str_at(p, "/protocol") {
                "" => "TCP",
                other => other,
            };
            let port = int_at(p, "/port");
            match int_at(p, "/nodePort") {
                n if n > 0 => format!("{port}:{n}/{protocol}"),
                _ => format!("{port}/{protocol}"),
            }
        })
        .collect();
    vec![
        name(svc),
        s(str_at(svc, "/spec/type")),
        or_none(cluster_ip),
        s(service_external_ip(svc)),
        or_none(&ports.join(",")),
        age(svc, now),
        s(format_labels(svc.pointer("/spec/selector"))),
    ]
}

/// Sorted, de-duplicated load balancer ingress addresses (IP, else hostname), comma-joined.
pub fn load_balancer_ingress(status: Option<&Value>) -> String {
    let mut addrs: Vec<&str> = status
        .and_then(|s| s.get("ingress"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|i| super::format::first_non_empty(str_at(i, "/ip"), str_at(i, "/hostname")))
        .filter(|a| !a.is_empty())
        .collect();
    addrs.sort_unstable();
    addrs.dedup();
    addrs.join(",")
}

fn service_external_ip(svc: &Value) -> String {
    let external: Vec<&str> = array_at(svc, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match str_at(svc, "/spec/type") {
        "ClusterIP" | "NodePort" if !external.is_empty() => external.join(","),
        "ClusterIP" | "NodePort" => NONE.to_string(),
        "LoadBalancer" => {
            let lb = load_balancer_ingress(svc.pointer("/status/loadBalancer"));
            if !external.is_empty() {
                let mut all: Vec<&str> = lb.split(',').filter(|a| !a.is_empty()).collect();
                all.extend(external);
                all.join(",")
            } else if !lb.is_empty() {
                lb
            } else {
                "<pending>".to_string()
            }
        }
        "ExternalName" => str_at(svc, "/spec/externalName").to_string(),
        _ => UNKNOWN.to_string(),
    }
}

const ENDPOINTS: &[Column] = &[
    NAME,
    Column::new(
        "Endpoints",
        "string",
        "Addresses and ports of the endpoints.",
    ),
    AGE,
];

fn endpoints(ep: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![name(ep), s(format_endpoints(ep)), age(ep, now)]
}

/// `ip:port` for every address and port (bare IPs for port-less subsets); the first three, then
/// `+ N more...`.
fn format_endpoints(ep: &Value) -> String {
    let subsets = array_at(ep, "/subsets");
    if subsets.is_empty() {
        return NONE.to_string();
    }
    let mut all: Vec<String> = Vec::new();
    for ss in subsets {
        let addresses = array_at(ss, "/addresses");
        let ports = array_at(ss, "/ports");
        if ports.is_empty() {
            all.extend(addresses.iter().map(|a| str_at(a, "/ip").to_string()));
            continue;
        }
        for port in ports {
            let p = int_at(port, "/port");
            for a in addresses {
                let ip = str_at(a, "/ip");
                all.push(if ip.contains(':') {
                    format!("[{ip}]:{p}")
                } else {
                    format!("{ip}:{p}")
                });
            }
        }
    }
    const MAX: usize = 3;
    let shown = all.iter().take(MAX).cloned().collect::<Vec<_>>().join(",");
    if all.len() > MAX {
        format!("{shown} + {} more...", all.len() - MAX)
    } else {
        shown
    }
}

const NODE: &[Column] = &[
    NAME,
    Column::new("Status", "string", "The status of the node"),
    Column::new("Roles", "string", "The roles of the node"),
    AGE,
    Column::new("Version", "string", "Kubelet Version reported by the node."),
    Column::new("Internal-IP", "string", "The node's internal IP address.").wide(),
    Column::new("External-IP", "string", "The node's external IP address.").wide(),
    Column::new("OS-Image", "string", "OS Image reported by the node.").wide(),
    Column::new(
        "Kernel-Version",
        "string",
        "Kernel Version reported by the node.",
    )
    .wide(),
    Column::new(
        "Container-Runtime",
        "string",
        "Container runtime version reported by the node.",
    )
    .wide(),
];

/// Roles from `node-role.kubernetes.io/<role>` label keys and the `kubernetes.io/role` label.
fn node_roles(node: &Value) -> String {
    let mut roles: Vec<&str> = Vec::new();
    if let Some(Value::Object(labels)) = node.pointer("/metadata/labels") {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.push(role);
                }
            } else if k == "kubernetes.io/role" {
                if let Some(v) = v.as_str().filter(|v| !v.is_empty()) {
                    roles.push(v);
                }
            }
        }
    }
    roles.sort_unstable();
    roles.dedup();
    if roles.is_empty() {
        NONE.to_string()
    } else {
        roles.join(",")
    }
}

fn node_address(node: &Value, kind: &str) -> Value {
    let addr = array_at(node, "/status/addresses")
        .iter()
        .find(|a| str_at(a, "/type") == kind)
        .map(|a| str_at(a, "/address"))
        .unwrap_or("");
    or_none(addr)
}

fn node(node: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let mut status: Vec<String> = Vec::new();
    // Upstream keeps the last Ready condition if there are duplicates.
    if let Some(c) = array_at(node, "/status/conditions")
        .iter()
        .rev()
        .find(|c| str_at(c, "/type") == "Ready")
    {
        status.push(if str_at(c, "/status") == "True" {
            "Ready".to_string()
        } else {
            "NotReady".to_string()
        });
    } else {
        status.push("Unknown".to_string());
    }
    if bool_at(node, "/spec/unschedulable") {
        status.push("SchedulingDisabled".to_string());
    }
    let info = |field: &str| {
        let v = str_at(node, &format!("/status/nodeInfo/{field}"));
        s(if v.is_empty() { UNKNOWN } else { v })
    };
    vec![
        name(node),
        s(status.join(",")),
        s(node_roles(node)),
        age(node, now),
        s(str_at(node, "/status/nodeInfo/kubeletVersion")),
        node_address(node, "InternalIP"),
        node_address(node, "ExternalIP"),
        info("osImage"),
        info("kernelVersion"),
        info("containerRuntimeVersion"),
    ]
}

const NAMESPACE: &[Column] = &[
    NAME,
    Column::new("Status", "string", "The status of the namespace"),
    AGE,
];

fn namespace(ns: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![name(ns), s(str_at(ns, "/status/phase")), age(ns, now)]
}

const CONFIGMAP: &[Column] = &[
    NAME,
    Column::new("Data", "string", "Number of data and binaryData keys."),
    AGE,
];

fn configmap(cm: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let keys = len_at(cm, "/data") + len_at(cm, "/binaryData");
    vec![name(cm), Value::from(keys), age(cm, now)]
}

const SECRET: &[Column] = &[
    NAME,
    Column::new(
        "Type",
        "string",
        "Used to facilitate programmatic handling of secret data.",
    ),
    Column::new("Data", "string", "Number of data keys."),
    AGE,
];

fn secret(sec: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        name(sec),
        s(str_at(sec, "/type")),
        Value::from(len_at(sec, "/data")),
        age(sec, now),
    ]
}

const SERVICEACCOUNT: &[Column] = &[
    NAME,
    Column::new(
        "Secrets",
        "string",
        "Number of secrets of the service account.",
    ),
    AGE,
];

fn serviceaccount(sa: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![name(sa), Value::from(len_at(sa, "/secrets")), age(sa, now)]
}

const RESOURCEQUOTA: &[Column] = &[
    NAME,
    Column::new(
        "Request",
        "string",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    Column::new(
        "Limit",
        "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    AGE,
];

fn resourcequota(q: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let empty = Map::new();
    let hard = q
        .pointer("/status/hard")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut resources: Vec<&String> = hard.keys().collect();
    resources.sort();
    let (mut requests, mut limits) = (Vec::new(), Vec::new());
    for r in resources {
        let used = quantity(q.pointer("/status/used").and_then(|u| u.get(r.as_str())));
        let entry = format!("{r}: {used}/{}", quantity(hard.get(r.as_str())));
        // `limits.cpu` and friends go to the LIMIT column, everything else to REQUEST.
        let mut pieces = r.split('.');
        if pieces.next() == Some("limits") && pieces.next().is_some() {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    vec![
        name(q),
        s(requests.join(", ")),
        s(limits.join(", ")),
        age(q, now),
    ]
}

const PODTEMPLATE: &[Column] = &[
    NAME,
    Column::new(
        "Containers",
        "string",
        "Names of each container in the template.",
    ),
    Column::new(
        "Images",
        "string",
        "Images referenced by each container in the template.",
    ),
    Column::new("Pod Labels", "string", "The labels for the pod template."),
];

fn podtemplate(t: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = container_cells(t.pointer("/template/spec"));
    vec![
        name(t),
        names,
        images,
        s(format_labels(t.pointer("/template/metadata/labels"))),
    ]
}

const RC: &[Column] = &[
    NAME,
    Column::new("Desired", "integer", "Number of desired pods."),
    Column::new(
        "Current",
        "integer",
        "Number of most recently observed pods.",
    ),
    Column::new("Ready", "integer", "Number of ready pods."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn replicationcontroller(rc: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = container_cells(rc.pointer("/spec/template/spec"));
    vec![
        name(rc),
        Value::from(opt_int_at(rc, "/spec/replicas").unwrap_or(1)),
        Value::from(int_at(rc, "/status/replicas")),
        Value::from(int_at(rc, "/status/readyReplicas")),
        age(rc, now),
        names,
        images,
        s(format_labels(rc.pointer("/spec/selector"))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        super::super::format::parse_time("2025-01-01T12:00:00Z").unwrap()
    }

    #[test]
    fn nodeport_service_prints_node_ports() {
        let svc = json!({
            "metadata": {"name": "web", "creationTimestamp": "2025-01-01T11:58:00Z"},
            "spec": {"type": "NodePort", "clusterIP": "10.96.0.12", "clusterIPs": ["10.96.0.12"],
                "selector": {"app": "web"},
                "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"},
                          {"port": 53, "protocol": "UDP"}]}
        });
        assert_eq!(
            service(&svc, now()),
            vec![
                json!("web"),
                json!("NodePort"),
                json!("10.96.0.12"),
                json!("<none>"),
                json!("80:30080/TCP,53/UDP"),
                json!("2m"),
                json!("app=web"),
            ]
        );
    }

    #[test]
    fn load_balancer_without_ingress_is_pending_and_headless_shows_none() {
        let lb = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer",
            "clusterIPs": ["10.96.0.3"], "ports": [{"port": 443, "nodePort": 31443}]}});
        assert_eq!(service(&lb, now())[3], json!("<pending>"));
        let headless = json!({"metadata": {"name": "db"}, "spec": {"type": "ClusterIP",
            "clusterIP": "None", "clusterIPs": ["None"]}});
        let c = service(&headless, now());
        assert_eq!(
            (&c[2], &c[4], &c[6]),
            (&json!("None"), &json!("<none>"), &json!("<none>"))
        );
    }

    #[test]
    fn cordoned_control_plane_node() {
        let n = json!({
            "metadata": {"name": "cp-1", "creationTimestamp": "2024-12-30T12:00:00Z",
                "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/os": "linux"}},
            "spec": {"unschedulable": true},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"},
                               {"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "192.168.1.10"},
                              {"type": "Hostname", "address": "cp-1"}],
                "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Debian GNU/Linux 12",
                    "kernelVersion": "6.1.0", "containerRuntimeVersion": "containerd://1.6.20"}
            }
        });
        assert_eq!(
            node(&n, now()),
            vec![
                json!("cp-1"),
                json!("Ready,SchedulingDisabled"),
                json!("control-plane"),
                json!("2d"),
                json!("v1.33.0"),
                json!("192.168.1.10"),
                json!("<none>"),
                json!("Debian GNU/Linux 12"),
                json!("6.1.0"),
                json!("containerd://1.6.20"),
            ]
        );
        let bare = json!({"metadata": {"name": "n"}});
        assert_eq!(node(&bare, now())[1], json!("Unknown"));
        assert_eq!(node(&bare, now())[2], json!("<none>"));
    }

    #[test]
    fn endpoints_list_first_three_addresses() {
        let ep = json!({"metadata": {"name": "web"}, "subsets": [{
            "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
            "ports": [{"port": 80}, {"port": 443}]}]});
        assert_eq!(
            format_endpoints(&ep),
            "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..."
        );
        assert_eq!(format_endpoints(&json!({})), "<none>");
    }

    #[test]
    fn quota_splits_requests_and_limits() {
        let q = json!({"metadata": {"name": "q"}, "status": {
            "hard": {"pods": "10", "limits.cpu": "2", "requests.cpu": "1"},
            "used": {"pods": "3", "limits.cpu": "500m"}}});
        let c = resourcequota(&q, now());
        assert_eq!(c[1], json!("pods: 3/10, requests.cpu: 0/1"));
        assert_eq!(c[2], json!("limits.cpu: 500m/2"));
    }

    #[test]
    fn configmap_and_secret_count_keys() {
        let cm = json!({"metadata": {"name": "c"}, "data": {"a": "1"}, "binaryData": {"b": ""}});
        assert_eq!(configmap(&cm, now())[1], json!(2));
        let sec = json!({"metadata": {"name": "s"}, "type": "Opaque", "data": {"k": "dg=="}});
        assert_eq!(secret(&sec, now())[1..3], [json!("Opaque"), json!(1)]);
    }
}
