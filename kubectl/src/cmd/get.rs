//! `kubectl get`: server-side tables for humans, whole objects for `-o yaml|json|name|
//! jsonpath|custom-columns`, chunked lists, `--sort-by`, and `-w/--watch-only`.

use clap::Args;
use http::Method;
use serde_json::{json, Value};

use super::{out, Ctx};
use crate::client::{q, ApiClient, ACCEPT_TABLE};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::printers::go_template::GoTemplate;
use crate::printers::jsonpath::{self, Template};
use crate::printers::table::{self, TableOptions};
use crate::printers::tabwriter::TabWriter;
use crate::printers::{custom_columns, json as jsonp, yaml, OutputFormat};
use crate::resource::{self, ApiResource, Selection};
use crate::watch::WatchEvents;

/// `kubectl get`
#[derive(Debug, Args)]
pub struct GetArgs {
    /// TYPE[.VERSION][.GROUP] [NAME…] or TYPE/NAME …
    args: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// Template string or path to template file to use when -o=go-template, -o=go-template-file.
    #[arg(long)]
    template: Option<String>,
    /// Accepted for compatibility: missing keys in templates print `<no value>`.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    allow_missing_template_keys: Option<String>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Selector (field query) to filter on.
    #[arg(long)]
    field_selector: Option<String>,
    /// List the requested object(s) across all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// When printing, show all labels as the last column.
    #[arg(long)]
    show_labels: bool,
    /// Accepts a comma separated list of labels that are going to be presented as columns.
    #[arg(short = 'L', long = "label-columns", value_delimiter = ',')]
    label_columns: Vec<String>,
    /// When using the default or custom-column output format, don't print headers.
    #[arg(long)]
    no_headers: bool,
    /// Sort list types using this field specification (a JSONPath expression).
    #[arg(long)]
    sort_by: Option<String>,
    /// After listing/getting the requested object, watch for changes.
    #[arg(short = 'w', long)]
    watch: bool,
    /// Watch for changes to the requested object(s), without listing/getting first.
    #[arg(long)]
    watch_only: bool,
    /// Return large lists in chunks rather than all at once. Pass 0 to disable.
    #[arg(long, default_value_t = 500)]
    chunk_size: u64,
    /// If the requested object does not exist the command will return exit code 0.
    #[arg(long)]
    ignore_not_found: bool,
}

/// One thing to fetch: a type and, for named gets, one name.
struct Target {
    res: ApiResource,
    name: Option<String>,
}

/// What a fetch returned for one target.
enum Fetched {
    Table(Value),
    Objects(Vec<Value>),
}

/// Runs `kubectl get`.
pub async fn run(ctx: &Ctx, args: GetArgs) -> Result<()> {
    let format =
        OutputFormat::parse_with_template(args.output.as_deref(), args.template.as_deref())?;
    let sort_by = match &args.sort_by {
        Some(s) if !s.is_empty() => Some(sort_path(s)?),
        _ => None,
    };
    if args.args.is_empty() {
        eprintln!("You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.\n");
    }
    let selection = resource::parse_args(&args.args)?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets = targets(&client, &mut disc, &selection).await?;
    let namespace = (!args.all_namespaces).then(|| client.namespace.clone());
    let single_named = matches!(&selection, Selection::Types { names, .. } if names.len() == 1 && targets.len() == 1)
        || matches!(&selection, Selection::Pairs(p) if p.len() == 1);

    if args.watch || args.watch_only {
        return watch(&client, &args, &format, &targets, namespace.as_deref()).await;
    }

    let mut errors = Vec::new();
    let mut results: Vec<(ApiResource, Fetched)> = Vec::new();
    for t in &targets {
        let r = fetch(
            &client,
            &args,
            &format,
            t,
            namespace.as_deref(),
            sort_by.is_some(),
        )
        .await;
        match r {
            Ok(f) => results.push((t.res.clone(), f)),
            Err(e) if e.is_not_found() && args.ignore_not_found => {}
            Err(e) => errors.push(e),
        }
    }
    // Several results for the same type (named gets) print as one table.
    let results = merge_same_type(results);
    let total: usize = results.iter().map(|(_, f)| count(f)).sum();

    if format.is_table() {
        let requested = {
            let mut k: Vec<(&str, &str)> = targets
                .iter()
                .map(|t| (t.res.group.as_str(), t.res.kind.as_str()))
                .collect();
            k.sort();
            k.dedup();
            k.len()
        };
        print_tables(
            &args,
            &format,
            results,
            namespace.is_none(),
            sort_by.as_ref(),
            requested,
        );
    } else {
        let mut objects = Vec::new();
        for (res, f) in results {
            if let Fetched::Objects(objs) = f {
                objects.extend(objs.into_iter().map(|mut o| {
                    set_type(&mut o, &res);
                    omit_managed_fields_for(&format, &mut o);
                    o
                }));
            }
        }
        if let Some(p) = &sort_by {
            sort_values(&mut objects, |o| o, p);
        }
        print_objects(
            &format,
            objects,
            single_named && errors.is_empty(),
            args.no_headers,
        )?;
    }
    // Upstream says so on stderr only for human-readable output that printed nothing.
    if format.is_table() && total == 0 && errors.is_empty() && !args.ignore_not_found {
        match (&namespace, targets.iter().all(|t| t.res.namespaced)) {
            (Some(ns), true) => eprintln!("No resources found in {ns} namespace."),
            _ => eprintln!("No resources found"),
        }
    }
    report(errors)
}

