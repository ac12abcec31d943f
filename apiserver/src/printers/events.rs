//! Events, in both shapes: `v1` (`involvedObject`, `message`, `firstTimestamp` …) and
//! `events.k8s.io/v1` (`regarding`, `note`, `deprecatedFirstTimestamp` …). Upstream prints both
//! from one internal type, so the columns and cells are the same.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::format::{first_non_empty, int_at, name, s, since, str_at, time_at};
use super::{Cells, Column, Printer, NAME};

const COLUMNS: &[Column] = &[
    Column::new(
        "Last Seen",
        "string",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    Column::new("Type", "string", "Type of this event (Normal, Warning)."),
    Column::new(
        "Reason",
        "string",
        "The reason for the transition into the object's current status.",
    ),
    Column::new("Object", "string", "The object that this event is about."),
    Column::new(
        "Subobject",
        "string",
        "The sub-object the event is about, e.g. a container.",
    )
    .wide(),
    Column::new("Source", "string", "The component reporting this event.").wide(),
    Column::new(
        "Message",
        "string",
        "A human-readable description of the status of this operation.",
    ),
    Column::new(
        "First Seen",
        "string",
        "The time at which the event was first recorded.",
    )
    .wide(),
    Column::new(
        "Count",
        "string",
        "The number of times this event has occurred.",
    )
    .wide(),
    NAME.wide(),
];

/// Where each field lives in one API shape.
struct Shape {
    object: &'static str,
    message: &'static str,
    source: &'static str,
    first: &'static str,
    last: &'static str,
    count: &'static str,
}

const CORE: Shape = Shape {
    object: "/involvedObject",
    message: "/message",
    source: "/source",
    first: "/firstTimestamp",
    last: "/lastTimestamp",
    count: "/count",
};

const EVENTS_V1: Shape = Shape {
    object: "/regarding",
    message: "/note",
    source: "/deprecatedSource",
    first: "/deprecatedFirstTimestamp",
    last: "/deprecatedLastTimestamp",
    count: "/deprecatedCount",
};

/// The events printer of `group` (`""` or `events.k8s.io`).
pub fn printer(group: &str, plural: &str) -> Option<Printer> {
    if plural != "events" {
        return None;
    }
    let cells: Cells = match group {
        "" => |ev, now| cells(ev, now, &CORE),
        "events.k8s.io" => |ev, now| cells(ev, now, &EVENTS_V1),
        _ => return None,
    };
    Some(Printer::new(COLUMNS, cells))
}

fn cells(ev: &Value, now: DateTime<Utc>, shape: &Shape) -> Vec<Value> {
    let first = match time_at(ev, shape.first) {
        Some(t) => since(Some(t), now),
        None => since(time_at(ev, "/eventTime"), now),
    };
    let mut last = match time_at(ev, shape.last) {
        Some(t) => since(Some(t), now),
        None => first.clone(),
    };
    let mut count = int_at(ev, shape.count);
    if ev.get("series").is_some_and(Value::is_object) {
        last = since(time_at(ev, "/series/lastObservedTime"), now);
        count = int_at(ev, "/series/count");
    } else if count == 0 {
        // Singleton events of the new API carry no count.
        count = 1;
    }

    let object = ev.pointer(shape.object).unwrap_or(&Value::Null);
    let kind = str_at(object, "/kind").to_lowercase();
    let object_name = str_at(object, "/name");
    let target = if object_name.is_empty() {
        kind
    } else {
        format!("{kind}/{object_name}")
    };

    let component = first_non_empty(
        str_at(ev, &format!("{}/component", shape.source)),
        str_at(ev, "/reportingController"),
    );
    let host = first_non_empty(
        str_at(ev, &format!("{}/host", shape.source)),
        str_at(ev, "/reportingInstance"),
    );
    let source = if host.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {host}")
    };

    vec![
        s(last),
        s(str_at(ev, "/type")),
        s(str_at(ev, "/reason")),
        s(target),
        s(str_at(object, "/fieldPath")),
        s(source),
        s(str_at(ev, shape.message).trim()),
        s(first),
        Value::from(count),
        name(ev),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        super::super::format::parse_time("2025-01-01T12:00:00Z").unwrap()
    }

    #[test]
    fn core_event_from_the_kubelet() {
        let ev = json!({
            "metadata": {"name": "web-0.17a2"},
            "involvedObject": {"kind": "Pod", "name": "web-0", "fieldPath": "spec.containers{app}"},
            "reason": "Pulled", "type": "Normal", "message": "Container image pulled\n",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2025-01-01T11:50:00Z", "lastTimestamp": "2025-01-01T11:59:00Z",
            "count": 3
        });
        let p = printer("", "events").unwrap();
        assert_eq!(p.columns.len(), 10);
        assert_eq!(
            (p.cells)(&ev, now()),
            vec![
                json!("60s"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web-0"),
                json!("spec.containers{app}"),
                json!("kubelet, node-1"),
                json!("Container image pulled"),
                json!("10m"),
                json!(3),
                json!("web-0.17a2"),
            ]
        );
    }

    #[test]
    fn events_v1_shape_with_event_time_only() {
        let ev = json!({
            "metadata": {"name": "e"},
            "regarding": {"kind": "Node", "name": "node-1"},
            "reason": "Starting", "type": "Normal", "note": "Starting kubelet.",
            "eventTime": "2025-01-01T11:59:50.123456Z",
            "reportingController": "kubelet", "reportingInstance": "node-1"
        });
        let c = (printer("events.k8s.io", "events").unwrap().cells)(&ev, now());
        assert_eq!(c[0], json!("9s"));
        assert_eq!(c[3], json!("node/node-1"));
        assert_eq!(c[5], json!("kubelet, node-1"));
        assert_eq!(c[6], json!("Starting kubelet."));
        assert_eq!(c[8], json!(1));
    }
}
