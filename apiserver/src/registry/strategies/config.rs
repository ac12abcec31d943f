//! core/v1 Secret and ConfigMap: key syntax, type-specific required keys, and `immutable`.

use serde_json::{json, Value};

use super::json::{get, get_str, key, set_default};
use crate::errors::FieldError;
use crate::registry::Strategy;

const CONFIG_KEY_MESSAGE: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

/// Upstream's `IsConfigMapKey`, as field errors under `field[key]`.
fn validate_keys(obj: &Value, field: &str, errs: &mut Vec<FieldError>) {
    let Some(m) = obj.get(field).and_then(Value::as_object) else {
        return;
    };
    for k in m.keys() {
        let path = key(field, k);
        let chars_ok = !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !chars_ok {
            errs.push(FieldError::invalid(&path, k.as_str(), CONFIG_KEY_MESSAGE));
        }
        if k.len() > 253 {
            errs.push(FieldError::invalid(
                &path,
                k.as_str(),
                "must be no more than 253 characters",
            ));
        }
        if k == "." || k == ".." {
            errs.push(FieldError::invalid(
                &path,
                k.as_str(),
                format!("must not be '{k}'"),
            ));
        } else if k.starts_with("..") {
            errs.push(FieldError::invalid(
                &path,
                k.as_str(),
                "must not start with '..'",
            ));
        }
    }
}

/// Once `immutable: true` is stored, neither the data nor the flag may change.
fn validate_immutable(obj: &Value, old: &Value, fields: &[&str], errs: &mut Vec<FieldError>) {
    if old.get("immutable").and_then(Value::as_bool) != Some(true) {
        return;
    }
    if obj.get("immutable").and_then(Value::as_bool) != Some(true) {
        errs.push(FieldError::forbidden(
            "immutable",
            "field is immutable when `immutable` is set",
        ));
    }
    for f in fields {
        let norm = |v: &Value| {
            v.get(*f)
                .filter(|x| !x.is_null())
                .cloned()
                .filter(|x| x.as_object().is_none_or(|m| !m.is_empty()))
        };
        if norm(obj) != norm(old) {
            errs.push(FieldError::forbidden(
                *f,
                "field is immutable when `immutable` is set",
            ));
        }
    }
}

/// core/v1 Secret.
pub struct Secret;
impl Strategy for Secret {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["type"], json!("Opaque"));
        merge_string_data(obj);
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        validate_keys(obj, "data", &mut errs);
        let has = |k: &str| get(obj, &["data", k]).is_some_and(|v| !v.is_null());
        let require = |k: &str, errs: &mut Vec<FieldError>| {
            if !has(k) {
                errs.push(FieldError::required(key("data", k), ""));
            }
        };
        let sa_name = get_str(
            obj,
            &[
                "metadata",
                "annotations",
                "kubernetes.io/service-account.name",
            ],
        )
        .unwrap_or_default();
        match get_str(obj, &["type"]).unwrap_or("Opaque") {
            "kubernetes.io/service-account-token" if sa_name.is_empty() => {
                errs.push(FieldError::required(
                    "metadata.annotations[kubernetes.io/service-account.name]",
                    "",
                ));
            }
            "kubernetes.io/dockercfg" => require(".dockercfg", &mut errs),
            "kubernetes.io/dockerconfigjson" => {
                require(".dockerconfigjson", &mut errs);
                if let Some(err) = docker_config_json_error(obj) {
                    errs.push(FieldError::invalid(
                        key("data", ".dockerconfigjson"),
                        "<secret contents redacted>",
                        err,
                    ));
                }
            }
            "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
                errs.push(FieldError::required(key("data", "username"), ""));
                errs.push(FieldError::required(key("data", "password"), ""));
            }
            "kubernetes.io/ssh-auth" => require("ssh-privatekey", &mut errs),
            "kubernetes.io/tls" => {
                require("tls.crt", &mut errs);
                require("tls.key", &mut errs);
            }
            _ => {}
        }
        if let Some(old) = old {
            if get_str(old, &["type"]) != get_str(obj, &["type"]) {
                errs.push(FieldError::invalid(
                    "type",
                    get_str(obj, &["type"]).unwrap_or_default(),
                    "field is immutable",
                ));
            }
            validate_immutable(obj, old, &["data"], &mut errs);
        }
        errs
    }

    fn field_labels(&self) -> &'static [&'static str] {
        &["type"]
    }
}

