//! What `kubectl wait --for` asks for, and whether a live object meets it:
//! `create`, `delete`, `condition=Type[=value]` or `jsonpath='{…}'[=value]`.

use std::time::Duration;

use serde_json::Value;

use crate::error::{KubectlError, Result};
use crate::printers::jsonpath::{self, to_text};

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

/// Parses `--for` (upstream refuses an empty one as an unrecognized condition too).
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
pub fn parse_timeout(s: &str) -> Result<Duration> {
    let secs = crate::flags::go_duration_secs(s).ok_or_else(|| {
        KubectlError::usage(format!("invalid argument \"{s}\" for \"--timeout\" flag"))
    })?;
    Ok(if secs < 0.0 {
        Duration::from_secs(7 * 86400)
    } else {
        Duration::from_secs_f64(secs)
    })
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
    }

    #[test]
    fn an_empty_condition_is_unrecognized() {
        assert_eq!(
            parse_for("").unwrap_err().to_string(),
            "error: unrecognized condition: \"\""
        );
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_timeout("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_timeout("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_timeout("0").unwrap(), Duration::ZERO);
        assert_eq!(
            parse_timeout("-1s").unwrap(),
            Duration::from_secs(7 * 86400)
        );
    }
}
