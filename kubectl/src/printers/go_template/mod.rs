//! Go `text/template` for `-o go-template=…`, `-o go-template-file=…`, `-o template=…` and
//! `--template`: the subset real scripts use (fields, variables, pipelines, `if`/`else if`,
//! `range` with `$i, $v :=`, `with`, `break`/`continue`, trim markers, comments, Go's builtin
//! functions and kubectl's `base64decode`/`exists`), with upstream's messages.
//!
//! - [`lex`]: text/actions and tokens.
//! - [`parse`]: the tree, with parse-time checks of functions and variables.
//! - [`exec`]: running the tree against unstructured JSON.
//! - [`funcs`], [`value`]: the functions and Go's `fmt` forms of values.

mod exec;
mod funcs;
mod lex;
mod parse;
pub mod value;

/// Go's `%q` of a string, for every message that quotes a value as upstream's Go does.
pub use value::go_quote;

use serde_json::Value;

use crate::error::KubectlError;

/// The template's name in messages; kubectl names it "output".
const NAME: &str = "output";

/// A parse failure: `template: output:LINE: MESSAGE`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("template: {NAME}:{line}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// An execution failure, with what the template printed before it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("template: {NAME}:{line}:{column}: executing \"{NAME}\" at <{context}>: {message}")]
pub struct ExecError {
    /// Output written before the failure.
    pub partial: String,
    /// 1-based line of the failing node.
    pub line: usize,
    /// 0-based byte column of the failing node (as Go reports it).
    pub column: usize,
    /// The failing node as text.
    pub context: String,
    /// What went wrong.
    pub message: String,
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct GoTemplate {
    raw: String,
    nodes: Vec<parse::Node>,
    /// `--allow-missing-template-keys` (true unless turned off).
    allow_missing_keys: bool,
}

impl GoTemplate {
    /// Parses the template text.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        Ok(GoTemplate {
            raw: raw.to_string(),
            nodes: parse::parse(raw)?,
            allow_missing_keys: true,
        })
    }

    /// The template failing on a missing map key unless `allow` (Go's `missingkey=error`).
    pub fn allowing_missing_keys(mut self, allow: bool) -> Self {
        self.allow_missing_keys = allow;
        self
    }

    /// Executes against the data.
    pub fn execute(&self, data: &Value) -> Result<String, ExecError> {
        let mut state = exec::State::new(data).missing_key_error(!self.allow_missing_keys);
        match state.run(&self.nodes) {
            Ok(()) => Ok(state.out),
            Err(f) => {
                let before = &self.raw[..f.pos.min(self.raw.len())];
                let (line, column) = match before.rfind('\n') {
                    Some(nl) => (1 + before.matches('\n').count(), f.pos - nl - 1),
                    None => (1, f.pos),
                };
                Err(ExecError {
                    partial: state.out,
                    line,
                    column,
                    context: f.context,
                    message: f.message,
                })
            }
        }
    }

    /// Renders for kubectl: on failure stdout also gets the partial output and upstream's
    /// debugging dump, and the error is `error executing template "…": …`.
    pub fn render(&self, data: &Value) -> Rendered {
        match self.execute(data) {
            Ok(s) => Rendered {
                stdout: s,
                error: None,
            },
            Err(e) => {
                let given = value::Val::from_json(data).to_go_string();
                let stdout = format!(
                    "{}Error executing template: {e}. Printing more information for debugging the template:\n\ttemplate was:\n\t\t{}\n\traw data was:\n\t\t{}\n\tobject given to template engine was:\n\t\t{given}\n\n",
                    e.partial,
                    self.raw,
                    go_json(data),
                );
                Rendered {
                    stdout,
                    error: Some(KubectlError::usage(format!(
                        "error executing template {}: {e}",
                        value::go_quote(&self.raw)
                    ))),
                }
            }
        }
    }
}

/// What a template printed, and the error to exit with if it failed.
#[derive(Debug)]
pub struct Rendered {
    /// Everything for stdout.
    pub stdout: String,
    /// The error to return after printing.
    pub error: Option<KubectlError>,
}

