//! Reading request bodies: size limit, content types (JSON, YAML, patch types), decoding.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::Value;

use crate::errors::ApiError;
use crate::store::write::PatchType;

/// Read the whole body, refusing more than `max` bytes with 413.
pub async fn read(body: Incoming, max: usize) -> Result<Bytes, ApiError> {
    match Limited::new(body, max).collect().await {
        Ok(c) => {
            let bytes = c.to_bytes();
            crate::audit::record_request_body(None, &bytes);
            Ok(bytes)
        }
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(ApiError::too_large(format!(
                    "Request entity too large: limit is {max}"
                )))
            } else {
                Err(ApiError::bad_request(format!(
                    "error reading request body: {e}"
                )))
            }
        }
    }
}

fn media_type(content_type: Option<&str>) -> String {
    content_type
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Decode an object body (create, update) as JSON or YAML.
pub fn decode_object(content_type: Option<&str>, bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the body of the request was empty"));
    }
    match media_type(content_type).as_str() {
        "application/json" | "" | "*/*" => decode_json(bytes),
        "application/yaml" | "application/x-yaml" | "text/yaml" => decode_yaml(bytes),
        // client-go ≥ 1.31 sends built-in types as protobuf.
        ct if crate::protobuf::is_protobuf(ct) => {
            crate::protobuf::decode_to_json(bytes).map_err(|e| {
                ApiError::bad_request(format!("error decoding protobuf request body: {e}"))
            })
        }
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

/// Decode JSON with an error message that says where it broke.
pub fn decode_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("error decoding request body as JSON: {e}")))
}

/// Decode YAML into the JSON data model.
pub fn decode_yaml(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_yaml::from_slice::<Value>(bytes)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
}

/// The patch type of a PATCH request.
pub fn patch_type(content_type: Option<&str>, force: bool) -> Result<PatchType, ApiError> {
    match media_type(content_type).as_str() {
        "application/json-patch+json" => Ok(PatchType::Json),
        "application/merge-patch+json" => Ok(PatchType::Merge),
        "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
        "application/apply-patch+yaml" => Ok(PatchType::Apply { force }),
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

/// Decode a patch document for its type (apply patches are YAML, which includes JSON).
pub fn decode_patch(pt: PatchType, bytes: &[u8]) -> Result<Value, ApiError> {
    match pt {
        PatchType::Apply { .. } => decode_yaml(bytes),
        _ => decode_json(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_bodies() {
        let v = decode_object(
            Some("application/yaml"),
            b"kind: ConfigMap\ndata:\n  a: b\n",
        )
        .expect("yaml");
        assert_eq!(v["data"]["a"], "b");
        let e = decode_object(Some("application/json"), b"{\"kind\": ").expect_err("malformed");
        assert_eq!(e.code, 400);
        let e = decode_object(Some("application/vnd.kubernetes.protobuf"), b"x")
            .expect_err("garbage protobuf");
        assert_eq!(e.code, 400);
        let e = decode_object(Some("application/cbor"), b"x").expect_err("cbor");
        assert_eq!(e.code, 415);
    }
}
