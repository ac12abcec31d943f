//! The CRI ContainerConfig of one container of a pod: image, command and args with `$(VAR)`
//! expansion, environment, mounts, log path, labels, resources and security context.
use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{Container, Pod};
use proto::cri::v1 as cri;

use super::env::expand;
use super::runtime::{
    ANNOTATION_RESTART_COUNT, ANNOTATION_TERMINATION_GRACE, ANNOTATION_TERMINATION_MESSAGE_PATH,
    LABEL_CONTAINER_NAME, LABEL_CONTAINER_TYPE,
};
use super::{qos, sandbox};

/// Whether a container is one of the pod's init containers, an app container, or an
/// ephemeral (debug) container added through `pods/ephemeralcontainers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerType {
    Init,
    App,
    Ephemeral,
}

impl ContainerType {
    pub fn label(self) -> &'static str {
        match self {
            ContainerType::Init => "init",
            ContainerType::App => "app",
            ContainerType::Ephemeral => "ephemeral",
        }
    }
}

/// `<container>/<attempt>.log`, relative to the sandbox's log directory (upstream's layout).
pub fn log_path(name: &str, attempt: u32) -> String {
    format!("{name}/{attempt}.log")
}

fn capabilities(c: &Container) -> Option<cri::Capability> {
    let caps = c.security_context.as_ref()?.capabilities.as_ref()?;
    Some(cri::Capability {
        add_capabilities: caps.add.clone().unwrap_or_default(),
        drop_capabilities: caps.drop.clone().unwrap_or_default(),
        add_ambient_capabilities: Vec::new(),
    })
}

/// The container's namespaces: the pod's, except that an ephemeral container with a target
/// joins that container's process namespace (CRI's TARGET mode), as `kubectl debug --target`
/// asks, unless the pod already shares one process namespace or the host's.
fn namespace_options(pod: &Pod, target_id: Option<&str>) -> cri::NamespaceOption {
    let mut options = sandbox::namespace_options(pod);
    if let Some(target) = target_id {
        if options.pid == cri::NamespaceMode::Container as i32 {
            options.pid = cri::NamespaceMode::Target as i32;
            options.target_id = target.to_string();
        }
    }
    options
}

/// The container's security context, with pod-level defaults applied as upstream does.
fn security_context(
    pod: &Pod,
    c: &Container,
    target_id: Option<&str>,
) -> cri::LinuxContainerSecurityContext {
    let pod_sc = pod.spec.as_ref().and_then(|s| s.security_context.as_ref());
    let sc = c.security_context.as_ref();
    let run_as_user = sc
        .and_then(|s| s.run_as_user)
        .or(pod_sc.and_then(|s| s.run_as_user));
    let run_as_group = sc
        .and_then(|s| s.run_as_group)
        .or(pod_sc.and_then(|s| s.run_as_group));
    let privileged = sc.and_then(|s| s.privileged).unwrap_or(false);
    cri::LinuxContainerSecurityContext {
        capabilities: capabilities(c),
        privileged,
        namespace_options: Some(namespace_options(pod, target_id)),
        run_as_user: run_as_user.map(|value| cri::Int64Value { value }),
        run_as_group: run_as_group.map(|value| cri::Int64Value { value }),
        readonly_rootfs: sc
            .and_then(|s| s.read_only_root_filesystem)
            .unwrap_or(false),
        supplemental_groups: pod_sc
            .map(|s| {
                s.supplemental_groups
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .chain(s.fs_group)
                    .collect()
            })
            .unwrap_or_default(),
        // allowPrivilegeEscalation: false sets no_new_privs; privileged containers never do.
        no_new_privs: !privileged && sc.and_then(|s| s.allow_privilege_escalation) == Some(false),
        ..Default::default()
    }
}

/// Everything the config is built from besides the pod and container.
pub struct ContainerInputs<'a> {
    pub kind: ContainerType,
    pub attempt: u32,
    pub env: &'a BTreeMap<String, String>,
    pub mounts: Vec<cri::Mount>,
    pub memory_capacity: i64,
    /// The runtime id of the container whose process namespace an ephemeral container joins.
    pub target_id: Option<&'a str>,
}

