//! `kubectl apply -f`: client-side apply (last-applied annotation + three-way patch, strategic
//! for built-in types, JSON merge for others) or `--server-side` (an apply patch owned by field
//! manager `kubectl`). `-l` limits the objects
//! of the files that take part; `--prune` then deletes what was applied before and is gone
//! from the files (`apply_prune`), `--force` re-creates objects whose patch is refused
//! (`apply_force`), `--overwrite=false` refuses to overwrite others' changes
//! (`apply_conflicts`); the flags and their refusals are in `apply_options`, the
//! `*-last-applied` subcommands in `apply_last_applied` and `apply_edit_last_applied`.

use clap::Args;
use http::Method;
use serde_json::Value;

use super::apply_conflicts;
use super::apply_force::{self, Replacement};
use super::apply_last_applied::LastAppliedCommand;
use super::apply_options::{self, ApplyOptionArgs, Deletion, Mode};
use super::apply_prune::{self, Pruner, Report, Visited};
use super::create::{post, CommonArgs, DryRun, FileArgs};
use super::write::Write;
use super::Ctx;
use crate::client::{ApiClient, Body};
use crate::error::{KubectlError, Result};
use crate::manifest::{self, Manifest};
use crate::merge;
use crate::printers::json::go_escape;
use crate::printers::OutputFormat;
use crate::resource::ApiResource;
use crate::strategic::{self, PatchSchema, PatchSchemas};

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
    #[command(flatten)]
    options: ApplyOptionArgs,
    /// Words that name no subcommand: refused, as upstream refuses them.
    #[arg(hide = true)]
    args: Vec<String>,
    #[command(subcommand)]
    last_applied: Option<LastAppliedCommand>,
}

