//! `kubectl set image|env|resources|serviceaccount|selector|subject`: change the pod template
//! of workloads (or a pod's spec), a Service's selector or a binding's subjects with a
//! strategic merge patch, printing `KIND/NAME <what> updated` for each object that changed, as
//! upstream does.

mod env;
mod image;
mod resources;
mod selector;
mod serviceaccount;
mod subject;

use clap::{Args, Subcommand};
use http::Method;
use serde_json::{json, Value};

use super::print_flags::{DryRun, DryRunFlag, PrintFlags};
use super::Ctx;
use crate::client::Body;
use crate::error::{KubectlError, Result};
use crate::resource::ApiResource;

/// `kubectl set`
#[derive(Debug, Args)]
pub struct SetArgs {
    #[command(subcommand)]
    what: SetCommand,
}

#[derive(Debug, Subcommand)]
enum SetCommand {
    /// Update the image of a pod template.
    Image(image::ImageArgs),
    /// Update environment variables on a pod template.
    Env(env::EnvArgs),
    /// Update resource requests/limits on objects with pod templates.
    Resources(resources::ResourcesArgs),
    /// Update the service account of a resource.
    #[command(name = "serviceaccount", alias = "sa")]
    ServiceAccount(serviceaccount::ServiceAccountArgs),
    /// Set the selector on a resource.
    Selector(selector::SelectorArgs),
    /// Update the User, Group, or ServiceAccount in a role binding or cluster role binding.
    Subject(subject::SubjectArgs),
}

/// The flags every `set` command takes to choose objects and print them.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Select all resources in the namespace of the specified resource types.
    #[arg(long)]
    all: bool,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    #[command(flatten)]
    print_flags: PrintFlags,
    #[command(flatten)]
    dry_run: DryRunFlag,
}

impl TargetArgs {
    /// Upstream's checks of the target flags, made before anything else.
    fn check(&self) -> Result<()> {
        if self.all && self.selector.is_some() {
            return Err(KubectlError::usage(
                "cannot set --all and --selector at the same time",
            ));
        }
        Ok(())
    }
}

/// Runs `kubectl set`.
pub async fn run(ctx: &Ctx, args: SetArgs) -> Result<()> {
    match args.what {
        SetCommand::Image(a) => image::run(ctx, a).await,
        SetCommand::Env(a) => env::run(ctx, a).await,
        SetCommand::Resources(a) => resources::run(ctx, a).await,
        SetCommand::ServiceAccount(a) => serviceaccount::run(ctx, a).await,
        SetCommand::Selector(a) => selector::run(ctx, a).await,
        SetCommand::Subject(a) => subject::run(ctx, a).await,
    }
}

/// Where a kind keeps its pod spec.
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Pod" => "/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicationController"
        | "Job" => "/spec/template/spec",
        _ => return None,
    })
}

/// `inner` nested along a JSON pointer (`/spec/template/spec` → `{"spec": {"template": …}}`).
fn nest(pointer: &str, inner: Value) -> Value {
    pointer
        .trim_start_matches('/')
        .split('/')
        .rev()
        .fold(inner, |patch, seg| json!({ seg: patch }))
}

/// For each object named by `objects` (and the target flags): `patch_for` gets its resource
/// type, the object and the pointer to its pod spec and returns a strategic merge patch, or None when nothing
/// changes. Patched objects are printed as `<kind>/<name> <verb>`; the errors of single
/// objects are returned, not printed.
async fn update_pod_templates(
    ctx: &Ctx,
    objects: &[String],
    t: &TargetArgs,
    verb: &str,
    mut patch_for: impl FnMut(&ApiResource, &Value, &str) -> Result<Option<Value>>,
) -> Result<Vec<KubectlError>> {
    update_objects(ctx, objects, t, verb, |res, obj| {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let Some(ptr) = pod_spec_pointer(&res.kind) else {
            return Err(KubectlError::usage(format!(
                "{}/{name} the object is not a pod or does not have a pod template: {}",
                res.kind_prefix(),
                res.kind
            )));
        };
        patch_for(res, obj, ptr)
    })
    .await
}

/// For each object named by `objects` (and the target flags): `patch_for` gets its resource
/// type and the object and returns a strategic merge patch, or None when nothing changes.
/// Patched objects are printed as `<kind>/<name> <verb>`; the errors of single objects are
/// returned, not printed.
async fn update_objects(
    ctx: &Ctx,
    objects: &[String],
    t: &TargetArgs,
    verb: &str,
    mut patch_for: impl FnMut(&ApiResource, &Value) -> Result<Option<Value>>,
) -> Result<Vec<KubectlError>> {
    t.check()?;
    let format = t.print_flags.format()?;
    let dry = t.dry_run.strategy()?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets =
        super::label::resolve_targets(&client, &mut disc, objects, t.selector.as_deref(), t.all)
            .await?;
    let mut errors = Vec::new();
    for (res, name) in targets {
        let path = res.object_path(res.namespaced.then_some(client.namespace.as_str()), &name);
        let r = async {
            let obj = client.get(&path).await?;
            let Some(patch) = patch_for(&res, &obj)? else {
                return Ok(None);
            };
            if dry == DryRun::Client {
                // The object as the patch would leave it, which is what upstream prints.
                let mut changed = obj;
                super::overrides::strategic_merge_pod_part(&mut changed, &patch);
                return Ok(Some(changed));
            }
            let query = format!("?fieldManager=kubectl-set{}", dry.query());
            client
                .request(
                    Method::PATCH,
                    &format!("{path}{query}"),
                    "application/json",
                    Some(Body::strategic_merge_patch(&patch)),
                )
                .await
                .map(Some)
        }
        .await;
        match r {
            Ok(Some(o)) => t.print_flags.print(&format, &o, verb, dry)?,
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    Ok(errors)
}

/// Whether a container name matches a `--containers` selector (a shell pattern: `*` for
/// any run of characters, `?` for one).
fn name_matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_nest_along_the_pointer_and_names_match_patterns() {
        assert_eq!(
            nest("/spec/template/spec", json!({"x": 1})),
            json!({"spec": {"template": {"spec": {"x": 1}}}})
        );
        assert!(name_matches("*", "web"));
        assert!(name_matches("w?b", "web"));
        assert!(name_matches("side*", "sidecar"));
        assert!(!name_matches("web", "web2"));
    }
}
