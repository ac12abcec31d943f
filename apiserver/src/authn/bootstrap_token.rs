//! Bootstrap tokens (`--enable-bootstrap-token-auth`), as upstream's
//! `plugin/pkg/auth/authenticator/token/bootstrap`: a bearer token `<id>.<secret>` (6 and 16
//! characters of `[a-z0-9]`) authenticates as `system:bootstrap:<id>` when the Secret
//! `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token` holds the same
//! `token-id` and `token-secret`, allows `usage-bootstrap-authentication`, has not expired
//! and is not being deleted. Its groups are `system:bootstrappers` plus `auth-extra-groups`.
//!
//! The Secret is read from the watch cache, as upstream reads it from a lister: a request
//! with a made-up token id costs no etcd round trip.

use base64::Engine;
use serde_json::Value;

use super::{UserInfo, AUTHENTICATED};
use crate::store::Store;

/// Namespace of bootstrap token Secrets.
pub const NAMESPACE: &str = "kube-system";
/// Prefix of a bootstrap token Secret's name.
pub const SECRET_PREFIX: &str = "bootstrap-token-";
/// Type of a bootstrap token Secret.
pub const SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";
/// Prefix of a bootstrap token user's name.
pub const USER_PREFIX: &str = "system:bootstrap:";
/// The group every bootstrap token user is in.
pub const BOOTSTRAPPERS_GROUP: &str = "system:bootstrappers";

/// Why a bootstrap token was refused (logged; the client only sees 401).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BootstrapTokenError {
    /// No Secret for the token id.
    #[error("no bootstrap token secret {0}")]
    NoSecret(String),
    /// The Secret is on its way out.
    #[error("bootstrap token secret {0} is being deleted")]
    Deleting(String),
    /// The Secret is not a bootstrap token.
    #[error("bootstrap token secret {0} has type {1:?}, not {SECRET_TYPE}")]
    WrongType(String, String),
    /// `token-id` or `token-secret` do not match.
    #[error("bootstrap token secret {0} does not match the token")]
    Mismatch(String),
    /// Past `expiration`, or an expiration that does not parse.
    #[error("bootstrap token secret {0} has expired")]
    Expired(String),
    /// `usage-bootstrap-authentication` is not `"true"`.
    #[error("bootstrap token secret {0} is not marked for authentication")]
    NotForAuthentication(String),
    /// An `auth-extra-groups` entry outside `system:bootstrappers:`.
    #[error("bootstrap token secret {0} has an invalid extra group {1:?}")]
    BadGroup(String, String),
}

/// Split a bearer token into id and secret when it has the bootstrap token shape
/// (`^[a-z0-9]{6}\.[a-z0-9]{16}$`); anything else is not a bootstrap token.
pub fn parse_token(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.split_once('.')?;
    let ok = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    (ok(id, 6) && ok(secret, 16)).then_some((id, secret))
}

/// Compare without an early exit, so the time taken says nothing about how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn data_field(secret: &Value, key: &str) -> Option<String> {
    let raw = secret.get("data")?.get(key)?.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
    String::from_utf8(bytes).ok()
}

/// A valid extra group: `system:bootstrappers:` then `[a-z0-9:-]{0,255}[a-z0-9]`
/// (upstream's `BootstrapGroupPattern`).
pub fn valid_extra_group(g: &str) -> bool {
    let Some(rest) = g.strip_prefix("system:bootstrappers:") else {
        return false;
    };
    let ok_char = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !rest.is_empty()
        && rest.len() <= 256
        && rest.bytes().all(|b| ok_char(b) || b == b':' || b == b'-')
        && rest.bytes().last().is_some_and(ok_char)
}

/// Check a token against its Secret (`now` in seconds since the epoch).
pub fn check_secret(
    secret: &Value,
    id: &str,
    token_secret: &str,
    now: i64,
) -> Result<UserInfo, BootstrapTokenError> {
    let name = format!("{SECRET_PREFIX}{id}");
    if secret
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|d| !d.is_null())
    {
        return Err(BootstrapTokenError::Deleting(name));
    }
    let ty = secret
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if ty != SECRET_TYPE {
        return Err(BootstrapTokenError::WrongType(name, ty.to_string()));
    }
    let stored_secret = data_field(secret, "token-secret").unwrap_or_default();
    let secret_ok = constant_time_eq(stored_secret.as_bytes(), token_secret.as_bytes());
    let id_ok = data_field(secret, "token-id").as_deref() == Some(id);
    if !(secret_ok && id_ok) {
        return Err(BootstrapTokenError::Mismatch(name));
    }
    if let Some(exp) = data_field(secret, "expiration") {
        let expired = match chrono::DateTime::parse_from_rfc3339(&exp) {
            Ok(t) => now > t.timestamp(),
            // Upstream treats an unreadable expiration as expired.
            Err(_) => true,
        };
        if expired {
            return Err(BootstrapTokenError::Expired(name));
        }
    }
    if data_field(secret, "usage-bootstrap-authentication").as_deref() != Some("true") {
        return Err(BootstrapTokenError::NotForAuthentication(name));
    }
    let mut groups = vec![BOOTSTRAPPERS_GROUP.to_string()];
    if let Some(extra) = data_field(secret, "auth-extra-groups") {
        for g in extra.split(',').map(str::trim).filter(|g| !g.is_empty()) {
            if !valid_extra_group(g) {
                return Err(BootstrapTokenError::BadGroup(name, g.to_string()));
            }
            if !groups.iter().any(|have| have == g) {
                groups.push(g.to_string());
            }
        }
    }
    groups.push(AUTHENTICATED.to_string());
    Ok(UserInfo {
        name: format!("{USER_PREFIX}{id}"),
        groups,
        ..Default::default()
    })
}

