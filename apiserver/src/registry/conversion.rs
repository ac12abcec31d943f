//! Conversion between served versions that share storage (autoscaling/v1 ↔ v2
//! HorizontalPodAutoscaler, core/v1 ↔ events.k8s.io/v1 Event).
//!
//! As upstream, what autoscaling/v1 cannot express (metrics other than CPU utilization,
//! behavior, status conditions) travels in `autoscaling.alpha.kubernetes.io/*` annotations so
//! that a v2 → v1 → v2 round trip (e.g. `kubectl edit` through v1) loses nothing. The
//! annotations hold the v2 JSON of those fields.

use api_types::catalog::ResourceInfo;
use serde_json::{json, Map, Value};

/// Annotation holding v2 spec metrics other than the CPU utilization target.
pub const HPA_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
/// Annotation holding the v2 `spec.behavior`.
pub const HPA_BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";
/// Annotation holding v2 `status.conditions`.
pub const HPA_CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
/// Annotation holding v2 status metrics other than the current CPU utilization.
pub const HPA_CURRENT_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";

/// Convert `obj` (in `from`'s version) into `to`'s version. Same version: unchanged. Pairs
/// without a conversion only get the new `apiVersion`.
pub fn convert(obj: Value, from: &ResourceInfo, to: &ResourceInfo) -> Value {
    if (from.group == to.group && from.version == to.version) || !obj.is_object() {
        return obj;
    }
    let mut out = match ((from.group, from.version), (to.group, to.version)) {
        (("autoscaling", "v2"), ("autoscaling", "v1")) => hpa_v2_to_v1(obj),
        (("autoscaling", "v1"), ("autoscaling", "v2")) => hpa_v1_to_v2(obj),
        (("", "v1"), ("events.k8s.io", "v1")) => rename_fields(obj, EVENT_FIELDS, false),
        (("events.k8s.io", "v1"), ("", "v1")) => rename_fields(obj, EVENT_FIELDS, true),
        _ => obj,
    };
    out["apiVersion"] = Value::String(to.api_version());
    out["kind"] = Value::String(to.kind.to_string());
    out
}

/// core/v1 Event field ↔ events.k8s.io/v1 Event field; the rest share their names.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

fn rename_fields(mut obj: Value, pairs: &[(&str, &str)], backwards: bool) -> Value {
    if let Some(m) = obj.as_object_mut() {
        for (a, b) in pairs {
            let (from, to) = if backwards { (b, a) } else { (a, b) };
            if let Some(v) = m.remove(*from) {
                m.insert(to.to_string(), v);
            }
        }
    }
    obj
}

fn is_cpu_resource(m: &Value) -> bool {
    m.get("type").and_then(Value::as_str) == Some("Resource")
        && m.pointer("/resource/name").and_then(Value::as_str) == Some("cpu")
}

/// Split off the first metric `pick` accepts; the rest stay in order.
fn take_first(list: Vec<Value>, pick: impl Fn(&Value) -> bool) -> (Option<Value>, Vec<Value>) {
    let mut found = None;
    let mut rest = Vec::new();
    for m in list {
        if found.is_none() && pick(&m) {
            found = Some(m);
        } else {
            rest.push(m);
        }
    }
    (found, rest)
}

fn annotations(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let meta = obj
        .as_object_mut()?
        .entry("metadata")
        .or_insert_with(|| json!({}));
    let ann = meta
        .as_object_mut()?
        .entry("annotations")
        .or_insert_with(|| json!({}));
    if ann.is_null() {
        *ann = json!({});
    }
    ann.as_object_mut()
}

fn annotate(obj: &mut Value, key: &str, v: &Value) {
    if let Some(a) = annotations(obj) {
        a.insert(key.to_string(), Value::String(v.to_string()));
    }
}

/// Remove an annotation and decode its JSON; drops an annotations map left empty.
fn take_annotation(obj: &mut Value, key: &str) -> Option<Value> {
    let meta = obj.get_mut("metadata")?.as_object_mut()?;
    let ann = meta.get_mut("annotations")?.as_object_mut()?;
    let raw = ann.remove(key)?;
    if ann.is_empty() {
        meta.remove("annotations");
    }
    serde_json::from_str(raw.as_str()?).ok()
}

