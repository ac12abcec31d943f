//! `--since-time`: an RFC 3339 time read as Go's `time.Parse(time.RFC3339, …)` reads it,
//! which is what upstream's `util.ParseRFC3339` ends up using. Users see Go's error texts
//! (`parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"`), so the
//! parse walks the layout element by element as Go's general parser does, to fail at the
//! same place with the same words.

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Go's `time.RFC3339` layout, named in every "cannot parse" error.
const LAYOUT: &str = "2006-01-02T15:04:05Z07:00";

/// One value element of the layout, after its literal prefix.
#[derive(Clone, Copy)]
enum Elem {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Zone,
}

impl Elem {
    /// How the element is spelled in the layout (Go quotes it in errors).
    fn spelled(self) -> &'static str {
        match self {
            Elem::Year => "2006",
            Elem::Month => "01",
            Elem::Day => "02",
            Elem::Hour => "15",
            Elem::Minute => "04",
            Elem::Second => "05",
            Elem::Zone => "Z07:00",
        }
    }
}

/// The layout as Go's `nextStdChunk` splits it: literal prefix, then element.
const CHUNKS: [(&str, Elem); 7] = [
    ("", Elem::Year),
    ("-", Elem::Month),
    ("-", Elem::Day),
    ("T", Elem::Hour),
    (":", Elem::Minute),
    (":", Elem::Second),
    ("", Elem::Zone),
];

/// The fields read so far.
#[derive(Default)]
struct Fields {
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// East of UTC, in seconds.
    offset: i64,
}

/// Why an element could not be read.
enum Bad {
    /// Go's `errBad`: "cannot parse … as …".
    Syntax,
    /// A number outside its range ("month out of range").
    Range(&'static str),
}

/// Parses `value` as an RFC 3339 time; the error is Go's text.
pub fn parse_rfc3339(value: &str) -> Result<DateTime<Utc>, String> {
    let mut rest = value.as_bytes();
    let mut f = Fields::default();
    for (prefix, elem) in CHUNKS {
        rest = skip(rest, prefix).map_err(|at| cannot_parse(value, at, prefix.as_bytes()))?;
        let hold = rest;
        match read(elem, rest, &mut f) {
            Ok(after) => rest = after,
            Err(Bad::Range(what)) => {
                return Err(format!(
                    "parsing time {}: {what} out of range",
                    quote(value.as_bytes())
                ))
            }
            Err(Bad::Syntax) => return Err(cannot_parse(value, hold, elem.spelled().as_bytes())),
        }
    }
    if !rest.is_empty() {
        return Err(format!(
            "parsing time {}: extra text: {}",
            quote(value.as_bytes()),
            quote(rest)
        ));
    }
    // Go checks the day against the month only once everything else was read.
    let date = NaiveDate::from_ymd_opt(f.year, f.month, f.day)
        .ok_or_else(|| format!("parsing time {}: day out of range", quote(value.as_bytes())))?;
    let local = date
        .and_hms_nano_opt(f.hour, f.minute, f.second, f.nanos)
        .ok_or_else(|| cannot_parse(value, value.as_bytes(), LAYOUT.as_bytes()))?;
    Ok((local - Duration::seconds(f.offset)).and_utc())
}

/// Reads one element at the start of `v` into `f`, returning what follows it.
fn read<'a>(elem: Elem, v: &'a [u8], f: &mut Fields) -> Result<&'a [u8], Bad> {
    match elem {
        Elem::Year => {
            if v.len() < 4 || !v[..4].iter().all(u8::is_ascii_digit) {
                return Err(Bad::Syntax);
            }
            f.year = v[..4].iter().fold(0, |n, d| n * 10 + i32::from(d - b'0'));
            Ok(&v[4..])
        }
        Elem::Month => {
            let (month, rest) = two_digits(v)?;
            if !(1..=12).contains(&month) {
                return Err(Bad::Range("month"));
            }
            f.month = month;
            Ok(rest)
        }
        // Any two digits: the day is checked against the month at the end.
        Elem::Day => {
            let (day, rest) = two_digits(v)?;
            f.day = day;
            Ok(rest)
        }
        Elem::Hour => {
            // "15" takes one digit or two.
            let (hour, rest) = match v {
                [a, b, rest @ ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
                    (u32::from(a - b'0') * 10 + u32::from(b - b'0'), rest)
                }
                [a, rest @ ..] if a.is_ascii_digit() => (u32::from(a - b'0'), rest),
                _ => return Err(Bad::Syntax),
            };
            if hour >= 24 {
                return Err(Bad::Range("hour"));
            }
            f.hour = hour;
            Ok(rest)
        }
        Elem::Minute => {
            let (minute, rest) = two_digits(v)?;
            if minute >= 60 {
                return Err(Bad::Range("minute"));
            }
            f.minute = minute;
            Ok(rest)
        }
        Elem::Second => {
            let (second, mut rest) = two_digits(v)?;
            if second >= 60 {
                return Err(Bad::Range("second"));
            }
            f.second = second;
            // A fraction the layout does not spell is still read: `.` or `,` and digits.
            if let [b'.' | b',', d, ..] = rest {
                if d.is_ascii_digit() {
                    let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    f.nanos = nanos(&rest[1..=digits]);
                    rest = &rest[1 + digits..];
                }
            }
            Ok(rest)
        }
        Elem::Zone => {
            if let [b'Z', rest @ ..] = v {
                f.offset = 0;
                return Ok(rest);
            }
            if v.len() < 6 || v[3] != b':' {
                return Err(Bad::Syntax);
            }
            let hours = two_digits(&v[1..3]).map(|(n, _)| n);
            let minutes = hours
                .as_ref()
                .ok()
                .map(|_| two_digits(&v[4..6]).map(|(n, _)| n));
            // Go compares ranges before it looks at errors or the sign; a failed number
            // counts as zero.
            let h = hours.as_ref().map_or(0, |h| *h);
            let m = match &minutes {
                Some(Ok(m)) => *m,
                _ => 0,
            };
            if h > 24 {
                return Err(Bad::Range("time zone offset hour"));
            }
            if m > 60 {
                return Err(Bad::Range("time zone offset minute"));
            }
            if hours.is_err() || !matches!(minutes, Some(Ok(_))) {
                return Err(Bad::Syntax);
            }
            let offset = i64::from(h * 3600 + m * 60);
            f.offset = match v[0] {
                b'+' => offset,
                b'-' => -offset,
                _ => return Err(Bad::Syntax),
            };
            Ok(&v[6..])
        }
    }
}

