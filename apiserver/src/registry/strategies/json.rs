//! Small helpers for reading and defaulting fields of a JSON object, and for the field errors
//! every strategy raises (immutability, non-negative numbers, port ranges, DNS names).

use serde_json::{Map, Value};

use crate::errors::FieldError;

/// The value at `path` (object keys), if every step exists.
pub(crate) fn get<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |v, k| v.get(*k))
}

/// The string at `path`, if it is a string.
pub(crate) fn get_str<'a>(obj: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(obj, path).and_then(Value::as_str)
}

/// The integer at `path`, if it is a number.
pub(crate) fn get_i64(obj: &Value, path: &[&str]) -> Option<i64> {
    get(obj, path).and_then(Value::as_i64)
}

/// The array at `path`, or an empty slice.
pub(crate) fn items<'a>(obj: &'a Value, path: &[&str]) -> &'a [Value] {
    get(obj, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Whether the value is absent in the sense of Go's zero value for optional fields:
/// missing, `null`, an empty string, an empty list or an empty map.
pub(crate) fn is_unset(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
        _ => false,
    }
}

/// The object at `path`, created (with every missing step) when absent. `None` when a step
/// exists but is not an object (the typed round trip makes that impossible for known fields).
pub(crate) fn object_at<'a>(
    obj: &'a mut Value,
    path: &[&str],
) -> Option<&'a mut Map<String, Value>> {
    let mut cur = obj;
    for k in path {
        if cur.is_null() {
            *cur = Value::Object(Map::new());
        }
        let m = cur.as_object_mut()?;
        let next = m.entry(k.to_string()).or_insert(Value::Object(Map::new()));
        if next.is_null() {
            *next = Value::Object(Map::new());
        }
        cur = next;
    }
    if cur.is_null() {
        *cur = Value::Object(Map::new());
    }
    cur.as_object_mut()
}

/// Set `path` to `value` when it is unset (see [`is_unset`]); intermediate objects are created.
pub(crate) fn set_default(obj: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    if !is_unset(get(obj, path)) {
        return;
    }
    if let Some(m) = object_at(obj, parents) {
        m.insert(last.to_string(), value);
    }
}

/// Apply `f` to each element of the array at `path` (no-op when absent).
pub(crate) fn for_each_mut(obj: &mut Value, path: &[&str], mut f: impl FnMut(&mut Value)) {
    let mut cur = Some(obj);
    for k in path {
        cur = cur.and_then(|v| v.get_mut(*k));
    }
    if let Some(Value::Array(a)) = cur {
        a.iter_mut().for_each(&mut f);
    }
}

/// The value at `path` as a mutable reference, if it exists.
pub(crate) fn get_mut<'a>(obj: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(obj, |v, k| v.get_mut(*k))
}

/// Join a JSON path for field errors: `child("spec", "replicas")` → `spec.replicas`.
pub(crate) fn child(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}.{name}")
    }
}

/// `spec.containers[3]`.
pub(crate) fn index(base: &str, i: usize) -> String {
    format!("{base}[{i}]")
}

/// `data[key]`.
pub(crate) fn key(base: &str, k: &str) -> String {
    format!("{base}[{k}]")
}

/// Upstream's `ValidateImmutableField`: `<field>: Invalid value: <new>: field is immutable`.
pub(crate) fn immutable(
    new: &Value,
    old: &Value,
    path: &[&str],
    field: &str,
) -> Option<FieldError> {
    let n = get(new, path).filter(|v| !v.is_null());
    let o = get(old, path).filter(|v| !v.is_null());
    (n != o).then(|| {
        FieldError::invalid(
            field,
            n.cloned().unwrap_or(Value::Null),
            "field is immutable",
        )
    })
}

/// `<field>: Invalid value: -1: must be greater than or equal to 0` when the number is negative.
pub(crate) fn non_negative(obj: &Value, path: &[&str], field: &str) -> Option<FieldError> {
    let v = get_i64(obj, path)?;
    (v < 0).then(|| FieldError::invalid(field, v, "must be greater than or equal to 0"))
}

/// `<field>: Invalid value: 0: must be between 1 and 65535, inclusive`.
pub(crate) fn port_number(v: i64, field: &str) -> Option<FieldError> {
    (!(1..=65535).contains(&v))
        .then(|| FieldError::invalid(field, v, "must be between 1 and 65535, inclusive"))
}

/// A DNS-1123 label (container, volume and port names): one error per problem.
pub(crate) fn dns_label(name: &str, field: &str) -> Vec<FieldError> {
    api_types::names::dns1123_label(name)
        .into_iter()
        .map(|msg| FieldError::invalid(field, name, msg))
        .collect()
}

/// A DNS-1123 subdomain (object references such as a Secret or ConfigMap name).
pub(crate) fn dns_subdomain(name: &str, field: &str) -> Vec<FieldError> {
    api_types::names::dns1123_subdomain(name)
        .into_iter()
        .map(|msg| FieldError::invalid(field, name, msg))
        .collect()
}

/// `<field>: Unsupported value: "x": supported values: ...` when the string is set but not one
/// of `allowed`; `<field>: Required value` when `required` and unset.
pub(crate) fn one_of(
    obj: &Value,
    path: &[&str],
    field: &str,
    allowed: &[&str],
    required: bool,
) -> Option<FieldError> {
    match get_str(obj, path) {
        Some(s) if !s.is_empty() => {
            (!allowed.contains(&s)).then(|| FieldError::not_supported(field, s, allowed))
        }
        _ if required => Some(FieldError::required(field, "")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_default_creates_parents_and_keeps_values() {
        let mut v = json!({"spec": {"replicas": 3}});
        set_default(&mut v, &["spec", "replicas"], json!(1));
        set_default(
            &mut v,
            &["spec", "strategy", "type"],
            json!("RollingUpdate"),
        );
        assert_eq!(
            v,
            json!({"spec": {"replicas": 3, "strategy": {"type": "RollingUpdate"}}})
        );
    }

    #[test]
    fn immutable_reports_the_new_value() {
        let new = json!({"spec": {"selector": {"a": "b"}}});
        let old = json!({"spec": {"selector": {"a": "c"}}});
        let e = immutable(&new, &old, &["spec", "selector"], "spec.selector").expect("changed");
        assert_eq!(
            e.message(),
            "spec.selector: Invalid value: {\"a\":\"b\"}: field is immutable"
        );
        assert!(immutable(&new, &new, &["spec", "selector"], "spec.selector").is_none());
    }
}
