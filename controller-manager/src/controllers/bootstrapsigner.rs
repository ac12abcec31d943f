//! The bootstrap signer (upstream's `pkg/controller/bootstrap/bootstrapsigner.go`): keeps
//! the `kube-public/cluster-info` ConfigMap signed. For every valid bootstrap token allowed
//! to sign (`usage-bootstrap-signing: "true"`, not expired) the ConfigMap holds
//! `jws-kubeconfig-<token-id>`, the detached JWS of its `kubeconfig` key; signatures of
//! tokens that are gone are removed. Off by default, as upstream
//! (`--controllers=*,bootstrapsigner`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::Client;

use super::bootstrap_jws::compute_detached_signature;
use super::bootstrap_token::{self as token, Expiry};

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
}

struct Context {
    config_maps: Api<ConfigMap>,
    secrets: Api<Secret>,
}

/// Run until the watch streams end.
pub async fn run(client: Client) {
    let config_maps: Api<ConfigMap> =
        Api::namespaced(client.clone(), token::CLUSTER_INFO_NAMESPACE);
    let secrets: Api<Secret> = Api::namespaced(client, token::TOKEN_NAMESPACE);
    let ctx = Arc::new(Context {
        config_maps: config_maps.clone(),
        secrets: secrets.clone(),
    });
    let cluster_info =
        || ObjectRef::<ConfigMap>::new(token::CLUSTER_INFO).within(token::CLUSTER_INFO_NAMESPACE);
    let results = Controller::new(
        config_maps,
        watcher::Config::default().fields(&format!("metadata.name={}", token::CLUSTER_INFO)),
    )
    .watches(secrets, watcher::Config::default(), move |s: Secret| {
        token::is_token_secret(&s).then(cluster_info)
    })
    .run(reconcile, error_policy, ctx);
    super::drain("bootstrapsigner", results).await;
}

fn error_policy(_cm: Arc<ConfigMap>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(2))
}

/// The ConfigMap data with every `jws-kubeconfig-*` key replaced by the signatures of
/// `tokens` (id → secret), or None when it has no `kubeconfig` to sign.
pub fn signed_data(
    data: &BTreeMap<String, String>,
    tokens: &BTreeMap<String, String>,
) -> Option<BTreeMap<String, String>> {
    let content = data.get(token::KUBECONFIG_KEY)?;
    let mut out: BTreeMap<String, String> = data
        .iter()
        .filter(|(k, _)| !k.starts_with(token::JWS_KEY_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (id, secret) in tokens {
        out.insert(
            format!("{}{id}", token::JWS_KEY_PREFIX),
            compute_detached_signature(content, id, secret),
        );
    }
    Some(out)
}

/// The signing tokens among `secrets` (id → secret; the first Secret of an id wins, as
/// upstream), and how long until the first of them expires.
pub fn signing_tokens(
    secrets: &[Secret],
    now_ms: i64,
) -> (BTreeMap<String, String>, Option<Duration>) {
    let mut tokens = BTreeMap::new();
    let mut next_expiry: Option<Duration> = None;
    for s in secrets {
        let Some((id, secret)) = token::signing_token(s, now_ms) else {
            continue;
        };
        if tokens.contains_key(&id) {
            tracing::debug!(token_id = %id, "duplicate bootstrap token; ignoring the later Secret");
            continue;
        }
        if let Expiry::In(left) = token::expiry(s, now_ms) {
            next_expiry = Some(next_expiry.map_or(left, |n| n.min(left)));
        }
        tokens.insert(id, secret);
    }
    (tokens, next_expiry)
}

async fn reconcile(cm: Arc<ConfigMap>, ctx: Arc<Context>) -> Result<Action, Error> {
    let secrets = ctx.secrets.list(&ListParams::default()).await?.items;
    let (tokens, next_expiry) = signing_tokens(&secrets, token::now_unix_ms());
    // A signature must go when its token expires, even if no Secret event says so.
    let after = match next_expiry {
        Some(left) => Action::requeue(left + Duration::from_millis(100)),
        None => Action::await_change(),
    };
    let data = cm.data.clone().unwrap_or_default();
    let Some(want) = signed_data(&data, &tokens) else {
        tracing::debug!("cluster-info has no kubeconfig key; nothing to sign");
        return Ok(after);
    };
    if want == data {
        return Ok(after);
    }
    let mut updated = (*cm).clone();
    updated.data = Some(want);
    match ctx
        .config_maps
        .replace(token::CLUSTER_INFO, &PostParams::default(), &updated)
        .await
    {
        Ok(_) => tracing::info!(tokens = tokens.len(), "re-signed cluster-info"),
        // Changed or deleted meanwhile: the watch brings the new state.
        Err(kube::Error::Api(e)) if e.code == 409 => {
            return Ok(Action::requeue(Duration::from_millis(200)))
        }
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => return Err(e.into()),
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::bootstrap_token::testing::token_secret;

    const T2030: i64 = 1_893_456_000_000;

    fn map(items: &[(&str, &str)]) -> BTreeMap<String, String> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn signatures_are_added_and_stale_ones_removed() {
        let data = map(&[
            ("kubeconfig", "apiVersion: v1\nkind: Config\n"),
            ("jws-kubeconfig-gone00", "stale"),
            ("other", "kept"),
        ]);
        let got = signed_data(&data, &map(&[("abcdef", "0123456789abcdef")])).expect("signed");
        assert_eq!(
            got.keys().map(String::as_str).collect::<Vec<_>>(),
            ["jws-kubeconfig-abcdef", "kubeconfig", "other"]
        );
        assert_eq!(
            got["jws-kubeconfig-abcdef"],
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiY2RlZiJ9..vH_kT4yiol-nrAWgjfCYqvum5wsKETXe0S7OOp1VgnE"
        );
        // Signing again changes nothing; no kubeconfig, nothing to sign.
        assert_eq!(
            signed_data(&got, &map(&[("abcdef", "0123456789abcdef")])),
            Some(got.clone())
        );
        assert_eq!(signed_data(&map(&[("other", "x")]), &BTreeMap::new()), None);
    }

    #[test]
    fn only_signing_tokens_count_and_the_first_expiry_is_reported() {
        let signing = |id: &str, exp: &str| {
            token_secret(
                id,
                &[
                    ("token-id", id),
                    ("token-secret", "0123456789abcdef"),
                    ("usage-bootstrap-signing", "true"),
                    ("expiration", exp),
                ],
            )
        };
        let auth_only = token_secret(
            "zzzzzz",
            &[("token-id", "zzzzzz"), ("token-secret", "0123456789abcdef")],
        );
        let secrets = vec![
            signing("aaaaaa", "2030-01-01T01:00:00Z"),
            signing("bbbbbb", "2030-01-01T00:05:00Z"),
            signing("cccccc", "2029-01-01T00:00:00Z"),
            auth_only,
        ];
        let (tokens, next) = signing_tokens(&secrets, T2030);
        assert_eq!(
            tokens.keys().map(String::as_str).collect::<Vec<_>>(),
            ["aaaaaa", "bbbbbb"]
        );
        assert_eq!(next, Some(Duration::from_secs(300)));
    }
}
