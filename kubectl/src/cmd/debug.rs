//! `kubectl debug POD --image=IMAGE [-c NAME] [--target=CONTAINER] [-i] [-t] -- [COMMAND...]`:
//! adds an ephemeral container to a running pod through `pods/<name>/ephemeralcontainers`
//! and, with `-i` (or `--attach`), attaches to it once it runs. Upstream's other modes
//! (`--copy-to`, debugging a node) are not here.

use std::time::{Duration, Instant};

use clap::Args;
use http::Method;
use serde_json::{json, Map, Value};

use super::attach::{attach, AttachOptions};
use super::exec::pod_running_timeout;
use super::{out, Ctx};
use crate::client::{q, ApiClient, Body};
use crate::error::{KubectlError, Result};

/// `kubectl debug`
#[derive(Debug, Args)]
pub struct DebugArgs {
    /// POD or pod/NAME.
    pod: Option<String>,
    /// Container image to use for the debug container.
    #[arg(long)]
    image: Option<String>,
    /// Container name to use for the debug container (default: a generated one).
    #[arg(short = 'c', long)]
    container: Option<String>,
    /// When using an ephemeral container, target processes in this container name.
    #[arg(long)]
    target: Option<String>,
    /// Keep stdin open on the container, even if nothing is attached.
    #[arg(short = 'i', long)]
    stdin: bool,
    /// Allocate a TTY for the debugging container.
    #[arg(short = 't', long)]
    tty: bool,
    /// Wait for the container to start running, then attach as 'kubectl attach' would
    /// (default with -i).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    attach: Option<bool>,
    /// Only print output from the remote session.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// The image pull policy for the container.
    #[arg(long)]
    image_pull_policy: Option<String>,
    /// Environment variables to set in the container.
    #[arg(long)]
    env: Vec<String>,
    /// If specified, everything after -- is passed to the container as args instead of
    /// the command.
    #[arg(long)]
    arguments_only: bool,
    /// Options are "legacy", "general", "baseline", "netadmin", "restricted" or "sysadmin".
    #[arg(long, default_value = "legacy")]
    profile: String,
    /// How long to wait until the container is running (e.g. 5s, 2m).
    #[arg(long, default_value = "1m0s")]
    pod_running_timeout: String,
    /// The command (or, with --arguments-only, the args) after `--`.
    #[arg(last = true)]
    args: Vec<String>,
}

/// Upstream's warning for the default profile.
const LEGACY_PROFILE_WARNING: &str = "--profile=legacy is deprecated and will be removed in the future. It is recommended to explicitly specify a profile, for example \"--profile=general\".";

/// Runs `kubectl debug`.
pub async fn run(ctx: &Ctx, a: DebugArgs) -> Result<()> {
    let Some(target) = a.pod.as_deref() else {
        return Err(KubectlError::usage(
            "NAME is required for debug\nSee 'kubectl debug -h' for help and examples",
        ));
    };
    let name = pod_name(target)?;
    let Some(image) = a.image.as_deref().filter(|i| !i.is_empty()) else {
        return Err(KubectlError::usage(
            "--image is required for ephemeral containers",
        ));
    };
    profile_security_context(&a.profile)?;
    if a.profile == "legacy" {
        eprintln!("{LEGACY_PROFILE_WARNING}");
    }
    let timeout = pod_running_timeout(&a.pod_running_timeout)?;
    let client = ctx.client().await?;
    let ns = client.namespace.clone();
    let pod = client
        .get(&format!("/api/v1/namespaces/{ns}/pods/{name}"))
        .await?;
    let container = match a.container.clone() {
        Some(c) => {
            if container_names(&pod).any(|n| n == c) {
                return Err(KubectlError::usage(format!(
                    "container {c:?} already exists in pod {name:?}"
                )));
            }
            c
        }
        None => {
            let generated = generated_name(&pod);
            if !a.quiet {
                out(&format!(
                    "Defaulting debug container name to {generated}.\n"
                ));
            }
            generated
        }
    };
    if let Some(t) = &a.target {
        if !a.quiet {
            out(&format!("Targeting container {t:?}. If you don't see processes from this container it may be because the container runtime doesn't support this feature.\n"));
        }
    }
    let spec = ephemeral_container(&a, &container, image)?;
    let patch = json!({"spec": {"ephemeralContainers": [spec]}});
    let body = Body::strategic_merge_patch(&patch);
    client
        .request(
            Method::PATCH,
            &format!("/api/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers"),
            "application/json",
            Some(body),
        )
        .await?;
    if !a.attach.unwrap_or(a.stdin) {
        return Ok(());
    }
    let pod = wait_until_started(&client, &ns, name, &container, timeout).await?;
    let options = AttachOptions {
        container: Some(container),
        stdin: a.stdin,
        tty: a.tty,
        quiet: a.quiet,
    };
    attach(&client, &pod, options).await
}

/// The pod's name from `NAME`, `pod/NAME` or `pods/NAME`.
fn pod_name(target: &str) -> Result<&str> {
    match target.split_once('/') {
        None => Ok(target),
        Some(("pod" | "pods" | "po", name)) if !name.is_empty() => Ok(name),
        Some((kind, _)) => Err(KubectlError::usage(format!(
            "debugging a {kind} is not supported here: name a pod (POD or pod/NAME)"
        ))),
    }
}

fn container_names(pod: &Value) -> impl Iterator<Item = &str> {
    ["containers", "initContainers", "ephemeralContainers"]
        .into_iter()
        .flat_map(|k| pod["spec"][k].as_array().into_iter().flatten())
        .filter_map(|c| c["name"].as_str())
}

