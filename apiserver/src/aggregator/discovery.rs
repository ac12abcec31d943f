//! Extension apiservers' groups in discovery: appended to the built-in `/apis` documents
//! (the legacy `APIGroupList` and the aggregated `apidiscovery.k8s.io/v2` list), and
//! `/apis/<group>` for a group only extension apiservers serve. Groups are ordered by their
//! highest `groupPriorityMinimum`, versions by `versionPriority`, as upstream orders them.

use serde_json::{json, Value};

use super::{Aggregator, Registration};

/// The extension apiservers' groups, each with its registrations in preference order.
fn remote_groups(regs: &[Registration]) -> Vec<(String, Vec<Registration>)> {
    let mut groups: Vec<(String, Vec<Registration>)> = Vec::new();
    for r in regs.iter().filter(|r| !r.is_local() && !r.group.is_empty()) {
        match groups.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, v)) => v.push(r.clone()),
            None => groups.push((r.group.clone(), vec![r.clone()])),
        }
    }
    for (_, versions) in &mut groups {
        versions.sort_by(|a, b| {
            b.version_priority
                .cmp(&a.version_priority)
                .then_with(|| b.version.cmp(&a.version))
        });
    }
    let priority = |v: &[Registration]| v.iter().map(|r| r.group_priority_minimum).max();
    groups.sort_by(|(ga, a), (gb, b)| priority(b).cmp(&priority(a)).then_with(|| ga.cmp(gb)));
    groups
}

fn version_entry(group: &str, version: &str) -> Value {
    json!({"groupVersion": format!("{group}/{version}"), "version": version})
}

fn group_value(group: &str, versions: &[Registration]) -> Value {
    json!({
        "name": group,
        "versions": versions.iter().map(|r| version_entry(group, &r.version)).collect::<Vec<_>>(),
        "preferredVersion": version_entry(group, &versions[0].version),
    })
}

/// Append the extension groups to a legacy `APIGroupList`. Unavailable ones are listed too,
/// as upstream lists them (clients then report the group-version as failing).
pub fn extend_group_list(doc: &mut Value, regs: &[Registration]) {
    let Some(list) = doc.get_mut("groups").and_then(Value::as_array_mut) else {
        return;
    };
    for (group, versions) in remote_groups(regs) {
        if list.iter().any(|g| g["name"] == group.as_str()) {
            continue;
        }
        list.push(group_value(&group, &versions));
    }
}

/// `/apis/<group>` for a group served only by extension apiservers.
pub fn api_group(group: &str, regs: &[Registration]) -> Option<Value> {
    let (_, versions) = remote_groups(regs).into_iter().find(|(g, _)| g == group)?;
    let mut v = group_value(group, &versions);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Some(v)
}

/// One `APIResourceList` (legacy per-version discovery) as an `APIVersionDiscovery`.
pub fn version_discovery(group: &str, version: &str, list: &Value, fresh: bool) -> Value {
    let empty = Vec::new();
    let entries = list
        .get("resources")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let kind_of = |r: &Value| {
        json!({
            "group": r.get("group").and_then(Value::as_str).unwrap_or(group),
            "version": r.get("version").and_then(Value::as_str).unwrap_or(version),
            "kind": r.get("kind").and_then(Value::as_str).unwrap_or(""),
        })
    };
    let mut resources: Vec<Value> = Vec::new();
    for r in entries {
        let name = r.get("name").and_then(Value::as_str).unwrap_or("");
        if name.is_empty() || name.contains('/') {
            continue;
        }
        let mut d = json!({
            "resource": name,
            "responseKind": kind_of(r),
            "scope": if r["namespaced"] == true { "Namespaced" } else { "Cluster" },
            "singularResource": r.get("singularName").cloned().unwrap_or(json!("")),
            "verbs": r.get("verbs").cloned().unwrap_or(json!([])),
        });
        for key in ["shortNames", "categories"] {
            if let Some(v) = r
                .get(key)
                .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
            {
                d[key] = v.clone();
            }
        }
        resources.push(d);
    }
    for r in entries {
        let name = r.get("name").and_then(Value::as_str).unwrap_or("");
        let Some((parent, sub)) = name.split_once('/') else {
            continue;
        };
        if let Some(p) = resources.iter_mut().find(|p| p["resource"] == parent) {
            let entry = json!({
                "subresource": sub,
                "responseKind": kind_of(r),
                "verbs": r.get("verbs").cloned().unwrap_or(json!([])),
            });
            match p.get_mut("subresources").and_then(Value::as_array_mut) {
                Some(subs) => subs.push(entry),
                None => p["subresources"] = json!([entry]),
            }
        }
    }
    json!({
        "version": version,
        "resources": resources,
        "freshness": if fresh { "Current" } else { "Stale" },
    })
}

