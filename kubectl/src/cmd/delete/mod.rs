//! `kubectl delete`: by file, by TYPE NAME / TYPE/NAME, by `-l`/`--field-selector` or
//! `--all`; optionally asking first (`-i`), only pretending (`--dry-run`), or sending one
//! raw DELETE (`--raw`). Waits for the objects to be gone unless `--wait=false`, for at
//! most `--timeout`.

mod confirm;
mod options;

use clap::Args;
use http::Method;
use serde_json::json;
use tokio::time::Instant;

use super::create::{DryRun, FileArgs};
use super::get::label_filter::Selector;
use super::get::raw;
use super::get::targets::{self, Scope, Target};
use super::print_flags::DryRunFlag;
use super::{out, Ctx};
use crate::client::{q, ApiClient, Body};
use crate::error::{KubectlError, Result};
use crate::resource::{self, Selection};

pub use options::propagation_policy;

/// `kubectl delete`
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// TYPE NAME…, TYPE/NAME…, or TYPE with -l/--all.
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Selector (field query) to filter on.
    #[arg(long)]
    field_selector: Option<String>,
    /// Delete all resources, in the namespace of the specified resource types.
    #[arg(long)]
    all: bool,
    /// If present, list the requested object(s) across all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Period of time in seconds given to the resource to terminate gracefully.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    grace_period: i64,
    /// If true, resources are signaled for immediate shutdown (same as --grace-period=1).
    #[arg(long)]
    now: bool,
    /// If true, immediately remove resources from API and bypass graceful deletion.
    #[arg(long)]
    force: bool,
    /// If true, wait for resources to be gone before returning.
    #[arg(long, default_value = "true", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    wait: String,
    /// The length of time to wait before giving up on a delete (zero: a week).
    #[arg(long, default_value = "0s", value_parser = crate::flags::go_duration)]
    timeout: String,
    /// Must be "background", "orphan", or "foreground".
    #[arg(long, default_value = "background", num_args = 0..=1, require_equals = true, default_missing_value = "background")]
    cascade: String,
    #[command(flatten)]
    dry_run: DryRunFlag,
    /// Treat "resource not found" as a successful delete.
    #[arg(long)]
    ignore_not_found: bool,
    /// Output mode. Use "-o name" for shorter output (resource/name).
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// Raw URI to DELETE to the server.
    #[arg(long)]
    raw: Option<String>,
    /// If true, delete resource only when user confirms.
    #[arg(short = 'i', long)]
    interactive: bool,
}

impl DeleteArgs {
    fn selector(&self) -> Option<&str> {
        self.selector.as_deref().filter(|s| !s.is_empty())
    }

    fn field_selector(&self) -> Option<&str> {
        self.field_selector.as_deref().filter(|s| !s.is_empty())
    }

    /// Objects are found by listing rather than named.
    fn listing(&self) -> bool {
        self.all || self.selector().is_some() || self.field_selector().is_some()
    }

    fn raw_uri(&self) -> Option<&str> {
        self.raw.as_deref().filter(|r| !r.is_empty())
    }

    fn checked(&self, grace: Option<i64>) -> options::Checked<'_> {
        options::Checked {
            output: self.output.as_deref().unwrap_or(""),
            all: self.all,
            label_selector: self.selector().is_some(),
            field_selector: self.field_selector().is_some(),
            raw: self.raw_uri(),
            interactive: self.interactive,
            filenames: &self.files.filename,
            recursive: self.files.recursive,
            grace,
            force: self.force,
        }
    }
}

