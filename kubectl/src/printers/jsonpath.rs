//! The JSONPath template language kubectl uses for `-o jsonpath=…`, `custom-columns` and
//! `--sort-by`: text with `{…}` actions; actions are paths (`.a.b`, `[0]`, `[*]`, `[1:3]`,
//! `..name`, `['key']`, `[?(@.x=="y")]`), string literals, and `range …`/`end` blocks.
//!
//! As in `kubectl get`, missing keys print nothing instead of failing, unless the template
//! was built with [`Template::allowing_missing_keys`]`(false)`
//! (`--allow-missing-template-keys=false`): then a field no value has, or an index past
//! the end, fails with client-go's words.

use serde_json::Value;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    /// Several space-separated paths or literals in one `{}` (printed joined by spaces).
    List(Vec<Expr>),
    Range(Path, Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Path(Path),
    Literal(String),
}

/// A parsed path: steps applied from the root (`$`) or the current element.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    from_root: bool,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Wildcard,
    Recursive(Option<String>),
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    Filter(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    left: Path,
    op: Option<(String, Operand)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Path(Path),
    Value(Value),
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
    /// The template as given, for the error's debugging dump.
    raw: String,
    allow_missing_keys: bool,
}

/// Template parse errors, in upstream's words where it has them.
pub type ParseError = String;

impl Template {
    /// Parses a template such as `{range .items[*]}{.metadata.name}{"\n"}{end}`.
    pub fn parse(src: &str) -> Result<Self, ParseError> {
        let mut actions: Vec<Tok> = Vec::new();
        let mut rest = src;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(i) => {
                    if i > 0 {
                        actions.push(Tok::Text(rest[..i].to_string()));
                    }
                    let end = find_close(&rest[i + 1..])
                        .ok_or_else(|| format!("unclosed action in template {src:?}"))?;
                    actions.push(Tok::Action(rest[i + 1..i + 1 + end].trim().to_string()));
                    rest = &rest[i + 1 + end + 1..];
                }
                None => {
                    actions.push(Tok::Text(rest.to_string()));
                    rest = "";
                }
            }
        }
        let mut iter = actions.into_iter();
        let nodes = build(&mut iter, false)?;
        Ok(Template {
            nodes,
            raw: src.to_string(),
            allow_missing_keys: true,
        })
    }

    /// The template failing on missing keys unless `allow`.
    pub fn allowing_missing_keys(mut self, allow: bool) -> Self {
        self.allow_missing_keys = allow;
        self
    }

    /// Renders the template against `data`; a failure is worded as kubectl's JSONPath
    /// printer words it, with the template and the object (in Go's `%#v`) for debugging.
    pub fn execute(&self, data: &Value) -> Result<String, String> {
        let mut out = String::new();
        let strict = !self.allow_missing_keys;
        render(&self.nodes, data, data, strict, &mut out).map_err(|e| {
            format!(
                "error executing jsonpath {}: Error executing template: {e}. Printing more information for debugging the template:\n\ttemplate was:\n\t\t{}\n\tobject given to jsonpath engine was:\n\t\t{}\n\n",
                super::go_template::value::go_quote(&self.raw),
                self.raw,
                go_syntax(data)
            )
        })?;
        Ok(out)
    }
}

enum Tok {
    Text(String),
    Action(String),
}

fn find_close(s: &str) -> Option<usize> {
    let mut in_str: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                in_str = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => in_str = Some(c),
            '}' => return Some(i),
            _ => {}
        }
    }
    None
}

