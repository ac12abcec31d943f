//! `kubectl get`: server-side tables for humans (or NAME/AGE with `--server-print=false`),
//! whole objects for `-o yaml|json|name|jsonpath|custom-columns`, objects named by type and
//! name or by the manifests of `-f`, subresources, chunked lists, `--sort-by`, `-w/
//! --watch-only` (with `--output-watch-events`) and `--raw URI`.

pub(crate) mod fetch;
pub mod label_filter;
mod print;
pub mod raw;
pub mod targets;
mod watch;

use clap::{ArgAction, Args};
use serde_json::Value;

use super::create::FileArgs;
use super::Ctx;
use crate::error::{KubectlError, Result};
use crate::printers::OutputFormat;
use crate::resource::{self, ApiResource, Selection};
use fetch::{fetch, Fetched, Request};
use print::TableStyle;
use targets::{Scope, Target};

pub use fetch::page_path;
pub use print::{
    name_of, omit_managed_fields, omit_managed_fields_for, render_go_template, report,
};

/// `kubectl get`
#[derive(Debug, Args)]
pub struct GetArgs {
    /// TYPE[.VERSION][.GROUP] [NAME…] or TYPE/NAME …
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// Output format.
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// Template string or path to template file to use when -o=go-template, -o=go-template-file.
    #[arg(long)]
    template: Option<String>,
    /// If true, ignore any errors in templates when a field or map key is missing in the
    /// template. Only applies to golang and jsonpath output formats.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    allow_missing_template_keys: bool,
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
    /// If present, list the resource type for the requested object(s).
    #[arg(long)]
    show_kind: bool,
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
    /// Output watch event objects when --watch or --watch-only is used.
    #[arg(long)]
    output_watch_events: bool,
    /// Return large lists in chunks rather than all at once. Pass 0 to disable.
    #[arg(long, default_value_t = 500)]
    chunk_size: u64,
    /// If the requested object does not exist the command will return exit code 0.
    #[arg(long)]
    ignore_not_found: bool,
    /// Raw URI to request from the server.
    #[arg(long)]
    raw: Option<String>,
    /// If true, have the server return the appropriate table output.
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    server_print: bool,
    /// If specified, gets the subresource of the requested object.
    #[arg(long)]
    subresource: Option<String>,
    /// If true, keep the managedFields when printing objects in JSON or YAML format.
    #[arg(long)]
    show_managed_fields: bool,
}

impl GetArgs {
    /// `--raw`, when given a non-empty URI (an empty one means no raw request, as upstream).
    fn raw_uri(&self) -> Option<&str> {
        self.raw.as_deref().filter(|r| !r.is_empty())
    }

    fn output(&self) -> &str {
        self.output.as_deref().unwrap_or("")
    }

    fn selector(&self) -> Option<&str> {
        self.selector.as_deref().filter(|s| !s.is_empty())
    }

    fn field_selector(&self) -> Option<&str> {
        self.field_selector.as_deref().filter(|s| !s.is_empty())
    }
}

/// Upstream's refusals of flag combinations, in the order it checks them (its Complete and
/// Validate steps), before anything is read.
fn validate(args: &GetArgs) -> Result<()> {
    if let Some(uri) = args.raw_uri() {
        if !args.args.is_empty() {
            return Err(KubectlError::usage(
                "arguments may not be passed when --raw is specified",
            ));
        }
        if args.watch || args.watch_only || args.selector().is_some() {
            return Err(KubectlError::usage(
                "--raw may not be specified with other flags that filter the server request or alter the output",
            ));
        }
        if !args.output().is_empty() {
            return Err(KubectlError::usage(
                "--raw and --output are mutually exclusive",
            ));
        }
        raw::check_uri(uri)?;
    }
    let output = args.output();
    if args.show_labels && !output.is_empty() && output != "wide" {
        return Err(KubectlError::usage(format!(
            "--show-labels option cannot be used with {output} printer"
        )));
    }
    if args.output_watch_events && !(args.watch || args.watch_only) {
        return Err(KubectlError::usage(
            "--output-watch-events option can only be used with --watch or --watch-only",
        ));
    }
    Ok(())
}

