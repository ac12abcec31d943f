//! The audit policy (`--audit-policy-file`, `audit.k8s.io/v1 Policy`): an ordered list of
//! rules; the first rule that matches a request decides its level and which stages are left
//! out. A request no rule matches is not audited (level `None`), as upstream.

use std::path::Path;

use serde::Deserialize;

/// How much of a request is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum Level {
    /// Not audited.
    None,
    /// User, timestamps, resource, verb … but no bodies.
    Metadata,
    /// Metadata and the request body.
    Request,
    /// Metadata, request and response bodies.
    RequestResponse,
}

impl Level {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "None",
            Level::Metadata => "Metadata",
            Level::Request => "Request",
            Level::RequestResponse => "RequestResponse",
        }
    }
}

/// The stages of a request an event can be written at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Stage {
    /// As soon as the request is authenticated, before anything else runs.
    RequestReceived,
    /// Long-running requests (watch, exec …): once the response headers are sent.
    ResponseStarted,
    /// When the response is complete.
    ResponseComplete,
    /// When serving the request panicked.
    Panic,
}

impl Stage {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::RequestReceived => "RequestReceived",
            Stage::ResponseStarted => "ResponseStarted",
            Stage::ResponseComplete => "ResponseComplete",
            Stage::Panic => "Panic",
        }
    }
}

/// A group and some of its resources (`pods`, `pods/log`, `*/status`, `deployments/*`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupResources {
    /// API group ("" = core).
    #[serde(default)]
    pub group: String,
    /// Resources (empty = all of the group).
    #[serde(default)]
    pub resources: Vec<String>,
    /// Object names (empty = all).
    #[serde(default)]
    pub resource_names: Vec<String>,
}

/// One rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyRule {
    /// The level of requests this rule matches.
    pub level: Level,
    /// User names (empty = everyone).
    #[serde(default)]
    pub users: Vec<String>,
    /// Groups (empty = any).
    #[serde(default)]
    pub user_groups: Vec<String>,
    /// Verbs (empty = any).
    #[serde(default)]
    pub verbs: Vec<String>,
    /// Resources; a rule with resources matches resource requests only.
    #[serde(default)]
    pub resources: Vec<GroupResources>,
    /// Namespaces ("" = cluster scoped); a rule with namespaces matches resource requests only.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Paths (`/healthz`, `/logs*`); a rule with paths matches non-resource requests only.
    #[serde(default, rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
    /// Stages not written, in addition to the policy's.
    #[serde(default)]
    pub omit_stages: Vec<Stage>,
    /// Overrides the policy's `omitManagedFields`.
    #[serde(default)]
    pub omit_managed_fields: Option<bool>,
}

/// The whole policy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// `audit.k8s.io/v1`.
    #[serde(default)]
    pub api_version: String,
    /// `Policy`.
    #[serde(default)]
    pub kind: String,
    /// Rules, first match wins.
    #[serde(default)]
    pub rules: Vec<PolicyRule>,
    /// Stages never written.
    #[serde(default)]
    pub omit_stages: Vec<Stage>,
    /// Leave `metadata.managedFields` out of request and response bodies.
    #[serde(default)]
    pub omit_managed_fields: bool,
}

/// Why a policy file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Unreadable file.
    #[error("reading audit policy {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not a Policy, or malformed.
    #[error("parsing audit policy {path}: {why}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
}

/// What the policy says about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The level.
    pub level: Level,
    /// Stages to leave out.
    pub omit_stages: Vec<Stage>,
    /// Whether managed fields are left out of bodies.
    pub omit_managed_fields: bool,
}

/// The request as the policy sees it.
#[derive(Debug, Clone, Default)]
pub struct RequestAttributes<'a> {
    /// User name.
    pub user: &'a str,
    /// Groups.
    pub groups: &'a [String],
    /// Verb (lower-case HTTP method for paths).
    pub verb: &'a str,
    /// Whether this is an API object request.
    pub resource_request: bool,
    /// API group.
    pub group: &'a str,
    /// Resource.
    pub resource: &'a str,
    /// Subresource.
    pub subresource: &'a str,
    /// Namespace.
    pub namespace: &'a str,
    /// Object name.
    pub name: &'a str,
    /// Path.
    pub path: &'a str,
}

impl Policy {
    /// Read and check a policy file (YAML or JSON).
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|why| PolicyError::Parse {
            path: path.display().to_string(),
            why,
        })
    }

    /// Parse a policy document.
    pub fn parse(text: &[u8]) -> Result<Self, String> {
        let p: Policy = serde_yaml::from_slice(text).map_err(|e| e.to_string())?;
        if p.kind != "Policy" {
            return Err(format!("kind must be Policy, got {:?}", p.kind));
        }
        if p.api_version != "audit.k8s.io/v1" {
            return Err(format!(
                "apiVersion must be audit.k8s.io/v1, got {:?}",
                p.api_version
            ));
        }
        for (i, r) in p.rules.iter().enumerate() {
            if !r.non_resource_urls.is_empty()
                && (!r.resources.is_empty() || !r.namespaces.is_empty())
            {
                return Err(format!(
                    "rules[{i}]: rules cannot apply to both regular resources and non-resource URLs"
                ));
            }
        }
        Ok(p)
    }

    /// The level and stages of a request.
    pub fn decide(&self, a: &RequestAttributes<'_>) -> Decision {
        let Some(rule) = self.rules.iter().find(|r| r.matches(a)) else {
            return Decision {
                level: Level::None,
                omit_stages: self.omit_stages.clone(),
                omit_managed_fields: self.omit_managed_fields,
            };
        };
        let mut omit = self.omit_stages.clone();
        omit.extend(rule.omit_stages.iter().copied());
        Decision {
            level: rule.level,
            omit_stages: omit,
            omit_managed_fields: rule.omit_managed_fields.unwrap_or(self.omit_managed_fields),
        }
    }
}