fn hpa_v2_to_v1(obj: Value) -> Value {
    let mut out = json!({"metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({}))});
    let spec = obj.get("spec").cloned().unwrap_or_else(|| json!({}));
    let mut v1spec = Map::new();
    for f in ["scaleTargetRef", "minReplicas", "maxReplicas"] {
        if let Some(v) = spec.get(f) {
            v1spec.insert(f.into(), v.clone());
        }
    }
    let metrics = spec
        .get("metrics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (cpu, rest) = take_first(metrics, |m| {
        is_cpu_resource(m)
            && m.pointer("/resource/target/type").and_then(Value::as_str) == Some("Utilization")
    });
    if let Some(u) = cpu
        .as_ref()
        .and_then(|c| c.pointer("/resource/target/averageUtilization"))
    {
        v1spec.insert("targetCPUUtilizationPercentage".into(), u.clone());
    }
    if !rest.is_empty() {
        annotate(&mut out, HPA_METRICS_ANNOTATION, &Value::Array(rest));
    }
    if let Some(b) = spec.get("behavior").filter(|b| !b.is_null()) {
        annotate(&mut out, HPA_BEHAVIOR_ANNOTATION, b);
    }
    out["spec"] = Value::Object(v1spec);
    if let Some(status) = obj.get("status").filter(|s| s.is_object()) {
        let mut v1status = Map::new();
        for f in ["observedGeneration", "lastScaleTime"] {
            if let Some(v) = status.get(f) {
                v1status.insert(f.into(), v.clone());
            }
        }
        for f in ["currentReplicas", "desiredReplicas"] {
            v1status.insert(f.into(), status.get(f).cloned().unwrap_or(json!(0)));
        }
        let current = status
            .get("currentMetrics")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let (cpu, rest) = take_first(current, |m| {
            is_cpu_resource(m) && m.pointer("/resource/current/averageUtilization").is_some()
        });
        if let Some(u) = cpu
            .as_ref()
            .and_then(|c| c.pointer("/resource/current/averageUtilization"))
        {
            v1status.insert("currentCPUUtilizationPercentage".into(), u.clone());
        }
        if !rest.is_empty() {
            annotate(
                &mut out,
                HPA_CURRENT_METRICS_ANNOTATION,
                &Value::Array(rest),
            );
        }
        if let Some(c) = status
            .get("conditions")
            .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
        {
            annotate(&mut out, HPA_CONDITIONS_ANNOTATION, c);
        }
        out["status"] = Value::Object(v1status);
    }
    out
}

fn hpa_v1_to_v2(mut obj: Value) -> Value {
    let extra_metrics = take_annotation(&mut obj, HPA_METRICS_ANNOTATION);
    let behavior = take_annotation(&mut obj, HPA_BEHAVIOR_ANNOTATION);
    let extra_current = take_annotation(&mut obj, HPA_CURRENT_METRICS_ANNOTATION);
    let conditions = take_annotation(&mut obj, HPA_CONDITIONS_ANNOTATION);
    let mut out = json!({"metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({}))});
    let spec = obj.get("spec").cloned().unwrap_or_else(|| json!({}));
    let mut v2spec = Map::new();
    for f in ["scaleTargetRef", "minReplicas", "maxReplicas"] {
        if let Some(v) = spec.get(f) {
            v2spec.insert(f.into(), v.clone());
        }
    }
    let mut metrics = Vec::new();
    if let Some(u) = spec
        .get("targetCPUUtilizationPercentage")
        .filter(|u| !u.is_null())
    {
        metrics.push(json!({"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": u}}}));
    }
    metrics.extend(
        extra_metrics
            .and_then(|m| m.as_array().cloned())
            .unwrap_or_default(),
    );
    if !metrics.is_empty() {
        v2spec.insert("metrics".into(), Value::Array(metrics));
    }
    if let Some(b) = behavior {
        v2spec.insert("behavior".into(), b);
    }
    out["spec"] = Value::Object(v2spec);
    if let Some(status) = obj.get("status").filter(|s| s.is_object()) {
        let mut v2status = Map::new();
        for f in [
            "observedGeneration",
            "lastScaleTime",
            "currentReplicas",
            "desiredReplicas",
        ] {
            if let Some(v) = status.get(f) {
                v2status.insert(f.into(), v.clone());
            }
        }
        let mut current = Vec::new();
        if let Some(u) = status
            .get("currentCPUUtilizationPercentage")
            .filter(|u| !u.is_null())
        {
            current.push(json!({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": u}}}));
        }
        current.extend(
            extra_current
                .and_then(|m| m.as_array().cloned())
                .unwrap_or_default(),
        );
        if !current.is_empty() {
            v2status.insert("currentMetrics".into(), Value::Array(current));
        }
        if let Some(c) = conditions {
            v2status.insert("conditions".into(), c);
        }
        out["status"] = Value::Object(v2status);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::catalog::find;

    fn res(g: &str, v: &str, p: &str) -> &'static ResourceInfo {
        find(g, v, p).expect("served")
    }

    #[test]
    fn hpa_round_trips_through_v1() {
        let v2 = res("autoscaling", "v2", "horizontalpodautoscalers");
        let v1 = res("autoscaling", "v1", "horizontalpodautoscalers");
        let original = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1, "maxReplicas": 5,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
                    {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}},
            "status": {"currentReplicas": 2, "desiredReplicas": 3,
                "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 70}}}],
                "conditions": [{"type": "AbleToScale", "status": "True"}]}});
        let old = convert(original.clone(), v2, v1);
        assert_eq!(old["apiVersion"], "autoscaling/v1");
        assert_eq!(old["spec"]["targetCPUUtilizationPercentage"], 50);
        assert_eq!(old["status"]["currentCPUUtilizationPercentage"], 70);
        assert!(old["metadata"]["annotations"][HPA_METRICS_ANNOTATION]
            .as_str()
            .is_some_and(|s| s.contains("memory")));
        assert!((v1.typed.normalize)(&old).is_ok());
        let back = convert(old, v1, v2);
        assert_eq!(back, original);
    }

    #[test]
    fn plain_v1_hpa_becomes_a_cpu_metric() {
        let v1 = res("autoscaling", "v1", "horizontalpodautoscalers");
        let v2 = res("autoscaling", "v2", "horizontalpodautoscalers");
        let h = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3, "targetCPUUtilizationPercentage": 80}});
        let out = convert(h, v1, v2);
        assert_eq!(
            out["spec"]["metrics"][0]["resource"]["target"],
            json!({"type": "Utilization", "averageUtilization": 80})
        );
        assert!(out["metadata"].get("annotations").is_none());
        assert!((v2.typed.normalize)(&out).is_ok());
    }

    #[test]
    fn events_convert_both_ways() {
        let core = res("", "v1", "events");
        let new = res("events.k8s.io", "v1", "events");
        let ev = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
            "reason": "Pulled", "message": "pulled image", "type": "Normal",
            "source": {"component": "kubelet", "host": "n1"}, "count": 3,
            "firstTimestamp": "2024-01-01T00:00:00Z", "lastTimestamp": "2024-01-01T00:01:00Z",
            "reportingComponent": "kubelet", "reportingInstance": "n1"});
        let out = convert(ev.clone(), core, new);
        assert_eq!(out["apiVersion"], "events.k8s.io/v1");
        assert_eq!(out["regarding"]["name"], "p");
        assert_eq!(out["note"], "pulled image");
        assert_eq!(out["reportingController"], "kubelet");
        assert_eq!(out["deprecatedSource"]["component"], "kubelet");
        assert_eq!(out["deprecatedCount"], 3);
        assert_eq!(out["deprecatedFirstTimestamp"], "2024-01-01T00:00:00Z");
        assert!((new.typed.normalize)(&out).is_ok());
        assert_eq!(convert(out, new, core), ev);
    }
}