/// Append the extension groups whose backends have answered discovery to an aggregated
/// `APIGroupDiscoveryList`; a backend that has since failed is marked `Stale`.
pub fn extend_aggregated(doc: &mut Value, aggregator: &Aggregator) {
    let regs = aggregator.registrations();
    let Some(items) = doc.get_mut("items").and_then(Value::as_array_mut) else {
        return;
    };
    for (group, versions) in remote_groups(&regs) {
        let versions: Vec<Value> = versions
            .iter()
            .filter_map(|r| {
                let list = aggregator.cached_discovery(&r.name)?;
                Some(version_discovery(&group, &r.version, &list, r.available))
            })
            .collect();
        if versions.is_empty()
            || items
                .iter()
                .any(|g| g["metadata"]["name"] == group.as_str())
        {
            continue;
        }
        items.push(json!({
            "metadata": {"name": group, "creationTimestamp": null},
            "versions": versions,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregator::{ServiceRef, Trust};

    fn reg(group: &str, version: &str, gpm: i64, vp: i64) -> Registration {
        Registration {
            name: format!("{version}.{group}"),
            group: group.into(),
            version: version.into(),
            group_priority_minimum: gpm,
            version_priority: vp,
            service: Some(ServiceRef {
                namespace: "ns".into(),
                name: "svc".into(),
                port: 443,
            }),
            trust: Trust::Insecure,
            available: true,
        }
    }

    #[test]
    fn groups_are_appended_with_preferred_version_by_priority() {
        let mut doc = json!({"kind": "APIGroupList", "groups": [{"name": "apps"}]});
        let regs = [
            reg("metrics.k8s.io", "v1alpha1", 100, 10),
            reg("metrics.k8s.io", "v1beta1", 100, 100),
            reg("z.example.com", "v1", 1000, 1),
        ];
        extend_group_list(&mut doc, &regs);
        let groups = doc["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[1]["name"], "z.example.com");
        assert_eq!(
            groups[2]["preferredVersion"]["groupVersion"],
            "metrics.k8s.io/v1beta1"
        );
        assert_eq!(groups[2]["versions"][1]["version"], "v1alpha1");
        let g = api_group("metrics.k8s.io", &regs).expect("group");
        assert_eq!(g["kind"], "APIGroup");
        assert!(api_group("apps", &regs).is_none());
    }

    #[test]
    fn resource_lists_become_version_discovery() {
        let list = json!({"kind": "APIResourceList", "groupVersion": "metrics.k8s.io/v1beta1", "resources": [
            {"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": ["get", "list"]},
            {"name": "pods/status", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": ["get"]},
        ]});
        let v = version_discovery("metrics.k8s.io", "v1beta1", &list, false);
        assert_eq!(v["freshness"], "Stale");
        let res = v["resources"].as_array().unwrap();
        assert_eq!(res.len(), 2);
        assert_eq!(res[0]["scope"], "Cluster");
        assert_eq!(res[1]["responseKind"]["kind"], "PodMetrics");
        assert_eq!(res[1]["responseKind"]["group"], "metrics.k8s.io");
        assert_eq!(res[1]["subresources"][0]["subresource"], "status");
    }
}
