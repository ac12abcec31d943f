//! `kubectl run NAME --image=IMAGE`: creates one pod (upstream's only remaining generator)
//! and, with `--expose`, a ClusterIP Service in front of it; optionally attaches to the pod
//! and, with `--rm`, deletes what it created once the session ends.

mod attach;
mod objects;

use clap::Args;
use http::Method;
use serde_json::{json, Map, Value};

pub(in crate::cmd) use self::attach::print_logs;
use self::attach::{attach_and_wait, Session};
use super::create::{post, FileArgs};
use super::delete::propagation_policy;
use super::exec::pod_running_timeout;
use super::generators::{self as gen, RunSpec};
use super::print_flags::{DryRun, DryRunFlag, PrintFlags};
use super::write::Write;
use super::{out, Ctx};
use crate::client::{ApiClient, Body};
use crate::error::{KubectlError, Result};
use crate::printers::go_order;
use crate::printers::OutputFormat;

/// `kubectl run NAME --image=image [--env="key=value"] [--port=port] [--dry-run=server|client] -- [COMMAND] [args...]`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Pod name.
    name: Option<String>,
    /// The image for the container to run.
    #[arg(long)]
    image: Option<String>,
    /// Environment variables to set in the container.
    #[arg(long)]
    env: Vec<String>,
    /// Comma separated labels to apply to the pod. Will override previous values.
    #[arg(short = 'l', long)]
    labels: Option<String>,
    /// Annotations to apply to the pod.
    #[arg(long)]
    annotations: Vec<String>,
    /// The port that this container exposes.
    // Text, as upstream reads it only when it builds the pod (and words its refusal so).
    #[arg(long)]
    port: Option<String>,
    /// If true, create a ClusterIP service associated with the pod. Requires `--port`.
    #[arg(long)]
    expose: bool,
    /// If true, run the container in privileged mode.
    #[arg(long)]
    privileged: bool,
    /// If true and extra arguments are present, use them as the 'command' field in the container.
    #[arg(long)]
    command: bool,
    /// The restart policy for this Pod. Legal values [Always, OnFailure, Never]
    /// (default Always, OnFailure with -i).
    #[arg(long)]
    restart: Option<String>,
    /// The image pull policy for the container.
    #[arg(long)]
    image_pull_policy: Option<String>,
    /// Keep stdin open on the container in the pod.
    #[arg(short = 'i', long)]
    stdin: bool,
    /// Allocate a TTY for the container in the pod.
    #[arg(short = 't', long)]
    tty: bool,
    /// Wait for the Pod to start running, then attach to it as 'kubectl attach' would
    /// (default with -i). With --restart=Never the container's exit code is returned.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    attach: Option<bool>,
    /// Delete the pod after it exits (only when attaching).
    #[arg(long)]
    rm: bool,
    /// Leave stdin open after the first attach completes.
    #[arg(long)]
    leave_stdin_open: bool,
    /// Only print output from the remote session.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// How long to wait until the pod is running (e.g. 5s, 2m).
    #[arg(long, default_value = "1m0s", value_parser = crate::flags::go_duration)]
    pod_running_timeout: String,
    #[command(flatten)]
    pub print_flags: PrintFlags,
    #[command(flatten)]
    pub dry_run: DryRunFlag,
    #[command(flatten)]
    delete_flags: DeleteFlags,
    /// If true, the configuration of current object will be saved in its annotation.
    #[arg(long)]
    save_config: bool,
    /// Name of the manager used to track field ownership.
    #[arg(long, default_value = "kubectl-run")]
    field_manager: String,
    /// An inline JSON override for the generated object, applied as --override-type says.
    #[arg(long)]
    overrides: Option<String>,
    /// The method used to override the generated object: json, merge, or strategic.
    #[arg(long, default_value = "merge")]
    override_type: String,
    /// Arguments (or the command with --command) after `--`.
    #[arg(last = true)]
    args: Vec<String>,
}

