//! `kubectl apply`'s flags beyond files, output and writes: which objects of the files take
//! part (`-l`), pruning (`--prune`, `--all`, `--prune-allowlist`), how objects are deleted
//! when `--force` re-creates them or `--prune` removes them (`--cascade`, `--grace-period`,
//! `--timeout`, `--wait`), and `--overwrite`, `--openapi-patch`, `--subresource` — with
//! upstream's refusals of their combinations, checked in upstream's order.

use std::time::Duration;

use clap::Args;
use serde_json::{json, Value};

use super::get::label_filter::Selector;
use super::print_flags::DryRun;
use crate::error::{KubectlError, Result};

/// The flags upstream's apply has on top of `-f`, the output flags and the write flags.
#[derive(Debug, Args, Clone)]
pub struct ApplyOptionArgs {
    /// Only the objects of the files whose labels match this selector take part (and only matching objects are pruned).
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// With --prune: consider every object of the pruned types, whatever its labels.
    #[arg(long)]
    pub all: bool,
    /// Delete objects that an earlier apply (or create --save-config) made and that the files no longer contain; needs -l or --all.
    #[arg(long)]
    pub prune: bool,
    /// A type --prune may delete, as group/version/kind (core for the core group); repeatable. Replaces the built-in list.
    #[arg(long = "prune-allowlist")]
    pub prune_allowlist: Vec<String>,
    /// If true, an object whose patch the server refuses as conflicting or invalid is deleted and created again.
    #[arg(long)]
    pub force: bool,
    /// When false, refuse a patch that would replace values others changed since the last apply.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub overwrite: bool,
    /// What happens to dependents of deleted objects: background, foreground or orphan.
    #[arg(long, default_value = "background", num_args = 0..=1, require_equals = true, default_missing_value = "background")]
    pub cascade: String,
    /// Seconds deleted objects get to shut down; negative leaves it to the server.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub grace_period: i64,
    /// How long --force waits for the old object to disappear before creating the new one.
    #[arg(long, default_value = "0s", value_parser = crate::flags::go_duration)]
    pub timeout: String,
    /// Accepted as upstream's apply accepts it: its deletions (--force, --prune) never wait for finalizers.
    #[arg(long)]
    pub wait: bool,
    /// Accepted; the patch is the same either way here (it is computed from the objects, not
    /// from OpenAPI). Only a refused --overwrite=false patch reads it: when true, upstream's
    /// warnings for its two OpenAPI attempts come first.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub openapi_patch: bool,
    /// With --server-side: apply to this subresource (e.g. status, scale) of each object.
    #[arg(long)]
    pub subresource: Option<String>,
}

/// How apply deletes: `--force`'s delete before re-creating, and `--prune`'s deletions.
#[derive(Debug, Clone, PartialEq)]
pub struct Deletion {
    /// DeleteOptions.propagationPolicy.
    pub propagation: &'static str,
    /// DeleteOptions.gracePeriodSeconds, when `--grace-period` is not negative.
    pub grace: Option<i64>,
    /// How long `--force` waits for the old object to be gone.
    pub timeout: Duration,
}

impl Deletion {
    /// The DeleteOptions body; a server dry run is asked for in it, as client-go does.
    pub fn body(&self, dry: DryRun) -> Value {
        let mut body = json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": self.propagation});
        if let Some(g) = self.grace {
            body["gracePeriodSeconds"] = json!(g);
        }
        if dry == DryRun::Server {
            body["dryRun"] = json!(["All"]);
        }
        body
    }
}

/// The mode of the apply, as far as [`ApplyOptionArgs::validate`] needs it.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    /// `--server-side`
    pub server_side: bool,
    /// `--force-conflicts`
    pub force_conflicts: bool,
    /// `--dry-run`
    pub dry: DryRun,
}

