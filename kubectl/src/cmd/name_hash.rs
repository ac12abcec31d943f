//! `--append-hash`: the suffix upstream adds to a ConfigMap's or Secret's name so that a
//! change of content is a new name (and a rollout of what mounts it): the first ten hex
//! digits of a SHA-256 over the object's kind, name, type and data, with the characters
//! that could spell words swapped out.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// `--append-hash`: the object's name followed by `-` and the hash of its content.
pub fn append_to_name(obj: &mut Value) {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let hashed = format!("{name}-{}", suffix(obj));
    obj["metadata"]["name"] = Value::String(hashed);
}

/// The suffix for `obj`, a ConfigMap or Secret as the generator made it.
pub fn suffix(obj: &Value) -> String {
    let name = obj["metadata"]["name"].clone();
    let data = if obj["data"].is_object() {
        obj["data"].clone()
    } else {
        Value::Null
    };
    // The fields upstream encodes, as Go's json.Marshal of a map writes them: keys sorted.
    let encoded = match obj["kind"].as_str() {
        Some("Secret") => json!({
            "data": data,
            "kind": "Secret",
            "name": name,
            "type": obj["type"].as_str().unwrap_or(""),
        }),
        _ => {
            let mut m = json!({"data": data, "kind": "ConfigMap", "name": name});
            if obj["binaryData"].as_object().is_some_and(|b| !b.is_empty()) {
                m["binaryData"] = obj["binaryData"].clone();
            }
            m
        }
    };
    // The hash is over Go's bytes, which escape what serde_json leaves as it is.
    let text = crate::printers::json::go_escape(&encoded.to_string());
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..10]
        .chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_match_upstreams() {
        // Both made by kubectl 1.32's `create … --from-literal=a=1 --append-hash`.
        let cm = json!({"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "1"}});
        assert_eq!(suffix(&cm), "m8mt92gg65");
        let secret = json!({"kind": "Secret", "metadata": {"name": "x"}, "data": {"a": "MQ=="}});
        assert_eq!(suffix(&secret), "hbhk6tkb4h");
    }
}
