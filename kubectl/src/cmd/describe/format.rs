//! The pieces every describer shares, in upstream's layout: multi-line label, annotation,
//! taint and toleration lists, the Events table, timestamps (RFC 1123 with numeric zone),
//! label selectors and quantities.

use chrono::{DateTime, Local, Utc};
use serde_json::{Map, Value};

use crate::printers::age::human_duration;
use crate::printers::tabbed::PrefixWriter;

/// Upstream never prints the last-applied-configuration annotation.
const SKIPPED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Annotations longer than this are folded.
const MAX_ANNOTATION_LEN: usize = 140;

/// A string field, empty when absent.
pub fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// An integer field, 0 when absent.
pub fn i(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

/// An array field, empty when absent.
pub fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A string map field (labels, selectors), empty when absent.
pub fn map<'a>(v: &'a Value, ptr: &str) -> Option<&'a Map<String, Value>> {
    v.pointer(ptr).and_then(Value::as_object)
}

/// Go's `%v` of a JSON scalar.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

/// `time.RFC1123Z` in the local zone, as upstream formats every timestamp.
pub fn rfc1123z(ts: &str) -> String {
    match DateTime::parse_from_rfc3339(ts) {
        Ok(t) => t
            .with_timezone(&Local)
            .format("%a, %d %b %Y %H:%M:%S %z")
            .to_string(),
        // Go formats the zero time.
        Err(_) => "Mon, 01 Jan 0001 00:00:00 +0000".into(),
    }
}

/// Upstream's `translateTimestampSince`: an age, or `<unknown>` for a missing time.
pub fn since(ts: &str) -> String {
    match DateTime::parse_from_rfc3339(ts) {
        Ok(t) => human_duration((Utc::now() - t.with_timezone(&Utc)).num_seconds()),
        Err(_) => "<unknown>".into(),
    }
}

/// `Title:\tk=v` with one pair per line, sorted; `<none>` when empty.
pub fn labels(w: &mut PrefixWriter, title: &str, labels: Option<&Map<String, Value>>) {
    labels_with_indent(w, "", title, labels);
}

/// `printLabelsMultilineWithIndent` with the standard inner tab.
pub fn labels_with_indent(
    w: &mut PrefixWriter,
    indent: &str,
    title: &str,
    labels: Option<&Map<String, Value>>,
) {
    w.write(0, &format!("{indent}{title}:\t"));
    let mut keys: Vec<&String> = labels.map(|m| m.keys().collect()).unwrap_or_default();
    if keys.is_empty() {
        w.write(0, "<none>\n");
        return;
    }
    keys.sort();
    for (n, k) in keys.iter().enumerate() {
        if n != 0 {
            w.write(0, &format!("{indent}\t"));
        }
        let v = labels
            .and_then(|m| m.get(*k))
            .map(scalar)
            .unwrap_or_default();
        w.write(0, &format!("{k}={v}\n"));
    }
}

/// Annotations, sorted, long or multi-line values folded under their key.
pub fn annotations(w: &mut PrefixWriter, title: &str, annotations: Option<&Map<String, Value>>) {
    w.write(0, &format!("{title}:\t"));
    let mut keys: Vec<&String> = annotations
        .map(|m| m.keys().filter(|k| *k != SKIPPED_ANNOTATION).collect())
        .unwrap_or_default();
    if keys.is_empty() {
        w.write(0, "<none>\n");
        return;
    }
    keys.sort();
    for (n, k) in keys.iter().enumerate() {
        if n != 0 {
            w.write(0, "\t");
        }
        let raw = annotations
            .and_then(|m| m.get(*k))
            .map(scalar)
            .unwrap_or_default();
        let value = raw.strip_suffix('\n').unwrap_or(&raw);
        if value.len() + k.len() + 2 > MAX_ANNOTATION_LEN || value.contains('\n') {
            w.write(0, &format!("{k}:\n"));
            for line in value.split('\n') {
                w.write(
                    0,
                    &format!("\t  {}\n", shorten(line, MAX_ANNOTATION_LEN - 2)),
                );
            }
        } else {
            w.write(0, &format!("{k}: {value}\n"));
        }
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    } else {
        s.to_string()
    }
}

/// A taint as `key=value:Effect`.
pub fn taint_string(t: &Value) -> String {
    let (k, v, e) = (s(t, "/key"), s(t, "/value"), s(t, "/effect"));
    match (v.is_empty(), e.is_empty()) {
        (true, true) => k.to_string(),
        (false, true) => format!("{k}={v}:"),
        (true, false) => format!("{k}:{e}"),
        (false, false) => format!("{k}={v}:{e}"),
    }
}