/// Runs `kubectl delete`.
pub async fn run(ctx: &Ctx, args: DeleteArgs) -> Result<()> {
    let propagation = propagation_policy(&args.cascade)?;
    let grace = options::grace_period(args.grace_period, args.now, args.force)?;
    let dry = args.dry_run.strategy()?;
    if let Some(uri) = args.raw_uri() {
        options::validate(&args.checked(grace))?;
        let client = ctx.client().await?;
        let body = raw::delete_body(args.files.filename.first().map(String::as_str))?;
        return raw::delete(&client, uri, body).await;
    }
    let selection = selection(&args)?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let scope = Scope::of(&client, args.all_namespaces);
    let mut errors = Vec::new();
    let targets = match &selection {
        Some(sel) => {
            let targets = targets::from_args(&client, &mut disc, sel, &scope).await?;
            if !args.listing() && targets.iter().any(|t| t.name.is_none()) {
                return Err(KubectlError::usage(
                    "resource(s) were provided, but no name was specified",
                ));
            }
            targets
        }
        None => {
            // Upstream judges the objects as the manifests write them (they are not read).
            let only = match args.selector() {
                Some(s) => Some(Selector::parse(s).map_err(KubectlError::usage)?),
                None => None,
            };
            targets::from_manifests(&disc, &args.files, &scope, only.as_ref(), &mut errors)?
        }
    };
    options::validate(&args.checked(grace))?;

    let victims = victims(&client, &args, targets).await?;
    // Upstream's preview stops at the first object it cannot name, before asking.
    if args.interactive && !errors.is_empty() {
        return super::get::report(errors);
    }
    if args.interactive && !victims.is_empty() {
        let names: Vec<String> = victims.iter().map(kind_and_name).collect();
        out(&confirm::prompt(&names));
        if !confirm::confirmed(std::io::stdin().lock()) {
            out("deletion is cancelled\n");
            return Ok(());
        }
    }
    if victims.is_empty() && errors.is_empty() {
        out("No resources found\n");
        return Ok(());
    }

    let mut body =
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation});
    if let Some(g) = grace {
        body["gracePeriodSeconds"] = json!(g);
    }
    let mut deletion = Deletion {
        body,
        dry,
        printer: Printer {
            name_only: args.output.as_deref() == Some("name"),
            verb: verb(grace, dry),
        },
        ignore_not_found: args.ignore_not_found || args.listing(),
        warn_cluster_scope: scope.explicit,
    };
    let deleted = deletion.delete(&client, victims, &mut errors).await;
    // Upstream stops at failures without waiting for what did go.
    if !errors.is_empty() {
        return super::get::report(errors);
    }
    if args.wait != "false" && dry == DryRun::None {
        let timeout = crate::flags::go_duration_secs(&args.timeout).unwrap_or(0.0);
        let deadline = options::wait_timeout(timeout).map(|t| Instant::now() + t);
        for (v, uid) in &deleted {
            wait_gone(&client, v, uid.as_deref(), deadline).await?;
        }
    }
    Ok(())
}

/// How each object is deleted and reported.
struct Deletion {
    /// The DeleteOptions sent.
    body: serde_json::Value,
    dry: DryRun,
    printer: Printer,
    ignore_not_found: bool,
    /// A cluster-scoped object deleted under an explicit -n gets one warning.
    warn_cluster_scope: bool,
}

impl Deletion {
    /// Deletes `victims` in order, carrying on past failures (collected in `errors`);
    /// returns what went, with the uid each had.
    async fn delete(
        &mut self,
        client: &ApiClient,
        victims: Vec<Target>,
        errors: &mut Vec<KubectlError>,
    ) -> Vec<(Target, Option<String>)> {
        let mut deleted = Vec::new();
        for v in victims {
            if self.warn_cluster_scope && !v.res.namespaced {
                eprintln!(
                    "Warning: deleting cluster-scoped resources, not scoped to the provided namespace"
                );
                self.warn_cluster_scope = false;
            }
            if self.dry == DryRun::Client {
                self.printer.print(&v);
                continue;
            }
            if v.lacks_namespace() {
                // client-go refuses to build the request.
                errors.push(KubectlError::usage(format!(
                    "error when deleting \"{}\": an empty namespace may not be set when a resource name is provided",
                    v.source.as_deref().unwrap_or("")
                )));
                continue;
            }
            match delete_one(client, &v, &self.body, self.dry).await {
                Ok(uid) => {
                    self.printer.print(&v);
                    deleted.push((v, uid));
                }
                Err(e) if e.is_not_found() && self.ignore_not_found => {}
                Err(e) => errors.push(match &v.source {
                    Some(source) => e.with_context(format!("error when deleting \"{source}\": ")),
                    None => e,
                }),
            }
        }
        deleted
    }
}

