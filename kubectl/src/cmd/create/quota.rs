//! `kubectl create quota`: a ResourceQuota from `--hard=resource=quantity,…` and
//! `--scopes=A,B`. Quantities are printed as Go's freshly parsed `resource.Quantity` prints
//! them: as written when Go already considers the text canonical (`100Mi`, `010`, `1e3`),
//! otherwise in canonical form (`1000m` → `1`, `1024Mi` → `1Gi`).

use serde_json::{json, Map, Value};

use crate::error::{KubectlError, Result};

/// ParseQuantity's refusal of text that is not a quantity at all.
const FORMAT_WRONG: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/// ParseQuantity's refusal of a suffix made of the right characters that names no unit.
const SUFFIX_WRONG: &str = "unable to parse quantity's suffix";

/// The ResourceQuota `name` with the limits of `hard` and the scopes of `scopes` (either
/// may be empty, as upstream leaves the field out then).
pub fn quota(name: &str, hard: &str, scopes: &str) -> Result<Value> {
    if name.is_empty() {
        return Err(KubectlError::usage("name must be specified"));
    }
    let mut spec = Map::new();
    if let Some(list) = resource_list(hard)? {
        spec.insert("hard".into(), Value::Object(list));
    }
    if let Some(scopes) = parse_scopes(scopes)? {
        spec.insert("scopes".into(), json!(scopes));
    }
    Ok(json!({"apiVersion": "v1", "kind": "ResourceQuota",
              "metadata": {"name": name, "creationTimestamp": null},
              "spec": spec, "status": {}}))
}

/// `cpu=1,memory=1G` as a resource list (`None` for an empty flag); a later pair for the
/// same resource wins, as in Go's map.
fn resource_list(spec: &str) -> Result<Option<Map<String, Value>>> {
    if spec.is_empty() {
        return Ok(None);
    }
    let mut list = Map::new();
    for statement in spec.split(',') {
        let parts: Vec<&str> = statement.split('=').collect();
        let [resource, quantity] = parts.as_slice() else {
            return Err(KubectlError::usage(format!(
                "Invalid argument syntax {statement}, expected <resource>=<value>"
            )));
        };
        let text = go_quantity(quantity).map_err(KubectlError::usage)?;
        list.insert((*resource).to_string(), json!(text));
    }
    Ok(Some(list))
}

/// `A,B` as scopes (`None` for an empty flag). Upstream leaves checking the names to the
/// server but refuses an empty one.
fn parse_scopes(spec: &str) -> Result<Option<Vec<String>>> {
    if spec.is_empty() {
        return Ok(None);
    }
    let scopes: Vec<String> = spec.split(',').map(str::to_string).collect();
    if scopes.iter().any(String::is_empty) {
        return Err(KubectlError::usage("invalid resource quota scope \"\""));
    }
    Ok(Some(scopes))
}

/// The parts of a quantity's text as Go's `parseQuantityString` splits them.
struct Parts<'a> {
    /// The integer digits, leading zeros dropped.
    num: &'a str,
    /// The digits after the point.
    denom: &'a str,
    suffix: &'a str,
}

/// Splits `q` as Go does: sign, digits (leading zeros dropped), `.digits`, then a suffix of
/// unit letters with an optional signed exponent.
fn split(q: &str) -> std::result::Result<Parts<'_>, &'static str> {
    if q.is_empty() {
        return Err(FORMAT_WRONG);
    }
    let rest = q.strip_prefix(['+', '-']).unwrap_or(q);
    let rest = rest.trim_start_matches('0');
    let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, rest) = rest.split_at(digits(rest));
    let (denom, rest) = match rest.strip_prefix('.') {
        Some(after) => after.split_at(digits(after)),
        None => ("", rest),
    };
    // Unit letters, an optional sign, then only digits may follow.
    let letters = rest
        .find(|c: char| !"eEinumkKMGTP".contains(c))
        .unwrap_or(rest.len());
    let tail = rest[letters..]
        .strip_prefix(['+', '-'])
        .unwrap_or(&rest[letters..]);
    if !tail.chars().all(|c| c.is_ascii_digit()) {
        return Err(FORMAT_WRONG);
    }
    Ok(Parts {
        num,
        denom,
        suffix: rest,
    })
}

