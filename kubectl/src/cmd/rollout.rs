//! `kubectl rollout status|restart|pause|resume|history|undo`: pause and resume for
//! Deployments, everything else also for DaemonSets and StatefulSets (their history is their
//! ControllerRevisions; a Deployment's, its ReplicaSets).

use std::time::Duration;

use clap::{Args, Subcommand};
use http::Method;
use serde_json::{json, Value};

use super::{out, Ctx};
use crate::client::{q, ApiClient, Body};
use crate::error::{KubectlError, Result};
use crate::printers::tabbed::{align, PrefixWriter};
use crate::printers::OutputFormat;
use crate::resource::ApiResource;
use crate::watch;

/// `kubectl rollout`
#[derive(Debug, Args)]
pub struct RolloutArgs {
    #[command(subcommand)]
    command: RolloutCommand,
}

/// The objects of a rollout command: names, or a type with a selector.
#[derive(Debug, Args)]
struct Targets {
    /// TYPE NAME…, TYPE/NAME…, or TYPE with -l.
    args: Vec<String>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
}

#[derive(Debug, Subcommand)]
enum RolloutCommand {
    /// Show the status of the rollout.
    Status {
        #[command(flatten)]
        targets: Targets,
        /// Watch the status of the rollout until it's done.
        #[arg(short = 'w', long, default_value_t = true, action = clap::ArgAction::Set)]
        watch: bool,
        /// The length of time to wait before ending watch, zero means never.
        #[arg(long, default_value = "0s", value_parser = crate::flags::go_duration)]
        timeout: String,
    },
    /// Restart a resource.
    Restart {
        #[command(flatten)]
        targets: Targets,
    },
    /// View rollout history.
    History {
        #[command(flatten)]
        targets: Targets,
        /// See the details, including podTemplate of the revision specified.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        revision: i64,
        /// Output format: json, yaml, name, go-template, jsonpath (the history's objects).
        #[arg(short = 'o', long)]
        output: Option<String>,
        /// Template string or path to template file to use when -o=go-template, -o=go-template-file.
        #[arg(long)]
        template: Option<String>,
    },
    /// Mark the provided resource as paused.
    Pause {
        #[command(flatten)]
        targets: Targets,
    },
    /// Resume a paused resource.
    Resume {
        #[command(flatten)]
        targets: Targets,
    },
    /// Undo a previous rollout.
    Undo {
        #[command(flatten)]
        targets: Targets,
        /// The revision to rollback to. Default to 0 (last revision).
        #[arg(long, default_value_t = 0)]
        to_revision: i64,
    },
}

/// Runs `kubectl rollout …`.
pub async fn run(ctx: &Ctx, args: RolloutArgs) -> Result<()> {
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let (RolloutCommand::Status { targets: t, .. }
    | RolloutCommand::Restart { targets: t }
    | RolloutCommand::Pause { targets: t }
    | RolloutCommand::Resume { targets: t }
    | RolloutCommand::History { targets: t, .. }
    | RolloutCommand::Undo { targets: t, .. }) = &args.command;
    let history_format = match &args.command {
        RolloutCommand::History {
            revision,
            output,
            template,
            ..
        } => {
            if *revision < 0 && !t.args.is_empty() {
                return Err(KubectlError::usage(format!(
                    "revision must be a positive integer: {revision}"
                )));
            }
            object_format(output.as_deref(), template.as_deref())?
        }
        _ => None,
    };
    let targets =
        super::label::resolve_targets(&client, &mut disc, &t.args, t.selector.as_deref(), false)
            .await?;
    let mut errors = Vec::new();
    for (res, name) in targets {
        let path = res.object_path(Some(&client.namespace), &name);
        let r = match &args.command {
            RolloutCommand::Restart { .. } => restart(&client, &res, &path, &name).await,
            RolloutCommand::Pause { .. } => set_paused(&client, &res, &path, &name, true).await,
            RolloutCommand::Resume { .. } => set_paused(&client, &res, &path, &name, false).await,
            RolloutCommand::Status { .. } if !HAS_ROLLOUTS.contains(&res.kind.as_str()) => {
                Err(not_implemented(&args.command, &res))
            }
            RolloutCommand::Status { watch, timeout, .. } => {
                status(&client, &res, &path, &name, *watch, timeout).await
            }
            _ if !HAS_ROLLOUTS.contains(&res.kind.as_str()) => {
                Err(not_implemented(&args.command, &res))
            }
            RolloutCommand::History { revision, .. } => {
                history(
                    &client,
                    &res,
                    &path,
                    &name,
                    *revision,
                    history_format.as_ref(),
                )
                .await
            }
            RolloutCommand::Undo { to_revision, .. } => {
                undo(&client, &res, &path, &name, *to_revision).await
            }
        };
        if let Err(e) = r {
            errors.push(e);
        }
    }
    super::get::report(errors)
}

