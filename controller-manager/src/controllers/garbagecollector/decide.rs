//! What the collector should do, decided over a [`Snapshot`] of the graph without any API
//! call, so that every rule can be tested without a server:
//!
//! - an owner deleted with `propagationPolicy: Orphan` carries the `orphan` finalizer: its
//!   dependents lose their references to it, and only then does the finalizer go;
//! - an owner deleted with `Foreground` carries `foregroundDeletion`: its dependents are
//!   deleted (in the foreground themselves when they block it), and the finalizer goes once
//!   no dependent with `blockOwnerDeletion` is left;
//! - an object some of whose owners are not in the graph is [`Dangling`]: the caller must
//!   confirm with a live GET that they are really gone ([`dangling_action`] then says what
//!   to do), because the graph can lag behind the cluster.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::cache::{owner_refs, Node, Snapshot};

/// Finalizer asking the collector to release dependents before the owner goes.
pub const ORPHAN: &str = "orphan";
/// Finalizer asking the collector to delete dependents before the owner goes.
pub const FOREGROUND: &str = "foregroundDeletion";

/// How a dependent is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Foreground,
    Background,
}

/// The work an owner being deleted through one of our finalizers calls for.
#[derive(Debug)]
pub enum OwnerPlan {
    /// Remove the references to `owner` from `release`, then — if `finish` and every
    /// release succeeded — the `orphan` finalizer.
    Orphan {
        owner: Arc<Node>,
        release: Vec<Arc<Node>>,
        finish: bool,
    },
    /// Delete `delete` (the dependents not being deleted yet), then — if `finish` — remove
    /// the `foregroundDeletion` finalizer.
    Foreground {
        owner: Arc<Node>,
        delete: Vec<(Arc<Node>, Propagation)>,
        finish: bool,
    },
}

/// An object whose owners `unseen` are not in the graph.
#[derive(Debug)]
pub struct Dangling {
    pub dependent: Arc<Node>,
    pub unseen: Vec<OwnerReference>,
}

/// Everything one pass should do.
#[derive(Debug, Default)]
pub struct Plan {
    pub owners: Vec<OwnerPlan>,
    pub dangling: Vec<Dangling>,
}

/// What to do with a dangling object once the owners in `absent` are confirmed gone.
#[derive(Debug, PartialEq, Eq)]
pub enum DependentAction {
    /// All its owners are gone: delete it (background).
    Delete,
    /// Some owners remain: only the references to these uids go.
    RemoveRefs(Vec<String>),
}

/// Decide over `snapshot`.
///
/// A finalizer is only ever removed when every watch has delivered its list: before that,
/// a dependent may exist that the graph does not show, and removing the finalizer would
/// let the owner go with that dependent still pointing at it — to be collected later as
/// ownerless, the very thing `Orphan` asked not to happen.
pub fn plan(snapshot: &Snapshot) -> Plan {
    let complete = snapshot.unsynced.is_empty();
    let deleting: HashSet<&str> = snapshot
        .nodes
        .values()
        .filter(|n| deleting_with_gc_finalizer(&n.meta))
        .map(|n| n.uid())
        .collect();
    let mut dependents: HashMap<&str, Vec<&Arc<Node>>> = HashMap::new();
    for node in snapshot.nodes.values() {
        for r in node.owner_refs() {
            if deleting.contains(r.uid.as_str()) {
                dependents.entry(r.uid.as_str()).or_default().push(node);
            }
        }
    }

    let mut plan = Plan::default();
    for uid in deleting {
        let Some(owner) = snapshot.nodes.get(uid) else {
            continue;
        };
        let deps = dependents.remove(uid).unwrap_or_default();
        plan.owners.push(owner_plan(owner, &deps, complete));
    }
    for node in snapshot.nodes.values() {
        if node.meta.deletion_timestamp.is_some() {
            continue;
        }
        let unseen: Vec<OwnerReference> = node
            .owner_refs()
            .iter()
            .filter(|r| !snapshot.nodes.contains_key(&r.uid))
            .cloned()
            .collect();
        if !unseen.is_empty() {
            plan.dangling.push(Dangling {
                dependent: node.clone(),
                unseen,
            });
        }
    }
    plan
}

/// Whether `meta` is being deleted and waits for the collector (orphan or foreground).
pub fn deleting_with_gc_finalizer(meta: &ObjectMeta) -> bool {
    meta.deletion_timestamp.is_some()
        && meta
            .finalizers
            .iter()
            .flatten()
            .any(|f| f == ORPHAN || f == FOREGROUND)
}

