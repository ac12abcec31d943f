//! The `paths` of the OpenAPI documents, in swagger 2.0 form: for every served resource the
//! collection and item operations (namespaced, cluster-scoped and all-namespaces), and its
//! subresources. Clients rely on the operations' extensions: kubectl finds a kind's
//! `x-kubernetes-group-version-kind` on them (`explain`), and decides that the server supports
//! server-side field validation when the PATCH operation of that kind has a `fieldValidation`
//! query parameter.

use api_types::catalog::{self, ResourceInfo, SubresourceInfo};
use serde_json::{json, Map, Value};

use super::definitions::{
    kind_name, list_name, reference, subresource_kind_name, DELETE_OPTIONS, PATCH, STATUS,
};

/// Media types every operation answers with.
const PRODUCES: &[&str] = &["application/json", "application/yaml"];
/// Media types a PATCH accepts.
pub(crate) const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

fn query(name: &str, ty: &str, description: &str) -> Value {
    json!({"description": description, "in": "query", "name": name, "type": ty, "uniqueItems": true})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"description": description, "in": "path", "name": name, "required": true, "type": "string", "uniqueItems": true})
}

fn body(schema: &str, required: bool) -> Value {
    json!({"in": "body", "name": "body", "required": required, "schema": reference(schema)})
}

fn pretty() -> Value {
    query(
        "pretty",
        "string",
        "If 'true', then the output is pretty printed.",
    )
}

fn dry_run() -> Value {
    query("dryRun", "string", "When present, indicates that modifications should not be persisted. Valid values are: All (all dry run stages are processed).")
}

fn field_manager() -> Value {
    query("fieldManager", "string", "A name associated with the actor or entity that is making these changes; required for apply requests (application/apply-patch).")
}

fn field_validation() -> Value {
    query("fieldValidation", "string", "How the server handles unknown or duplicate fields in the request object: Ignore (drop them silently), Warn (drop them and send a warning header per field; the default) or Strict (fail the request with a BadRequest error naming every unknown or duplicate field).")
}

/// Parameters of requests that write an object (POST, PUT, PATCH).
fn write_params() -> Vec<Value> {
    vec![dry_run(), field_manager(), field_validation()]
}

fn list_params() -> Vec<Value> {
    vec![
        query(
            "allowWatchBookmarks",
            "boolean",
            "Ask for watch events of type BOOKMARK.",
        ),
        query(
            "continue",
            "string",
            "The continue token of a previous paged list.",
        ),
        query(
            "fieldSelector",
            "string",
            "Restrict the returned objects by their fields.",
        ),
        query(
            "labelSelector",
            "string",
            "Restrict the returned objects by their labels.",
        ),
        query(
            "limit",
            "integer",
            "Maximum number of objects to return in one page.",
        ),
        query(
            "resourceVersion",
            "string",
            "Which resource versions the request may be served from.",
        ),
        query(
            "resourceVersionMatch",
            "string",
            "How resourceVersion is applied to list calls: Exact or NotOlderThan.",
        ),
        query(
            "sendInitialEvents",
            "boolean",
            "Start a watch with synthetic events for the current state, ended by a bookmark.",
        ),
        query(
            "timeoutSeconds",
            "integer",
            "Timeout for the list/watch call.",
        ),
        query("watch", "boolean", "Watch for changes instead of listing."),
    ]
}

fn delete_params() -> Vec<Value> {
    vec![
        body(DELETE_OPTIONS, false),
        dry_run(),
        query(
            "gracePeriodSeconds",
            "integer",
            "Seconds before the object should be deleted.",
        ),
        query(
            "ignoreStoreReadErrorWithClusterBreakingPotential",
            "boolean",
            "Delete objects that cannot be read from storage (unsafe).",
        ),
        query(
            "orphanDependents",
            "boolean",
            "Deprecated: use propagationPolicy.",
        ),
        query(
            "propagationPolicy",
            "string",
            "Whether and how garbage collection is performed: Orphan, Background or Foreground.",
        ),
    ]
}

