//! `kubectl debug (POD | TYPE/NAME)... [flags] [-- COMMAND [args...]]`, upstream's three ways
//! of debugging:
//! - a pod: an ephemeral container added through `pods/<name>/ephemeralcontainers`
//!   (`ephemeral`);
//! - a pod with `--copy-to`: a copy of it with a debug container added or one changed
//!   (`copy`);
//! - `node/NAME`: a new pod on that node in the host's namespaces (`node`).
//!
//! With `-i` (or `--attach`) it waits for the debug container and attaches to it, or prints
//! its log when it has already finished. `profile` holds what each `--profile` changes.

mod copy;
mod ephemeral;
mod image_ref;
mod node;
mod profile;

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::time::Instant;

use clap::Args;
use http::Method;
use serde_json::{json, Value};

use self::profile::{Keep, Profile};
use super::attach::{attach, AttachOptions};
use super::exec::pod_running_timeout;
use super::run::print_logs;
use super::{out, Ctx};
use crate::client::{q, ApiClient, Body};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::watch;

/// `kubectl debug`
#[derive(Debug, Args)]
pub struct DebugArgs {
    /// POD, TYPE/NAME (pod/NAME, node/NAME), one or more.
    targets: Vec<String>,
    /// Container image to use for the debug container.
    #[arg(long)]
    image: Option<String>,
    /// Container name to use for the debug container.
    #[arg(short = 'c', long)]
    container: Option<String>,
    /// When using an ephemeral container, target processes in this container name.
    #[arg(long)]
    target: Option<String>,
    /// Keep stdin open on the container(s) in the pod, even if nothing is attached.
    #[arg(short = 'i', long)]
    stdin: bool,
    /// Allocate a TTY for the debugging container.
    #[arg(short = 't', long)]
    tty: bool,
    /// Wait for the container to start running, then attach as 'kubectl attach' would
    /// (default with -i).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    attach: Option<bool>,
    /// If true, suppress informational messages.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// The image pull policy for the container.
    #[arg(long)]
    image_pull_policy: Option<String>,
    /// Environment variables to set in the container (KEY=VALUE).
    #[arg(long, value_delimiter = ',')]
    env: Vec<String>,
    /// If specified, everything after -- is passed to the container as args instead of
    /// the command.
    #[arg(long)]
    arguments_only: bool,
    /// Options are "legacy", "general", "baseline", "netadmin", "restricted" or "sysadmin".
    #[arg(long, default_value = "legacy")]
    profile: String,
    /// Create a copy of the target Pod with this name.
    #[arg(long)]
    copy_to: Option<String>,
    /// When used with '--copy-to', delete the original Pod.
    #[arg(long)]
    replace: bool,
    /// When used with '--copy-to', schedule the copy of target Pod on the same node.
    #[arg(long)]
    same_node: bool,
    /// When used with '--copy-to', name=image pairs for changing container images ('*'
    /// for all), as 'kubectl set image' takes them.
    #[arg(long, value_delimiter = ',')]
    set_image: Vec<String>,
    /// When used with '--copy-to', enable process namespace sharing in the copy.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    share_processes: Option<bool>,
    /// If true, keep the original pod labels (with '--copy-to').
    #[arg(long)]
    keep_labels: bool,
    /// If true, keep the original pod annotations (with '--copy-to').
    #[arg(long)]
    keep_annotations: bool,
    /// If true, keep the original pod liveness probes (with '--copy-to').
    #[arg(long)]
    keep_liveness: bool,
    /// If true, keep the original pod readiness probes (with '--copy-to').
    #[arg(long)]
    keep_readiness: bool,
    /// If true, keep the original startup probes (with '--copy-to').
    #[arg(long)]
    keep_startup: bool,
    /// Run the init containers for the pod (with '--copy-to').
    #[arg(long, num_args = 0..=1, default_value = "true", default_missing_value = "true")]
    keep_init_containers: bool,
    /// Path to a JSON or YAML file containing a partial container spec to customize
    /// built-in debug profiles.
    #[arg(long)]
    custom: Option<String>,
    /// How long to wait until the container is running (e.g. 5s, 2m).
    #[arg(long, default_value = "1m0s", value_parser = crate::flags::go_duration)]
    pod_running_timeout: String,
    /// The command (or, with --arguments-only, the args) after `--`.
    #[arg(last = true)]
    args: Vec<String>,
}

