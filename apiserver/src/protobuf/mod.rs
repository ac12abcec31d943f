//! Request bodies in the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`).
//!
//! Since client-go 1.31 the typed clientsets of built-in groups send create/update bodies as
//! protobuf, so `kubectl create namespace|configmap|secret|deployment|…`, `kubectl run` and
//! `kubectl create token` all POST protobuf. The apiserver keeps objects as JSON, so a body is
//! decoded here into exactly the JSON the same object would have been sent as; responses stay
//! JSON (clients decode by the response's Content-Type).
//!
//! The encoding: the 4-byte magic `k8s\0`, then a `runtime.Unknown` message
//! {typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3, contentType = 4}
//! whose `raw` is the object's own message (which carries no apiVersion/kind). The object's
//! fields are read by a generic wire-format walker ([`decode`]) driven by a schema table
//! ([`schema_table`], generated from upstream's `generated.proto` and Go types).

mod decode;
mod go_zero;
mod schema;
mod schema_table;
mod wire;

#[cfg(test)]
mod tests;

pub use go_zero::zero_status;
use serde_json::{Map, Value};
use wire::{records, WireValue};

/// The media type of the Kubernetes protobuf encoding.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The prefix of every protobuf-encoded Kubernetes object.
const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf body could not be decoded. Every variant is the client's fault (400).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProtobufError {
    #[error("protobuf body does not start with the Kubernetes magic prefix \"k8s\\x00\"")]
    MissingMagic,
    #[error("protobuf message is truncated")]
    Truncated,
    #[error("protobuf varint is longer than 10 bytes")]
    BadVarint,
    #[error("protobuf field number is invalid")]
    BadFieldNumber,
    #[error("protobuf wire type {0} is not supported")]
    UnsupportedWireType(u8),
    #[error("field {field} of {message} has unexpected wire type {wire_type}")]
    WireType {
        message: &'static str,
        field: u32,
        wire_type: u8,
    },
    #[error("field {field} of {message} is not valid UTF-8")]
    InvalidUtf8 { message: &'static str, field: u32 },
    #[error("time {seconds}s {nanos}ns is out of range")]
    InvalidTime { seconds: i64, nanos: i64 },
    #[error("embedded object is not valid JSON: {0}")]
    InvalidEmbedded(String),
    #[error("no protobuf schema for kind {kind:?} in {api_version:?}")]
    UnknownKind { api_version: String, kind: String },
    #[error("no protobuf schema for message {0}")]
    UnknownMessage(String),
    #[error("protobuf content encoding {0:?} is not supported")]
    UnsupportedEncoding(String),
    #[error("embedded content type {0:?} is not supported")]
    UnsupportedContentType(String),
    #[error("protobuf message nesting exceeds {0} levels")]
    TooDeep(usize),
}

/// Whether a Content-Type header names the Kubernetes protobuf encoding (parameters such as
/// `;stream=watch` are ignored).
pub fn is_protobuf(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case(CONTENT_TYPE)
}

/// Decodes a protobuf request body (magic + `runtime.Unknown` envelope) into the object's JSON
/// form, with `apiVersion` and `kind` taken from the envelope.
pub fn decode_to_json(body: &[u8]) -> Result<Value, ProtobufError> {
    decode_envelope(body, 0)
}

/// What `runtime.Unknown` carries.
#[derive(Default)]
struct Unknown<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_encoding: String,
    content_type: String,
}

fn decode_envelope(body: &[u8], depth: usize) -> Result<Value, ProtobufError> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or(ProtobufError::MissingMagic)?;
    let unknown = unknown(rest)?;
    if !unknown.content_encoding.is_empty() {
        return Err(ProtobufError::UnsupportedEncoding(unknown.content_encoding));
    }
    let ct = unknown.content_type.as_str();
    if ct
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    {
        return serde_json::from_slice(unknown.raw)
            .map_err(|e| ProtobufError::InvalidEmbedded(e.to_string()));
    }
    if !ct.is_empty() && !is_protobuf(ct) {
        return Err(ProtobufError::UnsupportedContentType(unknown.content_type));
    }
    let name = message_name(&unknown.api_version, &unknown.kind).ok_or_else(|| {
        ProtobufError::UnknownKind {
            api_version: unknown.api_version.clone(),
            kind: unknown.kind.clone(),
        }
    })?;
    let fields = match decode::message(name, unknown.raw, depth)? {
        Value::Object(fields) => fields,
        _ => Map::new(),
    };
    let mut object = Map::new();
    object.insert("apiVersion".to_string(), Value::String(unknown.api_version));
    object.insert("kind".to_string(), Value::String(unknown.kind));
    object.extend(fields);
    Ok(Value::Object(object))
}

fn unknown(buf: &[u8]) -> Result<Unknown<'_>, ProtobufError> {
    const UNKNOWN: &str = "k8s.io.apimachinery.pkg.runtime.Unknown";
    let string = |field: u32, raw: WireValue<'_>| match raw {
        WireValue::Bytes(b) => {
            String::from_utf8(b.to_vec()).map_err(|_| ProtobufError::InvalidUtf8 {
                message: UNKNOWN,
                field,
            })
        }
        other => Err(ProtobufError::WireType {
            message: UNKNOWN,
            field,
            wire_type: other.wire_type(),
        }),
    };
    let mut out = Unknown::default();
    for (number, raw) in records(buf)? {
        match (number, raw) {
            (1, WireValue::Bytes(type_meta)) => {
                for (number, raw) in records(type_meta)? {
                    match number {
                        1 => out.api_version = string(1, raw)?,
                        2 => out.kind = string(2, raw)?,
                        _ => {}
                    }
                }
            }
            (2, WireValue::Bytes(raw)) => out.raw = raw,
            (3, raw) => out.content_encoding = string(3, raw)?,
            (4, raw) => out.content_type = string(4, raw)?,
            (1 | 2, raw) => {
                return Err(ProtobufError::WireType {
                    message: UNKNOWN,
                    field: number,
                    wire_type: raw.wire_type(),
                })
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The protobuf message of a kind: `k8s.io.api.<group's first label or core>.<version>.<Kind>`,
/// or a meta/v1 type (`DeleteOptions`, …), which every group version also serves.
fn message_name(api_version: &str, kind: &str) -> Option<&'static str> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let package = match group.split('.').next() {
        Some("") | None => "core",
        Some(first) => first,
    };
    [
        format!("k8s.io.api.{package}.{version}.{kind}"),
        format!("k8s.io.apimachinery.pkg.apis.meta.v1.{kind}"),
        // apiregistration.k8s.io lives in kube-aggregator's own proto package.
        format!("k8s.io.kube_aggregator.pkg.apis.{package}.{version}.{kind}"),
    ]
    .iter()
    .find_map(|name| schema::message(name))
    .filter(|m| !m.fields.is_empty())
    .map(|m| m.name)
}
