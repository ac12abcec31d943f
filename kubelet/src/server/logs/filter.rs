//! Turns CRI log records into what `kubectl logs` prints: partial records joined into whole
//! lines, `sinceSeconds`/`sinceTime` and `tailLines` applied to whole lines, an optional
//! timestamp prefix per line, and output cut at `limitBytes`.
//!
//! The filter is fed raw file lines in order and accumulates output; the reader decides when
//! the existing content has been read (`caught_up`, which releases the tail window) and when
//! the stream is over (`finish`). Keeping it free of I/O makes the rules testable on fixtures.

use std::collections::VecDeque;

use chrono::{DateTime, FixedOffset};

use super::format::{format_timestamp, parse_record, LogStream};
use super::options::LogOptions;

/// A whole line (or the unterminated remainder at the end of a stream).
#[derive(Debug)]
struct Line {
    /// The timestamp of its first record: a joined line is as old as its beginning.
    timestamp: DateTime<FixedOffset>,
    content: Vec<u8>,
    /// False only for the trailing partial line flushed by `finish`.
    terminated: bool,
}

/// Accumulates the response body for one log request.
#[derive(Debug)]
pub struct LogFilter {
    since: Option<DateTime<FixedOffset>>,
    timestamps: bool,
    /// While the existing content is read with `tailLines` set: the newest lines so far.
    tail: Option<VecDeque<Line>>,
    tail_lines: usize,
    /// Bytes still allowed by `limitBytes`.
    remaining: Option<u64>,
    /// Partial lines waiting for their continuation, one per stream.
    pending_stdout: Option<Line>,
    pending_stderr: Option<Line>,
    out: Vec<u8>,
    done: bool,
    /// Lines that did not parse, for the caller's log.
    pub skipped: u64,
}

impl LogFilter {
    pub fn new(opts: &LogOptions) -> LogFilter {
        let tail_lines = opts
            .tail_lines
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        LogFilter {
            since: opts.since,
            timestamps: opts.timestamps,
            tail: tail_lines.map(|_| VecDeque::new()),
            tail_lines: tail_lines.unwrap_or(0),
            remaining: opts.limit_bytes,
            pending_stdout: None,
            pending_stderr: None,
            out: Vec::new(),
            done: false,
            skipped: 0,
        }
    }

    /// Feeds one line of the log file.
    pub fn push(&mut self, raw: &[u8]) {
        if self.done {
            return;
        }
        let Ok(record) = parse_record(raw) else {
            self.skipped += 1;
            return;
        };
        let pending = match record.stream {
            LogStream::Stdout => &mut self.pending_stdout,
            LogStream::Stderr => &mut self.pending_stderr,
        };
        let mut line = pending.take().unwrap_or(Line {
            timestamp: record.timestamp,
            content: Vec::new(),
            terminated: false,
        });
        line.content.extend_from_slice(record.content);
        if record.partial {
            *pending = Some(line);
        } else {
            line.terminated = true;
            self.emit(line);
        }
    }

    /// The content that existed when the request arrived has been read: the `tailLines`
    /// window is final, so release it. Later lines go straight to the output.
    pub fn caught_up(&mut self) {
        if let Some(window) = self.tail.take() {
            for line in window {
                self.write(&line);
            }
        }
    }

    /// The stream is over: unterminated partial lines are written as they are.
    pub fn finish(&mut self) {
        let mut rest: Vec<Line> = [self.pending_stdout.take(), self.pending_stderr.take()]
            .into_iter()
            .flatten()
            .collect();
        rest.sort_by_key(|l| l.timestamp);
        for line in rest {
            self.emit(line);
        }
        self.caught_up();
    }

    /// Takes the output accumulated so far.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// True once `limitBytes` has been reached: nothing more will be written.
    pub fn is_done(&self) -> bool {
        self.done
    }

    fn emit(&mut self, line: Line) {
        if self.since.is_some_and(|since| line.timestamp < since) {
            return;
        }
        match &mut self.tail {
            Some(window) => {
                if self.tail_lines == 0 {
                    return;
                }
                if window.len() == self.tail_lines {
                    window.pop_front();
                }
                window.push_back(line);
            }
            None => self.write(&line),
        }
    }

