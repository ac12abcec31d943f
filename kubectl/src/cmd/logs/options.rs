//! The flags of `kubectl logs` turned into the server's `PodLogOptions` (the query of a
//! `pods/<name>/log` request), and upstream's checks of them, in upstream's order.

use chrono::{DateTime, Utc};

use super::go_time::parse_rfc3339;
use crate::client::q;
use crate::error::{KubectlError, Result};

/// Upstream reads the last 10 lines of each pod when pods are chosen by a selector and
/// `--tail` was not given.
const SELECTOR_TAIL: i64 = 10;

/// What the flags ask of every log request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogOptions {
    /// `-f`
    pub follow: bool,
    /// `-p`
    pub previous: bool,
    /// `--timestamps`
    pub timestamps: bool,
    /// `--insecure-skip-tls-verify-backend`
    pub insecure_skip_tls_verify_backend: bool,
    /// `--since`, rounded to whole seconds (kept when negative, for [`LogOptions::validate`]).
    pub since_seconds: Option<i64>,
    /// `--since-time`.
    pub since_time: Option<DateTime<Utc>>,
    /// `--limit-bytes` when not 0.
    pub limit_bytes: Option<i64>,
    /// `--tail`, or 10 with a selector.
    pub tail_lines: Option<i64>,
}

/// The flags [`LogOptions`] is made of, as typed.
#[derive(Debug, Clone, Default)]
pub struct LogFlags<'a> {
    /// `-f`
    pub follow: bool,
    /// `-p`
    pub previous: bool,
    /// `--timestamps`
    pub timestamps: bool,
    /// `--insecure-skip-tls-verify-backend`
    pub insecure_skip_tls_verify_backend: bool,
    /// `--since` as a Go duration (already checked to be one).
    pub since: Option<&'a str>,
    /// `--since-time`.
    pub since_time: Option<&'a str>,
    /// `--limit-bytes`.
    pub limit_bytes: i64,
    /// `--tail` when given (even as -1).
    pub tail: Option<i64>,
    /// Whether pods are chosen by `-l`.
    pub selector: bool,
}

impl LogOptions {
    /// Upstream's `ToLogOptions`: only an unreadable `--since-time` fails here.
    pub fn from_flags(f: &LogFlags) -> Result<Self> {
        let since_time = match f.since_time.filter(|t| !t.is_empty()) {
            Some(text) => Some(parse_rfc3339(text).map_err(KubectlError::Usage)?),
            None => None,
        };
        let since_seconds = f
            .since
            .and_then(go_duration_nanos)
            .filter(|n| *n != 0)
            .map(round_to_seconds);
        let tail_lines = match f.tail {
            None if f.selector => Some(SELECTOR_TAIL),
            Some(t) if t != -1 => Some(t),
            _ => None,
        };
        Ok(LogOptions {
            follow: f.follow,
            previous: f.previous,
            timestamps: f.timestamps,
            insecure_skip_tls_verify_backend: f.insecure_skip_tls_verify_backend,
            since_seconds,
            since_time,
            limit_bytes: (f.limit_bytes != 0).then_some(f.limit_bytes),
            tail_lines,
        })
    }

    /// Upstream's `Validate` checks of the options themselves (the container checks are
    /// the caller's, between the first two).
    pub fn validate_exclusive_since(&self, f: &LogFlags) -> Result<()> {
        let since_given = f.since.and_then(go_duration_nanos).is_some_and(|n| n != 0);
        if self.since_time.is_some() && since_given {
            return Err(KubectlError::usage(
                "at most one of `sinceTime` or `sinceSeconds` may be specified",
            ));
        }
        Ok(())
    }

    /// The rest of upstream's `Validate`: limits, `--since` and `--tail` ranges.
    pub fn validate_ranges(&self, f: &LogFlags) -> Result<()> {
        if f.limit_bytes < 0 {
            return Err(KubectlError::usage("--limit-bytes must be greater than 0"));
        }
        if self.since_seconds.is_some_and(|s| s < 0) {
            return Err(KubectlError::usage("--since must be greater than 0"));
        }
        if self.tail_lines.is_some_and(|t| t < -1) {
            return Err(KubectlError::usage(
                "--tail must be greater than or equal to -1",
            ));
        }
        Ok(())
    }

