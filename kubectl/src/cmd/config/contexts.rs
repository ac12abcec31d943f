//! The context-editing subcommands: `use-context`, `set-context`, `delete-context` and
//! `rename-context`.

use clap::Args;
use serde_json::Value;

use crate::cmd::out;
use crate::error::{KubectlError, Result};

use super::access::ConfigAccess;
use super::help::Page;
use super::model::{Entry, Section};
use super::modify::modify_config;
use super::{canonical, go_fmt};

/// `kubectl config set-context`. The flag fields are named as the global `--cluster`,
/// `--user` and `--namespace`, which they shadow.
#[derive(Debug, Args)]
pub struct SetContextArgs {
    args: Vec<String>,
    /// Modify the current context
    #[arg(long)]
    current: bool,
    /// cluster for the context entry in kubeconfig
    #[arg(long = "cluster")]
    cluster: Option<String>,
    /// user for the context entry in kubeconfig
    #[arg(long = "user")]
    user: Option<String>,
    /// namespace for the context entry in kubeconfig
    #[arg(long = "namespace")]
    namespace: Option<String>,
}

/// Runs `config use-context NAME`.
pub fn use_context(access: &ConfigAccess, args: &[String]) -> Result<()> {
    let [name] = args else {
        return Err(Page::UseContext.unexpected_args(args));
    };
    let start = access.starting_config()?;
    if name.is_empty() {
        return Err(KubectlError::usage("empty context names are not allowed"));
    }
    if !start.entries(Section::Contexts).contains_key(name) {
        return Err(KubectlError::usage(format!(
            "no context exists with the name: {}",
            go_fmt::quote(name)
        )));
    }
    let mut edited = start.clone();
    edited.current_context = name.clone();
    modify_config(access, &start, &edited, true)?;
    out(&format!("Switched to context {}.\n", go_fmt::quote(name)));
    Ok(())
}

/// Runs `config set-context [NAME | --current] [--cluster=] [--user=] [--namespace=]`.
pub fn set_context(access: &ConfigAccess, args: SetContextArgs) -> Result<()> {
    if args.args.len() > 1 {
        return Err(Page::SetContext.unexpected_args(&args.args));
    }
    let name = args.args.first().cloned().unwrap_or_default();
    match (name.is_empty(), args.current) {
        (true, false) => {
            return Err(KubectlError::usage(
                "you must specify a non-empty context name or --current",
            ))
        }
        (false, true) => {
            return Err(KubectlError::usage(
                "you cannot specify both a context name and --current",
            ))
        }
        _ => {}
    }
    let start = access.starting_config()?;
    let name = if args.current {
        if start.current_context.is_empty() {
            return Err(KubectlError::usage("no current context is set"));
        }
        start.current_context.clone()
    } else {
        name
    };
    let mut edited = start.clone();
    let exists = start.entries(Section::Contexts).contains_key(&name);
    let entry = edited
        .entries_mut(Section::Contexts)
        .entry(name.clone())
        .or_insert_with(|| Entry::empty(Section::Contexts));
    for (key, value) in [
        ("cluster", &args.cluster),
        ("user", &args.user),
        ("namespace", &args.namespace),
    ] {
        if let Some(v) = value {
            entry.payload.insert(key.into(), Value::String(v.clone()));
        }
    }
    entry.payload = canonical::payload(Section::Contexts, &Value::Object(entry.payload.clone()));
    modify_config(access, &start, &edited, true)?;
    let verb = if exists { "modified" } else { "created" };
    out(&format!("Context {} {verb}.\n", go_fmt::quote(&name)));
    Ok(())
}

/// Runs `config delete-context NAME`; without exactly one name upstream prints its help and
/// succeeds.
pub fn delete_context(access: &ConfigAccess, args: &[String]) -> Result<()> {
    let start = access.starting_config()?;
    let [name] = args else {
        Page::DeleteContext.show();
        return Ok(());
    };
    let file = access.default_filename();
    if !start.entries(Section::Contexts).contains_key(name) {
        return Err(KubectlError::usage(format!(
            "cannot delete context {name}, not in {}",
            file.display()
        )));
    }
    if start.current_context == *name {
        eprintln!("warning: this removed your active context, use \"kubectl config use-context\" to select a different one");
    }
    let mut edited = start.clone();
    edited.entries_mut(Section::Contexts).remove(name);
    modify_config(access, &start, &edited, true)?;
    out(&format!("deleted context {name} from {}\n", file.display()));
    Ok(())
}

/// Runs `config rename-context OLD NEW`: the context keeps its file, and the current context
/// follows the rename.
pub fn rename_context(access: &ConfigAccess, args: &[String]) -> Result<()> {
    let [old, new] = args else {
        return Err(Page::RenameContext.unexpected_args(args));
    };
    if new.is_empty() {
        return Err(KubectlError::usage(
            "You must specify a new non-empty context name",
        ));
    }
    let start = access.starting_config()?;
    let file = access.default_filename();
    let contexts = start.entries(Section::Contexts);
    let Some(context) = contexts.get(old) else {
        return Err(KubectlError::usage(format!(
            "cannot rename the context {}, it's not in {}",
            go_fmt::quote(old),
            file.display()
        )));
    };
    if contexts.contains_key(new) {
        return Err(KubectlError::usage(format!(
            "cannot rename the context {}, the context {} already exists in {}",
            go_fmt::quote(old),
            go_fmt::quote(new),
            file.display()
        )));
    }
    let mut edited = start.clone();
    let moved = context.clone();
    edited.entries_mut(Section::Contexts).remove(old);
    edited
        .entries_mut(Section::Contexts)
        .insert(new.clone(), moved);
    if edited.current_context == *old {
        edited.current_context = new.clone();
    }
    modify_config(access, &start, &edited, true)?;
    out(&format!(
        "Context {} renamed to {}.\n",
        go_fmt::quote(old),
        go_fmt::quote(new)
    ));
    Ok(())
}
