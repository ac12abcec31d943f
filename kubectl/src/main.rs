//! kubectl — Rudder's own kubectl: upstream's commands, flags, kubeconfig rules, output
//! formats, error texts and exit codes, on kube-client. Issue 8.

mod client;
mod cmd;
mod discovery;
mod error;
mod kubeconfig;
mod manifest;
mod merge;
mod printers;
mod remote;
mod resource;
mod watch;

use clap::Parser;

use crate::cmd::Cli;
use crate::error::KubectlError;

fn main() {
    let cli = Cli::parse_from(cmd::rewrite_shadowed_flags(std::env::args().collect()));
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
    let result = runtime.block_on(cmd::run(cli));
    if let Err(e) = result {
        if !matches!(e, KubectlError::Reported | KubectlError::Exit(_)) {
            eprintln!("{e}");
        }
        std::process::exit(e.exit_code());
    }
}
