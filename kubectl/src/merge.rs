//! Client-side apply's three-way JSON merge patch, for types outside client-go's scheme
//! (built-in types get a strategic one, `crate::strategic`): from the last applied
//! configuration (original), the new configuration (modified) and the live object (current),
//! compute a JSON merge patch
//! that sets what changed and deletes what the user removed, leaving fields set by others.

use serde_json::{Map, Value};

/// The annotation that holds the last applied configuration.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The three-way merge patch; an empty object means nothing to do.
pub fn three_way(original: Option<&Value>, modified: &Value, current: &Value) -> Value {
    let mut patch = Map::new();
    let empty = Map::new();
    let m = modified.as_object().unwrap_or(&empty);
    let c = current.as_object().unwrap_or(&empty);
    let o = original.and_then(Value::as_object);
    for (k, mv) in m {
        match (mv, c.get(k)) {
            (Value::Object(_), Some(cv @ Value::Object(_))) => {
                let sub = three_way(o.and_then(|o| o.get(k)), mv, cv);
                if sub.as_object().is_some_and(|s| !s.is_empty()) {
                    patch.insert(k.clone(), sub);
                }
            }
            (_, Some(cv)) if subset(mv, cv) => {}
            _ => {
                patch.insert(k.clone(), mv.clone());
            }
        }
    }
    if let Some(o) = o {
        for k in o.keys() {
            if !m.contains_key(k) && c.contains_key(k) {
                patch.insert(k.clone(), Value::Null);
            }
        }
    }
    Value::Object(patch)
}

/// Whether `live` already holds everything `want` says. Fields the server added (defaults,
/// status) do not count as differences, as with upstream's strategic diff that ignores
/// deletions; lists must match element by element.
pub fn subset(want: &Value, live: &Value) -> bool {
    match (want, live) {
        (Value::Object(w), Value::Object(l)) => w.iter().all(|(k, wv)| {
            l.get(k).is_some_and(|lv| subset(wv, lv)) || (wv.is_null() && !l.contains_key(k))
        }),
        (Value::Array(w), Value::Array(l)) => {
            w.len() == l.len() && w.iter().zip(l).all(|(a, b)| subset(a, b))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

/// The object as it will be recorded: the annotation holds the object without itself, as
/// compact JSON with a trailing newline (what upstream writes).
pub fn with_last_applied(obj: &Value) -> Value {
    let mut clean = obj.clone();
    if let Some(ann) = clean["metadata"]
        .get_mut("annotations")
        .and_then(Value::as_object_mut)
    {
        ann.remove(LAST_APPLIED);
    }
    // Upstream records `"annotations":{}` when only its own annotation was there.
    if clean["metadata"].is_object() && !clean["metadata"]["annotations"].is_object() {
        clean["metadata"]["annotations"] = Value::Object(Map::new());
    }
    let text = format!("{}\n", crate::printers::json::go_escape(&clean.to_string()));
    let mut out = obj.clone();
    if !out["metadata"].is_object() {
        out["metadata"] = Value::Object(Map::new());
    }
    if !out["metadata"]["annotations"].is_object() {
        out["metadata"]["annotations"] = Value::Object(Map::new());
    }
    out["metadata"]["annotations"][LAST_APPLIED] = Value::String(text);
    out
}

/// The last applied configuration recorded on a live object.
pub fn last_applied(current: &Value) -> Option<Value> {
    current["metadata"]["annotations"][LAST_APPLIED]
        .as_str()
        .and_then(|s| serde_json::from_str(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_changes_and_deletes_only_what_the_user_removed() {
        let original = json!({"metadata": {"labels": {"a": "1", "gone": "x"}}, "data": {"k": "v"}});
        let modified = json!({"metadata": {"labels": {"a": "2"}}, "data": {"k": "v", "n": "new"}});
        let current = json!({"metadata": {"labels": {"a": "1", "gone": "x", "theirs": "t"},
                                           "resourceVersion": "5"}, "data": {"k": "v"}});
        let patch = three_way(Some(&original), &modified, &current);
        assert_eq!(
            patch,
            json!({"metadata": {"labels": {"a": "2", "gone": null}}, "data": {"n": "new"}})
        );
    }

    #[test]
    fn unchanged_is_empty_and_lists_replace_whole() {
        let cfg = json!({"spec": {"ports": [{"port": 80}], "x": 1}});
        let current = json!({"spec": {"ports": [{"port": 80}], "x": 1, "clusterIP": "10.0.0.1"}});
        assert_eq!(three_way(Some(&cfg), &cfg, &current), json!({}));
        let modified = json!({"spec": {"ports": [{"port": 81}], "x": 1}});
        assert_eq!(
            three_way(Some(&cfg), &modified, &current),
            json!({"spec": {"ports": [{"port": 81}]}})
        );
    }

    #[test]
    fn server_defaults_in_lists_are_not_changes() {
        let cfg = json!({"spec": {"containers": [{"name": "c", "image": "i"}]}});
        let live = json!({"spec": {"containers": [{"name": "c", "image": "i",
                          "imagePullPolicy": "Always"}], "dnsPolicy": "ClusterFirst"}});
        assert_eq!(three_way(Some(&cfg), &cfg, &live), json!({}));
        let removed = json!({"spec": {"containers": [{"name": "c", "image": "i"}, {"name": "d", "image": "j"}]}});
        assert!(!subset(&removed, &live));
    }

    #[test]
    fn annotation_excludes_itself() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}});
        let rec = with_last_applied(&obj);
        let text = rec["metadata"]["annotations"][LAST_APPLIED]
            .as_str()
            .unwrap();
        assert_eq!(
            text,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{},\"name\":\"a\"}}\n"
        );
        // Re-recording an applied object gives the same text.
        let again = with_last_applied(&rec);
        assert_eq!(again, rec);
        assert_eq!(
            last_applied(&rec).unwrap()["metadata"]["annotations"],
            json!({})
        );
    }
}
