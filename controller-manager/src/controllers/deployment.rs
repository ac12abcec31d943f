//! The Deployment controller: one ReplicaSet per pod template (`<deploy>-<pod-template-hash>`),
//! rolled from old to new by the RollingUpdate or Recreate strategy, revisions in the
//! `deployment.kubernetes.io/revision` annotation, old ReplicaSets cleaned up beyond
//! `revisionHistoryLimit`, and status with the Available / Progressing conditions.
//!
//! Rollback (`kubectl rollout undo`) needs nothing special: kubectl puts an old template
//! back, that template's ReplicaSet becomes the new one again and gets the next revision.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::events::{self, Recorder};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

use super::deployment_scale;
use super::deployment_status::{self, RolloutEvent};
use super::deployment_util::{self as util, POD_TEMPLATE_HASH};
use super::{podutil, selector};

/// The reason of the events reporting a ReplicaSet resize.
const SCALING_REPLICA_SET: &str = "ScalingReplicaSet";
/// The reason of the warning when the new ReplicaSet cannot be created.
const FAILED_RS_CREATE: &str = "ReplicaSetCreateError";

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    #[error("Deployment has no namespace")]
    NoNamespace,
    #[error("ReplicaSet name {0} collides with another template; collisionCount bumped")]
    HashCollision(String),
}

struct Context {
    client: Client,
    recorder: Recorder,
}

/// Run until the watch streams end.
pub async fn run(client: Client) {
    let deployments: Api<Deployment> = Api::all(client.clone());
    let sets: Api<ReplicaSet> = Api::all(client.clone());
    let ctx = Arc::new(Context {
        recorder: Recorder::new(client.clone(), "deployment-controller"),
        client,
    });
    let results = Controller::new(deployments, watcher::Config::default())
        .owns(sets, watcher::Config::default())
        .run(reconcile, error_policy, ctx);
    super::drain("deployment", results).await;
}

fn error_policy(_d: Arc<Deployment>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(1))
}

/// The objects one sync works on.
struct World<'a> {
    rs_api: Api<ReplicaSet>,
    /// Reports every resize on the Deployment (`ScalingReplicaSet`): the controller's own.
    recorder: &'a Recorder,
    /// ReplicaSets this Deployment controls, oldest first.
    owned: Vec<ReplicaSet>,
}

async fn reconcile(d: Arc<Deployment>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = d.namespace().ok_or(Error::NoNamespace)?;
    let Some(spec) = d.spec.as_ref() else {
        return Ok(Action::await_change());
    };
    if selector::is_empty(&spec.selector) {
        ctx.recorder.warning(
            d.as_ref(),
            "SelectingAll",
            "This deployment is selecting all pods. A non-empty selector is required.",
        );
        return Ok(Action::await_change());
    }
    let rs_api: Api<ReplicaSet> = Api::namespaced(ctx.client.clone(), &ns);
    let owned = list_owned(ctx.as_ref(), &d, d.metadata.deletion_timestamp.is_none()).await?;
    let world = World {
        rs_api,
        recorder: &ctx.recorder,
        owned,
    };

    let deleting = d.metadata.deletion_timestamp.is_some();
    let paused = spec.paused == Some(true);
    if !deleting && (paused || deployment_scale::is_scaling_event(&d, &world.owned)) {
        // Replicas changed (or paused): resize the existing ReplicaSets proportionally,
        // without rolling anything out.
        let new_uid = find_new(&d, &world.owned).and_then(|rs| rs.uid());
        deployment_scale::scale_proportionally(
            &d,
            &world.rs_api,
            world.recorder,
            &world.owned,
            new_uid.as_deref(),
        )
        .await?;
        let owned = reload(&ctx, &d).await?;
        let new = find_new(&d, &owned).cloned();
        deployment_status::sync(&ctx.client, &d, new.as_ref(), &owned, RolloutEvent::None).await?;
        return Ok(Action::requeue(Duration::from_secs(10)));
    }
    if deleting {
        let new = find_new(&d, &world.owned).cloned();
        deployment_status::sync(
            &ctx.client,
            &d,
            new.as_ref(),
            &world.owned,
            RolloutEvent::None,
        )
        .await?;
        return Ok(Action::await_change());
    }

    let recreate = spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate");
    let event = if recreate {
        rollout_recreate(&ctx, &d, world).await?
    } else {
        rollout_rolling(&d, world).await?
    };
    // Re-read what we changed so status reflects this sync's actions.
    let world = reload(&ctx, &d).await?;
    let new = find_new(&d, &world).cloned();
    if let Some(new) = &new {
        cleanup(&d, &world, new, &ctx).await?;
    }
    let complete = deployment_status::sync(&ctx.client, &d, new.as_ref(), &world, event).await?;
    Ok(if complete {
        Action::await_change()
    } else {
        // Progress deadlines are checked even when nothing else happens.
        Action::requeue(Duration::from_secs(10))
    })
}

