//! Keeps the RBAC index and the node graph current from the apiserver's own watch cache: one
//! snapshot at start, then every event of the watched prefixes, in revision order. A watcher
//! that falls behind the cache's broadcast buffer (or sees the cache reload) starts over from
//! a fresh snapshot, so the index never misses a change.

use std::sync::Arc;

use api_types::catalog;
use serde_json::Value;
use tokio::sync::{broadcast, Notify};

use super::node::NodeGraph;
use super::rbac::{RbacIndex, RbacKind};
use crate::storage::watch_cache::{EventType, WatchEvent};
use crate::storage::WatchCache;

/// What a watched storage prefix feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Rbac(RbacKind),
    Pod,
    Pvc,
}

/// The prefixes the authorizers follow, e.g. `/registry/clusterroles/`.
fn targets(prefix: &str) -> Vec<(String, Target, bool)> {
    let storage = |g: &str, r: &str| {
        catalog::find(g, "v1", r)
            .map(|i| i.storage)
            .unwrap_or(r)
            .to_string()
    };
    let rbac = "rbac.authorization.k8s.io";
    vec![
        (
            storage(rbac, "clusterroles"),
            Target::Rbac(RbacKind::ClusterRole),
            false,
        ),
        (storage(rbac, "roles"), Target::Rbac(RbacKind::Role), true),
        (
            storage(rbac, "clusterrolebindings"),
            Target::Rbac(RbacKind::ClusterRoleBinding),
            false,
        ),
        (
            storage(rbac, "rolebindings"),
            Target::Rbac(RbacKind::RoleBinding),
            true,
        ),
        (storage("", "pods"), Target::Pod, true),
        (storage("", "persistentvolumeclaims"), Target::Pvc, true),
    ]
    .into_iter()
    .map(|(s, t, namespaced)| (format!("{prefix}/{s}/"), t, namespaced))
    .collect()
}

/// The RBAC index and node graph, fed from the watch cache.
pub struct Feed {
    cache: Arc<WatchCache>,
    targets: Vec<(String, Target, bool)>,
    rbac: Arc<RbacIndex>,
    graph: Arc<NodeGraph>,
    /// Signalled after ClusterRoles changed (the aggregation loop waits on it).
    pub cluster_roles_changed: Arc<Notify>,
}

impl Feed {
    /// Load the current state and keep following the cache in a background task. Returns once
    /// the initial state is in, so the first request is decided on complete data.
    pub fn start(
        cache: Arc<WatchCache>,
        prefix: &str,
        rbac: Arc<RbacIndex>,
        graph: Arc<NodeGraph>,
    ) -> Arc<Self> {
        let feed = Arc::new(Self {
            cache,
            targets: targets(prefix.trim_end_matches('/')),
            rbac,
            graph,
            cluster_roles_changed: Arc::new(Notify::new()),
        });
        let (rx, revisions) = feed.resync();
        let follower = feed.clone();
        tokio::spawn(async move { follower.follow(rx, revisions).await });
        feed
    }

    /// Subscribe, then load every prefix; returns the receiver and the revision each prefix
    /// was loaded at (later events for it are newer).
    fn resync(&self) -> (broadcast::Receiver<Arc<WatchEvent>>, Vec<i64>) {
        // Subscribing first means nothing between the subscription and the lists is lost.
        let (_, _, rx) = self.cache.snapshot_and_watch("\u{0}");
        self.rbac.clear();
        self.graph.clear();
        let mut revisions = Vec::new();
        for (prefix, target, namespaced) in &self.targets {
            let (items, rev) = self.cache.list(prefix);
            for obj in items {
                let v = obj.value();
                let (ns, name) = ns_name(v, *namespaced);
                self.apply(*target, ns.as_deref(), &name, Some(v));
            }
            revisions.push(rev);
        }
        self.cluster_roles_changed.notify_one();
        (rx, revisions)
    }

    fn apply(&self, target: Target, ns: Option<&str>, name: &str, obj: Option<&Value>) {
        match target {
            Target::Rbac(kind) => self.rbac.apply(kind, ns, name, obj),
            Target::Pod => self.graph.apply_pod(ns.unwrap_or_default(), name, obj),
            Target::Pvc => self.graph.apply_pvc(ns.unwrap_or_default(), name, obj),
        }
    }

    async fn follow(
        self: Arc<Self>,
        mut rx: broadcast::Receiver<Arc<WatchEvent>>,
        mut revisions: Vec<i64>,
    ) {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    let Some(i) = self
                        .targets
                        .iter()
                        .position(|(p, _, _)| ev.key.starts_with(p))
                    else {
                        continue;
                    };
                    if ev.revision <= revisions[i] {
                        continue;
                    }
                    let (_, target, namespaced) = self.targets[i].clone();
                    let v = ev.object.value();
                    let (ns, name) = ns_name(v, namespaced);
                    let obj = (ev.kind != EventType::Deleted).then_some(v);
                    self.apply(target, ns.as_deref(), &name, obj);
                    if target == Target::Rbac(RbacKind::ClusterRole) {
                        self.cluster_roles_changed.notify_one();
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "authorization index fell behind; resyncing");
                    (rx, revisions) = self.resync();
                }
                Err(broadcast::error::RecvError::Closed) => {
                    // The cache reloaded and replaced its sender: start over on the new one.
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    (rx, revisions) = self.resync();
                }
            }
        }
    }
}

fn ns_name(v: &Value, namespaced: bool) -> (Option<String>, String) {
    let meta = |f: &str| {
        v.pointer(&format!("/metadata/{f}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let ns = namespaced.then(|| meta("namespace"));
    (ns, meta("name"))
}
