//! The command tree: global flags, one module per command, and the shared context (kubeconfig,
//! client, discovery) they run with.

pub mod api_resources;
pub mod api_versions;
pub mod apply;
pub mod apply_conflicts;
pub mod apply_edit_last_applied;
pub mod apply_force;
pub mod apply_last_applied;
pub mod apply_options;
pub mod apply_prune;
pub mod attach;
pub mod attachable;
pub mod auth;
pub mod autoscale;
pub mod certificate;
pub mod cluster_info;
pub mod completion;
pub mod config;
pub mod cordon;
pub mod cp;
pub mod create;
pub mod data_sources;
pub mod debug;
pub mod delete;
pub mod describe;
pub mod diff;
pub mod drain;
pub mod edit;
pub mod events;
pub mod exec;
pub mod explain;
pub mod expose;
pub mod generators;
pub mod get;
pub mod label;
pub mod logs;
pub mod name_hash;
pub mod overrides;
pub mod patch;
pub mod plugin;
pub mod port_forward;
pub mod print_flags;
pub mod proxy;
pub mod replace;
pub mod rollout;
pub mod run;
pub mod scale;
pub mod set;
pub mod taint;
pub mod top;
pub mod version;
pub mod wait;
pub mod write;

use clap::{Args, Parser, Subcommand};

use crate::client::ApiClient;
use crate::discovery::Discovery;
use crate::error::Result;
use crate::kubeconfig::{KubeConfig, Overrides};

/// kubectl controls the Kubernetes cluster manager.
#[derive(Debug, Parser)]
#[command(name = "kubectl", disable_version_flag = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts (upstream's persistent flags).
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file to use for CLI requests.
    #[arg(long, global = true)]
    pub kubeconfig: Option<String>,
    /// The name of the kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The name of the kubeconfig cluster to use.
    #[arg(long, global = true)]
    pub cluster: Option<String>,
    /// The name of the kubeconfig user to use.
    #[arg(long, global = true)]
    pub user: Option<String>,
    /// If present, the namespace scope for this CLI request.
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// The address and port of the Kubernetes API server.
    #[arg(short = 's', long, global = true)]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server.
    #[arg(long, global = true)]
    pub token: Option<String>,
    /// Path to a cert file for the certificate authority.
    #[arg(long, global = true)]
    pub certificate_authority: Option<String>,
    /// If true, the server's certificate will not be checked for validity.
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,
    /// Checked as upstream checks it (seconds or a Go duration); requests are not timed
    /// out separately.
    #[arg(long, global = true)]
    pub request_timeout: Option<String>,
    /// Log level (accepted for compatibility).
    #[arg(short = 'v', long = "v", global = true)]
    pub verbosity: Option<u32>,
    /// Username to impersonate for the operation (a user or `system:serviceaccount:NS:NAME`).
    #[arg(long = "as", global = true)]
    pub impersonate: Option<String>,
    /// Group to impersonate for the operation; may be repeated.
    #[arg(long = "as-group", global = true)]
    pub impersonate_group: Vec<String>,
    /// UID to impersonate for the operation.
    #[arg(long = "as-uid", global = true)]
    pub impersonate_uid: Option<String>,
    /// Path to a client certificate file for TLS.
    #[arg(long, global = true)]
    pub client_certificate: Option<String>,
    /// Path to a client key file for TLS.
    #[arg(long, global = true)]
    pub client_key: Option<String>,
    /// Server name to use for server certificate validation.
    #[arg(long, global = true)]
    pub tls_server_name: Option<String>,
    /// Username for basic authentication to the API server.
    #[arg(long, global = true)]
    pub username: Option<String>,
    /// Password for basic authentication to the API server.
    #[arg(long, global = true)]
    pub password: Option<String>,
    /// Accepted for compatibility: responses are never asked for compressed.
    #[arg(long, global = true)]
    pub disable_compression: bool,
    /// Accepted for compatibility.
    #[arg(long, global = true, hide = true)]
    pub match_server_version: bool,
    /// Accepted for compatibility (discovery is cached in its own place).
    #[arg(long, global = true, hide = true)]
    pub cache_dir: Option<String>,
    /// Accepted for compatibility (no Go profiler here).
    #[arg(long, global = true, hide = true)]
    pub profile: Option<String>,
    /// Accepted for compatibility (no Go profiler here).
    #[arg(long, global = true, hide = true)]
    pub profile_output: Option<String>,
    /// Accepted for compatibility (klog's flag).
    #[arg(long, global = true, hide = true)]
    pub vmodule: Option<String>,
    /// Accepted for compatibility (klog's flag).
    #[arg(long, global = true, hide = true)]
    pub log_flush_frequency: Option<String>,
    /// Treat warnings received from the server as errors and exit with a non-zero exit code.
    #[arg(long, global = true)]
    pub warnings_as_errors: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Modify kubeconfig files.
    Config(config::ConfigArgs),
    /// Print the client and server version information.
    Version(version::VersionArgs),
    /// Print the supported API resources on the server.
    #[command(name = "api-resources")]
    ApiResources(api_resources::ApiResourcesArgs),
    /// Print the supported API versions on the server.
    #[command(name = "api-versions")]
    ApiVersions,
    /// Display cluster information.
    #[command(name = "cluster-info")]
    ClusterInfo,
    /// Display one or many resources.
    Get(get::GetArgs),
    /// Create a resource from a file or from stdin.
    Create(create::CreateArgs),
    /// Apply a configuration to a resource by file name or stdin.
    Apply(apply::ApplyArgs),
    /// Delete resources by file names, stdin, resources and names, or by resources and label selector.
    Delete(delete::DeleteArgs),
    /// Update the labels on a resource.
    Label(label::LabelArgs),
    /// Update the annotations on a resource.
    Annotate(label::LabelArgs),
    /// Set a new size for a deployment, replica set, replication controller, or stateful set.
    Scale(scale::ScaleArgs),
    /// Update fields of a resource.
    Patch(patch::PatchArgs),
    /// Replace a resource by file name or stdin.
    Replace(replace::ReplaceArgs),
    /// Print the logs for a container in a pod.
    Logs(logs::LogsArgs),
    /// List events.
    Events(events::EventsArgs),
    /// Execute a command in a container.
    Exec(exec::ExecArgs),
    /// Attach to a running container.
    Attach(attach::AttachArgs),
    /// Create debugging sessions for troubleshooting workloads and nodes.
    Debug(debug::DebugArgs),
    /// Copy files and directories to and from containers.
    Cp(cp::CpArgs),
    /// Forward one or more local ports to a pod.
    #[command(name = "port-forward")]
    PortForward(port_forward::PortForwardArgs),
    /// Run a proxy to the Kubernetes API server.
    Proxy(proxy::ProxyArgs),
    /// Mark node as unschedulable.
    Cordon(cordon::CordonArgs),
    /// Mark node as schedulable.
    Uncordon(cordon::CordonArgs),
    /// Inspect authorization.
    Auth(auth::AuthArgs),
    /// Experimental: Wait for a specific condition on one or many resources.
    Wait(wait::WaitArgs),
    /// Manage the rollout of a resource.
    Rollout(rollout::RolloutArgs),
    /// Show details of a specific resource or group of resources.
    Describe(describe::DescribeArgs),
    /// Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service.
    Expose(expose::ExposeArgs),
    /// Run a particular image on the cluster.
    Run(run::RunArgs),
    /// Set specific features on objects.
    Set(set::SetArgs),
    /// Auto-scale a deployment, replica set, stateful set, or replication controller.
    Autoscale(autoscale::AutoscaleArgs),
    /// Drain node in preparation for maintenance.
    Drain(drain::DrainArgs),
    /// Diff the live version against a would-be applied version.
    Diff(diff::DiffArgs),
    /// Edit a resource on the server.
    Edit(edit::EditArgs),
    /// Get documentation for a resource.
    Explain(explain::ExplainArgs),
    /// Output shell completion code for the specified shell (bash, zsh or fish).
    Completion(completion::CompletionArgs),
    /// Provides utilities for interacting with plugins.
    Plugin(plugin::PluginArgs),
    /// Update the taints on one or more nodes.
    Taint(taint::TaintArgs),
    /// Display resource (CPU/memory) usage.
    Top(top::TopArgs),
    /// Modify certificate resources.
    Certificate(certificate::CertificateArgs),
}

