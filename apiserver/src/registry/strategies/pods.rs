//! core/v1 Pods and the core kinds that carry a pod template (PodTemplate,
//! ReplicationController).

use serde_json::{json, Value};

use super::apps::default_template;
use super::json::{get, is_unset, non_negative};
use super::pod_spec::{
    default_pod_only, default_pod_spec, forbid_on_create, keep_only_ephemeral_containers,
    validate_ephemeral_containers_update, validate_pod_spec, validate_pod_update,
    validate_template,
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
        match old {
            // A normal update may not touch ephemeral containers either (the spec comparison
            // refuses it): they are only added through `pods/ephemeralcontainers`.
            Some(old) => {
                if let Some(old_spec) = old.get("spec") {
                    errs.extend(validate_pod_update(&spec, old_spec));
                }
            }
            None => errs.extend(forbid_on_create(&spec)),
        }
        errs
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value, subresource: Option<&str>) {
        if subresource == Some("ephemeralcontainers") {
            keep_only_ephemeral_containers(new, old);
        }
    }

    fn validate_subresource_update(
        &self,
        new: &Value,
        old: &Value,
        subresource: &str,
    ) -> Vec<FieldError> {
        match subresource {
            "ephemeralcontainers" => validate_ephemeral_containers_update(new, old),
            _ => Vec::new(),
        }
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
        assert_eq!(c["resources"], json!({}));
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

    fn running_pod() -> Value {
        let mut p = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "d", "uid": "u1", "labels": {"app": "a"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "nginx:1"}]},
            "status": {"phase": "Running"}});
        Pod.default(&mut p);
        p
    }

    #[test]
    fn ephemeral_containers_only_through_their_subresource() {
        let debugger = json!({"name": "dbg", "image": "busybox:latest", "targetContainerName": "c",
            "stdin": true, "tty": true, "resources": {}});
        // Create: refused.
        let mut created = running_pod();
        created["spec"]["ephemeralContainers"] = json!([debugger.clone()]);
        Pod.default(&mut created);
        let msgs: Vec<String> = Pod
            .validate(&created, None)
            .iter()
            .map(FieldError::message)
            .collect();
        assert_eq!(
            msgs,
            vec!["spec.ephemeralContainers: Forbidden: cannot be set on create"]
        );
        // A normal update: refused by the pod update rules.
        let old = running_pod();
        let errs = Pod.validate(&created, Some(&old));
        assert_eq!(errs.len(), 1);
        assert!(errs[0]
            .message()
            .starts_with("spec: Forbidden: pod updates may not change fields other than"));
        // Through the subresource: only the list is taken, and it is defaulted and valid.
        let res = api_types::catalog::find("", "v1", "pods").expect("pods");
        let mut new = created.clone();
        new["spec"]["containers"][0]["image"] = json!("nginx:2");
        new["metadata"]["labels"] = json!({"app": "changed"});
        new["status"]["phase"] = json!("Failed");
        let sub = Some("ephemeralcontainers");
        crate::store::meta::prepare_for_update(res, &mut new, &old, sub);
        Pod.prepare_for_update(&mut new, &old, sub);
        Pod.default(&mut new);
        assert!(Pod
            .validate_subresource_update(&new, &old, "ephemeralcontainers")
            .is_empty());
        assert_eq!(new["spec"]["containers"], old["spec"]["containers"]);
        assert_eq!(new["metadata"], old["metadata"]);
        assert_eq!(new["status"], old["status"]);
        let added = &new["spec"]["ephemeralContainers"][0];
        assert_eq!(added["name"], "dbg");
        assert_eq!(added["imagePullPolicy"], "Always");
        assert_eq!(added["terminationMessagePolicy"], "File");
        // Other subresources keep their (empty) pod validation.
        assert!(Pod
            .validate_subresource_update(&new, &old, "status")
            .is_empty());
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
