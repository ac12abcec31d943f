//! What one object charges against a ResourceQuota (upstream's quota evaluators), on the
//! JSON form of the object so the apiserver's admission and the controller count alike.
//!
//! Amounts are milli-units. Quota scopes and `hugepages-*` / `ephemeral-storage` are not
//! counted.

use std::collections::BTreeMap;

use serde_json::Value;

/// Resource name → amount in milli-units.
pub type Usage = BTreeMap<String, i128>;

pub use crate::quantity::parse_milli;

/// A milli-unit amount as a quantity string: whole numbers plainly (with the largest exact
/// binary suffix from Ki up for byte-sized amounts), fractions with `m`.
pub fn format_milli(v: i128) -> String {
    if v % 1000 != 0 {
        return format!("{v}m");
    }
    let units = v / 1000;
    if units != 0 {
        for (suffix, size) in [
            ("Ti", 1i128 << 40),
            ("Gi", 1 << 30),
            ("Mi", 1 << 20),
            ("Ki", 1 << 10),
        ] {
            if units % size == 0 {
                return format!("{}{suffix}", units / size);
            }
        }
    }
    units.to_string()
}

/// The quota key counting objects of `plural` in `group` (`count/pods`,
/// `count/deployments.apps`).
pub fn count_key(group: &str, plural: &str) -> String {
    if group.is_empty() {
        format!("count/{plural}")
    } else {
        format!("count/{plural}.{group}")
    }
}

fn quantity_at(v: &Value, pointer: &str) -> i128 {
    v.pointer(pointer)
        .and_then(|q| match q {
            Value::String(s) => parse_milli(s),
            Value::Number(n) => n.as_f64().map(|f| (f * 1000.0).round() as i128),
            _ => None,
        })
        .unwrap_or(0)
}

/// Whether a pod still uses its resources (not Succeeded or Failed).
pub fn pod_is_active(pod: &Value) -> bool {
    !matches!(
        pod.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    )
}

