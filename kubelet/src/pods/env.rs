//! A container's environment, resolved as upstream's kubelet does: service link variables,
//! envFrom (ConfigMaps, Secrets, with prefixes), then env in order with `$(VAR)` expansion,
//! fieldRef, resourceFieldRef, configMapKeyRef and secretKeyRef.
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret, Service};
use kube::Api;

use super::qos::parse_quantity;

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// Shown as the container's `CreateContainerConfigError` message.
    #[error("{0}")]
    Config(String),
    #[error("reading {what}: {source}")]
    Api { what: String, source: kube::Error },
}

/// What env resolution needs besides the pod.
pub struct EnvContext<'a> {
    pub client: &'a kube::Client,
    pub pod_ip: Option<&'a str>,
    pub host_ip: &'a str,
    /// The node's allocatable cpu (millis) and memory (bytes): resourceFieldRef of an unset limit.
    pub node_cpu_millis: i64,
    pub node_memory_bytes: i64,
}

/// Expands `$(NAME)` from `vars`; `$$` escapes a dollar; unknown references stay as written.
pub fn expand(input: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(input.len());
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && i + 1 < bytes.len() {
            if bytes[i + 1] == b'$' {
                out.push('$');
                i += 2;
                continue;
            }
            if bytes[i + 1] == b'(' {
                if let Some(end) = input[i + 2..].find(')') {
                    let name = &input[i + 2..i + 2 + end];
                    match vars.get(name) {
                        Some(v) => out.push_str(v),
                        None => out.push_str(&input[i..i + 3 + end]),
                    }
                    i += 3 + end;
                    continue;
                }
            }
        }
        let ch = input[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Upstream's docker-link style variables for one Service (`FOO_SERVICE_HOST` …).
fn service_vars(svc: &Service, out: &mut BTreeMap<String, String>) {
    let Some(spec) = &svc.spec else { return };
    let Some(ip) = spec.cluster_ip.as_deref().filter(|ip| !ip.is_empty() && *ip != "None") else {
        return;
    };
    let name = svc.metadata.name.clone().unwrap_or_default().to_uppercase().replace('-', "_");
    let ports = spec.ports.clone().unwrap_or_default();
    let Some(first) = ports.first() else { return };
    out.insert(format!("{name}_SERVICE_HOST"), ip.to_string());
    out.insert(format!("{name}_SERVICE_PORT"), first.port.to_string());
    for port in &ports {
        if let Some(pname) = port.name.as_deref().filter(|n| !n.is_empty()) {
            out.insert(
                format!("{name}_SERVICE_PORT_{}", pname.to_uppercase().replace('-', "_")),
                port.port.to_string(),
            );
        }
    }
    let proto = |p: &k8s_openapi::api::core::v1::ServicePort| p.protocol.clone().unwrap_or_else(|| "TCP".into());
    out.insert(format!("{name}_PORT"), format!("{}://{ip}:{}", proto(first).to_lowercase(), first.port));
    for port in &ports {
        let p = proto(port);
        let prefix = format!("{name}_PORT_{}_{}", port.port, p.to_uppercase());
        out.insert(prefix.clone(), format!("{}://{ip}:{}", p.to_lowercase(), port.port));
        out.insert(format!("{prefix}_PROTO"), p.to_lowercase());
        out.insert(format!("{prefix}_PORT"), port.port.to_string());
        out.insert(format!("{prefix}_ADDR"), ip.to_string());
    }
}

async fn service_link_vars(pod: &Pod, client: &kube::Client) -> BTreeMap<String, String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let enable = pod.spec.as_ref().and_then(|s| s.enable_service_links).unwrap_or(true);
    let mut out = BTreeMap::new();
    // The master service is always linked, from the default namespace.
    if let Ok(Some(kubernetes)) = Api::<Service>::namespaced(client.clone(), "default").get_opt("kubernetes").await {
        service_vars(&kubernetes, &mut out);
    }
    if enable {
        if let Ok(list) = Api::<Service>::namespaced(client.clone(), namespace).list(&Default::default()).await {
            for svc in list.items.iter().filter(|s| !(namespace == "default" && s.metadata.name.as_deref() == Some("kubernetes"))) {
                service_vars(svc, &mut out);
            }
        }
    }
    out
}

fn field_ref(pod: &Pod, path: &str, ctx: &EnvContext<'_>) -> Result<String, EnvError> {
    let meta = &pod.metadata;
    let keyed = |prefix: &str, map: &Option<BTreeMap<String, String>>| -> Option<String> {
        let key = path.strip_prefix(prefix)?.strip_suffix("']")?;
        Some(map.as_ref().and_then(|m| m.get(key)).cloned().unwrap_or_default())
    };
    if let Some(v) = keyed("metadata.labels['", &meta.labels) {
        return Ok(v);
    }
    if let Some(v) = keyed("metadata.annotations['", &meta.annotations) {
        return Ok(v);
    }
    let spec = pod.spec.as_ref();
    Ok(match path {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec.and_then(|s| s.service_account_name.clone()).unwrap_or_default(),
        "status.hostIP" | "status.hostIPs" => ctx.host_ip.to_string(),
        "status.podIP" | "status.podIPs" => ctx.pod_ip.unwrap_or_default().to_string(),
        other => return Err(EnvError::Config(format!("unsupported fieldRef fieldPath {other:?}"))),
    })
}

/// resourceFieldRef: limits/requests of a container, divided by the divisor and rounded up.
pub fn resource_field(pod: &Pod, container: &Container, resource: &str, divisor: Option<&str>, ctx_cpu: i64, ctx_mem: i64) -> Result<String, EnvError> {
    let (kind, name) = resource
        .split_once('.')
        .ok_or_else(|| EnvError::Config(format!("unsupported resourceFieldRef resource {resource:?}")))?;
    let _ = pod;
    let res = container.resources.as_ref();
    let map = match kind {
        "limits" => res.and_then(|r| r.limits.as_ref()),
        "requests" => res.and_then(|r| r.requests.as_ref()),
        _ => return Err(EnvError::Config(format!("unsupported resourceFieldRef resource {resource:?}"))),
    };
    let is_cpu = name == "cpu";
    let value = map.and_then(|m| m.get(name)).and_then(|q| parse_quantity(q, is_cpu));
    // Unset limits report the node's allocatable, as upstream.
    let value = match (value, kind, name) {
        (Some(v), _, _) => v,
        (None, "limits", "cpu") => ctx_cpu,
        (None, "limits", "memory") => ctx_mem,
        (None, _, _) => 0,
    };
    let divisor = divisor
        .map(|d| parse_quantity(&k8s_openapi::apimachinery::pkg::api::resource::Quantity(d.into()), is_cpu))
        .unwrap_or(Some(1))
        .filter(|d| *d > 0)
        .unwrap_or(1);
    // For cpu both are in millis; a divisor of "1" (1000 millis) reports whole cores.
    let divisor = if is_cpu && divisor == 1 { 1000 } else { divisor };
    Ok(((value + divisor - 1) / divisor).to_string())
}

/// The container's environment, in the order upstream builds it.
pub async fn resolve(pod: &Pod, container: &Container, ctx: &EnvContext<'_>) -> Result<BTreeMap<String, String>, EnvError> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let configmaps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), namespace);
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let api_err = |what: String| move |source| EnvError::Api { what, source };

    let mut vars = service_link_vars(pod, ctx.client).await;
    for from in container.env_from.iter().flatten() {
        let prefix = from.prefix.clone().unwrap_or_default();
        if let Some(r) = &from.config_map_ref {
            let name = r.name.clone();
            match configmaps.get_opt(&name).await.map_err(api_err(format!("configmap {name:?}")))? {
                Some(cm) => {
                    for (k, v) in cm.data.unwrap_or_default() {
                        vars.insert(format!("{prefix}{k}"), v);
                    }
                }
                None if r.optional == Some(true) => {}
                None => return Err(EnvError::Config(format!("configmap \"{name}\" not found"))),
            }
        }
        if let Some(r) = &from.secret_ref {
            let name = r.name.clone();
            match secrets.get_opt(&name).await.map_err(api_err(format!("secret {name:?}")))? {
                Some(s) => {
                    for (k, v) in s.data.unwrap_or_default() {
                        vars.insert(format!("{prefix}{k}"), String::from_utf8_lossy(&v.0).into_owned());
                    }
                }
                None if r.optional == Some(true) => {}
                None => return Err(EnvError::Config(format!("secret \"{name}\" not found"))),
            }
        }
    }
    for env in container.env.iter().flatten() {
        let value = if let Some(source) = &env.value_from {
            if let Some(f) = &source.field_ref {
                Some(field_ref(pod, &f.field_path, ctx)?)
            } else if let Some(r) = &source.resource_field_ref {
                let target = match r.container_name.as_deref().filter(|n| !n.is_empty()) {
                    Some(name) => pod
                        .spec
                        .as_ref()
                        .and_then(|s| s.containers.iter().chain(s.init_containers.iter().flatten()).find(|c| c.name == name))
                        .ok_or_else(|| EnvError::Config(format!("container {name:?} not found for resourceFieldRef")))?,
                    None => container,
                };
                Some(resource_field(pod, target, &r.resource, r.divisor.as_ref().map(|d| d.0.as_str()), ctx.node_cpu_millis, ctx.node_memory_bytes)?)
            } else if let Some(r) = &source.config_map_key_ref {
                let name = r.name.clone();
                let cm = configmaps.get_opt(&name).await.map_err(api_err(format!("configmap {name:?}")))?;
                match cm.and_then(|cm| cm.data).and_then(|d| d.get(&r.key).cloned()) {
                    Some(v) => Some(v),
                    None if r.optional == Some(true) => None,
                    None => return Err(EnvError::Config(format!("couldn't find key {} in ConfigMap {namespace}/{name}", r.key))),
                }
            } else if let Some(r) = &source.secret_key_ref {
                let name = r.name.clone();
                let s = secrets.get_opt(&name).await.map_err(api_err(format!("secret {name:?}")))?;
                match s.and_then(|s| s.data).and_then(|d| d.get(&r.key).cloned()) {
                    Some(v) => Some(String::from_utf8_lossy(&v.0).into_owned()),
                    None if r.optional == Some(true) => None,
                    None => return Err(EnvError::Config(format!("couldn't find key {} in Secret {namespace}/{name}", r.key))),
                }
            } else {
                None
            }
        } else {
            Some(expand(env.value.as_deref().unwrap_or_default(), &vars))
        };
        if let Some(value) = value {
            vars.insert(env.name.clone(), value);
        }
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_follows_upstream_rules() {
        let vars = BTreeMap::from([("A".to_string(), "x".to_string())]);
        assert_eq!(expand("$(A)-$(B)-$$(A)-$", &vars), "x-$(B)-$(A)-$");
        assert_eq!(expand("héllo $(A", &vars), "héllo $(A");
    }

    #[test]
    fn service_variables() {
        let svc: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "my-db"},
            "spec": {"clusterIP": "10.96.0.7", "ports": [{"name": "sql", "port": 5432}]}
        })).unwrap();
        let mut out = BTreeMap::new();
        service_vars(&svc, &mut out);
        assert_eq!(out["MY_DB_SERVICE_HOST"], "10.96.0.7");
        assert_eq!(out["MY_DB_SERVICE_PORT_SQL"], "5432");
        assert_eq!(out["MY_DB_PORT"], "tcp://10.96.0.7:5432");
        assert_eq!(out["MY_DB_PORT_5432_TCP_ADDR"], "10.96.0.7");
    }

    #[test]
    fn resource_fields_with_divisors() {
        let c: Container = serde_json::from_value(serde_json::json!({
            "name": "c", "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "250m"}}
        })).unwrap();
        let pod = Pod::default();
        assert_eq!(resource_field(&pod, &c, "limits.memory", Some("1Mi"), 2000, 1 << 30).unwrap(), "128");
        assert_eq!(resource_field(&pod, &c, "requests.cpu", Some("1m"), 2000, 1 << 30).unwrap(), "250");
        assert_eq!(resource_field(&pod, &c, "requests.cpu", None, 2000, 1 << 30).unwrap(), "1");
        assert_eq!(resource_field(&pod, &c, "limits.cpu", None, 2000, 1 << 30).unwrap(), "2");
    }
}
