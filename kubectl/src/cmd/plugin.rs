//! `kubectl plugin list`: the plugins on `$PATH` and what is wrong with them.

use clap::{Args, Subcommand};

use super::{out, Cli};
use crate::error::{KubectlError, Result};
use crate::plugins;

/// `kubectl plugin`
#[derive(Debug, Args)]
pub struct PluginArgs {
    #[command(subcommand)]
    command: PluginCommand,
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// List all visible plugin executables on a user's PATH.
    List {
        /// If true, display only the binary name of each plugin, rather than its full path.
        #[arg(long)]
        name_only: bool,
    },
}

/// Runs `kubectl plugin …`.
pub fn run(args: PluginArgs) -> Result<()> {
    let PluginCommand::List { name_only } = args.command;
    let path_var = std::env::var("PATH").unwrap_or_default();
    let found = plugins::all(&path_var);
    if found.is_empty() {
        return Err(KubectlError::usage(
            "unable to find any kubectl plugins in your PATH",
        ));
    }
    let root = <Cli as clap::CommandFactory>::command();
    let problems = plugins::problems(&found, |words| is_builtin(&root, words));
    out("The following compatible plugins are available:\n\n");
    let mut warnings = 0;
    for (plugin, problems) in found.iter().zip(problems) {
        let shown = match (name_only, plugin.file_name()) {
            (true, Some(name)) => name.to_string_lossy().into_owned(),
            _ => plugin.display().to_string(),
        };
        out(&format!("{shown}\n"));
        for problem in problems {
            eprintln!("  - {problem}");
            warnings += 1;
        }
    }
    match warnings {
        0 => Ok(()),
        1 => Err(KubectlError::usage("one plugin warning was found")),
        n => Err(KubectlError::usage(format!(
            "{n} plugin warnings were found"
        ))),
    }
}

/// Whether `words` name a built-in command exactly (`["get"]`, `["config", "view"]`).
pub fn is_builtin(root: &clap::Command, words: &[&str]) -> bool {
    let mut command = root;
    for word in words {
        match command.find_subcommand(word) {
            Some(sub) => command = sub,
            None => return false,
        }
    }
    !words.is_empty()
}