impl DebugArgs {
    fn attach_wanted(&self) -> bool {
        self.attach.unwrap_or(self.stdin)
    }

    fn keep(&self) -> Keep {
        Keep {
            labels: self.keep_labels,
            annotations: self.keep_annotations,
            liveness: self.keep_liveness,
            readiness: self.keep_readiness,
            startup: self.keep_startup,
            init_containers: self.keep_init_containers,
        }
    }

    fn image(&self) -> Option<&str> {
        self.image.as_deref().filter(|i| !i.is_empty())
    }

    fn container(&self) -> Option<&str> {
        self.container.as_deref().filter(|c| !c.is_empty())
    }

    /// `--env` as EnvVars, in the order given.
    fn env(&self) -> Result<Vec<Value>> {
        self.env
            .iter()
            .map(|e| match e.split_once('=') {
                Some((k, v)) if !k.is_empty() => Ok(json!({"name": k, "value": v})),
                _ => Err(KubectlError::usage(format!(
                    "invalid env: {e}: must be of the form KEY=VALUE"
                ))),
            })
            .collect()
    }

    /// `--set-image` as (container or `*`, image) pairs.
    fn set_images(&self) -> Result<Vec<(String, String)>> {
        self.set_image
            .iter()
            .map(|pair| match pair.split_once('=') {
                Some((name, image)) if !name.is_empty() => Ok((name.into(), image.into())),
                _ => Err(KubectlError::usage(format!(
                    "invalid argument \"{pair}\" for \"--set-image\" flag: {pair} must be formatted as key=value"
                ))),
            })
            .collect()
    }
}

/// What the checks settled, for the three ways of debugging.
struct Plan {
    profile: Profile,
    /// `--custom`: a partial container merged into the debug container after the profile.
    custom: Option<Value>,
    env: Vec<Value>,
    set_images: Vec<(String, String)>,
    timeout: Duration,
}

/// Runs `kubectl debug`.
pub async fn run(ctx: &Ctx, a: DebugArgs) -> Result<()> {
    let plan = check(&a)?;
    let client = ctx.client().await?;
    for target in &a.targets {
        let Some((pod, container)) = visit(&client, &a, &plan, target).await? else {
            continue;
        };
        if a.attach_wanted() {
            attach_when_started(&client, &a, &pod, &container, plan.timeout).await?;
        }
    }
    Ok(())
}

