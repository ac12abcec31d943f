//! The pure part of the node lifecycle controller: which conditions a silent node gets,
//! which taints its conditions call for, the health of a zone, and the eviction rate
//! limiter (upstream's `pkg/controller/nodelifecycle`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, NodeCondition, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::taints::{self, NO_EXECUTE, NO_SCHEDULE};

/// Reason set on conditions of a node whose kubelet stopped posting status.
pub const NODE_STATUS_UNKNOWN: &str = "NodeStatusUnknown";
/// Message set with [`NODE_STATUS_UNKNOWN`].
pub const STOPPED_POSTING: &str = "Kubelet stopped posting node status.";
/// Reason for a condition the kubelet never posted.
pub const NODE_STATUS_NEVER_UPDATED: &str = "NodeStatusNeverUpdated";
/// Message set with [`NODE_STATUS_NEVER_UPDATED`].
pub const NEVER_POSTED: &str = "Kubelet never posted node status.";
/// The conditions upstream marks Unknown besides Ready.
pub const WATCHED_CONDITIONS: [&str; 4] =
    ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// The status of the node's Ready condition, `None` when absent.
pub fn ready_status(node: &Node) -> Option<&str> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.as_str())
}

fn condition_true(node: &Node, type_: &str) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == type_ && c.status == "True"))
}

/// The conditions of a node whose kubelet fell silent: Ready and the pressure conditions
/// become Unknown (kept heartbeat, new transition time); absent ones are added as never
/// posted. `None` when they already are all Unknown.
pub fn silenced_conditions(node: &Node, now: Time) -> Option<Vec<NodeCondition>> {
    let mut conditions = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let mut changed = false;
    for type_ in WATCHED_CONDITIONS {
        match conditions.iter_mut().find(|c| c.type_ == type_) {
            Some(c) if c.status == "Unknown" => {}
            Some(c) => {
                c.status = "Unknown".into();
                c.reason = Some(NODE_STATUS_UNKNOWN.into());
                c.message = Some(STOPPED_POSTING.into());
                c.last_transition_time = Some(now.clone());
                changed = true;
            }
            None => {
                conditions.push(NodeCondition {
                    type_: type_.into(),
                    status: "Unknown".into(),
                    reason: Some(NODE_STATUS_NEVER_UPDATED.into()),
                    message: Some(NEVER_POSTED.into()),
                    last_heartbeat_time: Some(now.clone()),
                    last_transition_time: Some(now.clone()),
                });
                changed = true;
            }
        }
    }
    changed.then_some(conditions)
}

/// The NoSchedule taints the node's conditions and spec call for (upstream's
/// taint-nodes-by-condition).
pub fn no_schedule_taints(node: &Node) -> Vec<Taint> {
    let mut keys = Vec::new();
    match ready_status(node) {
        Some("False") => keys.push(taints::NOT_READY),
        Some("Unknown") => keys.push(taints::UNREACHABLE),
        _ => {}
    }
    for (cond, key) in [
        ("MemoryPressure", taints::MEMORY_PRESSURE),
        ("DiskPressure", taints::DISK_PRESSURE),
        ("PIDPressure", taints::PID_PRESSURE),
        ("NetworkUnavailable", taints::NETWORK_UNAVAILABLE),
    ] {
        if condition_true(node, cond) {
            keys.push(key);
        }
    }
    if node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
    {
        keys.push(taints::UNSCHEDULABLE);
    }
    keys.into_iter()
        .map(|k| taints::taint(k, NO_SCHEDULE))
        .collect()
}

/// The NoExecute taint key the Ready condition calls for: not-ready when False,
/// unreachable when Unknown (or absent), none when True.
pub fn no_execute_key(node: &Node) -> Option<&'static str> {
    match ready_status(node) {
        Some("True") => None,
        Some("False") => Some(taints::NOT_READY),
        _ => Some(taints::UNREACHABLE),
    }
}