    /// The query of the log request for `container`, keys in the order client-go sorts
    /// them; false booleans and unset numbers are left out, as there.
    pub fn query(&self, container: &str) -> String {
        let mut qs = vec![format!("container={}", q(container))];
        if self.follow {
            qs.push("follow=true".into());
        }
        if self.insecure_skip_tls_verify_backend {
            qs.push("insecureSkipTLSVerifyBackend=true".into());
        }
        if let Some(n) = self.limit_bytes {
            qs.push(format!("limitBytes={n}"));
        }
        if self.previous {
            qs.push("previous=true".into());
        }
        if let Some(n) = self.since_seconds {
            qs.push(format!("sinceSeconds={n}"));
        }
        if let Some(t) = self.since_time {
            // metav1.Time travels as RFC 3339 in UTC, whole seconds.
            qs.push(format!(
                "sinceTime={}",
                q(&t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            ));
        }
        if let Some(n) = self.tail_lines {
            qs.push(format!("tailLines={n}"));
        }
        if self.timestamps {
            qs.push("timestamps=true".into());
        }
        qs.join("&")
    }
}

/// A Go duration (sign included) in nanoseconds; None when it is not one.
fn go_duration_nanos(text: &str) -> Option<i128> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let d = common::duration::parse(unsigned).ok()?;
    let n = i128::try_from(d.as_nanos()).ok()?;
    Some(if negative { -n } else { n })
}

/// Go's `Duration.Round(time.Second)` in seconds: halves away from zero.
fn round_to_seconds(nanos: i128) -> i64 {
    const SECOND: i128 = 1_000_000_000;
    let whole = nanos / SECOND;
    let rest = (nanos % SECOND).abs();
    let rounded = if rest * 2 >= SECOND {
        whole + nanos.signum()
    } else {
        whole
    };
    i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(f: LogFlags) -> LogOptions {
        LogOptions::from_flags(&f).unwrap()
    }

    #[test]
    fn since_rounds_to_the_nearest_second_as_go() {
        let since = |s| {
            opts(LogFlags {
                since: Some(s),
                ..Default::default()
            })
            .since_seconds
        };
        assert_eq!(since("90s"), Some(90));
        assert_eq!(since("1h30m"), Some(5400));
        assert_eq!(since("1500ms"), Some(2));
        assert_eq!(since("1499ms"), Some(1));
        // Rounded to zero, still sent (the server then refuses it).
        assert_eq!(since("400ms"), Some(0));
        assert_eq!(since("-1500ms"), Some(-2));
        // Zero means "not given".
        assert_eq!(since("0s"), None);
    }

    #[test]
    fn tail_defaults_to_ten_with_a_selector_unless_given() {
        let tail = |tail, selector| {
            opts(LogFlags {
                tail,
                selector,
                ..Default::default()
            })
            .tail_lines
        };
        assert_eq!(tail(None, false), None);
        assert_eq!(tail(None, true), Some(10));
        assert_eq!(tail(Some(-1), true), None);
        assert_eq!(tail(Some(3), true), Some(3));
        assert_eq!(tail(Some(0), false), Some(0));
    }

    #[test]
    fn checks_in_upstream_words() {
        let f = LogFlags {
            since: Some("5s"),
            since_time: Some("2024-01-01T00:00:00Z"),
            ..Default::default()
        };
        let o = opts(f.clone());
        assert_eq!(
            o.validate_exclusive_since(&f).unwrap_err().to_string(),
            "error: at most one of `sinceTime` or `sinceSeconds` may be specified"
        );
        let f = LogFlags {
            limit_bytes: -1,
            ..Default::default()
        };
        assert_eq!(
            opts(f.clone()).validate_ranges(&f).unwrap_err().to_string(),
            "error: --limit-bytes must be greater than 0"
        );
        let f = LogFlags {
            since: Some("-2s"),
            ..Default::default()
        };
        assert_eq!(
            opts(f.clone()).validate_ranges(&f).unwrap_err().to_string(),
            "error: --since must be greater than 0"
        );
        let f = LogFlags {
            tail: Some(-2),
            ..Default::default()
        };
        assert_eq!(
            opts(f.clone()).validate_ranges(&f).unwrap_err().to_string(),
            "error: --tail must be greater than or equal to -1"
        );
        let bad_time = LogFlags {
            since_time: Some("now"),
            ..Default::default()
        };
        assert!(LogOptions::from_flags(&bad_time)
            .unwrap_err()
            .to_string()
            .starts_with("error: parsing time \"now\" as"));
    }

    #[test]
    fn query_carries_every_option() {
        let o = opts(LogFlags {
            follow: true,
            previous: true,
            timestamps: true,
            insecure_skip_tls_verify_backend: true,
            since_time: Some("2024-08-30T08:00:00.5+02:00"),
            limit_bytes: 100,
            tail: Some(5),
            ..Default::default()
        });
        assert_eq!(
            o.query("main app"),
            "container=main+app&follow=true&insecureSkipTLSVerifyBackend=true&limitBytes=100\
             &previous=true&sinceTime=2024-08-30T06%3A00%3A00Z&tailLines=5&timestamps=true"
        );
        let plain = opts(LogFlags {
            since: Some("1m"),
            ..Default::default()
        });
        assert_eq!(plain.query("c"), "container=c&sinceSeconds=60");
    }
}
