//! The functions templates may call: Go's builtins (`and or not len index slice print printf
//! println eq ne lt le gt ge`) and kubectl's `base64decode` and `exists`.

use std::cmp::Ordering;

use base64::Engine;

use super::value::{go_float, go_quote, Val};

/// Calls a (non-short-circuit) function; the error text follows `error calling NAME: `.
pub fn call(name: &str, args: Vec<Val>) -> Result<Val, String> {
    match name {
        "not" => {
            let [a] = exact::<1>(args)?;
            Ok(Val::Bool(!a.truth()))
        }
        "len" => {
            let [a] = exact::<1>(args)?;
            match a {
                Val::Str(s) => Ok(Val::Int(s.len() as i64, true)),
                Val::Array(v) => Ok(Val::Int(v.len() as i64, true)),
                Val::Map(m) => Ok(Val::Int(m.len() as i64, true)),
                Val::Missing | Val::Nil => {
                    Err("reflect: call of reflect.Value.Type on zero Value".into())
                }
                other => Err(format!("len of type {}", other.type_name())),
            }
        }
        "index" => {
            let mut it = args.into_iter();
            let mut item = it
                .next()
                .ok_or("wrong number of args for index: want at least 1 got 0")?;
            for idx in it {
                item = index_one(item, idx)?;
            }
            Ok(item)
        }
        "slice" => slice(args),
        "print" => Ok(Val::Str(sprint(&args))),
        "println" => {
            let parts: Vec<String> = args.iter().map(Val::to_go_string).collect();
            Ok(Val::Str(format!("{}\n", parts.join(" "))))
        }
        "printf" => {
            let mut it = args.into_iter();
            let Some(Val::Str(f)) = it.next() else {
                return Err("wrong type for value; expected string".into());
            };
            Ok(Val::Str(sprintf(&f, &it.collect::<Vec<_>>())))
        }
        "eq" => {
            let mut it = args.into_iter();
            let a = it.next().ok_or("missing argument for comparison")?;
            let rest: Vec<Val> = it.collect();
            if rest.is_empty() {
                return Err("missing argument for comparison".into());
            }
            for b in rest {
                if equal(&a, &b)? {
                    return Ok(Val::Bool(true));
                }
            }
            Ok(Val::Bool(false))
        }
        "ne" => {
            let [a, b] = exact::<2>(args)?;
            Ok(Val::Bool(!equal(&a, &b)?))
        }
        "lt" | "le" | "gt" | "ge" => {
            let [a, b] = exact::<2>(args)?;
            let ord = less(&a, &b)?;
            Ok(Val::Bool(match name {
                "lt" => ord == Ordering::Less,
                "le" => ord != Ordering::Greater,
                "gt" => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }))
        }
        "html" => Ok(Val::Str(html_escape(&sprint(&args)))),
        "urlquery" => Ok(Val::Str(
            form_urlencoded::byte_serialize(sprint(&args).as_bytes()).collect(),
        )),
        "base64decode" => {
            let [a] = exact::<1>(args)?;
            let s = match a {
                Val::Str(s) => s,
                Val::Missing | Val::Nil => return Err("invalid value; expected string".into()),
                other => {
                    return Err(format!(
                        "wrong type for value; expected string; got {}",
                        other.type_name()
                    ))
                }
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map_err(|e| format!("base64 decode failed: {e}"))?;
            Ok(Val::Str(String::from_utf8_lossy(&bytes).into_owned()))
        }
        "exists" => {
            let mut it = args.into_iter();
            let mut item = it.next().unwrap_or(Val::Nil);
            for idx in it {
                // A missing map key is no value here, not `index`'s nil.
                if let (Val::Map(m), Val::Str(k)) = (&item, &idx) {
                    if !m.contains_key(k) {
                        return Ok(Val::Bool(false));
                    }
                }
                match index_one(item, idx) {
                    Ok(Val::Missing) | Err(_) => return Ok(Val::Bool(false)),
                    Ok(v) => item = v,
                }
            }
            Ok(Val::Bool(!matches!(item, Val::Missing)))
        }
        other => Err(format!("function {other:?} not defined")),
    }
}

/// Whether a failure is about an argument's type (Go finds those before calling, so they
/// carry no `error calling NAME:` prefix).
pub fn is_argument_error(e: &str) -> bool {
    e.starts_with("invalid value; expected") || e.starts_with("wrong type for value")
}

/// Go's `template.HTMLEscapeString`.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn exact<const N: usize>(args: Vec<Val>) -> Result<[Val; N], String> {
    let n = args.len();
    args.try_into()
        .map_err(|_| format!("wrong number of args: want {N} got {n}"))
}