/// The URL of one page of a chunked list: the query plus `limit` and `continue`.
pub fn page_path(base: &str, mut query: Vec<String>, chunk_size: u64, token: &str) -> String {
    if chunk_size > 0 {
        query.push(format!("limit={chunk_size}"));
    }
    if !token.is_empty() {
        query.push(format!("continue={}", q(token)));
    }
    if query.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", query.join("&"))
    }
}

/// Prints all but the last error and returns the last (upstream prints each on its own line).
pub fn report(mut errors: Vec<KubectlError>) -> Result<()> {
    let Some(last) = errors.pop() else {
        return Ok(());
    };
    for e in errors {
        eprintln!("{e}");
    }
    Err(last)
}

fn count(f: &Fetched) -> usize {
    match f {
        Fetched::Table(t) => t["rows"].as_array().map_or(0, Vec::len),
        Fetched::Objects(o) => o.len(),
    }
}

fn merge_same_type(results: Vec<(ApiResource, Fetched)>) -> Vec<(ApiResource, Fetched)> {
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

async fn targets(client: &ApiClient, disc: &mut Discovery, sel: &Selection) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    match sel {
        Selection::Types { types, names } => {
            for ty in types {
                let expanded = resource::expand_category(&disc.resources, ty);
                let resources: Vec<ApiResource> =
                    if !expanded.is_empty() && resource::resolve(&disc.resources, ty).is_err() {
                        expanded.into_iter().cloned().collect()
                    } else {
                        vec![disc.resolve(client, ty).await?]
                    };
                for res in resources {
                    if names.is_empty() {
                        out.push(Target { res, name: None });
                    } else {
                        for n in names {
                            out.push(Target {
                                res: res.clone(),
                                name: Some(n.clone()),
                            });
                        }
                    }
                }
            }
        }
        Selection::Pairs(pairs) => {
            for (ty, name) in pairs {
                let res = disc.resolve(client, ty).await?;
                out.push(Target {
                    res,
                    name: Some(name.clone()),
                });
            }
        }
    }
    Ok(out)
}

fn list_query(args: &GetArgs, include_object: bool, table: bool) -> Vec<String> {
    let mut qs = Vec::new();
    if let Some(l) = &args.selector {
        qs.push(format!("labelSelector={}", q(l)));
    }
    if let Some(f) = &args.field_selector {
        qs.push(format!("fieldSelector={}", q(f)));
    }
    if table && include_object {
        qs.push("includeObject=Object".to_string());
    }
    qs
}

