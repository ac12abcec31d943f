//! `kubectl label` and `kubectl annotate`: `KEY=VALUE` sets, `KEY-` removes, `--overwrite`
//! to change an existing value; sent as a JSON merge patch on metadata (or, with `--local`
//! or `--dry-run=client`, applied here), then printed as `-o` asks, or listed (`--list`).

mod changes;
mod targets;

use clap::Args;
use http::Method;
use serde_json::{json, Map, Value};

use self::changes::{apply_locally, shrinks};
pub use self::changes::{patch_for, split_args, Changes};
pub use self::targets::{resolve_objects, resolve_targets, Picking, Target};
use super::create::FileArgs;
use super::print_flags::{DryRun, DryRunFlag, PrintFlags};
use super::write::Write;
use super::Ctx;
use crate::client::{ApiClient, Body};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::manifest;
use crate::printers::OutputFormat;

/// Which metadata map the command edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `metadata.labels`
    Label,
    /// `metadata.annotations`
    Annotate,
}

impl Kind {
    /// The metadata map edited.
    pub fn field(self) -> &'static str {
        match self {
            Kind::Label => "labels",
            Kind::Annotate => "annotations",
        }
    }
    fn done(self) -> &'static str {
        match self {
            Kind::Label => "labeled",
            Kind::Annotate => "annotated",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Kind::Label => "label",
            Kind::Annotate => "annotation",
        }
    }

    fn field_manager(self) -> &'static str {
        match self {
            Kind::Label => "kubectl-label",
            Kind::Annotate => "kubectl-annotate",
        }
    }
}

/// `kubectl label|annotate`
#[derive(Debug, Args)]
pub struct LabelArgs {
    /// TYPE NAME KEY=VAL… or TYPE/NAME KEY=VAL… (KEY- removes).
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// If true, allow values to be overwritten.
    #[arg(long)]
    overwrite: bool,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Selector (field query) to filter on.
    #[arg(long)]
    field_selector: Option<String>,
    /// Select all resources in the namespace of the specified resource types.
    #[arg(long)]
    all: bool,
    /// With --all or a selector, look in all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// If true, display the labels (annotations) of the objects instead of changing them.
    #[arg(long)]
    list: bool,
    /// If true, change the objects of the -f files here only, without the server.
    #[arg(long)]
    local: bool,
    /// Change the object only if it is still at this resource version.
    #[arg(long)]
    resource_version: Option<String>,
    #[command(flatten)]
    pub print_flags: PrintFlags,
    #[command(flatten)]
    pub dry_run: DryRunFlag,
    /// Name of the manager used to track field ownership.
    #[arg(long)]
    field_manager: Option<String>,
}

/// Runs `kubectl label` / `kubectl annotate`.
pub async fn run(ctx: &Ctx, args: LabelArgs, kind: Kind) -> Result<()> {
    let (objects, changes) = split_args(&args.args);
    if kind == Kind::Label {
        changes::check_label_words(&changes)?;
    }
    if args.list && args.print_flags.output.is_some() {
        return Err(KubectlError::usage(
            "--list and --output may not be specified together",
        ));
    }
    if changes.set.is_empty() && changes.remove.is_empty() && !args.list {
        return Err(KubectlError::usage(format!(
            "at least one {} update is required",
            kind.word()
        )));
    }
    if args.local && args.files.filename.is_empty() {
        return Err(KubectlError::usage(
            "can only use local files by -f pod.yaml or --filename=pod.json when --local=true is set",
        ));
    }
    let format = args.print_flags.format()?;
    let dry = args.dry_run.strategy()?;
    let change = Change {
        kind,
        changes: &changes,
        args: &args,
        format: &format,
        write: Write::by(
            args.field_manager
                .as_deref()
                .unwrap_or(kind.field_manager()),
            dry,
        ),
    };
    if args.local {
        for m in manifest::read_all(&args.files.filename, args.files.recursive)? {
            change.print(&m.object)?;
        }
        return Ok(());
    }
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets = if args.files.filename.is_empty() {
        let picking = Picking {
            selector: args.selector.as_deref(),
            field_selector: args.field_selector.as_deref(),
            all: args.all,
            all_namespaces: args.all_namespaces,
        };
        resolve_objects(&client, &mut disc, &objects, picking).await?
    } else {
        file_targets(&client, &disc, &args.files)?
    };
    let one = targets.len() == 1;
    let mut errors = Vec::new();
    for t in targets {
        let r = async {
            let current = client.get(&t.path()).await?;
            if args.list {
                change.list(&current, &t, one)
            } else {
                change.apply(&client, &current, &t).await
            }
        };
        if let Err(e) = r.await {
            errors.push(e);
        }
    }
    super::get::report(errors)
}

