//! A cached object: its JSON tree (for selectors, tables, conversion) and its serialized
//! bytes, produced once, so that a LIST or a watch event copies bytes instead of
//! serializing the same object again for every client.

use std::sync::OnceLock;

use bytes::Bytes;
use serde_json::Value;

/// One object as the cache and lists hold it.
#[derive(Debug)]
pub struct Object {
    value: Value,
    json: OnceLock<Bytes>,
}

impl Object {
    /// Wrap a value; its bytes are produced on first use.
    pub fn new(value: Value) -> Self {
        Self {
            value,
            json: OnceLock::new(),
        }
    }

    /// Wrap a value and serialize it now (the watch cache does this off the request path).
    pub fn serialized(value: Value) -> Self {
        let o = Self::new(value);
        o.json();
        o
    }

    /// The JSON tree.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The serialized JSON.
    pub fn json(&self) -> &Bytes {
        self.json
            .get_or_init(|| Bytes::from(serde_json::to_vec(&self.value).unwrap_or_default()))
    }

    /// Take the tree out.
    pub fn into_value(self) -> Value {
        self.value
    }
}

impl std::ops::Deref for Object {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_match_the_tree() {
        let o = Object::serialized(serde_json::json!({"a": [1, "x"]}));
        assert_eq!(o.json().as_ref(), br#"{"a":[1,"x"]}"#);
        assert_eq!(o["a"][1], "x");
    }
}
