//! Printing what `kubectl get` read: tables (one per type, blank lines between, `kind/`
//! prefixes when several kinds are shown or `--show-kind`), or the objects as one List (a
//! single named object as itself) in the `-o` format.

use serde_json::{json, Value};

use super::super::out;
use super::fetch::Fetched;
use crate::error::{KubectlError, Result};
use crate::printers::go_template::GoTemplate;
use crate::printers::jsonpath::{self, Template};
use crate::printers::table::{self, TableOptions};
use crate::printers::tabwriter::TabWriter;
use crate::printers::{custom_columns, json as jsonp, yaml, OutputFormat};
use crate::resource::ApiResource;

/// How tables are decorated.
pub struct TableStyle {
    /// `-o wide`
    pub wide: bool,
    /// `--no-headers`
    pub no_headers: bool,
    /// `--show-labels`
    pub show_labels: bool,
    /// `-L`
    pub label_columns: Vec<String>,
    /// `-A`: namespaced types get a NAMESPACE column.
    pub all_namespaces: bool,
    /// Names carry their `kind.group/` prefix.
    pub with_kind: bool,
}

impl TableStyle {
    /// The printer options for one type.
    pub fn options(&self, res: &ApiResource) -> TableOptions {
        TableOptions {
            wide: self.wide,
            with_namespace: self.all_namespaces && res.namespaced,
            show_labels: self.show_labels,
            label_columns: self.label_columns.clone(),
            kind_prefix: self.with_kind.then(|| res.kind_prefix()),
        }
    }
}

/// Whether names get their kind prefix: asked for with `--show-kind`, or because what was
/// read is of more than one kind. Upstream counts what it read: a server table counts even
/// when empty (it is one object), objects for client-side printing only when there are any.
pub fn with_kind(show_kind: bool, results: &[(ApiResource, Fetched)], server_print: bool) -> bool {
    if show_kind {
        return true;
    }
    let mut kinds: Vec<(&str, &str)> = results
        .iter()
        .filter(|(_, f)| server_print || f.count() > 0)
        .map(|(r, _)| (r.group.as_str(), r.kind.as_str()))
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds.len() > 1
}

/// Ends a command that went on past errors: a single error is returned as it is (upstream
/// unwraps an aggregate of one, so an `Invalid` then gets its own wording); several are each
/// printed on their own line, in the usual form.
pub fn report(mut errors: Vec<KubectlError>) -> Result<()> {
    if errors.len() <= 1 {
        return errors.pop().map_or(Ok(()), Err);
    }
    for e in errors {
        if !matches!(e, KubectlError::Reported | KubectlError::Exit(_)) {
            eprintln!("{e}");
        }
    }
    Err(KubectlError::Reported)
}

/// Reports errors as [`report`] does when `prefixed`; otherwise client-side errors print
/// without their `error: ` prefix (server errors look the same either way).
pub fn report_bare(errors: Vec<KubectlError>, prefixed: bool) -> Result<()> {
    if prefixed || errors.is_empty() {
        return report(errors);
    }
    for e in errors {
        match e {
            KubectlError::Usage(text) => eprintln!("{text}"),
            other => eprintln!("{other}"),
        }
    }
    Err(KubectlError::Reported)
}

/// Joins consecutive results of one type (named gets), which upstream prints as one table.
pub fn merge_same_type(results: Vec<(ApiResource, Fetched)>) -> Vec<(ApiResource, Fetched)> {
    let mut out: Vec<(ApiResource, Fetched)> = Vec::new();
    for (res, f) in results {
        match (out.last_mut(), f) {
            (Some((r, Fetched::Table(t))), Fetched::Table(nt)) if *r == res => {
                if let (Some(rows), Some(new)) = (
                    t.get_mut("rows").and_then(Value::as_array_mut),
                    nt["rows"].as_array(),
                ) {
                    rows.extend(new.iter().cloned());
                }
            }
            (Some((r, Fetched::Objects(o))), Fetched::Objects(no)) if *r == res => o.extend(no),
            (_, f) => out.push((res, f)),
        }
    }
    out
}

/// Prints one table per type that has rows, separated by blank lines when headers show.
pub fn print_tables(
    style: &TableStyle,
    mut results: Vec<(ApiResource, Fetched)>,
    sort_by: Option<&jsonpath::Path>,
) {
    let mut s = String::new();
    let mut printed_any = false;
    for (res, f) in results.iter_mut() {
        let Fetched::Table(t) = f else { continue };
        if let (Some(p), Some(rows)) = (sort_by, t.get_mut("rows").and_then(Value::as_array_mut)) {
            sort_values(rows, |r| &r["object"], p);
        }
        if t["rows"].as_array().is_none_or(Vec::is_empty) {
            continue;
        }
        if printed_any && !style.no_headers {
            s.push('\n');
        }
        let opts = style.options(res);
        let mut tw = TabWriter::new();
        if !style.no_headers {
            tw.row(table::header(t, &opts));
        }
        for row in table::rows(t, &opts) {
            tw.row(row);
        }
        s.push_str(&tw.flush());
        printed_any = true;
    }
    out(&s);
}

/// Parses `--sort-by` (with or without the braces of a JSONPath template).
pub fn sort_path(spec: &str) -> Result<jsonpath::Path> {
    let inner = spec
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(spec);
    jsonpath::parse_path(inner)
        .map_err(|e| KubectlError::usage(format!("couldn't parse --sort-by {spec}: {e}")))
}