    fn write(&mut self, line: &Line) {
        if self.done {
            return;
        }
        let start = self.out.len();
        if self.timestamps {
            self.out
                .extend_from_slice(format_timestamp(&line.timestamp).as_bytes());
            self.out.push(b' ');
        }
        self.out.extend_from_slice(&line.content);
        if line.terminated {
            self.out.push(b'\n');
        }
        if let Some(remaining) = &mut self.remaining {
            let written = (self.out.len() - start) as u64;
            if written >= *remaining {
                self.out.truncate(start + *remaining as usize);
                *remaining = 0;
                self.done = true;
            } else {
                *remaining -= written;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    /// A log file as containerd writes it: stdout and stderr interleaved, a line split into
    /// three partial records, an empty line, and one unparsable line.
    const FIXTURE: &str = "\
2024-05-01T10:00:01.000000001Z stdout F one
2024-05-01T10:00:02Z stderr F two (stderr)
2024-05-01T10:00:03.5Z stdout P thr
2024-05-01T10:00:03.6Z stderr F four
2024-05-01T10:00:03.7Z stdout P e
2024-05-01T10:00:03.8Z stdout F e!
not a cri log line
2024-05-01T10:00:04Z stdout F 
2024-05-01T10:00:05Z stdout F five
";

    fn run(query: &str) -> String {
        let now = Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 6).unwrap();
        let opts = LogOptions::from_query(query, now).unwrap();
        let mut f = LogFilter::new(&opts);
        for line in FIXTURE.split_inclusive('\n') {
            f.push(line.as_bytes());
        }
        f.finish();
        if !f.is_done() {
            assert_eq!(f.skipped, 1, "the one garbage line is skipped");
        }
        String::from_utf8(f.take_output()).unwrap()
    }

    #[test]
    fn joins_partial_records_per_stream() {
        assert_eq!(run(""), "one\ntwo (stderr)\nfour\nthree!\n\nfive\n");
    }

    #[test]
    fn timestamps_prefix_each_whole_line_once() {
        assert_eq!(
            run("timestamps=true&tailLines=3"),
            "2024-05-01T10:00:03.500000000Z three!\n\
             2024-05-01T10:00:04.000000000Z \n\
             2024-05-01T10:00:05.000000000Z five\n"
        );
    }

    #[test]
    fn tail_counts_whole_lines() {
        assert_eq!(run("tailLines=2"), "\nfive\n");
        assert_eq!(run("tailLines=3"), "three!\n\nfive\n");
        assert_eq!(run("tailLines=0"), "");
        assert_eq!(run("tailLines=100"), run(""));
    }

    #[test]
    fn since_uses_the_first_record_of_a_line() {
        // 10:00:03.55 is after the start of "three!" (03.5) but before its end: excluded.
        assert_eq!(run("sinceTime=2024-05-01T10:00:03.55Z"), "four\n\nfive\n");
        // sinceSeconds=3 with now=10:00:06 → 10:00:03.
        assert_eq!(run("sinceSeconds=3"), "four\nthree!\n\nfive\n");
        // Combined with tail: the last line newer than `since`.
        assert_eq!(run("sinceSeconds=3&tailLines=1"), "five\n");
    }

    #[test]
    fn limit_bytes_cuts_mid_line_and_stops() {
        assert_eq!(run("limitBytes=6"), "one\ntw");
        assert_eq!(run("limitBytes=4"), "one\n");
        assert_eq!(run("limitBytes=1000"), run(""));
        assert_eq!(
            run("limitBytes=12&tailLines=2&timestamps=1"),
            "2024-05-01T1"
        );
    }

    #[test]
    fn follow_releases_the_tail_window_then_streams() {
        let opts = LogOptions::from_query("tailLines=1", Utc::now()).unwrap();
        let mut f = LogFilter::new(&opts);
        f.push(b"2024-05-01T10:00:01Z stdout F old\n");
        f.push(b"2024-05-01T10:00:02Z stdout F recent\n");
        assert_eq!(f.take_output(), b"");
        f.caught_up();
        assert_eq!(f.take_output(), b"recent\n");
        f.push(b"2024-05-01T10:00:03Z stdout P new");
        assert_eq!(f.take_output(), b"", "a partial line waits for its end");
        f.push(b"2024-05-01T10:00:04Z stdout F  line\n");
        assert_eq!(f.take_output(), b"new line\n");
        f.push(b"2024-05-01T10:00:05Z stderr P unterminated");
        f.finish();
        assert_eq!(f.take_output(), b"unterminated");
    }
}
