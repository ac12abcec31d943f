//! Joining two strategic patches into one, as a three-way patch joins its deletions (from
//! the last applied configuration) with its additions and changes (from the live object):
//! maps are joined key by key, merged lists item by item on their merge key, and the
//! directives (`$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`) are carried
//! over as they are.

use serde_json::{Map, Value};

use super::diff::{DELETE_FROM_PRIMITIVE_LIST, PATCH, RETAIN_KEYS, SET_ELEMENT_ORDER};
use super::schema::{Node, PatchSchema};
use super::StrategicError;

/// `first` with `second` joined into it.
pub fn join_patches(
    schema: &PatchSchema,
    node: Node<'_>,
    mut first: Map<String, Value>,
    mut second: Map<String, Value>,
) -> Result<Map<String, Value>, StrategicError> {
    match second.get(PATCH).and_then(Value::as_str) {
        Some("replace") => {
            second.remove(PATCH);
            return Ok(second);
        }
        Some("delete") => return Ok(Map::new()),
        Some(other) => return Err(StrategicError::BadPatchDirective(other.to_string())),
        None => {}
    }
    if let Some(retain) = second.remove(RETAIN_KEYS) {
        match first.get(RETAIN_KEYS) {
            Some(existing) if *existing != retain => {
                return Err(StrategicError::Inconsistent(RETAIN_KEYS))
            }
            Some(_) => {}
            None => {
                first.insert(RETAIN_KEYS.into(), retain);
            }
        }
    }
    let order_keys: Vec<String> = second
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for order_key in order_keys {
        let order = second.remove(&order_key).unwrap_or(Value::Null);
        match first.get(&order_key) {
            Some(existing) if *existing != order => {
                return Err(StrategicError::Inconsistent("$setElementOrder"))
            }
            Some(_) => {}
            None => {
                first.insert(order_key.clone(), order);
            }
        }
    }
    for (key, value) in second {
        if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            first.insert(key, value);
            continue;
        }
        let joined = match (first.remove(&key), value) {
            (Some(Value::Object(a)), Value::Object(b)) => {
                let field = schema.field(node, &key);
                if field.strategies().1 == "replace" {
                    Value::Object(b)
                } else {
                    Value::Object(join_patches(schema, field.node, a, b)?)
                }
            }
            (Some(Value::Array(a)), Value::Array(b)) => {
                let field = schema.field(node, &key);
                if field.strategies().1 == "merge" {
                    Value::Array(join_lists(schema, field.node, field.merge_key, a, b)?)
                } else {
                    Value::Array(b)
                }
            }
            (_, value) => value,
        };
        first.insert(key, joined);
    }
    Ok(first)
}

/// Two patches of one merged list joined: scalars once each; objects with the same merge
/// key joined, the others appended.
fn join_lists(
    schema: &PatchSchema,
    node: Node<'_>,
    merge_key: &str,
    mut first: Vec<Value>,
    second: Vec<Value>,
) -> Result<Vec<Value>, StrategicError> {
    if merge_key.is_empty() || !first.iter().chain(&second).all(Value::is_object) {
        for v in second {
            if !first.contains(&v) {
                first.push(v);
            }
        }
        return Ok(first);
    }
    for item in second {
        let key = item.get(merge_key).cloned();
        let at = first
            .iter()
            .position(|f| key.is_some() && f.get(merge_key) == key.as_ref());
        match (at, item) {
            (Some(i), Value::Object(b)) => {
                let Value::Object(a) = std::mem::take(&mut first[i]) else {
                    unreachable!("every item was checked to be an object");
                };
                first[i] = Value::Object(join_patches(schema, node, a, b)?);
            }
            (_, item) => first.push(item),
        }
    }
    Ok(first)
}