/// `Taints:` sorted by effect then key.
pub fn taints(w: &mut PrefixWriter, title: &str, taints: &[Value]) {
    w.write(0, &format!("{title}:\t"));
    if taints.is_empty() {
        w.write(0, "<none>\n");
        return;
    }
    let mut sorted: Vec<&Value> = taints.iter().collect();
    sorted.sort_by_key(|t| format!("{},{}", s(t, "/effect"), s(t, "/key")));
    for (n, t) in sorted.iter().enumerate() {
        if n != 0 {
            w.write(0, "\t");
        }
        w.write(0, &format!("{}\n", taint_string(t)));
    }
}

/// `Tolerations:` sorted by key, with `op=Exists` and `for Ns` as upstream writes them.
pub fn tolerations(w: &mut PrefixWriter, indent: &str, title: &str, tolerations: &[Value]) {
    w.write(0, &format!("{indent}{title}:\t"));
    if tolerations.is_empty() {
        w.write(0, "<none>\n");
        return;
    }
    let mut sorted: Vec<&Value> = tolerations.iter().collect();
    sorted.sort_by(|a, b| s(a, "/key").cmp(s(b, "/key")));
    for (n, t) in sorted.iter().enumerate() {
        if n != 0 {
            w.write(0, &format!("{indent}\t"));
        }
        let (k, v, e) = (s(t, "/key"), s(t, "/value"), s(t, "/effect"));
        let mut line = k.to_string();
        if !v.is_empty() {
            line.push_str(&format!("={v}"));
        }
        if !e.is_empty() {
            line.push_str(&format!(":{e}"));
        }
        if s(t, "/operator") == "Exists" && v.is_empty() {
            line.push_str(if k.is_empty() && e.is_empty() {
                "op=Exists"
            } else {
                " op=Exists"
            });
        }
        if let Some(secs) = t.get("tolerationSeconds").and_then(Value::as_i64) {
            line.push_str(&format!(" for {secs}s"));
        }
        w.write(0, &format!("{line}\n"));
    }
}

/// The Events section; `None` when events were not asked for (`--show-events=false`).
pub fn events(w: &mut PrefixWriter, events: Option<&[Value]>) {
    let Some(events) = events else {
        return;
    };
    if events.is_empty() {
        w.write(0, "Events:\t<none>\n");
        return;
    }
    let mut sorted: Vec<&Value> = events.iter().collect();
    // Upstream sorts by lastTimestamp (stable), events without one first.
    sorted.sort_by_key(|e| event_last_time(e));
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.write(1, "----\t------\t----\t----\t-------\n");
    for e in sorted {
        let first = if s(e, "/eventTime").is_empty() {
            since(s(e, "/firstTimestamp"))
        } else {
            since(s(e, "/eventTime"))
        };
        let count = i(e, "/count");
        let interval = if e.get("series").is_some_and(|v| !v.is_null()) {
            format!(
                "{} (x{} over {first})",
                since(s(e, "/series/lastObservedTime")),
                i(e, "/series/count")
            )
        } else if count > 1 {
            format!("{} (x{count} over {first})", since(s(e, "/lastTimestamp")))
        } else {
            first
        };
        let mut source = s(e, "/source/component");
        if source.is_empty() {
            source = s(e, "/reportingComponent");
        }
        // kubectl 1.32 prints the message without the involved field path.
        let message = s(e, "/message").trim();
        w.write(
            1,
            &format!(
                "{}\t{}\t{interval}\t{source}\t{message}\n",
                s(e, "/type"),
                s(e, "/reason")
            ),
        );
    }
}

fn event_last_time(e: &Value) -> i64 {
    DateTime::parse_from_rfc3339(s(e, "/lastTimestamp"))
        .map(|t| t.timestamp_nanos_opt().unwrap_or(0))
        .unwrap_or(i64::MIN)
}

