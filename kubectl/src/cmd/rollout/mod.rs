//! `kubectl rollout status|restart|pause|resume|history|undo`: pause and resume for
//! Deployments, everything else also for DaemonSets and StatefulSets (their history is their
//! ControllerRevisions; a Deployment's, its ReplicaSets).
//!
//! This file holds the flags and picks the objects (names, `-l`, or `-f` files, as upstream's
//! resource builder does); each subcommand's work is in its own module.

mod history;
mod pause;
mod restart;
mod revisions;
mod status;
mod undo;

use clap::{Args, Subcommand};
use http::Method;
use serde_json::Value;

use super::create::FileArgs;
use super::get::label_filter::Selector;
use super::label::{file_targets, resolve_objects, Picking, Target};
use super::print_flags::{DryRun, DryRunFlag, PrintFlags};
use super::write::Write;
use super::Ctx;
use crate::client::{ApiClient, Body};
use crate::error::{KubectlError, Result};
use crate::resource::ApiResource;

/// `kubectl rollout`
#[derive(Debug, Args)]
pub struct RolloutArgs {
    #[command(subcommand)]
    command: RolloutCommand,
}

/// The objects of a rollout command: names, a type with a selector, or `-f` files.
#[derive(Debug, Args)]
struct Targets {
    /// TYPE NAME…, TYPE/NAME…, or TYPE with -l.
    args: Vec<String>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    #[command(flatten)]
    files: FileArgs,
}

/// The flags of the commands that patch the object and print it (pause, resume, restart).
#[derive(Debug, Args)]
struct PatchFlags {
    #[command(flatten)]
    print_flags: PrintFlags,
    /// Name of the manager used to track field ownership.
    #[arg(long, default_value = "kubectl-rollout")]
    field_manager: String,
}

#[derive(Debug, Subcommand)]
enum RolloutCommand {
    /// Show the status of the rollout.
    Status {
        #[command(flatten)]
        targets: Targets,
        /// Watch the status of the rollout until it's done.
        #[arg(short = 'w', long, default_value_t = true, action = clap::ArgAction::Set)]
        watch: bool,
        /// Pin to a specific revision for showing its status. Defaults to 0 (last revision).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        revision: i64,
        /// The length of time to wait before ending watch, zero means never.
        #[arg(long, default_value = "0s", value_parser = crate::flags::go_duration)]
        timeout: String,
    },
    /// Restart a resource.
    Restart {
        #[command(flatten)]
        targets: Targets,
        #[command(flatten)]
        patch: PatchFlags,
    },
    /// View rollout history.
    History {
        #[command(flatten)]
        targets: Targets,
        /// See the details, including podTemplate of the revision specified.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        revision: i64,
        #[command(flatten)]
        print_flags: PrintFlags,
    },
    /// Mark the provided resource as paused.
    Pause {
        #[command(flatten)]
        targets: Targets,
        #[command(flatten)]
        patch: PatchFlags,
    },
    /// Resume a paused resource.
    Resume {
        #[command(flatten)]
        targets: Targets,
        #[command(flatten)]
        patch: PatchFlags,
    },
    /// Undo a previous rollout.
    Undo {
        #[command(flatten)]
        targets: Targets,
        /// The revision to rollback to. Default to 0 (last revision).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        to_revision: i64,
        #[command(flatten)]
        print_flags: PrintFlags,
        #[command(flatten)]
        dry_run: DryRunFlag,
    },
}

impl RolloutCommand {
    fn targets(&self) -> &Targets {
        match self {
            RolloutCommand::Status { targets, .. }
            | RolloutCommand::Restart { targets, .. }
            | RolloutCommand::Pause { targets, .. }
            | RolloutCommand::Resume { targets, .. }
            | RolloutCommand::History { targets, .. }
            | RolloutCommand::Undo { targets, .. } => targets,
        }
    }

    /// Upstream's `Validate`: what is refused before anything is read from the server.
    fn validate(&self) -> Result<()> {
        let t = self.targets();
        if t.args.is_empty() && t.files.filename.is_empty() {
            return Err(KubectlError::usage("required resource not specified"));
        }
        if let RolloutCommand::Status { revision, .. } | RolloutCommand::History { revision, .. } =
            self
        {
            if *revision < 0 {
                return Err(KubectlError::usage(format!(
                    "revision must be a positive integer: {revision}"
                )));
            }
        }
        files_or_names(t)
    }

    /// Whether upstream says "No resources found" when a selector picks nothing (the
    /// commands that patch, and status; history and undo just print nothing).
    fn reports_nothing_found(&self) -> bool {
        !matches!(
            self,
            RolloutCommand::History { .. } | RolloutCommand::Undo { .. }
        )
    }
}