/// The objects the `-f` manifests name, in their namespaces.
pub fn file_targets(client: &ApiClient, disc: &Discovery, files: &FileArgs) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    for m in manifest::read_all(&files.filename, files.recursive)? {
        let res = manifest::resource_for(disc, &m)?;
        let namespace =
            manifest::namespace_for(&m, res, &client.namespace, client.namespace_explicit)?;
        out.push(Target {
            res: res.clone(),
            namespace,
            name: m.object["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        });
    }
    Ok(out)
}

/// One run's change, applied to each object in turn.
struct Change<'a> {
    kind: Kind,
    changes: &'a Changes,
    args: &'a LabelArgs,
    format: &'a OutputFormat,
    write: Write,
}

impl Change<'_> {
    /// The merge patch for `current`, the word the outcome is printed with, and the object
    /// as the change leaves it (applied here, not sent).
    fn plan(&self, current: &Value) -> Result<(Option<Value>, &'static str, Value)> {
        let field = self.kind.field();
        let map = current["metadata"][field]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let patch = patch_for(&map, self.changes, self.args.overwrite, self.kind)?;
        let Some(mut patch) = patch else {
            let done = match self.kind {
                Kind::Label => "not labeled",
                Kind::Annotate => "annotated",
            };
            return Ok((None, done, current.clone()));
        };
        // Upstream says "unlabeled" when the object got smaller without --overwrite.
        let done = if shrinks(&map, &patch["metadata"][field])
            && !self.args.overwrite
            && matches!(self.kind, Kind::Label)
        {
            "unlabeled"
        } else {
            self.kind.done()
        };
        let after = apply_locally(current, &patch, self.kind);
        if let Some(rv) = &self.args.resource_version {
            patch["metadata"]["resourceVersion"] = json!(rv);
        }
        Ok((Some(patch), done, after))
    }

    /// `--local`: the manifest changed here and printed.
    fn print(&self, obj: &Value) -> Result<()> {
        let (_, done, after) = self.plan(obj)?;
        self.args
            .print_flags
            .print(self.format, &after, done, DryRun::None)
    }

    /// Changes one object on the server (or, dry, here) and prints the outcome.
    async fn apply(&self, client: &ApiClient, current: &Value, t: &Target) -> Result<()> {
        let (patch, done, after) = self.plan(current)?;
        let dry = self.write.dry;
        let result = match patch {
            Some(patch) if dry != DryRun::Client => {
                let body = Body {
                    content_type: "application/merge-patch+json",
                    bytes: patch.to_string().into_bytes(),
                };
                let path = format!("{}{}", t.path(), self.write.query());
                client
                    .request(Method::PATCH, &path, "application/json", Some(body))
                    .await?
            }
            _ => after,
        };
        self.args.print_flags.print(self.format, &result, done, dry)
    }

    /// `--list`: the map as the change would leave it, one `KEY=VALUE` a line; with several
    /// objects, each under a heading.
    fn list(&self, current: &Value, t: &Target, one: bool) -> Result<()> {
        let (_, _, after) = self.plan(current)?;
        let mut text = String::new();
        let indent = if one { "" } else { " " };
        if !one {
            text.push_str(&format!(
                "Listing {}s for {}.{}/{}:\n",
                self.kind.word(),
                t.res.kind,
                t.res.group,
                t.name
            ));
        }
        let map: Map<String, Value> = after["metadata"][self.kind.field()]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (k, v) in &map {
            text.push_str(&format!("{indent}{k}={}\n", v.as_str().unwrap_or_default()));
        }
        super::out(&text);
        Ok(())
    }
}
