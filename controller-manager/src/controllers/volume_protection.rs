//! What the pvc-protection and pv-protection controllers share (upstream's
//! `pkg/controller/util/protectionutil`): the finalizer names, when an object needs its
//! finalizer or may lose it, and the write that adds or removes it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::Resource;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use common::volume::{PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER};

/// Whether `finalizer` is among the object's finalizers.
pub fn has_finalizer(meta: &ObjectMeta, finalizer: &str) -> bool {
    meta.finalizers.iter().flatten().any(|f| f == finalizer)
}

/// Being deleted and still held by `finalizer`: the controller decides whether to let go.
pub fn is_deletion_candidate(meta: &ObjectMeta, finalizer: &str) -> bool {
    meta.deletion_timestamp.is_some() && has_finalizer(meta, finalizer)
}

/// Not being deleted and without `finalizer`: created before the admission plugin ran (or
/// with it off), so the controller adds it.
pub fn needs_finalizer(meta: &ObjectMeta, finalizer: &str) -> bool {
    meta.deletion_timestamp.is_none() && !has_finalizer(meta, finalizer)
}

/// Add (`keep`) or remove `finalizer` by an update carrying the object's resourceVersion,
/// so a write racing ours (a pod starting to use the claim is not one, but a user's edit
/// is) makes this one fail with a conflict and be retried on the newer object.
pub async fn set_finalizer<K>(
    api: &Api<K>,
    obj: &K,
    finalizer: &str,
    keep: bool,
) -> Result<(), kube::Error>
where
    K: Resource + Clone + Serialize + DeserializeOwned + std::fmt::Debug,
{
    let mut updated = obj.clone();
    let meta = updated.meta_mut();
    let mut finalizers = meta.finalizers.take().unwrap_or_default();
    finalizers.retain(|f| f != finalizer);
    if keep {
        finalizers.push(finalizer.to_string());
    }
    meta.finalizers = Some(finalizers);
    let name = meta.name.clone().unwrap_or_default();
    match api.replace(&name, &PostParams::default(), &updated).await {
        // Gone already: nothing left to protect or release.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        other => other.map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    fn meta(deleting: bool, finalizers: &[&str]) -> ObjectMeta {
        ObjectMeta {
            deletion_timestamp: deleting.then_some(Time(Timestamp::UNIX_EPOCH)),
            finalizers: Some(finalizers.iter().map(|f| f.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn only_a_deleted_object_holding_the_finalizer_is_a_candidate() {
        let f = PVC_PROTECTION_FINALIZER;
        assert!(is_deletion_candidate(&meta(true, &[f]), f));
        assert!(!is_deletion_candidate(&meta(true, &["other"]), f));
        assert!(!is_deletion_candidate(&meta(false, &[f]), f));
    }

    #[test]
    fn a_live_object_without_the_finalizer_needs_it() {
        let f = PV_PROTECTION_FINALIZER;
        assert!(needs_finalizer(&meta(false, &[]), f));
        assert!(needs_finalizer(&ObjectMeta::default(), f));
        assert!(!needs_finalizer(&meta(false, &[f]), f));
        // Being deleted: too late to protect it.
        assert!(!needs_finalizer(&meta(true, &[]), f));
    }
}