/// Upstream's flag checks, in its order (its Complete, then Validate).
fn check(a: &DebugArgs) -> Result<Plan> {
    let profile = Profile::parse(&a.profile)?;
    let env = a.env()?;
    let set_images = a.set_images()?;
    let timeout = pod_running_timeout(&a.pod_running_timeout)?;
    let custom = a
        .custom
        .as_deref()
        .filter(|f| !f.is_empty())
        .map(read_custom)
        .transpose()?;
    if a.attach == Some(true) && a.image().is_none() && a.container().is_none() {
        return Err(KubectlError::usage(
            "you must specify --container or create a new container using --image in order to attach.",
        ));
    }
    if a.copy_to.is_some() {
        if a.image().is_none() && set_images.is_empty() && a.args.is_empty() {
            return Err(KubectlError::usage(
                "you must specify --image, --set-image or command arguments.",
            ));
        }
        if !a.args.is_empty() && a.container().is_none() && a.image().is_none() {
            return Err(KubectlError::usage(
                "you must specify an existing container or a new image when specifying args.",
            ));
        }
    } else if a.replace {
        return Err(KubectlError::usage(
            "--replace may only be used with --copy-to.",
        ));
    } else if a.same_node {
        return Err(KubectlError::usage(
            "--same-node may only be used with --copy-to.",
        ));
    } else if !set_images.is_empty() {
        return Err(KubectlError::usage(
            "--set-image may only be used with --copy-to.",
        ));
    } else if a.image().is_none() {
        return Err(KubectlError::usage(
            "you must specify --image when not using --copy-to.",
        ));
    }
    if let Some(image) = a.image().filter(|i| !image_ref::is_valid(i)) {
        return Err(KubectlError::usage(format!(
            "invalid image name {image:?}: invalid reference format"
        )));
    }
    if a.targets.is_empty() {
        return Err(KubectlError::usage(
            "NAME or filename is required for debug",
        ));
    }
    if let Some(policy) = a.image_pull_policy.as_deref() {
        if !matches!(policy, "" | "Always" | "IfNotPresent" | "Never") {
            return Err(KubectlError::usage(format!(
                "invalid image pull policy: {policy}"
            )));
        }
    }
    for (name, image) in &set_images {
        if !image_ref::is_valid(image) {
            return Err(KubectlError::usage(format!(
                "invalid image name {image:?} for container {name:?}: invalid reference format"
            )));
        }
    }
    if let Some(t) = &a.target {
        if a.copy_to.is_some() {
            return Err(KubectlError::usage(
                "--target is incompatible with --copy-to. Use --share-processes instead.",
            ));
        }
        if !a.quiet {
            out(&format!("Targeting container {t:?}. If you don't see processes from this container it may be because the container runtime doesn't support this feature.\n"));
        }
    }
    if a.tty && !a.stdin {
        return Err(KubectlError::usage(
            "-i/--stdin is required for containers with -t/--tty=true",
        ));
    }
    if let Some(c) = &custom {
        let set = |key: &str| !c[key].is_null() && c[key] != json!("") && c[key] != json!([]);
        if ["name", "command", "image", "lifecycle", "volumeDevices"]
            .into_iter()
            .any(set)
        {
            return Err(KubectlError::usage(
                "name, command, image, lifecycle and volume devices are not modifiable via custom profile",
            ));
        }
    }
    if profile == Profile::Legacy {
        eprintln!("{}", profile::LEGACY_WARNING);
    }
    Ok(Plan {
        profile,
        custom,
        env,
        set_images,
        timeout,
    })
}

/// Reads `--custom`: a partial container as JSON or YAML.
fn read_custom(path: &str) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            _ => e.to_string(),
        };
        KubectlError::usage(format!(
            "must pass a container spec json file for custom profile: open {path}: {why}"
        ))
    })?;
    let parsed = serde_json::from_str::<Value>(&text)
        .or_else(|_| serde_yaml::from_str::<Value>(&text))
        .map_err(|e| {
            KubectlError::usage(format!(
                "{path} does not contain a valid container spec: {e}"
            ))
        })?;
    match parsed {
        Value::Object(_) => Ok(parsed),
        Value::Null => Ok(json!({})),
        _ => Err(KubectlError::usage(format!(
            "{path} does not contain a valid container spec: not an object"
        ))),
    }
}

/// Applies the profile, then `--custom`, to the debug container `name` of `pod`.
fn apply_profile(a: &DebugArgs, plan: &Plan, pod: &mut Value, name: &str, style: profile::Style) {
    profile::apply(plan.profile, pod, name, style, a.keep());
    if let Some(custom) = &plan.custom {
        if let Some(c) = profile::container_mut(pod, name) {
            let mut container = Value::Object(std::mem::take(c));
            let mut patch = custom.clone();
            patch["name"] = json!(name);
            super::overrides::strategic_merge_pod_part(&mut container, &patch);
            if let Value::Object(merged) = container {
                *c = merged;
            }
        }
    }
}

/// Debugs one target; the pod and container to attach to, if there is one.
async fn visit(
    client: &ApiClient,
    a: &DebugArgs,
    plan: &Plan,
    target: &str,
) -> Result<Option<(Value, String)>> {
    let ns = &client.namespace;
    let object = match target.split_once('/') {
        None => {
            client
                .get(&format!("/api/v1/namespaces/{ns}/pods/{}", q(target)))
                .await?
        }
        Some((ty, name)) => {
            let mut disc = Discovery::load(client).await?;
            let res = disc.resolve(client, ty).await?;
            let namespace = res.namespaced.then_some(ns.as_str());
            let object = client.get(&res.object_path(namespace, &q(name))).await?;
            if res.group.is_empty() && matches!(res.kind.as_str(), "Pod" | "Node") {
                object
            } else {
                return Err(KubectlError::usage(format!(
                    "\"{}/{}, Kind={}\" not supported by debug",
                    res.group, res.version, res.kind
                )));
            }
        }
    };
    if object["kind"] == "Node" {
        return node::debug(client, a, plan, &object).await.map(Some);
    }
    if let Some(copy_to) = a.copy_to.as_deref() {
        return copy::debug(client, a, plan, &object, copy_to).await;
    }
    ephemeral::debug(client, a, plan, &object).await.map(Some)
}