fn build(iter: &mut impl Iterator<Item = Tok>, in_range: bool) -> Result<Vec<Node>, ParseError> {
    let mut nodes = Vec::new();
    while let Some(tok) = iter.next() {
        match tok {
            Tok::Text(t) => nodes.push(Node::Text(t)),
            Tok::Action(a) if a == "end" => {
                if in_range {
                    return Ok(nodes);
                }
                return Err("not in range, nothing to end".to_string());
            }
            Tok::Action(a) => {
                if let Some(p) = a.strip_prefix("range ") {
                    let path = parse_path(p.trim())?;
                    let body = build(iter, true)?;
                    nodes.push(Node::Range(path, body));
                } else {
                    nodes.push(Node::List(parse_exprs(&a)?));
                }
            }
        }
    }
    if in_range {
        return Err("unclosed range".to_string());
    }
    Ok(nodes)
}

fn parse_exprs(a: &str) -> Result<Vec<Expr>, ParseError> {
    let mut out = Vec::new();
    let mut rest = a.trim();
    while !rest.is_empty() {
        if rest.starts_with('"') || rest.starts_with('\'') {
            let (lit, len) = parse_string(rest)?;
            out.push(Expr::Literal(lit));
            rest = rest[len..].trim_start();
        } else {
            let end = path_end(rest);
            out.push(Expr::Path(parse_path(&rest[..end])?));
            rest = rest[end..].trim_start();
        }
    }
    Ok(out)
}

/// Length of a path at the start of `s` (up to a space outside brackets).
fn path_end(s: &str) -> usize {
    let mut depth = 0;
    let mut in_str: Option<char> = None;
    for (i, c) in s.char_indices() {
        if let Some(q) = in_str {
            if c == q {
                in_str = None;
            }
            continue;
        }
        match c {
            '\'' | '"' if depth > 0 => in_str = Some(c),
            '[' => depth += 1,
            ']' => depth -= 1,
            ' ' if depth == 0 => return i,
            _ => {}
        }
    }
    s.len()
}

fn parse_string(s: &str) -> Result<(String, usize), ParseError> {
    let q = s.chars().next().unwrap_or('"');
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, o)) => out.push(o),
                None => break,
            }
        } else if c == q {
            return Ok((out, i + 1));
        } else {
            out.push(c);
        }
    }
    Err(format!("unterminated quoted string in {s}"))
}

/// Parses one path expression (`.items[*].metadata.name`, `$.x`, `@.y`, `items`).
pub fn parse_path(src: &str) -> Result<Path, ParseError> {
    let mut s = src.trim();
    let mut from_root = false;
    if let Some(r) = s.strip_prefix('$') {
        from_root = true;
        s = r;
    } else if let Some(r) = s.strip_prefix('@') {
        s = r;
    }
    let mut steps = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    // A bare leading name (`metadata.name`) is a field, as upstream's relaxed syntax allows.
    if i < b.len() && b[i] != b'.' && b[i] != b'[' {
        let end = name_end(s, i);
        steps.push(Step::Field(s[i..end].to_string()));
        i = end;
    }
    while i < b.len() {
        match b[i] {
            b'.' if b.get(i + 1) == Some(&b'.') => {
                i += 2;
                let end = name_end(s, i);
                let name = &s[i..end];
                steps.push(Step::Recursive(
                    (!name.is_empty() && name != "*").then(|| name.to_string()),
                ));
                i = end;
            }
            b'.' => {
                i += 1;
                let end = name_end(s, i);
                let name = &s[i..end];
                match name {
                    "" => {}
                    "*" => steps.push(Step::Wildcard),
                    _ => steps.push(Step::Field(name.to_string())),
                }
                i = end;
            }
            b'[' => {
                let close =
                    bracket_close(s, i).ok_or_else(|| format!("unterminated array in {src}"))?;
                let inner = s[i + 1..close].trim();
                steps.push(parse_bracket(inner)?);
                i = close + 1;
            }
            _ => return Err(format!("unrecognized character in action: {}", &s[i..])),
        }
    }
    Ok(Path { from_root, steps })
}

fn name_end(s: &str, from: usize) -> usize {
    s[from..]
        .find(['.', '['])
        .map(|p| p + from)
        .unwrap_or(s.len())
}

