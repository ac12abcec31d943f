//! Bootstrap token Secrets as the bootstrap controllers read them (upstream's
//! `cluster-bootstrap/token/api` names and `util/secrets` helpers): Secrets of type
//! `bootstrap.kubernetes.io/token` named `bootstrap-token-<id>` in `kube-system`, with the
//! token's id and secret, an optional RFC 3339 `expiration` and the `usage-bootstrap-*`
//! flags.

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;

/// The Secret type of bootstrap tokens.
pub const SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";
/// Where token Secrets live.
pub const TOKEN_NAMESPACE: &str = "kube-system";
/// Secret names are this prefix and the token id.
pub const SECRET_NAME_PREFIX: &str = "bootstrap-token-";
/// The public token id (6 characters `[a-z0-9]`).
pub const TOKEN_ID_KEY: &str = "token-id";
/// The private half (16 characters `[a-z0-9]`).
pub const TOKEN_SECRET_KEY: &str = "token-secret";
/// When the token stops being valid (RFC 3339).
pub const EXPIRATION_KEY: &str = "expiration";
/// `"true"` when the token may sign the cluster-info ConfigMap.
pub const USAGE_SIGNING_KEY: &str = "usage-bootstrap-signing";

/// The namespace of the `cluster-info` ConfigMap (readable anonymously).
pub const CLUSTER_INFO_NAMESPACE: &str = "kube-public";
/// The ConfigMap joining nodes read to find and trust the apiserver.
pub const CLUSTER_INFO: &str = "cluster-info";
/// Its key holding the kubeconfig that gets signed.
pub const KUBECONFIG_KEY: &str = "kubeconfig";
/// Signature keys are this prefix and the token id.
pub const JWS_KEY_PREFIX: &str = "jws-kubeconfig-";

/// A data value of the Secret as text ("" when missing, as upstream's `GetData`).
pub fn data(secret: &Secret, key: &str) -> String {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|v| String::from_utf8_lossy(&v.0).into_owned())
        .unwrap_or_default()
}

/// The token id in a Secret name `bootstrap-token-<id>`, if the name has that form.
pub fn parse_name(name: &str) -> Option<&str> {
    let id = name.strip_prefix(SECRET_NAME_PREFIX)?;
    let ok = id.len() == 6
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    ok.then_some(id)
}

/// Where a token stands against its `expiration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No `expiration`: valid until deleted.
    Never,
    /// Valid for this long still.
    In(Duration),
    /// Past its expiration, or the value does not parse (treated as expired, as upstream).
    Expired,
}

/// The token's expiry at `now_unix_ms` (milliseconds since the epoch).
pub fn expiry(secret: &Secret, now_unix_ms: i64) -> Expiry {
    let value = data(secret, EXPIRATION_KEY);
    if value.is_empty() {
        return Expiry::Never;
    }
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(&value) else {
        return Expiry::Expired;
    };
    let left_ms = at.timestamp_millis() - now_unix_ms;
    if left_ms <= 0 {
        Expiry::Expired
    } else {
        Expiry::In(Duration::from_millis(left_ms as u64))
    }
}

/// Whether this is a bootstrap token Secret at all.
pub fn is_token_secret(secret: &Secret) -> bool {
    secret.type_.as_deref() == Some(SECRET_TYPE)
}

/// The `(id, secret)` of a token that may sign cluster-info: a well-named token Secret
/// whose `token-id` matches its name, with a secret, not expired, and
/// `usage-bootstrap-signing: "true"` (upstream's `validateSecretForSigning`).
pub fn signing_token(secret: &Secret, now_unix_ms: i64) -> Option<(String, String)> {
    if !is_token_secret(secret) {
        return None;
    }
    let name_id = parse_name(secret.metadata.name.as_deref().unwrap_or_default())?;
    let id = data(secret, TOKEN_ID_KEY);
    if id.is_empty() || id != name_id {
        return None;
    }
    let token_secret = data(secret, TOKEN_SECRET_KEY);
    if token_secret.is_empty() || expiry(secret, now_unix_ms) == Expiry::Expired {
        return None;
    }
    (data(secret, USAGE_SIGNING_KEY) == "true").then_some((id, token_secret))
}

/// The current time in milliseconds since the epoch.
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod testing {
    use k8s_openapi::api::core::v1::Secret;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use k8s_openapi::ByteString;

    /// A token Secret `bootstrap-token-<id>` with `data`.
    pub fn token_secret(id: &str, data: &[(&str, &str)]) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some(format!("bootstrap-token-{id}")),
                namespace: Some("kube-system".into()),
                ..Default::default()
            },
            type_: Some(super::SECRET_TYPE.into()),
            data: Some(
                data.iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                    .collect(),
            ),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::token_secret;
    use super::*;

    /// 2030-01-01T00:00:00Z in milliseconds.
    const T2030: i64 = 1_893_456_000_000;

    #[test]
    fn expiry_reads_rfc3339_and_treats_garbage_as_expired() {
        let s = |exp: &str| token_secret("abcdef", &[("expiration", exp)]);
        assert_eq!(expiry(&token_secret("abcdef", &[]), T2030), Expiry::Never);
        assert_eq!(
            expiry(&s("2030-01-01T00:01:00Z"), T2030),
            Expiry::In(Duration::from_secs(60))
        );
        // Offsets count.
        assert_eq!(
            expiry(&s("2030-01-01T01:00:30+01:00"), T2030),
            Expiry::In(Duration::from_secs(30))
        );
        assert_eq!(expiry(&s("2030-01-01T00:00:00Z"), T2030), Expiry::Expired);
        assert_eq!(expiry(&s("2029-12-31T23:59:59Z"), T2030), Expiry::Expired);
        assert_eq!(expiry(&s("tomorrow"), T2030), Expiry::Expired);
    }

    #[test]
    fn names_must_be_prefix_and_six_lowercase_alphanumerics() {
        assert_eq!(parse_name("bootstrap-token-abc123"), Some("abc123"));
        assert_eq!(parse_name("bootstrap-token-ABC123"), None);
        assert_eq!(parse_name("bootstrap-token-abc1234"), None);
        assert_eq!(parse_name("token-abc123"), None);
    }

    #[test]
    fn signing_tokens_need_matching_id_secret_usage_and_time() {
        let good = [
            ("token-id", "abcdef"),
            ("token-secret", "0123456789abcdef"),
            ("usage-bootstrap-signing", "true"),
            ("expiration", "2030-01-01T00:10:00Z"),
        ];
        assert_eq!(
            signing_token(&token_secret("abcdef", &good), T2030),
            Some(("abcdef".into(), "0123456789abcdef".into()))
        );
        let without = |skip: &str| {
            let d: Vec<_> = good.iter().copied().filter(|(k, _)| *k != skip).collect();
            token_secret("abcdef", &d)
        };
        assert_eq!(
            signing_token(&without("usage-bootstrap-signing"), T2030),
            None
        );
        assert_eq!(signing_token(&without("token-secret"), T2030), None);
        assert_eq!(signing_token(&without("token-id"), T2030), None);
        // Without expiration it never expires.
        assert!(signing_token(&without("expiration"), T2030).is_some());
        // Expired, or the id does not match the name.
        assert_eq!(
            signing_token(&token_secret("abcdef", &good), T2030 + 3_600_000),
            None
        );
        assert_eq!(signing_token(&token_secret("zzzzzz", &good), T2030), None);
        let mut other_type = token_secret("abcdef", &good);
        other_type.type_ = Some("Opaque".into());
        assert_eq!(signing_token(&other_type, T2030), None);
    }
}
