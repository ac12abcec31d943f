//! API discovery: which groups, versions and resources the server serves. Uses aggregated
//! discovery (`apidiscovery.k8s.io/v2`, two requests) with a fallback to one request per
//! group-version, and caches the result under `~/.kube/cache/discovery/<host_port>/` for six
//! hours like upstream. A type word that is not in the cache refreshes it once.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::ApiClient;
use crate::error::Result;
use crate::resource::{self, ApiResource};

const ACCEPT_AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
const CACHE_TTL: Duration = Duration::from_secs(6 * 3600);
const CACHE_FILE: &str = "rudder-kubectl-resources.json";

/// Everything discovery found.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Discovery {
    /// All group versions (`v1`, `apps/v1`), in discovery order.
    pub group_versions: Vec<String>,
    /// All resources of all versions, in discovery order (core first).
    pub resources: Vec<ApiResource>,
}

impl Discovery {
    /// Loads from the cache, or from the server when the cache is missing or stale.
    pub async fn load(client: &ApiClient) -> Result<Self> {
        if let Some(d) = read_cache(&client.server) {
            return Ok(d);
        }
        Self::refresh(client).await
    }

    /// Asks the server and rewrites the cache.
    pub async fn refresh(client: &ApiClient) -> Result<Self> {
        let d = fetch(client).await?;
        write_cache(&client.server, &d);
        Ok(d)
    }

    /// Resolves a type word, refreshing a stale cache once on a miss.
    pub async fn resolve(&mut self, client: &ApiClient, word: &str) -> Result<ApiResource> {
        match resource::resolve(&self.resources, word) {
            Ok(r) => Ok(r.clone()),
            Err(e) => {
                *self = Self::refresh(client).await?;
                resource::resolve(&self.resources, word)
                    .cloned()
                    .map_err(|_| e)
            }
        }
    }
}

async fn fetch(client: &ApiClient) -> Result<Discovery> {
    let mut d = Discovery::default();
    for root in ["/api", "/apis"] {
        let v = client
            .request(Method::GET, root, ACCEPT_AGGREGATED, None)
            .await?;
        if v["kind"] == "APIGroupDiscoveryList" {
            add_aggregated(&mut d, &v);
        } else {
            add_legacy(client, &mut d, root, &v).await?;
        }
    }
    Ok(d)
}

/// Reads an `APIGroupDiscoveryList`; versions are listed most preferred first.
pub fn add_aggregated(d: &mut Discovery, list: &Value) {
    for group in list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let gname = group["metadata"]["name"].as_str().unwrap_or("");
        for (i, ver) in group["versions"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let vname = ver["version"].as_str().unwrap_or("");
            d.group_versions.push(if gname.is_empty() {
                vname.to_string()
            } else {
                format!("{gname}/{vname}")
            });
            for r in ver["resources"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                d.resources.push(ApiResource {
                    group: gname.to_string(),
                    version: vname.to_string(),
                    kind: r["responseKind"]["kind"].as_str().unwrap_or("").to_string(),
                    plural: r["resource"].as_str().unwrap_or("").to_string(),
                    singular: r["singularResource"].as_str().unwrap_or("").to_string(),
                    short_names: strings(&r["shortNames"]),
                    namespaced: r["scope"] == "Namespaced",
                    verbs: strings(&r["verbs"]),
                    categories: strings(&r["categories"]),
                    preferred: i == 0,
                });
            }
        }
    }
}

async fn add_legacy(client: &ApiClient, d: &mut Discovery, root: &str, v: &Value) -> Result<()> {
    // /api answers APIVersions; /apis answers APIGroupList with a preferred version per group.
    let mut gvs: Vec<(String, String, String, bool)> = Vec::new();
    if root == "/api" {
        for (i, ver) in strings(&v["versions"]).into_iter().enumerate() {
            gvs.push((String::new(), ver.clone(), format!("/api/{ver}"), i == 0));
        }
    } else {
        for g in v["groups"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let name = g["name"].as_str().unwrap_or("").to_string();
            let pref = g["preferredVersion"]["version"].as_str().unwrap_or("");
            for ver in g["versions"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                let vn = ver["version"].as_str().unwrap_or("").to_string();
                let path = format!("/apis/{name}/{vn}");
                gvs.push((name.clone(), vn.clone(), path, vn == pref));
            }
        }
    }
    for (group, version, path, preferred) in gvs {
        d.group_versions.push(if group.is_empty() {
            version.clone()
        } else {
            format!("{group}/{version}")
        });
        let list = client.get(&path).await?;
        for r in list["resources"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let name = r["name"].as_str().unwrap_or("");
            if name.contains('/') {
                continue; // subresource
            }
            d.resources.push(ApiResource {
                group: group.clone(),
                version: version.clone(),
                kind: r["kind"].as_str().unwrap_or("").to_string(),
                plural: name.to_string(),
                singular: r["singularName"].as_str().unwrap_or("").to_string(),
                short_names: strings(&r["shortNames"]),
                namespaced: r["namespaced"].as_bool().unwrap_or(false),
                verbs: strings(&r["verbs"]),
                categories: strings(&r["categories"]),
                preferred,
            });
        }
    }
    Ok(())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// `~/.kube/cache/discovery/<host_port>/`, as upstream names it.
fn cache_dir(server: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let host = server.split("://").nth(1).unwrap_or(server);
    let host: String = host
        .trim_end_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Some(
        PathBuf::from(home)
            .join(".kube")
            .join("cache")
            .join("discovery")
            .join(host),
    )
}

fn read_cache(server: &str) -> Option<Discovery> {
    let path = cache_dir(server)?.join(CACHE_FILE);
    let age = std::fs::metadata(&path)
        .ok()?
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())?;
    if age > CACHE_TTL {
        return None;
    }
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn write_cache(server: &str, d: &Discovery) {
    // A cache that cannot be written only costs time; never fail the command for it.
    let Some(dir) = cache_dir(server) else { return };
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let tmp = dir.join(format!("{CACHE_FILE}.{}", std::process::id()));
    if let Ok(bytes) = serde_json::to_vec(d) {
        if std::fs::write(&tmp, bytes).is_ok() {
            let _ = std::fs::rename(&tmp, dir.join(CACHE_FILE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn aggregated_discovery_marks_first_version_preferred() {
        let mut d = Discovery::default();
        add_aggregated(
            &mut d,
            &json!({"kind": "APIGroupDiscoveryList", "items": [{
            "metadata": {"name": "autoscaling"},
            "versions": [
                {"version": "v2", "resources": [{"resource": "horizontalpodautoscalers",
                  "responseKind": {"kind": "HorizontalPodAutoscaler"}, "scope": "Namespaced",
                  "singularResource": "horizontalpodautoscaler", "shortNames": ["hpa"],
                  "verbs": ["get"], "categories": ["all"]}]},
                {"version": "v1", "resources": [{"resource": "horizontalpodautoscalers",
                  "responseKind": {"kind": "HorizontalPodAutoscaler"}, "scope": "Namespaced"}]}
            ]}]}),
        );
        assert_eq!(d.group_versions, ["autoscaling/v2", "autoscaling/v1"]);
        assert!(d.resources[0].preferred && !d.resources[1].preferred);
        assert_eq!(d.resources[0].short_names, ["hpa"]);
        assert!(d.resources[0].namespaced);
    }

    #[test]
    fn cache_dir_is_named_after_host_and_port() {
        std::env::set_var("HOME", "/h");
        assert_eq!(
            cache_dir("https://127.0.0.1:6443/").unwrap(),
            PathBuf::from("/h/.kube/cache/discovery/127.0.0.1_6443")
        );
    }
}
