//! The regular expressions `kubectl proxy`'s filter flags take, in the subset their
//! defaults and documented uses need: `^` and `$` anchors, `.`, literal characters (`\`
//! escapes any), and `*`, `+`, `?` after one of those. Like Go's `MatchString`, a pattern
//! without `^` matches anywhere.

use crate::error::{KubectlError, Result};

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    anchored_start: bool,
    anchored_end: bool,
    atoms: Vec<(Atom, Repeat)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Atom {
    Any,
    Char(char),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    One,
    ZeroOrMore,
    OneOrMore,
    ZeroOrOne,
}

impl Pattern {
    /// Compiles `source`, refusing syntax outside the subset.
    pub fn parse(source: &str) -> Result<Self> {
        let unsupported = |what: &str| {
            KubectlError::usage(format!(
                "error parsing regexp {source:?}: {what} is not supported by this kubectl"
            ))
        };
        let mut chars = source.chars().peekable();
        let anchored_start = chars.next_if_eq(&'^').is_some();
        let mut atoms: Vec<(Atom, Repeat)> = Vec::new();
        let mut anchored_end = false;
        while let Some(c) = chars.next() {
            let atom = match c {
                '$' if chars.peek().is_none() => {
                    anchored_end = true;
                    break;
                }
                '.' => Atom::Any,
                '\\' => Atom::Char(chars.next().ok_or_else(|| unsupported("a trailing \\"))?),
                '*' | '+' | '?' => {
                    let repeat = match c {
                        '*' => Repeat::ZeroOrMore,
                        '+' => Repeat::OneOrMore,
                        _ => Repeat::ZeroOrOne,
                    };
                    match atoms.last_mut() {
                        Some((_, r @ Repeat::One)) => *r = repeat,
                        _ => return Err(unsupported("a repeat without an atom")),
                    }
                    continue;
                }
                '[' | ']' | '(' | ')' | '|' | '{' | '}' | '^' | '$' => {
                    return Err(unsupported(&format!("{c:?}")))
                }
                other => Atom::Char(other),
            };
            atoms.push((atom, Repeat::One));
        }
        Ok(Pattern {
            anchored_start,
            anchored_end,
            atoms,
        })
    }

    /// Whether the pattern matches `text` (anywhere, unless anchored).
    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let starts: Vec<usize> = if self.anchored_start {
            vec![0]
        } else {
            (0..=chars.len()).collect()
        };
        starts
            .into_iter()
            .any(|s| self.match_from(&self.atoms, &chars[s..]))
    }

    fn match_from(&self, atoms: &[(Atom, Repeat)], text: &[char]) -> bool {
        let Some(((atom, repeat), rest)) = atoms.split_first() else {
            return !self.anchored_end || text.is_empty();
        };
        let fits = |c: &char| match atom {
            Atom::Any => *c != '\n',
            Atom::Char(want) => c == want,
        };
        let (min, max) = match repeat {
            Repeat::One => (1, 1),
            Repeat::ZeroOrOne => (0, 1),
            Repeat::ZeroOrMore => (0, usize::MAX),
            Repeat::OneOrMore => (1, usize::MAX),
        };
        let available = text.iter().take_while(|c| fits(c)).count().min(max);
        (min..=available)
            .rev()
            .any(|n| self.match_from(rest, &text[n..]))
    }
}

/// A comma-separated list of patterns (a flag's value); empty entries are skipped.
pub fn parse_list(list: &str) -> Result<Vec<Pattern>> {
    list.split(',')
        .filter(|p| !p.is_empty())
        .map(Pattern::parse)
        .collect()
}

/// Whether any pattern of the list matches.
pub fn any_match(patterns: &[Pattern], text: &str) -> bool {
    patterns.iter().any(|p| p.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        Pattern::parse(pattern).unwrap().is_match(text)
    }

    #[test]
    fn the_default_filters_match_as_in_go() {
        assert!(m(r"^localhost$", "localhost"));
        assert!(!m(r"^localhost$", "localhost.evil"));
        assert!(m(r"^127\.0\.0\.1$", "127.0.0.1"));
        assert!(!m(r"^127\.0\.0\.1$", "127a0.0.1"));
        assert!(m(r"^\[::1\]$", "[::1]"));
        assert!(m(r"^.*", "/anything"));
        assert!(m(
            r"^/api/.*/pods/.*/exec",
            "/api/v1/namespaces/d/pods/web/exec"
        ));
        assert!(!m(
            r"^/api/.*/pods/.*/exec",
            "/api/v1/namespaces/d/pods/web/log"
        ));
        assert!(m(r"^$", ""));
        assert!(!m(r"^$", "GET"));
        assert!(m("exec", "/x/exec/y"), "unanchored patterns match anywhere");
        assert!(m("^ab+c?$", "abbb"));
        assert!(!m("^ab+c?$", "ac"));
    }

    #[test]
    fn unsupported_syntax_is_refused() {
        assert!(Pattern::parse("^(a|b)$").is_err());
        assert!(Pattern::parse("[a-z]").is_err());
        assert!(Pattern::parse("*a").is_err());
        assert_eq!(parse_list("^a$,,^b$").unwrap().len(), 2);
    }
}
