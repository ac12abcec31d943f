//! A pod's status from what the runtime reports and what the pod worker decided: container
//! states, phase and conditions, by upstream's rules.
use std::collections::HashMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::runtime::{ContainerInfo, PodRuntime};
use super::{ephemeral, qos, sidecar};

/// CRI timestamps are nanoseconds since the epoch.
pub fn time_from_nanos(nanos: i64) -> Option<Time> {
    if nanos <= 0 {
        return None;
    }
    k8s_openapi::jiff::Timestamp::from_nanosecond(i128::from(nanos))
        .ok()
        .map(Time)
}

/// Why a container is waiting, as the worker last saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    pub reason: String,
    pub message: String,
}

/// Inputs the worker gathers for one status computation.
pub struct StatusInputs<'a> {
    pub pod: &'a Pod,
    pub runtime: &'a PodRuntime,
    pub host_ip: &'a str,
    /// Containers the worker holds back (CrashLoopBackOff, ErrImagePull …), by name.
    pub waiting: &'a HashMap<String, Waiting>,
    /// Termination messages read from containers' termination-log files, by container id.
    pub termination_messages: &'a HashMap<String, String>,
    pub ready: &'a dyn Fn(&str) -> bool,
    pub started: &'a dyn Fn(&str) -> bool,
    pub start_time: Option<Time>,
    /// The runtime's name (`containerd`), the scheme of container IDs.
    pub runtime_name: &'a str,
}

fn terminated(info: &ContainerInfo, inputs: &StatusInputs<'_>) -> ContainerStateTerminated {
    let messages = inputs.termination_messages;
    let reason = match (info.reason.as_str(), info.exit_code) {
        ("OOMKilled", _) => "OOMKilled",
        (_, 0) => "Completed",
        _ => "Error",
    };
    let message = messages
        .get(&info.id)
        .cloned()
        .or_else(|| Some(info.message.clone()));
    ContainerStateTerminated {
        container_id: Some(format!("{}://{}", inputs.runtime_name, info.id)),
        exit_code: info.exit_code,
        reason: Some(reason.into()),
        message: message.filter(|m| !m.is_empty()),
        started_at: time_from_nanos(info.started_at),
        finished_at: time_from_nanos(info.finished_at),
        signal: None,
    }
}

fn waiting_state(reason: &str, message: &str) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.into()),
            message: Some(message.to_string()).filter(|m| !m.is_empty()),
        }),
        ..Default::default()
    }
}

/// The status of one container of the spec.
fn container_status(
    c: &Container,
    inputs: &StatusInputs<'_>,
    sandbox_id: Option<&str>,
    default_wait: &str,
) -> ContainerStatus {
    let rt = inputs.runtime;
    let current = match sandbox_id {
        Some(id) => rt
            .latest(id, &c.name)
            .or_else(|| rt.latest_anywhere(&c.name)),
        None => rt.latest_anywhere(&c.name),
    };
    let held = inputs.waiting.get(&c.name);
    let mut status = ContainerStatus {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        ..Default::default()
    };
    let Some(cur) = current else {
        let (reason, message) = held
            .map(|w| (w.reason.as_str(), w.message.as_str()))
            .unwrap_or((default_wait, ""));
        status.state = Some(waiting_state(reason, message));
        return status;
    };
    status.container_id = Some(format!("{}://{}", inputs.runtime_name, cur.id));
    status.image_id = cur.image_ref.clone();
    status.restart_count = cur.attempt as i32;
    let previous = rt.previous(&c.name, &cur.id);
    if cur.is_running() {
        status.state = Some(ContainerState {
            running: Some(ContainerStateRunning {
                started_at: time_from_nanos(cur.started_at),
            }),
            ..Default::default()
        });
        status.started = Some((inputs.started)(&c.name));
        status.ready = (inputs.ready)(&c.name);
        status.last_state = previous.map(|p| ContainerState {
            terminated: Some(terminated(p, inputs)),
            ..Default::default()
        });
    } else if cur.is_exited() {
        let term = terminated(cur, inputs);
        match held {
            // Exited and due to restart: waiting, with the exit as lastState.
            Some(w) => {
                status.state = Some(waiting_state(&w.reason, &w.message));
                status.last_state = Some(ContainerState {
                    terminated: Some(term),
                    ..Default::default()
                });
            }
            None => {
                status.state = Some(ContainerState {
                    terminated: Some(term),
                    ..Default::default()
                });
                status.last_state = previous.map(|p| ContainerState {
                    terminated: Some(terminated(p, inputs)),
                    ..Default::default()
                });
            }
        }
        status.started = Some(false);
    } else {
        status.state = Some(waiting_state("ContainerCreating", ""));
        status.started = Some(false);
    }
    status
}

