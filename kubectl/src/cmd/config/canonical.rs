//! The kubeconfig v1 schema as client-go reads and writes it.
//!
//! Every file `kubectl config` touches goes through Go structs on its way back to disk: fields
//! the schema does not know are dropped, empty `omitempty` fields vanish, fields without
//! `omitempty` appear even when empty (`server: ""`, `user: ""`, `args: null`), and binary
//! data is re-encoded. Entries are kept in this canonical JSON form so that comparing two of
//! them answers what Go's `reflect.DeepEqual` answers, and writing one gives the same bytes.

use base64::Engine;
use serde_json::{Map, Value};

use super::model::Section;

/// What a field holds, which decides how a raw value is read and when it counts as empty.
#[derive(Clone, Copy)]
enum Type {
    Str,
    Bool,
    /// `[]byte`: base64 text in JSON.
    Bytes,
    StrList,
    /// `map[string]string`
    StrMap,
    /// `map[string][]string`
    StrListMap,
    /// `[]NamedExtension`: opaque payloads, kept as read.
    Extensions,
    /// A pointer to a nested struct (`auth-provider`, `exec`).
    Struct(&'static [Field]),
    /// `[]ExecEnvVar`
    EnvList,
}

/// One field of a v1 struct.
struct Field {
    key: &'static str,
    ty: Type,
    /// Go's `omitempty`: left out when empty instead of written as `""`, `false` or `null`.
    omit_empty: bool,
}

const fn field(key: &'static str, ty: Type, omit_empty: bool) -> Field {
    Field {
        key,
        ty,
        omit_empty,
    }
}

const CLUSTER: &[Field] = &[
    field("server", Type::Str, false),
    field("tls-server-name", Type::Str, true),
    field("insecure-skip-tls-verify", Type::Bool, true),
    field("certificate-authority", Type::Str, true),
    field("certificate-authority-data", Type::Bytes, true),
    field("proxy-url", Type::Str, true),
    field("disable-compression", Type::Bool, true),
    field("extensions", Type::Extensions, true),
];

const CONTEXT: &[Field] = &[
    field("cluster", Type::Str, false),
    field("user", Type::Str, false),
    field("namespace", Type::Str, true),
    field("extensions", Type::Extensions, true),
];

const AUTH_PROVIDER: &[Field] = &[
    field("name", Type::Str, false),
    field("config", Type::StrMap, false),
];

const ENV_VAR: &[Field] = &[
    field("name", Type::Str, false),
    field("value", Type::Str, false),
];

const EXEC: &[Field] = &[
    field("command", Type::Str, false),
    field("args", Type::StrList, false),
    field("env", Type::EnvList, false),
    field("apiVersion", Type::Str, true),
    field("installHint", Type::Str, true),
    field("provideClusterInfo", Type::Bool, false),
    field("interactiveMode", Type::Str, true),
];

const USER: &[Field] = &[
    field("client-certificate", Type::Str, true),
    field("client-certificate-data", Type::Bytes, true),
    field("client-key", Type::Str, true),
    field("client-key-data", Type::Bytes, true),
    field("token", Type::Str, true),
    field("tokenFile", Type::Str, true),
    field("as", Type::Str, true),
    field("as-uid", Type::Str, true),
    field("as-groups", Type::StrList, true),
    field("as-user-extra", Type::StrListMap, true),
    field("username", Type::Str, true),
    field("password", Type::Str, true),
    field("auth-provider", Type::Struct(AUTH_PROVIDER), true),
    field("exec", Type::Struct(EXEC), true),
    field("extensions", Type::Extensions, true),
];

const PREFERENCES: &[Field] = &[
    field("colors", Type::Bool, true),
    field("extensions", Type::Extensions, true),
];

/// The canonical payload of a cluster, context or user entry (`raw` may be anything; what
/// does not fit the schema is dropped, as Go's decoder would ignore it).
pub fn payload(section: Section, raw: &Value) -> Map<String, Value> {
    let fields = match section {
        Section::Clusters => CLUSTER,
        Section::Contexts => CONTEXT,
        Section::Users => USER,
    };
    canonical_struct(fields, raw)
}

/// The canonical `preferences` object.
pub fn preferences(raw: &Value) -> Map<String, Value> {
    canonical_struct(PREFERENCES, raw)
}

/// A `[]NamedExtension` list (top level, preferences or an entry), empty when absent.
pub fn extensions(raw: &Value) -> Vec<Value> {
    match convert(Type::Extensions, raw) {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

fn canonical_struct(fields: &[Field], raw: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for f in fields {
        let value = convert(f.ty, raw.get(f.key).unwrap_or(&Value::Null));
        if f.omit_empty && is_empty(&value) {
            continue;
        }
        out.insert(f.key.to_string(), value);
    }
    out
}

/// A raw value read as Go would store it in a field of type `ty`, then marshalled again.
fn convert(ty: Type, raw: &Value) -> Value {
    match ty {
        Type::Str => Value::String(text(raw)),
        Type::Bool => Value::Bool(raw.as_bool().unwrap_or(false)),
        Type::Bytes => match raw {
            // Go decodes the base64 and encodes it again; text it cannot decode is kept.
            Value::String(s) => {
                let engine = base64::engine::general_purpose::STANDARD;
                let compact: String = s.chars().filter(|c| *c != '\n' && *c != '\r').collect();
                match engine.decode(compact.as_bytes()) {
                    Ok(bytes) => Value::String(engine.encode(bytes)),
                    Err(_) => Value::String(s.clone()),
                }
            }
            _ => Value::String(String::new()),
        },
        Type::StrList => match raw {
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| Value::String(text(v))).collect())
            }
            _ => Value::Null,
        },
        Type::StrMap => match raw {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::String(text(v))))
                    .collect(),
            ),
            _ => Value::Null,
        },
        Type::StrListMap => match raw {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), convert(Type::StrList, v)))
                    .collect(),
            ),
            _ => Value::Null,
        },
        Type::Extensions => match raw {
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|e| {
                        let mut m = Map::new();
                        m.insert("name".into(), Value::String(text(&e["name"])));
                        m.insert("extension".into(), e["extension"].clone());
                        Value::Object(m)
                    })
                    .collect(),
            ),
            _ => Value::Null,
        },
        Type::Struct(fields) => match raw {
            Value::Null => Value::Null,
            other => Value::Object(canonical_struct(fields, other)),
        },
        Type::EnvList => match raw {
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|e| Value::Object(canonical_struct(ENV_VAR, e)))
                    .collect(),
            ),
            _ => Value::Null,
        },
    }
}

