//! `kubectl create poddisruptionbudget`: a PodDisruptionBudget selecting pods by
//! `--selector`, with either `--min-available` or `--max-unavailable` (a count or a
//! percentage).

use serde_json::{json, Value};

use crate::error::{KubectlError, Result};
use crate::label_selector;

/// The flags of `create poddisruptionbudget`.
pub struct Request<'a> {
    pub name: &'a str,
    pub selector: &'a str,
    pub min_available: &'a str,
    pub max_unavailable: &'a str,
}

impl Request<'_> {
    /// Upstream's `Validate`, in its order and words.
    fn validate(&self) -> Result<()> {
        let refuse = |text: &str| Err(KubectlError::usage(text));
        if self.name.is_empty() {
            return refuse("name must be specified");
        }
        if self.selector.is_empty() {
            return refuse("a selector must be specified");
        }
        match (
            self.min_available.is_empty(),
            self.max_unavailable.is_empty(),
        ) {
            (true, true) => {
                return refuse("one of min-available or max-unavailable must be specified")
            }
            (false, false) => {
                return refuse("min-available and max-unavailable cannot be both specified")
            }
            _ => {}
        }
        if !self.min_available.is_empty() && !count_or_percent(self.min_available) {
            return refuse("invalid format specified for min-available");
        }
        if !self.max_unavailable.is_empty() && !count_or_percent(self.max_unavailable) {
            return refuse("invalid format specified for max-unavailable");
        }
        Ok(())
    }
}

/// `^[0-9]+%?$`: `10` or `50%`, not `10Gb`.
fn count_or_percent(text: &str) -> bool {
    let digits = text.strip_suffix('%').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Go's `intstr.Parse`: a number when it reads as one (kept to 32 bits, as `FromInt`
/// truncates), otherwise the text.
fn int_or_string(text: &str) -> Value {
    match text.parse::<i64>() {
        Ok(n) => json!(n as i32),
        Err(_) => json!(text),
    }
}

/// The PodDisruptionBudget asked for, after upstream's checks.
pub fn pdb(r: &Request<'_>) -> Result<Value> {
    r.validate()?;
    let selector = label_selector::parse(r.selector).map_err(KubectlError::usage)?;
    let mut spec = json!({"selector": selector});
    if !r.min_available.is_empty() {
        spec["minAvailable"] = int_or_string(r.min_available);
    } else {
        spec["maxUnavailable"] = int_or_string(r.max_unavailable);
    }
    // The status's counts have no `omitempty` upstream.
    Ok(
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
              "metadata": {"name": r.name, "creationTimestamp": null},
              "spec": spec,
              "status": {"disruptionsAllowed": 0, "currentHealthy": 0,
                         "desiredHealthy": 0, "expectedPods": 0}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(selector: &str, min: &str, max: &str) -> std::result::Result<Value, String> {
        pdb(&Request {
            name: "p",
            selector,
            min_available: min,
            max_unavailable: max,
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn counts_are_numbers_and_percentages_strings() {
        let p = build("app=x", "010", "").unwrap();
        assert_eq!(p["spec"]["minAvailable"], 10);
        assert!(p["spec"].get("maxUnavailable").is_none());
        let p = build("app=x", "", "50%").unwrap();
        assert_eq!(p["spec"]["maxUnavailable"], "50%");
        assert_eq!(p["spec"]["selector"]["matchLabels"]["app"], "x");
    }

    #[test]
    fn flags_are_checked_in_upstreams_order() {
        assert_eq!(
            build("", "", "").unwrap_err(),
            "error: a selector must be specified"
        );
        assert_eq!(
            build("a=b", "", "").unwrap_err(),
            "error: one of min-available or max-unavailable must be specified"
        );
        assert_eq!(
            build("a=b", "1", "1").unwrap_err(),
            "error: min-available and max-unavailable cannot be both specified"
        );
        assert_eq!(
            build("a=b", "1Gb", "").unwrap_err(),
            "error: invalid format specified for min-available"
        );
        assert_eq!(
            build("a=b", "", "%").unwrap_err(),
            "error: invalid format specified for max-unavailable"
        );
        assert_eq!(
            build("a!=b", "1", "").unwrap_err(),
            "error: \"!=\" is not a valid label selector operator"
        );
    }
}