fn bracket_close(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut in_str: Option<char> = None;
    for (i, c) in s[open..].char_indices() {
        if let Some(q) = in_str {
            if c == q {
                in_str = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => in_str = Some(c),
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_bracket(inner: &str) -> Result<Step, ParseError> {
    if inner == "*" {
        return Ok(Step::Wildcard);
    }
    if let Some(f) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
        return Ok(Step::Filter(Box::new(parse_filter(f.trim())?)));
    }
    if inner.starts_with('\'') || inner.starts_with('"') {
        let (key, _) = parse_string(inner)?;
        return Ok(Step::Field(key));
    }
    if let Some((a, b)) = inner.split_once(':') {
        let num = |x: &str| -> Result<Option<i64>, ParseError> {
            let x = x.trim();
            if x.is_empty() {
                Ok(None)
            } else {
                x.parse()
                    .map(Some)
                    .map_err(|_| format!("invalid array index {x}"))
            }
        };
        let b = b.split(':').next().unwrap_or("");
        return Ok(Step::Slice(num(a)?, num(b)?));
    }
    inner
        .parse()
        .map(Step::Index)
        .map_err(|_| format!("invalid array index {inner}"))
}

fn parse_filter(f: &str) -> Result<Filter, ParseError> {
    for op in ["==", "!=", "<=", ">=", "<", ">"] {
        if let Some((l, r)) = f.split_once(op) {
            let r = r.trim();
            let operand = if r.starts_with('\'') || r.starts_with('"') {
                Operand::Value(Value::String(parse_string(r)?.0))
            } else if r.starts_with('@') || r.starts_with('$') {
                Operand::Path(parse_path(r)?)
            } else if let Ok(n) = r.parse::<f64>() {
                Operand::Value(serde_json::json!(n))
            } else {
                Operand::Value(Value::String(r.to_string()))
            };
            return Ok(Filter {
                left: parse_path(l.trim())?,
                op: Some((op.to_string(), operand)),
            });
        }
    }
    Ok(Filter {
        left: parse_path(f)?,
        op: None,
    })
}

impl Path {
    /// All values the path selects, in document order.
    pub fn eval<'a>(&self, root: &'a Value, current: &'a Value) -> Vec<&'a Value> {
        self.eval_checked(root, current, false).unwrap_or_default()
    }

    /// [`Path::eval`], failing when `strict` as client-go does without missing keys
    /// allowed: a field step that selects nothing, or an index past an array's end.
    fn eval_checked<'a>(
        &self,
        root: &'a Value,
        current: &'a Value,
        strict: bool,
    ) -> Result<Vec<&'a Value>, String> {
        let start = if self.from_root { root } else { current };
        let mut cur = vec![start];
        for step in &self.steps {
            let mut next = Vec::new();
            for v in &cur {
                if strict {
                    check_index(step, v)?;
                }
                apply(step, v, root, &mut next);
            }
            if strict && next.is_empty() {
                if let Step::Field(name) = step {
                    return Err(format!("{name} is not found"));
                }
            }
            cur = next;
        }
        Ok(cur)
    }
}

/// client-go's refusal of an index outside an array (only without missing keys allowed).
fn check_index(step: &Step, v: &Value) -> Result<(), String> {
    if let (Step::Index(i), Value::Array(a)) = (step, v) {
        let len = a.len() as i64;
        let idx = if *i < 0 { len + i } else { *i };
        if idx < 0 || idx >= len {
            return Err(format!(
                "array index out of bounds: index {i}, length {len}"
            ));
        }
    }
    Ok(())
}

/// A JSON value as Go's `%#v` prints the `map[string]interface{}` kubectl decoded it into:
/// `map[string]interface {}{"k":"v", …}` with sorted keys, `[]interface {}{…}`, `int64`
/// for whole numbers and `interface {}(nil)` for null.
pub fn go_syntax(v: &Value) -> String {
    use super::go_template::value::{go_float, go_quote};
    match v {
        Value::Null => "interface {}(nil)".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => go_float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => go_quote(s),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(go_syntax).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", go_quote(k), go_syntax(&m[k])))
                .collect();
            format!("map[string]interface {{}}{{{}}}", items.join(", "))
        }
    }
}

