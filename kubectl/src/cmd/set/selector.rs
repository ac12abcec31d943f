//! `kubectl set selector (TYPE NAME | TYPE/NAME) EXPRESSIONS [--resource-version=V]`: replaces
//! a Service's selector with the given `key=value` labels.

use clap::Args;
use serde_json::{json, Map, Value};

use super::{update_objects, TargetArgs};
use crate::cmd::Ctx;
use crate::error::{KubectlError, Result};

/// `kubectl set selector`
#[derive(Debug, Args)]
pub struct SelectorArgs {
    /// TYPE NAME… or TYPE/NAME…, then the selector (`key=value,…`).
    args: Vec<String>,
    /// If non-empty, the selectors update will only succeed if this is the current
    /// resource-version for the object.
    #[arg(long)]
    resource_version: Option<String>,
    #[command(flatten)]
    targets: TargetArgs,
}

/// Runs `kubectl set selector`.
pub async fn run(ctx: &Ctx, a: SelectorArgs) -> Result<()> {
    a.targets.check()?;
    let Some((expression, objects)) = a.args.split_last() else {
        return Err(KubectlError::usage("one selector is required"));
    };
    let selector = parse(expression)?;
    let resource_version = a.resource_version.as_deref().filter(|v| !v.is_empty());
    let errors = update_objects(ctx, objects, &a.targets, "selector updated", |res, obj| {
        if res.kind != "Service" {
            return Err(KubectlError::usage(
                "setting a selector is only supported for Services",
            ));
        }
        let labels = selector
            .as_ref()
            .map_err(|e| KubectlError::usage(e.clone()))?;
        let mut patch = json!({"spec": {"selector": replacing(&obj["spec"]["selector"], labels)}});
        if let Some(v) = resource_version {
            patch["metadata"] = json!({"resourceVersion": v});
        }
        // Upstream patches (and reports) even when the selector does not change.
        Ok(Some(patch))
    })
    .await?;
    crate::cmd::get::report(errors)
}

/// The labels of `key=value` (or `key==value`) requirements. Other requirements are valid
/// selectors but cannot be a Service's, which upstream refuses per object, in Go's
/// formatting of them.
fn parse(expression: &str) -> Result<std::result::Result<Map<String, Value>, String>> {
    let mut labels = Map::new();
    let mut others = Vec::new();
    for part in expression
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if part.contains("!=") {
            // Inequality is a valid label selector, but not one a LabelSelector can hold.
            return Err(KubectlError::usage(
                "\"!=\" is not a valid label selector operator",
            ));
        } else if let Some((key, value)) = part.split_once("==").or_else(|| part.split_once('=')) {
            labels.insert(key.trim().to_string(), json!(value.trim()));
        } else if let Some(key) = part.strip_prefix('!') {
            others.push(format!("{{{} DoesNotExist []}}", key.trim()));
        } else if !part.contains(' ') {
            others.push(format!("{{{part} Exists []}}"));
        } else {
            return Err(KubectlError::usage(format!(
                "unable to parse requirement: {part:?}"
            )));
        }
    }
    Ok(if others.is_empty() {
        Ok(labels)
    } else {
        Err(format!(
            "match expression [{}] not supported on this object",
            others.join(" ")
        ))
    })
}

/// A strategic merge patch of a map that replaces `old` with `new`: removed keys null.
fn replacing(old: &Value, new: &Map<String, Value>) -> Value {
    let mut patch = new.clone();
    for key in old.as_object().into_iter().flat_map(|m| m.keys()) {
        if !new.contains_key(key) {
            patch.insert(key.clone(), Value::Null);
        }
    }
    Value::Object(patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_to_labels_and_replace_the_old_ones() {
        let labels = parse("app=web, tier==front").unwrap().unwrap();
        assert_eq!(
            Value::Object(labels.clone()),
            json!({"app": "web", "tier": "front"})
        );
        assert_eq!(
            replacing(&json!({"app": "old", "run": "x"}), &labels),
            json!({"app": "web", "tier": "front", "run": null})
        );
        assert_eq!(
            parse("!gone,ready").unwrap().unwrap_err(),
            "match expression [{gone DoesNotExist []} {ready Exists []}] not supported on this object"
        );
        assert!(parse("env!=qa").is_err());
        assert!(parse("").unwrap().unwrap().is_empty());
    }
}
