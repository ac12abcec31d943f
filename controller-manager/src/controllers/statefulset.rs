//! The StatefulSet controller: pods with stable names `<set>-<ordinal>`, a stable network
//! identity (hostname = pod name, subdomain = `serviceName`) and stable storage (one PVC per
//! `volumeClaimTemplate` and ordinal, created before the pod), created and deleted in
//! ordinal order (OrderedReady) or all at once (Parallel); updates by RollingUpdate (highest
//! ordinal first, down to the partition) or OnDelete, tracked with ControllerRevisions.
//!
//! The decisions are in [`super::statefulset_plan`]; this module reads the world, feeds
//! the planner, carries its steps out and writes status.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use common::events::{self, Recorder};
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::json;

use super::controller_history::{self, CONTROLLER_REVISION_HASH};
use super::statefulset_plan::{self, PodFacts, SetFacts, Step, UpdateStrategy};
use super::{podutil, ref_manager, selector};

/// Label with the pod's own name, for per-pod Services.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// Label with the pod's ordinal (upstream's PodIndexLabel, GA in 1.32).
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
/// Revisions kept by default (spec.revisionHistoryLimit).
const DEFAULT_HISTORY_LIMIT: i32 = 10;

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    #[error("StatefulSet has no namespace")]
    NoNamespace,
}

struct Context {
    client: Client,
    recorder: Recorder,
}

/// Run until the watch streams end.
pub async fn run(client: Client) {
    let sets: Api<StatefulSet> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    let revisions: Api<ControllerRevision> = Api::all(client.clone());
    let ctx = Arc::new(Context {
        recorder: Recorder::new(client.clone(), "statefulset-controller"),
        client,
    });
    let results = Controller::new(sets, watcher::Config::default())
        .owns(pods, watcher::Config::default())
        .owns(revisions, watcher::Config::default())
        .run(reconcile, error_policy, ctx);
    super::drain("statefulset", results).await;
}

