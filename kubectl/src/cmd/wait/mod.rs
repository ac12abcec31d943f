//! `kubectl wait --for=create | delete | condition=C[=value] | jsonpath='{…}'[=value]` on
//! the objects named, listed (`-l`, `--field-selector`, `--all`, `-A`) or read from `-f`
//! files. Each object is printed once its condition is met, as `-o` asks (by default
//! `kind/name condition met`); with `--local` the files' objects are taken as they are.

mod condition;
mod targets;

use std::cell::Cell;
use std::time::Duration;

use clap::{ArgAction, Args};
use serde_json::Value;
use tokio::time::Instant;

use self::condition::parse_timeout;
pub use self::condition::{met, parse_for, Condition};
use self::targets::Finding;
use super::create::FileArgs;
use super::label::Target;
use super::print_flags::{DryRun, PrintFlags};
use super::{out, Ctx};
use crate::client::ApiClient;
use crate::error::{KubectlError, Result};
use crate::printers::OutputFormat;
use crate::watch;

/// `kubectl wait`
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// TYPE NAME… or TYPE/NAME…
    args: Vec<String>,
    #[command(flatten)]
    files: WaitFiles,
    /// The condition to wait on: [create|delete|condition=condition-name[=condition-value]|jsonpath='{JSONPath expression}'=[JSONPath value]].
    // Not required: upstream refuses an empty one as an unrecognized condition.
    #[arg(long = "for", default_value = "")]
    for_: String,
    /// The length of time to wait before giving up (e.g. 30s, 5m). Zero means check once
    /// and don't wait, negative means wait for a week.
    #[arg(long, default_value = "30s", value_parser = crate::flags::go_duration)]
    timeout: String,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Selector (field query) to filter on.
    #[arg(long)]
    field_selector: Option<String>,
    /// Select all resources in the namespace of the specified resource types.
    #[arg(long)]
    all: bool,
    /// If present, list the requested object(s) across all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// If true, take the objects of the -f files as they are, without asking the server.
    #[arg(long)]
    local: bool,
    #[command(flatten)]
    pub print_flags: PrintFlags,
}

/// `-f`/`-R` as upstream's wait has them: unlike most commands, recursive by default.
#[derive(Debug, Args, Clone)]
struct WaitFiles {
    /// Filename, directory, or URL to files identifying the resource.
    #[arg(short = 'f', long = "filename")]
    filename: Vec<String>,
    /// Process the directory used in -f, --filename recursively.
    #[arg(short = 'R', long, default_value_t = true, action = ArgAction::Set)]
    recursive: bool,
}

/// How often a create wait lists its selection again while it finds nothing.
const CREATE_POLL: Duration = Duration::from_secs(1);

/// Runs `kubectl wait`. Upstream checks the output format, then the condition, then the
/// objects; so do we.
pub async fn run(ctx: &Ctx, args: WaitArgs) -> Result<()> {
    let format = args.print_flags.format()?;
    let cond = parse_for(&args.for_)?;
    let timeout = parse_timeout(&args.timeout)?;
    let files = FileArgs {
        filename: args.files.filename.clone(),
        recursive: args.files.recursive,
    };
    let printer = Printer {
        flags: &args.print_flags,
        format: &format,
        printed: Cell::new(0),
    };
    if args.local {
        return wait_local(ctx, &args, &files, &cond, &printer).await;
    }
    let finding = Finding {
        args: &args.args,
        files: &files,
        selector: args.selector.as_deref(),
        field_selector: args.field_selector.as_deref(),
        all: args.all,
        all_namespaces: args.all_namespaces,
    };
    let selection = finding.check()?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let mut errors = Vec::new();
    let deadline = Instant::now() + timeout;
    let mut found = finding
        .find(&client, &mut disc, selection.as_ref(), &mut errors)
        .await?;
    // A create wait on a selection waits for the selection to find something.
    while cond == Condition::Create && found.is_empty() && errors.is_empty() {
        let now = Instant::now();
        if now >= deadline {
            return Err(KubectlError::usage("timed out waiting for the condition"));
        }
        tokio::time::sleep(CREATE_POLL.min(deadline - now)).await;
        found = finding
            .find(&client, &mut disc, selection.as_ref(), &mut errors)
            .await?;
    }
    let waiter = Waiter {
        client: &client,
        cond: &cond,
        deadline,
        once: timeout == Duration::ZERO,
    };
    let nothing_found = found.is_empty();
    for target in &found {
        match waiter.wait(target).await {
            Ok(Some(obj)) => printer.print(&obj)?,
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    // Nothing left to delete is what a delete wait waits for.
    if nothing_found && errors.is_empty() && cond != Condition::Delete {
        return Err(KubectlError::usage("no matching resources found"));
    }
    super::get::report(errors)
}

/// How met objects are shown.
struct Printer<'a> {
    flags: &'a PrintFlags,
    format: &'a OutputFormat,
    /// Objects printed so far: upstream's YAML printer starts each one after the first
    /// with a document separator.
    printed: Cell<usize>,
}

impl Printer<'_> {
    fn print(&self, obj: &Value) -> Result<()> {
        if matches!(self.format, OutputFormat::Yaml) && self.printed.get() > 0 {
            out("---\n");
        }
        self.printed.set(self.printed.get() + 1);
        self.flags
            .print(self.format, obj, "condition met", DryRun::None)
    }
}

