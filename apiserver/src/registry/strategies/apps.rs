//! apps/v1 workloads: Deployment, ReplicaSet, StatefulSet, DaemonSet (upstream
//! `pkg/apis/apps/v1/defaults.go` and `pkg/apis/apps/validation`).

use serde_json::{json, Value};

use super::json::{get, get_mut, get_str, immutable, non_negative, one_of, set_default};
use super::pod_spec::{default_pod_spec, default_pvc_spec, validate_template};
use super::selector::validate_workload;
use crate::errors::FieldError;
use crate::registry::Strategy;

/// Apply pod spec defaults to the template at `path` (e.g. `spec.template`).
pub(crate) fn default_template(obj: &mut Value, path: &[&str]) {
    let mut p: Vec<&str> = path.to_vec();
    p.push("spec");
    if let Some(spec) = get_mut(obj, &p).filter(|s| s.is_object()) {
        default_pod_spec(spec);
    }
}

/// What every replicated workload checks: selector, template (restartPolicy Always),
/// non-negative counters, and on update an immutable selector.
fn validate_replicated(obj: &Value, old: Option<&Value>, kind_word: &str) -> Vec<FieldError> {
    let mut errs = validate_workload(obj, kind_word);
    errs.extend(validate_template(
        get(obj, &["spec", "template"]),
        "spec.template",
        &["Always"],
    ));
    for field in ["replicas", "minReadySeconds", "revisionHistoryLimit"] {
        errs.extend(non_negative(
            obj,
            &["spec", field],
            &format!("spec.{field}"),
        ));
    }
    if let Some(old) = old {
        errs.extend(immutable(obj, old, &["spec", "selector"], "spec.selector"));
    }
    errs
}

/// IntOrString as a percentage (`"25%"` → 25) or an absolute number.
fn int_or_percent(v: &Value) -> Option<(i64, bool)> {
    match v {
        Value::Number(n) => n.as_i64().map(|n| (n, false)),
        Value::String(s) => match s.strip_suffix('%') {
            Some(p) => p.parse().ok().map(|n| (n, true)),
            None => s.parse().ok().map(|n| (n, false)),
        },
        _ => None,
    }
}

/// maxUnavailable/maxSurge rules shared by Deployments and DaemonSets.
fn validate_rolling(ru: &Value, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let unavailable = ru.get("maxUnavailable").filter(|v| !v.is_null());
    let surge = ru.get("maxSurge").filter(|v| !v.is_null());
    for (name, v) in [("maxUnavailable", unavailable), ("maxSurge", surge)] {
        let Some(v) = v else { continue };
        let field = format!("{path}.{name}");
        match int_or_percent(v) {
            None => errs.push(FieldError::invalid(field, v.clone(), "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")),
            Some((n, _)) if n < 0 => errs.push(FieldError::invalid(field, v.clone(), "must be greater than or equal to 0")),
            Some((n, true)) if n > 100 && name == "maxUnavailable" => errs.push(FieldError::invalid(field, v.clone(), "must not be greater than 100%")),
            _ => {}
        }
    }
    let zero = |v: Option<&Value>| v.and_then(int_or_percent).is_none_or(|(n, _)| n == 0);
    if zero(unavailable) && zero(surge) {
        errs.push(FieldError::invalid(
            format!("{path}.maxUnavailable"),
            unavailable.cloned().unwrap_or(json!(0)),
            "may not be 0 when `maxSurge` is 0",
        ));
    }
    errs
}

/// apps/v1 Deployment.
pub struct Deployment;
impl Strategy for Deployment {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "replicas"], json!(1));
        set_default(obj, &["spec", "strategy", "type"], json!("RollingUpdate"));
        if get_str(obj, &["spec", "strategy", "type"]) == Some("RollingUpdate") {
            set_default(
                obj,
                &["spec", "strategy", "rollingUpdate", "maxUnavailable"],
                json!("25%"),
            );
            set_default(
                obj,
                &["spec", "strategy", "rollingUpdate", "maxSurge"],
                json!("25%"),
            );
        }
        set_default(obj, &["spec", "revisionHistoryLimit"], json!(10));
        set_default(obj, &["spec", "progressDeadlineSeconds"], json!(600));
        default_template(obj, &["spec", "template"]);
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = validate_replicated(obj, old, "deployment");
        errs.extend(one_of(
            obj,
            &["spec", "strategy", "type"],
            "spec.strategy.type",
            &["Recreate", "RollingUpdate"],
            false,
        ));
        let ru = get(obj, &["spec", "strategy", "rollingUpdate"]).filter(|v| !v.is_null());
        match (get_str(obj, &["spec", "strategy", "type"]), ru) {
            (Some("Recreate"), Some(_)) => errs.push(FieldError::forbidden(
                "spec.strategy.rollingUpdate",
                "may not be specified when strategy `type` is 'Recreate'",
            )),
            (Some("RollingUpdate"), Some(ru)) => {
                errs.extend(validate_rolling(ru, "spec.strategy.rollingUpdate"))
            }
            _ => {}
        }
        if let Some(deadline) =
            get(obj, &["spec", "progressDeadlineSeconds"]).and_then(Value::as_i64)
        {
            let min_ready = get(obj, &["spec", "minReadySeconds"])
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if deadline <= min_ready {
                errs.push(FieldError::invalid(
                    "spec.progressDeadlineSeconds",
                    deadline,
                    "must be greater than minReadySeconds",
                ));
            }
        }
        errs
    }
}

