//! The strategic diff of two objects: the patch that turns `original` into `modified`, with
//! lists that merge by key patched item by item (deleted items as `$patch: delete`, removed
//! scalars in a `$deleteFromPrimitiveList/` list, the new order in `$setElementOrder/`), and
//! `$retainKeys` for structs whose strategy asks for it. Options leave out additions and
//! changes or deletions, so a three-way patch can be built from two diffs.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::schema::{Node, PatchSchema};
use super::StrategicError;

pub const PATCH: &str = "$patch";
pub const RETAIN_KEYS: &str = "$retainKeys";
pub const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";
pub const SET_ELEMENT_ORDER: &str = "$setElementOrder/";

/// Which parts of the difference the patch carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions {
    /// Add `$setElementOrder/` lists for merged lists that changed.
    pub set_element_order: bool,
    /// Leave out what `modified` adds or changes.
    pub ignore_changes_and_additions: bool,
    /// Leave out what `modified` removes.
    pub ignore_deletions: bool,
    /// The map being diffed has the `retainKeys` strategy.
    pub build_retain_keys: bool,
}

/// The patch from `original` to `modified`, two objects of the type at `node`.
pub fn diff_maps(
    schema: &PatchSchema,
    node: Node<'_>,
    original: &Map<String, Value>,
    modified: &Map<String, Value>,
    opts: DiffOptions,
) -> Result<Map<String, Value>, StrategicError> {
    let mut patch = Map::new();
    let mut retain = Vec::new();
    for (key, m) in modified {
        if opts.build_retain_keys && !m.is_null() {
            retain.push(Value::String(key.clone()));
        }
        let Some(o) = original.get(key) else {
            if !opts.ignore_changes_and_additions {
                patch.insert(key.clone(), m.clone());
            }
            continue;
        };
        if key == PATCH {
            if o != m {
                patch.insert(key.clone(), m.clone());
            }
            continue;
        }
        match (o, m) {
            (Value::Object(o), Value::Object(m)) => {
                diff_map_field(schema, node, key, o, m, &mut patch, opts)?
            }
            (Value::Array(o), Value::Array(m)) => {
                diff_list_field(schema, node, key, o, m, &mut patch, opts)?
            }
            _ if same_json_type(o, m) => replace_if_changed(key, o, m, &mut patch, opts),
            _ => {
                if !opts.ignore_changes_and_additions {
                    patch.insert(key.clone(), m.clone());
                }
            }
        }
    }
    if !opts.ignore_deletions {
        for key in original.keys() {
            if !modified.contains_key(key) {
                patch.insert(key.clone(), Value::Null);
            }
        }
    }
    let clears_more = original
        .iter()
        .any(|(k, v)| !v.is_null() && !modified.contains_key(k));
    if !retain.is_empty() && (!patch.is_empty() || clears_more) {
        retain.sort_by(compare_scalars);
        patch.insert(RETAIN_KEYS.into(), Value::Array(retain));
    }
    Ok(patch)
}

/// Go's `reflect.TypeOf` comparison of two decoded JSON values (every number is a float64).
fn same_json_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn replace_if_changed(
    key: &str,
    o: &Value,
    m: &Value,
    patch: &mut Map<String, Value>,
    opts: DiffOptions,
) {
    if !opts.ignore_changes_and_additions && o != m {
        patch.insert(key.to_string(), m.clone());
    }
}

fn diff_map_field(
    schema: &PatchSchema,
    node: Node<'_>,
    key: &str,
    o: &Map<String, Value>,
    m: &Map<String, Value>,
    patch: &mut Map<String, Value>,
    mut opts: DiffOptions,
) -> Result<(), StrategicError> {
    let field = schema.field(node, key);
    let (retain, strategy) = field.strategies();
    opts.build_retain_keys = retain;
    if strategy == "replace" {
        if !opts.ignore_changes_and_additions {
            patch.insert(key.to_string(), Value::Object(m.clone()));
        }
        return Ok(());
    }
    let sub = diff_maps(schema, field.node, o, m, opts)?;
    if !sub.is_empty() {
        patch.insert(key.to_string(), Value::Object(sub));
    }
    Ok(())
}