/// Upstream's delete flags, which `run` has for `--rm`. Only `--cascade` changes what it
/// does: upstream's run then deletes without waiting and with the default grace period
/// whatever `--wait`, `--timeout`, `--grace-period` and `--force` say, and reads no files.
#[derive(Debug, Args)]
struct DeleteFlags {
    /// Must be "background", "orphan", or "foreground". Selects the deletion cascading
    /// strategy for the dependents (e.g. Pods created by a ReplicationController).
    #[arg(long, default_value = "background", num_args = 0..=1, require_equals = true, default_missing_value = "background")]
    cascade: String,
    /// Period of time in seconds given to the resource to terminate gracefully. Ignored if
    /// negative.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    grace_period: i64,
    /// If true, immediately remove resources from API and bypass graceful deletion.
    #[arg(long)]
    force: bool,
    /// If true, wait for resources to be gone before returning.
    #[arg(long)]
    wait: bool,
    /// The length of time to wait before giving up on a delete.
    #[arg(long, default_value = "0s", value_parser = crate::flags::go_duration)]
    timeout: String,
    /// to use to replace the resource.
    #[command(flatten)]
    files: FileArgs,
}

/// What the flags come to once upstream's checks have passed.
struct Checked<'a> {
    name: &'a str,
    restart: String,
    attach: bool,
}

/// Upstream's Validate, in its order; its refusals end with the pointer to `-h`.
fn validate<'a>(a: &'a RunArgs, dry: DryRun) -> Result<Checked<'a>> {
    let see = |msg: &str| {
        KubectlError::usage(format!("{msg}\nSee 'kubectl run -h' for help and examples"))
    };
    let Some(name) = a.name.as_deref() else {
        return Err(see("NAME is required for run"));
    };
    if a.image.as_deref().is_none_or(str::is_empty) {
        return Err(KubectlError::usage("--image is required"));
    }
    if a.tty && !a.stdin {
        return Err(see(
            "-i/--stdin is required for containers with -t/--tty=true",
        ));
    }
    if a.expose && a.port.as_deref().is_none_or(str::is_empty) {
        return Err(see("--port must be set when exposing a service"));
    }
    let restart = a
        .restart
        .clone()
        .unwrap_or_else(|| if a.stdin { "OnFailure" } else { "Always" }.to_string());
    if !matches!(restart.as_str(), "Always" | "OnFailure" | "Never") {
        return Err(see(&format!("invalid restart policy: {restart}")));
    }
    let attach = a.attach.unwrap_or(a.stdin);
    if !attach && a.rm {
        return Err(see("--rm should only be used for attached containers"));
    }
    if attach && dry != DryRun::None {
        return Err(see("--dry-run=[server|client] can't be used with attached containers options (--attach, --stdin, or --tty)"));
    }
    if let Some(policy) = a.image_pull_policy.as_deref() {
        if !matches!(policy, "" | "Always" | "IfNotPresent" | "Never") {
            return Err(see(&format!("invalid image pull policy: {policy}")));
        }
    }
    Ok(Checked {
        name,
        restart,
        attach,
    })
}

