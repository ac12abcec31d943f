//! `kubectl rollout status|restart|history|undo` for Deployments.

use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use http::Method;
use serde_json::{json, Value};

use super::{out, Ctx};
use crate::client::{q, ApiClient, Body};
use crate::error::{KubectlError, Result};
use crate::printers::tabwriter::TabWriter;
use crate::resource::ApiResource;

/// `kubectl rollout`
#[derive(Debug, Args)]
pub struct RolloutArgs {
    #[command(subcommand)]
    command: RolloutCommand,
}

#[derive(Debug, Subcommand)]
enum RolloutCommand {
    /// Show the status of the rollout.
    Status {
        args: Vec<String>,
        /// Watch the status of the rollout until it's done.
        #[arg(short = 'w', long, default_value = "true", num_args = 0..=1, default_missing_value = "true")]
        watch: String,
        /// The length of time to wait before ending watch, zero means never.
        #[arg(long, default_value = "0s")]
        timeout: String,
    },
    /// Restart a resource.
    Restart { args: Vec<String> },
    /// View rollout history.
    History {
        args: Vec<String>,
        /// See the details of the specified revision.
        #[arg(long, default_value_t = 0)]
        revision: i64,
    },
    /// Undo a previous rollout.
    Undo {
        args: Vec<String>,
        /// The revision to rollback to. Default to 0 (last revision).
        #[arg(long, default_value_t = 0)]
        to_revision: i64,
    },
}

/// Runs `kubectl rollout …`.
pub async fn run(ctx: &Ctx, args: RolloutArgs) -> Result<()> {
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let words = match &args.command {
        RolloutCommand::Status { args, .. }
        | RolloutCommand::Restart { args }
        | RolloutCommand::History { args, .. }
        | RolloutCommand::Undo { args, .. } => args.clone(),
    };
    let targets = super::label::resolve_targets(&client, &mut disc, &words, None, false).await?;
    let mut errors = Vec::new();
    for (res, name) in targets {
        if res.kind != "Deployment" {
            errors.push(KubectlError::usage(format!(
                "no {} has been implemented for {:?}",
                match &args.command {
                    RolloutCommand::Status { .. } => "status viewer",
                    RolloutCommand::History { .. } => "history viewer",
                    _ => "rollbacker",
                },
                format!("{}/{}", res.kind, res.group)
            )));
            continue;
        }
        let path = res.object_path(Some(&client.namespace), &name);
        let r = match &args.command {
            RolloutCommand::Status { watch, timeout, .. } => {
                status(&client, &path, &name, watch != "false", timeout).await
            }
            RolloutCommand::Restart { .. } => restart(&client, &res, &path, &name).await,
            RolloutCommand::History { revision, .. } => {
                history(&client, &res, &path, &name, *revision).await
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

async fn status(
    client: &ApiClient,
    path: &str,
    name: &str,
    watch: bool,
    timeout: &str,
) -> Result<()> {
    let limit = timeout.trim_end_matches('s').parse::<u64>().unwrap_or(0);
    let start = Instant::now();
    let mut last = String::new();
    loop {
        let d = client.get(path).await?;
        let (msg, done) = deployment_status(&d, name)?;
        if msg != last {
            out(&msg);
            last = msg;
        }
        if done || !watch {
            return Ok(());
        }
        if limit > 0 && start.elapsed() > Duration::from_secs(limit) {
            return Err(KubectlError::usage("timed out waiting for the condition"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn restart(client: &ApiClient, res: &ApiResource, path: &str, name: &str) -> Result<()> {
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

/// The deployment's ReplicaSets by revision, oldest first.
async fn revisions(client: &ApiClient, d: &Value) -> Result<Vec<(i64, Value)>> {
    let ns = d["metadata"]["namespace"].as_str().unwrap_or("default");
    let uid = d["metadata"]["uid"].as_str().unwrap_or("");
    let selector = d["spec"]["selector"]["matchLabels"]
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
            "/apis/apps/v1/namespaces/{ns}/replicasets?labelSelector={}",
            q(&selector)
        ))
        .await?;
    let mut out: Vec<(i64, Value)> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rs| {
            rs["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| o["uid"] == uid)
        })
        .filter_map(|rs| {
            let rev = rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()?
                .parse()
                .ok()?;
            Some((rev, rs.clone()))
        })
        .collect();
    out.sort_by_key(|(r, _)| *r);
    Ok(out)
}

async fn history(
    client: &ApiClient,
    res: &ApiResource,
    path: &str,
    name: &str,
    revision: i64,
) -> Result<()> {
    let d = client.get(path).await?;
    let revs = revisions(client, &d).await?;
    if revision > 0 {
        let Some((_, rs)) = revs.iter().find(|(r, _)| *r == revision) else {
            return Err(KubectlError::usage(
                "unable to find the specified revision".to_string(),
            ));
        };
        out(&format!(
            "{}/{name} with revision #{revision}\n{}",
            res.kind_prefix(),
            crate::printers::yaml::to_yaml(&rs["spec"]["template"])
        ));
        return Ok(());
    }
    let mut tw = TabWriter::new();
    tw.row(vec!["REVISION".into(), "CHANGE-CAUSE".into()]);
    for (rev, rs) in &revs {
        let cause = rs["metadata"]["annotations"]["kubernetes.io/change-cause"]
            .as_str()
            .unwrap_or("<none>");
        tw.row(vec![rev.to_string(), cause.to_string()]);
    }
    out(&format!("{}/{name} \n{}\n", res.kind_prefix(), tw.flush()));
    Ok(())
}

async fn undo(
    client: &ApiClient,
    res: &ApiResource,
    path: &str,
    name: &str,
    to: i64,
) -> Result<()> {
    let d = client.get(path).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
