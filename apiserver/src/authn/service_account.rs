//! Service account tokens: issuing bound tokens (for TokenRequest) and authenticating them.
//!
//! A bound token is a JWT whose claims say who it is for and what it is bound to:
//! `iss`, `sub` (`system:serviceaccount:<ns>:<name>`), `aud`, `exp`, `iat`, `nbf`, `jti`, and
//! the private claim `kubernetes.io` = `{namespace, serviceaccount{name,uid},
//! pod{name,uid} | secret{name,uid} | node{name,uid}}`. It authenticates only while the
//! service account with that UID — and the object it is bound to — still exist, which is
//! looked up from storage on every request, as upstream does.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::keys::{self, PublicKey, SigningKey};
use super::{jwt, AuthnConfigError, UserInfo, AUTHENTICATED};
use crate::config::Config;
use crate::store::Store;

/// Clock skew tolerated on `exp`, `nbf` and `iat` (go-jose's default leeway, which upstream
/// validates with).
const LEEWAY_SECONDS: i64 = 60;

/// Prefix of every service account user name.
pub const USER_PREFIX: &str = "system:serviceaccount:";
/// The group of all service accounts.
pub const ALL_SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";

/// Extra keys upstream attaches to service account users.
pub mod extra {
    /// Name of the pod a token is bound to.
    pub const POD_NAME: &str = "authentication.kubernetes.io/pod-name";
    /// UID of the pod a token is bound to.
    pub const POD_UID: &str = "authentication.kubernetes.io/pod-uid";
    /// Name of the node the bound pod runs on (or the bound node).
    pub const NODE_NAME: &str = "authentication.kubernetes.io/node-name";
    /// UID of that node.
    pub const NODE_UID: &str = "authentication.kubernetes.io/node-uid";
    /// `JTI=<jti>`: which credential authenticated.
    pub const CREDENTIAL_ID: &str = "authentication.kubernetes.io/credential-id";
}

/// The object a token is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundObject {
    /// `Pod`, `Secret` or `Node`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its UID.
    pub uid: String,
}

/// What a new token says.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    /// Namespace of the service account.
    pub namespace: String,
    /// Name of the service account.
    pub name: String,
    /// UID of the service account.
    pub uid: String,
    /// Audiences (`aud`).
    pub audiences: Vec<String>,
    /// Lifetime in seconds.
    pub expiration_seconds: i64,
    /// `warnafter` (seconds since the epoch): set on tokens whose lifetime was extended.
    pub warn_after: Option<i64>,
    /// The object the token is bound to, if any.
    pub bound: Option<BoundObject>,
    /// The node a bound pod runs on (name, uid), recorded as upstream does.
    pub node: Option<(String, String)>,
}

/// A token that authenticated.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Who it authenticates as.
    pub user: UserInfo,
    /// The audiences it was accepted for (intersection with the ones asked for).
    pub audiences: Vec<String>,
}

/// Why a service account token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Bad signature, algorithm or shape.
    #[error(transparent)]
    Jwt(#[from] jwt::JwtError),
    /// Claims that do not check out.
    #[error("{0}")]
    Claims(String),
    /// The service account or the bound object is gone or was replaced.
    #[error("{0}")]
    Stale(String),
    /// Storage could not answer.
    #[error("looking up {0}")]
    Lookup(String),
}

/// Claims that passed every check that needs no storage.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidClaims {
    /// Service account namespace.
    pub namespace: String,
    /// Service account name.
    pub name: String,
    /// Service account UID.
    pub uid: String,
    /// Bound pod / secret / node.
    pub pod: Option<(String, String)>,
    /// Bound secret (name, uid).
    pub secret: Option<(String, String)>,
    /// Node (name, uid), for node-bound tokens or pods' node info.
    pub node: Option<(String, String)>,
    /// `jti`.
    pub jti: Option<String>,
    /// Audiences accepted.
    pub audiences: Vec<String>,
}

