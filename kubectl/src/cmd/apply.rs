//! `kubectl apply -f`: client-side apply (last-applied annotation + three-way merge patch) or
//! `--server-side` (an apply patch owned by field manager `kubectl`).

use clap::Args;
use http::Method;
use serde_json::Value;

use super::create::{post, CommonArgs, DryRun, FileArgs};
use super::write::Write;
use super::Ctx;
use crate::client::{ApiClient, Body};
use crate::error::{KubectlError, Result};
use crate::manifest::{self, Manifest};
use crate::merge;
use crate::printers::OutputFormat;
use crate::resource::ApiResource;

/// `kubectl apply`
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    files: FileArgs,
    #[command(flatten)]
    common: CommonArgs,
    /// If true, apply runs in the server instead of the client.
    #[arg(long)]
    server_side: bool,
    /// If true, server-side apply will force the changes against conflicts.
    #[arg(long)]
    force_conflicts: bool,
}

/// Runs `kubectl apply`.
pub async fn run(ctx: &Ctx, args: ApplyArgs) -> Result<()> {
    if args.files.filename.is_empty() {
        return Err(KubectlError::usage("must specify one of -f and -k"));
    }
    let format = OutputFormat::parse_with_template(
        args.common.output.as_deref(),
        args.common.template.as_deref(),
    )?;
    let dry = DryRun::parse(args.common.dry_run.as_deref())?;
    // Upstream's default manager is the client-side one, unless the apply runs on the
    // server and no manager was named.
    let default_manager = if args.server_side {
        "kubectl"
    } else {
        "kubectl-client-side-apply"
    };
    let write = args.common.write.write(default_manager, dry)?;
    let manifests = manifest::read_all(&args.files.filename, args.files.recursive)?;
    if manifests.is_empty() {
        return Err(KubectlError::usage("no objects passed to apply"));
    }
    let (client, disc) = ctx.client_and_discovery().await?;
    let mut errors = Vec::new();
    for m in &manifests {
        let res = match manifest::resource_for(&disc, m) {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let ns = manifest::namespace_for(m, res, &client.namespace, client.namespace_explicit)?;
        // Upstream writes the namespace into the object (and so into the last-applied record).
        let m = &manifest::with_namespace(m, ns.as_deref());
        let r = if args.server_side {
            server_side(&client, &args, res, ns.as_deref(), m, &write).await
        } else {
            client_side(&client, res, ns.as_deref(), m, &write).await
        };
        match r {
            Ok((obj, verb)) => args.common.print(&format, &obj, verb, dry)?,
            Err(e) => errors.push(e),
        }
    }
    super::get::report(errors)
}

fn name_of(m: &Manifest) -> Result<&str> {
    m.object["metadata"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            KubectlError::usage(format!(
                "error when retrieving current configuration of:\nResource: \"{}\", Name: \"\", Namespace: \"\"\nfrom server for: \"{}\": resource name may not be empty",
                m.object["kind"].as_str().unwrap_or(""),
                m.source
            ))
        })
}

async fn server_side(
    client: &ApiClient,
    args: &ApplyArgs,
    res: &ApiResource,
    ns: Option<&str>,
    m: &Manifest,
    write: &Write,
) -> Result<(Value, &'static str)> {
    let name = name_of(m)?;
    let mut path = format!("{}{}", res.object_path(ns, name), write.query());
    if args.force_conflicts {
        path.push_str("&force=true");
    }
    let body = Body {
        content_type: "application/apply-patch+yaml",
        bytes: m.object.to_string().into_bytes(),
    };
    let obj = client
        .request(Method::PATCH, &path, "application/json", Some(body))
        .await
        .map_err(explain_conflict)?;
    Ok((obj, "serverside-applied"))
}

/// A server-side apply's error as upstream reports it: as the server said (without naming
/// the file), and for conflicts with what the user can do about them.
fn explain_conflict(e: KubectlError) -> KubectlError {
    match e {
        KubectlError::Server {
            code: 409, message, ..
        } => KubectlError::usage(format!("{message}\n{SSA_CONFLICT_HELP}")),
        e => e,
    }
}

/// What upstream adds to a server-side apply conflict.
const SSA_CONFLICT_HELP: &str =
    "Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the `--force-conflicts` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts";

async fn client_side(
    client: &ApiClient,
    res: &ApiResource,
    ns: Option<&str>,
    m: &Manifest,
    write: &Write,
) -> Result<(Value, &'static str)> {
    let dry = write.dry;
    let name = name_of(m)?;
    let path = res.object_path(ns, name);
    let modified = merge::with_last_applied(&m.object);
    let current = match client.get(&path).await {
        Ok(c) => c,
        Err(e) if e.is_not_found() => {
            if dry == DryRun::Client {
                return Ok((modified, "created"));
            }
            let obj = post(client, &res.collection_path(ns), &modified, write)
                .await
                .map_err(|e| {
                    e.with_context(format!("error when creating \"{}\": ", m.source))
                })?;
            return Ok((obj, "created"));
        }
        Err(e) => {
            return Err(e.with_context(format!(
                "error when retrieving current configuration of:\nResource: \"{}\", Name: \"{name}\", Namespace: \"{}\"\nfrom server for: \"{}\": ",
                res.qualified_plural(),
                ns.unwrap_or(""),
                m.source
            )))
        }
    };
    let original = merge::last_applied(&current);
    if original.is_none() {
        eprintln!(
            "Warning: resource {}/{name} is missing the {} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.",
            res.plural,
            merge::LAST_APPLIED
        );
    }
    let patch = merge::three_way(original.as_ref(), &modified, &current);
    if patch.as_object().is_some_and(|p| p.is_empty()) {
        return Ok((current, "unchanged"));
    }
    if dry == DryRun::Client {
        return Ok((current, "configured"));
    }
    let body = Body {
        content_type: "application/merge-patch+json",
        bytes: patch.to_string().into_bytes(),
    };
    let obj = client
        .request(
            Method::PATCH,
            &format!("{path}{}", write.query()),
            "application/json",
            Some(body),
        )
        .await
        .map_err(|e| {
            e.with_context(format!(
                "error when applying patch:\n{patch}\nto:\nResource: \"{}\", Name: \"{name}\", Namespace: \"{}\"\nfor: \"{}\": ",
                res.qualified_plural(),
                ns.unwrap_or(""),
                m.source
            ))
        })?;
    Ok((obj, "configured"))
}
