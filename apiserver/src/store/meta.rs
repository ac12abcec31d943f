//! Object metadata rules every resource shares: decoding through the typed form, unknown-field
//! handling, system fields on create and update, generateName, and metadata validation.

use api_types::catalog::ResourceInfo;
use api_types::{names, typed};
use rand::Rng;
use serde_json::{json, Map, Value};

use super::context::{FieldValidation, RequestContext};
use crate::errors::{ApiError, FieldError};
use crate::registry::strategy::{NameRule, Strategy};

/// Longest total size of annotations (upstream: 256 KiB).
const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

/// The current time as upstream writes timestamps (RFC 3339, seconds).
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Resources whose `metadata.generation` counts spec changes.
pub fn tracks_generation(res: &ResourceInfo) -> bool {
    matches!(
        (res.group, res.plural),
        ("apps", _)
            | ("batch", _)
            | ("", "replicationcontrollers")
            | ("autoscaling", _)
            | ("policy", "poddisruptionbudgets")
            | ("networking.k8s.io", "ingresses")
            | ("networking.k8s.io", "networkpolicies")
    ) && res.plural != "controllerrevisions"
}

/// Check `apiVersion` and `kind` against the URL, filling them in when absent, then decode
/// through the typed form; unknown fields are rejected, warned about or dropped per
/// `fieldValidation`.
pub fn normalize(
    res: &ResourceInfo,
    mut obj: Value,
    ctx: &RequestContext,
) -> Result<Value, ApiError> {
    let Some(map) = obj.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON or YAML object",
        ));
    };
    let want_api = res.api_version();
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), json!(want_api));
        }
        Some(v) if v != want_api => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({want_api})"
            )))
        }
        _ => {}
    }
    match map.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("kind".into(), json!(res.kind));
        }
        Some(k) if k != res.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                res.kind
            )))
        }
        _ => {}
    }
    let normalized = (res.typed.normalize)(&obj).map_err(|e| {
        ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: {e}",
            res.kind, res.version, res.kind
        ))
    })?;
    if ctx.field_validation != FieldValidation::Ignore {
        let unknown = typed::unknown_fields(&obj, &normalized);
        if !unknown.is_empty() {
            match ctx.field_validation {
                FieldValidation::Strict => {
                    let list = unknown
                        .iter()
                        .map(|f| format!("unknown field \"{}\"", &f[1..]))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(ApiError::bad_request(format!(
                        "strict decoding error: {list}"
                    )));
                }
                _ => {
                    for f in unknown {
                        ctx.warn(format!("unknown field \"{}\"", &f[1..]));
                    }
                }
            }
        }
    }
    Ok(normalized)
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .expect("metadata is an object")
}

/// A string field of `metadata`.
pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

const GENERATE_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `generateName` + 5 random characters, as upstream.
pub fn generate_name(base: &str) -> String {
    let base: String = base.chars().take(63 - 5).collect();
    let mut rng = rand::rng();
    let suffix: String = (0..5)
        .map(|_| GENERATE_CHARS[rng.random_range(0..GENERATE_CHARS.len())] as char)
        .collect();
    format!("{base}{suffix}")
}

/// A new object's status as upstream shows it when nothing has written one yet: the Go zero
/// value of the kind's status struct (a Service's `{loadBalancer: {}}`, a Deployment's `{}`),
/// under what the strategy already set (a Pod's phase).
pub fn show_zero_status(res: &ResourceInfo, obj: &mut Value) {
    if res.subresource("status").is_none() {
        return;
    }
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let kind = obj["kind"].as_str().unwrap_or_default();
    let Some(Value::Object(zero)) = crate::protobuf::zero_status(api_version, kind) else {
        return;
    };
    let Some(o) = obj.as_object_mut() else {
        return;
    };
    let status = o
        .entry("status")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if let Value::Object(status) = status {
        for (k, v) in zero {
            status.entry(k).or_insert(v);
        }
    }
}

/// Set what the server owns on create: namespace, uid, creationTimestamp, generation; clear
/// what a client may not set.
pub fn prepare_for_create(
    res: &ResourceInfo,
    obj: &mut Value,
    ns: Option<&str>,
) -> Result<(), ApiError> {
    let has_status = res.subresource("status").is_some();
    let m = meta_mut(obj);
    if let Some(rv) = m.get("resourceVersion").and_then(Value::as_str) {
        if !rv.is_empty() {
            return Err(ApiError::bad_request(
                "resourceVersion should not be set on objects to be created",
            ));
        }
    }
    m.remove("resourceVersion");
    match (res.namespaced, ns) {
        (true, Some(ns)) => {
            match m.get("namespace").and_then(Value::as_str) {
                Some(given) if !given.is_empty() && given != ns => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ))
                }
                _ => {}
            }
            m.insert("namespace".into(), json!(ns));
        }
        (true, None) => {
            return Err(ApiError::bad_request(
                "a namespace is required to create a namespaced object",
            ))
        }
        (false, _) => {
            m.remove("namespace");
        }
    }
    let name_missing = m
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    if name_missing {
        if let Some(base) = m
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            let name = generate_name(base);
            m.insert("name".into(), json!(name));
        }
    }
    m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    m.insert("creationTimestamp".into(), json!(now()));
    m.remove("deletionTimestamp");
    m.remove("deletionGracePeriodSeconds");
    m.remove("selfLink");
    if tracks_generation(res) {
        m.insert("generation".into(), json!(1));
    } else {
        m.remove("generation");
    }
    // Status is the controllers' to write, except where upstream lets the creator set it.
    let keeps_status = matches!(res.plural, "nodes" | "events");
    if has_status && !keeps_status {
        if let Some(o) = obj.as_object_mut() {
            o.remove("status");
        }
    }
    Ok(())
}