/// Issuing and verifying service account tokens.
#[derive(Debug)]
pub struct ServiceAccountTokens {
    /// Accepted issuers; the first one signs (`--service-account-issuer`).
    pub issuers: Vec<String>,
    /// Audiences tokens must carry one of (`--api-audiences`, default: the issuers).
    pub api_audiences: Vec<String>,
    /// Verification keys (`--service-account-key-file`, plus the signing key's public half).
    pub keys: Vec<PublicKey>,
    /// The signing key (`--service-account-signing-key-file`); without it no tokens are issued.
    pub signer: Option<SigningKey>,
    /// Longest lifetime TokenRequest grants (`--service-account-max-token-expiration`).
    pub max_expiration_seconds: Option<i64>,
    /// `--service-account-extend-token-expiration`: the kubelet's 3607 s pod-bound tokens
    /// are issued for a year.
    pub extend_expiration: bool,
}

impl ServiceAccountTokens {
    /// From flags; `None` when no key was configured at all.
    pub fn from_config(config: &Config) -> Result<Option<Self>, AuthnConfigError> {
        let signer = config
            .service_account_signing_key_file
            .as_deref()
            .map(SigningKey::load)
            .transpose()?;
        let mut pubs = Vec::new();
        for f in &config.service_account_key_file {
            pubs.extend(keys::load_public_keys(f)?);
        }
        if signer.is_none() && pubs.is_empty() {
            return Ok(None);
        }
        if config.service_account_issuer.is_empty() {
            return Err(AuthnConfigError::Flags(
                "--service-account-issuer is required with service account keys".into(),
            ));
        }
        let api_audiences = if config.api_audiences.is_empty() {
            config.service_account_issuer.clone()
        } else {
            config.api_audiences.clone()
        };
        let mut tokens = Self::new(
            config.service_account_issuer.clone(),
            api_audiences,
            pubs,
            signer,
            config
                .service_account_max_token_expiration
                .map(|d| d.as_secs() as i64),
        );
        tokens.extend_expiration = config.service_account_extend_token_expiration;
        Ok(Some(tokens))
    }

    /// Assemble; the signing key's public half is always trusted too.
    pub fn new(
        issuers: Vec<String>,
        api_audiences: Vec<String>,
        mut keys: Vec<PublicKey>,
        signer: Option<SigningKey>,
        max_expiration_seconds: Option<i64>,
    ) -> Self {
        if let Some(s) = &signer {
            if !keys.iter().any(|k| k.kid == s.public.kid) {
                keys.push(s.public.clone());
            }
        }
        Self {
            issuers,
            api_audiences,
            keys,
            signer,
            max_expiration_seconds,
            extend_expiration: true,
        }
    }

    /// Sign a new token; returns it with its expiry (seconds since the epoch).
    pub fn issue(&self, spec: &TokenSpec, now: i64) -> Result<(String, i64), String> {
        let signer = self
            .signer
            .as_ref()
            .ok_or("no --service-account-signing-key-file configured")?;
        let exp = now + spec.expiration_seconds;
        let mut k8s = json!({
            "namespace": spec.namespace,
            "serviceaccount": {"name": spec.name, "uid": spec.uid},
        });
        if let Some(b) = &spec.bound {
            let key = b.kind.to_ascii_lowercase();
            k8s[key] = json!({"name": b.name, "uid": b.uid});
        }
        if let Some((name, uid)) = &spec.node {
            k8s["node"] = json!({"name": name, "uid": uid});
        }
        if let Some(w) = spec.warn_after {
            k8s["warnafter"] = json!(w);
        }
        let claims = json!({
            "aud": spec.audiences,
            "exp": exp,
            "iat": now,
            "iss": self.issuers.first().cloned().unwrap_or_default(),
            "jti": uuid::Uuid::new_v4().to_string(),
            "kubernetes.io": k8s,
            "nbf": now,
            "sub": format!("{USER_PREFIX}{}:{}", spec.namespace, spec.name),
        });
        Ok((jwt::sign(signer, &claims)?, exp))
    }

