//! `kubectl diff -f FILE`: what `apply` would change. Each object's live state and its
//! state after a server-side dry-run apply are written as YAML into two temporary
//! directories (`LIVE-…`, `MERGED-…`, one file per object named
//! `[group.]version.Kind.namespace.name`) and compared with `diff -u -N` (or
//! `$KUBECTL_EXTERNAL_DIFF`). Exit status as upstream: 0 no differences, 1 differences.
//!
//! `-l` keeps the files' objects whose labels match; `--concurrency` asks the server for that
//! many objects at once; `--prune` adds, on the live side only, what `apply --prune` would
//! delete (see [`super::apply_prune`]); `--show-managed-fields` keeps managedFields.

use std::path::{Path, PathBuf};

use clap::Args;
use futures::StreamExt;
use http::Method;
use serde_json::{json, Value};

use super::apply::apply_patch;
use super::apply_options::parse_allowlist;
use super::apply_prune::{self, Visited};
use super::create::{post, DryRun, FileArgs};
use super::get::label_filter::Selector;
use super::write::Write;
use super::Ctx;
use crate::client::{q, ApiClient, Body};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::manifest::{self, Manifest};
use crate::merge;
use crate::printers::yaml;
use crate::resource::ApiResource;
use crate::strategic::{PatchSchema, PatchSchemas};

/// `kubectl diff -f FILENAME`
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    files: FileArgs,
    /// If true, apply runs in the server instead of the client.
    #[arg(long)]
    server_side: bool,
    /// If true, server-side apply will force the changes against conflicts.
    #[arg(long)]
    force_conflicts: bool,
    /// Name of the manager used to track field ownership.
    #[arg(long, default_value = "kubectl-client-side-apply")]
    field_manager: String,
    /// Selector (label query) to filter on, supports '=', '==', and '!='.(e.g. -l key1=value1,key2=value2). Matching objects must satisfy all of the specified label constraints.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// If true, include managed fields in the diff.
    #[arg(long)]
    show_managed_fields: bool,
    /// Number of objects to process in parallel when diffing against the live version. Larger number = faster, but more memory, I/O and CPU over that shorter period of time.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    concurrency: i64,
    /// Include resources that would be deleted by pruning. Can be used with -l and default shows all resources would be pruned
    #[arg(long)]
    prune: bool,
    /// Overwrite the default allowlist with <group/version/kind> for --prune
    #[arg(long = "prune-allowlist")]
    prune_allowlist: Vec<String>,
}