fn owner_plan(owner: &Arc<Node>, deps: &[&Arc<Node>], complete: bool) -> OwnerPlan {
    let has = |f: &str| owner.meta.finalizers.iter().flatten().any(|x| x == f);
    // Orphan wins when both were set: keeping dependents is the safe reading.
    if has(ORPHAN) {
        return OwnerPlan::Orphan {
            owner: owner.clone(),
            release: deps.iter().map(|d| (*d).clone()).collect(),
            finish: complete,
        };
    }
    let mut blocking = 0;
    let mut delete = Vec::new();
    for dep in deps {
        let blocks = dep
            .owner_refs()
            .iter()
            .any(|r| r.uid == owner.uid() && r.block_owner_deletion == Some(true));
        if blocks {
            // Still blocks while it is being deleted: the owner waits until it is gone.
            blocking += 1;
        }
        if dep.meta.deletion_timestamp.is_none() {
            let how = if blocks {
                Propagation::Foreground
            } else {
                Propagation::Background
            };
            delete.push(((*dep).clone(), how));
        }
    }
    OwnerPlan::Foreground {
        owner: owner.clone(),
        delete,
        finish: complete && blocking == 0,
    }
}

/// What to do with `dependent` given the uids of its owners confirmed `absent`.
pub fn dangling_action(dependent: &ObjectMeta, absent: &[String]) -> Option<DependentAction> {
    let refs = owner_refs(dependent);
    let gone: Vec<String> = refs
        .iter()
        .filter(|r| absent.contains(&r.uid))
        .map(|r| r.uid.clone())
        .collect();
    if gone.is_empty() {
        None
    } else if gone.len() == refs.len() {
        Some(DependentAction::Delete)
    } else {
        Some(DependentAction::RemoveRefs(gone))
    }
}

/// `meta`'s owner references without those to `uids`; None when none are left (a merge
/// patch then removes the field).
pub fn refs_without(meta: &ObjectMeta, uids: &[String]) -> Option<Vec<OwnerReference>> {
    let kept: Vec<OwnerReference> = owner_refs(meta)
        .iter()
        .filter(|r| !uids.contains(&r.uid))
        .cloned()
        .collect();
    (!kept.is_empty()).then_some(kept)
}

