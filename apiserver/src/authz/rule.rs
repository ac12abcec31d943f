//! RBAC policy rules: whether a rule allows a request, and whether one set of rules covers
//! another (the escalation check), with upstream's matching semantics — `*` wildcards for
//! verbs, groups and resources, `*/<subresource>`, resourceNames, and non-resource URLs with a
//! trailing `*`.

use serde_json::{json, Value};

use super::Attributes;

/// One `PolicyRule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicyRule {
    /// Verbs (`*` = all).
    pub verbs: Vec<String>,
    /// API groups (`*` = all, "" = core).
    pub api_groups: Vec<String>,
    /// Resources, `resource/subresource`, `*` or `*/subresource`.
    pub resources: Vec<String>,
    /// Object names; empty means all.
    pub resource_names: Vec<String>,
    /// Non-resource paths; a trailing `*` matches any suffix.
    pub non_resource_urls: Vec<String>,
}

fn strings(v: &Value, field: &str) -> Vec<String> {
    v.get(field)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn has(set: &[String], s: &str) -> bool {
    set.iter().any(|x| x == s)
}

impl PolicyRule {
    /// A rule granting `verbs` on `resources` of `groups`.
    pub fn resource(verbs: &[&str], groups: &[&str], resources: &[&str]) -> Self {
        Self {
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            api_groups: groups.iter().map(|s| s.to_string()).collect(),
            resources: resources.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    /// A rule granting `verbs` on non-resource `urls`.
    pub fn urls(verbs: &[&str], urls: &[&str]) -> Self {
        Self {
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            non_resource_urls: urls.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    /// Restrict to named objects.
    pub fn names(mut self, names: &[&str]) -> Self {
        self.resource_names = names.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Read a rule from its JSON form.
    pub fn from_json(v: &Value) -> Self {
        Self {
            verbs: strings(v, "verbs"),
            api_groups: strings(v, "apiGroups"),
            resources: strings(v, "resources"),
            resource_names: strings(v, "resourceNames"),
            non_resource_urls: strings(v, "nonResourceURLs"),
        }
    }

    /// The rules of a Role or ClusterRole object.
    pub fn list_from(obj: &Value) -> Vec<Self> {
        obj.get("rules")
            .and_then(Value::as_array)
            .map(|rs| rs.iter().map(Self::from_json).collect())
            .unwrap_or_default()
    }

    /// The JSON form, with empty lists left out as the API does.
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("verbs".into(), json!(self.verbs));
        for (k, v) in [
            ("apiGroups", &self.api_groups),
            ("resources", &self.resources),
            ("resourceNames", &self.resource_names),
            ("nonResourceURLs", &self.non_resource_urls),
        ] {
            if !v.is_empty() {
                m.insert(k.into(), json!(v));
            }
        }
        Value::Object(m)
    }

    fn verb_matches(&self, verb: &str) -> bool {
        has(&self.verbs, "*") || has(&self.verbs, verb)
    }

    /// Whether this rule allows the request.
    pub fn allows(&self, a: &Attributes) -> bool {
        if !self.verb_matches(&a.verb) {
            return false;
        }
        if !a.resource_request {
            return self
                .non_resource_urls
                .iter()
                .any(|u| url_matches(u, &a.path));
        }
        if !(has(&self.api_groups, "*") || has(&self.api_groups, &a.group)) {
            return false;
        }
        let combined = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        let resource_ok = self.resources.iter().any(|r| {
            r == "*"
                || *r == combined
                || (!a.subresource.is_empty()
                    && r.strip_prefix("*/") == Some(a.subresource.as_str()))
        });
        resource_ok && (self.resource_names.is_empty() || has(&self.resource_names, &a.name))
    }

    /// Split into the smallest rules (one verb, group, resource and name each), as upstream's
    /// `BreakdownRule` does before checking coverage.
    pub fn breakdown(&self) -> Vec<PolicyRule> {
        let mut out = Vec::new();
        for group in &self.api_groups {
            for resource in &self.resources {
                for verb in &self.verbs {
                    if self.resource_names.is_empty() {
                        out.push(PolicyRule::resource(&[verb], &[group], &[resource]));
                    } else {
                        for n in &self.resource_names {
                            out.push(
                                PolicyRule::resource(&[verb], &[group], &[resource]).names(&[n]),
                            );
                        }
                    }
                }
            }
        }
        for url in &self.non_resource_urls {
            for verb in &self.verbs {
                out.push(PolicyRule::urls(&[verb], &[url]));
            }
        }
        out
    }

    /// Whether this (owner) rule grants everything `sub` does.
    fn covers(&self, sub: &PolicyRule) -> bool {
        let all = |owner: &[String], want: &[String]| {
            has(owner, "*") || want.iter().all(|w| has(owner, w))
        };
        let verbs = all(&self.verbs, &sub.verbs);
        let groups = all(&self.api_groups, &sub.api_groups);
        let resources = has(&self.resources, "*")
            || sub
                .resources
                .iter()
                .all(|r| has(&self.resources, r) || subresource_wildcard(&self.resources, r));
        let urls = sub
            .non_resource_urls
            .iter()
            .all(|u| self.non_resource_urls.iter().any(|o| url_matches(o, u)));
        let names = if sub.resource_names.is_empty() {
            self.resource_names.is_empty()
        } else {
            self.resource_names.is_empty() || all(&self.resource_names, &sub.resource_names)
        };
        verbs && groups && resources && urls && names
    }

    /// Upstream's compact rendering, e.g. `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`.
    pub fn compact_string(&self) -> String {
        let q = |v: &[String]| {
            let items: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
            format!("[{}]", items.join(" "))
        };
        let mut parts = Vec::new();
        if !self.api_groups.is_empty() {
            parts.push(format!("APIGroups:{}", q(&self.api_groups)));
        }
        if !self.resources.is_empty() {
            parts.push(format!("Resources:{}", q(&self.resources)));
        }
        if !self.non_resource_urls.is_empty() {
            parts.push(format!("NonResourceURLs:{}", q(&self.non_resource_urls)));
        }
        if !self.resource_names.is_empty() {
            parts.push(format!("ResourceNames:{}", q(&self.resource_names)));
        }
        if !self.verbs.is_empty() {
            parts.push(format!("Verbs:{}", q(&self.verbs)));
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// `*/<sub>` in `owner` covers `<anything>/<sub>`.
fn subresource_wildcard(owner: &[String], requested: &str) -> bool {
    match requested.split_once('/') {
        Some((_, sub)) => owner.iter().any(|o| o.strip_prefix("*/") == Some(sub)),
        None => false,
    }
}

/// A non-resource URL rule: `*`, an exact path, or a prefix ending in `*`.
fn url_matches(rule: &str, path: &str) -> bool {
    if rule == "*" || rule == path {
        return true;
    }
    match rule.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => false,
    }
}

/// The rules of `wanted` that `owned` does not cover, broken down and then merged back per
/// group/resource/name (upstream's `Covers` + `CompactRules`), sorted for a stable message.
pub fn uncovered(owned: &[PolicyRule], wanted: &[PolicyRule]) -> Vec<PolicyRule> {
    let mut missing: Vec<PolicyRule> = Vec::new();
    for rule in wanted {
        for sub in rule.breakdown() {
            if owned.iter().any(|o| o.covers(&sub)) {
                continue;
            }
            // Merge verbs of rules that differ only in verbs.
            match missing.iter_mut().find(|m| {
                m.api_groups == sub.api_groups
                    && m.resources == sub.resources
                    && m.resource_names == sub.resource_names
                    && m.non_resource_urls == sub.non_resource_urls
            }) {
                Some(m) => {
                    if !has(&m.verbs, &sub.verbs[0]) {
                        m.verbs.push(sub.verbs[0].clone());
                    }
                }
                None => missing.push(sub),
            }
        }
    }
    missing.sort_by_key(|r| r.compact_string());
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(verb: &str, group: &str, resource: &str, sub: &str, name: &str) -> Attributes {
        Attributes {
            user: "u".into(),
            verb: verb.into(),
            resource_request: true,
            group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            name: name.into(),
            namespace: "ns".into(),
            ..Default::default()
        }
    }

    #[test]
    fn resource_matching() {
        let r = PolicyRule::resource(&["get", "list"], &[""], &["pods", "pods/log"]);
        assert!(r.allows(&res("get", "", "pods", "", "p")));
        assert!(r.allows(&res("get", "", "pods", "log", "p")));
        assert!(!r.allows(&res("get", "", "pods", "exec", "p")));
        assert!(!r.allows(&res("delete", "", "pods", "", "p")));
        assert!(!r.allows(&res("get", "apps", "pods", "", "p")));
        let star = PolicyRule::resource(&["*"], &["*"], &["*/scale"]);
        assert!(star.allows(&res("update", "apps", "deployments", "scale", "d")));
        assert!(!star.allows(&res("update", "apps", "deployments", "", "d")));
        let named = PolicyRule::resource(&["get"], &[""], &["configmaps"]).names(&["a"]);
        assert!(named.allows(&res("get", "", "configmaps", "", "a")));
        assert!(!named.allows(&res("get", "", "configmaps", "", "b")));
        assert!(!named.allows(&res("list", "", "configmaps", "", "")));
    }

    #[test]
    fn url_matching() {
        let r = PolicyRule::urls(&["get"], &["/healthz", "/apis/*"]);
        let path = |p: &str, verb: &str| Attributes {
            verb: verb.into(),
            path: p.into(),
            ..Default::default()
        };
        assert!(r.allows(&path("/healthz", "get")));
        assert!(r.allows(&path("/apis/apps/v1", "get")));
        assert!(!r.allows(&path("/healthz/etcd", "get")));
        assert!(!r.allows(&path("/healthz", "post")));
        // A resource rule never matches a path and vice versa.
        assert!(!PolicyRule::resource(&["*"], &["*"], &["*"]).allows(&path("/x", "get")));
    }

    #[test]
    fn coverage_and_compact_message() {
        let owned = vec![PolicyRule::resource(
            &["get", "list", "watch"],
            &[""],
            &["pods", "configmaps"],
        )];
        let wanted = vec![PolicyRule::resource(
            &["get", "delete"],
            &[""],
            &["pods", "secrets"],
        )];
        let missing = uncovered(&owned, &wanted);
        let lines: Vec<String> = missing.iter().map(PolicyRule::compact_string).collect();
        assert_eq!(
            lines,
            vec![
                r#"{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}"#,
                r#"{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}"#,
            ]
        );
        let admin = vec![
            PolicyRule::resource(&["*"], &["*"], &["*"]),
            PolicyRule::urls(&["*"], &["*"]),
        ];
        assert!(uncovered(&admin, &wanted).is_empty());
        assert!(uncovered(&admin, &[PolicyRule::urls(&["get"], &["/metrics"])]).is_empty());
        // A rule limited to names does not cover one for every name.
        let named = vec![PolicyRule::resource(&["get"], &[""], &["pods"]).names(&["a"])];
        assert_eq!(
            uncovered(&named, &[PolicyRule::resource(&["get"], &[""], &["pods"])]).len(),
            1
        );
    }
}
