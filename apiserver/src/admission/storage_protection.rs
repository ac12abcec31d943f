//! StorageObjectInUseProtection admission (upstream's plugin of that name, on by default):
//! a PersistentVolumeClaim is created with the `kubernetes.io/pvc-protection` finalizer and
//! a PersistentVolume with `kubernetes.io/pv-protection`, so deleting one that is still in
//! use only marks it; the controller-manager's pvc-protection and pv-protection controllers
//! remove the finalizer once nothing uses it.

use common::volume::{PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER};
use serde_json::{json, Value};

/// The finalizer a create of `plural` (core group) gets, if any.
pub fn finalizer_for(plural: &str) -> Option<&'static str> {
    match plural {
        "persistentvolumeclaims" => Some(PVC_PROTECTION_FINALIZER),
        "persistentvolumes" => Some(PV_PROTECTION_FINALIZER),
        _ => None,
    }
}

/// Append `finalizer` to the object's `metadata.finalizers` unless it is there already.
pub fn add_finalizer(obj: &mut Value, finalizer: &str) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let finalizers = meta.entry("finalizers").or_insert_with(|| json!([]));
    if finalizers.is_null() {
        *finalizers = json!([]);
    }
    let Some(list) = finalizers.as_array_mut() else {
        // Not a list: validation refuses the object, nothing to add to.
        return;
    };
    if !list.iter().any(|f| f.as_str() == Some(finalizer)) {
        list.push(json!(finalizer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_and_volumes_get_their_finalizer_once() {
        let mut pvc = json!({"metadata": {"name": "data"}});
        add_finalizer(
            &mut pvc,
            finalizer_for("persistentvolumeclaims").expect("pvc"),
        );
        assert_eq!(
            pvc["metadata"]["finalizers"],
            json!([PVC_PROTECTION_FINALIZER])
        );
        add_finalizer(&mut pvc, PVC_PROTECTION_FINALIZER);
        assert_eq!(
            pvc["metadata"]["finalizers"],
            json!([PVC_PROTECTION_FINALIZER])
        );

        let mut pv = json!({"metadata": {"name": "v", "finalizers": ["example.com/keep"]}});
        add_finalizer(&mut pv, finalizer_for("persistentvolumes").expect("pv"));
        assert_eq!(
            pv["metadata"]["finalizers"],
            json!(["example.com/keep", PV_PROTECTION_FINALIZER])
        );
        assert_eq!(finalizer_for("pods"), None);
    }
}