/// Go's `getnum(s, true)`: exactly two digits.
fn two_digits(v: &[u8]) -> Result<(u32, &[u8]), Bad> {
    match v {
        [a, b, rest @ ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Ok((u32::from(a - b'0') * 10 + u32::from(b - b'0'), rest))
        }
        _ => Err(Bad::Syntax),
    }
}

/// A fraction's digits as nanoseconds (Go keeps the first nine).
fn nanos(digits: &[u8]) -> u32 {
    (0..9).fold(0, |n, i| {
        n * 10 + digits.get(i).map_or(0, |d| u32::from(d - b'0'))
    })
}

/// Go's `skip`: the literal `prefix` at the start of `v` (a space matches any run of
/// spaces); on a mismatch, where it stopped.
fn skip<'a>(mut v: &'a [u8], prefix: &str) -> Result<&'a [u8], &'a [u8]> {
    let mut p = prefix.as_bytes();
    while let Some((&c, after)) = p.split_first() {
        if c == b' ' {
            if v.first().is_some_and(|&b| b != b' ') {
                return Err(v);
            }
            p = trim_spaces(p);
            v = trim_spaces(v);
            continue;
        }
        match v.split_first() {
            Some((&b, rest)) if b == c => {
                v = rest;
                p = after;
            }
            _ => return Err(v),
        }
    }
    Ok(v)
}

fn trim_spaces(v: &[u8]) -> &[u8] {
    let n = v.iter().take_while(|&&b| b == b' ').count();
    &v[n..]
}