    /// Signature and claims checks, no storage. `audiences`: the ones the caller accepts
    /// (default: `--api-audiences`).
    pub fn validate(
        &self,
        token: &str,
        audiences: Option<&[String]>,
        now: i64,
    ) -> Result<ValidClaims, TokenError> {
        // Cheap checks first: a token from another issuer is not ours to verify.
        let unverified = jwt::peek_claims(token)?;
        let iss = unverified.get("iss").and_then(Value::as_str).unwrap_or("");
        if !self.issuers.iter().any(|i| i == iss) {
            return Err(TokenError::Claims(format!("unknown issuer {iss:?}")));
        }
        let claims = jwt::verify(token, &self.keys)?;
        let accept = audiences.unwrap_or(&self.api_audiences);
        let aud: Vec<String> = match claims.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        let audiences: Vec<String> = aud.into_iter().filter(|a| accept.contains(a)).collect();
        if audiences.is_empty() {
            return Err(TokenError::Claims(
                "token audiences is invalid for the target audiences".into(),
            ));
        }
        let num = |k: &str| claims.get(k).and_then(Value::as_i64);
        let exp = num("exp").ok_or_else(|| TokenError::Claims("token has no exp".into()))?;
        if now > exp + LEEWAY_SECONDS {
            return Err(TokenError::Claims("token has expired".into()));
        }
        if num("nbf").is_some_and(|nbf| now + LEEWAY_SECONDS < nbf) {
            return Err(TokenError::Claims("token is not valid yet".into()));
        }
        if num("iat").is_some_and(|iat| now + LEEWAY_SECONDS < iat) {
            return Err(TokenError::Claims("token was issued in the future".into()));
        }
        let k8s = claims
            .get("kubernetes.io")
            .filter(|v| v.is_object())
            .ok_or_else(|| TokenError::Claims("token has no kubernetes.io claim".into()))?;
        let s = |v: &Value, path: &str| v.pointer(path).and_then(Value::as_str).map(String::from);
        let namespace = s(k8s, "/namespace").unwrap_or_default();
        let name = s(k8s, "/serviceaccount/name").unwrap_or_default();
        let uid = s(k8s, "/serviceaccount/uid").unwrap_or_default();
        if namespace.is_empty() || name.is_empty() || uid.is_empty() {
            return Err(TokenError::Claims(
                "kubernetes.io claim lacks namespace or service account".into(),
            ));
        }
        let sub = s(&claims, "/sub").unwrap_or_default();
        if sub != format!("{USER_PREFIX}{namespace}:{name}") {
            return Err(TokenError::Claims(
                "sub does not name the service account".into(),
            ));
        }
        let pair = |kind: &str| -> Result<Option<(String, String)>, TokenError> {
            match k8s.get(kind) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => match (s(v, "/name"), s(v, "/uid")) {
                    (Some(n), Some(u)) if !n.is_empty() && !u.is_empty() => Ok(Some((n, u))),
                    _ => Err(TokenError::Claims(format!(
                        "kubernetes.io/{kind} lacks name or uid"
                    ))),
                },
            }
        };
        Ok(ValidClaims {
            namespace,
            name,
            uid,
            pod: pair("pod")?,
            secret: pair("secret")?,
            node: pair("node")?,
            jti: s(&claims, "/jti"),
            audiences,
        })
    }

    /// Validate a token and check that what it names still exists.
    pub async fn authenticate(
        &self,
        store: &Store,
        token: &str,
        audiences: Option<&[String]>,
        now: i64,
    ) -> Result<Authenticated, TokenError> {
        let claims = self.validate(token, audiences, now)?;
        let ns = Some(claims.namespace.as_str());
        let sa = lookup(store, "serviceaccounts", ns, &claims.name).await?;
        check_live(
            "service account",
            &claims.name,
            &claims.uid,
            sa.as_ref(),
            now,
        )?;
        if let Some((name, uid)) = &claims.pod {
            let pod = lookup(store, "pods", ns, name).await?;
            check_live("pod", name, uid, pod.as_ref(), now)?;
        }
        if let Some((name, uid)) = &claims.secret {
            let secret = lookup(store, "secrets", ns, name).await?;
            check_live("secret", name, uid, secret.as_ref(), now)?;
        }
        // A token bound to a node (not just carrying a pod's node info) needs the node.
        if let (Some((name, uid)), None) = (&claims.node, &claims.pod) {
            let node = lookup(store, "nodes", None, name).await?;
            check_live("node", name, uid, node.as_ref(), now)?;
        }
        Ok(Authenticated {
            user: user_for(&claims),
            audiences: claims.audiences,
        })
    }
}

