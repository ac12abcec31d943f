//! `kubectl create -f …` and the generators (`create namespace|configmap|secret generic|
//! serviceaccount|deployment`).

mod cluster_role;
mod docker_registry;
mod ingress;
mod pdb;
mod priority_class;
mod quota;
mod tls;
mod token;

use clap::{Args, Subcommand};
use http::Method;
use serde_json::{json, Value};

use super::generators as gen;
use super::print_flags::{DryRunFlag, PrintFlags};
use super::write::{Write, WriteArgs};
use super::Ctx;
use super::{data_sources, name_hash};
use crate::client::{ApiClient, Body};
use crate::error::{KubectlError, Result};
use crate::manifest::{self, Manifest};
use crate::merge;
use crate::printers::{go_order, OutputFormat};

// Their home is `print_flags`; still named here for the commands that import them from here.
pub use super::print_flags::DryRun;

/// `kubectl create`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CreateArgs {
    #[command(subcommand)]
    generator: Option<Generator>,
    #[command(flatten)]
    files: FileArgs,
    #[command(flatten)]
    common: CreateCommon,
}

/// `-f/-R` as every file-driven command takes them.
#[derive(Debug, Args, Clone)]
pub struct FileArgs {
    /// Filename, directory, or URL to files to use. Upstream's flag is a string slice:
    /// `-f a.yaml,b.yaml` names two files.
    #[arg(short = 'f', long = "filename", value_delimiter = ',')]
    pub filename: Vec<String>,
    /// Process the directory used in -f, --filename recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,
}

/// Output, dry-run and write flags of the commands that send whole objects (create,
/// replace, apply).
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    #[command(flatten)]
    pub print_flags: PrintFlags,
    #[command(flatten)]
    pub dry_run: DryRunFlag,
    #[command(flatten)]
    pub write: WriteArgs,
}

impl CommonArgs {
    /// Prints what a write answered as these flags ask.
    pub fn print(&self, format: &OutputFormat, obj: &Value, verb: &str, dry: DryRun) -> Result<()> {
        self.print_flags.print(format, obj, verb, dry)
    }
}

/// `create`'s flags: the common ones and `--save-config`.
#[derive(Debug, Args, Clone)]
pub struct CreateCommon {
    #[command(flatten)]
    pub common: CommonArgs,
    /// If true, the configuration of current object will be saved in its annotation.
    #[arg(long)]
    pub save_config: bool,
}

