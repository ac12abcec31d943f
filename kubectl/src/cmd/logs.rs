//! `kubectl logs`: a streaming GET of `pods/<name>/log`.

use clap::Args;
use futures::StreamExt;

use super::{out, Ctx};
use crate::client::{q, ApiClient};
use crate::error::{KubectlError, Result};

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
    /// If true, print the logs for the previous instance of the container.
    #[arg(short = 'p', long)]
    previous: bool,
    /// Lines of recent log file to display (-1: all; 10 with a selector).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    tail: i64,
    /// Only return logs newer than a relative duration like 5s, 2m, or 3h.
    #[arg(long)]
    since: Option<String>,
    /// Include timestamps on each line in the log output.
    #[arg(long)]
    timestamps: bool,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Get all containers' logs in the pod(s).
    #[arg(long)]
    all_containers: bool,
    /// Prefix each log line with the log source (pod name and container name).
    #[arg(long)]
    prefix: bool,
}

/// Runs `kubectl logs`.
pub async fn run(ctx: &Ctx, args: LogsArgs) -> Result<()> {
    let client = ctx.client().await?;
    let ns = client.namespace.clone();
    let mut pods: Vec<serde_json::Value> = Vec::new();
    let mut container = args.container.clone();
    let mut tail = args.tail;
    if let Some(sel) = &args.selector {
        let list = client
            .get(&format!(
                "/api/v1/namespaces/{ns}/pods?labelSelector={}",
                q(sel)
            ))
            .await?;
        pods = list["items"].as_array().cloned().unwrap_or_default();
        if tail < 0 {
            tail = 10;
        }
        if pods.is_empty() {
            eprintln!("No resources found in {ns} namespace.");
            return Ok(());
        }
    } else {
        let Some(first) = args.args.first() else {
            return Err(KubectlError::usage("expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\nSee 'kubectl logs -h' for help and examples"));
        };
        let name = match first.split_once('/') {
            Some(("pod" | "pods" | "po", n)) => n.to_string(),
            Some((t, _)) => {
                return Err(KubectlError::usage(format!(
                    "cannot get the logs from {t}: only pods are supported by this kubectl"
                )))
            }
            None => first.clone(),
        };
        if let Some(c) = args.args.get(1) {
            container = Some(c.clone());
        }
        pods.push(
            client
                .get(&format!("/api/v1/namespaces/{ns}/pods/{name}"))
                .await?,
        );
    }
    for pod in &pods {
        let name = pod["metadata"]["name"].as_str().unwrap_or("");
        let containers: Vec<String> = pod["spec"]["containers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let chosen: Vec<String> = if args.all_containers {
            containers.clone()
        } else if let Some(c) = &container {
            vec![c.clone()]
        } else {
            let default = pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"]
                .as_str()
                .map(String::from)
                .or_else(|| containers.first().cloned())
                .unwrap_or_default();
            if containers.len() > 1 {
                eprintln!(
                    "Defaulted container \"{default}\" out of: {}",
                    containers.join(", ")
                );
            }
            vec![default]
        };
        for c in chosen {
            stream_one(&client, &args, &ns, name, &c, tail).await?;
        }
    }
    Ok(())
}

async fn stream_one(
    client: &ApiClient,
    args: &LogsArgs,
    ns: &str,
    pod: &str,
    container: &str,
    tail: i64,
) -> Result<()> {
    let mut qs = vec![format!("container={}", q(container))];
    if args.follow {
        qs.push("follow=true".into());
    }
    if args.previous {
        qs.push("previous=true".into());
    }
    if tail >= 0 {
        qs.push(format!("tailLines={tail}"));
    }
    if args.timestamps {
        qs.push("timestamps=true".into());
    }
    if let Some(s) = &args.since {
        let secs = common_duration_secs(s).ok_or_else(|| {
            KubectlError::usage(format!("invalid argument \"{s}\" for \"--since\" flag"))
        })?;
        qs.push(format!("sinceSeconds={secs}"));
    }
    let path = format!("/api/v1/namespaces/{ns}/pods/{pod}/log?{}", qs.join("&"));
    let mut stream = Box::pin(client.stream(&path, "*/*").await?);
    let prefix = args.prefix.then(|| format!("[pod/{pod}/{container}] "));
    let mut pending = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        match &prefix {
            None => out(&String::from_utf8_lossy(&chunk)),
            Some(p) => {
                pending.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(i) = pending.find('\n') {
                    let line: String = pending.drain(..=i).collect();
                    out(&format!("{p}{line}"));
                }
            }
        }
    }
    if !pending.is_empty() {
        out(&format!("{}{pending}", prefix.unwrap_or_default()));
    }
    Ok(())
}

/// Go-style durations for `--since` (`90s`, `5m`, `1h30m`), in whole seconds (at least 1,
/// rounded up as upstream).
fn common_duration_secs(s: &str) -> Option<i64> {
    let d = common::duration::parse(s).ok()?;
    let secs = i64::try_from(d.as_secs()).ok()? + i64::from(d.subsec_nanos() > 0);
    Some(secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::common_duration_secs as d;

    #[test]
    fn since_durations() {
        assert_eq!(d("90s"), Some(90));
        assert_eq!(d("1h30m"), Some(5400));
        assert_eq!(d("500ms"), Some(1));
        assert_eq!(d("5"), None);
        assert_eq!(d("5x"), None);
    }
}
