//! The describer for kinds without one of their own: name, namespace, labels, annotations,
//! then every other field sorted by name with "smart" labels (`apiVersion` → `API Version`).

use serde_json::{Map, Value};

use super::format::{self as f, s};
use crate::printers::tabbed::PrefixWriter;

/// Fields already shown in the header (or never shown).
const SKIP: [&str; 5] = [
    ".metadata.managedFields",
    ".metadata.name",
    ".metadata.namespace",
    ".metadata.labels",
    ".metadata.annotations",
];

/// `kubectl describe` of any other kind.
pub fn describe_generic(obj: &Value, events: Option<&[Value]>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(obj, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(obj, "/metadata/namespace")),
    );
    f::labels(&mut w, "Labels", f::map(obj, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(obj, "/metadata/annotations"));
    if let Some(m) = obj.as_object() {
        content(&mut w, 0, m, "");
    }
    f::events(&mut w, events);
    w.finish()
}

fn content(w: &mut PrefixWriter, level: usize, m: &Map<String, Value>, prefix: &str) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    for k in keys {
        let path = format!("{prefix}.{k}");
        if SKIP.contains(&path.as_str()) {
            continue;
        }
        match &m[k] {
            Value::Object(child) => {
                w.write(level, &format!("{}:\n", smart_label(k)));
                content(w, level + 1, child, &path);
            }
            Value::Array(items) => {
                w.write(level, &format!("{}:\n", smart_label(k)));
                for item in items {
                    match item {
                        Value::Object(child) => content(w, level + 1, child, &path),
                        other => w.write(level + 1, &format!("{}\n", go_value(other))),
                    }
                }
            }
            other => w.write(
                level,
                &format!("{}:\t{}\n", smart_label(k), go_value(other)),
            ),
        }
    }
}

/// Go's `%v` of a decoded JSON value (numbers are float64 there).
fn go_value(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 1e21 => {
                if x.abs() >= 1e21 {
                    format!("{x:e}")
                } else {
                    format!("{}", x as i128)
                }
            }
            Some(x) => format!("{x}"),
            None => n.to_string(),
        },
        other => f::scalar(other),
    }
}

/// Splits camelCase into words (`apiVersion` → `api`, `Version`; `HTTPServer` → `HTTP`,
/// `Server`) the way `fatih/camelcase` does for letter-only names.
fn camel_split(field: &str) -> Vec<String> {
    let chars: Vec<char> = field.chars().collect();
    let mut runs: Vec<String> = Vec::new();
    let class = |c: char| {
        if c.is_lowercase() {
            0
        } else if c.is_uppercase() {
            1
        } else {
            2
        }
    };
    for &c in &chars {
        match runs.last_mut() {
            Some(last) if last.chars().last().map(class) == Some(class(c)) => last.push(c),
            _ => runs.push(c.to_string()),
        }
    }
    // An upper-case run followed by a lower-case run gives its last letter to the next word.
    for n in 0..runs.len().saturating_sub(1) {
        let upper = runs[n].chars().all(char::is_uppercase);
        let next_lower = runs[n + 1].chars().all(char::is_lowercase);
        if upper && next_lower {
            if let Some(c) = runs[n].pop() {
                runs[n + 1].insert(0, c);
            }
        }
    }
    runs.into_iter().filter(|r| !r.is_empty()).collect()
}

/// Upstream's `smartLabelFor`: Title Case words, common acronyms upper-cased; names with
/// characters other than letters and `-` are printed as they are.
pub fn smart_label(field: &str) -> String {
    if field.chars().any(|c| !c.is_alphabetic() && c != '-') {
        return field.to_string();
    }
    const ACRONYMS: [&str; 5] = ["API", "URL", "UID", "OSB", "GUID"];
    camel_split(field)
        .into_iter()
        .filter(|p| p != "_")
        .map(|p| {
            let upper = p.to_uppercase();
            if ACRONYMS.contains(&upper.as_str()) {
                upper
            } else {
                let mut c = p.chars();
                match c.next() {
                    Some(first) => first.to_uppercase().chain(c).collect(),
                    None => p,
                }
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn smart_labels() {
        assert_eq!(smart_label("apiVersion"), "API Version");
        assert_eq!(smart_label("creationTimestamp"), "Creation Timestamp");
        assert_eq!(smart_label("uid"), "UID");
        assert_eq!(smart_label("HTTPServer"), "HTTP Server");
        assert_eq!(smart_label("ipv4"), "ipv4");
        assert_eq!(smart_label("kind"), "Kind");
    }

    #[test]
    fn generic_layout_nests_and_skips_header_fields() {
        let obj = json!({"apiVersion": "v1", "kind": "PodTemplate",
                         "metadata": {"name": "t", "namespace": "n", "uid": "u1", "managedFields": [{}]},
                         "template": {"spec": {"containers": [{"name": "c", "args": ["a", "b"]}]}}});
        assert_eq!(
            describe_generic(&obj, None),
            "Name:         t\nNamespace:    n\nLabels:       <none>\nAnnotations:  <none>\nAPI Version:  v1\nKind:         PodTemplate\nMetadata:\n  UID:  u1\nTemplate:\n  Spec:\n    Containers:\n      Args:\n        a\n        b\n      Name:  c\n"
        );
    }
}
