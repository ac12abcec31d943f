//! The shape of the schema table: which field numbers a message has, what JSON name each one
//! takes and how its Go field marshals to JSON (pointer, `omitempty`, `inline`), so that a
//! protobuf body decodes to the JSON the same object would have been sent as.

/// The field is `repeated` (a Go slice).
pub(super) const REPEATED: u8 = 1;
/// The Go field's JSON tag has `omitempty`: zero values are left out of the JSON form.
pub(super) const OMITEMPTY: u8 = 2;
/// The Go field is a pointer: when present on the wire it is set, even to a zero value
/// (e.g. `replicas: 0`), and when absent it is nil.
pub(super) const POINTER: u8 = 4;
/// The Go field is an embedded struct with `json:",inline"`: its fields join the parent object
/// (e.g. `Volume.volumeSource`, `Probe.handler`).
pub(super) const INLINE: u8 = 8;

/// The type of a field's value on the wire (the API types use no unsigned or floating-point
/// fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    String,
    /// Go `[]byte`, base64 in JSON.
    Bytes,
    Bool,
    Int32,
    Int64,
    /// A nested message, by its fully qualified protobuf name.
    Message(&'static str),
    /// A `map<string, V>`, sent as repeated entry messages {key = 1, value = 2}.
    Map(&'static Kind),
}

/// One field of a message.
#[derive(Debug)]
pub(super) struct Field {
    pub number: u32,
    /// The JSON name; empty for inline fields.
    pub json: &'static str,
    pub kind: Kind,
    pub flags: u8,
}

impl Field {
    pub(super) fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// One protobuf message type.
#[derive(Debug)]
pub(super) struct MessageSchema {
    /// Fully qualified protobuf name, e.g. `k8s.io.api.core.v1.Namespace`.
    pub name: &'static str,
    /// A Go slice type wrapped in a message (`ExtraValue`): `repeated items = 1` is the value.
    pub list: bool,
    /// Sorted by field number.
    pub fields: &'static [Field],
}

impl MessageSchema {
    pub(super) fn field(&self, number: u32) -> Option<&'static Field> {
        self.fields
            .binary_search_by_key(&number, |f| f.number)
            .ok()
            .map(|i| &self.fields[i])
    }
}

/// The schema of the message called `name`, if the table has it.
pub(super) fn message(name: &str) -> Option<&'static MessageSchema> {
    let table = super::schema_table::MESSAGES;
    table
        .binary_search_by(|m| m.name.cmp(name))
        .ok()
        .map(|i| &table[i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protobuf::schema_table::MESSAGES;

    #[test]
    fn table_is_sorted_and_every_reference_resolves() {
        assert!(MESSAGES.windows(2).all(|w| w[0].name < w[1].name));
        for m in MESSAGES {
            assert!(
                m.fields.windows(2).all(|w| w[0].number < w[1].number),
                "{}",
                m.name
            );
            for f in m.fields {
                let target = match f.kind {
                    Kind::Message(n) => Some(n),
                    Kind::Map(Kind::Message(n)) => Some(*n),
                    _ => None,
                };
                if let Some(n) = target {
                    assert!(message(n).is_some(), "{}.{} -> {n}", m.name, f.json);
                }
            }
        }
    }

    #[test]
    fn every_served_kind_has_a_schema() {
        for r in api_types::catalog::RESOURCES {
            let name = super::super::message_name(&r.api_version(), r.kind);
            assert!(name.is_some(), "{}/{} {}", r.group, r.version, r.kind);
        }
    }
}