/// Runs `kubectl rollout …`.
pub async fn run(ctx: &Ctx, args: RolloutArgs) -> Result<()> {
    let command = &args.command;
    // Upstream reads --dry-run (and logs its deprecations) once, while completing the
    // options, before validating them.
    let dry = match command {
        RolloutCommand::Undo { dry_run, .. } => dry_run.strategy()?,
        _ => DryRun::None,
    };
    command.validate()?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let t = command.targets();
    let mut errors = Vec::new();
    let targets = if t.files.filename.is_empty() {
        let picking = Picking {
            selector: t.selector.as_deref(),
            ..Picking::default()
        };
        resolve_objects(&client, &mut disc, &t.args, picking).await?
    } else {
        let targets = file_targets(&client, &disc, &t.files)?;
        match t.selector.as_deref() {
            Some(selector) => labelled(&client, targets, selector, &mut errors).await?,
            None => targets,
        }
    };
    if targets.is_empty() && errors.is_empty() && command.reports_nothing_found() {
        eprintln!("No resources found in {} namespace.", client.namespace);
        return Ok(());
    }
    for target in &targets {
        if let Err(e) = run_one(&client, command, target, dry).await {
            errors.push(e);
        }
    }
    super::get::report(errors)
}

/// Upstream's builder takes objects from files or from arguments, never both; it names the
/// arguments it refuses by their form.
fn files_or_names(t: &Targets) -> Result<()> {
    if t.files.filename.is_empty() || t.args.is_empty() {
        return Ok(());
    }
    Err(KubectlError::usage(
        if t.args.iter().any(|a| a.contains('/')) {
            "resource/name arguments cannot be provided when a path is specified"
        } else {
            "when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well"
        },
    ))
}

