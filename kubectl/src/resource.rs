//! Resource types from discovery and how a user's words name them: kind, plural, singular or
//! short name, optionally qualified by group (`deployments.apps`) or version and group
//! (`deployments.v1.apps`), in lists (`deploy,svc`) and as `TYPE/NAME`.

use serde::{Deserialize, Serialize};

use crate::error::{KubectlError, Result};

/// One resource type the server serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiResource {
    /// API group, empty for the core group.
    pub group: String,
    /// API version within the group.
    pub version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Plural resource name, e.g. `deployments`.
    pub plural: String,
    /// Singular resource name (may be empty in legacy discovery).
    pub singular: String,
    /// Short names, e.g. `deploy`.
    pub short_names: Vec<String>,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Verbs the resource supports.
    pub verbs: Vec<String>,
    /// Categories such as `all`.
    pub categories: Vec<String>,
    /// Whether this is the group's preferred version.
    pub preferred: bool,
}

impl ApiResource {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pod`, `deployment.apps`: the prefix of `-o name` and of multi-type tables.
    pub fn kind_prefix(&self) -> String {
        let kind = self.kind.to_lowercase();
        if self.group.is_empty() {
            kind
        } else {
            format!("{kind}.{}", self.group)
        }
    }

    /// `pods`, `deployments.apps`: how upstream names the type in errors.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The collection URL path, in a namespace when the resource is namespaced and one is given.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let mut p = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if self.namespaced {
            if let Some(ns) = namespace {
                p.push_str("/namespaces/");
                p.push_str(ns);
            }
        }
        p.push('/');
        p.push_str(&self.plural);
        p
    }

    /// The URL path of one object.
    pub fn object_path(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}/{}", self.collection_path(namespace), name)
    }

    fn singular_name(&self) -> String {
        if self.singular.is_empty() {
            self.kind.to_lowercase()
        } else {
            self.singular.clone()
        }
    }

    fn matches_name(&self, name: &str) -> bool {
        let lower = name.to_lowercase();
        self.plural == lower
            || self.singular_name() == lower
            || self.short_names.contains(&lower)
            || self.kind.to_lowercase() == lower
    }
}

/// Finds the resource a user's type word means. Preferred versions win; among groups, the
/// order discovery listed them (core first), as upstream's RESTMapper does.
pub fn resolve<'a>(resources: &'a [ApiResource], word: &str) -> Result<&'a ApiResource> {
    let not_found = || {
        KubectlError::usage(format!(
            "the server doesn't have a resource type \"{word}\""
        ))
    };
    if word.is_empty() {
        return Err(not_found());
    }
    // Exact plural first, then singular, then short names, then kind: a short name of one
    // type never shadows another type's real name.
    let exact: [fn(&ApiResource, &str) -> bool; 4] = [
        |r, w| r.plural == w.to_lowercase(),
        |r, w| r.singular_name() == w.to_lowercase(),
        |r, w| r.short_names.iter().any(|s| *s == w.to_lowercase()),
        |r, w| r.kind.to_lowercase() == w.to_lowercase(),
    ];
    for rule in exact {
        if let Some(r) = resources.iter().find(|r| r.preferred && rule(r, word)) {
            return Ok(r);
        }
    }
    // `name.group` or `name.version.group`.
    if let Some((name, rest)) = word.split_once('.') {
        if let Some(r) = resources
            .iter()
            .find(|r| r.preferred && r.group == rest && r.matches_name(name))
        {
            return Ok(r);
        }
        if let Some((version, group)) = rest.split_once('.') {
            if let Some(r) = resources
                .iter()
                .find(|r| r.group == group && r.version == version && r.matches_name(name))
            {
                return Ok(r);
            }
        }
        // The core group has no name; `pods.v1` means version v1 of the core group.
        if let Some(r) = resources
            .iter()
            .find(|r| r.group.is_empty() && r.version == rest && r.matches_name(name))
        {
            return Ok(r);
        }
    }
    Err(not_found())
}

/// What the positional arguments of `get`/`delete`/`describe` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// `TYPE[,TYPE…] [NAME…]`: types, and names (empty = all).
    Types {
        /// The type words.
        types: Vec<String>,
        /// Object names.
        names: Vec<String>,
    },
    /// `TYPE/NAME …`
    Pairs(Vec<(String, String)>),
}

/// Splits positional arguments as upstream does.
pub fn parse_args(args: &[String]) -> Result<Selection> {
    let Some(first) = args.first() else {
        return Err(KubectlError::usage(
            "Required resource not specified.\nUse \"kubectl explain <resource>\" for a detailed description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples",
        ));
    };
    if first.contains('/') {
        let mut pairs = Vec::new();
        for a in args {
            match a.split_once('/') {
                Some((t, n)) if !t.is_empty() && !n.is_empty() => {
                    pairs.push((t.to_string(), n.to_string()))
                }
                _ => {
                    return Err(KubectlError::usage("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'".to_string()))
                }
            }
        }
        return Ok(Selection::Pairs(pairs));
    }
    if args[1..].iter().any(|a| a.contains('/')) {
        return Err(KubectlError::usage(
            "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'",
        ));
    }
    Ok(Selection::Types {
        types: first
            .split(',')
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
        names: args[1..].to_vec(),
    })
}

/// Expands a category word such as `all` into its member types; otherwise the word itself.
pub fn expand_category<'a>(resources: &'a [ApiResource], word: &str) -> Vec<&'a ApiResource> {
    resources
        .iter()
        .filter(|r| r.preferred && r.categories.iter().any(|c| c == word))
        .collect()
}

/// The API groups whose types upstream's kubectl compiles in (client-go's scheme). Only
/// their objects get a strategic merge patch (and apply's `--overwrite=false` check), and
/// `logs` reads objects of other groups (aggregated APIs, custom resources) only to refuse
/// them.
pub const CLIENT_GO_SCHEME_GROUPS: &[&str] = &[
    "",
    "admission.k8s.io",
    "admissionregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "extensions",
    "flowcontrol.apiserver.k8s.io",
    "imagepolicy.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn res(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        short: &[&str],
    ) -> ApiResource {
        ApiResource {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_lowercase(),
            short_names: short.iter().map(|s| s.to_string()).collect(),
            namespaced: true,
            verbs: vec!["get".into(), "list".into()],
            categories: vec![],
            preferred: true,
        }
    }

    fn catalog() -> Vec<ApiResource> {
        let mut old = res(
            "autoscaling",
            "v1",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            &["hpa"],
        );
        old.preferred = false;
        vec![
            res("", "v1", "Pod", "pods", &["po"]),
            res("", "v1", "Event", "events", &["ev"]),
            res("", "v1", "Service", "services", &["svc"]),
            res("apps", "v1", "Deployment", "deployments", &["deploy"]),
            res("events.k8s.io", "v1", "Event", "events", &["ev"]),
            res(
                "autoscaling",
                "v2",
                "HorizontalPodAutoscaler",
                "horizontalpodautoscalers",
                &["hpa"],
            ),
            old,
        ]
    }

    #[test]
    fn resolves_every_spelling() {
        let c = catalog();
        for w in [
            "deploy",
            "deployment",
            "deployments",
            "Deployment",
            "deployments.apps",
            "deploy.apps",
            "deployments.v1.apps",
        ] {
            assert_eq!(resolve(&c, w).unwrap().plural, "deployments", "{w}");
        }
        assert_eq!(resolve(&c, "po").unwrap().kind, "Pod");
        assert_eq!(resolve(&c, "pods.v1").unwrap().kind, "Pod");
        // Core wins over events.k8s.io for the bare name; the group picks the other one.
        assert_eq!(resolve(&c, "events").unwrap().group, "");
        assert_eq!(
            resolve(&c, "events.events.k8s.io").unwrap().group,
            "events.k8s.io"
        );
        // Preferred version unless one is asked for.
        assert_eq!(resolve(&c, "hpa").unwrap().version, "v2");
        assert_eq!(resolve(&c, "hpa.v1.autoscaling").unwrap().version, "v1");
        assert_eq!(
            resolve(&c, "foo").unwrap_err().to_string(),
            "error: the server doesn't have a resource type \"foo\""
        );
    }

    #[test]
    fn paths_and_prefixes() {
        let c = catalog();
        let d = resolve(&c, "deploy").unwrap();
        assert_eq!(
            d.object_path(Some("ns"), "x"),
            "/apis/apps/v1/namespaces/ns/deployments/x"
        );
        assert_eq!(d.kind_prefix(), "deployment.apps");
        let p = resolve(&c, "pods").unwrap();
        assert_eq!(p.collection_path(None), "/api/v1/pods");
        assert_eq!(p.kind_prefix(), "pod");
    }

    #[test]
    fn argument_forms() {
        let s = |v: &[&str]| parse_args(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(
            s(&["deploy,svc", "a"]).unwrap(),
            Selection::Types {
                types: vec!["deploy".into(), "svc".into()],
                names: vec!["a".into()]
            }
        );
        assert_eq!(
            s(&["pod/a", "svc/b"]).unwrap(),
            Selection::Pairs(vec![("pod".into(), "a".into()), ("svc".into(), "b".into())])
        );
        assert!(s(&["pod", "svc/b"]).is_err());
        assert!(s(&[]).is_err());
    }
}
