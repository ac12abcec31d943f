//! Shared cell formatting: ages, label maps, label selectors, lists with "+ N more...", and small
//! accessors over `serde_json::Value` that treat missing fields as their Go zero value, the way
//! upstream's printers see an internal object.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Placeholder upstream prints for an absent value.
pub const NONE: &str = "<none>";
/// Placeholder upstream prints for an unknown value (e.g. a zero timestamp).
pub const UNKNOWN: &str = "<unknown>";
/// Placeholder upstream prints for an optional field that is not set.
pub const UNSET: &str = "<unset>";

/// A string field, `""` when missing or not a string (Go's zero value).
pub fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// An integer field, `0` when missing (Go's zero value).
pub fn int_at(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// An optional integer field.
pub fn opt_int_at(obj: &Value, pointer: &str) -> Option<i64> {
    obj.pointer(pointer).and_then(Value::as_i64)
}

/// A boolean field, `false` when missing.
pub fn bool_at(obj: &Value, pointer: &str) -> bool {
    obj.pointer(pointer)
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// An array field, empty when missing.
pub fn array_at<'a>(obj: &'a Value, pointer: &str) -> &'a [Value] {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Number of entries of a map or array field, `0` when missing.
pub fn len_at(obj: &Value, pointer: &str) -> i64 {
    match obj.pointer(pointer) {
        Some(Value::Object(m)) => m.len() as i64,
        Some(Value::Array(a)) => a.len() as i64,
        _ => 0,
    }
}

/// `metadata.name`.
pub fn name(obj: &Value) -> Value {
    Value::String(str_at(obj, "/metadata/name").to_string())
}

/// Whether `metadata.deletionTimestamp` is set.
pub fn is_deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// Parse an RFC 3339 timestamp (`metav1.Time` or `metav1.MicroTime`).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A timestamp field, `None` when missing or unparsable (Go's zero time).
pub fn time_at(obj: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    parse_time(str_at(obj, pointer))
}

/// Upstream's `duration.HumanDuration`: about two significant figures ("45s", "3m2s", "5h",
/// "3d4h", "2y30d"), `0s` for up to two seconds of clock skew, `<invalid>` beyond that.
pub fn human_duration(d: chrono::Duration) -> String {
    common::duration::human(d.num_seconds())
}

/// Time since `t` as upstream's `translateTimestampSince`: `<unknown>` for a zero time.
pub fn since(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match t {
        Some(t) => human_duration(now - t),
        None => UNKNOWN.to_string(),
    }
}

/// Age of the timestamp at `pointer`.
pub fn since_at(obj: &Value, pointer: &str, now: DateTime<Utc>) -> String {
    since(time_at(obj, pointer), now)
}

/// The AGE cell: time since `metadata.creationTimestamp`.
pub fn age(obj: &Value, now: DateTime<Utc>) -> Value {
    Value::String(since_at(obj, "/metadata/creationTimestamp", now))
}

/// A string map as `k1=v1,k2=v2`, keys sorted, `<none>` when empty (`labels.FormatLabels`).
pub fn format_labels(map: Option<&Value>) -> String {
    let Some(Value::Object(m)) = map else {
        return NONE.to_string();
    };
    if m.is_empty() {
        return NONE.to_string();
    }
    let mut pairs: Vec<(&String, &str)> = m
        .iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or("")))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A `LabelSelector` rendered as a selector string (`app=web,tier in (a,b),!legacy`), with