/// A label selector as `labels.Selector.String()`: requirements sorted by key; empty when
/// the selector selects everything.
pub fn selector_string(sel: &Value) -> String {
    let mut reqs: Vec<(String, String)> = Vec::new();
    for (k, v) in sel["matchLabels"].as_object().into_iter().flatten() {
        reqs.push((k.clone(), format!("{k}={}", scalar(v))));
    }
    for e in sel["matchExpressions"].as_array().into_iter().flatten() {
        let key = s(e, "/key").to_string();
        let mut values: Vec<String> = arr(e, "/values").iter().map(scalar).collect();
        values.sort();
        let text = match s(e, "/operator") {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.clone(),
            "DoesNotExist" => format!("!{key}"),
            _ => continue,
        };
        reqs.push((key, text));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    reqs.into_iter().map(|r| r.1).collect::<Vec<_>>().join(",")
}

/// `metav1.FormatLabelSelector`: like `selector_string` but `<none>` when empty.
pub fn format_label_selector(sel: &Value) -> String {
    let s = selector_string(sel);
    if s.is_empty() {
        "<none>".into()
    } else {
        s
    }
}

/// `labels.FormatLabels` of a plain map: `k=v,k=v` sorted, `<none>` when empty.
pub fn format_labels(m: Option<&Map<String, Value>>) -> String {
    let mut pairs: Vec<String> = m
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", scalar(v)))
        .collect();
    if pairs.is_empty() {
        return "<none>".into();
    }
    pairs.sort();
    pairs.join(",")
}

/// `Kind/name` of the controlling owner, if any.
pub fn controlled_by(obj: &Value) -> Option<String> {
    arr(obj, "/metadata/ownerReferences")
        .iter()
        .find(|o| o["controller"].as_bool() == Some(true))
        .map(|o| format!("{}/{}", s(o, "/kind"), s(o, "/name")))
}

/// A quantity in milli-units (0 when absent or invalid).
pub fn milli(q: Option<&Value>) -> i128 {
    q.and_then(Value::as_str)
        .and_then(common::quantity::parse_milli)
        .unwrap_or(0)
}

/// A CPU amount in milli-cores the way `Quantity.String()` prints a sum (`250m`, `1`).
pub fn cpu_string(milli: i128) -> String {
    if milli % 1000 == 0 {
        format!("{}", milli / 1000)
    } else {
        format!("{milli}m")
    }
}

/// A byte amount the way `Quantity.String()` prints a binary-SI sum (`64Mi`, `0`).
pub fn bytes_string(bytes: i128) -> String {
    if bytes == 0 {
        return "0".into();
    }
    for (suffix, shift) in [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ] {
        let unit = 1i128 << shift;
        if bytes % unit == 0 {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(f: impl FnOnce(&mut PrefixWriter)) -> String {
        let mut w = PrefixWriter::new();
        f(&mut w);
        w.finish()
    }

    #[test]
    fn labels_and_annotations_layout() {
        let l = json!({"b": "2", "a": "1"});
        assert_eq!(
            render(|w| labels(w, "Labels", l.as_object())),
            "Labels:  a=1\n         b=2\n"
        );
        assert_eq!(render(|w| labels(w, "Labels", None)), "Labels:  <none>\n");
        let a = json!({"note": "x", SKIPPED_ANNOTATION: "{}", "multi": "one\ntwo\n"});
        assert_eq!(
            render(|w| annotations(w, "Annotations", a.as_object())),
            "Annotations:  multi:\n                one\n                two\n              note: x\n"
        );
    }

    #[test]
    fn tolerations_and_taints() {
        let t = json!([
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "a", "operator": "Equal", "value": "b", "effect": "NoSchedule"},
            {"operator": "Exists"}
        ]);
        assert_eq!(
            render(|w| tolerations(w, "", "Tolerations", t.as_array().unwrap())),
            "Tolerations:  op=Exists\n              a=b:NoSchedule\n              node.kubernetes.io/unreachable:NoExecute op=Exists for 300s\n"
        );
        let n = json!([{"key": "z", "effect": "NoSchedule"}, {"key": "a", "value": "1", "effect": "NoExecute"}]);
        assert_eq!(
            render(|w| taints(w, "Taints", n.as_array().unwrap())),
            "Taints:  a=1:NoExecute\n         z:NoSchedule\n"
        );
    }

    #[test]
    fn selectors_print_like_apimachinery() {
        let sel = json!({"matchLabels": {"tier": "x", "app": "web"},
                         "matchExpressions": [{"key": "env", "operator": "In", "values": ["b", "a"]}]});
        assert_eq!(selector_string(&sel), "app=web,env in (a,b),tier=x");
        assert_eq!(format_label_selector(&json!({})), "<none>");
    }

    #[test]
    fn events_table_and_none() {
        assert_eq!(render(|w| events(w, Some(&[]))), "Events:  <none>\n");
        assert_eq!(render(|w| events(w, None)), "");
        let e = json!([{"type": "Normal", "reason": "Scheduled", "message": "done ",
                        "source": {"component": "default-scheduler"},
                        "involvedObject": {"fieldPath": "spec.containers{c}"}}]);
        assert_eq!(
            render(|w| events(w, Some(e.as_array().unwrap()))),
            "Events:\n  Type    Reason     Age        From               Message\n  ----    ------     ----       ----               -------\n  Normal  Scheduled  <unknown>  default-scheduler  done\n"
        );
    }

    #[test]
    fn quantities_print_canonically() {
        assert_eq!(cpu_string(250), "250m");
        assert_eq!(cpu_string(2000), "2");
        assert_eq!(bytes_string(64 << 20), "64Mi");
        assert_eq!(bytes_string(1000), "1000");
        assert_eq!(milli(Some(&json!("100m"))), 100);
    }
}
