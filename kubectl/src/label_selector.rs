//! Label selectors as apimachinery reads them (`app=web,tier in (a,b),!legacy`), written as
//! its lexer and parser are, since its errors name the token where parsing stopped. One
//! parse serves two readings: [`Selector`] (`labels.Parse`, matched against objects' labels
//! by `get -l` on files, `wait`, `rollout`, `apply --prune`) and [`parse`] (the
//! `LabelSelector` object `ParseToLabelSelector` makes, for `create poddisruptionbudget`).

use serde_json::{json, Map, Value};

use crate::printers::go_template::go_quote;
use crate::validation::{label_value_errors, qualified_name_errors};

/// A lexer token: its kind and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    End,
    Error(String),
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier(String),
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

impl Tok {
    /// The text Go's errors quote for the token.
    fn literal(&self) -> &str {
        match self {
            Tok::End => "",
            Tok::Error(s) | Tok::Identifier(s) => s,
            Tok::ClosedPar => ")",
            Tok::Comma => ",",
            Tok::DoesNotExist => "!",
            Tok::DoubleEquals => "==",
            Tok::Equals => "=",
            Tok::GreaterThan => ">",
            Tok::In => "in",
            Tok::LessThan => "<",
            Tok::NotEquals => "!=",
            Tok::NotIn => "notin",
            Tok::OpenPar => "(",
        }
    }

    /// Where values are expected, `in` and `notin` are plain words.
    fn into_value(self) -> Tok {
        match self {
            Tok::In => Tok::Identifier("in".into()),
            Tok::NotIn => Tok::Identifier("notin".into()),
            other => other,
        }
    }
}

/// The fixed tokens by their text.
fn keyword(text: &str) -> Option<Tok> {
    Some(match text {
        ")" => Tok::ClosedPar,
        "," => Tok::Comma,
        "!" => Tok::DoesNotExist,
        "==" => Tok::DoubleEquals,
        "=" => Tok::Equals,
        ">" => Tok::GreaterThan,
        "in" => Tok::In,
        "<" => Tok::LessThan,
        "!=" => Tok::NotEquals,
        "notin" => Tok::NotIn,
        "(" => Tok::OpenPar,
        _ => return None,
    })
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// Splits `s` into tokens, the last one `End`.
fn lex(s: &str) -> Vec<Tok> {
    let bytes = s.as_bytes();
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        while pos < bytes.len() && is_space(bytes[pos]) {
            pos += 1;
        }
        if pos >= bytes.len() {
            out.push(Tok::End);
            return out;
        }
        let start = pos;
        if is_special(bytes[pos]) {
            // The longest run of symbols that is still a token.
            let mut last: Option<(Tok, usize)> = None;
            while pos < bytes.len() && is_special(bytes[pos]) {
                pos += 1;
                match keyword(&s[start..pos]) {
                    Some(t) => last = Some((t, pos)),
                    None if last.is_some() => {
                        pos -= 1;
                        break;
                    }
                    None => {}
                }
            }
            match last {
                Some((t, end)) => {
                    pos = end;
                    out.push(t);
                }
                None => out.push(Tok::Error(format!(
                    "error expected: keyword found '{}'",
                    &s[start..pos]
                ))),
            }
        } else {
            while pos < bytes.len() && !is_special(bytes[pos]) && !is_space(bytes[pos]) {
                pos += 1;
            }
            let word = &s[start..pos];
            out.push(keyword(word).unwrap_or_else(|| Tok::Identifier(word.to_string())));
        }
    }
}

/// A selector operator, named as Go's `selection.Operator` values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Exists,
    DoesNotExist,
    In,
    NotIn,
    Equals,
    DoubleEquals,
    NotEquals,
    GreaterThan,
    LessThan,
}

/// One parsed requirement: key, operator, values sorted and distinct.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

