//! `-l` applied on this side: objects named by `-f` are read one by one, so upstream filters
//! what it read by their labels itself instead of asking the server to. The selector is
//! apimachinery's ([`crate::label_selector`]); this adds the wording kubectl wraps its
//! errors in.

use serde_json::{Map, Value};

use crate::label_selector;

/// A parsed label selector; every requirement must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector(label_selector::Selector);

impl Selector {
    /// Parses a selector; the error is upstream's `the provided selector … is not valid`.
    pub fn parse(text: &str) -> Result<Self, String> {
        label_selector::Selector::parse(text)
            .map(Selector)
            .map_err(|why| format!("the provided selector {text:?} is not valid: {why}"))
    }

    /// Whether labels `labels` (None: the object has none) satisfy every requirement.
    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        self.0.matches(labels)
    }
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
