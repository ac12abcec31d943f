//! What `kubectl get` is asked for: the types and names of its arguments, or the objects
//! that the manifests of `-f` name, each resolved to a resource type and a namespace the way
//! upstream's resource builder resolves them.

use super::super::create::FileArgs;
use super::label_filter::Selector;
use crate::client::ApiClient;
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::manifest;
use crate::resource::{self, ApiResource, Selection};

/// Upstream's builder error when neither arguments nor files name anything.
pub const MISSING_RESOURCE: &str = "You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'";

/// One thing to fetch: a type and, for named gets, one name.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource type.
    pub res: ApiResource,
    /// Where to read: None for cluster-scoped types and for lists across all namespaces.
    pub namespace: Option<String>,
    /// The object's name; None for a list of the type.
    pub name: Option<String>,
    /// The manifest it was read from (`-f`), for messages.
    pub source: Option<String>,
}

impl Target {
    /// A namespaced object of a manifest without a namespace, under `-A`.
    pub fn lacks_namespace(&self) -> bool {
        self.res.namespaced && self.namespace.as_deref() == Some("")
    }

    /// `get`'s error for such an object (upstream's refusal to read it).
    pub fn no_namespace_error(&self) -> KubectlError {
        KubectlError::usage(format!(
            "no namespace set on resource {}/{}, Resource={} \"{}\"",
            self.res.group,
            self.res.version,
            self.res.plural,
            self.name.as_deref().unwrap_or("")
        ))
    }
}

/// The namespace the command works in.
#[derive(Debug, Clone)]
pub struct Scope {
    /// `-n` or the context's namespace.
    pub namespace: String,
    /// Whether `-n` was given (objects of manifests must then be in it).
    pub explicit: bool,
    /// `-A`
    pub all_namespaces: bool,
}

impl Scope {
    /// The scope of `client` under `-A`.
    pub fn of(client: &ApiClient, all_namespaces: bool) -> Self {
        Scope {
            namespace: client.namespace.clone(),
            explicit: client.namespace_explicit && !all_namespaces,
            all_namespaces,
        }
    }
}

/// Upstream's refusal of a selector combined with names, checked before any type is looked
/// up (`get cm x -l a=b`, `get cm/x -l a=b`).
pub fn selector_conflict(sel: &Selection, selecting: bool) -> Result<()> {
    if !selecting {
        return Ok(());
    }
    match sel {
        Selection::Types { names, .. } if !names.is_empty() => Err(KubectlError::usage(
            "name cannot be provided when a selector is specified",
        )),
        Selection::Pairs(_) => Err(KubectlError::usage(
            "selectors and the all flag cannot be used when passing resource/name arguments",
        )),
        _ => Ok(()),
    }
}

/// Upstream's refusal of `--subresource` for whole collections.
pub fn subresource_conflict(sel: &Selection, subresource: Option<&str>) -> Result<()> {
    let bulk = matches!(sel, Selection::Types { names, .. } if names.is_empty());
    if bulk && subresource.is_some_and(|s| !s.is_empty()) {
        return Err(KubectlError::usage(
            "subresource cannot be used when bulk resources are specified",
        ));
    }
    Ok(())
}

/// Upstream's refusal of type arguments next to `-f`.
pub fn files_conflict(args: &[String]) -> Result<()> {
    if args.is_empty() {
        return Ok(());
    }
    Err(KubectlError::usage(if args[0].contains('/') {
        "resource/name arguments cannot be provided when a path is specified"
    } else {
        "when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well"
    }))
}

/// The targets the arguments name. Categories (`all`) expand to their member types.
pub async fn from_args(
    client: &ApiClient,
    disc: &mut Discovery,
    sel: &Selection,
    scope: &Scope,
) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    match sel {
        Selection::Types { types, names } => {
            for ty in types {
                let expanded = resource::expand_category(&disc.resources, ty);
                let resources: Vec<ApiResource> =
                    if !expanded.is_empty() && resource::resolve(&disc.resources, ty).is_err() {
                        expanded.into_iter().cloned().collect()
                    } else {
                        vec![disc.resolve(client, ty).await?]
                    };
                for res in resources {
                    if names.is_empty() {
                        let namespace = list_namespace(&res, scope);
                        out.push(Target {
                            res,
                            namespace,
                            name: None,
                            source: None,
                        });
                        continue;
                    }
                    for n in names {
                        out.push(named(&res, n, scope)?);
                    }
                }
            }
        }
        Selection::Pairs(pairs) => {
            for (ty, name) in pairs {
                let res = disc.resolve(client, ty).await?;
                out.push(named(&res, name, scope)?);
            }
        }
    }
    Ok(out)
}

fn list_namespace(res: &ApiResource, scope: &Scope) -> Option<String> {
    (res.namespaced && !scope.all_namespaces).then(|| scope.namespace.clone())
}