/// A pod's effective `requests` or `limits` of `resource` (`cpu`, `memory`): the larger of
/// the containers' sum and the largest init container, plus the pod overhead.
fn pod_amount(pod: &Value, kind: &str, resource: &str) -> i128 {
    let per = |c: &Value| quantity_at(c, &format!("/resources/{kind}/{resource}"));
    let list = |field: &str| {
        pod.pointer(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let sum: i128 = list("containers").iter().map(per).sum();
    let init: i128 = list("initContainers").iter().map(per).max().unwrap_or(0);
    sum.max(init) + quantity_at(pod, &format!("/spec/overhead/{resource}"))
}

/// What creating `obj` (of `plural` in `group`) charges.
pub fn usage(group: &str, plural: &str, obj: &Value) -> Usage {
    let mut u = Usage::new();
    u.insert(count_key(group, plural), 1000);
    if !group.is_empty() {
        return u;
    }
    match plural {
        "pods" => {
            if !pod_is_active(obj) {
                return Usage::new();
            }
            u.insert("pods".into(), 1000);
            for r in ["cpu", "memory"] {
                let req = pod_amount(obj, "requests", r);
                u.insert(format!("requests.{r}"), req);
                u.insert(r.to_string(), req);
                u.insert(format!("limits.{r}"), pod_amount(obj, "limits", r));
            }
        }
        "services" => {
            u.insert("services".into(), 1000);
            let ty = obj
                .pointer("/spec/type")
                .and_then(Value::as_str)
                .unwrap_or("ClusterIP");
            let ports = obj
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map_or(0, |p| p.len() as i128);
            let node_ports = match ty {
                "NodePort" => ports,
                "LoadBalancer"
                    if obj.pointer("/spec/allocateLoadBalancerNodePorts")
                        != Some(&Value::Bool(false)) =>
                {
                    ports
                }
                _ => 0,
            };
            u.insert("services.nodeports".into(), node_ports * 1000);
            u.insert(
                "services.loadbalancers".into(),
                if ty == "LoadBalancer" { 1000 } else { 0 },
            );
        }
        "persistentvolumeclaims" => {
            u.insert("persistentvolumeclaims".into(), 1000);
            let storage = quantity_at(obj, "/spec/resources/requests/storage");
            u.insert("requests.storage".into(), storage);
            if let Some(class) = obj
                .pointer("/spec/storageClassName")
                .and_then(Value::as_str)
            {
                let prefix = format!("{class}.storageclass.storage.k8s.io");
                u.insert(format!("{prefix}/requests.storage"), storage);
                u.insert(format!("{prefix}/persistentvolumeclaims"), 1000);
            }
        }
        "configmaps" | "secrets" | "replicationcontrollers" | "resourcequotas" => {
            u.insert(plural.to_string(), 1000);
        }
        _ => {}
    }
    u
}

/// The `(group, plural)` of the objects a quota key counts, for keys that count objects.
#[allow(dead_code)] // only the controller's copy recounts
pub fn counted_resource(key: &str) -> Option<(String, String)> {
    if let Some(rest) = key.strip_prefix("count/") {
        return Some(match rest.split_once('.') {
            Some((plural, group)) => (group.to_string(), plural.to_string()),
            None => (String::new(), rest.to_string()),
        });
    }
    let plural = match key {
        "pods" | "cpu" | "memory" => "pods",
        k if k.starts_with("requests.") && k != "requests.storage" => "pods",
        k if k.starts_with("limits.") => "pods",
        "services" | "services.nodeports" | "services.loadbalancers" => "services",
        "configmaps" | "secrets" | "replicationcontrollers" | "resourcequotas" => key,
        "persistentvolumeclaims" | "requests.storage" => "persistentvolumeclaims",
        k if k.contains(".storageclass.storage.k8s.io/") => "persistentvolumeclaims",
        _ => return None,
    };
    Some((String::new(), plural.to_string()))
}

/// `k=v,k=v` over `keys`, sorted, as upstream's `prettyPrint`.
#[allow(dead_code)] // only the admission's copy prints
pub fn pretty(values: &Usage, keys: &[String]) -> String {
    let mut keys = keys.to_vec();
    keys.sort();
    keys.iter()
        .map(|k| format!("{k}={}", format_milli(values.get(k).copied().unwrap_or(0))))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pods_charge_count_and_compute_resources() {
        let pod = json!({"spec": {
            "containers": [
                {"resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "1"}}},
                {"resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}],
            "initContainers": [{"resources": {"requests": {"cpu": "2"}}}]}});
        let u = usage("", "pods", &pod);
        assert_eq!(u["pods"], 1000);
        assert_eq!(u["count/pods"], 1000);
        assert_eq!(u["requests.cpu"], 2000, "the init container is larger");
        assert_eq!(u["requests.memory"], 128 * 1024 * 1024 * 1000);
        assert_eq!(u["limits.cpu"], 1000);
        let done = json!({"spec": {"containers": []}, "status": {"phase": "Succeeded"}});
        assert!(usage("", "pods", &done).is_empty());
    }

    #[test]
    fn services_claims_and_group_counts() {
        let svc = json!({"spec": {"type": "NodePort", "ports": [{"port": 1}, {"port": 2}]}});
        let u = usage("", "services", &svc);
        assert_eq!((u["services"], u["services.nodeports"]), (1000, 2000));
        let pvc = json!({"spec": {"storageClassName": "fast",
            "resources": {"requests": {"storage": "1Gi"}}}});
        let u = usage("", "persistentvolumeclaims", &pvc);
        assert_eq!(u["requests.storage"], (1i128 << 30) * 1000);
        assert_eq!(
            u["fast.storageclass.storage.k8s.io/persistentvolumeclaims"],
            1000
        );
        let u = usage("apps", "deployments", &json!({}));
        assert_eq!(u.len(), 1);
        assert_eq!(u["count/deployments.apps"], 1000);
    }

    #[test]
    fn keys_map_back_to_what_they_count() {
        assert_eq!(
            counted_resource("count/deployments.apps"),
            Some(("apps".into(), "deployments".into()))
        );
        assert_eq!(
            counted_resource("requests.cpu"),
            Some((String::new(), "pods".into()))
        );
        assert_eq!(
            counted_resource("requests.storage"),
            Some((String::new(), "persistentvolumeclaims".into()))
        );
        assert_eq!(counted_resource("bogus"), None);
    }

    #[test]
    fn amounts_print_as_quantities() {
        assert_eq!(format_milli(2000), "2");
        assert_eq!(format_milli(500), "500m");
        assert_eq!(format_milli((1i128 << 30) * 1000), "1Gi");
        assert_eq!(format_milli(0), "0");
        let u: Usage = [("pods".to_string(), 2000), ("cpu".to_string(), 500)].into();
        assert_eq!(
            pretty(&u, &["pods".into(), "cpu".into()]),
            "cpu=500m,pods=2"
        );
    }
}