impl PolicyRule {
    /// Whether the rule applies to a request (upstream's policy checker semantics).
    pub fn matches(&self, a: &RequestAttributes<'_>) -> bool {
        if !self.users.is_empty() && !self.users.iter().any(|u| u == a.user) {
            return false;
        }
        if !self.user_groups.is_empty() && !a.groups.iter().any(|g| self.user_groups.contains(g)) {
            return false;
        }
        if !self.verbs.is_empty() && !self.verbs.iter().any(|v| v == a.verb) {
            return false;
        }
        if !self.namespaces.is_empty() || !self.resources.is_empty() {
            return a.resource_request && self.matches_resource(a);
        }
        if !self.non_resource_urls.is_empty() {
            return !a.resource_request && self.matches_path(a.path);
        }
        true
    }

    fn matches_resource(&self, a: &RequestAttributes<'_>) -> bool {
        if !self.namespaces.is_empty() && !self.namespaces.iter().any(|n| n == a.namespace) {
            return false;
        }
        if self.resources.is_empty() {
            return true;
        }
        let combined = if a.subresource.is_empty() {
            a.resource.to_string()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        self.resources.iter().any(|gr| {
            if gr.group != a.group {
                return false;
            }
            if gr.resources.is_empty() {
                return true;
            }
            if !gr.resource_names.is_empty() && !gr.resource_names.iter().any(|n| n == a.name) {
                return false;
            }
            gr.resources.iter().any(|r| {
                r == &combined
                    || r == "*"
                    || (!a.subresource.is_empty() && r.strip_prefix("*/") == Some(a.subresource))
                    || r.strip_suffix("/*") == Some(a.resource)
            })
        })
    }

    fn matches_path(&self, path: &str) -> bool {
        self.non_resource_urls
            .iter()
            .any(|u| match u.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => u == path,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
  - level: RequestResponse
    resources:
      - group: ""
        resources: ["configmaps"]
        resourceNames: ["audited"]
  - level: Request
    resources:
      - group: ""
        resources: ["pods/*", "*/scale"]
    namespaces: ["prod"]
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets"]
    omitManagedFields: true
  - level: None
    nonResourceURLs: ["/healthz*", "/version"]
  - level: Metadata
    userGroups: ["system:authenticated"]
    omitStages: ["ResponseStarted"]
"#;

    fn attrs<'a>(groups: &'a [String], resource: &'a str, sub: &'a str) -> RequestAttributes<'a> {
        RequestAttributes {
            user: "alice",
            groups,
            verb: "get",
            resource_request: true,
            resource,
            subresource: sub,
            namespace: "prod",
            name: "x",
            ..Default::default()
        }
    }

    #[test]
    fn first_matching_rule_decides() {
        let p = Policy::parse(POLICY.as_bytes()).expect("policy");
        let groups = vec!["system:authenticated".to_string()];
        assert_eq!(
            p.decide(&attrs(&groups, "pods", "log")).level,
            Level::Request
        );
        assert_eq!(
            p.decide(&attrs(&groups, "deployments", "scale")).level,
            Level::Request
        );
        // As upstream's checker, `pods/*` also matches the pods themselves.
        assert_eq!(p.decide(&attrs(&groups, "pods", "")).level, Level::Request);
        assert_eq!(
            p.decide(&attrs(&groups, "services", "status")).level,
            Level::Metadata
        );
        let secret = p.decide(&attrs(&groups, "secrets", ""));
        assert_eq!(secret.level, Level::Metadata);
        assert!(secret.omit_managed_fields);
        assert_eq!(secret.omit_stages, vec![Stage::RequestReceived]);
        let mut cm = attrs(&groups, "configmaps", "");
        assert_eq!(p.decide(&cm).level, Level::Metadata);
        cm.name = "audited";
        assert_eq!(p.decide(&cm).level, Level::RequestResponse);
        let other = p.decide(&attrs(&groups, "services", ""));
        assert_eq!(
            other.omit_stages,
            vec![Stage::RequestReceived, Stage::ResponseStarted]
        );
    }

    #[test]
    fn paths_and_unmatched_requests() {
        let p = Policy::parse(POLICY.as_bytes()).expect("policy");
        let groups = vec!["system:unauthenticated".to_string()];
        let healthz = RequestAttributes {
            user: "system:anonymous",
            groups: &groups,
            verb: "get",
            path: "/healthz/etcd",
            ..Default::default()
        };
        assert_eq!(p.decide(&healthz).level, Level::None);
        let metrics = RequestAttributes {
            path: "/metrics",
            ..healthz.clone()
        };
        // No rule matches an unauthenticated /metrics request.
        assert_eq!(p.decide(&metrics).level, Level::None);
    }

    #[test]
    fn bad_policies_are_refused() {
        assert!(Policy::parse(b"apiVersion: audit.k8s.io/v1beta1\nkind: Policy\n").is_err());
        assert!(Policy::parse(
            b"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Everything\n"
        )
        .is_err());
        assert!(Policy::parse(
            b"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  namespaces: [a]\n  nonResourceURLs: [/x]\n"
        )
        .is_err());
    }
}
