//! core/v1 Pods and the core kinds that carry a pod template (PodTemplate,
//! ReplicationController).

use serde_json::{json, Value};

use super::apps::default_template;
use super::json::{get, is_unset, non_negative};
use super::pod_spec::{
    default_pod_only, default_pod_spec, validate_pod_spec, validate_pod_update, validate_template,
};
use super::selector::{map_matches, template_mismatch};
use crate::errors::FieldError;
use crate::registry::Strategy;

/// core/v1 Pod.
pub struct Pod;
impl Strategy for Pod {
    fn default(&self, obj: &mut Value) {
        if let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) {
            default_pod_spec(spec);
        }
        default_pod_only(obj);
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
        let mut errs = validate_pod_spec(&spec, "spec");
        if let Some(old_spec) = old.and_then(|o| o.get("spec")) {
            errs.extend(validate_pod_update(&spec, old_spec));
        }
        errs
    }

    fn field_labels(&self) -> &'static [&'static str] {
        &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ]
    }
}

/// core/v1 PodTemplate.
pub struct PodTemplate;
impl Strategy for PodTemplate {
    fn default(&self, obj: &mut Value) {
        default_template(obj, &["template"]);
    }

    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        validate_template(
            get(obj, &["template"]),
            "template",
            &["Always", "OnFailure", "Never"],
        )
    }
}

/// core/v1 ReplicationController: its selector is a plain label map that, like its labels,
/// defaults to the template's labels.
pub struct ReplicationController;
impl Strategy for ReplicationController {
    fn default(&self, obj: &mut Value) {
        let labels = get(obj, &["spec", "template", "metadata", "labels"]).cloned();
        if let Some(labels) = labels.filter(|l| !is_unset(Some(l))) {
            super::json::set_default(obj, &["spec", "selector"], labels.clone());
            super::json::set_default(obj, &["metadata", "labels"], labels);
        }
        super::json::set_default(obj, &["spec", "replicas"], json!(1));
        default_template(obj, &["spec", "template"]);
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let selector = get(obj, &["spec", "selector"]).filter(|s| !is_unset(Some(s)));
        let labels = get(obj, &["spec", "template", "metadata", "labels"]);
        match selector {
            None => errs.push(FieldError::required("spec.selector", "")),
            Some(sel) if !map_matches(sel, labels) => errs.push(template_mismatch(labels)),
            Some(_) => {}
        }
        errs.extend(non_negative(obj, &["spec", "replicas"], "spec.replicas"));
        errs.extend(non_negative(
            obj,
            &["spec", "minReadySeconds"],
            "spec.minReadySeconds",
        ));
        errs.extend(validate_template(
            get(obj, &["spec", "template"]),
            "spec.template",
            &["Always"],
        ));
        // Unlike apps/v1 kinds, a ReplicationController's selector may change on update.
        let _ = old;
        errs
    }

    fn field_labels(&self) -> &'static [&'static str] {
        &["status.replicas"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_pod_gets_upstream_defaults() {
        let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "busybox",
                "ports": [{"containerPort": 80}],
                "readinessProbe": {"httpGet": {"port": 80}}}]}});
        Pod.default(&mut p);
        let s = &p["spec"];
        assert_eq!(s["restartPolicy"], "Always");
        assert_eq!(s["dnsPolicy"], "ClusterFirst");
        assert_eq!(s["terminationGracePeriodSeconds"], 30);
        assert_eq!(s["schedulerName"], "default-scheduler");
        assert_eq!(s["securityContext"], json!({}));
        assert_eq!(s["enableServiceLinks"], true);
        let c = &s["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Always");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["terminationMessagePolicy"], "File");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(
            c["readinessProbe"],
            json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
                "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(p["status"]["phase"], "Pending");
        assert_eq!(p["status"]["qosClass"], "BestEffort");
        assert!(Pod.validate(&p, None).is_empty());
    }

    #[test]
    fn pod_without_containers() {
        let mut p = json!({"metadata": {"name": "p"}, "spec": {"containers": []}});
        Pod.default(&mut p);
        let errs = Pod.validate(&p, None);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].message(), "spec.containers: Required value");
    }

    #[test]
    fn rc_selector_defaults_to_template_labels() {
        let mut rc = json!({"metadata": {"name": "r"}, "spec": {"template": {"metadata": {"labels": {"app": "a"}},
            "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}});
        ReplicationController.default(&mut rc);
        assert_eq!(rc["spec"]["selector"], json!({"app": "a"}));
        assert_eq!(rc["metadata"]["labels"], json!({"app": "a"}));
        assert!(ReplicationController.validate(&rc, None).is_empty());
    }
}
