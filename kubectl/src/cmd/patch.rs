//! `kubectl patch` with `--type strategic|merge|json`: sent to the server, or, with
//! `--dry-run=client` or `--local`, applied here.

use clap::Args;
use http::Method;
use serde_json::Value;

use super::create::FileArgs;
use super::label::{file_targets, Target};
use super::print_flags::{DryRun, DryRunFlag, PrintFlags};
use super::write::Write;
use super::Ctx;
use crate::client::{ApiClient, Body};
use crate::error::{KubectlError, Result};
use crate::manifest;
use crate::printers::OutputFormat;

/// `kubectl patch`
#[derive(Debug, Args)]
pub struct PatchArgs {
    /// TYPE NAME or TYPE/NAME.
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// The patch to be applied to the resource JSON file.
    #[arg(short = 'p', long)]
    patch: Option<String>,
    /// A file containing a patch to be applied to the resource.
    #[arg(long)]
    patch_file: Option<String>,
    /// The type of patch being provided; one of [json merge strategic].
    #[arg(long = "type", default_value = "strategic")]
    patch_type: String,
    /// If true, patch the objects of the -f files here only, without the server.
    #[arg(long)]
    local: bool,
    #[command(flatten)]
    pub print_flags: PrintFlags,
    #[command(flatten)]
    pub dry_run: DryRunFlag,
    /// Name of the manager used to track field ownership.
    #[arg(long, default_value = "kubectl-patch")]
    field_manager: String,
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
    if args.local && !args.args.is_empty() {
        return Err(KubectlError::usage(
            "cannot specify --local and server resources",
        ));
    }
    let format = args.print_flags.format()?;
    let dry = args.dry_run.strategy()?;
    let patching = Patching {
        patch: &patch,
        patch_type: &args.patch_type,
        content_type,
        write: Write::by(&args.field_manager, dry),
        format: &format,
        print_flags: &args.print_flags,
    };
    if args.local {
        for m in manifest::read_all(&args.files.filename, args.files.recursive)? {
            let after = patching.locally(&m.object)?;
            patching.print(&m.object, &after)?;
        }
        return Ok(());
    }
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets = if args.files.filename.is_empty() {
        let words = &args.args;
        super::label::resolve_objects(&client, &mut disc, words, Default::default()).await?
    } else {
        file_targets(&client, &disc, &args.files)?
    };
    let mut errors = Vec::new();
    for t in targets {
        let r = async {
            let (before, after) = patching
                .send(&client, &t, args.subresource.as_deref())
                .await?;
            patching.print(&before, &after)
        };
        if let Err(e) = r.await {
            errors.push(e);
        }
    }
    super::get::report(errors)
}

/// One run's patch.
struct Patching<'a> {
    patch: &'a Value,
    patch_type: &'a str,
    content_type: &'static str,
    write: Write,
    format: &'a OutputFormat,
    print_flags: &'a PrintFlags,
}

impl Patching<'_> {
    /// The object patched here, as upstream patches in a client dry run or `--local`.
    fn locally(&self, obj: &Value) -> Result<Value> {
        super::overrides::patch(obj, &self.patch.to_string(), self.patch_type)
    }

    /// The object before and after the patch (after only tried, in a dry run).
    async fn send(
        &self,
        client: &ApiClient,
        t: &Target,
        sub: Option<&str>,
    ) -> Result<(Value, Value)> {
        let mut path = t.path();
        if let Some(s) = sub {
            path = format!("{path}/{s}");
        }
        let before = client.get(&path).await?;
        if self.write.dry == DryRun::Client {
            let after = self.locally(&before)?;
            return Ok((before, after));
        }
        let body = Body {
            content_type: self.content_type,
            bytes: self.patch.to_string().into_bytes(),
        };
        let after = client
            .request(
                Method::PATCH,
                &format!("{path}{}", self.write.query()),
                "application/json",
                Some(body),
            )
            .await?;
        Ok((before, after))
    }

    /// `patched`, or `patched (no change)` when the object came back the same; upstream
    /// adds no dry-run note here.
    fn print(&self, before: &Value, after: &Value) -> Result<()> {
        let verb = if before == after {
            "patched (no change)"
        } else {
            "patched"
        };
        self.print_flags
            .print(self.format, after, verb, DryRun::None)
    }
}
