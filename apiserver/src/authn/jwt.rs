//! JSON Web Tokens in JWS compact form (`header.payload.signature`, base64url without padding):
//! signing with the service account key and checking signatures, strictly. Only asymmetric
//! algorithms are accepted, so `alg: none` and an HMAC "signed" with a public key fail.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::keys::{Algorithm, PublicKey, SigningKey};

/// Tokens longer than this are not even parsed.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// Why a token was refused. The client only ever sees "Unauthorized"; the reason is logged
/// and shown in TokenReview's `status.error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts of JSON.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// `alg` is not one we verify with.
    #[error("unsupported signing algorithm {0:?}")]
    Algorithm(String),
    /// No trusted key verifies the signature.
    #[error("invalid signature")]
    Signature,
}

/// Sign `claims` with `key`, with the key ID in the header.
pub fn sign(key: &SigningKey, claims: &Value) -> Result<String, String> {
    let header = json!({"alg": key.public.alg.name(), "kid": key.public.kid});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// Decode the claims without checking the signature (to see whether a token is ours at all,
/// by its issuer, before spending a signature check on it).
pub fn peek_claims(token: &str) -> Result<Value, JwtError> {
    split(token).map(|p| p.claims)
}

struct Parts {
    header: Value,
    claims: Value,
    signature: Vec<u8>,
    /// Length of `header.payload`, the signing input.
    input_len: usize,
}

fn split(token: &str) -> Result<Parts, JwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::Malformed("too long"));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed("not three dot-separated parts"));
    };
    let decode_json = |part: &str, what: &'static str| -> Result<Value, JwtError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| JwtError::Malformed(what))?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err(JwtError::Malformed(what)),
        }
    };
    Ok(Parts {
        header: decode_json(h, "header is not base64url JSON")?,
        claims: decode_json(p, "payload is not base64url JSON")?,
        signature: URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| JwtError::Malformed("signature is not base64url"))?,
        input_len: h.len() + 1 + p.len(),
    })
}

/// Check the token's signature against the trusted keys and return its claims. The `kid`
/// header, when present, picks the key; otherwise every key of the right type is tried.
pub fn verify(token: &str, keys: &[PublicKey]) -> Result<Value, JwtError> {
    let parts = split(token)?;
    let alg_name = parts
        .header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or("");
    let alg =
        Algorithm::from_name(alg_name).ok_or_else(|| JwtError::Algorithm(alg_name.to_string()))?;
    if parts.header.get("crit").is_some() {
        return Err(JwtError::Malformed("critical header extensions"));
    }
    let kid = parts.header.get("kid").and_then(Value::as_str);
    let input = &token.as_bytes()[..parts.input_len];
    let ok = keys
        .iter()
        .filter(|k| kid.is_none_or(|kid| kid == k.kid))
        .any(|k| k.verify(alg, input, &parts.signature));
    if ok {
        Ok(parts.claims)
    } else {
        Err(JwtError::Signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        let k = rcgen::KeyPair::generate().expect("key");
        SigningKey::from_pkcs8(&k.serialize_der()).expect("signing key")
    }

    fn forge(header: &Value, claims: &Value, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            URL_SAFE_NO_PAD.encode(sig)
        )
    }

    #[test]
    fn signed_tokens_verify_and_tampering_is_caught() {
        let k = key();
        let keys = vec![k.public.clone()];
        let token = sign(&k, &json!({"sub": "a"})).expect("sign");
        assert_eq!(verify(&token, &keys).expect("valid")["sub"], "a");

        // Swap the payload, keep the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let evil = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#),
            parts[2]
        );
        assert_eq!(verify(&evil, &keys).unwrap_err(), JwtError::Signature);
        // Another key's signature.
        let other = sign(&key(), &json!({"sub": "a"})).expect("sign");
        assert_eq!(verify(&other, &keys).unwrap_err(), JwtError::Signature);
    }

    #[test]
    fn none_and_hmac_are_refused() {
        let k = key();
        let keys = vec![k.public.clone()];
        let none = forge(&json!({"alg": "none"}), &json!({"sub": "a"}), b"");
        assert!(matches!(verify(&none, &keys), Err(JwtError::Algorithm(_))));
        // HS256 keyed with the public key (the classic confusion attack).
        let hs = forge(&json!({"alg": "HS256"}), &json!({"sub": "a"}), b"mac");
        assert!(matches!(verify(&hs, &keys), Err(JwtError::Algorithm(_))));
        // RS256 header on an ECDSA signature.
        let token = sign(&k, &json!({"sub": "a"})).expect("sign");
        let sig = URL_SAFE_NO_PAD
            .decode(token.rsplit('.').next().expect("sig"))
            .expect("b64");
        let rs = forge(
            &json!({"alg": "RS256", "kid": k.public.kid}),
            &json!({"sub": "a"}),
            &sig,
        );
        assert_eq!(verify(&rs, &keys).unwrap_err(), JwtError::Signature);
    }

    #[test]
    fn malformed_tokens_are_errors_not_panics() {
        let keys = vec![key().public];
        for t in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b.c.d",
            "eyJhbGciOiJFUzI1NiJ9..",
            "W10.W10.AA",
            "\u{1F600}.\u{1F600}.\u{1F600}",
        ] {
            assert!(verify(t, &keys).is_err(), "{t:?}");
        }
        let huge = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(
            verify(&huge, &keys).unwrap_err(),
            JwtError::Malformed("too long")
        );
    }
}
