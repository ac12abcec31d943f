//! Label selectors: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma = AND.

use std::collections::BTreeMap;

use serde_json::Value;

/// One requirement.
#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    reqs: Vec<Requirement>,
}

/// A selector that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("unable to parse requirement: {0}")]
pub struct ParseError(pub String);

fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn check_key(k: &str) -> Result<String, ParseError> {
    let k = k.trim();
    if k.is_empty() || !api_types::names::qualified_name(k).is_empty() {
        return Err(ParseError(format!("invalid label key {k:?}")));
    }
    Ok(k.to_string())
}

fn check_value(v: &str) -> Result<String, ParseError> {
    let v = v.trim();
    if !api_types::names::label_value(v).is_empty() {
        return Err(ParseError(format!("invalid label value: {v:?}")));
    }
    Ok(v.to_string())
}

fn parse_set(rest: &str) -> Result<Vec<String>, ParseError> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| ParseError(format!("found '{rest}', expected: '('")))?;
    inner.split(',').map(check_value).collect()
}

impl LabelSelector {
    /// Parse the query-parameter form.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Self::default());
        }
        let mut reqs = Vec::new();
        for part in split_top_level(s) {
            let p = part.trim();
            if p.is_empty() {
                return Err(ParseError(format!(
                    "found '', expected: identifier in {s:?}"
                )));
            }
            let req = if let Some((k, v)) = p.split_once("!=") {
                Requirement::NotEquals(check_key(k)?, check_value(v)?)
            } else if let Some((k, v)) = p.split_once("==") {
                Requirement::Equals(check_key(k)?, check_value(v)?)
            } else if let Some((k, v)) = p.split_once('=') {
                Requirement::Equals(check_key(k)?, check_value(v)?)
            } else if let Some(k) = p.strip_prefix('!') {
                Requirement::NotExists(check_key(k)?)
            } else if let Some(idx) = p.find(" notin ") {
                Requirement::NotIn(check_key(&p[..idx])?, parse_set(&p[idx + 7..])?)
            } else if let Some(idx) = p.find(" in ") {
                Requirement::In(check_key(&p[..idx])?, parse_set(&p[idx + 4..])?)
            } else {
                Requirement::Exists(check_key(p)?)
            };
            reqs.push(req);
        }
        Ok(Self { reqs })
    }

    /// Build from a `metav1.LabelSelector` JSON object (matchLabels + matchExpressions).
    pub fn from_json(sel: &Value) -> Result<Self, ParseError> {
        let mut reqs = Vec::new();
        if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in m {
                reqs.push(Requirement::Equals(
                    k.clone(),
                    v.as_str().unwrap_or_default().to_string(),
                ));
            }
        }
        if let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) {
            for e in exprs {
                let key = e
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let values: Vec<String> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let op = e
                    .get("operator")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                reqs.push(match op {
                    "In" => Requirement::In(key, values),
                    "NotIn" => Requirement::NotIn(key, values),
                    "Exists" => Requirement::Exists(key),
                    "DoesNotExist" => Requirement::NotExists(key),
                    other => {
                        return Err(ParseError(format!(
                            "{other:?} is not a valid label selector operator"
                        )))
                    }
                });
            }
        }
        Ok(Self { reqs })
    }

    /// Whether the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Match a label map.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.reqs.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        })
    }

    /// Match an object's `metadata.labels`.
    pub fn matches_object(&self, obj: &Value) -> bool {
        if self.reqs.is_empty() {
            return true;
        }
        let labels: BTreeMap<String, String> = obj
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        self.matches(&labels)
    }

    /// The string form (`a=b,c in (d)`), as printed in `Scale.status.selector`.
    pub fn to_query(&self) -> String {
        self.reqs
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::NotExists(k) => format!("!{k}"),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn equality_and_sets() {
        let s = LabelSelector::parse("app=web,tier in (fe,be),!canary").expect("parses");
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "fe")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "fe"), ("canary", "1")])));
        let n = LabelSelector::parse("env notin (prod),app!=db").expect("parses");
        assert!(n.matches(&labels(&[])));
        assert!(!n.matches(&labels(&[("env", "prod")])));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(LabelSelector::parse("a b c").is_err());
        assert!(LabelSelector::parse("app in web").is_err());
        assert!(LabelSelector::parse("a=b,,c").is_err());
    }

    #[test]
    fn from_json_selector() {
        let s = LabelSelector::from_json(&serde_json::json!({"matchLabels": {"app": "x"}, "matchExpressions": [{"key": "t", "operator": "Exists"}]})).expect("ok");
        assert_eq!(s.to_query(), "app=x,t");
    }
}