impl Requirement {
    /// apimachinery's `Requirement.Matches`: a missing key satisfies only the negations,
    /// and `>`/`<` need both sides to be integers.
    fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let value = labels
            .and_then(|l| l.get(&self.key))
            .and_then(Value::as_str);
        let listed = |v: &str| self.values.iter().any(|x| x == v);
        match self.op {
            Op::In | Op::Equals | Op::DoubleEquals => value.is_some_and(listed),
            Op::NotIn | Op::NotEquals => value.is_none_or(|v| !listed(v)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::GreaterThan | Op::LessThan => {
                let (Some(have), [want]) = (value, self.values.as_slice()) else {
                    return false;
                };
                match (have.parse::<i64>(), want.parse::<i64>()) {
                    (Ok(have), Ok(want)) if self.op == Op::GreaterThan => have > want,
                    (Ok(have), Ok(want)) => have < want,
                    _ => false,
                }
            }
        }
    }
}

/// A parsed selector (apimachinery's `labels.Parse`): every requirement must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector(Vec<Requirement>);

impl Selector {
    /// Parses `text`; the error is the parser's own text.
    pub fn parse(text: &str) -> Result<Self, String> {
        Parser {
            toks: lex(text),
            pos: 0,
        }
        .parse()
        .map(Selector)
    }