#[derive(Debug, Subcommand)]
enum Generator {
    /// Create a namespace with the specified name.
    #[command(alias = "ns")]
    Namespace {
        name: String,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a config map from a local file, directory or literal value.
    #[command(alias = "cm")]
    Configmap {
        name: String,
        #[arg(long = "from-literal")]
        from_literal: Vec<String>,
        #[arg(long = "from-file")]
        from_file: Vec<String>,
        /// KEY=VALUE lines of a file (may be repeated).
        #[arg(long = "from-env-file")]
        from_env_file: Vec<String>,
        /// Append a hash of the content to the name.
        #[arg(long)]
        append_hash: bool,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a secret.
    Secret {
        #[command(subcommand)]
        kind: SecretKind,
    },
    /// Create a service account with the specified name.
    #[command(alias = "sa")]
    Serviceaccount {
        name: String,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a deployment with the specified name.
    #[command(alias = "deploy")]
    Deployment {
        name: String,
        #[arg(long, required = true)]
        image: Vec<String>,
        #[arg(short = 'r', long, default_value_t = 1)]
        replicas: i64,
        #[arg(long)]
        port: Option<i64>,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a service using a specified subcommand.
    #[command(alias = "svc")]
    Service {
        #[command(subcommand)]
        kind: ServiceKind,
    },
    /// Create a job with the specified name.
    Job {
        name: String,
        #[arg(long)]
        image: Option<String>,
        /// The name of the resource to create a Job from (only cronjob is supported).
        #[arg(long)]
        from: Option<String>,
        #[command(flatten)]
        common: CreateCommon,
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Create a cron job with the specified name.
    #[command(alias = "cj")]
    Cronjob {
        name: String,
        #[arg(long, required = true)]
        image: String,
        #[arg(long, required = true)]
        schedule: String,
        #[arg(long, default_value = "OnFailure")]
        restart: String,
        #[command(flatten)]
        common: CreateCommon,
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Create a role with single rule.
    Role {
        name: String,
        #[command(flatten)]
        rule: RuleArgs,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a cluster role.
    Clusterrole {
        name: String,
        #[command(flatten)]
        rule: RuleArgs,
        /// A granular path for non-resource URLs that the rule applies to.
        #[arg(long = "non-resource-url", value_delimiter = ',')]
        non_resource_url: Vec<String>,
        /// An aggregation label selector for combining ClusterRoles.
        #[arg(long = "aggregation-rule", value_parser = crate::flags::go_string_map)]
        aggregation_rule: Vec<Vec<(String, String)>>,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a role binding for a particular role or cluster role.
    Rolebinding {
        name: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        clusterrole: Option<String>,
        #[command(flatten)]
        subjects: SubjectArgs,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a cluster role binding for a particular cluster role.
    Clusterrolebinding {
        name: String,
        #[arg(long)]
        clusterrole: Option<String>,
        #[command(flatten)]
        subjects: SubjectArgs,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Request a service account token.
    Token(token::TokenArgs),
    /// Create a quota with the specified name.
    #[command(
        alias = "resourcequota",
        long_about = "Create a resource quota with the specified name, hard limits, and optional scopes."
    )]
    Quota {
        name: String,
        /// A comma-delimited set of resource=quantity pairs that define a hard limit.
        #[arg(
            long,
            default_value = "",
            overrides_with = "hard",
            allow_hyphen_values = true
        )]
        hard: String,
        /// A comma-delimited set of quota scopes that must all match each object tracked by the quota.
        #[arg(
            long,
            default_value = "",
            overrides_with = "scopes",
            allow_hyphen_values = true
        )]
        scopes: String,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a priority class with the specified name.
    #[command(
        alias = "pc",
        long_about = "Create a priority class with the specified name, value, globalDefault and description."
    )]
    Priorityclass {
        name: String,
        /// the value of this priority class.
        #[arg(
            long,
            default_value_t = 0,
            allow_hyphen_values = true,
            overrides_with = "value"
        )]
        value: i32,
        /// global-default specifies whether this PriorityClass should be considered as the default priority.
        #[arg(long)]
        global_default: bool,
        /// description is an arbitrary string that usually provides guidelines on when this priority class should be used.
        #[arg(
            long,
            default_value = "",
            overrides_with = "description",
            allow_hyphen_values = true
        )]
        description: String,
        /// preemption-policy is the policy for preempting pods with lower priority.
        #[arg(
            long,
            default_value = "PreemptLowerPriority",
            overrides_with = "preemption_policy",
            allow_hyphen_values = true
        )]
        preemption_policy: String,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a pod disruption budget with the specified name.
    #[command(
        alias = "pdb",
        long_about = "Create a pod disruption budget with the specified name, selector, and desired minimum available pods."
    )]
    Poddisruptionbudget {
        name: String,
        /// A label selector to use for this budget. Only equality-based selector requirements are supported.
        #[arg(
            long,
            default_value = "",
            overrides_with = "selector",
            allow_hyphen_values = true
        )]
        selector: String,
        /// The minimum number or percentage of available pods this budget requires.
        #[arg(
            long,
            default_value = "",
            overrides_with = "min_available",
            allow_hyphen_values = true
        )]
        min_available: String,
        /// The maximum number or percentage of unavailable pods this budget requires.
        #[arg(
            long,
            default_value = "",
            overrides_with = "max_unavailable",
            allow_hyphen_values = true
        )]
        max_unavailable: String,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create an ingress with the specified name.
    #[command(
        alias = "ing",
        long_about = "Create an ingress with the specified name."
    )]
    Ingress {
        name: String,
        /// Ingress Class to be used
        #[arg(
            long,
            default_value = "",
            overrides_with = "class",
            allow_hyphen_values = true
        )]
        class: String,
        /// Rule in format host/path=service:port[,tls=secretname]. Paths containing the leading character '*' are considered pathType=Prefix. tls argument is optional.
        #[arg(long, allow_hyphen_values = true)]
        rule: Vec<String>,
        /// Default service for backend, in format of svcname:port
        #[arg(
            long,
            default_value = "",
            overrides_with = "default_backend",
            allow_hyphen_values = true
        )]
        default_backend: String,
        /// Annotation to insert in the ingress object, in the format annotation=value
        #[arg(long, allow_hyphen_values = true)]
        annotation: Vec<String>,
        #[command(flatten)]
        common: CreateCommon,
    },
}

