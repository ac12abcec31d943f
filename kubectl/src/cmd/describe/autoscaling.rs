//! HorizontalPodAutoscalers (autoscaling/v2): target, each metric as `current / target`,
//! replica bounds, scaling behavior and conditions.

use serde_json::Value;

use super::format::{self as f, arr, i, s};
use crate::printers::tabbed::PrefixWriter;

/// The i-th current metric's `current` block for a source type, if reported.
fn current<'a>(hpa: &'a Value, index: usize, source: &str) -> Option<&'a Value> {
    arr(hpa, "/status/currentMetrics")
        .get(index)
        .map(|m| &m[source])
        .filter(|m| m.is_object())
        .map(|m| &m["current"])
}

/// A quantity field of a current-metric block, or `<unknown>`.
fn quantity_or_unknown(block: Option<&Value>, field: &str) -> String {
    block
        .and_then(|c| c.get(field))
        .filter(|v| !v.is_null())
        .map_or_else(|| "<unknown>".into(), f::scalar)
}

/// One metric line, in upstream's wording per source type.
fn metric_line(w: &mut PrefixWriter, hpa: &Value, index: usize, m: &Value) {
    let ty = s(m, "/type");
    match ty {
        "External" => {
            let name = s(m, "/external/metric/name");
            let cur = current(hpa, index, "external");
            if m.pointer("/external/target/averageValue").is_some() {
                w.write(
                    1,
                    &format!(
                        "{name:?} (target average value):\t{} / {}\n",
                        quantity_or_unknown(cur, "averageValue"),
                        f::scalar(&m["external"]["target"]["averageValue"])
                    ),
                );
            } else {
                w.write(
                    1,
                    &format!(
                        "{name:?} (target value):\t{} / {}\n",
                        quantity_or_unknown(cur, "value"),
                        f::scalar(&m["external"]["target"]["value"])
                    ),
                );
            }
        }
        "Pods" => w.write(
            1,
            &format!(
                "{:?} on pods:\t{} / {}\n",
                s(m, "/pods/metric/name"),
                quantity_or_unknown(current(hpa, index, "pods"), "averageValue"),
                f::scalar(&m["pods"]["target"]["averageValue"])
            ),
        ),
        "Object" => {
            let o = &m["object"];
            w.write(
                1,
                &format!(
                    "\"{}\" on {}/{} ",
                    s(o, "/metric/name"),
                    s(o, "/describedObject/kind"),
                    s(o, "/describedObject/name")
                ),
            );
            let cur = current(hpa, index, "object");
            if s(o, "/target/type") == "AverageValue" {
                w.write(
                    0,
                    &format!(
                        "(target average value):\t{} / {}\n",
                        quantity_or_unknown(cur, "averageValue"),
                        f::scalar(&o["target"]["averageValue"])
                    ),
                );
            } else {
                w.write(
                    0,
                    &format!(
                        "(target value):\t{} / {}\n",
                        quantity_or_unknown(cur, "value"),
                        f::scalar(&o["target"]["value"])
                    ),
                );
            }
        }
        "Resource" | "ContainerResource" => {
            let (key, head) = if ty == "Resource" {
                let r = &m["resource"];
                ("resource", format!("resource {} on pods", s(r, "/name")))
            } else {
                let r = &m["containerResource"];
                (
                    "containerResource",
                    format!(
                        "resource {} of container \"{}\" on pods",
                        s(r, "/name"),
                        s(r, "/container")
                    ),
                )
            };
            let target = &m[key]["target"];
            let cur = current(hpa, index, key);
            w.write(1, &head);
            if !target["averageValue"].is_null() {
                w.write(
                    0,
                    &format!(
                        ":\t{} / {}\n",
                        quantity_or_unknown(cur, "averageValue"),
                        f::scalar(&target["averageValue"])
                    ),
                );
            } else {
                let current = match cur.and_then(|c| c["averageUtilization"].as_i64()) {
                    Some(u) => format!(
                        "{u}% ({})",
                        cur.map_or_else(String::new, |c| f::scalar(&c["averageValue"]))
                    ),
                    None => "<unknown>".into(),
                };
                let want = target["averageUtilization"]
                    .as_i64()
                    .map_or_else(|| "<auto>".into(), |u| format!("{u}%"));
                w.write(
                    1,
                    &format!("(as a percentage of request):\t{current} / {want}\n"),
                );
            }
        }
        other => w.write(1, &format!("<unknown metric type {other:?}>\n")),
    }
}