fn condition(
    kind: &str,
    ok: bool,
    reason: Option<&str>,
    message: Option<String>,
    pod: &Pod,
    now: &Time,
) -> PodCondition {
    let status = if ok { "True" } else { "False" };
    let previous = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == kind));
    let transition = match previous {
        Some(p) if p.status == status => {
            p.last_transition_time.clone().or_else(|| Some(now.clone()))
        }
        _ => Some(now.clone()),
    };
    PodCondition {
        type_: kind.into(),
        status: status.into(),
        reason: if ok { None } else { reason.map(String::from) },
        message: if ok { None } else { message },
        last_transition_time: transition,
        last_probe_time: None,
        observed_generation: None,
    }
}

/// The status of an ephemeral container: like any other's, but never ready (no probes run
/// for it, and it counts for neither readiness nor phase).
fn ephemeral_status(
    e: &k8s_openapi::api::core::v1::EphemeralContainer,
    inputs: &StatusInputs<'_>,
    sandbox_id: Option<&str>,
) -> ContainerStatus {
    let mut status = container_status(
        &ephemeral::as_container(e),
        inputs,
        sandbox_id,
        "ContainerCreating",
    );
    status.ready = false;
    status.started = None;
    status
}

fn is_running(s: &ContainerStatus) -> bool {
    s.state.as_ref().is_some_and(|st| st.running.is_some())
}

/// Upstream's phase rules over the app containers' states. Running sidecars keep a pod
/// whose app containers have finished Running until they are stopped; they never make it
/// Succeeded or Failed.
fn phase(
    statuses: &[ContainerStatus],
    init_done: bool,
    restart_policy: &str,
    sidecars_running: bool,
) -> &'static str {
    if !init_done {
        return "Pending";
    }
    let (mut waiting, mut running, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for s in statuses {
        let state = s.state.clone().unwrap_or_default();
        if state.running.is_some() {
            running += 1;
        } else if let Some(t) = state.terminated {
            stopped += 1;
            if t.exit_code == 0 {
                succeeded += 1;
            }
        } else if state.waiting.is_some() {
            if s.last_state
                .as_ref()
                .and_then(|l| l.terminated.as_ref())
                .is_some()
            {
                stopped += 1;
            } else {
                waiting += 1;
            }
        }
    }
    if waiting > 0 {
        "Pending"
    } else if running > 0 || sidecars_running {
        "Running"
    } else if stopped > 0 {
        match restart_policy {
            "Always" => "Running",
            _ if stopped == succeeded => "Succeeded",
            "Never" => "Failed",
            _ => "Running",
        }
    } else {
        "Pending"
    }
}