/// One named object; upstream refuses a namespaced name across all namespaces.
fn named(res: &ApiResource, name: &str, scope: &Scope) -> Result<Target> {
    if res.namespaced && scope.all_namespaces {
        return Err(KubectlError::usage(
            "a resource cannot be retrieved by name across all namespaces",
        ));
    }
    Ok(Target {
        res: res.clone(),
        namespace: res.namespaced.then(|| scope.namespace.clone()),
        name: Some(name.to_string()),
        source: None,
    })
}

/// The objects the manifests of `-f` name, in file order; with `only`, those whose own
/// labels (as written in the manifest) it selects. A manifest whose type or namespace does
/// not fit becomes an error of its own (upstream carries on past it).
pub fn from_manifests(
    disc: &Discovery,
    files: &FileArgs,
    scope: &Scope,
    only: Option<&Selector>,
    errors: &mut Vec<KubectlError>,
) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    for m in manifest::read_all(&files.filename, files.recursive)? {
        if only.is_some_and(|s| !s.matches(m.object["metadata"]["labels"].as_object())) {
            continue;
        }
        let res = match manifest::resource_for(disc, &m) {
            Ok(r) => r.clone(),
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let name = m.object["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let own = m.object["metadata"]["namespace"]
            .as_str()
            .filter(|ns| !ns.is_empty());
        let namespace = match (res.namespaced, own) {
            (false, _) => None,
            (true, Some(ns)) => {
                if scope.explicit && ns != scope.namespace {
                    errors.push(manifest_namespace_mismatch(ns, &scope.namespace));
                    continue;
                }
                Some(ns.to_string())
            }
            // Under -A upstream's default namespace is empty; what then becomes of the object
            // is the command's to say (see [`Target::lacks_namespace`]).
            (true, None) if scope.all_namespaces => Some(String::new()),
            (true, None) => Some(scope.namespace.clone()),
        };
        out.push(Target {
            res,
            namespace,
            name: Some(name),
            source: Some(m.source),
        });
    }
    Ok(out)
}

fn manifest_namespace_mismatch(own: &str, scope: &str) -> KubectlError {
    KubectlError::usage(format!(
        "the namespace from the provided object \"{own}\" does not match the namespace \"{scope}\". You must pass '--namespace={own}' to perform this operation."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(t: &[&str], n: &[&str]) -> Selection {
        Selection::Types {
            types: t.iter().map(|s| s.to_string()).collect(),
            names: n.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn selectors_do_not_go_with_names() {
        assert!(selector_conflict(&types(&["cm"], &[]), true).is_ok());
        assert!(selector_conflict(&types(&["cm"], &["x"]), false).is_ok());
        assert_eq!(
            selector_conflict(&types(&["cm"], &["x"]), true)
                .unwrap_err()
                .to_string(),
            "error: name cannot be provided when a selector is specified"
        );
        let pairs = Selection::Pairs(vec![("cm".into(), "x".into())]);
        assert_eq!(
            selector_conflict(&pairs, true).unwrap_err().to_string(),
            "error: selectors and the all flag cannot be used when passing resource/name arguments"
        );
    }

    #[test]
    fn subresources_need_names() {
        assert!(subresource_conflict(&types(&["deploy"], &["web"]), Some("scale")).is_ok());
        assert!(subresource_conflict(&types(&["deploy"], &[]), None).is_ok());
        assert_eq!(
            subresource_conflict(&types(&["deploy"], &[]), Some("scale"))
                .unwrap_err()
                .to_string(),
            "error: subresource cannot be used when bulk resources are specified"
        );
    }

    #[test]
    fn files_do_not_go_with_arguments() {
        assert!(files_conflict(&[]).is_ok());
        assert!(files_conflict(&["cm".into()])
            .unwrap_err()
            .to_string()
            .contains("you may not specify resource arguments as well"));
        assert!(files_conflict(&["cm/x".into()])
            .unwrap_err()
            .to_string()
            .contains("resource/name arguments cannot be provided"));
    }

    #[test]
    fn names_across_all_namespaces_are_refused() {
        let res = crate::resource::tests::res("", "v1", "ConfigMap", "configmaps", &[]);
        let scope = Scope {
            namespace: "ns".into(),
            explicit: false,
            all_namespaces: true,
        };
        assert_eq!(
            named(&res, "x", &scope).unwrap_err().to_string(),
            "error: a resource cannot be retrieved by name across all namespaces"
        );
        let mut node = crate::resource::tests::res("", "v1", "Node", "nodes", &[]);
        node.namespaced = false;
        let t = named(&node, "n1", &scope).unwrap();
        assert_eq!(t.namespace, None);
        assert_eq!(list_namespace(&res, &scope), None);
    }
}