/// The warnings upstream gives for `--sort-by` with a watch.
fn sort_by_watch_warning(args: &GetArgs) -> Option<&'static str> {
    if args.sort_by.as_deref().is_none_or(str::is_empty) {
        return None;
    }
    if args.watch {
        Some("warning: --watch requested, --sort-by will be ignored for watch events received")
    } else if args.watch_only {
        Some("warning: --watch-only requested, --sort-by will be ignored")
    } else {
        None
    }
}

/// What the arguments select (None: the manifests of `-f`), refused as upstream's builder
/// refuses it before any type is looked up.
fn selection(args: &GetArgs, from_files: bool, watching: bool) -> Result<Option<Selection>> {
    if from_files {
        targets::files_conflict(&args.args)?;
        return Ok(None);
    }
    if args.args.is_empty() {
        return Err(KubectlError::usage(targets::MISSING_RESOURCE));
    }
    let sel = resource::parse_args(&args.args)?;
    targets::selector_conflict(
        &sel,
        args.selector().is_some() || args.field_selector().is_some(),
    )?;
    // A watch reads no subresource, so it has nothing to refuse.
    if !watching {
        targets::subresource_conflict(&sel, args.subresource.as_deref())?;
    }
    Ok(Some(sel))
}

/// Runs `kubectl get`.
pub async fn run(ctx: &Ctx, args: GetArgs) -> Result<()> {
    if let Some(uri) = args.raw_uri() {
        validate(&args)?;
        let client = ctx.client().await?;
        return raw::get(&client, uri).await;
    }
    let watching = args.watch || args.watch_only;
    if let Some(w) = sort_by_watch_warning(&args) {
        eprintln!("{w}");
    }
    let from_files = !args.files.filename.is_empty();
    if args.args.is_empty() && !from_files && !watching {
        eprintln!("You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.\n");
        // The usage error upstream gives for no arguments.
        resource::parse_args(&args.args)?;
    }
    validate(&args)?;
    let format =
        OutputFormat::parse_with_template(args.output.as_deref(), args.template.as_deref())?
            .allowing_missing_keys(args.allow_missing_template_keys);
    let sort_by = match &args.sort_by {
        Some(s) if !s.is_empty() && !watching => Some(print::sort_path(s)?),
        _ => None,
    };
    let selection = selection(&args, from_files, watching)?;

    // Objects named by manifests are filtered by their labels here, not by the server.
    let file_filter = match args.selector().filter(|_| from_files) {
        Some(s) => Some(label_filter::Selector::parse(s).map_err(KubectlError::usage)?),
        None => None,
    };
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let scope = Scope::of(&client, args.all_namespaces);
    let mut errors = Vec::new();
    let targets = match &selection {
        Some(sel) => targets::from_args(&client, &mut disc, sel, &scope).await?,
        None => targets::from_manifests(&disc, &args.files, &scope, None, &mut errors)?,
    };
    let req = Request {
        table: format.is_table(),
        server_print: args.server_print,
        sorting: sort_by.is_some(),
        // Manifests name their objects; selectors only filter what lists return.
        label_selector: args.selector().filter(|_| !from_files),
        field_selector: args.field_selector().filter(|_| !from_files),
        chunk_size: args.chunk_size,
        subresource: args.subresource.as_deref().filter(|_| !from_files),
    };

    if watching {
        let print = watch::WatchPrint {
            format: &format,
            style: table_style(&args, &format, args.show_kind),
            events: args.output_watch_events,
            show_managed_fields: args.show_managed_fields,
        };
        return watch::watch(&client, &req, &targets, args.watch_only, print).await;
    }

    let mut results: Vec<(ApiResource, Fetched)> = Vec::new();
    for t in &targets {
        if t.lacks_namespace() {
            errors.push(t.no_namespace_error());
            continue;
        }
        match fetch(&client, &req, t).await {
            Ok(f) if file_filter.as_ref().is_some_and(|s| !passes(s, &f, &req)) => {}
            Ok(f) => results.push((t.res.clone(), f)),
            Err(e) if e.is_not_found() && args.ignore_not_found => {}
            Err(e) => errors.push(e),
        }
    }
    // Several results for the same type (named gets) print as one table.
    let results = print::merge_same_type(results);
    let total: usize = results.iter().map(|(_, f)| f.count()).sum();
    let all_namespaced = all_namespaced(&args, &results);
    let single = single_item_implied(&args, &selection, &targets);

    if format.is_table() {
        let with_kind = print::with_kind(args.show_kind, &results, args.server_print);
        let style = table_style(&args, &format, with_kind);
        print::print_tables(&style, results, sort_by.as_ref());
    } else if !single || errors.is_empty() {
        // One object asked for and an error instead: upstream prints only the error; and
        // with --ignore-not-found nothing at all rather than an empty List.
        let objects = objects_to_print(&args, &format, results, sort_by.as_ref());
        if !(objects.is_empty() && args.ignore_not_found) {
            print::print_objects(&format, objects, single, args.no_headers)?;
        }
    }
    // Upstream says so on stderr only for human-readable output that printed nothing.
    if format.is_table() && total == 0 && errors.is_empty() && !args.ignore_not_found {
        if all_namespaced {
            eprintln!("No resources found in {} namespace.", scope.namespace);
        } else {
            eprintln!("No resources found");
        }
    }
    // Upstream's table path aggregates its errors twice over, which prints client-side
    // ones bare; its other printers give a lone error the usual `error: ` prefix.
    let prefixed = !format.is_table() && errors.len() == 1;
    print::report_bare(errors, prefixed)
}

