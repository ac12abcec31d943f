//! The shape of the built-in types, as the patch machinery needs it: for a value of a given
//! OpenAPI definition, what each field holds (another definition, a list, a map or a scalar).
//!
//! The definitions come from k8s-openapi's schemars output, generated once for every kind in the
//! catalog and cached; `$ref`s name the nested definitions, which is how a patch walking down
//! `spec.template.spec.containers` knows it is merging `io.k8s.api.core.v1.Container` items.

use std::collections::HashMap;
use std::sync::OnceLock;

use api_types::catalog::RESOURCES;
use api_types::schemars::SchemaGenerator;
use serde_json::Value;

/// What a field (or a list item, or a map value) holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// An object of a known definition (a struct).
    Object(String),
    /// A list whose items have this shape.
    List(Box<Shape>),
    /// A map from strings to values of this shape (`additionalProperties`).
    Map(Box<Shape>),
    /// A scalar, or something whose shape is not known (treated as opaque).
    Unknown,
}

impl Shape {
    /// The definition name, when this is an object of a known definition.
    pub fn definition(&self) -> Option<&str> {
        match self {
            Shape::Object(d) => Some(d),
            _ => None,
        }
    }

    /// The shape of the items of a list (unknown for anything else).
    pub fn items(&self) -> Shape {
        match self {
            Shape::List(i) => (**i).clone(),
            _ => Shape::Unknown,
        }
    }
}

fn definitions() -> &'static HashMap<String, Value> {
    static DEFS: OnceLock<HashMap<String, Value>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let mut generator = SchemaGenerator::default();
        for r in RESOURCES {
            (r.typed.schema)(&mut generator);
        }
        generator.take_definitions(false).into_iter().collect()
    })
}

/// Shape of a schema fragment (a property, `items` or `additionalProperties`).
fn shape_of(schema: &Value) -> Shape {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return if definitions().contains_key(name) {
            let def = &definitions()[name];
            // Definitions such as Quantity or IntOrString are scalars in disguise.
            if def.get("properties").is_some() || def.get("type") == Some(&"object".into()) {
                Shape::Object(name.to_string())
            } else {
                Shape::Unknown
            }
        } else {
            Shape::Unknown
        };
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => Shape::List(Box::new(
            schema.get("items").map(shape_of).unwrap_or(Shape::Unknown),
        )),
        Some("object") => match schema.get("additionalProperties") {
            Some(ap) if ap.is_object() => Shape::Map(Box::new(shape_of(ap))),
            _ => Shape::Unknown,
        },
        _ => Shape::Unknown,
    }
}

/// The shape of `field` in objects of `definition`.
pub fn field_shape(definition: &str, field: &str) -> Shape {
    definitions()
        .get(definition)
        .and_then(|d| d.get("properties"))
        .and_then(|p| p.get(field))
        .map(shape_of)
        .unwrap_or(Shape::Unknown)
}

/// The shape of a value found under `key` inside a value of shape `parent`: a struct's field,
/// or a map's value.
pub fn child_shape(parent: &Shape, key: &str) -> Shape {
    match parent {
        Shape::Object(d) => field_shape(d, key),
        Shape::Map(v) => (**v).clone(),
        _ => Shape::Unknown,
    }
}

/// Whether a definition is known (the kind of a served resource or nested in one).
pub fn is_known(definition: &str) -> bool {
    definitions().contains_key(definition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_leads_down_to_containers() {
        let spec = field_shape("io.k8s.api.apps.v1.Deployment", "spec");
        assert_eq!(spec.definition(), Some("io.k8s.api.apps.v1.DeploymentSpec"));
        let template = child_shape(&spec, "template");
        let pod_spec = child_shape(&template, "spec");
        assert_eq!(pod_spec.definition(), Some("io.k8s.api.core.v1.PodSpec"));
        let containers = child_shape(&pod_spec, "containers");
        assert_eq!(
            containers.items().definition(),
            Some("io.k8s.api.core.v1.Container")
        );
        let labels = child_shape(
            &field_shape("io.k8s.api.apps.v1.Deployment", "metadata"),
            "labels",
        );
        assert_eq!(labels, Shape::Map(Box::new(Shape::Unknown)));
    }

    #[test]
    fn quantities_are_scalars() {
        let limits = field_shape("io.k8s.api.core.v1.ResourceRequirements", "limits");
        assert_eq!(limits, Shape::Map(Box::new(Shape::Unknown)));
    }
}
