//! What may change in a running Pod's spec (upstream `ValidatePodUpdate`).

use serde_json::Value;

use crate::errors::FieldError;

/// Upstream's message, listing the fields a Pod update may change.
const POD_UPDATE_MESSAGE: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// `spec: Forbidden: pod updates may not change fields other than ...` when anything but the
/// mutable fields changed; tolerations may only be added to.
pub(crate) fn validate_pod_update(new_spec: &Value, old_spec: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let old_tolerations = old_spec
        .get("tolerations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let new_tolerations = new_spec
        .get("tolerations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(removed) = old_tolerations
        .iter()
        .find(|t| !new_tolerations.contains(t))
    {
        errs.push(FieldError::forbidden(
            "spec.tolerations",
            format!(
                "existing toleration can not be modified except its tolerationSeconds: {removed}"
            ),
        ));
    }
    // Make the mutable fields equal to the old ones, then anything left that differs is forbidden.
    let mut masked = new_spec.clone();
    for list in ["containers", "initContainers"] {
        let old_images: Vec<Option<Value>> = old_spec
            .get(list)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|c| c.get("image").cloned()).collect())
            .unwrap_or_default();
        if let Some(Value::Array(cs)) = masked.get_mut(list) {
            for (c, old_image) in cs.iter_mut().zip(old_images) {
                if let (Some(m), Some(img)) = (c.as_object_mut(), old_image) {
                    m.insert("image".into(), img);
                }
            }
        }
    }
    if let Some(m) = masked.as_object_mut() {
        for field in [
            "activeDeadlineSeconds",
            "tolerations",
            "terminationGracePeriodSeconds",
        ] {
            match old_spec.get(field) {
                Some(v) => m.insert(field.into(), v.clone()),
                None => m.remove(field),
            };
        }
    }
    if &masked != old_spec {
        errs.push(FieldError::forbidden("spec", POD_UPDATE_MESSAGE));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn image_may_change_but_ports_may_not() {
        let old = json!({"containers": [{"name": "a", "image": "nginx:1"}]});
        let image = json!({"containers": [{"name": "a", "image": "nginx:2"}]});
        assert!(validate_pod_update(&image, &old).is_empty());
        let ports = json!({"containers": [{"name": "a", "image": "nginx:1", "ports": [{"containerPort": 80}]}]});
        let errs = validate_pod_update(&ports, &old);
        assert_eq!(errs[0].field, "spec");
        assert!(errs[0]
            .message()
            .starts_with("spec: Forbidden: pod updates may not change fields other than"));
    }
}
