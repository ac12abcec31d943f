//! The `definitions` of the OpenAPI documents: every schema the served kinds reach, generated
//! with schemars from k8s-openapi (whose schema names already are upstream's definition names),
//! plus what upstream adds on top: `x-kubernetes-group-version-kind` on top-level kinds, the
//! `<Kind>List` definitions, and the patch/list extensions of [`super::extensions`].

use std::collections::BTreeMap;

use api_types::catalog::{self, ResourceInfo};
use api_types::k8s_openapi::api as k8s;
use api_types::k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use api_types::schemars::generate::{SchemaGenerator, SchemaSettings};
use api_types::schemars::JsonSchema;
use serde_json::{json, Map, Value};

/// Definition name of `ListMeta`, referenced by every list kind.
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
/// Definition name of `Status`, the answer of deletes.
pub(crate) const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
/// Definition name of `DeleteOptions`, the body of deletes.
pub(crate) const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
/// Definition name of `Patch`, the body of patches.
pub(crate) const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
/// Definition name of `WatchEvent`.
const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";

/// A `$ref` to a definition, in the swagger 2.0 form.
pub(crate) fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/definitions/{name}")})
}

/// Definition name of a resource's kind, e.g. `io.k8s.api.apps.v1.Deployment`.
pub(crate) fn kind_name(r: &ResourceInfo) -> String {
    (r.typed.schema_name)().into_owned()
}

/// Definition name of a resource's list kind, e.g. `io.k8s.api.apps.v1.DeploymentList`.
pub(crate) fn list_name(r: &ResourceInfo) -> String {
    format!("{}List", kind_name(r))
}

/// Definition name of the object a subresource answers with.
pub(crate) fn subresource_kind_name(group: &str, version: &str, kind: &str) -> Option<String> {
    let name = match (group, version, kind) {
        ("autoscaling", "v1", "Scale") => k8s::autoscaling::v1::Scale::schema_name(),
        ("policy", "v1", "Eviction") => k8s::policy::v1::Eviction::schema_name(),
        ("authentication.k8s.io", "v1", "TokenRequest") => {
            k8s::authentication::v1::TokenRequest::schema_name()
        }
        ("", "v1", "Binding") => k8s::core::v1::Binding::schema_name(),
        _ => {
            // Same kind as a served resource (pods/status answers a Pod).
            let r = catalog::RESOURCES
                .iter()
                .find(|r| r.group == group && r.version == version && r.kind == kind)?;
            return Some(kind_name(r));
        }
    };
    Some(name.into_owned())
}

fn generator() -> SchemaGenerator {
    SchemaSettings::draft07()
        .with(|s| {
            s.definitions_path = "/definitions".into();
            s.meta_schema = None;
            // Keep `$ref` siblings (field descriptions); swagger 2.0 readers accept them.
            s.transforms.clear();
        })
        .into_generator()
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

/// Appends a group-version-kind to a definition's `x-kubernetes-group-version-kind` list.
fn add_gvk(defs: &mut Map<String, Value>, name: &str, gvk: Value) {
    let Some(def) = defs.get_mut(name).and_then(Value::as_object_mut) else {
        return;
    };
    let list = def
        .entry("x-kubernetes-group-version-kind")
        .or_insert_with(|| json!([]));
    if let Some(a) = list.as_array_mut() {
        if !a.contains(&gvk) {
            a.push(gvk);
        }
    }
}

fn list_definition(r: &ResourceInfo) -> Value {
    json!({
        "description": format!("{}List is a list of {} objects.", r.kind, r.kind),
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "APIVersion defines the versioned schema of this representation of an object.",
                "type": "string",
            },
            "items": {
                "description": format!("List of {}.", r.plural),
                "type": "array",
                "items": reference(&kind_name(r)),
            },
            "kind": {
                "description": "Kind is a string value representing the REST resource this object represents.",
                "type": "string",
            },
            "metadata": {
                "$ref": format!("#/definitions/{LIST_META}"),
                "description": "Standard list metadata.",
            },
        },
        "required": ["items"],
        "x-kubernetes-group-version-kind": [gvk(r.group, r.version, &r.list_kind())],
    })
}

