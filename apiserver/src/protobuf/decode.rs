//! The table-driven walker: turns one protobuf message into the JSON value Go's
//! `encoding/json` would have produced for the same object, using the schema table for field
//! names and types and hand-written rules for the few types whose JSON form differs from their
//! wire form (times, durations, quantities, int-or-string, raw extensions, managed fields).

use base64::Engine;
use serde_json::{Map, Value};

use super::schema::{self, Field, Kind, MessageSchema, INLINE, OMITEMPTY, POINTER, REPEATED};
use super::wire::{records, Reader, WireValue};
use super::ProtobufError;

/// Deeper nesting than any API type has; guards the stack against hostile input.
const MAX_DEPTH: usize = 64;

const META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.";
const QUANTITY: &str = "k8s.io.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING: &str = "k8s.io.apimachinery.pkg.util.intstr.IntOrString";
const RAW_EXTENSION: &str = "k8s.io.apimachinery.pkg.runtime.RawExtension";

/// Decodes the message type `name` from `buf`.
pub(super) fn message(
    name: &'static str,
    buf: &[u8],
    depth: usize,
) -> Result<Value, ProtobufError> {
    if depth > MAX_DEPTH {
        return Err(ProtobufError::TooDeep(MAX_DEPTH));
    }
    match name.strip_prefix(META) {
        Some("Time") => return time(buf, false),
        Some("MicroTime") => return time(buf, true),
        Some("Duration") => return duration(buf),
        Some("FieldsV1") => return embedded(buf, depth),
        _ => {}
    }
    match name {
        QUANTITY => quantity(buf),
        INT_OR_STRING => int_or_string(buf),
        RAW_EXTENSION => embedded(buf, depth),
        _ => {
            let schema = schema::message(name)
                .ok_or_else(|| ProtobufError::UnknownMessage(name.to_string()))?;
            let object = object(schema, buf, depth)?;
            if !schema.list {
                return Ok(Value::Object(object));
            }
            // A Go slice type wrapped in a message: its JSON form is the slice itself.
            let mut object = object;
            let items = schema.fields.first().and_then(|f| object.remove(f.json));
            Ok(items.unwrap_or_else(|| Value::Array(Vec::new())))
        }
    }
}

/// An ordinary message: a JSON object keyed by the fields' JSON names.
fn object(
    schema: &'static MessageSchema,
    buf: &[u8],
    depth: usize,
) -> Result<Map<String, Value>, ProtobufError> {
    let mut out = Map::new();
    let mut present: Vec<u32> = Vec::new();
    for (number, raw) in records(buf)? {
        // Unknown fields are skipped, as Go's decoder does, so newer clients still work.
        let Some(field) = schema.field(number) else {
            continue;
        };
        present.push(number);
        let ctx = Ctx {
            message: schema.name,
            field: number,
            depth,
        };
        if field.has(INLINE) {
            merge_inline(&mut out, ctx.value(field.kind, raw)?);
        } else if field.has(REPEATED) {
            let items = out
                .entry(field.json)
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = items {
                for raw in ctx.unpack(field.kind, raw)? {
                    items.push(ctx.value(field.kind, raw)?);
                }
            }
        } else if let Kind::Map(value_kind) = field.kind {
            let (key, value) = ctx.map_entry(value_kind, raw)?;
            let entries = out
                .entry(field.json)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(entries) = entries {
                entries.insert(key, value);
            }
        } else {
            let value = ctx.value(field.kind, raw)?;
            // Go marshals non-pointer scalars even when zero; `omitempty` drops them from JSON.
            // Pointers that are present were set, so their zero value is kept (`replicas: 0`).
            if field.has(OMITEMPTY) && !field.has(POINTER) && is_zero_scalar(field.kind, &value) {
                out.remove(field.json);
            } else {
                out.insert(field.json.to_string(), value);
            }
        }
    }
    for field in schema.fields {
        if !present.contains(&field.number) {
            absent(&mut out, schema, field, depth)?;
        }
    }
    Ok(out)
}

/// A field missing from the wire (only non-Go encoders leave out non-pointer fields): print
/// what Go's JSON would print for its zero value when it is not `omitempty`. Nil slices and
/// maps become empty ones rather than `null`, which typed decoding on our side would reject.
fn absent(
    out: &mut Map<String, Value>,
    schema: &MessageSchema,
    field: &Field,
    depth: usize,
) -> Result<(), ProtobufError> {
    if field.has(INLINE) {
        if let Kind::Message(name) = field.kind {
            merge_inline(out, message(name, &[], depth + 1)?);
        }
        return Ok(());
    }
    if field.has(OMITEMPTY) || field.has(POINTER) {
        return Ok(());
    }
    let zero = match field.kind {
        _ if field.has(REPEATED) => Value::Array(Vec::new()),
        Kind::Map(_) => Value::Object(Map::new()),
        Kind::String => Value::String(String::new()),
        Kind::Bool => Value::Bool(false),
        Kind::Int32 | Kind::Int64 => Value::from(0),
        Kind::Bytes => Value::Null,
        Kind::Message(name) => message(name, &[], depth + 1).map_err(|e| match e {
            ProtobufError::UnknownMessage(_) => {
                ProtobufError::UnknownMessage(format!("{}.{}", schema.name, field.json))
            }
            e => e,
        })?,
    };
    out.insert(field.json.to_string(), zero);
    Ok(())
}