fn diff_list_field(
    schema: &PatchSchema,
    node: Node<'_>,
    key: &str,
    o: &[Value],
    m: &[Value],
    patch: &mut Map<String, Value>,
    mut opts: DiffOptions,
) -> Result<(), StrategicError> {
    let field = schema.field(node, key);
    let (retain, strategy) = field.strategies();
    if strategy != "merge" {
        replace_if_changed(
            key,
            &Value::Array(o.to_vec()),
            &Value::Array(m.to_vec()),
            patch,
            opts,
        );
        return Ok(());
    }
    opts.build_retain_keys = retain;
    let list = MergedList {
        schema,
        node: field.node,
        merge_key: field.merge_key,
        opts,
    };
    let lists = list.diff(o, m)?;
    if !lists.patch.is_empty() {
        patch.insert(key.to_string(), Value::Array(lists.patch));
    }
    if !lists.deletions.is_empty() {
        patch.insert(
            format!("{DELETE_FROM_PRIMITIVE_LIST}{key}"),
            Value::Array(lists.deletions),
        );
    }
    if !lists.order.is_empty() {
        patch.insert(
            format!("{SET_ELEMENT_ORDER}{key}"),
            Value::Array(lists.order),
        );
    }
    Ok(())
}

/// The three parts of a merged list's patch.
#[derive(Default)]
struct ListPatch {
    /// Added and changed items (and, for objects, `$patch: delete` items).
    patch: Vec<Value>,
    /// Removed scalars.
    deletions: Vec<Value>,
    /// The order `modified` has (merge keys only, for objects).
    order: Vec<Value>,
}

/// A list field that merges: its items' schema, merge key (empty for scalars) and what the
/// diff leaves out.
struct MergedList<'a> {
    schema: &'a PatchSchema,
    node: Node<'a>,
    merge_key: &'a str,
    opts: DiffOptions,
}

enum ElementKind {
    Object,
    Scalar,
}

/// What the items of two lists are; they must all be alike.
fn element_kind(o: &[Value], m: &[Value]) -> Result<ElementKind, StrategicError> {
    let mut kind = None;
    for item in o.iter().chain(m) {
        let this = match item {
            Value::Object(_) => 1,
            Value::Array(_) => return Err(StrategicError::ListOfLists),
            _ => 2,
        };
        if kind.is_some_and(|k| k != this) {
            return Err(StrategicError::MixedList);
        }
        kind = Some(this);
    }
    Ok(if kind == Some(1) {
        ElementKind::Object
    } else {
        ElementKind::Scalar
    })
}

/// The value of the merge key of a list item, as text (Go's `%v`), for sorting and matching.
fn merge_key_value<'v>(item: &'v Value, merge_key: &str) -> Result<&'v Value, StrategicError> {
    item.as_object()
        .and_then(|o| o.get(merge_key))
        .ok_or_else(|| StrategicError::NoMergeKey {
            item: item.to_string(),
            key: merge_key.to_string(),
        })
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compare_scalars(a: &Value, b: &Value) -> Ordering {
    scalar_text(a).cmp(&scalar_text(b))
}

