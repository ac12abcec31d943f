//! `kubectl config view|get-contexts|use-context|set-context|current-context|get-clusters|
//! get-users|delete-context`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::{out, Ctx};
use crate::error::{KubectlError, Result};
use crate::kubeconfig::{self, SECTIONS};
use crate::printers::{self, tabwriter::TabWriter, OutputFormat};

/// `kubectl config`
#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Display merged kubeconfig settings or a specified kubeconfig file.
    View {
        /// Display raw byte data and sensitive data.
        #[arg(long)]
        raw: bool,
        /// Remove all information not used by current-context from the output.
        #[arg(long)]
        minify: bool,
        /// Flatten the resulting kubeconfig file into self-contained output.
        #[arg(long)]
        flatten: bool,
        /// Output format (yaml, json, jsonpath=…).
        #[arg(short = 'o', long, default_value = "yaml")]
        output: String,
    },
    /// Describe one or many contexts.
    #[command(name = "get-contexts")]
    GetContexts {
        names: Vec<String>,
        /// Don't print headers.
        #[arg(long)]
        no_headers: bool,
        /// Output format: name.
        #[arg(short = 'o', long)]
        output: Option<String>,
    },
    /// Display clusters defined in the kubeconfig.
    #[command(name = "get-clusters")]
    GetClusters,
    /// Display users defined in the kubeconfig.
    #[command(name = "get-users")]
    GetUsers,
    /// Set the current-context in a kubeconfig file.
    #[command(name = "use-context", alias = "use")]
    UseContext { name: String },
    /// Display the current-context.
    #[command(name = "current-context")]
    CurrentContext,
    /// Set a context entry in kubeconfig.
    #[command(name = "set-context")]
    SetContext {
        name: Option<String>,
        /// Modify the current context.
        #[arg(long)]
        current: bool,
        /// cluster for the context entry.
        #[arg(long = "cluster")]
        cluster: Option<String>,
        /// user for the context entry.
        #[arg(long = "user")]
        user: Option<String>,
        /// namespace for the context entry.
        #[arg(long = "namespace")]
        namespace: Option<String>,
    },
    /// Delete the specified context from the kubeconfig.
    #[command(name = "delete-context")]
    DeleteContext { name: String },
}

