//! Ephemeral (debug) containers, added to a running pod through `pods/ephemeralcontainers`
//! (`kubectl debug`): each runs once in the pod's current sandbox, is never restarted, and
//! joins its target container's process namespace when it names one.
use k8s_openapi::api::core::v1::{Container, EphemeralContainer, PodSpec};

use super::runtime::{PodRuntime, SandboxInfo};

/// The ephemeral container as a container the rest of the kubelet can start. Probes,
/// lifecycle hooks, ports and resources are left out: the apiserver forbids them for
/// ephemeral containers, and the kubelet never acts on them even if one slipped through.
pub fn as_container(e: &EphemeralContainer) -> Container {
    Container {
        name: e.name.clone(),
        image: e.image.clone(),
        image_pull_policy: e.image_pull_policy.clone(),
        command: e.command.clone(),
        args: e.args.clone(),
        working_dir: e.working_dir.clone(),
        env: e.env.clone(),
        env_from: e.env_from.clone(),
        volume_mounts: e.volume_mounts.clone(),
        volume_devices: e.volume_devices.clone(),
        security_context: e.security_context.clone(),
        stdin: e.stdin,
        stdin_once: e.stdin_once,
        tty: e.tty,
        termination_message_path: e.termination_message_path.clone(),
        termination_message_policy: e.termination_message_policy.clone(),
        ..Default::default()
    }
}

/// One ephemeral container due to start, with the runtime id of its running target.
pub struct DueContainer {
    pub container: Container,
    pub target_id: Option<String>,
}

/// The ephemeral containers to start now in `sandbox`: those the runtime has never seen
/// (one that ran and exited stays exited), whose target, if any, is running. One whose
/// target is not running yet waits for a later sync.
pub fn due(spec: &PodSpec, rt: &PodRuntime, sandbox: &SandboxInfo) -> Vec<DueContainer> {
    spec.ephemeral_containers
        .iter()
        .flatten()
        .filter(|e| rt.latest_anywhere(&e.name).is_none())
        .filter_map(|e| {
            let target_id = match e.target_container_name.as_deref() {
                Some(target) => Some(
                    rt.latest(&sandbox.id, target)
                        .filter(|t| t.is_running())?
                        .id
                        .clone(),
                ),
                None => None,
            };
            Some(DueContainer {
                container: as_container(e),
                target_id,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pods::runtime::ContainerInfo;
    use proto::cri::v1 as cri;

    fn running(name: &str, id: &str) -> ContainerInfo {
        ContainerInfo {
            id: id.into(),
            sandbox_id: "s1".into(),
            name: name.into(),
            state: cri::ContainerState::ContainerRunning as i32,
            ..Default::default()
        }
    }

    fn spec_with(ephemeral: &[(&str, Option<&str>)]) -> PodSpec {
        PodSpec {
            containers: vec![Container {
                name: "app".into(),
                ..Default::default()
            }],
            ephemeral_containers: Some(
                ephemeral
                    .iter()
                    .map(|(name, target)| EphemeralContainer {
                        name: name.to_string(),
                        image: Some("busybox:latest".into()),
                        target_container_name: target.map(String::from),
                        stdin: Some(true),
                        tty: Some(true),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    fn sandbox() -> SandboxInfo {
        SandboxInfo {
            id: "s1".into(),
            attempt: 0,
            ready: true,
            created_at: 1,
            ip: None,
            additional_ips: Vec::new(),
        }
    }

    #[test]
    fn starts_each_once_and_only_with_its_target_running() {
        let spec = spec_with(&[("dbg", Some("app")), ("plain", None)]);
        let nothing_runs = PodRuntime {
            sandboxes: vec![sandbox()],
            containers: vec![],
        };
        let due = due(&spec, &nothing_runs, &sandbox());
        let names: Vec<&str> = due.iter().map(|d| d.container.name.as_str()).collect();
        assert_eq!(names, ["plain"], "dbg waits for its target");

        let app_runs = PodRuntime {
            sandboxes: vec![sandbox()],
            containers: vec![running("app", "c-app")],
        };
        let due = due_names_and_targets(&spec, &app_runs);
        assert_eq!(
            due,
            [
                ("dbg".to_string(), Some("c-app".to_string())),
                ("plain".to_string(), None)
            ]
        );
        let first = &super::due(&spec, &app_runs, &sandbox())[0].container;
        assert_eq!((first.stdin, first.tty), (Some(true), Some(true)));

        let mut exited = running("dbg", "c-dbg");
        exited.state = cri::ContainerState::ContainerExited as i32;
        let all_seen = PodRuntime {
            sandboxes: vec![sandbox()],
            containers: vec![exited, running("plain", "c-plain"), running("app", "c-app")],
        };
        assert!(
            due_names_and_targets(&spec, &all_seen).is_empty(),
            "never restarted"
        );
    }

    fn due_names_and_targets(spec: &PodSpec, rt: &PodRuntime) -> Vec<(String, Option<String>)> {
        due(spec, rt, &sandbox())
            .into_iter()
            .map(|d| (d.container.name, d.target_id))
            .collect()
    }
}