impl MergedList<'_> {
    fn diff(&self, o: &[Value], m: &[Value]) -> Result<ListPatch, StrategicError> {
        let (merge_key, opts) = (self.merge_key, self.opts);
        if o.is_empty() {
            if m.is_empty() || opts.ignore_changes_and_additions {
                return Ok(ListPatch::default());
            }
            return Ok(ListPatch {
                patch: m.to_vec(),
                ..Default::default()
            });
        }
        match element_kind(o, m)? {
            ElementKind::Object => {
                let (changed, deleted) = self.diff_maps_by_key(o, m)?;
                let mut patch = in_order_of(changed, m, merge_key)?;
                let order_same = o.len() == m.len()
                    && o.iter().zip(m).all(|(a, b)| {
                        merge_key_value(a, merge_key).ok() == merge_key_value(b, merge_key).ok()
                    });
                patch.extend(deleted);
                let wants_order = opts.set_element_order
                    && ((!opts.ignore_changes_and_additions && (!patch.is_empty() || !order_same))
                        || (!opts.ignore_deletions && !patch.is_empty()));
                let order = if wants_order {
                    m.iter()
                        .map(|item| {
                            let mut only_key = Map::new();
                            only_key.insert(merge_key.to_string(), item[merge_key].clone());
                            Value::Object(only_key)
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                Ok(ListPatch {
                    patch,
                    deletions: Vec::new(),
                    order,
                })
            }
            ElementKind::Scalar => {
                let (added, deletions) = diff_lists_of_scalars(o, m, opts);
                let patch = in_order_of(added, m, "")?;
                let wants_order = opts.set_element_order
                    && ((!opts.ignore_deletions && !deletions.is_empty())
                        || (!opts.ignore_changes_and_additions && o != m));
                Ok(ListPatch {
                    patch,
                    deletions,
                    order: if wants_order { m.to_vec() } else { Vec::new() },
                })
            }
        }
    }

    /// Changed and added items (by merge key), and `$patch: delete` items for removed ones.
    fn diff_maps_by_key(
        &self,
        o: &[Value],
        m: &[Value],
    ) -> Result<(Vec<Value>, Vec<Value>), StrategicError> {
        let (schema, node, merge_key, opts) = (self.schema, self.node, self.merge_key, self.opts);
        let sorted = |list: &[Value]| -> Result<Vec<(String, Value)>, StrategicError> {
            let mut keyed = list
                .iter()
                .map(|item| Ok((scalar_text(merge_key_value(item, merge_key)?), item.clone())))
                .collect::<Result<Vec<_>, StrategicError>>()?;
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(keyed)
        };
        let (o, m) = (sorted(o)?, sorted(m)?);
        let (mut i, mut j) = (0, 0);
        let mut changed = Vec::new();
        let mut deleted = Vec::new();
        while i < o.len() || j < m.len() {
            let order = match (o.get(i), m.get(j)) {
                (Some(a), Some(b)) => a.0.cmp(&b.0),
                (None, _) => Ordering::Greater,
                (_, None) => Ordering::Less,
            };
            match order {
                Ordering::Equal => {
                    let (Value::Object(oi), Value::Object(mi)) = (&o[i].1, &m[j].1) else {
                        unreachable!("merge_key_value accepted only objects");
                    };
                    let mut sub = diff_maps(schema, node, oi, mi, opts)?;
                    if !sub.is_empty() {
                        sub.insert(merge_key.to_string(), mi[merge_key].clone());
                        changed.push(Value::Object(sub));
                    }
                    i += 1;
                    j += 1;
                }
                Ordering::Greater => {
                    if !opts.ignore_changes_and_additions {
                        changed.push(m[j].1.clone());
                    }
                    j += 1;
                }
                Ordering::Less => {
                    if !opts.ignore_deletions {
                        let mut directive = Map::new();
                        directive.insert(merge_key.to_string(), o[i].1[merge_key].clone());
                        directive.insert(PATCH.into(), Value::String("delete".into()));
                        deleted.push(Value::Object(directive));
                    }
                    i += 1;
                }
            }
        }
        Ok((changed, deleted))
    }
}

/// Added scalars, and removed ones (once each).
fn diff_lists_of_scalars(o: &[Value], m: &[Value], opts: DiffOptions) -> (Vec<Value>, Vec<Value>) {
    let mut o = o.to_vec();
    let mut m = m.to_vec();
    o.sort_by(compare_scalars);
    m.sort_by(compare_scalars);
    let (mut i, mut j) = (0, 0);
    let mut added = Vec::new();
    let mut removed: Vec<Value> = Vec::new();
    while i < o.len() || j < m.len() {
        let order = match (o.get(i), m.get(j)) {
            (Some(a), Some(b)) => compare_scalars(a, b),
            (None, _) => Ordering::Greater,
            (_, None) => Ordering::Less,
        };
        match order {
            Ordering::Equal => {
                i += 1;
                j += 1;
            }
            Ordering::Less => {
                if !opts.ignore_deletions && !removed.contains(&o[i]) {
                    removed.push(o[i].clone());
                }
                i += 1;
            }
            Ordering::Greater => {
                if !opts.ignore_changes_and_additions {
                    added.push(m[j].clone());
                }
                j += 1;
            }
        }
    }
    (added, removed)
}

/// `items` in the order `order` has them (objects by merge key; `merge_key` is empty for
/// scalars), `$patch: delete` items last.
fn in_order_of(
    items: Vec<Value>,
    order: &[Value],
    merge_key: &str,
) -> Result<Vec<Value>, StrategicError> {
    let position = |item: &Value| -> Result<usize, StrategicError> {
        if merge_key.is_empty() {
            return Ok(order.iter().position(|o| o == item).unwrap_or(usize::MAX));
        }
        let key = merge_key_value(item, merge_key)?;
        Ok(order
            .iter()
            .position(|o| o.get(merge_key) == Some(key))
            .unwrap_or(usize::MAX))
    };
    let (mut keep, deletes): (Vec<Value>, Vec<Value>) = items
        .into_iter()
        .partition(|item| item.get(PATCH).and_then(Value::as_str) != Some("delete"));
    let mut keyed = keep
        .drain(..)
        .map(|item| Ok((position(&item)?, item)))
        .collect::<Result<Vec<_>, StrategicError>>()?;
    keyed.sort_by_key(|(p, _)| *p);
    Ok(keyed
        .into_iter()
        .map(|(_, item)| item)
        .chain(deletes)
        .collect())
}