/// `--local`: no server is asked, so only `--for=create` can be met: the objects exist as
/// written. (Upstream crashes on any other condition, as it has nothing to read; we refuse.)
async fn wait_local(
    ctx: &Ctx,
    args: &WaitArgs,
    files: &FileArgs,
    cond: &Condition,
    printer: &Printer<'_>,
) -> Result<()> {
    // Only for the namespace `-n` or the context names; nothing is sent.
    let client = ctx.client().await?;
    let mut errors = Vec::new();
    let objects = targets::local(
        &args.args,
        files,
        &client.namespace,
        client.namespace_explicit,
        &mut errors,
    )?;
    if *cond != Condition::Create && !objects.is_empty() {
        return Err(KubectlError::usage(
            "--local can only wait --for=create: any other condition needs the server",
        ));
    }
    for obj in &objects {
        printer.print(obj)?;
    }
    if objects.is_empty() && errors.is_empty() {
        return Err(KubectlError::usage("no matching resources found"));
    }
    super::get::report(errors)
}

/// One wait's condition and deadline, shared by all its objects.
struct Waiter<'a> {
    client: &'a ApiClient,
    cond: &'a Condition,
    deadline: Instant,
    /// `--timeout=0`: look once, never watch.
    once: bool,
}

impl Waiter<'_> {
    /// Waits for one object: the object as it met the condition (for a deletion, as it was
    /// last read), or None when it was already gone before a delete wait began (upstream's
    /// builder skips it without a word).
    async fn wait(&self, t: &Target) -> Result<Option<Value>> {
        let first = match self.client.get(&t.path()).await {
            Ok(obj) => obj,
            Err(e) if e.is_not_found() && *self.cond == Condition::Delete => return Ok(None),
            Err(e) if e.is_not_found() && *self.cond == Condition::Create => {
                return self.until_created(t).await.map(Some);
            }
            Err(e) => return Err(e),
        };
        if *self.cond != Condition::Delete && met(&first, self.cond) {
            return Ok(Some(first));
        }
        if self.once {
            return Err(KubectlError::usage(format!(
                "condition not met for {}/{}",
                t.res.plural, t.name
            )));
        }
        let collection = t.res.collection_path(t.namespace.as_deref());
        let cond = self.cond;
        let watched =
            watch::object_until_after(self.client, &collection, &first, self.deadline, |obj| {
                Ok(match obj {
                    Some(obj) => met(obj, cond).then(|| obj.clone()),
                    None => (*cond == Condition::Delete).then(|| first.clone()),
                })
            });
        match watched.await? {
            Some(obj) => Ok(Some(obj)),
            None => Err(KubectlError::usage(format!(
                "timed out waiting for the condition on {}/{}",
                t.res.plural, t.name
            ))),
        }
    }

    /// `--for=create` of an object not there yet: watched until it appears.
    async fn until_created(&self, t: &Target) -> Result<Value> {
        let collection = t.res.collection_path(t.namespace.as_deref());
        let created =
            watch::object_until(self.client, &collection, &t.name, self.deadline, |obj| {
                Ok(obj.cloned())
            });
        // Upstream's create wait words its timeout without the object.
        created
            .await?
            .ok_or_else(|| KubectlError::usage("timed out waiting for the condition"))
    }
}

#[cfg(test)]
mod tests {
    use crate::cmd::{Cli, Command};
    use crate::flags::{self, Refused};

    fn parse(line: &str) -> super::WaitArgs {
        let argv = std::iter::once("kubectl")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect();
        match flags::parse(argv) {
            Ok(Cli {
                command: Command::Wait(a),
                ..
            }) => a,
            Ok(other) => panic!("{line}: {other:?}"),
            Err(Refused::Usage(text)) => panic!("{line}: {text}"),
            Err(Refused::Shown(e)) => panic!("{line}: {e}"),
        }
    }

    #[test]
    fn files_are_read_recursively_unless_told_otherwise() {
        let a = parse("wait --for=create -f dir");
        assert_eq!(a.files.filename, vec!["dir".to_string()]);
        assert!(a.files.recursive);
        assert!(!parse("wait --for=create -f dir -R=false").files.recursive);
        assert!(
            !parse("wait --for=create -f dir --recursive=false")
                .files
                .recursive
        );
    }

    #[test]
    fn builder_and_print_flags_are_taken() {
        let a = parse(
            "wait pods --for=delete -A --field-selector=status.phase=Failed -l a=b --local -o name --show-managed-fields",
        );
        assert!(a.all_namespaces && a.local);
        assert_eq!(a.field_selector.as_deref(), Some("status.phase=Failed"));
        assert_eq!(a.print_flags.output.as_deref(), Some("name"));
        assert!(a.print_flags.show_managed_fields);
        // --for may be left out; the command then refuses the empty condition.
        assert_eq!(parse("wait pod/x").for_, "");
    }
}
