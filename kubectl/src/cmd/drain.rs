//! `kubectl drain`: cordon nodes, then evict (or delete) their pods, retrying evictions a
//! PodDisruptionBudget refuses (429), and wait until the pods are gone.
//!
//! Which pods may go is upstream's filter chain, in its order: pods already deleting longer
//! than `--skip-wait-for-delete-timeout` are skipped; DaemonSet pods need
//! `--ignore-daemonsets` (and are then left alone); mirror pods are skipped; pods with
//! emptyDir volumes need `--delete-emptydir-data`; pods without a controller need `--force`.
//! Each filter's verdict replaces the previous one, so only the last warning survives.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Args;
use http::Method;
use serde_json::{json, Value};

use super::print_flags::{DryRun, DryRunFlag};
use super::{out, Ctx};
use crate::client::{q, ApiClient, Body};
use crate::error::{KubectlError, Result};

/// `kubectl drain NODE`
#[derive(Debug, Args)]
pub struct DrainArgs {
    /// Node names.
    nodes: Vec<String>,
    /// Continue even if there are pods that do not declare a controller.
    #[arg(long)]
    force: bool,
    /// Ignore DaemonSet-managed pods.
    #[arg(long)]
    ignore_daemonsets: bool,
    /// Continue even if there are pods using emptyDir (local data that will be deleted when the node is drained).
    #[arg(long, alias = "delete-local-data")]
    delete_emptydir_data: bool,
    /// Period of time in seconds given to each pod to terminate gracefully. If negative, the default value specified in the pod will be used.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    grace_period: i64,
    /// The length of time to wait before giving up, zero means infinite.
    #[arg(long, default_value = "0s", value_parser = crate::flags::go_duration)]
    timeout: String,
    /// Label selector to filter pods on the node.
    #[arg(long)]
    pod_selector: Option<String>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Force drain to use delete, even if eviction is supported.
    #[arg(long)]
    disable_eviction: bool,
    /// If pod DeletionTimestamp older than N seconds, skip waiting for the pod.
    #[arg(long, default_value_t = 0)]
    skip_wait_for_delete_timeout: i64,
    /// Return large lists in chunks rather than all at once. Pass 0 to disable.
    #[arg(long, default_value_t = 500)]
    chunk_size: u64,
    #[command(flatten)]
    pub dry_run: DryRunFlag,
}

/// Upstream's texts for refused and warned pods.
const DAEMONSET_FATAL: &str = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)";
const DAEMONSET_WARNING: &str = "ignoring DaemonSet-managed Pods";
const LOCAL_STORAGE_FATAL: &str =
    "Pods with local storage (use --delete-emptydir-data to override)";
// kubectl 1.32's text (it repeats "cannot delete" once the list is formatted).
const UNMANAGED_FATAL: &str =
    "cannot delete Pods that declare no controller (use --force to override)";
const UNMANAGED_WARNING: &str = "deleting Pods that declare no controller";

/// The verdict on one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Evict it.
    Delete,
    /// Evict it, with a warning.
    DeleteWarn(String),
    /// Leave it, silently.
    Skip,
    /// Leave it, with a warning.
    SkipWarn(String),
    /// Refuse to drain because of it.
    Error(String),
}

impl Verdict {
    fn deletes(&self) -> bool {
        matches!(self, Verdict::Delete | Verdict::DeleteWarn(_))
    }
}

/// The flags the filters look at.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy {
    /// `--force`
    pub force: bool,
    /// `--ignore-daemonsets`
    pub ignore_daemonsets: bool,
    /// `--delete-emptydir-data`
    pub delete_emptydir_data: bool,
    /// `--skip-wait-for-delete-timeout`
    pub skip_deleted_after: i64,
}

fn finished(pod: &Value) -> bool {
    matches!(
        pod["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed")
    )
}