/// Runs `kubectl run`.
pub async fn run(ctx: &Ctx, a: RunArgs) -> Result<()> {
    // Cobra refuses a missing required flag before the command runs at all.
    let Some(image) = a.image.as_deref() else {
        return Err(KubectlError::usage("required flag(s) \"image\" not set"));
    };
    let dry = a.dry_run.strategy()?;
    let format = a.print_flags.format()?;
    let propagation = propagation_policy(&a.delete_flags.cascade)?;
    let labels = objects::parse_labels(a.labels.as_deref().unwrap_or(""))?;
    let timeout = pod_running_timeout(&a.pod_running_timeout)?;
    let checked = validate(&a, dry)?;
    let name = checked.name;
    let port = match a.port.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(objects::parse_port(p)?),
        None => None,
    };
    let mut pod = gen::run_pod(&RunSpec {
        name,
        image,
        labels: labels.clone(),
        env: &a.env,
        port,
        args: &a.args,
        command: a.command,
        restart: &checked.restart,
        pull_policy: a.image_pull_policy.as_deref(),
        annotations: &a.annotations,
        stdin: a.stdin,
        tty: a.tty,
    })?;
    if a.leave_stdin_open {
        if let Some(c) = pod["spec"]["containers"][0].as_object_mut() {
            c.remove("stdinOnce");
        }
    }
    if a.privileged {
        objects::make_privileged(&mut pod);
    }
    if let Some(overrides) = a.overrides.as_deref().filter(|o| !o.is_empty()) {
        pod = super::overrides::apply(&pod, overrides, &a.override_type)?;
    }
    let client = ctx.client().await?;
    let creator = Creator {
        client: &client,
        dry,
        write: Write::by(&a.field_manager, dry),
        save_config: a.save_config,
    };
    let pod = creator.create("pods", pod).await?;
    let mut created = vec![Created::new("pod", "pods", name)];
    let mut errors = Vec::new();
    if a.expose {
        // The Service selects the pod's labels but carries only those given by --labels.
        let selector = labels.clone().unwrap_or_else(|| {
            let mut run = Map::new();
            run.insert("run".into(), json!(name));
            run
        });
        let svc = objects::service(name, selector, labels, port.unwrap_or_default());
        match creator.create("services", svc).await {
            // Upstream prints the Service as soon as it is made, before the pod.
            Ok(mut svc) => {
                // Upstream reads the answer into its typed Service, whose status always
                // has a load balancer, empty or not.
                if svc["status"]["loadBalancer"].is_null() {
                    svc["status"]["loadBalancer"] = json!({});
                }
                print(&a.print_flags, &format, &svc, dry)?;
                if a.print_flags.output.as_deref() == Some("yaml") {
                    out("---\n");
                }
                created.push(Created::new("service", "services", name));
            }
            Err(e) => errors.push(e),
        }
    }
    if !checked.attach {
        // Upstream's YAML printer starts its second object with a separator of its own,
        // after the one run wrote.
        if matches!(format, OutputFormat::Yaml) && created.len() > 1 {
            out("---\n");
        }
        print(&a.print_flags, &format, &pod, dry)?;
        return super::get::report(errors);
    }
    let session = Session {
        stdin: a.stdin,
        tty: a.tty,
        quiet: a.quiet,
        leave_stdin_open: a.leave_stdin_open,
        restart: &checked.restart,
        timeout,
    };
    let result = attach_and_wait(&client, &pod, &session).await;
    if a.rm {
        remove(&client, &created, propagation, a.quiet).await;
    }
    result
}

/// Prints what `run` made as `-o` asks. A client dry run's objects are upstream's typed
/// ones, whose JSON has Go's field order.
fn print(flags: &PrintFlags, format: &OutputFormat, obj: &Value, dry: DryRun) -> Result<()> {
    if dry == DryRun::Client && matches!(format, OutputFormat::Json) {
        out(&go_order::to_json(obj));
        return Ok(());
    }
    flags.print(format, obj, "created", dry)
}

/// How `run` sends what it made: as `--dry-run` and `--save-config` ask.
struct Creator<'a> {
    client: &'a ApiClient,
    dry: DryRun,
    write: Write,
    save_config: bool,
}

impl Creator<'_> {
    /// Creates `obj` in the namespace, or, for a client dry run, only places it there
    /// (when `-n` named it, as upstream). Upstream records the configuration only for
    /// objects it sends.
    async fn create(&self, plural: &str, mut obj: Value) -> Result<Value> {
        let ns = &self.client.namespace;
        if self.dry == DryRun::Client {
            if self.client.namespace_explicit {
                obj["metadata"]["namespace"] = Value::String(ns.clone());
            }
            return Ok(obj);
        }
        if self.save_config {
            obj = go_order::with_last_applied(&obj);
        }
        let path = format!("/api/v1/namespaces/{ns}/{plural}");
        post(self.client, &path, &obj, &self.write).await
    }
}

/// One object `run` made, to delete under `--rm`.
struct Created {
    kind: &'static str,
    plural: &'static str,
    name: String,
}

