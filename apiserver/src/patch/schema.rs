//! The shape of the built-in types, as the patch machinery needs it: for a value of a given
//! OpenAPI definition, what each field holds (another definition, a list, a map or a scalar).
//!
//! The definitions come from k8s-openapi's schemars output, generated once for every kind in the
//! catalog and cached; `$ref`s name the nested definitions, which is how a patch walking down
//! `spec.template.spec.containers` knows it is merging `io.k8s.api.core.v1.Container` items.

use std::collections::{HashMap, HashSet};
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

/// The definition of resource quantities.
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/// The definition a schema fragment refers to (`$ref`, or a lone `allOf` of one).
fn ref_name(schema: &Value) -> Option<&str> {
    let r = schema.get("$ref").and_then(Value::as_str).or_else(|| {
        match schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            Some([one]) => one.get("$ref").and_then(Value::as_str),
            _ => None,
        }
    })?;
    Some(r.rsplit('/').next().unwrap_or(r))
}

/// Whether values of `definition` hold a Quantity somewhere. Most kinds have none, and
/// their objects are not walked at all. The answer for every definition is computed once,
/// so that the write path takes no lock to find it.
fn holds_quantities(definition: &str) -> bool {
    static HOLDING: OnceLock<HashSet<String>> = OnceLock::new();
    HOLDING
        .get_or_init(|| definitions_holding_quantities(definitions()))
        .contains(definition)
}

/// The definitions that hold a Quantity directly or through the definitions they refer to:
/// those referring to one directly, then, until nothing changes, those referring to one
/// already found (a fixpoint, so recursive definitions end).
fn definitions_holding_quantities(defs: &HashMap<String, Value>) -> HashSet<String> {
    fn refs<'a>(schema: &'a Value, found: &mut Vec<&'a str>) {
        if let Some(name) = ref_name(schema) {
            found.push(name);
            return;
        }
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|p| p.values());
        let nested = ["items", "additionalProperties"]
            .into_iter()
            .filter_map(|k| schema.get(k));
        for s in props.chain(nested) {
            refs(s, found);
        }
    }
    let referring: Vec<(&String, Vec<&str>)> = defs
        .iter()
        .map(|(name, schema)| {
            let mut found = Vec::new();
            refs(schema, &mut found);
            (name, found)
        })
        .collect();
    let mut holding: HashSet<String> = HashSet::new();
    loop {
        let before = holding.len();
        for (name, to) in &referring {
            if !holding.contains(*name) && to.iter().any(|t| *t == QUANTITY || holding.contains(*t))
            {
                holding.insert((*name).clone());
            }
        }
        if holding.len() == before {
            return holding;
        }
    }
}

/// Calls `f` on every Quantity in `value`, an object of `definition` (struct fields, list
/// items and map values, as the schema says).
pub fn for_each_quantity(definition: &str, value: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    if !holds_quantities(definition) {
        return;
    }
    let Some(props) = definitions()
        .get(definition)
        .and_then(|d| d.get("properties"))
        .and_then(Value::as_object)
    else {
        return;
    };
    let Some(obj) = value.as_object_mut() else {
        return;
    };
    for (key, v) in obj.iter_mut() {
        if let Some(schema) = props.get(key) {
            visit_quantities(schema, v, f);
        }
    }
}

fn visit_quantities(schema: &Value, value: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    if let Some(name) = ref_name(schema) {
        if name == QUANTITY {
            f(value);
        } else {
            for_each_quantity(name, value, f);
        }
        return;
    }
    match (
        schema.get("items"),
        schema.get("additionalProperties"),
        value,
    ) {
        (Some(items), _, Value::Array(list)) => {
            for v in list {
                visit_quantities(items, v, f);
            }
        }
        (_, Some(values), Value::Object(map)) if values.is_object() => {
            for v in map.values_mut() {
                visit_quantities(values, v, f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_are_found_where_the_schema_has_them() {
        let mut pod = serde_json::json!({
            "metadata": {"name": "p", "labels": {"cpu": "0.5"}},
            "spec": {
                "containers": [{"name": "c", "image": "x",
                    "resources": {"limits": {"cpu": "0.5", "memory": "1.5Gi"}}}],
                "volumes": [{"name": "v", "emptyDir": {"sizeLimit": "1000"}}]
            }
        });
        let mut seen = Vec::new();
        for_each_quantity("io.k8s.api.core.v1.Pod", &mut pod, &mut |q| {
            seen.push(q.clone());
            *q = "seen".into();
        });
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert_eq!(
            pod["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            "seen"
        );
        assert_eq!(pod["spec"]["volumes"][0]["emptyDir"]["sizeLimit"], "seen");
        assert_eq!(
            pod["metadata"]["labels"]["cpu"], "0.5",
            "labels are not quantities"
        );
        assert!(!holds_quantities("io.k8s.api.core.v1.ConfigMap"));
        for holding in [
            "io.k8s.api.apps.v1.Deployment",
            "io.k8s.api.core.v1.PersistentVolumeClaim",
            "io.k8s.api.core.v1.ResourceQuota",
        ] {
            assert!(holds_quantities(holding), "{holding}");
        }
    }

    #[test]
    fn holding_quantities_spreads_through_references_and_ends_on_cycles() {
        let r = |name: &str| json!({"$ref": format!("#/definitions/{name}")});
        let defs: HashMap<String, Value> = [
            ("Leaf", json!({"properties": {"size": r(QUANTITY)}})),
            (
                "Middle",
                json!({"properties": {"items": {"items": r("Leaf")}}}),
            ),
            (
                "Top",
                json!({"properties": {"byName": {"additionalProperties": r("Middle")}}}),
            ),
            (
                "Loop",
                json!({"properties": {"next": r("Loop"), "other": r("Plain")}}),
            ),
            ("Plain", json!({"properties": {"name": {"type": "string"}}})),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let holding = definitions_holding_quantities(&defs);
        let mut names: Vec<&str> = holding.iter().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["Leaf", "Middle", "Top"]);
    }

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