impl DiffArgs {
    /// `-l`, when not empty.
    fn selector(&self) -> Option<&str> {
        self.selector
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// The file name upstream gives an object in the diff directories.
pub fn file_name(res: &ApiResource, namespace: &str, name: &str) -> String {
    name_for(&res.group, &res.version, &res.kind, namespace, name)
}

/// `[group.]version.Kind.namespace.name`.
fn name_for(group: &str, version: &str, kind: &str, namespace: &str, name: &str) -> String {
    let group = if group.is_empty() {
        String::new()
    } else {
        format!("{group}.")
    };
    format!("{group}{version}.{kind}.{namespace}.{name}")
}

/// The file name of an object read from the server, by its own type and name.
fn object_file_name(obj: &Value) -> String {
    let api_version = obj["apiVersion"].as_str().unwrap_or("");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let meta = &obj["metadata"];
    name_for(
        group,
        version,
        obj["kind"].as_str().unwrap_or(""),
        meta["namespace"].as_str().unwrap_or(""),
        meta["name"].as_str().unwrap_or(""),
    )
}

/// Hides Secret values the way upstream's masker does: `***` when both sides agree,
/// `*** (before)` / `*** (after)` when they differ.
pub fn mask_secrets(live: &mut Value, merged: &mut Value) {
    for field in ["data", "stringData"] {
        let before = live
            .get(field)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let after = merged
            .get(field)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(m) = live.get_mut(field).and_then(Value::as_object_mut) {
            for (k, v) in m.iter_mut() {
                *v = json!(if after.get(k) == Some(v) {
                    "***"
                } else {
                    "*** (before)"
                });
            }
        }
        if let Some(m) = merged.get_mut(field).and_then(Value::as_object_mut) {
            for (k, v) in m.iter_mut() {
                *v = json!(if before.get(k) == Some(v) {
                    "***"
                } else {
                    "*** (after)"
                });
            }
        }
    }
}

fn strip(obj: &mut Value) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
}

/// The object after a dry-run apply, and the live one (None when it does not exist yet).
async fn live_and_merged(
    client: &ApiClient,
    args: &DiffArgs,
    res: &ApiResource,
    ns: Option<&str>,
    m: &Manifest,
    schema: Option<&PatchSchema>,
) -> Result<(Option<Value>, Value)> {
    let name = m.object["metadata"]["name"].as_str().unwrap_or("");
    let path = res.object_path(ns, name);
    let live = match client.get(&path).await {
        Ok(v) => Some(v),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    if args.server_side {
        let mut p = format!("{path}?fieldManager={}&dryRun=All", q(&args.field_manager));
        if args.force_conflicts {
            p.push_str("&force=true");
        }
        let body = Body {
            content_type: "application/apply-patch+yaml",
            bytes: m.object.to_string().into_bytes(),
        };
        let merged = client
            .request(Method::PATCH, &p, "application/json", Some(body))
            .await?;
        return Ok((live, merged));
    }
    // Upstream diffs against the manifest without recording it as last-applied.
    let Some(current) = &live else {
        // A new object is created (dry run) exactly as the file has it.
        let merged = post(
            client,
            &res.collection_path(ns),
            &m.object,
            &Write::by(&args.field_manager, DryRun::Server),
        )
        .await?;
        return Ok((None, merged));
    };
    // (GetModifiedConfiguration without the annotation still leaves an empty map.)
    let mut modified = m.object.clone();
    if modified["metadata"].is_object() && !modified["metadata"]["annotations"].is_object() {
        modified["metadata"]["annotations"] = json!({});
    }
    let original = merge::last_applied(current);
    let (patch, content_type) =
        apply_patch(schema, original.as_ref(), &modified, current).map_err(KubectlError::usage)?;
    if patch.as_object().is_some_and(|p| p.is_empty()) {
        return Ok((live.clone(), current.clone()));
    }
    let body = Body {
        content_type,
        bytes: patch.to_string().into_bytes(),
    };
    let merged = client
        .request(
            Method::PATCH,
            &format!("{path}?fieldManager={}&dryRun=All", q(&args.field_manager)),
            "application/json",
            Some(body),
        )
        .await?;
    Ok((live, merged))
}

fn temp_dir(prefix: &str) -> Result<PathBuf> {
    let base = std::env::temp_dir();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    for n in 0..100u32 {
        let dir = base.join(format!(
            "{prefix}{}",
            seed.wrapping_add(n * 7919) % 1_000_000_000
        ));
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    Err(KubectlError::usage(
        "could not create a temporary directory",
    ))
}

fn write(dir: &Path, file: &str, obj: Option<&Value>) -> Result<()> {
    let text = obj.map(yaml::to_yaml).unwrap_or_default();
    std::fs::write(dir.join(file), text)
        .map_err(|e| KubectlError::usage(format!("writing {}: {e}", dir.join(file).display())))
}

/// Runs `kubectl diff`: exit 1 when there are differences, 2 (upstream's status for
/// kubectl or diff failures) on errors.
pub async fn run(ctx: &Ctx, args: DiffArgs) -> Result<()> {
    match diff(ctx, args).await {
        Ok(()) => Ok(()),
        Err(KubectlError::Exit(c)) => Err(KubectlError::Exit(c)),
        Err(e) => {
            if !matches!(e, KubectlError::Reported) {
                eprintln!("{e}");
            }
            Err(KubectlError::Exit(2))
        }
    }
}

async fn diff(ctx: &Ctx, args: DiffArgs) -> Result<()> {
    if args.files.filename.is_empty() {
        return Err(KubectlError::usage("must specify one of -f and -k"));
    }
    // Upstream would block for ever (0) or panic (below 0) on such a semaphore.
    let concurrency = usize::try_from(args.concurrency)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            KubectlError::usage(format!(
                "--concurrency must be at least 1, got {}",
                args.concurrency
            ))
        })?;
    let filter = args
        .selector()
        .map(|s| Selector::parse(s).map_err(KubectlError::usage))
        .transpose()?;
    let allowlist = if args.prune {
        parse_allowlist(&args.prune_allowlist)?
    } else {
        Vec::new()
    };
    // Like upstream's builder, -l keeps only the files' objects whose labels match.
    let manifests: Vec<Manifest> = manifest::read_all(&args.files.filename, args.files.recursive)?
        .into_iter()
        .filter(|m| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(m.object["metadata"]["labels"].as_object()))
        })
        .collect();
    let (client, disc) = ctx.client_and_discovery().await?;
    let prune_types = if args.prune {
        Some(apply_prune::types_or_default(
            &disc,
            apply_prune::allowlist(&disc, &allowlist)?,
        )?)
    } else {
        None
    };
    let live_dir = temp_dir("LIVE-")?;
    let merged_dir = temp_dir("MERGED-")?;
    let result = async {
        let jobs = resolve(&client, &disc, &manifests).await?;
        // The live and merged states, `--concurrency` objects at a time; results come back
        // in file order, so the first error reported is the first file's.
        let states: Vec<Result<(Option<Value>, Value)>> =
            futures::stream::iter(jobs.iter().map(|j| {
                live_and_merged(
                    &client,
                    &args,
                    j.res,
                    j.ns.as_deref(),
                    &j.manifest,
                    j.schema.as_ref(),
                )
            }))
            .buffered(concurrency)
            .collect()
            .await;
        let mut visited = Visited::default();
        for (job, state) in jobs.iter().zip(states) {
            let (live, merged) = state?;
            if let Some(ns) = job.ns.as_deref().filter(|_| job.res.namespaced) {
                visited.namespace(ns);
            }
            if let Some(l) = &live {
                visited.object(l);
            }
            let (live, merged) = shown(job.res, live, merged, args.show_managed_fields);
            let name = job.manifest.object["metadata"]["name"]
                .as_str()
                .unwrap_or("");
            let file = file_name(job.res, job.ns.as_deref().unwrap_or(""), name);
            write(&live_dir, &file, live.as_ref())?;
            write(&merged_dir, &file, Some(&merged))?;
        }
        if let Some(types) = &prune_types {
            // Upstream shows what it could list and only warns when listing fails; a pruned
            // object is written whole, on the live side only.
            let pruned =
                match apply_prune::would_prune(&client, types, args.selector(), &visited).await {
                    Ok(objects) => objects,
                    Err(e) => {
                        crate::klog::warning(
                            "diff.go",
                            426,
                            &format!(
                                "pruning failed and could not be evaluated err: {}",
                                e.to_string().trim_start_matches("error: ")
                            ),
                        );
                        Vec::new()
                    }
                };
            for obj in &pruned {
                write(&live_dir, &object_file_name(obj), Some(obj))?;
            }
        }
        run_diff(&live_dir, &merged_dir)
    }
    .await;
    let _ = std::fs::remove_dir_all(&live_dir);
    let _ = std::fs::remove_dir_all(&merged_dir);
    result
}