impl ApplyOptionArgs {
    /// `-l`, when not empty.
    pub fn selector(&self) -> Option<&str> {
        self.selector
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// `--subresource`, when not empty.
    pub fn subresource(&self) -> Option<&str> {
        self.subresource.as_deref().filter(|s| !s.is_empty())
    }

    /// The selector that picks the objects of the files taking part, parsed.
    pub fn file_filter(&self) -> Result<Option<Selector>> {
        self.selector()
            .map(|s| Selector::parse(s).map_err(KubectlError::usage))
            .transpose()
    }

    /// What the deletion flags ask for; an unknown `--cascade` is refused here, where
    /// upstream refuses it (before `-f` is looked at).
    pub fn deletion(&self) -> Result<Deletion> {
        let propagation = super::delete::propagation_policy(&self.cascade)?;
        let timeout = crate::flags::go_duration_secs(&self.timeout)
            .filter(|s| *s > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(Duration::ZERO);
        Ok(Deletion {
            propagation,
            grace: (self.grace_period >= 0).then_some(self.grace_period),
            timeout,
        })
    }

    /// `--prune-allowlist` as `(group, version, kind)`, `core` meaning the core group; only
    /// read with `--prune`, as upstream.
    pub fn allowlist(&self) -> Result<Vec<(String, String, String)>> {
        if !self.prune {
            return Ok(Vec::new());
        }
        parse_allowlist(&self.prune_allowlist)
    }

    /// Upstream's refusals of flag combinations, in its order.
    pub fn validate(&self, mode: Mode) -> Result<()> {
        let refuse = |text: &str| Err(KubectlError::usage(text));
        if mode.force_conflicts && !mode.server_side {
            return refuse("--force-conflicts only works with --server-side");
        }
        if mode.dry == DryRun::Client && mode.server_side {
            return refuse("--dry-run=client doesn't work with --server-side (did you mean --dry-run=server instead?)");
        }
        if mode.server_side && self.force {
            return refuse("--force cannot be used with --server-side");
        }
        if mode.dry == DryRun::Server && self.force {
            return refuse("--dry-run=server cannot be used with --force");
        }
        if self.all && self.selector().is_some() {
            return refuse("cannot set --all and --selector at the same time");
        }
        if self.prune {
            if self.force {
                return refuse("--force cannot be used with --prune");
            }
            if !self.all && self.selector().is_none() {
                return refuse("all resources selected for prune without explicitly passing --all. To prune all resources, pass the --all flag. If you did not mean to prune all resources, specify a label selector");
            }
            if mode.server_side {
                return refuse("--prune is in alpha and doesn't currently work on objects created by server-side apply");
            }
        }
        if self.subresource().is_some() && !mode.server_side {
            return refuse("--subresource can only be specified for --server-side");
        }
        Ok(())
    }
}

/// Upstream's refusal of words after `apply` that name no subcommand.
pub fn refuse_args(args: &[String]) -> Result<()> {
    if args.is_empty() {
        return Ok(());
    }
    Err(KubectlError::usage(format!(
        "Unexpected args: [{}]\nSee 'kubectl apply -h' for help and examples",
        args.join(" ")
    )))
}

/// `--prune-allowlist` entries as `(group, version, kind)`, `core` meaning the core group.
pub fn parse_allowlist(entries: &[String]) -> Result<Vec<(String, String, String)>> {
    entries
        .iter()
        .map(|entry| match entry.split('/').collect::<Vec<_>>()[..] {
            [group, version, kind] => Ok((
                if group == "core" { "" } else { group }.to_string(),
                version.to_string(),
                kind.to_string(),
            )),
            _ => Err(KubectlError::usage(format!(
                "invalid GroupVersionKind format: {entry}, please follow <group/version/kind>"
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        options: ApplyOptionArgs,
    }

    fn parse(line: &[&str]) -> ApplyOptionArgs {
        Line::parse_from(std::iter::once("apply").chain(line.iter().copied())).options
    }

    fn refusal(line: &[&str], server_side: bool, dry: DryRun) -> String {
        let mode = Mode {
            server_side,
            force_conflicts: line.contains(&"--force-conflicts"),
            dry,
        };
        let line: Vec<&str> = line
            .iter()
            .copied()
            .filter(|a| *a != "--force-conflicts")
            .collect();
        parse(&line)
            .validate(mode)
            .map(|()| "accepted".to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn refusals_in_upstream_words_and_order() {
        let none = DryRun::None;
        assert_eq!(refusal(&[], false, none), "accepted");
        assert_eq!(refusal(&["--prune", "-l", "a=b"], false, none), "accepted");
        assert_eq!(
            refusal(&["--prune", "--all"], false, DryRun::Client),
            "accepted"
        );
        assert_eq!(
            refusal(&["--prune"], false, none),
            "error: all resources selected for prune without explicitly passing --all. To prune all resources, pass the --all flag. If you did not mean to prune all resources, specify a label selector"
        );
        assert_eq!(
            refusal(&["--all", "-l", "a=b"], false, none),
            "error: cannot set --all and --selector at the same time"
        );
        assert_eq!(
            refusal(&["--prune", "-l", "a=b"], true, none),
            "error: --prune is in alpha and doesn't currently work on objects created by server-side apply"
        );
        assert_eq!(
            refusal(&["--prune", "--force", "-l", "a=b"], false, none),
            "error: --force cannot be used with --prune"
        );
        assert_eq!(
            refusal(&["--force"], true, none),
            "error: --force cannot be used with --server-side"
        );
        assert_eq!(
            refusal(&["--force"], false, DryRun::Server),
            "error: --dry-run=server cannot be used with --force"
        );
        assert_eq!(
            refusal(&["--force-conflicts", "--force"], false, none),
            "error: --force-conflicts only works with --server-side"
        );
        assert_eq!(
            refusal(&[], true, DryRun::Client),
            "error: --dry-run=client doesn't work with --server-side (did you mean --dry-run=server instead?)"
        );
        assert_eq!(
            refusal(&["--subresource=status"], false, none),
            "error: --subresource can only be specified for --server-side"
        );
        assert_eq!(refusal(&["--subresource=status"], true, none), "accepted");
        // An empty selector is no selector.
        assert_eq!(
            refusal(&["--prune", "-l", " "], false, none),
            refusal(&["--prune"], false, none)
        );
    }

    #[test]
    fn allowlist_entries_are_group_version_kind() {
        let a = parse(&[
            "--prune",
            "--prune-allowlist=core/v1/ConfigMap",
            "--prune-allowlist",
            "apps/v1/Deployment",
        ]);
        assert_eq!(
            a.allowlist().unwrap(),
            [
                ("".into(), "v1".into(), "ConfigMap".into()),
                ("apps".into(), "v1".into(), "Deployment".into())
            ]
        );
        assert_eq!(
            parse(&["--prune", "--prune-allowlist=v1/ConfigMap"])
                .allowlist()
                .unwrap_err()
                .to_string(),
            "error: invalid GroupVersionKind format: v1/ConfigMap, please follow <group/version/kind>"
        );
        // Without --prune the list is not read at all.
        assert!(parse(&["--prune-allowlist=bogus"])
            .allowlist()
            .unwrap()
            .is_empty());
    }

    #[test]
    fn deletion_flags() {
        let d = parse(&[]).deletion().unwrap();
        assert_eq!(
            d,
            Deletion {
                propagation: "Background",
                grace: None,
                timeout: Duration::ZERO
            }
        );
        let d = parse(&["--cascade=orphan", "--grace-period=5", "--timeout=1m"])
            .deletion()
            .unwrap();
        assert_eq!(d.grace, Some(5));
        assert_eq!(d.timeout, Duration::from_secs(60));
        assert_eq!(
            d.body(DryRun::Server),
            json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan",
                   "gracePeriodSeconds": 5, "dryRun": ["All"]})
        );
        assert_eq!(
            parse(&["--cascade=bad"]).deletion().unwrap_err().to_string(),
            "error: invalid cascade value (bad). Must be \"background\", \"foreground\", or \"orphan\""
        );
    }

    #[test]
    fn overwrite_and_openapi_patch_default_to_true() {
        let a = parse(&[]);
        assert!(a.overwrite && a.openapi_patch && !a.wait);
        assert!(!parse(&["--overwrite=false"]).overwrite);
    }

    #[test]
    fn unexpected_args() {
        assert!(refuse_args(&[]).is_ok());
        assert_eq!(
            refuse_args(&["foo".into(), "bar".into()])
                .unwrap_err()
                .to_string(),
            "error: Unexpected args: [foo bar]\nSee 'kubectl apply -h' for help and examples"
        );
    }
}