fn response(description: &str, schema: Option<&str>) -> Value {
    match schema {
        Some(s) => json!({"description": description, "schema": reference(s)}),
        None => json!({"description": description}),
    }
}

/// `operationId` group-version part as upstream spells it: `CoreV1`, `AppsV1`,
/// `RbacAuthorizationV1` (for `rbac.authorization.k8s.io/v1`).
fn gv_prefix(group: &str, version: &str) -> String {
    let group = if group.is_empty() { "core" } else { group };
    let mut s: String = group
        .trim_end_matches(".k8s.io")
        .split('.')
        .map(capitalize)
        .collect();
    s.push_str(&capitalize(version));
    s
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// One operation.
struct Op<'a> {
    verb: &'a str,
    action: &'a str,
    id: String,
    description: String,
    params: Vec<Value>,
    consumes: &'a [&'a str],
    produces: Vec<&'a str>,
    responses: Value,
    gvk: Value,
}

impl Op<'_> {
    fn to_value(&self, tag: &str) -> Value {
        json!({
            "consumes": self.consumes,
            "description": self.description,
            "operationId": self.id,
            "parameters": self.params,
            "produces": self.produces,
            "responses": self.responses,
            "schemes": ["https"],
            "tags": [tag],
            "x-kubernetes-action": self.action,
            "x-kubernetes-group-version-kind": self.gvk,
        })
    }
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

/// Operations on the object itself (`.../{name}` or `.../{name}/status`): get, put, patch,
/// and for the object path delete. `suffix` is the subresource part of the operationId.
fn item_ops<'a>(
    r: &ResourceInfo,
    verbs: &[&str],
    kind_def: &str,
    kind_gvk: Value,
    names: (&str, &str),
    with_delete: bool,
) -> Vec<Op<'a>> {
    let (ident, what) = names;
    let mut ops = Vec::new();
    let has = |v: &str| verbs.contains(&v);
    let ok = |d: &str| response(d, Some(kind_def));
    if has("get") {
        ops.push(Op {
            verb: "get",
            action: "get",
            id: format!("read{ident}"),
            description: format!("read {what}"),
            params: vec![],
            consumes: &["*/*"],
            produces: PRODUCES.to_vec(),
            responses: json!({"200": ok("OK"), "401": response("Unauthorized", None)}),
            gvk: kind_gvk.clone(),
        });
    }
    if has("update") {
        let mut params = vec![body(kind_def, true)];
        params.extend(write_params());
        ops.push(Op {
            verb: "put",
            action: "put",
            id: format!("replace{ident}"),
            description: format!("replace {what}"),
            params,
            consumes: &["*/*"],
            produces: PRODUCES.to_vec(),
            responses: json!({"200": ok("OK"), "201": ok("Created"), "401": response("Unauthorized", None)}),
            gvk: kind_gvk.clone(),
        });
    }
    if has("patch") {
        let mut params = vec![body(PATCH, true)];
        params.extend(write_params());
        params.push(query(
            "force",
            "boolean",
            "Force apply requests: take ownership of conflicting fields. Must be unset for non-apply patches.",
        ));
        ops.push(Op {
            verb: "patch",
            action: "patch",
            id: format!("patch{ident}"),
            description: format!("partially update {what}"),
            params,
            consumes: PATCH_TYPES,
            produces: PRODUCES.to_vec(),
            responses: json!({"200": ok("OK"), "201": ok("Created"), "401": response("Unauthorized", None)}),
            gvk: kind_gvk.clone(),
        });
    }
    if with_delete && has("delete") {
        ops.push(Op {
            verb: "delete",
            action: "delete",
            id: format!("delete{ident}"),
            description: format!("delete {what}"),
            params: delete_params(),
            consumes: &["*/*"],
            produces: PRODUCES.to_vec(),
            responses: json!({"200": response("OK", Some(STATUS)), "202": response("Accepted", Some(STATUS)), "401": response("Unauthorized", None)}),
            gvk: kind_gvk,
        });
    }
    let _ = r;
    ops
}

