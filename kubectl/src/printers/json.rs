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
    fn four_space_indent_sorted_keys_and_go_escapes() {
        let v = json!({"b": [1, {}], "a": "<x&y>", "c": []});
        assert_eq!(
            to_json(&v),
            "{\n    \"a\": \"\\u003cx\\u0026y\\u003e\",\n    \"b\": [\n        1,\n        {}\n    ],\n    \"c\": []\n}\n"
        );
    }
}