impl Created {
    fn new(kind: &'static str, plural: &'static str, name: &str) -> Self {
        Created {
            kind,
            plural,
            name: name.to_string(),
        }
    }
}

/// `--rm`: deletes what `run` made, in the order it made it, with `--cascade`'s policy.
/// Upstream's run drops what goes wrong here: the session's outcome is the command's.
async fn remove(client: &ApiClient, created: &[Created], propagation: &str, quiet: bool) {
    let body =
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation});
    for c in created {
        let path = format!(
            "/api/v1/namespaces/{}/{}/{}",
            client.namespace, c.plural, c.name
        );
        let deleted = client
            .request(
                Method::DELETE,
                &path,
                "application/json",
                Some(Body::json(&body)),
            )
            .await;
        match deleted {
            Ok(_) if !quiet => out(&format!("{} \"{}\" deleted\n", c.kind, c.name)),
            // Gone already: upstream's delete ignores it, and says it found nothing.
            Err(e) if e.is_not_found() => out("No resources found\n"),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::{Cli, Command};
    use crate::flags::{self, Refused};

    fn parse(line: &str) -> RunArgs {
        let argv = std::iter::once("kubectl")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect();
        match flags::parse(argv) {
            Ok(Cli {
                command: Command::Run(a),
                ..
            }) => a,
            Ok(other) => panic!("{line}: {other:?}"),
            Err(Refused::Usage(text)) => panic!("{line}: {text}"),
            Err(Refused::Shown(e)) => panic!("{line}: {e}"),
        }
    }

    fn refusal(line: &str) -> String {
        let a = parse(line);
        let dry = a.dry_run.strategy().unwrap();
        match validate(&a, dry) {
            Ok(_) => panic!("{line}: accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn upstreams_delete_flags_are_taken() {
        let a = parse("run x --image=i --cascade=orphan --grace-period=0 --force --wait --timeout=5s -f x.yaml -R --save-config --privileged --expose --port=80");
        assert_eq!(a.delete_flags.cascade, "orphan");
        assert_eq!(a.delete_flags.grace_period, 0);
        assert!(a.delete_flags.force && a.delete_flags.wait);
        assert_eq!(a.delete_flags.timeout, "5s");
        assert_eq!(a.delete_flags.files.filename, vec!["x.yaml".to_string()]);
        assert!(a.save_config && a.privileged && a.expose);
        let a = parse("run x --image=i --cascade");
        assert_eq!(a.delete_flags.cascade, "background");
        assert_eq!(parse("run x --image=i").delete_flags.grace_period, -1);
    }

    #[test]
    fn refusals_come_in_upstreams_order_and_words() {
        assert_eq!(
            refusal("run x --image=i --expose"),
            "error: --port must be set when exposing a service\nSee 'kubectl run -h' for help and examples"
        );
        // The terminal check comes before the port check.
        assert_eq!(
            refusal("run x --image=i --expose -t"),
            "error: -i/--stdin is required for containers with -t/--tty=true\nSee 'kubectl run -h' for help and examples"
        );
        assert_eq!(
            refusal("run x --image= --expose"),
            "error: --image is required"
        );
        assert_eq!(
            refusal("run x --image=i --image-pull-policy=Sometimes"),
            "error: invalid image pull policy: Sometimes\nSee 'kubectl run -h' for help and examples"
        );
        assert_eq!(
            refusal("run x --image=i --restart=Sometimes --rm"),
            "error: invalid restart policy: Sometimes\nSee 'kubectl run -h' for help and examples"
        );
    }

    #[test]
    fn attaching_is_the_default_with_stdin() {
        let a = parse("run x --image=i -i --rm");
        let checked = validate(&a, DryRun::None).unwrap();
        assert!(checked.attach);
        assert_eq!(checked.restart, "OnFailure");
        let a = parse("run x --image=i --expose --port=80");
        let checked = validate(&a, DryRun::None).unwrap();
        assert!(!checked.attach);
        assert_eq!(checked.restart, "Always");
    }
}