/// Carry over what a client may not change on update, and bump generation when the spec
/// changed. `subresource` is `Some("status")` for status updates; other subresource writes
/// (a Pod's `ephemeralcontainers`) get the rules of the resource itself here and are narrowed
/// further by their strategy's `prepare_for_update`.
pub fn prepare_for_update(
    res: &ResourceInfo,
    new: &mut Value,
    old: &Value,
    subresource: Option<&str>,
) {
    if matches!(subresource, Some("status" | "approval")) {
        // A status write changes status only (a CSR's approval is a status write whose
        // strategy keeps only the conditions).
        let status = new.get("status").cloned();
        let mut merged = old.clone();
        match status {
            Some(s) => merged["status"] = s,
            None => {
                if let Some(o) = merged.as_object_mut() {
                    o.remove("status");
                }
            }
        }
        *new = merged;
        return;
    }
    let old_meta = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
    {
        let m = meta_mut(new);
        for f in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "namespace",
        ] {
            match old_meta.get(f) {
                Some(v) => {
                    m.insert(f.into(), v.clone());
                }
                None => {
                    m.remove(f);
                }
            }
        }
        m.remove("selfLink");
    }
    if res.subresource("status").is_some() {
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                if let Some(o) = new.as_object_mut() {
                    o.remove("status");
                }
            }
        }
    }
    if tracks_generation(res) && spec_changed(old, new) {
        let g = old_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        meta_mut(new).insert("generation".into(), json!(g + 1));
    }
}

fn spec_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("metadata");
            o.remove("status");
        }
        v
    };
    strip(old) != strip(new)
}

/// Whether two versions of an object differ in anything but resourceVersion and the
/// managedFields timestamps (a no-op update is not written).
pub fn semantically_equal(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
            if let Some(Value::Array(mf)) = m.get_mut("managedFields") {
                for e in mf.iter_mut() {
                    if let Some(o) = e.as_object_mut() {
                        o.remove("time");
                    }
                }
            }
        }
        v
    };
    strip(a) == strip(b)
}

/// Validate name, generateName, labels and annotations.
pub fn validate_metadata(strategy: &dyn Strategy, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = meta_str(obj, "name").unwrap_or_default();
    if name.is_empty() {
        errs.push(FieldError::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        let problems = match strategy.name_rule() {
            NameRule::Subdomain => names::dns1123_subdomain(name),
            NameRule::Label => names::dns1123_label(name),
            NameRule::PathSegment => names::path_segment_name(name),
        };
        for p in problems {
            errs.push(FieldError::invalid("metadata.name", name, p));
        }
    }
    if let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            for p in names::qualified_name(k) {
                errs.push(FieldError::invalid("metadata.labels", k.as_str(), p));
            }
            let v = v.as_str().unwrap_or_default();
            for p in names::label_value(v) {
                errs.push(FieldError::invalid(format!("metadata.labels[{k}]"), v, p));
            }
        }
    }
    if let Some(ann) = obj
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        let mut total = 0;
        for (k, v) in ann {
            total += k.len() + v.as_str().map(str::len).unwrap_or(0);
            for p in names::qualified_name(k) {
                errs.push(FieldError::invalid("metadata.annotations", k.as_str(), p));
            }
        }
        if total > MAX_ANNOTATIONS_BYTES {
            errs.push(FieldError {
                kind: crate::errors::FieldErrorKind::TooLong,
                field: "metadata.annotations".into(),
                value: None,
                detail: format!("may not be more than {MAX_ANNOTATIONS_BYTES} bytes"),
            });
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_have_five_char_suffix() {
        let n = generate_name("web-");
        assert!(n.starts_with("web-"));
        assert_eq!(n.len(), 9);
    }

    #[test]
    fn status_update_changes_only_status() {
        let res = api_types::catalog::find("apps", "v1", "deployments").expect("deployments");
        let old = json!({"metadata": {"name": "a", "labels": {"x": "1"}}, "spec": {"replicas": 1}, "status": {"replicas": 0}});
        let mut new = json!({"metadata": {"name": "a", "labels": {"x": "2"}}, "spec": {"replicas": 5}, "status": {"replicas": 1}});
        prepare_for_update(res, &mut new, &old, Some("status"));
        assert_eq!(new["spec"]["replicas"], 1);
        assert_eq!(new["metadata"]["labels"]["x"], "1");
        assert_eq!(new["status"]["replicas"], 1);
    }

    #[test]
    fn spec_change_bumps_generation() {
        let res = api_types::catalog::find("apps", "v1", "deployments").expect("deployments");
        let old = json!({"metadata": {"name": "a", "generation": 3}, "spec": {"replicas": 1}});
        let mut new = json!({"metadata": {"name": "a"}, "spec": {"replicas": 2}});
        prepare_for_update(res, &mut new, &old, None);
        assert_eq!(new["metadata"]["generation"], 4);
        let mut same =
            json!({"metadata": {"name": "a", "labels": {"a": "b"}}, "spec": {"replicas": 1}});
        prepare_for_update(res, &mut same, &old, None);
        assert_eq!(same["metadata"]["generation"], 3);
    }
}
