//! Ages the way upstream prints them (apimachinery's `duration.HumanDuration`): two
//! significant units at most, switching units at the same thresholds.

use chrono::{DateTime, Utc};

/// Formats a duration in seconds like `HumanDuration` ("45s", "3m20s", "5h", "2d3h", "3y12d").
pub fn human_duration(seconds: i64) -> String {
    common::duration::human(seconds)
}

/// Age of an RFC 3339 timestamp relative to now; "<unknown>" when absent or unparsable.
pub fn age_of(timestamp: Option<&str>) -> String {
    match timestamp.and_then(|t| DateTime::parse_from_rfc3339(t).ok()) {
        Some(t) => human_duration((Utc::now() - t.with_timezone(&Utc)).num_seconds()),
        None => "<unknown>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::human_duration as h;

    #[test]
    fn thresholds_match_upstream() {
        assert_eq!(h(-5), "<invalid>");
        assert_eq!(h(-1), "0s");
        assert_eq!(h(0), "0s");
        assert_eq!(h(119), "119s");
        assert_eq!(h(120), "2m");
        assert_eq!(h(200), "3m20s");
        assert_eq!(h(599), "9m59s");
        assert_eq!(h(600), "10m");
        assert_eq!(h(179 * 60 + 59), "179m");
        assert_eq!(h(3 * 3600), "3h");
        assert_eq!(h(3 * 3600 + 60 * 5), "3h5m");
        assert_eq!(h(8 * 3600 + 60 * 5), "8h");
        assert_eq!(h(47 * 3600), "47h");
        assert_eq!(h(48 * 3600), "2d");
        assert_eq!(h(51 * 3600), "2d3h");
        assert_eq!(h(8 * 86400 + 3600), "8d");
        assert_eq!(h(729 * 86400), "729d");
        assert_eq!(h(730 * 86400), "2y");
        assert_eq!(h(742 * 86400), "2y12d");
        assert_eq!(h(9 * 365 * 86400), "9y");
    }
}