/// `debugger-` and five random characters of upstream's name generator, avoiding the
/// names the pod already has.
fn generated_name(pod: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    loop {
        let suffix: String = (0..5)
            .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
            .collect();
        let name = format!("debugger-{suffix}");
        if !container_names(pod).any(|n| n == name) {
            return name;
        }
    }
}

/// The ephemeral container as upstream's legacy and general profiles build it.
fn ephemeral_container(a: &DebugArgs, name: &str, image: &str) -> Result<Value> {
    let mut c = Map::new();
    c.insert("name".into(), json!(name));
    c.insert("image".into(), json!(image));
    if let Some(policy) = &a.image_pull_policy {
        c.insert("imagePullPolicy".into(), json!(policy));
    }
    // Set only when true, as upstream's Go struct omits false.
    if a.stdin {
        c.insert("stdin".into(), json!(true));
    }
    if a.tty {
        c.insert("tty".into(), json!(true));
    }
    c.insert("terminationMessagePolicy".into(), json!("File"));
    // As upstream's, whose Go struct always carries it.
    c.insert("resources".into(), json!({}));
    if let Some(t) = &a.target {
        c.insert("targetContainerName".into(), json!(t));
    }
    if !a.args.is_empty() {
        let key = if a.arguments_only { "args" } else { "command" };
        c.insert(key.into(), json!(a.args));
    }
    if let Some(sc) = profile_security_context(&a.profile)? {
        c.insert("securityContext".into(), sc);
    }
    if !a.env.is_empty() {
        let env = a
            .env
            .iter()
            .map(|e| match e.split_once('=') {
                Some((k, v)) if !k.is_empty() => Ok(json!({"name": k, "value": v})),
                _ => Err(KubectlError::usage(format!(
                    "invalid env: {e}: must be of the form KEY=VALUE"
                ))),
            })
            .collect::<Result<Vec<Value>>>()?;
        c.insert("env".into(), Value::Array(env));
    }
    Ok(Value::Object(c))
}

/// The security context a debugging profile gives an ephemeral container (upstream's
/// profiles): `general` may trace processes, `netadmin` administer the network, `sysadmin`
/// is privileged, `restricted` runs as non-root without capabilities; `legacy` and
/// `baseline` change nothing.
fn profile_security_context(profile: &str) -> Result<Option<Value>> {
    Ok(match profile {
        "legacy" | "baseline" => None,
        "general" => Some(json!({"capabilities": {"add": ["SYS_PTRACE"]}})),
        "netadmin" => Some(json!({"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}})),
        "sysadmin" => Some(json!({"privileged": true})),
        "restricted" => Some(json!({
            "runAsNonRoot": true,
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}
        })),
        other => {
            return Err(KubectlError::usage(format!("unknown profile: {other}")));
        }
    })
}

/// Polls the pod until the ephemeral container runs (or has already finished).
async fn wait_until_started(
    client: &ApiClient,
    ns: &str,
    name: &str,
    container: &str,
    timeout: Duration,
) -> Result<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let pod = client
            .get(&format!("/api/v1/namespaces/{ns}/pods/{}", q(name)))
            .await?;
        let state = pod["status"]["ephemeralContainerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["name"] == container)
            .map(|s| s["state"].clone())
            .unwrap_or(Value::Null);
        if state["running"].is_object() || state["terminated"].is_object() {
            return Ok(pod);
        }
        if Instant::now() >= deadline {
            return Err(KubectlError::usage(format!(
                "timed out waiting for the ephemeral container {container:?} to start"
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
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

    fn parse(argv: &[&str]) -> DebugArgs {
        Wrapper::parse_from(std::iter::once("debug").chain(argv.iter().copied())).args
    }

    #[test]
    fn builds_the_ephemeral_container_as_upstream() {
        let a = parse(&[
            "web",
            "--image=busybox",
            "-it",
            "--target=web",
            "--env=A=1",
            "--",
            "sh",
            "-c",
            "ps",
        ]);
        let c = ephemeral_container(&a, "dbg", "busybox").unwrap();
        assert_eq!(
            c,
            json!({"name": "dbg", "image": "busybox", "stdin": true, "tty": true,
                "terminationMessagePolicy": "File", "targetContainerName": "web", "resources": {},
                "command": ["sh", "-c", "ps"], "env": [{"name": "A", "value": "1"}]})
        );
        let args_only = parse(&["web", "--image=busybox", "--arguments-only", "--", "x"]);
        let c = ephemeral_container(&args_only, "dbg", "busybox").unwrap();
        assert_eq!(c["args"], json!(["x"]));
        assert!(c.get("command").is_none());
        let bad_env = parse(&["web", "--image=busybox", "--env=nope"]);
        assert!(ephemeral_container(&bad_env, "dbg", "busybox").is_err());
        let general = parse(&["web", "--image=busybox", "--profile=general"]);
        let c = ephemeral_container(&general, "dbg", "busybox").unwrap();
        assert_eq!(
            c["securityContext"]["capabilities"]["add"],
            json!(["SYS_PTRACE"])
        );
        assert!(profile_security_context("bogus").is_err());
    }

    #[test]
    fn names_pods_only_and_generates_unused_names() {
        assert_eq!(pod_name("web").unwrap(), "web");
        assert_eq!(pod_name("pod/web").unwrap(), "web");
        assert!(pod_name("deploy/web").is_err());
        let pod = json!({"spec": {"containers": [{"name": "web"}]}});
        let name = generated_name(&pod);
        assert!(name.starts_with("debugger-") && name.len() == 14, "{name}");
    }
}