fn apply<'a>(step: &Step, v: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    match step {
        Step::Field(name) => {
            if let Some(x) = v.get(name.as_str()) {
                out.push(x);
            }
        }
        Step::Wildcard => match v {
            Value::Array(a) => out.extend(a.iter()),
            Value::Object(m) => out.extend(m.values()),
            _ => {}
        },
        Step::Recursive(name) => recurse(v, name.as_deref(), out),
        Step::Index(i) => {
            if let Value::Array(a) = v {
                let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                if idx >= 0 {
                    if let Some(x) = a.get(idx as usize) {
                        out.push(x);
                    }
                }
            }
        }
        Step::Slice(a, b) => {
            if let Value::Array(arr) = v {
                let len = arr.len() as i64;
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let start = norm(a.unwrap_or(0));
                let end = norm(b.unwrap_or(len));
                if start < end {
                    out.extend(arr[start as usize..end as usize].iter());
                }
            }
        }
        Step::Filter(f) => {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for item in items {
                if filter_matches(f, item, root) {
                    out.push(item);
                }
            }
        }
    }
}

fn recurse<'a>(v: &'a Value, name: Option<&str>, out: &mut Vec<&'a Value>) {
    match name {
        Some(n) => {
            if let Some(x) = v.get(n) {
                out.push(x);
            }
        }
        None => out.push(v),
    }
    match v {
        Value::Object(m) => m.values().for_each(|c| recurse(c, name, out)),
        Value::Array(a) => a.iter().for_each(|c| recurse(c, name, out)),
        _ => {}
    }
}

fn filter_matches(f: &Filter, item: &Value, root: &Value) -> bool {
    let left = f.left.eval(root, item);
    let Some((op, operand)) = &f.op else {
        return !left.is_empty();
    };
    let right: Vec<Value> = match operand {
        Operand::Value(v) => vec![v.clone()],
        Operand::Path(p) => p.eval(root, item).into_iter().cloned().collect(),
    };
    left.iter().any(|l| {
        right.iter().any(|r| {
            let ord = compare(l, r);
            match op.as_str() {
                "==" => ord == Some(std::cmp::Ordering::Equal),
                "!=" => ord != Some(std::cmp::Ordering::Equal),
                "<" => ord == Some(std::cmp::Ordering::Less),
                ">" => ord == Some(std::cmp::Ordering::Greater),
                "<=" => matches!(
                    ord,
                    Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
                ),
                ">=" => matches!(
                    ord,
                    Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
                ),
                _ => false,
            }
        })
    })
}

/// Orders two JSON values: numbers numerically, strings lexically, else by their text.
pub fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(std::cmp::Ordering::Equal),
        _ => Some(to_text(a).cmp(&to_text(b))),
    }
}

/// How jsonpath prints one value: strings raw, everything else as compact JSON.
pub fn to_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => crate::printers::json::go_escape(&other.to_string()),
    }
}

