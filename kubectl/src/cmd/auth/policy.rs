//! Whether one set of RBAC rules allows everything another set does, as the API server's
//! escalation check and `kubectl auth reconcile` decide it: the rules asked about are broken
//! down into atoms (one API group, resource, verb and resource name, or one non-resource URL
//! and verb), and each atom must be allowed by some single rule of the owner.

use serde_json::{json, Map, Value};

/// `*` in verbs, API groups and resources.
const ALL: &str = "*";

/// One RBAC `PolicyRule`, its lists as written (a missing list reads as empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    /// Reads a rule of an object already checked by [`super::typed`] (lists of strings).
    pub fn from_json(v: &Value) -> Self {
        let list = |key: &str| -> Vec<String> {
            v[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        PolicyRule {
            verbs: list("verbs"),
            api_groups: list("apiGroups"),
            resources: list("resources"),
            resource_names: list("resourceNames"),
            non_resource_urls: list("nonResourceURLs"),
        }
    }

    /// The rule as the API's Go struct writes it: `verbs` always, the other lists only when
    /// not empty.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("verbs".into(), json!(self.verbs));
        for (key, list) in [
            ("apiGroups", &self.api_groups),
            ("resources", &self.resources),
            ("resourceNames", &self.resource_names),
            ("nonResourceURLs", &self.non_resource_urls),
        ] {
            if !list.is_empty() {
                m.insert(key.into(), json!(list));
            }
        }
        Value::Object(m)
    }

    /// Go's `%+v` of the struct, which upstream prints for each rule it adds or removes.
    pub fn go_debug(&self) -> String {
        format!(
            "{{Verbs:{} APIGroups:{} Resources:{} ResourceNames:{} NonResourceURLs:{}}}",
            go_list(&self.verbs),
            go_list(&self.api_groups),
            go_list(&self.resources),
            go_list(&self.resource_names),
            go_list(&self.non_resource_urls)
        )
    }
}

/// Go's `%v` of a string slice: elements joined by spaces in brackets (so `[""]` is `[]`).
pub fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// The rules of a `rules` list (absent or null: none).
pub fn rules_of(v: &Value) -> Vec<PolicyRule> {
    v.as_array()
        .map(|a| a.iter().map(PolicyRule::from_json).collect())
        .unwrap_or_default()
}

/// The atoms of `rule`: for resources, one per API group × resource × verb (× resource
/// name when it names any); then one per non-resource URL × verb. A resource rule without
/// API groups has no atoms, so it asks for nothing.
pub fn breakdown(rule: &PolicyRule) -> Vec<PolicyRule> {
    let one = |s: &String| vec![s.clone()];
    let mut atoms = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            for verb in &rule.verbs {
                let atom = PolicyRule {
                    verbs: one(verb),
                    api_groups: one(group),
                    resources: one(resource),
                    ..PolicyRule::default()
                };
                if rule.resource_names.is_empty() {
                    atoms.push(atom);
                } else {
                    atoms.extend(rule.resource_names.iter().map(|name| PolicyRule {
                        resource_names: one(name),
                        ..atom.clone()
                    }));
                }
            }
        }
    }
    for url in &rule.non_resource_urls {
        for verb in &rule.verbs {
            atoms.push(PolicyRule {
                verbs: one(verb),
                non_resource_urls: one(url),
                ..PolicyRule::default()
            });
        }
    }
    atoms
}

/// The atoms of `servant` that no rule of `owner` allows, in order (empty: `owner` covers
/// `servant`).
pub fn uncovered(owner: &[PolicyRule], servant: &[PolicyRule]) -> Vec<PolicyRule> {
    servant
        .iter()
        .flat_map(breakdown)
        .filter(|atom| !owner.iter().any(|o| rule_covers(o, atom)))
        .collect()
}

fn has(set: &[String], item: &str) -> bool {
    set.iter().any(|s| s == item)
}

fn has_all(set: &[String], items: &[String]) -> bool {
    items.iter().all(|i| has(set, i))
}

