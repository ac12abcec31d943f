//! Durations as upstream's flags and config files write them — Go's `time.ParseDuration`:
//! a sequence of decimal numbers with units (`300ms`, `1.5h`, `2h45m`, `5m0s`), or `0`.
//! Every component parses its duration flags with this one function.

use std::time::Duration;

/// A value that is not a Go duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {0:?} (Go syntax, e.g. 500ms, 30s, 5m0s, 1h30m)")]
pub struct DurationError(pub String);

/// Parse a Go duration. Negative durations are refused (no flag takes one).
pub fn parse(s: &str) -> Result<Duration, DurationError> {
    let bad = || DurationError(s.to_string());
    let text = s.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += value * seconds;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// [`parse`] for clap's `value_parser` (an error it can print).
pub fn parse_flag(s: &str) -> Result<Duration, String> {
    parse(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_syntax_parses() {
        assert_eq!(parse("40s"), Ok(Duration::from_secs(40)));
        assert_eq!(parse("5m0s"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in ["", "40", "4x", "5 minutes", "m", "1m30", "-5s", "1..5s"] {
            assert!(parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_flag("10x").unwrap_err().contains("Go syntax"));
    }
}
