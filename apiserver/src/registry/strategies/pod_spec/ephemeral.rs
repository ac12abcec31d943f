//! Ephemeral containers: the debugging containers `kubectl debug` adds to a running Pod through
//! its `ephemeralcontainers` subresource (upstream `validateEphemeralContainers`,
//! `ValidatePodEphemeralContainersUpdate` and the pod strategy's
//! `podEphemeralContainersStrategy`).
//!
//! They never come with the Pod: a create carrying them is refused, a Pod update may not touch
//! them, and the subresource may only add new ones — never change or remove one.

use std::collections::HashSet;

use serde_json::Value;

use super::super::json::{child, get, get_str, index, is_unset, items};
use super::validation::{validate_container, validate_pod_spec};
use crate::admission::node_restriction::MIRROR_ANNOTATION;
use crate::errors::{FieldError, FieldErrorKind};

/// Upstream's detail for every container field an ephemeral container may not set.
const NOT_FOR_EPHEMERAL: &str = "cannot be set for an Ephemeral Container";

/// The container fields outside upstream's allow list for ephemeral containers: they would
/// make the pod's service rely on a container that has no resources and is never restarted.
const FORBIDDEN_FIELDS: &[&str] = &[
    "ports",
    "resources",
    "resizePolicy",
    "restartPolicy",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
];

/// Validate `spec.ephemeralContainers` of the pod spec at `path`. `names` holds the names of
/// the init and regular containers (validated before), so a clash is a `Duplicate` here.
pub(super) fn validate_ephemeral_containers(
    spec: &Value,
    path: &str,
    volumes: &HashSet<String>,
    names: &mut HashSet<String>,
    errs: &mut Vec<FieldError>,
) {
    let targets: HashSet<&str> = ["containers", "initContainers"]
        .iter()
        .flat_map(|list| items(spec, &[list]))
        .filter_map(|c| get_str(c, &["name"]))
        .collect();
    for (i, c) in items(spec, &["ephemeralContainers"]).iter().enumerate() {
        let cpath = index(&child(path, "ephemeralContainers"), i);
        validate_container(c, &cpath, volumes, names, errs);
        if let Some(image) = get_str(c, &["image"]) {
            if !image.trim().is_empty() && image.trim() != image {
                errs.push(FieldError::invalid(
                    child(&cpath, "image"),
                    image,
                    "must not have leading or trailing whitespace",
                ));
            }
        }
        if let Some(target) = get_str(c, &["targetContainerName"]).filter(|t| !t.is_empty()) {
            if !targets.contains(target) {
                errs.push(FieldError {
                    kind: FieldErrorKind::NotFound,
                    field: child(&cpath, "targetContainerName"),
                    value: Some(target.into()),
                    detail: String::new(),
                });
            }
        }
        for field in FORBIDDEN_FIELDS {
            if is_set(field, c.get(*field)) {
                errs.push(FieldError::forbidden(
                    child(&cpath, field),
                    NOT_FOR_EPHEMERAL,
                ));
            }
        }
        // Sub-path mounts are bind mounts that outlive the container until the pod exits.
        for (j, m) in items(c, &["volumeMounts"]).iter().enumerate() {
            let mpath = index(&child(&cpath, "volumeMounts"), j);
            for field in ["subPath", "subPathExpr"] {
                if !is_unset(m.get(field)) {
                    errs.push(FieldError::forbidden(
                        child(&mpath, field),
                        NOT_FOR_EPHEMERAL,
                    ));
                }
            }
        }
    }
}

/// Whether a forbidden container field is set. `resources: {}` (which `kubectl debug` sends)
/// counts as unset; so does an empty list or map.
fn is_set(field: &str, v: Option<&Value>) -> bool {
    match (field, v) {
        ("resources", Some(Value::Object(r))) => r.values().any(|v| !is_unset(Some(v))),
        _ => !is_unset(v),
    }
}

/// `spec.ephemeralContainers: Forbidden: cannot be set on create` for a new Pod that brings
/// its own ephemeral containers.
pub(crate) fn forbid_on_create(spec: &Value) -> Option<FieldError> {
    (!is_unset(get(spec, &["ephemeralContainers"])))
        .then(|| FieldError::forbidden("spec.ephemeralContainers", "cannot be set on create"))
}

