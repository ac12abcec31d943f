//! The pod side of the controller (upstream's `addPod` / `updatePod` / `deletePod`): a
//! watch of all pods keeps the cache the syncs read, and each change lowers the owner's
//! expectations and queues the owners it concerns.
//!
//! The cache is updated before the handlers run, as an informer's indexer is, so a sync
//! queued by an event always sees at least that event in the cache — a sync that sees its
//! expectations met also sees the pods that met them.

use std::collections::HashMap;
use std::sync::Arc;

use futures::channel::mpsc::UnboundedSender;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::Api;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;

use super::{owner_key, ReplicaOwner};
use crate::controllers::expectations::Expectations;
use crate::controllers::{podutil, selector};

/// Start watching all pods; the returned cache fills as the watch runs (wait for
/// `wait_until_ready` before trusting it).
pub(super) fn start<K: ReplicaOwner>(
    api: Api<Pod>,
    owners: Store<K>,
    expectations: Arc<Expectations>,
    queue: UnboundedSender<ObjectRef<K>>,
) -> Store<Pod> {
    let (pods, mut writer) = reflector::store::<Pod>();
    let mut handler = PodHandler {
        pods: pods.clone(),
        owners,
        expectations,
        queue,
        before_relist: None,
    };
    tokio::spawn(async move {
        let mut events = watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed();
        while let Some(event) = events.next().await {
            match event {
                Ok(event) => handler.handle(&mut writer, event),
                Err(error) => {
                    tracing::warn!(controller = K::CONTROLLER, %error, "pod watch failed")
                }
            }
        }
    });
    pods
}

/// Turns pod watch events into cache updates, expectation updates and queued owners.
struct PodHandler<K: ReplicaOwner> {
    pods: Store<Pod>,
    owners: Store<K>,
    expectations: Arc<Expectations>,
    queue: UnboundedSender<ObjectRef<K>>,
    /// During a (re)list: the cache as it was before it, to tell adds, updates and the
    /// deletions the watch missed while it was down (upstream's DeletedFinalStateUnknown).
    before_relist: Option<Vec<Arc<Pod>>>,
}

impl<K: ReplicaOwner> PodHandler<K> {
    fn handle(&mut self, writer: &mut reflector::store::Writer<Pod>, event: watcher::Event<Pod>) {
        match &event {
            watcher::Event::Init => self.before_relist = Some(self.pods.state()),
            // The writer buffers a relist's objects until InitDone, so they are handled
            // there, once the cache holds them.
            watcher::Event::InitApply(_) => {}
            watcher::Event::InitDone => {
                writer.apply_watcher_event(&event);
                self.relisted();
                return;
            }
            watcher::Event::Apply(pod) => {
                let old = self.pods.get(&ObjectRef::from_obj(pod));
                writer.apply_watcher_event(&event);
                match old {
                    Some(old) => self.update_pod(&old, pod),
                    None => self.add_pod(pod),
                }
                return;
            }
            watcher::Event::Delete(pod) => {
                writer.apply_watcher_event(&event);
                self.delete_pod(pod);
                return;
            }
        }
        writer.apply_watcher_event(&event);
    }

    /// After a (re)list replaced the cache: every pod is an add or an update against what
    /// was there before, and what is no longer there was deleted.
    fn relisted(&mut self) {
        let mut before: HashMap<ObjectRef<Pod>, Arc<Pod>> = self
            .before_relist
            .take()
            .unwrap_or_default()
            .into_iter()
            .map(|p| (ObjectRef::from_obj(p.as_ref()), p))
            .collect();
        for pod in self.pods.state() {
            match before.remove(&ObjectRef::from_obj(pod.as_ref())) {
                Some(old) => self.update_pod(&old, &pod),
                None => self.add_pod(&pod),
            }
        }
        for gone in before.into_values() {
            self.delete_pod(&gone);
        }
    }

    /// A new pod: one of our creations arriving (lower the owner's expectations) or an
    /// orphan some owner may adopt.
    fn add_pod(&self, pod: &Pod) {
        if pod.metadata.deletion_timestamp.is_some() {
            // Seen for the first time already terminating (e.g. after a restart): it must
            // not count as a creation.
            self.delete_pod(pod);
            return;
        }
        if let Some(r) = podutil::controller_of(&pod.metadata) {
            if let Some(owner) = self.resolve(pod, r) {
                self.expectations
                    .creation_observed(&owner_key(owner.as_ref()));
                self.enqueue(&owner);
            }
            return;
        }
        for owner in self.selecting_owners(pod) {
            self.enqueue(&owner);
        }
    }