/// Whether a `-l` applied here keeps what was read for one manifest. Upstream judges the
/// object it read, and a server table carries no labels of the object in it.
fn passes(selector: &label_filter::Selector, f: &Fetched, req: &Request<'_>) -> bool {
    let labels = match f {
        _ if req.server_tables() => None,
        Fetched::Table(t) => t["rows"][0]["object"]["metadata"]["labels"].as_object(),
        Fetched::Objects(o) => o.first().and_then(|o| o["metadata"]["labels"].as_object()),
    };
    selector.matches(labels)
}

fn table_style(args: &GetArgs, format: &OutputFormat, with_kind: bool) -> TableStyle {
    TableStyle {
        wide: matches!(format, OutputFormat::Wide),
        no_headers: args.no_headers,
        show_labels: args.show_labels,
        label_columns: args.label_columns.clone(),
        all_namespaces: args.all_namespaces,
        with_kind,
    }
}

/// The objects of a non-table format, typed, sorted and (for JSON and YAML) without their
/// managedFields unless asked for.
fn objects_to_print(
    args: &GetArgs,
    format: &OutputFormat,
    results: Vec<(ApiResource, Fetched)>,
    sort_by: Option<&crate::printers::jsonpath::Path>,
) -> Vec<Value> {
    let mut objects = Vec::new();
    for (res, f) in results {
        if let Fetched::Objects(objs) = f {
            objects.extend(objs.into_iter().map(|mut o| {
                print::set_type(&mut o, &res);
                if !args.show_managed_fields {
                    omit_managed_fields_for(format, &mut o);
                }
                o
            }));
        }
    }
    if let Some(p) = sort_by {
        print::sort_values(&mut objects, |o| o, p);
    }
    objects
}

/// Whether one object prints as itself rather than in a List: one name of one type, one
/// TYPE/NAME, or the manifests of one file (not stdin, not a directory).
fn single_item_implied(args: &GetArgs, selection: &Option<Selection>, targets: &[Target]) -> bool {
    match selection {
        Some(Selection::Types { names, .. }) => names.len() == 1 && targets.len() == 1,
        Some(Selection::Pairs(p)) => p.len() == 1,
        None => {
            let files = &args.files.filename;
            files.len() == 1 && files[0] != "-" && !std::path::Path::new(&files[0]).is_dir()
        }
    }
}

