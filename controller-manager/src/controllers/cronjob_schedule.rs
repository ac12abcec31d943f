//! Cron schedules as CronJobs take them (upstream uses robfig/cron's standard parser):
//! five fields `minute hour day-of-month month day-of-week`, each `*`, a value, a range
//! `a-b`, a step `*/n` or `a-b/n` or `a/n`, or a comma list of those; month and weekday
//! names (`JAN`, `SUN`); `?` as `*`; weekday 7 is Sunday; and the macros `@yearly`,
//! `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`.
//! When both day fields are restricted a day matching either one is due, as in cron.
//! Times are UTC: a `TZ=`/`CRON_TZ=` prefix or `timeZone` other than UTC is rejected.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};

/// Why a schedule cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScheduleError {
    #[error("expected exactly 5 fields, found {0}")]
    FieldCount(usize),
    #[error("unrecognized descriptor: {0}")]
    Descriptor(String),
    #[error("bad value {value:?} in field {field}")]
    Value { field: &'static str, value: String },
    #[error("time zone {0:?} is not supported (only UTC)")]
    TimeZone(String),
}

/// A parsed schedule: the allowed values of each field as bit sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// Whether day-of-month and day-of-week were both restricted (then either matches).
    either_day: bool,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn is_utc(zone: &str) -> bool {
    matches!(zone, "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Z")
}

impl Schedule {
    /// Parse `spec`; `time_zone` is the CronJob's `spec.timeZone`.
    pub fn parse(spec: &str, time_zone: Option<&str>) -> Result<Schedule, ScheduleError> {
        if let Some(z) = time_zone.filter(|z| !is_utc(z)) {
            return Err(ScheduleError::TimeZone(z.to_string()));
        }
        let mut spec = spec.trim();
        for prefix in ["TZ=", "CRON_TZ="] {
            if let Some(rest) = spec.strip_prefix(prefix) {
                let (zone, rest) = rest.split_once(' ').unwrap_or((rest, ""));
                if !is_utc(zone) {
                    return Err(ScheduleError::TimeZone(zone.to_string()));
                }
                spec = rest.trim();
            }
        }
        let expanded = match spec {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            s if s.starts_with('@') => return Err(ScheduleError::Descriptor(s.to_string())),
            s => s,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(ScheduleError::FieldCount(fields.len()));
        }
        let restricted = |f: &str| !(f.starts_with('*') || f.starts_with('?'));
        let mut weekdays = field(fields[4], "day-of-week", 0, 7, &WEEKDAYS)?;
        if weekdays & (1 << 7) != 0 {
            weekdays = (weekdays | 1) & !(1 << 7);
        }
        Ok(Schedule {
            minutes: field(fields[0], "minute", 0, 59, &[])?,
            hours: field(fields[1], "hour", 0, 23, &[])?,
            days: field(fields[2], "day-of-month", 1, 31, &[])?,
            months: field(fields[3], "month", 1, 12, &MONTHS)?,
            weekdays,
            either_day: restricted(fields[2]) && restricted(fields[4]),
        })
    }

    fn day_matches(&self, t: &DateTime<Utc>) -> bool {
        let dom = self.days & (1 << t.day()) != 0;
        let dow = self.weekdays & (1 << t.weekday().num_days_from_sunday()) != 0;
        if self.either_day {
            dom || dow
        } else {
            dom && dow
        }
    }

    /// The first due time strictly after `after`, within five years.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = after.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let limit = start + Duration::days(5 * 366);
        let mut t = start;
        while t < limit {
            if self.months & (1 << t.month()) == 0 {
                let (y, m) = if t.month() == 12 {
                    (t.year() + 1, 1)
                } else {
                    (t.year(), t.month() + 1)
                };
                t = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single()?;
                continue;
            }
            if !self.day_matches(&t) {
                t = Utc
                    .with_ymd_and_hms(t.year(), t.month(), t.day(), 0, 0, 0)
                    .single()?
                    + Duration::days(1);
                continue;
            }
            if self.hours & (1 << t.hour()) == 0 {
                t = t.with_minute(0)? + Duration::hours(1);
                continue;
            }
            if self.minutes & (1 << t.minute()) == 0 {
                t += Duration::minutes(1);
                continue;
            }
            return Some(t);
        }
        None
    }
}

