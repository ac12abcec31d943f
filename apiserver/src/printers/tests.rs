//! Table-level behaviour: column definitions, rows, row objects and the default table.

use api_types::catalog::{find, RESOURCES};
use serde_json::json;

use super::*;

fn now() -> DateTime<Utc> {
    format::parse_time("2025-01-01T12:00:00Z").unwrap()
}

fn column_names(table: &Value) -> Vec<(String, i64)> {
    table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["priority"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn pod_table_has_upstream_columns_and_partial_metadata_rows() {
    let res = find("", "v1", "pods").unwrap();
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default",
            "creationTimestamp": "2025-01-01T11:59:00Z", "resourceVersion": "42"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}]},
        "status": {"phase": "Pending"}
    });
    let table = to_table(
        res,
        &[&pod],
        IncludeObject::Metadata,
        json!({"resourceVersion": "42"}),
        now(),
    );
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(table["metadata"]["resourceVersion"], "42");
    let names: Vec<(String, i64)> = column_names(&table);
    let expected = [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ];
    assert_eq!(
        names,
        expected
            .iter()
            .map(|(n, p)| (n.to_string(), *p))
            .collect::<Vec<_>>()
    );
    assert_eq!(table["columnDefinitions"][0]["format"], "name");
    let row = &table["rows"][0];
    assert_eq!(
        row["cells"],
        json!(["web-0", "0/1", "Pending", "0", "60s", "<none>", "<none>", "<none>", "<none>"])
    );
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(row["object"]["metadata"]["name"], "web-0");
    assert!(row.get("conditions").is_none());
}

#[test]
fn include_object_controls_the_row_object() {
    let res = find("", "v1", "configmaps").unwrap();
    let cm = json!({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}});
    let full = to_table(res, &[&cm], IncludeObject::Object, json!({}), now());
    assert_eq!(full["rows"][0]["object"], cm);
    let none = to_table(res, &[&cm], IncludeObject::None, json!({}), now());
    assert!(none["rows"][0]["object"].is_null());
}

#[test]
fn resources_without_a_printer_get_name_and_created_at() {
    let res = find("rbac.authorization.k8s.io", "v1", "clusterroles").unwrap();
    let role = json!({"metadata": {"name": "admin",
        "creationTimestamp": "2024-06-01T08:30:00Z"}});
    let table = to_table(res, &[&role], IncludeObject::Metadata, json!({}), now());
    assert_eq!(
        column_names(&table),
        vec![("Name".to_string(), 0), ("Created At".to_string(), 0)]
    );
    assert_eq!(table["columnDefinitions"][1]["type"], "date");
    assert_eq!(
        table["rows"][0]["cells"],
        json!(["admin", "2024-06-01T08:30:00Z"])
    );
}

#[test]
fn every_row_has_one_cell_per_column() {
    // A minimal object must never panic and must fill every column, for every served resource.
    let obj = json!({"metadata": {"name": "x"}});
    for res in RESOURCES {
        let table = to_table(res, &[&obj], IncludeObject::None, json!({}), now());
        let columns = table["columnDefinitions"].as_array().unwrap().len();
        let cells = table["rows"][0]["cells"].as_array().unwrap().len();
        assert_eq!(columns, cells, "{}/{}", res.group, res.plural);
    }
}

#[test]
fn finished_pods_carry_a_completed_row_condition() {
    let res = find("", "v1", "pods").unwrap();
    let pod = json!({"metadata": {"name": "job-x"}, "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": "Succeeded", "containerStatuses": [{"name": "c", "ready": false,
            "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}});
    let table = to_table(res, &[&pod], IncludeObject::None, json!({}), now());
    assert_eq!(table["rows"][0]["cells"][2], "Completed");
    assert_eq!(table["rows"][0]["conditions"][0]["type"], "Completed");
}
