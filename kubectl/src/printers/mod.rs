//! Output formats of `kubectl get` and friends.

pub mod age;
pub mod custom_columns;
pub mod go_order;
pub mod go_template;
pub mod json;
pub mod jsonpath;
pub mod tabbed;
pub mod table;
pub mod tabwriter;
pub mod yaml;

use crate::error::{KubectlError, Result};

/// Formats whose template (or column spec) may come from `--template`.
const TEMPLATE_FORMATS: [&str; 9] = [
    "custom-columns",
    "custom-columns-file",
    "go-template",
    "template",
    "go-template-file",
    "templatefile",
    "jsonpath",
    "jsonpath-file",
    "jsonpath-as-json",
];

/// A parsed `-o/--output` value.
#[derive(Debug, Clone)]
pub enum OutputFormat {
    /// The default server-side table.
    Table,
    /// `-o wide`: the table with every column.
    Wide,
    /// `-o name`: `kind.group/name`.
    Name,
    /// `-o yaml`
    Yaml,
    /// `-o json`
    Json,
    /// `-o jsonpath=…`
    JsonPath(jsonpath::Template),
    /// `-o custom-columns=…`
    CustomColumns(Vec<custom_columns::Column>),
    /// `-o go-template=…`, `-o go-template-file=…`, `-o template=…`, `--template`
    GoTemplate(go_template::GoTemplate),
}

impl OutputFormat {
    /// The format with `--allow-missing-template-keys` applied to its template (JSONPath and
    /// Go templates; other formats have no keys to miss).
    pub fn allowing_missing_keys(self, allow: bool) -> Self {
        match self {
            OutputFormat::JsonPath(t) => OutputFormat::JsonPath(t.allowing_missing_keys(allow)),
            OutputFormat::GoTemplate(t) => OutputFormat::GoTemplate(t.allowing_missing_keys(allow)),
            other => other,
        }
    }

    /// Parses `-o` together with `--template` (the template when `-o` names a template
    /// format without `=…`; alone it means `-o go-template`, as upstream infers).
    pub fn parse_with_template(o: Option<&str>, template: Option<&str>) -> Result<Self> {
        let template = template.filter(|t| !t.is_empty());
        let o = match (o.filter(|o| !o.is_empty()), template) {
            (Some(o), _) => o,
            (None, Some(_)) => "go-template",
            (None, None) => return Ok(OutputFormat::Table),
        };
        let (mut kind, mut arg) = o.split_once('=').unwrap_or((o, ""));
        // Upstream splits `FORMAT=TEMPLATE` only without --template; with it the whole
        // value names no printer.
        if template.is_some() && !arg.is_empty() && TEMPLATE_FORMATS.contains(&kind) {
            (kind, arg) = (o, "");
        }
        let arg = if arg.is_empty() {
            template.unwrap_or("")
        } else {
            arg
        };
        Ok(match kind {
            "go-template" | "template" | "go-template-file" | "templatefile" => {
                if arg.is_empty() {
                    return Err(KubectlError::usage("template format specified but no template given"));
                }
                let text = if kind.ends_with("file") {
                    std::fs::read_to_string(arg).map_err(|e| {
                        KubectlError::usage(format!(
                            "error reading --template {arg}, {}",
                            crate::go_io::read_file_error(arg, &e)
                        ))
                    })?
                } else {
                    arg.to_string()
                };
                OutputFormat::GoTemplate(go_template::GoTemplate::parse(&text).map_err(|e| {
                    KubectlError::usage(format!("error parsing template {text}, {e}"))
                })?)
            }
            "wide" => OutputFormat::Wide,
            "name" => OutputFormat::Name,
            "yaml" => OutputFormat::Yaml,
            "json" => OutputFormat::Json,
            "jsonpath" => {
                if arg.is_empty() {
                    return Err(KubectlError::usage("template format specified but no template given"));
                }
                OutputFormat::JsonPath(jsonpath::Template::parse(arg).map_err(|e| {
                    KubectlError::usage(format!("error parsing jsonpath {arg}, {e}"))
                })?)
            }
            "custom-columns" => OutputFormat::CustomColumns(
                custom_columns::parse(arg).map_err(KubectlError::usage)?,
            ),
            _ => {
                return Err(KubectlError::usage(format!(
                    "unable to match a printer suitable for the output format \"{o}\", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
                )))
            }
        })
    }

    /// Whether the format prints the server's Table (and so asks for one).
    pub fn is_table(&self) -> bool {
        matches!(self, OutputFormat::Table | OutputFormat::Wide)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(o: Option<&str>, t: Option<&str>) -> Result<OutputFormat> {
        OutputFormat::parse_with_template(o, t)
    }

    #[test]
    fn template_flag_alone_means_go_template() {
        let f = parse(None, Some("{{.kind}}")).unwrap();
        let OutputFormat::GoTemplate(t) = f else {
            panic!("{f:?}")
        };
        assert_eq!(
            t.execute(&serde_json::json!({"kind": "Pod"})).unwrap(),
            "Pod"
        );
        assert!(matches!(
            parse(Some("template"), Some("{{.a}}")),
            Ok(OutputFormat::GoTemplate(_))
        ));
        assert!(matches!(
            parse(Some("jsonpath"), Some("{.a}")),
            Ok(OutputFormat::JsonPath(_))
        ));
    }

    #[test]
    fn template_in_both_places_matches_no_printer() {
        let e = parse(Some("go-template={{.a}}"), Some("{{.b}}")).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("error: unable to match a printer suitable for the output format \"go-template={{.a}}\""));
        assert!(matches!(
            parse(Some("yaml"), Some("x")),
            Ok(OutputFormat::Yaml)
        ));
    }

    #[test]
    fn template_errors() {
        assert_eq!(
            parse(Some("go-template"), None).unwrap_err().to_string(),
            "error: template format specified but no template given"
        );
        assert_eq!(
            parse(Some("go-template={{.a"), None)
                .unwrap_err()
                .to_string(),
            "error: error parsing template {{.a, template: output:1: unclosed action"
        );
        assert_eq!(
            parse(Some("go-template-file=/nonexistent/t"), None)
                .unwrap_err()
                .to_string(),
            "error: error reading --template /nonexistent/t, open /nonexistent/t: no such file or directory"
        );
    }
}
