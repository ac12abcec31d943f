//! Storage kinds: PersistentVolume, PersistentVolumeClaim (core/v1) and StorageClass
//! (storage.k8s.io/v1).

use serde_json::{json, Value};

use super::json::{get, get_str, index, is_unset, items, set_default};
use super::pod_spec::default_pvc_spec;
use crate::errors::FieldError;
use crate::registry::Strategy;

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

fn validate_access_modes(obj: &Value, errs: &mut Vec<FieldError>) {
    let modes = items(obj, &["spec", "accessModes"]);
    if modes.is_empty() {
        errs.push(FieldError::required(
            "spec.accessModes",
            "at least 1 access mode is required",
        ));
    }
    for (i, m) in modes.iter().enumerate() {
        let s = m.as_str().unwrap_or_default();
        if !ACCESS_MODES.contains(&s) {
            errs.push(FieldError::not_supported(
                index("spec.accessModes", i),
                s,
                ACCESS_MODES,
            ));
        }
    }
}

/// core/v1 PersistentVolume.
pub struct PersistentVolume;
impl Strategy for PersistentVolume {
    fn default(&self, obj: &mut Value) {
        set_default(
            obj,
            &["spec", "persistentVolumeReclaimPolicy"],
            json!("Retain"),
        );
        set_default(obj, &["spec", "volumeMode"], json!("Filesystem"));
        set_default(obj, &["status", "phase"], json!("Pending"));
    }

    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        validate_access_modes(obj, &mut errs);
        if is_unset(get(obj, &["spec", "capacity", "storage"])) {
            errs.push(FieldError::required("spec.capacity", ""));
        }
        errs.extend(super::json::one_of(
            obj,
            &["spec", "persistentVolumeReclaimPolicy"],
            "spec.persistentVolumeReclaimPolicy",
            &["Delete", "Recycle", "Retain"],
            false,
        ));
        errs
    }
}

/// core/v1 PersistentVolumeClaim.
pub struct PersistentVolumeClaim;
impl Strategy for PersistentVolumeClaim {
    fn default(&self, obj: &mut Value) {
        if let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) {
            default_pvc_spec(spec);
        }
        set_default(obj, &["status", "phase"], json!("Pending"));
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        validate_access_modes(obj, &mut errs);
        if is_unset(get(obj, &["spec", "resources", "requests", "storage"])) {
            errs.push(FieldError::required("spec.resources[storage]", ""));
        }
        if let Some(old) = old {
            // Everything but the requested size (and the binding the controller writes) is fixed.
            let mask = |v: &Value| {
                let mut spec = v.get("spec").cloned().unwrap_or(Value::Null);
                if let Some(m) = spec.as_object_mut() {
                    for f in ["resources", "volumeAttributesClassName"] {
                        m.remove(f);
                    }
                    if get_str(old, &["spec", "volumeName"])
                        .unwrap_or_default()
                        .is_empty()
                    {
                        m.remove("volumeName");
                    }
                }
                spec
            };
            if mask(obj) != mask(old) {
                errs.push(FieldError::forbidden(
                    "spec",
                    "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
                ));
            }
        }
        errs
    }
}

/// storage.k8s.io/v1 StorageClass.
pub struct StorageClass;
impl Strategy for StorageClass {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["reclaimPolicy"], json!("Delete"));
        set_default(obj, &["volumeBindingMode"], json!("Immediate"));
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if get_str(obj, &["provisioner"])
            .unwrap_or_default()
            .is_empty()
        {
            errs.push(FieldError::required("provisioner", ""));
        }
        errs.extend(super::json::one_of(
            obj,
            &["reclaimPolicy"],
            "reclaimPolicy",
            &["Delete", "Retain"],
            false,
        ));
        errs.extend(super::json::one_of(
            obj,
            &["volumeBindingMode"],
            "volumeBindingMode",
            &["Immediate", "WaitForFirstConsumer"],
            false,
        ));
        if let Some(old) = old {
            for (f, msg) in [
                ("parameters", "updates to parameters are forbidden."),
                ("provisioner", "updates to provisioner are forbidden."),
                ("reclaimPolicy", "updates to reclaimPolicy are forbidden."),
            ] {
                if obj.get(f) != old.get(f) {
                    errs.push(FieldError::forbidden(f, msg));
                }
            }
            errs.extend(super::json::immutable(
                obj,
                old,
                &["volumeBindingMode"],
                "volumeBindingMode",
            ));
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pvc_defaults_and_required_fields() {
        let mut pvc = json!({"metadata": {"name": "data"}, "spec": {}});
        PersistentVolumeClaim.default(&mut pvc);
        assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
        assert_eq!(pvc["status"]["phase"], "Pending");
        let msgs: Vec<String> = PersistentVolumeClaim
            .validate(&pvc, None)
            .iter()
            .map(FieldError::message)
            .collect();
        assert_eq!(
            msgs,
            vec![
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value"
            ]
        );
    }

    #[test]
    fn storage_class_defaults() {
        let mut sc = json!({"provisioner": "x"});
        StorageClass.default(&mut sc);
        assert_eq!(sc["reclaimPolicy"], "Delete");
        assert_eq!(sc["volumeBindingMode"], "Immediate");
        assert!(StorageClass.validate(&sc, None).is_empty());
    }
}
