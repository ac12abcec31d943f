//! Which PersistentVolume a `WaitForFirstConsumer` claim can take on a node (upstream's
//! `FindMatchingVolume` as the scheduler calls it): a volume already reserved for the claim
//! (its `claimRef` names it) wins — or, if its node affinity rules the node out, nothing
//! does; otherwise the smallest `Available` volume of the claim's class that is big enough,
//! offers every requested access mode, has the same volume mode, matches the claim's
//! selector and whose node affinity admits the node.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::ResourceExt;

use super::claims::ANN_BETA_STORAGE_CLASS;
use crate::framework::label_selector::selector_matches;
use crate::framework::plugins::node_affinity::term_matches;
use crate::framework::NodeInfo;
use common::quantity::parse_milli;

/// The volume's class (`""` for none), the beta annotation first as upstream.
pub fn volume_class(pv: &PersistentVolume) -> String {
    if let Some(c) = pv.annotations().get(ANN_BETA_STORAGE_CLASS) {
        return c.clone();
    }
    pv.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.clone())
        .unwrap_or_default()
}

/// Whether the volume's `claimRef` names this claim (by uid too when the reference has one).
pub fn is_bound_to(pv: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let Some(r) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return false;
    };
    r.name.as_deref() == Some(claim.name_any().as_str())
        && r.namespace == claim.namespace()
        && r.uid
            .as_deref()
            .is_none_or(|u| u.is_empty() || Some(u) == claim.metadata.uid.as_deref())
}

/// Whether the volume's `nodeAffinity.required` admits the node (no affinity: every node).
pub fn node_affinity_matches(pv: &PersistentVolume, node: &NodeInfo) -> bool {
    let Some(required) = pv
        .spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.as_ref())
    else {
        return true;
    };
    required
        .node_selector_terms
        .iter()
        .any(|t| term_matches(t, node))
}

fn storage(q: Option<&k8s_openapi::apimachinery::pkg::api::resource::Quantity>) -> i128 {
    q.and_then(|q| parse_milli(&q.0)).unwrap_or(0)
}

fn capacity(pv: &PersistentVolume) -> i128 {
    storage(
        pv.spec
            .as_ref()
            .and_then(|s| s.capacity.as_ref())
            .and_then(|c| c.get("storage")),
    )
}

fn requested(claim: &PersistentVolumeClaim) -> i128 {
    storage(
        claim
            .spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage")),
    )
}

fn fits(pv: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let pv_spec = pv.spec.as_ref();
    let claim_spec = claim.spec.as_ref();
    let pv_mode = pv_spec.and_then(|s| s.volume_mode.as_deref());
    let claim_mode = claim_spec.and_then(|s| s.volume_mode.as_deref());
    let offered = pv_spec.and_then(|s| s.access_modes.as_ref());
    let modes_ok = claim_spec
        .and_then(|s| s.access_modes.as_ref())
        .into_iter()
        .flatten()
        .all(|m| offered.is_some_and(|o| o.contains(m)));
    capacity(pv) >= requested(claim)
        && pv_mode.unwrap_or("Filesystem") == claim_mode.unwrap_or("Filesystem")
        && modes_ok
        && pv.metadata.deletion_timestamp.is_none()
}

/// The volumes that could serve `claim` (of class `class`) on some node, best first: the
/// volume reserved for it alone if there is one, else the free matching ones, smallest
/// first.
pub fn candidates(
    claim: &PersistentVolumeClaim,
    class: &str,
    volumes: &[Arc<PersistentVolume>],
) -> Vec<Arc<PersistentVolume>> {
    if let Some(pv) = volumes
        .iter()
        .find(|pv| is_bound_to(pv, claim) && fits(pv, claim))
    {
        return vec![pv.clone()];
    }
    let selector = claim.spec.as_ref().and_then(|s| s.selector.as_ref());
    let mut out: Vec<Arc<PersistentVolume>> = volumes
        .iter()
        .filter(|pv| {
            let phase = pv.status.as_ref().and_then(|s| s.phase.as_deref());
            let claimed = pv.spec.as_ref().is_some_and(|s| s.claim_ref.is_some());
            fits(pv, claim)
                && !claimed
                // Volumes in other phases are about to change; binding them now would
                // likely conflict (upstream skips them too).
                && phase == Some("Available")
                && volume_class(pv) == class
                && selector.is_none_or(|s| selector_matches(s, pv.metadata.labels.as_ref()))
        })
        .cloned()
        .collect();
    // Smallest first; by name among equals, so the choice is stable.
    out.sort_by(|a, b| {
        capacity(a)
            .cmp(&capacity(b))
            .then_with(|| a.name_any().cmp(&b.name_any()))
    });
    out
}

/// The first of `candidates` usable on `node` that `taken` does not exclude (volumes
/// picked for the pod's other claims, or reserved for other claims).
pub fn pick<'a>(
    claim: &PersistentVolumeClaim,
    candidates: &'a [Arc<PersistentVolume>],
    node: &NodeInfo,
    taken: impl Fn(&str) -> bool,
) -> Option<&'a Arc<PersistentVolume>> {
    if let [only] = candidates {
        if is_bound_to(only, claim) {
            return node_affinity_matches(only, node).then_some(only);
        }
    }
    candidates
        .iter()
        .find(|pv| !taken(&pv.name_any()) && node_affinity_matches(pv, node))
}
