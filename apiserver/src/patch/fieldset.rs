//! Sets of field paths, the currency of server-side apply, in upstream's `FieldsV1` form
//! (structured-merge-diff's serialization):
//!
//! `{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":
//! {".":{},"f:image":{}}}}}`
//!
//! Path elements: `f:<field>` (a struct field or map key), `k:<json>` (an associative list item
//! by its key fields, sorted), `v:<json>` (an item of a set of scalars), `i:<n>` (an item by
//! index). A node that is itself in the set and also has children carries `".": {}`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::merge_keys::{field_meta, is_atomic_type, FieldMeta, ListType};
use super::schema::{child_shape, Shape};

/// A set of field paths, as a tree of path elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    member: bool,
    children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    /// Whether the set has no paths.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    /// Parse a `fieldsV1` object. Unknown shapes yield an empty set rather than an error:
    /// managedFields written by someone else must not make an object unpatchable.
    pub fn from_fields_v1(v: &Value) -> FieldSet {
        let mut set = FieldSet::default();
        if let Value::Object(m) = v {
            if m.is_empty() {
                set.member = true;
            }
            for (k, child) in m {
                if k == "." {
                    set.member = true;
                } else {
                    set.children
                        .insert(k.clone(), FieldSet::from_fields_v1(child));
                }
            }
        }
        set
    }

    /// The `fieldsV1` object of this set.
    pub fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (k, child) in &self.children {
            m.insert(k.clone(), child.to_fields_v1());
        }
        Value::Object(m)
    }

    /// Add every path of `other`.
    pub fn union_with(&mut self, other: &FieldSet) {
        self.member |= other.member;
        for (k, child) in &other.children {
            self.children
                .entry(k.clone())
                .or_default()
                .union_with(child);
        }
    }

    /// The paths of `self` that are not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (k, child) in &self.children {
            let rest = match other.children.get(k) {
                Some(o) => child.difference(o),
                None => child.clone(),
            };
            if !rest.is_empty() {
                out.children.insert(k.clone(), rest);
            }
        }
        out
    }

    /// The paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (k, child) in &self.children {
            if let Some(o) = other.children.get(k) {
                let both = child.intersection(o);
                if !both.is_empty() {
                    out.children.insert(k.clone(), both);
                }
            }
        }
        out
    }

    /// Every path in the set, as lists of path elements, in order.
    pub fn paths(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if self.member {
            out.push(prefix.clone());
        }
        for (k, child) in &self.children {
            prefix.push(k.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// Whether anything at or below `path` is in the set.
    pub fn has_prefix(&self, path: &[String]) -> bool {
        match path.split_first() {
            None => !self.is_empty(),
            Some((first, rest)) => self.children.get(first).is_some_and(|c| c.has_prefix(rest)),
        }
    }

    /// Remove one path element subtree (used to forget system fields).
    pub fn remove(&mut self, path: &[&str]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if rest.is_empty() {
            self.children.remove(*first);
        } else if let Some(child) = self.children.get_mut(*first) {
            child.remove(rest);
            if child.is_empty() {
                self.children.remove(*first);
            }
        }
    }

    /// Keep only the paths that still lead to something in `obj`.
    pub fn retain_existing(&self, obj: &Value) -> FieldSet {
        let mut out = FieldSet {
            member: self.member,
            children: BTreeMap::new(),
        };
        for (k, child) in &self.children {
            if let Some(v) = resolve(obj, k) {
                let kept = child.retain_existing(v);
                if !kept.is_empty() {
                    out.children.insert(k.clone(), kept);
                }
            }
        }
        out
    }
}

/// Fields upstream never tracks: identity and system-maintained metadata.
const IGNORED: &[&[&str]] = &[
    &["f:apiVersion"],
    &["f:kind"],
    &["f:metadata", "f:name"],
    &["f:metadata", "f:namespace"],
    &["f:metadata", "f:creationTimestamp"],
    &["f:metadata", "f:selfLink"],
    &["f:metadata", "f:uid"],
    &["f:metadata", "f:generation"],
    &["f:metadata", "f:managedFields"],
    &["f:metadata", "f:resourceVersion"],
];

/// Forget the fields upstream never tracks.
pub fn strip_ignored(set: &mut FieldSet) {
    for path in IGNORED {
        set.remove(path);
    }
}

/// Where a path element leads inside a value: a key of an object or an index of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// A key of an object.
    Field(String),
    /// An index of a list.
    Index(usize),
}

/// Find the slot a path element names inside `v`.
pub fn locate(v: &Value, element: &str) -> Option<Slot> {
    let (kind, rest) = element.split_once(':')?;
    match (kind, v) {
        ("f", Value::Object(m)) => m.contains_key(rest).then(|| Slot::Field(rest.to_string())),
        (_, Value::Array(a)) => position_in_list(a, element).map(Slot::Index),
        _ => None,
    }
}

/// The index of the item a list path element (`i:`, `v:` or `k:`) names.
pub fn position_in_list(a: &[Value], element: &str) -> Option<usize> {
    let (kind, rest) = element.split_once(':')?;
    match kind {
        "i" => rest.parse::<usize>().ok().filter(|i| *i < a.len()),
        "v" => {
            let want: Value = serde_json::from_str(rest).ok()?;
            a.iter().position(|x| *x == want)
        }
        "k" => {
            let want: Map<String, Value> = serde_json::from_str(rest).ok()?;
            a.iter().position(|item| {
                want.iter()
                    .all(|(key, val)| key_value(item, key).as_ref() == Some(val))
            })
        }
        _ => None,
    }
}

/// The value a path element leads to inside `v`.
pub fn resolve<'a>(v: &'a Value, element: &str) -> Option<&'a Value> {
    match locate(v, element)? {
        Slot::Field(k) => v.get(k),
        Slot::Index(i) => v.get(i),
    }
}

