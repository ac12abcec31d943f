//! The garbage collector (upstream's `pkg/controller/garbagecollector`): deletes objects
//! whose owners are all gone (background cascading deletion), and carries out the `orphan`
//! and `foregroundDeletion` finalizers the apiserver puts on owners deleted with
//! `propagationPolicy` Orphan / Foreground.
//!
//! - [`discovery`]: which resources exist (again every 30 s: CRDs come and go);
//! - [`watches`] + [`cache`]: one metadata watch per resource feeding one graph of every
//!   object by uid, which wakes the pass when a change can matter;
//! - [`decide`]: the decisions over a snapshot of the graph, without API calls;
//! - [`act`]: the guarded writes.
//!
//! A pass runs on a wake-up and on a slow tick (which retries writes that failed or met a
//! conflict); it never lists. The graph may lag behind the cluster, so a missing owner is
//! confirmed by a live GET before anything is deleted, deletes and patches are guarded by
//! uid and resourceVersion, and no finalizer is removed until every watch has listed.

mod act;
mod cache;
mod decide;
mod discovery;
mod watches;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::Client;
use tokio::time::MissedTickBehavior;

use act::Outcome;
use cache::{Graph, Snapshot};
use decide::{Dangling, DependentAction, OwnerPlan, Propagation, FOREGROUND, ORPHAN};
use discovery::Resource;
use watches::Watches;

/// How often the set of resources is discovered again (CRDs come and go).
const DISCOVERY_INTERVAL: Duration = Duration::from_secs(30);
/// A pass without a wake-up: retries what failed, as upstream's requeues do.
const RESYNC_INTERVAL: Duration = Duration::from_secs(10);
/// How soon a pass that met a conflict runs again: the newer version is usually in the
/// graph by then, and the change behind the conflict need not have woken the pass.
const CONFLICT_RETRY: Duration = Duration::from_secs(1);
/// How long the first passes wait for every watch to list. Past it, passes run anyway —
/// a missing owner is still confirmed live, and finalizers still wait (see [`decide::plan`])
/// — so one resource whose watch keeps failing cannot stop all collection.
const STARTUP_SYNC_GRACE: Duration = Duration::from_secs(60);
/// Least time between two warnings about resources whose watch has not listed.
const UNSYNCED_WARN_INTERVAL: Duration = Duration::from_secs(60);

/// Run forever.
pub async fn run(client: Client) {
    let graph = Arc::new(Graph::default());
    let mut watches = Watches::default();
    let mut resources: Vec<Arc<Resource>> = Vec::new();
    let mut rediscover = tokio::time::interval(DISCOVERY_INTERVAL);
    let mut resync = tokio::time::interval(RESYNC_INTERVAL);
    rediscover.set_missed_tick_behavior(MissedTickBehavior::Delay);
    resync.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut gate = SyncGate::default();
    loop {
        tokio::select! {
            // Discovery first: nothing can be decided before the watches exist.
            biased;
            _ = rediscover.tick() => {
                match discovery::discover(&client).await {
                    Ok(found) => {
                        watches.reconcile(&client, &graph, &found);
                        resources = found;
                        gate.discovered();
                    }
                    Err(e) => tracing::warn!(error = %e, "garbage collector: discovery failed"),
                }
                continue;
            }
            _ = graph.changed() => {}
            _ = resync.tick() => {}
        }
        let snapshot = graph.snapshot();
        if gate.allows_pass(&snapshot.unsynced, Instant::now())
            && pass(&client, &resources, &snapshot).await
        {
            resync.reset_after(CONFLICT_RETRY);
        }
    }
}

/// Whether a pass may run yet: upstream's collector waits for its graph to sync.
#[derive(Default)]
struct SyncGate {
    discovered: bool,
    synced_once: bool,
    /// Since when some watch has not listed.
    unsynced_since: Option<Instant>,
    last_warned: Option<Instant>,
}

impl SyncGate {
    fn discovered(&mut self) {
        self.discovered = true;
    }

    fn allows_pass(&mut self, unsynced: &[String], now: Instant) -> bool {
        if !self.discovered {
            return false;
        }
        if unsynced.is_empty() {
            if !self.synced_once {
                tracing::info!("garbage collector: all resources listed, collecting");
            }
            self.synced_once = true;
            self.unsynced_since = None;
            return true;
        }
        let since = *self.unsynced_since.get_or_insert(now);
        let stuck = now.duration_since(since) > STARTUP_SYNC_GRACE;
        if stuck
            && self
                .last_warned
                .is_none_or(|t| now.duration_since(t) > UNSYNCED_WARN_INTERVAL)
        {
            tracing::warn!(resources = ?unsynced,
                "garbage collector: these watches have not listed; orphan and foreground finalizers are held");
            self.last_warned = Some(now);
        }
        // Once synced, a newly discovered resource does not stop collection: only the
        // finalizer work waits for it (see `decide::plan`).
        self.synced_once || stuck
    }
}

