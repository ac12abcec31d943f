//! The loop every `set` subcommand runs over its objects, as upstream's `CalculatePatches`
//! and the printing after it: a patch per object (or an error, or nothing to change); the
//! changed object printed when it stays here (`--local`, `--dry-run=client`), else the patch
//! sent with the field manager and the server's answer printed.

use http::Method;
use serde_json::Value;

use super::objects::{Found, Info};
use super::typed::as_typed;
use super::TargetArgs;
use crate::client::Body;
use crate::cmd::out;
use crate::cmd::overrides::strategic_merge_pod_part;
use crate::cmd::print_flags::DryRun;
use crate::error::{KubectlError, Result};
use crate::printers::OutputFormat;

/// How a command words the errors of single objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wording {
    /// Upstream's `CalculatePatches` commands: `error: <object name> <why>` with a newline
    /// of its own, and a failed patch as `<failed_patch><server's message>`.
    Patches {
        /// What a failed PATCH is prefixed with (`failed to patch image update to pod
        /// template: `).
        failed_patch: &'static str,
    },
    /// `set selector`, which visits the objects: errors as they are.
    Visit,
}

/// One run's way of changing and printing objects.
pub struct Change<'a> {
    /// The command's flags.
    pub t: &'a TargetArgs,
    /// What the printed line ends with (`image updated`).
    pub verb: &'a str,
    /// The `-o` format.
    pub format: OutputFormat,
    /// `--dry-run`
    pub dry: DryRun,
    /// How errors are worded.
    pub wording: Wording,
    /// Objects printed so far (YAML documents after the first are separated).
    printed: usize,
}

impl<'a> Change<'a> {
    /// A run with `t`'s flags; fails as upstream's `Complete` does on a bad `--dry-run` or
    /// `-o` (in that order).
    pub fn new(t: &'a TargetArgs, verb: &'a str, wording: Wording) -> Result<Self> {
        let dry = t.dry_run.strategy()?;
        let format = t.print_flags.format()?;
        Ok(Change {
            t,
            verb,
            format,
            dry,
            wording,
            printed: 0,
        })
    }

    /// Changes each object of `found`: `patch_for` returns a strategic merge patch, None
    /// when the object stays as it is, or why it cannot be changed. Returns the errors of
    /// single objects, in order, worded as upstream words them.
    pub async fn each(
        &mut self,
        found: &Found,
        mut patch_for: impl FnMut(&Info) -> Result<Option<Value>>,
    ) -> Vec<KubectlError> {
        let mut errors = Vec::new();
        for info in &found.infos {
            let patch = match patch_for(info) {
                Ok(Some(patch)) => patch,
                Ok(None) => continue,
                Err(e) => {
                    errors.push(self.object_error(info, e));
                    continue;
                }
            };
            if let Err(e) = self.write(found, info, &patch).await {
                errors.push(e);
            }
        }
        errors
    }

    /// Prints the object as `patch` leaves it, or sends the patch and prints the answer.
    async fn write(&mut self, found: &Found, info: &Info, patch: &Value) -> Result<()> {
        let stays_here = self.t.local || self.dry == DryRun::Client;
        let (Some(client), Some(remote), false) = (&found.client, &info.remote, stays_here) else {
            let mut changed = info.object.clone();
            strategic_merge_pod_part(&mut changed, patch);
            return self.print(&changed);
        };
        let query = crate::cmd::write::Write::by(&self.t.field_manager, self.dry).query();
        let answer = client
            .request(
                Method::PATCH,
                &format!("{}{query}", remote.path),
                "application/json",
                Some(Body::strategic_merge_patch(patch)),
            )
            .await;
        match (answer, self.wording) {
            (Ok(obj), _) => self.print(&obj),
            (Err(e), Wording::Visit) => Err(e),
            (Err(e), Wording::Patches { failed_patch }) => Err(KubectlError::usage(format!(
                "{failed_patch}{}",
                server_message(&e)
            ))),
        }
    }

    /// Prints one object as `-o` asks, typed as upstream prints it.
    fn print(&mut self, obj: &Value) -> Result<()> {
        if self.printed > 0 && matches!(self.format, OutputFormat::Yaml) {
            out("---\n");
        }
        self.printed += 1;
        let typed = as_typed(obj.clone());
        self.t
            .print_flags
            .print_typed(&self.format, &typed, self.verb, self.dry)
    }

    /// An error of one object as the command words it.
    fn object_error(&self, info: &Info, e: KubectlError) -> KubectlError {
        match (self.wording, e) {
            (Wording::Patches { .. }, KubectlError::Usage(why)) => {
                KubectlError::usage(format!("error: {} {why}\n", info.object_name()))
            }
            (_, e) => e,
        }
    }
}

/// What Go's `err.Error()` says of a server's refusal: its message alone.
fn server_message(e: &KubectlError) -> String {
    match e {
        KubectlError::Server { message, .. } => message.clone(),
        other => other.to_string().trim_start_matches("error: ").to_string(),
    }
}