/// Mutable access to the value a path element leads to inside `v`.
pub fn resolve_mut<'a>(v: &'a mut Value, element: &str) -> Option<&'a mut Value> {
    match locate(v, element)? {
        Slot::Field(k) => v.get_mut(k),
        Slot::Index(i) => v.get_mut(i),
    }
}

/// A key field of an associative list item; `protocol` defaults to TCP as upstream's schema
/// says, so that `{"containerPort": 80}` and `{"containerPort": 80, "protocol": "TCP"}` are the
/// same item.
fn key_value(item: &Value, key: &str) -> Option<Value> {
    match item.get(key) {
        Some(v) => Some(v.clone()),
        None if key == "protocol" => Some(Value::String("TCP".into())),
        None => None,
    }
}

/// The path element naming `item` (at `index`) in a list of the given type.
pub fn item_element(item: &Value, index: usize, list_type: ListType) -> String {
    match list_type {
        ListType::Set => format!("v:{item}"),
        ListType::Map(keys) => {
            let key: Map<String, Value> = keys
                .iter()
                .filter_map(|k| key_value(item, k).map(|v| (k.to_string(), v)))
                .collect();
            if key.is_empty() {
                format!("i:{index}")
            } else {
                format!("k:{}", Value::Object(key))
            }
        }
        ListType::Atomic | ListType::NotAList => format!("i:{index}"),
    }
}

/// Render a path as upstream prints it in conflicts: `.spec.containers[name="web"].image`.
pub fn path_string(path: &[String]) -> String {
    let mut out = String::new();
    for element in path {
        match element.split_once(':') {
            Some(("f", name)) => {
                out.push('.');
                out.push_str(name);
            }
            Some(("k", key)) => {
                let fields: Map<String, Value> = serde_json::from_str(key).unwrap_or_default();
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!("[{}]", parts.join(",")));
            }
            Some(("v", value)) => out.push_str(&format!("[={value}]")),
            Some(("i", index)) => out.push_str(&format!("[{index}]")),
            _ => out.push_str(element),
        }
    }
    out
}

