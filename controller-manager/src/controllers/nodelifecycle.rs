//! The node lifecycle controller: watches each node's heartbeats (its Lease in
//! `kube-node-lease` and its Ready condition) and, when none arrived within
//! `--node-monitor-grace-period`, marks the node's conditions Unknown and its pods not
//! ready. It keeps the condition taints (`node.kubernetes.io/not-ready|unreachable` with
//! NoSchedule and NoExecute, the pressure and unschedulable NoSchedule taints) in line
//! with the node's state; NoExecute taints are added at `--node-eviction-rate` per zone and
//! not at all while every zone has lost all its nodes (more likely our own view broke).
//! The taint eviction controller then evicts the pods.
//!
//! Heartbeat times are compared against our own clock at the moment we saw them change,
//! as upstream, so a skewed kubelet clock cannot fake liveness or death.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

use super::informer;
use super::nodelifecycle_state::{self as state, EvictionLimiter, ZoneState};
use super::taints::{self, NO_EXECUTE};

/// Namespace of the node heartbeat Leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// Settings, from upstream's flags of the same names.
#[derive(Debug, Clone)]
pub struct Config {
    /// `--node-monitor-period`: how often nodes are checked.
    pub monitor_period: Duration,
    /// `--node-monitor-grace-period`: silence after which a node is Unknown.
    pub grace_period: Duration,
    /// `--node-startup-grace-period`: the same for a node that never posted status.
    pub startup_grace_period: Duration,
    /// `--node-eviction-rate`: nodes tainted NoExecute per second in a healthy zone.
    pub eviction_rate: f64,
    /// `--secondary-node-eviction-rate`: the same in a partially disrupted large zone.
    pub secondary_eviction_rate: f64,
}

/// What we remember of a node between checks.
struct Health {
    /// When we last saw a heartbeat change.
    probe: Instant,
    /// The heartbeat we saw then: Ready's lastHeartbeatTime and the Lease's renewTime.
    observed: (Option<String>, Option<String>),
    /// Ready's status at the previous check.
    ready: Option<String>,
}

/// Run forever.
pub async fn run(client: Client, config: Config) {
    let nodes = informer::store(Api::<Node>::all(client.clone()), watcher::Config::default()).await;
    let leases = informer::store(
        Api::<Lease>::namespaced(client.clone(), NODE_LEASE_NAMESPACE),
        watcher::Config::default(),
    )
    .await;
    let mut health: HashMap<String, Health> = HashMap::new();
    let mut limiters: HashMap<String, EvictionLimiter> = HashMap::new();
    loop {
        if let Err(e) = monitor(
            &client,
            &config,
            &nodes,
            &leases,
            &mut health,
            &mut limiters,
        )
        .await
        {
            tracing::warn!(error = %e, "node lifecycle: check failed");
        }
        tokio::time::sleep(config.monitor_period).await;
    }
}

fn now_time() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

