//! YAML output in the exact shape upstream kubectl prints.
//!
//! Upstream converts objects to JSON and then to YAML through sigs.k8s.io/yaml (go-yaml v2),
//! so keys come out sorted, sequences are not indented under their key, strings that would
//! read back as another type (numbers, booleans, timestamps, "") are double-quoted, strings
//! that cannot be plain are single-quoted, multi-line strings become literal blocks, and long
//! plain strings are folded at 80 columns. serde_yaml formats differently, so this is a small
//! emitter of its own.

use serde_json::Value;

const BEST_WIDTH: usize = 80;

/// Serializes a JSON value as go-yaml v2 would (always ends with a newline).
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        _ => {
            write_inline(&mut out, v, 0);
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

/// Writes `key: value` lines for a mapping whose keys start at column `ind`. The first key is
/// written at the current position (the caller already indented it).
fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, ind: usize) {
    let mut first = true;
    for (k, v) in m {
        if !first {
            indent(out, ind);
        }
        first = false;
        write_scalar_str(out, k, ind);
        out.push(':');
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                indent(out, ind + 2);
                write_map(out, inner, ind + 2);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                indent(out, ind);
                write_seq(out, items, ind);
            }
            _ => {
                out.push(' ');
                write_inline(out, v, ind + 2);
                out.push('\n');
            }
        }
    }
}

/// Writes `- item` lines for a sequence whose dashes sit at column `ind`; the first dash at the
/// current position.
fn write_seq(out: &mut String, items: &[Value], ind: usize) {
    let mut first = true;
    for v in items {
        if !first {
            indent(out, ind);
        }
        first = false;
        out.push_str("- ");
        match v {
            Value::Object(inner) if !inner.is_empty() => write_map(out, inner, ind + 2),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, ind + 2),
            _ => {
                write_inline(out, v, ind + 2);
                out.push('\n');
            }
        }
    }
}

/// A scalar or empty collection at the current position. `ind` is the indentation that
/// continuation lines (folded strings, literal blocks) use.
fn write_inline(out: &mut String, v: &Value, ind: usize) {
    debug_assert!(!is_block(v));
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&format_number(n)),
        Value::String(s) => write_scalar_str(out, s, ind),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn format_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 1e21 {
        // Go's 'g' formatting of a whole float64 prints no decimal point below 1e21.
        return format!("{}", f as i64);
    }
    n.to_string()
}

fn write_scalar_str(out: &mut String, s: &str, ind: usize) {
    let col = out.len() - out.rfind('\n').map(|i| i + 1).unwrap_or(0);
    if s.contains('\n') && literal_allowed(s) {
        write_literal(out, s, ind);
    } else if s.contains('\n') || resolves_to_non_string(s) || !printable(s) {
        write_double_quoted(out, s);
    } else if plain_allowed(s) {
        write_folded(out, s, ind, col, false);
    } else {
        out.push('\'');
        write_folded(out, &s.replace('\'', "''"), ind, col + 1, true);
        out.push('\'');
    }
}

/// Go-yaml folds plain and single-quoted scalars at a space once past column 80.
fn write_folded(out: &mut String, s: &str, ind: usize, mut col: usize, _quoted: bool) {
    let chars: Vec<char> = s.chars().collect();
    let mut prev_space = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let next_is_space = chars.get(i + 1) == Some(&' ');
            if !prev_space && col > BEST_WIDTH && !next_is_space && i + 1 < chars.len() && i > 0 {
                out.push('\n');
                indent(out, ind);
                col = ind;
                prev_space = true;
                continue;
            }
            prev_space = true;
        } else {
            prev_space = false;
        }
        out.push(c);
        col += 1;
    }
}

fn literal_allowed(s: &str) -> bool {
    // libyaml refuses block scalars for text with leading spaces, trailing spaces before a
    // line break, or non-printable characters; those become double-quoted.
    if s.starts_with(' ') || !printable(s) {
        return false;
    }
    !s.split('\n')
        .any(|line| line.ends_with(' ') || line.ends_with('\t'))
        && !s.contains('\r')
}

fn write_literal(out: &mut String, s: &str, ind: usize) {
    out.push('|');
    let trailing = s.len() - s.trim_end_matches('\n').len();
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    let body = if trailing == 1 { &s[..s.len() - 1] } else { s };
    let body = if trailing > 1 {
        body.strip_suffix('\n').unwrap_or(body)
    } else {
        body
    };
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            indent(out, ind);
            out.push_str(line);
        }
    }
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn printable(s: &str) -> bool {
    s.chars()
        .all(|c| c == '\n' || c == '\t' || (c >= ' ' && c != '\u{7f}' && c != '\u{feff}'))
}