/// The user a valid token authenticates as.
pub fn user_for(c: &ValidClaims) -> UserInfo {
    let mut extra = BTreeMap::new();
    if let Some((name, uid)) = &c.pod {
        extra.insert(extra::POD_NAME.to_string(), vec![name.clone()]);
        extra.insert(extra::POD_UID.to_string(), vec![uid.clone()]);
    }
    if let Some((name, uid)) = &c.node {
        extra.insert(extra::NODE_NAME.to_string(), vec![name.clone()]);
        extra.insert(extra::NODE_UID.to_string(), vec![uid.clone()]);
    }
    if let Some(jti) = c.jti.as_deref().filter(|j| !j.is_empty()) {
        extra.insert(extra::CREDENTIAL_ID.to_string(), vec![format!("JTI={jti}")]);
    }
    UserInfo {
        name: format!("{USER_PREFIX}{}:{}", c.namespace, c.name),
        uid: c.uid.clone(),
        groups: vec![
            ALL_SERVICE_ACCOUNTS_GROUP.to_string(),
            format!("{ALL_SERVICE_ACCOUNTS_GROUP}:{}", c.namespace),
            AUTHENTICATED.to_string(),
        ],
        extra,
    }
}

/// The object must exist with the token's UID. One being deleted stays good for a minute past
/// its deletion timestamp (upstream's grace: a terminating pod keeps API access).
fn check_live(
    what: &str,
    name: &str,
    uid: &str,
    obj: Option<&Value>,
    now: i64,
) -> Result<(), TokenError> {
    let Some(obj) = obj else {
        return Err(TokenError::Stale(format!("{what} {name:?} not found")));
    };
    let found = obj.pointer("/metadata/uid").and_then(Value::as_str);
    if found != Some(uid) {
        return Err(TokenError::Stale(format!(
            "{what} UID ({uid}) does not match the object in storage ({})",
            found.unwrap_or_default()
        )));
    }
    let deleted_at = obj
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|d| d.timestamp())
                .unwrap_or(i64::MIN)
        });
    if deleted_at.is_some_and(|t| t < now - LEEWAY_SECONDS) {
        return Err(TokenError::Stale(format!(
            "{what} {name:?} has been deleted"
        )));
    }
    Ok(())
}