/// How a value at some position is owned and merged.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Owned and replaced whole: scalars, atomic lists, atomic maps and structs.
    Atomic,
    /// A struct of a known definition: each field on its own.
    Struct(Shape),
    /// A map (or an object of unknown shape): each key on its own, values of this shape.
    Map(Shape),
    /// A set or an associative list, with the shape of its items.
    List(ListType, Shape),
}

/// The kind of `v` found where `shape` and the field's `meta` say.
pub fn kind_of(v: &Value, shape: &Shape, meta: Option<&FieldMeta>) -> Kind {
    if meta.is_some_and(|m| m.atomic) {
        return Kind::Atomic;
    }
    match v {
        Value::Object(_) => match shape {
            Shape::Object(d) if is_atomic_type(d) => Kind::Atomic,
            Shape::Object(_) => Kind::Struct(shape.clone()),
            Shape::Map(values) => Kind::Map((**values).clone()),
            _ => Kind::Map(Shape::Unknown),
        },
        Value::Array(_) => match meta.map(|m| m.list_type) {
            Some(lt @ (ListType::Set | ListType::Map(_))) => Kind::List(lt, shape.items()),
            _ => Kind::Atomic,
        },
        _ => Kind::Atomic,
    }
}

/// Metadata of a child field of a struct.
pub fn child_meta(shape: &Shape, key: &str) -> Option<&'static FieldMeta> {
    shape.definition().and_then(|d| field_meta(d, key))
}

/// The set of every field present in `v`: leaves and list items (what an applier owns).
pub fn set_from_value(v: &Value, shape: &Shape, meta: Option<&FieldMeta>) -> FieldSet {
    let mut set = FieldSet::default();
    match (kind_of(v, shape, meta), v) {
        (Kind::Struct(s) | Kind::Map(s), Value::Object(m)) if !m.is_empty() => {
            let is_struct = matches!(kind_of(v, shape, meta), Kind::Struct(_));
            for (k, child) in m {
                let (cs, cm) = if is_struct {
                    (child_shape(&s, k), child_meta(&s, k))
                } else {
                    (s.clone(), None)
                };
                set.children
                    .insert(format!("f:{k}"), set_from_value(child, &cs, cm));
            }
        }
        (Kind::List(lt, item_shape), Value::Array(items)) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                let mut child = set_from_value(item, &item_shape, None);
                child.member = true;
                set.children.insert(item_element(item, i, lt), child);
            }
        }
        _ => set.member = true,
    }
    set
}

/// The fields an update changed: paths whose value differs between `old` and `new`. A node the
/// update added (a map, a list, a list item) is itself in the set, as upstream records it.
pub fn changed_fields(
    old: Option<&Value>,
    new: &Value,
    shape: &Shape,
    meta: Option<&FieldMeta>,
) -> FieldSet {
    if old == Some(new) {
        return FieldSet::default();
    }
    let mut set = FieldSet::default();
    let kind = kind_of(new, shape, meta);
    match (&kind, new) {
        (Kind::Struct(s) | Kind::Map(s), Value::Object(m)) if !m.is_empty() => {
            let old_map = old.and_then(Value::as_object);
            for (k, child) in m {
                let (cs, cm) = match kind {
                    Kind::Struct(_) => (child_shape(s, k), child_meta(s, k)),
                    _ => (s.clone(), None),
                };
                let c = changed_fields(old_map.and_then(|o| o.get(k)), child, &cs, cm);
                if !c.is_empty() {
                    set.children.insert(format!("f:{k}"), c);
                }
            }
            set.member = old_map.is_none() && matches!(kind, Kind::Map(_));
        }
        (Kind::List(lt, item_shape), Value::Array(items)) if !items.is_empty() => {
            let old_list = old.filter(|o| o.is_array());
            for (i, item) in items.iter().enumerate() {
                let element = item_element(item, i, *lt);
                let before = old_list.and_then(|o| resolve(o, &element));
                let mut c = changed_fields(before, item, item_shape, None);
                c.member |= before.is_none();
                if !c.is_empty() {
                    set.children.insert(element, c);
                }
            }
            set.member = old_list.is_none();
        }
        _ => set.member = true,
    }
    set
}