/// For upstream's note on an empty human-readable answer: whether everything read was of
/// namespaced types (then the namespace is named). A server table is something read even
/// when empty; objects read for client-side printing only when there are some.
fn all_namespaced(args: &GetArgs, results: &[(ApiResource, Fetched)]) -> bool {
    !args.all_namespaces
        && results
            .iter()
            .filter(|(_, f)| args.server_print || f.count() > 0)
            .all(|(r, _)| r.namespaced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        get: GetArgs,
    }

    fn parse(line: &[&str]) -> GetArgs {
        let argv = std::iter::once("get").chain(line.iter().copied());
        Line::parse_from(argv).get
    }

    fn refusal(line: &[&str]) -> String {
        validate(&parse(line))
            .map(|()| "accepted".to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn raw_refuses_arguments_filters_and_output_in_upstream_order() {
        assert_eq!(refusal(&["--raw", "/api"]), "accepted");
        assert_eq!(
            refusal(&["--raw", "/api", "pods", "-w"]),
            "error: arguments may not be passed when --raw is specified"
        );
        assert_eq!(
            refusal(&["--raw", "/api", "-l", "a=b", "-o", "json"]),
            "error: --raw may not be specified with other flags that filter the server request or alter the output"
        );
        assert_eq!(
            refusal(&["--raw", "/api", "-o", "json"]),
            "error: --raw and --output are mutually exclusive"
        );
        assert_eq!(
            refusal(&["--raw", "api"]),
            "error: --raw must be a valid URL path: parse \"api\": invalid URI for request"
        );
        // Flags that change nothing about the request are let through, as upstream does.
        assert_eq!(
            refusal(&["--raw", "/api", "--field-selector", "a=b"]),
            "accepted"
        );
        // An empty URI is no raw request at all.
        assert_eq!(refusal(&["--raw", "", "pods"]), "accepted");
    }

    #[test]
    fn printing_flags_that_need_others() {
        assert_eq!(
            refusal(&["pods", "--show-labels", "-o", "json"]),
            "error: --show-labels option cannot be used with json printer"
        );
        assert_eq!(
            refusal(&["pods", "--show-labels", "-o", "wide"]),
            "accepted"
        );
        assert_eq!(
            refusal(&["pods", "--output-watch-events"]),
            "error: --output-watch-events option can only be used with --watch or --watch-only"
        );
        assert_eq!(
            refusal(&["pods", "--output-watch-events", "-w"]),
            "accepted"
        );
    }

    #[test]
    fn sort_by_is_ignored_by_watches_with_a_warning() {
        assert_eq!(
            sort_by_watch_warning(&parse(&["pods", "--sort-by=.a"])),
            None
        );
        assert_eq!(
            sort_by_watch_warning(&parse(&["pods", "--sort-by=.a", "-w"])),
            Some("warning: --watch requested, --sort-by will be ignored for watch events received")
        );
        assert_eq!(
            sort_by_watch_warning(&parse(&["pods", "--sort-by=.a", "--watch-only"])),
            Some("warning: --watch-only requested, --sort-by will be ignored")
        );
    }

    #[test]
    fn one_file_implies_one_item() {
        let args = parse(&["-f", "a.yaml"]);
        assert!(single_item_implied(&args, &None, &[]));
        let args = parse(&["-f", "a.yaml", "-f", "b.yaml"]);
        assert!(!single_item_implied(&args, &None, &[]));
        let args = parse(&["-f", "-"]);
        assert!(!single_item_implied(&args, &None, &[]));
    }

    #[test]
    fn server_print_defaults_to_true() {
        assert!(parse(&["pods"]).server_print);
        assert!(!parse(&["pods", "--server-print=false"]).server_print);
    }
}
