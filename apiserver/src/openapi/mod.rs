//! OpenAPI v2 (`/openapi/v2`) and v3 (`/openapi/v3`, `/openapi/v3/<path>`) documents generated
//! from the k8s-openapi schemas and the catalog.
//!
//! Every document is a pure function of the binary, so each is generated once, on first use,
//! and kept as bytes. kubectl depends on them: `explain` walks the v3 document of the kind's
//! group-version, `apply`/`create` decide from the PATCH operation's `fieldValidation`
//! parameter that the server validates fields itself, and client-side apply takes the
//! strategic-merge metadata (`x-kubernetes-patch-merge-key` …) from the schemas.

mod definitions;
pub mod extensions;
mod paths;
mod proto;
mod v3;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use api_types::catalog;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::discovery::hex;

/// The `info` of every document.
fn info() -> Value {
    json!({"title": "Kubernetes", "version": "v1.33.0"})
}

/// All definitions in swagger 2.0 form, built once.
fn all_definitions() -> &'static Map<String, Value> {
    static DEFS: OnceLock<Map<String, Value>> = OnceLock::new();
    DEFS.get_or_init(definitions::build)
}

/// Every served group-version as `(group, version)`, in discovery order.
fn group_versions() -> Vec<(&'static str, &'static str)> {
    catalog::groups()
        .into_iter()
        .flat_map(|(g, versions)| versions.into_iter().map(move |v| (g, v)))
        .collect()
}

/// The v3 path key of a group-version: `api/v1`, `apis/apps/v1`.
fn v3_key(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn build_v2() -> Value {
    let mut all_paths = Map::new();
    for (g, v) in group_versions() {
        all_paths.extend(paths::group_version_paths(g, v));
    }
    let doc = json!({
        "swagger": "2.0",
        "info": info(),
        "paths": all_paths,
        "definitions": all_definitions(),
        "securityDefinitions": {
            "BearerToken": {"description": "Bearer Token authentication", "in": "header", "name": "authorization", "type": "apiKey"}
        },
        "security": [{"BearerToken": []}],
    });
    doc
}

/// The v2 document's encodings: (JSON, protobuf).
type V2Docs = (Arc<Vec<u8>>, Arc<Vec<u8>>);

/// Both encodings of the v2 document, built together on first use.
fn v2_docs() -> &'static V2Docs {
    static V2: OnceLock<V2Docs> = OnceLock::new();
    V2.get_or_init(|| {
        let doc = build_v2();
        let json = serde_json::to_vec(&doc).unwrap_or_default();
        (Arc::new(json), Arc::new(proto::encode_document(&doc)))
    })
}

/// `/openapi/v2`: the swagger 2.0 document of the whole API, as JSON bytes.
pub fn openapi_v2() -> Arc<Vec<u8>> {
    v2_docs().0.clone()
}

/// Media type of the protobuf form of `/openapi/v2`, as client-go asks for it in `Accept`.
pub const OPENAPI_V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

/// `Content-Type` of the protobuf answer. Upstream answers with this spelling even when the
/// `@` form was asked for: Go's mime parser (client-go) rejects the `@` in a response.
pub const OPENAPI_V2_PROTOBUF_CONTENT_TYPE: &str =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// `/openapi/v2` in protobuf (gnostic `openapi.v2.Document`), for requests whose `Accept` is
/// [`OPENAPI_V2_PROTOBUF`] (also spelled `…spec.v2.v1.0+protobuf`). client-go (kubectl
/// `explain` ≤ 1.29, `apply`/`create` validation) only ever asks for this form.
pub fn openapi_v2_protobuf() -> Arc<Vec<u8>> {
    v2_docs().1.clone()
}