/// The `-o` format of a command that prints objects but no tables (upstream's `PrintFlags`),
/// or None when no format is given.
fn object_format(output: Option<&str>, template: Option<&str>) -> Result<Option<OutputFormat>> {
    match OutputFormat::parse_with_template(output, template)? {
        OutputFormat::Table => Ok(None),
        OutputFormat::Wide | OutputFormat::CustomColumns(_) => Err(KubectlError::usage(format!(
            "unable to match a printer suitable for the output format \"{}\", allowed formats are: go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,yaml",
            output.unwrap_or_default()
        ))),
        format => Ok(Some(format)),
    }
}

/// The kinds whose rollouts `status`, `restart`, `history` and `undo` follow.
const HAS_ROLLOUTS: [&str; 3] = ["Deployment", "DaemonSet", "StatefulSet"];

fn not_implemented(command: &RolloutCommand, res: &ApiResource) -> KubectlError {
    // A GroupKind as Go prints it: `ConfigMap`, `ReplicaSet.apps`.
    let group_kind = if res.group.is_empty() {
        res.kind.clone()
    } else {
        format!("{}.{}", res.kind, res.group)
    };
    KubectlError::usage(match command {
        RolloutCommand::Status { .. } => {
            format!("no status viewer has been implemented for {group_kind}")
        }
        RolloutCommand::History { .. } => format!(
            "error retrieving history for {:?}, no visitor method exists for {{{} {}}}",
            res.kind, res.group, res.kind
        ),
        _ => format!(
            "error retrieving rollbacker for {:?}, no visitor method exists for {{{} {}}}",
            res.kind, res.group, res.kind
        ),
    })
}

/// `deployments.apps "web"`: how upstream names an object in rollout errors.
fn named(res: &ApiResource, name: &str) -> String {
    format!("{} {name:?}", res.qualified_plural())
}

/// Upstream's DeploymentStatusViewer: a message and whether the rollout is done.
pub fn deployment_status(d: &Value, name: &str) -> Result<(String, bool)> {
    let generation = d["metadata"]["generation"].as_i64().unwrap_or(0);
    let status = &d["status"];
    let observed = status["observedGeneration"].as_i64().unwrap_or(0);
    if generation > observed {
        return Ok((
            "Waiting for deployment spec update to be observed...\n".into(),
            false,
        ));
    }
    let progress_exceeded = status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded");
    if progress_exceeded {
        return Err(KubectlError::usage(format!(
            "deployment {name:?} exceeded its progress deadline"
        )));
    }
    let n = |k: &str| status[k].as_i64().unwrap_or(0);
    let desired = d["spec"]["replicas"].as_i64().unwrap_or(1);
    let updated = n("updatedReplicas");
    if updated < desired {
        return Ok((format!("Waiting for deployment {name:?} rollout to finish: {updated} out of {desired} new replicas have been updated...\n"), false));
    }
    if n("replicas") > updated {
        return Ok((format!("Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...\n", n("replicas") - updated), false));
    }
    if n("availableReplicas") < updated {
        return Ok((format!("Waiting for deployment {name:?} rollout to finish: {} of {updated} updated replicas are available...\n", n("availableReplicas")), false));
    }
    Ok((
        format!("deployment {name:?} successfully rolled out\n"),
        true,
    ))
}

