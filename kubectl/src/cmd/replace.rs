//! `kubectl replace -f FILE`: each object in the files replaces the stored one (PUT). An
//! object without a resourceVersion gets the stored one's, so the PUT fails on a concurrent
//! change rather than overwrite it, as upstream's does. `--force` deletes the objects, waits
//! until they are gone and creates them again.

use std::time::{Duration, Instant};

use clap::Args;
use http::Method;
use serde_json::{json, Value};

use super::create::{CommonArgs, DryRun, FileArgs};
use super::write::Write;
use super::Ctx;
use crate::client::{ApiClient, Body};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::manifest::{self, Manifest};
use crate::merge::{self, LAST_APPLIED};
use crate::printers::OutputFormat;
use crate::resource::ApiResource;

/// The field manager upstream's replace writes as.
const FIELD_MANAGER: &str = "kubectl-replace";

/// `kubectl replace`
#[derive(Debug, Args)]
pub struct ReplaceArgs {
    #[command(flatten)]
    files: FileArgs,
    #[command(flatten)]
    common: CommonArgs,
    /// If true, immediately remove resources from API and bypass graceful deletion, then
    /// create them again.
    #[arg(long)]
    force: bool,
    /// Period of time in seconds given to the resource to terminate gracefully (with --force).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    grace_period: i64,
    /// Must be "background", "orphan", or "foreground" (with --force).
    #[arg(long, default_value = "background", num_args = 0..=1, default_missing_value = "background")]
    cascade: String,
    /// The length of time to wait before giving up on a delete, zero means determine a
    /// timeout from the size of the object (with --force).
    #[arg(long, value_parser = crate::flags::go_duration)]
    timeout: Option<String>,
    /// If true, the configuration of the current object will be saved in its annotation.
    #[arg(long)]
    save_config: bool,
}

/// Runs `kubectl replace`.
pub async fn run(ctx: &Ctx, a: ReplaceArgs) -> Result<()> {
    let format = a.common.print_flags.format()?;
    let dry = a.common.dry_run.strategy()?;
    let write = a.common.write.write(FIELD_MANAGER, dry)?;
    if a.grace_period >= 0 && !a.force {
        return Err(KubectlError::usage(
            "--grace-period must have --force specified",
        ));
    }
    let timeout = match a.timeout.as_deref() {
        None => None,
        Some(t) => Some(super::exec::pod_running_timeout(t)?).filter(|t| !t.is_zero()),
    };
    if timeout.is_some() && !a.force {
        return Err(KubectlError::usage("--timeout must have --force specified"));
    }
    if a.force && dry != DryRun::None {
        return Err(KubectlError::usage(
            "--dry-run can not be used when --force is set",
        ));
    }
    if a.files.filename.is_empty() {
        return Err(KubectlError::usage("must specify one of -f and -k"));
    }
    let propagation = super::delete::propagation_policy(&a.cascade)?;
    let manifests = manifest::read_all(&a.files.filename, a.files.recursive)?;
    let (client, disc) = ctx.client_and_discovery().await?;
    let targets = resolve(&client, &disc, manifests, a.save_config);
    if a.force {
        let delete = Delete {
            propagation,
            grace_period: a.grace_period,
            timeout: timeout.unwrap_or(Duration::from_secs(300)),
        };
        return force_replace(&client, targets, &a.common, &format, &write, &delete).await;
    }
    let mut errors = Vec::new();
    for target in targets {
        let outcome = match target {
            Ok(t) => replace_one(&client, &t, &write)
                .await
                .map_err(|e| e.with_context(replacing(&t.manifest))),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(obj) => a.common.print(&format, &obj, "replaced", dry)?,
            Err(e) => errors.push(e),
        }
    }
    super::get::report(errors)
}

/// An object of the files with its resource type and namespace.
struct Target {
    manifest: Manifest,
    res: ApiResource,
    namespace: Option<String>,
    name: String,
}

impl Target {
    fn path(&self) -> String {
        self.res.object_path(self.namespace.as_deref(), &self.name)
    }
}

fn resolve(
    client: &ApiClient,
    disc: &Discovery,
    manifests: Vec<Manifest>,
    save_config: bool,
) -> Vec<Result<Target>> {
    manifests
        .into_iter()
        .map(|m| {
            let res = manifest::resource_for(disc, &m)?.clone();
            let ns =
                manifest::namespace_for(&m, &res, &client.namespace, client.namespace_explicit)?;
            let mut m = manifest::with_namespace(&m, ns.as_deref());
            let name = m.object["metadata"]["name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    KubectlError::usage(format!(
                        "error when replacing \"{}\": resource name may not be empty",
                        m.source
                    ))
                })?
                .to_string();
            update_last_applied(&mut m.object, save_config);
            Ok(Target {
                manifest: m,
                res,
                namespace: ns,
                name,
            })
        })
        .collect()
}