fn index_one(item: Val, idx: Val) -> Result<Val, String> {
    match (item, idx) {
        (Val::Array(a), Val::Int(i, _)) => {
            if i < 0 || i as usize >= a.len() {
                Err(format!("index out of range: {i}"))
            } else {
                Ok(Val::from_json(&a[i as usize]))
            }
        }
        (Val::Str(s), Val::Int(i, _)) => s
            .as_bytes()
            .get(i as usize)
            .filter(|_| i >= 0)
            .map(|b| Val::Int(*b as i64, false))
            .ok_or_else(|| format!("index out of range: {i}")),
        // A missing key gives the element type's zero value: a nil interface.
        (Val::Map(m), Val::Str(k)) => Ok(m.get(&k).map_or(Val::Nil, Val::from_json)),
        (Val::Map(_), other) => Err(format!(
            "value has type {}; should be string",
            other.type_name()
        )),
        (Val::Array(_), other) => Err(format!(
            "cannot index slice/array with type {}",
            other.type_name()
        )),
        (Val::Missing, _) => Err("index of untyped nil".into()),
        // A nil interface, e.g. what `index` gave for a missing key.
        (Val::Nil, _) => Err("index of nil pointer".into()),
        (other, _) => Err(format!("can't index item of type {}", other.type_name())),
    }
}

fn slice(args: Vec<Val>) -> Result<Val, String> {
    let mut it = args.into_iter();
    let item = it
        .next()
        .ok_or("wrong number of args for slice: want at least 1 got 0")?;
    let idx: Vec<i64> = it
        .map(|v| match v {
            Val::Int(i, _) => Ok(i),
            other => Err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            )),
        })
        .collect::<Result<_, _>>()?;
    let len = match &item {
        Val::Str(s) => s.len(),
        Val::Array(a) => a.len(),
        Val::Missing | Val::Nil => return Err("slice of untyped nil".into()),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    } as i64;
    let lo = idx.first().copied().unwrap_or(0);
    let hi = idx.get(1).copied().unwrap_or(len);
    if lo < 0 || hi < lo || hi > len {
        return Err(format!(
            "index out of range: {}",
            if lo < 0 || lo > len { lo } else { hi }
        ));
    }
    Ok(match item {
        Val::Str(s) => Val::Str(s.get(lo as usize..hi as usize).unwrap_or("").to_string()),
        Val::Array(a) => Val::Array(a[lo as usize..hi as usize].to_vec()),
        _ => Val::Nil,
    })
}

/// The comparison class of a value (Go's `basicKind`).
#[derive(PartialEq)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
    Other,
}

fn kind(v: &Val) -> Kind {
    match v {
        Val::Bool(_) => Kind::Bool,
        Val::Int(..) => Kind::Int,
        Val::Float(_) => Kind::Float,
        Val::Str(_) => Kind::Str,
        _ => Kind::Other,
    }
}

fn is_nil(v: &Val) -> bool {
    matches!(v, Val::Missing | Val::Nil)
}

