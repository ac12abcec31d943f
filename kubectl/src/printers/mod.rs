//! Output formats of `kubectl get` and friends.

pub mod age;
pub mod custom_columns;
pub mod go_template;
pub mod json;
pub mod jsonpath;
pub mod tabbed;
pub mod table;
pub mod tabwriter;
pub mod yaml;

use crate::error::{KubectlError, Result};

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
    /// Parses the `-o` flag (empty = table).
    pub fn parse(o: Option<&str>) -> Result<Self> {
        Self::parse_with_template(o, None)
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
        let (kind, arg) = o.split_once('=').unwrap_or((o, ""));
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
                        KubectlError::usage(format!("error reading --template {arg}, {e}\n"))
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