/// Go's `json.Marshal` of a map: compact, keys sorted, `<`, `>`, `&` escaped.
fn go_json(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v)
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(t: &str, data: &Value) -> String {
        GoTemplate::parse(t).unwrap().execute(data).unwrap()
    }

    fn pod() -> Value {
        json!({
            "kind": "Pod",
            "metadata": {"name": "web", "labels": {"b": "2", "a": "1"}, "creationTimestamp": null},
            "spec": {"replicas": 3, "containers": [{"name": "c1", "image": "i1"}, {"name": "c2", "image": "i2"}]},
            "data": {"token": "aGVsbG8="}
        })
    }

    #[test]
    fn fields_missing_keys_and_nil() {
        let d = pod();
        assert_eq!(
            run("{{.metadata.name}} {{.nope}} {{.metadata.x.y}}", &d),
            "web <no value> <no value>"
        );
        assert_eq!(run("{{.metadata.creationTimestamp}}", &d), "<no value>");
        assert_eq!(run("{{.metadata.labels}}", &d), "map[a:1 b:2]");
        assert_eq!(run("{{.spec.replicas}}", &d), "3");
    }

    #[test]
    fn range_over_slices_and_sorted_maps() {
        let d = pod();
        assert_eq!(
            run(
                "{{range $i, $c := .spec.containers}}{{$i}}={{$c.name}};{{end}}",
                &d
            ),
            "0=c1;1=c2;"
        );
        assert_eq!(
            run(
                "{{range $k, $v := .metadata.labels}}{{$k}}{{$v}}{{end}}",
                &d
            ),
            "a1b2"
        );
        assert_eq!(
            run("{{range .spec.containers}}{{.image}} {{end}}", &d),
            "i1 i2 "
        );
        assert_eq!(run("{{range .nope}}x{{else}}empty{{end}}", &d), "empty");
        assert_eq!(
            run("{{range .spec.containers}}{{if eq .name \"c1\"}}{{continue}}{{end}}{{.name}}{{break}}{{end}}", &d),
            "c2"
        );
    }

    #[test]
    fn conditionals_with_and_variables() {
        let d = pod();
        assert_eq!(
            run("{{if .nope}}a{{else if .kind}}b{{else}}c{{end}}", &d),
            "b"
        );
        assert_eq!(
            run(
                "{{with .metadata}}{{.name}}{{end}}{{with .nope}}x{{else}}y{{end}}",
                &d
            ),
            "weby"
        );
        assert_eq!(
            run(
                "{{$n := .metadata.name}}{{$n = printf \"%s!\" $n}}{{$n}}",
                &d
            ),
            "web!"
        );
        assert_eq!(run("{{with $x := .kind}}{{$x}}{{.}}{{end}}", &d), "PodPod");
        assert_eq!(
            run("{{range .spec.containers}}{{$.kind}}{{end}}", &d),
            "PodPod"
        );
    }

    #[test]
    fn functions_and_pipelines() {
        let d = pod();
        assert_eq!(
            run(
                "{{len .spec.containers}} {{index .metadata.labels \"a\"}}",
                &d
            ),
            "2 1"
        );
        assert_eq!(run("{{.metadata.name | printf \"%q\"}}", &d), "\"web\"");
        assert_eq!(run("{{.data.token | base64decode}}", &d), "hello");
        assert_eq!(
            run("{{and 1 0 2}} {{or 0 \"\" \"z\"}} {{not .nope}}", &d),
            "0 z true"
        );
        assert_eq!(
            run("{{print 1 2 \"a\" \"b\" 3}}|{{println \"x\" 1}}", &d),
            "1 2ab3|x 1\n"
        );
        assert_eq!(run("{{(index .spec.containers 1).name}}", &d), "c2");
        assert_eq!(
            run("{{printf \"%d-%s\" .spec.replicas .kind}}", &d),
            "3-Pod"
        );
        assert_eq!(
            run("{{exists . \"metadata\" \"name\"}} {{exists . \"x\"}}", &d),
            "true false"
        );
    }

    #[test]
    fn trim_markers_and_escapes() {
        let d = pod();
        assert_eq!(run("a  {{- \"\\tb\\n\" -}}  c", &d), "a\tb\nc");
        assert_eq!(run("{{/* note */}}{{`raw\\n`}}", &d), "raw\\n");
    }

    #[test]
    fn execution_errors_carry_upstream_locations() {
        let d = pod();
        let t = GoTemplate::parse("{{lt 1 2}} {{lt .spec.replicas 2.5}}").unwrap();
        let e = t.execute(&d).unwrap_err();
        assert_eq!(e.partial, "true ");
        assert_eq!(
            e.to_string(),
            "template: output:1:13: executing \"output\" at <lt .spec.replicas 2.5>: error calling lt: incompatible types for comparison"
        );
        let e = GoTemplate::parse("{{.spec.replicas.x}}")
            .unwrap()
            .execute(&d)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "template: output:1:7: executing \"output\" at <.spec.replicas.x>: can't evaluate field x in type interface {}"
        );
        let e = GoTemplate::parse("{{.nope | base64decode}}")
            .unwrap()
            .execute(&d)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "template: output:1:10: executing \"output\" at <base64decode>: invalid value; expected string"
        );
        let e = GoTemplate::parse("{{range 3}}{{end}}")
            .unwrap()
            .execute(&d)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "template: output:1:8: executing \"output\" at <3>: range can't iterate over 3"
        );
    }

    #[test]
    fn render_reports_like_kubectl() {
        let t = GoTemplate::parse("{{index .a 5}}").unwrap();
        let r = t.render(&json!({"a": ["<x>"]}));
        assert!(r.stdout.starts_with("Error executing template: template: output:1:2: executing \"output\" at <index .a 5>: error calling index: index out of range: 5. Printing more information"));
        assert!(r.stdout.contains("\t\t{\"a\":[\"\\u003cx\\u003e\"]}\n"));
        assert!(r.stdout.contains("\t\tmap[a:[<x>]]\n\n"));
        assert_eq!(
            r.error.unwrap().to_string(),
            "error: error executing template \"{{index .a 5}}\": template: output:1:2: executing \"output\" at <index .a 5>: error calling index: index out of range: 5"
        );
        assert_eq!(
            GoTemplate::parse("{{.a").unwrap_err().to_string(),
            "template: output:1: unclosed action"
        );
    }

    #[test]
    fn a_missing_key_fails_when_not_allowed() {
        let d = json!({"metadata": {"name": "web"}});
        let t = GoTemplate::parse("{{.metadata.name}} {{.nope}}")
            .unwrap()
            .allowing_missing_keys(false);
        let e = t.execute(&d).unwrap_err();
        assert_eq!(e.partial, "web ");
        assert_eq!(
            e.to_string(),
            "template: output:1:21: executing \"output\" at <.nope>: map has no entry for key \"nope\""
        );
        let allowed = GoTemplate::parse("{{.nope}}").unwrap();
        assert_eq!(allowed.execute(&d).unwrap(), "<no value>");
    }
}
