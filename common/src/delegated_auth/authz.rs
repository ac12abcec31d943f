//! Delegated authorization (upstream's `DelegatingAuthorizationOptions`): a request becomes
//! a SubjectAccessReview the apiserver answers. Decisions are cached briefly — allowed for
//! 10 s, denied for 10 s by default, as upstream's `--authorization-webhook-cache-*-ttl`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::Api;

use super::authn::User;

/// Upstream's default for both cache TTLs.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10);

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attributes {
    /// An API resource.
    Resource {
        /// API group (`""` for core).
        group: String,
        /// API version.
        version: String,
        /// `get`, `list`, `watch`, …
        verb: String,
        /// Resource (plural).
        resource: String,
        /// Namespace, for namespaced resources.
        namespace: Option<String>,
        /// Object name, when one is named.
        name: Option<String>,
    },
    /// A path such as `/metrics` or `/apis/metrics.k8s.io/v1beta1`.
    NonResource {
        /// Lower-case HTTP verb.
        verb: String,
        /// The path.
        path: String,
    },
}

/// Asks the apiserver, remembering answers for a short while.
pub struct Authorizer {
    client: kube::Client,
    cache: Mutex<HashMap<(User, Attributes), (bool, Instant)>>,
    allowed_ttl: Duration,
    denied_ttl: Duration,
}

impl Authorizer {
    /// An authorizer that asks through `client` (needs `system:auth-delegator`), caching
    /// answers for upstream's default 10 s.
    pub fn new(client: kube::Client) -> Self {
        Self::with_ttls(client, DEFAULT_TTL, DEFAULT_TTL)
    }

    /// As [`Authorizer::new`], remembering allowed answers for `allowed_ttl` and denied
    /// ones for `denied_ttl`.
    pub fn with_ttls(client: kube::Client, allowed_ttl: Duration, denied_ttl: Duration) -> Self {
        Self {
            client,
            cache: Mutex::new(HashMap::new()),
            allowed_ttl,
            denied_ttl,
        }
    }

    fn fresh(&self, allowed: bool, at: Instant) -> bool {
        at.elapsed()
            < if allowed {
                self.allowed_ttl
            } else {
                self.denied_ttl
            }
    }

    /// Whether `user` may do `attrs`; an unanswerable review denies.
    pub async fn allowed(&self, user: &User, attrs: &Attributes) -> bool {
        let key = (user.clone(), attrs.clone());
        if let Some((allowed, at)) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            if self.fresh(*allowed, *at) {
                return *allowed;
            }
        }
        let mut spec = SubjectAccessReviewSpec {
            user: Some(user.name.clone()),
            uid: (!user.uid.is_empty()).then(|| user.uid.clone()),
            groups: Some(user.groups.clone()),
            extra: (!user.extra.is_empty()).then(|| user.extra.clone().into_iter().collect()),
            ..Default::default()
        };
        match attrs {
            Attributes::Resource {
                group,
                version,
                verb,
                resource,
                namespace,
                name,
            } => {
                spec.resource_attributes = Some(ResourceAttributes {
                    group: Some(group.clone()),
                    version: Some(version.clone()),
                    resource: Some(resource.clone()),
                    verb: Some(verb.clone()),
                    namespace: namespace.clone(),
                    name: name.clone(),
                    ..Default::default()
                })
            }
            Attributes::NonResource { verb, path } => {
                spec.non_resource_attributes = Some(NonResourceAttributes {
                    path: Some(path.clone()),
                    verb: Some(verb.clone()),
                })
            }
        }
        let review = SubjectAccessReview {
            spec,
            ..Default::default()
        };
        let allowed = match Api::<SubjectAccessReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await
        {
            Ok(r) => r.status.is_some_and(|s| s.allowed),
            Err(e) => {
                tracing::warn!(error = %e, "SubjectAccessReview failed");
                return false;
            }
        };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, (allowed, at)| self.fresh(*allowed, *at));
        cache.insert(key, (allowed, Instant::now()));
        allowed
    }
}