/// `--verb/--resource/--resource-name` of `create role|clusterrole`.
#[derive(Debug, Args, Clone)]
struct RuleArgs {
    #[arg(long, value_delimiter = ',')]
    verb: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    resource: Vec<String>,
    #[arg(long = "resource-name")]
    resource_name: Vec<String>,
}

/// Binding subjects.
#[derive(Debug, Args, Clone)]
struct SubjectArgs {
    /// Usernames to bind to the role (given as `--user`; see `rewrite_shadowed_flags`).
    #[arg(id = "binding_user", long = "binding-user", value_delimiter = ',')]
    user: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    group: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    serviceaccount: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum ServiceKind {
    /// Create a ClusterIP service.
    Clusterip {
        name: String,
        #[arg(long, value_delimiter = ',')]
        tcp: Vec<String>,
        #[arg(long)]
        clusterip: Option<String>,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a NodePort service.
    Nodeport {
        name: String,
        #[arg(long, value_delimiter = ',')]
        tcp: Vec<String>,
        #[arg(long = "node-port")]
        node_port: Option<i64>,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a LoadBalancer service.
    Loadbalancer {
        name: String,
        #[arg(long, value_delimiter = ',')]
        tcp: Vec<String>,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create an ExternalName service.
    Externalname {
        name: String,
        #[arg(long = "external-name", required = true)]
        external_name: String,
        #[arg(long, value_delimiter = ',')]
        tcp: Vec<String>,
        #[command(flatten)]
        common: CreateCommon,
    },
}

#[derive(Debug, Subcommand)]
enum SecretKind {
    /// Create a secret for use with a Docker registry.
    DockerRegistry {
        name: String,
        /// Username for Docker registry authentication
        #[arg(long, default_value = "", allow_hyphen_values = true)]
        docker_username: String,
        /// Password for Docker registry authentication
        #[arg(long, default_value = "", allow_hyphen_values = true)]
        docker_password: String,
        /// Email for Docker registry
        #[arg(long, default_value = "", allow_hyphen_values = true)]
        docker_email: String,
        /// Server location for Docker registry
        #[arg(long, default_value = docker_registry::DEFAULT_SERVER, allow_hyphen_values = true)]
        docker_server: String,
        /// Key files can be specified using their file path, in which case a default name will be given to them, or optionally with a name and file path, in which case the given name will be used.
        #[arg(long = "from-file", value_delimiter = ',')]
        from_file: Vec<String>,
        /// Append a hash of the secret to its name.
        #[arg(long)]
        append_hash: bool,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a TLS secret.
    Tls {
        name: String,
        /// Path to PEM encoded public key certificate.
        #[arg(long, default_value = "")]
        cert: String,
        /// Path to private key associated with given certificate.
        #[arg(long, default_value = "")]
        key: String,
        /// Append a hash of the secret to its name.
        #[arg(long)]
        append_hash: bool,
        #[command(flatten)]
        common: CreateCommon,
    },
    /// Create a secret from a local file, directory, or literal value.
    Generic {
        name: String,
        #[arg(long = "from-literal")]
        from_literal: Vec<String>,
        #[arg(long = "from-file")]
        from_file: Vec<String>,
        /// KEY=VALUE lines of a file (may be repeated).
        #[arg(long = "from-env-file")]
        from_env_file: Vec<String>,
        /// Append a hash of the content to the name.
        #[arg(long)]
        append_hash: bool,
        #[arg(long = "type")]
        secret_type: Option<String>,
        #[command(flatten)]
        common: CreateCommon,
    },
}

/// Runs `kubectl create`.
pub async fn run(ctx: &Ctx, args: CreateArgs) -> Result<()> {
    let (object, common) = match args.generator {
        None => return create_files(ctx, &args.files, &args.common).await,
        Some(Generator::Namespace { name, common }) => (
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name,
                   "creationTimestamp": null}, "spec": {}, "status": {}}),
            common,
        ),
        Some(Generator::Configmap {
            name,
            from_literal,
            from_file,
            from_env_file,
            append_hash,
            common,
        }) => {
            let sources = data_sources::Sources {
                files: &from_file,
                literals: &from_literal,
                env_files: &from_env_file,
            };
            let data = data_sources::collect(sources, data_sources::Holder::ConfigMap, &name)?;
            let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": name, "creationTimestamp": null}});
            if !data.is_empty() {
                cm["data"] = Value::Object(data);
            }
            if append_hash {
                name_hash::append_to_name(&mut cm);
            }
            (cm, common)
        }
        Some(Generator::Secret {
            kind:
                SecretKind::Generic {
                    name,
                    from_literal,
                    from_file,
                    from_env_file,
                    append_hash,
                    secret_type,
                    common,
                },
        }) => {
            let sources = data_sources::Sources {
                files: &from_file,
                literals: &from_literal,
                env_files: &from_env_file,
            };
            let data = data_sources::collect(sources, data_sources::Holder::Secret, &name)?;
            let mut s = json!({"apiVersion": "v1", "kind": "Secret",
                               "metadata": {"name": name, "creationTimestamp": null}});
            if !data.is_empty() {
                s["data"] = Value::Object(data);
            }
            if let Some(t) = secret_type {
                s["type"] = json!(t);
            }
            if append_hash {
                name_hash::append_to_name(&mut s);
            }
            (s, common)
        }
        Some(Generator::Serviceaccount { name, common }) => (
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": name, "creationTimestamp": null}}),
            common,
        ),
        Some(Generator::Deployment {
            name,
            image,
            replicas,
            port,
            common,
        }) => (deployment(&name, &image, replicas, port), common),
        Some(Generator::Secret {
            kind:
                SecretKind::Tls {
                    name,
                    cert,
                    key,
                    append_hash,
                    common,
                },
        }) => (tls::secret(&name, &cert, &key, append_hash)?, common),
        Some(Generator::Secret {
            kind:
                SecretKind::DockerRegistry {
                    name,
                    docker_username,
                    docker_password,
                    docker_email,
                    docker_server,
                    from_file,
                    append_hash,
                    common,
                },
        }) => (
            docker_registry::secret(&docker_registry::DockerRegistry {
                name: &name,
                username: &docker_username,
                password: &docker_password,
                email: &docker_email,
                server: &docker_server,
                from_file: &from_file,
                append_hash,
            })?,
            common,
        ),
        Some(Generator::Service { kind }) => {
            let (obj, mut common) = match kind {
                ServiceKind::Clusterip {
                    name,
                    tcp,
                    clusterip,
                    common,
                } => (
                    gen::service(&name, "ClusterIP", &tcp, clusterip.as_deref(), None, None)?,
                    common,
                ),
                ServiceKind::Nodeport {
                    name,
                    tcp,
                    node_port,
                    common,
                } => (
                    gen::service(&name, "NodePort", &tcp, None, node_port, None)?,
                    common,
                ),
                ServiceKind::Loadbalancer { name, tcp, common } => (
                    gen::service(&name, "LoadBalancer", &tcp, None, None, None)?,
                    common,
                ),
                ServiceKind::Externalname {
                    name,
                    external_name,
                    tcp,
                    common,
                } => (
                    gen::service(
                        &name,
                        "ExternalName",
                        &tcp,
                        None,
                        None,
                        Some(&external_name),
                    )?,
                    common,
                ),
            };
            // Upstream's service generators never read --save-config: nothing is recorded.
            common.save_config = false;
            (obj, common)
        }
        Some(Generator::Job {
            name,
            image,
            from,
            common,
            command,
        }) => {
            let obj = match (from, image) {
                (Some(from), None) => {
                    let (ty, cj_name) = from.split_once('/').unwrap_or(("", from.as_str()));
                    if !matches!(
                        ty,
                        "cronjob" | "cronjobs" | "cj" | "cronjob.batch" | "cronjobs.batch"
                    ) {
                        return Err(KubectlError::usage(format!("unknown object type {ty}")));
                    }
                    let client = ctx.client().await?;
                    let cj = client
                        .get(&format!(
                            "/apis/batch/v1/namespaces/{}/cronjobs/{cj_name}",
                            client.namespace
                        ))
                        .await?;
                    gen::job_from_cron_job(&name, &cj)
                }
                (None, Some(image)) => gen::job(&name, &image, &command),
                (Some(_), Some(_)) => {
                    return Err(KubectlError::usage(
                        "either --image or --from must be specified",
                    ))
                }
                (None, None) => {
                    return Err(KubectlError::usage(
                        "either --image or --from must be specified",
                    ))
                }
            };
            (obj, common)
        }
        Some(Generator::Cronjob {
            name,
            image,
            schedule,
            restart,
            common,
            command,
        }) => (
            gen::cron_job(&name, &image, &schedule, &restart, &command),
            common,
        ),
        Some(Generator::Role { name, rule, common }) => {
            let rules = rules_for(ctx, &rule, &[]).await?;
            (gen::role("Role", &name, rules), common)
        }
        Some(Generator::Clusterrole {
            name,
            rule,
            non_resource_url,
            aggregation_rule,
            common,
        }) => {
            let request = cluster_role::Request::new(
                &rule.verb,
                &rule.resource,
                &rule.resource_name,
                &non_resource_url,
                &aggregation_rule,
            );
            if request.validate()? {
                (
                    cluster_role::aggregated(&name, &request.aggregation),
                    common,
                )
            } else {
                let rules = rules_for(ctx, &rule, &request.non_resource_urls).await?;
                (gen::role("ClusterRole", &name, rules), common)
            }
        }
        Some(Generator::Rolebinding {
            name,
            role,
            clusterrole,
            subjects,
            common,
        }) => {
            let (kind, role_name) = match (role, clusterrole) {
                (Some(r), None) => ("Role", r),
                (None, Some(c)) => ("ClusterRole", c),
                _ => {
                    return Err(KubectlError::usage(
                        "exactly one of clusterrole or role must be specified",
                    ))
                }
            };
            let b = gen::role_binding(
                "RoleBinding",
                &name,
                kind,
                &role_name,
                &subjects.user,
                &subjects.group,
                &subjects.serviceaccount,
            )?;
            (b, common)
        }
        Some(Generator::Clusterrolebinding {
            name,
            clusterrole,
            subjects,
            common,
        }) => {
            let Some(role_name) = clusterrole else {
                return Err(KubectlError::usage(
                    "required flag(s) \"clusterrole\" not set",
                ));
            };
            let b = gen::role_binding(
                "ClusterRoleBinding",
                &name,
                "ClusterRole",
                &role_name,
                &subjects.user,
                &subjects.group,
                &subjects.serviceaccount,
            )?;
            (b, common)
        }
        Some(Generator::Token(args)) => return token::run(ctx, &args).await,
        Some(Generator::Quota {
            name,
            hard,
            scopes,
            common,
        }) => (quota::quota(&name, &hard, &scopes)?, common),
        Some(Generator::Priorityclass {
            name,
            value,
            global_default,
            description,
            preemption_policy,
            common,
        }) => {
            let request = priority_class::Request {
                name: &name,
                value,
                global_default,
                description: &description,
                preemption_policy: &preemption_policy,
            };
            (priority_class::priority_class(&request), common)
        }
        Some(Generator::Poddisruptionbudget {
            name,
            selector,
            min_available,
            max_unavailable,
            common,
        }) => {
            let request = pdb::Request {
                name: &name,
                selector: &selector,
                min_available: &min_available,
                max_unavailable: &max_unavailable,
            };
            (pdb::pdb(&request)?, common)
        }
        Some(Generator::Ingress {
            name,
            class,
            rule,
            default_backend,
            annotation,
            common,
        }) => {
            let request = ingress::Request {
                name: &name,
                class: &class,
                rules: &rule,
                default_backend: &default_backend,
                annotations: &annotation,
            };
            (ingress::ingress(&request)?, common)
        }
    };
    let prefix = generated_failure_prefix(&object);
    let m = Manifest {
        source: String::new(),
        object,
    };
    create_manifests(ctx, vec![m], &common)
        .await
        .map_err(|e| match &prefix {
            Some(p) => wrapped_failure(e, p),
            None => e,
        })
}

/// How upstream's generator for `obj` words a server's refusal: most wrap it as a client
/// error (`error: failed to create deployment: Deployment.apps "x" is invalid: …`); the
/// namespace, role and clusterrole generators pass it on as it is.
fn generated_failure_prefix(obj: &Value) -> Option<String> {
    let what = match obj["kind"].as_str().unwrap_or_default() {
        "Namespace" | "Role" | "ClusterRole" => return None,
        // Upstream leaves out the colon here.
        "Secret" => return Some("failed to create secret ".into()),
        "Service" => {
            let kind = obj["spec"]["type"].as_str().unwrap_or("ClusterIP");
            return Some(format!("failed to create {kind} service: "));
        }
        "ConfigMap" => "configmap",
        "Deployment" => "deployment",
        "Ingress" => "ingress",
        "Job" => "job",
        "CronJob" => "cronjob",
        "PodDisruptionBudget" => "poddisruptionbudgets",
        "PriorityClass" => "priorityclass",
        "ResourceQuota" => "quota",
        "RoleBinding" => "rolebinding",
        "ClusterRoleBinding" => "clusterrolebinding",
        "ServiceAccount" => "serviceaccount",
        _ => return None,
    };
    Some(format!("failed to create {what}: "))
}

/// A server's refusal as a client error behind `prefix` (upstream's
/// `fmt.Errorf("failed to create …: %v", err)`, which prints the Status's message alone).
fn wrapped_failure(e: KubectlError, prefix: &str) -> KubectlError {
    match e {
        KubectlError::Server { message, .. } => KubectlError::usage(format!("{prefix}{message}")),
        other => other,
    }
}

/// Resolves `--resource` words through discovery (`deploy` → `apps`, `deployments`) and
/// builds the rules.
async fn rules_for(ctx: &Ctx, rule: &RuleArgs, non_resource_urls: &[String]) -> Result<Vec<Value>> {
    if rule.verb.is_empty() {
        return Err(KubectlError::usage("at least one verb must be specified"));
    }
    if rule.resource.is_empty() && non_resource_urls.is_empty() {
        return Err(KubectlError::usage(
            "at least one resource must be specified",
        ));
    }
    for w in gen::nonstandard_verbs(&rule.verb) {
        eprintln!("Warning: '{w}' is not a standard resource verb");
    }
    let mut resources = Vec::new();
    if !rule.resource.is_empty() {
        let (client, mut disc) = ctx.client_and_discovery().await?;
        for r in &rule.resource {
            let (word, sub) = r
                .split_once('/')
                .map_or((r.as_str(), None), |(a, b)| (a, Some(b)));
            if word == "*" {
                resources.push((String::new(), "*".to_string()));
                continue;
            }
            // Upstream prints the mapper's error without the `error: ` prefix.
            let res = disc.resolve(&client, word).await.map_err(|e| {
                eprintln!("{}", e.to_string().trim_start_matches("error: "));
                KubectlError::Reported
            })?;
            let mut plural = res.plural.clone();
            if let Some(sub) = sub {
                plural = format!("{plural}/{sub}");
            }
            resources.push((res.group.clone(), plural));
        }
    }
    Ok(gen::policy_rules(
        &rule.verb,
        &resources,
        &rule.resource_name,
        non_resource_urls,
    ))
}

/// A Go duration (`1h30m`, `600s`) in whole seconds.
pub fn parse_duration(d: &str) -> Option<i64> {
    common::duration::parse(d)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
}

/// What `create deployment` generates (upstream's shape: app=<name> labels, containers named
/// after their images).
fn deployment(name: &str, images: &[String], replicas: i64, port: Option<i64>) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .map(|img| {
            let base = img.rsplit('/').next().unwrap_or(img);
            let base = base.split(['@', ':']).next().unwrap_or(base);
            let cname: String = base
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect();
            let mut c = json!({"name": cname, "image": img, "resources": {}});
            if let Some(p) = port {
                c["ports"] = json!([{"containerPort": p}]);
            }
            c
        })
        .collect();
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}, "creationTimestamp": null},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {},
            "template": {
                "metadata": {"labels": {"app": name}, "creationTimestamp": null},
                "spec": {"containers": containers}
            }
        },
        "status": {}
    })
}

