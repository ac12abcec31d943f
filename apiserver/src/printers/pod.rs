//! Pods: READY, the aggregate STATUS (`Init:0/1`, `CrashLoopBackOff`, `Terminating` …) and
//! RESTARTS with the time of the last restart, computed as upstream's pod printer does.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::format::{array_at, bool_at, int_at, or_none, s, since, str_at, time_at, NONE};
use super::{Column, Printer, AGE, NAME};

const COLUMNS: &[Column] = &[
    NAME,
    Column::new(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    Column::new(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    Column::new(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    Column::new("IP", "string", "IP address allocated to the pod.").wide(),
    Column::new("Node", "string", "Node the pod is bound to.").wide(),
    Column::new(
        "Nominated Node",
        "string",
        "Node the pod is nominated to run on after preemption.",
    )
    .wide(),
    Column::new(
        "Readiness Gates",
        "string",
        "Pod readiness gates that are true, of all gates.",
    )
    .wide(),
];

/// The pod printer.
pub const PRINTER: Printer = Printer {
    columns: COLUMNS,
    cells,
    conditions,
};

/// Row conditions upstream attaches to finished pods.
fn conditions(pod: &Value) -> Vec<Value> {
    match str_at(pod, "/status/phase") {
        "Succeeded" => vec![json!({
            "type": "Completed", "status": "True", "reason": "Succeeded",
            "message": "The pod has completed successfully."
        })],
        "Failed" => vec![json!({
            "type": "Completed", "status": "True", "reason": "Failed",
            "message": "The pod failed."
        })],
        _ => Vec::new(),
    }
}

/// Whether the pod has a condition of `kind` with status True.
fn condition_true(pod: &Value, kind: &str) -> bool {
    array_at(pod, "/status/conditions")
        .iter()
        .find(|c| str_at(c, "/type") == kind)
        .is_some_and(|c| str_at(c, "/status") == "True")
}

/// Keep the later of two restart times.
fn later(a: Option<DateTime<Utc>>, status: &Value) -> Option<DateTime<Utc>> {
    let b = time_at(status, "/lastState/terminated/finishedAt");
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// `Init:Reason`, `Signal:9` or `ExitCode:1` for a terminated container (`prefix` is `Init:` for
/// init containers).
fn terminated_reason(terminated: &Value, prefix: &str) -> String {
    let reason = str_at(terminated, "/reason");
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    let signal = int_at(terminated, "/signal");
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!("{prefix}ExitCode:{}", int_at(terminated, "/exitCode"))
    }
}

/// The pod's READY, STATUS and RESTARTS cells.
pub fn summarize(pod: &Value, now: DateTime<Utc>) -> (String, String, String) {
    let phase = str_at(pod, "/status/phase");
    let mut reason = phase.to_string();
    let status_reason = str_at(pod, "/status/reason");
    if !status_reason.is_empty() {
        reason = status_reason.to_string();
    }
    if array_at(pod, "/status/conditions")
        .iter()
        .any(|c| str_at(c, "/type") == "PodScheduled" && str_at(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".to_string();
    }

    let init_specs = array_at(pod, "/spec/initContainers");
    // Sidecars (init containers with restartPolicy Always) count as regular containers.
    let is_sidecar = |name: &str| {
        init_specs
            .iter()
            .any(|c| str_at(c, "/name") == name && str_at(c, "/restartPolicy") == "Always")
    };
    let total = array_at(pod, "/spec/containers").len()
        + init_specs
            .iter()
            .filter(|c| str_at(c, "/restartPolicy") == "Always")
            .count();
    let mut ready = 0usize;
    let mut restarts = 0i64;
    let mut sidecar_restarts = 0i64;
    let mut last_restart: Option<DateTime<Utc>> = None;
    let mut last_sidecar_restart: Option<DateTime<Utc>> = None;

    let mut initializing = false;
    for (i, c) in array_at(pod, "/status/initContainerStatuses")
        .iter()
        .enumerate()
    {
        let count = int_at(c, "/restartCount");
        restarts += count;
        last_restart = later(last_restart, c);
        let sidecar = is_sidecar(str_at(c, "/name"));
        if sidecar {
            sidecar_restarts += count;
            last_sidecar_restart = later(last_sidecar_restart, c);
        }
        let terminated = c.pointer("/state/terminated").filter(|t| t.is_object());
        let waiting = c.pointer("/state/waiting").filter(|w| w.is_object());
        if terminated.is_some_and(|t| int_at(t, "/exitCode") == 0) {
            continue;
        }
        if sidecar && bool_at(c, "/started") {
            if bool_at(c, "/ready") {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = terminated_reason(t, "Init:");
        } else if let Some(w) = waiting
            .map(|w| str_at(w, "/reason"))
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason = format!("Init:{w}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }

    if !initializing || condition_true(pod, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for c in array_at(pod, "/status/containerStatuses").iter().rev() {
            restarts += int_at(c, "/restartCount");
            last_restart = later(last_restart, c);
            let waiting_reason = str_at(c, "/state/waiting/reason");
            let terminated = c.pointer("/state/terminated").filter(|t| t.is_object());
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = terminated {
                reason = terminated_reason(t, "");
            } else if bool_at(c, "/ready")
                && c.pointer("/state/running").is_some_and(Value::is_object)
            {
                has_running = true;
                ready += 1;
            }
        }
        // A completed container next to a running one: the pod is still running.
        if reason == "Completed" && has_running {
            reason = if condition_true(pod, "Ready") {
                "Running".to_string()
            } else {
                "NotReady".to_string()
            };
        }
    }

    if super::format::is_deleting(pod) {
        if status_reason == "NodeLost" {
            reason = "Unknown".to_string();
        } else if phase != "Failed" && phase != "Succeeded" {
            reason = "Terminating".to_string();
        }
    }

    let restarts_text = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(t), now)),
        _ => restarts.to_string(),
    };
    (format!("{ready}/{total}"), reason, restarts_text)
}

fn cells(pod: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (ready, status, restarts) = summarize(pod, now);
    // Conversion from v1 fills podIPs from podIP; read both.
    let pod_ip = array_at(pod, "/status/podIPs")
        .first()
        .map(|ip| str_at(ip, "/ip"))
        .unwrap_or_else(|| str_at(pod, "/status/podIP"));
    let gates = array_at(pod, "/spec/readinessGates");
    let readiness_gates = if gates.is_empty() {
        NONE.to_string()
    } else {
        let conditions = array_at(pod, "/status/conditions");
        let true_count = gates
            .iter()
            .filter(|g| {
                let kind = str_at(g, "/conditionType");
                conditions
                    .iter()
                    .find(|c| str_at(c, "/type") == kind)
                    .is_some_and(|c| str_at(c, "/status") == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };
    vec![
        super::format::name(pod),
        s(ready),
        s(status),
        s(restarts),
        super::format::age(pod, now),
        or_none(pod_ip),
        or_none(str_at(pod, "/spec/nodeName")),
        or_none(str_at(pod, "/status/nominatedNodeName")),
        s(readiness_gates),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        super::super::format::parse_time("2025-01-01T12:00:00Z").unwrap()
    }

    fn pod(spec: Value, status: Value) -> Value {
        json!({
            "metadata": {"name": "web-0", "creationTimestamp": "2025-01-01T11:00:00Z"},
            "spec": spec,
            "status": status,
        })
    }

    #[test]
    fn running_pod_with_restarts_shows_when_it_last_restarted() {
        let p = pod(
            json!({"containers": [{"name": "app", "image": "nginx"}], "nodeName": "node-1"}),
            json!({
                "phase": "Running",
                "podIP": "10.244.0.5",
                "podIPs": [{"ip": "10.244.0.5"}],
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{
                    "name": "app", "ready": true, "restartCount": 2,
                    "state": {"running": {"startedAt": "2025-01-01T11:55:00Z"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                        "finishedAt": "2025-01-01T11:55:00Z"}}
                }]
            }),
        );
        assert_eq!(
            cells(&p, now()),
            vec![
                json!("web-0"),
                json!("1/1"),
                json!("Running"),
                json!("2 (5m ago)"),
                json!("60m"),
                json!("10.244.0.5"),
                json!("node-1"),
                json!("<none>"),
                json!("<none>"),
            ]
        );
    }

    #[test]
    fn crash_looping_container_shows_the_waiting_reason() {
        let p = pod(
            json!({"containers": [{"name": "app"}]}),
            json!({
                "phase": "Running",
                "containerStatuses": [{
                    "name": "app", "ready": false, "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1,
                        "finishedAt": "2025-01-01T11:59:30Z"}}
                }]
            }),
        );
        let (ready, status, restarts) = summarize(&p, now());
        assert_eq!(
            (ready.as_str(), status.as_str(), restarts.as_str()),
            ("0/1", "CrashLoopBackOff", "4 (30s ago)")
        );
    }

    #[test]
    fn deleting_pod_is_terminating_unless_finished() {
        let mut p = pod(
            json!({"containers": [{"name": "app"}]}),
            json!({"phase": "Running", "containerStatuses": [{"name": "app", "ready": true,
                "restartCount": 0, "state": {"running": {}}}]}),
        );
        p["metadata"]["deletionTimestamp"] = json!("2025-01-01T11:59:00Z");
        assert_eq!(summarize(&p, now()).1, "Terminating");
        p["status"]["phase"] = json!("Succeeded");
        p["status"]["containerStatuses"][0]["state"] =
            json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
        assert_eq!(summarize(&p, now()).1, "Completed");
    }

    #[test]
    fn pending_and_initializing_pods() {
        let p = pod(
            json!({"containers": [{"name": "app"}]}),
            json!({"phase": "Pending"}),
        );
        assert_eq!(
            summarize(&p, now()),
            ("0/1".into(), "Pending".into(), "0".into())
        );

        let p = pod(
            json!({"containers": [{"name": "app"}]}),
            json!({"phase": "Pending", "containerStatuses": [{"name": "app", "ready": false,
                "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}),
        );
        assert_eq!(summarize(&p, now()).1, "ContainerCreating");

        let p = pod(
            json!({"initContainers": [{"name": "init"}], "containers": [{"name": "app"}]}),
            json!({"phase": "Pending",
                "initContainerStatuses": [{"name": "init", "ready": false, "restartCount": 0,
                    "state": {"running": {}}}],
                "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "PodInitializing"}}}]}),
        );
        assert_eq!(summarize(&p, now()).1, "Init:0/1");

        let p = pod(
            json!({"initContainers": [{"name": "init"}], "containers": [{"name": "app"}]}),
            json!({"phase": "Pending",
                "initContainerStatuses": [{"name": "init", "ready": false, "restartCount": 3,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}),
        );
        assert_eq!(summarize(&p, now()).1, "Init:CrashLoopBackOff");
    }

    #[test]
    fn sidecar_counts_as_a_container_and_completed_pod_gets_a_condition() {
        let p = pod(
            json!({"initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
                "containers": [{"name": "app"}]}),
            json!({"phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}],
                "initContainerStatuses": [{"name": "proxy", "ready": true, "started": true,
                    "restartCount": 0, "state": {"running": {}}}],
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0,
                    "state": {"running": {}}}]}),
        );
        assert_eq!(
            summarize(&p, now()),
            ("2/2".into(), "Running".into(), "0".into())
        );

        let done = pod(json!({"containers": []}), json!({"phase": "Succeeded"}));
        assert_eq!(conditions(&done)[0]["reason"], "Succeeded");
    }

    #[test]
    fn terminated_containers_and_readiness_gates() {
        let p = pod(
            json!({"containers": [{"name": "app"}]}),
            json!({"phase": "Failed", "containerStatuses": [{"name": "app", "ready": false,
                "restartCount": 0, "state": {"terminated": {"exitCode": 137}}}]}),
        );
        assert_eq!(summarize(&p, now()).1, "ExitCode:137");

        // One container finished, one still running, pod not Ready: NotReady.
        let p = pod(
            json!({"containers": [{"name": "a"}, {"name": "b"}],
                "readinessGates": [{"conditionType": "example.com/lb"},
                                   {"conditionType": "example.com/dns"}]}),
            json!({"phase": "Running",
                "conditions": [{"type": "Ready", "status": "False"},
                               {"type": "example.com/lb", "status": "True"}],
                "containerStatuses": [
                    {"name": "a", "ready": false, "restartCount": 0,
                        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                    {"name": "b", "ready": true, "restartCount": 0, "state": {"running": {}}}]}),
        );
        let c = cells(&p, now());
        assert_eq!(
            (&c[1], &c[2], &c[8]),
            (&json!("1/2"), &json!("NotReady"), &json!("1/2"))
        );
    }
}