    /// A changed pod: its owner (old and new, if the owner changed) recounts; an orphan
    /// whose labels changed may now be adopted.
    fn update_pod(&self, old: &Pod, cur: &Pod) {
        if old.resource_version() == cur.resource_version() && old.resource_version().is_some() {
            // A relist's copy of a pod we already have: nothing changed.
            return;
        }
        let labels_changed = old.labels() != cur.labels();
        if cur.metadata.deletion_timestamp.is_some() {
            // A graceful deletion: the pod stops counting now, so this is its deletion
            // for expectations; its old labels may have belonged to another owner.
            self.delete_pod(cur);
            if labels_changed {
                self.delete_pod(old);
            }
            return;
        }
        let old_ref = podutil::controller_of(&old.metadata);
        let cur_ref = podutil::controller_of(&cur.metadata);
        let ref_changed = old_ref != cur_ref;
        if ref_changed {
            if let Some(owner) = old_ref.and_then(|r| self.resolve(old, r)) {
                self.enqueue(&owner);
            }
        }
        if let Some(r) = cur_ref {
            if let Some(owner) = self.resolve(cur, r) {
                self.enqueue(&owner);
            }
            return;
        }
        if labels_changed || ref_changed {
            for owner in self.selecting_owners(cur) {
                self.enqueue(&owner);
            }
        }
    }

    /// A pod gone (or terminating): its owner's expected deletion is observed.
    fn delete_pod(&self, pod: &Pod) {
        let Some(owner) = podutil::controller_of(&pod.metadata).and_then(|r| self.resolve(pod, r))
        else {
            return;
        };
        let pod_key = format!("{}/{}", pod.namespace().unwrap_or_default(), pod.name_any());
        self.expectations
            .deletion_observed(&owner_key(owner.as_ref()), &pod_key);
        self.enqueue(&owner);
    }

    /// The owner a controller reference names, if it is of our kind and still the same
    /// object (same UID) in the cache.
    fn resolve(&self, pod: &Pod, r: &OwnerReference) -> Option<Arc<K>> {
        let group = r.api_version.rsplit_once('/').map_or("", |(g, _)| g);
        if r.kind != K::kind(&()) || group != K::group(&()) {
            return None;
        }
        let ns = pod.namespace()?;
        let owner = self.owners.get(&ObjectRef::new(&r.name).within(&ns))?;
        (owner.uid().as_deref() == Some(r.uid.as_str())).then_some(owner)
    }

    /// Owners in the pod's namespace whose selector matches it (upstream's
    /// `getPodReplicaSets`); a pod without labels is selected by none.
    fn selecting_owners(&self, pod: &Pod) -> Vec<Arc<K>> {
        if pod.labels().is_empty() {
            return Vec::new();
        }
        let ns = pod.namespace();
        self.owners.state_filter(|o| {
            o.namespace() == ns
                && o.selector()
                    .is_some_and(|s| !selector::is_empty(&s) && selector::matches(&s, pod.labels()))
        })
    }

