//! A container's environment, resolved as upstream's kubelet does: service link variables,
//! envFrom (ConfigMaps, Secrets, with prefixes), then env in order with `$(VAR)` expansion,
//! fieldRef, resourceFieldRef, configMapKeyRef and secretKeyRef.
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret, Service};
use kube::Api;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::volumes::downward_api;
pub use crate::volumes::expand;

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

/// Upstream's docker-link style variables for one Service (`FOO_SERVICE_HOST` …).
fn service_vars(svc: &Service, out: &mut BTreeMap<String, String>) {
    let Some(spec) = &svc.spec else { return };
    let Some(ip) = spec
        .cluster_ip
        .as_deref()
        .filter(|ip| !ip.is_empty() && *ip != "None")
    else {
        return;
    };
    let name = svc
        .metadata
        .name
        .clone()
        .unwrap_or_default()
        .to_uppercase()
        .replace('-', "_");
    let ports = spec.ports.clone().unwrap_or_default();
    let Some(first) = ports.first() else { return };
    out.insert(format!("{name}_SERVICE_HOST"), ip.to_string());
    out.insert(format!("{name}_SERVICE_PORT"), first.port.to_string());
    for port in &ports {
        if let Some(pname) = port.name.as_deref().filter(|n| !n.is_empty()) {
            out.insert(
                format!(
                    "{name}_SERVICE_PORT_{}",
                    pname.to_uppercase().replace('-', "_")
                ),
                port.port.to_string(),
            );
        }
    }
    let proto = |p: &k8s_openapi::api::core::v1::ServicePort| {
        p.protocol.clone().unwrap_or_else(|| "TCP".into())
    };
    out.insert(
        format!("{name}_PORT"),
        format!("{}://{ip}:{}", proto(first).to_lowercase(), first.port),
    );
    for port in &ports {
        let p = proto(port);
        let prefix = format!("{name}_PORT_{}_{}", port.port, p.to_uppercase());
        out.insert(
            prefix.clone(),
            format!("{}://{ip}:{}", p.to_lowercase(), port.port),
        );
        out.insert(format!("{prefix}_PROTO"), p.to_lowercase());
        out.insert(format!("{prefix}_PORT"), port.port.to_string());
        out.insert(format!("{prefix}_ADDR"), ip.to_string());
    }
}

async fn service_link_vars(pod: &Pod, client: &kube::Client) -> BTreeMap<String, String> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let enable = pod
        .spec
        .as_ref()
        .and_then(|s| s.enable_service_links)
        .unwrap_or(true);
    let mut out = BTreeMap::new();
    // The master service is always linked, from the default namespace.
    if let Ok(Some(kubernetes)) = Api::<Service>::namespaced(client.clone(), "default")
        .get_opt("kubernetes")
        .await
    {
        service_vars(&kubernetes, &mut out);
    }
    if enable {
        if let Ok(list) = Api::<Service>::namespaced(client.clone(), namespace)
            .list(&Default::default())
            .await
        {
            for svc in list.items.iter().filter(|s| {
                !(namespace == "default" && s.metadata.name.as_deref() == Some("kubernetes"))
            }) {
                service_vars(svc, &mut out);
            }
        }
    }
    out
}

