//! `kubectl set serviceaccount (-f FILENAME | TYPE NAME) SERVICE_ACCOUNT`: the pod template's
//! `serviceAccountName`.

use clap::Args;
use serde_json::json;

use super::change::{Change, Wording};
use super::objects::{self, Selection};
use super::{nest, pod_spec_of, report, TargetArgs};
use crate::cmd::create::FileArgs;
use crate::cmd::Ctx;
use crate::error::{KubectlError, Result};

/// `kubectl set serviceaccount`
#[derive(Debug, Args)]
pub struct ServiceAccountArgs {
    /// TYPE NAME… or TYPE/NAME…, then the service account.
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    #[command(flatten)]
    targets: TargetArgs,
}

/// Runs `kubectl set serviceaccount`.
pub async fn run(ctx: &Ctx, a: ServiceAccountArgs) -> Result<()> {
    let t = &a.targets;
    // Upstream checks --local against the dry run before it even reads -o.
    let dry = t.dry_run.strategy()?;
    if let Some(e) = t.check_local_dry_run(dry) {
        return Err(e);
    }
    let mut change = Change::new(
        t,
        "serviceaccount updated",
        Wording::Patches {
            failed_patch: "failed to patch ServiceAccountName ",
        },
    )?;
    let Some((account, objects)) = a.args.split_last() else {
        return Err(KubectlError::usage("serviceaccount is required"));
    };
    // Unlike its siblings, upstream's serviceaccount ignores TYPE NAME words under --local.
    let found = objects::find(
        ctx,
        Selection {
            words: objects,
            files: &a.files,
            selector: None,
            all: t.all,
            local: t.local,
        },
    )
    .await?
    .all_or_nothing()?;
    let errors = change
        .each(&found, |info| {
            let ptr = pod_spec_of(&info.object)?;
            // Upstream patches (and reports) even when the account is already the one named.
            Ok(Some(nest(ptr, json!({"serviceAccountName": account}))))
        })
        .await;
    report(errors)
}