/// Runs `kubectl apply`.
pub async fn run(ctx: &Ctx, args: ApplyArgs) -> Result<()> {
    if let Some(command) = args.last_applied {
        return super::apply_last_applied::run(ctx, command).await;
    }
    apply_options::refuse_args(&args.args)?;
    let deletion = args.options.deletion()?;
    if args.files.filename.is_empty() {
        return Err(KubectlError::usage("must specify one of -f and -k"));
    }
    let format = args.common.print_flags.format()?;
    let dry = args.common.dry_run.strategy()?;
    // Upstream's default manager is the client-side one, unless the apply runs on the
    // server and no manager was named.
    let default_manager = if args.server_side {
        "kubectl"
    } else {
        "kubectl-client-side-apply"
    };
    let write = args.common.write.write(default_manager, dry)?;
    let allowlist = args.options.allowlist()?;
    args.options.validate(Mode {
        server_side: args.server_side,
        force_conflicts: args.force_conflicts,
        dry,
    })?;
    let only = args.options.file_filter()?;
    let manifests = manifest::read_all(&args.files.filename, args.files.recursive)?;
    if manifests.is_empty() {
        return Err(KubectlError::usage("no objects passed to apply"));
    }
    let (client, disc) = ctx.client_and_discovery().await?;
    let prune_types = apply_prune::allowlist(&disc, &allowlist)?;
    let mut visited = Visited::default();
    if client.namespace_explicit {
        visited.namespace(&client.namespace);
    }
    let mut taking_part = 0;
    // With -o (other than name) upstream prints the objects once all are applied: one
    // alone, several as a List, none if anything failed.
    let prints_list =
        args.common.print_flags.output_specified() && !matches!(format, OutputFormat::Name);
    let mut applied = Vec::new();
    let mut errors = Vec::new();
    let mut client_apply = ClientSideApply {
        client: &client,
        write: &write,
        options: &args.options,
        deletion: &deletion,
        schemas: PatchSchemas::default(),
    };
    for m in &manifests {
        let res = match manifest::resource_for(&disc, m) {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if only
            .as_ref()
            .is_some_and(|s| !s.matches(m.object["metadata"]["labels"].as_object()))
        {
            continue;
        }
        taking_part += 1;
        let ns = manifest::namespace_for(m, res, &client.namespace, client.namespace_explicit)?;
        if let Some(ns) = &ns {
            visited.namespace(ns);
        }
        // Upstream writes the namespace into the object (and so into the last-applied record).
        let m = &manifest::with_namespace(m, ns.as_deref());
        let r = if args.server_side {
            server_side(&client, &args, res, ns.as_deref(), m, &write).await
        } else {
            client_apply.apply(res, ns.as_deref(), m).await
        };
        match r {
            Ok((obj, verb)) => {
                visited.object(&obj);
                if prints_list {
                    applied.push(obj);
                } else {
                    args.common.print(&format, &obj, verb, dry)?;
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if taking_part == 0 && errors.is_empty() {
        return Err(KubectlError::usage("no objects passed to apply"));
    }
    if !errors.is_empty() {
        return super::get::report(errors);
    }
    if prints_list && !applied.is_empty() {
        let shown = match <[Value; 1]>::try_from(applied) {
            Ok([one]) => one,
            Err(many) => {
                serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": many})
            }
        };
        args.common.print(&format, &shown, "", dry)?;
    }
    if !args.options.prune {
        return Ok(());
    }
    let pruner = Pruner {
        client: &client,
        selector: args.options.selector(),
        deletion: &deletion,
        dry,
        report: Report {
            format: &format,
            flags: &args.common.print_flags,
        },
    };
    pruner.prune(&disc, prune_types, &visited).await
}

/// How upstream's messages name an object of a manifest (its resource builder's `Info`):
/// `Resource: "apps/v1, Resource=deployments", GroupVersionKind: "apps/v1, Kind=Deployment"`
/// and on the next line `Name: "web", Namespace: "ns"`.
pub fn object_info(res: &ApiResource, name: &str, ns: Option<&str>) -> String {
    format!(
        "Resource: \"{g}/{v}, Resource={}\", GroupVersionKind: \"{g}/{v}, Kind={}\"\nName: \"{name}\", Namespace: \"{}\"",
        res.plural,
        res.kind,
        ns.unwrap_or(""),
        g = res.group,
        v = res.version
    )
}

/// The object's name; upstream's client refuses an empty one (a client-side apply names
/// the object it was reading).
fn name_of<'m>(
    m: &'m Manifest,
    res: &ApiResource,
    ns: Option<&str>,
    server_side: bool,
) -> Result<&'m str> {
    m.object["metadata"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            const EMPTY: &str = "resource name may not be empty";
            if server_side {
                return KubectlError::usage(EMPTY);
            }
            KubectlError::usage(format!(
                "error when retrieving current configuration of:\n{}\nfrom server for: \"{}\": {EMPTY}",
                object_info(res, "", ns),
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
    let name = name_of(m, res, ns, true)?;
    let mut object = res.object_path(ns, name);
    if let Some(sub) = args.options.subresource() {
        object = format!("{object}/{sub}");
    }
    let mut path = format!("{object}{}", write.query());
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

/// What a client-side apply of each object needs: the request settings and the OpenAPI
/// documents read so far (for the strategic patches of built-in types).
struct ClientSideApply<'a> {
    client: &'a ApiClient,
    write: &'a Write,
    options: &'a ApplyOptionArgs,
    deletion: &'a Deletion,
    schemas: PatchSchemas,
}

impl ClientSideApply<'_> {
    async fn apply(
        &mut self,
        res: &ApiResource,
        ns: Option<&str>,
        m: &Manifest,
    ) -> Result<(Value, &'static str)> {
        let schema = self.schemas.for_resource(self.client, res).await;
        self.apply_with(res, ns, m, schema.as_ref()).await
    }

    async fn apply_with(
        &self,
        res: &ApiResource,
        ns: Option<&str>,
        m: &Manifest,
        schema: Option<&PatchSchema>,
    ) -> Result<(Value, &'static str)> {
        let (client, write, options, deletion) =
            (self.client, self.write, self.options, self.deletion);
        let dry = write.dry;
        let name = name_of(m, res, ns, false)?;
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
                "error when retrieving current configuration of:\n{}\nfrom server for: \"{}\": ",
                object_info(res, name, ns),
                m.source
            )))
            }
        };
        // Upstream computes no patch in a client dry run: an existing object is "configured".
        if dry == DryRun::Client {
            return Ok((current, "configured"));
        }
        let original = merge::last_applied(&current);
        if original.is_none() {
            eprintln!(
            "Warning: resource {}/{name} is missing the {} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.",
            res.plural,
            merge::LAST_APPLIED
        );
        }
        let (patch, content_type) = apply_patch(schema, original.as_ref(), &modified, &current)
        .map_err(|why| {
            KubectlError::usage(format!(
                "creating patch with:\noriginal:\n{}\nmodified:\n{}\ncurrent:\n{}\nfor: \"{}\": {why}",
                original.as_ref().map(Value::to_string).unwrap_or_default(),
                modified,
                current,
                m.source
            ))
        })?;
        if patch.as_object().is_some_and(|p| p.is_empty()) {
            return Ok((current, "unchanged"));
        }
        let target = || object_info(res, name, ns);
        if !options.overwrite {
            apply_conflicts::refuse_overwrite(&apply_conflicts::Sides {
            res,
            openapi_patch: options.openapi_patch,
            original: original.as_ref(),
            modified: &modified,
            current: &current,
            patch: &patch,
            schema,
        })
        .map_err(|why| {
            KubectlError::usage(format!(
                "error when applying patch:\n\nto:\n{}\nfor: \"{src}\": error when patching \"{src}\": {why}",
                target(),
                src = m.source
            ))
        })?;
        }
        let body = Body {
            content_type,
            bytes: patch.to_string().into_bytes(),
        };
        let obj = client
            .request(
                Method::PATCH,
                &format!("{path}{}", write.query()),
                "application/json",
                Some(body),
            )
            .await;
        // Upstream names the patch, the object and the file; a failed PATCH also says it was
        // patching, a failed replacement (--force) does not, and shows the whole new object
        // (encoded with a trailing newline) as its patch.
        let patch_error = |patch: &Value, patching: bool, e: KubectlError| {
            let src = &m.source;
            let newline = if patching { "" } else { "\n" };
            let mut context = format!(
                "error when applying patch:\n{}{newline}\nto:\n{}\nfor: \"{src}\": ",
                go_escape(&patch.to_string()),
                target()
            );
            if patching {
                context.push_str(&format!("error when patching \"{src}\": "));
            }
            match e {
                KubectlError::Usage(why) => KubectlError::usage(format!("{context}{why}")),
                e => e.with_context(context),
            }
        };
        match obj {
            Ok(obj) => Ok((obj, "configured")),
            Err(e) if options.force && apply_force::replaces_after(&e) => {
                let replacement = Replacement {
                    res,
                    ns,
                    name,
                    current: &current,
                    modified: &modified,
                };
                match replacement.run(client, deletion, write).await {
                    Ok(obj) => Ok((obj, "configured")),
                    Err(e) => Err(patch_error(&modified, false, e)),
                }
            }
            Err(e) => Err(patch_error(&patch, true, e)),
        }
    }
}

/// The patch a client-side apply sends and its content type: a strategic merge patch for
/// built-in types (upstream's choice for types in client-go's scheme), a JSON merge patch
/// for the others.
pub fn apply_patch(
    schema: Option<&PatchSchema>,
    original: Option<&Value>,
    modified: &Value,
    current: &Value,
) -> std::result::Result<(Value, &'static str), String> {
    match schema {
        Some(schema) => strategic::three_way(schema, original, modified, current)
            .map(|p| (p, "application/strategic-merge-patch+json"))
            .map_err(|e| e.to_string()),
        None => Ok((
            merge::three_way(original, modified, current),
            "application/merge-patch+json",
        )),
    }
}