/// Builds every definition the API's documents refer to, keyed by definition name (sorted).
pub(crate) fn build() -> Map<String, Value> {
    let mut g = generator();
    for r in catalog::RESOURCES {
        (r.typed.schema)(&mut g);
    }
    // Objects subresources and the generic endpoints answer with.
    g.subschema_for::<k8s::autoscaling::v1::Scale>();
    g.subschema_for::<k8s::policy::v1::Eviction>();
    g.subschema_for::<k8s::authentication::v1::TokenRequest>();
    g.subschema_for::<meta::Status>();
    g.subschema_for::<meta::DeleteOptions>();
    g.subschema_for::<meta::Patch>();
    g.subschema_for::<meta::WatchEvent<k8s::core::v1::Pod>>();
    g.subschema_for::<meta::APIResourceList>();
    g.subschema_for::<meta::APIGroupList>();
    g.subschema_for::<meta::APIGroup>();
    g.subschema_for::<meta::APIVersions>();
    g.subschema_for::<meta::ListMeta>();
    let mut defs = g.take_definitions(false);

    for r in catalog::RESOURCES {
        add_gvk(&mut defs, &kind_name(r), gvk(r.group, r.version, r.kind));
        defs.insert(list_name(r), list_definition(r));
        for s in r.subresources {
            if let Some(name) = subresource_kind_name(s.group, s.version, s.kind) {
                add_gvk(&mut defs, &name, gvk(s.group, s.version, s.kind));
            }
        }
    }
    // Upstream tags the generic kinds with every group-version that serves them.
    add_gvk(&mut defs, STATUS, gvk("", "v1", "Status"));
    for (group, versions) in catalog::groups() {
        for version in versions {
            add_gvk(
                &mut defs,
                DELETE_OPTIONS,
                gvk(group, version, "DeleteOptions"),
            );
            add_gvk(&mut defs, WATCH_EVENT, gvk(group, version, "WatchEvent"));
        }
    }
    super::extensions::annotate(&mut defs);

    // Sorted keys make the documents (and so their hashes) deterministic.
    let sorted: BTreeMap<String, Value> = defs.into_iter().collect();
    sorted.into_iter().collect()
}

/// Names of the definitions `roots` refer to, directly or through other definitions.
pub(crate) fn closure<'a>(
    defs: &Map<String, Value>,
    roots: impl IntoIterator<Item = &'a Value>,
) -> std::collections::BTreeSet<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut stack: Vec<String> = Vec::new();
    for v in roots {
        collect_refs(v, &mut stack);
    }
    while let Some(name) = stack.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(def) = defs.get(&name) {
            collect_refs(def, &mut stack);
        }
    }
    seen
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(name) = x.as_str().and_then(|s| s.rsplit('/').next()) {
                        out.push(name.to_string());
                    }
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_carry_their_group_version_kind() {
        let defs = build();
        let d = &defs["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            d["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
        );
        assert_eq!(
            d["properties"]["spec"]["$ref"],
            "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
        );
        let list = &defs["io.k8s.api.core.v1.PodList"];
        assert_eq!(
            list["x-kubernetes-group-version-kind"][0]["kind"],
            "PodList"
        );
        assert_eq!(
            list["properties"]["items"]["items"]["$ref"],
            "#/definitions/io.k8s.api.core.v1.Pod"
        );
        let scale = &defs["io.k8s.api.autoscaling.v1.Scale"];
        assert_eq!(
            scale["x-kubernetes-group-version-kind"][0]["group"],
            "autoscaling"
        );
    }

    #[test]
    fn closure_follows_refs() {
        let defs = build();
        let root = reference("io.k8s.api.apps.v1.Deployment");
        let names = closure(&defs, [&root]);
        assert!(names.contains("io.k8s.api.apps.v1.DeploymentStrategy"));
        assert!(names.contains("io.k8s.api.core.v1.Container"));
        assert!(!names.contains("io.k8s.api.rbac.v1.Role"));
    }
}