    /// Whether `labels` (None: the object has none) satisfy every requirement.
    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        self.0.iter().all(|r| r.matches(labels))
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Tok {
        self.toks[self.pos.min(self.toks.len() - 1)]
            .clone()
            .into_value()
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos.min(self.toks.len() - 1)].clone();
        self.pos += 1;
        t
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, String> {
        let mut reqs = Vec::new();
        loop {
            match self.peek() {
                Tok::Identifier(_) | Tok::DoesNotExist => {
                    let r = self
                        .requirement()
                        .map_err(|e| format!("unable to parse requirement: {e}"))?;
                    reqs.push(r);
                    match self.next().into_value() {
                        Tok::End => return Ok(reqs),
                        Tok::Comma => {
                            let t = self.peek();
                            if !matches!(t, Tok::Identifier(_) | Tok::DoesNotExist) {
                                return Err(format!(
                                    "found '{}', expected: identifier after ','",
                                    t.literal()
                                ));
                            }
                        }
                        t => {
                            return Err(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                t.literal()
                            ))
                        }
                    }
                }
                Tok::End => return Ok(reqs),
                t => {
                    return Err(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        t.literal()
                    ))
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let mut t = self.next().into_value();
        let negated = t == Tok::DoesNotExist;
        if negated {
            t = self.next().into_value();
        }
        let Tok::Identifier(key) = t else {
            return Err(format!("found '{}', expected: identifier", t.literal()));
        };
        let errs = qualified_name_errors(&key);
        if !errs.is_empty() {
            return Err(format!(
                "<nil>: Invalid value: {}: {}",
                go_quote(&key),
                errs.join("; ")
            ));
        }
        let unary = matches!(self.peek(), Tok::End | Tok::Comma);
        if negated || unary {
            let op = if negated {
                Op::DoesNotExist
            } else {
                Op::Exists
            };
            return Ok(Requirement {
                key,
                op,
                values: Vec::new(),
            });
        }
        let op = match self.next() {
            Tok::In => Op::In,
            Tok::Equals => Op::Equals,
            Tok::DoubleEquals => Op::DoubleEquals,
            Tok::GreaterThan => Op::GreaterThan,
            Tok::LessThan => Op::LessThan,
            Tok::NotIn => Op::NotIn,
            Tok::NotEquals => Op::NotEquals,
            t => {
                return Err(format!(
                    "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    t.literal()
                ))
            }
        };
        let mut values = if matches!(op, Op::In | Op::NotIn) {
            self.value_set()?
        } else {
            vec![self.exact_value()?]
        };
        values.sort();
        values.dedup();
        check_values(&key, op, &values)?;
        Ok(Requirement { key, op, values })
    }

    /// `( a, b, … )`; empty entries stand for the empty value.
    fn value_set(&mut self) -> Result<Vec<String>, String> {
        let t = self.next().into_value();
        if t != Tok::OpenPar {
            return Err(format!("found '{}' expected: '('", t.literal()));
        }
        let first = self.peek();
        match first {
            Tok::Identifier(_) | Tok::Comma => {
                let values = self.identifiers()?;
                if self.next().into_value() != Tok::ClosedPar {
                    return Err(format!("found '{}', expected: ')'", first.literal()));
                }
                Ok(values)
            }
            Tok::ClosedPar => {
                self.next();
                Ok(vec![String::new()])
            }
            t => Err(format!(
                "found '{}', expected: ',', ')' or identifier",
                t.literal()
            )),
        }
    }

    fn identifiers(&mut self) -> Result<Vec<String>, String> {
        let mut values: Vec<String> = Vec::new();
        loop {
            match self.next().into_value() {
                Tok::Identifier(v) => {
                    values.push(v);
                    match self.peek() {
                        Tok::Comma => continue,
                        Tok::ClosedPar => return Ok(values),
                        t => return Err(format!("found '{}', expected: ',' or ')'", t.literal())),
                    }
                }
                Tok::Comma => {
                    if values.is_empty() {
                        values.push(String::new());
                    }
                    match self.peek() {
                        Tok::ClosedPar => {
                            values.push(String::new());
                            return Ok(values);
                        }
                        Tok::Comma => values.push(String::new()),
                        _ => {}
                    }
                }
                t => {
                    return Err(format!(
                        "found '{}', expected: ',', or identifier",
                        t.literal()
                    ))
                }
            }
        }
    }

    /// The one value after `=`, `==`, `!=`, `>` or `<` (empty when none is written).
    fn exact_value(&mut self) -> Result<String, String> {
        if matches!(self.peek(), Tok::End | Tok::Comma) {
            return Ok(String::new());
        }
        match self.next().into_value() {
            Tok::Identifier(v) => Ok(v),
            t => Err(format!("found '{}', expected: identifier", t.literal())),
        }
    }
}

/// Upstream's `NewRequirement` checks of the values, its errors aggregated as Go does.
fn check_values(key: &str, op: Op, values: &[String]) -> Result<(), String> {
    let mut errs: Vec<String> = Vec::new();
    if matches!(op, Op::GreaterThan | Op::LessThan) {
        for (i, v) in values.iter().enumerate() {
            if v.parse::<i64>().is_err() {
                errs.push(format!(
                    "values[{i}]: Invalid value: {}: for 'Gt', 'Lt' operators, the value must be an integer",
                    go_quote(v)
                ));
            }
        }
    }
    for (i, v) in values.iter().enumerate() {
        let why = label_value_errors(v);
        if !why.is_empty() {
            errs.push(format!(
                "values[{i}][{key}]: Invalid value: {}: {}",
                go_quote(v),
                why.join("; ")
            ));
        }
    }
    errs.dedup();
    match errs.len() {
        0 => Ok(()),
        1 => Err(errs.remove(0)),
        _ => Err(format!("[{}]", errs.join(", "))),
    }
}

/// `selector` as a LabelSelector object (equalities as `matchLabels`, the rest as
/// `matchExpressions`, by key), or upstream's error text.
pub fn parse(selector: &str) -> Result<Value, String> {
    let Selector(mut reqs) = Selector::parse(selector)
        .map_err(|e| format!("couldn't parse the selector string \"{selector}\": {e}"))?;
    reqs.sort_by(|a, b| a.key.cmp(&b.key));
    let mut labels = Map::new();
    let mut expressions = Vec::new();
    for r in reqs {
        let operator = match r.op {
            Op::Equals | Op::DoubleEquals => {
                labels.insert(r.key, json!(r.values.first().cloned().unwrap_or_default()));
                continue;
            }
            Op::In => "In",
            Op::NotIn => "NotIn",
            Op::Exists => "Exists",
            Op::DoesNotExist => "DoesNotExist",
            Op::GreaterThan => return Err("\"gt\" isn't supported in label selectors".into()),
            Op::LessThan => return Err("\"lt\" isn't supported in label selectors".into()),
            Op::NotEquals => return Err("\"!=\" is not a valid label selector operator".into()),
        };
        let mut e = json!({"key": r.key, "operator": operator});
        if !r.values.is_empty() {
            e["values"] = json!(r.values);
        }
        expressions.push(e);
    }
    let mut out = Map::new();
    if !labels.is_empty() {
        out.insert("matchLabels".into(), Value::Object(labels));
    }
    if !expressions.is_empty() {
        out.insert("matchExpressions".into(), json!(expressions));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equalities_become_labels_and_the_rest_expressions_by_key() {
        let s = parse("z=1,app==web,tier in (b,a,b),!old,ready,x notin ()").unwrap();
        assert_eq!(s["matchLabels"], json!({"app": "web", "z": "1"}));
        assert_eq!(
            s["matchExpressions"],
            json!([
                {"key": "old", "operator": "DoesNotExist"},
                {"key": "ready", "operator": "Exists"},
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "x", "operator": "NotIn", "values": [""]},
            ])
        );
        assert_eq!(parse(" ").unwrap(), json!({}));
        assert_eq!(
            parse("a in (x,,y)").unwrap()["matchExpressions"][0]["values"],
            json!(["", "x", "y"])
        );
        assert_eq!(
            parse("in=notin").unwrap()["matchLabels"],
            json!({"in": "notin"})
        );
    }

    #[test]
    fn syntax_errors_name_the_token_as_go_does() {
        let err = |s: &str| parse(s).unwrap_err();
        assert_eq!(
            err("a in b"),
            "couldn't parse the selector string \"a in b\": unable to parse requirement: found 'b' expected: '('"
        );
        assert_eq!(
            err("a=b=c"),
            "couldn't parse the selector string \"a=b=c\": found '=', expected: ',' or 'end of string'"
        );
        assert_eq!(
            err("=a"),
            "couldn't parse the selector string \"=a\": found '=', expected: !, identifier, or 'end of string'"
        );
        assert_eq!(
            err("a b"),
            "couldn't parse the selector string \"a b\": unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(
            err("x,"),
            "couldn't parse the selector string \"x,\": found '', expected: identifier after ','"
        );
        assert_eq!(err("a!=b"), "\"!=\" is not a valid label selector operator");
        assert_eq!(err("a>1"), "\"gt\" isn't supported in label selectors");
    }

    #[test]
    fn keys_and_values_are_checked() {
        assert!(parse("a_=b")
            .unwrap_err()
            .contains(": <nil>: Invalid value: \"a_\": name part must consist"));
        assert!(parse("a=b_")
            .unwrap_err()
            .contains(": values[0][a]: Invalid value: \"b_\": a valid label"));
        assert!(parse("a/b/c=d")
            .unwrap_err()
            .contains("a qualified name must consist"));
        assert!(parse("Ex.com/a=b")
            .unwrap_err()
            .contains("prefix part a lowercase RFC 1123"));
    }

    #[test]
    fn selectors_match_labels_as_apimachinery_does() {
        let labels = json!({"app": "web", "n": "5", "odd": "x"});
        let m = |text: &str| Selector::parse(text).unwrap().matches(labels.as_object());
        assert!(m("app in (db,web),n>4,n<6,!gone,app"));
        assert!(m("gone notin (a),gone!=a"));
        assert!(!m("odd>1"), "a label that is not a number never compares");
        assert!(!m("gone<9"), "nor does a missing one");
        assert!(!m("app in ()"), "() holds only the empty value");
        assert!(Selector::parse("n>x").is_err());
        assert!(Selector::parse("").unwrap().matches(None));
    }
}
