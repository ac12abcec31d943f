//! Which objects a command names: `TYPE NAME…`, `TYPE/NAME…`, or `TYPE` with a selector
//! or `--all`. Shared by the commands that act on objects in place.

use crate::client::{q, ApiClient};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::resource::ApiResource;

/// Objects named as `TYPE NAME…`, `TYPE/NAME…`, or `TYPE` with `-l`/`--all`.
pub async fn resolve_targets(
    client: &ApiClient,
    disc: &mut Discovery,
    words: &[String],
    selector: Option<&str>,
    all: bool,
) -> Result<Vec<(ApiResource, String)>> {
    let mut out = Vec::new();
    match crate::resource::parse_args(words)? {
        crate::resource::Selection::Pairs(p) => {
            for (ty, name) in p {
                out.push((disc.resolve(client, &ty).await?, name));
            }
        }
        crate::resource::Selection::Types { types, names } => {
            for ty in types {
                let res = disc.resolve(client, &ty).await?;
                if names.is_empty() {
                    if selector.is_none() && !all {
                        return Err(KubectlError::usage(
                            "resource(s) were provided, but no name was specified",
                        ));
                    }
                    let ns = res.namespaced.then_some(client.namespace.as_str());
                    let mut path = res.collection_path(ns);
                    if let Some(s) = selector {
                        path.push_str(&format!("?labelSelector={}", q(s)));
                    }
                    let list = client.get(&path).await?;
                    for item in list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                        out.push((
                            res.clone(),
                            item["metadata"]["name"].as_str().unwrap_or("").to_string(),
                        ));
                    }
                } else {
                    for n in &names {
                        out.push((res.clone(), n.clone()));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// One object `label`/`annotate` acts on.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its resource.
    pub res: ApiResource,
    /// Its namespace (None for cluster-scoped objects).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
}

impl Target {
    /// The object's API path.
    pub fn path(&self) -> String {
        self.res.object_path(self.namespace.as_deref(), &self.name)
    }
}

/// How objects are picked when only their types are named.
#[derive(Debug, Default, Clone, Copy)]
pub struct Picking<'a> {
    /// `-l`
    pub selector: Option<&'a str>,
    /// `--field-selector`
    pub field_selector: Option<&'a str>,
    /// `--all`
    pub all: bool,
    /// `-A`: list in every namespace, each object keeping its own.
    pub all_namespaces: bool,
}

/// The objects `words` name in the client's namespace (or, with `-A`, in all of them).
pub async fn resolve_objects(
    client: &ApiClient,
    disc: &mut Discovery,
    words: &[String],
    picking: Picking<'_>,
) -> Result<Vec<Target>> {
    let picked = picking.selector.is_some() || picking.field_selector.is_some();
    let mut out = Vec::new();
    let named = |res: ApiResource, name: String| {
        let namespace = res.namespaced.then(|| client.namespace.clone());
        Target {
            res,
            namespace,
            name,
        }
    };
    match crate::resource::parse_args(words)? {
        crate::resource::Selection::Pairs(pairs) => {
            if picked {
                return Err(KubectlError::usage(
                    "name cannot be provided when a selector is specified",
                ));
            }
            for (ty, name) in pairs {
                out.push(named(disc.resolve(client, &ty).await?, name));
            }
        }
        crate::resource::Selection::Types { types, names } => {
            if picked && !names.is_empty() {
                return Err(KubectlError::usage(
                    "name cannot be provided when a selector is specified",
                ));
            }
            for ty in types {
                let res = disc.resolve(client, &ty).await?;
                if !names.is_empty() {
                    out.extend(names.iter().map(|n| named(res.clone(), n.clone())));
                    continue;
                }
                if !picked && !picking.all {
                    return Err(KubectlError::usage(
                        "resource(s) were provided, but no name was specified",
                    ));
                }
                let ns = (res.namespaced && !picking.all_namespaces)
                    .then_some(client.namespace.as_str());
                let mut query = Vec::new();
                if let Some(s) = picking.selector {
                    query.push(format!("labelSelector={}", q(s)));
                }
                if let Some(s) = picking.field_selector {
                    query.push(format!("fieldSelector={}", q(s)));
                }
                let mut path = res.collection_path(ns);
                if !query.is_empty() {
                    path = format!("{path}?{}", query.join("&"));
                }
                let list = client.get(&path).await?;
                for item in list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                    out.push(Target {
                        res: res.clone(),
                        namespace: item["metadata"]["namespace"].as_str().map(String::from),
                        name: item["metadata"]["name"].as_str().unwrap_or("").to_string(),
                    });
                }
            }
        }
    }
    Ok(out)
}