/// What a write through `pods/ephemeralcontainers` stores: the old Pod with only
/// `spec.ephemeralContainers` taken from the request (metadata, the rest of the spec and the
/// status stay as they were, as upstream's `dropNonEphemeralContainerUpdates`).
pub(crate) fn keep_only_ephemeral_containers(new: &mut Value, old: &Value) {
    let wanted = get(new, &["spec", "ephemeralContainers"])
        .filter(|v| !v.is_null())
        .cloned();
    let mut merged = old.clone();
    if let Some(spec) = merged.get_mut("spec").and_then(Value::as_object_mut) {
        match wanted {
            Some(list) => {
                spec.insert("ephemeralContainers".into(), list);
            }
            None => {
                spec.remove("ephemeralContainers");
            }
        }
    }
    *new = merged;
}

/// Validate a write through `pods/ephemeralcontainers` (after
/// [`keep_only_ephemeral_containers`]): the new pod spec must be valid, existing ephemeral
/// containers stay exactly as they are, and static (mirror) pods get none.
pub(crate) fn validate_ephemeral_containers_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let is_mirror = old
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .is_some_and(|a| a.contains_key(MIRROR_ANNOTATION));
    if is_mirror {
        return vec![FieldError::forbidden(
            "",
            "static pods do not support ephemeral containers",
        )];
    }
    let new_spec = new.get("spec").cloned().unwrap_or(Value::Null);
    let mut errs = validate_pod_spec(&new_spec, "spec");
    let new_list = items(&new_spec, &["ephemeralContainers"]);
    // Matched by name: a patch need not keep the order.
    for old_c in items(old, &["spec", "ephemeralContainers"]) {
        let name = get_str(old_c, &["name"]).unwrap_or_default();
        match new_list
            .iter()
            .find(|c| get_str(c, &["name"]) == Some(name))
        {
            None => errs.push(FieldError::forbidden(
                "spec.ephemeralContainers",
                format!("existing ephemeral containers {name:?} may not be removed"),
            )),
            Some(new_c) if new_c != old_c => errs.push(FieldError::forbidden(
                "spec.ephemeralContainers",
                format!("existing ephemeral containers {name:?} may not be changed"),
            )),
            Some(_) => {}
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(FieldError::message).collect()
    }

    fn pod(ephemeral: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "d", "labels": {"app": "a"}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1",
                    "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
                "initContainers": [{"name": "init", "image": "busybox:1"}],
                "volumes": [{"name": "data", "emptyDir": {}}],
                "ephemeralContainers": ephemeral},
            "status": {"phase": "Running"}})
    }

    fn debugger(name: &str) -> Value {
        json!({"name": name, "image": "busybox:latest", "imagePullPolicy": "Always",
            "terminationMessagePolicy": "File", "stdin": true, "tty": true,
            "targetContainerName": "c", "resources": {}})
    }

    #[test]
    fn ephemeral_kubectl_debug_container_is_valid() {
        let new = pod(json!([debugger("debugger")]));
        let old = pod(json!([]));
        assert_eq!(
            messages(&validate_ephemeral_containers_update(&new, &old)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn ephemeral_forbidden_fields_and_sub_paths() {
        let mut c = debugger("dbg");
        c["ports"] = json!([{"containerPort": 80}]);
        c["resources"] = json!({"limits": {"cpu": "1"}});
        c["readinessProbe"] = json!({"exec": {"command": ["true"]}});
        c["lifecycle"] = json!({"preStop": {"exec": {"command": ["true"]}}});
        c["restartPolicy"] = json!("Always");
        c["volumeMounts"] = json!([{"name": "data", "mountPath": "/d", "subPath": "x"}]);
        let msgs = messages(&validate_ephemeral_containers_update(
            &pod(json!([c])),
            &pod(json!([])),
        ));
        for field in [
            "ports",
            "resources",
            "readinessProbe",
            "lifecycle",
            "restartPolicy",
            "volumeMounts[0].subPath",
        ] {
            let want = format!(
                "spec.ephemeralContainers[0].{field}: Forbidden: cannot be set for an Ephemeral Container"
            );
            assert!(msgs.contains(&want), "{want} not in {msgs:?}");
        }
        assert_eq!(msgs.len(), 6, "{msgs:?}");
    }

    #[test]
    fn ephemeral_names_and_targets() {
        let mut missing_target = debugger("dbg");
        missing_target["targetContainerName"] = json!("nope");
        let new = pod(json!([
            debugger("c"),
            debugger("init"),
            missing_target,
            {"name": "Bad_Name", "terminationMessagePolicy": "File"},
            debugger("dbg")
        ]));
        let msgs = messages(&validate_ephemeral_containers_update(&new, &pod(json!([]))));
        for want in [
            "spec.ephemeralContainers[0].name: Duplicate value: \"c\"",
            "spec.ephemeralContainers[1].name: Duplicate value: \"init\"",
            "spec.ephemeralContainers[2].targetContainerName: Not found: \"nope\"",
            "spec.ephemeralContainers[3].image: Required value",
            "spec.ephemeralContainers[4].name: Duplicate value: \"dbg\"",
        ] {
            assert!(msgs.contains(&want.to_string()), "{want} not in {msgs:?}");
        }
        assert!(msgs.iter().any(
            |m| m.starts_with("spec.ephemeralContainers[3].name: Invalid value: \"Bad_Name\"")
        ));
    }

    #[test]
    fn ephemeral_existing_may_not_change_or_go() {
        let old = pod(json!([debugger("debugger")]));
        let mut changed = debugger("debugger");
        changed["image"] = json!("busybox:2");
        let msgs = messages(&validate_ephemeral_containers_update(
            &pod(json!([changed, debugger("two")])),
            &old,
        ));
        assert_eq!(
            msgs,
            vec!["spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debugger\" may not be changed"]
        );
        let msgs = messages(&validate_ephemeral_containers_update(
            &pod(json!([debugger("two")])),
            &old,
        ));
        assert_eq!(
            msgs,
            vec!["spec.ephemeralContainers: Forbidden: existing ephemeral containers \"debugger\" may not be removed"]
        );
        // Adding after, in any order, keeps the existing one untouched: fine.
        let reordered = pod(json!([debugger("two"), debugger("debugger")]));
        assert!(validate_ephemeral_containers_update(&reordered, &old).is_empty());
    }

    #[test]
    fn ephemeral_not_for_static_pods() {
        let mut old = pod(json!([]));
        old["metadata"]["annotations"] = json!({MIRROR_ANNOTATION: "x"});
        let mut new = old.clone();
        new["spec"]["ephemeralContainers"] = json!([debugger("d")]);
        assert_eq!(
            messages(&validate_ephemeral_containers_update(&new, &old)),
            vec![": Forbidden: static pods do not support ephemeral containers"]
        );
    }

    #[test]
    fn ephemeral_write_keeps_everything_else_from_the_old_pod() {
        let old = pod(json!([]));
        let mut new = pod(json!([debugger("d")]));
        new["metadata"]["labels"] = json!({"app": "changed"});
        new["spec"]["containers"][0]["image"] = json!("nginx:2");
        new["status"]["phase"] = json!("Failed");
        keep_only_ephemeral_containers(&mut new, &old);
        let mut want = old.clone();
        want["spec"]["ephemeralContainers"] = json!([debugger("d")]);
        assert_eq!(new, want);
        // A request without the list asks to remove them all (which validation refuses).
        let mut none = json!({"metadata": {"name": "p"}, "spec": {"containers": []}});
        keep_only_ephemeral_containers(&mut none, &want);
        assert!(none["spec"].get("ephemeralContainers").is_none());
        assert_eq!(none["spec"]["containers"], want["spec"]["containers"]);
    }

    #[test]
    fn ephemeral_containers_forbidden_on_create() {
        let spec = json!({"containers": [], "ephemeralContainers": [debugger("d")]});
        assert_eq!(
            forbid_on_create(&spec).map(|e| e.message()),
            Some("spec.ephemeralContainers: Forbidden: cannot be set on create".to_string())
        );
        assert!(forbid_on_create(&json!({"ephemeralContainers": []})).is_none());
    }
}
