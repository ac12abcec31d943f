//! The scheduler's cache (upstream's `internal/cache`): one [`NodeInfo`] per node, kept up
//! to date incrementally from informer events, plus pods the scheduler has chosen a node for
//! but whose binding is not yet visible ("assumed"), so consecutive decisions see each other.
//!
//! Every event touches one node's `NodeInfo`; a scheduling cycle reads the node list under a
//! read lock instead of rebuilding it, so a cycle costs what its plugins cost, not
//! O(nodes + pods) of bookkeeping first.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::framework::pod_label_index::PodLabelIndex;
use crate::framework::NodeInfo;

/// `namespace/name`.
pub fn pod_key(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

/// Whether a pod still holds its node's resources (not finished).
fn is_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    !matches!(phase, Some("Succeeded") | Some("Failed"))
}

/// The node a pod is bound to, if any.
fn assigned_node(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

/// Where the cache counts a pod.
struct PodEntry {
    node: String,
    pod: Arc<Pod>,
    /// Chosen by this scheduler; the informer has not shown it bound yet.
    assumed: bool,
}

/// The cached nodes with their pods; what a scheduling cycle reads.
#[derive(Default)]
pub struct CacheState {
    nodes: Vec<NodeInfo>,
    index: HashMap<String, usize>,
    pods: HashMap<String, PodEntry>,
    /// Pods bound to nodes the cache does not know (yet): node name -> pod keys. Informers
    /// list pods and nodes concurrently, so a pod may arrive before its node.
    orphans: HashMap<String, HashSet<String>>,
    /// Pods per node by label set, in step with `nodes` (PodTopologySpread's counts).
    labels: PodLabelIndex,
    /// Pending pods of ours with `status.nominatedNodeName` (upstream's nominator): node
    /// name -> the pods, whose requests the filters count there for pods of no higher
    /// priority, so the room preemption freed goes to the preemptor.
    nominated: HashMap<String, Vec<Arc<Pod>>>,
    /// Pod key -> its nominated node (to move or drop a nomination).
    nominated_node: HashMap<String, String>,
}

impl CacheState {
    /// Every known node with the pods counted on it.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// Pods per node by label set, positions as in [`nodes`](Self::nodes).
    pub fn label_index(&self) -> &PodLabelIndex {
        &self.labels
    }

    /// Pending pods nominated to a node, by node name.
    pub fn nominated(&self) -> &HashMap<String, Vec<Arc<Pod>>> {
        &self.nominated
    }

    fn drop_nomination(&mut self, key: &str) {
        let Some(node) = self.nominated_node.remove(key) else {
            return;
        };
        if let Some(pods) = self.nominated.get_mut(&node) {
            pods.retain(|p| pod_key(p) != key);
            if pods.is_empty() {
                self.nominated.remove(&node);
            }
        }
    }

    fn set_node(&mut self, node: Arc<Node>) {
        let name = node.metadata.name.clone().unwrap_or_default();
        if let Some(&i) = self.index.get(&name) {
            // Plugins cache what they derive from labels and taints; a status update
            // (conditions, images) leaves that valid.
            let old = &self.nodes[i].node;
            let taints = |n: &Node| n.spec.as_ref().and_then(|s| s.taints.clone());
            if old.metadata.labels != node.metadata.labels || taints(old) != taints(&node) {
                self.labels.node_changed();
            }
            self.nodes[i].set_node(node);
            return;
        }
        let mut info = NodeInfo::new(node);
        let position = self.nodes.len();
        self.labels.push_node();
        for key in self.orphans.remove(&name).into_iter().flatten() {
            if let Some(entry) = self.pods.get(&key) {
                info.add_shared_pod(entry.pod.clone());
                self.labels.count(&entry.pod, position, 1);
            }
        }
        self.index.insert(name, position);
        self.nodes.push(info);
    }

    fn remove_node(&mut self, name: &str) {
        let Some(i) = self.index.remove(name) else {
            return;
        };
        let info = self.nodes.swap_remove(i);
        self.labels.swap_remove_node(i);
        if let Some(moved) = self.nodes.get(i) {
            self.index.insert(moved.name().to_string(), i);
        }
        // Its pods stay known; should the node come back they count again.
        let keys: HashSet<String> = info.pods.iter().map(|p| pod_key(p)).collect();
        if !keys.is_empty() {
            self.orphans.insert(name.to_string(), keys);
        }
    }

    /// Drop the pods the informer no longer has (a re-list after a watch gap delivers no
    /// deletions); assumed pods stay, their binding is still in flight.
    fn retain_pods(&mut self, keep: impl Fn(&str) -> bool) {
        let gone: Vec<String> = self
            .pods
            .iter()
            .filter(|(key, e)| !e.assumed && !keep(key))
            .map(|(key, _)| key.clone())
            .collect();
        for key in gone {
            self.unplace(&key);
        }
        let stale: Vec<String> = self
            .nominated_node
            .keys()
            .filter(|key| !keep(key))
            .cloned()
            .collect();
        for key in stale {
            self.drop_nomination(&key);
        }
    }

    /// Drop the nodes the informer no longer has (see `retain_pods`).
    fn retain_nodes(&mut self, keep: impl Fn(&str) -> bool) {
        let gone: Vec<String> = self.index.keys().filter(|n| !keep(n)).cloned().collect();
        for name in gone {
            self.remove_node(&name);
        }
    }

    /// Count `pod` on `node` (replacing wherever it was counted before).
    fn place(&mut self, key: String, pod: Arc<Pod>, node: &str, assumed: bool) {
        self.unplace(&key);
        match self.index.get(node) {
            Some(&i) => {
                self.labels.count(&pod, i, 1);
                self.nodes[i].add_shared_pod(pod.clone());
            }
            None => {
                self.orphans
                    .entry(node.to_string())
                    .or_default()
                    .insert(key.clone());
            }
        }
        self.pods.insert(
            key,
            PodEntry {
                node: node.to_string(),
                pod,
                assumed,
            },
        );
    }

    /// Stop counting the pod with `key`; returns whether it was assumed.
    fn unplace(&mut self, key: &str) -> Option<bool> {
        let entry = self.pods.remove(key)?;
        match self.index.get(&entry.node) {
            Some(&i) => {
                if self.nodes[i].remove_pod(&entry.pod) {
                    self.labels.count(&entry.pod, i, -1);
                }
            }
            None => {
                if let Some(set) = self.orphans.get_mut(&entry.node) {
                    set.remove(key);
                    if set.is_empty() {
                        self.orphans.remove(&entry.node);
                    }
                }
            }
        }
        Some(entry.assumed)
    }
}

/// The shared cache: informer event handlers write, the scheduling cycle reads.
#[derive(Default, Clone)]
pub struct SchedulerCache {
    state: Arc<RwLock<CacheState>>,
}

impl SchedulerCache {
    fn write(&self) -> RwLockWriteGuard<'_, CacheState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The current nodes, read-locked: hold the guard only for one synchronous cycle (no
    /// `.await` while holding it), as informer events wait for it.
    pub fn read(&self) -> RwLockReadGuard<'_, CacheState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// A node was added or changed.
    pub fn set_node(&self, node: Arc<Node>) {
        self.write().set_node(node);
    }

    /// A node was deleted.
    pub fn remove_node(&self, name: &str) {
        self.write().remove_node(name);
    }

    /// The informer shows `pod`: bound and active pods are counted on their node (replacing
    /// an assumed copy), finished ones no longer; unbound pods are left alone (they may be
    /// assumed by us).
    pub fn set_pod(&self, pod: Arc<Pod>) {
        let key = pod_key(&pod);
        let mut state = self.write();
        match assigned_node(&pod).map(str::to_string) {
            Some(node) if is_active(&pod) => state.place(key, pod, &node, false),
            Some(_) => {
                state.unplace(&key);
            }
            None => {}
        }
    }

    /// The informer shows `pod` deleted.
    pub fn remove_pod(&self, key: &str) {
        self.write().unplace(key);
    }

    /// After the pod informer (re-)listed: forget bound pods it no longer has.
    pub fn retain_pods(&self, keep: impl Fn(&str) -> bool) {
        self.write().retain_pods(keep);
    }

    /// After the node informer (re-)listed: forget nodes it no longer has.
    pub fn retain_nodes(&self, keep: impl Fn(&str) -> bool) {
        self.write().retain_nodes(keep);
    }

    /// The informer shows `pod`, which this scheduler is responsible for: remember or drop
    /// its nomination (`status.nominatedNodeName` while it is pending).
    pub fn set_nominated(&self, pod: Arc<Pod>) {
        let key = pod_key(&pod);
        let node = pod
            .status
            .as_ref()
            .and_then(|s| s.nominated_node_name.clone())
            .filter(|n| !n.is_empty());
        let pending = assigned_node(&pod).is_none() && pod.metadata.deletion_timestamp.is_none();
        let mut state = self.write();
        state.drop_nomination(&key);
        if let (Some(node), true) = (node, pending) {
            state.nominated.entry(node.clone()).or_default().push(pod);
            state.nominated_node.insert(key, node);
        }
    }

    /// The pod is gone, bound, or no longer ours: it reserves nothing.
    pub fn remove_nominated(&self, key: &str) {
        let mut state = self.write();
        if state.nominated_node.contains_key(key) {
            state.drop_nomination(key);
        }
    }

    /// Count `pod` on `node` from now on, before the binding is visible.
    pub fn assume(&self, pod: &Pod, node: &str) {
        let mut assumed = pod.clone();
        assumed.spec.get_or_insert_with(Default::default).node_name = Some(node.to_string());
        let key = pod_key(pod);
        let mut state = self.write();
        // Counted on its node now; keeping its nomination would count it twice.
        state.drop_nomination(&key);
        state.place(key, Arc::new(assumed), node, true);
    }

    /// Stop counting an assumed pod (its binding failed); a pod the informer already shows
    /// bound stays counted.
    pub fn forget(&self, key: &str) {
        let mut state = self.write();
        if state.pods.get(key).is_some_and(|e| e.assumed) {
            state.unplace(key);
        }
    }

    /// Whether the pod is assumed (chosen, binding in flight or not yet observed).
    pub fn is_assumed(&self, key: &str) -> bool {
        self.read().pods.get(key).is_some_and(|e| e.assumed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str) -> Arc<Node> {
        Arc::new(
            serde_json::from_value(json!({"metadata": {"name": name},
            "status": {"allocatable": {"cpu": "1", "pods": "10"}}}))
            .expect("node"),
        )
    }

    fn pod(name: &str, node: Option<&str>) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "ns"},
            "spec": {"nodeName": node, "containers": [{"name": "c", "resources": {"requests": {"cpu": "300m"}},
                "ports": [{"containerPort": 80, "hostPort": 8080}]}]}}))
        .expect("pod")
    }

    fn usage(cache: &SchedulerCache, node: &str) -> Option<(i64, i64, usize)> {
        let state = cache.read();
        state
            .nodes()
            .iter()
            .find(|n| n.name() == node)
            .map(|n| (n.requested.milli_cpu, n.pod_count, n.used_ports.len()))
    }

    #[test]
    fn assumed_pods_count_until_the_binding_is_seen() {
        let cache = SchedulerCache::default();
        cache.set_node(node("a"));
        cache.assume(&pod("p1", None), "a");
        assert!(cache.is_assumed("ns/p1"));
        assert_eq!(usage(&cache, "a"), Some((300, 1, 1)));
        // The informer now shows it bound: counted once, not twice, and no longer assumed.
        cache.set_pod(Arc::new(pod("p1", Some("a"))));
        assert_eq!(usage(&cache, "a"), Some((300, 1, 1)));
        assert!(!cache.is_assumed("ns/p1"));
        // Forgetting a bound pod does nothing; deleting it frees the node.
        cache.forget("ns/p1");
        assert_eq!(usage(&cache, "a"), Some((300, 1, 1)));
        cache.remove_pod("ns/p1");
        assert_eq!(usage(&cache, "a"), Some((0, 0, 0)));
    }

    #[test]
    fn a_relist_drops_what_vanished_during_a_watch_gap() {
        let cache = SchedulerCache::default();
        cache.set_node(node("a"));
        cache.set_node(node("b"));
        cache.set_pod(Arc::new(pod("gone", Some("a"))));
        cache.set_pod(Arc::new(pod("kept", Some("a"))));
        cache.assume(&pod("binding", None), "a");
        cache.retain_pods(|key| key == "ns/kept");
        assert_eq!(usage(&cache, "a"), Some((600, 2, 2)));
        assert!(cache.is_assumed("ns/binding"));
        cache.retain_nodes(|name| name == "a");
        assert_eq!(usage(&cache, "b"), None);
        assert_eq!(usage(&cache, "a"), Some((600, 2, 2)));
    }

    #[test]
    fn a_failed_binding_frees_the_node() {
        let cache = SchedulerCache::default();
        cache.set_node(node("a"));
        cache.assume(&pod("p1", None), "a");
        cache.forget("ns/p1");
        assert_eq!(usage(&cache, "a"), Some((0, 0, 0)));
    }

    #[test]
    fn pods_seen_before_their_node_count_once_it_arrives() {
        let cache = SchedulerCache::default();
        cache.set_pod(Arc::new(pod("p1", Some("late"))));
        cache.set_pod(Arc::new(pod("p2", Some("late"))));
        cache.remove_pod("ns/p2");
        cache.set_node(node("late"));
        assert_eq!(usage(&cache, "late"), Some((300, 1, 1)));
        // A node that goes away and comes back keeps its pods.
        cache.remove_node("late");
        assert_eq!(usage(&cache, "late"), None);
        cache.set_node(node("late"));
        assert_eq!(usage(&cache, "late"), Some((300, 1, 1)));
    }

    #[test]
    fn finished_pods_and_node_removal_keep_the_index_right() {
        let cache = SchedulerCache::default();
        for n in ["a", "b", "c"] {
            cache.set_node(node(n));
        }
        cache.set_pod(Arc::new(pod("p1", Some("c"))));
        cache.remove_node("a");
        // "c" moved into "a"'s slot; updates must still find it.
        let mut done = pod("p1", Some("c"));
        done.status = Some(k8s_openapi::api::core::v1::PodStatus {
            phase: Some("Succeeded".into()),
            ..Default::default()
        });
        assert_eq!(usage(&cache, "c"), Some((300, 1, 1)));
        cache.set_pod(Arc::new(done));
        assert_eq!(usage(&cache, "c"), Some((0, 0, 0)));
        assert_eq!(usage(&cache, "b"), Some((0, 0, 0)));
    }

    #[test]
    fn nominations_follow_the_pod() {
        let cache = SchedulerCache::default();
        let mut p = pod("pre", None);
        p.status = Some(serde_json::from_value(json!({"nominatedNodeName": "a"})).expect("status"));
        cache.set_nominated(Arc::new(p.clone()));
        assert_eq!(cache.read().nominated()["a"].len(), 1);
        // Renominated elsewhere: moves.
        p.status = Some(serde_json::from_value(json!({"nominatedNodeName": "b"})).expect("status"));
        cache.set_nominated(Arc::new(p.clone()));
        assert!(!cache.read().nominated().contains_key("a"));
        assert_eq!(cache.read().nominated()["b"].len(), 1);
        // Assumed (about to be bound): no longer a reservation.
        cache.set_node(node("b"));
        cache.assume(&p, "b");
        assert!(cache.read().nominated().is_empty());
        cache.set_nominated(Arc::new(p));
        cache.remove_nominated("ns/pre");
        assert!(cache.read().nominated().is_empty());
    }
}
