//! `kubectl attach (POD | TYPE/NAME) -c CONTAINER [-i] [-t]`: connects to the streams of a
//! running container's main process through `pods/<name>/attach`. `kubectl run -i/-t` ends
//! here too.

use clap::Args;
use serde_json::Value;

use super::attachable::{container_for, pod_for};
use super::exec::{pod_running_timeout, refuse_completed, run_session, tty_usable, StreamArgs};
use super::{out, Ctx};
use crate::client::{q, ApiClient};
use crate::error::{KubectlError, Result};
use crate::remote::{Errors, Input, Output, Session};

/// `kubectl attach`
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// POD, TYPE/NAME, or TYPE NAME.
    args: Vec<String>,
    #[command(flatten)]
    streams: StreamArgs,
}

/// Runs `kubectl attach`.
pub async fn run(ctx: &Ctx, a: AttachArgs) -> Result<()> {
    let target = match a.args.as_slice() {
        [] => {
            return Err(KubectlError::usage(
                "at least 1 argument is required for attach",
            ))
        }
        [one] => one.clone(),
        [kind, name] => format!("{kind}/{name}"),
        more => {
            return Err(KubectlError::usage(format!(
                "expected POD, TYPE/NAME, or TYPE NAME, (at most 2 arguments) saw {}: [{}]",
                more.len(),
                more.join(" ")
            )))
        }
    };
    let s = a.streams;
    let timeout = pod_running_timeout(&s.pod_running_timeout)?;
    let client = ctx.client().await?;
    let ns = client.namespace.clone();
    let pod = pod_for(&client, &ns, &target, timeout).await?;
    refuse_completed(&pod, "attach")?;
    let options = AttachOptions {
        container: s.container,
        stdin: s.stdin,
        tty: s.tty,
        quiet: s.quiet,
    };
    attach(&client, &pod, options).await
}

/// What to attach with.
pub struct AttachOptions {
    /// Requested container, if any.
    pub container: Option<String>,
    /// Send our stdin.
    pub stdin: bool,
    /// Ask for a terminal.
    pub tty: bool,
    /// No notes on stderr.
    pub quiet: bool,
}

/// Attaches to a container of `pod` as upstream's attach does: the TTY follows the
/// container's (a container without one gets none, one with one always gets one).
pub async fn attach(client: &ApiClient, pod: &Value, o: AttachOptions) -> Result<()> {
    let container = container_for(pod, o.container.as_deref(), o.quiet).map_err(|e| {
        KubectlError::usage(format!("cannot attach to the container: {}", strip(e)))
    })?;
    let spec = find_container(pod, &container);
    let container_tty = spec.is_some_and(|c| c["tty"].as_bool() == Some(true));
    let mut tty = o.tty;
    if tty && !container_tty {
        tty = false;
        if !o.quiet {
            eprintln!("error: Unable to use a TTY - container {container} did not allocate one");
        }
    } else if !tty && container_tty {
        tty = true;
    }
    // Upstream's SetupTTY: a TTY needs our stdin, and a terminal behind it.
    let raw = tty && o.stdin && tty_usable(o.quiet);
    if !o.quiet {
        eprintln!("If you don't see a command prompt, try pressing enter.");
    }
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or("");
    let name = pod["metadata"]["name"].as_str().unwrap_or("");
    let path = format!(
        "/api/v1/namespaces/{ns}/pods/{name}/attach?container={}&stdin={}&stdout=true&stderr={}&tty={raw}",
        q(&container),
        o.stdin,
        !raw
    );
    let session = Session {
        input: if o.stdin { Input::Stdin } else { Input::None },
        output: Output::Stdout,
        errors: if raw { Errors::None } else { Errors::Stderr },
        tty: raw,
        redraw: true,
    };
    run_session(client, &path, session, raw).await?;
    if !o.quiet && o.stdin && raw && pod["spec"]["restartPolicy"] == "Always" {
        let reattach = format!("kubectl attach {name} -c {container} -i -t");
        let ephemeral = pod["spec"]["ephemeralContainers"]
            .as_array()
            .is_some_and(|l| l.iter().any(|c| c["name"] == container));
        out(&if ephemeral {
            format!("Session ended, the ephemeral container will not be restarted but may be reattached using '{reattach}' if it is still running\n")
        } else {
            format!("Session ended, resume using '{reattach}' command when the pod is running\n")
        });
    }
    Ok(())
}

fn find_container<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| pod["spec"][*k].as_array().into_iter().flatten())
        .find(|c| c["name"] == name)
}

/// An error's message without the `error: ` prefix, to nest it in another.
fn strip(e: KubectlError) -> String {
    match e {
        KubectlError::Usage(m) => m,
        other => other.to_string(),
    }
}
