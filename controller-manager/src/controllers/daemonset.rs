//! The DaemonSet controller: one daemon pod on every node that should run it (node
//! selector, required node affinity, taints against the template's tolerations plus the
//! daemon defaults). Pods are created pinned to their node by required node affinity
//! `metadata.name In [node]` and bound by the scheduler, as upstream. Updates roll per
//! `updateStrategy` (RollingUpdate with maxUnavailable / maxSurge, or OnDelete), tracked
//! with ControllerRevisions whose hash labels the pods.
//!
//! Node changes that matter (existence, labels, taints) requeue every DaemonSet.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::events::Recorder;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, ListParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Client, ResourceExt};
use serde_json::json;

use super::controller_history::{self, CONTROLLER_REVISION_HASH};
use super::daemonset_util::{self, DaemonPod, NodeState};
use super::{pod_control, podutil, ref_manager, selector};

/// Revisions kept by default (spec.revisionHistoryLimit).
const DEFAULT_HISTORY_LIMIT: i32 = 10;

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    #[error("DaemonSet has no namespace")]
    NoNamespace,
}

struct Context {
    client: Client,
    recorder: Recorder,
    nodes: Store<Node>,
}

/// What about a node makes a DaemonSet's decision change.
fn node_fingerprint(node: &Node) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    node.labels().hash(&mut h);
    let spec = node.spec.clone().unwrap_or_default();
    serde_json::to_string(&spec.taints)
        .unwrap_or_default()
        .hash(&mut h);
    spec.unschedulable.hash(&mut h);
    h.finish()
}

/// Run until the watch streams end.
pub async fn run(client: Client) {
    let sets: Api<DaemonSet> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    let revisions: Api<ControllerRevision> = Api::all(client.clone());
    let nodes_api: Api<Node> = Api::all(client.clone());
    let (nodes, writer) = reflector::store();
    let seen: Mutex<HashMap<String, u64>> = Mutex::new(HashMap::new());
    // Only node changes that can change a decision requeue the DaemonSets (not the
    // periodic status heartbeats).
    let node_changes = reflector::reflector(writer, watcher(nodes_api, watcher::Config::default()))
        .default_backoff()
        .filter_map(move |event| {
            let changed = match event {
                Ok(watcher::Event::Apply(n)) | Ok(watcher::Event::InitApply(n)) => {
                    let fp = node_fingerprint(&n);
                    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                    seen.insert(n.name_any(), fp) != Some(fp)
                }
                Ok(watcher::Event::Delete(n)) => {
                    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                    seen.remove(&n.name_any());
                    true
                }
                Ok(watcher::Event::InitDone) => true,
                _ => false,
            };
            futures::future::ready(changed.then_some(()))
        });
    let ctx = Arc::new(Context {
        recorder: Recorder::new(client.clone(), "daemonset-controller"),
        client,
        nodes: nodes.clone(),
    });
    let results = Controller::new(sets, watcher::Config::default())
        .owns(pods, watcher::Config::default())
        .owns(revisions, watcher::Config::default())
        .reconcile_all_on(node_changes)
        .run(reconcile, error_policy, ctx);
    super::drain("daemonset", results).await;
}

