//! Printing of the server-side `meta.k8s.io/v1 Table`, decorated as upstream does: priority-0
//! columns only unless wide, a NAMESPACE column for `-A`, `-L` label columns, `--show-labels`,
//! and `kind.group/` prefixes on names when several types are printed together.

use serde_json::Value;

/// How to decorate a table.
#[derive(Debug, Clone, Default)]
pub struct TableOptions {
    /// `-o wide`: include columns with priority > 0.
    pub wide: bool,
    /// `-A`: a leading NAMESPACE column.
    pub with_namespace: bool,
    /// `--show-labels`
    pub show_labels: bool,
    /// `-L key,…`
    pub label_columns: Vec<String>,
    /// `kind.group` to prefix names with (`pod`, `deployment.apps`).
    pub kind_prefix: Option<String>,
}

/// Header cells for a table.
pub fn header(table: &Value, opts: &TableOptions) -> Vec<String> {
    let mut out = Vec::new();
    if opts.with_namespace {
        out.push("NAMESPACE".to_string());
    }
    for col in visible_columns(table, opts) {
        out.push(col["name"].as_str().unwrap_or("").to_uppercase());
    }
    for l in &opts.label_columns {
        out.push(l.rsplit('/').next().unwrap_or(l).to_uppercase());
    }
    if opts.show_labels {
        out.push("LABELS".to_string());
    }
    out
}

fn visible_columns<'a>(table: &'a Value, opts: &TableOptions) -> Vec<&'a Value> {
    table["columnDefinitions"]
        .as_array()
        .map(|cols| {
            cols.iter()
                .filter(|c| opts.wide || c["priority"].as_i64().unwrap_or(0) == 0)
                .collect()
        })
        .unwrap_or_default()
}

/// Cells of every row of a table.
pub fn rows(table: &Value, opts: &TableOptions) -> Vec<Vec<String>> {
    let cols = table["columnDefinitions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for row in table["rows"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        out.push(row_cells(row, &cols, opts));
    }
    out
}

/// Cells of one row (also used for watch events).
pub fn row_cells(row: &Value, cols: &[Value], opts: &TableOptions) -> Vec<String> {
    let meta = &row["object"]["metadata"];
    let mut cells = Vec::new();
    if opts.with_namespace {
        cells.push(meta["namespace"].as_str().unwrap_or("").to_string());
    }
    let values = row["cells"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut first_shown = true;
    for (i, col) in cols.iter().enumerate() {
        if !opts.wide && col["priority"].as_i64().unwrap_or(0) != 0 {
            continue;
        }
        let mut text = values.get(i).map(cell_text).unwrap_or_default();
        if first_shown {
            if let Some(prefix) = &opts.kind_prefix {
                text = format!("{prefix}/{text}");
            }
        }
        first_shown = false;
        cells.push(text);
    }
    let labels = meta["labels"].as_object();
    for key in &opts.label_columns {
        cells.push(
            labels
                .and_then(|l| l.get(key))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        );
    }
    if opts.show_labels {
        cells.push(format_labels(labels));
    }
    cells
}

/// `k=v,k2=v2` sorted by key, `<none>` when empty (upstream's labels.FormatLabels).
pub fn format_labels(labels: Option<&serde_json::Map<String, Value>>) -> String {
    match labels {
        Some(l) if !l.is_empty() => l
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(","),
        _ => "<none>".to_string(),
    }
}

/// A table cell as Go's `fmt.Fprint` shows it.
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table() -> Value {
        json!({
            "columnDefinitions": [
                {"name": "Name", "priority": 0}, {"name": "Ready", "priority": 0},
                {"name": "IP", "priority": 1}, {"name": "Age", "priority": 0}],
            "rows": [{"cells": ["web", "1/1", "10.0.0.1", "5m"],
                      "object": {"metadata": {"name": "web", "namespace": "ns1",
                                  "labels": {"tier": "fe", "app": "w"}}}}]
        })
    }

    #[test]
    fn default_hides_priority_columns() {
        let t = table();
        let o = TableOptions::default();
        assert_eq!(header(&t, &o), ["NAME", "READY", "AGE"]);
        assert_eq!(rows(&t, &o), vec![vec!["web", "1/1", "5m"]]);
    }

    #[test]
    fn decorations() {
        let t = table();
        let o = TableOptions {
            wide: true,
            with_namespace: true,
            show_labels: true,
            label_columns: vec!["app.kubernetes.io/tier".into(), "app".into()],
            kind_prefix: Some("pod".into()),
        };
        assert_eq!(
            header(&t, &o),
            [
                "NAMESPACE",
                "NAME",
                "READY",
                "IP",
                "AGE",
                "TIER",
                "APP",
                "LABELS"
            ]
        );
        assert_eq!(
            rows(&t, &o),
            vec![vec![
                "ns1",
                "pod/web",
                "1/1",
                "10.0.0.1",
                "5m",
                "",
                "w",
                "app=w,tier=fe"
            ]]
        );
    }
}
