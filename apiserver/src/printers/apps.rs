//! `apps/v1`: deployments, replica sets, stateful sets, daemon sets, controller revisions.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::format::{
    age, array_at, bool_at, container_cells, format_label_selector, format_labels, int_at, name,
    opt_int_at, s, selector_string, str_at, NONE,
};
use super::{Cells, Column, Printer, AGE, CONTAINERS, IMAGES, NAME, SELECTOR};

/// The printer of an `apps` resource.
pub fn printer(plural: &str) -> Option<Printer> {
    let (columns, cells): (&'static [Column], Cells) = match plural {
        "deployments" => (DEPLOYMENT, deployment),
        "replicasets" => (REPLICASET, replicaset),
        "statefulsets" => (STATEFULSET, statefulset),
        "daemonsets" => (DAEMONSET, daemonset),
        "controllerrevisions" => (CONTROLLERREVISION, controllerrevision),
        _ => return None,
    };
    Some(Printer::new(columns, cells))
}

/// `spec.replicas`, which the API defaults to 1.
fn desired(obj: &Value) -> i64 {
    opt_int_at(obj, "/spec/replicas").unwrap_or(1)
}

const READY: Column = Column::new("Ready", "string", "Number of the pod with ready state");

const DEPLOYMENT: &[Column] = &[
    NAME,
    READY,
    Column::new("Up-to-date", "string", "Total number of updated pods."),
    Column::new("Available", "string", "Total number of available pods."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn deployment(d: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = container_cells(d.pointer("/spec/template/spec"));
    // Upstream prints the parsed selector here, not FormatLabelSelector: empty stays empty.
    let selector = match d.pointer("/spec/selector").filter(|v| !v.is_null()) {
        None => String::new(),
        Some(sel) => selector_string(sel).unwrap_or_else(|| "<invalid>".to_string()),
    };
    vec![
        name(d),
        s(format!(
            "{}/{}",
            int_at(d, "/status/readyReplicas"),
            desired(d)
        )),
        Value::from(int_at(d, "/status/updatedReplicas")),
        Value::from(int_at(d, "/status/availableReplicas")),
        age(d, now),
        names,
        images,
        s(selector),
    ]
}

const REPLICASET: &[Column] = &[
    NAME,
    Column::new("Desired", "integer", "Number of desired pods."),
    Column::new(
        "Current",
        "integer",
        "Number of most recently observed pods.",
    ),
    Column::new("Ready", "integer", "Number of ready pods."),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn replicaset(rs: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = container_cells(rs.pointer("/spec/template/spec"));
    vec![
        name(rs),
        Value::from(desired(rs)),
        Value::from(int_at(rs, "/status/replicas")),
        Value::from(int_at(rs, "/status/readyReplicas")),
        age(rs, now),
        names,
        images,
        s(format_label_selector(rs.pointer("/spec/selector"))),
    ]
}

const STATEFULSET: &[Column] = &[NAME, READY, AGE, CONTAINERS, IMAGES];

fn statefulset(sts: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = container_cells(sts.pointer("/spec/template/spec"));
    vec![
        name(sts),
        s(format!(
            "{}/{}",
            int_at(sts, "/status/readyReplicas"),
            desired(sts)
        )),
        age(sts, now),
        names,
        images,
    ]
}

const DAEMONSET: &[Column] = &[
    NAME,
    Column::new(
        "Desired",
        "integer",
        "Number of nodes that should run the daemon pod.",
    ),
    Column::new(
        "Current",
        "integer",
        "Number of nodes running at least one daemon pod.",
    ),
    Column::new(
        "Ready",
        "integer",
        "Number of nodes with a ready daemon pod.",
    ),
    Column::new(
        "Up-to-date",
        "integer",
        "Number of nodes running the updated daemon pod.",
    ),
    Column::new(
        "Available",
        "integer",
        "Number of nodes with an available daemon pod.",
    ),
    Column::new(
        "Node Selector",
        "string",
        "Selector nodes must match to run the pod.",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    SELECTOR,
];

fn daemonset(ds: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (names, images) = container_cells(ds.pointer("/spec/template/spec"));
    vec![
        name(ds),
        Value::from(int_at(ds, "/status/desiredNumberScheduled")),
        Value::from(int_at(ds, "/status/currentNumberScheduled")),
        Value::from(int_at(ds, "/status/numberReady")),
        Value::from(int_at(ds, "/status/updatedNumberScheduled")),
        Value::from(int_at(ds, "/status/numberAvailable")),
        s(format_labels(
            ds.pointer("/spec/template/spec/nodeSelector"),
        )),
        age(ds, now),
        names,
        images,
        s(format_label_selector(ds.pointer("/spec/selector"))),
    ]
}

const CONTROLLERREVISION: &[Column] = &[
    NAME,
    Column::new("Controller", "string", "Controller of the object"),
    Column::new("Revision", "string", "Revision of the state data."),
    AGE,
];

/// `kind.group/name` of the controlling owner, lower-cased kind and group.
fn controller_of(obj: &Value) -> String {
    let Some(owner) = array_at(obj, "/metadata/ownerReferences")
        .iter()
        .find(|o| bool_at(o, "/controller"))
    else {
        return NONE.to_string();
    };
    let api_version = str_at(owner, "/apiVersion");
    let group = match api_version.rsplit_once('/') {
        Some((g, _)) => g,
        None => "",
    };
    let kind = str_at(owner, "/kind");
    let name = str_at(owner, "/name");
    if kind.is_empty() && group.is_empty() {
        return name.to_string();
    }
    let group_kind = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    format!("{}/{name}", group_kind.to_lowercase())
}

fn controllerrevision(cr: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        name(cr),
        s(controller_of(cr)),
        Value::from(int_at(cr, "/revision")),
        age(cr, now),
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
    fn deployment_shows_ready_over_desired_and_wide_columns() {
        let d = json!({
            "metadata": {"name": "web", "creationTimestamp": "2025-01-01T11:00:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [
                    {"name": "nginx", "image": "nginx:1.27"},
                    {"name": "sidecar", "image": "busybox"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        });
        assert_eq!(
            deployment(&d, now()),
            vec![
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("60m"),
                json!("nginx,sidecar"),
                json!("nginx:1.27,busybox"),
                json!("app=web"),
            ]
        );
    }

    #[test]
    fn fresh_statefulset_and_daemonset() {
        let sts = json!({"metadata": {"name": "db"}, "spec": {"replicas": 2}});
        assert_eq!(statefulset(&sts, now())[1], json!("0/2"));
        assert_eq!(statefulset(&sts, now())[2], json!("<unknown>"));
        let ds = json!({"metadata": {"name": "proxy"},
            "spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}}}},
            "status": {"desiredNumberScheduled": 1, "numberReady": 1}});
        let c = daemonset(&ds, now());
        assert_eq!(
            c[1..7],
            [
                json!(1),
                json!(0),
                json!(1),
                json!(0),
                json!(0),
                json!("kubernetes.io/os=linux")
            ]
        );
        assert_eq!(c[10], json!("<none>"));
    }

    #[test]
    fn controller_revision_names_its_owner() {
        let cr = json!({"metadata": {"name": "proxy-5d8c", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "proxy", "controller": true}]},
            "revision": 1});
        assert_eq!(
            controllerrevision(&cr, now())[1..3],
            [json!("daemonset.apps/proxy"), json!(1)]
        );
    }
}
