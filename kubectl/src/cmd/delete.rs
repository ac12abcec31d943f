//! `kubectl delete`: by file, by TYPE NAME / TYPE/NAME, by `-l` or `--all`; waits for the
//! objects to be gone unless `--wait=false`.

use std::time::Duration;

use clap::Args;
use http::Method;
use serde_json::json;

use super::create::FileArgs;
use super::{out, Ctx};
use crate::client::{q, ApiClient, Body};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::manifest;
use crate::resource::{self, ApiResource, Selection};

/// `kubectl delete`
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// TYPE NAME…, TYPE/NAME…, or TYPE with -l/--all.
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Selector (field query) to filter on.
    #[arg(long)]
    field_selector: Option<String>,
    /// Delete all resources, in the namespace of the specified resource types.
    #[arg(long)]
    all: bool,
    /// If present, list the requested object(s) across all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Period of time in seconds given to the resource to terminate gracefully.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    grace_period: i64,
    /// If true, resources are signaled for immediate shutdown (same as --grace-period=1).
    #[arg(long)]
    now: bool,
    /// If true, immediately remove resources from API and bypass graceful deletion.
    #[arg(long)]
    force: bool,
    /// If true, wait for resources to be gone before returning.
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true")]
    wait: String,
    /// Must be "background", "orphan", or "foreground".
    #[arg(long, default_value = "background", num_args = 0..=1, default_missing_value = "background")]
    cascade: String,
    /// Treat "resource not found" as a successful delete.
    #[arg(long)]
    ignore_not_found: bool,
    /// Output mode. Use "-o name" for shorter output (resource/name).
    #[arg(short = 'o', long)]
    output: Option<String>,
}

/// One object to delete.
struct Victim {
    res: ApiResource,
    namespace: Option<String>,
    name: String,
}

/// `--cascade` as a DeleteOptions propagationPolicy.
pub fn propagation_policy(cascade: &str) -> Result<&'static str> {
    Ok(match cascade {
        "background" | "true" => "Background",
        "foreground" => "Foreground",
        "orphan" | "false" => "Orphan",
        other => {
            return Err(KubectlError::usage(format!(
                "invalid cascade value ({other}). Must be \"background\", \"foreground\", or \"orphan\""
            )))
        }
    })
}

/// Runs `kubectl delete`.
pub async fn run(ctx: &Ctx, args: DeleteArgs) -> Result<()> {
    let propagation = propagation_policy(&args.cascade)?;
    let wait = args.wait != "false";
    let mut grace = args.grace_period;
    if args.now {
        grace = 1;
    }
    if args.force && grace < 0 {
        grace = 0;
    }
    if args.args.is_empty() && args.files.filename.is_empty() {
        return Err(KubectlError::usage(
            "You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'",
        ));
    }
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let mut errors = Vec::new();
    let victims = collect(&client, &mut disc, &args, &mut errors).await?;
    if victims.is_empty() && errors.is_empty() && (args.selector.is_some() || args.all) {
        out("No resources found\n");
        return Ok(());
    }
    let mut body =
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation});
    if grace >= 0 {
        body["gracePeriodSeconds"] = json!(grace);
    }
    let mut deleted: Vec<(Victim, Option<String>)> = Vec::new();
    for v in victims {
        let path = v.res.object_path(v.namespace.as_deref(), &v.name);
        match client
            .request(
                Method::DELETE,
                &path,
                "application/json",
                Some(Body::json(&body)),
            )
            .await
        {
            Ok(resp) => {
                if args.output.as_deref() == Some("name") {
                    out(&format!("{}/{}\n", v.res.kind_prefix(), v.name));
                } else {
                    out(&format!("{} \"{}\" deleted\n", v.res.kind_prefix(), v.name));
                }
                let uid = resp["metadata"]["uid"]
                    .as_str()
                    .or(resp["details"]["uid"].as_str())
                    .map(String::from);
                deleted.push((v, uid));
            }
            Err(e) if e.is_not_found() && args.ignore_not_found => {}
            Err(e) => errors.push(e),
        }
    }
    if wait {
        for (v, uid) in &deleted {
            wait_gone(&client, v, uid.as_deref()).await?;
        }
    }
    super::get::report(errors)
}

async fn collect(
    client: &ApiClient,
    disc: &mut Discovery,
    args: &DeleteArgs,
    errors: &mut Vec<KubectlError>,
) -> Result<Vec<Victim>> {
    let mut out = Vec::new();
    let ns_for =
        |res: &ApiResource| -> Option<String> { res.namespaced.then(|| client.namespace.clone()) };
    if !args.files.filename.is_empty() {
        for m in manifest::read_all(&args.files.filename, args.files.recursive)? {
            let res = match manifest::resource_for(disc, &m) {
                Ok(r) => r.clone(),
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let ns =
                manifest::namespace_for(&m, &res, &client.namespace, client.namespace_explicit)?;
            let name = m.object["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            out.push(Victim {
                res,
                namespace: ns,
                name,
            });
        }
        return Ok(out);
    }
    match resource::parse_args(&args.args)? {
        Selection::Pairs(pairs) => {
            for (ty, name) in pairs {
                let res = disc.resolve(client, &ty).await?;
                out.push(Victim {
                    namespace: ns_for(&res),
                    res,
                    name,
                });
            }
        }
        Selection::Types { types, names } => {
            let listing = args.selector.is_some() || args.all || args.field_selector.is_some();
            if names.is_empty() && !listing {
                return Err(KubectlError::usage(
                    "resource(s) were provided, but no name was specified",
                ));
            }
            if !names.is_empty() && listing {
                return Err(KubectlError::usage(
                    "name cannot be provided when a selector is specified",
                ));
            }
            for ty in types {
                let res = disc.resolve(client, &ty).await?;
                if !listing {
                    for n in &names {
                        out.push(Victim {
                            namespace: ns_for(&res),
                            res: res.clone(),
                            name: n.clone(),
                        });
                    }
                    continue;
                }
                let ns = if args.all_namespaces {
                    None
                } else {
                    ns_for(&res)
                };
                let mut qs = Vec::new();
                if let Some(l) = &args.selector {
                    qs.push(format!("labelSelector={}", q(l)));
                }
                if let Some(f) = &args.field_selector {
                    qs.push(format!("fieldSelector={}", q(f)));
                }
                let list = client
                    .get(&format!(
                        "{}?{}",
                        res.collection_path(ns.as_deref()),
                        qs.join("&")
                    ))
                    .await?;
                for item in list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                    out.push(Victim {
                        namespace: item["metadata"]["namespace"].as_str().map(String::from),
                        res: res.clone(),
                        name: item["metadata"]["name"].as_str().unwrap_or("").to_string(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Polls until the object is gone (or replaced by a new one with another uid).
async fn wait_gone(client: &ApiClient, v: &Victim, uid: Option<&str>) -> Result<()> {
    let path = v.res.object_path(v.namespace.as_deref(), &v.name);
    let mut delay = Duration::from_millis(50);
    loop {
        match client.get(&path).await {
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
            Ok(obj) => {
                let live_uid: Option<&str> = obj["metadata"]["uid"].as_str();
                if uid.is_some() && live_uid != uid {
                    return Ok(());
                }
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}
