//! Template values and their Go `fmt` forms: kubectl hands the template the object as
//! unstructured JSON, so integers are int64, other numbers float64, objects
//! `map[string]interface{}`.

use serde_json::{Map, Value};

/// A value during execution.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// No value (a missing map key): prints `<no value>`.
    Missing,
    /// A nil interface (JSON null, `nil`).
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer; `literal` marks template constants (Go `int`) against data (`int64`).
    Int(i64, bool),
    /// A float64.
    Float(f64),
    /// A string.
    Str(String),
    /// A JSON array.
    Array(Vec<Value>),
    /// A JSON object.
    Map(Map<String, Value>),
}

impl Val {
    /// The template form of a JSON value.
    pub fn from_json(v: &Value) -> Val {
        match v {
            Value::Null => Val::Nil,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Val::Int(i, false),
                (None, Some(u)) => Val::Int(u as i64, false),
                _ => Val::Float(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => Val::Str(s.clone()),
            Value::Array(a) => Val::Array(a.clone()),
            Value::Object(m) => Val::Map(m.clone()),
        }
    }

    /// Go's truth: false, 0, "", empty collections, nil and no value are false.
    pub fn truth(&self) -> bool {
        match self {
            Val::Missing | Val::Nil => false,
            Val::Bool(b) => *b,
            Val::Int(i, _) => *i != 0,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::Array(a) => !a.is_empty(),
            Val::Map(m) => !m.is_empty(),
        }
    }

    /// The Go type name used in messages (`%!d(string=x)`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Missing | Val::Nil => "<nil>",
            Val::Bool(_) => "bool",
            Val::Int(_, true) => "int",
            Val::Int(_, false) => "int64",
            Val::Float(_) => "float64",
            Val::Str(_) => "string",
            Val::Array(_) => "[]interface {}",
            Val::Map(_) => "map[string]interface {}",
        }
    }

    /// `fmt.Sprint` / `%v`.
    pub fn to_go_string(&self) -> String {
        match self {
            Val::Missing | Val::Nil => "<nil>".to_string(),
            Val::Bool(b) => b.to_string(),
            Val::Int(i, _) => i.to_string(),
            Val::Float(f) => go_float(*f),
            Val::Str(s) => s.clone(),
            Val::Array(a) => {
                let parts: Vec<String> =
                    a.iter().map(|v| Val::from_json(v).to_go_string()).collect();
                format!("[{}]", parts.join(" "))
            }
            Val::Map(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let parts: Vec<String> = keys
                    .into_iter()
                    .map(|k| format!("{k}:{}", Val::from_json(&m[k]).to_go_string()))
                    .collect();
                format!("map[{}]", parts.join(" "))
            }
        }
    }
}

/// Go's `%v` of a float64: shortest digits, `%e` form when the exponent is < -4 or >= 6
/// (strconv's shortest `'g'`).
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.234e6".
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_like_go() {
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(1234567.0), "1.234567e+06");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(0.0001), "0.0001");
    }

    #[test]
    fn maps_and_slices_print_like_fmt() {
        let v = Val::from_json(&json!({"b": [1, "x", null], "a": {"z": true}}));
        assert_eq!(v.to_go_string(), "map[a:map[z:true] b:[1 x <nil>]]");
        assert_eq!(go_quote("a\"b\n"), "\"a\\\"b\\n\"");
    }
}