fn render(
    nodes: &[Node],
    root: &Value,
    current: &Value,
    strict: bool,
    out: &mut String,
) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::List(exprs) => {
                let mut parts = Vec::new();
                for e in exprs {
                    match e {
                        Expr::Literal(l) => parts.push(l.clone()),
                        Expr::Path(p) => {
                            for v in p.eval_checked(root, current, strict)? {
                                parts.push(to_text(v));
                            }
                        }
                    }
                }
                out.push_str(&parts.join(" "));
            }
            Node::Range(path, body) => {
                for v in path.eval_checked(root, current, strict)? {
                    let items: Vec<&Value> = match v {
                        Value::Array(a) => a.iter().collect(),
                        other => vec![other],
                    };
                    for item in items {
                        render(body, root, item, strict, out)?;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(t: &str, v: &Value) -> String {
        Template::parse(t).unwrap().execute(v).unwrap()
    }

    fn list() -> Value {
        json!({"kind": "List", "items": [
            {"metadata": {"name": "a", "labels": {"app": "web"}}, "spec": {"replicas": 2,
              "containers": [{"name": "c1", "image": "i1"}, {"name": "c2", "image": "i2"}]}},
            {"metadata": {"name": "b"}, "spec": {"replicas": 5, "containers": [{"name": "c3", "image": "i3"}]}}
        ]})
    }

    #[test]
    fn paths_wildcards_and_indexes() {
        let v = list();
        assert_eq!(run("{.items[*].metadata.name}", &v), "a b");
        assert_eq!(run("{.items[0].spec.containers[-1].image}", &v), "i2");
        assert_eq!(run("{.items[1:].metadata.name}", &v), "b");
        assert_eq!(run("{..image}", &v), "i1 i2 i3");
        assert_eq!(run("{.items[0].metadata.labels}", &v), "{\"app\":\"web\"}");
        assert_eq!(run("{.items[0].metadata['name']}", &v), "a");
        assert_eq!(run("x={.missing.key}.", &v), "x=.");
    }

    #[test]
    fn ranges_literals_and_filters() {
        let v = list();
        assert_eq!(
            run(
                "{range .items[*]}{.metadata.name}{\"\\t\"}{.spec.replicas}{\"\\n\"}{end}",
                &v
            ),
            "a\t2\nb\t5\n"
        );
        assert_eq!(run("{.items[?(@.spec.replicas>3)].metadata.name}", &v), "b");
        assert_eq!(
            run(
                "{.items[?(@.metadata.name==\"a\")].spec.containers[*].name}",
                &v
            ),
            "c1 c2"
        );
        assert_eq!(run("{.items[?(@.metadata.labels)].metadata.name}", &v), "a");
    }

    #[test]
    fn errors_are_reported() {
        assert!(Template::parse("{.a").is_err());
        assert!(Template::parse("{end}").is_err());
        assert!(Template::parse("{range .a}{.b}").is_err());
        assert!(Template::parse("{.a[x]}").is_err());
    }

    fn strict(t: &str, v: &Value) -> Result<String, String> {
        Template::parse(t)
            .unwrap()
            .allowing_missing_keys(false)
            .execute(v)
    }

    #[test]
    fn without_missing_keys_allowed_what_is_missing_fails_in_client_gos_words() {
        let v = json!({"a": {"b": [1, 2]}, "s": "x"});
        assert_eq!(strict("{.a.b[1]}", &v).unwrap(), "2");
        assert_eq!(run("{.nope}", &v), "");
        let e = strict("{.nope}", &v).unwrap_err();
        assert!(
            e.starts_with("error executing jsonpath \"{.nope}\": Error executing template: nope is not found. Printing more information for debugging the template:\n\ttemplate was:\n\t\t{.nope}\n\tobject given to jsonpath engine was:\n\t\tmap[string]interface {}{\"a\":map[string]interface {}{\"b\":[]interface {}{1, 2}}, \"s\":\"x\"}\n\n"),
            "{e}"
        );
        let e = strict("{.a.b[5]}", &v).unwrap_err();
        assert!(
            e.contains("Error executing template: array index out of bounds: index 5, length 2."),
            "{e}"
        );
        let e = strict("{range .a.b[*]}{.x}{end}", &v).unwrap_err();
        assert!(e.contains("x is not found"), "{e}");
    }

    #[test]
    fn go_syntax_is_gos_percent_sharp_v() {
        assert_eq!(
            go_syntax(&json!({"n": null, "f": 1.5, "t": true, "q": "a\"b"})),
            "map[string]interface {}{\"f\":1.5, \"n\":interface {}(nil), \"q\":\"a\\\"b\", \"t\":true}"
        );
    }
}
