//! `kubectl set serviceaccount (TYPE NAME | TYPE/NAME) SERVICE_ACCOUNT`: the pod template's
//! `serviceAccountName`.

use clap::Args;
use serde_json::json;

use super::{nest, update_pod_templates, TargetArgs};
use crate::cmd::Ctx;
use crate::error::{KubectlError, Result};

/// `kubectl set serviceaccount`
#[derive(Debug, Args)]
pub struct ServiceAccountArgs {
    /// TYPE NAME… or TYPE/NAME…, then the service account.
    args: Vec<String>,
    #[command(flatten)]
    targets: TargetArgs,
}

/// Runs `kubectl set serviceaccount`.
pub async fn run(ctx: &Ctx, a: ServiceAccountArgs) -> Result<()> {
    a.targets.check()?;
    let Some((account, objects)) = a.args.split_last() else {
        return Err(KubectlError::usage(
            "serviceaccount is required\nSee 'kubectl set serviceaccount -h' for help and examples",
        ));
    };
    let errors = update_pod_templates(
        ctx,
        objects,
        &a.targets,
        "serviceaccount updated",
        |_, _, ptr| {
            // Upstream patches (and reports) even when the account is already the one named.
            Ok(Some(nest(ptr, json!({"serviceAccountName": account}))))
        },
    )
    .await?;
    crate::cmd::get::report(errors)
}
