//! The collector's view of the cluster (upstream's GraphBuilder): the metadata of every
//! object of every watched resource, keyed by uid, kept current by one watch per resource
//! ([`super::watches`]). The decision pass reads a [`Snapshot`] of it and never lists.
//!
//! Changes that can lead to a decision (an owner starting an orphan or foreground
//! deletion, an owner vanishing, an object appearing or re-parented under an owner that is
//! missing or being deleted, a dependent of such an owner vanishing) wake the pass through
//! a [`Notify`]; a burst of changes during a pass leaves one stored wake-up, so bursts
//! coalesce into one more pass.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use tokio::sync::Notify;

use super::decide::deleting_with_gc_finalizer;
use super::discovery::Resource;

/// One object of the cluster, by metadata.
#[derive(Debug)]
pub struct Node {
    pub resource: Arc<Resource>,
    pub meta: ObjectMeta,
}

impl Node {
    pub fn uid(&self) -> &str {
        self.meta.uid.as_deref().unwrap_or_default()
    }

    pub fn owner_refs(&self) -> &[OwnerReference] {
        owner_refs(&self.meta)
    }
}

pub fn owner_refs(meta: &ObjectMeta) -> &[OwnerReference] {
    meta.owner_references.as_deref().unwrap_or_default()
}

/// The graph at one instant, for one decision pass.
pub struct Snapshot {
    /// Every cached object by uid.
    pub nodes: HashMap<String, Arc<Node>>,
    /// Resources whose watch has not yet delivered a complete list: until it has, an
    /// object missing from `nodes` may well exist.
    pub unsynced: Vec<String>,
}

/// The watch of one resource, as the graph knows it.
struct Watched {
    /// Tells events of this watch from those of an aborted earlier one of the same key.
    generation: u64,
    /// Whether a complete list has been applied.
    synced: bool,
    /// A (re)list in progress: it replaces the resource's objects once complete, so the
    /// graph never shows half a list.
    relist: Option<Vec<ObjectMeta>>,
}

#[derive(Default)]
struct State {
    nodes: HashMap<String, Arc<Node>>,
    /// Owner uid → how many cached objects name it in their ownerReferences: whether a
    /// vanishing object was anyone's owner, without scanning the graph.
    referenced: HashMap<String, usize>,
    watched: HashMap<String, Watched>,
    next_generation: u64,
}

/// The shared, watch-fed object graph.
#[derive(Default)]
pub struct Graph {
    state: Mutex<State>,
    changed: Notify,
}

impl Graph {
    /// Wait for a change that can matter since the last wait.
    pub async fn changed(&self) {
        self.changed.notified().await
    }

    /// Register a new watch of `res` (unsynced) and return its generation.
    pub fn track(&self, res: &Resource) -> u64 {
        let mut st = self.lock();
        st.next_generation += 1;
        let generation = st.next_generation;
        st.watched.insert(
            res.key.clone(),
            Watched {
                generation,
                synced: false,
                relist: None,
            },
        );
        generation
    }

    /// Drop a resource that is no longer served, with its objects.
    pub fn forget(&self, key: &str) {
        let mut st = self.lock();
        st.watched.remove(key);
        let gone: Vec<String> = st
            .nodes
            .values()
            .filter(|n| n.resource.key == key)
            .map(|n| n.uid().to_string())
            .collect();
        let mut matters = false;
        for uid in gone {
            matters |= st.remove(&uid);
        }
        drop(st);
        if matters {
            self.changed.notify_one();
        }
    }

    /// An object was added or modified.
    pub fn upsert(&self, res: &Arc<Resource>, generation: u64, meta: ObjectMeta) {
        let mut st = self.lock();
        if !st.current(&res.key, generation) {
            return;
        }
        let matters = st.upsert(res, meta);
        drop(st);
        if matters {
            self.changed.notify_one();
        }
    }

