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

/// A duration in seconds as upstream prints ages (apimachinery's `duration.HumanDuration`):
/// two significant units at most ("45s", "3m20s", "5h", "2d3h", "3y12d"), `0s` for up to
/// two seconds of clock skew, `<invalid>` beyond that. Shared by the apiserver's Table
/// printers and kubectl.
pub fn human(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
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