/// POSTs a new pod to its namespace, as upstream's clientset does (no field manager).
async fn create_pod(client: &ApiClient, pod: &Value) -> Result<Value> {
    let ns = pod["metadata"]["namespace"]
        .as_str()
        .unwrap_or(&client.namespace);
    client
        .request(
            Method::POST,
            &format!("/api/v1/namespaces/{ns}/pods"),
            "application/json",
            Some(Body::json(pod)),
        )
        .await
}

/// The names of all of a pod's containers.
fn container_names(pod: &Value) -> BTreeSet<&str> {
    ["containers", "initContainers", "ephemeralContainers"]
        .into_iter()
        .flat_map(|k| pod["spec"][k].as_array().into_iter().flatten())
        .filter_map(|c| c["name"].as_str())
        .collect()
}

/// Five random characters of upstream's name generator (no vowels, no look-alikes).
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The debug container's name: `-c`, or a generated `debugger-xxxxx` the pod does not use
/// yet (announced on stdout, as upstream does).
fn debug_container_name(a: &DebugArgs, pod: &Value) -> String {
    if let Some(c) = a.container() {
        return c.to_string();
    }
    let taken = container_names(pod);
    let name = loop {
        let candidate = format!("debugger-{}", random_suffix());
        if !taken.contains(candidate.as_str()) {
            break candidate;
        }
    };
    if !a.quiet {
        out(&format!("Defaulting debug container name to {name}.\n"));
    }
    name
}

/// The fields a new debug container takes from the flags: image, pull policy, stdin/tty,
/// env, and the command (or args) after `--`.
fn debug_container(a: &DebugArgs, plan: &Plan, name: &str) -> Value {
    let mut c = json!({"name": name, "terminationMessagePolicy": "File", "resources": {}});
    if let Some(image) = a.image() {
        c["image"] = json!(image);
    }
    if let Some(policy) = a.image_pull_policy.as_deref().filter(|p| !p.is_empty()) {
        c["imagePullPolicy"] = json!(policy);
    }
    // Set only when true, as upstream's Go structs omit false.
    if a.stdin {
        c["stdin"] = json!(true);
    }
    if a.tty {
        c["tty"] = json!(true);
    }
    if !plan.env.is_empty() {
        c["env"] = json!(plan.env);
    }
    if !a.args.is_empty() {
        let key = if a.arguments_only { "args" } else { "command" };
        c[key] = json!(a.args);
    }
    c
}

/// Upstream's warning when the pod runs as a non-root user, so that the capabilities or
/// privileges a profile gave the debug container may not be usable.
fn warn_if_non_root(pod: &Value, container: &str) {
    let run_as = pod["spec"]["securityContext"]["runAsUser"].as_i64();
    if run_as.is_none_or(|uid| uid == 0) {
        return;
    }
    let spec = ["containers", "initContainers", "ephemeralContainers"]
        .into_iter()
        .flat_map(|k| pod["spec"][k].as_array().into_iter().flatten())
        .find(|c| c["name"] == container);
    let Some(sc) = spec
        .map(|c| &c["securityContext"])
        .filter(|sc| sc.is_object())
    else {
        return;
    };
    if sc["runAsUser"].as_i64() == Some(0) {
        return;
    }
    let privileged = sc["privileged"].as_bool() == Some(true);
    let adds = sc["capabilities"]["add"]
        .as_array()
        .is_some_and(|l| !l.is_empty());
    if privileged || adds {
        eprintln!("Warning: Non-root user is configured for the entire target Pod, and some capabilities granted by debug profile may not work. Please consider using \"--custom\" with a custom profile that specifies \"securityContext.runAsUser: 0\".");
    }
}

