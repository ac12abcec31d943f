//! Round-tripping JSON objects through their typed k8s-openapi form.
//!
//! The server keeps objects as `serde_json::Value` so that one generic store serves every kind;
//! decoding into the typed struct is how it learns that a field has the wrong type, and comparing
//! the input with the re-encoded object is how it finds fields the type does not know
//! (`fieldValidation=Strict|Warn`).

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

/// Decode `v` as `K` and encode it again. Unknown fields are dropped.
pub fn normalize<K: Serialize + DeserializeOwned>(v: &Value) -> Result<Value, serde_json::Error> {
    let typed = K::deserialize(v)?;
    serde_json::to_value(typed)
}

/// Paths (`.spec.foo`, `.spec.containers[0].bar`) of fields present in `input` but absent from
/// `normalized`, i.e. fields the type does not know. Explicit `null`s are not unknown fields.
pub fn unknown_fields(input: &Value, normalized: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(input, normalized, String::new(), &mut out);
    out
}

fn walk(input: &Value, known: &Value, path: String, out: &mut Vec<String>) {
    match (input, known) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let child = format!("{path}.{k}");
                match b.get(k) {
                    Some(kv) => walk(v, kv, child, out),
                    None if v.is_null() => {}
                    // An empty object or list may be dropped by the typed form (e.g. an empty
                    // `securityContext`); that is not an unknown field.
                    None if is_empty_container(v) => {}
                    None => out.push(child),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                walk(x, y, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_found_with_their_paths() {
        let input = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "bogus": 1}, "data": {"k": "v"}, "extra": true});
        let norm = normalize::<ConfigMap>(&input).expect("decodes");
        let mut unknown = unknown_fields(&input, &norm);
        unknown.sort();
        assert_eq!(
            unknown,
            vec![".extra".to_string(), ".metadata.bogus".to_string()]
        );
    }

    #[test]
    fn wrong_field_type_is_an_error() {
        let input = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": 5}});
        assert!(normalize::<ConfigMap>(&input).is_err());
    }
}