fn collection_ops<'a>(r: &ResourceInfo, ident: &str) -> Vec<Op<'a>> {
    let kind = kind_name(r);
    let the_gvk = gvk(r.group, r.version, r.kind);
    let mut ops = Vec::new();
    if r.supports("list") {
        let mut produces = PRODUCES.to_vec();
        produces.push("application/json;stream=watch");
        ops.push(Op {
            verb: "get",
            action: "list",
            id: format!("list{ident}"),
            description: format!("list or watch objects of kind {}", r.kind),
            params: list_params(),
            consumes: &["*/*"],
            produces,
            responses: json!({"200": response("OK", Some(&list_name(r))), "401": response("Unauthorized", None)}),
            gvk: the_gvk.clone(),
        });
    }
    if r.supports("create") {
        let mut params = vec![body(&kind, true)];
        params.extend(write_params());
        let ok = |d: &str| response(d, Some(&kind));
        ops.push(Op {
            verb: "post",
            action: "post",
            id: format!("create{ident}"),
            description: format!("create a {}", r.kind),
            params,
            consumes: &["*/*"],
            produces: PRODUCES.to_vec(),
            responses: json!({"200": ok("OK"), "201": ok("Created"), "202": ok("Accepted"), "401": response("Unauthorized", None)}),
            gvk: the_gvk.clone(),
        });
    }
    if r.supports("deletecollection") {
        let mut params = delete_params();
        params.extend(
            list_params()
                .into_iter()
                .filter(|p| !matches!(p["name"].as_str(), Some("watch" | "allowWatchBookmarks"))),
        );
        ops.push(Op {
            verb: "delete",
            action: "deletecollection",
            id: format!("delete{}", ident.replacen(&gv_prefix(r.group, r.version), &format!("{}Collection", gv_prefix(r.group, r.version)), 1)),
            description: format!("delete collection of {}", r.kind),
            params,
            consumes: &["*/*"],
            produces: PRODUCES.to_vec(),
            responses: json!({"200": response("OK", Some(STATUS)), "401": response("Unauthorized", None)}),
            gvk: the_gvk,
        });
    }
    ops
}

/// Operations of a subresource other than status-like ones (eviction, token, binding, log,
/// connect-style subresources).
fn special_sub_ops<'a>(s: &SubresourceInfo, ident: &str, parent_gvk: Value) -> Vec<Op<'a>> {
    let sub_def = subresource_kind_name(s.group, s.version, s.kind);
    let sub_gvk = gvk(s.group, s.version, s.kind);
    match s.name {
        "eviction" | "token" | "binding" => {
            let Some(def) = sub_def else { return vec![] };
            let mut params = vec![body(&def, true)];
            params.extend(write_params());
            let ok = |d: &str| response(d, Some(&def));
            vec![Op {
                verb: "post",
                action: "post",
                id: format!("create{ident}"),
                description: format!("create {} of a {}", s.kind, parent_gvk["kind"].as_str().unwrap_or("")),
                params,
                consumes: &["*/*"],
                produces: PRODUCES.to_vec(),
                responses: json!({"200": ok("OK"), "201": ok("Created"), "202": ok("Accepted"), "401": response("Unauthorized", None)}),
                gvk: sub_gvk,
            }]
        }
        "log" => vec![Op {
            verb: "get",
            action: "get",
            id: format!("read{ident}"),
            description: "read log of the specified Pod".into(),
            params: ["container", "follow", "insecureSkipTLSVerifyBackend", "limitBytes", "previous", "sinceSeconds", "stream", "tailLines", "timestamps"]
                .iter()
                .map(|n| query(n, if matches!(*n, "follow" | "previous" | "timestamps" | "insecureSkipTLSVerifyBackend") { "boolean" } else if matches!(*n, "container" | "stream") { "string" } else { "integer" }, "See PodLogOptions."))
                .collect(),
            consumes: &["*/*"],
            produces: vec!["text/plain", "application/json", "application/yaml"],
            responses: json!({"200": {"description": "OK", "schema": {"type": "string"}}, "401": response("Unauthorized", None)}),
            gvk: parent_gvk,
        }],
        "finalize" => vec![Op {
            verb: "put",
            action: "put",
            id: format!("replace{ident}"),
            description: "replace finalize of the specified Namespace".into(),
            params: {
                let mut p = vec![body(&sub_def.unwrap_or_default(), true)];
                p.extend(write_params());
                p
            },
            consumes: &["*/*"],
            produces: PRODUCES.to_vec(),
            responses: json!({"200": response("OK", None), "401": response("Unauthorized", None)}),
            gvk: parent_gvk,
        }],
        // exec, attach, portforward, proxy: streaming "connect" operations.
        _ => s
            .verbs
            .iter()
            .filter_map(|v| {
                let method = match *v {
                    "get" => "get",
                    "create" => "post",
                    "update" => "put",
                    "delete" => "delete",
                    "patch" => "patch",
                    _ => return None,
                };
                Some(Op {
                    verb: method,
                    action: "connect",
                    id: format!("connect{}{ident}", capitalize(method)),
                    description: format!("connect {} requests to {} of a {}", method.to_uppercase(), s.name, parent_gvk["kind"].as_str().unwrap_or("")),
                    params: vec![],
                    consumes: &["*/*"],
                    produces: vec!["*/*"],
                    responses: json!({"200": {"description": "OK", "schema": {"type": "string"}}, "401": response("Unauthorized", None)}),
                    gvk: sub_gvk.clone(),
                })
            })
            .collect(),
    }
}