async fn create_files(ctx: &Ctx, files: &FileArgs, flags: &CreateCommon) -> Result<()> {
    if files.filename.is_empty() {
        return Err(KubectlError::usage(
            "must specify one of -f and -k\n\nerror: unknown command \"\"\nSee 'kubectl create -h' for help and examples",
        ));
    }
    let manifests = manifest::read_all(&files.filename, files.recursive)?;
    create_manifests(ctx, manifests, flags).await
}

/// The kinds `create` generates that have no namespace, so that `-n` does not give them one
/// when no server is asked.
const CLUSTER_SCOPED_GENERATED: [&str; 4] = [
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
];

async fn create_manifests(ctx: &Ctx, manifests: Vec<Manifest>, flags: &CreateCommon) -> Result<()> {
    let common = &flags.common;
    let format = common.print_flags.format()?;
    let dry = common.dry_run.strategy()?;
    let write = common.write.write("kubectl-create", dry)?;
    let client = ctx.client().await?;
    // A generated object printed by a client dry run needs no server (the common
    // `create secret … --dry-run=client -o yaml > file` works offline, as upstream).
    let offline = dry == DryRun::Client && manifests.iter().all(|m| m.source.is_empty());
    if offline {
        for m in manifests {
            let mut obj = m.object;
            let kind = obj["kind"].as_str().unwrap_or_default();
            if client.namespace_explicit && !CLUSTER_SCOPED_GENERATED.contains(&kind) {
                obj["metadata"]["namespace"] = serde_json::json!(client.namespace);
            }
            if flags.save_config {
                obj = go_order::with_last_applied(&obj);
            }
            common
                .print_flags
                .print_typed(&format, &obj, "created", dry)?;
        }
        return Ok(());
    }
    let disc = crate::discovery::Discovery::load(&client).await?;
    let mut errors = Vec::new();
    for m in manifests {
        let res = match manifest::resource_for(&disc, &m) {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let ns = manifest::namespace_for(&m, res, &client.namespace, client.namespace_explicit)?;
        // Generated objects carry a namespace only when -n was given (upstream's
        // EnforceNamespace); files keep or get theirs.
        let keep_ns = !m.source.is_empty() || client.namespace_explicit || dry != DryRun::Client;
        let mut m = manifest::with_namespace(&m, ns.as_deref().filter(|_| keep_ns));
        // A generator's object is a Go struct upstream, so are the answers its typed client
        // gets; a file's object stays unstructured.
        let generated = m.source.is_empty();
        if flags.save_config {
            m.object = if generated {
                go_order::with_last_applied(&m.object)
            } else {
                merge::with_last_applied(&m.object)
            };
        }
        let created = if dry == DryRun::Client {
            Ok(m.object.clone())
        } else {
            post(
                &client,
                &res.collection_path(ns.as_deref()),
                &m.object,
                &write,
            )
            .await
        };
        match created {
            Ok(obj) if generated => common
                .print_flags
                .print_typed(&format, &obj, "created", dry)?,
            Ok(obj) => common.print(&format, &obj, "created", dry)?,
            Err(e) => {
                let ctx = if m.source.is_empty() {
                    String::new()
                } else {
                    format!("error when creating \"{}\": ", m.source)
                };
                errors.push(e.with_context(ctx));
            }
        }
    }
    super::get::report(errors)
}

/// POSTs an object to a collection.
pub async fn post(client: &ApiClient, path: &str, obj: &Value, write: &Write) -> Result<Value> {
    client
        .request(
            Method::POST,
            &format!("{path}{}", write.query()),
            "application/json",
            Some(Body::json(obj)),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_generator_shape() {
        let d = deployment(
            "web",
            &["registry.local/team/nginx:1.25".into()],
            2,
            Some(80),
        );
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["name"],
            "nginx"
        );
        assert_eq!(d["spec"]["selector"]["matchLabels"]["app"], "web");
        assert_eq!(d["spec"]["replicas"], 2);
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
            80
        );
    }
}