/// What the arguments select (None: the manifests of `-f`), refused as upstream's builder
/// refuses it before any type is looked up.
fn selection(args: &DeleteArgs) -> Result<Option<Selection>> {
    if !args.files.filename.is_empty() {
        // A missing file is reported before arguments that do not go with files.
        for f in &args.files.filename {
            if f != "-" && !std::path::Path::new(f).exists() {
                return Err(KubectlError::usage(format!(
                    "the path \"{f}\" does not exist"
                )));
            }
        }
        targets::files_conflict(&args.args)?;
        return Ok(None);
    }
    if args.args.is_empty() {
        return Err(KubectlError::usage(if args.listing() {
            "at least one resource must be specified to use a selector"
        } else {
            targets::MISSING_RESOURCE
        }));
    }
    let sel = resource::parse_args(&args.args)?;
    targets::selector_conflict(&sel, args.listing())?;
    Ok(Some(sel))
}

/// The objects to delete: named ones as they are, listed types by what their lists hold.
async fn victims(
    client: &ApiClient,
    args: &DeleteArgs,
    targets: Vec<Target>,
) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    let mut qs = Vec::new();
    if let Some(l) = args.selector() {
        qs.push(format!("labelSelector={}", q(l)));
    }
    if let Some(f) = args.field_selector() {
        qs.push(format!("fieldSelector={}", q(f)));
    }
    for t in targets {
        if t.name.is_some() {
            out.push(t);
            continue;
        }
        let list = client
            .get(&format!(
                "{}?{}",
                t.res.collection_path(t.namespace.as_deref()),
                qs.join("&")
            ))
            .await?;
        for item in list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            out.push(Target {
                res: t.res.clone(),
                namespace: item["metadata"]["namespace"].as_str().map(String::from),
                name: item["metadata"]["name"].as_str().map(String::from),
                source: None,
            });
        }
    }
    Ok(out)
}

fn kind_and_name(t: &Target) -> String {
    format!(
        "{}/{}",
        t.res.kind_prefix(),
        t.name.as_deref().unwrap_or("")
    )
}

/// The word for what happened: force deletions and dry runs are named as such.
fn verb(grace: Option<i64>, dry: DryRun) -> String {
    let verb = if grace == Some(0) {
        "force deleted"
    } else {
        "deleted"
    };
    match dry {
        DryRun::None => verb.to_string(),
        DryRun::Client => format!("{verb} (dry run)"),
        DryRun::Server => format!("{verb} (server dry run)"),
    }
}

/// Prints one deleted object.
struct Printer {
    name_only: bool,
    verb: String,
}

impl Printer {
    fn print(&self, t: &Target) {
        let name = t.name.as_deref().unwrap_or("");
        if self.name_only {
            out(&format!("{}\n", kind_and_name(t)));
        } else {
            out(&format!(
                "{} \"{name}\" {}\n",
                t.res.kind_prefix(),
                self.verb
            ));
        }
    }
}