/// Go's `ParseError` without a message.
fn cannot_parse(value: &str, at: &[u8], elem: &[u8]) -> String {
    format!(
        "parsing time {} as {}: cannot parse {} as {}",
        quote(value.as_bytes()),
        quote(LAYOUT.as_bytes()),
        quote(at),
        quote(elem)
    )
}

/// Go's `time.quote`: double quotes, `"` and `\` escaped, every byte that is a control
/// character or part of a non-ASCII character as `\xNN`.
fn quote(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(char::from(b));
            }
            0x20..=0x7f => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339 as parse;

    fn utc(v: &str) -> String {
        parse(v)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string())
            .unwrap_or_else(|e| e)
    }

    #[test]
    fn valid_times_are_read_in_utc() {
        assert_eq!(utc("2024-08-30T06:00:00Z"), "2024-08-30T06:00:00Z");
        assert_eq!(utc("2024-08-30T06:00:00+02:00"), "2024-08-30T04:00:00Z");
        assert_eq!(utc("2024-08-30T23:30:00-01:00"), "2024-08-31T00:30:00Z");
        assert_eq!(utc("2024-08-30T06:00:00.25Z"), "2024-08-30T06:00:00.250Z");
        // One-digit hours and comma fractions are Go's leniency.
        assert_eq!(utc("2024-08-30T6:00:00,5Z"), "2024-08-30T06:00:00.500Z");
        assert_eq!(utc("2024-02-29T00:00:00Z"), "2024-02-29T00:00:00Z");
    }

    #[test]
    fn syntax_errors_name_the_element_as_go_does() {
        let layout = "\"2006-01-02T15:04:05Z07:00\"";
        assert_eq!(
            utc("yesterday"),
            format!(
                "parsing time \"yesterday\" as {layout}: cannot parse \"yesterday\" as \"2006\""
            )
        );
        assert_eq!(
            utc("2024-08-30"),
            format!("parsing time \"2024-08-30\" as {layout}: cannot parse \"\" as \"T\"")
        );
        assert_eq!(
            utc("2024-8-30T06:00:00Z"),
            format!("parsing time \"2024-8-30T06:00:00Z\" as {layout}: cannot parse \"8-30T06:00:00Z\" as \"01\"")
        );
        assert_eq!(
            utc("2024-08-30 06:00:00Z"),
            format!("parsing time \"2024-08-30 06:00:00Z\" as {layout}: cannot parse \" 06:00:00Z\" as \"T\"")
        );
        assert_eq!(
            utc("2024-08-30T06:00:00"),
            format!(
                "parsing time \"2024-08-30T06:00:00\" as {layout}: cannot parse \"\" as \"Z07:00\""
            )
        );
        assert_eq!(
            utc("2024-08-30T06:00:00+0200"),
            format!("parsing time \"2024-08-30T06:00:00+0200\" as {layout}: cannot parse \"+0200\" as \"Z07:00\"")
        );
        assert_eq!(
            utc("2024-08-30T06:00:00é"),
            format!("parsing time \"2024-08-30T06:00:00\\xc3\\xa9\" as {layout}: cannot parse \"\\xc3\\xa9\" as \"Z07:00\"")
        );
    }

    #[test]
    fn ranges_and_extra_text() {
        assert_eq!(
            utc("2024-13-01T00:00:00Z"),
            "parsing time \"2024-13-01T00:00:00Z\": month out of range"
        );
        assert_eq!(
            utc("2023-02-29T00:00:00Z"),
            "parsing time \"2023-02-29T00:00:00Z\": day out of range"
        );
        assert_eq!(
            utc("2024-01-01T24:00:00Z"),
            "parsing time \"2024-01-01T24:00:00Z\": hour out of range"
        );
        assert_eq!(
            utc("2024-01-01T00:60:00Z"),
            "parsing time \"2024-01-01T00:60:00Z\": minute out of range"
        );
        assert_eq!(
            utc("2024-01-01T00:00:00+25:00"),
            "parsing time \"2024-01-01T00:00:00+25:00\": time zone offset hour out of range"
        );
        assert_eq!(
            utc("2024-01-01T00:00:00Zjunk"),
            "parsing time \"2024-01-01T00:00:00Zjunk\": extra text: \"junk\""
        );
    }
}
