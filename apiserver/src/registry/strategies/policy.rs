//! policy/v1 PodDisruptionBudget, scheduling.k8s.io/v1 PriorityClass and autoscaling
//! HorizontalPodAutoscaler (v2, and v1 in its own shape).

use serde_json::{json, Value};

use super::json::{get, get_i64, get_str, is_unset, set_default};
use crate::errors::FieldError;
use crate::registry::Strategy;

/// policy/v1 PodDisruptionBudget.
pub struct PodDisruptionBudget;
impl Strategy for PodDisruptionBudget {
    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let min = get(obj, &["spec", "minAvailable"]).filter(|v| !v.is_null());
        let max = get(obj, &["spec", "maxUnavailable"]).filter(|v| !v.is_null());
        if min.is_some() && max.is_some() {
            errs.push(FieldError::invalid(
                "spec",
                get(obj, &["spec"]).cloned().unwrap_or(Value::Null),
                "minAvailable and maxUnavailable cannot be both set",
            ));
        }
        for (name, v) in [("minAvailable", min), ("maxUnavailable", max)] {
            let Some(v) = v else { continue };
            let field = format!("spec.{name}");
            let n = match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()),
                _ => None,
            };
            match n {
                None => errs.push(FieldError::invalid(field, v.clone(), "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")),
                Some(n) if n < 0 => errs.push(FieldError::invalid(field, v.clone(), "must be greater than or equal to 0")),
                Some(n) if n > 100 && v.is_string() => errs.push(FieldError::invalid(field, v.clone(), "must not be greater than 100%")),
                _ => {}
            }
        }
        errs.extend(super::json::one_of(
            obj,
            &["spec", "unhealthyPodEvictionPolicy"],
            "spec.unhealthyPodEvictionPolicy",
            &["AlwaysAllow", "IfHealthyBudget"],
            false,
        ));
        if let Some(sel) = get(obj, &["spec", "selector"]).filter(|s| !s.is_null()) {
            errs.extend(super::selector::validate(sel, "spec.selector"));
        }
        errs
    }
}

/// The largest value a user-defined PriorityClass may have; above it is reserved for
/// system-cluster-critical and system-node-critical.
const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;

/// scheduling.k8s.io/v1 PriorityClass.
pub struct PriorityClass;
impl Strategy for PriorityClass {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["preemptionPolicy"], json!("PreemptLowerPriority"));
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let name = get_str(obj, &["metadata", "name"]).unwrap_or_default();
        let system = name == "system-cluster-critical" || name == "system-node-critical";
        if !system {
            if name.starts_with("system-") {
                errs.push(FieldError::invalid(
                    "metadata.name",
                    name,
                    "priority class names with 'system-' prefix are reserved",
                ));
            }
            if get_i64(obj, &["value"]).is_some_and(|v| v > HIGHEST_USER_PRIORITY) {
                errs.push(FieldError::forbidden("value", format!("maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}")));
            }
        }
        errs.extend(super::json::one_of(
            obj,
            &["preemptionPolicy"],
            "preemptionPolicy",
            &["Never", "PreemptLowerPriority"],
            false,
        ));
        if let Some(old) = old {
            if obj.get("value") != old.get("value") {
                errs.push(FieldError::forbidden(
                    "value",
                    "may not be changed in an update.",
                ));
            }
            errs.extend(super::json::immutable(
                obj,
                old,
                &["preemptionPolicy"],
                "preemptionPolicy",
            ));
        }
        errs
    }
}

/// What both HorizontalPodAutoscaler versions check: a target and a sane replica range.
fn validate_hpa_common(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for f in ["kind", "name"] {
        if get_str(obj, &["spec", "scaleTargetRef", f])
            .unwrap_or_default()
            .is_empty()
        {
            errs.push(FieldError::required(format!("spec.scaleTargetRef.{f}"), ""));
        }
    }
    let min = get_i64(obj, &["spec", "minReplicas"]).unwrap_or(1);
    if min < 1 {
        errs.push(FieldError::invalid(
            "spec.minReplicas",
            min,
            "must be greater than or equal to 1",
        ));
    }
    let max = get_i64(obj, &["spec", "maxReplicas"]).unwrap_or(0);
    if max < min {
        errs.push(FieldError::invalid(
            "spec.maxReplicas",
            max,
            "must be greater than or equal to `minReplicas`",
        ));
    }
    errs
}

