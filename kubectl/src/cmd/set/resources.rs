//! `kubectl set resources (TYPE NAME | TYPE/NAME) [-c CONTAINERS] [--limits=…] [--requests=…]`:
//! merges requests and limits into the selected containers (init containers included).

use clap::Args;
use serde_json::{json, Map, Value};

use super::change::{Change, Wording};
use super::{name_matches, nest, pod_spec_of, report, TargetArgs};
use crate::cmd::create::FileArgs;
use crate::cmd::Ctx;
use crate::error::{KubectlError, Result};

/// `kubectl set resources`
#[derive(Debug, Args)]
pub struct ResourcesArgs {
    /// TYPE NAME… or TYPE/NAME….
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// Selector (label query) to filter on, supports '=', '==', and '!='.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// The names of containers in the selected pod templates to change, all containers are
    /// selected by default - may use wildcards.
    #[arg(short = 'c', long, default_value = "*")]
    containers: String,
    /// The resource requirement limits for this container. For example, 'cpu=100m,memory=256Mi'.
    #[arg(long, default_value = "")]
    limits: String,
    /// The resource requirement requests for this container. For example, 'cpu=100m,memory=256Mi'.
    #[arg(long, default_value = "")]
    requests: String,
    #[command(flatten)]
    targets: TargetArgs,
}

/// Runs `kubectl set resources`.
pub async fn run(ctx: &Ctx, a: ResourcesArgs) -> Result<()> {
    let t = &a.targets;
    let mut change = Change::new(
        t,
        "resource requirements updated",
        Wording::Patches {
            failed_patch: "failed to patch resources update to pod template ",
        },
    )?;
    let found = t
        .find_every(ctx, &a.args, &a.files, a.selector.as_deref())
        .await?;
    // Upstream's Validate, first complaint only.
    if let Some(e) = t
        .check_local_dry_run(change.dry)
        .or_else(|| t.check_all_and_selector(a.selector.as_deref()))
    {
        return Err(e);
    }
    if a.limits.is_empty() && a.requests.is_empty() {
        return Err(KubectlError::usage(
            "you must specify an update to requests or limits (in the form of --requests/--limits)",
        ));
    }
    let limits = resource_list(&a.limits)?;
    let requests = resource_list(&a.requests)?;
    let mut not_found = Vec::new();
    let errors = change
        .each(&found, |info| {
            let ptr = pod_spec_of(&info.object)?;
            let spec = info.object.pointer(ptr).cloned().unwrap_or(Value::Null);
            let (patch, matched) = resources_patch(&spec, &a.containers, &limits, &requests);
            if !matched {
                not_found.push(KubectlError::usage(format!(
                    "error: unable to find container named {}",
                    a.containers
                )));
            }
            Ok(patch.map(|p| nest(ptr, p)))
        })
        .await;
    not_found.extend(errors);
    report(not_found)
}

/// `cpu=100m,memory=256Mi` as a resource list; each quantity is checked.
fn resource_list(text: &str) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for pair in text.split(',').filter(|p| !p.is_empty()) {
        let Some((name, quantity)) = pair.split_once('=') else {
            return Err(KubectlError::usage(format!(
                "Invalid argument syntax {pair}, expected <resource>=<value>"
            )));
        };
        // Upstream parses each into a Quantity, which is sent (and compared) canonical.
        let Some(canonical) = common::quantity::canonical(quantity) else {
            return Err(KubectlError::usage(
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            ));
        };
        out.insert(name.to_string(), json!(canonical));
    }
    Ok(out)
}

/// The pod spec patch that merges `limits` and `requests` into the matching containers
/// (None when nothing changes), and whether any container matched.
fn resources_patch(
    spec: &Value,
    selector: &str,
    limits: &Map<String, Value>,
    requests: &Map<String, Value>,
) -> (Option<Value>, bool) {
    let mut patch = Map::new();
    let mut matched = false;
    for list in ["containers", "initContainers"] {
        let mut changed = Vec::new();
        for c in spec[list].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or_default();
            if !name_matches(selector, name) {
                continue;
            }
            matched = true;
            let mut resources = Map::new();
            for (key, wanted) in [("limits", limits), ("requests", requests)] {
                let current = c["resources"][key].as_object().cloned().unwrap_or_default();
                let mut merged = current.clone();
                merged.extend(wanted.clone());
                if merged != current {
                    resources.insert(key.to_string(), Value::Object(merged));
                }
            }
            if !resources.is_empty() {
                changed.push(json!({"name": name, "resources": resources}));
            }
        }
        if !changed.is_empty() {
            patch.insert(list.to_string(), Value::Array(changed));
        }
    }
    ((!patch.is_empty()).then_some(Value::Object(patch)), matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_requests_merge_into_matching_containers() {
        let spec = json!({"containers": [
            {"name": "web", "resources": {"limits": {"cpu": "1"}}},
            {"name": "side"}
        ], "initContainers": [{"name": "web-init"}]});
        let limits = resource_list("memory=256Mi").unwrap();
        let requests = resource_list("cpu=100m").unwrap();
        let (patch, matched) = resources_patch(&spec, "web*", &limits, &requests);
        assert!(matched);
        assert_eq!(
            patch.unwrap(),
            json!({
                "containers": [{"name": "web", "resources": {
                    "limits": {"cpu": "1", "memory": "256Mi"}, "requests": {"cpu": "100m"}}}],
                "initContainers": [{"name": "web-init", "resources": {
                    "limits": {"memory": "256Mi"}, "requests": {"cpu": "100m"}}}]
            })
        );
        let same = resource_list("cpu=1").unwrap();
        let (patch, matched) = resources_patch(&spec, "web", &same, &Map::new());
        assert!(
            matched && patch.is_none(),
            "an unchanged container is not patched"
        );
        let (_, matched) = resources_patch(&spec, "nope", &limits, &requests);
        assert!(!matched);
        assert_eq!(
            resource_list("cpu=1000m,memory=1024Mi").unwrap(),
            resource_list("cpu=1,memory=1Gi").unwrap(),
            "quantities are compared (and sent) canonical"
        );
        assert!(resource_list("cpu").is_err());
        assert!(resource_list("cpu=lots").is_err());
    }
}