fn error_policy(_set: Arc<StatefulSet>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

fn owner_ref(set: &StatefulSet) -> OwnerReference {
    podutil::controller_ref(
        "apps/v1",
        "StatefulSet",
        &set.name_any(),
        &set.uid().unwrap_or_default(),
    )
}

fn template_labels(template: &PodTemplateSpec) -> BTreeMap<String, String> {
    template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

/// Phase Running and condition Ready (upstream's `isRunningAndReady`).
fn running_ready(pod: &Pod) -> bool {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
        && podutil::is_ready(pod)
}

fn revision_of(pod: &Pod) -> String {
    pod.labels()
        .get(CONTROLLER_REVISION_HASH)
        .cloned()
        .unwrap_or_default()
}

async fn reconcile(set: Arc<StatefulSet>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = set.namespace().ok_or(Error::NoNamespace)?;
    let Some(spec) = set.spec.as_ref() else {
        return Ok(Action::await_change());
    };
    if set.metadata.deletion_timestamp.is_some() || selector::is_empty(&spec.selector) {
        return Ok(Action::await_change());
    }
    let uid = set.uid().unwrap_or_default();
    let name = set.name_any();
    let rev_api: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &ns);
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let status = set.status.clone().unwrap_or_default();

    // Revisions: the update revision holds the current template; the current revision is
    // the one status names, or the update revision on the first sync.
    let revisions = controller_history::list_owned(&rev_api, &uid).await?;
    let ensured = controller_history::ensure(
        &rev_api,
        &owner_ref(&set),
        &template_labels(&spec.template),
        &spec.template,
        status.collision_count.unwrap_or(0),
        &revisions,
    )
    .await?;
    let update_rev = ensured.revision;
    let current_rev = status
        .current_revision
        .as_ref()
        .and_then(|n| revisions.iter().find(|r| &r.name_any() == n))
        .cloned()
        .unwrap_or_else(|| update_rev.clone());

    // Pods: ours, plus orphans that match the selector and carry one of our ordinals.
    let mut owned = Vec::new();
    for pod in pods_api.list(&ListParams::default()).await?.items {
        let selected = selector::matches(&spec.selector, pod.labels());
        let ordinal = statefulset_plan::ordinal_of(&name, &pod.name_any());
        match podutil::controller_of(&pod.metadata) {
            Some(r) if r.uid == uid => {
                if selected && ordinal.is_some() {
                    owned.push(pod);
                } else {
                    ref_manager::release(&pods_api, &pod, &uid).await?;
                }
            }
            Some(_) => {}
            None if selected && ordinal.is_some() && pod.metadata.deletion_timestamp.is_none() => {
                if let Some(p) = ref_manager::adopt(&pods_api, &pod, owner_ref(&set)).await? {
                    owned.push(p);
                }
            }
            None => {}
        }
    }

    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let facts: Vec<PodFacts> = owned
        .iter()
        .filter_map(|p| {
            let ordinal = statefulset_plan::ordinal_of(&name, &p.name_any())?;
            let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
            Some(PodFacts {
                name: p.name_any(),
                ordinal,
                revision: revision_of(p),
                terminating: p.metadata.deletion_timestamp.is_some(),
                finished: matches!(phase, Some("Succeeded" | "Failed")),
                running_ready: running_ready(p),
                available: running_ready(p) && podutil::is_available(p, min_ready),
            })
        })
        .collect();
    let strategy = match spec.update_strategy.as_ref() {
        Some(s) if s.type_.as_deref() == Some("OnDelete") => UpdateStrategy::OnDelete,
        s => UpdateStrategy::RollingUpdate {
            partition: s
                .and_then(|s| s.rolling_update.as_ref())
                .and_then(|r| r.partition)
                .unwrap_or(0),
        },
    };
    let set_facts = SetFacts {
        replicas: spec.replicas.unwrap_or(1),
        start: spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0),
        ordered: spec.pod_management_policy.as_deref() != Some("Parallel"),
        strategy,
        current_revision: current_rev.name_any(),
        update_revision: update_rev.name_any(),
    };
    let steps = statefulset_plan::plan(&set_facts, &facts);

    for step in &steps {
        match step {
            Step::Create {
                ordinal,
                from_current,
            } => {
                let (rev, template) = if *from_current {
                    (
                        &current_rev,
                        controller_history::template_of(&current_rev)
                            .unwrap_or_else(|| spec.template.clone()),
                    )
                } else {
                    (&update_rev, spec.template.clone())
                };
                let pod = new_pod(&set, &template, *ordinal, &rev.name_any());
                if let Err(e) = create_claims(&ctx, &set, &pod.name_any(), *ordinal).await {
                    record_pod_event(&ctx, &set, "create", &pod.name_any(), Some(&e));
                    return Err(e);
                }
                match pods_api.create(&PostParams::default(), &pod).await {
                    Ok(_) => {
                        tracing::info!(statefulset = %name, pod = %pod.name_any(), "created pod");
                        record_pod_event(&ctx, &set, "create", &pod.name_any(), None);
                    }
                    Err(kube::Error::Api(e)) if e.code == 409 => {}
                    Err(e) => {
                        let e = Error::from(e);
                        record_pod_event(&ctx, &set, "create", &pod.name_any(), Some(&e));
                        return Err(e);
                    }
                }
            }
            Step::Delete {
                name: pod_name,
                condemned,
            } => {
                if *condemned {
                    if let Some(pod) = owned.iter().find(|p| &p.name_any() == pod_name) {
                        mark_claims_for_scale_down(&ctx.client, &set, pod).await?;
                    }
                }
                match pods_api.delete(pod_name, &Default::default()).await {
                    Ok(_) => {
                        tracing::info!(statefulset = %name, pod = %pod_name, "deleted pod");
                        record_pod_event(&ctx, &set, "delete", pod_name, None);
                    }
                    Err(kube::Error::Api(e)) if e.code == 404 => {}
                    Err(e) => {
                        let e = Error::from(e);
                        record_pod_event(&ctx, &set, "delete", pod_name, Some(&e));
                        return Err(e);
                    }
                }
            }
        }
    }

    update_status(
        &ctx.client,
        &set,
        &owned,
        &current_rev.name_any(),
        &update_rev.name_any(),
        ensured.collision_count,
        matches!(strategy, UpdateStrategy::RollingUpdate { .. }),
    )
    .await?;

    // History: keep every revision a pod still runs, the current and the update revision.
    let mut live: HashSet<String> = owned.iter().map(revision_of).collect();
    live.insert(current_rev.name_any());
    live.insert(update_rev.name_any());
    let all_revs = controller_history::list_owned(&rev_api, &uid).await?;
    let doomed = controller_history::to_truncate(
        &all_revs,
        &live,
        spec.revision_history_limit.unwrap_or(DEFAULT_HISTORY_LIMIT),
    );
    controller_history::delete(&rev_api, &doomed).await?;

    // minReadySeconds: look again when the newest ready pod becomes available.
    if min_ready > 0 && facts.iter().any(|f| f.running_ready && !f.available) {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    Ok(Action::await_change())
}

/// Name of the claim for `template_name` of `set` at `ordinal`.
pub fn claim_name(template_name: &str, set: &str, ordinal: i32) -> String {
    format!("{template_name}-{set}-{ordinal}")
}

/// The pod for `ordinal` (upstream's `newStatefulSetPod` + `setPodRevision`).
pub fn new_pod(set: &StatefulSet, template: &PodTemplateSpec, ordinal: i32, revision: &str) -> Pod {
    let set_name = set.name_any();
    let pod_name = format!("{set_name}-{ordinal}");
    let tmeta = template.metadata.clone().unwrap_or_default();
    let mut labels = tmeta.labels.unwrap_or_default();
    labels.insert(POD_NAME_LABEL.into(), pod_name.clone());
    labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
    labels.insert(CONTROLLER_REVISION_HASH.into(), revision.into());
    let mut pod_spec = template.spec.clone().unwrap_or_default();
    let set_spec = set.spec.clone().unwrap_or_default();
    pod_spec.hostname = Some(pod_name.clone());
    if !set_spec
        .service_name
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        pod_spec.subdomain = set_spec.service_name.clone();
    }
    // Stable storage: each claim template's volume points at this ordinal's claim.
    let mut volumes = pod_spec.volumes.take().unwrap_or_default();
    for claim in set_spec.volume_claim_templates.iter().flatten() {
        let tname = claim.metadata.name.clone().unwrap_or_default();
        let volume = Volume {
            name: tname.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim_name(&tname, &set_name, ordinal),
                read_only: None,
            }),
            ..Default::default()
        };
        match volumes.iter_mut().find(|v| v.name == tname) {
            Some(v) => *v = volume,
            None => volumes.push(volume),
        }
    }
    if !volumes.is_empty() {
        pod_spec.volumes = Some(volumes);
    }
    Pod {
        metadata: ObjectMeta {
            name: Some(pod_name),
            namespace: set.namespace(),
            labels: Some(labels),
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![owner_ref(set)]),
            ..Default::default()
        },
        spec: Some(pod_spec),
        status: None,
    }
}