/// Authenticate a bearer token that has the bootstrap shape. `None`: not a bootstrap token
/// (the next authenticator may know it).
pub fn authenticate(
    store: &Store,
    token: &str,
    now: i64,
) -> Option<Result<UserInfo, BootstrapTokenError>> {
    let (id, token_secret) = parse_token(token)?;
    let secrets = api_types::catalog::find("", "v1", "secrets")?;
    let name = format!("{SECRET_PREFIX}{id}");
    let key = store.key(secrets, Some(NAMESPACE), &name);
    Some(match store.cache.get(&key) {
        Some(obj) => check_secret(obj.value(), id, token_secret, now),
        None => Err(BootstrapTokenError::NoSecret(name)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn secret(pairs: &[(&str, &str)]) -> Value {
        let data: serde_json::Map<String, Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), json!(b64(v))))
            .collect();
        json!({"metadata": {"name": "bootstrap-token-abcdef", "namespace": "kube-system"},
               "type": SECRET_TYPE, "data": data})
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("token-id", "abcdef"),
            ("token-secret", "0123456789abcdef"),
            ("usage-bootstrap-authentication", "true"),
            ("expiration", "2030-01-01T00:00:00Z"),
            (
                "auth-extra-groups",
                "system:bootstrappers:kubeadm:default-node-token",
            ),
        ]
    }

    const NOW: i64 = 1_800_000_000; // 2027-01-15

    #[test]
    fn token_shape() {
        assert_eq!(
            parse_token("abcdef.0123456789abcdef"),
            Some(("abcdef", "0123456789abcdef"))
        );
        assert_eq!(parse_token("abcde.0123456789abcdef"), None);
        assert_eq!(parse_token("ABCDEF.0123456789abcdef"), None);
        assert_eq!(parse_token("abcdef.0123456789abcdef0"), None);
        assert_eq!(parse_token("abcdef0123456789abcdef"), None);
        assert_eq!(parse_token("eyJhbGciOi.eyJpc3Mi.c2ln"), None);
    }

    #[test]
    fn a_matching_secret_gives_the_bootstrap_user() {
        let u = check_secret(&secret(&good()), "abcdef", "0123456789abcdef", NOW).expect("ok");
        assert_eq!(u.name, "system:bootstrap:abcdef");
        assert_eq!(
            u.groups,
            [
                "system:bootstrappers",
                "system:bootstrappers:kubeadm:default-node-token",
                "system:authenticated"
            ]
        );
    }

    #[test]
    fn refusals() {
        let s = secret(&good());
        assert!(matches!(
            check_secret(&s, "abcdef", "0123456789abcdeX", NOW),
            Err(BootstrapTokenError::Mismatch(_))
        ));
        let expired = check_secret(&s, "abcdef", "0123456789abcdef", 1_900_000_000);
        assert!(matches!(expired, Err(BootstrapTokenError::Expired(_))));
        let mut g = good();
        g.retain(|(k, _)| *k != "usage-bootstrap-authentication");
        assert!(matches!(
            check_secret(&secret(&g), "abcdef", "0123456789abcdef", NOW),
            Err(BootstrapTokenError::NotForAuthentication(_))
        ));
        let mut g = good();
        g.push(("expiration", "next tuesday"));
        g.remove(3);
        assert!(matches!(
            check_secret(&secret(&g), "abcdef", "0123456789abcdef", NOW),
            Err(BootstrapTokenError::Expired(_))
        ));
        let mut g = good();
        g[4] = ("auth-extra-groups", "system:masters");
        assert!(matches!(
            check_secret(&secret(&g), "abcdef", "0123456789abcdef", NOW),
            Err(BootstrapTokenError::BadGroup(_, _))
        ));
        let mut opaque = secret(&good());
        opaque["type"] = json!("Opaque");
        assert!(matches!(
            check_secret(&opaque, "abcdef", "0123456789abcdef", NOW),
            Err(BootstrapTokenError::WrongType(_, _))
        ));
        let mut deleting = secret(&good());
        deleting["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert!(matches!(
            check_secret(&deleting, "abcdef", "0123456789abcdef", NOW),
            Err(BootstrapTokenError::Deleting(_))
        ));
    }

    #[test]
    fn extra_groups_must_be_bootstrapper_groups() {
        assert!(valid_extra_group(
            "system:bootstrappers:kubeadm:default-node-token"
        ));
        assert!(!valid_extra_group("system:bootstrappers:"));
        assert!(!valid_extra_group("system:bootstrappers:Upper"));
        assert!(!valid_extra_group("system:bootstrappers:trailing-"));
        assert!(!valid_extra_group("system:nodes"));
    }

    #[test]
    fn comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
