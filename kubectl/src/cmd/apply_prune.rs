//! `kubectl apply --prune` (upstream's allowlist-based prune, not ApplySets): after a
//! successful apply, objects of the allowlisted types that match `-l` (or all, with `--all`),
//! carry the last-applied annotation and were not part of this apply are deleted — in every
//! namespace the apply visited, and for the cluster-scoped types once.

use std::collections::{BTreeSet, HashSet};

use http::Method;
use serde_json::Value;

use super::apply_options::Deletion;
use super::print_flags::{DryRun, PrintFlags};
use crate::client::{q, ApiClient, Body};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::merge::LAST_APPLIED;
use crate::printers::OutputFormat;
use crate::resource::ApiResource;

/// Upstream's default allowlist: `(group, version, kind, namespaced)`.
const DEFAULT_ALLOWLIST: &[(&str, &str, &str, bool)] = &[
    ("", "v1", "ConfigMap", true),
    ("", "v1", "Endpoints", true),
    ("", "v1", "PersistentVolumeClaim", true),
    ("", "v1", "Pod", true),
    ("", "v1", "ReplicationController", true),
    ("", "v1", "Secret", true),
    ("", "v1", "Service", true),
    ("batch", "v1", "Job", true),
    ("batch", "v1", "CronJob", true),
    ("networking.k8s.io", "v1", "Ingress", true),
    ("apps", "v1", "DaemonSet", true),
    ("apps", "v1", "Deployment", true),
    ("apps", "v1", "ReplicaSet", true),
    ("apps", "v1", "StatefulSet", true),
    ("", "v1", "Namespace", false),
    ("", "v1", "PersistentVolume", false),
];

/// What upstream logs when the default allowlist is used: its namespace is never empty, so
/// always.
const DEFAULT_ALLOWLIST_WARNING: &str = "Deprecated: kubectl apply will no longer prune non-namespaced resources by default when used with the --namespace flag in a future release. To preserve the current behaviour, list the resources you want to target explicitly in the --prune-allowlist flag.";

/// What the apply touched: the namespaces it wrote to (or was pointed at with `-n`) and the
/// uids of the objects it applied.
#[derive(Debug, Default)]
pub struct Visited {
    namespaces: BTreeSet<String>,
    uids: HashSet<String>,
}

impl Visited {
    /// Records a namespace (an object's, or an explicit `-n`).
    pub fn namespace(&mut self, ns: &str) {
        self.namespaces.insert(ns.to_string());
    }

    /// Records an applied object by its uid (none for a client dry-run creation).
    pub fn object(&mut self, obj: &Value) {
        self.uids
            .insert(obj["metadata"]["uid"].as_str().unwrap_or("").to_string());
    }
}

/// The type one `(group, version, kind)` names, as upstream's REST mapper answers it.
pub fn mapping(disc: &Discovery, group: &str, version: &str, kind: &str) -> Result<ApiResource> {
    disc.resources
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
        .cloned()
        .ok_or_else(|| {
            let gv = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            KubectlError::usage(format!(
                "no matches for kind \"{kind}\" in version \"{gv}\""
            ))
        })
}

/// The types `--prune-allowlist` names (resolved as upstream resolves them before anything
/// is applied), or upstream's default list (resolved when pruning starts).
pub fn allowlist(
    disc: &Discovery,
    entries: &[(String, String, String)],
) -> Result<Vec<ApiResource>> {
    entries
        .iter()
        .map(|(g, v, k)| mapping(disc, g, v, k))
        .collect()
}

/// The types a prune looks at: `types`, or upstream's default list when none were named.
pub fn types_or_default(disc: &Discovery, types: Vec<ApiResource>) -> Result<Vec<ApiResource>> {
    if types.is_empty() {
        default_allowlist(disc)
    } else {
        Ok(types)
    }
}

fn default_allowlist(disc: &Discovery) -> Result<Vec<ApiResource>> {
    DEFAULT_ALLOWLIST
        .iter()
        .map(|(g, v, k, namespaced)| {
            mapping(disc, g, v, k).map_err(|e| {
                let why = e.to_string();
                KubectlError::usage(format!(
                    "error retrieving RESTMappings to prune: invalid resource {g}/{v}, Kind={k}, Namespaced={namespaced}: {}",
                    why.trim_start_matches("error: ")
                ))
            })
        })
        .collect()
}

/// The objects of one list that go: those with the last-applied annotation that this apply
/// did not write.
pub fn prunable<'a>(items: &'a [Value], visited: &Visited) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|o| o["metadata"]["annotations"].get(LAST_APPLIED).is_some())
        .filter(|o| {
            !visited
                .uids
                .contains(o["metadata"]["uid"].as_str().unwrap_or(""))
        })
        .collect()
}

/// How the pruned objects are reported: as the applied ones are.
pub struct Report<'a> {
    /// The format the print flags asked for.
    pub format: &'a OutputFormat,
    /// The print flags.
    pub flags: &'a PrintFlags,
}