/// One object of the files, ready to be diffed.
struct Job<'a> {
    res: &'a ApiResource,
    ns: Option<String>,
    manifest: Manifest,
    schema: Option<PatchSchema>,
}

/// Each object's type, namespace and patch schema, in file order (the schemas are cached,
/// so this part stays sequential).
async fn resolve<'a>(
    client: &ApiClient,
    disc: &'a Discovery,
    manifests: &[Manifest],
) -> Result<Vec<Job<'a>>> {
    let mut schemas = PatchSchemas::default();
    let mut jobs = Vec::new();
    for m in manifests {
        let res = manifest::resource_for(disc, m)?;
        let ns = manifest::namespace_for(m, res, &client.namespace, client.namespace_explicit)?;
        let manifest = manifest::with_namespace(m, ns.as_deref());
        let schema = schemas.for_resource(client, res).await;
        jobs.push(Job {
            res,
            ns,
            manifest,
            schema,
        });
    }
    Ok(jobs)
}

/// The two sides as the diff shows them: without managedFields unless asked for, and a
/// Secret's values masked.
fn shown(
    res: &ApiResource,
    mut live: Option<Value>,
    mut merged: Value,
    show_managed_fields: bool,
) -> (Option<Value>, Value) {
    if !show_managed_fields {
        if let Some(l) = live.as_mut() {
            strip(l);
        }
        strip(&mut merged);
    }
    if res.kind == "Secret" && res.group.is_empty() {
        let mut l = live.clone().unwrap_or(Value::Null);
        mask_secrets(&mut l, &mut merged);
        if live.is_some() {
            live = Some(l);
        }
    }
    (live, merged)
}