/// Sorts items by the value `path` finds in the object `obj` gives for each.
pub fn sort_values<T>(items: &mut [T], obj: impl Fn(&T) -> &Value, path: &jsonpath::Path) {
    items.sort_by(|a, b| {
        let first = |v: &Value| path.eval(v, v).into_iter().next().cloned();
        let va = first(obj(a)).unwrap_or(Value::Null);
        let vb = first(obj(b)).unwrap_or(Value::Null);
        jsonpath::compare(&va, &vb).unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// Sets apiVersion and kind on list items (the server omits them inside lists).
pub fn set_type(o: &mut Value, res: &ApiResource) {
    if o.get("kind")
        .is_none_or(|k| k.as_str().is_none_or(str::is_empty))
    {
        o["kind"] = json!(res.kind);
    }
    if o.get("apiVersion")
        .is_none_or(|k| k.as_str().is_none_or(str::is_empty))
    {
        o["apiVersion"] = json!(res.api_version());
    }
}

/// Upstream's JSON and YAML printers hide managedFields (unless `--show-managed-fields`);
/// the template, JSONPath and column printers see the whole object.
pub fn omit_managed_fields_for(format: &OutputFormat, o: &mut Value) {
    if matches!(format, OutputFormat::Json | OutputFormat::Yaml) {
        omit_managed_fields(o);
    }
}

/// Removes `metadata.managedFields`.
pub fn omit_managed_fields(o: &mut Value) {
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
}

/// The `-o name` form of an object: `kind.group/name`.
pub fn name_of(o: &Value) -> String {
    let kind = o["kind"].as_str().unwrap_or("").to_lowercase();
    let group = o["apiVersion"]
        .as_str()
        .and_then(|v| v.rsplit_once('/'))
        .map(|(g, _)| g)
        .unwrap_or("");
    let name = o["metadata"]["name"].as_str().unwrap_or("");
    if group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{group}/{name}")
    }
}

/// Prints objects in a non-table format: one object alone when `single`, else a List.
pub fn print_objects(
    format: &OutputFormat,
    objects: Vec<Value>,
    single: bool,
    no_headers: bool,
) -> Result<()> {
    let doc = match <[Value; 1]>::try_from(objects.clone()) {
        Ok([one]) if single => one,
        _ => {
            json!({"apiVersion": "v1", "items": objects, "kind": "List", "metadata": {"resourceVersion": ""}})
        }
    };
    match format {
        OutputFormat::Json => out(&jsonp::to_json(&doc)),
        OutputFormat::Yaml => out(&yaml::to_yaml(&doc)),
        OutputFormat::Name => {
            let mut s = String::new();
            for o in &objects {
                s.push_str(&name_of(o));
                s.push('\n');
            }
            out(&s);
        }
        OutputFormat::JsonPath(t) => out(&run_template(t, &doc)?),
        OutputFormat::GoTemplate(t) => render_go_template(t, &doc)?,
        OutputFormat::CustomColumns(cols) => {
            out(&custom_columns::render(cols, &objects, no_headers))
        }
        OutputFormat::Table | OutputFormat::Wide => {}
    }
    Ok(())
}

/// Prints a go-template's output (and upstream's debugging dump when it fails).
pub fn render_go_template(t: &GoTemplate, doc: &Value) -> Result<()> {
    let r = t.render(doc);
    out(&r.stdout);
    match r.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Runs a JSONPath template (its failure is already worded as upstream's).
pub fn run_template(t: &Template, doc: &Value) -> Result<String> {
    t.execute(doc).map_err(KubectlError::usage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::tests::res;

    fn table(rows: usize) -> Fetched {
        Fetched::Table(json!({"rows": vec![json!({}); rows]}))
    }

    #[test]
    fn kinds_are_shown_when_asked_or_mixed() {
        let cm = res("", "v1", "ConfigMap", "configmaps", &[]);
        let secret = res("", "v1", "Secret", "secrets", &[]);
        let one = vec![(cm.clone(), table(2))];
        assert!(!with_kind(false, &one, true));
        assert!(with_kind(true, &one, true));
        // An empty server table is still something read of that kind…
        let mixed = vec![(cm.clone(), table(2)), (secret.clone(), table(0))];
        assert!(with_kind(false, &mixed, true));
        // …but an empty list read for client-side printing is nothing.
        assert!(!with_kind(false, &mixed, false));
    }

    #[test]
    fn managed_fields_are_hidden_from_json_and_yaml_only() {
        let obj = json!({"metadata": {"name": "a", "managedFields": [{}]}});
        let mut o = obj.clone();
        omit_managed_fields_for(&OutputFormat::Json, &mut o);
        assert!(o["metadata"].get("managedFields").is_none());
        let mut o = obj.clone();
        omit_managed_fields_for(
            &OutputFormat::parse_with_template(Some("jsonpath={.x}"), None).unwrap(),
            &mut o,
        );
        assert!(o["metadata"].get("managedFields").is_some());
    }

    #[test]
    fn names_carry_kind_and_group() {
        assert_eq!(
            name_of(
                &json!({"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "w"}})
            ),
            "deployment.apps/w"
        );
        assert_eq!(
            name_of(&json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p"}})),
            "pod/p"
        );
    }

    #[test]
    fn named_results_of_one_type_merge() {
        let cm = res("", "v1", "ConfigMap", "configmaps", &[]);
        let secret = res("", "v1", "Secret", "secrets", &[]);
        let merged = merge_same_type(vec![
            (cm.clone(), table(1)),
            (cm.clone(), table(1)),
            (secret, table(1)),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].1.count(), 2);
    }
}