/// apps/v1 ReplicaSet.
pub struct ReplicaSet;
impl Strategy for ReplicaSet {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "replicas"], json!(1));
        default_template(obj, &["spec", "template"]);
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        validate_replicated(obj, old, "replicaset")
    }

    fn field_labels(&self) -> &'static [&'static str] {
        &["status.replicas"]
    }
}

/// The StatefulSet as its pods will be: each volume claim template becomes a volume of the
/// pod template, so containers may mount the claims by name (upstream validates the
/// template's mounts against volumes and claim templates together).
fn with_claim_volumes(sts: &Value) -> Value {
    let claims: Vec<Value> = get(sts, &["spec", "volumeClaimTemplates"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|pvc| get_str(pvc, &["metadata", "name"]))
        .map(|name| json!({"name": name, "persistentVolumeClaim": {"claimName": name}}))
        .collect();
    let mut sts = sts.clone();
    if claims.is_empty() {
        return sts;
    }
    if let Some(spec) = sts
        .pointer_mut("/spec/template/spec")
        .and_then(Value::as_object_mut)
    {
        let volumes = spec.entry("volumes").or_insert_with(|| json!([]));
        if let Some(list) = volumes.as_array_mut() {
            list.extend(claims);
        }
    }
    sts
}

/// Upstream's message for StatefulSet spec changes outside the mutable fields.
const STATEFULSET_UPDATE_MESSAGE: &str = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

/// apps/v1 StatefulSet.
pub struct StatefulSet;
impl Strategy for StatefulSet {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "replicas"], json!(1));
        set_default(obj, &["spec", "podManagementPolicy"], json!("OrderedReady"));
        set_default(
            obj,
            &["spec", "updateStrategy", "type"],
            json!("RollingUpdate"),
        );
        if get_str(obj, &["spec", "updateStrategy", "type"]) == Some("RollingUpdate") {
            set_default(
                obj,
                &["spec", "updateStrategy", "rollingUpdate", "partition"],
                json!(0),
            );
        }
        set_default(obj, &["spec", "revisionHistoryLimit"], json!(10));
        set_default(
            obj,
            &[
                "spec",
                "persistentVolumeClaimRetentionPolicy",
                "whenDeleted",
            ],
            json!("Retain"),
        );
        set_default(
            obj,
            &["spec", "persistentVolumeClaimRetentionPolicy", "whenScaled"],
            json!("Retain"),
        );
        default_template(obj, &["spec", "template"]);
        super::json::for_each_mut(obj, &["spec", "volumeClaimTemplates"], |pvc| {
            if let Some(spec) = pvc.get_mut("spec").filter(|s| s.is_object()) {
                default_pvc_spec(spec);
            }
            set_default(pvc, &["status", "phase"], json!("Pending"));
        });
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = validate_replicated(&with_claim_volumes(obj), None, "statefulset");
        errs.extend(one_of(
            obj,
            &["spec", "podManagementPolicy"],
            "spec.podManagementPolicy",
            &["OrderedReady", "Parallel"],
            false,
        ));
        errs.extend(one_of(
            obj,
            &["spec", "updateStrategy", "type"],
            "spec.updateStrategy.type",
            &["OnDelete", "RollingUpdate"],
            false,
        ));
        errs.extend(non_negative(
            obj,
            &["spec", "updateStrategy", "rollingUpdate", "partition"],
            "spec.updateStrategy.rollingUpdate.partition",
        ));
        for field in ["whenDeleted", "whenScaled"] {
            errs.extend(one_of(
                obj,
                &["spec", "persistentVolumeClaimRetentionPolicy", field],
                &format!("spec.persistentVolumeClaimRetentionPolicy.{field}"),
                &["Retain", "Delete"],
                false,
            ));
        }
        if let Some(old) = old {
            let mask = |v: &Value| {
                let mut spec = v.get("spec").cloned().unwrap_or(Value::Null);
                if let Some(m) = spec.as_object_mut() {
                    for f in [
                        "replicas",
                        "ordinals",
                        "template",
                        "updateStrategy",
                        "persistentVolumeClaimRetentionPolicy",
                        "minReadySeconds",
                    ] {
                        m.remove(f);
                    }
                }
                spec
            };
            if mask(obj) != mask(old) {
                errs.push(FieldError::forbidden("spec", STATEFULSET_UPDATE_MESSAGE));
            }
        }
        errs
    }
}

