//! Which Ingresses are ours: those whose IngressClass names our controller, and those with
//! no class when one of our classes is marked the cluster default.

use std::sync::Arc;

use k8s_openapi::api::networking::v1::{Ingress, IngressClass};

/// The annotation marking the default IngressClass.
pub const DEFAULT_CLASS_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";
/// The pre-IngressClass annotation naming the class, still honoured by controllers.
pub const LEGACY_CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// The Ingresses among `ingresses` that belong to `controller` (an IngressClass's
/// `spec.controller`, e.g. `rudder.dev/ingress`).
pub fn our_ingresses(
    controller: &str,
    classes: &[Arc<IngressClass>],
    ingresses: &[Arc<Ingress>],
) -> Vec<Arc<Ingress>> {
    let ours: Vec<&IngressClass> = classes
        .iter()
        .map(AsRef::as_ref)
        .filter(|c| c.spec.as_ref().and_then(|s| s.controller.as_deref()) == Some(controller))
        .collect();
    let names: Vec<&str> = ours
        .iter()
        .filter_map(|c| c.metadata.name.as_deref())
        .collect();
    let default_is_ours = ours.iter().any(|c| {
        c.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
            .is_some_and(|v| v == "true")
    });
    ingresses
        .iter()
        .filter(|ingress| {
            let class = ingress
                .spec
                .as_ref()
                .and_then(|s| s.ingress_class_name.as_deref())
                .or_else(|| {
                    ingress
                        .metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get(LEGACY_CLASS_ANNOTATION))
                        .map(String::as_str)
                });
            match class {
                Some(class) => names.contains(&class),
                None => default_is_ours,
            }
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Arc<T> {
        Arc::new(serde_json::from_value(v).unwrap())
    }

    fn names(v: &[Arc<Ingress>]) -> Vec<String> {
        v.iter().filter_map(|i| i.metadata.name.clone()).collect()
    }

    #[test]
    fn class_selection() {
        let classes = vec![
            obj(
                json!({"metadata": {"name": "rudder"}, "spec": {"controller": "rudder.dev/ingress"}}),
            ),
            obj(
                json!({"metadata": {"name": "nginx", "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
                       "spec": {"controller": "k8s.io/ingress-nginx"}}),
            ),
        ];
        let ingresses = vec![
            obj(json!({"metadata": {"name": "mine"}, "spec": {"ingressClassName": "rudder"}})),
            obj(
                json!({"metadata": {"name": "legacy", "annotations": {LEGACY_CLASS_ANNOTATION: "rudder"}}, "spec": {}}),
            ),
            obj(json!({"metadata": {"name": "theirs"}, "spec": {"ingressClassName": "nginx"}})),
            obj(json!({"metadata": {"name": "classless"}, "spec": {}})),
        ];
        assert_eq!(
            names(&our_ingresses("rudder.dev/ingress", &classes, &ingresses)),
            vec!["mine", "legacy"]
        );
        // The default class is someone else's: class-less Ingresses are theirs.
        assert_eq!(
            names(&our_ingresses("k8s.io/ingress-nginx", &classes, &ingresses)),
            vec!["theirs", "classless"]
        );
    }
}
