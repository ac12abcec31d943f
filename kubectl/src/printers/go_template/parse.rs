//! The parser: tokens to a tree of text, actions and `if`/`range`/`with` blocks, checking
//! function names and variables as Go's `text/template/parse` does.

use super::lex::{self, Item, Tok, Token};
use super::ParseError;

/// A node of the template tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Literal text.
    Text(String),
    /// `{{pipeline}}`: prints the value unless it declares variables.
    Action(Pipe),
    /// `{{if}}`, `{{range}}` or `{{with}}` with its body and optional else branch.
    Block {
        /// Which block.
        kind: BlockKind,
        /// The controlling pipeline.
        pipe: Pipe,
        /// The body.
        list: Vec<Node>,
        /// The `{{else}}` branch.
        else_list: Option<Vec<Node>>,
    },
    /// `{{break}}`
    Break,
    /// `{{continue}}`
    Continue,
}

/// The three block kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// `if`
    If,
    /// `range`
    Range,
    /// `with`
    With,
}

/// `$x := cmd | cmd …`
#[derive(Debug, Clone, PartialEq)]
pub struct Pipe {
    /// Byte offset.
    pub pos: usize,
    /// Declared or assigned variables (without `$`).
    pub decl: Vec<String>,
    /// `=` rather than `:=`.
    pub is_assign: bool,
    /// The commands, the value of each passed as last argument to the next.
    pub cmds: Vec<Cmd>,
}

/// One command: a function call or a single operand.
#[derive(Debug, Clone, PartialEq)]
pub struct Cmd {
    /// Byte offset of the first word.
    pub pos: usize,
    /// The words.
    pub args: Vec<Arg>,
}

/// An operand with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    /// Byte offset (for a field chain, of its second element, as Go reports it).
    pub pos: usize,
    /// What it is.
    pub kind: ArgKind,
}

/// Operand kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgKind {
    /// `.a.b` (empty = `.`).
    Field(Vec<String>),
    /// `$x.a`
    Var(String, Vec<String>),
    /// A function name.
    Func(String),
    /// `nil`
    Nil,
    /// `true` / `false`
    Bool(bool),
    /// An integer constant.
    Int(i64),
    /// A floating-point constant (with its text, for error messages).
    Float(f64, String),
    /// A string constant.
    Str(String),
    /// `(pipeline).a.b`
    Sub(Box<Pipe>, Vec<String>),
}

/// Names the executor implements.
pub const FUNCTIONS: &[&str] = &[
    "and",
    "or",
    "not",
    "len",
    "index",
    "slice",
    "print",
    "printf",
    "println",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "html",
    "urlquery",
    "base64decode",
    "exists",
];

/// How a list ended.
enum ListEnd {
    Eof,
    End,
    /// `{{else}}`, or `{{else if …}}` with the chained keyword.
    Else(Option<(BlockKind, Vec<Token>)>),
}

struct Parser<'a> {
    src: &'a str,
    items: std::vec::IntoIter<Item>,
    vars: Vec<String>,
    range_depth: usize,
}

/// Parses a template into its node list.
pub fn parse(src: &str) -> Result<Vec<Node>, ParseError> {
    let items = lex::lex(src)?;
    let mut p = Parser {
        src,
        items: items.into_iter(),
        vars: vec![String::new()],
        range_depth: 0,
    };
    let (list, end) = p.list()?;
    match end {
        ListEnd::Eof => Ok(list),
        ListEnd::End => Err(p.err(src.len(), "unexpected {{end}}")),
        ListEnd::Else(_) => Err(p.err(src.len(), "unexpected {{else}}")),
    }
}

