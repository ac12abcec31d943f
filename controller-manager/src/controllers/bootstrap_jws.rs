//! Detached JWS signatures of the `cluster-info` kubeconfig (RFC 7515 appendix F), as
//! upstream's `cluster-bootstrap/token/jws`: a compact HS256 JWS whose payload part is left
//! out (`<header>..<signature>`), keyed by the bootstrap token's secret and naming the
//! token id as `kid`. A joining node that knows the token recomputes it to trust the
//! kubeconfig (and so the CA) it read anonymously.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// HMAC keys shorter than this are zero-padded to it (go-jose's minimum HS256 key size,
/// which upstream pads to; HMAC pads short keys with zeros anyway, so the result is the
/// same as with the bare secret).
const MIN_KEY_LEN: usize = 32;

/// The detached signature of `content` for token `<token_id>.<token_secret>`.
pub fn compute_detached_signature(content: &str, token_id: &str, token_secret: &str) -> String {
    let mut key = token_secret.as_bytes().to_vec();
    if key.len() < MIN_KEY_LEN {
        key.resize(MIN_KEY_LEN, 0);
    }
    // The protected header as go-jose writes it: keys sorted, no spaces.
    let header = serde_json::json!({"alg": "HS256", "kid": token_id}).to_string();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.as_bytes()),
        URL_SAFE_NO_PAD.encode(content.as_bytes())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let tag = ring::hmac::sign(&key, signing_input.as_bytes());
    let header_part = signing_input.split('.').next().unwrap_or_default();
    format!("{header_part}..{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Whether `signature` is the detached signature of `content` for the token (what a
/// joining node checks; the controller only computes).
#[cfg(test)]
pub fn detached_signature_is_valid(
    signature: &str,
    content: &str,
    token_id: &str,
    token_secret: &str,
) -> bool {
    compute_detached_signature(content, token_id, token_secret) == signature
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTENT: &str = "Hello from the other side. I must have called a thousand times.";

    /// Upstream's published vectors (cluster-bootstrap's jws tests); python3's hmac and
    /// base64 modules give the same strings.
    #[test]
    fn matches_upstream_vectors() {
        let header = "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9";
        assert_eq!(
            compute_detached_signature(CONTENT, "joshua", "my voice is my passcode"),
            format!("{header}..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8")
        );
        assert_eq!(
            compute_detached_signature("", "joshua", "my voice is my passcode"),
            format!("{header}..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk")
        );
        assert_eq!(
            compute_detached_signature(CONTENT, "joshua", ""),
            format!("{header}..UfkqvDGiIFxrMnFseDj9LYJOLNrvjW8aHhF71mvvAs8")
        );
    }

    /// A bootstrap-token-shaped vector, computed independently with
    /// `hmac.new(secret.ljust(32, b"\0"), header + "." + payload, sha256)` in python3.
    #[test]
    fn matches_a_python_computed_token_vector() {
        assert_eq!(
            compute_detached_signature(
                "apiVersion: v1\nkind: Config\n",
                "abcdef",
                "0123456789abcdef"
            ),
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiY2RlZiJ9..vH_kT4yiol-nrAWgjfCYqvum5wsKETXe0S7OOp1VgnE"
        );
    }

    #[test]
    fn validity_check_rejects_other_content_or_token() {
        let sig = compute_detached_signature(CONTENT, "abcdef", "0123456789abcdef");
        assert!(detached_signature_is_valid(
            &sig,
            CONTENT,
            "abcdef",
            "0123456789abcdef"
        ));
        assert!(!detached_signature_is_valid(
            &sig,
            "other",
            "abcdef",
            "0123456789abcdef"
        ));
        assert!(!detached_signature_is_valid(
            &sig,
            CONTENT,
            "abcdef",
            "0123456789abcdeX"
        ));
        assert!(!detached_signature_is_valid(
            &sig,
            CONTENT,
            "abcdeg",
            "0123456789abcdef"
        ));
    }
}
