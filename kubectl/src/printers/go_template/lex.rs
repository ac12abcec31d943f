//! The lexer: splits a template into text and actions (`{{ … }}`, with `{{-`/`-}}` trim
//! markers and `{{/* comments */}}`), and an action into tokens.

use super::ParseError;

/// A token inside an action. `pos` is the byte offset in the whole template.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: Tok,
    /// Byte offset in the template.
    pub pos: usize,
    /// Whether whitespace precedes it (a field chain needs adjacency: `(x).a`, not `(x) .a`).
    pub spaced: bool,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A keyword, function name, `true`, `false` or `nil`.
    Ident(String),
    /// `.a.b` (empty for a lone `.`).
    Field(Vec<String>),
    /// `$x.a.b` (name without `$`; `$` alone has an empty name).
    Var(String, Vec<String>),
    /// A quoted or raw string, unescaped.
    Str(String),
    /// A character constant, e.g. `'x'`.
    Char(char),
    /// A number as written.
    Number(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `|`
    Pipe,
    /// `:=`
    Declare,
    /// `=`
    Assign,
    /// `,`
    Comma,
}

/// A top-level piece of the template.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Literal text (after trimming).
    Text(String),
    /// An action's tokens; `pos` is where `{{` starts.
    Action { tokens: Vec<Token>, pos: usize },
}

/// Splits the template into text and actions.
pub fn lex(src: &str) -> Result<Vec<Item>, ParseError> {
    let mut items = Vec::new();
    let mut i = 0;
    let mut trim_next_text = false;
    while i < src.len() {
        let open = src[i..].find("{{").map(|o| i + o);
        let text_end = open.unwrap_or(src.len());
        let mut text = &src[i..text_end];
        if trim_next_text {
            text = text.trim_start_matches(is_space);
        }
        let Some(open) = open else {
            if !text.is_empty() {
                items.push(Item::Text(text.to_string()));
            }
            break;
        };
        let mut start = open + 2;
        if src[start..].starts_with("- ")
            || src[start..].starts_with("-\t")
            || src[start..].starts_with("-\n")
            || src[start..].starts_with("-\r")
        {
            text = text.trim_end_matches(is_space);
            start += 1;
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_string()));
        }
        let (tokens, end, trim) = lex_action(src, start)?;
        trim_next_text = trim;
        if let Some(tokens) = tokens {
            items.push(Item::Action { tokens, pos: open });
        }
        i = end;
    }
    Ok(items)
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Line (1-based) of a byte offset.
pub fn line_of(src: &str, pos: usize) -> usize {
    1 + src[..pos.min(src.len())].matches('\n').count()
}

fn err(src: &str, pos: usize, msg: impl Into<String>) -> ParseError {
    ParseError {
        line: line_of(src, pos),
        message: msg.into(),
    }
}

/// Lexes one action starting after `{{` (and a trim marker). Returns the tokens (None for a
/// comment), the offset after `}}`, and whether `-}}` asked to trim the following text.
fn lex_action(src: &str, start: usize) -> Result<(Option<Vec<Token>>, usize, bool), ParseError> {
    let rest = &src[start..];
    let trimmed = rest.trim_start_matches(is_space);
    if trimmed.starts_with("/*") {
        let body = start + (rest.len() - trimmed.len());
        let Some(close) = src[body..].find("*/") else {
            return Err(err(src, start, "unclosed comment"));
        };
        let after = body + close + 2;
        let tail = &src[after..];
        let t = tail.trim_start_matches(is_space);
        let ws = tail.len() - t.len();
        if t.starts_with("-}}") && ws > 0 {
            return Ok((None, after + ws + 3, true));
        }
        if tail.starts_with("}}") {
            return Ok((None, after + 2, false));
        }
        return Err(err(src, start, "comment ends before closing delimiter"));
    }
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = start;
    let mut spaced = true;
    loop {
        if i >= src.len() {
            return Err(err(src, start, "unclosed action"));
        }
        let c = src[i..].chars().next().unwrap_or(' ');
        if src[i..].starts_with("}}") {
            return Ok((Some(tokens), i + 2, false));
        }
        if is_space(c) {
            let ws_end = i + src[i..].len() - src[i..].trim_start_matches(is_space).len();
            if src[ws_end..].starts_with("-}}") {
                return Ok((Some(tokens), ws_end + 3, true));
            }
            i = ws_end;
            spaced = true;
            continue;
        }
        let pos = i;
        let kind = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            '|' => {
                i += 1;
                Tok::Pipe
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '=' => {
                i += 1;
                Tok::Assign
            }
            ':' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 2;
                    Tok::Declare
                } else {
                    return Err(err(src, pos, "expected :="));
                }
            }
            '"' => {
                let (s, end) = quoted(src, i)?;
                i = end;
                Tok::Str(s)
            }
            '`' => {
                let Some(close) = src[i + 1..].find('`') else {
                    return Err(err(src, pos, "unterminated raw quoted string"));
                };
                let s = src[i + 1..i + 1 + close].to_string();
                i = i + 1 + close + 1;
                Tok::Str(s)
            }
            '\'' => {
                let (s, end) = quoted(src, i)?;
                let mut cs = s.chars();
                let (Some(ch), None) = (cs.next(), cs.next()) else {
                    return Err(err(
                        src,
                        pos,
                        format!("malformed character constant: {}", &src[pos..end]),
                    ));
                };
                i = end;
                Tok::Char(ch)
            }
            '.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let (fields, end) = field_chain(src, i);
                i = end;
                Tok::Field(fields)
            }
            '$' => {
                let name_end = ident_end(src, i + 1);
                let name = src[i + 1..name_end].to_string();
                let (fields, end) = field_chain(src, name_end);
                i = end;
                Tok::Var(name, fields)
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let end = src[i + 1..]
                    .find(|c: char| {
                        !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
                    })
                    .map_or(src.len(), |e| i + 1 + e);
                // `1-}}` is a number followed by a trim marker; stop at the sign after a digit.
                let mut end = end;
                if let Some(m) = src[i + 1..end].find(['-', '+']) {
                    let prev = src.as_bytes()[i + m];
                    if prev != b'e' && prev != b'E' {
                        end = i + 1 + m;
                    }
                }
                let n = src[i..end].to_string();
                i = end;
                Tok::Number(n)
            }
            c if c.is_alphabetic() || c == '_' => {
                let end = ident_end(src, i);
                let word = src[i..end].to_string();
                i = end;
                Tok::Ident(word)
            }
            other => {
                return Err(err(
                    src,
                    pos,
                    format!("bad character U+{:04X} '{other}'", other as u32),
                ))
            }
        };
        tokens.push(Token { kind, pos, spaced });
        spaced = false;
    }
}

