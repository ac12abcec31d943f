//! The reading subcommands: `view`, `get-contexts`, `get-clusters`, `get-users` and
//! `current-context`.

use serde_json::Value;

use crate::cmd::out;
use crate::cmd::print_flags::PrintFlags;
use crate::error::{KubectlError, Result};
use crate::kubeconfig;
use crate::printers::{self, tabwriter::TabWriter, OutputFormat};

use super::access::ConfigAccess;
use super::file_refs;
use super::model::Section;

/// What `config view` shows.
pub struct ViewOptions<'a> {
    pub raw: bool,
    pub minify: bool,
    pub flatten: bool,
    /// `--merge`: false shows the one file `--kubeconfig` names, as it is.
    pub merge: bool,
    pub print_flags: &'a PrintFlags,
    /// `--context`, which `--minify` keeps instead of the current context.
    pub context: Option<&'a str>,
}

/// Runs `config view`: the merged configuration as client-go holds it, secrets hidden unless
/// `--raw` or `--flatten`.
pub fn view(access: &ConfigAccess, o: &ViewOptions) -> Result<()> {
    // Upstream's PrintFlags with yaml as the default output.
    let format = match o.print_flags.format()? {
        OutputFormat::Table => OutputFormat::Yaml,
        other => other,
    };
    let mut config = if o.merge {
        access.starting_config()?
    } else {
        if !access.is_explicit() {
            return Err(KubectlError::usage(
                "if merge==false a precise file must be specified",
            ));
        }
        strict_read(&access.precedence()[0])?
    };
    if o.flatten {
        // The files flattening inlines are read relative to the kubeconfig that names them.
        for (section, keys) in [
            (Section::Clusters, &["certificate-authority"][..]),
            (Section::Users, &["client-certificate", "client-key"][..]),
        ] {
            for entry in config.entries_mut(section).values_mut() {
                let dir = file_refs::abs(&file_refs::dir(&entry.origin.to_string_lossy()));
                for key in keys {
                    if let Some(Value::String(path)) = entry.payload.get_mut(*key) {
                        if !path.is_empty() && !path.starts_with('/') {
                            *path = file_refs::clean(&format!("{dir}/{path}"));
                        }
                    }
                }
            }
        }
    }
    let mut doc = config.to_document();
    if o.minify {
        let current = o
            .context
            .map(str::to_string)
            .unwrap_or_else(|| config.current_context.clone());
        kubeconfig::minify(&mut doc, &current)?;
    }
    if o.flatten {
        kubeconfig::flatten(&mut doc)?;
    } else if !o.raw {
        kubeconfig::redact(&mut doc);
    }
    for section in Section::ALL {
        if doc[section.key()].as_array().is_some_and(Vec::is_empty) {
            doc[section.key()] = Value::Null;
        }
    }
    print_document(&doc, &format)
}

/// The one file `--merge=false` shows: unlike the merged view, a missing file is an error.
fn strict_read(path: &std::path::Path) -> Result<super::model::Config> {
    if let Err(e) = std::fs::metadata(path) {
        return Err(KubectlError::usage(crate::go_io::read_file_error(
            &path.to_string_lossy(),
            &e,
        )));
    }
    super::access::read_file(path)
}

/// Runs `config get-contexts [NAME…]`: the named contexts (all by default) by name; unknown
/// names are reported after the table.
pub fn get_contexts(
    access: &ConfigAccess,
    names: &[String],
    no_headers: bool,
    output: Option<&str>,
) -> Result<()> {
    if let Some(other) = output.filter(|o| !o.is_empty() && *o != "name") {
        return Err(KubectlError::usage(format!(
            "--output {other} is not available in kubectl config get-contexts; resetting to default output format"
        )));
    }
    let config = access.starting_config()?;
    let contexts = config.entries(Section::Contexts);
    let mut missing = Vec::new();
    let mut selected: Vec<&String> = Vec::new();
    if names.is_empty() {
        selected = contexts.keys().collect();
    } else {
        for name in names {
            match contexts.get_key_value(name) {
                Some((n, _)) => selected.push(n),
                None => missing.push(format!("context {name} not found")),
            }
        }
        selected.sort();
    }
    match output {
        Some("name") => {
            let text: String = selected.iter().map(|n| format!("{n}\n")).collect();
            out(&text);
        }
        _ => {
            let mut tw = TabWriter::new();
            if !no_headers {
                tw.row(
                    ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
                        .map(String::from)
                        .to_vec(),
                );
            }
            for name in &selected {
                let c = &contexts[*name].payload;
                let field = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                let current = if **name == config.current_context {
                    "*"
                } else {
                    ""
                };
                tw.row(vec![
                    current.to_string(),
                    name.to_string(),
                    field("cluster"),
                    field("user"),
                    field("namespace"),
                ]);
            }
            out(&tw.flush());
        }
    }
    // One error is reported as usual; several one per line without the `error: ` prefix.
    match missing.len() {
        0 => Ok(()),
        1 => Err(KubectlError::usage(missing.remove(0))),
        _ => {
            eprintln!("{}", missing.join("\n"));
            Err(KubectlError::Exit(1))
        }
    }
}

/// Runs `config get-clusters` or `config get-users`: their names.
pub fn get_names(access: &ConfigAccess, section: Section) -> Result<()> {
    let config = access.starting_config()?;
    let mut text = "NAME\n".to_string();
    for name in config.entries(section).keys() {
        text.push_str(name);
        text.push('\n');
    }
    out(&text);
    Ok(())
}

/// Runs `config current-context`.
pub fn current_context(access: &ConfigAccess) -> Result<()> {
    let config = access.starting_config()?;
    if config.current_context.is_empty() {
        return Err(KubectlError::usage("current-context is not set"));
    }
    out(&format!("{}\n", config.current_context));
    Ok(())
}

/// Field order of client-go's kubeconfig v1 structs, which `config view -o json` follows.
fn kubeconfig_field_rank(key: &str) -> usize {
    // One list for all structs: an exec plugin's `command`, `args` and `env` come before its
    // `apiVersion`, which the top level's `kind` must precede too.
    const ORDER: &[&str] = &[
        "command",
        "args",
        "env",
        "kind",
        "apiVersion",
        "installHint",
        "provideClusterInfo",
        "interactiveMode",
        "colors",
        "preferences",
        "clusters",
        "users",
        "contexts",
        "current-context",
        "name",
        "value",
        "config",
        "extension",
        "cluster",
        "user",
        "context",
        "namespace",
        "server",
        "tls-server-name",
        "insecure-skip-tls-verify",
        "certificate-authority",
        "certificate-authority-data",
        "proxy-url",
        "disable-compression",
        "client-certificate",
        "client-certificate-data",
        "client-key",
        "client-key-data",
        "token",
        "tokenFile",
        "as",
        "as-uid",
        "as-groups",
        "as-user-extra",
        "username",
        "password",
        "auth-provider",
        "exec",
        "extensions",
    ];
    ORDER.iter().position(|k| *k == key).unwrap_or(usize::MAX)
}

fn print_document(doc: &Value, format: &OutputFormat) -> Result<()> {
    match format {
        OutputFormat::Json => out(&printers::json::to_json_ordered(
            doc,
            &kubeconfig_field_rank,
        )),
        // A Config has no name: upstream's name printer shows its kind and `<unknown>`.
        OutputFormat::Name => out("config/<unknown>\n"),
        other => crate::cmd::print_flags::print_result(
            other,
            doc,
            "",
            crate::cmd::print_flags::DryRun::None,
        )?,
    }
    Ok(())
}
