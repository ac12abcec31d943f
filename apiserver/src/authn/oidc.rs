//! Service account issuer discovery: `/.well-known/openid-configuration` and
//! `/openid/v1/jwks`, so that relying parties outside the cluster can verify service account
//! tokens with the issuer's public keys. Served only when the issuer is an `https://` URL,
//! as upstream requires.

use serde_json::{json, Value};

use super::ServiceAccountTokens;

/// Path of the OpenID provider configuration.
pub const CONFIGURATION_PATH: &str = "/.well-known/openid-configuration";
/// Path of the key set.
pub const JWKS_PATH: &str = "/openid/v1/jwks";

/// The OpenID provider configuration, or `None` when discovery is not available.
pub fn configuration(tokens: &ServiceAccountTokens) -> Option<Value> {
    let issuer = tokens.issuers.first()?;
    if !issuer.starts_with("https://") {
        return None;
    }
    let mut algs: Vec<&str> = tokens.keys.iter().map(|k| k.alg.name()).collect();
    algs.sort_unstable();
    algs.dedup();
    Some(json!({
        "issuer": issuer,
        "jwks_uri": format!("{}{JWKS_PATH}", issuer.trim_end_matches('/')),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
    }))
}

/// The JSON Web Key Set of every verification key, or `None` when discovery is not available.
pub fn jwks(tokens: &ServiceAccountTokens) -> Option<Value> {
    configuration(tokens)?;
    let keys: Vec<&Value> = tokens.keys.iter().map(|k| k.jwk()).collect();
    Some(json!({"keys": keys}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::keys::SigningKey;

    fn tokens(issuer: &str) -> ServiceAccountTokens {
        let k = rcgen::KeyPair::generate().expect("key");
        let signer = SigningKey::from_pkcs8(&k.serialize_der()).expect("signer");
        ServiceAccountTokens::new(vec![issuer.into()], vec![], vec![], Some(signer), None)
    }

    #[test]
    fn discovery_names_the_issuer_and_its_keys() {
        let t = tokens("https://kubernetes.default.svc.cluster.local");
        let c = configuration(&t).expect("config");
        assert_eq!(
            c["jwks_uri"],
            "https://kubernetes.default.svc.cluster.local/openid/v1/jwks"
        );
        assert_eq!(c["id_token_signing_alg_values_supported"][0], "ES256");
        let set = jwks(&t).expect("jwks");
        assert_eq!(set["keys"][0]["kid"], t.keys[0].kid.as_str());
        assert!(configuration(&tokens("kubernetes/serviceaccount")).is_none());
    }
}
