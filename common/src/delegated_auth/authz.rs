//! Delegated authorization (upstream's for extension apiservers): every request becomes a
//! SubjectAccessReview the apiserver answers. Decisions are cached briefly — allowed for
//! 10 s, denied for 10 s, as upstream's delegating authorizer defaults.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::Api;

use crate::authn::User;

const TTL: Duration = Duration::from_secs(10);

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attributes {
    /// A `metrics.k8s.io` resource.
    Resource {
        /// `get`, `list` or `watch`.
        verb: String,
        /// `pods` or `nodes`.
        resource: String,
        /// Namespace, for pods.
        namespace: Option<String>,
        /// Object name, for get.
        name: Option<String>,
    },
    /// A path such as `/apis/metrics.k8s.io/v1beta1`.
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
}

impl Authorizer {
    /// An authorizer that asks through `client` (needs `system:auth-delegator`).
    pub fn new(client: kube::Client) -> Self {
        Self {
            client,
            cache: Mutex::new(HashMap::new()),
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
            if at.elapsed() < TTL {
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
                verb,
                resource,
                namespace,
                name,
            } => {
                spec.resource_attributes = Some(ResourceAttributes {
                    group: Some("metrics.k8s.io".into()),
                    version: Some("v1beta1".into()),
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
        cache.retain(|_, (_, at)| at.elapsed() < TTL);
        cache.insert(key, (allowed, Instant::now()));
        allowed
    }
}
