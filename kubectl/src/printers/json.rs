//! JSON output as upstream prints it: Go's `json.MarshalIndent` with four spaces, keys sorted
//! (objects are maps on the Go side) and `<`, `>`, `&` escaped as Go's encoder does.

use serde::Serialize;
use serde_json::Value;

/// Serializes like `json.MarshalIndent(v, "", "    ")`, plus the newline kubectl adds.
pub fn to_json(v: &Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    // Serializing a Value into a Vec cannot fail.
    let _ = v.serialize(&mut ser);
    let mut s = go_escape(&String::from_utf8_lossy(&buf));
    s.push('\n');
    s
}

/// Like [`to_json`] but with object keys in a given order (Go structs print their fields in
/// declaration order): keys by `rank`, unknown keys (rank `usize::MAX`) sorted after them.
pub fn to_json_ordered(v: &Value, rank: &dyn Fn(&str) -> usize) -> String {
    let mut out = String::new();
    write_ordered(&mut out, v, rank, 0);
    out.push('\n');
    go_escape(&out)
}

fn write_ordered(out: &mut String, v: &Value, rank: &dyn Fn(&str) -> usize, depth: usize) {
    let pad = |n: usize| "    ".repeat(n);
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push_str(": ");
                write_ordered(out, &m[k.as_str()], rank, depth + 1);
                if i + 1 < keys.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                write_ordered(out, x, rank, depth + 1);
                if i + 1 < a.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Go's encoder escapes HTML-significant characters and the JS line separators. They can only
/// occur inside string literals, so a textual replacement is exact.
pub fn go_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ordered_keys_follow_rank_then_name() {
        let v = json!({"b": 1, "a": {"z": [], "y": 2}, "kind": "X"});
        let rank = |k: &str| if k == "kind" { 0 } else { usize::MAX };
        assert_eq!(
            to_json_ordered(&v, &rank),
            "{\n    \"kind\": \"X\",\n    \"a\": {\n        \"y\": 2,\n        \"z\": []\n    },\n    \"b\": 1\n}\n"
        );
    }

    #[test]
    fn four_space_indent_sorted_keys_and_go_escapes() {
        let v = json!({"b": [1, {}], "a": "<x&y>", "c": []});
        assert_eq!(
            to_json(&v),
            "{\n    \"a\": \"\\u003cx\\u0026y\\u003e\",\n    \"b\": [\n        1,\n        {}\n    ],\n    \"c\": []\n}\n"
        );
    }
}