/// The claims of `ordinal` (upstream's `getPersistentVolumeClaims`): the template's labels
/// plus the set's selector labels, owned by the set when the retention policy deletes them
/// with it (`whenDeleted: Delete`; the default Retain leaves them unowned).
pub fn claims_for(set: &StatefulSet, ordinal: i32) -> Vec<PersistentVolumeClaim> {
    let spec = set.spec.clone().unwrap_or_default();
    let delete_with_set = spec
        .persistent_volume_claim_retention_policy
        .as_ref()
        .and_then(|p| p.when_deleted.as_deref())
        == Some("Delete");
    let selector_labels = spec.selector.match_labels.clone().unwrap_or_default();
    spec.volume_claim_templates
        .iter()
        .flatten()
        .map(|t| {
            let tname = t.metadata.name.clone().unwrap_or_default();
            let mut labels = t.metadata.labels.clone().unwrap_or_default();
            labels.extend(selector_labels.clone());
            let owners = delete_with_set.then(|| {
                vec![OwnerReference {
                    controller: Some(true),
                    block_owner_deletion: Some(true),
                    ..owner_ref(set)
                }]
            });
            PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some(claim_name(&tname, &set.name_any(), ordinal)),
                    namespace: set.namespace(),
                    labels: Some(labels),
                    annotations: t.metadata.annotations.clone(),
                    owner_references: owners,
                    ..Default::default()
                },
                spec: t.spec.clone(),
                status: None,
            }
        })
        .collect()
}

/// Create the claims of `ordinal` that do not exist yet; existing ones are reused as they
/// are (that is what makes storage stable).
/// Each created claim is reported on the set, as upstream's `recordClaimEvent`.
async fn create_claims(
    ctx: &Context,
    set: &StatefulSet,
    pod: &str,
    ordinal: i32,
) -> Result<(), Error> {
    let api: Api<PersistentVolumeClaim> =
        Api::namespaced(ctx.client.clone(), &set.namespace().unwrap_or_default());
    let set_name = set.name_any();
    for claim in claims_for(set, ordinal) {
        let claim_name = claim.name_any();
        let existing = match api.get_opt(&claim_name).await {
            Ok(existing) => existing,
            Err(e) => {
                claim_failed(ctx, set, &claim_name, pod, &e);
                return Err(e.into());
            }
        };
        if existing.is_some() {
            continue;
        }
        match api.create(&PostParams::default(), &claim).await {
            Ok(_) => {
                tracing::info!(claim = %claim_name, "created claim");
                ctx.recorder.normal(
                    set,
                    "SuccessfulCreate",
                    format!(
                        "create Claim {claim_name} Pod {pod} in StatefulSet {set_name} success"
                    ),
                );
            }
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => {
                claim_failed(ctx, set, &claim_name, pod, &e);
                return Err(e.into());
            }
        }
    }
    Ok(())
}

