//! `kubectl top node|pod`: CPU and memory usage from the `metrics.k8s.io/v1beta1` API, laid
//! out as upstream's `TopCmdPrinter` does.

mod printer;
mod quantity;

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::{out, Ctx};
use crate::client::{q, ApiClient};
use crate::error::{KubectlError, Result};
use printer::{NodeMetrics, PodMetrics, PodTable, SortBy, Usage};

const METRICS: &str = "/apis/metrics.k8s.io/v1beta1";

/// Upstream's grace period: a pod younger than this may simply not have been scraped yet.
const METRICS_CREATION_DELAY_SECS: i64 = 120;

/// `kubectl top`
#[derive(Debug, Args)]
pub struct TopArgs {
    #[command(subcommand)]
    command: TopCommand,
}

#[derive(Debug, Subcommand)]
enum TopCommand {
    /// Display resource (CPU/memory) usage of nodes.
    #[command(visible_aliases = ["nodes", "no"])]
    Node(TopNodeArgs),
    /// Display resource (CPU/memory) usage of pods.
    #[command(visible_aliases = ["pods", "po"])]
    Pod(TopPodArgs),
}

/// Flags both subcommands share.
#[derive(Debug, Args)]
struct Common {
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// If non-empty, sort the list by 'cpu' or 'memory'.
    #[arg(long)]
    sort_by: Option<String>,
    /// If present, print output without headers.
    #[arg(long)]
    no_headers: bool,
    /// Accepted for compatibility: metrics are always read as JSON.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    use_protocol_buffers: Option<bool>,
}

/// `kubectl top node [NAME | -l label]`
#[derive(Debug, Args)]
pub struct TopNodeArgs {
    /// Node name.
    name: Vec<String>,
    #[command(flatten)]
    common: Common,
    /// Print node resources based on Capacity instead of Allocatable(default) of the nodes.
    #[arg(long)]
    show_capacity: bool,
}

/// `kubectl top pod [NAME | -l label]`
#[derive(Debug, Args)]
pub struct TopPodArgs {
    /// Pod name.
    name: Vec<String>,
    #[command(flatten)]
    common: Common,
    /// Selector (field query) to filter on.
    #[arg(long)]
    field_selector: Option<String>,
    /// If present, print usage of containers within a pod.
    #[arg(long)]
    containers: bool,
    /// If present, list the requested object(s) across all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Print the sum of the resource usage.
    #[arg(long)]
    sum: bool,
}

/// Runs `kubectl top …`.
pub async fn run(ctx: &Ctx, args: TopArgs) -> Result<()> {
    match args.command {
        TopCommand::Node(a) => node(ctx, a).await,
        TopCommand::Pod(a) => pod(ctx, a).await,
    }
}

/// At most one NAME; more is upstream's usage error naming the command's `Use` line.
fn single_name(names: &[String], usage: &str, cmd: &str) -> Result<Option<String>> {
    match names {
        [] => Ok(None),
        [n] => Ok(Some(n.clone())),
        _ => Err(KubectlError::usage(format!(
            "{usage}\nSee 'kubectl top {cmd} -h' for help and examples"
        ))),
    }
}

/// Upstream checks the group list (not the cached discovery) before asking for metrics.
async fn require_metrics_api(client: &ApiClient) -> Result<()> {
    let groups = client.get("/apis").await?;
    let available = groups["groups"].as_array().is_some_and(|gs| {
        gs.iter().any(|g| {
            g["name"] == "metrics.k8s.io"
                && g["versions"]
                    .as_array()
                    .is_some_and(|vs| vs.iter().any(|v| v["version"] == "v1beta1"))
        })
    });
    if available {
        Ok(())
    } else {
        Err(KubectlError::usage("Metrics API not available"))
    }
}

fn selector_query(label: Option<&str>, field: Option<&str>) -> String {
    let mut qs = Vec::new();
    if let Some(l) = label.filter(|l| !l.is_empty()) {
        qs.push(format!("labelSelector={}", q(l)));
    }
    if let Some(f) = field.filter(|f| !f.is_empty()) {
        qs.push(format!("fieldSelector={}", q(f)));
    }
    if qs.is_empty() {
        String::new()
    } else {
        format!("?{}", qs.join("&"))
    }
}

/// A single object's answer or a list's items.
fn items(v: Value, single: bool) -> Vec<Value> {
    if single {
        vec![v]
    } else {
        v["items"].as_array().cloned().unwrap_or_default()
    }
}

async fn node(ctx: &Ctx, a: TopNodeArgs) -> Result<()> {
    let name = single_name(&a.name, "node [NAME | -l label]", "node")?;
    let sort_by = SortBy::parse(a.common.sort_by.as_deref()).map_err(KubectlError::usage)?;
    if name.is_some() && a.common.selector.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(KubectlError::usage(
            "only one of NAME or --selector can be provided",
        ));
    }
    let client = ctx.client().await?;
    require_metrics_api(&client).await?;
    let query = selector_query(a.common.selector.as_deref(), None);
    let (metrics_path, nodes_path) = match &name {
        Some(n) => (format!("{METRICS}/nodes/{n}"), format!("/api/v1/nodes/{n}")),
        None => (
            format!("{METRICS}/nodes{query}"),
            format!("/api/v1/nodes{query}"),
        ),
    };
    let metrics: Vec<NodeMetrics> = items(client.get(&metrics_path).await?, name.is_some())
        .iter()
        .map(|m| NodeMetrics {
            name: m["metadata"]["name"].as_str().unwrap_or("").to_string(),
            usage: Usage::from_json(&m["usage"]),
        })
        .collect();
    if metrics.is_empty() {
        return Err(KubectlError::usage("metrics not available yet"));
    }
    let field = if a.show_capacity {
        "capacity"
    } else {
        "allocatable"
    };
    let available: BTreeMap<String, Usage> = items(client.get(&nodes_path).await?, name.is_some())
        .iter()
        .map(|n| {
            (
                n["metadata"]["name"].as_str().unwrap_or("").to_string(),
                Usage::from_json(&n["status"][field]),
            )
        })
        .collect();
    out(&printer::print_nodes(
        metrics,
        available,
        a.common.no_headers,
        sort_by,
    ));
    Ok(())
}