/// One pass over all nodes (upstream's `monitorNodeHealth`).
async fn monitor(
    client: &Client,
    config: &Config,
    nodes: &Store<Node>,
    leases: &Store<Lease>,
    health: &mut HashMap<String, Health>,
    limiters: &mut HashMap<String, EvictionLimiter>,
) -> Result<(), kube::Error> {
    let api: Api<Node> = Api::all(client.clone());
    let now = Instant::now();
    let all = nodes.state();
    health.retain(|name, _| all.iter().any(|n| &n.name_any() == name));
    let mut views: Vec<Node> = Vec::with_capacity(all.len());
    for node in all.iter() {
        let name = node.name_any();
        let heartbeat = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
            .and_then(|c| c.last_heartbeat_time.as_ref())
            .map(|t| t.0.to_string());
        let renew = leases
            .get(&ObjectRef::new(&name).within(NODE_LEASE_NAMESPACE))
            .and_then(|l| {
                l.spec
                    .as_ref()?
                    .renew_time
                    .as_ref()
                    .map(|t| t.0.to_string())
            });
        let observed = (heartbeat, renew);
        let ready_before = state::ready_status(node).map(str::to_string);
        let entry = health.entry(name.clone()).or_insert_with(|| Health {
            probe: now,
            observed: observed.clone(),
            ready: ready_before.clone(),
        });
        if entry.observed != observed {
            entry.probe = now;
            entry.observed = observed;
        }
        let grace = if ready_before.is_none() {
            config.startup_grace_period
        } else {
            config.grace_period
        };
        let mut view = (**node).clone();
        if now.duration_since(entry.probe) > grace {
            if let Some(conditions) = state::silenced_conditions(node, now_time()) {
                let patch = json!({"metadata": {"resourceVersion": node.resource_version()},
                                   "status": {"conditions": conditions}});
                match api
                    .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                {
                    Ok(updated) => {
                        tracing::info!(node = %name, "node stopped posting status: Ready is Unknown");
                        view = updated;
                    }
                    // The kubelet wrote meanwhile: it is alive; look again next period.
                    Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let ready_now = state::ready_status(&view).map(str::to_string);
        if entry.ready.as_deref() == Some("True") && ready_now.as_deref() != Some("True") {
            mark_pods_not_ready(client, &name).await?;
        }
        entry.ready = ready_now;
        views.push(view);
    }

    let zones = state::zone_states(&views);
    let all_disrupted =
        !zones.is_empty() && zones.values().all(|z| *z == ZoneState::FullDisruption);
    let mut zone_sizes: HashMap<String, usize> = HashMap::new();
    for n in &views {
        *zone_sizes.entry(state::zone_of(n)).or_default() += 1;
    }
    for (zone, zs) in &zones {
        let rate = match zs {
            ZoneState::Normal => config.eviction_rate,
            ZoneState::PartialDisruption
                if zone_sizes.get(zone).copied().unwrap_or(0) > state::LARGE_CLUSTER_THRESHOLD =>
            {
                config.secondary_eviction_rate
            }
            _ => 0.0,
        };
        limiters
            .entry(zone.clone())
            .or_insert_with(|| EvictionLimiter::new(rate))
            .set_rate(rate);
    }

    for node in &views {
        let current = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.clone())
            .unwrap_or_default();
        let has_no_execute = |key: &str| {
            current
                .iter()
                .any(|t| t.key == key && t.effect == NO_EXECUTE)
        };
        let no_execute = match state::no_execute_key(node) {
            None => None,
            // Every zone lost every node: assume our view broke and evict no one.
            Some(_) if all_disrupted => None,
            // Already tainted, or swapping not-ready <-> unreachable: no rate limit.
            Some(key)
                if has_no_execute(taints::NOT_READY) || has_no_execute(taints::UNREACHABLE) =>
            {
                Some(key)
            }
            Some(key) => {
                let limiter = limiters
                    .entry(state::zone_of(node))
                    .or_insert_with(|| EvictionLimiter::new(config.eviction_rate));
                limiter.try_accept(now).then_some(key)
            }
        };
        let wanted = state::reconcile_taints(
            &current,
            &state::no_schedule_taints(node),
            no_execute,
            now_time(),
        );
        if wanted == current {
            continue;
        }
        let patch = json!({"metadata": {"resourceVersion": node.resource_version()},
                           "spec": {"taints": wanted}});
        match api
            .patch(
                &node.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
        {
            Ok(_) => tracing::info!(node = %node.name_any(),
                taints = ?wanted.iter().map(|t| format!("{}:{}", t.key, t.effect)).collect::<Vec<_>>(),
                "updated node taints"),
            Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Set the Ready condition of every pod bound to `node` to False (upstream's
/// `MarkPodsNotReady`), so Services stop sending them traffic.
async fn mark_pods_not_ready(client: &Client, node: &str) -> Result<(), kube::Error> {
    let api: Api<Pod> = Api::all(client.clone());
    let pods = api
        .list(&ListParams::default().fields(&format!("spec.nodeName={node}")))
        .await?;
    for pod in pods
        .items
        .into_iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node))
    {
        let Some(mut conditions) = pod.status.as_ref().and_then(|s| s.conditions.clone()) else {
            continue;
        };
        let Some(ready) = conditions.iter_mut().find(|c| c.type_ == "Ready") else {
            continue;
        };
        if ready.status == "False" {
            continue;
        }
        ready.status = "False".into();
        ready.last_transition_time = Some(now_time());
        let ns = pod.namespace().unwrap_or_default();
        let patch = json!({"metadata": {"resourceVersion": pod.resource_version()},
                           "status": {"conditions": conditions}});
        match Api::<Pod>::namespaced(client.clone(), &ns)
            .patch_status(
                &pod.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
        {
            Ok(_) => tracing::info!(pod = %pod.name_any(), node, "marked pod not ready"),
            Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