/// The CRI config to create the container with.
pub fn config(pod: &Pod, c: &Container, inputs: ContainerInputs<'_>) -> cri::ContainerConfig {
    let env = inputs.env;
    let mut labels: HashMap<String, String> = sandbox::pod_labels(pod)
        .into_iter()
        .filter(|(k, _)| k.starts_with("io.kubernetes."))
        .collect();
    labels.insert(LABEL_CONTAINER_NAME.into(), c.name.clone());
    labels.insert(LABEL_CONTAINER_TYPE.into(), inputs.kind.label().into());
    let grace = pod
        .spec
        .as_ref()
        .and_then(|s| s.termination_grace_period_seconds)
        .unwrap_or(30);
    let mut annotations = HashMap::from([
        (
            ANNOTATION_RESTART_COUNT.to_string(),
            inputs.attempt.to_string(),
        ),
        (ANNOTATION_TERMINATION_GRACE.to_string(), grace.to_string()),
    ]);
    let termination_path = c
        .termination_message_path
        .clone()
        .unwrap_or_else(|| "/dev/termination-log".into());
    annotations.insert(ANNOTATION_TERMINATION_MESSAGE_PATH.into(), termination_path);
    cri::ContainerConfig {
        metadata: Some(cri::ContainerMetadata {
            name: c.name.clone(),
            attempt: inputs.attempt,
        }),
        image: Some(cri::ImageSpec {
            image: c.image.clone().unwrap_or_default(),
            ..Default::default()
        }),
        command: c.command.iter().flatten().map(|s| expand(s, env)).collect(),
        args: c.args.iter().flatten().map(|s| expand(s, env)).collect(),
        working_dir: c.working_dir.clone().unwrap_or_default(),
        envs: env
            .iter()
            .map(|(key, value)| cri::KeyValue {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
        mounts: inputs.mounts,
        labels,
        annotations,
        log_path: log_path(&c.name, inputs.attempt),
        stdin: c.stdin.unwrap_or(false),
        stdin_once: c.stdin_once.unwrap_or(false),
        tty: c.tty.unwrap_or(false),
        linux: Some(cri::LinuxContainerConfig {
            resources: Some(qos::linux_resources(pod, c, inputs.memory_capacity)),
            security_context: Some(security_context(pod, c, inputs.target_id)),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_command_env_and_security() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "labels": {"app": "web"}},
            "spec": {
                "securityContext": {"runAsUser": 1000, "fsGroup": 2000},
                "containers": [{
                    "name": "c", "image": "busybox:latest",
                    "command": ["sh", "-c"], "args": ["echo $(GREETING) $$(HOME)"],
                    "securityContext": {"runAsGroup": 3000, "readOnlyRootFilesystem": true,
                        "allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}}
                }]
            }
        }))
        .unwrap();
        let c = &pod.spec.as_ref().unwrap().containers[0];
        let env = BTreeMap::from([("GREETING".to_string(), "hi".to_string())]);
        let config = config(
            &pod,
            c,
            ContainerInputs {
                kind: ContainerType::App,
                attempt: 2,
                env: &env,
                mounts: vec![],
                memory_capacity: 1 << 30,
                target_id: None,
            },
        );
        assert_eq!(config.command, vec!["sh", "-c"]);
        assert_eq!(config.args, vec!["echo hi $(HOME)"]);
        assert_eq!(config.log_path, "c/2.log");
        assert_eq!(config.labels[LABEL_CONTAINER_NAME], "c");
        assert_eq!(config.labels["io.kubernetes.pod.uid"], "u1");
        assert!(!config.labels.contains_key("app"));
        let sc = config.linux.unwrap().security_context.unwrap();
        assert_eq!(sc.run_as_user.unwrap().value, 1000);
        assert_eq!(sc.run_as_group.unwrap().value, 3000);
        assert!(sc.readonly_rootfs && sc.no_new_privs);
        assert_eq!(sc.supplemental_groups, vec![2000]);
        assert_eq!(sc.capabilities.unwrap().drop_capabilities, vec!["ALL"]);
    }

    #[test]
    fn an_ephemeral_container_joins_its_targets_process_namespace() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {"containers": [{"name": "c", "image": "busybox:latest"}]}
        }))
        .unwrap();
        let debugger = Container {
            name: "debugger".into(),
            image: Some("busybox:latest".into()),
            ..Default::default()
        };
        let env = BTreeMap::new();
        let build = |target_id| {
            let config = config(
                &pod,
                &debugger,
                ContainerInputs {
                    kind: ContainerType::Ephemeral,
                    attempt: 0,
                    env: &env,
                    mounts: vec![],
                    memory_capacity: 1 << 30,
                    target_id,
                },
            );
            assert_eq!(config.labels[LABEL_CONTAINER_TYPE], "ephemeral");
            config
                .linux
                .and_then(|l| l.security_context)
                .and_then(|s| s.namespace_options)
                .unwrap()
        };
        let targeted = build(Some("abc123"));
        assert_eq!(targeted.pid, cri::NamespaceMode::Target as i32);
        assert_eq!(targeted.target_id, "abc123");
        let alone = build(None);
        assert_eq!(alone.pid, cri::NamespaceMode::Container as i32);
        assert!(alone.target_id.is_empty());
    }
}
