//! The help pages some `kubectl config` subcommands print on stdout when their arguments are
//! wrong (before the error on stderr), and `delete-context`/`delete-cluster` print instead
//! of failing, as upstream does. The pages are our own (clap's rendering of the command),
//! not upstream's text.

use crate::cmd::out;
use crate::error::KubectlError;

/// A subcommand with a help page.
#[derive(Debug, Clone, Copy)]
pub enum Page {
    Set,
    Unset,
    SetCluster,
    SetCredentials,
    SetContext,
    UseContext,
    DeleteContext,
    DeleteCluster,
    RenameContext,
}

impl Page {
    /// The subcommand's name under `kubectl config`.
    fn name(self) -> &'static str {
        match self {
            Page::Set => "set",
            Page::Unset => "unset",
            Page::SetCluster => "set-cluster",
            Page::SetCredentials => "set-credentials",
            Page::SetContext => "set-context",
            Page::UseContext => "use-context",
            Page::DeleteContext => "delete-context",
            Page::DeleteCluster => "delete-cluster",
            Page::RenameContext => "rename-context",
        }
    }

    fn text(self) -> String {
        let mut root = <crate::cmd::Cli as clap::CommandFactory>::command();
        root.find_subcommand_mut("config")
            .and_then(|config| config.find_subcommand_mut(self.name()))
            .map(|page| page.render_help().to_string())
            .unwrap_or_default()
    }

    /// Prints the page.
    pub fn show(self) {
        out(&self.text());
    }

    /// Prints the page and gives the error to report after it.
    pub fn with_error(self, message: impl std::fmt::Display) -> KubectlError {
        self.show();
        KubectlError::usage(message)
    }

    /// The page and upstream's `Unexpected args: [..]` error for a wrong argument count.
    pub fn unexpected_args(self, args: &[String]) -> KubectlError {
        self.with_error(format!("Unexpected args: {}", super::go_fmt::list(args)))
    }
}
