//! The PersistentVolume binder (upstream `pkg/controller/volume/persistentvolume`, the
//! `persistentvolume-binder` controller) for statically created volumes.
//!
//! Claims: an unbound claim gets its best match ([`persistentvolume_match`]); binding writes
//! the volume's `claimRef` (+ `bound-by-controller`), the volume's phase `Bound`, the claim's
//! `volumeName` (+ `bind-completed`, and `bound-by-controller` when the controller chose the
//! volume), and the claim's phase `Bound` with the volume's access modes and capacity. A
//! bound claim whose volume vanished or went to another claim is `Lost`.
//!
//! Volumes: no claimRef, or one reserved for a claim not bound yet → `Available`; bound to a
//! claim that is gone → `Released`, then the reclaim policy: `Retain` keeps it Released,
//! `Delete` runs the host-path deleter when `--enable-hostpath-provisioner` is on (the only
//! deleter here; otherwise nothing outside the API is touched), drops the
//! `kubernetes.io/pv-controller` finalizer a provisioned volume carries and deletes the
//! PersistentVolume object; `Recycle` (deprecated) → `Failed`.
//!
//! Dynamic provisioning: a claim no volume fits is annotated with its class's provisioner,
//! and the host-path provisioner (`--enable-hostpath-provisioner`) makes its volume
//! ([`persistentvolume_provision`](super::persistentvolume_provision)).
//!
//! WaitForFirstConsumer: a claim of such a class is bound only once the scheduler picked a
//! node (the `volume.kubernetes.io/selected-node` annotation), as upstream's controller;
//! volume node affinity is not checked here. Without a provisioner a claim no volume fits
//! stays Pending.
//!
//! Each pass lists volumes, claims and classes afresh (passes run on any change, debounced,
//! and every 15 s), and every write carries the resourceVersion it was computed from, so a
//! volume can never be given to two claims.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use common::events::Recorder;
use common::volume::claim_ref;

use super::persistentvolume_match::{
    self as matching, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE,
};
use super::persistentvolume_provision as provisioning;
use super::volume_protection::{has_finalizer, set_finalizer};

/// What the binder may do beyond binding.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `--enable-hostpath-provisioner`: make `kubernetes.io/host-path` volumes.
    pub host_path_provisioner: bool,
}

struct Binder {
    client: Client,
    options: Options,
    recorder: Recorder,
}

/// Run until the watches end.
pub async fn run(client: Client, options: Options) {
    let binder = Binder {
        recorder: Recorder::new(client.clone(), "persistentvolume-controller"),
        client: client.clone(),
        options,
    };
    let pvs: Api<PersistentVolume> = Api::all(client.clone());
    let pvcs: Api<PersistentVolumeClaim> = Api::all(client.clone());
    let changes = futures::stream::select(
        watcher::watcher(pvs, watcher::Config::default()).map(|_| ()),
        watcher::watcher(pvcs, watcher::Config::default()).map(|_| ()),
    );
    let mut changes = std::pin::pin!(changes);
    let mut resync = tokio::time::interval(Duration::from_secs(15));
    loop {
        tokio::select! {
            c = changes.next() => if c.is_none() { return },
            _ = resync.tick() => {}
        }
        // Let a burst of events settle into one pass.
        tokio::time::sleep(Duration::from_millis(200)).await;
        while let Some(Some(_)) = futures::FutureExt::now_or_never(changes.next()) {}
        if let Err(e) = sync_all(&binder).await {
            tracing::warn!(error = %e, "persistentvolume-binder: pass failed");
        }
    }
}

/// One pass over every claim, then every volume.
async fn sync_all(binder: &Binder) -> Result<(), kube::Error> {
    let client = &binder.client;
    let pv_api: Api<PersistentVolume> = Api::all(client.clone());
    let mut volumes = pv_api.list(&ListParams::default()).await?.items;
    let mut claims = Api::<PersistentVolumeClaim>::all(client.clone())
        .list(&ListParams::default())
        .await?
        .items;
    let classes: BTreeMap<String, StorageClass> = Api::<StorageClass>::all(client.clone())
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .map(|c| (c.name_any(), c))
        .collect();
    claims.sort_by_key(|c| c.metadata.creation_timestamp.as_ref().map(|t| t.0));
    for claim in &claims {
        if let Err(e) = sync_claim(binder, claim, &mut volumes, &classes).await {
            tracing::info!(claim = %claim.name_any(), error = %e, "claim sync failed; retrying");
        }
    }
    let by_key: BTreeMap<(String, String), &PersistentVolumeClaim> = claims
        .iter()
        .map(|c| ((c.namespace().unwrap_or_default(), c.name_any()), c))
        .collect();
    for pv in &volumes {
        if let Err(e) = sync_volume(binder, pv, &by_key).await {
            tracing::info!(volume = %pv.name_any(), error = %e, "volume sync failed; retrying");
        }
    }
    Ok(())
}