/// Read an object: the watch cache first, then etcd (an object created a moment ago may not
/// be in the cache yet).
pub async fn lookup(
    store: &Store,
    plural: &str,
    ns: Option<&str>,
    name: &str,
) -> Result<Option<Value>, TokenError> {
    let res = api_types::catalog::find("", "v1", plural)
        .ok_or_else(|| TokenError::Lookup(plural.to_string()))?;
    let key = store.key(res, ns, name);
    if let Some(o) = store.cache.get(&key) {
        return Ok(Some(o.value().clone()));
    }
    match store.get(res, ns, name).await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code == 404 => Ok(None),
        Err(e) => Err(TokenError::Lookup(format!(
            "{plural} {name}: {}",
            e.message
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> ServiceAccountTokens {
        let k = rcgen::KeyPair::generate().expect("key");
        let signer = SigningKey::from_pkcs8(&k.serialize_der()).expect("signer");
        ServiceAccountTokens::new(
            vec!["https://kubernetes.default.svc.cluster.local".into()],
            vec!["https://kubernetes.default.svc.cluster.local".into()],
            vec![],
            Some(signer),
            None,
        )
    }

    fn spec() -> TokenSpec {
        TokenSpec {
            namespace: "ns1".into(),
            name: "builder".into(),
            uid: "sa-uid".into(),
            audiences: vec!["https://kubernetes.default.svc.cluster.local".into()],
            expiration_seconds: 3600,
            bound: Some(BoundObject {
                kind: "Pod".into(),
                name: "p".into(),
                uid: "pod-uid".into(),
            }),
            node: Some(("n1".into(), "node-uid".into())),
            warn_after: None,
        }
    }

    #[test]
    fn issued_tokens_validate_to_the_service_account_user() {
        let t = tokens();
        let now = 1_700_000_000;
        let (token, exp) = t.issue(&spec(), now).expect("issue");
        assert_eq!(exp, now + 3600);
        let c = t.validate(&token, None, now + 10).expect("valid");
        assert_eq!(c.pod, Some(("p".into(), "pod-uid".into())));
        let u = user_for(&c);
        assert_eq!(u.name, "system:serviceaccount:ns1:builder");
        assert_eq!(u.uid, "sa-uid");
        assert_eq!(
            u.groups,
            vec![
                "system:serviceaccounts",
                "system:serviceaccounts:ns1",
                "system:authenticated"
            ]
        );
        assert_eq!(u.extra[extra::POD_NAME], vec!["p".to_string()]);
        assert_eq!(u.extra[extra::NODE_NAME], vec!["n1".to_string()]);
        assert!(u.extra[extra::CREDENTIAL_ID][0].starts_with("JTI="));
    }

    #[test]
    fn expiry_audience_and_issuer_are_enforced() {
        let t = tokens();
        let now = 1_700_000_000;
        let (token, _) = t.issue(&spec(), now).expect("issue");
        // Within the leeway it still works; past it, it does not.
        assert!(t.validate(&token, None, now + 3600 + 30).is_ok());
        assert_eq!(
            t.validate(&token, None, now + 3600 + 61).unwrap_err(),
            TokenError::Claims("token has expired".into())
        );
        assert!(t.validate(&token, None, now - 3600).is_err(), "nbf");
        let other = vec!["vault".to_string()];
        assert!(t.validate(&token, Some(&other), now).is_err());
        let mut s = spec();
        s.audiences = vec!["vault".into(), "x".into()];
        let (vault, _) = t.issue(&s, now).expect("issue");
        assert!(t.validate(&vault, None, now).is_err());
        let ok = t
            .validate(&vault, Some(&other), now)
            .expect("vault audience");
        assert_eq!(ok.audiences, other);

        let mut foreign = tokens();
        foreign.issuers = vec!["https://elsewhere".into()];
        let (f, _) = foreign.issue(&spec(), now).expect("issue");
        assert!(matches!(
            t.validate(&f, None, now),
            Err(TokenError::Claims(_))
        ));
        // Same issuer name, different key.
        foreign.issuers = t.issuers.clone();
        let (f, _) = foreign.issue(&spec(), now).expect("issue");
        assert!(matches!(t.validate(&f, None, now), Err(TokenError::Jwt(_))));
    }

    #[test]
    fn stale_objects_are_refused() {
        let now = 1_767_225_600; // 2026-01-01T00:00:00Z
        let obj = json!({"metadata": {"uid": "a"}});
        assert!(check_live("pod", "p", "a", Some(&obj), now).is_ok());
        assert!(check_live("pod", "p", "b", Some(&obj), now).is_err());
        assert!(check_live("pod", "p", "a", None, now).is_err());
        let deleting =
            json!({"metadata": {"uid": "a", "deletionTimestamp": "2026-01-01T00:00:00Z"}});
        // Terminating: still good within a minute of the deletion timestamp, not after.
        assert!(check_live("pod", "p", "a", Some(&deleting), now + 30).is_ok());
        assert!(check_live("pod", "p", "a", Some(&deleting), now + 61).is_err());
    }
}
