//! `kubectl logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]`: streaming GETs of
//! `pods/<name>/log`, for one container, all containers of a pod, the pods of a selector
//! or of a workload. Checks and messages come in upstream's order: the command line, then
//! `--pod-running-timeout` and `--since-time`, then the object is read, then the flags are
//! validated, then pods and containers are chosen, then the logs are read.

mod consume;
mod containers;
mod go_time;
mod options;
mod target;

use std::time::Duration;

use clap::Args;
use serde_json::Value;

use super::exec::pod_running_timeout;
use super::Ctx;
use crate::client::ApiClient;
use crate::error::{KubectlError, Result};
use containers::{containers_to_read, LogSource};
use options::{LogFlags, LogOptions};
use target::Target;

/// Upstream's usage line, quoted in its usage errors.
const USAGE: &str = "logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]";

/// `kubectl logs`
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// POD or TYPE/NAME, optionally followed by a container name.
    args: Vec<String>,
    /// Print the logs of this container.
    #[arg(short = 'c', long)]
    container: Option<String>,
    /// Specify if the logs should be streamed.
    #[arg(short = 'f', long)]
    follow: bool,
    /// If true, print the logs for the previous instance of the container in a pod if it
    /// exists.
    #[arg(short = 'p', long)]
    previous: bool,
    /// Lines of recent log file to display. Defaults to -1 with no selector, showing all
    /// log lines otherwise 10, if a selector is provided.
    #[arg(long, allow_negative_numbers = true)]
    tail: Option<i64>,
    /// Only return logs newer than a relative duration like 5s, 2m, or 3h. Defaults to all
    /// logs. Only one of since-time / since may be used.
    #[arg(long, value_parser = crate::flags::go_duration)]
    since: Option<String>,
    /// Only return logs after a specific date (RFC3339). Defaults to all logs. Only one of
    /// since-time / since may be used.
    #[arg(long)]
    since_time: Option<String>,
    /// Include timestamps on each line in the log output.
    #[arg(long)]
    timestamps: bool,
    /// Maximum bytes of logs to return. Defaults to no limit.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    limit_bytes: i64,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Get all containers' logs in the pod(s).
    #[arg(long)]
    all_containers: bool,
    /// Get logs from all pod(s). Sets prefix to true.
    #[arg(long)]
    all_pods: bool,
    /// Prefix each log line with the log source (pod name and container name).
    #[arg(long)]
    prefix: bool,
    /// If watching / following pod logs, allow for any errors that occur to be non-fatal.
    #[arg(long)]
    ignore_errors: bool,
    /// Specify maximum number of concurrent logs to follow when using by a selector.
    /// Defaults to 5.
    #[arg(long, default_value_t = 5, allow_negative_numbers = true)]
    max_log_requests: i64,
    /// The length of time (like 5s, 2m, or 3h, higher than zero) to wait until at least one
    /// pod is running.
    #[arg(long, default_value = "20s", value_parser = crate::flags::go_duration)]
    pod_running_timeout: String,
    /// Skip verifying the identity of the kubelet that logs are requested from.
    #[arg(long)]
    insecure_skip_tls_verify_backend: bool,
}

impl LogsArgs {
    fn log_flags(&self) -> LogFlags<'_> {
        LogFlags {
            follow: self.follow,
            previous: self.previous,
            timestamps: self.timestamps,
            insecure_skip_tls_verify_backend: self.insecure_skip_tls_verify_backend,
            since: self.since.as_deref(),
            since_time: self.since_time.as_deref(),
            limit_bytes: self.limit_bytes,
            tail: self.tail,
            selector: self.selector().is_some(),
        }
    }

    /// `-l`, unless empty (upstream treats `-l ''` as no selector).
    fn selector(&self) -> Option<&str> {
        self.selector.as_deref().filter(|s| !s.is_empty())
    }
}

/// What the positional arguments name.
#[derive(Debug, PartialEq)]
struct Named<'a> {
    /// `POD` or `TYPE/NAME`; None with a selector.
    object: Option<&'a str>,
    /// The inline container (`kubectl logs POD CONTAINER`).
    container: Option<&'a str>,
}

/// Upstream's checks of the positional arguments against `-l`.
fn named<'a>(args: &'a [String], selector: Option<&str>) -> Result<Named<'a>> {
    let usage = |msg: &str| {
        KubectlError::usage(format!(
            "{msg}\nSee 'kubectl logs -h' for help and examples"
        ))
    };
    let required = format!(
        "expected '{USAGE}'.\nPOD or TYPE/NAME is a required argument for the logs command"
    );
    match args {
        [] if selector.is_none() => Err(usage(&required)),
        [] => Ok(Named {
            object: None,
            container: None,
        }),
        [_] if selector.is_some() => Err(usage("only a selector (-l) or a POD name is allowed")),
        [object] => Ok(Named {
            object: Some(object),
            container: None,
        }),
        [object, container] => Ok(Named {
            object: Some(object),
            container: Some(container),
        }),
        _ => Err(usage(&required)),
    }
}

