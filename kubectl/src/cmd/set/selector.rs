//! `kubectl set selector (-f FILENAME | TYPE NAME) EXPRESSIONS [--resource-version=V]`:
//! replaces a Service's selector with the given `key=value` labels.

use clap::{ArgAction, Args};
use serde_json::{json, Map, Value};

use super::change::{Change, Wording};
use super::objects::{self, Selection, LOCAL_RESOURCE_ERROR};
use super::{report, TargetArgs};
use crate::cmd::create::FileArgs;
use crate::cmd::Ctx;
use crate::error::{KubectlError, Result};

/// `kubectl set selector`
#[derive(Debug, Args)]
pub struct SelectorArgs {
    /// TYPE NAME… or TYPE/NAME…, then the selector (`key=value,…`).
    args: Vec<String>,
    /// Filename, directory, or URL to files identifying the resource to update the
    /// selector.
    #[arg(short = 'f', long = "filename")]
    filename: Vec<String>,
    /// Process the directory used in -f, --filename recursively. Useful when you want to
    /// manage related manifests organized within the same directory.
    // Upstream's resource builder flags recurse by default here, unlike the other `set`s.
    #[arg(short = 'R', long, default_value_t = true, action = ArgAction::Set)]
    recursive: bool,
    /// If non-empty, the selectors update will only succeed if this is the current
    /// resource-version for the object.
    #[arg(long)]
    resource_version: Option<String>,
    #[command(flatten)]
    targets: TargetArgs,
}

impl SelectorArgs {
    /// `-R`
    #[cfg(test)]
    pub fn recursive(&self) -> bool {
        self.recursive
    }
}

/// Runs `kubectl set selector`.
pub async fn run(ctx: &Ctx, a: SelectorArgs) -> Result<()> {
    let t = &a.targets;
    let mut change = Change::new(t, "selector updated", Wording::Visit)?;
    let Some((expression, objects)) = a.args.split_last() else {
        return Err(KubectlError::usage("one selector is required"));
    };
    let selector = parse(expression)?;
    if t.local && !objects.is_empty() {
        return Err(KubectlError::usage(LOCAL_RESOURCE_ERROR));
    }
    let files = FileArgs {
        filename: a.filename.clone(),
        recursive: a.recursive,
    };
    let found = objects::find(
        ctx,
        Selection {
            words: objects,
            files: &files,
            selector: None,
            all: t.all,
            local: t.local,
        },
    )
    .await?;
    let resource_version = a.resource_version.as_deref().filter(|v| !v.is_empty());
    let errors = change
        .each(&found, |info| {
            let obj = &info.object;
            if obj["kind"] != "Service" {
                return Err(KubectlError::usage(
                    "setting a selector is only supported for Services",
                ));
            }
            let labels = selector
                .as_ref()
                .map_err(|e| KubectlError::usage(e.clone()))?;
            let mut patch =
                json!({"spec": {"selector": replacing(&obj["spec"]["selector"], labels)}});
            if let Some(v) = resource_version {
                patch["metadata"] = json!({"resourceVersion": v});
            }
            // Upstream patches (and reports) even when the selector does not change.
            Ok(Some(patch))
        })
        .await;
    // Upstream visits the objects, going on after one it could not read.
    let mut all = found.errors;
    all.extend(errors);
    report(all)
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