/// The status of a container of any kind, by name.
fn container_state<'a>(pod: &'a Value, container: &str) -> Option<&'a Value> {
    [
        "initContainerStatuses",
        "containerStatuses",
        "ephemeralContainerStatuses",
    ]
    .into_iter()
    .flat_map(|k| pod["status"][k].as_array().into_iter().flatten())
    .find(|s| s["name"] == container)
    .map(|s| &s["state"])
}

/// Waits until the debug container runs or has finished, then attaches to it, or prints
/// its log when it has finished or the attach fails, as upstream does.
async fn attach_when_started(
    client: &ApiClient,
    a: &DebugArgs,
    pod: &Value,
    container: &str,
    timeout: Duration,
) -> Result<()> {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let pod = wait_until_started(client, a.quiet, ns, name, container, timeout).await?;
    if container_state(&pod, container).is_some_and(|s| s["terminated"].is_object()) {
        return print_logs(client, &pod, Some(container)).await;
    }
    let options = AttachOptions {
        container: Some(container.to_string()),
        stdin: a.stdin,
        tty: a.tty,
        quiet: a.quiet,
    };
    if let Err(e) = attach(client, &pod, options).await {
        eprintln!("warning: couldn't attach to pod/{name}, falling back to streaming logs: {e}");
        return print_logs(client, &pod, Some(container)).await;
    }
    Ok(())
}

