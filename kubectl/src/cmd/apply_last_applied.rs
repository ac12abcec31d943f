//! `kubectl apply view-last-applied` and `apply set-last-applied`: read, or overwrite, the
//! `kubectl.kubernetes.io/last-applied-configuration` record of live objects without
//! touching anything else. `edit-last-applied` is in `apply_edit_last_applied`; the live
//! objects it edits are found here.

use clap::{Args, Subcommand};
use http::Method;
use serde_json::{json, Value};

use super::apply_edit_last_applied::{self, EditLastAppliedArgs};
use super::create::FileArgs;
use super::get::label_filter::Selector;
use super::get::targets::{self, Scope, Target};
use super::print_flags::{DryRun, DryRunFlag, PrintFlags};
use super::{out, Ctx};
use crate::client::{q, ApiClient, Body};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::manifest;
use crate::merge::LAST_APPLIED;
use crate::printers::json::go_escape;
use crate::printers::yaml::to_yaml;
use crate::resource;

/// `kubectl apply view-last-applied|set-last-applied|edit-last-applied`
#[derive(Debug, Subcommand)]
pub enum LastAppliedCommand {
    /// Print the last-applied record of live objects.
    #[command(name = "view-last-applied")]
    View(ViewArgs),
    /// Replace the last-applied record of live objects with what a file says.
    #[command(name = "set-last-applied")]
    Set(SetArgs),
    /// Change the last-applied record of live objects in an editor.
    #[command(name = "edit-last-applied")]
    Edit(EditLastAppliedArgs),
}

/// Runs one of the subcommands.
pub async fn run(ctx: &Ctx, command: LastAppliedCommand) -> Result<()> {
    match command {
        LastAppliedCommand::View(a) => view(ctx, a).await,
        LastAppliedCommand::Set(a) => set(ctx, a).await,
        LastAppliedCommand::Edit(a) => apply_edit_last_applied::run(ctx, a).await,
    }
}

/// `kubectl apply view-last-applied (TYPE [NAME | -l label] | TYPE/NAME | -f FILENAME)`
#[derive(Debug, Args)]
pub struct ViewArgs {
    /// TYPE [NAME…], TYPE/NAME…, or TYPE with -l/--all.
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// yaml or json.
    #[arg(short = 'o', long, default_value = "yaml")]
    output: String,
    /// Every object of the named types.
    #[arg(long)]
    all: bool,
    /// Only objects whose labels match this selector.
    #[arg(short = 'l', long)]
    selector: Option<String>,
}

/// A live object found for one of the subcommands.
pub struct Live {
    /// The object as the server has it.
    pub object: Value,
    /// The manifest that named it (`-f`), if one did.
    pub source: Option<String>,
}

/// What selects the live objects: arguments or files, and a selector.
pub struct Wanted<'a> {
    /// TYPE NAME… or TYPE/NAME… arguments.
    pub args: &'a [String],
    /// `-f`/`-R`
    pub files: &'a FileArgs,
    /// `-l`
    pub selector: Option<&'a str>,
    /// `--all`, or a type alone meaning all of it (edit-last-applied's builder).
    pub all: bool,
    /// Whether a type alone selects all of its objects (upstream's builder allows it for
    /// edit-last-applied, and for view-last-applied when `-n` was given).
    pub type_selects_all: bool,
}

impl Wanted<'_> {
    fn selector(&self) -> Option<&str> {
        self.selector.map(str::trim).filter(|s| !s.is_empty())
    }

    /// Upstream's refusals of what names no objects, before the server is asked anything.
    pub fn check(&self) -> Result<()> {
        if !self.files.filename.is_empty() {
            return targets::files_conflict(self.args);
        }
        if self.args.is_empty() {
            return Err(KubectlError::usage(targets::MISSING_RESOURCE));
        }
        let sel = resource::parse_args(self.args)?;
        targets::selector_conflict(&sel, self.all || self.selector().is_some())
    }
}

/// Reads the objects `wanted` names from the server, as upstream's builder with `Latest()`:
/// the first failure ends the command.
pub async fn live_objects(
    client: &ApiClient,
    disc: &mut Discovery,
    wanted: &Wanted<'_>,
) -> Result<Vec<Live>> {
    wanted.check()?;
    let scope = Scope::of(client, false);
    let selector = wanted.selector();
    let listing = wanted.all || selector.is_some();
    let targets = if !wanted.files.filename.is_empty() {
        let only = selector
            .map(|s| Selector::parse(s).map_err(KubectlError::usage))
            .transpose()?;
        let mut errors = Vec::new();
        let found =
            targets::from_manifests(disc, wanted.files, &scope, only.as_ref(), &mut errors)?;
        if let Some(e) = errors.into_iter().next() {
            return Err(e);
        }
        found
    } else {
        let sel = resource::parse_args(wanted.args)?;
        let found = targets::from_args(client, disc, &sel, &scope).await?;
        if !listing && !wanted.type_selects_all && found.iter().any(|t| t.name.is_none()) {
            return Err(KubectlError::usage(
                "resource(s) were provided, but no name was specified",
            ));
        }
        found
    };
    let mut live = Vec::new();
    for t in targets {
        live.extend(fetch(client, t, selector).await?);
    }
    Ok(live)
}

