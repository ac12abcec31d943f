//! The CRI PodSandboxConfig of a pod: identity, hostname, logs, DNS, port mappings, cgroup
//! parent and Linux namespaces.
use std::collections::HashMap;
use std::path::Path;

use k8s_openapi::api::core::v1::{Pod, SecurityContext};
use proto::cri::v1 as cri;

use super::runtime::{LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID};
use crate::network::{self, DnsSettings};

/// The labels that tie a CRI object to its pod.
pub fn pod_labels(pod: &Pod) -> HashMap<String, String> {
    let mut labels: HashMap<String, String> = pod
        .metadata
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    labels.insert(
        LABEL_POD_NAME.into(),
        pod.metadata.name.clone().unwrap_or_default(),
    );
    labels.insert(
        LABEL_POD_NAMESPACE.into(),
        pod.metadata.namespace.clone().unwrap_or_default(),
    );
    labels.insert(
        LABEL_POD_UID.into(),
        pod.metadata.uid.clone().unwrap_or_default(),
    );
    labels
}

/// `<logs>/<namespace>_<name>_<uid>`, upstream's pod log directory layout.
pub fn log_directory(pod: &Pod, logs_root: &Path) -> std::path::PathBuf {
    logs_root.join(format!(
        "{}_{}_{}",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default(),
        pod.metadata.uid.as_deref().unwrap_or_default()
    ))
}

fn namespace_mode(host: bool) -> i32 {
    if host {
        cri::NamespaceMode::Node as i32
    } else {
        cri::NamespaceMode::Pod as i32
    }
}

/// The pod-level Linux namespaces of the pod (also used for its containers).
pub fn namespace_options(pod: &Pod) -> cri::NamespaceOption {
    let spec = pod.spec.as_ref();
    let host_network = spec.and_then(|s| s.host_network).unwrap_or(false);
    let host_pid = spec.and_then(|s| s.host_pid).unwrap_or(false);
    let host_ipc = spec.and_then(|s| s.host_ipc).unwrap_or(false);
    let share_pid = spec
        .and_then(|s| s.share_process_namespace)
        .unwrap_or(false);
    cri::NamespaceOption {
        network: namespace_mode(host_network),
        pid: if host_pid {
            cri::NamespaceMode::Node as i32
        } else if share_pid {
            cri::NamespaceMode::Pod as i32
        } else {
            cri::NamespaceMode::Container as i32
        },
        ipc: namespace_mode(host_ipc),
        ..Default::default()
    }
}

/// The sandbox config for attempt `attempt` of the pod, in cgroup `cgroup_parent`.
pub fn config(
    pod: &Pod,
    attempt: u32,
    cgroup_parent: String,
    logs_root: &Path,
    dns: &DnsSettings,
) -> cri::PodSandboxConfig {
    let spec = pod.spec.as_ref();
    let host_network = spec.and_then(|s| s.host_network).unwrap_or(false);
    let port_mappings = spec
        .map(|s| {
            s.containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.host_port.is_some_and(|hp| hp > 0))
        .map(|p| cri::PortMapping {
            protocol: match p.protocol.as_deref() {
                Some("UDP") => cri::Protocol::Udp as i32,
                Some("SCTP") => cri::Protocol::Sctp as i32,
                _ => cri::Protocol::Tcp as i32,
            },
            container_port: p.container_port,
            host_port: p.host_port.unwrap_or_default(),
            host_ip: p.host_ip.clone().unwrap_or_default(),
        })
        .collect();
    let pod_security = spec.and_then(|s| s.security_context.as_ref());
    let sysctls = pod_security
        .and_then(|s| s.sysctls.as_ref())
        .map(|list| {
            list.iter()
                .map(|s| (s.name.clone(), s.value.clone()))
                .collect()
        })
        .unwrap_or_default();
    cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            attempt,
        }),
        hostname: if host_network {
            String::new()
        } else {
            network::pod_hostname(pod)
        },
        log_directory: log_directory(pod, logs_root).to_string_lossy().into_owned(),
        dns_config: network::dns_config(pod, dns),
        port_mappings,
        labels: pod_labels(pod),
        annotations: pod
            .metadata
            .annotations
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        linux: Some(cri::LinuxPodSandboxConfig {
            cgroup_parent,
            security_context: Some(cri::LinuxSandboxSecurityContext {
                namespace_options: Some(namespace_options(pod)),
                run_as_user: pod_security
                    .and_then(|s| s.run_as_user)
                    .map(|value| cri::Int64Value { value }),
                run_as_group: pod_security
                    .and_then(|s| s.run_as_group)
                    .map(|value| cri::Int64Value { value }),
                supplemental_groups: pod_security
                    .map(|s| {
                        s.supplemental_groups
                            .clone()
                            .unwrap_or_default()
                            .into_iter()
                            .chain(s.fs_group)
                            .collect()
                    })
                    .unwrap_or_default(),
                // containerd refuses a privileged container in an unprivileged sandbox.
                privileged: has_privileged_container(pod),
                ..Default::default()
            }),
            sysctls,
            ..Default::default()
        }),
        windows: None,
    }
}

/// Upstream's `HasPrivilegedContainer`: any init, app or ephemeral container asks for
/// `securityContext.privileged`.
pub fn has_privileged_container(pod: &Pod) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    let privileged = |sc: Option<&SecurityContext>| sc.and_then(|s| s.privileged).unwrap_or(false);
    spec.containers
        .iter()
        .any(|c| privileged(c.security_context.as_ref()))
        || spec
            .init_containers
            .iter()
            .flatten()
            .any(|c| privileged(c.security_context.as_ref()))
        || spec
            .ephemeral_containers
            .iter()
            .flatten()
            .any(|c| privileged(c.security_context.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).expect("pod")
    }

    #[test]
    fn sandbox_is_privileged_when_any_container_is() {
        let plain = pod(serde_json::json!({"spec": {"containers": [{"name": "a"}]}}));
        assert!(!has_privileged_container(&plain));
        let init = pod(serde_json::json!({"spec": {
            "containers": [{"name": "a", "securityContext": {"privileged": false}}],
            "initContainers": [{"name": "i", "securityContext": {"privileged": true}}]}}));
        assert!(has_privileged_container(&init));
        let app = pod(serde_json::json!({"spec": {
            "containers": [{"name": "a"}, {"name": "b", "securityContext": {"privileged": true}}]}}));
        assert!(has_privileged_container(&app));
    }
}