/// Runs `kubectl config …`. Global `--cluster/--user/--namespace` double as set-context's
/// own flags, so they are read from both places.
pub fn run(ctx: &Ctx, args: ConfigArgs) -> Result<()> {
    let kc = &ctx.kubeconfig;
    match args.command {
        ConfigCommand::View {
            raw,
            minify,
            flatten,
            output,
        } => {
            let mut doc = kc.doc.clone();
            if minify {
                let current = ctx
                    .global
                    .context
                    .clone()
                    .unwrap_or_else(|| kc.current_context().to_string());
                kubeconfig::minify(&mut doc, &current)?;
            }
            if flatten {
                kubeconfig::flatten(&mut doc)?;
            }
            if !raw {
                kubeconfig::redact(&mut doc);
            }
            for (section, _) in SECTIONS {
                if doc[section].as_array().is_some_and(Vec::is_empty) {
                    doc[section] = Value::Null;
                }
            }
            print_value(&doc, &output)
        }
        ConfigCommand::GetContexts {
            names,
            no_headers,
            output,
        } => {
            let current = kc.current_context();
            let all = kc.doc["contexts"].as_array().cloned().unwrap_or_default();
            let mut selected = Vec::new();
            if names.is_empty() {
                selected = all;
            } else {
                for n in &names {
                    match all.iter().find(|c| c["name"] == n.as_str()) {
                        Some(c) => selected.push(c.clone()),
                        None => return Err(KubectlError::usage(format!("context {n} not found"))),
                    }
                }
            }
            if output.as_deref() == Some("name") {
                for c in &selected {
                    out(&format!("{}\n", c["name"].as_str().unwrap_or("")));
                }
                return Ok(());
            }
            let mut tw = TabWriter::new();
            if !no_headers {
                tw.row(
                    ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
                        .map(String::from)
                        .to_vec(),
                );
            }
            for c in &selected {
                let name = c["name"].as_str().unwrap_or("");
                let s = |k: &str| c["context"][k].as_str().unwrap_or("").to_string();
                tw.row(vec![
                    if name == current {
                        "*".into()
                    } else {
                        String::new()
                    },
                    name.to_string(),
                    s("cluster"),
                    s("user"),
                    s("namespace"),
                ]);
            }
            out(&tw.flush());
            Ok(())
        }
        ConfigCommand::GetClusters | ConfigCommand::GetUsers => {
            let section = if matches!(args.command, ConfigCommand::GetClusters) {
                "clusters"
            } else {
                "users"
            };
            let mut s = "NAME\n".to_string();
            for e in kc.doc[section].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                s.push_str(e["name"].as_str().unwrap_or(""));
                s.push('\n');
            }
            out(&s);
            Ok(())
        }
        ConfigCommand::CurrentContext => {
            let c = kc.current_context();
            if c.is_empty() {
                return Err(KubectlError::usage("current-context is not set"));
            }
            out(&format!("{c}\n"));
            Ok(())
        }
        ConfigCommand::UseContext { name } => {
            if kc.find("contexts", &name).is_none() {
                return Err(KubectlError::usage(format!(
                    "no context exists with the name: \"{name}\""
                )));
            }
            let path = destination(ctx)?;
            let mut doc = kubeconfig::read_for_edit(&path)?;
            doc["current-context"] = json!(name);
            kubeconfig::write_file(&path, &doc)?;
            out(&format!("Switched to context \"{name}\".\n"));
            Ok(())
        }
        ConfigCommand::SetContext {
            name,
            current,
            cluster,
            user,
            namespace,
        } => {
            let name = match (name, current) {
                (Some(_), true) => {
                    return Err(KubectlError::usage(
                        "you cannot specify both a context name and --current",
                    ))
                }
                (Some(n), false) => n,
                (None, true) => {
                    let c = kc.current_context();
                    if c.is_empty() {
                        return Err(KubectlError::usage("no current context is set"));
                    }
                    c.to_string()
                }
                (None, false) => {
                    return Err(KubectlError::usage(
                        "you must specify a non-empty context name or --current",
                    ))
                }
            };
            let cluster = cluster.or_else(|| ctx.global.cluster.clone());
            let user = user.or_else(|| ctx.global.user.clone());
            let namespace = namespace.or_else(|| ctx.global.namespace.clone());
            let exists = kc.find("contexts", &name).is_some();
            let path = match kc.origin("contexts", &name) {
                Some(p) => p.to_path_buf(),
                None => destination(ctx)?,
            };
            let mut doc = kubeconfig::read_for_edit(&path)?;
            let list = doc
                .as_object_mut()
                .ok_or_else(|| KubectlError::usage("kubeconfig is not a mapping"))?
                .entry("contexts")
                .or_insert_with(|| json!([]));
            if !list.is_array() {
                *list = json!([]);
            }
            let items = list
                .as_array_mut()
                .ok_or_else(|| KubectlError::usage("bad contexts"))?;
            let idx = match items.iter().position(|c| c["name"] == name.as_str()) {
                Some(i) => i,
                None => {
                    items.push(json!({"name": name, "context": {}}));
                    items.len() - 1
                }
            };
            let entry = &mut items[idx]["context"];
            if !entry.is_object() {
                *entry = json!({});
            }
            for (k, v) in [
                ("cluster", cluster),
                ("user", user),
                ("namespace", namespace),
            ] {
                if let Some(v) = v {
                    entry[k] = json!(v);
                }
            }
            kubeconfig::write_file(&path, &doc)?;
            out(&format!(
                "Context \"{name}\" {}.\n",
                if exists { "modified" } else { "created" }
            ));
            Ok(())
        }
        ConfigCommand::DeleteContext { name } => {
            let Some(path) = kc.origin("contexts", &name).map(PathBuf::from) else {
                return Err(KubectlError::usage(format!(
                    "cannot delete context {name}, not in {}",
                    destination(ctx)?.display()
                )));
            };
            let mut doc = kubeconfig::read_for_edit(&path)?;
            if let Some(l) = doc.get_mut("contexts").and_then(Value::as_array_mut) {
                l.retain(|c| c["name"] != name.as_str());
            }
            if kc.current_context() == name {
                eprintln!("warning: this removed your active context, use \"kubectl config use-context\" to select a different one");
            }
            kubeconfig::write_file(&path, &doc)?;
            out(&format!("deleted context {name} from {}\n", path.display()));
            Ok(())
        }
    }
}

fn destination(ctx: &Ctx) -> Result<PathBuf> {
    ctx.kubeconfig
        .destination
        .clone()
        .ok_or_else(|| KubectlError::usage("no kubeconfig file to write to"))
}

/// Field order of client-go's kubeconfig v1 structs, which `config view -o json` follows.
fn kubeconfig_field_rank(key: &str) -> usize {
    const ORDER: &[&str] = &[
        "kind",
        "apiVersion",
        "preferences",
        "clusters",
        "users",
        "contexts",
        "current-context",
        "name",
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

fn print_value(doc: &Value, output: &str) -> Result<()> {
    match OutputFormat::parse(Some(output))? {
        OutputFormat::Json => out(&printers::json::to_json_ordered(doc, &kubeconfig_field_rank)),
        OutputFormat::JsonPath(t) => out(&t.execute(doc).map_err(KubectlError::usage)?),
        OutputFormat::Yaml => out(&printers::yaml::to_yaml(doc)),
        _ => {
            return Err(KubectlError::usage(format!(
                "unable to match a printer suitable for the output format \"{output}\", allowed formats are: json,jsonpath,jsonpath-as-json,jsonpath-file,yaml"
            )))
        }
    }
    Ok(())
}