/// `meta`'s finalizers without `finalizer`; None when none are left.
pub fn finalizers_without(meta: &ObjectMeta, finalizer: &str) -> Option<Vec<String>> {
    let kept: Vec<String> = meta
        .finalizers
        .iter()
        .flatten()
        .filter(|f| f.as_str() != finalizer)
        .cloned()
        .collect();
    (!kept.is_empty()).then_some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::garbagecollector::discovery::Resource;
    use k8s_openapi::api::apps::v1::ReplicaSet;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kube::api::ApiResource;

    fn res() -> Arc<Resource> {
        Arc::new(Resource::new(ApiResource::erase::<ReplicaSet>(&()), true))
    }

    fn owned_by(uid: &str, owners: &[(&str, bool)]) -> ObjectMeta {
        ObjectMeta {
            name: Some(uid.into()),
            uid: Some(uid.into()),
            resource_version: Some("1".into()),
            owner_references: (!owners.is_empty()).then(|| {
                owners
                    .iter()
                    .map(|(o, block)| OwnerReference {
                        api_version: "apps/v1".into(),
                        kind: "ReplicaSet".into(),
                        name: o.to_string(),
                        uid: o.to_string(),
                        block_owner_deletion: Some(*block),
                        ..Default::default()
                    })
                    .collect()
            }),
            ..Default::default()
        }
    }

    fn deleting(uid: &str, finalizers: &[&str]) -> ObjectMeta {
        ObjectMeta {
            deletion_timestamp: Some(Time(k8s_openapi::jiff::Timestamp::now())),
            finalizers: Some(finalizers.iter().map(|f| f.to_string()).collect()),
            ..owned_by(uid, &[])
        }
    }

    fn snapshot(metas: Vec<ObjectMeta>, unsynced: &[&str]) -> Snapshot {
        let r = res();
        Snapshot {
            nodes: metas
                .into_iter()
                .map(|meta| {
                    let uid = meta.uid.clone().unwrap_or_default();
                    let node = Node {
                        resource: r.clone(),
                        meta,
                    };
                    (uid, Arc::new(node))
                })
                .collect(),
            unsynced: unsynced.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn uids(nodes: &[Arc<Node>]) -> Vec<&str> {
        let mut v: Vec<&str> = nodes.iter().map(|n| n.uid()).collect();
        v.sort();
        v
    }

    #[test]
    fn orphan_releases_every_dependent_then_finishes() {
        let snap = snapshot(
            vec![
                deleting("owner", &[ORPHAN]),
                owned_by("a", &[("owner", true)]),
                owned_by("b", &[("owner", false), ("other", false)]),
                owned_by("other", &[]),
                owned_by("unrelated", &[("other", false)]),
            ],
            &[],
        );
        let plan = plan(&snap);
        let [OwnerPlan::Orphan {
            owner,
            release,
            finish,
        }] = plan.owners.as_slice()
        else {
            panic!("one orphan plan expected: {plan:?}");
        };
        assert_eq!(owner.uid(), "owner");
        assert_eq!(uids(release), vec!["a", "b"]);
        assert!(*finish);
        // Releasing `b` keeps its other owner.
        let b = &snap.nodes["b"].meta;
        let kept = refs_without(b, &["owner".to_string()]).expect("one left");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].uid, "other");
        assert!(plan.dangling.is_empty(), "{:?}", plan.dangling);
    }

    #[test]
    fn no_finalizer_is_removed_before_every_watch_has_listed() {
        let snap = snapshot(
            vec![deleting("o1", &[ORPHAN]), deleting("o2", &[FOREGROUND])],
            &["apps/v1/replicasets"],
        );
        let plan = plan(&snap);
        assert_eq!(plan.owners.len(), 2);
        for p in &plan.owners {
            let (OwnerPlan::Orphan { finish, .. } | OwnerPlan::Foreground { finish, .. }) = p;
            assert!(!finish, "finished on an incomplete graph: {p:?}");
        }
    }

    #[test]
    fn foreground_waits_for_blocking_dependents() {
        let mut being_deleted = owned_by("gone-soon", &[("owner", true)]);
        being_deleted.deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::now()));
        let snap = snapshot(
            vec![
                deleting("owner", &[FOREGROUND]),
                owned_by("blocker", &[("owner", true)]),
                owned_by("follower", &[("owner", false)]),
                being_deleted,
            ],
            &[],
        );
        let plan = plan(&snap);
        let [OwnerPlan::Foreground { delete, finish, .. }] = plan.owners.as_slice() else {
            panic!("one foreground plan expected: {plan:?}");
        };
        let mut delete: Vec<(&str, Propagation)> =
            delete.iter().map(|(n, p)| (n.uid(), *p)).collect();
        delete.sort_by_key(|(u, _)| *u);
        assert_eq!(
            delete,
            vec![
                ("blocker", Propagation::Foreground),
                ("follower", Propagation::Background)
            ],
            "the one already being deleted is not deleted again"
        );
        assert!(!finish, "blocking dependents remain");
    }

    #[test]
    fn foreground_finishes_when_only_non_blocking_dependents_remain() {
        let snap = snapshot(
            vec![
                deleting("owner", &[FOREGROUND]),
                owned_by("follower", &[("owner", false)]),
            ],
            &[],
        );
        let plan = plan(&snap);
        let [OwnerPlan::Foreground { finish, .. }] = plan.owners.as_slice() else {
            panic!("one foreground plan expected: {plan:?}");
        };
        assert!(finish);
    }

    #[test]
    fn deletion_without_our_finalizers_plans_nothing() {
        let snap = snapshot(
            vec![
                deleting("owner", &["example.com/other"]),
                owned_by("dep", &[("owner", true)]),
            ],
            &[],
        );
        let plan = plan(&snap);
        assert!(plan.owners.is_empty(), "{plan:?}");
        assert!(plan.dangling.is_empty(), "the owner still exists");
    }

    #[test]
    fn objects_with_owners_missing_from_the_graph_are_dangling() {
        let mut terminating = owned_by("terminating", &[("gone", false)]);
        terminating.deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::now()));
        let snap = snapshot(
            vec![
                owned_by("here", &[]),
                owned_by("orphaned", &[("gone", true)]),
                owned_by("half", &[("gone", false), ("here", false)]),
                owned_by("fine", &[("here", true)]),
                terminating,
            ],
            &[],
        );
        let plan = plan(&snap);
        let mut dangling: Vec<(&str, Vec<&str>)> = plan
            .dangling
            .iter()
            .map(|d| {
                let unseen = d.unseen.iter().map(|r| r.uid.as_str()).collect();
                (d.dependent.uid(), unseen)
            })
            .collect();
        dangling.sort();
        assert_eq!(
            dangling,
            vec![("half", vec!["gone"]), ("orphaned", vec!["gone"])]
        );
    }

    #[test]
    fn a_dependent_is_deleted_only_when_all_its_owners_are_gone() {
        let two = owned_by("dep", &[("a", true), ("b", false)]);
        assert_eq!(dangling_action(&two, &[]), None, "nothing confirmed gone");
        assert_eq!(
            dangling_action(&two, &["a".to_string()]),
            Some(DependentAction::RemoveRefs(vec!["a".to_string()]))
        );
        assert_eq!(
            dangling_action(&two, &["a".to_string(), "b".to_string()]),
            Some(DependentAction::Delete)
        );
        // A uid it does not reference changes nothing.
        assert_eq!(dangling_action(&two, &["zzz".to_string()]), None);
    }

    #[test]
    fn finalizer_removal_keeps_the_others() {
        let meta = deleting("o", &[ORPHAN, "example.com/keep"]);
        assert_eq!(
            finalizers_without(&meta, ORPHAN),
            Some(vec!["example.com/keep".to_string()])
        );
        assert_eq!(finalizers_without(&deleting("o", &[ORPHAN]), ORPHAN), None);
    }
}
