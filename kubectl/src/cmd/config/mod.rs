//! `kubectl config`: reading and editing kubeconfig files as upstream's kubectl does.
//!
//! Every subcommand starts from the merged configuration of all kubeconfig files (`access`,
//! `model`), kept in the canonical form client-go gives it (`canonical`). Editing commands
//! change that merged view and hand it to `modify`, which writes each change to the file it
//! belongs in, as client-go's `ModifyConfig` does.

mod access;
mod canonical;
mod contexts;
mod delete;
mod file_refs;
mod go_fmt;
mod help;
mod model;
mod modify;
mod property_path;
mod set_cluster;
mod set_credentials;
mod set_property;
mod view;

use clap::{Args, Subcommand};

use super::GlobalArgs;
use crate::error::Result;

use access::ConfigAccess;
use model::Section;

/// `kubectl config`
#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

// Positional arguments are taken as lists and counted by each subcommand, because upstream
// answers a wrong count with its own words (and sometimes its help page), not clap's.
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
        /// Merge the full hierarchy of kubeconfig files.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        merge: bool,
        // `-o` defaults to yaml here.
        #[command(flatten)]
        print_flags: crate::cmd::print_flags::PrintFlags,
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
    GetClusters {
        /// Ignored, as upstream ignores them.
        #[arg(hide = true)]
        ignored: Vec<String>,
    },
    /// Display users defined in the kubeconfig.
    #[command(name = "get-users")]
    GetUsers {
        /// Ignored, as upstream ignores them.
        #[arg(hide = true)]
        ignored: Vec<String>,
    },
    /// Display the current-context.
    #[command(name = "current-context")]
    CurrentContext {
        /// Ignored, as upstream ignores them.
        #[arg(hide = true)]
        ignored: Vec<String>,
    },
    /// Set the current-context in a kubeconfig file.
    #[command(name = "use-context", alias = "use")]
    UseContext { args: Vec<String> },
    /// Set a context entry in kubeconfig.
    #[command(name = "set-context")]
    SetContext(contexts::SetContextArgs),
    /// Delete the specified context from the kubeconfig.
    #[command(name = "delete-context")]
    DeleteContext { args: Vec<String> },
    /// Rename a context from the kubeconfig file.
    #[command(name = "rename-context")]
    RenameContext { args: Vec<String> },
    /// Set a cluster entry in kubeconfig.
    #[command(name = "set-cluster")]
    SetCluster(set_cluster::SetClusterArgs),
    /// Delete the specified cluster from the kubeconfig.
    #[command(name = "delete-cluster")]
    DeleteCluster { args: Vec<String> },
    /// Set a user entry in kubeconfig.
    #[command(name = "set-credentials")]
    SetCredentials(set_credentials::SetCredentialsArgs),
    /// Delete the specified user from the kubeconfig.
    #[command(name = "delete-user")]
    DeleteUser { args: Vec<String> },
    /// Set an individual value in a kubeconfig file.
    Set(set_property::SetArgs),
    /// Unset an individual value in a kubeconfig file.
    Unset(set_property::UnsetArgs),
}

/// Runs `kubectl config …`. Only the global flags of `ctx` are used: these commands read the
/// kubeconfig files themselves (a missing `--kubeconfig` file is an empty one to them).
pub fn run(global: &GlobalArgs, args: ConfigArgs) -> Result<()> {
    let access = ConfigAccess::new(global.kubeconfig.as_deref())?;
    match args.command {
        ConfigCommand::View {
            raw,
            minify,
            flatten,
            merge,
            print_flags,
        } => view::view(
            &access,
            &view::ViewOptions {
                raw,
                minify,
                flatten,
                merge,
                print_flags: &print_flags,
                context: global.context.as_deref(),
            },
        ),
        ConfigCommand::GetContexts {
            names,
            no_headers,
            output,
        } => view::get_contexts(&access, &names, no_headers, output.as_deref()),
        ConfigCommand::GetClusters { .. } => view::get_names(&access, Section::Clusters),
        ConfigCommand::GetUsers { .. } => view::get_names(&access, Section::Users),
        ConfigCommand::CurrentContext { .. } => view::current_context(&access),
        ConfigCommand::UseContext { args } => contexts::use_context(&access, &args),
        ConfigCommand::SetContext(a) => contexts::set_context(&access, a),
        ConfigCommand::DeleteContext { args } => contexts::delete_context(&access, &args),
        ConfigCommand::RenameContext { args } => contexts::rename_context(&access, &args),
        ConfigCommand::SetCluster(a) => set_cluster::run(&access, a),
        ConfigCommand::DeleteCluster { args } => delete::delete_cluster(&access, &args),
        ConfigCommand::SetCredentials(a) => set_credentials::run(&access, a),
        ConfigCommand::DeleteUser { args } => delete::delete_user(&access, &args),
        ConfigCommand::Set(a) => set_property::run_set(&access, a),
        ConfigCommand::Unset(a) => set_property::run_unset(&access, a),
    }
}