/// Whether `taint` is one this controller owns (and may remove).
fn managed(taint: &Taint) -> bool {
    let keys = [
        taints::NOT_READY,
        taints::UNREACHABLE,
        taints::MEMORY_PRESSURE,
        taints::DISK_PRESSURE,
        taints::PID_PRESSURE,
        taints::NETWORK_UNAVAILABLE,
        taints::UNSCHEDULABLE,
    ];
    keys.contains(&taint.key.as_str())
        && (taint.effect == NO_SCHEDULE || taint.effect == NO_EXECUTE)
}

/// The node's taints after reconciling our own: `no_schedule` as computed,
/// `no_execute` the one NoExecute taint wanted (None: remove ours). Taints of others stay
/// untouched, and a NoExecute taint already present keeps its `timeAdded`.
pub fn reconcile_taints(
    current: &[Taint],
    no_schedule: &[Taint],
    no_execute: Option<&str>,
    now: Time,
) -> Vec<Taint> {
    let mut out: Vec<Taint> = current
        .iter()
        .filter(|t| {
            if !managed(t) {
                return true;
            }
            if t.effect == NO_SCHEDULE {
                no_schedule.iter().any(|w| w.key == t.key)
            } else {
                no_execute == Some(t.key.as_str())
            }
        })
        .cloned()
        .collect();
    for want in no_schedule {
        if !out
            .iter()
            .any(|t| t.key == want.key && t.effect == NO_SCHEDULE)
        {
            out.push(want.clone());
        }
    }
    if let Some(key) = no_execute {
        if !out.iter().any(|t| t.key == key && t.effect == NO_EXECUTE) {
            out.push(Taint {
                time_added: Some(now),
                ..taints::taint(key, NO_EXECUTE)
            });
        }
    }
    out
}

/// A zone's health (upstream's `ComputeZoneState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneState {
    /// Evict at the normal rate.
    Normal,
    /// At least 3 and at least 55% of the zone's nodes are not ready: evict slower, or
    /// not at all in small clusters.
    PartialDisruption,
    /// No ready node: stop evicting (it is more likely our view than the zone that broke).
    FullDisruption,
}

/// Fraction of not-ready nodes at which a zone counts as partially disrupted.
pub const UNHEALTHY_ZONE_THRESHOLD: f64 = 0.55;
/// Clusters up to this size stop evicting in partially disrupted zones.
pub const LARGE_CLUSTER_THRESHOLD: usize = 50;

/// The zone a node belongs to: region and zone labels, as upstream's `GetZoneKey`.
pub fn zone_of(node: &Node) -> String {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let get = |k: &str| labels.get(k).cloned().unwrap_or_default();
    format!(
        "{}:\x00:{}",
        get("topology.kubernetes.io/region"),
        get("topology.kubernetes.io/zone")
    )
}

