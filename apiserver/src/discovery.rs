//! Discovery documents: `/api`, `/apis`, `/apis/<group>`, `/api/v1`, `/apis/<group>/<version>`,
//! and the aggregated form (`apidiscovery.k8s.io/v2`) that kubectl 1.30+ asks for.
//!
//! Every document is a pure function of the catalog; the HTTP layer decides which one to send
//! (Accept negotiation) and uses [`etag`] for `ETag` / `If-None-Match`.

use api_types::catalog::{self, ResourceInfo, SubresourceInfo};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// `group/version`, or just `version` for the core group.
fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn version_entry(group: &str, version: &str) -> Value {
    json!({"groupVersion": group_version(group, version), "version": version})
}

/// `/api`: the `APIVersions` of the legacy core group.
pub fn legacy_api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    })
}

fn api_group_value(group: &str, versions: &[&str]) -> Value {
    let preferred = versions.first().copied().unwrap_or("v1");
    json!({
        "name": group,
        "versions": versions.iter().map(|v| version_entry(group, v)).collect::<Vec<_>>(),
        "preferredVersion": version_entry(group, preferred),
    })
}

/// `/apis`: an `APIGroupList` of every named group. The preferred version of a group is its
/// first version in catalog order (autoscaling prefers v2, as upstream does).
pub fn api_group_list() -> Value {
    let groups: Vec<Value> = catalog::groups()
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, versions)| api_group_value(g, &versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`: the `APIGroup`, or `None` if the group is not served.
pub fn api_group(group: &str) -> Option<Value> {
    if group.is_empty() {
        return None;
    }
    let (_, versions) = catalog::groups().into_iter().find(|(g, _)| *g == group)?;
    let mut doc = api_group_value(group, &versions);
    let obj = doc.as_object_mut()?;
    obj.insert("kind".into(), json!("APIGroup"));
    obj.insert("apiVersion".into(), json!("v1"));
    Some(doc)
}

fn api_resource(r: &ResourceInfo) -> Value {
    let mut v = json!({
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": r.verbs,
    });
    // Upstream omits empty shortNames and categories.
    if !r.short_names.is_empty() {
        v["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        v["categories"] = json!(r.categories);
    }
    v
}

fn api_subresource(r: &ResourceInfo, s: &SubresourceInfo) -> Value {
    let mut v = json!({
        "name": format!("{}/{}", r.plural, s.name),
        "singularName": "",
        "namespaced": r.namespaced,
        "kind": s.kind,
        "verbs": s.verbs,
    });
    // Like upstream, group and version are only spelled out when the subresource answers
    // with an object of another group-version (deployments/scale → autoscaling/v1 Scale).
    if s.group != r.group || s.version != r.version {
        v["group"] = json!(s.group);
        v["version"] = json!(s.version);
    }
    v
}

/// `/api/v1` or `/apis/<group>/<version>`: an `APIResourceList`, or `None` if not served.
pub fn api_resource_list(group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for r in catalog::resources_in(group, version) {
        resources.push(api_resource(r));
        for s in r.subresources {
            resources.push(api_subresource(r, s));
        }
    }
    if resources.is_empty() {
        return None;
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version(group, version),
        "resources": resources,
    }))
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

fn resource_discovery(r: &ResourceInfo) -> Value {
    let subresources: Vec<Value> = r
        .subresources
        .iter()
        .map(|s| {
            json!({
                "subresource": s.name,
                "responseKind": gvk(s.group, s.version, s.kind),
                "verbs": s.verbs,
            })
        })
        .collect();
    let mut v = json!({
        "resource": r.plural,
        "responseKind": gvk(r.group, r.version, r.kind),
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        v["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        v["categories"] = json!(r.categories);
    }
    if !subresources.is_empty() {
        v["subresources"] = json!(subresources);
    }
    v
}

fn group_discovery(group: &str, versions: &[&str]) -> Value {
    // Versions are listed in preference order: clients take the first as preferred.
    let versions: Vec<Value> = versions
        .iter()
        .map(|version| {
            let resources: Vec<Value> = catalog::resources_in(group, version)
                .map(resource_discovery)
                .collect();
            json!({"version": version, "resources": resources, "freshness": "Current"})
        })
        .collect();
    json!({
        "metadata": {"name": group, "creationTimestamp": null},
        "versions": versions,
    })
}

/// The aggregated discovery document (`APIGroupDiscoveryList`, `apidiscovery.k8s.io/v2`):
/// for `/api` (`legacy = true`) only the core group (named `""`), for `/apis` every named group.
pub fn aggregated_discovery(legacy: bool) -> Value {
    let items: Vec<Value> = catalog::groups()
        .into_iter()
        .filter(|(g, _)| g.is_empty() == legacy)
        .map(|(g, versions)| group_discovery(g, &versions))
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

/// A strong entity tag for a discovery document, already quoted (`"<hex sha256>"`) as the
/// `ETag` header wants it; compare it verbatim with `If-None-Match`.
pub fn etag(doc: &Value) -> String {
    // serde_json's map keeps insertion order and the documents are built deterministically,
    // so the same catalog always hashes to the same tag.
    let bytes = serde_json::to_vec(doc).unwrap_or_default();
    format!("\"{}\"", hex(&Sha256::digest(&bytes)))
}

/// Lower-case hex of a byte string.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(list: &'a Value, key: &str, name: &str) -> &'a Value {
        list.as_array()
            .and_then(|a| a.iter().find(|x| x[key] == name))
            .unwrap_or_else(|| panic!("{name} not found"))
    }

    #[test]
    fn deployments_have_short_name_and_all_verbs() {
        let list = api_resource_list("apps", "v1").expect("apps/v1 served");
        assert_eq!(list["groupVersion"], "apps/v1");
        let d = find(&list["resources"], "name", "deployments");
        assert_eq!(d["shortNames"], json!(["deploy"]));
        assert_eq!(d["kind"], "Deployment");
        assert_eq!(d["namespaced"], true);
        for verb in [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ] {
            assert!(
                d["verbs"].as_array().unwrap().contains(&json!(verb)),
                "{verb}"
            );
        }
        assert_eq!(d["categories"], json!(["all"]));
    }

    #[test]
    fn subresources_are_listed_like_upstream() {
        let list = api_resource_list("apps", "v1").expect("apps/v1 served");
        let scale = find(&list["resources"], "name", "deployments/scale");
        assert_eq!(scale["singularName"], "");
        assert_eq!(scale["group"], "autoscaling");
        assert_eq!(scale["version"], "v1");
        assert_eq!(scale["kind"], "Scale");
        let status = find(&list["resources"], "name", "deployments/status");
        assert!(status.get("group").is_none());
        let core = api_resource_list("", "v1").expect("v1 served");
        assert_eq!(core["groupVersion"], "v1");
        find(&core["resources"], "name", "pods/log");
    }

    #[test]
    fn unknown_group_versions_are_not_served() {
        assert!(api_resource_list("apps", "v1beta1").is_none());
        assert!(api_group("nope.example.com").is_none());
        assert!(api_group("").is_none());
    }

    #[test]
    fn group_list_prefers_the_first_version() {
        let list = api_group_list();
        assert_eq!(list["kind"], "APIGroupList");
        let groups = &list["groups"];
        assert!(groups.as_array().unwrap().iter().all(|g| g["name"] != ""));
        let autoscaling = find(groups, "name", "autoscaling");
        assert_eq!(
            autoscaling["preferredVersion"]["groupVersion"],
            "autoscaling/v2"
        );
        assert_eq!(autoscaling["versions"][1]["version"], "v1");
        let apps = api_group("apps").expect("apps");
        assert_eq!(apps["kind"], "APIGroup");
        assert_eq!(apps["preferredVersion"]["version"], "v1");
    }

    #[test]
    fn legacy_versions_name_the_server() {
        let v = legacy_api_versions("10.0.0.1:6443");
        assert_eq!(v["versions"], json!(["v1"]));
        assert_eq!(
            v["serverAddressByClientCIDRs"][0]["serverAddress"],
            "10.0.0.1:6443"
        );
    }

    #[test]
    fn aggregated_legacy_has_only_the_core_group() {
        let doc = aggregated_discovery(true);
        assert_eq!(doc["apiVersion"], "apidiscovery.k8s.io/v2");
        assert_eq!(doc["kind"], "APIGroupDiscoveryList");
        let items = doc["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["metadata"]["name"], "");
        let v1 = &items[0]["versions"][0];
        assert_eq!(v1["version"], "v1");
        assert_eq!(v1["freshness"], "Current");
        let pods = find(&v1["resources"], "resource", "pods");
        assert_eq!(pods["scope"], "Namespaced");
        assert_eq!(pods["singularResource"], "pod");
        assert_eq!(
            pods["responseKind"],
            json!({"group": "", "version": "v1", "kind": "Pod"})
        );
        assert_eq!(pods["shortNames"], json!(["po"]));
        let eviction = find(&pods["subresources"], "subresource", "eviction");
        assert_eq!(eviction["responseKind"]["group"], "policy");
        let nodes = find(&v1["resources"], "resource", "nodes");
        assert_eq!(nodes["scope"], "Cluster");
    }

    #[test]
    fn aggregated_apis_lists_named_groups_in_preference_order() {
        let doc = aggregated_discovery(false);
        let items = &doc["items"];
        assert!(items
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["metadata"]["name"] != ""));
        let autoscaling = items
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metadata"]["name"] == "autoscaling")
            .expect("autoscaling");
        assert_eq!(autoscaling["versions"][0]["version"], "v2");
        let apps = items
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metadata"]["name"] == "apps")
            .expect("apps");
        let deploy = find(&apps["versions"][0]["resources"], "resource", "deployments");
        assert_eq!(deploy["shortNames"], json!(["deploy"]));
        let scale = find(&deploy["subresources"], "subresource", "scale");
        assert_eq!(scale["responseKind"]["kind"], "Scale");
        assert_eq!(scale["verbs"], json!(["get", "patch", "update"]));
    }

    #[test]
    fn etag_is_stable_and_quoted() {
        let a = etag(&aggregated_discovery(false));
        let b = etag(&aggregated_discovery(false));
        assert_eq!(a, b);
        assert!(a.starts_with('"') && a.ends_with('"'));
        assert_ne!(a, etag(&aggregated_discovery(true)));
    }
}
