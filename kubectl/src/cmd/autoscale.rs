//! `kubectl autoscale`: an autoscaling/v2 HorizontalPodAutoscaler for a scalable workload.

use clap::Args;
use serde_json::{json, Value};

use super::create::{post, FileArgs};
use super::print_flags::{DryRun, DryRunFlag, PrintFlags};
use super::write::Write;
use super::Ctx;
use crate::error::{KubectlError, Result};
use crate::printers::go_order;

/// `kubectl autoscale (-f FILENAME | TYPE NAME | TYPE/NAME) [--min=MINPODS] --max=MAXPODS [--cpu-percent=CPU]`
#[derive(Debug, Args)]
pub struct AutoscaleArgs {
    /// TYPE NAME or TYPE/NAME.
    args: Vec<String>,
    /// Filename, directory, or URL to files identifying the resource to autoscale.
    #[command(flatten)]
    files: FileArgs,
    /// The lower limit for the number of pods that can be set by the autoscaler.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    min: i64,
    /// The upper limit for the number of pods that can be set by the autoscaler.
    #[arg(long, allow_negative_numbers = true)]
    max: Option<i64>,
    /// The target average CPU utilization (represented as a percent of requested CPU) over all the pods.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    cpu_percent: i64,
    /// The name for the newly created object.
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    pub print_flags: PrintFlags,
    #[command(flatten)]
    pub dry_run: DryRunFlag,
    /// Name of the manager used to track field ownership.
    #[arg(long, default_value = "kubectl-autoscale")]
    field_manager: String,
    /// If true, the configuration of current object will be saved in its annotation.
    #[arg(long)]
    save_config: bool,
}

/// Upstream's flag checks.
pub fn validate(min: i64, max: i64) -> Result<()> {
    if max < 1 {
        return Err(KubectlError::usage(format!(
            "--max=MAXPODS is required and must be at least 1, max: {max}"
        )));
    }
    if max < min {
        return Err(KubectlError::usage(format!(
            "--max=MAXPODS must be larger or equal to --min=MINPODS, max: {max}, min: {min}"
        )));
    }
    Ok(())
}

/// The HPA for `kind/name` in `api_version`.
pub fn hpa(
    name: &str,
    api_version: &str,
    kind: &str,
    target: &str,
    min: i64,
    max: i64,
    cpu: i64,
) -> Value {
    let mut spec = json!({
        "maxReplicas": max,
        "scaleTargetRef": {"apiVersion": api_version, "kind": kind, "name": target}
    });
    if min > 0 {
        spec["minReplicas"] = json!(min);
    }
    if cpu >= 0 {
        spec["metrics"] = json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": cpu}}}]);
    }
    json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": name, "creationTimestamp": null}, "spec": spec,
           "status": {"currentMetrics": null, "desiredReplicas": 0}})
}

/// Runs `kubectl autoscale`.
pub async fn run(ctx: &Ctx, a: AutoscaleArgs) -> Result<()> {
    let Some(max) = a.max else {
        return Err(KubectlError::usage("required flag(s) \"max\" not set"));
    };
    validate(a.min, max)?;
    let format = a.print_flags.format()?;
    let dry = a.dry_run.strategy()?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets = if a.files.filename.is_empty() {
        super::label::resolve_targets(&client, &mut disc, &a.args, None, false).await?
    } else {
        super::get::targets::files_conflict(&a.args)?;
        super::label::file_targets(&client, &disc, &a.files)?
            .into_iter()
            .map(|t| (t.res, t.name))
            .collect()
    };
    let mut errors = Vec::new();
    for (res, name) in targets {
        let r = async {
            if !matches!(res.kind.as_str(), "Deployment" | "ReplicaSet" | "ReplicationController" | "StatefulSet") {
                return Err(KubectlError::usage(format!(
                    "cannot autoscale a {}: could not find scale subresource for {}/{}, Resource={} in discovery information",
                    res.kind, res.group, res.version, res.plural
                )));
            }
            let path = res.object_path(Some(client.namespace.as_str()), &name);
            client.get(&path).await?;
            let hpa_name = a.name.clone().unwrap_or_else(|| name.clone());
            let obj = hpa(&hpa_name, &res.api_version(), &res.kind, &name, a.min, max, a.cpu_percent);
            if dry == DryRun::Client {
                return Ok(obj);
            }
            // Recorded only for an HPA that is sent, as upstream.
            let obj = if a.save_config {
                go_order::with_last_applied(&obj)
            } else {
                obj
            };
            post(
                &client,
                &format!("/apis/autoscaling/v2/namespaces/{}/horizontalpodautoscalers", client.namespace),
                &obj,
                &Write::by(&a.field_manager, dry),
            )
            .await
        }
        .await;
        match r {
            // Upstream's typed client answers with a Go struct, printed in field order.
            Ok(o) => a.print_flags.print_typed(&format, &o, "autoscaled", dry)?,
            Err(e) => errors.push(e),
        }
    }
    super::get::report(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_checked_like_upstream() {
        assert_eq!(
            validate(-1, -1).unwrap_err().to_string(),
            "error: --max=MAXPODS is required and must be at least 1, max: -1"
        );
        assert!(validate(5, 2).is_err());
        assert!(validate(-1, 3).is_ok());
    }

    #[test]
    fn hpa_shape() {
        let h = hpa("web", "apps/v1", "Deployment", "web", 2, 5, 80);
        assert_eq!(h["spec"]["minReplicas"], 2);
        assert_eq!(
            h["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
        let h = hpa("web", "apps/v1", "Deployment", "web", -1, 5, -1);
        assert!(h["spec"].get("minReplicas").is_none());
        assert!(h["spec"].get("metrics").is_none());
    }
}