/// Why `.dockerconfigjson` is not JSON, if it is present and is not.
fn docker_config_json_error(obj: &Value) -> Option<String> {
    use base64::Engine;
    let encoded = get_str(obj, &["data", ".dockerconfigjson"])?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    serde_json::from_slice::<Value>(&raw)
        .err()
        .map(|e| e.to_string())
}

/// core/v1 ConfigMap.
pub struct ConfigMap;
impl Strategy for ConfigMap {
    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        validate_keys(obj, "data", &mut errs);
        validate_keys(obj, "binaryData", &mut errs);
        if let (Some(d), Some(b)) = (
            obj.get("data").and_then(Value::as_object),
            obj.get("binaryData").and_then(Value::as_object),
        ) {
            for k in b.keys().filter(|k| d.contains_key(*k)) {
                errs.push(FieldError::invalid(
                    key("data", k),
                    k.as_str(),
                    "duplicate of key present in binaryData",
                ));
            }
        }
        if let Some(old) = old {
            validate_immutable(obj, old, &["data", "binaryData"], &mut errs);
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_defaults_and_required_keys() {
        let mut s = json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "YQ=="}});
        Secret.default(&mut s);
        let msgs: Vec<String> = Secret
            .validate(&s, None)
            .iter()
            .map(FieldError::message)
            .collect();
        assert_eq!(msgs, vec!["data[tls.key]: Required value"]);
        let mut o = json!({"metadata": {"name": "s"}});
        Secret.default(&mut o);
        assert_eq!(o["type"], "Opaque");
    }

    #[test]
    fn configmap_keys_and_immutability() {
        let cm = json!({"data": {"bad key": "v", "a": "1"}, "binaryData": {"a": "MQ=="}});
        let msgs: Vec<String> = ConfigMap
            .validate(&cm, None)
            .iter()
            .map(FieldError::message)
            .collect();
        assert!(
            msgs[0].starts_with("data[bad key]: Invalid value: \"bad key\": a valid config key")
        );
        assert!(msgs.contains(
            &"data[a]: Invalid value: \"a\": duplicate of key present in binaryData".to_string()
        ));
        let old = json!({"immutable": true, "data": {"a": "1"}});
        let new = json!({"immutable": true, "data": {"a": "2"}});
        let errs = ConfigMap.validate(&new, Some(&old));
        assert_eq!(
            errs[0].message(),
            "data: Forbidden: field is immutable when `immutable` is set"
        );
    }
}

/// `stringData` is write-only: its entries are base64-encoded into `data` (overriding keys
/// there) and the field itself is never stored, as upstream's conversion does.
fn merge_string_data(obj: &mut Value) {
    use base64::Engine;
    let Some(string_data) = obj.as_object_mut().and_then(|o| o.remove("stringData")) else {
        return;
    };
    let Some(entries) = string_data.as_object() else {
        return;
    };
    if !obj.get("data").is_some_and(Value::is_object) {
        obj["data"] = json!({});
    }
    for (k, v) in entries {
        let text = v.as_str().unwrap_or_default();
        obj["data"][k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    }
}

#[cfg(test)]
mod string_data_tests {
    use super::*;

    #[test]
    fn string_data_moves_into_data() {
        let mut s = json!({"data": {"a": "eA=="}, "stringData": {"password": "hunter2", "a": "y"}});
        merge_string_data(&mut s);
        assert_eq!(
            s,
            json!({"data": {"a": "eQ==", "password": "aHVudGVyMg=="}})
        );
    }
}