fn merge_inline(out: &mut Map<String, Value>, value: Value) {
    if let Value::Object(fields) = value {
        out.extend(fields);
    }
}

/// Whether a scalar has its zero value; structs are never "empty" to Go's `omitempty`.
fn is_zero_scalar(kind: Kind, value: &Value) -> bool {
    if matches!(kind, Kind::Message(_) | Kind::Map(_)) {
        return false;
    }
    match value {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Null => true,
        _ => false,
    }
}

/// Where a value is being decoded, for error messages and the depth guard.
#[derive(Clone, Copy)]
struct Ctx {
    message: &'static str,
    field: u32,
    depth: usize,
}

impl Ctx {
    fn wire_type_error(&self, raw: WireValue<'_>) -> ProtobufError {
        ProtobufError::WireType {
            message: self.message,
            field: self.field,
            wire_type: raw.wire_type(),
        }
    }

    fn value(&self, kind: Kind, raw: WireValue<'_>) -> Result<Value, ProtobufError> {
        Ok(match (kind, raw) {
            (Kind::String, WireValue::Bytes(b)) => Value::String(self.utf8(b)?),
            (Kind::Bytes, WireValue::Bytes(b)) => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(b))
            }
            (Kind::Bool, WireValue::Varint(v)) => Value::Bool(v != 0),
            // int32 values are sign-extended varints; truncation is the protobuf rule.
            (Kind::Int32, WireValue::Varint(v)) => Value::from(v as i32),
            (Kind::Int64, WireValue::Varint(v)) => Value::from(v as i64),
            (Kind::Message(name), WireValue::Bytes(b)) => message(name, b, self.depth + 1)?,
            _ => return Err(self.wire_type_error(raw)),
        })
    }

    fn utf8(&self, b: &[u8]) -> Result<String, ProtobufError> {
        String::from_utf8(b.to_vec()).map_err(|_| ProtobufError::InvalidUtf8 {
            message: self.message,
            field: self.field,
        })
    }

    /// The elements one record of a repeated field carries: one, or many when a repeated
    /// scalar is packed into a single length-delimited record.
    fn unpack<'a>(
        &self,
        kind: Kind,
        raw: WireValue<'a>,
    ) -> Result<Vec<WireValue<'a>>, ProtobufError> {
        let WireValue::Bytes(b) = raw else {
            return Ok(vec![raw]);
        };
        if !matches!(kind, Kind::Bool | Kind::Int32 | Kind::Int64) {
            return Ok(vec![raw]);
        }
        let mut reader = Reader::new(b);
        let mut out = Vec::new();
        while !reader.is_empty() {
            out.push(WireValue::Varint(reader.varint()?));
        }
        Ok(out)
    }

    /// One entry of a `map<string, V>` field: a message {key = 1, value = 2}.
    fn map_entry(
        &self,
        value_kind: &Kind,
        raw: WireValue<'_>,
    ) -> Result<(String, Value), ProtobufError> {
        let WireValue::Bytes(b) = raw else {
            return Err(self.wire_type_error(raw));
        };
        let (mut key, mut value) = (String::new(), None);
        for (number, raw) in records(b)? {
            match (number, raw) {
                (1, WireValue::Bytes(k)) => key = self.utf8(k)?,
                (1, _) => return Err(self.wire_type_error(raw)),
                (2, raw) => value = Some(self.value(*value_kind, raw)?),
                _ => {}
            }
        }
        let value = match value {
            Some(v) => v,
            None => match *value_kind {
                Kind::Message(name) => message(name, &[], self.depth + 1)?,
                Kind::String | Kind::Bytes => Value::String(String::new()),
                Kind::Bool => Value::Bool(false),
                _ => Value::from(0),
            },
        };
        Ok((key, value))
    }
}

/// The varint and byte-string fields 1..=3 of a small fixed message, indexed by number.
type SmallMessage<'a> = ([i64; 4], [Option<&'a [u8]>; 4]);

fn small_message(buf: &[u8]) -> Result<SmallMessage<'_>, ProtobufError> {
    let (mut ints, mut bytes) = ([0i64; 4], [None; 4]);
    for (number, raw) in records(buf)? {
        let Some(i) = usize::try_from(number).ok().filter(|i| *i < 4) else {
            continue;
        };
        match raw {
            WireValue::Varint(v) => ints[i] = v as i64,
            WireValue::Bytes(b) => bytes[i] = Some(b),
            _ => {}
        }
    }
    Ok((ints, bytes))
}

