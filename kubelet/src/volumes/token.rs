//! Service account tokens for projected volumes, from the TokenRequest API
//! (`POST …/serviceaccounts/{name}/token`), bound to the pod and cached until 80 % of their
//! lifetime has passed, as upstream's token manager does.
use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::api::PostParams;
use kube::Api;

use super::VolumeError;

/// Upstream's default and minimum `expirationSeconds`.
const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    pod_uid: String,
    namespace: String,
    service_account: String,
    audience: Option<String>,
    expiration_seconds: i64,
}

struct Cached {
    token: String,
    refresh_at: DateTime<Utc>,
}

/// Caches tokens per (pod, service account, audience, lifetime).
#[derive(Default)]
pub struct TokenManager {
    cache: Mutex<HashMap<Key, Cached>>,
}

impl TokenManager {
    /// A token for the pod's service account, fresh from the API when the cached one has
    /// lived 80 % of its time.
    pub async fn token(
        &self,
        client: &kube::Client,
        pod: &Pod,
        audience: Option<&str>,
        expiration_seconds: Option<i64>,
    ) -> Result<String, VolumeError> {
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let service_account = pod
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into());
        let key = Key {
            pod_uid: pod.metadata.uid.clone().unwrap_or_default(),
            namespace: namespace.clone(),
            service_account: service_account.clone(),
            audience: audience.filter(|a| !a.is_empty()).map(str::to_string),
            expiration_seconds: expiration_seconds.unwrap_or(DEFAULT_EXPIRATION_SECONDS),
        };
        let now = Utc::now();
        if let Some(cached) = self.lock().get(&key) {
            if cached.refresh_at > now {
                return Ok(cached.token.clone());
            }
        }
        let request = TokenRequest {
            spec: TokenRequestSpec {
                audiences: key.audience.iter().cloned().collect(),
                expiration_seconds: Some(key.expiration_seconds),
                bound_object_ref: Some(BoundObjectReference {
                    api_version: Some("v1".into()),
                    kind: Some("Pod".into()),
                    name: pod.metadata.name.clone(),
                    uid: pod.metadata.uid.clone(),
                }),
            },
            ..Default::default()
        };
        let api: Api<ServiceAccount> = Api::namespaced(client.clone(), &namespace);
        let answer = api
            .create_token_request(&service_account, &PostParams::default(), &request)
            .await
            .map_err(|e| match e {
                // 404/405: the apiserver has no TokenRequest (serviceaccounts/token) handler.
                kube::Error::Api(status) if status.code == 404 || status.code == 405 => {
                    VolumeError::TokenRequestUnavailable {
                        namespace: namespace.clone(),
                        service_account: service_account.clone(),
                        message: status.message.clone(),
                    }
                }
                other => VolumeError::Api(other),
            })?;
        let status = answer
            .status
            .ok_or_else(|| VolumeError::TokenRequestUnavailable {
                namespace: namespace.clone(),
                service_account: service_account.clone(),
                message: "the answer carries no status.token".into(),
            })?;
        let expires =
            DateTime::from_timestamp(status.expiration_timestamp.0.as_second(), 0).unwrap_or(now);
        let issued_for = (expires - now).max(Duration::zero());
        let refresh_at = now + issued_for * 4 / 5;
        self.lock().insert(
            key,
            Cached {
                token: status.token.clone(),
                refresh_at,
            },
        );
        Ok(status.token)
    }

    /// Forgets a pod's tokens (after teardown).
    pub fn forget_pod(&self, pod_uid: &str) {
        self.lock().retain(|k, _| k.pod_uid != pod_uid);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Cached>> {
        // A panic elsewhere while holding the lock leaves a usable map; recover it.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}
