//! Ages the way upstream prints them (apimachinery's `duration.HumanDuration`): two
//! significant units at most, switching units at the same thresholds.

use chrono::{DateTime, Utc};

/// Formats a duration in seconds like `HumanDuration` ("45s", "3m20s", "5h", "2d3h", "3y12d").
pub fn human_duration(seconds: i64) -> String {
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
