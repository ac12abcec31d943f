//! `kubectl set image`: change container images in pod templates (or a pod) with a
//! strategic merge patch keyed by container name.

use clap::Args;
use serde_json::{json, Value};

use super::{update_pod_templates, TargetArgs};
use crate::cmd::Ctx;
use crate::error::{KubectlError, Result};

/// `kubectl set image (-f FILENAME | TYPE NAME) CONTAINER_NAME_1=CONTAINER_IMAGE_1 ...`
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// TYPE NAME… or TYPE/NAME… followed by CONTAINER=IMAGE pairs.
    args: Vec<String>,
    #[command(flatten)]
    targets: TargetArgs,
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

/// Runs `kubectl set image`.
pub async fn run(ctx: &Ctx, a: ImageArgs) -> Result<()> {
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
    let mut missing_all: Vec<String> = Vec::new();
    let mut errors =
        update_pod_templates(ctx, &objects, &a.targets, "image updated", |_, obj, ptr| {
            let (patch, missing) = image_patch(obj, ptr, &images);
            missing_all.extend(
                missing
                    .iter()
                    .map(|m| format!("unable to find container named {m:?}")),
            );
            Ok(patch)
        })
        .await?;
    errors.extend(missing_all.into_iter().map(KubectlError::usage));
    crate::cmd::get::report(errors)
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