/// Whether go-yaml v2 would read the plain scalar back as something other than a string.
fn resolves_to_non_string(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];
    if SPECIAL.contains(&s) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if !(first.is_ascii_digit() || matches!(first, '+' | '-' | '.')) {
        return false;
    }
    is_yaml_number(s) || is_timestamp(s)
}

fn is_yaml_number(s: &str) -> bool {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    let (sign, body) = match plain.strip_prefix(['+', '-']) {
        Some(rest) => (true, rest),
        None => (false, plain.as_str()),
    };
    let _ = sign;
    if body.is_empty() {
        return false;
    }
    if let Some(h) = body.strip_prefix("0x") {
        return !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(b) = body.strip_prefix("0b") {
        return !b.is_empty() && b.chars().all(|c| c == '0' || c == '1');
    }
    if let Some(o) = body.strip_prefix("0o") {
        return !o.is_empty() && o.chars().all(|c| ('0'..='7').contains(&c));
    }
    if body.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    // Go's ParseFloat: digits with optional '.', optional exponent; also "inf"/"nan" words.
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return true;
    }
    let (mant, exp) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (lower.as_str(), None),
    };
    let mant_ok = {
        let (a, b) = mant.split_once('.').unwrap_or((mant, ""));
        (!a.is_empty() || !b.is_empty())
            && a.chars().all(|c| c.is_ascii_digit())
            && b.chars().all(|c| c.is_ascii_digit())
            && mant.matches('.').count() <= 1
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mant_ok && exp_ok
}

fn is_timestamp(s: &str) -> bool {
    // go-yaml v2 accepts "2006-1-2", "2006-1-2T15:4:5.999999999Z07:00", "2006-1-2 15:4:5.999999999" …
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
        || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").is_ok()
        || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

/// libyaml's test for whether a scalar may be written plain in block context.
fn plain_allowed(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with(' ') || s.ends_with(' ') || s.starts_with('\t') || s.ends_with('\t') {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    let second = s.chars().nth(1);
    let followed_by_blank = second.is_none_or(|c| c == ' ' || c == '\t');
    match first {
        '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
        | '@' | '`' => return false,
        '-' | '?' | ':' if followed_by_blank => return false,
        _ => {}
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.contains(":\t") {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_go_yaml_layout() {
        let v = json!({
            "metadata": {"name": "x", "labels": {"app": "web"}, "creationTimestamp": "2024-01-02T03:04:05Z",
                         "resourceVersion": "12", "annotations": {}},
            "spec": {"containers": [{"name": "c", "args": ["a", "b"], "ports": []}], "replicas": 3,
                     "paused": false, "x": null},
            "apiVersion": "v1",
        });
        let want = "apiVersion: v1\nmetadata:\n  annotations: {}\n  creationTimestamp: \"2024-01-02T03:04:05Z\"\n  labels:\n    app: web\n  name: x\n  resourceVersion: \"12\"\nspec:\n  containers:\n  - args:\n    - a\n    - b\n    name: c\n    ports: []\n  paused: false\n  replicas: 3\n  x: null\n";
        assert_eq!(to_yaml(&v), want);
    }

    #[test]
    fn quoting_rules() {
        let y = |s: &str| to_yaml(&json!({ "k": s }));
        assert_eq!(y(""), "k: \"\"\n");
        assert_eq!(y("yes"), "k: \"yes\"\n");
        assert_eq!(y("0x1F"), "k: \"0x1F\"\n");
        assert_eq!(y("1.5e3"), "k: \"1.5e3\"\n");
        assert_eq!(y("1.2.3"), "k: 1.2.3\n");
        assert_eq!(y("*"), "k: '*'\n");
        assert_eq!(y("a: b"), "k: 'a: b'\n");
        assert_eq!(y("it's"), "k: it's\n");
        assert_eq!(y("- x"), "k: '- x'\n");
        assert_eq!(y("a\nb\n"), "k: |\n  a\n  b\n");
        assert_eq!(y("a\nb"), "k: |-\n  a\n  b\n");
        assert_eq!(y("a \nb"), "k: \"a \\nb\"\n");
    }

    #[test]
    fn long_plain_strings_fold_at_80_columns() {
        let words = vec!["word"; 30].join(" ");
        let out = to_yaml(&json!({ "description": words }));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1, "{out}");
        assert!(lines[1].starts_with("  word"));
        // Reading it back gives the same string.
        let back: Value = serde_yaml::from_str(&out).unwrap();
        assert_eq!(back["description"], json!(words));
    }
}
