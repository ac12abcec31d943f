//! Which resources the collector watches: every resource the apiserver serves with list,
//! watch and delete (upstream's `GetDeletableResources`), found again periodically because
//! CustomResourceDefinitions come and go.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::ApiResource;
use kube::discovery::{verbs, Discovery, Scope};
use kube::Client;

/// A resource the collector watches and may delete from.
#[derive(Debug)]
pub struct Resource {
    pub ar: ApiResource,
    pub namespaced: bool,
    /// `<apiVersion>/<plural>`: the identity of the resource's watch, so that a new
    /// preferred version of a group is a new watch.
    pub key: String,
}

impl Resource {
    pub fn new(ar: ApiResource, namespaced: bool) -> Self {
        let key = format!("{}/{}", ar.api_version, ar.plural);
        Self {
            ar,
            namespaced,
            key,
        }
    }
}

/// Resources upstream's collector ignores by default (`DefaultIgnoredResources`): events
/// are the busiest objects of a cluster and are never given owners.
const IGNORED: &[(&str, &str)] = &[("", "events"), ("events.k8s.io", "events")];

/// Every deletable, watchable resource, at the group's preferred version.
pub async fn discover(client: &Client) -> Result<Vec<Arc<Resource>>, kube::Error> {
    let discovery = Discovery::new(client.clone()).run().await?;
    let mut out = Vec::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            let ignored = IGNORED.contains(&(ar.group.as_str(), ar.plural.as_str()));
            if !ignored
                && [verbs::LIST, verbs::WATCH, verbs::DELETE]
                    .iter()
                    .all(|v| caps.supports_operation(v))
            {
                let namespaced = caps.scope == Scope::Namespaced;
                out.push(Arc::new(Resource::new(ar, namespaced)));
            }
        }
    }
    Ok(out)
}

/// The resource serving an owner reference's `apiVersion` + `kind`, if any is known.
pub fn resource_of<'a>(
    resources: &'a [Arc<Resource>],
    r: &OwnerReference,
) -> Option<&'a Arc<Resource>> {
    resources
        .iter()
        .find(|res| res.ar.api_version == r.api_version && res.ar.kind == r.kind)
}