/// What a suffix means: `(binary, exponent)`: a power of 2 for `Ki`…, of 10 otherwise.
fn interpret(suffix: &str) -> Option<(bool, i64)> {
    let decimal = [
        ("", 0),
        ("n", -9),
        ("u", -6),
        ("m", -3),
        ("k", 3),
        ("M", 6),
        ("G", 9),
        ("T", 12),
        ("P", 15),
        ("E", 18),
    ];
    let binary = [
        ("Ki", 10),
        ("Mi", 20),
        ("Gi", 30),
        ("Ti", 40),
        ("Pi", 50),
        ("Ei", 60),
    ];
    if let Some((_, e)) = decimal.iter().find(|(s, _)| *s == suffix) {
        return Some((false, *e));
    }
    if let Some((_, e)) = binary.iter().find(|(s, _)| *s == suffix) {
        return Some((true, *e));
    }
    let exp = suffix.strip_prefix(['e', 'E'])?;
    exp.parse::<i64>().ok().map(|e| (false, e))
}

/// `q` as Go's `Quantity.String()` prints it right after `ParseQuantity`, or ParseQuantity's
/// error text.
pub fn go_quantity(q: &str) -> std::result::Result<String, &'static str> {
    let parts = split(q)?;
    let (binary, exponent) = interpret(parts.suffix).ok_or(SUFFIX_WRONG)?;
    if keeps_text(&parts, binary, exponent) {
        return Ok(q.to_string());
    }
    // Texts Go reads as zero but our canonicaliser does not know (`-`, `.`).
    Ok(common::quantity::canonical(q).unwrap_or_else(|| "0".to_string()))
}

/// Whether ParseQuantity keeps the text it was given (its fast path for small values
/// already written canonically: no trailing `000`, an exponent that is a multiple of
/// three, a binary amount that is not a multiple of 8).
fn keeps_text(p: &Parts<'_>, binary: bool, exponent: i64) -> bool {
    let num = if p.num.is_empty() { "0" } else { p.num };
    let digits = (num.len() + p.denom.len()) as i64;
    let (precision, scale) = if binary {
        if !p.denom.is_empty() {
            return false;
        }
        (15 - num.len() as i64 - exponent * 3 / 10 - 1, 0)
    } else {
        (18 - digits, exponent)
    };
    if precision < 0 {
        return false;
    }
    let scale = scale - p.denom.len() as i64;
    if scale < -9 {
        return false;
    }
    let shifted = format!("{num}{}", p.denom);
    let Ok(value) = shifted.parse::<i64>() else {
        return false;
    };
    if binary {
        let fits = value.checked_mul(1i64 << exponent).is_some();
        fits && value & 7 != 0
    } else {
        scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_print_as_go_prints_them_after_parsing() {
        for (written, printed) in [
            ("1000m", "1"),
            ("1G", "1G"),
            ("1024Mi", "1Gi"),
            ("100Mi", "100Mi"),
            ("010", "010"),
            ("+1", "+1"),
            ("1e3", "1e3"),
            ("1.5e3", "1500"),
            ("0.5", "500m"),
            ("1.500", "1.500"),
            ("1.0", "1"),
            ("0", "0"),
            ("-1", "-1"),
        ] {
            assert_eq!(go_quantity(written).as_deref(), Ok(printed), "{written}");
        }
    }

    #[test]
    fn bad_quantities_are_refused_in_gos_words() {
        for bad in ["abc", "1x", "1.2.3", ""] {
            assert_eq!(go_quantity(bad), Err(FORMAT_WRONG), "{bad}");
        }
        assert_eq!(go_quantity("1Ki2"), Err(SUFFIX_WRONG));
        assert_eq!(go_quantity("1e"), Err(SUFFIX_WRONG));
    }

    #[test]
    fn the_quota_holds_limits_and_scopes() {
        let q = quota("q", "pods=3,cpu=1000m", "BestEffort").unwrap();
        assert_eq!(q["spec"]["hard"], json!({"pods": "3", "cpu": "1"}));
        assert_eq!(q["spec"]["scopes"], json!(["BestEffort"]));
        assert_eq!(quota("q", "", "").unwrap()["spec"], json!({}));
    }

    #[test]
    fn malformed_flags_are_refused() {
        let err = |hard: &str, scopes: &str| quota("q", hard, scopes).unwrap_err().to_string();
        assert_eq!(
            err("cpu=1=2", ""),
            "error: Invalid argument syntax cpu=1=2, expected <resource>=<value>"
        );
        assert_eq!(
            err("a=1,,b=2", ""),
            "error: Invalid argument syntax , expected <resource>=<value>"
        );
        assert_eq!(err("", "A,"), "error: invalid resource quota scope \"\"");
    }
}