/// Carry out everything the snapshot calls for; one object's failure does not stop the
/// others (it is retried by a later pass). Whether a write met a conflict.
async fn pass(client: &Client, resources: &[Arc<Resource>], snapshot: &Snapshot) -> bool {
    let plan = decide::plan(snapshot);
    let mut conflicted = false;
    for owner in &plan.owners {
        match carry_out(client, owner).await {
            Ok(c) => conflicted |= c,
            Err(e) => tracing::warn!(error = %e, "garbage collector: finalizer work failed"),
        }
    }
    // (dependent's namespace, owner uid) → confirmed absent: the dependents of one deleted
    // owner cost one GET. The namespace is part of the key because the owner is looked up
    // in the dependent's namespace, and a reference across namespaces is absent from one
    // namespace while present in its own.
    let mut absent_owners = HashMap::new();
    for dangling in &plan.dangling {
        match collect(client, resources, dangling, &mut absent_owners).await {
            Ok(c) => conflicted |= c,
            Err(e) => {
                let meta = &dangling.dependent.meta;
                tracing::warn!(namespace = ?meta.namespace, name = ?meta.name, error = %e,
                    "garbage collector: collecting failed");
            }
        }
    }
    conflicted
}

/// The orphan or foreground work of one owner being deleted; whether a write conflicted.
async fn carry_out(client: &Client, plan: &OwnerPlan) -> Result<bool, kube::Error> {
    match plan {
        OwnerPlan::Orphan {
            owner,
            release,
            finish,
        } => {
            let mut conflicted = false;
            for dep in release {
                let uid = owner.uid().to_string();
                let outcome = act::remove_refs(client, dep, &[uid]).await?;
                // A conflicting dependent still points at the owner: the owner must stay
                // until a later pass has released it.
                conflicted |= outcome == Outcome::Conflict;
            }
            if *finish && !conflicted {
                conflicted =
                    act::remove_finalizer(client, owner, ORPHAN).await? == Outcome::Conflict;
            }
            Ok(conflicted)
        }
        OwnerPlan::Foreground {
            owner,
            delete,
            finish,
        } => {
            for (dep, how) in delete {
                act::delete(client, dep, *how, false).await?;
            }
            if *finish {
                let outcome = act::remove_finalizer(client, owner, FOREGROUND).await?;
                return Ok(outcome == Outcome::Conflict);
            }
            Ok(false)
        }
    }
}

/// Confirm which owners of a dangling object are gone, then release or delete it; whether
/// the write conflicted.
async fn collect(
    client: &Client,
    resources: &[Arc<Resource>],
    dangling: &Dangling,
    absent_owners: &mut HashMap<(Option<String>, String), bool>,
) -> Result<bool, kube::Error> {
    let dep = &dangling.dependent;
    let mut absent = Vec::new();
    for r in &dangling.unseen {
        let key = (dep.meta.namespace.clone(), r.uid.clone());
        let is_absent = match absent_owners.get(&key) {
            Some(known) => *known,
            None => {
                let found = act::owner_absent(client, resources, dep, r).await?;
                absent_owners.insert(key, found);
                found
            }
        };
        if is_absent {
            absent.push(r.uid.clone());
        }
    }
    let outcome = match decide::dangling_action(&dep.meta, &absent) {
        None => return Ok(false),
        Some(DependentAction::Delete) => {
            act::delete(client, dep, Propagation::Background, true).await?
        }
        Some(DependentAction::RemoveRefs(uids)) => act::remove_refs(client, dep, &uids).await?,
    };
    if outcome == Outcome::Conflict {
        tracing::debug!(namespace = ?dep.meta.namespace, name = ?dep.meta.name,
            "garbage collector: object changed since decided on; a later pass looks again");
    }
    Ok(outcome == Outcome::Conflict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_pass_before_discovery_or_before_the_first_sync() {
        let mut gate = SyncGate::default();
        let t0 = Instant::now();
        assert!(!gate.allows_pass(&[], t0), "nothing discovered yet");
        gate.discovered();
        let unsynced = vec!["apps/v1/replicasets".to_string()];
        assert!(!gate.allows_pass(&unsynced, t0 + Duration::from_secs(1)));
        assert!(gate.allows_pass(&[], t0 + Duration::from_secs(2)));
        // Once synced, a newly discovered resource does not stop collection (its
        // finalizer work waits in `decide::plan`).
        assert!(gate.allows_pass(&unsynced, t0 + Duration::from_secs(3)));
    }

    #[test]
    fn a_watch_that_never_lists_stops_collection_only_for_the_grace() {
        let mut gate = SyncGate::default();
        let t0 = Instant::now();
        gate.discovered();
        let unsynced = vec!["example.com/v1/widgets".to_string()];
        assert!(!gate.allows_pass(&unsynced, t0));
        assert!(!gate.allows_pass(&unsynced, t0 + STARTUP_SYNC_GRACE / 2));
        assert!(gate.allows_pass(&unsynced, t0 + STARTUP_SYNC_GRACE * 2));
    }
}
