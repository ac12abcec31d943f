//! Where a pod's kubelet is and which container a request means: the Node address picked by
//! `--kubelet-preferred-address-types`, the kubelet port, and upstream's container defaulting.

use serde_json::Value;

use crate::errors::ApiError;

/// How to reach one kubelet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The Node address (IP or DNS name) to dial.
    pub host: String,
    /// The kubelet's HTTPS port.
    pub port: u16,
}

/// The first address of the Node whose type comes first in `preferred`.
pub fn preferred_address(node: &Value, preferred: &[String]) -> Option<String> {
    let addresses = node.pointer("/status/addresses")?.as_array()?;
    preferred.iter().find_map(|want| {
        addresses.iter().find_map(|a| {
            let typ = a.get("type").and_then(Value::as_str)?;
            let addr = a.get("address").and_then(Value::as_str)?;
            (typ == want && !addr.is_empty()).then(|| addr.to_string())
        })
    })
}

/// The kubelet's address and port from its Node: the reported
/// `status.daemonEndpoints.kubeletEndpoint.Port`, else `default_port`.
pub fn connection_info(
    node: &Value,
    preferred: &[String],
    default_port: u16,
) -> Result<ConnectionInfo, ApiError> {
    let host = preferred_address(node, preferred).ok_or_else(|| {
        let known = node
            .pointer("/status/addresses")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| {
                        format!(
                            "{{{} {}}}",
                            x.get("type").and_then(Value::as_str).unwrap_or_default(),
                            x.get("address").and_then(Value::as_str).unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        // Upstream's NoMatchError text; it surfaces as an unclassified 500.
        ApiError::unknown(
            500,
            format!("no preferred addresses found; known addresses: [{known}]"),
        )
    })?;
    let port = node
        .pointer("/status/daemonEndpoints/kubeletEndpoint/Port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .unwrap_or(default_port);
    Ok(ConnectionInfo { host, port })
}

fn names(pod: &Value, list: &str) -> Vec<String> {
    pod.pointer(&format!("/spec/{list}"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Init, regular and ephemeral container names, in upstream's visiting order.
fn all_container_names(pod: &Value) -> Vec<String> {
    let mut all = names(pod, "initContainers");
    all.extend(names(pod, "containers"));
    all.extend(names(pod, "ephemeralContainers"));
    all
}

/// The container a log/exec/attach request targets: the one named (which must exist in the
/// pod), or the pod's only container.
pub fn validate_container(pod: &Value, requested: Option<&str>) -> Result<String, ApiError> {
    let pod_name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match requested.filter(|c| !c.is_empty()) {
        Some(c) if all_container_names(pod).iter().any(|n| n == c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {pod_name}"
        ))),
        None => {
            let containers = names(pod, "containers");
            match containers.len() {
                1 => Ok(containers[0].clone()),
                0 => Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {pod_name}"
                ))),
                _ => Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                    all_container_names(pod).join(" ")
                ))),
            }
        }
    }
}

/// The pod's node, or upstream's 400 for a pod that is not scheduled yet.
pub fn node_name(pod: &Value) -> Option<&str> {
    pod.pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn default_order() -> Vec<String> {
        [
            "Hostname",
            "InternalDNS",
            "InternalIP",
            "ExternalDNS",
            "ExternalIP",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn node(addresses: Value, port: Option<u64>) -> Value {
        let mut n = json!({"metadata": {"name": "n1"}, "status": {"addresses": addresses}});
        if let Some(p) = port {
            n["status"]["daemonEndpoints"] = json!({"kubeletEndpoint": {"Port": p}});
        }
        n
    }

    #[test]
    fn picks_address_by_preference_not_by_list_order() {
        let n = node(
            json!([
                {"type": "ExternalIP", "address": "203.0.113.9"},
                {"type": "InternalIP", "address": "10.0.0.5"},
                {"type": "Hostname", "address": "worker-1"},
            ]),
            Some(12345),
        );
        let info = connection_info(&n, &default_order(), 10250).expect("address");
        assert_eq!(info.host, "worker-1");
        assert_eq!(info.port, 12345);
        let ip_first: Vec<String> = vec!["InternalIP".into(), "Hostname".into()];
        assert_eq!(
            preferred_address(&n, &ip_first).as_deref(),
            Some("10.0.0.5")
        );
    }

    #[test]
    fn falls_back_to_the_default_port_and_reports_no_match() {
        let n = node(
            json!([{"type": "InternalIP", "address": "127.0.0.1"}]),
            None,
        );
        let info = connection_info(&n, &default_order(), 10250).expect("address");
        assert_eq!(
            info,
            ConnectionInfo {
                host: "127.0.0.1".into(),
                port: 10250
            }
        );
        let zero = node(
            json!([{"type": "InternalIP", "address": "127.0.0.1"}]),
            Some(0),
        );
        assert_eq!(
            connection_info(&zero, &default_order(), 10250)
                .expect("address")
                .port,
            10250
        );
        let only_external: Vec<String> = vec!["ExternalIP".into()];
        let err = connection_info(&n, &only_external, 10250).expect_err("no match");
        assert_eq!(err.code, 500);
        assert!(err
            .message
            .contains("no preferred addresses found; known addresses: [{InternalIP 127.0.0.1}]"));
    }

    #[test]
    fn container_defaulting_follows_upstream() {
        let one = json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "app"}], "initContainers": [{"name": "init"}]}});
        assert_eq!(validate_container(&one, None).expect("default"), "app");
        assert_eq!(validate_container(&one, Some("")).expect("default"), "app");
        assert_eq!(
            validate_container(&one, Some("init")).expect("init"),
            "init"
        );
        let e = validate_container(&one, Some("nope")).expect_err("unknown");
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "container nope is not valid for pod web")
        );
        let two = json!({"metadata": {"name": "web"}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        let e = validate_container(&two, None).expect_err("ambiguous");
        assert_eq!(e.code, 400);
        assert_eq!(e.reason, "BadRequest");
        assert_eq!(
            e.message,
            "a container name must be specified for pod web, choose one of: [a b]"
        );
        assert_eq!(validate_container(&two, Some("b")).expect("named"), "b");
    }
}