/// `--save-config` records the object in the last-applied annotation; without it, an
/// annotation the file already carries is brought up to date, as upstream does.
fn update_last_applied(obj: &mut Value, save_config: bool) {
    if save_config || obj["metadata"]["annotations"].get(LAST_APPLIED).is_some() {
        *obj = merge::with_last_applied(obj);
    }
}

fn replacing(m: &Manifest) -> String {
    if m.source.is_empty() {
        String::new()
    } else {
        format!("error when replacing \"{}\": ", m.source)
    }
}

/// PUTs one object, with the stored resourceVersion when the file has none.
async fn replace_one(client: &ApiClient, t: &Target, write: &Write) -> Result<Value> {
    if write.dry == DryRun::Client {
        return Ok(t.manifest.object.clone());
    }
    let mut obj = t.manifest.object.clone();
    let has_version = obj["metadata"]["resourceVersion"]
        .as_str()
        .is_some_and(|v| !v.is_empty());
    if !has_version {
        // As upstream's helper: when the object cannot be read, the PUT goes as it is and
        // the server says what is wrong (an invalid body before a missing object).
        if let Ok(current) = client.get(&t.path()).await {
            obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        }
    }
    client
        .request(
            Method::PUT,
            &format!("{}{}", t.path(), write.query()),
            "application/json",
            Some(Body::json(&obj)),
        )
        .await
}

/// How `--force` deletes.
struct Delete {
    propagation: &'static str,
    grace_period: i64,
    timeout: Duration,
}

/// Deletes every object, waits until each is gone, then creates them all again.
async fn force_replace(
    client: &ApiClient,
    targets: Vec<Result<Target>>,
    common: &CommonArgs,
    format: &OutputFormat,
    write: &Write,
    delete: &Delete,
) -> Result<()> {
    let mut targets_ok = Vec::new();
    for t in targets {
        targets_ok.push(t?);
    }
    if targets_ok.is_empty() {
        return Err(KubectlError::usage("no objects passed to replace"));
    }
    let mut body = json!({"kind": "DeleteOptions", "apiVersion": "v1",
        "propagationPolicy": delete.propagation});
    if delete.grace_period >= 0 {
        body["gracePeriodSeconds"] = json!(delete.grace_period);
    }
    for t in &targets_ok {
        match client
            .request(
                Method::DELETE,
                &t.path(),
                "application/json",
                Some(Body::json(&body)),
            )
            .await
        {
            Ok(_) => super::out(&format!("{} \"{}\" deleted\n", t.res.kind_prefix(), t.name)),
            // Upstream's delete step skips what is already gone and creates it anyway.
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    for t in &targets_ok {
        wait_gone(client, t, delete.timeout).await?;
    }
    for t in &targets_ok {
        let mut obj = t.manifest.object.clone();
        if let Some(meta) = obj["metadata"].as_object_mut() {
            meta.remove("resourceVersion");
        }
        let created = client
            .request(
                Method::POST,
                &format!(
                    "{}{}",
                    t.res.collection_path(t.namespace.as_deref()),
                    write.query()
                ),
                "application/json",
                Some(Body::json(&obj)),
            )
            .await?;
        common.print(format, &created, "replaced", DryRun::None)?;
    }
    Ok(())
}

/// Polls every second until the object is gone.
async fn wait_gone(client: &ApiClient, t: &Target, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        match client.get(&t.path()).await {
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) if Instant::now() >= deadline => {
                return Err(KubectlError::usage("timed out waiting for the condition"))
            }
            Ok(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_config_records_the_object_without_the_annotation() {
        let mut obj = json!({"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}});
        update_last_applied(&mut obj, false);
        assert!(obj["metadata"].get("annotations").is_none());
        update_last_applied(&mut obj, true);
        let text = obj["metadata"]["annotations"][LAST_APPLIED]
            .as_str()
            .unwrap();
        let recorded: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            recorded,
            json!({"kind": "ConfigMap", "metadata": {"name": "a", "annotations": {}},
                "data": {"k": "v"}})
        );
        // An annotation the file carries is refreshed even without --save-config.
        obj["data"]["k"] = json!("w");
        update_last_applied(&mut obj, false);
        let text = obj["metadata"]["annotations"][LAST_APPLIED]
            .as_str()
            .unwrap();
        assert!(text.contains("\"w\""), "{text}");
    }
}
