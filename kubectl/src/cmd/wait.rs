//! `kubectl wait --for=condition=C[=value] | --for=create | --for=delete |
//! --for=jsonpath='{…}'=value`.

use std::time::Duration;

use tokio::time::Instant;

use clap::Args;
use serde_json::Value;

use super::{out, Ctx};
use crate::error::{KubectlError, Result};
use crate::printers::jsonpath::{self, to_text};
use crate::watch;

/// `kubectl wait`
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// TYPE NAME… or TYPE/NAME…
    args: Vec<String>,
    /// The condition to wait on: [create|delete|condition=condition-name[=condition-value]|jsonpath='{JSONPath expression}'=[JSONPath value]].
    #[arg(long = "for")]
    for_: String,
    /// The length of time to wait before giving up (e.g. 30s, 5m).
    #[arg(long, default_value = "30s", value_parser = crate::flags::go_duration)]
    timeout: String,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Select all resources in the namespace of the specified resource types.
    #[arg(long)]
    all: bool,
}

/// What `--for` asks for.
#[derive(Debug, PartialEq)]
pub enum Condition {
    /// `create`: the object exists.
    Create,
    /// `delete`
    Delete,
    /// `condition=Type[=value]` (value defaults to "True", compared case-insensitively).
    Status(String, String),
    /// `jsonpath='{…}'=value` (no value: the path only has to exist).
    JsonPath(String, Option<String>),
}

/// Parses `--for`.
pub fn parse_for(s: &str) -> Result<Condition> {
    if s.eq_ignore_ascii_case("delete") {
        return Ok(Condition::Delete);
    }
    if s.eq_ignore_ascii_case("create") {
        return Ok(Condition::Create);
    }
    if let Some(rest) = s.strip_prefix("condition=") {
        let (name, value) = rest.split_once('=').unwrap_or((rest, "true"));
        return Ok(Condition::Status(name.to_string(), value.to_string()));
    }
    if let Some(rest) = s.strip_prefix("jsonpath=") {
        let rest = rest.trim_matches('\'');
        if let Some(close) = rest.find('}') {
            let path = rest[..=close].to_string();
            let value = rest[close + 1..].strip_prefix('=').map(String::from);
            return Ok(Condition::JsonPath(path, value));
        }
        return Err(KubectlError::usage(format!(
            "unrecognized JSONPath expression: {rest}"
        )));
    }
    Err(KubectlError::usage(format!(
        "unrecognized condition: \"{s}\""
    )))
}

/// Whether a live object meets a (non-delete) condition.
pub fn met(obj: &Value, cond: &Condition) -> bool {
    match cond {
        Condition::Create => true,
        Condition::Delete => false,
        Condition::Status(name, value) => obj["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| {
                c["type"]
                    .as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case(name))
                    && c["status"]
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(value))
            }),
        Condition::JsonPath(path, value) => {
            let inner = path.trim_start_matches('{').trim_end_matches('}');
            let Ok(p) = jsonpath::parse_path(inner) else {
                return false;
            };
            let found = p.eval(obj, obj);
            match value {
                None => !found.is_empty(),
                Some(v) => found.len() == 1 && to_text(found[0]) == *v,
            }
        }
    }
}

/// `--timeout` (a Go duration, checked when the flags were read); a negative one means a
/// week, as upstream.
fn parse_timeout(s: &str) -> Result<Duration> {
    let secs = crate::flags::go_duration_secs(s).ok_or_else(|| {
        KubectlError::usage(format!("invalid argument \"{s}\" for \"--timeout\" flag"))
    })?;
    Ok(if secs < 0.0 {
        Duration::from_secs(7 * 86400)
    } else {
        Duration::from_secs_f64(secs)
    })
}

/// Runs `kubectl wait`.
pub async fn run(ctx: &Ctx, args: WaitArgs) -> Result<()> {
    let cond = parse_for(&args.for_)?;
    let timeout = parse_timeout(&args.timeout)?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets = super::label::resolve_targets(
        &client,
        &mut disc,
        &args.args,
        args.selector.as_deref(),
        args.all,
    )
    .await?;
    if targets.is_empty() {
        return Err(KubectlError::usage("no matching resources found"));
    }
    let deadline = Instant::now() + timeout;
    let mut errors = Vec::new();
    for (res, name) in targets {
        let ns = res.namespaced.then_some(client.namespace.as_str());
        // A missing object is an error unless its deletion is awaited, as upstream's
        // builder finds it missing before waiting.
        let first = match client.get(&res.object_path(ns, &name)).await {
            Ok(obj) => Some(obj),
            Err(e) if e.is_not_found() && cond == Condition::Delete => None,
            // Not there yet: watch for it to appear.
            Err(e) if e.is_not_found() && cond == Condition::Create => {
                let collection = res.collection_path(ns);
                let created = watch::object_until(&client, &collection, &name, deadline, |obj| {
                    Ok(obj.map(|_| ()))
                });
                match created.await {
                    Ok(Some(())) => out(&format!("{}/{name} condition met\n", res.kind_prefix())),
                    // Upstream's create wait words its timeout without the object.
                    Ok(None) => {
                        errors.push(KubectlError::usage("timed out waiting for the condition"))
                    }
                    Err(e) => errors.push(e),
                }
                continue;
            }
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let done = match first {
            Some(seen) if !met(&seen, &cond) => {
                let collection = res.collection_path(ns);
                let watched =
                    watch::object_until_after(&client, &collection, &seen, deadline, |obj| {
                        Ok(match obj {
                            Some(obj) => met(obj, &cond).then_some(()),
                            None => (cond == Condition::Delete).then_some(()),
                        })
                    });
                match watched.await {
                    Ok(outcome) => outcome.is_some(),
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                }
            }
            _ => true,
        };
        if done {
            out(&format!("{}/{name} condition met\n", res.kind_prefix()));
        } else {
            errors.push(KubectlError::usage(format!(
                "timed out waiting for the condition on {}/{name}",
                res.plural
            )));
        }
    }
    super::get::report(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions() {
        let pod = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(met(&pod, &parse_for("condition=Ready").unwrap()));
        assert!(met(&pod, &parse_for("condition=ready=true").unwrap()));
        assert!(!met(&pod, &parse_for("condition=Ready=False").unwrap()));
        assert!(met(
            &pod,
            &parse_for("jsonpath={.status.phase}=Running").unwrap()
        ));
        assert!(!met(
            &pod,
            &parse_for("jsonpath={.status.phase}=Pending").unwrap()
        ));
        assert_eq!(parse_for("delete").unwrap(), Condition::Delete);
        assert_eq!(parse_for("Create").unwrap(), Condition::Create);
        assert!(met(&pod, &Condition::Create));
        assert!(parse_for("bogus").is_err());
        assert_eq!(parse_timeout("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_timeout("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_timeout("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(
            parse_timeout("-1s").unwrap(),
            Duration::from_secs(7 * 86400)
        );
    }
}
