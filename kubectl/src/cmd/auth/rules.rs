//! `auth can-i --list`: the rules of a SelfSubjectRulesReview as upstream tabulates them.
//! Every rule is broken down into one verb on one resource (and name) or one URL, rules that
//! differ only in their verb are merged again, and the result is sorted by the text Go's
//! generated `PolicyRule.String()` gives — which is why verbs decide the order first.

use serde_json::Value;

use super::policy::{breakdown, go_list, PolicyRule};
use crate::printers::tabwriter::TabWriter;

impl PolicyRule {
    /// Go's generated `String()`, the key upstream sorts by.
    fn go_string(&self) -> String {
        format!(
            "&PolicyRule{{Verbs:{},APIGroups:{},Resources:{},ResourceNames:{},NonResourceURLs:{},}}",
            go_list(&self.verbs),
            go_list(&self.api_groups),
            go_list(&self.resources),
            go_list(&self.resource_names),
            go_list(&self.non_resource_urls)
        )
    }

    /// One group, one resource, at most one name, no URLs: rules merged by verb.
    fn simple_key(&self) -> Option<SimpleKey> {
        if self.resource_names.len() > 1
            || !self.non_resource_urls.is_empty()
            || self.api_groups.len() != 1
            || self.resources.len() != 1
        {
            return None;
        }
        Some((
            self.api_groups[0].clone(),
            self.resources[0].clone(),
            self.resource_names.first().cloned(),
        ))
    }
}

/// The group, resource and (optional) name of a rule whose verbs merge with its likes'.
type SimpleKey = (String, String, Option<String>);

/// The rules of a review's status: resource rules, then non-resource rules.
pub fn from_status(status: &Value) -> Vec<PolicyRule> {
    let rules = |key: &str| {
        status[key]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(PolicyRule::from_json)
            .collect::<Vec<_>>()
    };
    let mut out = rules("resourceRules");
    out.extend(rules("nonResourceRules"));
    out
}

/// Merges the verbs of rules on the same group, resource and name.
fn compact(rules: Vec<PolicyRule>) -> Vec<PolicyRule> {
    let mut others = Vec::new();
    let mut simple: Vec<(SimpleKey, PolicyRule)> = Vec::new();
    for rule in rules {
        let Some(key) = rule.simple_key() else {
            others.push(rule);
            continue;
        };
        match simple.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => {
                for verb in rule.verbs {
                    if !existing.verbs.contains(&verb) {
                        existing.verbs.push(verb);
                    }
                }
            }
            None => simple.push((key, rule)),
        }
    }
    others.extend(simple.into_iter().map(|(_, r)| r));
    others
}

/// The rules as upstream lists them: broken down, merged and sorted.
pub fn listed(rules: &[PolicyRule]) -> Vec<PolicyRule> {
    let mut out = compact(rules.iter().flat_map(breakdown).collect());
    out.sort_by_cached_key(PolicyRule::go_string);
    out
}

/// describe's `CombineResourceGroup`: `resource.group/subresource` of a rule's first ones.
fn resource_and_group(rule: &PolicyRule) -> String {
    let Some(resource) = rule.resources.first() else {
        return String::new();
    };
    let (name, sub) = match resource.split_once('/') {
        Some((n, s)) => (n, Some(s)),
        None => (resource.as_str(), None),
    };
    let mut s = name.to_string();
    if let Some(group) = rule.api_groups.first().filter(|g| !g.is_empty()) {
        s.push('.');
        s.push_str(group);
    }
    if let Some(sub) = sub {
        s.push('/');
        s.push_str(sub);
    }
    s
}

/// The table `can-i --list` prints.
pub fn table(rules: &[PolicyRule], no_headers: bool) -> String {
    let mut tw = TabWriter::new();
    if !no_headers {
        tw.row(
            ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]
                .map(String::from)
                .to_vec(),
        );
    }
    for r in rules {
        tw.row(vec![
            resource_and_group(r),
            go_list(&r.non_resource_urls),
            go_list(&r.resource_names),
            go_list(&r.verbs),
        ]);
    }
    tw.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listed_from(status: Value) -> Vec<PolicyRule> {
        listed(&from_status(&status))
    }

    #[test]
    fn rules_are_broken_down_merged_and_sorted_by_their_go_text() {
        let status = json!({
            "resourceRules": [
                {"verbs": ["get", "list"], "apiGroups": ["", "apps"], "resources": ["pods", "deployments/scale"]},
                {"verbs": ["watch"], "apiGroups": [""], "resources": ["pods"]},
                {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews"]},
                {"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a", "b"]}
            ],
            "nonResourceRules": [
                {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/api/*"]}
            ]
        });
        let text = table(&listed_from(status), false);
        assert_eq!(
            text,
            "\
Resources                                       Non-Resource URLs   Resource Names   Verbs
selfsubjectaccessreviews.authorization.k8s.io   []                  []               [create]
pods                                            []                  []               [get list watch]
deployments/scale                               []                  []               [get list]
deployments.apps/scale                          []                  []               [get list]
pods.apps                                       []                  []               [get list]
                                                [/api/*]            []               [get]
                                                [/healthz]          []               [get]
configmaps                                      []                  [a]              [get]
configmaps                                      []                  [b]              [get]
"
        );
    }

    #[test]
    fn headers_can_be_left_out() {
        let status = json!({"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]});
        assert_eq!(
            table(&listed_from(status), true),
            "*.*   []    []    [*]\n      [*]   []    [*]\n"
        );
    }

    #[test]
    fn rules_without_groups_list_nothing() {
        let status = json!({"resourceRules": [{"verbs": ["get"], "resources": ["pods"]}]});
        assert!(listed_from(status).is_empty());
    }
}