async fn fetch(client: &ApiClient, t: Target, selector: Option<&str>) -> Result<Vec<Live>> {
    let ns = t.namespace.as_deref();
    let Some(name) = &t.name else {
        let mut path = t.res.collection_path(ns);
        if let Some(l) = selector {
            path.push_str(&format!("?labelSelector={}", q(l)));
        }
        let list = client.get(&path).await?;
        let items = list["items"].as_array().cloned().unwrap_or_default();
        return Ok(items
            .into_iter()
            .map(|mut object| {
                // List items come without their type.
                object["apiVersion"] = Value::String(t.res.api_version());
                object["kind"] = Value::String(t.res.kind.clone());
                Live {
                    object,
                    source: None,
                }
            })
            .collect());
    };
    let object = client.get(&t.res.object_path(ns, name)).await?;
    Ok(vec![Live {
        object,
        source: t.source,
    }])
}

/// The record on a live object, as written.
pub fn record(object: &Value) -> Option<&str> {
    object["metadata"]["annotations"][LAST_APPLIED].as_str()
}

/// Runs `apply view-last-applied`.
async fn view(ctx: &Ctx, a: ViewArgs) -> Result<()> {
    let mut wanted = Wanted {
        args: &a.args,
        files: &a.files,
        selector: a.selector.as_deref(),
        all: a.all,
        type_selects_all: false,
    };
    wanted.check()?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    wanted.type_selects_all = client.namespace_explicit;
    let mut records = Vec::new();
    for live in live_objects(&client, &mut disc, &wanted).await? {
        match (record(&live.object), &live.source) {
            (Some(r), _) => records.push(r.to_string()),
            // Upstream's error for an object read from a file; for one named on the command
            // line the same code path ends up with no error at all, and the object is skipped.
            (None, Some(source)) => {
                return Err(KubectlError::usage(format!(
                    "error when no last-applied-configuration annotation found on resource: {}\n {source:?}: <nil>",
                    live.object["metadata"]["name"].as_str().unwrap_or("")
                )))
            }
            (None, None) => {}
        }
    }
    for r in records {
        out(&render_record(&r, &a.output)?);
    }
    Ok(())
}

/// One record in `-o json` (re-indented as Go's `json.Indent` does: the text kept, trailing
/// newline included) or `-o yaml`.
fn render_record(record: &str, output: &str) -> Result<String> {
    match output {
        "json" => Ok(go_indent(record)),
        "yaml" => {
            let v: Value = serde_json::from_str(record)
                .map_err(|e| KubectlError::usage(format!("error converting JSON to YAML: {e}")))?;
            Ok(to_yaml(&v))
        }
        other => Err(KubectlError::usage(format!(
            "Unexpected -o output mode: {other}, the flag 'output' must be one of yaml|json\nSee 'kubectl apply view-last-applied -h' for help and examples"
        ))),
    }
}