    /// An object was deleted.
    pub fn remove(&self, res: &Resource, generation: u64, meta: &ObjectMeta) {
        let mut st = self.lock();
        if !st.current(&res.key, generation) {
            return;
        }
        let matters = meta.uid.as_deref().is_some_and(|uid| st.remove(uid));
        drop(st);
        if matters {
            self.changed.notify_one();
        }
    }

    /// The watch (re)starts with a complete list.
    pub fn begin_relist(&self, res: &Resource, generation: u64) {
        let mut st = self.lock();
        if let Some(w) = st.watched_mut(&res.key, generation) {
            w.relist = Some(Vec::new());
        }
    }

    /// One object of the list in progress.
    pub fn relist_item(&self, res: &Resource, generation: u64, meta: ObjectMeta) {
        let mut st = self.lock();
        if let Some(list) = st
            .watched_mut(&res.key, generation)
            .and_then(|w| w.relist.as_mut())
        {
            list.push(meta);
        }
    }

    /// The list is complete: it replaces what the graph held for the resource.
    pub fn end_relist(&self, res: &Arc<Resource>, generation: u64) {
        let mut st = self.lock();
        let Some(w) = st.watched_mut(&res.key, generation) else {
            return;
        };
        let Some(listed) = w.relist.take() else {
            return;
        };
        // The first complete list can unblock decisions that waited for it.
        let mut matters = !w.synced;
        w.synced = true;
        let listed_uids: HashSet<String> = listed.iter().filter_map(|m| m.uid.clone()).collect();
        let vanished: Vec<String> = st
            .nodes
            .values()
            .filter(|n| n.resource.key == res.key && !listed_uids.contains(n.uid()))
            .map(|n| n.uid().to_string())
            .collect();
        for uid in vanished {
            matters |= st.remove(&uid);
        }
        for meta in listed {
            matters |= st.upsert(res, meta);
        }
        drop(st);
        if matters {
            self.changed.notify_one();
        }
    }