/// What every command runs with: flags, the merged kubeconfig, and lazily a client.
pub struct Ctx {
    /// Global flags.
    pub global: GlobalArgs,
    /// Merged kubeconfig.
    pub kubeconfig: KubeConfig,
}

impl Ctx {
    /// Overrides from the global flags.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            context: self.global.context.clone(),
            cluster: self.global.cluster.clone(),
            user: self.global.user.clone(),
            namespace: self.global.namespace.clone(),
            server: self.global.server.clone(),
            token: self.global.token.clone(),
            insecure: self.global.insecure_skip_tls_verify,
            certificate_authority: self.global.certificate_authority.clone(),
            impersonate: self.global.impersonate.clone(),
            impersonate_groups: self.global.impersonate_group.clone(),
            impersonate_uid: self.global.impersonate_uid.clone(),
            client_certificate: self.global.client_certificate.clone(),
            client_key: self.global.client_key.clone(),
            tls_server_name: self.global.tls_server_name.clone(),
            username: self.global.username.clone(),
            password: self.global.password.clone(),
            request_timeout: self.global.request_timeout.clone(),
        }
    }

    /// A client for the selected context.
    pub async fn client(&self) -> Result<ApiClient> {
        ApiClient::connect(&self.kubeconfig, &self.overrides()).await
    }

    /// A client plus discovery (from cache when fresh).
    pub async fn client_and_discovery(&self) -> Result<(ApiClient, Discovery)> {
        let client = self.client().await?;
        let disc = Discovery::load(&client).await?;
        Ok((client, disc))
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    if let Command::Completion(a) = cli.command {
        return completion::run(a);
    }
    if let Command::Plugin(a) = cli.command {
        return plugin::run(a);
    }
    // `config` reads and writes the files itself, and may be creating them.
    if let Command::Config(a) = cli.command {
        return config::run(&cli.global, a);
    }
    let kubeconfig = KubeConfig::load(cli.global.kubeconfig.as_deref())?;
    let ctx = Ctx {
        global: cli.global,
        kubeconfig,
    };
    match cli.command {
        Command::Version(a) => version::run(&ctx, a).await,
        Command::ApiResources(a) => api_resources::run(&ctx, a).await,
        Command::ApiVersions => api_versions::run(&ctx).await,
        Command::ClusterInfo => cluster_info::run(&ctx).await,
        Command::Get(a) => get::run(&ctx, a).await,
        Command::Create(a) => create::run(&ctx, a).await,
        Command::Apply(a) => apply::run(&ctx, a).await,
        Command::Delete(a) => delete::run(&ctx, a).await,
        Command::Label(a) => label::run(&ctx, a, label::Kind::Label).await,
        Command::Annotate(a) => label::run(&ctx, a, label::Kind::Annotate).await,
        Command::Scale(a) => scale::run(&ctx, a).await,
        Command::Patch(a) => patch::run(&ctx, a).await,
        Command::Logs(a) => logs::run(&ctx, a).await,
        Command::Exec(a) => exec::run(&ctx, a).await,
        Command::Attach(a) => attach::run(&ctx, a).await,
        Command::Debug(a) => debug::run(&ctx, a).await,
        Command::Cp(a) => cp::run(&ctx, a).await,
        Command::PortForward(a) => port_forward::run(&ctx, a).await,
        Command::Cordon(a) => cordon::run(&ctx, a, true).await,
        Command::Uncordon(a) => cordon::run(&ctx, a, false).await,
        Command::Auth(a) => auth::run(&ctx, a).await,
        Command::Wait(a) => wait::run(&ctx, a).await,
        Command::Rollout(a) => rollout::run(&ctx, a).await,
        Command::Taint(a) => taint::run(&ctx, a).await,
        Command::Describe(a) => describe::run(&ctx, a).await,
        Command::Expose(a) => expose::run(&ctx, a).await,
        Command::Run(a) => run::run(&ctx, a).await,
        Command::Replace(a) => replace::run(&ctx, a).await,
        Command::Events(a) => events::run(&ctx, a).await,
        Command::Proxy(a) => proxy::run(&ctx, a).await,
        Command::Set(a) => set::run(&ctx, a).await,
        Command::Autoscale(a) => autoscale::run(&ctx, a).await,
        Command::Drain(a) => drain::run(&ctx, a).await,
        Command::Diff(a) => diff::run(&ctx, a).await,
        Command::Edit(a) => edit::run(&ctx, a).await,
        Command::Explain(a) => explain::run(&ctx, a).await,
        Command::Top(a) => top::run(&ctx, a).await,
        Command::Certificate(a) => certificate::run(&ctx, a).await,
        Command::Completion(_) | Command::Plugin(_) | Command::Config(_) => Ok(()),
    }
}