/// Go's `json.Indent(dst, src, "", "  ")`: whitespace between tokens dropped, one element per
/// line, `{}` and `[]` kept on one line, whatever follows the value copied as it is.
fn go_indent(src: &str) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let (mut depth, mut level) = (0usize, 0usize);
    let (mut need_indent, mut in_string, mut escaped, mut started) = (false, false, false, false);
    for (i, c) in src.char_indices() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            if started && level == 0 {
                out.push_str(&src[i..]);
                return out;
            }
            continue;
        }
        if need_indent && c != ']' && c != '}' {
            need_indent = false;
            depth += 1;
            newline(&mut out, depth);
        }
        started = true;
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                need_indent = true;
                level += 1;
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            '}' | ']' => {
                if need_indent {
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                level = level.saturating_sub(1);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// `kubectl apply set-last-applied -f FILENAME`
#[derive(Debug, Args)]
pub struct SetArgs {
    /// Arguments are accepted and ignored, as upstream does.
    #[arg(hide = true)]
    args: Vec<String>,
    /// Files (or directories) with the objects and their new records.
    #[arg(short = 'f', long = "filename")]
    filename: Vec<String>,
    /// Also give a record to objects that have none.
    #[arg(long)]
    create_annotation: bool,
    #[command(flatten)]
    print_flags: PrintFlags,
    #[command(flatten)]
    dry_run: DryRunFlag,
}

/// The record an object gets from `set-last-applied` and `edit-last-applied`: its compact
/// JSON as Go's encoder writes it (keys sorted, a newline at the end).
pub fn record_of(object: &Value) -> String {
    format!("{}\n", go_escape(&object.to_string()))
}

/// The merge patch that sets the record of `object` to `record`.
pub fn record_patch(record: &str) -> Value {
    json!({"metadata": {"annotations": {LAST_APPLIED: record}}})
}

/// Runs `apply set-last-applied`: every object is checked first (and the first failure ends
/// the command before anything is written), then the records that differ are written.
async fn set(ctx: &Ctx, a: SetArgs) -> Result<()> {
    let dry = a.dry_run.strategy()?;
    let format = a.print_flags.format()?;
    if a.filename.is_empty() {
        return Err(KubectlError::usage(targets::MISSING_RESOURCE));
    }
    let manifests = manifest::read_all(&a.filename, false)?;
    let (client, disc) = ctx.client_and_discovery().await?;
    let mut writes = Vec::new();
    for m in &manifests {
        let res = manifest::resource_for(&disc, m)?;
        let ns = manifest::namespace_for(m, res, &client.namespace, client.namespace_explicit)?;
        let m = manifest::with_namespace(m, ns.as_deref());
        let name = m.object["metadata"]["name"].as_str().unwrap_or("");
        let live = client
            .get(&res.object_path(ns.as_deref(), name))
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    return e;
                }
                e.with_context(format!(
                    "error when retrieving current configuration of:\n{}\nfrom server for: \"{}\": ",
                    super::apply::object_info(res, name, ns.as_deref()),
                    m.source
                ))
            })?;
        let current = record(&live);
        if current.is_none() && !a.create_annotation {
            return Err(KubectlError::usage(format!(
                "no last-applied-configuration annotation found on resource: {name}, to create the annotation, run the command with --create-annotation"
            )));
        }
        let unchanged = current
            .and_then(|r| serde_json::from_str::<Value>(r).ok())
            .is_some_and(|r| r == m.object);
        if unchanged {
            out(&format!("set-last-applied {name}: no changes required.\n"));
            continue;
        }
        writes.push((
            res.clone(),
            ns,
            name.to_string(),
            record_of(&m.object),
            live,
        ));
    }
    for (res, ns, name, record, live) in writes {
        let written = if dry == DryRun::Client {
            live
        } else {
            let query = if dry == DryRun::Server {
                "?dryRun=All"
            } else {
                ""
            };
            client
                .request(
                    Method::PATCH,
                    &format!("{}{query}", res.object_path(ns.as_deref(), &name)),
                    "application/json",
                    Some(Body {
                        content_type: "application/merge-patch+json",
                        bytes: record_patch(&record).to_string().into_bytes(),
                    }),
                )
                .await?
        };
        a.print_flags.print(&format, &written, "configured", dry)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_records_are_indented_as_go_indents_them() {
        let record = "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"1\",\"q\":\"x, \\\"y\\\": {z}\"},\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{},\"labels\":[]}}\n";
        assert_eq!(
            go_indent(record),
            "{\n  \"apiVersion\": \"v1\",\n  \"data\": {\n    \"a\": \"1\",\n    \"q\": \"x, \\\"y\\\": {z}\"\n  },\n  \"kind\": \"ConfigMap\",\n  \"metadata\": {\n    \"annotations\": {},\n    \"labels\": []\n  }\n}\n"
        );
        // Whatever follows the value is kept as it is.
        assert_eq!(go_indent(" {\"a\":{}} \n"), "{\n  \"a\": {}\n} \n");
        assert_eq!(
            go_indent("{\"a\":[1, 2]}"),
            "{\n  \"a\": [\n    1,\n    2\n  ]\n}"
        );
    }

    #[test]
    fn records_print_as_yaml_or_json_only() {
        let record = "{\"kind\":\"ConfigMap\",\"data\":{\"a\":\"1\"}}\n";
        assert_eq!(
            render_record(record, "yaml").unwrap(),
            "data:\n  a: \"1\"\nkind: ConfigMap\n"
        );
        assert!(render_record(record, "json")
            .unwrap()
            .starts_with("{\n  \"kind\""));
        assert_eq!(
            render_record(record, "wide").unwrap_err().to_string(),
            "error: Unexpected -o output mode: wide, the flag 'output' must be one of yaml|json\nSee 'kubectl apply view-last-applied -h' for help and examples"
        );
    }

    #[test]
    fn records_are_compact_sorted_go_json() {
        let obj = json!({"metadata": {"name": "x"}, "apiVersion": "v1", "data": {"h": "<b>"}});
        assert_eq!(
            record_of(&obj),
            "{\"apiVersion\":\"v1\",\"data\":{\"h\":\"\\u003cb\\u003e\"},\"metadata\":{\"name\":\"x\"}}\n"
        );
        assert_eq!(
            record_patch("{}"),
            json!({"metadata": {"annotations": {LAST_APPLIED: "{}"}}})
        );
    }
}
