//! Pod, node, PodDisruptionBudget and volume (PersistentVolume, PersistentVolumeClaim,
//! StorageClass) informers: reflector stores the cycle reads, plus the queue and cache
//! bookkeeping each watch event implies (upstream's event handlers).

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Node, PersistentVolume, PersistentVolumeClaim, Pod, ReplicationController, Service,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client};

use crate::cache::{pod_key, SchedulerCache};
use crate::framework::handle::{Handle, HandleWriters};
use crate::queue::SchedulingQueue;

/// Which pods this scheduler is responsible for: the profiles' `schedulerName`s.
#[derive(Clone)]
pub struct Responsibility {
    /// `spec.schedulerName` values served.
    pub scheduler_names: Arc<HashSet<String>>,
}

impl Responsibility {
    /// Whether `pod` is ours to place now: our scheduler name, no node yet, not finished,
    /// not being deleted, no scheduling gates.
    pub fn wants(&self, pod: &Pod) -> bool {
        let Some(spec) = pod.spec.as_ref() else {
            return false;
        };
        let name = spec
            .scheduler_name
            .as_deref()
            .unwrap_or("default-scheduler");
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        self.scheduler_names.contains(name)
            && spec.node_name.as_deref().unwrap_or_default().is_empty()
            && !matches!(phase, Some("Succeeded") | Some("Failed"))
            && pod.metadata.deletion_timestamp.is_none()
            && spec.scheduling_gates.as_ref().is_none_or(|g| g.is_empty())
    }
}

/// Hash of what scheduling reads from a node.
fn node_fingerprint(node: &Node) -> u64 {
    let allocatable = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(&(&node.spec, &node.metadata.labels, allocatable))
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

fn is_assigned(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty())
}

/// The informers' read side.
#[derive(Clone)]
pub struct Informers {
    /// All pods.
    pub pods: Store<Pod>,
    /// All nodes.
    pub nodes: Store<Node>,
    /// All PodDisruptionBudgets (preemption spares the pods they guard).
    pub pdbs: Store<PodDisruptionBudget>,
    /// The volume stores plugins read.
    pub handle: Handle,
}

/// Reflect `api` into `writer`. With a `queue`, every change moves the unschedulable pods
/// back (upstream's PV/PVC/StorageClass event handlers: any may help a pod waiting on
/// volumes).
fn start_store_informer<K>(
    api: Api<K>,
    writer: reflector::store::Writer<K>,
    queue: Option<Arc<SchedulingQueue>>,
    what: &'static str,
) where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let events =
        reflector::reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
    tokio::spawn(events.for_each(move |event| {
        match event {
            Ok(watcher::Event::Apply(_)) | Ok(watcher::Event::Delete(_)) => {
                if let Some(queue) = &queue {
                    queue.move_all_to_active_or_backoff();
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "{what} watch failed; retrying"),
        }
        futures::future::ready(())
    }));
}

impl Informers {
    /// Start watching pods and nodes; the returned stores fill as the watches list.
    pub fn start(
        client: Client,
        queue: Arc<SchedulingQueue>,
        cache: SchedulerCache,
        responsibility: Responsibility,
        handle: Handle,
        writers: HandleWriters,
    ) -> Informers {
        start_store_informer(
            Api::<PersistentVolume>::all(client.clone()),
            writers.pvs,
            Some(queue.clone()),
            "persistentvolume",
        );
        start_store_informer(
            Api::<PersistentVolumeClaim>::all(client.clone()),
            writers.pvcs,
            Some(queue.clone()),
            "persistentvolumeclaim",
        );
        start_store_informer(
            Api::<StorageClass>::all(client.clone()),
            writers.storage_classes,
            Some(queue.clone()),
            "storageclass",
        );
        // Read for PodTopologySpread's default selectors only: no requeue.
        start_store_informer(
            Api::<Service>::all(client.clone()),
            writers.services,
            None,
            "service",
        );
        start_store_informer(
            Api::<ReplicationController>::all(client.clone()),
            writers.replication_controllers,
            None,
            "replicationcontroller",
        );
        start_store_informer(
            Api::<ReplicaSet>::all(client.clone()),
            writers.replica_sets,
            None,
            "replicaset",
        );
        start_store_informer(
            Api::<StatefulSet>::all(client.clone()),
            writers.stateful_sets,
            None,
            "statefulset",
        );
        let (pods, pod_writer) = reflector::store();
        let pod_events = reflector::reflector(
            pod_writer,
            watcher(Api::<Pod>::all(client.clone()), watcher::Config::default()),
        )
        .default_backoff();
        let q = queue.clone();
        let pod_cache = cache.clone();
        let pod_store = pods.clone();
        tokio::spawn(pod_events.for_each(move |event| {
            match event {
                Ok(event) => on_pod_event(&event, &pod_store, &q, &pod_cache, &responsibility),
                Err(e) => tracing::warn!(error = %e, "pod watch failed; retrying"),
            }
            futures::future::ready(())
        }));

        let (pdbs, pdb_writer) = reflector::store();
        let pdb_events = reflector::reflector(
            pdb_writer,
            watcher(
                Api::<PodDisruptionBudget>::all(client.clone()),
                watcher::Config::default(),
            ),
        )
        .default_backoff();
        tokio::spawn(pdb_events.for_each(|event| {
            if let Err(e) = event {
                tracing::warn!(error = %e, "poddisruptionbudget watch failed; retrying");
            }
            futures::future::ready(())
        }));

        let (nodes, node_writer) = reflector::store();
        let node_events = reflector::reflector(
            node_writer,
            watcher(Api::<Node>::all(client), watcher::Config::default()),
        )
        .default_backoff();
        // Nodes report status often (heartbeats); only a change in what the filters read
        // (spec, labels, allocatable) may help a waiting pod.
        let mut seen: HashMap<String, u64> = HashMap::new();
        let node_store = nodes.clone();
        tokio::spawn(node_events.for_each(move |event| {
            match event {
                Ok(watcher::Event::Apply(node)) | Ok(watcher::Event::InitApply(node)) => {
                    // The reflector stored this object just before: share its Arc.
                    let shared = node_store
                        .get(&ObjectRef::from_obj(&node))
                        .unwrap_or_else(|| Arc::new(node.clone()));
                    cache.set_node(shared);
                    let name = node.metadata.name.clone().unwrap_or_default();
                    let print = node_fingerprint(&node);
                    if seen.insert(name, print) != Some(print) {
                        queue.move_all_to_active_or_backoff();
                    }
                }
                Ok(watcher::Event::InitDone) => {
                    // A re-list after a watch gap brings no deletions: drop what the store lost.
                    cache.retain_nodes(|name| node_store.get(&ObjectRef::new(name)).is_some());
                }
                Ok(watcher::Event::Delete(node)) => {
                    cache.remove_node(node.metadata.name.as_deref().unwrap_or_default());
                    seen.remove(node.metadata.name.as_deref().unwrap_or_default());
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "node watch failed; retrying"),
            }
            futures::future::ready(())
        }));
        Informers {
            pods,
            nodes,
            pdbs,
            handle,
        }
    }