/// One field as a bit set of its allowed values.
fn field(
    text: &str,
    name: &'static str,
    min: u32,
    max: u32,
    names: &[&str],
) -> Result<u64, ScheduleError> {
    let bad = || ScheduleError::Value {
        field: name,
        value: text.to_string(),
    };
    let value = |s: &str| -> Result<u32, ScheduleError> {
        let v = match names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            // Month names count from 1, weekday names from 0.
            Some(i) => i as u32 + if names.len() == 12 { 1 } else { 0 },
            None => s.parse::<u32>().map_err(|_| bad())?,
        };
        if v < min || v > max {
            return Err(bad());
        }
        Ok(v)
    };
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0).ok_or_else(bad)?),
            None => (part, 1),
        };
        let (lo, hi) = match range {
            "*" | "?" => (min, max),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                // `a/n` runs from a to the field's end.
                None if part.contains('/') => (value(r)?, max),
                None => {
                    let v = value(r)?;
                    (v, v)
                }
            },
        };
        if lo > hi {
            return Err(bad());
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid time")
    }

    fn next(spec: &str, after: DateTime<Utc>) -> DateTime<Utc> {
        Schedule::parse(spec, None)
            .expect("parses")
            .next_after(after)
            .expect("due")
    }

    #[test]
    fn every_minute_is_due_the_next_whole_minute() {
        let after = at(2025, 3, 1, 10, 5) + Duration::seconds(30);
        assert_eq!(next("* * * * *", after), at(2025, 3, 1, 10, 6));
    }

    #[test]
    fn steps_ranges_lists_and_names() {
        assert_eq!(
            next("*/15 * * * *", at(2025, 3, 1, 10, 16)),
            at(2025, 3, 1, 10, 30)
        );
        assert_eq!(
            next("0 9-17/4 * * MON-FRI", at(2025, 3, 1, 0, 0)),
            at(2025, 3, 3, 9, 0)
        );
        assert_eq!(
            next("5,10 0 1 JAN *", at(2025, 1, 1, 0, 5)),
            at(2025, 1, 1, 0, 10)
        );
        assert_eq!(
            next("0 0 * * 7", at(2025, 3, 1, 0, 0)),
            at(2025, 3, 2, 0, 0)
        );
    }

    #[test]
    fn macros_expand_as_cron() {
        assert_eq!(
            next("@hourly", at(2025, 3, 1, 10, 0)),
            at(2025, 3, 1, 11, 0)
        );
        assert_eq!(
            next("@monthly", at(2025, 12, 5, 0, 0)),
            at(2026, 1, 1, 0, 0)
        );
        assert_eq!(next("@daily", at(2025, 2, 28, 1, 0)), at(2025, 3, 1, 0, 0));
    }

    #[test]
    fn both_day_fields_restricted_means_either() {
        // 2025-03-01 is a Saturday; the 15th or any Monday.
        assert_eq!(
            next("0 0 15 * MON", at(2025, 3, 1, 0, 0)),
            at(2025, 3, 3, 0, 0)
        );
    }

    #[test]
    fn bad_schedules_are_rejected() {
        assert_eq!(
            Schedule::parse("* * * *", None),
            Err(ScheduleError::FieldCount(4))
        );
        assert!(Schedule::parse("61 * * * *", None).is_err());
        assert!(Schedule::parse("@every 5m", None).is_err());
        assert!(Schedule::parse("* * * * *", Some("Europe/Paris")).is_err());
        assert!(Schedule::parse("TZ=UTC * * * * *", None).is_ok());
        assert!(Schedule::parse("*/0 * * * *", None).is_err());
    }
}
