//! Sidecar containers: init containers with `restartPolicy: Always` (upstream's restartable
//! init containers, stable in v1.33). Each starts in its place in the init sequence and lets
//! the next one start once it runs (and its startup probe, if any, has passed); it then runs
//! beside the app containers, is restarted whatever the pod's restartPolicy, and is stopped
//! after them: when they have all finished for good, and on deletion in reverse order.
use k8s_openapi::api::core::v1::{Container, PodSpec};

use super::runtime::{ContainerInfo, PodRuntime};

pub fn is_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// Whether every app container in `sandbox_id` has finished and will not be restarted
/// (restartPolicy Never, or OnFailure with exit code 0): the pod's work is done, and its
/// sidecars are to be stopped rather than kept running.
pub fn app_containers_finished(spec: &PodSpec, rt: &PodRuntime, sandbox_id: &str) -> bool {
    let policy = spec.restart_policy.as_deref().unwrap_or("Always");
    if policy == "Always" || spec.containers.is_empty() {
        return false;
    }
    spec.containers.iter().all(|c| {
        rt.latest(sandbox_id, &c.name)
            .is_some_and(|cur| cur.is_exited() && (policy == "Never" || cur.exit_code == 0))
    })
}

/// The running sidecars of the pod with their specs, last-declared first: the order
/// upstream stops them in.
pub fn running_sidecars_in_stop_order<'s, 'r>(
    spec: &'s PodSpec,
    running: &[&'r ContainerInfo],
) -> Vec<(&'s Container, &'r ContainerInfo)> {
    spec.init_containers
        .iter()
        .flatten()
        .rev()
        .filter(|c| is_sidecar(c))
        .filter_map(|c| Some((c, *running.iter().find(|r| r.name == c.name)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::cri::v1 as cri;

    fn info(name: &str, state: cri::ContainerState, exit_code: i32) -> ContainerInfo {
        ContainerInfo {
            id: format!("id-{name}"),
            sandbox_id: "s1".into(),
            name: name.into(),
            state: state as i32,
            exit_code,
            ..Default::default()
        }
    }

    fn spec(policy: &str) -> PodSpec {
        let container = |name: &str, restart: Option<&str>| Container {
            name: name.into(),
            restart_policy: restart.map(String::from),
            ..Default::default()
        };
        PodSpec {
            restart_policy: Some(policy.into()),
            init_containers: Some(vec![
                container("log-shipper", Some("Always")),
                container("migrate", None),
                container("proxy", Some("Always")),
            ]),
            containers: vec![container("app", None)],
            ..Default::default()
        }
    }

    #[test]
    fn app_containers_finish_by_the_restart_policy() {
        let runtime = |exit| PodRuntime {
            sandboxes: Vec::new(),
            containers: vec![info("app", cri::ContainerState::ContainerExited, exit)],
        };
        assert!(app_containers_finished(&spec("Never"), &runtime(1), "s1"));
        assert!(app_containers_finished(
            &spec("OnFailure"),
            &runtime(0),
            "s1"
        ));
        assert!(!app_containers_finished(
            &spec("OnFailure"),
            &runtime(1),
            "s1"
        ));
        assert!(!app_containers_finished(&spec("Always"), &runtime(0), "s1"));
        let still_running = PodRuntime {
            sandboxes: Vec::new(),
            containers: vec![info("app", cri::ContainerState::ContainerRunning, 0)],
        };
        assert!(!app_containers_finished(
            &spec("Never"),
            &still_running,
            "s1"
        ));
        assert!(!app_containers_finished(
            &spec("Never"),
            &runtime(0),
            "other-sandbox"
        ));
    }

    #[test]
    fn sidecars_stop_last_declared_first() {
        let running = [
            info("app", cri::ContainerState::ContainerRunning, 0),
            info("log-shipper", cri::ContainerState::ContainerRunning, 0),
            info("proxy", cri::ContainerState::ContainerRunning, 0),
        ];
        let refs: Vec<&ContainerInfo> = running.iter().collect();
        let order: Vec<&str> = running_sidecars_in_stop_order(&spec("Always"), &refs)
            .iter()
            .map(|(c, info)| {
                assert_eq!(c.name, info.name);
                info.name.as_str()
            })
            .collect();
        assert_eq!(order, ["proxy", "log-shipper"]);
        assert!(is_sidecar(&spec("Always").init_containers.unwrap()[0]));
        assert!(!is_sidecar(&spec("Always").containers[0]));
    }
}