/// Report a claim that could not be read or created, as upstream's `recordClaimEvent`.
fn claim_failed(ctx: &Context, set: &StatefulSet, claim: &str, pod: &str, error: &kube::Error) {
    ctx.recorder.warning(
        set,
        "FailedCreate",
        format!(
            "create Claim {claim} for Pod {pod} in StatefulSet {} failed error: {}",
            set.name_any(),
            events::error_message(error)
        ),
    );
}

/// Report `verb` ("create", "delete") of a pod on its set, as upstream's `recordPodEvent`:
/// `Successful<Verb>` or, with an error, `Failed<Verb>`.
fn record_pod_event(
    ctx: &Context,
    set: &StatefulSet,
    verb: &str,
    pod: &str,
    error: Option<&Error>,
) {
    let title = match verb.split_at_checked(1) {
        Some((first, rest)) => format!("{}{rest}", first.to_uppercase()),
        None => String::new(),
    };
    let set_name = set.name_any();
    match error {
        None => ctx.recorder.normal(
            set,
            &format!("Successful{title}"),
            format!("{verb} Pod {pod} in StatefulSet {set_name} successful"),
        ),
        Some(e) => {
            let detail = match e {
                Error::Api(e) => events::error_message(e),
                other => other.to_string(),
            };
            ctx.recorder.warning(
                set,
                &format!("Failed{title}"),
                format!("{verb} Pod {pod} in StatefulSet {set_name} failed error: {detail}"),
            )
        }
    }
}

