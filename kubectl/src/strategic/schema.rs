//! Patch metadata from the server's OpenAPI v3 document: which lists merge by which key
//! (`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`), as upstream kubectl reads
//! it before computing a strategic merge patch.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::client::ApiClient;
use crate::resource::{ApiResource, CLIENT_GO_SCHEME_GROUPS};

/// A schema in the document, or `None` where the document says nothing (no strategy applies
/// anywhere below).
pub type Node<'a> = Option<&'a Value>;

/// What the schema says of one field of an object.
#[derive(Debug, Clone, Copy, Default)]
pub struct FieldMeta<'a> {
    /// `x-kubernetes-patch-strategy` (`merge`, `retainKeys`, `merge,retainKeys`, `replace`).
    pub strategy: &'a str,
    /// `x-kubernetes-patch-merge-key` of a merged list of objects.
    pub merge_key: &'a str,
    /// The value's schema; for a list, its items'.
    pub node: Node<'a>,
}

impl FieldMeta<'_> {
    /// Upstream's split of a strategy into "has retainKeys" and the other strategy.
    pub fn strategies(&self) -> (bool, &str) {
        let mut retain = false;
        let mut other = "";
        for s in self
            .strategy
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if s == "retainKeys" {
                retain = true;
            } else {
                other = s;
            }
        }
        (retain, other)
    }
}

/// The name and schema of a kind in an OpenAPI v3 document: the first, by name, whose
/// `x-kubernetes-group-version-kind` names it.
pub fn kind_schema<'a>(
    doc: &'a Value,
    group: &str,
    version: &str,
    kind: &str,
) -> Option<(&'a String, &'a Value)> {
    // serde_json's map keeps its keys sorted, so the first found is the first by name.
    doc["components"]["schemas"]
        .as_object()?
        .iter()
        .find(|(_, s)| {
            s["x-kubernetes-group-version-kind"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|g| {
                    g["group"].as_str().unwrap_or("") == group
                        && g["version"] == version
                        && g["kind"] == kind
                })
        })
}

/// The OpenAPI v3 document of one group-version and the kind a patch is for.
pub struct PatchSchema {
    doc: Arc<Value>,
    root: String,
}

impl PatchSchema {
    /// The schema of `kind` in `doc` (the one whose `x-kubernetes-group-version-kind` names
    /// it), if the document has it.
    pub fn new(doc: Arc<Value>, group: &str, version: &str, kind: &str) -> Option<Self> {
        let root = kind_schema(&doc, group, version, kind)?.0.clone();
        Some(PatchSchema { doc, root })
    }

    /// The kind's own schema.
    pub fn root(&self) -> Node<'_> {
        self.doc["components"]["schemas"].get(&self.root)
    }

    /// What the schema at `node` says of its field `key` (a map's values share one schema).
    pub fn field<'a>(&'a self, node: Node<'a>, key: &str) -> FieldMeta<'a> {
        let Some(schema) = node.map(|n| self.resolved(n)) else {
            return FieldMeta::default();
        };
        let property = schema["properties"]
            .get(key)
            .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
        let Some(property) = property else {
            return FieldMeta::default();
        };
        let text = |name: &str| property[name].as_str().unwrap_or("");
        let value = self.resolved(property);
        let node = match value.get("items") {
            Some(items) => Some(self.resolved(items)),
            None => Some(value),
        };
        FieldMeta {
            strategy: text("x-kubernetes-patch-strategy"),
            merge_key: text("x-kubernetes-patch-merge-key"),
            node,
        }
    }

    /// `schema` with a `$ref`, or a lone `allOf` wrapping one, followed.
    fn resolved<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let reference = schema["$ref"].as_str().or_else(|| {
            match schema["allOf"].as_array().map(Vec::as_slice) {
                Some([only]) if schema.get("properties").is_none() => only["$ref"].as_str(),
                _ => None,
            }
        });
        reference
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .and_then(|name| self.doc["components"]["schemas"].get(name))
            .unwrap_or(schema)
    }
}

/// The OpenAPI v3 documents read so far, by group-version, so applying many objects reads
/// each document once.
#[derive(Default)]
pub struct PatchSchemas {
    docs: HashMap<String, Option<Arc<Value>>>,
    index: Option<Value>,
}

impl PatchSchemas {
    /// The schema a strategic merge patch for `res` is computed with, or `None` when the
    /// type is not one of client-go's built-in types (upstream sends those a JSON merge
    /// patch) or the server has no document for it.
    pub async fn for_resource(
        &mut self,
        client: &ApiClient,
        res: &ApiResource,
    ) -> Option<PatchSchema> {
        if !CLIENT_GO_SCHEME_GROUPS.contains(&res.group.as_str()) {
            return None;
        }
        let key = if res.group.is_empty() {
            format!("api/{}", res.version)
        } else {
            format!("apis/{}/{}", res.group, res.version)
        };
        if !self.docs.contains_key(&key) {
            let doc = self.fetch(client, &key).await.map(Arc::new);
            self.docs.insert(key.clone(), doc);
        }
        let doc = self.docs.get(&key)?.clone()?;
        PatchSchema::new(doc, &res.group, &res.version, &res.kind)
    }