/// requirements sorted by key. `None` for a selector that cannot be converted.
pub fn selector_string(sel: &Value) -> Option<String> {
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(Value::Object(labels)) = sel.get("matchLabels") {
        for (k, v) in labels {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
        }
    }
    for expr in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let key = str_at(expr, "/key").to_string();
        let mut values: Vec<&str> = array_at(expr, "/values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        values.dedup();
        let text = match str_at(expr, "/operator") {
            "In" if !values.is_empty() => format!("{key} in ({})", values.join(",")),
            "NotIn" if !values.is_empty() => format!("{key} notin ({})", values.join(",")),
            "Exists" if values.is_empty() => key.clone(),
            "DoesNotExist" if values.is_empty() => format!("!{key}"),
            _ => return None,
        };
        reqs.push((key, text));
    }
    // Stable sort by key only, as upstream sorts requirements.
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    Some(
        reqs.into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// `metav1.FormatLabelSelector`: `<none>` for a missing or empty selector, `<error>` for an
/// invalid one.
pub fn format_label_selector(sel: Option<&Value>) -> String {
    let Some(sel) = sel.filter(|s| !s.is_null()) else {
        return NONE.to_string();
    };
    match selector_string(sel) {
        None => "<error>".to_string(),
        Some(s) if s.is_empty() => NONE.to_string(),
        Some(s) => s,
    }
}

/// Container names and images of a pod spec, each comma-joined (upstream's
/// `layoutContainerCells`).
pub fn container_cells(pod_spec: Option<&Value>) -> (Value, Value) {
    let containers = pod_spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, "/image")).collect();
    (
        Value::String(names.join(",")),
        Value::String(images.join(",")),
    )
}

/// The first `max` items comma-joined, then ` + N more...`; `<unset>` when empty (upstream's
/// `listWithMoreString`).
pub fn list_with_more(items: &[String], max: usize) -> String {
    if items.is_empty() {
        return UNSET.to_string();
    }
    let shown = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(",");
    if items.len() > max {
        format!("{shown} + {} more...", items.len() - max)
    } else {
        shown
    }
}

/// `True`/`False`/`<unset>` for an optional boolean (upstream's `printBoolPtr`).
pub fn bool_ptr(v: Option<&Value>) -> String {
    match v.and_then(Value::as_bool) {
        Some(true) => "True".to_string(),
        Some(false) => "False".to_string(),
        None => UNSET.to_string(),
    }
}

/// An `IntOrString` as text (`1`, `50%`).
pub fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A resource quantity as stored, `0` when missing (a zero `Quantity`).
pub fn quantity(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_string(),
    }
}

/// Return the first non-empty string.
pub fn first_non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() {
        b
    } else {
        a
    }
}

/// A string cell.
pub fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

/// `v` or `<none>` when empty.
pub fn or_none(v: &str) -> Value {
    if v.is_empty() {
        s(NONE)
    } else {
        s(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use serde_json::json;

    #[test]
    fn human_duration_follows_upstream_thresholds() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (45, "45s"),
            (119, "119s"),
            (120, "2m"),
            (182, "3m2s"),
            (600, "10m"),
            (179 * 60 + 59, "179m"),
            (3 * 3600, "3h"),
            (5 * 3600 + 7 * 60, "5h7m"),
            (8 * 3600 + 30 * 60, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (3 * 86400 + 4 * 3600, "3d4h"),
            (10 * 86400, "10d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            (760 * 86400, "2y30d"),
            (9 * 365 * 86400, "9y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(Duration::seconds(secs)), want, "{secs}s");
        }
    }

    #[test]
    fn labels_and_selectors_print_like_upstream() {
        assert_eq!(format_labels(Some(&json!({"b": "2", "a": "1"}))), "a=1,b=2");
        assert_eq!(format_labels(Some(&json!({}))), "<none>");
        assert_eq!(format_labels(None), "<none>");
        let sel = json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["z", "a"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "env", "operator": "Exists"}
            ]
        });
        assert_eq!(
            format_label_selector(Some(&sel)),
            "app=web,env,!legacy,tier in (a,z)"
        );
        assert_eq!(format_label_selector(Some(&json!({}))), "<none>");
        assert_eq!(format_label_selector(None), "<none>");
        let bad = json!({"matchExpressions": [{"key": "x", "operator": "In"}]});
        assert_eq!(format_label_selector(Some(&bad)), "<error>");
    }

    #[test]
    fn lists_are_truncated_with_a_count() {
        let items: Vec<String> = (1..=5).map(|i| format!("10.0.0.{i}")).collect();
        assert_eq!(
            list_with_more(&items, 3),
            "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more..."
        );
        assert_eq!(list_with_more(&[], 3), "<unset>");
    }
}