/// `whenScaled: Delete`: a condemned pod's claims get the pod as owner, so the garbage
/// collector removes them once the pod is gone.
async fn mark_claims_for_scale_down(
    client: &Client,
    set: &StatefulSet,
    pod: &Pod,
) -> Result<(), Error> {
    let spec = set.spec.clone().unwrap_or_default();
    let when_scaled = spec
        .persistent_volume_claim_retention_policy
        .as_ref()
        .and_then(|p| p.when_scaled.as_deref());
    if when_scaled != Some("Delete") {
        return Ok(());
    }
    let Some(ordinal) = statefulset_plan::ordinal_of(&set.name_any(), &pod.name_any()) else {
        return Ok(());
    };
    let api: Api<PersistentVolumeClaim> =
        Api::namespaced(client.clone(), &set.namespace().unwrap_or_default());
    for claim in claims_for(set, ordinal) {
        let Some(existing) = api.get_opt(&claim.name_any()).await? else {
            continue;
        };
        let mut refs = existing
            .metadata
            .owner_references
            .clone()
            .unwrap_or_default();
        let pod_uid = pod.uid().unwrap_or_default();
        if refs.iter().any(|r| r.uid == pod_uid) {
            continue;
        }
        refs.retain(|r| r.controller != Some(true));
        refs.push(podutil::controller_ref(
            "v1",
            "Pod",
            &pod.name_any(),
            &pod_uid,
        ));
        let patch = json!({"metadata": {"ownerReferences": refs}});
        api.patch(
            &claim.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    }
    Ok(())
}

/// The counts upstream reports (`computeReplicaStatus` + `completeRollingUpdate`).
#[derive(Debug, Default, PartialEq)]
pub struct Counts {
    pub replicas: i32,
    pub ready: i32,
    pub available: i32,
    pub current: i32,
    pub updated: i32,
}

/// Count `pods` against the two revisions.
pub fn counts(pods: &[Pod], current: &str, update: &str, min_ready: i32) -> Counts {
    let mut c = Counts::default();
    for pod in pods {
        c.replicas += 1;
        if running_ready(pod) {
            c.ready += 1;
            if podutil::is_available(pod, min_ready) {
                c.available += 1;
            }
        }
        if pod.metadata.deletion_timestamp.is_none() {
            let rev = revision_of(pod);
            if rev == current {
                c.current += 1;
            }
            if rev == update {
                c.updated += 1;
            }
        }
    }
    c
}

async fn update_status(
    client: &Client,
    set: &StatefulSet,
    pods: &[Pod],
    current: &str,
    update: &str,
    collision_count: i32,
    rolling: bool,
) -> Result<(), Error> {
    let min_ready = set
        .spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0);
    let mut c = counts(pods, current, update, min_ready);
    let mut current = current.to_string();
    // A finished rolling update makes the update revision current.
    if rolling && c.updated == c.replicas && c.ready == c.replicas {
        c.current = c.updated;
        current = update.to_string();
    }
    let generation = set.metadata.generation.unwrap_or(0);
    let status = json!({
        "observedGeneration": generation,
        "replicas": c.replicas,
        "readyReplicas": c.ready,
        "availableReplicas": c.available,
        "currentReplicas": c.current,
        "updatedReplicas": c.updated,
        "currentRevision": current,
        "updateRevision": update,
        "collisionCount": collision_count,
    });
    let old = serde_json::to_value(set.status.clone().unwrap_or_default()).unwrap_or_default();
    let unchanged = status
        .as_object()
        .is_some_and(|m| m.iter().all(|(k, v)| old.get(k).unwrap_or(&json!(0)) == v));
    if unchanged {
        return Ok(());
    }
    let api: Api<StatefulSet> =
        Api::namespaced(client.clone(), &set.namespace().unwrap_or_default());
    super::status::patch_status(&api, &set.name_any(), &status).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{
        StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec,
    };
    use k8s_openapi::api::core::v1::{Container, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

    fn set(retention: Option<&str>) -> StatefulSet {
        let labels: BTreeMap<String, String> = [("app".to_string(), "db".to_string())].into();
        StatefulSet {
            metadata: ObjectMeta {
                name: Some("db".into()),
                namespace: Some("default".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: Some(StatefulSetSpec {
                service_name: Some("db-headless".into()),
                selector: LabelSelector {
                    match_labels: Some(labels.clone()),
                    ..Default::default()
                },
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: "c".into(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                },
                volume_claim_templates: Some(vec![PersistentVolumeClaim {
                    metadata: ObjectMeta {
                        name: Some("data".into()),
                        ..Default::default()
                    },
                    ..Default::default()
                }]),
                persistent_volume_claim_retention_policy: retention.map(|r| {
                    StatefulSetPersistentVolumeClaimRetentionPolicy {
                        when_deleted: Some(r.into()),
                        when_scaled: Some("Retain".into()),
                    }
                }),
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn pods_get_stable_identity_storage_and_revision() {
        let s = set(None);
        let spec = s.spec.clone().unwrap_or_default();
        let pod = new_pod(&s, &spec.template, 2, "db-abc");
        assert_eq!(pod.metadata.name.as_deref(), Some("db-2"));
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels.get(POD_NAME_LABEL).map(String::as_str), Some("db-2"));
        assert_eq!(labels.get(POD_INDEX_LABEL).map(String::as_str), Some("2"));
        assert_eq!(
            labels.get("controller-revision-hash").map(String::as_str),
            Some("db-abc")
        );
        let ps = pod.spec.unwrap_or_default();
        assert_eq!(ps.hostname.as_deref(), Some("db-2"));
        assert_eq!(ps.subdomain.as_deref(), Some("db-headless"));
        let vols = ps.volumes.unwrap_or_default();
        assert_eq!(
            vols[0]
                .persistent_volume_claim
                .as_ref()
                .map(|c| c.claim_name.as_str()),
            Some("data-db-2")
        );
    }

    #[test]
    fn claims_are_unowned_under_retain_and_owned_under_delete() {
        let retained = claims_for(&set(None), 0);
        assert_eq!(retained[0].metadata.name.as_deref(), Some("data-db-0"));
        assert!(retained[0].metadata.owner_references.is_none());
        assert_eq!(
            retained[0]
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("app"))
                .map(String::as_str),
            Some("db")
        );
        let deleted = claims_for(&set(Some("Delete")), 0);
        assert_eq!(
            deleted[0]
                .metadata
                .owner_references
                .as_ref()
                .map(|r| r[0].uid.as_str()),
            Some("u1")
        );
    }

    #[test]
    fn counts_split_by_revision_and_skip_terminating_for_revisions() {
        let s = set(None);
        let spec = s.spec.clone().unwrap_or_default();
        let a = new_pod(&s, &spec.template, 0, "r1");
        let b = new_pod(&s, &spec.template, 1, "r2");
        let mut c = new_pod(&s, &spec.template, 2, "r2");
        c.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::now(),
        ));
        let got = counts(&[a, b, c], "r1", "r2", 0);
        assert_eq!(
            got,
            Counts {
                replicas: 3,
                ready: 0,
                available: 0,
                current: 1,
                updated: 1
            }
        );
    }
}