/// Writes to stdout, ignoring a closed pipe (`kubectl get … | head`).
pub fn out(s: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(s.as_bytes());
    let _ = stdout.flush();
}

/// Renames subcommand flags that share a name with a global flag (cobra lets a local flag
/// shadow a persistent one; clap would bind the global): `create rolebinding --user` and
/// `set subject --user` mean the binding's subject, not the kubeconfig user.
pub fn rewrite_shadowed_flags(args: Vec<String>) -> Vec<String> {
    let after = |command: &str, subcommands: &[&str]| {
        let pos = args
            .iter()
            .position(|a| subcommands.contains(&a.as_str()))?;
        args[..pos].iter().any(|a| a == command).then_some(pos)
    };
    let Some(pos) = after("create", &["rolebinding", "clusterrolebinding"])
        .or_else(|| after("set", &["subject"]))
    else {
        return args;
    };
    args.into_iter()
        .enumerate()
        .map(|(i, a)| {
            if i > pos && (a == "--user" || a.starts_with("--user=")) {
                a.replacen("--user", "--binding-user", 1)
            } else {
                a
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_user_is_not_the_kubeconfig_user() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            rewrite_shadowed_flags(v(&[
                "kubectl",
                "--user",
                "admin",
                "create",
                "rolebinding",
                "b",
                "--user=bob"
            ])),
            v(&[
                "kubectl",
                "--user",
                "admin",
                "create",
                "rolebinding",
                "b",
                "--binding-user=bob"
            ])
        );
        assert_eq!(
            rewrite_shadowed_flags(v(&["kubectl", "get", "--user=x"])),
            v(&["kubectl", "get", "--user=x"])
        );
        assert_eq!(
            rewrite_shadowed_flags(v(&[
                "kubectl",
                "set",
                "subject",
                "rolebinding",
                "rb",
                "--user",
                "amy"
            ])),
            v(&[
                "kubectl",
                "set",
                "subject",
                "rolebinding",
                "rb",
                "--binding-user",
                "amy"
            ])
        );
    }
}