fn insert_path(
    paths: &mut Map<String, Value>,
    path: String,
    ops: Vec<Op<'_>>,
    params: Vec<Value>,
    tag: &str,
) {
    if ops.is_empty() {
        return;
    }
    let mut item = Map::new();
    for op in &ops {
        item.insert(op.verb.to_string(), op.to_value(tag));
    }
    let mut all = params;
    all.push(pretty());
    item.insert("parameters".into(), Value::Array(all));
    paths.insert(path, Value::Object(item));
}

/// The paths of one group-version, keyed by URL path (`/apis/apps/v1/namespaces/{namespace}/deployments`).
pub(crate) fn group_version_paths(group: &str, version: &str) -> Map<String, Value> {
    let mut paths = Map::new();
    let prefix = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    let tag = if group.is_empty() {
        format!("core_{version}")
    } else {
        format!(
            "{}_{version}",
            group.trim_end_matches(".k8s.io").replace('.', "_")
        )
    };
    let gvp = gv_prefix(group, version);
    for r in catalog::resources_in(group, version) {
        let kind = kind_name(r);
        let the_gvk = gvk(r.group, r.version, r.kind);
        let (base, ns_word, mut base_params) = if r.namespaced {
            (
                format!("{prefix}/namespaces/{{namespace}}/{}", r.plural),
                "Namespaced",
                vec![path_param(
                    "namespace",
                    "object name and auth scope, such as for teams and projects",
                )],
            )
        } else {
            (format!("{prefix}/{}", r.plural), "", vec![])
        };
        let ident = format!("{gvp}{ns_word}{}", r.kind);
        insert_path(
            &mut paths,
            base.clone(),
            collection_ops(r, &ident),
            base_params.clone(),
            &tag,
        );
        if r.namespaced && r.supports("list") {
            let mut all = collection_ops(r, &format!("{gvp}{}ForAllNamespaces", r.kind));
            all.retain(|op| op.action == "list");
            insert_path(
                &mut paths,
                format!("{prefix}/{}", r.plural),
                all,
                vec![],
                &tag,
            );
        }
        base_params.insert(0, path_param("name", &format!("name of the {}", r.kind)));
        let what = format!("the specified {}", r.kind);
        let ops = item_ops(r, r.verbs, &kind, the_gvk.clone(), (&ident, &what), true);
        insert_path(
            &mut paths,
            format!("{base}/{{name}}"),
            ops,
            base_params.clone(),
            &tag,
        );
        for s in r.subresources {
            let sub_ident = format!("{ident}{}", capitalize(s.name));
            let path = format!("{base}/{{name}}/{}", s.name);
            let ops = match s.name {
                "status" | "approval" | "scale" | "ephemeralcontainers" | "resize" => {
                    let Some(def) = subresource_kind_name(s.group, s.version, s.kind) else {
                        continue;
                    };
                    let what = format!("{} of the specified {}", s.name, r.kind);
                    item_ops(
                        r,
                        s.verbs,
                        &def,
                        gvk(s.group, s.version, s.kind),
                        (&sub_ident, &what),
                        false,
                    )
                }
                _ => special_sub_ops(s, &sub_ident, the_gvk.clone()),
            };
            insert_path(&mut paths, path, ops, base_params.clone(), &tag);
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param_names(op: &Value) -> Vec<String> {
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str().map(String::from))
            .collect()
    }

    #[test]
    fn pod_ephemeral_containers_are_writable() {
        let paths = group_version_paths("", "v1");
        let item = &paths["/api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers"];
        assert_eq!(
            item["put"]["operationId"],
            "replaceCoreV1NamespacedPodEphemeralcontainers"
        );
        assert_eq!(
            item["patch"]["operationId"],
            "patchCoreV1NamespacedPodEphemeralcontainers"
        );
        assert_eq!(
            item["patch"]["x-kubernetes-group-version-kind"]["kind"],
            "Pod"
        );
    }

    #[test]
    fn deployment_patch_supports_field_validation() {
        let paths = group_version_paths("apps", "v1");
        let item = &paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
        let patch = &item["patch"];
        assert_eq!(patch["operationId"], "patchAppsV1NamespacedDeployment");
        assert_eq!(patch["x-kubernetes-action"], "patch");
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({"group": "apps", "kind": "Deployment", "version": "v1"})
        );
        let names = param_names(patch);
        for p in ["fieldValidation", "dryRun", "fieldManager", "force"] {
            assert!(names.contains(&p.to_string()), "{p}");
        }
        assert!(patch["consumes"]
            .as_array()
            .unwrap()
            .contains(&json!("application/apply-patch+yaml")));
        // Every PATCH operation that answers a Deployment must carry fieldValidation too,
        // since kubectl looks at whichever one it finds first.
        for (_, item) in paths.iter() {
            if let Some(p) = item.get("patch") {
                assert!(param_names(p).contains(&"fieldValidation".to_string()));
            }
        }
    }

    #[test]
    fn collection_and_all_namespaces_paths() {
        let paths = group_version_paths("apps", "v1");
        let coll = &paths["/apis/apps/v1/namespaces/{namespace}/deployments"];
        assert_eq!(coll["get"]["operationId"], "listAppsV1NamespacedDeployment");
        assert_eq!(
            coll["post"]["operationId"],
            "createAppsV1NamespacedDeployment"
        );
        assert_eq!(
            coll["delete"]["operationId"],
            "deleteAppsV1CollectionNamespacedDeployment"
        );
        assert_eq!(coll["delete"]["x-kubernetes-action"], "deletecollection");
        let all = &paths["/apis/apps/v1/deployments"];
        assert_eq!(
            all["get"]["operationId"],
            "listAppsV1DeploymentForAllNamespaces"
        );
        let scale = &paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
        assert_eq!(
            scale["get"]["x-kubernetes-group-version-kind"]["kind"],
            "Scale"
        );
        assert_eq!(
            scale["put"]["operationId"],
            "replaceAppsV1NamespacedDeploymentScale"
        );
    }

    #[test]
    fn cluster_scoped_and_core_paths() {
        let core = group_version_paths("", "v1");
        assert_eq!(
            core["/api/v1/nodes/{name}"]["get"]["operationId"],
            "readCoreV1Node"
        );
        assert!(core.contains_key("/api/v1/namespaces/{namespace}/pods/{name}/status"));
        assert!(core["/api/v1/namespaces"].get("delete").is_none());
        let rbac = group_version_paths("rbac.authorization.k8s.io", "v1");
        assert_eq!(
            rbac["/apis/rbac.authorization.k8s.io/v1/clusterroles"]["get"]["operationId"],
            "listRbacAuthorizationV1ClusterRole"
        );
    }
}