async fn fetch(
    client: &ApiClient,
    args: &GetArgs,
    format: &OutputFormat,
    t: &Target,
    namespace: Option<&str>,
    sorting: bool,
) -> Result<Fetched> {
    let table = format.is_table();
    let accept = if table {
        ACCEPT_TABLE
    } else {
        "application/json"
    };
    let ns = if t.res.namespaced { namespace } else { None };
    if let Some(name) = &t.name {
        let ns = if t.res.namespaced {
            Some(namespace.unwrap_or(&client.namespace))
        } else {
            None
        };
        let mut path = t.res.object_path(ns, name);
        if table && sorting {
            path.push_str("?includeObject=Object");
        }
        let v = client.request(Method::GET, &path, accept, None).await?;
        return Ok(if table {
            Fetched::Table(as_table(v))
        } else {
            Fetched::Objects(vec![v])
        });
    }
    let base = t.res.collection_path(ns);
    let mut cont = String::new();
    let mut merged: Option<Value> = None;
    loop {
        let path = page_path(
            &base,
            list_query(args, sorting, table),
            args.chunk_size,
            &cont,
        );
        let page = client.request(Method::GET, &path, accept, None).await?;
        cont = page["metadata"]["continue"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let key = if table { "rows" } else { "items" };
        match &mut merged {
            None => merged = Some(page),
            Some(m) => {
                let more = page[key].as_array().cloned().unwrap_or_default();
                if let Some(a) = m.get_mut(key).and_then(Value::as_array_mut) {
                    a.extend(more);
                }
            }
        }
        if cont.is_empty() {
            break;
        }
    }
    let merged = merged.unwrap_or(Value::Null);
    Ok(if table {
        Fetched::Table(as_table(merged))
    } else {
        Fetched::Objects(merged["items"].as_array().cloned().unwrap_or_default())
    })
}

/// A server that cannot print tables answers with the object or list itself; upstream then
/// prints NAME and AGE only.
fn as_table(v: Value) -> Value {
    if v["kind"] == "Table" {
        return v;
    }
    let items = if v["kind"].as_str().is_some_and(|k| k.ends_with("List")) {
        v["items"].as_array().cloned().unwrap_or_default()
    } else {
        vec![v]
    };
    let rows: Vec<Value> = items
        .into_iter()
        .map(|o| {
            let name = o["metadata"]["name"].clone();
            let age = crate::printers::age::age_of(o["metadata"]["creationTimestamp"].as_str());
            json!({"cells": [name, age], "object": o})
        })
        .collect();
    json!({
        "kind": "Table",
        "columnDefinitions": [{"name": "Name", "priority": 0}, {"name": "Age", "priority": 0}],
        "rows": rows,
    })
}

fn sort_path(spec: &str) -> Result<jsonpath::Path> {
    let inner = spec
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(spec);
    jsonpath::parse_path(inner)
        .map_err(|e| KubectlError::usage(format!("couldn't parse --sort-by {spec}: {e}")))
}

fn sort_values<T>(items: &mut [T], obj: impl Fn(&T) -> &Value, path: &jsonpath::Path) {
    items.sort_by(|a, b| {
        let (a, b) = (obj(a), obj(b));
        let va = path
            .eval(a, a)
            .into_iter()
            .next()
            .cloned()
            .unwrap_or(Value::Null);
        let vb = path
            .eval(b, b)
            .into_iter()
            .next()
            .cloned()
            .unwrap_or(Value::Null);
        jsonpath::compare(&va, &vb).unwrap_or(std::cmp::Ordering::Equal)
    });
}

fn table_options(
    args: &GetArgs,
    format: &OutputFormat,
    all_ns: bool,
    prefix: Option<String>,
) -> TableOptions {
    TableOptions {
        wide: matches!(format, OutputFormat::Wide),
        with_namespace: all_ns,
        show_labels: args.show_labels,
        label_columns: args.label_columns.clone(),
        kind_prefix: prefix,
    }
}

fn print_tables(
    args: &GetArgs,
    format: &OutputFormat,
    mut results: Vec<(ApiResource, Fetched)>,
    all_ns: bool,
    sort_by: Option<&jsonpath::Path>,
    requested_types: usize,
) {
    // Upstream prefixes names with their kind whenever more than one type was asked for,
    // even if only one of them had objects.
    let with_kind = {
        let mut kinds: Vec<(String, String)> = results
            .iter()
            .map(|(r, _)| (r.group.clone(), r.kind.clone()))
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds.len() > 1 || requested_types > 1
    };
    let mut s = String::new();
    let mut printed_any = false;
    for (res, f) in results.iter_mut() {
        let Fetched::Table(t) = f else { continue };
        if let (Some(p), Some(rows)) = (sort_by, t.get_mut("rows").and_then(Value::as_array_mut)) {
            sort_values(rows, |r| &r["object"], p);
        }
        if count(f) == 0 {
            continue;
        }
        let Fetched::Table(t) = f else { continue };
        if printed_any && !args.no_headers {
            s.push('\n');
        }
        let prefix = with_kind.then(|| res.kind_prefix());
        let opts = table_options(args, format, all_ns && res.namespaced, prefix);
        let mut tw = TabWriter::new();
        if !args.no_headers {
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

/// Sets apiVersion and kind on list items (the server omits them inside lists).
fn set_type(o: &mut Value, res: &ApiResource) {
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

/// Upstream's template printers see the whole object; the others hide managedFields.
pub fn omit_managed_fields_for(format: &OutputFormat, o: &mut Value) {
    if !matches!(format, OutputFormat::GoTemplate(_)) {
        omit_managed_fields(o);
    }
}

/// Upstream hides managedFields unless `--show-managed-fields`.
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

fn print_objects(
    format: &OutputFormat,
    objects: Vec<Value>,
    single: bool,
    no_headers: bool,
) -> Result<()> {
    let doc = if single && objects.len() == 1 {
        objects[0].clone()
    } else {
        json!({"apiVersion": "v1", "items": objects, "kind": "List", "metadata": {"resourceVersion": ""}})
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

fn run_template(t: &Template, doc: &Value) -> Result<String> {
    t.execute(doc)
        .map_err(|e| KubectlError::usage(format!("error executing jsonpath: {e}")))
}

async fn watch(
    client: &ApiClient,
    args: &GetArgs,
    format: &OutputFormat,
    targets: &[Target],
    namespace: Option<&str>,
) -> Result<()> {
    let [t] = targets else {
        return Err(KubectlError::usage(
            "you may only specify a single resource type",
        ));
    };
    let table = format.is_table();
    let accept = if table {
        ACCEPT_TABLE
    } else {
        "application/json"
    };
    let ns = if t.res.namespaced { namespace } else { None };
    let base = t.res.collection_path(ns);
    let mut qs = list_query(args, false, table);
    if let Some(n) = &t.name {
        qs.push(format!(
            "fieldSelector={}",
            q(&format!("metadata.name={n}"))
        ));
    }
    let opts = table_options(args, format, namespace.is_none(), None);
    let mut tw = TabWriter::new();
    let mut header_done = args.no_headers;
    let initial = client
        .request(
            Method::GET,
            &format!("{base}?{}", qs.join("&")),
            accept,
            None,
        )
        .await?;
    let rv = initial["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_string();
    // One table (its header once) or one object at a time, for the list and each event.
    let mut emit = |obj: Value| -> Result<()> {
        if table {
            let t = as_table(obj);
            if !header_done {
                tw.row(table::header(&t, &opts));
                header_done = true;
            }
            for r in table::rows(&t, &opts) {
                tw.row(r);
            }
            out(&tw.flush());
        } else {
            let mut o = obj;
            set_type(&mut o, &t.res);
            omit_managed_fields_for(format, &mut o);
            print_watch_object(format, &o)?;
        }
        Ok(())
    };
    if !args.watch_only {
        if table {
            emit(initial)?;
        } else {
            for o in initial["items"].as_array().cloned().unwrap_or_default() {
                emit(o)?;
            }
        }
    }
    qs.push("watch=true".to_string());
    qs.push(format!("resourceVersion={}", q(&rv)));
    let path = format!("{base}?{}", qs.join("&"));
    let mut events = WatchEvents::open(client, &path, accept).await?;
    while let Some(event) = events.next().await {
        emit(event?.object)?;
    }
    Ok(())
}

fn print_watch_object(format: &OutputFormat, o: &Value) -> Result<()> {
    match format {
        OutputFormat::Yaml => out(&format!("{}---\n", yaml::to_yaml(o))),
        OutputFormat::Json => out(&jsonp::to_json(o)),
        OutputFormat::Name => out(&format!("{}\n", name_of(o))),
        OutputFormat::JsonPath(t) => out(&run_template(t, o)?),
        OutputFormat::GoTemplate(t) => render_go_template(t, o)?,
        OutputFormat::CustomColumns(cols) => {
            out(&custom_columns::render(cols, std::slice::from_ref(o), true))
        }
        _ => {}
    }
    Ok(())
}
