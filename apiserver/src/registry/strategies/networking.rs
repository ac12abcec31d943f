//! networking.k8s.io/v1 Ingress, IngressClass, NetworkPolicy and discovery.k8s.io/v1
//! EndpointSlice.

use serde_json::{json, Value};

use super::json::{
    child, for_each_mut, get, get_str, immutable, index, is_unset, items, one_of, set_default,
};
use crate::errors::FieldError;
use crate::registry::Strategy;

/// networking.k8s.io/v1 Ingress.
pub struct Ingress;
impl Strategy for Ingress {
    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let rules = items(obj, &["spec", "rules"]);
        let default_backend = get(obj, &["spec", "defaultBackend"]).filter(|b| !b.is_null());
        if rules.is_empty() && default_backend.is_none() {
            errs.push(FieldError::invalid(
                "spec",
                get(obj, &["spec"]).cloned().unwrap_or(Value::Null),
                "either `defaultBackend` or `rules` must be specified",
            ));
        }
        if let Some(b) = default_backend {
            validate_backend(b, "spec.defaultBackend", &mut errs);
        }
        for (i, r) in rules.iter().enumerate() {
            let rpath = index("spec.rules", i);
            for (j, p) in items(r, &["http", "paths"]).iter().enumerate() {
                let ppath = index(&format!("{rpath}.http.paths"), j);
                let path = get_str(p, &["path"]).unwrap_or_default();
                match get_str(p, &["pathType"]).filter(|t| !t.is_empty()) {
                    None => errs.push(FieldError::required(
                        child(&ppath, "pathType"),
                        "pathType must be specified",
                    )),
                    Some("Exact" | "Prefix") => {
                        if !path.starts_with('/') {
                            errs.push(FieldError::invalid(
                                child(&ppath, "path"),
                                path,
                                "must be an absolute path",
                            ));
                        }
                    }
                    Some("ImplementationSpecific") => {
                        if !path.is_empty() && !path.starts_with('/') {
                            errs.push(FieldError::invalid(
                                child(&ppath, "path"),
                                path,
                                "must be an absolute path",
                            ));
                        }
                    }
                    Some(other) => errs.push(FieldError::not_supported(
                        child(&ppath, "pathType"),
                        other,
                        &["Exact", "ImplementationSpecific", "Prefix"],
                    )),
                }
                match p.get("backend").filter(|b| !b.is_null()) {
                    Some(b) => validate_backend(b, &child(&ppath, "backend"), &mut errs),
                    None => errs.push(FieldError::required(child(&ppath, "backend"), "")),
                }
            }
        }
        errs
    }
}

fn validate_backend(b: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let service = b.get("service").filter(|s| !s.is_null());
    let resource = b.get("resource").filter(|s| !s.is_null());
    match (service, resource) {
        (Some(_), Some(_)) => errs.push(FieldError::invalid(
            path,
            b.clone(),
            "cannot set both resource and service backends",
        )),
        (None, None) => errs.push(FieldError::invalid(
            path,
            b.clone(),
            "resource or service backend is required",
        )),
        (Some(s), None) => {
            let spath = child(path, "service");
            if get_str(s, &["name"]).unwrap_or_default().is_empty() {
                errs.push(FieldError::required(child(&spath, "name"), ""));
            }
            let port = s.get("port").cloned().unwrap_or(Value::Null);
            let number = port
                .get("number")
                .and_then(Value::as_i64)
                .filter(|n| *n != 0);
            let name = port
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty());
            match (number, name) {
                (Some(_), Some(_)) => errs.push(FieldError::invalid(
                    child(&spath, "port"),
                    port.clone(),
                    "cannot set both port name & port number",
                )),
                (None, None) => errs.push(FieldError::invalid(
                    child(&spath, "port"),
                    port.clone(),
                    "port name or number is required",
                )),
                (Some(n), None) => errs.extend(super::json::port_number(
                    n,
                    &child(&child(&spath, "port"), "number"),
                )),
                (None, Some(_)) => {}
            }
        }
        (None, Some(_)) => {}
    }
}

/// networking.k8s.io/v1 IngressClass.
pub struct IngressClass;
impl Strategy for IngressClass {
    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if get_str(obj, &["spec", "controller"])
            .unwrap_or_default()
            .is_empty()
        {
            errs.push(FieldError::required("spec.controller", ""));
        }
        if let Some(old) = old {
            errs.extend(immutable(
                obj,
                old,
                &["spec", "controller"],
                "spec.controller",
            ));
        }
        errs
    }
}

/// networking.k8s.io/v1 NetworkPolicy: policyTypes default to Ingress, plus Egress when
/// egress rules are given; rule ports default to TCP.
pub struct NetworkPolicy;
impl Strategy for NetworkPolicy {
    fn default(&self, obj: &mut Value) {
        if is_unset(get(obj, &["spec", "policyTypes"])) {
            let mut types = vec![json!("Ingress")];
            if !items(obj, &["spec", "egress"]).is_empty() {
                types.push(json!("Egress"));
            }
            set_default(obj, &["spec", "policyTypes"], Value::Array(types));
        }
        for dir in ["ingress", "egress"] {
            for_each_mut(obj, &["spec", dir], |rule| {
                for_each_mut(rule, &["ports"], |p| {
                    set_default(p, &["protocol"], json!("TCP"))
                });
            });
        }
    }

    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        for (i, t) in items(obj, &["spec", "policyTypes"]).iter().enumerate() {
            let s = t.as_str().unwrap_or_default();
            if s != "Ingress" && s != "Egress" {
                errs.push(FieldError::not_supported(
                    index("spec.policyTypes", i),
                    s,
                    &["Ingress", "Egress"],
                ));
            }
        }
        errs.extend(super::selector::validate(
            get(obj, &["spec", "podSelector"]).unwrap_or(&Value::Null),
            "spec.podSelector",
        ));
        errs
    }
}

/// discovery.k8s.io/v1 EndpointSlice.
pub struct EndpointSlice;
impl Strategy for EndpointSlice {
    fn default(&self, obj: &mut Value) {
        for_each_mut(obj, &["ports"], |p| {
            set_default(p, &["protocol"], json!("TCP"))
        });
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        errs.extend(one_of(
            obj,
            &["addressType"],
            "addressType",
            &["FQDN", "IPv4", "IPv6"],
            true,
        ));
        for (i, e) in items(obj, &["endpoints"]).iter().enumerate() {
            if items(e, &["addresses"]).is_empty() {
                errs.push(FieldError::required(
                    child(&index("endpoints", i), "addresses"),
                    "must contain at least 1 address",
                ));
            }
        }
        if let Some(old) = old {
            errs.extend(immutable(obj, old, &["addressType"], "addressType"));
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingress_path_type_and_backend_port() {
        let ing = json!({"spec": {"rules": [{"http": {"paths": [
            {"path": "/", "backend": {"service": {"name": "web", "port": {}}}}]}}]}});
        let msgs: Vec<String> = Ingress
            .validate(&ing, None)
            .iter()
            .map(FieldError::message)
            .collect();
        assert!(msgs.contains(
            &"spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"
                .to_string()
        ));
        assert!(msgs.contains(&"spec.rules[0].http.paths[0].backend.service.port: Invalid value: {}: port name or number is required".to_string()));
    }

    #[test]
    fn network_policy_types_default() {
        let mut np = json!({"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}});
        NetworkPolicy.default(&mut np);
        assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(np["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
    }
}
