//! The query of `GET /containerLogs/...`: upstream's `PodLogOptions` (v1) as query
//! parameters, decoded and validated the way the kubelet does it.

use chrono::{DateTime, Duration, FixedOffset, Utc};

/// What the client asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogOptions {
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    /// Only lines at or after this instant (from `sinceSeconds` or `sinceTime`).
    pub since: Option<DateTime<FixedOffset>>,
    /// Only the last N lines present when the request arrived.
    pub tail_lines: Option<u64>,
    /// Stop after this many bytes of output.
    pub limit_bytes: Option<u64>,
}

/// Why a query was refused: `Decode` is upstream's 400, `Invalid` its 422.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogQueryError {
    #[error("Unable to decode query: {0}")]
    Decode(String),
    #[error("Invalid request: {0}")]
    Invalid(String),
}

impl LogOptions {
    /// Decodes the raw query string; `now` anchors `sinceSeconds`.
    pub fn from_query(query: &str, now: DateTime<Utc>) -> Result<LogOptions, LogQueryError> {
        let mut opts = LogOptions::default();
        let mut since_seconds: Option<i64> = None;
        let mut since_time: Option<DateTime<FixedOffset>> = None;
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "follow" => opts.follow = parse_bool(&value),
                "previous" => opts.previous = parse_bool(&value),
                "timestamps" => opts.timestamps = parse_bool(&value),
                "sinceSeconds" => since_seconds = Some(parse_int(&key, &value)?),
                "sinceTime" => {
                    since_time =
                        Some(DateTime::parse_from_rfc3339(&value).map_err(|e| {
                            LogQueryError::Decode(format!("sinceTime {value:?}: {e}"))
                        })?)
                }
                // `tail` is the pre-1.0 name, still honoured upstream; "all" means no limit.
                "tailLines" | "tail" => {
                    opts.tail_lines = if value == "all" {
                        None
                    } else {
                        let n = parse_int(&key, &value)?;
                        Some(u64::try_from(n).map_err(|_| {
                            LogQueryError::Invalid(format!(
                                "tailLines: Invalid value: {n}: must be greater than or equal to 0"
                            ))
                        })?)
                    }
                }
                "limitBytes" => {
                    let n = parse_int(&key, &value)?;
                    if n < 1 {
                        return Err(LogQueryError::Invalid(format!(
                            "limitBytes: Invalid value: {n}: must be greater than 0"
                        )));
                    }
                    opts.limit_bytes = Some(n as u64);
                }
                _ => {}
            }
        }
        match (since_seconds, since_time) {
            (Some(_), Some(_)) => {
                return Err(LogQueryError::Invalid(
                    "at most one of `sinceTime` or `sinceSeconds` may be specified".into(),
                ))
            }
            (Some(s), None) => {
                if s < 1 {
                    return Err(LogQueryError::Invalid(format!(
                        "sinceSeconds: Invalid value: {s}: must be greater than 0"
                    )));
                }
                let since = Duration::try_seconds(s)
                    .and_then(|d| now.checked_sub_signed(d))
                    .unwrap_or(DateTime::<Utc>::MIN_UTC);
                opts.since = Some(since.fixed_offset());
            }
            (None, t) => opts.since = t,
        }
        Ok(opts)
    }
}

/// Query booleans decode as upstream's parameter codec does: only `0`/`false` are false, and
/// a present key without a value is true.
fn parse_bool(value: &str) -> bool {
    !(value == "0" || value.eq_ignore_ascii_case("false"))
}

fn parse_int(key: &str, value: &str) -> Result<i64, LogQueryError> {
    value
        .parse()
        .map_err(|_| LogQueryError::Decode(format!("{key}={value:?} is not an integer")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn decodes_every_option() {
        let o = LogOptions::from_query(
            "follow=true&previous=1&timestamps=true&tailLines=5&limitBytes=100&sinceSeconds=60",
            now(),
        )
        .unwrap();
        assert!(o.follow && o.previous && o.timestamps);
        assert_eq!(o.tail_lines, Some(5));
        assert_eq!(o.limit_bytes, Some(100));
        assert_eq!(o.since.unwrap().to_rfc3339(), "2024-05-01T09:59:00+00:00");
    }

    #[test]
    fn booleans_follow_the_parameter_codec() {
        assert!(LogOptions::from_query("follow", now()).unwrap().follow);
        assert!(
            !LogOptions::from_query("follow=false", now())
                .unwrap()
                .follow
        );
        assert!(!LogOptions::from_query("follow=0", now()).unwrap().follow);
        assert!(!LogOptions::from_query("", now()).unwrap().follow);
    }

    #[test]
    fn since_time_and_legacy_tail() {
        let o =
            LogOptions::from_query("sinceTime=2024-05-01T09%3A00%3A00Z&tail=all", now()).unwrap();
        assert_eq!(o.since.unwrap().to_rfc3339(), "2024-05-01T09:00:00+00:00");
        assert_eq!(o.tail_lines, None);
        assert_eq!(
            LogOptions::from_query("tail=3", now()).unwrap().tail_lines,
            Some(3)
        );
    }

    #[test]
    fn rejects_what_upstream_rejects() {
        use LogQueryError::*;
        assert!(matches!(
            LogOptions::from_query("tailLines=x", now()),
            Err(Decode(_))
        ));
        assert!(matches!(
            LogOptions::from_query("sinceTime=yesterday", now()),
            Err(Decode(_))
        ));
        assert!(matches!(
            LogOptions::from_query("tailLines=-1", now()),
            Err(Invalid(_))
        ));
        assert!(matches!(
            LogOptions::from_query("limitBytes=0", now()),
            Err(Invalid(_))
        ));
        assert!(matches!(
            LogOptions::from_query("sinceSeconds=0", now()),
            Err(Invalid(_))
        ));
        assert!(matches!(
            LogOptions::from_query("sinceSeconds=5&sinceTime=2024-05-01T09:00:00Z", now()),
            Err(Invalid(_))
        ));
    }
}
