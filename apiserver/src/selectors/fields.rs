//! Field selectors: `metadata.name=x,status.phase!=Running`. Only equality and inequality, as
//! upstream; which fields are allowed depends on the resource (its strategy's field labels).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
struct Term {
    field: String,
    value: String,
    negate: bool,
}

/// A parsed field selector; empty matches everything.
#[derive(Debug, Clone, Default)]
pub struct FieldSelector {
    terms: Vec<Term>,
    /// When set, field values are read as the resource's strategy reads them (some labels are
    /// not plain paths, and unset booleans read as "false").
    resource: Option<&'static api_types::catalog::ResourceInfo>,
}

/// A selector that does not parse or names an unsupported field.
#[derive(Debug, thiserror::Error)]
pub enum FieldSelectorError {
    #[error("invalid selector: '{0}'; can't understand '{1}'")]
    Syntax(String, String),
    #[error("field label not supported: {0}")]
    Unsupported(String),
}

impl FieldSelector {
    /// Parse and check every field against `allowed` (plus metadata.name/namespace).
    pub fn parse(s: &str, allowed: &[&str]) -> Result<Self, FieldSelectorError> {
        let mut terms = Vec::new();
        if s.trim().is_empty() {
            return Ok(Self::default());
        }
        for part in s.split(',') {
            let p = part.trim();
            let (field, value, negate) = if let Some((f, v)) = p.split_once("!=") {
                (f, v, true)
            } else if let Some((f, v)) = p.split_once("==") {
                (f, v, false)
            } else if let Some((f, v)) = p.split_once('=') {
                (f, v, false)
            } else {
                return Err(FieldSelectorError::Syntax(s.to_string(), p.to_string()));
            };
            let field = field.trim();
            if field != "metadata.name"
                && field != "metadata.namespace"
                && !allowed.contains(&field)
            {
                return Err(FieldSelectorError::Unsupported(field.to_string()));
            }
            terms.push(Term {
                field: field.to_string(),
                value: value.trim().to_string(),
                negate,
            });
        }
        Ok(Self {
            terms,
            resource: None,
        })
    }

    /// Parse with the field labels the resource supports, reading values its way.
    pub fn parse_for(
        s: &str,
        res: &'static api_types::catalog::ResourceInfo,
    ) -> Result<Self, FieldSelectorError> {
        let strategy = crate::registry::strategies::for_resource(res);
        let mut sel = Self::parse(s, strategy.field_labels())?;
        sel.resource = Some(res);
        Ok(sel)
    }

    /// Whether the selector has no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The value of `metadata.name=` if the selector pins one name (lets a list read one key).
    pub fn exact_name(&self) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.field == "metadata.name" && !t.negate)
            .map(|t| t.value.as_str())
    }

    /// Match an object. Missing fields compare as "" (as upstream's field sets do); booleans
    /// and numbers compare by their string form.
    pub fn matches(&self, obj: &Value) -> bool {
        self.terms.iter().all(|t| {
            if let Some(res) = self.resource {
                let actual = crate::registry::strategies::field_value(res, obj, &t.field)
                    .unwrap_or_default();
                return (actual == t.value) != t.negate;
            }
            let mut cur = obj;
            let mut found = true;
            for seg in t.field.split('.') {
                match cur.get(seg) {
                    Some(v) => cur = v,
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            let actual = if !found {
                String::new()
            } else {
                match cur {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                }
            };
            (actual == t.value) != t.negate
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_nested_fields() {
        let s = FieldSelector::parse(
            "status.phase=Running,spec.nodeName!=n1",
            &["status.phase", "spec.nodeName"],
        )
        .expect("ok");
        assert!(s.matches(&json!({"status": {"phase": "Running"}, "spec": {"nodeName": "n2"}})));
        assert!(!s.matches(&json!({"status": {"phase": "Running"}, "spec": {"nodeName": "n1"}})));
        let empty = FieldSelector::parse("spec.nodeName=", &["spec.nodeName"]).expect("ok");
        assert!(empty.matches(&json!({"spec": {}})));
    }

    #[test]
    fn unsupported_field_is_rejected() {
        let e = FieldSelector::parse("spec.foo=bar", &[]).expect_err("unsupported");
        assert_eq!(e.to_string(), "field label not supported: spec.foo");
    }
}