/// One prune run.
pub struct Pruner<'a> {
    /// The client.
    pub client: &'a ApiClient,
    /// `-l`
    pub selector: Option<&'a str>,
    /// What `--cascade` and `--grace-period` ask for.
    pub deletion: &'a Deletion,
    /// `--dry-run`
    pub dry: DryRun,
    /// How to print.
    pub report: Report<'a>,
}

impl Pruner<'_> {
    /// Prunes the allowlisted types (`types`, or upstream's default list when empty).
    pub async fn prune(
        &self,
        disc: &Discovery,
        types: Vec<ApiResource>,
        visited: &Visited,
    ) -> Result<()> {
        if types.is_empty() {
            crate::klog::warning("prune.go", 71, DEFAULT_ALLOWLIST_WARNING);
        }
        let types = types_or_default(disc, types)?;
        for (res, ns) in scopes(&types, visited) {
            self.prune_type(res, ns, visited).await.map_err(|e| {
                pruning_error(
                    if ns.is_some() {
                        "namespaced"
                    } else {
                        "nonNamespaced"
                    },
                    res,
                    e,
                )
            })?;
        }
        Ok(())
    }

    async fn prune_type(
        &self,
        res: &ApiResource,
        ns: Option<&str>,
        visited: &Visited,
    ) -> Result<()> {
        for obj in list_prunable(self.client, res, ns, self.selector, visited).await? {
            let name = obj["metadata"]["name"].as_str().unwrap_or("");
            if self.dry != DryRun::Client {
                let obj_ns = obj["metadata"]["namespace"].as_str().or(ns);
                self.client
                    .request(
                        Method::DELETE,
                        &res.object_path(obj_ns, name),
                        "application/json",
                        Some(Body::json(&self.deletion.body(self.dry))),
                    )
                    .await?;
            }
            self.report
                .flags
                .print(self.report.format, &obj, "pruned", self.dry)?;
        }
        Ok(())
    }
}

/// Where a prune lists: each namespaced type in every visited namespace, then each
/// cluster-scoped type once.
fn scopes<'a>(
    types: &'a [ApiResource],
    visited: &'a Visited,
) -> Vec<(&'a ApiResource, Option<&'a str>)> {
    let mut out = Vec::new();
    for ns in &visited.namespaces {
        out.extend(
            types
                .iter()
                .filter(|r| r.namespaced)
                .map(|r| (r, Some(ns.as_str()))),
        );
    }
    out.extend(types.iter().filter(|r| !r.namespaced).map(|r| (r, None)));
    out
}

/// The objects of type `res` in `ns` that a prune removes, with their type filled in
/// (list items come without it, and printers need it).
async fn list_prunable(
    client: &ApiClient,
    res: &ApiResource,
    ns: Option<&str>,
    selector: Option<&str>,
    visited: &Visited,
) -> Result<Vec<Value>> {
    let mut path = res.collection_path(ns);
    if let Some(l) = selector {
        path.push_str(&format!("?labelSelector={}", q(l)));
    }
    let list = client.get(&path).await?;
    let items = list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    Ok(prunable(items, visited)
        .into_iter()
        .map(|obj| {
            let mut obj = obj.clone();
            obj["apiVersion"] = Value::String(res.api_version());
            obj["kind"] = Value::String(res.kind.clone());
            obj
        })
        .collect())
}

/// Everything a prune of `types` would remove (`kubectl diff --prune` shows these as
/// deleted), or the first listing that failed, worded as upstream's pruner words it.
pub async fn would_prune(
    client: &ApiClient,
    types: &[ApiResource],
    selector: Option<&str>,
    visited: &Visited,
) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for (res, ns) in scopes(types, visited) {
        let objects = list_prunable(client, res, ns, selector, visited)
            .await
            .map_err(|e| {
                pruning_error(
                    if ns.is_some() {
                        "namespaced"
                    } else {
                        "nonNamespaced"
                    },
                    res,
                    e,
                )
            })?;
        out.extend(objects);
    }
    Ok(out)
}

