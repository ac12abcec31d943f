//! `kubectl set image`: change container images in pod templates (or a pod) with a
//! strategic merge patch keyed by container name.

use clap::{Args, Subcommand};
use http::Method;
use serde_json::{json, Value};

use super::create::{print_result, DryRun};
use super::Ctx;
use crate::client::Body;
use crate::error::{KubectlError, Result};
use crate::printers::OutputFormat;

/// `kubectl set`
#[derive(Debug, Args)]
pub struct SetArgs {
    #[command(subcommand)]
    what: SetCommand,
}

#[derive(Debug, Subcommand)]
enum SetCommand {
    /// Update the image of a pod template.
    Image(ImageArgs),
}

/// `kubectl set image (-f FILENAME | TYPE NAME) CONTAINER_NAME_1=CONTAINER_IMAGE_1 ...`
#[derive(Debug, Args)]
struct ImageArgs {
    /// TYPE NAME… or TYPE/NAME… followed by CONTAINER=IMAGE pairs.
    args: Vec<String>,
    /// Select all resources in the namespace of the specified resource types.
    #[arg(long)]
    all: bool,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Output format: name, yaml, json.
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// Must be "none", "server", or "client".
    #[arg(long, num_args = 0..=1, default_missing_value = "client")]
    dry_run: Option<String>,
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

/// The patch that sets `images` (container → image, `*` = all) in `obj`, and the names that
/// matched no container. `None` when nothing changes.
pub fn image_patch(
    obj: &Value,
    spec_ptr: &str,
    images: &[(String, String)],
) -> (Option<Value>, Vec<String>) {
    let spec = obj.pointer(spec_ptr).cloned().unwrap_or(Value::Null);
    let mut missing = Vec::new();
    let mut lists: Vec<(&str, Vec<Value>)> = Vec::new();
    for field in ["initContainers", "containers"] {
        let mut changed = Vec::new();
        for c in spec[field].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or("");
            if let Some((_, img)) = images.iter().rev().find(|(n, _)| n == name || n == "*") {
                if c["image"].as_str() != Some(img.as_str()) {
                    changed.push(json!({"name": name, "image": img}));
                }
            }
        }
        if !changed.is_empty() {
            lists.push((field, changed));
        }
    }
    for (n, _) in images {
        let found = n == "*"
            || ["initContainers", "containers"].iter().any(|f| {
                spec[*f]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["name"].as_str() == Some(n.as_str()))
            });
        if !found {
            missing.push(n.clone());
        }
    }
    if lists.is_empty() {
        return (None, missing);
    }
    let mut inner = json!({});
    for (field, list) in lists {
        inner[field] = json!(list);
    }
    // Build the nested object along the pointer.
    let mut patch = inner;
    for seg in spec_ptr.trim_start_matches('/').split('/').rev() {
        patch = json!({ seg: patch });
    }
    (Some(patch), missing)
}

/// Runs `kubectl set`.
pub async fn run(ctx: &Ctx, args: SetArgs) -> Result<()> {
    let SetCommand::Image(a) = args.what;
    let (objects, pairs): (Vec<String>, Vec<String>) =
        a.args.iter().cloned().partition(|s| !s.contains('='));
    if pairs.is_empty() {
        return Err(KubectlError::usage(
            "at least one image update is required\nSee 'kubectl set image -h' for help and examples",
        ));
    }
    let images: Vec<(String, String)> = pairs
        .iter()
        .filter_map(|p| {
            p.split_once('=')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        })
        .collect();
    let format = OutputFormat::parse(a.output.as_deref())?;
    let dry = DryRun::parse(a.dry_run.as_deref())?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets =
        super::label::resolve_targets(&client, &mut disc, &objects, a.selector.as_deref(), a.all)
            .await?;
    let mut errors = Vec::new();
    let mut missing_all: Vec<String> = Vec::new();
    for (res, name) in targets {
        let path = res.object_path(res.namespaced.then_some(client.namespace.as_str()), &name);
        let r = async {
            let obj = client.get(&path).await?;
            let Some(ptr) = pod_spec_pointer(&res.kind) else {
                return Err(KubectlError::usage(format!(
                    "{}/{name} the object is not a pod or does not have a pod template: {}",
                    res.kind_prefix(),
                    res.kind
                )));
            };
            let (patch, missing) = image_patch(&obj, ptr, &images);
            missing_all.extend(
                missing
                    .iter()
                    .map(|m| format!("unable to find container named {m:?}")),
            );
            let Some(patch) = patch else {
                return Ok(None);
            };
            if dry == DryRun::Client {
                return Ok(Some(obj));
            }
            let body = Body::strategic_merge_patch(&patch);
            let sep = if dry.query().is_empty() { "" } else { "?" };
            client
                .request(
                    Method::PATCH,
                    &format!("{path}{sep}{}", dry.query().trim_start_matches('&')),
                    "application/json",
                    Some(body),
                )
                .await
                .map(Some)
        }
        .await;
        match r {
            Ok(Some(o)) => print_result(&format, &o, "image updated", dry)?,
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    errors.extend(missing_all.into_iter().map(KubectlError::usage));
    super::get::report(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_only_changed_containers() {
        let d = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "a"}, {"name": "side", "image": "b"}]}}}});
        let (p, missing) = image_patch(
            &d,
            "/spec/template/spec",
            &[("web".into(), "x".into()), ("nope".into(), "y".into())],
        );
        assert_eq!(
            p.unwrap(),
            json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "x"}]}}}})
        );
        assert_eq!(missing, vec!["nope".to_string()]);
        let (p, _) = image_patch(&d, "/spec/template/spec", &[("web".into(), "a".into())]);
        assert!(p.is_none());
        let (p, _) = image_patch(&d, "/spec/template/spec", &[("*".into(), "z".into())]);
        assert_eq!(
            p.unwrap()["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
}
