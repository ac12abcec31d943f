//! kubectl — Rudder's own kubectl: upstream's commands, flags, kubeconfig rules, output
//! formats, error texts and exit codes, on kube-client. Issue 8.

mod client;
mod cmd;
mod discovery;
mod error;
mod flags;
mod go_io;
mod klog;
mod kubeconfig;
mod label_selector;
mod manifest;
mod merge;
mod plugins;
mod printers;
mod remote;
mod resource;
mod strategic;
#[cfg(test)]
mod test_server;
mod validation;
mod warnings;
mod watch;

use crate::error::KubectlError;

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    run_plugin_if_named(&argv);
    let cli = match flags::parse(cmd::rewrite_shadowed_flags(argv)) {
        Ok(cli) => cli,
        Err(flags::Refused::Shown(help)) => help.exit(),
        Err(flags::Refused::Usage(text)) => {
            eprint!("{text}");
            std::process::exit(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let warnings_as_errors = cli.global.warnings_as_errors;
    let result = runtime
        .block_on(cmd::run(cli))
        .and_then(|()| match warnings::count() {
            // As upstream's post-run check: only a command that succeeded gets here.
            n if !warnings_as_errors || n == 0 => Ok(()),
            1 => Err(KubectlError::usage("1 warning received")),
            n => Err(KubectlError::usage(format!("{n} warnings received"))),
        });
    if let Err(e) = result {
        if !matches!(e, KubectlError::Reported | KubectlError::Exit(_)) {
            eprintln!("{}", e.final_message());
        }
        std::process::exit(e.exit_code());
    }
}

/// Hands the process over to a plugin when the line's first word is no built-in command and
/// names one, as upstream does before parsing its own flags. Returns when none is named.
fn run_plugin_if_named(argv: &[String]) {
    use std::os::unix::process::CommandExt;
    let Some(first) = argv.get(1) else {
        return;
    };
    let root = <cmd::Cli as clap::CommandFactory>::command();
    if first.starts_with('-') || first == "help" || root.find_subcommand(first).is_some() {
        return;
    }
    let path_var = std::env::var("PATH").unwrap_or_default();
    let Some((plugin, args)) = plugins::for_command_line(&argv[1..], &path_var) else {
        return;
    };
    let error = std::process::Command::new(&plugin)
        .arg0(&plugin)
        .args(args)
        .exec();
    eprintln!("Error: {error}");
    std::process::exit(1);
}