fn claim_phase(c: &PersistentVolumeClaim) -> &str {
    c.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

fn volume_phase(pv: &PersistentVolume) -> &str {
    pv.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

fn volume_name(c: &PersistentVolumeClaim) -> &str {
    c.spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .unwrap_or_default()
}

/// A WaitForFirstConsumer claim waits for the scheduler's node choice.
fn delay_binding(claim: &PersistentVolumeClaim, classes: &BTreeMap<String, StorageClass>) -> bool {
    if claim.annotations().contains_key(ANN_SELECTED_NODE) {
        return false;
    }
    classes
        .get(&matching::claim_class(claim))
        .and_then(|c| c.volume_binding_mode.as_deref())
        == Some("WaitForFirstConsumer")
}

async fn sync_claim(
    binder: &Binder,
    claim: &PersistentVolumeClaim,
    volumes: &mut [PersistentVolume],
    classes: &BTreeMap<String, StorageClass>,
) -> Result<(), kube::Error> {
    let client = &binder.client;
    if claim.metadata.deletion_timestamp.is_some() {
        return Ok(());
    }
    let wanted = volume_name(claim).to_string();
    if !claim.annotations().contains_key(ANN_BIND_COMPLETED) {
        // Unbound: pick a volume (or take the one the user named).
        let delay = wanted.is_empty() && delay_binding(claim, classes);
        let index = if wanted.is_empty() {
            let best = matching::find_best_match(claim, volumes, delay).map(|p| p.name_any());
            best.and_then(|n| volumes.iter().position(|v| v.name_any() == n))
        } else {
            volumes.iter().position(|v| {
                v.name_any() == wanted
                    && (v.spec.as_ref().and_then(|s| s.claim_ref.as_ref()).is_none()
                        || matching::is_bound_to(v, claim))
            })
        };
        let Some(i) = index else {
            if wanted.is_empty() && !delay {
                provision(binder, claim, classes).await?;
            }
            return Ok(()); // Stays Pending until a volume fits or is made.
        };
        let bound = bind(client, &volumes[i], claim, wanted.is_empty()).await?;
        volumes[i] = bound;
        return Ok(());
    }
    // Bound before: check the volume still points back.
    match volumes.iter().position(|v| v.name_any() == wanted) {
        None => set_claim_lost(client, claim).await,
        Some(i) => {
            let pv = &volumes[i];
            let claim_ref = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
            match claim_ref {
                None => {
                    let bound = bind(client, pv, claim, false).await?;
                    volumes[i] = bound;
                    Ok(())
                }
                Some(_) if matching::is_bound_to(pv, claim) => {
                    if claim_phase(claim) != "Bound" {
                        set_claim_bound(client, claim, pv).await?;
                    }
                    Ok(())
                }
                Some(_) => set_claim_lost(client, claim).await,
            }
        }
    }
}

/// Bind `pv` and `claim` to each other; `chosen_by_controller` when the claim did not name
/// the volume. Returns the volume as written.
async fn bind(
    client: &Client,
    pv: &PersistentVolume,
    claim: &PersistentVolumeClaim,
    chosen_by_controller: bool,
) -> Result<PersistentVolume, kube::Error> {
    let pv_api: Api<PersistentVolume> = Api::all(client.clone());
    let mut new_pv = pv.clone();
    let spec = new_pv.spec.get_or_insert_with(Default::default);
    let needs_ref = !matching::is_bound_to(pv, claim)
        || spec
            .claim_ref
            .as_ref()
            .is_some_and(|r| r.uid.as_deref().unwrap_or_default().is_empty());
    if needs_ref {
        if spec.claim_ref.is_none() {
            new_pv
                .annotations_mut()
                .insert(ANN_BOUND_BY_CONTROLLER.into(), "yes".into());
        }
        new_pv.spec.get_or_insert_with(Default::default).claim_ref = Some(claim_ref(claim));
        new_pv = pv_api
            .replace(&pv.name_any(), &PostParams::default(), &new_pv)
            .await?;
    }
    let new_pv = set_volume_phase(client, &new_pv, "Bound").await?;

    let ns = claim.namespace().unwrap_or_default();
    let claim_api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
    let mut new_claim = claim.clone();
    new_claim
        .spec
        .get_or_insert_with(Default::default)
        .volume_name = Some(pv.name_any());
    new_claim
        .annotations_mut()
        .insert(ANN_BIND_COMPLETED.into(), "yes".into());
    if chosen_by_controller {
        new_claim
            .annotations_mut()
            .insert(ANN_BOUND_BY_CONTROLLER.into(), "yes".into());
    }
    let new_claim = if &new_claim != claim {
        claim_api
            .replace(&claim.name_any(), &PostParams::default(), &new_claim)
            .await?
    } else {
        new_claim
    };
    set_claim_bound(client, &new_claim, &new_pv).await?;
    tracing::info!(volume = %pv.name_any(), claim = %format!("{ns}/{}", claim.name_any()), "bound");
    Ok(new_pv)
}

async fn set_claim_bound(
    client: &Client,
    claim: &PersistentVolumeClaim,
    pv: &PersistentVolume,
) -> Result<(), kube::Error> {
    let api: Api<PersistentVolumeClaim> =
        Api::namespaced(client.clone(), &claim.namespace().unwrap_or_default());
    let mut new = claim.clone();
    let status = new.status.get_or_insert_with(Default::default);
    let pv_spec = pv.spec.clone().unwrap_or_default();
    status.phase = Some("Bound".into());
    status.access_modes = pv_spec.access_modes;
    status.capacity = pv_spec.capacity;
    if &new != claim {
        api.replace_status(&claim.name_any(), &PostParams::default(), &new)
            .await?;
    }
    Ok(())
}

async fn set_claim_lost(client: &Client, claim: &PersistentVolumeClaim) -> Result<(), kube::Error> {
    if claim_phase(claim) == "Lost" {
        return Ok(());
    }
    let api: Api<PersistentVolumeClaim> =
        Api::namespaced(client.clone(), &claim.namespace().unwrap_or_default());
    let mut new = claim.clone();
    new.status.get_or_insert_with(Default::default).phase = Some("Lost".into());
    tracing::warn!(claim = %claim.name_any(), "claim lost its volume");
    api.replace_status(&claim.name_any(), &PostParams::default(), &new)
        .await?;
    Ok(())
}

/// Write the volume's phase (and when it changed), if different.
async fn set_volume_phase(
    client: &Client,
    pv: &PersistentVolume,
    phase: &str,
) -> Result<PersistentVolume, kube::Error> {
    if volume_phase(pv) == phase {
        return Ok(pv.clone());
    }
    let api: Api<PersistentVolume> = Api::all(client.clone());
    let mut new = pv.clone();
    let status = new.status.get_or_insert_with(Default::default);
    status.phase = Some(phase.into());
    status.last_phase_transition_time = Some(Time(k8s_openapi::jiff::Timestamp::now()));
    api.replace_status(&pv.name_any(), &PostParams::default(), &new)
        .await
}

/// What a volume's phase should be given its claim, and whether to reclaim it.
#[derive(Debug, PartialEq)]
pub enum VolumeAction {
    /// Set this phase (no-op when already there).
    Phase(&'static str),
    /// Its claim is gone: Released, then the reclaim policy.
    Reclaim,
    /// Leave it (its claim will be synced).
    Wait,
}

/// Upstream's `syncVolume` decision for `pv` whose claimRef's claim is `claim` (if any).
pub fn volume_action(pv: &PersistentVolume, claim: Option<&PersistentVolumeClaim>) -> VolumeAction {
    let Some(r) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return VolumeAction::Phase("Available");
    };
    if r.uid.as_deref().unwrap_or_default().is_empty() {
        // Reserved for a claim that is not bound yet.
        return VolumeAction::Phase("Available");
    }
    match claim {
        Some(c) if c.metadata.uid == r.uid => {
            if volume_name(c) == pv.name_any() {
                VolumeAction::Phase("Bound")
            } else {
                VolumeAction::Wait
            }
        }
        // Gone, or a new claim with the same name.
        _ => VolumeAction::Reclaim,
    }
}

async fn sync_volume(
    binder: &Binder,
    pv: &PersistentVolume,
    claims: &BTreeMap<(String, String), &PersistentVolumeClaim>,
) -> Result<(), kube::Error> {
    // A volume being deleted is synced too: pv-protection keeps it while it is Bound, so
    // it must still become Released when its claim goes.
    let claim = pv
        .spec
        .as_ref()
        .and_then(|s| s.claim_ref.as_ref())
        .and_then(|r| {
            claims
                .get(&(
                    r.namespace.clone().unwrap_or_default(),
                    r.name.clone().unwrap_or_default(),
                ))
                .copied()
        });
    let client = &binder.client;
    if let Some(keep) = provisioning::deletion_finalizer_change(pv) {
        // The write wakes the next pass, which goes on from the updated volume.
        let api: Api<PersistentVolume> = Api::all(client.clone());
        return set_finalizer(&api, pv, provisioning::PV_CONTROLLER_FINALIZER, keep).await;
    }
    match volume_action(pv, claim) {
        VolumeAction::Phase(p) => {
            set_volume_phase(client, pv, p).await?;
        }
        VolumeAction::Wait => {}
        VolumeAction::Reclaim => {
            let phase = volume_phase(pv);
            if phase == "Failed" || (phase == "Released" && !is_delete_policy(pv)) {
                return Ok(());
            }
            let released = set_volume_phase(client, pv, "Released").await?;
            reclaim(binder, &released).await?;
        }
    }
    Ok(())
}

fn is_delete_policy(pv: &PersistentVolume) -> bool {
    reclaim_policy(pv) == "Delete"
}

fn reclaim_policy(pv: &PersistentVolume) -> &str {
    pv.spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
        .unwrap_or("Retain")
}

async fn reclaim(binder: &Binder, pv: &PersistentVolume) -> Result<(), kube::Error> {
    let client = &binder.client;
    match reclaim_policy(pv) {
        "Delete" => {
            if binder.options.host_path_provisioner && !delete_host_path_directory(binder, pv) {
                set_volume_phase(client, pv, "Failed").await?;
                return Ok(());
            }
            let api: Api<PersistentVolume> = Api::all(client.clone());
            // The storage is gone: let the object go too (upstream removes the finalizer
            // after its deleter ran, then deletes the volume).
            if has_finalizer(&pv.metadata, provisioning::PV_CONTROLLER_FINALIZER) {
                set_finalizer(&api, pv, provisioning::PV_CONTROLLER_FINALIZER, false).await?;
            }
            match api.delete(&pv.name_any(), &DeleteParams::default()).await {
                Ok(_) => tracing::info!(volume = %pv.name_any(), "deleted released volume"),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        "Recycle" => {
            // No recycler exists (upstream deprecated it): the volume fails, as upstream
            // does when no plugin can recycle it.
            set_volume_phase(client, pv, "Failed").await?;
        }
        _ => {} // Retain: an administrator reclaims it by hand.
    }
    Ok(())
}

/// A claim no volume fits: annotate it with its class's provisioner and, for the host-path
/// provisioner when it is on, make its volume.
async fn provision(
    binder: &Binder,
    claim: &PersistentVolumeClaim,
    classes: &BTreeMap<String, StorageClass>,
) -> Result<(), kube::Error> {
    let class = classes.get(&matching::claim_class(claim));
    let Some(provisioner) = provisioning::provisioner(class) else {
        return Ok(());
    };
    let claim_api: Api<PersistentVolumeClaim> = Api::namespaced(
        binder.client.clone(),
        &claim.namespace().unwrap_or_default(),
    );
    let claim = match provisioning::annotated_claim(claim, provisioner) {
        Some(annotated) => {
            claim_api
                .replace(&claim.name_any(), &PostParams::default(), &annotated)
                .await?
        }
        None => claim.clone(),
    };
    let (Some(class), true) = (
        class,
        provisioner == provisioning::HOST_PATH_PROVISIONER && binder.options.host_path_provisioner,
    ) else {
        return Ok(()); // Another provisioner's (or the administrator's) to make.
    };
    if let Some(why) = provisioning::refusal(&claim) {
        binder
            .recorder
            .warning(&claim, "ProvisioningFailed", why.to_string());
        return Ok(());
    }
    let dir = provisioning::new_directory();
    if let Err(e) = create_directory(&dir) {
        binder.recorder.warning(
            &claim,
            "ProvisioningFailed",
            format!(
                "Failed to provision volume with StorageClass {:?}: {e}",
                class.name_any()
            ),
        );
        return Ok(());
    }
    let pv = provisioning::host_path_volume(&claim, class, &dir);
    let pv_api: Api<PersistentVolume> = Api::all(binder.client.clone());
    match pv_api.create(&PostParams::default(), &pv).await {
        Ok(_) => {
            binder.recorder.normal(
                &claim,
                "ProvisioningSucceeded",
                format!(
                    "Successfully provisioned volume {} using {}",
                    pv.name_any(),
                    provisioning::HOST_PATH_PROVISIONER
                ),
            );
            tracing::info!(volume = %pv.name_any(), claim = %claim.name_any(), "provisioned");
            Ok(())
        }
        Err(e) => {
            // Made by an earlier pass (the name is the claim's uid), or not at all: the
            // directory of this attempt is not needed either way.
            let _ = std::fs::remove_dir(&dir);
            match e {
                kube::Error::Api(ae) if ae.code == 409 => Ok(()),
                e => Err(e),
            }
        }
    }
}

/// Make a host-path volume's directory, `0750` as upstream.
fn create_directory(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(dir)
}

/// The host-path deleter: remove the volume's directory (only below `/tmp/`). False, with a
/// warning event, when it cannot; the volume then fails as upstream's does.
fn delete_host_path_directory(binder: &Binder, pv: &PersistentVolume) -> bool {
    let path = match provisioning::deletable_directory(pv) {
        Ok(None) => return true,
        Ok(Some(path)) => path,
        Err(why) => {
            binder.recorder.warning(pv, "VolumeFailedDelete", why);
            return false;
        }
    };
    match std::fs::remove_dir_all(path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => {
            binder
                .recorder
                .warning(pv, "VolumeFailedDelete", format!("removing {path}: {e}"));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ObjectReference, PersistentVolumeClaimSpec, PersistentVolumeSpec,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pv(claim_uid: Option<&str>) -> PersistentVolume {
        PersistentVolume {
            metadata: ObjectMeta {
                name: Some("pv1".into()),
                ..Default::default()
            },
            spec: Some(PersistentVolumeSpec {
                claim_ref: claim_uid.map(|u| ObjectReference {
                    name: Some("data".into()),
                    namespace: Some("default".into()),
                    uid: Some(u.into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn claim(uid: &str, volume: &str) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some("data".into()),
                namespace: Some("default".into()),
                uid: Some(uid.into()),
                ..Default::default()
            },
            spec: Some(PersistentVolumeClaimSpec {
                volume_name: (!volume.is_empty()).then(|| volume.to_string()),
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn volume_phases_follow_their_claims() {
        assert_eq!(
            volume_action(&pv(None), None),
            VolumeAction::Phase("Available")
        );
        assert_eq!(
            volume_action(&pv(Some("")), None),
            VolumeAction::Phase("Available")
        );
        let c = claim("u1", "pv1");
        assert_eq!(
            volume_action(&pv(Some("u1")), Some(&c)),
            VolumeAction::Phase("Bound")
        );
        let unbound = claim("u1", "");
        assert_eq!(
            volume_action(&pv(Some("u1")), Some(&unbound)),
            VolumeAction::Wait
        );
        assert_eq!(volume_action(&pv(Some("u1")), None), VolumeAction::Reclaim);
        // A new claim reusing the name is not the one the volume was bound to.
        let newer = claim("u2", "");
        assert_eq!(
            volume_action(&pv(Some("u1")), Some(&newer)),
            VolumeAction::Reclaim
        );
    }
}