/// The container's environment, in the order upstream builds it.
pub async fn resolve(
    pod: &Pod,
    container: &Container,
    ctx: &EnvContext<'_>,
) -> Result<BTreeMap<String, String>, EnvError> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let configmaps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), namespace);
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let api_err = |what: String| move |source| EnvError::Api { what, source };

    // fieldRefs to status.podIP / hostIP must see the sandbox's IP even before the pod's
    // status carries it.
    let mut with_ips = pod.clone();
    {
        let status = with_ips.status.get_or_insert_with(Default::default);
        status.host_ip = Some(ctx.host_ip.to_string());
        status.host_ips = Some(vec![k8s_openapi::api::core::v1::HostIP {
            ip: ctx.host_ip.to_string(),
        }]);
        if let Some(ip) = ctx.pod_ip {
            status.pod_ip = Some(ip.to_string());
            status.pod_ips = Some(vec![k8s_openapi::api::core::v1::PodIP {
                ip: ip.to_string(),
            }]);
        }
    }
    let allocatable = BTreeMap::from([
        (
            "cpu".to_string(),
            Quantity(format!("{}m", ctx.node_cpu_millis)),
        ),
        (
            "memory".to_string(),
            Quantity(ctx.node_memory_bytes.to_string()),
        ),
    ]);
    let config_error = |e: crate::volumes::VolumeError| EnvError::Config(e.to_string());
    let mut vars = service_link_vars(pod, ctx.client).await;
    for from in container.env_from.iter().flatten() {
        let prefix = from.prefix.clone().unwrap_or_default();
        if let Some(r) = &from.config_map_ref {
            let name = r.name.clone();
            match configmaps
                .get_opt(&name)
                .await
                .map_err(api_err(format!("configmap {name:?}")))?
            {
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
            match secrets
                .get_opt(&name)
                .await
                .map_err(api_err(format!("secret {name:?}")))?
            {
                Some(s) => {
                    for (k, v) in s.data.unwrap_or_default() {
                        vars.insert(
                            format!("{prefix}{k}"),
                            String::from_utf8_lossy(&v.0).into_owned(),
                        );
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
                Some(downward_api::field_value(&with_ips, &f.field_path).map_err(config_error)?)
            } else if let Some(r) = &source.resource_field_ref {
                let target = match r.container_name.as_deref().filter(|n| !n.is_empty()) {
                    Some(name) => pod
                        .spec
                        .as_ref()
                        .and_then(|s| {
                            s.containers
                                .iter()
                                .chain(s.init_containers.iter().flatten())
                                .find(|c| c.name == name)
                        })
                        .ok_or_else(|| {
                            EnvError::Config(format!(
                                "container {name:?} not found for resourceFieldRef"
                            ))
                        })?,
                    None => container,
                };
                Some(
                    downward_api::resource_value(
                        target,
                        &r.resource,
                        r.divisor.as_ref(),
                        Some(&allocatable),
                    )
                    .map_err(config_error)?,
                )
            } else if let Some(r) = &source.config_map_key_ref {
                let name = r.name.clone();
                let cm = configmaps
                    .get_opt(&name)
                    .await
                    .map_err(api_err(format!("configmap {name:?}")))?;
                match cm
                    .and_then(|cm| cm.data)
                    .and_then(|d| d.get(&r.key).cloned())
                {
                    Some(v) => Some(v),
                    None if r.optional == Some(true) => None,
                    None => {
                        return Err(EnvError::Config(format!(
                            "couldn't find key {} in ConfigMap {namespace}/{name}",
                            r.key
                        )))
                    }
                }
            } else if let Some(r) = &source.secret_key_ref {
                let name = r.name.clone();
                let s = secrets
                    .get_opt(&name)
                    .await
                    .map_err(api_err(format!("secret {name:?}")))?;
                match s.and_then(|s| s.data).and_then(|d| d.get(&r.key).cloned()) {
                    Some(v) => Some(String::from_utf8_lossy(&v.0).into_owned()),
                    None if r.optional == Some(true) => None,
                    None => {
                        return Err(EnvError::Config(format!(
                            "couldn't find key {} in Secret {namespace}/{name}",
                            r.key
                        )))
                    }
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
    fn service_variables() {
        let svc: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "my-db"},
            "spec": {"clusterIP": "10.96.0.7", "ports": [{"name": "sql", "port": 5432}]}
        }))
        .unwrap();
        let mut out = BTreeMap::new();
        service_vars(&svc, &mut out);
        assert_eq!(out["MY_DB_SERVICE_HOST"], "10.96.0.7");
        assert_eq!(out["MY_DB_SERVICE_PORT_SQL"], "5432");
        assert_eq!(out["MY_DB_PORT"], "tcp://10.96.0.7:5432");
        assert_eq!(out["MY_DB_PORT_5432_TCP_ADDR"], "10.96.0.7");
    }
}