    /// A copy of the graph for one decision pass (the objects are shared, not copied).
    pub fn snapshot(&self) -> Snapshot {
        let st = self.lock();
        let mut unsynced: Vec<String> = st
            .watched
            .iter()
            .filter(|(_, w)| !w.synced)
            .map(|(k, _)| k.clone())
            .collect();
        unsynced.sort();
        Snapshot {
            nodes: st.nodes.clone(),
            unsynced,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the state consistent before anything can panic,
        // so a poisoned lock still guards a usable graph.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn current(&self, key: &str, generation: u64) -> bool {
        self.watched
            .get(key)
            .is_some_and(|w| w.generation == generation)
    }

    fn watched_mut(&mut self, key: &str, generation: u64) -> Option<&mut Watched> {
        self.watched
            .get_mut(key)
            .filter(|w| w.generation == generation)
    }

    /// Store `meta`; whether the change can matter to a decision.
    fn upsert(&mut self, res: &Arc<Resource>, meta: ObjectMeta) -> bool {
        let Some(uid) = meta.uid.clone() else {
            return false;
        };
        let node = Arc::new(Node {
            resource: res.clone(),
            meta,
        });
        self.count_refs(&node.meta, true);
        let old = self.nodes.insert(uid, node.clone());
        if let Some(old) = &old {
            self.count_refs(&old.meta, false);
        }
        self.upsert_matters(old.as_deref().map(|o| &o.meta), &node.meta)
    }

    /// Drop the object `uid`; whether its going can matter to a decision: its dependents
    /// may now be ownerless, or an owner being deleted may have been waiting for it.
    fn remove(&mut self, uid: &str) -> bool {
        let Some(old) = self.nodes.remove(uid) else {
            return false;
        };
        self.count_refs(&old.meta, false);
        let was_owner = self.referenced.contains_key(uid);
        was_owner || old.owner_refs().iter().any(|r| self.owner_being_deleted(r))
    }

    /// Whether an object changing from `old` to `new` can lead to a decision: it started
    /// (or changed) a deletion that waits for the collector, or its owners changed and one
    /// of them, old or new, is missing from the graph (it may be ownerless) or being
    /// deleted (it may have been released, or must be deleted first). Everything else —
    /// status, spec, labels, pods created under a live ReplicaSet — cannot, and does not
    /// wake the pass, so passes stay rare however busy the cluster is.
    fn upsert_matters(&self, old: Option<&ObjectMeta>, new: &ObjectMeta) -> bool {
        let deletion_changed = deleting_with_gc_finalizer(new)
            && old.is_none_or(|o| {
                o.deletion_timestamp != new.deletion_timestamp || o.finalizers != new.finalizers
            });
        let old_refs = old.map(owner_refs).unwrap_or_default();
        let owners_changed = old_refs != owner_refs(new)
            && old_refs
                .iter()
                .chain(owner_refs(new))
                .any(|r| !self.nodes.contains_key(&r.uid) || self.owner_being_deleted(r));
        deletion_changed || owners_changed
    }

    fn owner_being_deleted(&self, r: &OwnerReference) -> bool {
        self.nodes
            .get(&r.uid)
            .is_some_and(|o| deleting_with_gc_finalizer(&o.meta))
    }

    fn count_refs(&mut self, meta: &ObjectMeta, add: bool) {
        for r in owner_refs(meta) {
            if add {
                *self.referenced.entry(r.uid.clone()).or_default() += 1;
            } else if let Some(n) = self.referenced.get_mut(&r.uid) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.referenced.remove(&r.uid);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;
    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kube::api::ApiResource;

    fn configmaps() -> Arc<Resource> {
        Arc::new(Resource::new(ApiResource::erase::<ConfigMap>(&()), true))
    }

    fn meta(uid: &str, owners: &[&str]) -> ObjectMeta {
        ObjectMeta {
            name: Some(uid.to_string()),
            namespace: Some("default".into()),
            uid: Some(uid.to_string()),
            owner_references: (!owners.is_empty()).then(|| {
                owners
                    .iter()
                    .map(|o| OwnerReference {
                        api_version: "v1".into(),
                        kind: "ConfigMap".into(),
                        name: o.to_string(),
                        uid: o.to_string(),
                        ..Default::default()
                    })
                    .collect()
            }),
            ..Default::default()
        }
    }

    /// Whether the graph has a wake-up pending (consumes it): a stored wake-up makes the
    /// wait ready on its first poll.
    fn woken(g: &Graph) -> bool {
        g.changed().now_or_never().is_some()
    }

    fn synced_graph(res: &Arc<Resource>, items: Vec<ObjectMeta>) -> (Graph, u64) {
        let g = Graph::default();
        let gen = g.track(res);
        g.begin_relist(res, gen);
        for m in items {
            g.relist_item(res, gen, m);
        }
        g.end_relist(res, gen);
        (g, gen)
    }

    #[test]
    fn a_resource_is_unsynced_until_its_list_completes() {
        let res = configmaps();
        let g = Graph::default();
        let gen = g.track(&res);
        g.begin_relist(&res, gen);
        g.relist_item(&res, gen, meta("a", &[]));
        assert_eq!(g.snapshot().unsynced, vec![res.key.clone()]);
        assert!(g.snapshot().nodes.is_empty(), "half a list is not shown");
        g.end_relist(&res, gen);
        let snap = g.snapshot();
        assert!(snap.unsynced.is_empty());
        assert!(snap.nodes.contains_key("a"));
        assert!(woken(&g), "the first sync wakes the pass");
    }

    #[test]
    fn a_relist_replaces_the_resource_objects() {
        let res = configmaps();
        let (g, gen) = synced_graph(&res, vec![meta("owner", &[]), meta("dep", &["owner"])]);
        woken(&g);
        // A restarted watch lists again; `owner` was deleted while nobody watched.
        g.begin_relist(&res, gen);
        g.relist_item(&res, gen, meta("dep", &["owner"]));
        g.end_relist(&res, gen);
        let snap = g.snapshot();
        assert!(!snap.nodes.contains_key("owner"));
        assert!(snap.nodes.contains_key("dep"));
        assert!(
            woken(&g),
            "an owner vanished: its dependent may be ownerless"
        );
    }

    #[test]
    fn only_changes_that_can_matter_wake_the_pass() {
        let res = configmaps();
        let (g, gen) = synced_graph(&res, vec![]);
        woken(&g);
        let since = Time(k8s_openapi::jiff::Timestamp::now());
        let deleting = |uid: &str, finalizer: &str| ObjectMeta {
            deletion_timestamp: Some(since.clone()),
            finalizers: Some(vec![finalizer.to_string()]),
            ..meta(uid, &[])
        };

        g.upsert(&res, gen, meta("owner", &[]));
        assert!(!woken(&g), "a new object without owners");
        let mut relabelled = meta("owner", &[]);
        relabelled.labels = Some([("a".to_string(), "b".to_string())].into());
        g.upsert(&res, gen, relabelled);
        assert!(!woken(&g), "a label change");
        g.upsert(&res, gen, meta("dep", &["owner"]));
        assert!(
            !woken(&g),
            "an object under a live owner (pods of a ReplicaSet)"
        );
        g.upsert(&res, gen, meta("stray", &["never-seen"]));
        assert!(woken(&g), "an object whose owner the graph lacks appeared");
        g.upsert(&res, gen, meta("stray", &["never-seen"]));
        assert!(!woken(&g), "the same owners again");

        g.upsert(&res, gen, deleting("owner", "example.com/other"));
        assert!(
            !woken(&g),
            "a deletion that does not wait for the collector"
        );
        g.upsert(&res, gen, deleting("owner", "orphan"));
        assert!(woken(&g), "an orphan deletion started");
        g.upsert(&res, gen, deleting("owner", "orphan"));
        assert!(!woken(&g), "nothing changed in its deletion");
        g.upsert(&res, gen, meta("dep", &[]));
        assert!(
            woken(&g),
            "a dependent of an owner being deleted was released"
        );
        g.upsert(&res, gen, meta("dep", &["owner"]));
        woken(&g);

        g.remove(&res, gen, &meta("dep", &["owner"]));
        assert!(woken(&g), "a dependent of an owner being deleted vanished");
        g.upsert(&res, gen, meta("dep2", &["owner"]));
        woken(&g);
        g.remove(&res, gen, &meta("owner", &[]));
        assert!(woken(&g), "an owner vanished");
        g.upsert(&res, gen, meta("lonely", &[]));
        g.remove(&res, gen, &meta("lonely", &[]));
        assert!(!woken(&g), "an object nobody owned nor was owned by");
    }

    #[test]
    fn events_of_an_aborted_watch_are_ignored() {
        let res = configmaps();
        let (g, old_gen) = synced_graph(&res, vec![meta("a", &[])]);
        g.forget(&res.key);
        assert!(
            g.snapshot().nodes.is_empty(),
            "a forgotten resource's objects go"
        );
        let new_gen = g.track(&res);
        g.upsert(&res, old_gen, meta("late", &[]));
        assert!(!g.snapshot().nodes.contains_key("late"));
        g.upsert(&res, new_gen, meta("fresh", &[]));
        assert!(g.snapshot().nodes.contains_key("fresh"));
        assert_eq!(g.snapshot().unsynced, vec![res.key.clone()]);
    }

    #[test]
    fn owner_counts_follow_reparenting() {
        let res = configmaps();
        let mut st = State::default();
        st.upsert(&res, meta("dep", &["a"]));
        st.upsert(&res, meta("dep", &["b"]));
        assert!(!st.referenced.contains_key("a"));
        assert_eq!(st.referenced.get("b"), Some(&1));
        st.remove("dep");
        assert!(st.referenced.is_empty());
    }
}