    fn enqueue(&self, owner: &Arc<K>) {
        // Fails only when the controller stopped; nothing is left to tell then.
        let _ = self
            .queue
            .unbounded_send(ObjectRef::from_obj(owner.as_ref()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
    use std::collections::BTreeMap;

    fn app(value: &str) -> BTreeMap<String, String> {
        [("app".to_string(), value.to_string())].into()
    }

    fn rs(name: &str) -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                uid: Some(format!("uid-{name}")),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                selector: LabelSelector {
                    match_labels: Some(app(name)),
                    match_expressions: None,
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    fn pod(name: &str, rv: &str, labels: &str, owner: Option<&str>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                resource_version: Some(rv.into()),
                labels: Some(app(labels)),
                owner_references: owner.map(|o| {
                    vec![podutil::controller_ref(
                        "apps/v1",
                        "ReplicaSet",
                        o,
                        &format!("uid-{o}"),
                    )]
                }),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    struct Harness {
        handler: PodHandler<ReplicaSet>,
        writer: reflector::store::Writer<Pod>,
        queued: futures::channel::mpsc::UnboundedReceiver<ObjectRef<ReplicaSet>>,
        expectations: Arc<Expectations>,
    }

    impl Harness {
        fn new(sets: &[&str]) -> Self {
            let (owners, mut owner_writer) = reflector::store::<ReplicaSet>();
            for name in sets {
                owner_writer.apply_watcher_event(&watcher::Event::Apply(rs(name)));
            }
            let (pods, writer) = reflector::store::<Pod>();
            let (queue, queued) = futures::channel::mpsc::unbounded();
            let expectations = Arc::new(Expectations::new());
            let handler = PodHandler {
                pods,
                owners,
                expectations: expectations.clone(),
                queue,
                before_relist: None,
            };
            Harness {
                handler,
                writer,
                queued,
                expectations,
            }
        }

        fn event(&mut self, event: watcher::Event<Pod>) {
            self.handler.handle(&mut self.writer, event);
        }

        /// Names of the owners queued since the last call.
        fn queued(&mut self) -> Vec<String> {
            let mut names = Vec::new();
            while let Ok(r) = self.queued.try_recv() {
                names.push(r.name);
            }
            names
        }
    }

    #[test]
    fn an_owned_pod_arriving_meets_one_expected_creation_and_queues_its_owner() {
        let mut h = Harness::new(&["web"]);
        h.expectations.expect_creations("ns/web", 2);
        h.event(watcher::Event::Apply(pod("web-1", "1", "web", Some("web"))));
        assert_eq!(h.queued(), ["web"]);
        assert!(!h.expectations.satisfied("ns/web"));
        h.event(watcher::Event::Apply(pod("web-2", "2", "web", Some("web"))));
        assert!(h.expectations.satisfied("ns/web"));
        // The cache already holds both when the owner's sync runs.
        assert_eq!(h.handler.pods.len(), 2);
    }

    #[test]
    fn an_orphan_queues_the_owners_whose_selector_matches() {
        let mut h = Harness::new(&["web", "db"]);
        h.event(watcher::Event::Apply(pod("stray", "1", "db", None)));
        assert_eq!(h.queued(), ["db"]);
        // Relabelled to the other owner's selector: that one may adopt it now.
        h.event(watcher::Event::Apply(pod("stray", "2", "web", None)));
        assert_eq!(h.queued(), ["web"]);
    }

    #[test]
    fn a_graceful_deletion_and_the_delete_count_once() {
        let mut h = Harness::new(&["web"]);
        h.event(watcher::Event::Apply(pod("web-1", "1", "web", Some("web"))));
        h.event(watcher::Event::Apply(pod("web-2", "2", "web", Some("web"))));
        h.expectations
            .expect_deletions("ns/web", ["ns/web-1".to_string(), "ns/web-2".to_string()]);
        let mut terminating = pod("web-1", "3", "web", Some("web"));
        terminating.metadata.deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::now()));
        h.event(watcher::Event::Apply(terminating.clone()));
        h.event(watcher::Event::Delete(terminating));
        assert!(
            !h.expectations.satisfied("ns/web"),
            "web-2 is still expected"
        );
        h.event(watcher::Event::Delete(pod(
            "web-2",
            "4",
            "web",
            Some("web"),
        )));
        assert!(h.expectations.satisfied("ns/web"));
    }

    #[test]
    fn a_relist_reports_pods_deleted_while_the_watch_was_down() {
        let mut h = Harness::new(&["web"]);
        h.event(watcher::Event::Apply(pod("web-1", "1", "web", Some("web"))));
        h.event(watcher::Event::Apply(pod("web-2", "2", "web", Some("web"))));
        h.queued();
        h.expectations
            .expect_deletions("ns/web", ["ns/web-2".to_string()]);
        // The relist no longer has web-2 and brings a new pod web-3.
        h.event(watcher::Event::Init);
        h.event(watcher::Event::InitApply(pod(
            "web-1",
            "1",
            "web",
            Some("web"),
        )));
        h.event(watcher::Event::InitApply(pod(
            "web-3",
            "5",
            "web",
            Some("web"),
        )));
        assert_eq!(
            h.handler.pods.len(),
            2,
            "the cache is replaced only at InitDone"
        );
        h.event(watcher::Event::InitDone);
        assert!(
            h.expectations.satisfied("ns/web"),
            "web-2's deletion was observed"
        );
        assert_eq!(
            h.queued(),
            ["web", "web"],
            "web-3 added, web-2 deleted; web-1 unchanged"
        );
        assert_eq!(h.handler.pods.len(), 2);
    }
}