fn error_policy(_ds: Arc<DaemonSet>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

fn owner_ref(ds: &DaemonSet) -> OwnerReference {
    podutil::controller_ref(
        "apps/v1",
        "DaemonSet",
        &ds.name_any(),
        &ds.uid().unwrap_or_default(),
    )
}

fn created_at(pod: &Pod) -> i64 {
    pod.metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .unwrap_or_default()
}

async fn reconcile(ds: Arc<DaemonSet>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = ds.namespace().ok_or(Error::NoNamespace)?;
    let Some(spec) = ds.spec.as_ref() else {
        return Ok(Action::await_change());
    };
    if ds.metadata.deletion_timestamp.is_some() || selector::is_empty(&spec.selector) {
        return Ok(Action::await_change());
    }
    if ctx.nodes.wait_until_ready().await.is_err() {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let uid = ds.uid().unwrap_or_default();
    let rev_api: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &ns);
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let status = ds.status.clone().unwrap_or_default();

    let revisions = controller_history::list_owned(&rev_api, &uid).await?;
    let labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let ensured = controller_history::ensure(
        &rev_api,
        &owner_ref(&ds),
        &labels,
        &spec.template,
        status.collision_count.unwrap_or(0),
        &revisions,
    )
    .await?;
    let hash = ensured
        .revision
        .labels()
        .get(CONTROLLER_REVISION_HASH)
        .cloned()
        .unwrap_or_default();

    // Our pods, adopting orphans that match the selector.
    let mut owned = Vec::new();
    for pod in pods_api.list(&ListParams::default()).await?.items {
        let selected = selector::matches(&spec.selector, pod.labels());
        match podutil::controller_of(&pod.metadata) {
            Some(r) if r.uid == uid => {
                if selected {
                    owned.push(pod);
                } else {
                    ref_manager::release(&pods_api, &pod, &uid).await?;
                }
            }
            Some(_) => {}
            None if selected && podutil::is_active(&pod) => {
                if let Some(p) = ref_manager::adopt(&pods_api, &pod, owner_ref(&ds)).await? {
                    owned.push(p);
                }
            }
            None => {}
        }
    }

    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let mut by_node: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
    let mut orphaned = Vec::new();
    for pod in &owned {
        match daemonset_util::target_node(pod) {
            Some(n) => by_node.entry(n).or_default().push(pod),
            None => orphaned.push(pod.name_any()),
        }
    }
    let nodes = ctx.nodes.state();
    let node_names: HashSet<String> = nodes.iter().map(|n| n.name_any()).collect();
    // Pods pinned to nodes that no longer exist go (upstream deletes them too).
    for (node, pods) in &by_node {
        if !node_names.contains(node) {
            orphaned.extend(
                pods.iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                    .map(|p| p.name_any()),
            );
        }
    }
    let states: Vec<NodeState> = nodes
        .iter()
        .map(|node| {
            let (should_run, should_continue) = daemonset_util::should_run(&ds, node);
            let pods = by_node
                .get(&node.name_any())
                .map(|pods| {
                    pods.iter()
                        .map(|p| {
                            let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
                            DaemonPod {
                                name: p.name_any(),
                                updated: p.labels().get(CONTROLLER_REVISION_HASH) == Some(&hash),
                                terminating: p.metadata.deletion_timestamp.is_some(),
                                finished: matches!(phase, Some("Failed" | "Succeeded")),
                                ready: podutil::is_ready(p),
                                available: podutil::is_available(p, min_ready),
                                created: created_at(p),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            NodeState {
                name: node.name_any(),
                should_run,
                should_continue,
                pods,
            }
        })
        .collect();
    let desired = states.iter().filter(|s| s.should_run).count() as i32;
    let strategy = daemonset_util::resolve_strategy(&ds, desired);
    let mut plan = daemonset_util::plan(&states, strategy);
    plan.delete.extend(orphaned);

    for name in &plan.delete {
        match pod_control::delete(&pods_api, name, ds.as_ref(), &ctx.recorder).await {
            Ok(()) => tracing::info!(daemonset = %ds.name_any(), pod = %name, "deleted daemon pod"),
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    let generation = ds.metadata.generation.unwrap_or(0);
    let creations = plan.create_on.iter().map(|node| {
        let pod = new_pod(&ds, node, &hash, generation);
        let (api, ds, recorder) = (pods_api.clone(), ds.clone(), ctx.recorder.clone());
        async move { pod_control::create(&api, &pod, ds.as_ref(), &recorder).await }
    });
    for result in futures::future::join_all(creations).await {
        result?;
    }
    if !plan.create_on.is_empty() {
        tracing::info!(daemonset = %ds.name_any(), nodes = ?plan.create_on, "created daemon pods");
    }

    update_status(&ctx.client, &ds, &states, ensured.collision_count).await?;

    let mut live: HashSet<String> = owned
        .iter()
        .filter_map(|p| p.labels().get(CONTROLLER_REVISION_HASH).cloned())
        .collect();
    live.insert(hash.clone());
    let all = controller_history::list_owned(&rev_api, &uid).await?;
    let live_names: HashSet<String> = all
        .iter()
        .filter(|r| {
            r.labels()
                .get(CONTROLLER_REVISION_HASH)
                .is_some_and(|h| live.contains(h))
        })
        .map(|r| r.name_any())
        .collect();
    let doomed = controller_history::to_truncate(
        &all,
        &live_names,
        spec.revision_history_limit.unwrap_or(DEFAULT_HISTORY_LIMIT),
    );
    controller_history::delete(&rev_api, &doomed).await?;

    if min_ready > 0 {
        return Ok(Action::requeue(
            Duration::from_secs(min_ready.max(1) as u64),
        ));
    }
    Ok(Action::await_change())
}

/// The daemon pod for `node` (upstream's `NewPod` + revision labels).
pub fn new_pod(ds: &DaemonSet, node: &str, hash: &str, generation: i64) -> Pod {
    let template = ds
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let t = daemonset_util::pod_template_for(&template, node);
    let tmeta = t.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", ds.name_any())),
            namespace: ds.namespace(),
            labels: Some(daemonset_util::pod_labels(&template, hash, generation)),
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![owner_ref(ds)]),
            ..Default::default()
        },
        spec: t.spec,
        status: None,
    }
}

/// The counts upstream reports (`updateDaemonSetStatus`).
#[derive(Debug, Default, PartialEq)]
pub struct Counts {
    pub desired: i32,
    pub current: i32,
    pub misscheduled: i32,
    pub ready: i32,
    pub available: i32,
    pub updated: i32,
}

/// Count per node: scheduled where it should run, misscheduled where it should not.
pub fn counts(states: &[NodeState]) -> Counts {
    let mut c = Counts::default();
    for s in states {
        let live: Vec<&DaemonPod> = s.pods.iter().filter(|p| !p.terminating).collect();
        if s.should_run {
            c.desired += 1;
            if let Some(oldest) = live.iter().min_by_key(|p| p.created) {
                c.current += 1;
                if oldest.ready {
                    c.ready += 1;
                }
                if oldest.available {
                    c.available += 1;
                }
            }
            if live.iter().any(|p| p.updated) {
                c.updated += 1;
            }
        } else if !live.is_empty() {
            c.misscheduled += 1;
        }
    }
    c
}

async fn update_status(
    client: &Client,
    ds: &DaemonSet,
    states: &[NodeState],
    collision_count: i32,
) -> Result<(), Error> {
    let ns = ds.namespace().unwrap_or_default();
    let c = counts(states);
    let status = json!({
        "observedGeneration": ds.metadata.generation.unwrap_or(0),
        "desiredNumberScheduled": c.desired,
        "currentNumberScheduled": c.current,
        "numberMisscheduled": c.misscheduled,
        "numberReady": c.ready,
        "numberAvailable": c.available,
        "numberUnavailable": c.desired - c.available,
        "updatedNumberScheduled": c.updated,
        "collisionCount": collision_count,
    });
    let old = serde_json::to_value(ds.status.clone().unwrap_or_default()).unwrap_or_default();
    let unchanged = status
        .as_object()
        .is_some_and(|m| m.iter().all(|(k, v)| old.get(k).unwrap_or(&json!(0)) == v));
    if unchanged {
        return Ok(());
    }
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), &ns);
    super::status::patch_status(&api, &ds.name_any(), &status).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dpod(name: &str, updated: bool, available: bool) -> DaemonPod {
        DaemonPod {
            name: name.into(),
            updated,
            terminating: false,
            finished: false,
            ready: available,
            available,
            created: 0,
        }
    }

    #[test]
    fn status_counts_desired_current_misscheduled_updated() {
        let states = vec![
            NodeState {
                name: "a".into(),
                should_run: true,
                should_continue: true,
                pods: vec![dpod("pa", true, true)],
            },
            NodeState {
                name: "b".into(),
                should_run: true,
                should_continue: true,
                pods: vec![dpod("pb", false, false)],
            },
            NodeState {
                name: "c".into(),
                should_run: true,
                should_continue: true,
                pods: vec![],
            },
            NodeState {
                name: "d".into(),
                should_run: false,
                should_continue: true,
                pods: vec![dpod("pd", true, true)],
            },
        ];
        let c = counts(&states);
        assert_eq!(
            c,
            Counts {
                desired: 3,
                current: 2,
                misscheduled: 1,
                ready: 1,
                available: 1,
                updated: 1
            }
        );
    }

    #[test]
    fn new_pods_carry_hash_generation_and_owner() {
        let ds = DaemonSet {
            metadata: ObjectMeta {
                name: Some("agent".into()),
                namespace: Some("kube-system".into()),
                uid: Some("u".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let pod = new_pod(&ds, "n1", "abc", 3);
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        assert_eq!(
            labels.get("controller-revision-hash").map(String::as_str),
            Some("abc")
        );
        assert_eq!(
            labels.get("pod-template-generation").map(String::as_str),
            Some("3")
        );
        assert_eq!(pod.metadata.generate_name.as_deref(), Some("agent-"));
        assert_eq!(daemonset_util::target_node(&pod).as_deref(), Some("n1"));
    }
}