fn ident_end(src: &str, from: usize) -> usize {
    src[from..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(src.len(), |e| from + e)
}

/// `.a.b.c` from `from` (which is at a `.`): the names and the offset after them.
fn field_chain(src: &str, mut i: usize) -> (Vec<String>, usize) {
    let mut fields = Vec::new();
    while src[i..].starts_with('.') {
        let end = ident_end(src, i + 1);
        if end == i + 1 {
            // A lone `.` (dot) ends the chain.
            if fields.is_empty() {
                i += 1;
            }
            break;
        }
        fields.push(src[i + 1..end].to_string());
        i = end;
    }
    (fields, i)
}

/// A `"…"` or `'…'` literal at `start` with Go's escapes; returns the value and the end.
fn quoted(src: &str, start: usize) -> Result<(String, usize), ParseError> {
    let quote = src.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        match c {
            c if c == quote => return Ok((out, start + 1 + off + 1)),
            '\n' => break,
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'f' => out.push('\x0c'),
                    'v' => out.push('\x0b'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '\'' => out.push('\''),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = (0..n)
                            .filter_map(|_| chars.next().map(|(_, h)| h))
                            .collect();
                        let ch = u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| err(src, start, "invalid syntax"))?;
                        out.push(ch);
                    }
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            if let Some((_, d)) = chars.next() {
                                v = v * 8 + d.to_digit(8).unwrap_or(0);
                            }
                        }
                        out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                    }
                    _ => return Err(err(src, start, "invalid syntax")),
                }
            }
            c => out.push(c),
        }
    }
    Err(err(
        src,
        start,
        if quote == '"' {
            "unterminated quoted string"
        } else {
            "unterminated character constant"
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        match lex(src).unwrap().remove(0) {
            Item::Action { tokens, .. } => tokens.into_iter().map(|t| t.kind).collect(),
            Item::Text(t) => panic!("text {t}"),
        }
    }

    #[test]
    fn tokens_of_an_action() {
        assert_eq!(
            kinds(r#"{{ $v := index .a.b "x\ty" | printf "%d" 12 }}"#),
            vec![
                Tok::Var("v".into(), vec![]),
                Tok::Declare,
                Tok::Ident("index".into()),
                Tok::Field(vec!["a".into(), "b".into()]),
                Tok::Str("x\ty".into()),
                Tok::Pipe,
                Tok::Ident("printf".into()),
                Tok::Str("%d".into()),
                Tok::Number("12".into()),
            ]
        );
        assert_eq!(kinds("{{.}}"), vec![Tok::Field(vec![])]);
        assert_eq!(kinds("{{`a}}b`}}"), vec![Tok::Str("a}}b".into())]);
        assert_eq!(
            kinds("{{'x' -1.5}}"),
            vec![Tok::Char('x'), Tok::Number("-1.5".into())]
        );
    }

    #[test]
    fn trim_markers_eat_whitespace() {
        let items = lex("a  \n{{- 1 -}}\n  b{{/* c */}}d").unwrap();
        assert_eq!(items[0], Item::Text("a".into()));
        assert_eq!(items[2], Item::Text("b".into()));
        assert_eq!(items[3], Item::Text("d".into()));
        assert_eq!(items.len(), 4);
    }

    #[test]
    fn unclosed_action_is_an_error() {
        let e = lex("x\n{{.a").unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.message, "unclosed action");
        assert_eq!(
            lex("{{\"abc}}").unwrap_err().message,
            "unterminated quoted string"
        );
    }
}