/// Upstream's `printDirectionBehavior`.
fn direction_behavior(w: &mut PrefixWriter, direction: &str, rules: &Value) {
    if !rules.is_object() {
        return;
    }
    w.write(1, &format!("{direction}:\n"));
    if let Some(win) = rules["stabilizationWindowSeconds"].as_i64() {
        w.write(2, &format!("Stabilization Window: {win} seconds\n"));
    }
    let policies = arr(rules, "/policies");
    if !policies.is_empty() {
        let select = rules["selectPolicy"].as_str().unwrap_or("Max");
        w.write(2, &format!("Select Policy: {select}\n"));
        w.write(2, "Policies:\n");
        for p in policies {
            w.write(
                3,
                &format!(
                    "- Type: {}\tValue: {}\tPeriod: {} seconds\n",
                    s(p, "/type"),
                    i(p, "/value"),
                    i(p, "/periodSeconds")
                ),
            );
        }
    }
}

/// `kubectl describe hpa` of an autoscaling/v2 object.
pub fn describe_hpa(hpa: &Value, events: Option<&[Value]>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(hpa, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(hpa, "/metadata/namespace")),
    );
    f::labels(&mut w, "Labels", f::map(hpa, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(hpa, "/metadata/annotations"));
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            f::rfc1123z(s(hpa, "/metadata/creationTimestamp"))
        ),
    );
    let kind = s(hpa, "/spec/scaleTargetRef/kind");
    w.write(
        0,
        &format!(
            "Reference:\t{kind}/{}\n",
            s(hpa, "/spec/scaleTargetRef/name")
        ),
    );
    w.write(0, "Metrics:\t( current / target )\n");
    for (index, m) in arr(hpa, "/spec/metrics").iter().enumerate() {
        metric_line(&mut w, hpa, index, m);
    }
    let min = hpa
        .pointer("/spec/minReplicas")
        .and_then(Value::as_i64)
        .map_or_else(|| "<unset>".into(), |n| n.to_string());
    w.write(0, &format!("Min replicas:\t{min}\n"));
    w.write(
        0,
        &format!("Max replicas:\t{}\n", i(hpa, "/spec/maxReplicas")),
    );
    let behavior = &hpa["spec"]["behavior"];
    if behavior.is_object() {
        w.write(0, "Behavior:\n");
        direction_behavior(&mut w, "Scale Up", &behavior["scaleUp"]);
        direction_behavior(&mut w, "Scale Down", &behavior["scaleDown"]);
    }
    w.write(
        0,
        &format!(
            "{kind} pods:\t{} current / {} desired\n",
            i(hpa, "/status/currentReplicas"),
            i(hpa, "/status/desiredReplicas")
        ),
    );
    let conds = arr(hpa, "/status/conditions");
    if !conds.is_empty() {
        w.write(0, "Conditions:\n");
        w.write(1, "Type\tStatus\tReason\tMessage\n");
        w.write(1, "----\t------\t------\t-------\n");
        for c in conds {
            w.write(
                1,
                &format!(
                    "{}\t{}\t{}\t{}\n",
                    s(c, "/type"),
                    s(c, "/status"),
                    s(c, "/reason"),
                    s(c, "/message")
                ),
            );
        }
    }
    f::events(&mut w, events);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn utilization_metric_shows_current_and_target() {
        let hpa = json!({
            "metadata": {"name": "web", "namespace": "ns", "creationTimestamp": "2024-01-02T03:04:05Z"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]},
            "status": {"currentReplicas": 2, "desiredReplicas": 3,
                       "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 90, "averageValue": "90m"}}}]}
        });
        let out = describe_hpa(&hpa, None);
        assert!(out.contains("Metrics:                                               ( current / target )\n  resource cpu on pods  (as a percentage of request):  90% (90m) / 50%\n"), "{out}");
        assert!(
            out.contains(
                "Deployment pods:                                       2 current / 3 desired\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn missing_current_metric_is_unknown_and_behavior_is_listed() {
        let hpa = json!({
            "metadata": {"name": "web", "namespace": "ns"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                     "metrics": [{"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}],
                     "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300, "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}}}
        });
        let out = describe_hpa(&hpa, None);
        assert!(
            out.contains(
                "Metrics:            ( current / target )\n  \"qps\" on pods:    <unknown> / 10\n"
            ),
            "{out}"
        );
        assert!(out.contains("Min replicas:       <unset>\n"), "{out}");
        assert!(out.contains("Behavior:\n  Scale Down:\n    Stabilization Window: 300 seconds\n    Select Policy: Max\n    Policies:\n      - Type: Percent  Value: 100  Period: 15 seconds\n"), "{out}");
    }
}
