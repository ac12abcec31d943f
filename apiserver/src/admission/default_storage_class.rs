//! DefaultStorageClass admission (upstream's plugin of that name), on PVC create: a claim
//! that leaves `spec.storageClassName` unset (not `""`, which asks for no class) gets the
//! StorageClass annotated `storageclass.kubernetes.io/is-default-class: "true"`; with several
//! defaults the newest wins, as upstream since 1.28.

use serde_json::{json, Value};

use super::lookup::cached_list;
use crate::store::Store;

pub const IS_DEFAULT_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";

/// Sets the default class on `pvc` when it names none.
pub fn admit_pvc(store: &Store, pvc: &mut Value) {
    let classes = cached_list(store, "storage.k8s.io", "v1", "storageclasses", None);
    admit_pvc_with(&classes, pvc);
}

fn admit_pvc_with(classes: &[Value], pvc: &mut Value) {
    if pvc
        .pointer("/spec/storageClassName")
        .is_some_and(|c| !c.is_null())
    {
        return;
    }
    let is_default = |c: &&Value| {
        c.pointer("/metadata/annotations")
            .and_then(|a| a.get(IS_DEFAULT_ANNOTATION))
            .and_then(Value::as_str)
            == Some("true")
    };
    let created = |c: &Value| {
        (
            c.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            c.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        )
    };
    let Some(default) = classes.iter().filter(is_default).max_by_key(|c| created(c)) else {
        return;
    };
    if let Some(spec) = pvc.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert(
            "storageClassName".into(),
            json!(default.pointer("/metadata/name")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str, default: bool, created: &str) -> Value {
        json!({"metadata": {"name": name, "creationTimestamp": created,
            "annotations": {IS_DEFAULT_ANNOTATION: if default { "true" } else { "false" }}}})
    }

    #[test]
    fn unset_class_gets_the_newest_default() {
        let classes = [
            class("old", true, "2026-01-01T00:00:00Z"),
            class("new", true, "2026-06-01T00:00:00Z"),
            class("other", false, "2026-09-01T00:00:00Z"),
        ];
        let mut pvc = json!({"spec": {}});
        admit_pvc_with(&classes, &mut pvc);
        assert_eq!(pvc["spec"]["storageClassName"], "new");
    }

    #[test]
    fn an_empty_or_named_class_is_left_alone() {
        let classes = [class("std", true, "2026-01-01T00:00:00Z")];
        let mut pvc = json!({"spec": {"storageClassName": ""}});
        admit_pvc_with(&classes, &mut pvc);
        assert_eq!(pvc["spec"]["storageClassName"], "");
        let mut pvc = json!({"spec": {"storageClassName": "fast"}});
        admit_pvc_with(&classes, &mut pvc);
        assert_eq!(pvc["spec"]["storageClassName"], "fast");
        let mut pvc = json!({"spec": {}});
        admit_pvc_with(&[class("x", false, "")], &mut pvc);
        assert!(pvc["spec"].get("storageClassName").is_none());
    }
}