/// The pod's whole status.
pub fn compute(inputs: &StatusInputs<'_>) -> PodStatus {
    let pod = inputs.pod;
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let empty = Vec::new();
    let spec = pod.spec.as_ref();
    let containers = spec.map(|s| &s.containers).unwrap_or(&empty);
    let init_containers = spec
        .and_then(|s| s.init_containers.as_ref())
        .unwrap_or(&empty);
    let restart_policy = spec
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    let sandbox = inputs.runtime.ready_sandbox();
    let sandbox_id = sandbox.map(|s| s.id.as_str());

    let init_statuses: Vec<ContainerStatus> = init_containers
        .iter()
        .map(|c| container_status(c, inputs, sandbox_id, "PodInitializing"))
        .collect();
    // A regular init container is done when it exited 0; a sidecar when it runs and has
    // started. Once an app container has run in the sandbox, the pod stays initialized
    // (upstream), whatever its sidecars do later.
    let incomplete_init: Vec<String> = init_containers
        .iter()
        .zip(&init_statuses)
        .filter(|(c, s)| {
            if sidecar::is_sidecar(c) {
                !(is_running(s) && s.started == Some(true))
            } else {
                s.state
                    .as_ref()
                    .and_then(|st| st.terminated.as_ref())
                    .is_none_or(|t| t.exit_code != 0)
            }
        })
        .map(|(_, s)| s.name.clone())
        .collect();
    let any_app_ran = sandbox_id.is_some_and(|id| {
        containers
            .iter()
            .any(|c| inputs.runtime.latest(id, &c.name).is_some())
    });
    let init_done = incomplete_init.is_empty() || any_app_ran;
    let app_wait = if init_done {
        "ContainerCreating"
    } else {
        "PodInitializing"
    };
    let statuses: Vec<ContainerStatus> = containers
        .iter()
        .map(|c| container_status(c, inputs, sandbox_id, app_wait))
        .collect();
    let sidecar_statuses: Vec<&ContainerStatus> = init_containers
        .iter()
        .zip(&init_statuses)
        .filter(|(c, _)| sidecar::is_sidecar(c))
        .map(|(_, s)| s)
        .collect();
    let ephemeral_statuses: Vec<ContainerStatus> = spec
        .and_then(|s| s.ephemeral_containers.as_ref())
        .into_iter()
        .flatten()
        .map(|e| ephemeral_status(e, inputs, sandbox_id))
        .collect();
    let sidecars_running = sidecar_statuses.iter().any(|s| is_running(s));
    let mut phase = phase(&statuses, init_done, restart_policy, sidecars_running);
    // A failed (regular) init container with restartPolicy Never fails the pod.
    if !init_done && restart_policy == "Never" {
        let failed = init_containers.iter().zip(&init_statuses).any(|(c, s)| {
            !sidecar::is_sidecar(c)
                && s.state
                    .as_ref()
                    .and_then(|st| st.terminated.as_ref())
                    .is_some_and(|t| t.exit_code != 0)
        });
        if failed {
            phase = "Failed";
        }
    }
    // Terminal phases never go back.
    let previous_phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if let Some(p @ ("Succeeded" | "Failed")) = previous_phase {
        phase = if p == "Succeeded" {
            "Succeeded"
        } else {
            "Failed"
        };
    }
    let terminal = matches!(phase, "Succeeded" | "Failed");

    // Sidecars count for readiness like app containers (upstream).
    let unready: Vec<String> = sidecar_statuses
        .iter()
        .copied()
        .chain(&statuses)
        .filter(|s| !s.ready)
        .map(|s| s.name.clone())
        .collect();
    let containers_ready = unready.is_empty() && !terminal;
    let (not_ready_reason, not_ready_message) = if terminal {
        ("PodCompleted", None)
    } else if !init_done {
        (
            "ContainersNotInitialized",
            Some(format!(
                "containers with incomplete status: [{}]",
                incomplete_init.join(" ")
            )),
        )
    } else {
        (
            "ContainersNotReady",
            Some(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            )),
        )
    };
    let mut conditions = vec![
        condition(
            "PodReadyToStartContainers",
            sandbox.is_some(),
            None,
            None,
            pod,
            &now,
        ),
        condition(
            "Initialized",
            init_done,
            Some(if terminal {
                "PodCompleted"
            } else {
                "ContainersNotInitialized"
            }),
            Some(format!(
                "containers with incomplete status: [{}]",
                incomplete_init.join(" ")
            )),
            pod,
            &now,
        ),
        condition(
            "Ready",
            containers_ready,
            Some(not_ready_reason),
            not_ready_message.clone(),
            pod,
            &now,
        ),
        condition(
            "ContainersReady",
            containers_ready,
            Some(not_ready_reason),
            not_ready_message,
            pod,
            &now,
        ),
    ];
    // PodScheduled belongs to the scheduler; keep it as it is.
    if let Some(scheduled) = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"))
    {
        conditions.push(scheduled.clone());
    } else {
        conditions.push(condition("PodScheduled", true, None, None, pod, &now));
    }

    let pod_ip = sandbox.and_then(|s| s.ip.clone()).or_else(|| {
        // Terminated pods keep reporting the IP they had.
        pod.status
            .as_ref()
            .and_then(|s| s.pod_ip.clone())
            .filter(|_| terminal)
    });
    let mut pod_ips: Vec<PodIP> = pod_ip.iter().map(|ip| PodIP { ip: ip.clone() }).collect();
    if let Some(s) = sandbox {
        pod_ips.extend(s.additional_ips.iter().map(|ip| PodIP { ip: ip.clone() }));
    }
    let host_network = spec.and_then(|s| s.host_network).unwrap_or(false);
    let (pod_ip, pod_ips) = if host_network {
        (
            Some(inputs.host_ip.to_string()),
            vec![PodIP {
                ip: inputs.host_ip.to_string(),
            }],
        )
    } else {
        (pod_ip, pod_ips)
    };
    PodStatus {
        phase: Some(phase.into()),
        conditions: Some(conditions),
        host_ip: Some(inputs.host_ip.into()),
        host_ips: Some(vec![HostIP {
            ip: inputs.host_ip.into(),
        }]),
        pod_ip,
        pod_ips: (!pod_ips.is_empty()).then_some(pod_ips),
        start_time: inputs.start_time.clone(),
        container_statuses: Some(statuses),
        init_container_statuses: (!init_statuses.is_empty()).then_some(init_statuses),
        ephemeral_container_statuses: (!ephemeral_statuses.is_empty())
            .then_some(ephemeral_statuses),
        qos_class: Some(qos::qos_class(pod).into()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::cri::v1 as cri;

    fn container(
        name: &str,
        id: &str,
        attempt: u32,
        state: cri::ContainerState,
        exit: i32,
    ) -> ContainerInfo {
        ContainerInfo {
            id: id.into(),
            sandbox_id: "s1".into(),
            name: name.into(),
            attempt,
            state: state as i32,
            created_at: attempt as i64 + 1,
            started_at: 1_700_000_000_000_000_000,
            finished_at: if state == cri::ContainerState::ContainerExited {
                1_700_000_010_000_000_000
            } else {
                0
            },
            exit_code: exit,
            ..Default::default()
        }
    }

    fn runtime(containers: Vec<ContainerInfo>) -> PodRuntime {
        PodRuntime {
            sandboxes: vec![super::super::runtime::SandboxInfo {
                id: "s1".into(),
                attempt: 0,
                ready: true,
                created_at: 1,
                ip: Some("10.244.0.9".into()),
                additional_ips: vec![],
            }],
            containers,
        }
    }

    fn pod(policy: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
            "spec": {"restartPolicy": policy, "containers": [{"name": "a", "image": "busybox"}]}
        }))
        .unwrap()
    }

    fn compute_with(
        pod: &Pod,
        rt: &PodRuntime,
        waiting: HashMap<String, Waiting>,
        ready: bool,
    ) -> PodStatus {
        let yes = move |_: &str| ready;
        compute(&StatusInputs {
            pod,
            runtime: rt,
            host_ip: "127.0.0.1",
            waiting: &waiting,
            termination_messages: &HashMap::new(),
            ready: &yes,
            started: &yes,
            start_time: None,
            runtime_name: "containerd",
        })
    }

    fn cond(s: &PodStatus, kind: &str) -> String {
        s.conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == kind)
            .unwrap()
            .status
            .clone()
    }

    #[test]
    fn running_and_ready() {
        let rt = runtime(vec![container(
            "a",
            "c1",
            0,
            cri::ContainerState::ContainerRunning,
            0,
        )]);
        let s = compute_with(&pod("Always"), &rt, HashMap::new(), true);
        assert_eq!(s.phase.as_deref(), Some("Running"));
        assert_eq!(s.pod_ip.as_deref(), Some("10.244.0.9"));
        assert_eq!(cond(&s, "Ready"), "True");
        let cs = &s.container_statuses.as_ref().unwrap()[0];
        assert_eq!(cs.container_id.as_deref(), Some("containerd://c1"));
        let unready = compute_with(&pod("Always"), &rt, HashMap::new(), false);
        assert_eq!(cond(&unready, "Ready"), "False");
        assert_eq!(cond(&unready, "ContainersReady"), "False");
    }

    #[test]
    fn crash_loop_shows_waiting_with_last_state_and_restarts() {
        let rt = runtime(vec![
            container("a", "c2", 1, cri::ContainerState::ContainerExited, 1),
            container("a", "c1", 0, cri::ContainerState::ContainerExited, 1),
        ]);
        let waiting = HashMap::from([(
            "a".to_string(),
            Waiting {
                reason: "CrashLoopBackOff".into(),
                message: "back-off".into(),
            },
        )]);
        let s = compute_with(&pod("Always"), &rt, waiting, false);
        assert_eq!(s.phase.as_deref(), Some("Running"));
        let cs = &s.container_statuses.as_ref().unwrap()[0];
        assert_eq!(cs.restart_count, 1);
        assert_eq!(
            cs.state
                .as_ref()
                .unwrap()
                .waiting
                .as_ref()
                .unwrap()
                .reason
                .as_deref(),
            Some("CrashLoopBackOff")
        );
        let last = cs.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!((last.exit_code, last.reason.as_deref()), (1, Some("Error")));
    }

    #[test]
    fn phases_for_finished_containers() {
        let ok = runtime(vec![container(
            "a",
            "c1",
            0,
            cri::ContainerState::ContainerExited,
            0,
        )]);
        let bad = runtime(vec![container(
            "a",
            "c1",
            0,
            cri::ContainerState::ContainerExited,
            3,
        )]);
        assert_eq!(
            compute_with(&pod("Never"), &ok, HashMap::new(), false)
                .phase
                .as_deref(),
            Some("Succeeded")
        );
        assert_eq!(
            compute_with(&pod("OnFailure"), &ok, HashMap::new(), false)
                .phase
                .as_deref(),
            Some("Succeeded")
        );
        assert_eq!(
            compute_with(&pod("Never"), &bad, HashMap::new(), false)
                .phase
                .as_deref(),
            Some("Failed")
        );
        let done = compute_with(&pod("Never"), &ok, HashMap::new(), false);
        let term = done.container_statuses.unwrap()[0]
            .state
            .clone()
            .unwrap()
            .terminated
            .unwrap();
        assert_eq!(term.reason.as_deref(), Some("Completed"));
        let nothing = runtime(vec![]);
        let pending = compute_with(&pod("Always"), &nothing, HashMap::new(), false);
        assert_eq!(pending.phase.as_deref(), Some("Pending"));
        let w = pending.container_statuses.unwrap()[0]
            .state
            .clone()
            .unwrap()
            .waiting
            .unwrap();
        assert_eq!(w.reason.as_deref(), Some("ContainerCreating"));
    }

    #[test]
    fn ephemeral_containers_are_reported_but_never_ready() {
        let mut debugged = pod("Always");
        debugged.spec.as_mut().unwrap().ephemeral_containers = Some(vec![
            k8s_openapi::api::core::v1::EphemeralContainer {
                name: "dbg".into(),
                image: Some("busybox".into()),
                target_container_name: Some("a".into()),
                ..Default::default()
            },
            k8s_openapi::api::core::v1::EphemeralContainer {
                name: "later".into(),
                image: Some("busybox".into()),
                ..Default::default()
            },
        ]);
        let rt = runtime(vec![
            container("dbg", "e1", 0, cri::ContainerState::ContainerRunning, 0),
            container("a", "c1", 0, cri::ContainerState::ContainerRunning, 0),
        ]);
        let s = compute_with(&debugged, &rt, HashMap::new(), true);
        assert_eq!(
            cond(&s, "Ready"),
            "True",
            "ephemeral containers do not gate readiness"
        );
        assert_eq!(s.container_statuses.as_ref().unwrap().len(), 1);
        let eph = s.ephemeral_container_statuses.as_ref().unwrap();
        assert_eq!(eph[0].name, "dbg");
        assert_eq!(eph[0].container_id.as_deref(), Some("containerd://e1"));
        assert!(eph[0].state.as_ref().unwrap().running.is_some());
        assert!(!eph[0].ready);
        let waiting = eph[1].state.as_ref().unwrap().waiting.as_ref().unwrap();
        assert_eq!(waiting.reason.as_deref(), Some("ContainerCreating"));
        assert!(compute_with(&pod("Always"), &rt, HashMap::new(), true)
            .ephemeral_container_statuses
            .is_none());
    }

    fn sidecar_pod(policy: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
            "spec": {"restartPolicy": policy,
                "initContainers": [{"name": "proxy", "image": "busybox", "restartPolicy": "Always"},
                                   {"name": "migrate", "image": "busybox"}],
                "containers": [{"name": "a", "image": "busybox"}]}
        }))
        .unwrap()
    }

    fn compute_ready(pod: &Pod, rt: &PodRuntime, ready: &dyn Fn(&str) -> bool) -> PodStatus {
        compute(&StatusInputs {
            pod,
            runtime: rt,
            host_ip: "127.0.0.1",
            waiting: &HashMap::new(),
            termination_messages: &HashMap::new(),
            ready,
            started: &|_| true,
            start_time: None,
            runtime_name: "containerd",
        })
    }

    #[test]
    fn a_running_sidecar_completes_its_step_of_initialization() {
        use cri::ContainerState::{ContainerExited as Exited, ContainerRunning as Running};
        let pod = sidecar_pod("Always");
        let yes = |_: &str| true;
        // The sidecar is up, the regular init container has not run yet: still initializing.
        let rt = runtime(vec![container("proxy", "s", 0, Running, 0)]);
        let s = compute_ready(&pod, &rt, &yes);
        assert_eq!(s.phase.as_deref(), Some("Pending"));
        assert_eq!(cond(&s, "Initialized"), "False");
        // The regular one exited 0 and the sidecar still runs: initialized, and running.
        let rt = runtime(vec![
            container("a", "c", 0, Running, 0),
            container("migrate", "m", 0, Exited, 0),
            container("proxy", "s", 0, Running, 0),
        ]);
        let s = compute_ready(&pod, &rt, &yes);
        assert_eq!(s.phase.as_deref(), Some("Running"));
        assert_eq!(cond(&s, "Initialized"), "True");
        assert_eq!(cond(&s, "Ready"), "True");
        let proxy = &s.init_container_statuses.as_ref().unwrap()[0];
        assert_eq!((proxy.ready, proxy.started), (true, Some(true)));
        // An unready sidecar makes the pod unready.
        let s = compute_ready(&pod, &rt, &|name| name != "proxy");
        assert_eq!(cond(&s, "ContainersReady"), "False");
        assert_eq!(cond(&s, "Initialized"), "True");
        // A sidecar that crashed after the app started leaves the pod initialized.
        let rt = runtime(vec![
            container("a", "c", 0, Running, 0),
            container("migrate", "m", 0, Exited, 0),
            container("proxy", "s", 0, Exited, 1),
        ]);
        assert_eq!(cond(&compute_ready(&pod, &rt, &yes), "Initialized"), "True");
    }

    #[test]
    fn sidecars_neither_finish_nor_fail_a_pod() {
        use cri::ContainerState::{ContainerExited as Exited, ContainerRunning as Running};
        let pod = sidecar_pod("Never");
        let yes = |_: &str| true;
        let done_app = |sidecar_state, sidecar_exit| {
            runtime(vec![
                container("a", "c", 0, Exited, 0),
                container("migrate", "m", 0, Exited, 0),
                container("proxy", "s", 0, sidecar_state, sidecar_exit),
            ])
        };
        let s = compute_ready(&pod, &done_app(Running, 0), &yes);
        assert_eq!(
            s.phase.as_deref(),
            Some("Running"),
            "until the sidecar is stopped"
        );
        // Stopped by SIGKILL (137): the pod still succeeded, as its app container did.
        let s = compute_ready(&pod, &done_app(Exited, 137), &yes);
        assert_eq!(s.phase.as_deref(), Some("Succeeded"));
        // A sidecar that exits non-zero during initialization does not fail a Never pod.
        let rt = runtime(vec![container("proxy", "s", 0, Exited, 1)]);
        let s = compute_ready(&pod, &rt, &yes);
        assert_eq!(s.phase.as_deref(), Some("Pending"));
    }
}
