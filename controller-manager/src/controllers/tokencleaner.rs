//! The token cleaner (upstream's `pkg/controller/bootstrap/tokencleaner.go`): deletes
//! bootstrap token Secrets in `kube-system` once their `expiration` has passed (an
//! unparseable expiration counts as passed), and looks again at the moment a live token
//! expires. Off by default, as upstream (`--controllers=*,tokencleaner`).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Preconditions};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::bootstrap_token::{self, Expiry};

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
}

struct Context {
    secrets: Api<Secret>,
}

/// Run until the watch ends.
pub async fn run(client: Client) {
    let secrets: Api<Secret> = Api::namespaced(client, bootstrap_token::TOKEN_NAMESPACE);
    let ctx = Arc::new(Context {
        secrets: secrets.clone(),
    });
    let results =
        Controller::new(secrets, watcher::Config::default()).run(reconcile, error_policy, ctx);
    super::drain("tokencleaner", results).await;
}

fn error_policy(_secret: Arc<Secret>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(5))
}

/// What to do with a Secret at `now_ms`: nothing, delete it, or look again after a while.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not a token, or a token without expiration.
    Keep,
    /// Expired: delete.
    Delete,
    /// Look again when it expires.
    RecheckIn(Duration),
}

/// Decide about one Secret.
pub fn decide(secret: &Secret, now_ms: i64) -> Decision {
    if !bootstrap_token::is_token_secret(secret) {
        return Decision::Keep;
    }
    match bootstrap_token::expiry(secret, now_ms) {
        Expiry::Never => Decision::Keep,
        Expiry::Expired => Decision::Delete,
        Expiry::In(left) => Decision::RecheckIn(left),
    }
}

async fn reconcile(secret: Arc<Secret>, ctx: Arc<Context>) -> Result<Action, Error> {
    match decide(&secret, bootstrap_token::now_unix_ms()) {
        Decision::Keep => Ok(Action::await_change()),
        // A little past the instant, so the next look sees it expired.
        Decision::RecheckIn(left) => Ok(Action::requeue(left + Duration::from_millis(100))),
        Decision::Delete => {
            // The uid precondition deletes the token we judged, not a namesake made since.
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: secret.uid(),
                    resource_version: None,
                }),
                ..Default::default()
            };
            match ctx.secrets.delete(&secret.name_any(), &params).await {
                Ok(_) => {
                    tracing::info!(secret = %secret.name_any(), "deleted expired bootstrap token")
                }
                Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
            Ok(Action::await_change())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::bootstrap_token::testing::token_secret;

    const T2030: i64 = 1_893_456_000_000;

    #[test]
    fn expired_tokens_are_deleted_live_ones_rechecked_at_expiry() {
        let exp = |e: &str| token_secret("abcdef", &[("expiration", e)]);
        assert_eq!(
            decide(&exp("2029-12-31T00:00:00Z"), T2030),
            Decision::Delete
        );
        assert_eq!(decide(&exp("not a time"), T2030), Decision::Delete);
        assert_eq!(
            decide(&exp("2030-01-01T00:02:00Z"), T2030),
            Decision::RecheckIn(Duration::from_secs(120))
        );
        assert_eq!(decide(&token_secret("abcdef", &[]), T2030), Decision::Keep);
        let mut opaque = exp("2029-12-31T00:00:00Z");
        opaque.type_ = Some("Opaque".into());
        assert_eq!(decide(&opaque, T2030), Decision::Keep);
    }
}
