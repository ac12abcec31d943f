//! `-l` applied on this side: objects named by `-f` are read one by one, so upstream filters
//! what it read by their labels itself instead of asking the server to. The selector syntax
//! is apimachinery's: `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`,
//! `k>1`, `k<1`, joined by commas.

use serde_json::{Map, Value};

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Exists(String),
    DoesNotExist(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// A parsed label selector; every requirement must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector(Vec<Requirement>);

impl Selector {
    /// Parses a selector; the error is upstream's `the provided selector … is not valid`.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_requirements(text)
            .map(Selector)
            .map_err(|why| format!("the provided selector {text:?} is not valid: {why}"))
    }

    /// Whether labels `labels` (None: the object has none) satisfy every requirement.
    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
            Requirement::In(k, vals) => get(k).is_some_and(|v| vals.iter().any(|x| x == v)),
            Requirement::NotIn(k, vals) => get(k).is_none_or(|v| vals.iter().all(|x| x != v)),
            Requirement::GreaterThan(k, n) => get(k)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            Requirement::LessThan(k, n) => get(k)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        })
    }
}

/// Splits on the commas that are not inside a `( … )` value set.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_requirements(text: &str) -> Result<Vec<Requirement>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    split_top_level(text)
        .into_iter()
        .map(|part| parse_requirement(part.trim()))
        .collect()
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if part.is_empty() {
        return Err("found '', expected: !, identifier, or 'end of string'".into());
    }
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(key.trim().to_string()));
    }
    for (op, make) in [
        (
            "!=",
            Requirement::NotIn as fn(String, Vec<String>) -> Requirement,
        ),
        ("==", Requirement::In),
        ("=", Requirement::In),
    ] {
        if let Some((k, v)) = part.split_once(op) {
            return Ok(make(k.trim().to_string(), vec![v.trim().to_string()]));
        }
    }
    for (op, greater) in [(">", true), ("<", false)] {
        if let Some((k, v)) = part.split_once(op) {
            let n: i64 = v.trim().parse().map_err(|_| {
                "for 'Gt', 'Lt' operators, the value must be an integer".to_string()
            })?;
            let k = k.trim().to_string();
            return Ok(if greater {
                Requirement::GreaterThan(k, n)
            } else {
                Requirement::LessThan(k, n)
            });
        }
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if let [key, rest] = words.as_slice() {
        let rest = rest.trim();
        let (negated, set) = if let Some(s) = rest.strip_prefix("notin") {
            (true, s)
        } else if let Some(s) = rest.strip_prefix("in") {
            (false, s)
        } else {
            return Err(format!(
                "unable to parse requirement: found '{rest}', expected: in, notin, =, ==, !=, gt, lt"
            ));
        };
        let values = set
            .trim()
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(|| format!("found '{}', expected: '('", set.trim()))?
            .split(',')
            .map(|v| v.trim().to_string())
            .collect();
        let key = key.to_string();
        return Ok(if negated {
            Requirement::NotIn(key, values)
        } else {
            Requirement::In(key, values)
        });
    }
    Ok(Requirement::Exists(part.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn matches(selector: &str, labels: Value) -> bool {
        Selector::parse(selector)
            .unwrap()
            .matches(labels.as_object())
    }

    #[test]
    fn equality_and_existence() {
        let l = json!({"app": "web", "tier": "fe"});
        assert!(matches("app=web", l.clone()));
        assert!(matches("app==web,tier", l.clone()));
        assert!(!matches("app=db", l.clone()));
        assert!(matches("app!=db", l.clone()));
        assert!(!matches("!app", l.clone()));
        assert!(matches("!nope", l.clone()));
        assert!(matches("", l));
    }

    #[test]
    fn sets_and_numbers() {
        let l = json!({"env": "prod", "n": "5"});
        assert!(matches("env in (dev, prod)", l.clone()));
        assert!(!matches("env notin (dev,prod)", l.clone()));
        assert!(matches("n>3,n<9", l.clone()));
        assert!(!matches("n>5", l));
    }

    #[test]
    fn objects_without_labels_match_only_negations() {
        assert!(!matches("app=web", Value::Null));
        assert!(matches("app!=web", Value::Null));
        assert!(matches("!app", Value::Null));
        assert!(matches("app notin (web)", Value::Null));
    }

    #[test]
    fn bad_selectors_are_refused() {
        assert!(Selector::parse("n>x")
            .unwrap_err()
            .starts_with("the provided selector \"n>x\" is not valid: "));
        assert!(Selector::parse("a b").is_err());
    }
}