/// Watches the pod until the container runs (or has already finished); a waiting reason's
/// message is shown once, as upstream's warnings are.
async fn wait_until_started(
    client: &ApiClient,
    quiet: bool,
    ns: &str,
    name: &str,
    container: &str,
    timeout: Duration,
) -> Result<Value> {
    let deadline = Instant::now() + timeout;
    let mut shown = BTreeSet::new();
    let collection = format!("/api/v1/namespaces/{ns}/pods");
    let started = watch::object_until(client, &collection, name, deadline, |pod| {
        let Some(pod) = pod else {
            return Err(KubectlError::not_found("pods", name));
        };
        let state = container_state(pod, container).cloned().unwrap_or_default();
        if state["running"].is_object() || state["terminated"].is_object() {
            return Ok(Some(pod.clone()));
        }
        if let Some(message) = state["waiting"]["message"]
            .as_str()
            .filter(|m| !m.is_empty())
        {
            if !quiet && shown.insert(message.to_string()) {
                eprintln!("Warning: container {container}: {message}");
            }
        }
        Ok(None)
    });
    started.await?.ok_or_else(|| {
        KubectlError::usage(format!(
            "timed out waiting for the container {container:?} of pod {name:?} to start"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: DebugArgs,
    }

    pub(super) fn parse(argv: &[&str]) -> DebugArgs {
        Wrapper::parse_from(std::iter::once("debug").chain(argv.iter().copied())).args
    }

    pub(super) fn plan(a: &DebugArgs) -> Plan {
        check(a).expect("valid flags")
    }

    fn refused(argv: &[&str]) -> String {
        match check(&parse(argv)) {
            Ok(_) => panic!("{argv:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn flags_are_checked_as_upstream_checks_them() {
        assert_eq!(
            refused(&["web"]),
            "error: you must specify --image when not using --copy-to."
        );
        assert_eq!(
            refused(&["web", "--copy-to=c"]),
            "error: you must specify --image, --set-image or command arguments."
        );
        assert_eq!(
            refused(&["web", "--copy-to=c", "--", "sh"]),
            "error: you must specify an existing container or a new image when specifying args."
        );
        assert_eq!(
            refused(&["web", "--image=busybox", "--replace"]),
            "error: --replace may only be used with --copy-to."
        );
        assert_eq!(
            refused(&["web", "--image=busybox", "--set-image=web=nginx"]),
            "error: --set-image may only be used with --copy-to."
        );
        assert_eq!(
            refused(&["web", "--copy-to=c", "--set-image=*=busybox", "--attach"]),
            "error: you must specify --container or create a new container using --image in order to attach."
        );
        assert_eq!(
            refused(&["web", "--image=Bad:Image"]),
            "error: invalid image name \"Bad:Image\": invalid reference format"
        );
        assert_eq!(
            refused(&["--image=busybox"]),
            "error: NAME or filename is required for debug"
        );
        assert_eq!(
            refused(&["web", "--copy-to=c", "--image=busybox", "--target=web"]),
            "error: --target is incompatible with --copy-to. Use --share-processes instead."
        );
        assert_eq!(
            refused(&["web", "--image=busybox", "-t"]),
            "error: -i/--stdin is required for containers with -t/--tty=true"
        );
        assert_eq!(
            refused(&["web", "--image=busybox", "--image-pull-policy=Sometimes"]),
            "error: invalid image pull policy: Sometimes"
        );
        assert_eq!(
            refused(&["web", "--image=busybox", "--profile=bogus"]),
            "error: unknown profile: bogus"
        );
        assert!(check(&parse(&["web", "--copy-to=c", "--set-image=*=busybox:1"])).is_ok());
        assert!(check(&parse(&["node/vm", "--image=busybox", "-it"])).is_ok());
    }

    #[test]
    fn the_debug_container_takes_the_flags() {
        let a = parse(&[
            "web",
            "--image=busybox",
            "-it",
            "--env=A=1,B=2",
            "--image-pull-policy=Never",
            "--",
            "sh",
            "-c",
            "ps",
        ]);
        let c = debug_container(&a, &plan(&a), "dbg");
        assert_eq!(
            c,
            json!({"name": "dbg", "image": "busybox", "imagePullPolicy": "Never", "stdin": true,
                "tty": true, "terminationMessagePolicy": "File", "resources": {},
                "command": ["sh", "-c", "ps"],
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]})
        );
        let args_only = parse(&["web", "--image=busybox", "--arguments-only", "--", "x"]);
        let c = debug_container(&args_only, &plan(&args_only), "dbg");
        assert_eq!(c["args"], json!(["x"]));
        assert!(c.get("command").is_none());
        assert!(check(&parse(&["web", "--image=busybox", "--env=nope"])).is_err());
    }

    #[test]
    fn a_custom_profile_is_merged_after_the_built_in_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("custom.yaml");
        std::fs::write(
            &file,
            "env:\n- {name: B, value: custom}\nsecurityContext:\n  runAsUser: 0\n",
        )
        .unwrap();
        let custom = format!("--custom={}", file.display());
        let a = parse(&[
            "web",
            "--image=busybox",
            "--profile=general",
            "--env=A=1",
            &custom,
        ]);
        let plan = plan(&a);
        let mut pod = json!({"spec": {"ephemeralContainers": [debug_container(&a, &plan, "dbg")]}});
        apply_profile(&a, &plan, &mut pod, "dbg", profile::Style::Ephemeral);
        let c = &pod["spec"]["ephemeralContainers"][0];
        assert_eq!(
            c["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "custom"}])
        );
        assert_eq!(
            c["securityContext"],
            json!({"capabilities": {"add": ["SYS_PTRACE"]}, "runAsUser": 0})
        );

        std::fs::write(&file, "{\"image\": \"other\"}").unwrap();
        let e = check(&parse(&["web", "--image=busybox", &custom]))
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "error: name, command, image, lifecycle and volume devices are not modifiable via custom profile"
        );
        let missing = parse(&["web", "--image=busybox", "--custom=/nonexistent/c.json"]);
        assert_eq!(
            check(&missing).err().unwrap().to_string(),
            "error: must pass a container spec json file for custom profile: open /nonexistent/c.json: no such file or directory"
        );
    }

    #[test]
    fn generated_names_avoid_the_pods_containers() {
        let a = parse(&["web", "--image=busybox", "-q"]);
        let pod = json!({"spec": {"containers": [{"name": "web"}]}});
        let name = debug_container_name(&a, &pod);
        assert!(name.starts_with("debugger-") && name.len() == 14, "{name}");
        let named = parse(&["web", "--image=busybox", "-c", "mine"]);
        assert_eq!(debug_container_name(&named, &pod), "mine");
    }
}