/// Upstream's wrapping of a failed list or delete: the type as Go prints a GroupVersionKind.
fn pruning_error(scope: &str, res: &ApiResource, e: KubectlError) -> KubectlError {
    let why = match &e {
        KubectlError::Server { message, .. } => message.clone(),
        KubectlError::Usage(text) => text.clone(),
        other => other.to_string(),
    };
    KubectlError::usage(format!(
        "error pruning {scope} object {}/{}, Kind={}: {why}",
        res.group, res.version, res.kind
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(name: &str, uid: &str, applied: bool) -> Value {
        let mut o = json!({"metadata": {"name": name, "uid": uid, "annotations": {"other": "x"}}});
        if applied {
            o["metadata"]["annotations"][LAST_APPLIED] = json!("{}\n");
        }
        o
    }

    #[test]
    fn only_applied_objects_left_out_of_this_apply_are_pruned() {
        let items = vec![
            obj("kept", "u1", true),
            obj("gone", "u2", true),
            obj("created-imperatively", "u3", false),
            json!({"metadata": {"name": "bare", "uid": "u4"}}),
        ];
        let mut visited = Visited::default();
        visited.object(&json!({"metadata": {"uid": "u1"}}));
        // A client dry-run creation has no uid yet; it protects nothing.
        visited.object(&json!({"metadata": {"name": "new"}}));
        let names: Vec<&str> = prunable(&items, &visited)
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["gone"]);
    }

    fn disc_with(types: &[(&str, &str, &str, &str, bool)]) -> Discovery {
        let mut disc = Discovery::default();
        for (g, v, k, plural, namespaced) in types {
            let mut r = crate::resource::tests::res(g, v, k, plural, &[]);
            r.namespaced = *namespaced;
            disc.resources.push(r);
        }
        disc
    }

    #[test]
    fn allowlist_types_resolve_as_the_rest_mapper_does() {
        let disc = disc_with(&[
            ("", "v1", "ConfigMap", "configmaps", true),
            ("apps", "v1", "Deployment", "deployments", true),
        ]);
        let entries = vec![(
            "apps".to_string(),
            "v1".to_string(),
            "Deployment".to_string(),
        )];
        assert_eq!(allowlist(&disc, &entries).unwrap()[0].plural, "deployments");
        let err = |g: &str, v: &str, k: &str| {
            allowlist(&disc, &[(g.into(), v.into(), k.into())])
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("", "v1", "configmap"),
            "error: no matches for kind \"configmap\" in version \"v1\""
        );
        assert_eq!(
            err("apps", "v2", "Deployment"),
            "error: no matches for kind \"Deployment\" in version \"apps/v2\""
        );
    }

    #[test]
    fn a_missing_default_type_is_named_as_upstream_names_it() {
        let disc = disc_with(&[("", "v1", "ConfigMap", "configmaps", true)]);
        assert_eq!(
            default_allowlist(&disc).unwrap_err().to_string(),
            "error: error retrieving RESTMappings to prune: invalid resource /v1, Kind=Endpoints, Namespaced=true: no matches for kind \"Endpoints\" in version \"v1\""
        );
    }

    fn name_only() -> PrintFlags {
        use clap::Parser;
        #[derive(Parser)]
        struct Line {
            #[command(flatten)]
            flags: PrintFlags,
        }
        Line::parse_from(["apply", "-o", "name"]).flags
    }

    async fn prune_configmaps(dry: DryRun) -> Vec<String> {
        let (client, asked) = crate::test_server::fake_server(|_, uri| {
            let items = match uri {
                "/api/v1/namespaces/a/configmaps?labelSelector=app%3Dx" => {
                    vec![obj("kept", "u1", true), obj("gone", "u2", true)]
                }
                _ => vec![],
            };
            (200, json!({"items": items}).to_string())
        })
        .await;
        let cm = crate::resource::tests::res("", "v1", "ConfigMap", "configmaps", &[]);
        let mut visited = Visited::default();
        visited.namespace("b");
        visited.namespace("a");
        visited.object(&json!({"metadata": {"uid": "u1"}}));
        let (format, flags) = (OutputFormat::Name, name_only());
        let deletion = Deletion {
            propagation: "Background",
            grace: None,
            timeout: std::time::Duration::ZERO,
        };
        let pruner = Pruner {
            client: &client,
            selector: Some("app=x"),
            deletion: &deletion,
            dry,
            report: Report {
                format: &format,
                flags: &flags,
            },
        };
        pruner
            .prune(&Discovery::default(), vec![cm], &visited)
            .await
            .unwrap();
        let asked = asked.lock().unwrap().clone();
        asked
    }

    #[tokio::test]
    async fn each_visited_namespace_is_listed_and_what_is_left_over_deleted() {
        assert_eq!(
            prune_configmaps(DryRun::None).await,
            [
                "/api/v1/namespaces/a/configmaps?labelSelector=app%3Dx",
                "/api/v1/namespaces/a/configmaps/gone",
                "/api/v1/namespaces/b/configmaps?labelSelector=app%3Dx",
            ]
        );
        // A client dry run only lists; a server dry run deletes with dryRun in the body.
        assert_eq!(prune_configmaps(DryRun::Client).await.len(), 2);
        assert_eq!(prune_configmaps(DryRun::Server).await.len(), 3);
    }

    #[test]
    fn failures_name_the_type() {
        let res = crate::resource::tests::res("apps", "v1", "Deployment", "deployments", &[]);
        let e = KubectlError::Server {
            details: None,
            reason: "Forbidden".into(),
            message: "deployments.apps is forbidden: no".into(),
            code: 403,
            context: None,
        };
        assert_eq!(
            pruning_error("namespaced", &res, e).to_string(),
            "error: error pruning namespaced object apps/v1, Kind=Deployment: deployments.apps is forbidden: no"
        );
    }
}