/// autoscaling/v2 HorizontalPodAutoscaler.
pub struct HorizontalPodAutoscaler;
impl Strategy for HorizontalPodAutoscaler {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "minReplicas"], json!(1));
        set_default(
            obj,
            &["spec", "metrics"],
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]),
        );
        if is_unset(get(obj, &["spec", "behavior"])) {
            return;
        }
        // Upstream fills in whichever direction the user left out, and the missing parts of
        // the one they gave.
        set_default(
            obj,
            &["spec", "behavior", "scaleUp", "stabilizationWindowSeconds"],
            json!(0),
        );
        set_default(
            obj,
            &["spec", "behavior", "scaleUp", "selectPolicy"],
            json!("Max"),
        );
        set_default(
            obj,
            &["spec", "behavior", "scaleUp", "policies"],
            json!([{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
        set_default(
            obj,
            &[
                "spec",
                "behavior",
                "scaleDown",
                "stabilizationWindowSeconds",
            ],
            json!(300),
        );
        set_default(
            obj,
            &["spec", "behavior", "scaleDown", "selectPolicy"],
            json!("Max"),
        );
        set_default(
            obj,
            &["spec", "behavior", "scaleDown", "policies"],
            json!([{"type": "Percent", "value": 100, "periodSeconds": 15}]),
        );
    }

    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = validate_hpa_common(obj);
        for (i, m) in super::json::items(obj, &["spec", "metrics"])
            .iter()
            .enumerate()
        {
            errs.extend(super::json::one_of(
                m,
                &["type"],
                &format!("spec.metrics[{i}].type"),
                &[
                    "ContainerResource",
                    "External",
                    "Object",
                    "Pods",
                    "Resource",
                ],
                true,
            ));
        }
        errs
    }
}

/// autoscaling/v1 HorizontalPodAutoscaler, validated in its own shape.
pub struct HorizontalPodAutoscalerV1;
impl Strategy for HorizontalPodAutoscalerV1 {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "minReplicas"], json!(1));
    }

    fn validate(&self, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = validate_hpa_common(obj);
        if let Some(t) =
            get_i64(obj, &["spec", "targetCPUUtilizationPercentage"]).filter(|t| *t < 1)
        {
            errs.push(FieldError::invalid(
                "spec.targetCPUUtilizationPercentage",
                t,
                "must be greater than 0",
            ));
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdb_min_and_max_exclusive() {
        let pdb = json!({"spec": {"minAvailable": 1, "maxUnavailable": 1}});
        let errs = PodDisruptionBudget.validate(&pdb, None);
        assert!(errs[0]
            .message()
            .ends_with("minAvailable and maxUnavailable cannot be both set"));
    }

    #[test]
    fn hpa_defaults_and_replica_range() {
        let mut h = json!({"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 0}});
        HorizontalPodAutoscaler.default(&mut h);
        assert_eq!(h["spec"]["minReplicas"], 1);
        assert_eq!(
            h["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
        let errs = HorizontalPodAutoscaler.validate(&h, None);
        assert_eq!(
            errs[0].message(),
            "spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`"
        );
    }

    #[test]
    fn priority_class_defaults_and_limits() {
        let mut pc = json!({"metadata": {"name": "high"}, "value": 2_000_000_000i64});
        PriorityClass.default(&mut pc);
        assert_eq!(pc["preemptionPolicy"], "PreemptLowerPriority");
        assert_eq!(PriorityClass.validate(&pc, None)[0].field, "value");
    }
}
