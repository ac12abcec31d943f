//! apiregistration.k8s.io/v1 APIService: how the aggregation layer's registrations are
//! defaulted and validated (upstream `kube-aggregator/pkg/apis/apiregistration/validation`).

use serde_json::{json, Value};

use super::json::{get, get_i64, get_str, is_unset, set_default};
use crate::errors::FieldError;
use crate::registry::Strategy;

/// apiregistration.k8s.io/v1 APIService.
pub struct ApiService;

impl Strategy for ApiService {
    fn default(&self, obj: &mut Value) {
        // SetDefaults_ServiceReference: a service without a port means 443.
        if get(obj, &["spec", "service"]).is_some_and(Value::is_object) {
            set_default(obj, &["spec", "service", "port"], json!(443));
        }
    }

    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let name = get_str(obj, &["metadata", "name"]).unwrap_or_default();
        let group = get_str(obj, &["spec", "group"]).unwrap_or_default();
        let version = get_str(obj, &["spec", "version"]).unwrap_or_default();
        if name != format!("{version}.{group}") {
            errs.push(FieldError::invalid(
                "metadata.name",
                name,
                "must be `spec.version+\".\"+spec.group`",
            ));
        }
        if group.is_empty() && version != "v1" {
            errs.push(FieldError::required(
                "spec.group",
                "only v1 may have an empty group and it better be legacy kube",
            ));
        }
        if !group.is_empty() {
            for msg in api_types::names::dns1123_subdomain(group) {
                errs.push(FieldError::invalid("spec.group", group, msg));
            }
        }
        if version.is_empty() {
            errs.push(FieldError::required("spec.version", ""));
        } else {
            for msg in api_types::names::dns1123_label(version) {
                errs.push(FieldError::invalid("spec.version", version, msg));
            }
        }
        let gpm = get_i64(obj, &["spec", "groupPriorityMinimum"]).unwrap_or(0);
        if !(1..=20000).contains(&gpm) {
            errs.push(FieldError::invalid(
                "spec.groupPriorityMinimum",
                gpm,
                "must be positive and less than 20000",
            ));
        }
        let vp = get_i64(obj, &["spec", "versionPriority"]).unwrap_or(0);
        if !(1..=1000).contains(&vp) {
            errs.push(FieldError::invalid(
                "spec.versionPriority",
                vp,
                "must be positive and less than 1000",
            ));
        }
        let insecure = get(obj, &["spec", "insecureSkipTLSVerify"]) == Some(&Value::Bool(true));
        let has_ca = !is_unset(get(obj, &["spec", "caBundle"]));
        let service = get(obj, &["spec", "service"]).filter(|s| !s.is_null());
        match service {
            None => {
                if has_ca {
                    errs.push(FieldError::invalid(
                        "spec.caBundle",
                        "<omitted>",
                        "must not be set if service is not set",
                    ));
                }
                if insecure {
                    errs.push(FieldError::invalid(
                        "spec.insecureSkipTLSVerify",
                        true,
                        "must not be set if service is not set",
                    ));
                }
            }
            Some(svc) => {
                for field in ["namespace", "name"] {
                    if is_unset(svc.get(field)) {
                        errs.push(FieldError::required(format!("spec.service.{field}"), ""));
                    }
                }
                let port = svc.get("port").and_then(Value::as_i64).unwrap_or(443);
                if !(1..=65535).contains(&port) {
                    errs.push(FieldError::invalid(
                        "spec.service.port",
                        port,
                        "must be a valid port number",
                    ));
                }
            }
        }
        if insecure && has_ca {
            errs.push(FieldError::invalid(
                "spec.insecureSkipTLSVerify",
                true,
                "may not be true if caBundle is present",
            ));
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, spec: Value) -> Value {
        json!({"metadata": {"name": name}, "spec": spec})
    }

    #[test]
    fn name_must_be_version_dot_group() {
        let ok = svc(
            "v1beta1.metrics.k8s.io",
            json!({"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100, "versionPriority": 100,
                   "service": {"namespace": "kube-system", "name": "metrics-server"}, "insecureSkipTLSVerify": true}),
        );
        assert!(ApiService.validate(&ok, None).is_empty());
        let bad = svc(
            "metrics",
            json!({"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100, "versionPriority": 100}),
        );
        let errs = ApiService.validate(&bad, None);
        assert!(errs.iter().any(|e| e.field == "metadata.name"), "{errs:?}");
    }

    #[test]
    fn priorities_and_tls_options_are_checked() {
        let bad = svc(
            "v1.x.io",
            json!({"group": "x.io", "version": "v1", "groupPriorityMinimum": 0, "versionPriority": 5000,
                   "service": {"namespace": "a", "name": "b"}, "insecureSkipTLSVerify": true, "caBundle": "Zm9v"}),
        );
        let fields: Vec<String> = ApiService
            .validate(&bad, None)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert!(fields.contains(&"spec.groupPriorityMinimum".to_string()));
        assert!(fields.contains(&"spec.versionPriority".to_string()));
        assert!(fields.contains(&"spec.insecureSkipTLSVerify".to_string()));
    }

    #[test]
    fn service_port_defaults_to_443() {
        let mut obj = svc(
            "v1.x.io",
            json!({"group": "x.io", "version": "v1", "service": {"namespace": "a", "name": "b"}}),
        );
        ApiService.default(&mut obj);
        assert_eq!(obj["spec"]["service"]["port"], 443);
        let mut local = svc("v1.apps", json!({"group": "apps", "version": "v1"}));
        ApiService.default(&mut local);
        assert!(local["spec"].get("service").is_none());
    }
}
