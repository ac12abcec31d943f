//! The `KEY=VALUE` / `KEY-` words of `label` and `annotate`, and the merge patch they make
//! of one object's map.

use serde_json::{json, Map, Value};

use super::Kind;
use crate::error::{KubectlError, Result};

/// A parsed change list.
#[derive(Debug, PartialEq)]
pub struct Changes {
    /// Keys to set.
    pub set: Vec<(String, String)>,
    /// Keys to remove.
    pub remove: Vec<String>,
}

/// Splits arguments into object words and `KEY=VALUE`/`KEY-` changes.
pub fn split_args(args: &[String]) -> (Vec<String>, Changes) {
    let mut objects = Vec::new();
    let mut set = Vec::new();
    let mut remove = Vec::new();
    for a in args {
        if let Some((k, v)) = a.split_once('=') {
            set.push((k.to_string(), v.to_string()));
        } else if let Some(k) = a.strip_suffix('-').filter(|_| !objects.is_empty()) {
            remove.push(k.to_string());
        } else {
            objects.push(a.clone());
        }
    }
    (objects, Changes { set, remove })
}

/// `label`'s own checks of its `KEY=VALUE` words, made before anything is read, with
/// upstream's wording: one `=` only, and a value that can be a label value (`annotate`
/// takes any value).
pub fn check_label_words(changes: &Changes) -> Result<()> {
    for (key, value) in &changes.set {
        let spec = format!("{key}={value}");
        if value.contains('=') {
            return Err(KubectlError::usage(format!("invalid label spec: {spec}")));
        }
        // Upstream's label joins the messages with a bare `;`.
        let why = crate::validation::label_value_errors(value);
        if !why.is_empty() {
            return Err(KubectlError::usage(format!(
                "invalid label value: {}: {}",
                crate::printers::go_template::go_quote(&spec),
                why.join(";")
            )));
        }
    }
    Ok(())
}

/// The merge patch for one object, or an error when a value would change without
/// `--overwrite`. `None` when nothing changes.
pub fn patch_for(
    current: &Map<String, Value>,
    c: &Changes,
    overwrite: bool,
    kind: Kind,
) -> Result<Option<Value>> {
    let mut patch = Map::new();
    for (k, v) in &c.set {
        match current.get(k).and_then(Value::as_str) {
            Some(old) if old == v => {}
            Some(old) if !overwrite => {
                return Err(KubectlError::usage(format!(
                    "'{k}' already has a value ({old}), and --overwrite is false"
                )))
            }
            _ => {
                patch.insert(k.clone(), json!(v));
            }
        }
    }
    for k in &c.remove {
        if current.contains_key(k) {
            patch.insert(k.clone(), Value::Null);
        } else if matches!(kind, Kind::Label) {
            eprintln!("label \"{k}\" not found.");
        }
    }
    Ok((!patch.is_empty()).then(|| json!({"metadata": {kind.field(): patch}})))
}

/// Whether applying a merge patch to a string map makes its JSON shorter.
pub fn shrinks(current: &Map<String, Value>, patch: &Value) -> bool {
    let mut after = current.clone();
    for (k, v) in patch.as_object().into_iter().flatten() {
        if v.is_null() {
            after.remove(k);
        } else {
            after.insert(k.clone(), v.clone());
        }
    }
    Value::Object(after).to_string().len() < Value::Object(current.clone()).to_string().len()
}

/// `patch` (a merge patch of metadata) applied to `obj`, as the server would apply it.
pub fn apply_locally(obj: &Value, patch: &Value, kind: Kind) -> Value {
    let mut after = obj.clone();
    let field = kind.field();
    if !after["metadata"][field].is_object() {
        after["metadata"][field] = json!({});
    }
    for (k, v) in patch["metadata"][field].as_object().into_iter().flatten() {
        if let Some(map) = after["metadata"][field].as_object_mut() {
            if v.is_null() {
                map.remove(k);
            } else {
                map.insert(k.clone(), v.clone());
            }
        }
    }
    if after["metadata"][field]
        .as_object()
        .is_some_and(Map::is_empty)
    {
        if let Some(meta) = after["metadata"].as_object_mut() {
            meta.remove(field);
        }
    }
    after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn splits_objects_and_changes() {
        let (o, c) = split_args(&s(&["pods", "web", "app=x", "old-"]));
        assert_eq!(o, ["pods", "web"]);
        assert_eq!(c.set, vec![("app".to_string(), "x".to_string())]);
        assert_eq!(c.remove, ["old"]);
    }

    #[test]
    fn overwrite_rules() {
        let mut cur = Map::new();
        cur.insert("app".into(), json!("a"));
        let c = Changes {
            set: vec![("app".into(), "b".into())],
            remove: vec![],
        };
        assert_eq!(
            patch_for(&cur, &c, false, Kind::Label)
                .unwrap_err()
                .to_string(),
            "error: 'app' already has a value (a), and --overwrite is false"
        );
        assert_eq!(
            patch_for(&cur, &c, true, Kind::Label).unwrap(),
            Some(json!({"metadata": {"labels": {"app": "b"}}}))
        );
        let same = Changes {
            set: vec![("app".into(), "a".into())],
            remove: vec![],
        };
        assert_eq!(patch_for(&cur, &same, false, Kind::Label).unwrap(), None);
        let rm = Changes {
            set: vec![],
            remove: vec!["app".into()],
        };
        assert_eq!(
            patch_for(&cur, &rm, false, Kind::Annotate).unwrap(),
            Some(json!({"metadata": {"annotations": {"app": null}}}))
        );
    }

    #[test]
    fn label_words_are_checked_as_upstream_checks_them() {
        let (_, ok) = split_args(&s(&["cm", "x", "app=web", "tier=", "old-"]));
        assert!(check_label_words(&ok).is_ok());
        let (_, two) = split_args(&s(&["cm", "x", "a=b=c"]));
        assert_eq!(
            check_label_words(&two).unwrap_err().to_string(),
            "error: invalid label spec: a=b=c"
        );
        let (_, bad) = split_args(&s(&["cm", "x", "x=not valid"]));
        let text = check_label_words(&bad).unwrap_err().to_string();
        assert!(
            text.starts_with("error: invalid label value: \"x=not valid\": a valid label must be"),
            "{text}"
        );
    }
}
