//! The CRI container log file format, as containerd writes it: one record per line,
//! `<RFC3339Nano timestamp> <stdout|stderr> <tags> <content>`, where the first tag is `F`
//! (this record ends a line) or `P` (a partial line the runtime split because it was too long,
//! continued by the next record of the same stream). Tags are `:`-separated so that more can be
//! added later; only the first one means something today.

use chrono::{DateTime, FixedOffset, SecondsFormat};

/// Which output stream of the container a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// One parsed line of a CRI log file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord<'a> {
    pub timestamp: DateTime<FixedOffset>,
    pub stream: LogStream,
    /// True for a `P` record: the content continues in the next record of the same stream.
    pub partial: bool,
    /// The content without the line's trailing newline.
    pub content: &'a [u8],
}

/// Why a log line could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogParseError {
    #[error("timestamp is not found")]
    NoTimestamp,
    #[error("unexpected timestamp format: {0:?}")]
    BadTimestamp(String),
    #[error("stream type is not found")]
    NoStream,
    #[error("unexpected stream type {0:?}")]
    BadStream(String),
    #[error("log tag is not found")]
    NoTag,
}

/// Parses one line of a CRI log file (with or without its trailing `\n`).
pub fn parse_record(line: &[u8]) -> Result<LogRecord<'_>, LogParseError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let (timestamp, rest) = split_field(line).ok_or(LogParseError::NoTimestamp)?;
    let timestamp = std::str::from_utf8(timestamp)
        .ok()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .ok_or_else(|| LogParseError::BadTimestamp(String::from_utf8_lossy(timestamp).into()))?;
    let (stream, rest) = split_field(rest).ok_or(LogParseError::NoStream)?;
    let stream = match stream {
        b"stdout" => LogStream::Stdout,
        b"stderr" => LogStream::Stderr,
        other => {
            return Err(LogParseError::BadStream(
                String::from_utf8_lossy(other).into(),
            ))
        }
    };
    // An empty `F` line is written as `<ts> stdout F ` (trailing space), but tolerate a
    // missing final space too, since the content is empty either way.
    let (tags, content) = split_field(rest).unwrap_or((rest, b""));
    if tags.is_empty() {
        return Err(LogParseError::NoTag);
    }
    let partial = tags.split(|b| *b == b':').next() == Some(b"P");
    Ok(LogRecord {
        timestamp,
        stream,
        partial,
        content,
    })
}

/// Splits at the first space: (field, rest after the space).
fn split_field(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = s.iter().position(|b| *b == b' ')?;
    Some((&s[..at], &s[at + 1..]))
}

/// The timestamp prefix of `timestamps=true` output: RFC 3339 with exactly nine fractional
/// digits, in the offset the runtime wrote (upstream's `RFC3339NanoFixed`), e.g.
/// `2024-05-01T10:00:00.120000000Z`.
pub fn format_timestamp(ts: &DateTime<FixedOffset>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_and_partial_records() {
        let r = parse_record(b"2016-10-06T00:17:09.669794202Z stdout F log content 1\n").unwrap();
        assert_eq!(r.stream, LogStream::Stdout);
        assert!(!r.partial);
        assert_eq!(r.content, b"log content 1");
        assert_eq!(r.timestamp.timestamp_subsec_nanos(), 669794202);

        let r = parse_record(b"2016-10-06T00:17:09.669794203Z stderr P part").unwrap();
        assert_eq!(r.stream, LogStream::Stderr);
        assert!(r.partial);
        assert_eq!(r.content, b"part");
    }

    #[test]
    fn content_keeps_inner_spaces_and_empty_lines() {
        let r = parse_record(b"2016-10-06T00:17:09Z stdout F  two  spaces \n").unwrap();
        assert_eq!(r.content, b" two  spaces ");
        let r = parse_record(b"2016-10-06T00:17:09Z stdout F \n").unwrap();
        assert_eq!(r.content, b"");
        let r = parse_record(b"2016-10-06T00:17:09Z stdout F\n").unwrap();
        assert_eq!(r.content, b"");
    }

    #[test]
    fn extra_tags_are_tolerated() {
        let r = parse_record(b"2016-10-06T00:17:09Z stdout P:x:y abc\n").unwrap();
        assert!(r.partial);
        let r = parse_record(b"2016-10-06T00:17:09Z stdout F:P abc\n").unwrap();
        assert!(!r.partial);
    }

    #[test]
    fn rejects_malformed_lines() {
        assert_eq!(parse_record(b"garbage"), Err(LogParseError::NoTimestamp));
        assert!(matches!(
            parse_record(b"yesterday stdout F x"),
            Err(LogParseError::BadTimestamp(_))
        ));
        assert_eq!(
            parse_record(b"2016-10-06T00:17:09Z stdout"),
            Err(LogParseError::NoStream)
        );
        assert!(matches!(
            parse_record(b"2016-10-06T00:17:09Z stdin F x"),
            Err(LogParseError::BadStream(_))
        ));
        assert_eq!(
            parse_record(b"2016-10-06T00:17:09Z stdout  x"),
            Err(LogParseError::NoTag)
        );
    }

    #[test]
    fn timestamps_print_with_nine_digits_and_original_offset() {
        let r = parse_record(b"2024-05-01T10:00:00.12Z stdout F x").unwrap();
        assert_eq!(
            format_timestamp(&r.timestamp),
            "2024-05-01T10:00:00.120000000Z"
        );
        let r = parse_record(b"2024-05-01T12:00:00.000000001+02:00 stdout F x").unwrap();
        assert_eq!(
            format_timestamp(&r.timestamp),
            "2024-05-01T12:00:00.000000001+02:00"
        );
    }
}