/// The state of each zone from its nodes' Ready conditions.
pub fn zone_states(nodes: &[Node]) -> BTreeMap<String, ZoneState> {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for node in nodes {
        let entry = counts.entry(zone_of(node)).or_default();
        if ready_status(node) == Some("True") {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    counts
        .into_iter()
        .map(|(zone, (ready, not_ready))| {
            let state = if ready == 0 && not_ready > 0 {
                ZoneState::FullDisruption
            } else if not_ready > 2
                && not_ready as f64 / (ready + not_ready) as f64 >= UNHEALTHY_ZONE_THRESHOLD
            {
                ZoneState::PartialDisruption
            } else {
                ZoneState::Normal
            };
            (zone, state)
        })
        .collect()
}

/// A token bucket (burst 1) pacing NoExecute tainting, as upstream's
/// `RateLimitedTimedQueue` with `--node-eviction-rate`.
#[derive(Debug)]
pub struct EvictionLimiter {
    qps: f64,
    last: Option<Instant>,
}

impl EvictionLimiter {
    /// A limiter allowing `qps` taintings per second (0 allows none).
    pub fn new(qps: f64) -> Self {
        EvictionLimiter { qps, last: None }
    }

    /// Change the rate (zone state changed).
    pub fn set_rate(&mut self, qps: f64) {
        self.qps = qps;
    }

    /// Take a token if one is available at `now`.
    pub fn try_accept(&mut self, now: Instant) -> bool {
        if self.qps <= 0.0 {
            return false;
        }
        let interval = Duration::from_secs_f64(1.0 / self.qps);
        match self.last {
            Some(last) if now.duration_since(last) < interval => false,
            _ => {
                self.last = Some(now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeSpec, NodeStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn now() -> Time {
        Time(k8s_openapi::jiff::Timestamp::now())
    }

    fn node(ready: Option<&str>) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some("n".into()),
                ..Default::default()
            },
            spec: Some(NodeSpec::default()),
            status: Some(NodeStatus {
                conditions: ready.map(|s| {
                    vec![NodeCondition {
                        type_: "Ready".into(),
                        status: s.into(),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn silent_nodes_get_unknown_conditions_once() {
        let n = node(Some("True"));
        let conds = silenced_conditions(&n, now()).expect("changed");
        let ready = conds.iter().find(|c| c.type_ == "Ready").expect("ready");
        assert_eq!(ready.status, "Unknown");
        assert_eq!(ready.reason.as_deref(), Some(NODE_STATUS_UNKNOWN));
        assert_eq!(ready.message.as_deref(), Some(STOPPED_POSTING));
        assert_eq!(conds.len(), 4);
        let mut again = n.clone();
        if let Some(s) = again.status.as_mut() {
            s.conditions = Some(conds);
        }
        assert!(silenced_conditions(&again, now()).is_none());
    }

    #[test]
    fn taints_follow_ready_and_keep_foreign_ones() {
        let unknown = node(Some("Unknown"));
        assert_eq!(no_execute_key(&unknown), Some(taints::UNREACHABLE));
        assert_eq!(
            no_execute_key(&node(Some("False"))),
            Some(taints::NOT_READY)
        );
        assert_eq!(no_execute_key(&node(Some("True"))), None);
        let foreign = taints::taint("dedicated", NO_SCHEDULE);
        let t = reconcile_taints(
            std::slice::from_ref(&foreign),
            &no_schedule_taints(&unknown),
            no_execute_key(&unknown),
            now(),
        );
        let keys: Vec<(&str, &str)> = t
            .iter()
            .map(|t| (t.key.as_str(), t.effect.as_str()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("dedicated", NO_SCHEDULE),
                (taints::UNREACHABLE, NO_SCHEDULE),
                (taints::UNREACHABLE, NO_EXECUTE)
            ]
        );
        assert!(t[2].time_added.is_some());
        // Back to ready: ours go, the foreign one stays.
        let back = reconcile_taints(&t, &no_schedule_taints(&node(Some("True"))), None, now());
        assert_eq!(back, vec![foreign]);
    }

    #[test]
    fn zones_with_no_ready_node_are_fully_disrupted() {
        let states = zone_states(&[node(Some("Unknown")), node(Some("False"))]);
        assert_eq!(states.values().next(), Some(&ZoneState::FullDisruption));
        let states = zone_states(&[node(Some("Unknown")), node(Some("True"))]);
        assert_eq!(states.values().next(), Some(&ZoneState::Normal));
        let mut many: Vec<Node> = (0..3).map(|_| node(Some("Unknown"))).collect();
        many.push(node(Some("True")));
        assert_eq!(
            zone_states(&many).values().next(),
            Some(&ZoneState::PartialDisruption)
        );
    }

    #[test]
    fn limiter_paces_and_zero_rate_blocks() {
        let t0 = Instant::now();
        let mut l = EvictionLimiter::new(0.1);
        assert!(l.try_accept(t0));
        assert!(!l.try_accept(t0 + Duration::from_secs(5)));
        assert!(l.try_accept(t0 + Duration::from_secs(10)));
        let mut none = EvictionLimiter::new(0.0);
        assert!(!none.try_accept(t0));
    }
}
