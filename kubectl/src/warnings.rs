//! Warnings the API server sends in `Warning: 299 - "text"` headers (deprecations, PodSecurity
//! in warn mode, unknown fields): printed once each to stderr as `Warning: text`, as
//! client-go's deduplicating warning writer does for kubectl, and counted for
//! `--warnings-as-errors`.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use http::HeaderMap;

/// The texts shown so far in this run.
fn shown() -> &'static Mutex<HashSet<String>> {
    static SHOWN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    SHOWN.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Prints the warnings of one response that were not printed before.
pub fn report(headers: &HeaderMap) {
    for text in headers
        .get_all(http::header::WARNING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(parse_warning)
    {
        let new = shown()
            .lock()
            .map(|mut seen| seen.insert(text.clone()))
            .unwrap_or(true);
        if new {
            eprintln!("Warning: {text}");
        }
    }
}

/// How many different warnings were printed.
pub fn count() -> usize {
    shown().lock().map(|seen| seen.len()).unwrap_or(0)
}

/// The text of a `299 - "text"` warning (an optional date may follow it); None for other
/// codes and malformed values, which client-go ignores too.
fn parse_warning(value: &str) -> Option<String> {
    let rest = value.trim().strip_prefix("299")?.trim_start();
    let rest = rest.strip_prefix('-')?.trim_start();
    let quoted = rest.strip_prefix('"')?;
    let mut text = String::new();
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => text.push(chars.next()?),
            '"' => return (!text.is_empty()).then_some(text),
            c => text.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_headers_yield_their_unescaped_text() {
        assert_eq!(
            parse_warning(r#"299 - "unknown field \"spec.foo\"""#).as_deref(),
            Some(r#"unknown field "spec.foo""#)
        );
        assert_eq!(
            parse_warning(r#"299 - "deprecated" "Wed, 02 Dec 2026 05:00:00 GMT""#).as_deref(),
            Some("deprecated")
        );
        assert_eq!(parse_warning(r#"199 - "other code""#), None);
        assert_eq!(parse_warning(r#"299 - "unterminated"#), None);
        assert_eq!(parse_warning("299 - \"\""), None);
    }

    #[test]
    fn each_warning_is_counted_once() {
        let mut headers = HeaderMap::new();
        for v in [
            r#"299 - "w-test-one""#,
            r#"299 - "w-test-one""#,
            r#"299 - "w-test-two""#,
        ] {
            headers.append(http::header::WARNING, v.parse().unwrap());
        }
        let before = count();
        report(&headers);
        report(&headers);
        assert_eq!(count() - before, 2);
    }
}
