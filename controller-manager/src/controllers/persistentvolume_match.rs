//! Which PersistentVolume a claim gets (upstream's `findBestMatchForClaim`): a volume
//! pre-bound to the claim wins; otherwise the smallest Available volume of the claim's class
//! that is big enough, offers every requested access mode, has the same volume mode and
//! matches the claim's selector.

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::ResourceExt;

use super::selector;

pub use common::volume::{
    capacity, claim_class, is_bound_to, volume_class, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER,
    ANN_SELECTED_NODE,
};
use common::volume::{offers_access_modes, requested_storage, volume_mode_matches};

fn phase(pv: &PersistentVolume) -> &str {
    pv.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or_default()
}

/// The best volume for `claim` among `volumes`, or `None`. With `delay_binding`
/// (WaitForFirstConsumer and no node chosen yet) only a volume pre-bound to the claim is
/// taken.
pub fn find_best_match<'a>(
    claim: &PersistentVolumeClaim,
    volumes: &'a [PersistentVolume],
    delay_binding: bool,
) -> Option<&'a PersistentVolume> {
    let requested = requested_storage(claim);
    let class = claim_class(claim);
    let selector = claim.spec.as_ref().and_then(|s| s.selector.as_ref());
    let mut best: Option<&PersistentVolume> = None;
    for pv in volumes {
        let size = capacity(pv);
        if size < requested
            || !volume_mode_matches(pv, claim)
            || !offers_access_modes(pv, claim)
            || pv.metadata.deletion_timestamp.is_some()
        {
            continue;
        }
        if is_bound_to(pv, claim) {
            return Some(pv);
        }
        if delay_binding {
            continue;
        }
        let has_claim_ref = pv
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .is_some();
        if phase(pv) != "Available"
            || has_claim_ref
            || selector.is_some_and(|s| !selector::matches(s, pv.labels()))
            || volume_class(pv) != class
        {
            continue;
        }
        if best.is_none_or(|b| capacity(b) > size) {
            best = Some(pv);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ObjectReference, PersistentVolumeClaimSpec, PersistentVolumeSpec, PersistentVolumeStatus,
        VolumeResourceRequirements,
    };
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

    fn pv(name: &str, size: &str, class: &str, modes: &[&str]) -> PersistentVolume {
        PersistentVolume {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some([("tier".to_string(), name.to_string())].into()),
                ..Default::default()
            },
            spec: Some(PersistentVolumeSpec {
                capacity: Some([("storage".to_string(), Quantity(size.into()))].into()),
                storage_class_name: (!class.is_empty()).then(|| class.to_string()),
                access_modes: Some(modes.iter().map(|m| m.to_string()).collect()),
                ..Default::default()
            }),
            status: Some(PersistentVolumeStatus {
                phase: Some("Available".into()),
                ..Default::default()
            }),
        }
    }

    fn claim(size: &str, class: &str, modes: &[&str]) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some("data".into()),
                namespace: Some("default".into()),
                uid: Some("c1".into()),
                ..Default::default()
            },
            spec: Some(PersistentVolumeClaimSpec {
                storage_class_name: Some(class.into()),
                access_modes: Some(modes.iter().map(|m| m.to_string()).collect()),
                resources: Some(VolumeResourceRequirements {
                    requests: Some([("storage".to_string(), Quantity(size.into()))].into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn name(pv: Option<&PersistentVolume>) -> Option<String> {
        pv.map(|p| p.name_any())
    }

    #[test]
    fn the_smallest_fitting_volume_of_the_class_wins() {
        let vols = [
            pv("big", "10Gi", "slow", &["ReadWriteOnce"]),
            pv("small", "1Gi", "slow", &["ReadWriteOnce"]),
            pv("fit", "2Gi", "slow", &["ReadWriteOnce", "ReadOnlyMany"]),
            pv("other-class", "2Gi", "fast", &["ReadWriteOnce"]),
        ];
        let c = claim("1500Mi", "slow", &["ReadWriteOnce"]);
        assert_eq!(
            name(find_best_match(&c, &vols, false)).as_deref(),
            Some("fit")
        );
        let many = claim("1Gi", "slow", &["ReadOnlyMany"]);
        assert_eq!(
            name(find_best_match(&many, &vols, false)).as_deref(),
            Some("fit")
        );
        let none = claim("20Gi", "slow", &["ReadWriteOnce"]);
        assert!(find_best_match(&none, &vols, false).is_none());
    }

    #[test]
    fn selector_mode_phase_and_claim_refs_filter_volumes() {
        let mut taken = pv("taken", "1Gi", "", &["ReadWriteOnce"]);
        taken.spec.as_mut().unwrap().claim_ref = Some(ObjectReference {
            name: Some("other".into()),
            namespace: Some("default".into()),
            ..Default::default()
        });
        let mut block = pv("block", "1Gi", "", &["ReadWriteOnce"]);
        block.spec.as_mut().unwrap().volume_mode = Some("Block".into());
        let mut released = pv("released", "1Gi", "", &["ReadWriteOnce"]);
        released.status.as_mut().unwrap().phase = Some("Released".into());
        let labelled = pv("gold", "5Gi", "", &["ReadWriteOnce"]);
        let vols = [taken, block, released, labelled];
        let mut c = claim("1Gi", "", &["ReadWriteOnce"]);
        assert_eq!(
            name(find_best_match(&c, &vols, false)).as_deref(),
            Some("gold")
        );
        c.spec.as_mut().unwrap().selector = Some(LabelSelector {
            match_labels: Some([("tier".to_string(), "silver".to_string())].into()),
            ..Default::default()
        });
        assert!(find_best_match(&c, &vols, false).is_none());
    }

    #[test]
    fn pre_bound_volumes_win_even_when_binding_waits() {
        let mut reserved = pv("reserved", "8Gi", "other", &["ReadWriteOnce"]);
        reserved.spec.as_mut().unwrap().claim_ref = Some(ObjectReference {
            name: Some("data".into()),
            namespace: Some("default".into()),
            ..Default::default()
        });
        let vols = [pv("cheap", "1Gi", "wait", &["ReadWriteOnce"]), reserved];
        let c = claim("1Gi", "wait", &["ReadWriteOnce"]);
        assert_eq!(
            name(find_best_match(&c, &vols, true)).as_deref(),
            Some("reserved")
        );
        assert_eq!(name(find_best_match(&c, &vols[..1], true)), None);
        assert_eq!(
            name(find_best_match(&c, &vols[..1], false)).as_deref(),
            Some("cheap")
        );
    }
}