impl Parser<'_> {
    fn err(&self, pos: usize, msg: impl Into<String>) -> ParseError {
        ParseError {
            line: lex::line_of(self.src, pos),
            message: msg.into(),
        }
    }

    fn list(&mut self) -> Result<(Vec<Node>, ListEnd), ParseError> {
        let mut out = Vec::new();
        while let Some(item) = self.items.next() {
            let (tokens, pos) = match item {
                Item::Text(t) => {
                    out.push(Node::Text(t));
                    continue;
                }
                Item::Action { tokens, pos } => (tokens, pos),
            };
            let keyword = match tokens.first().map(|t| &t.kind) {
                Some(Tok::Ident(w)) => w.as_str(),
                _ => "",
            };
            match keyword {
                "end" => return Ok((out, ListEnd::End)),
                "else" => {
                    let chained = match tokens.get(1).map(|t| &t.kind) {
                        Some(Tok::Ident(w)) if w == "if" => {
                            Some((BlockKind::If, tokens[2..].to_vec()))
                        }
                        // kubectl 1.32's Go has no `else with` yet.
                        Some(Tok::Ident(w)) => {
                            return Err(self.err(pos, format!("unexpected <{w}> in input")))
                        }
                        None => None,
                        Some(_) => return Err(self.err(pos, "unexpected tokens after else")),
                    };
                    return Ok((out, ListEnd::Else(chained)));
                }
                "if" => out.push(self.block(BlockKind::If, &tokens[1..], pos)?),
                "range" => out.push(self.block(BlockKind::Range, &tokens[1..], pos)?),
                "with" => out.push(self.block(BlockKind::With, &tokens[1..], pos)?),
                "break" | "continue" => {
                    if self.range_depth == 0 {
                        return Err(
                            self.err(pos, format!("{{{{{keyword}}}}} outside {{{{range}}}}"))
                        );
                    }
                    out.push(if keyword == "break" {
                        Node::Break
                    } else {
                        Node::Continue
                    });
                }
                "define" | "template" | "block" => {
                    return Err(self.err(pos, format!("{{{{{keyword}}}}} is not supported")))
                }
                _ => out.push(Node::Action(self.pipeline(&tokens, pos, "command")?)),
            }
        }
        Ok((out, ListEnd::Eof))
    }

    fn block(&mut self, kind: BlockKind, tokens: &[Token], pos: usize) -> Result<Node, ParseError> {
        let name = match kind {
            BlockKind::If => "if",
            BlockKind::Range => "range",
            BlockKind::With => "with",
        };
        let mark = self.vars.len();
        let pipe = self.pipeline(tokens, pos, name)?;
        if kind == BlockKind::Range {
            self.range_depth += 1;
        }
        let (list, end) = self.list()?;
        if kind == BlockKind::Range {
            self.range_depth -= 1;
        }
        let else_list = match end {
            ListEnd::Eof => return Err(self.err(self.src.len(), "unexpected EOF")),
            ListEnd::End => None,
            ListEnd::Else(None) => {
                let (l, end) = self.list()?;
                match end {
                    ListEnd::End => Some(l),
                    ListEnd::Eof => return Err(self.err(self.src.len(), "unexpected EOF")),
                    ListEnd::Else(_) => return Err(self.err(pos, "expected end; found {{else}}")),
                }
            }
            ListEnd::Else(Some((chained, rest))) => {
                // `{{else if x}}…{{end}}` is `{{else}}{{if x}}…{{end}}{{end}}` sharing one end.
                Some(vec![self.block(chained, &rest, pos)?])
            }
        };
        self.vars.truncate(mark);
        Ok(Node::Block {
            kind,
            pipe,
            list,
            else_list,
        })
    }

    fn pipeline(
        &mut self,
        tokens: &[Token],
        pos: usize,
        context: &str,
    ) -> Result<Pipe, ParseError> {
        let mut i = 0;
        let mut decl = Vec::new();
        let mut is_assign = false;
        // `$x :=`, `$x =`, `$i, $v :=`
        let mut j = 0;
        let mut names = Vec::new();
        while let Some(Token {
            kind: Tok::Var(n, f),
            ..
        }) = tokens.get(j)
        {
            if !f.is_empty() {
                break;
            }
            names.push(n.clone());
            j += 1;
            match tokens.get(j).map(|t| &t.kind) {
                Some(Tok::Comma) if context == "range" && names.len() == 1 => j += 1,
                Some(Tok::Declare) | Some(Tok::Assign) => {
                    is_assign = tokens[j].kind == Tok::Assign;
                    decl = names.clone();
                    i = j + 1;
                    break;
                }
                _ => break,
            }
        }
        let rest = &tokens[i..];
        let pipe_pos = rest.first().map_or(pos, |t| t.pos);
        let mut cmds = Vec::new();
        let mut k = 0;
        while k < rest.len() {
            let (cmd, next) = self.command(rest, k)?;
            cmds.push(cmd);
            k = next;
            match rest.get(k).map(|t| &t.kind) {
                Some(Tok::Pipe) => {
                    k += 1;
                    if k >= rest.len() {
                        return Err(self.err(pos, "missing command"));
                    }
                }
                None => {}
                Some(Tok::RParen) => return Err(self.err(rest[k].pos, "unexpected right paren")),
                Some(_) => return Err(self.err(rest[k].pos, "unexpected token in command")),
            }
        }
        if cmds.is_empty() {
            return Err(self.err(pos, format!("missing value for {context}")));
        }
        for n in &decl {
            if is_assign {
                if !self.vars.contains(n) {
                    return Err(self.err(pos, format!("undefined variable \"${n}\"")));
                }
            } else {
                self.vars.push(n.clone());
            }
        }
        Ok(Pipe {
            pos: pipe_pos,
            decl,
            is_assign,
            cmds,
        })
    }

    /// One command from `tokens[start..]` up to `|`, `)` or the end.
    fn command(&mut self, tokens: &[Token], start: usize) -> Result<(Cmd, usize), ParseError> {
        let mut args = Vec::new();
        let mut k = start;
        while let Some(t) = tokens.get(k) {
            if matches!(t.kind, Tok::Pipe | Tok::RParen) {
                break;
            }
            let (arg, next) = self.operand(tokens, k)?;
            args.push(arg);
            k = next;
        }
        if args.is_empty() {
            let pos = tokens.get(k).map_or(self.src.len(), |t| t.pos);
            return Err(self.err(pos, "missing value for command"));
        }
        Ok((
            Cmd {
                pos: tokens[start].pos,
                args,
            },
            k,
        ))
    }

    fn operand(&mut self, tokens: &[Token], k: usize) -> Result<(Arg, usize), ParseError> {
        let t = &tokens[k];
        let chain_pos = |fields: &[String], pos: usize| {
            // Go reports a chain at its second element.
            if fields.len() > 1 {
                pos + 1 + fields[0].len()
            } else {
                pos
            }
        };
        let kind = match &t.kind {
            Tok::Field(f) => {
                return Ok((
                    Arg {
                        pos: chain_pos(f, t.pos),
                        kind: ArgKind::Field(f.clone()),
                    },
                    k + 1,
                ))
            }
            Tok::Var(n, f) => {
                if !self.vars.contains(n) {
                    return Err(self.err(t.pos, format!("undefined variable \"${n}\"")));
                }
                ArgKind::Var(n.clone(), f.clone())
            }
            Tok::Ident(w) => match w.as_str() {
                "nil" => ArgKind::Nil,
                "true" => ArgKind::Bool(true),
                "false" => ArgKind::Bool(false),
                w if FUNCTIONS.contains(&w) => ArgKind::Func(w.to_string()),
                w => return Err(self.err(t.pos, format!("function \"{w}\" not defined"))),
            },
            Tok::Str(s) => ArgKind::Str(s.clone()),
            Tok::Char(c) => ArgKind::Int(*c as i64),
            Tok::Number(n) => {
                number(n).ok_or_else(|| self.err(t.pos, format!("illegal number syntax: {n:?}")))?
            }
            Tok::LParen => {
                let close = matching_paren(tokens, k)
                    .ok_or_else(|| self.err(t.pos, "unclosed left paren"))?;
                let inner = &tokens[k + 1..close];
                let pipe = self.pipeline(inner, t.pos, "parenthesized pipeline")?;
                let mut fields = Vec::new();
                let mut next = close + 1;
                if let Some(Token {
                    kind: Tok::Field(f),
                    spaced: false,
                    ..
                }) = tokens.get(next)
                {
                    fields = f.clone();
                    next += 1;
                }
                return Ok((
                    Arg {
                        pos: t.pos,
                        kind: ArgKind::Sub(Box::new(pipe), fields),
                    },
                    next,
                ));
            }
            Tok::RParen => return Err(self.err(t.pos, "unexpected right paren")),
            Tok::Declare | Tok::Assign | Tok::Comma | Tok::Pipe => {
                return Err(self.err(t.pos, "unexpected token in operand"))
            }
        };
        Ok((Arg { pos: t.pos, kind }, k + 1))
    }
}