    async fn fetch(&mut self, client: &ApiClient, key: &str) -> Option<Value> {
        if self.index.is_none() {
            self.index = Some(client.get("/openapi/v3").await.ok()?);
        }
        let url = self.index.as_ref()?["paths"][key]["serverRelativeURL"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| format!("/openapi/v3/{key}"));
        client.get(&url).await.ok()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;

    /// A slice of the apps/v1 document: a Deployment down to its containers' env and ports,
    /// with the references written both ways the server writes them.
    pub fn deployment_schema() -> PatchSchema {
        let doc = json!({"components": {"schemas": {
            "io.k8s.api.apps.v1.Deployment": {
                "x-kubernetes-group-version-kind": [{"group": "apps", "version": "v1", "kind": "Deployment"}],
                "properties": {
                    "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]},
                    "spec": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}]}}},
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"properties": {
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "finalizers": {"type": "array", "items": {"type": "string"},
                               "x-kubernetes-patch-strategy": "merge"}}},
            "io.k8s.api.apps.v1.DeploymentSpec": {"properties": {
                "strategy": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy"}],
                             "x-kubernetes-patch-strategy": "retainKeys"},
                "template": {"$ref": "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec"}}},
            "io.k8s.api.apps.v1.DeploymentStrategy": {"properties": {
                "type": {"type": "string"},
                "rollingUpdate": {"type": "object"}}},
            "io.k8s.api.core.v1.PodTemplateSpec": {"properties": {
                "spec": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}]}}},
            "io.k8s.api.core.v1.PodSpec": {"properties": {
                "containers": {"type": "array",
                               "items": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}]},
                               "x-kubernetes-patch-merge-key": "name",
                               "x-kubernetes-patch-strategy": "merge"},
                "volumes": {"type": "array",
                            "items": {"$ref": "#/components/schemas/io.k8s.api.core.v1.Volume"},
                            "x-kubernetes-patch-merge-key": "name",
                            "x-kubernetes-patch-strategy": "merge,retainKeys"}}},
            "io.k8s.api.core.v1.Volume": {"properties": {
                "name": {"type": "string"}, "emptyDir": {"type": "object"},
                "configMap": {"type": "object"}}},
            "io.k8s.api.core.v1.Container": {"properties": {
                "name": {"type": "string"},
                "image": {"type": "string"},
                "args": {"type": "array", "items": {"type": "string"}},
                "env": {"type": "array",
                        "items": {"$ref": "#/components/schemas/io.k8s.api.core.v1.EnvVar"},
                        "x-kubernetes-patch-merge-key": "name",
                        "x-kubernetes-patch-strategy": "merge"},
                "ports": {"type": "array",
                          "items": {"$ref": "#/components/schemas/io.k8s.api.core.v1.ContainerPort"},
                          "x-kubernetes-patch-merge-key": "containerPort",
                          "x-kubernetes-patch-strategy": "merge"}}},
            "io.k8s.api.core.v1.EnvVar": {"properties": {"name": {"type": "string"}, "value": {"type": "string"}}},
            "io.k8s.api.core.v1.ContainerPort": {"properties": {"containerPort": {"type": "integer"}}}
        }}});
        PatchSchema::new(Arc::new(doc), "apps", "v1", "Deployment").expect("root")
    }

    #[test]
    fn fields_follow_references_and_report_their_strategy() {
        let s = deployment_schema();
        let spec = s.field(s.root(), "spec");
        let template = s.field(spec.node, "template");
        let pod = s.field(template.node, "spec");
        let containers = s.field(pod.node, "containers");
        assert_eq!(
            (containers.strategy, containers.merge_key),
            ("merge", "name")
        );
        let env = s.field(containers.node, "env");
        assert_eq!((env.strategy, env.merge_key), ("merge", "name"));
        assert_eq!(s.field(pod.node, "volumes").strategies(), (true, "merge"));
        assert_eq!(s.field(spec.node, "strategy").strategies(), (true, ""));
        // A map's keys share its values' schema; unknown fields have no strategy.
        let labels = s.field(s.field(s.root(), "metadata").node, "labels");
        assert!(s.field(labels.node, "app").node.is_some());
        assert_eq!(s.field(pod.node, "nope").strategy, "");
        assert!(s.field(None, "x").node.is_none());
    }

    #[test]
    fn a_kind_missing_from_the_document_has_no_schema() {
        let doc = Arc::new(json!({"components": {"schemas": {}}}));
        assert!(PatchSchema::new(doc, "apps", "v1", "Deployment").is_none());
    }
}