fn equal(a: &Val, b: &Val) -> Result<bool, String> {
    if kind(a) != kind(b) {
        if is_nil(a) || is_nil(b) {
            return Ok(false);
        }
        return Err("incompatible types for comparison".into());
    }
    Ok(match (a, b) {
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Int(x, _), Val::Int(y, _)) => x == y,
        (Val::Float(x), Val::Float(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        _ if is_nil(a) || is_nil(b) => is_nil(a) && is_nil(b),
        _ => {
            return Err(format!(
                "non-comparable types {}: {}, {}: {}",
                a.to_go_string(),
                a.type_name(),
                b.type_name(),
                b.to_go_string()
            ))
        }
    })
}

fn less(a: &Val, b: &Val) -> Result<Ordering, String> {
    let (ka, kb) = (kind(a), kind(b));
    if matches!(ka, Kind::Bool | Kind::Other) || matches!(kb, Kind::Bool | Kind::Other) {
        return Err("invalid type for comparison".into());
    }
    if ka != kb {
        return Err("incompatible types for comparison".into());
    }
    Ok(match (a, b) {
        (Val::Int(x, _), Val::Int(y, _)) => x.cmp(y),
        (Val::Float(x), Val::Float(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Val::Str(x), Val::Str(y)) => x.cmp(y),
        _ => Ordering::Equal,
    })
}

/// `fmt.Sprint`: spaces only between operands when neither is a string.
pub fn sprint(args: &[Val]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a, Val::Str(_)) && !matches!(args[i - 1], Val::Str(_)) {
            out.push(' ');
        }
        out.push_str(&a.to_go_string());
    }
    out
}

