//! `kubectl set image`: change container images in pod templates (or a pod) with a
//! strategic merge patch keyed by container name.

use clap::Args;
use serde_json::{json, Value};

use super::change::{Change, Wording};
use super::{pod_spec_of, report, TargetArgs};
use crate::cmd::create::FileArgs;
use crate::cmd::Ctx;
use crate::error::{KubectlError, Result};

/// `kubectl set image (-f FILENAME | TYPE NAME) CONTAINER_NAME_1=CONTAINER_IMAGE_1 ...`
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// TYPE NAME… or TYPE/NAME… followed by CONTAINER=IMAGE pairs.
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// Selector (label query) to filter on, supports '=', '==', and '!='.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    #[command(flatten)]
    targets: TargetArgs,
}

impl ImageArgs {
    /// The shared `set` flags.
    #[cfg(test)]
    pub fn targets(&self) -> &TargetArgs {
        &self.targets
    }
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
    (Some(super::nest(spec_ptr, inner)), missing)
}

/// Upstream's `GetResourcesAndPairs`: objects first, then `NAME=VALUE` (or `NAME-`) pairs.
pub fn split_pairs(args: &[String], pair_type: &str) -> Result<(Vec<String>, Vec<String>)> {
    let (mut resources, mut pairs) = (Vec::new(), Vec::new());
    for arg in args {
        let is_pair =
            (arg.contains('=') && !arg.starts_with('=')) || (arg.ends_with('-') && arg != "-");
        match (is_pair, pairs.is_empty()) {
            (true, _) => pairs.push(arg.clone()),
            (false, true) => resources.push(arg.clone()),
            (false, false) => {
                return Err(KubectlError::usage(format!(
                    "all resources must be specified before {pair_type} changes: {arg}"
                )))
            }
        }
    }
    Ok((resources, pairs))
}

/// Upstream's `ParsePairs` without removals: each pair is `NAME=VALUE`.
fn parse_images(pairs: &[String]) -> Result<Vec<(String, String)>> {
    let mut images: Vec<(String, String)> = Vec::new();
    let mut invalid = Vec::new();
    for pair in pairs {
        match pair.split_once('=') {
            Some((name, image)) if !name.is_empty() => {
                // Later pairs for the same container win, as in upstream's map.
                images.retain(|(n, _)| n != name);
                images.push((name.to_string(), image.to_string()));
            }
            _ => invalid.push(pair.as_str()),
        }
    }
    if !invalid.is_empty() {
        return Err(KubectlError::usage(format!(
            "invalid image format: {}",
            invalid.join(", ")
        )));
    }
    Ok(images)
}

/// Runs `kubectl set image`.
pub async fn run(ctx: &Ctx, a: ImageArgs) -> Result<()> {
    let t = &a.targets;
    let mut change = Change::new(
        t,
        "image updated",
        Wording::Patches {
            failed_patch: "failed to patch image update to pod template: ",
        },
    )?;
    let (objects, pairs) = split_pairs(&a.args, "image")?;
    let images = parse_images(&pairs)?;
    let found = t
        .find_every(ctx, &objects, &a.files, a.selector.as_deref())
        .await?;
    // Upstream's Validate: every complaint at once.
    let mut invalid: Vec<KubectlError> = t
        .check_all_and_selector(a.selector.as_deref())
        .into_iter()
        .collect();
    if objects.is_empty() && a.files.filename.is_empty() {
        invalid.push(KubectlError::usage(
            "one or more resources must be specified as <resource> <name> or <resource>/<name>",
        ));
    }
    if images.is_empty() {
        invalid.push(KubectlError::usage("at least one image update is required"));
    } else if images.len() > 1 && images.iter().any(|(n, _)| n == "*") {
        invalid.push(KubectlError::usage(
            "all containers are already specified by *, but saw more than one container_name=container_image pairs",
        ));
    }
    invalid.extend(t.check_local_dry_run(change.dry));
    report(invalid)?;
    let mut missing: Vec<KubectlError> = Vec::new();
    let errors = change
        .each(&found, |info| {
            let ptr = pod_spec_of(&info.object)?;
            let (patch, not_found) = image_patch(&info.object, ptr, &images);
            missing.extend(not_found.iter().map(|m| {
                KubectlError::usage(format!("error: unable to find container named {m:?}"))
            }));
            Ok(patch)
        })
        .await;
    // Upstream collects the missing containers while computing every patch, before it
    // reports any object's error.
    missing.extend(errors);
    report(missing)
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