/// Upstream's DaemonSetStatusViewer.
pub fn daemon_set_status(ds: &Value, name: &str) -> Result<(String, bool)> {
    if ds["spec"]["updateStrategy"]["type"] != "RollingUpdate" {
        return Err(KubectlError::usage(
            "rollout status is only available for RollingUpdate strategy type",
        ));
    }
    let generation = ds["metadata"]["generation"].as_i64().unwrap_or(0);
    let status = &ds["status"];
    let n = |k: &str| status[k].as_i64().unwrap_or(0);
    if generation > n("observedGeneration") {
        return Ok((
            "Waiting for daemon set spec update to be observed...\n".into(),
            false,
        ));
    }
    let desired = n("desiredNumberScheduled");
    if n("updatedNumberScheduled") < desired {
        return Ok((format!("Waiting for daemon set {name:?} rollout to finish: {} out of {desired} new pods have been updated...\n", n("updatedNumberScheduled")), false));
    }
    if n("numberAvailable") < desired {
        return Ok((format!("Waiting for daemon set {name:?} rollout to finish: {} of {desired} updated pods are available...\n", n("numberAvailable")), false));
    }
    Ok((
        format!("daemon set {name:?} successfully rolled out\n"),
        true,
    ))
}

/// Upstream's StatefulSetStatusViewer.
pub fn stateful_set_status(sts: &Value) -> Result<(String, bool)> {
    let strategy = &sts["spec"]["updateStrategy"];
    if strategy["type"] != "RollingUpdate" {
        return Err(KubectlError::usage(
            "rollout status is only available for RollingUpdate strategy type",
        ));
    }
    let generation = sts["metadata"]["generation"].as_i64().unwrap_or(0);
    let status = &sts["status"];
    let n = |k: &str| status[k].as_i64().unwrap_or(0);
    let observed = n("observedGeneration");
    if observed == 0 || generation > observed {
        return Ok((
            "Waiting for statefulset spec update to be observed...\n".into(),
            false,
        ));
    }
    let replicas = sts["spec"]["replicas"].as_i64();
    if let Some(r) = replicas.filter(|r| n("readyReplicas") < *r) {
        return Ok((
            format!(
                "Waiting for {} pods to be ready...\n",
                r - n("readyReplicas")
            ),
            false,
        ));
    }
    if strategy["rollingUpdate"].is_object() {
        let partition = strategy["rollingUpdate"]["partition"].as_i64();
        if let (Some(r), Some(p)) = (replicas, partition) {
            if n("updatedReplicas") < r - p {
                return Ok((format!("Waiting for partitioned roll out to finish: {} out of {} new pods have been updated...\n", n("updatedReplicas"), r - p), false));
            }
        }
        return Ok((
            format!(
                "partitioned roll out complete: {} new pods have been updated...\n",
                n("updatedReplicas")
            ),
            true,
        ));
    }
    let (current, update) = (&status["currentRevision"], &status["updateRevision"]);
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    if update != current {
        return Ok((
            format!(
                "waiting for statefulset rolling update to complete {} pods at revision {}...\n",
                n("updatedReplicas"),
                text(update)
            ),
            false,
        ));
    }
    Ok((
        format!(
            "statefulset rolling update complete {} pods at revision {}...\n",
            n("currentReplicas"),
            text(current)
        ),
        true,
    ))
}

/// Prints the rollout's status, and with `watch` each new status a watch brings until the
/// rollout is done (or `timeout`, a Go duration where zero means never, passes).
async fn status(
    client: &ApiClient,
    res: &ApiResource,
    path: &str,
    name: &str,
    watch: bool,
    timeout: &str,
) -> Result<()> {
    let mut last = String::new();
    let mut show = |obj: &Value| -> Result<bool> {
        let (msg, done) = match res.kind.as_str() {
            "DaemonSet" => daemon_set_status(obj, name)?,
            "StatefulSet" => stateful_set_status(obj)?,
            _ => deployment_status(obj, name)?,
        };
        if msg != last {
            out(&msg);
            last = msg;
        }
        Ok(done)
    };
    let first = client.get(path).await?;
    if show(&first)? || !watch {
        return Ok(());
    }
    let limit = crate::flags::go_duration_secs(timeout)
        .filter(|secs| *secs > 0.0)
        .map(Duration::from_secs_f64)
        // "Never" as a deadline: far enough not to matter, near enough not to overflow.
        .unwrap_or(Duration::from_secs(100 * 365 * 86400));
    let deadline = tokio::time::Instant::now() + limit;
    let collection = res.collection_path(Some(&client.namespace));
    let done = watch::object_until_after(client, &collection, &first, deadline, |obj| match obj {
        Some(obj) => Ok(show(obj)?.then_some(())),
        None => Err(KubectlError::usage("object has been deleted")),
    });
    done.await?
        .ok_or_else(|| KubectlError::usage("timed out waiting for the condition"))
}