async fn reload(ctx: &Context, d: &Deployment) -> Result<Vec<ReplicaSet>, Error> {
    list_owned(ctx, d, false).await
}

/// The ReplicaSets this Deployment controls, oldest first; with `adopt`, orphans whose
/// labels match the selector are adopted first (upstream's ControllerRefManager).
async fn list_owned(ctx: &Context, d: &Deployment, adopt: bool) -> Result<Vec<ReplicaSet>, Error> {
    let api: Api<ReplicaSet> =
        Api::namespaced(ctx.client.clone(), &d.namespace().unwrap_or_default());
    let uid = d.uid().unwrap_or_default();
    let sel = d
        .spec
        .as_ref()
        .map(|s| s.selector.clone())
        .unwrap_or_default();
    let mut owned = Vec::new();
    for rs in api.list(&ListParams::default()).await?.items {
        match podutil::controller_of(&rs.metadata) {
            Some(r) if r.uid == uid => owned.push(rs),
            None if adopt
                && rs.metadata.deletion_timestamp.is_none()
                && selector::matches(&sel, rs.labels()) =>
            {
                let mut refs = rs.metadata.owner_references.clone().unwrap_or_default();
                refs.push(podutil::controller_ref(
                    "apps/v1",
                    "Deployment",
                    &d.name_any(),
                    &uid,
                ));
                let patch = json!({"metadata": {"ownerReferences": refs,
                                                "resourceVersion": rs.resource_version()}});
                match api
                    .patch(
                        &rs.name_any(),
                        &PatchParams::default(),
                        &Patch::Merge(&patch),
                    )
                    .await
                {
                    Ok(rs) => {
                        tracing::info!(deployment = %d.name_any(), replicaset = %rs.name_any(), "adopted ReplicaSet");
                        owned.push(rs);
                    }
                    // Changed or gone meanwhile: the next sync sees the new state.
                    Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => {}
                    Err(e) => return Err(e.into()),
                }
            }
            _ => {}
        }
    }
    owned.sort_by_key(|rs| {
        (
            rs.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_second()),
            rs.name_any(),
        )
    });
    Ok(owned)
}

/// The ReplicaSet whose template equals the Deployment's (ignoring the hash label); the
/// oldest wins when several do, as upstream.
fn find_new<'a>(d: &Deployment, owned: &'a [ReplicaSet]) -> Option<&'a ReplicaSet> {
    let want = util::template_ignoring_hash(&d.spec.as_ref()?.template);
    owned.iter().find(|rs| {
        rs.spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .is_some_and(|t| util::template_ignoring_hash(t) == want)
    })
}

fn max_revision<'a>(sets: impl Iterator<Item = &'a ReplicaSet>) -> i64 {
    sets.map(util::rs_revision).max().unwrap_or(0)
}