/// Resources are allowed by `*`, by name, or (for a subresource `r/sub`) by `*/sub`.
fn resources_cover_all(owner: &[String], wanted: &[String]) -> bool {
    if has(owner, ALL) {
        return true;
    }
    wanted.iter().all(|path| {
        has(owner, path)
            || path
                .split_once('/')
                .is_some_and(|(_, sub)| has(owner, &format!("*/{sub}")))
    })
}

/// A non-resource URL is allowed by itself or by a pattern ending in `*` that prefixes it.
fn non_resource_url_covers(owner: &str, wanted: &str) -> bool {
    owner == wanted
        || owner
            .strip_suffix('*')
            .is_some_and(|_| wanted.starts_with(owner.trim_end_matches('*')))
}

fn non_resource_urls_cover_all(owner: &[String], wanted: &[String]) -> bool {
    wanted
        .iter()
        .all(|w| owner.iter().any(|o| non_resource_url_covers(o, w)))
}

/// Whether `owner` (any rule) allows the atom `atom`. A rule restricted to resource names
/// never allows an atom that names none.
fn rule_covers(owner: &PolicyRule, atom: &PolicyRule) -> bool {
    let verbs = has(&owner.verbs, ALL) || has_all(&owner.verbs, &atom.verbs);
    let groups = has(&owner.api_groups, ALL) || has_all(&owner.api_groups, &atom.api_groups);
    let resources = resources_cover_all(&owner.resources, &atom.resources);
    let urls = non_resource_urls_cover_all(&owner.non_resource_urls, &atom.non_resource_urls);
    let names = if atom.resource_names.is_empty() {
        owner.resource_names.is_empty()
    } else {
        owner.resource_names.is_empty() || has_all(&owner.resource_names, &atom.resource_names)
    };
    verbs && groups && resources && names && urls
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: strings(verbs),
            api_groups: strings(groups),
            resources: strings(resources),
            resource_names: strings(names),
            non_resource_urls: Vec::new(),
        }
    }

    fn urls(verbs: &[&str], urls: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: strings(verbs),
            non_resource_urls: strings(urls),
            ..PolicyRule::default()
        }
    }

    #[test]
    fn breakdown_is_group_resource_verb_name_then_urls() {
        let r = PolicyRule {
            non_resource_urls: strings(&["/a"]),
            ..rule(&["get", "list"], &["", "apps"], &["pods"], &["x"])
        };
        let atoms: Vec<String> = breakdown(&r).iter().map(PolicyRule::go_debug).collect();
        assert_eq!(
            atoms,
            [
                "{Verbs:[get] APIGroups:[] Resources:[pods] ResourceNames:[x] NonResourceURLs:[]}",
                "{Verbs:[list] APIGroups:[] Resources:[pods] ResourceNames:[x] NonResourceURLs:[]}",
                "{Verbs:[get] APIGroups:[apps] Resources:[pods] ResourceNames:[x] NonResourceURLs:[]}",
                "{Verbs:[list] APIGroups:[apps] Resources:[pods] ResourceNames:[x] NonResourceURLs:[]}",
                "{Verbs:[get] APIGroups:[] Resources:[] ResourceNames:[] NonResourceURLs:[/a]}",
                "{Verbs:[list] APIGroups:[] Resources:[] ResourceNames:[] NonResourceURLs:[/a]}",
            ]
        );
        // Resources without API groups ask for nothing.
        assert!(breakdown(&rule(&["get"], &[], &["pods"], &[])).is_empty());
    }

    #[test]
    fn wildcards_cover_verbs_groups_and_resources() {
        let star = rule(&["*"], &["*"], &["*"], &[]);
        let wanted = [rule(
            &["delete"],
            &["apps", ""],
            &["deployments", "pods/log"],
            &["x"],
        )];
        assert!(uncovered(&[star], &wanted).is_empty());
        let get_only = rule(&["get"], &["*"], &["*"], &[]);
        let left = uncovered(&[get_only], &wanted);
        assert_eq!(left.len(), 4, "{left:?}");
        let wrong_group = rule(&["*"], &["apps"], &["*"], &[]);
        let left = uncovered(&[wrong_group], &wanted);
        assert_eq!(
            left.iter()
                .map(|r| r.api_groups.clone())
                .collect::<Vec<_>>(),
            [strings(&[""]), strings(&[""])]
        );
    }

    #[test]
    fn resource_names_restrict_only_one_way() {
        let named = rule(&["get"], &[""], &["pods"], &["a", "b"]);
        let any = rule(&["get"], &[""], &["pods"], &[]);
        // A rule for every pod allows a named one, not the other way round.
        assert!(uncovered(std::slice::from_ref(&any), std::slice::from_ref(&named)).is_empty());
        assert_eq!(
            uncovered(std::slice::from_ref(&named), std::slice::from_ref(&any)),
            [any]
        );
        let left = uncovered(
            &[rule(&["get"], &[""], &["pods"], &["a"])],
            std::slice::from_ref(&named),
        );
        assert_eq!(left, [rule(&["get"], &[""], &["pods"], &["b"])]);
    }

    #[test]
    fn subresources_are_covered_by_star_slash_sub_only() {
        let owner = [rule(&["get"], &[""], &["*/log", "pods"], &[])];
        assert!(uncovered(&owner, &[rule(&["get"], &[""], &["pods/log"], &[])]).is_empty());
        assert!(uncovered(&owner, &[rule(&["get"], &[""], &["nodes/log"], &[])]).is_empty());
        // `pods` does not allow its subresources, nor `*/log` the resources themselves.
        assert_eq!(
            uncovered(
                &owner,
                &[rule(&["get"], &[""], &["pods/exec", "nodes"], &[])]
            )
            .len(),
            2
        );
    }

    #[test]
    fn non_resource_urls_take_a_star_suffix() {
        let owner = [urls(&["get"], &["/logs/*", "/healthz"])];
        assert!(uncovered(
            &owner,
            &[urls(&["get"], &["/logs/a/b", "/logs/", "/healthz"])]
        )
        .is_empty());
        let left = uncovered(&owner, &[urls(&["get", "post"], &["/logs", "/healthz/x"])]);
        assert_eq!(
            left.iter().map(PolicyRule::go_debug).collect::<Vec<_>>(),
            [
                "{Verbs:[get] APIGroups:[] Resources:[] ResourceNames:[] NonResourceURLs:[/logs]}",
                "{Verbs:[post] APIGroups:[] Resources:[] ResourceNames:[] NonResourceURLs:[/logs]}",
                "{Verbs:[get] APIGroups:[] Resources:[] ResourceNames:[] NonResourceURLs:[/healthz/x]}",
                "{Verbs:[post] APIGroups:[] Resources:[] ResourceNames:[] NonResourceURLs:[/healthz/x]}",
            ]
        );
        // A resource rule does not allow a URL, nor a URL rule a resource.
        assert_eq!(
            uncovered(&[rule(&["*"], &["*"], &["*"], &[])], &owner).len(),
            2
        );
        assert_eq!(
            uncovered(&owner, &[rule(&["get"], &[""], &["pods"], &[])]).len(),
            1
        );
    }

    #[test]
    fn rules_print_as_go_structs_and_json() {
        let r = rule(&["get", "list"], &["", "apps"], &["pods"], &[]);
        assert_eq!(
            r.go_debug(),
            "{Verbs:[get list] APIGroups:[ apps] Resources:[pods] ResourceNames:[] NonResourceURLs:[]}"
        );
        assert_eq!(
            r.to_json(),
            json!({"verbs": ["get", "list"], "apiGroups": ["", "apps"], "resources": ["pods"]})
        );
        assert_eq!(
            PolicyRule::from_json(&json!({"verbs": ["get"], "nonResourceURLs": ["/x"]})),
            urls(&["get"], &["/x"])
        );
    }
}