fn controller(pod: &Value) -> Option<&Value> {
    pod["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["controller"].as_bool() == Some(true))
}

/// Runs upstream's filter chain on one pod. `daemonset_exists` answers whether the
/// controlling DaemonSet still exists (Err = the error text of looking it up).
pub fn verdict(
    pod: &Value,
    policy: Policy,
    now: chrono::DateTime<chrono::Utc>,
    daemonset_exists: &dyn Fn(&Value) -> std::result::Result<bool, String>,
) -> Verdict {
    // Skip pods that have been deleting for longer than the timeout.
    if policy.skip_deleted_after > 0 {
        if let Some(ts) = pod["metadata"]["deletionTimestamp"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        {
            if (now - ts.with_timezone(&chrono::Utc)).num_seconds() > policy.skip_deleted_after {
                return Verdict::Skip;
            }
        }
    }
    // DaemonSet pods. An orphan with --force passes this filter; its warning would be
    // replaced by the later filters' verdicts, as upstream's is.
    if let Some(c) = controller(pod).filter(|c| c["kind"] == "DaemonSet") {
        if !finished(pod) {
            match daemonset_exists(c) {
                Ok(true) if policy.ignore_daemonsets => {
                    return Verdict::SkipWarn(DAEMONSET_WARNING.into())
                }
                Ok(true) => return Verdict::Error(DAEMONSET_FATAL.into()),
                Ok(false) if policy.force => {}
                Ok(false) => {
                    return Verdict::Error(format!(
                        "daemonsets.apps \"{}\" not found",
                        c["name"].as_str().unwrap_or("")
                    ))
                }
                Err(e) => return Verdict::Error(e),
            }
        }
    }
    // Mirror pods.
    if pod["metadata"]["annotations"]
        .get("kubernetes.io/config.mirror")
        .is_some()
    {
        return Verdict::Skip;
    }
    // Local storage.
    let empty_dir = pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|v| v.get("emptyDir").is_some());
    if empty_dir && !finished(pod) && !policy.delete_emptydir_data {
        return Verdict::Error(LOCAL_STORAGE_FATAL.into());
    }
    // Unreplicated pods: the last filter, so its verdict is the one that stays (upstream's
    // local-storage warning is always replaced by it).
    if finished(pod) || controller(pod).is_some() {
        return Verdict::Delete;
    }
    if policy.force {
        return Verdict::DeleteWarn(UNMANAGED_WARNING.into());
    }
    Verdict::Error(UNMANAGED_FATAL.into())
}

fn ns_name(pod: &Value) -> String {
    format!(
        "{}/{}",
        pod["metadata"]["namespace"].as_str().unwrap_or(""),
        pod["metadata"]["name"].as_str().unwrap_or("")
    )
}

/// Groups pods by message, in first-seen order: `msg: ns/a, ns/b`.
fn group(items: &[(String, String)]) -> Vec<String> {
    let mut order: Vec<&str> = Vec::new();
    let mut by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (msg, pod) in items {
        if !by.contains_key(msg.as_str()) {
            order.push(msg);
        }
        by.entry(msg).or_default().push(pod);
    }
    order
        .into_iter()
        .map(|m| format!("{m}: {}", by[m].join(", ")))
        .collect()
}

/// The pods to evict, the warning line, and the refusals (`cannot delete …`).
pub fn plan(pods: &[Value], verdicts: &[Verdict]) -> (Vec<Value>, String, Vec<String>) {
    let mut delete = Vec::new();
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for (p, v) in pods.iter().zip(verdicts) {
        match v {
            Verdict::DeleteWarn(w) | Verdict::SkipWarn(w) => warnings.push((w.clone(), ns_name(p))),
            Verdict::Error(e) => errors.push((e.clone(), ns_name(p))),
            _ => {}
        }
        if v.deletes() {
            delete.push(p.clone());
        }
    }
    let errors = group(&errors)
        .into_iter()
        .map(|e| format!("cannot delete {e}"))
        .collect();
    (delete, group(&warnings).join("; "), errors)
}

/// A Go duration flag value in seconds (`0s`, `90s`, `2m`).
fn parse_timeout(s: &str) -> Result<Option<Duration>> {
    let secs = super::create::parse_duration(s).ok_or_else(|| {
        KubectlError::usage(format!(
            "invalid argument \"{s}\" for \"--timeout\" flag: time: invalid duration \"{s}\""
        ))
    })?;
    Ok((secs > 0).then(|| Duration::from_secs(secs as u64)))
}

/// Runs `kubectl drain`.
pub async fn run(ctx: &Ctx, a: DrainArgs) -> Result<()> {
    let dry = a.dry_run.strategy()?;
    let timeout = parse_timeout(&a.timeout)?;
    if a.nodes.is_empty() && a.selector.is_none() {
        return Err(KubectlError::usage(
            "USAGE: drain NODE [flags]\nSee 'kubectl drain -h' for help and examples",
        ));
    }
    let client = ctx.client().await?;
    let mut nodes = Vec::new();
    if let Some(sel) = &a.selector {
        let list = client
            .get(&format!("/api/v1/nodes?labelSelector={}", q(sel)))
            .await?;
        for n in list["items"].as_array().into_iter().flatten() {
            nodes.push(n["metadata"]["name"].as_str().unwrap_or("").to_string());
        }
    }
    for n in &a.nodes {
        let name = n
            .strip_prefix("node/")
            .or(n.strip_prefix("nodes/"))
            .unwrap_or(n);
        client.get(&format!("/api/v1/nodes/{name}")).await?;
        nodes.push(name.to_string());
    }
    // Cordon them all first, as upstream does.
    for name in &nodes {
        let node = client.get(&format!("/api/v1/nodes/{name}")).await?;
        if node["spec"]["unschedulable"].as_bool() == Some(true) {
            out(&format!("node/{name} already cordoned\n"));
            continue;
        }
        if dry != DryRun::Client {
            let body = Body::strategic_merge_patch(&json!({"spec": {"unschedulable": true}}));
            let sep = if dry == DryRun::Server {
                "?dryRun=All"
            } else {
                ""
            };
            client
                .request(
                    Method::PATCH,
                    &format!("/api/v1/nodes/{name}{sep}"),
                    "application/json",
                    Some(body),
                )
                .await?;
        }
        out(&format!("node/{name} cordoned{}\n", dry.suffix()));
    }
    let policy = Policy {
        force: a.force,
        ignore_daemonsets: a.ignore_daemonsets,
        delete_emptydir_data: a.delete_emptydir_data,
        skip_deleted_after: a.skip_wait_for_delete_timeout,
    };
    let mut fatal = Vec::new();
    let mut remaining = Vec::new();
    for name in &nodes {
        match drain_node(&client, name, &a, policy, dry, timeout).await {
            Ok(()) => out(&format!("node/{name} drained{}\n", dry.suffix())),
            Err(msgs) => {
                eprintln!(
                    "error: unable to drain node {name:?} due to error: {}, continuing command...",
                    aggregate(&msgs)
                );
                fatal.extend(msgs);
                remaining.push(name.clone());
            }
        }
    }
    if !remaining.is_empty() {
        eprintln!("There are pending nodes to be drained:");
        for n in &remaining {
            eprintln!(" {n}");
        }
    }
    if fatal.is_empty() {
        return Ok(());
    }
    // An aggregate of aggregates: upstream prints the messages without `error: `.
    for e in &fatal {
        eprintln!("{e}");
    }
    Err(KubectlError::Reported)
}

/// apimachinery's aggregate error text.
fn aggregate(msgs: &[String]) -> String {
    if msgs.len() == 1 {
        msgs[0].clone()
    } else {
        format!("[{}]", msgs.join(", "))
    }
}

/// The pods on `node`, listed in pages of `chunk_size` (all at once for 0), as upstream's
/// drain lists them.
async fn pods_on(
    client: &ApiClient,
    node: &str,
    pod_selector: Option<&str>,
    chunk_size: u64,
) -> Result<Vec<Value>> {
    let mut query = vec![format!(
        "fieldSelector={}",
        q(&format!("spec.nodeName={node}"))
    )];
    if let Some(s) = pod_selector {
        query.push(format!("labelSelector={}", q(s)));
    }
    let mut pods = Vec::new();
    let mut token = String::new();
    loop {
        let path = super::get::fetch::page_path("/api/v1/pods", query.clone(), chunk_size, &token);
        let page = client.get(&path).await?;
        pods.extend(page["items"].as_array().cloned().unwrap_or_default());
        token = page["metadata"]["continue"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if token.is_empty() {
            return Ok(pods);
        }
    }
}

async fn verdicts(client: &ApiClient, pods: &[Value], policy: Policy) -> Vec<Verdict> {
    let mut out = Vec::new();
    for p in pods {
        // Look the DaemonSet up first (the filter itself is pure).
        let ds = match controller(p).filter(|c| c["kind"] == "DaemonSet") {
            Some(c) => {
                let ns = p["metadata"]["namespace"].as_str().unwrap_or("");
                let path = format!(
                    "/apis/apps/v1/namespaces/{ns}/daemonsets/{}",
                    c["name"].as_str().unwrap_or("")
                );
                match client.get(&path).await {
                    Ok(_) => Ok(true),
                    Err(e) if e.is_not_found() => Ok(false),
                    Err(e) => Err(e.to_string()),
                }
            }
            None => Ok(true),
        };
        out.push(verdict(p, policy, chrono::Utc::now(), &|_| ds.clone()));
    }
    out
}

async fn drain_node(
    client: &ApiClient,
    node: &str,
    a: &DrainArgs,
    policy: Policy,
    dry: DryRun,
    timeout: Option<Duration>,
) -> std::result::Result<(), Vec<String>> {
    let err = |e: KubectlError| vec![e.to_string().trim_start_matches("error: ").to_string()];
    let pods = pods_on(client, node, a.pod_selector.as_deref(), a.chunk_size)
        .await
        .map_err(err)?;
    let v = verdicts(client, &pods, policy).await;
    let (delete, warnings, errors) = plan(&pods, &v);
    if !errors.is_empty() {
        return Err(errors);
    }
    if !warnings.is_empty() {
        eprintln!("Warning: {warnings}");
    }
    if dry == DryRun::Client {
        for p in &delete {
            out(&format!("evicting pod {} (dry run)\n", ns_name(p)));
        }
        return Ok(());
    }
    let deadline = timeout.map(|t| Instant::now() + t);
    let results = futures::future::join_all(
        delete
            .iter()
            .map(|p| evict_and_wait(client, p, a, dry, deadline)),
    )
    .await;
    let failures: Vec<String> = results.into_iter().filter_map(|r| r.err()).collect();
    if failures.is_empty() {
        return Ok(());
    }
    let msg = aggregate(&failures);
    if let Ok(left) = pods_on(client, node, a.pod_selector.as_deref(), a.chunk_size).await {
        let v = verdicts(client, &left, policy).await;
        let (pending, _, _) = plan(&left, &v);
        if !pending.is_empty() {
            eprintln!("There are pending pods in node {node:?} when an error occurred: {msg}");
            for p in &pending {
                eprintln!("pod/{}", p["metadata"]["name"].as_str().unwrap_or(""));
            }
        }
    }
    Err(vec![msg])
}

/// Evicts (or deletes) one pod, retrying while a disruption budget refuses, then waits for
/// it to disappear.
async fn evict_and_wait(
    client: &ApiClient,
    pod: &Value,
    a: &DrainArgs,
    dry: DryRun,
    deadline: Option<Instant>,
) -> std::result::Result<(), String> {
    let ns = pod["metadata"]["namespace"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
    let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
    let mut delete_options = json!({});
    if a.grace_period >= 0 {
        delete_options["gracePeriodSeconds"] = json!(a.grace_period);
    }
    if dry == DryRun::Server {
        delete_options["dryRun"] = json!(["All"]);
    }
    let verb = if a.disable_eviction {
        "deleted"
    } else {
        "evicted"
    };
    loop {
        let result = if a.disable_eviction {
            if dry == DryRun::Server {
                out(&format!("deleting pod {ns}/{name} (server dry run)\n"));
            }
            let body = Body::json(&delete_options);
            client
                .request(
                    Method::DELETE,
                    &format!("/api/v1/namespaces/{ns}/pods/{name}"),
                    "application/json",
                    Some(body),
                )
                .await
        } else {
            match dry {
                DryRun::Server => out(&format!("evicting pod {ns}/{name} (server dry run)\n")),
                _ => out(&format!("evicting pod {ns}/{name}\n")),
            }
            // Upstream checks the global timeout after announcing each attempt.
            if deadline.is_some_and(|d| Instant::now() > d) {
                return Err(format!(
                    "error when evicting pods/{name:?} -n {ns:?}: global timeout reached: {}",
                    a.timeout
                ));
            }
            let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction",
                                  "metadata": {"name": name, "namespace": ns},
                                  "deleteOptions": delete_options});
            client
                .request(
                    Method::POST,
                    &format!("/api/v1/namespaces/{ns}/pods/{name}/eviction"),
                    "application/json",
                    Some(Body::json(&eviction)),
                )
                .await
        };
        match result {
            Ok(_) => break,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(KubectlError::Server {
                code: 429, message, ..
            }) => {
                eprintln!(
                    "error when evicting pods/{name:?} -n {ns:?} (will retry after 5s): {message}"
                );
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            Err(KubectlError::Server { message, .. }) => {
                return Err(format!(
                    "error when evicting pods/{name:?} -n {ns:?}: {message}"
                ))
            }
            Err(e) => return Err(format!("error when evicting pods/{name:?} -n {ns:?}: {e}")),
        }
    }
    if dry == DryRun::Server {
        return Ok(());
    }
    // Wait until the pod is gone (or replaced by a new one of the same name).
    loop {
        match client
            .get(&format!("/api/v1/namespaces/{ns}/pods/{name}"))
            .await
        {
            Err(e) if e.is_not_found() => break,
            Ok(p) if p["metadata"]["uid"].as_str() != Some(uid.as_str()) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "error when waiting for pod {name:?} in namespace {ns:?} to terminate: {e}"
                ))
            }
        }
        if let Some(d) = deadline {
            if Instant::now() > d {
                return Err(format!("drain did not complete within {}", a.timeout));
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    out(&format!("pod/{name} {verb}\n"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, owner: Option<&str>, empty_dir: bool) -> Value {
        let mut p = json!({"metadata": {"name": name, "namespace": "ns"}, "spec": {}, "status": {"phase": "Running"}});
        if let Some(kind) = owner {
            p["metadata"]["ownerReferences"] =
                json!([{"kind": kind, "name": "o", "controller": true}]);
        }
        if empty_dir {
            p["spec"]["volumes"] = json!([{"name": "d", "emptyDir": {}}]);
        }
        p
    }

    fn v(p: &Value, policy: Policy) -> Verdict {
        verdict(p, policy, chrono::Utc::now(), &|_| Ok(true))
    }

    #[test]
    fn refusal_reasons_match_upstream() {
        let none = Policy::default();
        assert_eq!(
            v(&pod("a", None, false), none),
            Verdict::Error(UNMANAGED_FATAL.into())
        );
        assert_eq!(
            v(&pod("a", Some("DaemonSet"), false), none),
            Verdict::Error(DAEMONSET_FATAL.into())
        );
        assert_eq!(
            v(&pod("a", Some("ReplicaSet"), true), none),
            Verdict::Error(LOCAL_STORAGE_FATAL.into())
        );
        assert_eq!(
            v(&pod("a", Some("ReplicaSet"), false), none),
            Verdict::Delete
        );
    }

    #[test]
    fn flags_turn_refusals_into_warnings() {
        let all = Policy {
            force: true,
            ignore_daemonsets: true,
            delete_emptydir_data: true,
            skip_deleted_after: 0,
        };
        assert_eq!(
            v(&pod("a", None, false), all),
            Verdict::DeleteWarn(UNMANAGED_WARNING.into())
        );
        assert_eq!(
            v(&pod("a", Some("DaemonSet"), false), all),
            Verdict::SkipWarn(DAEMONSET_WARNING.into())
        );
        // Upstream's local-storage warning is replaced by the next filter's verdict.
        assert_eq!(v(&pod("a", Some("ReplicaSet"), true), all), Verdict::Delete);
        // Only the last filter's warning survives.
        assert_eq!(
            v(&pod("a", None, true), all),
            Verdict::DeleteWarn(UNMANAGED_WARNING.into())
        );
        let mut finished = pod("a", None, true);
        finished["status"]["phase"] = json!("Succeeded");
        assert_eq!(v(&finished, Policy::default()), Verdict::Delete);
    }

    #[test]
    fn plan_groups_messages() {
        let pods = vec![
            pod("a", None, false),
            pod("b", None, false),
            pod("c", Some("ReplicaSet"), false),
        ];
        let verdicts = vec![
            Verdict::Error(UNMANAGED_FATAL.into()),
            Verdict::Error(UNMANAGED_FATAL.into()),
            Verdict::Delete,
        ];
        let (delete, warnings, errors) = plan(&pods, &verdicts);
        assert_eq!(delete.len(), 1);
        assert_eq!(warnings, "");
        assert_eq!(
            errors,
            vec![format!("cannot delete {UNMANAGED_FATAL}: ns/a, ns/b")]
        );
    }
}