/// The OpenAPI 3.0 document of one group-version, as a JSON value.
fn build_v3(group: &str, version: &str) -> Value {
    let v2_paths = paths::group_version_paths(group, version);
    let defs = all_definitions();
    // Only the schemas this group-version's operations reach, like upstream.
    let names = definitions::closure(defs, v2_paths.values());
    let mut schemas = Map::new();
    for name in names {
        if let Some(d) = defs.get(&name) {
            schemas.insert(name, v3::schema(d));
        }
    }
    let v3_paths: Map<String, Value> = v2_paths
        .iter()
        .map(|(k, item)| (k.clone(), v3::path_item(item)))
        .collect();
    json!({
        "openapi": "3.0.0",
        "info": info(),
        "paths": v3_paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {"type": "apiKey", "description": "Bearer Token authentication", "name": "authorization", "in": "header"}
            },
        },
        "security": [{"BearerToken": []}],
    })
}

/// One generated v3 document and the hash clients use to cache it.
struct V3Doc {
    bytes: Arc<Vec<u8>>,
    hash: String,
}

fn v3_docs() -> &'static BTreeMap<String, V3Doc> {
    static V3: OnceLock<BTreeMap<String, V3Doc>> = OnceLock::new();
    V3.get_or_init(|| {
        group_versions()
            .into_iter()
            .map(|(g, v)| {
                let bytes = serde_json::to_vec(&build_v3(g, v)).unwrap_or_default();
                let hash = hex(&Sha256::digest(&bytes)).to_uppercase();
                (
                    v3_key(g, v),
                    V3Doc {
                        bytes: Arc::new(bytes),
                        hash,
                    },
                )
            })
            .collect()
    })
}

/// `/openapi/v3`: the list of per group-version documents with their content hashes,
/// `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=…"}, …}}`.
pub fn openapi_v3_root() -> Value {
    let paths: Map<String, Value> = v3_docs()
        .iter()
        .map(|(key, doc)| {
            (
                key.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={}", doc.hash)}),
            )
        })
        .collect();
    json!({"paths": paths})
}

/// The hash of a group-version document as listed by [`openapi_v3_root`], so the handler can
/// answer a request carrying a matching `?hash=` with long-lived caching headers.
pub fn openapi_v3_hash(path: &str) -> Option<String> {
    v3_docs().get(v3_path_key(path)).map(|d| d.hash.clone())
}

/// Accepts `/openapi/v3/apis/apps/v1`, `apis/apps/v1`, `/apis/apps/v1` (query string ignored).
fn v3_path_key(path: &str) -> &str {
    let path = path.split('?').next().unwrap_or_default();
    let path = path.strip_prefix("/openapi/v3").unwrap_or(path);
    path.trim_matches('/')
}

