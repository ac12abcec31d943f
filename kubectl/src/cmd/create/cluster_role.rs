//! `kubectl create clusterrole`: what it checks beyond `create role` (non-resource URLs and
//! their verbs) and the aggregated form (`--aggregation-rule`), whose ClusterRole has no
//! rules of its own but a label selector for the roles it combines.

use serde_json::{json, Map, Value};

use crate::error::{KubectlError, Result};

/// The verbs a non-resource URL rule may name (upstream's `validNonResourceVerbs`).
const NON_RESOURCE_VERBS: &[&str] = &[
    "*", "get", "post", "put", "delete", "patch", "head", "options",
];

/// What the user asked for, with the non-resource URLs de-duplicated as upstream does.
pub struct Request<'a> {
    pub verbs: &'a [String],
    pub resources: &'a [String],
    pub resource_names: &'a [String],
    pub non_resource_urls: Vec<String>,
    /// `--aggregation-rule`'s pairs, every occurrence of the flag in order.
    pub aggregation: Vec<(String, String)>,
}

impl<'a> Request<'a> {
    pub fn new(
        verbs: &'a [String],
        resources: &'a [String],
        resource_names: &'a [String],
        non_resource_urls: &[String],
        aggregation: &[Vec<(String, String)>],
    ) -> Self {
        let mut urls: Vec<String> = Vec::new();
        for url in non_resource_urls {
            if !urls.contains(url) {
                urls.push(url.clone());
            }
        }
        Request {
            verbs,
            resources,
            resource_names,
            non_resource_urls: urls,
            aggregation: aggregation.concat(),
        }
    }

    /// Upstream's `Validate`, in its order. `Ok(true)` means an aggregated role.
    pub fn validate(&self) -> Result<bool> {
        let refuse = |text: &str| Err(KubectlError::usage(text));
        if !self.aggregation.is_empty() {
            if !self.non_resource_urls.is_empty()
                || !self.verbs.is_empty()
                || !self.resources.is_empty()
                || !self.resource_names.is_empty()
            {
                return refuse("aggregation rule must be specified without nonResourceURLs, verbs, resources or resourceNames");
            }
            return Ok(true);
        }
        if self.verbs.is_empty() {
            return refuse("at least one verb must be specified");
        }
        if self.resources.is_empty() && self.non_resource_urls.is_empty() {
            return refuse("one of resource or nonResourceURL must be specified");
        }
        if self.non_resource_urls.is_empty() {
            return Ok(false);
        }
        if let Some(v) = self
            .verbs
            .iter()
            .find(|v| !NON_RESOURCE_VERBS.contains(&v.as_str()))
        {
            return refuse(&format!("invalid verb: '{v}' for nonResourceURL"));
        }
        for url in &self.non_resource_urls {
            if url == "*" {
                continue;
            }
            if !url.starts_with('/') {
                return refuse("nonResourceURL should start with /");
            }
            if url[..url.len() - 1].contains('*') {
                return refuse(
                    "nonResourceURL only supports wildcard matches when '*' is at the end",
                );
            }
        }
        Ok(false)
    }
}

/// The aggregated ClusterRole `name`: `rules: null` and one selector matching `labels` (a
/// later pair with the same key wins, as in Go's map).
pub fn aggregated(name: &str, labels: &[(String, String)]) -> Value {
    let mut match_labels = Map::new();
    for (k, v) in labels {
        match_labels.insert(k.clone(), json!(v));
    }
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
           "metadata": {"name": name, "creationTimestamp": null}, "rules": null,
           "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": match_labels}]}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn check(verbs: &[&str], resources: &[&str], urls: &[&str], agg: &[(&str, &str)]) -> String {
        let (verbs, resources, urls) = (strings(verbs), strings(resources), strings(urls));
        let agg = vec![agg
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()];
        match Request::new(&verbs, &resources, &[], &urls, &agg).validate() {
            Ok(aggregated) => format!("ok {aggregated}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn checks_in_upstreams_order_and_words() {
        assert_eq!(
            check(&["get"], &[], &[], &[]),
            "error: one of resource or nonResourceURL must be specified"
        );
        assert_eq!(
            check(&[], &["pods"], &[], &[]),
            "error: at least one verb must be specified"
        );
        assert_eq!(
            check(&["fly"], &[], &["/x"], &[]),
            "error: invalid verb: 'fly' for nonResourceURL"
        );
        assert_eq!(
            check(&["get"], &[], &["x"], &[]),
            "error: nonResourceURL should start with /"
        );
        assert_eq!(
            check(&["get"], &[], &["/a*b"], &[]),
            "error: nonResourceURL only supports wildcard matches when '*' is at the end"
        );
        assert_eq!(check(&["get"], &[], &["/a/*", "*"], &[]), "ok false");
        assert_eq!(
            check(&["get"], &[], &[], &[("a", "b")]),
            "error: aggregation rule must be specified without nonResourceURLs, verbs, resources or resourceNames"
        );
        assert_eq!(check(&[], &[], &[], &[("a", "b")]), "ok true");
    }

    #[test]
    fn an_aggregated_role_selects_by_every_pair() {
        let pairs = vec![
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "3".to_string()),
        ];
        let role = aggregated("c", &pairs);
        assert_eq!(role["rules"], Value::Null);
        assert_eq!(
            role["aggregationRule"]["clusterRoleSelectors"][0]["matchLabels"],
            json!({"a": "3", "b": "2"})
        );
    }

    #[test]
    fn repeated_urls_count_once() {
        let urls = strings(&["/a", "/b", "/a"]);
        let r = Request::new(&[], &[], &[], &urls, &[]);
        assert_eq!(r.non_resource_urls, ["/a", "/b"]);
    }
}
