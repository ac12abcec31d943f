//! VolumeBinding (upstream's `plugins/volumebinding`): a pod's PersistentVolumeClaims decide
//! where it may run.
//!
//! - PreFilter: every claim must exist and not be deleting; an unbound claim whose class
//!   binds `Immediate`ly (or has no class) makes the pod wait for the PV controller
//!   ("pod has unbound immediate PersistentVolumeClaims").
//! - Filter: a bound claim's volume must exist and its node affinity admit the node; an
//!   unbound `WaitForFirstConsumer` claim needs a free matching volume usable on the node,
//!   or a class with a real provisioner (dynamic provisioning).
//! - Reserve: the volumes chosen for the node are reserved (no other pod may pick them)
//!   until PreBind's writes are visible.
//! - PreBind: the chosen volume gets the claim in `spec.claimRef` (as the PV controller
//!   would); a claim to provision gets `volume.kubernetes.io/selected-node`. The binding
//!   waits until the PV controller has bound every claim (`bindTimeoutSeconds`).
//!
//! Not built: CSI storage capacity, volume limits, capacity scoring (alpha upstream).
//! A claim naming its volume (`spec.volumeName`) counts as bound as soon as it names it.

pub mod claims;
pub mod matching;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::FutureExt;
use k8s_openapi::api::core::v1::{ObjectReference, PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::{Api, PostParams};
use kube::runtime::reflector::ObjectRef;
use kube::{Client, ResourceExt};

use self::claims::{claim_key, has_claims, pod_claims, PodClaims, ANN_BIND_COMPLETED};
use crate::cache::pod_key;
use crate::framework::handle::Handle;
use crate::framework::{CycleState, FilterPlugin, NodeInfo, ReservePlugin, Status};

pub use self::claims::ANN_SELECTED_NODE;

/// Upstream's `ErrReasonBindConflict`.
pub const ERR_REASON_BIND_CONFLICT: &str =
    "node(s) didn't find available persistent volumes to bind";
/// Upstream's `ErrReasonNodeConflict`.
pub const ERR_REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// Upstream's `ErrReasonPVNotExist`.
pub const ERR_REASON_PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
/// Set on whatever side of a binding a controller (not a user) filled in.
const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";

const STATE: &str = "VolumeBinding/preFilter";

/// What PreBind must write for one pod.
#[derive(Default, Clone)]
struct PodVolumes {
    /// Static binding: the volume and the claim it goes to.
    bindings: Vec<(Arc<PersistentVolume>, Arc<PersistentVolumeClaim>)>,
    /// Claims to provision on the chosen node.
    provisions: Vec<Arc<PersistentVolumeClaim>>,
}

impl PodVolumes {
    fn is_empty(&self) -> bool {
        self.bindings.is_empty() && self.provisions.is_empty()
    }
}

/// The VolumeBinding plugin.
pub struct VolumeBinding {
    handle: Handle,
    bind_timeout: Duration,
    /// Pod key → what Reserve chose for it.
    reservations: Mutex<HashMap<String, PodVolumes>>,
}

impl VolumeBinding {
    /// A plugin reading `handle`'s stores; PreBind waits up to `bind_timeout`.
    pub fn new(handle: Handle, bind_timeout: Duration) -> VolumeBinding {
        VolumeBinding {
            handle,
            bind_timeout,
            reservations: Mutex::default(),
        }
    }

    /// Upstream's `FindPodVolumes` for one node: the volumes the pod's unbound claims would
    /// take there, or the reasons it cannot run there.
    fn find_pod_volumes(
        &self,
        claims: &PodClaims,
        node: &NodeInfo,
    ) -> Result<PodVolumes, Vec<&'static str>> {
        let mut reasons = Vec::new();
        if claims.bound.iter().any(|b| b.pv.is_none()) {
            reasons.push(ERR_REASON_PV_NOT_EXIST);
        }
        let affinity_ok = claims
            .bound
            .iter()
            .filter_map(|b| b.pv.as_ref())
            .all(|pv| matching::node_affinity_matches(pv, node));
        if !affinity_ok {
            reasons.push(ERR_REASON_NODE_CONFLICT);
        }
        let mut found = PodVolumes::default();
        let mut unbound_ok = true;
        if !claims.delayed.is_empty() {
            let assumed = self.handle.assumed_volumes();
            for claim in &claims.delayed {
                match claim.selected_node() {
                    // A provisioner was already told where: only that node will do.
                    Some(selected) if selected != node.name() => {
                        unbound_ok = false;
                        break;
                    }
                    Some(_) => {
                        found.provisions.push(claim.claim.clone());
                        continue;
                    }
                    None => {}
                }
                let key = claim.key();
                let taken = |pv: &str| {
                    found.bindings.iter().any(|(b, _)| b.name_any() == pv)
                        || assumed.by_volume.get(pv).is_some_and(|c| *c != key)
                };
                match matching::pick(&claim.claim, &claim.candidates, node, taken) {
                    Some(pv) => found.bindings.push((pv.clone(), claim.claim.clone())),
                    None if claim.provisionable() => found.provisions.push(claim.claim.clone()),
                    None => {
                        unbound_ok = false;
                        break;
                    }
                }
            }
        }
        if !unbound_ok {
            reasons.push(ERR_REASON_BIND_CONFLICT);
        }
        if reasons.is_empty() {
            Ok(found)
        } else {
            Err(reasons)
        }
    }

    fn reservations(&self) -> std::sync::MutexGuard<'_, HashMap<String, PodVolumes>> {
        self.reservations.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether every claim PreBind touched is bound by the PV controller; `Err` when a
    /// reservation was undone under us (a volume taken by another claim).
    fn all_bound(&self, volumes: &PodVolumes) -> Result<bool, String> {
        for (pv, claim) in &volumes.bindings {
            if let Some(current) = self.handle.pvs.get(&ObjectRef::from_obj(pv.as_ref())) {
                let still_ours = current
                    .spec
                    .as_ref()
                    .and_then(|s| s.claim_ref.as_ref())
                    .is_none_or(|_| matching::is_bound_to(&current, claim));
                if !still_ours {
                    return Err(format!(
                        "persistentvolume {:?} was bound to another claim",
                        pv.name_any()
                    ));
                }
            }
        }
        let claims = volumes
            .bindings
            .iter()
            .map(|(_, c)| c)
            .chain(&volumes.provisions);
        for claim in claims {
            let Some(current) = self.handle.pvcs.get(&ObjectRef::from_obj(claim.as_ref())) else {
                return Err(format!(
                    "persistentvolumeclaim {:?} was deleted",
                    claim.name_any()
                ));
            };
            let named = current
                .spec
                .as_ref()
                .and_then(|s| s.volume_name.as_deref())
                .is_some_and(|v| !v.is_empty());
            if !named || !current.annotations().contains_key(ANN_BIND_COMPLETED) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn bind_volumes(
        &self,
        client: &Client,
        node: &str,
        volumes: &PodVolumes,
    ) -> Result<(), String> {
        let pv_api: Api<PersistentVolume> = Api::all(client.clone());
        for (pv, claim) in &volumes.bindings {
            let mut pv = PersistentVolume::clone(pv);
            if matching::is_bound_to(&pv, claim) && claim_ref_complete(&pv) {
                continue;
            }
            pv.spec.get_or_insert_with(Default::default).claim_ref = Some(ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("PersistentVolumeClaim".into()),
                namespace: claim.namespace(),
                name: Some(claim.name_any()),
                uid: claim.metadata.uid.clone(),
                resource_version: claim.metadata.resource_version.clone(),
                ..Default::default()
            });
            pv.annotations_mut()
                .insert(ANN_BOUND_BY_CONTROLLER.into(), "yes".into());
            // The informer's resourceVersion makes this a compare-and-swap: a volume
            // changed meanwhile fails the write instead of being given away twice.
            pv_api
                .replace(&pv.name_any(), &PostParams::default(), &pv)
                .await
                .map_err(|e| {
                    format!("binding volumes: persistentvolume {:?}: {e}", pv.name_any())
                })?;
            tracing::info!(pv = %pv.name_any(), pvc = %claim_key(claim), "volume reserved for claim");
        }
        for claim in &volumes.provisions {
            let mut claim = PersistentVolumeClaim::clone(claim);
            if claim
                .annotations()
                .get(ANN_SELECTED_NODE)
                .map(String::as_str)
                == Some(node)
            {
                continue;
            }
            claim
                .annotations_mut()
                .insert(ANN_SELECTED_NODE.into(), node.to_string());
            let api: Api<PersistentVolumeClaim> =
                Api::namespaced(client.clone(), &claim.namespace().unwrap_or_default());
            api.replace(&claim.name_any(), &PostParams::default(), &claim)
                .await
                .map_err(|e| {
                    format!(
                        "binding volumes: persistentvolumeclaim {:?}: {e}",
                        claim.name_any()
                    )
                })?;
            tracing::info!(pvc = %claim_key(&claim), %node, "claim to be provisioned on node");
        }
        // Upstream's checkBindings loop: the PV controller finishes the binding.
        let start = Instant::now();
        loop {
            if self.all_bound(volumes)? {
                return Ok(());
            }
            if start.elapsed() >= self.bind_timeout {
                return Err("binding volumes: context deadline exceeded".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn claim_ref_complete(pv: &PersistentVolume) -> bool {
    pv.spec
        .as_ref()
        .and_then(|s| s.claim_ref.as_ref())
        .and_then(|r| r.uid.as_deref())
        .is_some_and(|u| !u.is_empty())
}

impl FilterPlugin for VolumeBinding {
    fn name(&self) -> &'static str {
        "VolumeBinding"
    }

    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _nodes: &[NodeInfo],
    ) -> Result<(), Status> {
        if !has_claims(pod) {
            return Ok(()); // Skip: nothing stored, Filter passes.
        }
        state.write(STATE, pod_claims(&self.handle, pod)?);
        Ok(())
    }

    fn filter(&self, state: &CycleState, _pod: &Pod, node: &NodeInfo) -> Result<(), Status> {
        let Some(claims) = state.read::<PodClaims>(STATE) else {
            return Ok(());
        };
        self.find_pod_volumes(claims, node)
            .map(drop)
            .map_err(|reasons| Status {
                code: crate::framework::Code::UnschedulableAndUnresolvable,
                reasons: reasons.into_iter().map(String::from).collect(),
            })
    }
}

impl ReservePlugin for VolumeBinding {
    fn name(&self) -> &'static str {
        "VolumeBinding"
    }

    fn reserve(&self, pod: &Pod, node: &NodeInfo) -> Result<(), Status> {
        if !has_claims(pod) {
            return Ok(());
        }
        let claims = pod_claims(&self.handle, pod)?;
        let volumes = self
            .find_pod_volumes(&claims, node)
            .map_err(|reasons| Status::unresolvable(reasons.join(", ")))?;
        if volumes.is_empty() {
            return Ok(());
        }
        let key = pod_key(pod);
        {
            let mut assumed = self.handle.assumed_volumes();
            let names: Vec<String> = volumes
                .bindings
                .iter()
                .map(|(pv, _)| pv.name_any())
                .collect();
            for (pv, claim) in &volumes.bindings {
                assumed.by_volume.insert(pv.name_any(), claim_key(claim));
            }
            assumed.by_pod.insert(key.clone(), names);
        }
        self.reservations().insert(key, volumes);
        Ok(())
    }

    fn unreserve(&self, pod: &Pod) {
        let key = pod_key(pod);
        if self.reservations().remove(&key).is_none() {
            return;
        }
        let mut assumed = self.handle.assumed_volumes();
        for pv in assumed.by_pod.remove(&key).unwrap_or_default() {
            assumed.by_volume.remove(&pv);
        }
    }

    fn pre_bind<'a>(
        &'a self,
        client: &'a Client,
        pod: &'a Pod,
        node: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        async move {
            let Some(volumes) = self.reservations().get(&pod_key(pod)).cloned() else {
                return Ok(());
            };
            self.bind_volumes(client, node, &volumes).await
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests;
