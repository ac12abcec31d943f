//! `kubectl describe`: a detailed, human-oriented view of objects and their events.
//!
//! Each supported kind has a describer that renders a fetched object (plus what it needs
//! from related objects: events, pods, ReplicaSets, Endpoints, the node Lease) into
//! upstream's layout; other kinds use the generic describer. Rendering is pure and lives in
//! the submodules; this module fetches.

mod autoscaling;
mod batch;
mod core;
pub(crate) mod format;
mod generic;
mod networking;
mod pod;
mod sets;
mod storage;
mod workloads;

pub(crate) use pod::pod_template;

use clap::Args;
use serde_json::{json, Value};

use super::{out, Ctx};
use crate::client::{q, ApiClient};
use crate::error::{KubectlError, Result};
use crate::resource::{ApiResource, Selection};

/// `kubectl describe (-f FILENAME | TYPE [NAME_PREFIX | -l label] | TYPE/NAME)`
#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// TYPE [NAME_PREFIX…] or TYPE/NAME….
    args: Vec<String>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// List the requested object(s) across all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// If true, display events related to the described object.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    show_events: bool,
    /// Return large lists in chunks rather than all at once.
    #[arg(long, default_value_t = 500)]
    chunk_size: i64,
    /// Filename, directory, or URL to files containing the resource to describe.
    #[arg(short = 'f', long = "filename")]
    filename: Vec<String>,
    /// Process the directory used in -f, --filename recursively.
    #[arg(short = 'R', long)]
    recursive: bool,
}