fn matching_paren(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            Tok::LParen => depth += 1,
            Tok::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Go's number constants: integers (decimal, 0x, 0o, 0b, with `_`) or floats.
fn number(text: &str) -> Option<ArgKind> {
    let clean = text.replace('_', "");
    let (neg, digits) = match clean.strip_prefix('-') {
        Some(d) => (true, d.to_string()),
        None => (false, clean.trim_start_matches('+').to_string()),
    };
    let radix = |p: &str, r| i64::from_str_radix(p, r).ok();
    let int = if let Some(h) = digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
        radix(h, 16)
    } else if let Some(o) = digits.strip_prefix("0o").or(digits.strip_prefix("0O")) {
        radix(o, 8)
    } else if let Some(b) = digits.strip_prefix("0b").or(digits.strip_prefix("0B")) {
        radix(b, 2)
    } else if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        radix(&digits[1..], 8)
    } else {
        digits.parse().ok()
    };
    if let Some(i) = int {
        return Some(ArgKind::Int(if neg { -i } else { i }));
    }
    clean
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(|f| ArgKind::Float(f, text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn else_if_chains_share_one_end() {
        let t = parse("{{if .a}}A{{else if .b}}B{{else}}C{{end}}").unwrap();
        let Node::Block {
            else_list: Some(e), ..
        } = &t[0]
        else {
            panic!("{t:?}")
        };
        let Node::Block {
            kind, else_list, ..
        } = &e[0]
        else {
            panic!("{e:?}")
        };
        assert_eq!(*kind, BlockKind::If);
        assert_eq!(else_list.as_deref(), Some(&[Node::Text("C".into())][..]));
    }

    #[test]
    fn range_declares_two_variables() {
        let t = parse("{{range $i, $v := .items}}{{$i}}{{$v.name}}{{end}}").unwrap();
        let Node::Block { pipe, .. } = &t[0] else {
            panic!()
        };
        assert_eq!(pipe.decl, vec!["i".to_string(), "v".to_string()]);
        assert!(!pipe.is_assign);
    }

    #[test]
    fn parse_errors_in_upstream_words() {
        let msg = |s: &str| parse(s).unwrap_err().message;
        assert_eq!(msg("{{.a | foo}}"), "function \"foo\" not defined");
        assert_eq!(msg("{{if .a}}x"), "unexpected EOF");
        assert_eq!(msg("{{end}}"), "unexpected {{end}}");
        assert_eq!(msg("{{$x}}"), "undefined variable \"$x\"");
        assert_eq!(
            msg("{{range $v := .a}}{{end}}{{$v}}"),
            "undefined variable \"$v\""
        );
        assert_eq!(msg("{{if}}{{end}}"), "missing value for if");
        assert_eq!(msg("{{break}}"), "{{break}} outside {{range}}");
        assert_eq!(
            msg("{{if .a}}{{else with .b}}{{end}}"),
            "unexpected <with> in input"
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(number("42"), Some(ArgKind::Int(42)));
        assert_eq!(number("-0x10"), Some(ArgKind::Int(-16)));
        assert_eq!(number("1.5"), Some(ArgKind::Float(1.5, "1.5".into())));
        assert_eq!(number("1e3"), Some(ArgKind::Float(1000.0, "1e3".into())));
        assert_eq!(number("1x"), None);
    }
}