/// Runs the diff program; its exit status 1 ("different") becomes kubectl's.
fn run_diff(live: &Path, merged: &Path) -> Result<()> {
    let external = std::env::var("KUBECTL_EXTERNAL_DIFF")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let (program, mut extra): (String, Vec<String>) = match external {
        Some(cmd) => {
            let mut parts = cmd.split_whitespace().map(String::from);
            let prog = parts.next().unwrap_or_else(|| "diff".into());
            (prog, parts.collect())
        }
        None => ("diff".into(), vec!["-u".into(), "-N".into()]),
    };
    extra.push(live.display().to_string());
    extra.push(merged.display().to_string());
    let status = std::process::Command::new(&program)
        .args(&extra)
        .status()
        .map_err(|e| KubectlError::usage(format!("failed to run \"{program}\": {e}")))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(c) => Err(KubectlError::Exit(c)),
        None => Err(KubectlError::usage("diff was killed by a signal")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::tests::res;

    #[test]
    fn file_names_include_group_version_kind_namespace_name() {
        assert_eq!(
            file_name(
                &res("apps", "v1", "Deployment", "deployments", &[]),
                "ns",
                "web"
            ),
            "apps.v1.Deployment.ns.web"
        );
        assert_eq!(
            file_name(&res("", "v1", "ConfigMap", "configmaps", &[]), "ns", "c"),
            "v1.ConfigMap.ns.c"
        );
    }

    #[test]
    fn secrets_are_masked() {
        let mut live = json!({"data": {"a": "MQ==", "b": "Mg=="}});
        let mut merged = json!({"data": {"a": "MQ==", "b": "Mw==", "c": "NA=="}});
        mask_secrets(&mut live, &mut merged);
        assert_eq!(live, json!({"data": {"a": "***", "b": "*** (before)"}}));
        assert_eq!(
            merged,
            json!({"data": {"a": "***", "b": "*** (after)", "c": "*** (after)"}})
        );
    }

    #[test]
    fn pruned_objects_are_named_by_their_own_type() {
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod"}});
        assert_eq!(object_file_name(&obj), "apps.v1.Deployment.prod.web");
        let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}});
        assert_eq!(object_file_name(&obj), "v1.Namespace..x");
    }

    #[test]
    fn managed_fields_are_shown_only_when_asked() {
        let obj = json!({"kind": "ConfigMap", "metadata": {"name": "x",
            "managedFields": [{"manager": "kubectl"}]}});
        let res = res("", "v1", "ConfigMap", "configmaps", &[]);
        let (live, merged) = shown(&res, Some(obj.clone()), obj.clone(), false);
        assert!(live.unwrap()["metadata"].get("managedFields").is_none());
        assert!(merged["metadata"].get("managedFields").is_none());
        let (_, merged) = shown(&res, None, obj, true);
        assert!(merged["metadata"]["managedFields"].is_array());
    }
}