async fn restart(client: &ApiClient, res: &ApiResource, path: &str, name: &str) -> Result<()> {
    if !res.group.starts_with("apps") || !HAS_ROLLOUTS.contains(&res.kind.as_str()) {
        return Err(KubectlError::usage(format!(
            "{} restarting is not supported",
            named(res, name)
        )));
    }
    if res.kind == "Deployment" {
        let d = client.get(path).await?;
        if d["spec"]["paused"] == true {
            return Err(KubectlError::usage(format!(
                "{} can't restart paused deployment (run rollout resume first)",
                named(res, name)
            )));
        }
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}}}});
    let body = Body::strategic_merge_patch(&patch);
    client
        .request(
            Method::PATCH,
            &format!("{path}?fieldManager=kubectl-rollout"),
            "application/json",
            Some(body),
        )
        .await?;
    out(&format!("{}/{name} restarted\n", res.kind_prefix()));
    Ok(())
}

/// `rollout pause` (`paused` true) and `rollout resume` (false) of a Deployment.
async fn set_paused(
    client: &ApiClient,
    res: &ApiResource,
    path: &str,
    name: &str,
    paused: bool,
) -> Result<()> {
    let verb = if paused { "pausing" } else { "resuming" };
    if res.kind != "Deployment" || !res.group.starts_with("apps") {
        return Err(KubectlError::usage(format!(
            "{} {verb} is not supported",
            named(res, name)
        )));
    }
    let d = client.get(path).await?;
    let is_paused = d["spec"]["paused"] == true;
    if is_paused == paused {
        let state = if paused {
            "is already paused"
        } else {
            "is not paused"
        };
        return Err(KubectlError::usage(format!("{} {state}", named(res, name))));
    }
    // Upstream's two-way patch: false is Go's zero value, so resuming removes the field.
    let patch = json!({"spec": {"paused": if paused { json!(true) } else { Value::Null }}});
    client
        .request(
            Method::PATCH,
            &format!("{path}?fieldManager=kubectl-rollout"),
            "application/json",
            Some(Body::strategic_merge_patch(&patch)),
        )
        .await
        .map_err(|e| {
            KubectlError::usage(format!(
                "failed to patch: {}",
                e.to_string().trim_start_matches("error: ")
            ))
        })?;
    let done = if paused { "paused" } else { "resumed" };
    out(&format!("{}/{name} {done}\n", res.kind_prefix()));
    Ok(())
}

