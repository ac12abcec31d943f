//! The executor: walks the tree against the data, as Go's `text/template` does (dot, `$`
//! variables with block scope, sorted map ranges, `break`/`continue`, `<no value>` for
//! missing keys).

use serde_json::Value;

use super::funcs;
use super::parse::{Arg, ArgKind, BlockKind, Cmd, Node, Pipe};
use super::value::{go_quote, Val};

/// A failure while executing, located at a node.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Byte offset of the node.
    pub pos: usize,
    /// The node as Go prints it (`lt .a 1`, `.spec.x`).
    pub context: String,
    /// What went wrong.
    pub message: String,
}

enum Flow {
    Normal,
    Break,
    Continue,
}

/// Execution state: output so far and the variable stack (`$` first).
pub struct State {
    /// What the template printed so far (kept on failure: upstream prints it too).
    pub out: String,
    vars: Vec<(String, Val)>,
    /// Go's `missingkey=error` (kubectl's `--allow-missing-template-keys=false`): a map
    /// without the key fails instead of giving no value.
    missing_key_error: bool,
}

type Res<T> = Result<T, Failure>;

impl State {
    /// A state whose `$` is the data.
    pub fn new(data: &Value) -> Self {
        State {
            out: String::new(),
            vars: vec![(String::new(), Val::from_json(data))],
            missing_key_error: false,
        }
    }

    /// The same state failing on missing map keys when `error` (Go's `missingkey=error`).
    pub fn missing_key_error(mut self, error: bool) -> Self {
        self.missing_key_error = error;
        self
    }

    /// Runs the template with the data as dot.
    pub fn run(&mut self, nodes: &[Node]) -> Res<()> {
        let dot = self.vars[0].1.clone();
        self.walk(nodes, &dot).map(|_| ())
    }