/// Sends the DELETE; returns the uid of what was deleted, to tell it from a successor.
async fn delete_one(
    client: &ApiClient,
    v: &Target,
    body: &serde_json::Value,
    dry: DryRun,
) -> Result<Option<String>> {
    let path = v
        .res
        .object_path(v.namespace.as_deref(), v.name.as_deref().unwrap_or(""));
    // Upstream asks for a server dry run in the DeleteOptions, not the query.
    let mut body = body.clone();
    if dry == DryRun::Server {
        body["dryRun"] = json!(["All"]);
    }
    let resp = client
        .request(
            Method::DELETE,
            &path,
            "application/json",
            Some(Body::json(&body)),
        )
        .await?;
    Ok(resp["metadata"]["uid"]
        .as_str()
        .or(resp["details"]["uid"].as_str())
        .map(String::from))
}

/// Waits until the object is gone (or replaced by one with another uid), watching it rather
/// than polling. Passing `deadline` is upstream's timeout error.
async fn wait_gone(
    client: &ApiClient,
    v: &Target,
    uid: Option<&str>,
    deadline: Option<Instant>,
) -> Result<()> {
    let name = v.name.as_deref().unwrap_or("");
    let collection = v.res.collection_path(v.namespace.as_deref());
    // No deadline: far enough away to never come.
    let deadline = deadline
        .unwrap_or_else(|| Instant::now() + std::time::Duration::from_secs(10 * 365 * 86_400));
    let gone = crate::watch::object_until(client, &collection, name, deadline, |obj| {
        Ok(match obj {
            None => Some(()),
            Some(o) if uid.is_some() && o["metadata"]["uid"].as_str() != uid => Some(()),
            Some(_) => None,
        })
    })
    .await;
    match gone {
        Ok(Some(())) => Ok(()),
        Ok(None) => Err(KubectlError::usage(format!(
            "timed out waiting for the condition on {}/{name}",
            v.res.plural
        ))),
        // Upstream gives up quietly when it may not watch.
        Err(KubectlError::Server {
            code: 403 | 405, ..
        }) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::print_flags::DRY_RUN_ALONE;
    use clap::Parser;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        delete: DeleteArgs,
    }

    fn parse(line: &[&str]) -> DeleteArgs {
        Line::parse_from(std::iter::once("delete").chain(line.iter().copied())).delete
    }

    fn refusal(line: &[&str]) -> String {
        selection(&parse(line))
            .map(|_| "accepted".to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn selections_refused_before_any_lookup() {
        assert_eq!(refusal(&["cm", "x"]), "accepted");
        assert_eq!(refusal(&["cm", "--all"]), "accepted");
        assert!(refusal(&[]).starts_with("error: You must provide one or more resources"));
        assert_eq!(
            refusal(&["--all"]),
            "error: at least one resource must be specified to use a selector"
        );
        assert_eq!(
            refusal(&["cm", "x", "-l", "a=b"]),
            "error: name cannot be provided when a selector is specified"
        );
        assert_eq!(
            refusal(&["cm/x", "--all"]),
            "error: selectors and the all flag cannot be used when passing resource/name arguments"
        );
        assert_eq!(
            refusal(&["cm", "-f", "/nonexistent.yaml"]),
            "error: the path \"/nonexistent.yaml\" does not exist"
        );
    }

    #[test]
    fn dry_run_and_wait_take_values_only_with_equals() {
        let a = parse(&["--dry-run", "cm", "x"]);
        assert_eq!(a.dry_run.value.as_deref(), Some(DRY_RUN_ALONE));
        assert_eq!(a.args, ["cm", "x"]);
        assert_eq!(
            parse(&["--dry-run=server"]).dry_run.value.as_deref(),
            Some("server")
        );
        assert_eq!(parse(&["--cascade", "cm"]).cascade, "background");
    }

    #[test]
    fn verbs_name_force_and_dry_runs() {
        assert_eq!(verb(None, DryRun::None), "deleted");
        assert_eq!(verb(Some(0), DryRun::None), "force deleted");
        assert_eq!(verb(Some(1), DryRun::Client), "deleted (dry run)");
        assert_eq!(
            verb(Some(0), DryRun::Server),
            "force deleted (server dry run)"
        );
    }
}