/// apps/v1 DaemonSet.
pub struct DaemonSet;
impl Strategy for DaemonSet {
    fn default(&self, obj: &mut Value) {
        set_default(
            obj,
            &["spec", "updateStrategy", "type"],
            json!("RollingUpdate"),
        );
        if get_str(obj, &["spec", "updateStrategy", "type"]) == Some("RollingUpdate") {
            set_default(
                obj,
                &["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"],
                json!(1),
            );
            set_default(
                obj,
                &["spec", "updateStrategy", "rollingUpdate", "maxSurge"],
                json!(0),
            );
        }
        set_default(obj, &["spec", "revisionHistoryLimit"], json!(10));
        default_template(obj, &["spec", "template"]);
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = validate_replicated(obj, old, "daemonset");
        errs.extend(one_of(
            obj,
            &["spec", "updateStrategy", "type"],
            "spec.updateStrategy.type",
            &["OnDelete", "RollingUpdate"],
            false,
        ));
        if get_str(obj, &["spec", "updateStrategy", "type"]) == Some("RollingUpdate") {
            if let Some(ru) =
                get(obj, &["spec", "updateStrategy", "rollingUpdate"]).filter(|v| !v.is_null())
            {
                errs.extend(validate_rolling(ru, "spec.updateStrategy.rollingUpdate"));
            }
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(selector: Value, labels: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": selector, "template": {"metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}})
    }

    #[test]
    fn minimal_deployment_gets_upstream_defaults() {
        let mut d = deployment(
            json!({"matchLabels": {"app": "web"}}),
            json!({"app": "web"}),
        );
        Deployment.default(&mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["schedulerName"], "default-scheduler");
        assert_eq!(pod["containers"][0]["imagePullPolicy"], "IfNotPresent");
        // Templates do not get Pod-only defaults.
        assert!(pod.get("enableServiceLinks").is_none());
        assert!(Deployment.validate(&d, None).is_empty());
    }

    #[test]
    fn mismatched_selector_is_reported_on_template_labels() {
        let mut d = deployment(
            json!({"matchLabels": {"app": "web"}}),
            json!({"app": "api"}),
        );
        Deployment.default(&mut d);
        let errs = Deployment.validate(&d, None);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.template.metadata.labels");
        assert_eq!(
            errs[0].message(),
            "spec.template.metadata.labels: Invalid value: {\"app\":\"api\"}: `selector` does not match template `labels`"
        );
    }

    #[test]
    fn selector_is_immutable() {
        let mut old = deployment(
            json!({"matchLabels": {"app": "web"}}),
            json!({"app": "web", "v": "2"}),
        );
        Deployment.default(&mut old);
        let mut new = deployment(
            json!({"matchLabels": {"app": "web", "v": "2"}}),
            json!({"app": "web", "v": "2"}),
        );
        Deployment.default(&mut new);
        let errs = Deployment.validate(&new, Some(&old));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.selector");
        assert!(errs[0].message().ends_with("field is immutable"));
    }

    #[test]
    fn deployment_template_must_restart_always_and_replicas_non_negative() {
        let mut d = deployment(
            json!({"matchLabels": {"app": "web"}}),
            json!({"app": "web"}),
        );
        d["spec"]["replicas"] = json!(-1);
        d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
        Deployment.default(&mut d);
        let msgs: Vec<String> = Deployment
            .validate(&d, None)
            .iter()
            .map(FieldError::message)
            .collect();
        assert!(msgs.contains(
            &"spec.replicas: Invalid value: -1: must be greater than or equal to 0".to_string()
        ));
        assert!(msgs.contains(&"spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"".to_string()));
    }

    #[test]
    fn statefulset_containers_may_mount_their_claim_templates() {
        let mut s = json!({
            "metadata": {"name": "db"},
            "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}},
                                  "spec": {"containers": [{"name": "db", "image": "busybox",
                                           "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"},
                        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}
        });
        StatefulSet.default(&mut s);
        let errs = StatefulSet.validate(&s, None);
        assert!(errs.is_empty(), "{errs:?}");
        s["spec"]["volumeClaimTemplates"] = json!([]);
        let errs = StatefulSet.validate(&s, None);
        assert!(
            errs.iter()
                .any(|e| e.field == "spec.template.spec.containers[0].volumeMounts[0].name"),
            "{errs:?}"
        );
    }

    #[test]
    fn statefulset_defaults_and_forbidden_update() {
        let mut s = deployment(json!({"matchLabels": {"app": "db"}}), json!({"app": "db"}));
        s["spec"]["serviceName"] = json!("db");
        s["spec"]["volumeClaimTemplates"] =
            json!([{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]);
        StatefulSet.default(&mut s);
        assert_eq!(
            s["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(s["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            s["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"],
            "Filesystem"
        );
        let mut changed = s.clone();
        changed["spec"]["serviceName"] = json!("other");
        let errs = StatefulSet.validate(&changed, Some(&s));
        assert_eq!(
            errs[0].message(),
            format!("spec: Forbidden: {STATEFULSET_UPDATE_MESSAGE}")
        );
    }

    #[test]
    fn daemonset_defaults() {
        let mut d = deployment(
            json!({"matchLabels": {"app": "agent"}}),
            json!({"app": "agent"}),
        );
        DaemonSet.default(&mut d);
        assert_eq!(
            d["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        assert!(DaemonSet.validate(&d, None).is_empty());
    }
}