    fn walk(&mut self, nodes: &[Node], dot: &Val) -> Res<Flow> {
        for n in nodes {
            match n {
                Node::Text(t) => self.out.push_str(t),
                Node::Action(pipe) => {
                    let v = self.pipe(pipe, dot, true)?;
                    if pipe.decl.is_empty() {
                        match v {
                            Val::Missing | Val::Nil => self.out.push_str("<no value>"),
                            v => self.out.push_str(&v.to_go_string()),
                        }
                    }
                }
                Node::Block {
                    kind,
                    pipe,
                    list,
                    else_list,
                } => {
                    let mark = self.vars.len();
                    let flow = match kind {
                        BlockKind::If | BlockKind::With => {
                            let v = self.pipe(pipe, dot, true)?;
                            if v.truth() {
                                let inner = if *kind == BlockKind::With {
                                    v
                                } else {
                                    dot.clone()
                                };
                                self.walk(list, &inner)?
                            } else if let Some(e) = else_list {
                                self.walk(e, dot)?
                            } else {
                                Flow::Normal
                            }
                        }
                        BlockKind::Range => self.range(pipe, list, else_list.as_deref(), dot)?,
                    };
                    self.vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn range(
        &mut self,
        pipe: &Pipe,
        list: &[Node],
        else_list: Option<&[Node]>,
        dot: &Val,
    ) -> Res<Flow> {
        let v = self.pipe(pipe, dot, false)?;
        let elems: Vec<(Val, Val)> = match v {
            Val::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, e)| (Val::Int(i as i64, true), Val::from_json(e)))
                .collect(),
            Val::Map(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                keys.into_iter()
                    .map(|k| (Val::Str(k.clone()), Val::from_json(&m[k])))
                    .collect()
            }
            Val::Missing | Val::Nil => Vec::new(),
            other => {
                let (pos, context) = last_operand(pipe);
                return Err(Failure {
                    pos,
                    context,
                    message: format!("range can't iterate over {}", other.to_go_string()),
                });
            }
        };
        if elems.is_empty() {
            return match else_list {
                Some(e) => self.walk(e, dot),
                None => Ok(Flow::Normal),
            };
        }
        let mark = self.vars.len();
        for (key, elem) in elems {
            match pipe.decl.as_slice() {
                [v] => self.vars.push((v.clone(), elem.clone())),
                [k, v] => {
                    self.vars.push((k.clone(), key));
                    self.vars.push((v.clone(), elem.clone()));
                }
                _ => {}
            }
            let flow = self.walk(list, &elem)?;
            self.vars.truncate(mark);
            if matches!(flow, Flow::Break) {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    fn pipe(&mut self, pipe: &Pipe, dot: &Val, declare: bool) -> Res<Val> {
        let mut value: Option<Val> = None;
        for cmd in &pipe.cmds {
            value = Some(self.command(cmd, dot, value)?);
        }
        let value = value.unwrap_or(Val::Missing);
        if declare {
            for name in &pipe.decl {
                if pipe.is_assign {
                    if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                        slot.1 = value.clone();
                    }
                } else {
                    self.vars.push((name.clone(), value.clone()));
                }
            }
        }
        Ok(value)
    }

    fn command(&mut self, cmd: &Cmd, dot: &Val, last: Option<Val>) -> Res<Val> {
        let first = &cmd.args[0];
        if let ArgKind::Func(name) = &first.kind {
            return self.call(name, cmd, dot, last);
        }
        if cmd.args.len() > 1 || last.is_some() {
            let message = match &first.kind {
                ArgKind::Field(f) | ArgKind::Var(_, f) | ArgKind::Sub(_, f) if !f.is_empty() => {
                    format!("{} is not a method but has arguments", f[f.len() - 1])
                }
                _ => format!("can't give argument to non-function {}", arg_string(first)),
            };
            return Err(Failure {
                pos: first.pos,
                context: arg_string(first),
                message,
            });
        }
        if first.kind == ArgKind::Nil {
            return Err(Failure {
                pos: first.pos,
                context: "nil".into(),
                message: "nil is not a command".into(),
            });
        }
        self.arg(first, dot)
    }

    fn call(&mut self, name: &str, cmd: &Cmd, dot: &Val, last: Option<Val>) -> Res<Val> {
        let fail = |message: String| Failure {
            pos: cmd.pos,
            context: cmd_string(cmd),
            message,
        };
        // `and` and `or` stop at the first operand that decides the result.
        if name == "and" || name == "or" {
            let n = cmd.args.len() - 1 + usize::from(last.is_some());
            if n == 0 {
                return Err(fail(format!(
                    "wrong number of args for {name}: want at least 1 got 0"
                )));
            }
            let mut v = Val::Missing;
            for a in &cmd.args[1..] {
                v = self.arg(a, dot)?;
                if v.truth() != (name == "and") {
                    return Ok(v);
                }
            }
            if let Some(l) = last {
                v = l;
            }
            return Ok(v);
        }
        let mut args = Vec::with_capacity(cmd.args.len());
        for a in &cmd.args[1..] {
            args.push(self.arg(a, dot)?);
        }
        args.extend(last);
        funcs::call(name, args).map_err(|e| {
            if funcs::is_argument_error(&e) {
                // Go checks argument types before the call and reports them at the name.
                Failure {
                    pos: cmd.args[0].pos,
                    context: name.to_string(),
                    message: e,
                }
            } else {
                fail(format!("error calling {name}: {e}"))
            }
        })
    }

    fn arg(&mut self, arg: &Arg, dot: &Val) -> Res<Val> {
        let (base, fields) = match &arg.kind {
            ArgKind::Field(f) => (dot.clone(), f.as_slice()),
            ArgKind::Var(name, f) => {
                let v = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map_or(Val::Missing, |(_, v)| v.clone());
                (v, f.as_slice())
            }
            ArgKind::Sub(pipe, f) => (self.pipe(pipe, dot, true)?, f.as_slice()),
            ArgKind::Func(name) => {
                let cmd = Cmd {
                    pos: arg.pos,
                    args: vec![arg.clone()],
                };
                return self.call(name, &cmd, dot, None);
            }
            ArgKind::Nil => return Ok(Val::Nil),
            ArgKind::Bool(b) => return Ok(Val::Bool(*b)),
            ArgKind::Int(i) => return Ok(Val::Int(*i, true)),
            ArgKind::Float(f, _) => return Ok(Val::Float(*f)),
            ArgKind::Str(s) => return Ok(Val::Str(s.clone())),
        };
        let mut v = base;
        for name in fields {
            v = match v {
                Val::Map(mut m) => match m.remove(name) {
                    Some(x) => Val::from_json(&x),
                    None if self.missing_key_error => {
                        return Err(Failure {
                            pos: arg.pos,
                            context: arg_string(arg),
                            message: format!("map has no entry for key {}", go_quote(name)),
                        })
                    }
                    None => Val::Missing,
                },
                Val::Missing | Val::Nil => Val::Missing,
                _ => {
                    return Err(Failure {
                        pos: arg.pos,
                        context: arg_string(arg),
                        message: format!("can't evaluate field {name} in type interface {{}}"),
                    })
                }
            };
        }
        Ok(v)
    }
}

/// Where Go reports a failure of a whole pipeline: its last command's first word.
fn last_operand(pipe: &Pipe) -> (usize, String) {
    pipe.cmds
        .last()
        .and_then(|c| c.args.first())
        .map_or((pipe.pos, String::new()), |a| (a.pos, arg_string(a)))
}

fn fields_string(f: &[String]) -> String {
    f.iter().map(|s| format!(".{s}")).collect()
}

/// An operand as Go's parse tree prints it.
pub fn arg_string(a: &Arg) -> String {
    match &a.kind {
        ArgKind::Field(f) if f.is_empty() => ".".into(),
        ArgKind::Field(f) => fields_string(f),
        ArgKind::Var(n, f) => format!("${n}{}", fields_string(f)),
        ArgKind::Func(n) => n.clone(),
        ArgKind::Nil => "nil".into(),
        ArgKind::Bool(b) => b.to_string(),
        ArgKind::Int(i) => i.to_string(),
        ArgKind::Float(_, text) => text.clone(),
        ArgKind::Str(s) => go_quote(s),
        ArgKind::Sub(p, f) => format!("({}){}", pipe_string(p), fields_string(f)),
    }
}

/// A command as Go prints it.
pub fn cmd_string(c: &Cmd) -> String {
    c.args.iter().map(arg_string).collect::<Vec<_>>().join(" ")
}

fn pipe_string(p: &Pipe) -> String {
    let mut s = String::new();
    if !p.decl.is_empty() {
        let names: Vec<String> = p.decl.iter().map(|d| format!("${d}")).collect();
        s.push_str(&names.join(", "));
        s.push_str(if p.is_assign { " = " } else { " := " });
    }
    let cmds: Vec<String> = p.cmds.iter().map(cmd_string).collect();
    s.push_str(&cmds.join(" | "));
    s
}
