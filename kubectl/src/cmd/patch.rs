//! `kubectl patch` with `--type strategic|merge|json`.

use clap::Args;
use http::Method;
use serde_json::Value;

use super::{out, Ctx};
use crate::client::Body;
use crate::error::{KubectlError, Result};

/// `kubectl patch`
#[derive(Debug, Args)]
pub struct PatchArgs {
    /// TYPE NAME or TYPE/NAME.
    args: Vec<String>,
    /// The patch to be applied to the resource JSON file.
    #[arg(short = 'p', long)]
    patch: Option<String>,
    /// A file containing a patch to be applied to the resource.
    #[arg(long)]
    patch_file: Option<String>,
    /// The type of patch being provided; one of [json merge strategic].
    #[arg(long = "type", default_value = "strategic")]
    patch_type: String,
    /// Output format: name, yaml, json.
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// If true, patch the subresource of the resource (status, scale).
    #[arg(long)]
    subresource: Option<String>,
}

/// Runs `kubectl patch`.
pub async fn run(ctx: &Ctx, args: PatchArgs) -> Result<()> {
    let content_type = match args.patch_type.as_str() {
        "strategic" => "application/strategic-merge-patch+json",
        "merge" => "application/merge-patch+json",
        "json" => "application/json-patch+json",
        other => {
            return Err(KubectlError::usage(format!(
                "--type must be one of [json merge strategic], not \"{other}\""
            )))
        }
    };
    let text = match (&args.patch, &args.patch_file) {
        (Some(p), _) => p.clone(),
        (None, Some(f)) => std::fs::read_to_string(f)
            .map_err(|e| KubectlError::usage(format!("unable to read patch file: {e}")))?,
        (None, None) => {
            return Err(KubectlError::usage(
                "must specify --patch or --patch-file containing the contents of the patch",
            ))
        }
    };
    // Patches may be written in YAML; the server takes JSON.
    let patch: Value = serde_yaml::from_str(&text)
        .map_err(|e| KubectlError::usage(format!("unable to parse \"{text}\": {e}")))?;
    let format = crate::printers::OutputFormat::parse(args.output.as_deref())?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets =
        super::label::resolve_targets(&client, &mut disc, &args.args, None, false).await?;
    let mut errors = Vec::new();
    for (res, name) in targets {
        let mut path = res.object_path(res.namespaced.then_some(client.namespace.as_str()), &name);
        if let Some(s) = &args.subresource {
            path = format!("{path}/{s}");
        }
        let r = async {
            let before = client.get(&path).await?;
            let body = Body {
                content_type,
                bytes: patch.to_string().into_bytes(),
            };
            let after = client
                .request(
                    Method::PATCH,
                    &format!("{path}?fieldManager=kubectl-patch"),
                    "application/json",
                    Some(body),
                )
                .await?;
            Ok::<_, KubectlError>((before, after))
        }
        .await;
        match r {
            Ok((before, after)) => {
                if !format.is_table() {
                    super::create::print_result(
                        &format,
                        &after,
                        "patched",
                        super::create::DryRun::None,
                    )?;
                    continue;
                }
                let changed =
                    before["metadata"]["resourceVersion"] != after["metadata"]["resourceVersion"];
                out(&format!(
                    "{}/{name} patched{}\n",
                    res.kind_prefix(),
                    if changed { "" } else { " (no change)" }
                ));
            }
            Err(e) => errors.push(e),
        }
    }
    super::get::report(errors)
}