/// The objects of `plural` (apps/v1) in the owner's namespace that its selector matches and
/// that name it as an owner (as their controller, when `controller_only`).
async fn owned_by(
    client: &ApiClient,
    owner: &Value,
    plural: &str,
    controller_only: bool,
) -> Result<Vec<Value>> {
    let ns = owner["metadata"]["namespace"].as_str().unwrap_or("default");
    let uid = &owner["metadata"]["uid"];
    let selector = owner["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let list = client
        .get(&format!(
            "/apis/apps/v1/namespaces/{ns}/{plural}?labelSelector={}",
            q(&selector)
        ))
        .await?;
    Ok(list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| {
            o["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| &r["uid"] == uid && (!controller_only || r["controller"] == true))
        })
        .cloned()
        .collect())
}

/// The deployment's ReplicaSets by revision, oldest first.
async fn revisions(client: &ApiClient, d: &Value) -> Result<Vec<(i64, Value)>> {
    let mut out: Vec<(i64, Value)> = owned_by(client, d, "replicasets", false)
        .await?
        .into_iter()
        .filter_map(|rs| {
            let rev = rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()?
                .parse()
                .ok()?;
            Some((rev, rs))
        })
        .collect();
    out.sort_by_key(|(r, _)| *r);
    Ok(out)
}

/// One revision in a rollout history: what `-o` prints (a Deployment's ReplicaSet, or a
/// DaemonSet or StatefulSet as it was at that revision, as upstream's `GetHistory`) and the
/// pod template `--revision` describes.
struct HistoryEntry {
    number: i64,
    object: Value,
    template: Value,
    change_cause: Option<String>,
}

/// The history of a Deployment, DaemonSet or StatefulSet, oldest revision first.
async fn history_entries(
    client: &ApiClient,
    res: &ApiResource,
    obj: &Value,
) -> Result<Vec<HistoryEntry>> {
    if res.kind == "Deployment" {
        return Ok(revisions(client, obj)
            .await?
            .into_iter()
            .map(|(number, rs)| replica_set_entry(number, rs))
            .collect());
    }
    Ok(controller_revisions(client, obj)
        .await?
        .into_iter()
        .map(|(number, rev)| {
            let template = revision_template(&rev);
            let mut object = obj.clone();
            object["spec"]["template"] = template.clone();
            HistoryEntry {
                number,
                template,
                change_cause: change_cause(&rev),
                object,
            }
        })
        .collect())
}

/// A Deployment's revision from its ReplicaSet (listed, so without kind and apiVersion).
fn replica_set_entry(number: i64, mut rs: Value) -> HistoryEntry {
    rs["kind"] = json!("ReplicaSet");
    rs["apiVersion"] = json!("apps/v1");
    let mut template = rs["spec"]["template"].clone();
    let cause = change_cause(&rs);
    // Upstream shows a revision's change-cause among its template's annotations.
    if let (Some(c), Some(meta)) = (&cause, template["metadata"].as_object_mut()) {
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        annotations[CHANGE_CAUSE] = json!(c);
    }
    HistoryEntry {
        number,
        template,
        change_cause: cause,
        object: rs,
    }
}

fn change_cause(o: &Value) -> Option<String> {
    o["metadata"]["annotations"][CHANGE_CAUSE]
        .as_str()
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// `rollout history`: the revisions as a table, one revision's pod template described, or
/// the history's objects in an `-o` format.
async fn history(
    client: &ApiClient,
    res: &ApiResource,
    path: &str,
    name: &str,
    revision: i64,
    format: Option<&OutputFormat>,
) -> Result<()> {
    let obj = client.get(path).await?;
    let entries = history_entries(client, res, &obj).await?;
    let unknown_revision = || KubectlError::usage("unable to find the specified revision");
    if let Some(format) = format {
        let chosen: Vec<&HistoryEntry> = if revision > 0 {
            vec![entries
                .iter()
                .find(|e| e.number == revision)
                .ok_or_else(unknown_revision)?]
        } else {
            entries.iter().collect()
        };
        for (i, e) in chosen.into_iter().enumerate() {
            let mut object = e.object.clone();
            // Upstream prints the typed object, whose template's zero creationTimestamp
            // comes out as null.
            if let Some(meta) = object["spec"]["template"]["metadata"].as_object_mut() {
                meta.entry("creationTimestamp").or_insert(Value::Null);
            }
            // Upstream's YAML printer separates the documents it prints.
            if i > 0 && matches!(format, OutputFormat::Yaml) {
                out("---\n");
            }
            super::create::print_result(format, &object, "", super::create::DryRun::None)?;
        }
        return Ok(());
    }
    out(&format!(
        "{}/{name} {}",
        res.kind_prefix(),
        history_text(&entries, revision)?
    ));
    Ok(())
}

/// What `rollout history` prints after the object's name without `-o`: the table of
/// revisions, or with `--revision` that revision's pod template described.
fn history_text(entries: &[HistoryEntry], revision: i64) -> Result<String> {
    let info = if entries.is_empty() {
        "No rollout history found.".to_string()
    } else if revision > 0 {
        let e = entries
            .iter()
            .find(|e| e.number == revision)
            .ok_or_else(|| KubectlError::usage("unable to find the specified revision"))?;
        let mut w = PrefixWriter::new();
        super::describe::pod_template(&mut w, &e.template);
        // Upstream's printTemplate has no tabwriter: the tabs stay.
        w.into_raw()
    } else {
        // Upstream's tabwriter here pads columns by two, not three as `get` does.
        let mut table = "REVISION\tCHANGE-CAUSE\n".to_string();
        for e in entries {
            let cause = e.change_cause.as_deref().unwrap_or("<none>");
            table.push_str(&format!("{}\t{cause}\n", e.number));
        }
        align(&table, 0, 2)
    };
    let with_revision = if revision > 0 {
        format!("with revision #{revision}")
    } else {
        String::new()
    };
    // Upstream hands "with revision #N\n<info>" to its name printer as the operation.
    Ok(format!("{with_revision}\n{info}\n"))
}

async fn undo(
    client: &ApiClient,
    res: &ApiResource,
    path: &str,
    name: &str,
    to: i64,
) -> Result<()> {
    let d = client.get(path).await?;
    if res.kind != "Deployment" {
        return controller_undo(client, res, path, &d, name, to).await;
    }
    let revs = revisions(client, &d).await?;
    let current = d["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        .as_str()
        .and_then(|r| r.parse::<i64>().ok())
        .unwrap_or(0);
    let target = if to > 0 {
        revs.iter().find(|(r, _)| *r == to)
    } else {
        revs.iter().rev().find(|(r, _)| *r != current)
    };
    let Some((rev, rs)) = target else {
        return Err(KubectlError::usage(if to > 0 {
            format!("unable to find specified revision {to} in history")
        } else {
            "no rollout history found for deployment \"".to_string() + name + "\""
        }));
    };
    let _ = rev;
    let mut template = rs["spec"]["template"].clone();
    if let Some(labels) = template["metadata"]["labels"].as_object_mut() {
        labels.remove("pod-template-hash");
    }
    let patch = json!([{"op": "replace", "path": "/spec/template", "value": template}]);
    let body = Body {
        content_type: "application/json-patch+json",
        bytes: patch.to_string().into_bytes(),
    };
    client
        .request(Method::PATCH, path, "application/json", Some(body))
        .await?;
    out(&format!("{}/{name} rolled back\n", res.kind_prefix()));
    Ok(())
}

/// The ControllerRevisions a DaemonSet or StatefulSet owns, by revision number.
async fn controller_revisions(client: &ApiClient, obj: &Value) -> Result<Vec<(i64, Value)>> {
    let mut revs: Vec<(i64, Value)> = owned_by(client, obj, "controllerrevisions", true)
        .await?
        .into_iter()
        .map(|r| (r["revision"].as_i64().unwrap_or(0), r))
        .collect();
    revs.sort_by_key(|(n, _)| *n);
    Ok(revs)
}

/// The pod template a ControllerRevision holds (its data is a replacing patch of it).
fn revision_template(revision: &Value) -> Value {
    let mut template = revision["data"]["spec"]["template"].clone();
    if let Some(t) = template.as_object_mut() {
        t.remove("$patch");
    }
    template
}

/// `rollout undo` of a DaemonSet or StatefulSet: the revision's data (a strategic merge
/// patch replacing the template) is applied to the object, as upstream's rollbackers do.
async fn controller_undo(
    client: &ApiClient,
    res: &ApiResource,
    path: &str,
    obj: &Value,
    name: &str,
    to: i64,
) -> Result<()> {
    let not_found =
        || KubectlError::usage(format!("unable to find specified revision {to} in history"));
    if to < 0 {
        return Err(not_found());
    }
    let revs = controller_revisions(client, obj).await?;
    if to == 0 && revs.len() <= 1 {
        return Err(KubectlError::usage("no last revision to roll back to"));
    }
    // 0 means the one before the newest.
    let target = if to == 0 {
        revs.iter().rev().nth(1)
    } else {
        revs.iter().find(|(n, _)| *n == to)
    };
    let Some((number, rev)) = target else {
        return Err(not_found());
    };
    if revision_template(rev) == obj["spec"]["template"] {
        out(&format!(
            "{}/{name} skipped rollback (current template already matches revision {to})\n",
            res.kind_prefix()
        ));
        return Ok(());
    }
    client
        .request(
            Method::PATCH,
            path,
            "application/json",
            Some(Body::strategic_merge_patch(&rev["data"])),
        )
        .await
        .map_err(|e| {
            KubectlError::usage(format!(
                "failed restoring revision {number}: {}",
                e.to_string().trim_start_matches("error: ")
            ))
        })?;
    out(&format!("{}/{name} rolled back\n", res.kind_prefix()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_lists_revisions_or_describes_one() {
        let rs = |cause: Option<&str>, image: &str| {
            let mut rs = json!({"metadata": {"name": "web-1", "annotations": {}},
                "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": image}]}}}});
            if let Some(c) = cause {
                rs["metadata"]["annotations"][CHANGE_CAUSE] = json!(c);
            }
            rs
        };
        let entries = vec![
            replica_set_entry(1, rs(None, "busybox:1")),
            replica_set_entry(3, rs(Some("kubectl set image"), "busybox:2")),
        ];
        assert_eq!(entries[1].object["kind"], "ReplicaSet");
        assert_eq!(
            history_text(&entries, 0).unwrap(),
            "\nREVISION  CHANGE-CAUSE\n1         <none>\n3         kubectl set image\n\n"
        );
        let described = history_text(&entries, 3).unwrap();
        assert!(
            described.starts_with("with revision #3\nPod Template:\n  Labels:"),
            "{described}"
        );
        assert!(
            described.contains("kubernetes.io/change-cause: kubectl set image"),
            "{described}"
        );
        assert!(
            described.contains("Image:") && described.contains("busybox:2"),
            "{described}"
        );
        assert!(!history_text(&entries, 1).unwrap().contains("Annotations"));
        assert!(history_text(&entries, 2).is_err());
        assert_eq!(
            history_text(&[], 0).unwrap(),
            "\nNo rollout history found.\n"
        );
    }

    #[test]
    fn daemon_set_and_stateful_set_status_follow_upstream() {
        let ds = |updated: i64, available: i64| {
            json!({"metadata": {"generation": 2},
            "spec": {"updateStrategy": {"type": "RollingUpdate"}},
            "status": {"observedGeneration": 2, "desiredNumberScheduled": 3,
                "updatedNumberScheduled": updated, "numberAvailable": available}})
        };
        assert_eq!(
            daemon_set_status(&ds(1, 1), "agent").unwrap(),
            ("Waiting for daemon set \"agent\" rollout to finish: 1 out of 3 new pods have been updated...\n".into(), false)
        );
        assert_eq!(
            daemon_set_status(&ds(3, 2), "agent").unwrap().0,
            "Waiting for daemon set \"agent\" rollout to finish: 2 of 3 updated pods are available...\n"
        );
        assert!(daemon_set_status(&ds(3, 3), "agent").unwrap().1);
        let on_delete = json!({"spec": {"updateStrategy": {"type": "OnDelete"}}});
        assert!(daemon_set_status(&on_delete, "agent").is_err());

        let sts = |ready: i64, updated: i64, partition: Option<i64>| {
            let mut s = json!({"metadata": {"generation": 1}, "spec": {"replicas": 3,
                "updateStrategy": {"type": "RollingUpdate"}},
                "status": {"observedGeneration": 1, "readyReplicas": ready, "updatedReplicas": updated,
                    "currentReplicas": 3, "currentRevision": "db-1", "updateRevision": "db-2"}});
            if let Some(p) = partition {
                s["spec"]["updateStrategy"]["rollingUpdate"] = json!({"partition": p});
            }
            s
        };
        assert_eq!(
            stateful_set_status(&sts(1, 0, Some(0))).unwrap().0,
            "Waiting for 2 pods to be ready...\n"
        );
        assert_eq!(
            stateful_set_status(&sts(3, 1, Some(1))).unwrap(),
            ("Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...\n".into(), false)
        );
        assert_eq!(
            stateful_set_status(&sts(3, 3, Some(0))).unwrap(),
            (
                "partitioned roll out complete: 3 new pods have been updated...\n".into(),
                true
            )
        );
        assert_eq!(
            stateful_set_status(&sts(3, 2, None)).unwrap(),
            (
                "waiting for statefulset rolling update to complete 2 pods at revision db-2...\n"
                    .into(),
                false
            )
        );
    }

    #[test]
    fn status_messages_follow_upstream() {
        let d = |gen: i64, obs: i64, st: Value| json!({"metadata": {"generation": gen}, "spec": {"replicas": 3}, "status": {"observedGeneration": obs, "replicas": st["r"], "updatedReplicas": st["u"], "availableReplicas": st["a"]}});
        let (m, done) = deployment_status(&d(2, 1, json!({})), "web").unwrap();
        assert_eq!(
            (m.as_str(), done),
            (
                "Waiting for deployment spec update to be observed...\n",
                false
            )
        );
        let (m, _) = deployment_status(&d(1, 1, json!({"r": 3, "u": 1, "a": 1})), "web").unwrap();
        assert_eq!(m, "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...\n");
        let (m, _) = deployment_status(&d(1, 1, json!({"r": 4, "u": 3, "a": 3})), "web").unwrap();
        assert_eq!(m, "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...\n");
        let (m, _) = deployment_status(&d(1, 1, json!({"r": 3, "u": 3, "a": 2})), "web").unwrap();
        assert_eq!(m, "Waiting for deployment \"web\" rollout to finish: 2 of 3 updated replicas are available...\n");
        let (m, done) =
            deployment_status(&d(1, 1, json!({"r": 3, "u": 3, "a": 3})), "web").unwrap();
        assert_eq!(
            (m.as_str(), done),
            ("deployment \"web\" successfully rolled out\n", true)
        );
    }
}