/// `/openapi/v3/api/v1`, `/openapi/v3/apis/apps/v1`: the OpenAPI 3.0 document of one
/// group-version as JSON bytes, or `None` if that group-version is not served.
pub fn openapi_v3_group_version(path: &str) -> Option<Arc<Vec<u8>>> {
    v3_docs().get(v3_path_key(path)).map(|d| d.bytes.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v3(path: &str) -> Value {
        let bytes = openapi_v3_group_version(path).expect("served");
        serde_json::from_slice(&bytes).expect("valid JSON")
    }

    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        let r = schema
            .get("$ref")
            .or_else(|| schema.get("allOf").and_then(|a| a[0].get("$ref")))
            .and_then(Value::as_str)
            .expect("a ref");
        let name = r.strip_prefix("#/components/schemas/").expect("v3 ref");
        &doc["components"]["schemas"][name]
    }

    #[test]
    fn v2_is_valid_json_with_definitions_and_paths() {
        let doc: Value = serde_json::from_slice(&openapi_v2()).expect("valid JSON");
        assert_eq!(doc["swagger"], "2.0");
        let defs = doc["definitions"].as_object().unwrap();
        assert!(defs.len() > 300, "{} definitions", defs.len());
        assert!(defs.contains_key("io.k8s.api.apps.v1.Deployment"));
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert!(patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
        // Every $ref resolves.
        let text = String::from_utf8(openapi_v2().to_vec()).unwrap();
        for piece in text.split("\"#/definitions/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(defs.contains_key(name), "dangling ref {name}");
        }
    }

    #[test]
    fn v3_root_lists_every_group_version_with_a_hash() {
        let root = openapi_v3_root();
        let url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .expect("apps/v1 listed");
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
        assert!(root["paths"]["api/v1"].is_object());
        assert!(root["paths"]["apis/autoscaling/v2"].is_object());
        assert_eq!(
            url.split("hash=").nth(1),
            openapi_v3_hash("/openapi/v3/apis/apps/v1").as_deref()
        );
        assert!(openapi_v3_group_version("/openapi/v3/apis/nope/v1").is_none());
    }

    #[test]
    fn v3_explain_walk_reaches_deployment_strategy() {
        let doc = v3("/openapi/v3/apis/apps/v1");
        assert_eq!(doc["openapi"], "3.0.0");
        let wanted = json!({"group": "apps", "kind": "Deployment", "version": "v1"});
        // Like kubectl explain: find the kind by its group-version-kind, then walk refs.
        let (_, deployment) = doc["components"]["schemas"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, s)| {
                s["x-kubernetes-group-version-kind"]
                    .as_array()
                    .is_some_and(|a| a.contains(&wanted))
            })
            .expect("Deployment schema by GVK");
        let spec = resolve(&doc, &deployment["properties"]["spec"]);
        let strategy = resolve(&doc, &spec["properties"]["strategy"]);
        assert!(strategy["properties"]["rollingUpdate"].is_object());
        assert!(doc["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentStrategy"].is_object());
        // The list path names the kind for explain.
        let list = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["get"];
        assert_eq!(list["x-kubernetes-group-version-kind"], wanted);
    }

    #[test]
    fn v3_patch_operation_declares_field_validation_and_patch_types() {
        let doc = v3("apis/apps/v1");
        let patch =
            &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert!(patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
        let content = patch["requestBody"]["content"].as_object().unwrap();
        assert!(content.contains_key("application/strategic-merge-patch+json"));
        assert!(content.contains_key("application/apply-patch+yaml"));
    }

    #[test]
    fn v3_core_schemas_carry_merge_keys() {
        let doc = v3("api/v1");
        let containers =
            &doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        // Every ref resolves within the document.
        let text = String::from_utf8(openapi_v3_group_version("api/v1").unwrap().to_vec()).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for piece in text.split("\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling ref {name}");
        }
    }
}
#[cfg(test)]
mod dump {
    /// Writes every document under /tmp/rudder-docs, to serve to a real kubectl by hand
    /// (`cargo test -p apiserver --lib openapi::dump -- --ignored`).
    #[test]
    #[ignore]
    fn dump_documents() {
        let dir = std::path::Path::new("/tmp/rudder-docs");
        let _ = std::fs::create_dir_all(dir);
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(dir.join(name.replace('/', "_")), bytes).unwrap()
        };
        write("openapi_v2", &super::openapi_v2());
        write("openapi_v2.pb", &super::openapi_v2_protobuf());
        write(
            "openapi_v3",
            &serde_json::to_vec(&super::openapi_v3_root()).unwrap(),
        );
        for (k, d) in super::v3_docs() {
            write(&format!("openapi_v3_{k}"), &d.bytes);
        }
        let disc = |v: serde_json::Value| serde_json::to_vec(&v).unwrap();
        write(
            "api",
            &disc(crate::discovery::legacy_api_versions("127.0.0.1:1")),
        );
        write("apis", &disc(crate::discovery::api_group_list()));
        write(
            "agg_api",
            &disc(crate::discovery::aggregated_discovery(true)),
        );
        write(
            "agg_apis",
            &disc(crate::discovery::aggregated_discovery(false)),
        );
        for (g, vs) in api_types::catalog::groups() {
            for v in vs {
                let key = if g.is_empty() {
                    format!("api/{v}")
                } else {
                    format!("apis/{g}/{v}")
                };
                write(
                    &key,
                    &disc(crate::discovery::api_resource_list(g, v).unwrap()),
                );
            }
        }
    }
}