/// The `-f` objects whose labels on the server match `-l` (upstream filters what its
/// builder read, after reading each object's latest version). An object that cannot be
/// read is an error of its own, and the others go on.
async fn labelled(
    client: &ApiClient,
    targets: Vec<Target>,
    selector: &str,
    errors: &mut Vec<KubectlError>,
) -> Result<Vec<Target>> {
    let selector = Selector::parse(selector).map_err(KubectlError::usage)?;
    let mut out = Vec::new();
    for t in targets {
        match client.get(&t.path()).await {
            Ok(obj) if selector.matches(obj["metadata"]["labels"].as_object()) => out.push(t),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    Ok(out)
}

/// One object's part of the command (`dry`: undo's dry run).
async fn run_one(
    client: &ApiClient,
    command: &RolloutCommand,
    t: &Target,
    dry: DryRun,
) -> Result<()> {
    match command {
        RolloutCommand::Pause { patch, .. } => pause::set_paused(client, t, patch, true).await,
        RolloutCommand::Resume { patch, .. } => pause::set_paused(client, t, patch, false).await,
        RolloutCommand::Restart { patch, .. } => restart::restart(client, t, patch).await,
        RolloutCommand::Status {
            watch,
            revision,
            timeout,
            ..
        } => {
            if !HAS_ROLLOUTS.contains(&t.res.kind.as_str()) {
                return Err(not_implemented(command, &t.res));
            }
            let watching = status::Watching {
                watch: *watch,
                revision: *revision,
                timeout,
            };
            status::status(client, t, &watching).await
        }
        _ if !HAS_ROLLOUTS.contains(&t.res.kind.as_str()) => Err(not_implemented(command, &t.res)),
        RolloutCommand::History {
            revision,
            print_flags,
            ..
        } => history::history(client, t, *revision, print_flags).await,
        RolloutCommand::Undo {
            to_revision,
            print_flags,
            ..
        } => undo::undo(client, t, *to_revision, print_flags, dry).await,
    }
}

/// The kinds whose rollouts `status`, `restart`, `history` and `undo` follow.
const HAS_ROLLOUTS: [&str; 3] = ["Deployment", "DaemonSet", "StatefulSet"];

fn not_implemented(command: &RolloutCommand, res: &ApiResource) -> KubectlError {
    // A GroupKind as Go prints it: `ConfigMap`, `ReplicaSet.apps`.
    let group_kind = if res.group.is_empty() {
        res.kind.clone()
    } else {
        format!("{}.{}", res.kind, res.group)
    };
    KubectlError::usage(match command {
        RolloutCommand::Status { .. } => {
            format!("no status viewer has been implemented for {group_kind}")
        }
        RolloutCommand::History { .. } => format!(
            "error retrieving history for {:?}, no visitor method exists for {{{} {}}}",
            res.kind, res.group, res.kind
        ),
        _ => format!(
            "error retrieving rollbacker for {:?}, no visitor method exists for {{{} {}}}",
            res.kind, res.group, res.kind
        ),
    })
}

/// `deployments.apps "web"`: how upstream names an object in rollout errors.
fn named(t: &Target) -> String {
    format!("{} {:?}", t.res.qualified_plural(), t.name)
}

/// Sends the strategic merge patch pause, resume and restart compute, as `field_manager`,
/// and gives back the object the server answers with (what `-o` prints).
async fn send_patch(
    client: &ApiClient,
    t: &Target,
    patch: &Value,
    field_manager: &str,
) -> Result<Value> {
    let path = format!(
        "{}{}",
        t.path(),
        Write::by(field_manager, DryRun::None).query()
    );
    client
        .request(
            Method::PATCH,
            &path,
            "application/json",
            Some(Body::strategic_merge_patch(patch)),
        )
        .await
        .map_err(|e| {
            KubectlError::usage(format!(
                "failed to patch: {}",
                e.to_string().trim_start_matches("error: ")
            ))
        })
}

/// An object of `kind` for the modules' tests.
#[cfg(test)]
fn test_target(kind: &str, group: &str, plural: &str) -> Target {
    Target {
        res: ApiResource {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: String::new(),
            short_names: vec![],
            namespaced: true,
            verbs: vec![],
            categories: vec![],
            preferred: true,
        },
        namespace: Some("ns".into()),
        name: "web".into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::cmd::{Cli, Command};
    use crate::flags::{self, Refused};

    use super::*;

    fn parse(line: &str) -> std::result::Result<RolloutCommand, String> {
        let argv = std::iter::once("kubectl")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect();
        match flags::parse(argv) {
            Ok(Cli {
                command: Command::Rollout(a),
                ..
            }) => Ok(a.command),
            Ok(other) => Err(format!("{:?}", other.command)),
            Err(Refused::Usage(text)) => Err(text),
            Err(Refused::Shown(e)) => Err(e.to_string()),
        }
    }

    #[test]
    fn every_subcommand_takes_upstreams_flags() {
        let files = "-f x.yaml -R";
        let print =
            "-o yaml --template={{.kind}} --show-managed-fields --allow-missing-template-keys=false";
        for line in [
            format!("rollout pause {files} {print} --field-manager=me"),
            format!("rollout resume {files} {print} --field-manager=me"),
            format!("rollout restart {files} {print} --field-manager=me"),
            format!("rollout undo {files} {print} --dry-run=server --to-revision=2"),
            format!("rollout history {files} {print} --revision=1"),
            format!("rollout status {files} --revision=3 --watch=false --timeout=1s"),
        ] {
            let command = parse(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
            let t = command.targets();
            assert_eq!(t.files.filename, ["x.yaml"], "{line}");
            assert!(t.files.recursive, "{line}");
        }
        // Status prints no objects and undo sets no field manager, as upstream.
        for line in [
            "rollout status deploy/x --output=yaml",
            "rollout undo deploy/x --field-manager=me",
            "rollout pause deploy/x --dry-run",
        ] {
            let refused = parse(line).unwrap_err();
            assert!(refused.contains("unknown flag"), "{line}: {refused}");
        }
    }

    #[test]
    fn field_manager_defaults_to_kubectl_rollout() {
        let Ok(RolloutCommand::Pause { patch, .. }) = parse("rollout pause deploy/x") else {
            panic!("not a pause");
        };
        assert_eq!(patch.field_manager, "kubectl-rollout");
        let Ok(RolloutCommand::Restart { patch, .. }) =
            parse("rollout restart deploy/x --field-manager=me")
        else {
            panic!("not a restart");
        };
        assert_eq!(patch.field_manager, "me");
    }

    #[test]
    fn validation_follows_upstream() {
        let refused = |line: &str| {
            parse(line)
                .unwrap_or_else(|e| panic!("{line}: {e}"))
                .validate()
                .unwrap_err()
                .to_string()
        };
        for sub in ["pause", "resume", "restart", "undo", "history", "status"] {
            assert_eq!(
                refused(&format!("rollout {sub}")),
                "error: required resource not specified"
            );
        }
        // The resource comes first: a bad revision without one is still "not specified".
        assert_eq!(
            refused("rollout status --revision=-1"),
            "error: required resource not specified"
        );
        assert_eq!(
            refused("rollout status deploy/x --revision=-1"),
            "error: revision must be a positive integer: -1"
        );
        assert_eq!(
            refused("rollout history -f x.yaml --revision=-2"),
            "error: revision must be a positive integer: -2"
        );
        assert!(parse("rollout undo -f x.yaml").unwrap().validate().is_ok());
        assert_eq!(
            refused("rollout pause deploy/x -f x.yaml"),
            "error: resource/name arguments cannot be provided when a path is specified"
        );
        assert_eq!(
            refused("rollout pause deploy x -f x.yaml"),
            "error: when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well"
        );
    }
}
