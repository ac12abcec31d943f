//! Which PersistentVolume a `WaitForFirstConsumer` claim can take on a node (upstream's
//! `FindMatchingVolume` as the scheduler calls it): a volume already reserved for the claim
//! (its `claimRef` names it) wins — or, if its node affinity rules the node out, nothing
//! does; otherwise the smallest `Available` volume of the claim's class that is big enough,
//! offers every requested access mode, has the same volume mode, matches the claim's
//! selector and whose node affinity admits the node.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::ResourceExt;

use crate::framework::label_selector::selector_matches;
use crate::framework::plugins::node_affinity::term_matches;
use crate::framework::NodeInfo;
use common::volume::{capacity, offers_access_modes, requested_storage, volume_mode_matches};
pub use common::volume::{is_bound_to, volume_class};

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

fn fits(pv: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    capacity(pv) >= requested_storage(claim)
        && volume_mode_matches(pv, claim)
        && offers_access_modes(pv, claim)
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