/// Go's `omitempty` test: zero values, nil pointers, empty strings, slices and maps.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(_) => false,
        Value::Number(_) => false,
    }
}

/// A scalar as text (YAML may have read `123` as a number where the schema wants a string).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_go_and_required_ones_appear() {
        let c = payload(
            Section::Clusters,
            &json!({"unknown": 1, "insecure-skip-tls-verify": false}),
        );
        assert_eq!(Value::Object(c), json!({"server": ""}));
        let c = payload(Section::Contexts, &json!({"cluster": "a"}));
        assert_eq!(Value::Object(c), json!({"cluster": "a", "user": ""}));
        assert!(payload(Section::Users, &Value::Null).is_empty());
    }

    #[test]
    fn exec_and_auth_provider_keep_their_non_omitempty_fields() {
        let u = payload(
            Section::Users,
            &json!({"exec": {"command": "c"}, "auth-provider": {"name": "oidc"}}),
        );
        assert_eq!(
            u["exec"],
            json!({"command": "c", "args": null, "env": null, "provideClusterInfo": false})
        );
        assert_eq!(u["auth-provider"], json!({"name": "oidc", "config": null}));
    }

    #[test]
    fn binary_data_is_reencoded_and_numbers_become_text() {
        let c = payload(
            Section::Clusters,
            &json!({"server": 8080, "certificate-authority-data": "Q0\nEK"}),
        );
        assert_eq!(c["server"], "8080");
        assert_eq!(c["certificate-authority-data"], "Q0EK");
        let c = payload(
            Section::Clusters,
            &json!({"certificate-authority-data": ""}),
        );
        assert!(!c.contains_key("certificate-authority-data"));
    }
}