    /// Wait until every informer has listed once.
    pub async fn wait_until_ready(&self) -> anyhow::Result<()> {
        self.pods.wait_until_ready().await?;
        self.nodes.wait_until_ready().await?;
        self.pdbs.wait_until_ready().await?;
        self.handle.pvs.wait_until_ready().await?;
        self.handle.pvcs.wait_until_ready().await?;
        self.handle.storage_classes.wait_until_ready().await?;
        self.handle.services.wait_until_ready().await?;
        self.handle
            .replication_controllers
            .wait_until_ready()
            .await?;
        self.handle.replica_sets.wait_until_ready().await?;
        self.handle.stateful_sets.wait_until_ready().await?;
        Ok(())
    }
}

fn on_pod_event(
    event: &watcher::Event<Pod>,
    store: &Store<Pod>,
    queue: &SchedulingQueue,
    cache: &SchedulerCache,
    responsibility: &Responsibility,
) {
    match event {
        watcher::Event::Apply(pod) | watcher::Event::InitApply(pod) => {
            let key = pod_key(pod);
            if responsibility.wants(pod) {
                let shared = store
                    .get(&ObjectRef::from_obj(pod))
                    .unwrap_or_else(|| Arc::new(pod.clone()));
                if !cache.is_assumed(&key) {
                    cache.set_nominated(shared);
                    queue.add_or_update(pod);
                }
                return;
            }
            queue.delete(&key);
            cache.remove_nominated(&key);
            if is_assigned(pod) {
                // The binding is visible now: counted as bound (no longer assumed) from
                // here on, sharing the reflector's copy.
                let shared = store
                    .get(&ObjectRef::from_obj(pod))
                    .unwrap_or_else(|| Arc::new(pod.clone()));
                cache.set_pod(shared);
                let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
                if matches!(phase, Some("Succeeded") | Some("Failed")) {
                    queue.move_all_to_active_or_backoff();
                }
            }
        }
        watcher::Event::Delete(pod) => {
            let key = pod_key(pod);
            queue.delete(&key);
            cache.remove_pod(&key);
            cache.remove_nominated(&key);
            if is_assigned(pod) {
                // Its node has room again.
                queue.move_all_to_active_or_backoff();
            }
        }
        watcher::Event::InitDone => {
            // A re-list after a watch gap brings no deletions: drop what the store lost.
            cache.retain_pods(|key| {
                key.split_once('/')
                    .is_some_and(|(ns, name)| store.get(&ObjectRef::new(name).within(ns)).is_some())
            });
        }
        watcher::Event::Init => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn responsible_only_for_our_unassigned_pods() {
        let r = Responsibility {
            scheduler_names: Arc::new(["default-scheduler".to_string()].into_iter().collect()),
        };
        let pod = |spec: serde_json::Value| -> Pod {
            serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).expect("pod")
        };
        assert!(r.wants(&pod(json!({"containers": []}))));
        assert!(r.wants(&pod(
            json!({"containers": [], "schedulerName": "default-scheduler"})
        )));
        assert!(!r.wants(&pod(json!({"containers": [], "schedulerName": "other"}))));
        assert!(!r.wants(&pod(json!({"containers": [], "nodeName": "n1"}))));
        assert!(!r.wants(&pod(
            json!({"containers": [], "schedulingGates": [{"name": "g"}]})
        )));
    }
}