/// `metav1.Time` / `MicroTime` {seconds = 1, nanos = 2}: RFC 3339 in UTC, whole seconds for
/// Time and microseconds for MicroTime. The zero time is marshalled as an empty message and
/// its JSON form is `null`.
fn time(buf: &[u8], micro: bool) -> Result<Value, ProtobufError> {
    if buf.is_empty() {
        return Ok(Value::Null);
    }
    let ([_, seconds, nanos, _], _) = small_message(buf)?;
    let at = u32::try_from(nanos)
        .ok()
        .and_then(|n| chrono::DateTime::from_timestamp(seconds, n))
        .ok_or(ProtobufError::InvalidTime { seconds, nanos })?;
    let format = if micro {
        "%Y-%m-%dT%H:%M:%S%.6fZ"
    } else {
        "%Y-%m-%dT%H:%M:%SZ"
    };
    Ok(Value::String(at.format(format).to_string()))
}

/// `metav1.Duration` {duration = 1, nanoseconds}: Go's `time.Duration.String()` form.
fn duration(buf: &[u8]) -> Result<Value, ProtobufError> {
    let ([_, nanos, _, _], _) = small_message(buf)?;
    Ok(Value::String(go_duration(nanos)))
}

fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_string();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let fraction = |rem: u64, digits: usize| {
        if rem == 0 {
            String::new()
        } else {
            format!(".{rem:0digits$}").trim_end_matches('0').to_string()
        }
    };
    if n < 1_000_000_000 {
        let (unit, div, digits) = match n {
            0..=999 => ("ns", 1, 0),
            1_000..=999_999 => ("µs", 1_000, 3),
            _ => ("ms", 1_000_000, 6),
        };
        return format!("{sign}{}{}{unit}", n / div, fraction(n % div, digits));
    }
    let secs = n / 1_000_000_000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = sign.to_string();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{s}{}s", fraction(n % 1_000_000_000, 9)));
    out
}

/// `resource.Quantity` {string = 1}: its canonical string; the zero quantity is "0".
fn quantity(buf: &[u8]) -> Result<Value, ProtobufError> {
    let (_, [_, s, _, _]) = small_message(buf)?;
    let s = s.map(|b| String::from_utf8(b.to_vec())).transpose();
    let s = s.map_err(|_| ProtobufError::InvalidUtf8 {
        message: QUANTITY,
        field: 1,
    })?;
    Ok(Value::String(
        s.filter(|s| !s.is_empty())
            .unwrap_or_else(|| "0".to_string()),
    ))
}

/// `intstr.IntOrString` {type = 1 (0 int, 1 string), intVal = 2, strVal = 3}.
fn int_or_string(buf: &[u8]) -> Result<Value, ProtobufError> {
    let ([_, kind, int_val, _], [_, _, _, str_val]) = small_message(buf)?;
    if kind == 1 {
        let s = String::from_utf8(str_val.unwrap_or_default().to_vec()).map_err(|_| {
            ProtobufError::InvalidUtf8 {
                message: INT_OR_STRING,
                field: 3,
            }
        })?;
        return Ok(Value::String(s));
    }
    Ok(Value::from(int_val as i32))
}

/// `runtime.RawExtension` {raw = 1} and `metav1.FieldsV1` {Raw = 1}: bytes that are already
/// an encoded object — JSON, or a nested protobuf envelope.
fn embedded(buf: &[u8], depth: usize) -> Result<Value, ProtobufError> {
    let (_, [_, raw, _, _]) = small_message(buf)?;
    match raw {
        None | Some([]) => Ok(Value::Null),
        Some(raw) if raw.starts_with(super::MAGIC) => super::decode_envelope(raw, depth + 1),
        Some(raw) => {
            serde_json::from_slice(raw).map_err(|e| ProtobufError::InvalidEmbedded(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(1_500), "1.5µs");
        assert_eq!(go_duration(100_000_000), "100ms");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(-2_000_000_000), "-2s");
    }

    #[test]
    fn times_are_rfc3339_and_zero_is_null() {
        assert_eq!(time(&[], false).unwrap(), Value::Null);
        // seconds = 1700000000, nanos = 123456789
        let mut buf = vec![0x08];
        let mut v = 1_700_000_000u64;
        while v >= 0x80 {
            buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        buf.push(v as u8);
        buf.extend([0x10, 0x95, 0x9a, 0xef, 0x3a]);
        assert_eq!(time(&buf, false).unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(time(&buf, true).unwrap(), "2023-11-14T22:13:20.123456Z");
    }
}