/// Runs `kubectl describe`.
pub async fn run(ctx: &Ctx, args: DescribeArgs) -> Result<()> {
    if args.args.is_empty() && args.filename.is_empty() {
        return Err(KubectlError::usage(
            "You must specify the type of resource to describe. Use \"kubectl api-resources\" for a complete list of supported resources.",
        ));
    }
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let mut objects: Vec<(ApiResource, Value)> = Vec::new();
    let mut errors = Vec::new();
    // Objects found by NAME_PREFIX are printed each followed by a newline, not separated.
    let mut by_prefix = false;
    if !args.filename.is_empty() {
        for m in crate::manifest::read_all(&args.filename, args.recursive)? {
            let res = crate::manifest::resource_for(&disc, &m)?.clone();
            let ns = crate::manifest::namespace_for(
                &m,
                &res,
                &client.namespace,
                client.namespace_explicit,
            )?;
            let name = m.object["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            match client.get(&res.object_path(ns.as_deref(), &name)).await {
                Ok(o) => objects.push((res, o)),
                Err(e) => errors.push(e),
            }
        }
    }
    let namespace = (!args.all_namespaces).then(|| client.namespace.clone());
    if !args.args.is_empty() {
        match crate::resource::parse_args(&args.args)? {
            Selection::Pairs(pairs) => {
                for (ty, name) in pairs {
                    let res = disc.resolve(&client, &ty).await?;
                    match fetch_named(&client, &res, namespace.as_deref(), &name, false).await {
                        Ok(found) => objects.extend(found.into_iter().map(|o| (res.clone(), o))),
                        Err(e) => errors.push(e),
                    }
                }
            }
            Selection::Types { types, names } => {
                // Upstream treats NAME as a prefix only for exactly `TYPE NAME`.
                let prefix = args.args.len() == 2;
                for ty in types {
                    let res = disc.resolve(&client, &ty).await?;
                    if names.is_empty() {
                        let ns = namespace.as_deref().filter(|_| res.namespaced);
                        let mut path =
                            format!("{}?limit={}", res.collection_path(ns), args.chunk_size);
                        if let Some(sel) = &args.selector {
                            path.push_str(&format!("&labelSelector={}", q(sel)));
                        }
                        match list_all(&client, &path).await {
                            Ok(items) => {
                                objects.extend(items.into_iter().map(|o| (res.clone(), o)))
                            }
                            Err(e) => errors.push(e),
                        }
                    }
                    for name in &names {
                        match fetch_named(&client, &res, namespace.as_deref(), name, prefix).await {
                            Ok(found) => {
                                by_prefix |= prefix
                                    && found.first().is_some_and(|o| {
                                        o["metadata"]["name"].as_str() != Some(name.as_str())
                                    });
                                objects.extend(found.into_iter().map(|o| (res.clone(), o)))
                            }
                            Err(e) => errors.push(e),
                        }
                    }
                }
            }
        }
    }
    let mut first = true;
    let described = !objects.is_empty();
    for (res, mut obj) in objects {
        if obj.get("kind").is_none_or(Value::is_null) {
            obj["kind"] = json!(res.kind);
            obj["apiVersion"] = json!(res.api_version());
        }
        match describe_one(&client, &res, &obj, args.show_events).await {
            Ok(text) if by_prefix => out(&format!("{text}\n")),
            Ok(text) => {
                if first {
                    out(&text);
                    first = false;
                } else {
                    out(&format!("\n\n{text}"));
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if !described && errors.is_empty() {
        if args.all_namespaces {
            eprintln!("No resources found");
        } else {
            eprintln!("No resources found in {} namespace.", client.namespace);
        }
    }
    super::get::report(errors)
}

/// One object by name; when it does not exist and `prefix` is set, every object whose name
/// starts with `name` (upstream's NAME_PREFIX), else the original NotFound.
async fn fetch_named(
    client: &ApiClient,
    res: &ApiResource,
    namespace: Option<&str>,
    name: &str,
    prefix: bool,
) -> Result<Vec<Value>> {
    let ns = if res.namespaced {
        Some(namespace.unwrap_or(client.namespace.as_str()))
    } else {
        None
    };
    match client.get(&res.object_path(ns, name)).await {
        Ok(o) => Ok(vec![o]),
        Err(e) if prefix && e.is_not_found() => {
            let all = list_all(client, &res.collection_path(ns))
                .await
                .unwrap_or_default();
            let matched: Vec<Value> = all
                .into_iter()
                .filter(|o| {
                    o["metadata"]["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with(name))
                })
                .collect();
            if matched.is_empty() {
                Err(e)
            } else {
                Ok(matched)
            }
        }
        Err(e) => Err(e),
    }
}

/// A list's items, following `continue` tokens.
async fn list_all(client: &ApiClient, path: &str) -> Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut next = path.to_string();
    loop {
        let list = client.get(&next).await?;
        items.extend(list["items"].as_array().cloned().unwrap_or_default());
        match list["metadata"]["continue"]
            .as_str()
            .filter(|c| !c.is_empty())
        {
            Some(token) => {
                let sep = if path.contains('?') { '&' } else { '?' };
                next = format!("{path}{sep}continue={}", q(token));
            }
            None => return Ok(items),
        }
    }
}

/// Events whose involvedObject is the given object (kind omitted for pods, as upstream).
async fn search_events(
    client: &ApiClient,
    obj: &Value,
    kind: Option<&str>,
    uid: &str,
) -> Vec<Value> {
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    let ns = obj["metadata"]["namespace"].as_str().unwrap_or("");
    let mut sel = format!("involvedObject.name={name},involvedObject.namespace={ns}");
    if let Some(k) = kind {
        sel.push_str(&format!(",involvedObject.kind={k}"));
    }
    if !uid.is_empty() {
        sel.push_str(&format!(",involvedObject.uid={uid}"));
    }
    let base = if ns.is_empty() {
        "/api/v1/events".to_string()
    } else {
        format!("/api/v1/namespaces/{ns}/events")
    };
    list_all(client, &format!("{base}?fieldSelector={}", q(&sel)))
        .await
        .unwrap_or_default()
}

async fn describe_one(
    client: &ApiClient,
    res: &ApiResource,
    obj: &Value,
    show_events: bool,
) -> Result<String> {
    let ns = obj["metadata"]["namespace"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let uid = obj["metadata"]["uid"].as_str().unwrap_or("").to_string();
    let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
    let events = |kind: Option<&str>| {
        let obj = obj.clone();
        let uid = uid.clone();
        let kind = kind.map(str::to_string);
        async move {
            if show_events {
                Some(search_events(client, &obj, kind.as_deref(), &uid).await)
            } else {
                None
            }
        }
    };
    let kind = res.kind.as_str();
    Ok(match (res.group.as_str(), kind) {
        ("", "Pod") => pod::describe_pod(obj, events(None).await.as_deref()),
        ("", "ConfigMap") => {
            core::describe_config_map(obj, events(Some("ConfigMap")).await.as_deref())
        }
        ("", "Secret") => core::describe_secret(obj),
        ("", "ServiceAccount") => {
            let secrets = list_all(client, &format!("/api/v1/namespaces/{ns}/secrets"))
                .await
                .unwrap_or_default();
            let existing: Vec<String> = secrets
                .iter()
                .map(|x| x["metadata"]["name"].as_str().unwrap_or("").to_string())
                .collect();
            let tokens: Vec<Value> = secrets
                .into_iter()
                .filter(|x| {
                    x["type"] == "kubernetes.io/service-account-token"
                        && x["metadata"]["annotations"]["kubernetes.io/service-account.name"]
                            == name.as_str()
                })
                .collect();
            core::describe_service_account(
                obj,
                &tokens,
                &existing,
                events(Some("ServiceAccount")).await.as_deref(),
            )
        }
        ("", "Namespace") => {
            let optional = |r: Result<Vec<Value>>| match r {
                Ok(v) => Ok(Some(v)),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e),
            };
            let quotas = optional(
                list_all(client, &format!("/api/v1/namespaces/{name}/resourcequotas")).await,
            )?;
            let limits = optional(
                list_all(client, &format!("/api/v1/namespaces/{name}/limitranges")).await,
            )?;
            core::describe_namespace(obj, quotas.as_deref(), limits.as_deref())
        }
        ("", "Service") => {
            let ep = client
                .get(&format!("/api/v1/namespaces/{ns}/endpoints/{name}"))
                .await
                .ok();
            core::describe_service(obj, ep.as_ref(), events(Some("Service")).await.as_deref())
        }
        ("", "Node") => {
            let lease = client
                .get(&format!(
                    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"
                ))
                .await
                .map_err(|e| match e {
                    KubectlError::Server { message, .. } => message,
                    other => other.to_string(),
                });
            let sel = format!("spec.nodeName={name},status.phase!=Succeeded,status.phase!=Failed");
            let pods =
                match list_all(client, &format!("/api/v1/pods?fieldSelector={}", q(&sel))).await {
                    Ok(p) => Some(p),
                    Err(KubectlError::Server { code: 403, .. }) => None,
                    Err(e) => return Err(e),
                };
            let events = if show_events {
                // The kubelet reports node events with the node name as uid, controllers
                // with the real uid.
                let mut e = search_events(client, obj, Some("Node"), &uid).await;
                e.extend(search_events(client, obj, Some("Node"), &name).await);
                Some(e)
            } else {
                None
            };
            core::describe_node(
                obj,
                &core::NodeExtras {
                    lease: lease.as_ref().map_err(Clone::clone),
                    pods: pods.as_deref(),
                    events: events.as_deref(),
                },
            )
        }
        ("apps", "Deployment") => {
            let sel = format::selector_string(&obj["spec"]["selector"]);
            let rs = list_all(
                client,
                &format!(
                    "/apis/apps/v1/namespaces/{ns}/replicasets?labelSelector={}",
                    q(&sel)
                ),
            )
            .await
            .unwrap_or_default();
            workloads::describe_deployment(obj, &rs, events(Some("Deployment")).await.as_deref())
        }
        ("apps", "ReplicaSet") => {
            let sel = format::selector_string(&obj["spec"]["selector"]);
            let pods = list_all(
                client,
                &format!("/api/v1/namespaces/{ns}/pods?labelSelector={}", q(&sel)),
            )
            .await
            .unwrap_or_default();
            let counts = workloads::PodCounts::of(&pods, &uid);
            workloads::describe_replica_set(
                obj,
                counts,
                events(Some("ReplicaSet")).await.as_deref(),
            )
        }
        ("apps", "StatefulSet") | ("apps", "DaemonSet") => {
            let pods = controller_pods(client, obj, &ns).await;
            let counts = workloads::PodCounts::of(&pods, &uid);
            let events = events(Some(kind)).await;
            if kind == "StatefulSet" {
                sets::describe_stateful_set(obj, counts, events.as_deref())
            } else {
                sets::describe_daemon_set(obj, counts, events.as_deref())
            }
        }
        ("batch", "Job") => batch::describe_job(obj, events(Some("Job")).await.as_deref()),
        ("batch", "CronJob") => {
            batch::describe_cron_job(obj, events(Some("CronJob")).await.as_deref())
        }
        ("", "PersistentVolumeClaim") => {
            let pods = list_all(client, &format!("/api/v1/namespaces/{ns}/pods"))
                .await
                .unwrap_or_default();
            let used_by = storage::pods_for_claim(obj, &pods);
            storage::describe_pvc(
                obj,
                &used_by,
                events(Some("PersistentVolumeClaim")).await.as_deref(),
            )
        }
        ("networking.k8s.io", "Ingress") => {
            let mut lookup = networking::BackendLookup::new();
            for svc in networking::backend_services(obj) {
                let slices = list_all(
                    client,
                    &format!(
                        "/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices?labelSelector={}",
                        q(&format!("kubernetes.io/service-name={svc}"))
                    ),
                )
                .await;
                let service = client
                    .get(&format!("/api/v1/namespaces/{ns}/services/{svc}"))
                    .await;
                let found = match (service, slices) {
                    (Ok(service), Ok(slices)) => Ok((service, slices)),
                    (Err(e), _) | (_, Err(e)) => Err(error_text(e)),
                };
                lookup.insert(svc, found);
            }
            networking::describe_ingress(obj, &lookup, events(Some("Ingress")).await.as_deref())
        }
        ("autoscaling", "HorizontalPodAutoscaler") => {
            // Upstream describes the v2 form whichever version was asked for.
            let v2 = client
                .get(&format!(
                    "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{name}"
                ))
                .await
                .unwrap_or_else(|_| obj.clone());
            autoscaling::describe_hpa(
                &v2,
                events(Some("HorizontalPodAutoscaler")).await.as_deref(),
            )
        }
        _ => generic::describe_generic(obj, events(Some(kind)).await.as_deref()),
    })
}

/// The pods matching a workload's selector in its namespace (PodCounts keeps the ones it
/// controls).
async fn controller_pods(client: &ApiClient, obj: &Value, ns: &str) -> Vec<Value> {
    let sel = format::selector_string(&obj["spec"]["selector"]);
    list_all(
        client,
        &format!("/api/v1/namespaces/{ns}/pods?labelSelector={}", q(&sel)),
    )
    .await
    .unwrap_or_default()
}

/// An API error as client-go prints it inside describe output (the server's message).
fn error_text(e: KubectlError) -> String {
    match e {
        KubectlError::Server { message, .. } => message,
        other => other.to_string(),
    }
}