/// Find or create the new ReplicaSet (with `initial` replicas when created), and make its
/// revision the newest.
async fn ensure_new(
    d: &Deployment,
    world: &World<'_>,
    initial: i32,
) -> Result<(ReplicaSet, RolloutEvent), Error> {
    let new = find_new(d, &world.owned);
    let new_uid = new.and_then(|rs| rs.uid());
    let max_old = max_revision(world.owned.iter().filter(|rs| rs.uid() != new_uid));
    let wanted_revision = (max_old + 1).to_string();
    let surge = max_surge(d);
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    if let Some(rs) = new {
        if util::rs_revision(rs) <= max_old {
            // A rollback, or an older template reused: it becomes the newest revision.
            let patch = json!({"metadata": {"annotations": {util::REVISION: wanted_revision}}});
            let rs = world
                .rs_api
                .patch(
                    &rs.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await?;
            return Ok((rs, RolloutEvent::FoundNew));
        }
        return Ok((rs.clone(), RolloutEvent::None));
    }
    let spec = d.spec.as_ref().cloned().unwrap_or_default();
    let collision = d.status.as_ref().and_then(|s| s.collision_count);
    let hash = util::compute_hash(&spec.template, collision);
    let name = format!("{}-{}", d.name_any(), hash);
    let mut template = spec.template.clone();
    let tmeta = template.metadata.get_or_insert_with(Default::default);
    tmeta
        .labels
        .get_or_insert_with(Default::default)
        .insert(POD_TEMPLATE_HASH.into(), hash.clone());
    let mut selector: LabelSelector = spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(Default::default)
        .insert(POD_TEMPLATE_HASH.into(), hash.clone());
    let mut annotations: BTreeMap<String, String> = d
        .annotations()
        .iter()
        .filter(|(k, _)| !skipped_annotation(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    annotations.insert(util::REVISION.into(), wanted_revision);
    annotations.insert(util::DESIRED_REPLICAS.into(), replicas.to_string());
    annotations.insert(util::MAX_REPLICAS.into(), (replicas + surge).to_string());
    let rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: d.namespace(),
            labels: tmeta.labels.clone(),
            annotations: Some(annotations),
            owner_references: Some(vec![podutil::controller_ref(
                "apps/v1",
                "Deployment",
                &d.name_any(),
                &d.uid().unwrap_or_default(),
            )]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(initial),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(template),
        }),
        status: None,
    };
    match world.rs_api.create(&PostParams::default(), &rs).await {
        Ok(rs) => {
            tracing::info!(deployment = %d.name_any(), replicaset = %name, "created new ReplicaSet");
            if initial > 0 {
                world.recorder.normal(
                    d,
                    SCALING_REPLICA_SET,
                    format!("Scaled up replica set {name} from 0 to {initial}"),
                );
            }
            Ok((rs, RolloutEvent::CreatedNew))
        }
        Err(kube::Error::Api(e)) if e.code == 409 => {
            // Someone else's template hashed to the same name: bump collisionCount so the
            // next sync computes another name (upstream does the same).
            let api: Api<Deployment> = Api::namespaced(
                world.rs_api.clone().into_client(),
                &d.namespace().unwrap_or_default(),
            );
            let patch = json!({"status": {"collisionCount": collision.unwrap_or(0) + 1}});
            api.patch_status(
                &d.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
            Err(Error::HashCollision(name))
        }
        Err(e) if events::is_namespace_terminating(&e) => Err(e.into()),
        Err(e) => {
            world.recorder.warning(
                d,
                FAILED_RS_CREATE,
                format!(
                    "Failed to create new replica set \"{name}\": {}",
                    events::error_message(&e)
                ),
            );
            Err(e.into())
        }
    }
}

/// Annotations of the Deployment not copied to its ReplicaSets (upstream's skip list).
fn skipped_annotation(key: &str) -> bool {
    matches!(
        key,
        "kubectl.kubernetes.io/last-applied-configuration"
            | util::REVISION
            | "deployment.kubernetes.io/revision-history"
            | util::DESIRED_REPLICAS
            | util::MAX_REPLICAS
            | "deprecated.deployment.rollback.to"
    )
}

/// maxSurge as the replica annotations record it: 0 unless RollingUpdate.
pub(super) fn max_surge(d: &Deployment) -> i32 {
    let recreate = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        == Some("Recreate");
    if recreate {
        0
    } else {
        util::resolve_fenceposts(d).0
    }
}

/// Set a ReplicaSet's replicas and the desired/max annotations when either differs (the
/// annotations are how the next sync tells a scaling event from a rollout); a changed
/// size is reported on the Deployment.
pub(super) async fn scale(
    d: &Deployment,
    api: &Api<ReplicaSet>,
    recorder: &Recorder,
    rs: &ReplicaSet,
    replicas: i32,
) -> Result<(), Error> {
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let max = desired + max_surge(d);
    let annotations = rs.annotations();
    let annotated = annotations.get(util::DESIRED_REPLICAS) == Some(&desired.to_string())
        && annotations.get(util::MAX_REPLICAS) == Some(&max.to_string());
    let old = util::rs_replicas(rs);
    if old == replicas && annotated {
        return Ok(());
    }
    let patch = json!({
        "metadata": {"annotations": {util::DESIRED_REPLICAS: desired.to_string(),
                                     util::MAX_REPLICAS: max.to_string()}},
        "spec": {"replicas": replicas}});
    api.patch(
        &rs.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    tracing::info!(deployment = %d.name_any(), replicaset = %rs.name_any(), replicas, "scaled");
    if old != replicas {
        let direction = if old < replicas { "up" } else { "down" };
        recorder.normal(
            d,
            SCALING_REPLICA_SET,
            format!(
                "Scaled {direction} replica set {} from {old} to {replicas}",
                rs.name_any()
            ),
        );
    }
    Ok(())
}

/// RollingUpdate: scale the new ReplicaSet up within maxSurge, old ones down within
/// maxUnavailable, counting only available pods as upstream.
async fn rollout_rolling(d: &Deployment, world: World<'_>) -> Result<RolloutEvent, Error> {
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let (surge, max_unavailable) = util::resolve_fenceposts(d);
    let current: i32 = world.owned.iter().map(util::rs_replicas).sum();
    let new_existing = find_new(d, &world.owned).map(util::rs_replicas);
    // A brand-new ReplicaSet starts with what the surge allows right away.
    let initial = new_target(replicas, surge, current, new_existing.unwrap_or(0));
    let (new, event) = ensure_new(d, &world, initial).await?;
    let new_uid = new.uid();
    let olds: Vec<&ReplicaSet> = world
        .owned
        .iter()
        .filter(|rs| rs.uid() != new_uid)
        .collect();

    // Scale the new ReplicaSet.
    let current: i32 =
        olds.iter().map(|rs| util::rs_replicas(rs)).sum::<i32>() + util::rs_replicas(&new);
    let target = new_target(replicas, surge, current, util::rs_replicas(&new));
    scale(d, &world.rs_api, world.recorder, &new, target).await?;
    let new_replicas = target;

    // Scale old ReplicaSets down.
    let old_count: i32 = olds.iter().map(|rs| util::rs_replicas(rs)).sum();
    if old_count == 0 {
        return Ok(event);
    }
    let all = old_count + new_replicas;
    let min_available = replicas - max_unavailable;
    let new_unavailable = (new_replicas - util::rs_available(&new)).max(0);
    let mut budget = all - min_available - new_unavailable;
    if budget <= 0 {
        return Ok(event);
    }
    // First the old pods that are not available anyway, oldest ReplicaSet first.
    let mut remaining: Vec<(&ReplicaSet, i32)> =
        olds.iter().map(|rs| (*rs, util::rs_replicas(rs))).collect();
    for (rs, count) in remaining.iter_mut() {
        if budget <= 0 {
            break;
        }
        let unhealthy = (*count - util::rs_available(rs)).max(0);
        let down = unhealthy.min(budget);
        if down > 0 {
            *count -= down;
            budget -= down;
            scale(d, &world.rs_api, world.recorder, rs, *count).await?;
        }
    }
    // Then available ones, keeping minAvailable across all ReplicaSets.
    let available: i32 =
        olds.iter().map(|rs| util::rs_available(rs)).sum::<i32>() + util::rs_available(&new);
    let mut down_total = (available - min_available).min(budget).max(0);
    for (rs, count) in remaining.iter_mut() {
        if down_total <= 0 {
            break;
        }
        let down = (*count).min(down_total);
        if down > 0 {
            *count -= down;
            down_total -= down;
            scale(d, &world.rs_api, world.recorder, rs, *count).await?;
        }
    }
    Ok(event)
}

/// Replicas for the new ReplicaSet under RollingUpdate (upstream's `NewRSNewReplicas`).
pub fn new_target(replicas: i32, surge: i32, current_total: i32, new_current: i32) -> i32 {
    if new_current >= replicas {
        return replicas;
    }
    let max_total = replicas + surge;
    if current_total >= max_total {
        return new_current;
    }
    new_current + (max_total - current_total).min(replicas - new_current)
}

/// Recreate: every old pod gone before the new ReplicaSet gets any.
async fn rollout_recreate(
    ctx: &Context,
    d: &Deployment,
    world: World<'_>,
) -> Result<RolloutEvent, Error> {
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let new_uid = find_new(d, &world.owned).and_then(|rs| rs.uid());
    let olds: Vec<&ReplicaSet> = world
        .owned
        .iter()
        .filter(|rs| rs.uid() != new_uid)
        .collect();
    let mut scaled = false;
    for rs in &olds {
        if util::rs_replicas(rs) > 0 {
            scale(d, &world.rs_api, world.recorder, rs, 0).await?;
            scaled = true;
        }
    }
    if scaled || old_pods_running(ctx, d, &olds).await? {
        return Ok(RolloutEvent::None);
    }
    let (new, event) = ensure_new(d, &world, replicas).await?;
    scale(d, &world.rs_api, world.recorder, &new, replicas).await?;
    Ok(event)
}

/// Whether pods of the old ReplicaSets still exist (not yet deleted).
async fn old_pods_running(
    ctx: &Context,
    d: &Deployment,
    olds: &[&ReplicaSet],
) -> Result<bool, Error> {
    if olds.is_empty() {
        return Ok(false);
    }
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &d.namespace().unwrap_or_default());
    let pods = api.list(&ListParams::default()).await?.items;
    Ok(pods.iter().any(|p| {
        let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
        !matches!(phase, Some("Succeeded" | "Failed"))
            && podutil::controller_of(&p.metadata)
                .is_some_and(|r| olds.iter().any(|rs| rs.uid().as_deref() == Some(&r.uid)))
    }))
}

/// Delete old, fully scaled-down ReplicaSets beyond `revisionHistoryLimit` (default 10),
/// lowest revision first.
async fn cleanup(
    d: &Deployment,
    owned: &[ReplicaSet],
    new: &ReplicaSet,
    ctx: &Context,
) -> Result<(), Error> {
    let limit = d
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10)
        .max(0) as usize;
    let mut olds: Vec<&ReplicaSet> = owned
        .iter()
        .filter(|rs| rs.uid() != new.uid() && rs.metadata.deletion_timestamp.is_none())
        .collect();
    if olds.len() <= limit {
        return Ok(());
    }
    olds.sort_by_key(|rs| util::rs_revision(rs));
    let api: Api<ReplicaSet> =
        Api::namespaced(ctx.client.clone(), &d.namespace().unwrap_or_default());
    let excess = olds.len() - limit;
    for rs in olds.into_iter().take(excess) {
        let status = rs.status.as_ref();
        let idle = util::rs_replicas(rs) == 0
            && status.map(|s| s.replicas).unwrap_or(0) == 0
            && status.and_then(|s| s.observed_generation) == rs.metadata.generation;
        if !idle {
            continue;
        }
        match api.delete(&rs.name_any(), &DeleteParams::default()).await {
            Ok(_) => tracing::info!(replicaset = %rs.name_any(), "deleted old ReplicaSet"),
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_replicaset_grows_within_surge() {
        // 3 old pods, surge 1: the new ReplicaSet may get one pod.
        assert_eq!(new_target(3, 1, 3, 0), 1);
        // Already at replicas + surge: no growth until old pods go.
        assert_eq!(new_target(3, 1, 4, 1), 1);
        // Fresh deployment: straight to replicas.
        assert_eq!(new_target(5, 2, 0, 0), 5);
        // Scaled down: the new ReplicaSet shrinks to replicas.
        assert_eq!(new_target(2, 1, 5, 5), 2);
    }
}