async fn pod(ctx: &Ctx, a: TopPodArgs) -> Result<()> {
    let name = single_name(&a.name, "pod [NAME | -l label]", "pod")?;
    let sort_by = SortBy::parse(a.common.sort_by.as_deref()).map_err(KubectlError::usage)?;
    let has_selector = a.common.selector.as_deref().is_some_and(|s| !s.is_empty())
        || a.field_selector.as_deref().is_some_and(|s| !s.is_empty());
    if name.is_some() && has_selector {
        return Err(KubectlError::usage(
            "only one of NAME or selector can be provided",
        ));
    }
    let client = ctx.client().await?;
    require_metrics_api(&client).await?;
    let ns = client.namespace.clone();
    let query = selector_query(a.common.selector.as_deref(), a.field_selector.as_deref());
    let scope = if a.all_namespaces {
        String::new()
    } else {
        format!("/namespaces/{ns}")
    };
    let path = match &name {
        Some(n) => format!("{METRICS}{scope}/pods/{n}"),
        None => format!("{METRICS}{scope}/pods{query}"),
    };
    let metrics: Vec<PodMetrics> = items(client.get(&path).await?, name.is_some())
        .iter()
        .map(|m| PodMetrics {
            namespace: m["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            name: m["metadata"]["name"].as_str().unwrap_or("").to_string(),
            containers: m["containers"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or("").to_string(),
                        Usage::from_json(&c["usage"]),
                    )
                })
                .collect(),
        })
        .collect();
    if metrics.is_empty() {
        explain_empty(&client, &ns, name.as_deref(), &query).await?;
        if a.all_namespaces {
            eprintln!("No resources found");
        } else {
            eprintln!("No resources found in {ns} namespace.");
        }
    }
    out(&printer::print_pods(
        metrics,
        PodTable {
            containers: a.containers,
            with_namespace: a.all_namespaces,
            no_headers: a.common.no_headers,
            sort_by,
            sum: a.sum,
        },
    ));
    Ok(())
}

/// Upstream's `verifyEmptyMetrics`: no metrics at all is fine when there are no pods, an
/// error naming the first pod old enough to have metrics, or "not available yet". Like
/// upstream it looks in the current namespace even with `-A`.
async fn explain_empty(
    client: &ApiClient,
    ns: &str,
    name: Option<&str>,
    query: &str,
) -> Result<()> {
    let pods = match name {
        Some(n) => vec![
            client
                .get(&format!("/api/v1/namespaces/{ns}/pods/{n}"))
                .await?,
        ],
        None => items(
            client
                .get(&format!("/api/v1/namespaces/{ns}/pods{query}"))
                .await?,
            false,
        ),
    };
    if pods.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now();
    for p in &pods {
        let created = p["metadata"]["creationTimestamp"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        // A missing timestamp is the zero time upstream: very old.
        let age = created.map_or(chrono::TimeDelta::MAX, |t| {
            now - t.with_timezone(&chrono::Utc)
        });
        if age.num_seconds() > METRICS_CREATION_DELAY_SECS {
            return Err(KubectlError::usage(format!(
                "Metrics not available for pod {}/{}, age: {}",
                p["metadata"]["namespace"].as_str().unwrap_or(""),
                p["metadata"]["name"].as_str().unwrap_or(""),
                go_duration(age)
            )));
        }
    }
    Err(KubectlError::usage("metrics not available yet"))
}

/// Go's `time.Duration.String()` for positive durations: `1h2m3.5s`.
fn go_duration(d: chrono::TimeDelta) -> String {
    let nanos = d.num_nanoseconds().unwrap_or(i64::MAX);
    let hours = nanos / 3_600_000_000_000;
    let minutes = (nanos / 60_000_000_000) % 60;
    let secs = (nanos % 60_000_000_000) as f64 / 1e9;
    let mut s = String::new();
    if hours > 0 {
        s.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        s.push_str(&format!("{minutes}m"));
    }
    let frac = format!("{secs:.9}");
    let frac = frac.trim_end_matches('0').trim_end_matches('.');
    s.push_str(frac);
    s.push('s');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(chrono::TimeDelta::seconds(185)), "3m5s");
        assert_eq!(
            go_duration(chrono::TimeDelta::milliseconds(3_723_500)),
            "1h2m3.5s"
        );
    }

    #[test]
    fn selectors_become_query_parameters() {
        assert_eq!(selector_query(None, None), "");
        assert_eq!(
            selector_query(Some("app=a"), Some("spec.nodeName=n")),
            "?labelSelector=app%3Da&fieldSelector=spec.nodeName%3Dn"
        );
    }
}