/// `fmt.Sprintf` for the verbs scripts use: `%v %s %d %q %x %X %o %b %c %t %f %e %g %%`,
/// with flags `-+0 #`, width and precision.
pub fn sprintf(format: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if "-+0 #".contains(f) {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next += 1;
        let body = match format_one(verb, arg, precision, &flags) {
            Some(s) => s,
            None => {
                out.push_str(&format!(
                    "%!{verb}({}={})",
                    arg.type_name(),
                    arg.to_go_string()
                ));
                continue;
            }
        };
        out.push_str(&pad(body, width.parse().unwrap_or(0), &flags));
    }
    if next < args.len() {
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|a| format!("{}={}", a.type_name(), a.to_go_string()))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

fn format_one(verb: char, arg: &Val, precision: Option<usize>, flags: &str) -> Option<String> {
    let plus = flags.contains('+');
    let signed = |i: i64| {
        if plus && i >= 0 {
            format!("+{i}")
        } else {
            i.to_string()
        }
    };
    Some(match (verb, arg) {
        ('T', a) => a.type_name().to_string(),
        ('v', Val::Nil | Val::Missing) => "<nil>".into(),
        ('v', Val::Float(f)) => match precision {
            Some(p) => format!("{f:.p$}"),
            None => go_float(*f),
        },
        ('v', Val::Int(i, _)) => signed(*i),
        ('v', a) => a.to_go_string(),
        ('s', Val::Str(s)) => match precision {
            Some(p) => s.chars().take(p).collect(),
            None => s.clone(),
        },
        ('s', Val::Array(_) | Val::Map(_)) => arg.to_go_string(),
        ('q', Val::Str(s)) => go_quote(s),
        ('q', Val::Int(i, _)) => format!("'{}'", char::from_u32(*i as u32).unwrap_or('\u{fffd}')),
        ('t', Val::Bool(b)) => b.to_string(),
        ('d', Val::Int(i, _)) => signed(*i),
        ('x', Val::Int(i, _)) => format!("{i:x}"),
        ('X', Val::Int(i, _)) => format!("{i:X}"),
        ('o', Val::Int(i, _)) => format!("{i:o}"),
        ('b', Val::Int(i, _)) => format!("{i:b}"),
        ('c', Val::Int(i, _)) => char::from_u32(*i as u32).unwrap_or('\u{fffd}').to_string(),
        ('x', Val::Str(s)) => s.bytes().map(|b| format!("{b:02x}")).collect(),
        ('X', Val::Str(s)) => s.bytes().map(|b| format!("{b:02X}")).collect(),
        ('f' | 'F', Val::Float(f)) => format!("{f:.*}", precision.unwrap_or(6)),
        ('e', Val::Float(f)) => go_exp(*f, precision.unwrap_or(6)),
        ('g', Val::Float(f)) => go_float(*f),
        _ => return None,
    })
}

/// `%e`: `1.500000e+00`.
fn go_exp(f: f64, precision: usize) -> String {
    let s = format!("{f:.precision$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

fn pad(body: String, width: usize, flags: &str) -> String {
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if flags.contains('-') {
        format!("{body}{}", " ".repeat(fill))
    } else if flags.contains('0')
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
    {
        let (sign, digits) = match body.strip_prefix(['-', '+']) {
            Some(d) => (&body[..1], d.to_string()),
            None => ("", body.clone()),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Val {
        Val::Str(v.into())
    }

    #[test]
    fn printf_verbs() {
        let args = [
            Val::Int(3, true),
            s("ab"),
            Val::Float(1e6),
            s("x"),
            Val::Int(255, true),
        ];
        assert_eq!(sprintf("%d|%5s|%v|%q|%x", &args), "3|   ab|1e+06|\"x\"|ff");
        assert_eq!(
            sprintf("%-4d|%03d", &[Val::Int(7, true), Val::Int(7, true)]),
            "7   |007"
        );
        assert_eq!(sprintf("%s", &[Val::Int(3, true)]), "%!s(int=3)");
        assert_eq!(sprintf("%d %d", &[Val::Int(1, false)]), "1 %!d(MISSING)");
        assert_eq!(sprintf("%v", &[Val::Nil]), "<nil>");
        assert_eq!(
            sprintf("%T %T", &[Val::Int(1, true), Val::Float(1.5)]),
            "int float64"
        );
        assert_eq!(
            sprintf("%d|%.1f", &[Val::Float(1.5), Val::Int(2, true)]),
            "%!d(float64=1.5)|%!f(int=2)"
        );
        assert_eq!(sprintf("x", &[s("y")]), "x%!(EXTRA string=y)");
    }

    #[test]
    fn print_spaces_between_non_strings() {
        assert_eq!(
            sprint(&[
                Val::Int(1, true),
                Val::Int(2, true),
                s("a"),
                s("b"),
                Val::Int(3, true)
            ]),
            "1 2ab3"
        );
    }

    #[test]
    fn comparisons_follow_go() {
        assert_eq!(
            call("eq", vec![s("a"), s("b"), s("a")]).unwrap(),
            Val::Bool(true)
        );
        assert_eq!(
            call("eq", vec![Val::Missing, s("x")]).unwrap(),
            Val::Bool(false)
        );
        assert_eq!(
            call("lt", vec![Val::Int(1, false), Val::Float(2.5)]).unwrap_err(),
            "incompatible types for comparison"
        );
        assert_eq!(call("lt", vec![s("a"), s("b")]).unwrap(), Val::Bool(true));
        assert_eq!(
            call("ge", vec![Val::Int(2, false), Val::Int(2, true)]).unwrap(),
            Val::Bool(true)
        );
    }

    #[test]
    fn index_len_and_base64() {
        let arr = Val::Array(vec![serde_json::json!("a"), serde_json::json!("b")]);
        assert_eq!(
            call("index", vec![arr.clone(), Val::Int(1, true)]).unwrap(),
            s("b")
        );
        assert_eq!(
            call("index", vec![arr.clone(), Val::Int(5, true)]).unwrap_err(),
            "index out of range: 5"
        );
        assert_eq!(call("len", vec![arr]).unwrap(), Val::Int(2, true));
        assert_eq!(
            call("base64decode", vec![s("aGVsbG8=")]).unwrap(),
            s("hello")
        );
        assert!(call("len", vec![Val::Missing]).is_err());
        assert_eq!(
            call("html", vec![s("<a href='x'>&")]).unwrap(),
            s("&lt;a href=&#39;x&#39;&gt;&amp;")
        );
        assert_eq!(call("urlquery", vec![s("a b&c")]).unwrap(), s("a+b%26c"));
    }
}