/// Upstream's checks that involve the container (between its `--since` ones and the
/// ranges).
fn validate_container(a: &LogsArgs, named: &Named, container: &str) -> Result<()> {
    if a.all_containers && !container.is_empty() {
        return Err(KubectlError::usage(format!(
            "--all-containers=true should not be specified with container name {container}"
        )));
    }
    if a.container.is_some() && named.container.is_some() {
        return Err(KubectlError::usage(
            "only one of -c or an inline [CONTAINER] arg is allowed",
        ));
    }
    Ok(())
}

/// Upstream's resource builder checks of `POD` / `TYPE/NAME`, made before anything is
/// read.
fn check_resource_arg(named: &Named, selector: Option<&str>) -> Result<()> {
    let Some(object) = named.object else {
        return Ok(());
    };
    target::split_type_name(object)?;
    if selector.is_some() {
        // `POD CONTAINER -l …` gets past the argument checks, not past the builder.
        return Err(KubectlError::usage(
            "selectors and the all flag cannot be used when passing resource/name arguments",
        ));
    }
    Ok(())
}

/// Runs `kubectl logs`.
pub async fn run(ctx: &Ctx, a: LogsArgs) -> Result<()> {
    let named = named(&a.args, a.selector())?;
    // The inline container wins over -c (and is then refused with it by the checks).
    let container = named
        .container
        .or(a.container.as_deref())
        .unwrap_or_default()
        .to_string();
    let client = ctx.client().await?;
    let ns = client.namespace.clone();
    let timeout = pod_running_timeout(&a.pod_running_timeout)?;
    let flags = a.log_flags();
    let options = LogOptions::from_flags(&flags)?;
    check_resource_arg(&named, a.selector())?;

    let target = target::read(&client, &ns, named.object, a.selector()).await?;
    if matches!(&target, Target::Selected(pods) if pods.is_empty()) {
        eprintln!("No resources found in {ns} namespace.");
    }

    options.validate_exclusive_since(&flags)?;
    validate_container(&a, &named, &container)?;
    options.validate_ranges(&flags)?;

    let pods = pods_to_read(&client, target, timeout, a.all_pods).await?;
    let sources = sources_of(&pods, &container, &a)?;
    read_sources(&client, &sources, &options, &a).await
}

/// The pods to read from, saying on stderr which one was picked among several.
async fn pods_to_read(
    client: &ApiClient,
    target: Target,
    timeout: Duration,
    all_pods: bool,
) -> Result<Vec<Value>> {
    Ok(match target {
        Target::Selected(pods) => pods,
        Target::Pod(pod) => vec![pod],
        Target::Object { object, resource } => {
            let (pods, notice) =
                target::pods_of(client, &object, &resource, timeout, all_pods).await?;
            if let Some(notice) = notice {
                eprintln!("{notice}");
            }
            pods
        }
    })
}

/// The containers to read in each pod, saying on stderr how a default was chosen.
fn sources_of(pods: &[Value], container: &str, a: &LogsArgs) -> Result<Vec<LogSource>> {
    let mut sources = Vec::new();
    for pod in pods {
        let chosen = containers_to_read(pod, container, a.all_containers, a.all_pods)?;
        for notice in &chosen.notices {
            eprintln!("{notice}");
        }
        sources.extend(chosen.sources);
    }
    Ok(sources)
}

/// Reads the streams one after the other, or all at once when following several (no more
/// than `--max-log-requests`).
async fn read_sources(
    client: &ApiClient,
    sources: &[LogSource],
    options: &LogOptions,
    a: &LogsArgs,
) -> Result<()> {
    let output = consume::Output {
        prefix: a.prefix || a.all_pods,
        ignore_errors: a.ignore_errors,
    };
    if !a.follow || sources.len() < 2 {
        return consume::in_turn(client, sources, options, output, &mut consume::Stdout).await;
    }
    if i64::try_from(sources.len()).unwrap_or(i64::MAX) > a.max_log_requests {
        return Err(KubectlError::usage(format!(
            "you are attempting to follow {} log streams, but maximum allowed concurrency is {}, \
             use --max-log-requests to increase the limit",
            sources.len(),
            a.max_log_requests
        )));
    }
    consume::together(client, sources, options, output, &mut consume::Stdout).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn positional_arguments_against_the_selector() {
        let err = |args: &[&str], sel| named(&strings(args), sel).unwrap_err().to_string();
        assert_eq!(
            err(&[], None),
            "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n\
             POD or TYPE/NAME is a required argument for the logs command\n\
             See 'kubectl logs -h' for help and examples"
        );
        assert_eq!(
            err(&["p"], Some("app=x")),
            "error: only a selector (-l) or a POD name is allowed\n\
             See 'kubectl logs -h' for help and examples"
        );
        assert!(err(&["p", "c", "x"], None).starts_with("error: expected 'logs"));
        let args = strings(&["deploy/web", "main"]);
        assert_eq!(
            named(&args, None).unwrap(),
            Named {
                object: Some("deploy/web"),
                container: Some("main")
            }
        );
        assert_eq!(
            named(&[], Some("app=x")).unwrap(),
            Named {
                object: None,
                container: None
            }
        );
    }
}
