//! The Node's status as this kubelet sees it: conditions, addresses, capacity, nodeInfo and
//! images. Built fresh each period; posted only when it changed or the report is due.
use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{
    ContainerImage, DaemonEndpoint, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// What the status is computed from.
pub struct Observed {
    pub node_name: String,
    pub node_ip: IpAddr,
    pub kubelet_port: u16,
    pub capacity: BTreeMap<String, Quantity>,
    pub allocatable: BTreeMap<String, Quantity>,
    pub info: NodeSystemInfo,
    pub images: Vec<ContainerImage>,
    /// None when the runtime and network are ready, else why not.
    pub not_ready_reason: Option<String>,
    pub memory_pressure: bool,
    pub disk_pressure: bool,
    pub pid_pressure: bool,
}

/// One condition as upstream's kubelet phrases it.
fn condition(
    kind: &str,
    active: bool,
    previous: Option<&NodeCondition>,
    now: &Time,
) -> NodeCondition {
    let (status, reason, message) = match (kind, active) {
        ("Ready", true) => ("True", "KubeletReady", "kubelet is posting ready status"),
        ("Ready", false) => ("False", "KubeletNotReady", "container runtime is not ready"),
        ("MemoryPressure", false) => (
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        ("MemoryPressure", true) => (
            "True",
            "KubeletHasInsufficientMemory",
            "kubelet has insufficient memory available",
        ),
        ("DiskPressure", false) => (
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        ),
        ("DiskPressure", true) => (
            "True",
            "KubeletHasDiskPressure",
            "kubelet has disk pressure",
        ),
        ("PIDPressure", false) => (
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
        _ => (
            "True",
            "KubeletHasInsufficientPID",
            "kubelet has insufficient PID available",
        ),
    };
    // lastTransitionTime only moves when the status flips.
    let transition = match previous {
        Some(p) if p.status == status => p.last_transition_time.clone(),
        _ => Some(now.clone()),
    };
    NodeCondition {
        type_: kind.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_heartbeat_time: Some(now.clone()),
        last_transition_time: transition,
    }
}

/// The full status to post, keeping transition times from `previous`.
pub fn build(observed: &Observed, previous: Option<&NodeStatus>) -> NodeStatus {
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let prev = |kind: &str| {
        previous
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == kind))
    };
    let mut ready = condition(
        "Ready",
        observed.not_ready_reason.is_none(),
        prev("Ready"),
        &now,
    );
    if let Some(reason) = &observed.not_ready_reason {
        ready.message = Some(reason.clone());
    }
    let conditions = vec![
        condition(
            "MemoryPressure",
            observed.memory_pressure,
            prev("MemoryPressure"),
            &now,
        ),
        condition(
            "DiskPressure",
            observed.disk_pressure,
            prev("DiskPressure"),
            &now,
        ),
        condition(
            "PIDPressure",
            observed.pid_pressure,
            prev("PIDPressure"),
            &now,
        ),
        ready,
    ];
    NodeStatus {
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".into(),
                address: observed.node_ip.to_string(),
            },
            NodeAddress {
                type_: "Hostname".into(),
                address: observed.node_name.clone(),
            },
        ]),
        allocatable: Some(observed.allocatable.clone()),
        capacity: Some(observed.capacity.clone()),
        conditions: Some(conditions),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint {
                port: i32::from(observed.kubelet_port),
            }),
        }),
        images: Some(observed.images.clone()),
        node_info: Some(observed.info.clone()),
        ..Default::default()
    }
}

/// True when `new` differs from `old` in anything but heartbeat times — the signal to post
/// before the periodic report is due.
pub fn changed(old: &NodeStatus, new: &NodeStatus) -> bool {
    fn strip(status: &NodeStatus) -> serde_json::Value {
        let mut s = status.clone();
        for c in s.conditions.iter_mut().flatten() {
            c.last_heartbeat_time = None;
        }
        serde_json::to_value(s).unwrap_or_default()
    }
    strip(old) != strip(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(ready: bool) -> Observed {
        Observed {
            node_name: "n1".into(),
            node_ip: "127.0.0.1".parse().unwrap(),
            kubelet_port: 10250,
            capacity: BTreeMap::from([("pods".into(), Quantity("110".into()))]),
            allocatable: BTreeMap::from([("pods".into(), Quantity("110".into()))]),
            info: NodeSystemInfo::default(),
            images: vec![],
            not_ready_reason: (!ready).then(|| "runtime down".to_string()),
            memory_pressure: false,
            disk_pressure: false,
            pid_pressure: false,
        }
    }

    #[test]
    fn ready_condition_and_transition_times() {
        let first = build(&observed(false), None);
        let ready = |s: &NodeStatus| {
            s.conditions
                .as_ref()
                .unwrap()
                .iter()
                .find(|c| c.type_ == "Ready")
                .cloned()
                .unwrap()
        };
        assert_eq!(ready(&first).status, "False");
        assert_eq!(ready(&first).message.as_deref(), Some("runtime down"));
        std::thread::sleep(std::time::Duration::from_millis(5));
        let same = build(&observed(false), Some(&first));
        assert_eq!(
            ready(&same).last_transition_time,
            ready(&first).last_transition_time
        );
        assert!(!changed(&first, &same), "only heartbeats moved");
        let flipped = build(&observed(true), Some(&first));
        assert_eq!(ready(&flipped).status, "True");
        assert_ne!(
            ready(&flipped).last_transition_time,
            ready(&first).last_transition_time
        );
        assert!(changed(&first, &flipped));
        assert_eq!(
            flipped
                .daemon_endpoints
                .unwrap()
                .kubelet_endpoint
                .unwrap()
                .port,
            10250
        );
    }
}
