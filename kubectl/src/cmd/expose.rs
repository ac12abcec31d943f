//! `kubectl expose`: a Service for a pod, service, replication controller, deployment or
//! replica set, with its selector, ports and protocols taken from the object unless given.

use clap::Args;
use serde_json::{Map, Value};

use super::create::post;
use super::create::FileArgs;
use super::generators::{self as gen, ExposeSpec};
use super::print_flags::{DryRun, DryRunFlag, PrintFlags};
use super::write::Write;
use super::Ctx;
use crate::error::{KubectlError, Result};
use crate::printers::go_order;

/// `kubectl expose (-f FILENAME | TYPE NAME) [--port=port] [--protocol=TCP|UDP|SCTP] [--target-port=number-or-name] [--name=name] [--external-ip=ip] [--type=type]`
#[derive(Debug, Args)]
pub struct ExposeArgs {
    /// TYPE NAME or TYPE/NAME.
    args: Vec<String>,
    /// Filename, directory, or URL to files identifying the resource to expose a service.
    #[command(flatten)]
    files: FileArgs,
    /// The port that the service should serve on.
    #[arg(long)]
    port: Option<String>,
    /// The network protocol for the service to be created.
    #[arg(long)]
    protocol: Option<String>,
    /// Name or number for the port on the container that the service should direct traffic to.
    #[arg(long)]
    target_port: Option<String>,
    /// The name for the newly created object.
    #[arg(long)]
    name: Option<String>,
    /// Type for this service: ClusterIP, NodePort, LoadBalancer, or ExternalName.
    #[arg(long = "type")]
    service_type: Option<String>,
    /// Additional external IP address (not managed by Kubernetes) to accept for the service.
    #[arg(long)]
    external_ip: Option<String>,
    /// ClusterIP to be assigned to the service. Leave empty to auto-allocate, or set to 'None'.
    #[arg(long)]
    cluster_ip: Option<String>,
    /// IP to assign to the LoadBalancer.
    #[arg(long)]
    load_balancer_ip: Option<String>,
    /// If non-empty, set the session affinity for the service to this; legal values: 'None', 'ClientIP'.
    #[arg(long)]
    session_affinity: Option<String>,
    /// A label selector to use for this service.
    #[arg(long)]
    selector: Option<String>,
    /// Labels to apply to the service created by this call.
    #[arg(short = 'l', long)]
    labels: Option<String>,
    #[command(flatten)]
    pub print_flags: PrintFlags,
    #[command(flatten)]
    pub dry_run: DryRunFlag,
    /// Name of the manager used to track field ownership.
    #[arg(long, default_value = "kubectl-expose")]
    field_manager: String,
    /// An inline JSON override for the generated object, applied as --override-type says.
    #[arg(long)]
    overrides: Option<String>,
    /// The method used to override the generated object: json, merge, or strategic.
    #[arg(long, default_value = "merge")]
    override_type: String,
    /// If true, the configuration of current object will be saved in its annotation.
    #[arg(long)]
    save_config: bool,
}

/// The selector a Service for `obj` gets, or upstream's reason why there is none.
pub fn selector_for(obj: &Value) -> std::result::Result<Map<String, Value>, String> {
    let kind = obj["kind"].as_str().unwrap_or("");
    let m = match kind {
        "Pod" => {
            let l = obj["metadata"]["labels"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            if l.is_empty() {
                return Err("the pod has no labels and cannot be exposed".into());
            }
            l
        }
        "Service" => match obj["spec"]["selector"].as_object() {
            Some(s) => s.clone(),
            None => return Err("the service has no pod selector set".into()),
        },
        "ReplicationController" => obj["spec"]["selector"]
            .as_object()
            .cloned()
            .unwrap_or_default(),
        _ => {
            let sel = &obj["spec"]["selector"];
            // A workload read from a file may have none (the server would have refused it).
            if !sel.is_object() {
                return Err(format!(
                    "invalid {}: no selectors, therefore cannot be exposed",
                    kind.to_lowercase()
                ));
            }
            if sel["matchExpressions"]
                .as_array()
                .is_some_and(|e| !e.is_empty())
            {
                return Err(format!(
                    "couldn't convert expressions - \"{}\" to map-based selector format",
                    sel["matchExpressions"]
                ));
            }
            sel["matchLabels"].as_object().cloned().unwrap_or_default()
        }
    };
    Ok(m)
}

/// The ports (with protocols) of the exposed object: container ports, or a service's ports.
pub fn ports_for(obj: &Value) -> Vec<(i64, String)> {
    let containers = match obj["kind"].as_str().unwrap_or("") {
        "Service" => {
            return obj["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    (
                        p["port"].as_i64().unwrap_or(0),
                        p["protocol"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        }
        "Pod" => &obj["spec"]["containers"],
        _ => &obj["spec"]["template"]["spec"]["containers"],
    };
    containers
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
        .map(|p| {
            (
                p["containerPort"].as_i64().unwrap_or(0),
                p["protocol"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Runs `kubectl expose`.
pub async fn run(ctx: &Ctx, a: ExposeArgs) -> Result<()> {
    let format = a.print_flags.format()?;
    let dry = a.dry_run.strategy()?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    // Objects named in files are exposed as the file has them (upstream's builder reads
    // them without fetching); named by argument, as the server has them.
    let mut targets: Vec<(crate::resource::ApiResource, String, Option<Value>)> = Vec::new();
    if !a.files.filename.is_empty() {
        for m in crate::manifest::read_all(&a.files.filename, a.files.recursive)? {
            let res = crate::manifest::resource_for(&disc, &m)?.clone();
            let name = m.object["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            targets.push((res, name, Some(m.object)));
        }
    } else if a.args.is_empty() {
        return Err(KubectlError::usage(
            "You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'",
        ));
    } else {
        targets = super::label::resolve_targets(&client, &mut disc, &a.args, None, false)
            .await?
            .into_iter()
            .map(|(res, name)| (res, name, None))
            .collect();
    }
    let mut errors = Vec::new();
    for (res, name, from_file) in targets {
        let r = async {
            let kind_ok = matches!(
                (res.group.as_str(), res.kind.as_str()),
                ("", "Pod" | "Service" | "ReplicationController")
                    | ("apps", "Deployment" | "ReplicaSet")
            );
            if !kind_ok {
                let gk = if res.group.is_empty() {
                    res.kind.clone()
                } else {
                    format!("{}.{}", res.kind, res.group)
                };
                return Err(KubectlError::usage(format!("cannot expose a {gk}")));
            }
            let ns = res.namespaced.then_some(client.namespace.as_str());
            let mut obj = match from_file {
                Some(obj) => obj,
                None => client.get(&res.object_path(ns, &name)).await?,
            };
            if obj["kind"].as_str().is_none_or(str::is_empty) {
                obj["kind"] = Value::String(res.kind.clone());
            }
            let selector = match &a.selector {
                Some(s) => gen::parse_labels(s)?,
                None => selector_for(&obj).map_err(|e| {
                    KubectlError::usage(format!(
                        "couldn't retrieve selectors via --selector flag or introspection: {e}"
                    ))
                })?,
            };
            let ports = match &a.port {
                Some(p) => p
                    .split(',')
                    .map(|x| {
                        x.parse::<i64>().map(|n| (n, String::new())).map_err(|_| {
                            KubectlError::usage(format!(
                                "strconv.Atoi: parsing {x:?}: invalid syntax"
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>>>()?,
                None => {
                    let p = ports_for(&obj);
                    if p.is_empty() && a.cluster_ip.as_deref() != Some("None") {
                        return Err(KubectlError::usage(
                            "couldn't find port via --port flag or introspection",
                        ));
                    }
                    p
                }
            };
            let labels = match &a.labels {
                Some(l) => gen::parse_labels(l)?,
                None => obj["metadata"]["labels"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            };
            let mut svc_name = a.name.clone().unwrap_or_else(|| name.clone());
            svc_name.truncate(63);
            let mut svc = gen::expose_service(&ExposeSpec {
                name: svc_name,
                selector,
                labels,
                ports,
                protocol: a.protocol.clone(),
                target_port: a.target_port.clone(),
                service_type: a.service_type.clone(),
                external_ip: a.external_ip.clone(),
                cluster_ip: a.cluster_ip.clone(),
                session_affinity: a.session_affinity.clone(),
                load_balancer_ip: a.load_balancer_ip.clone(),
            });
            if let Some(overrides) = a.overrides.as_deref().filter(|o| !o.is_empty()) {
                svc = super::overrides::apply(&svc, overrides, &a.override_type)?;
            }
            // Upstream prints a client dry run's Service as the Go struct it built (placed
            // in the namespace -n named), and records --save-config, without a namespace,
            // only for a Service it sends.
            if dry == DryRun::Client {
                if client.namespace_explicit {
                    svc["metadata"]["namespace"] = Value::String(client.namespace.clone());
                }
                a.print_flags.print_typed(&format, &svc, "exposed", dry)?;
                return Ok(None);
            }
            if a.save_config {
                svc = go_order::with_last_applied(&svc);
            }
            if client.namespace_explicit {
                svc["metadata"]["namespace"] = Value::String(client.namespace.clone());
            }
            let svc_ns = ns.unwrap_or(client.namespace.as_str());
            post(
                &client,
                &format!("/api/v1/namespaces/{svc_ns}/services"),
                &svc,
                &Write::by(&a.field_manager, dry),
            )
            .await
            .map(Some)
        }
        .await;
        match r {
            Ok(Some(svc)) => a.print_flags.print(&format, &svc, "exposed", dry)?,
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    super::get::report(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_from_objects() {
        let d =
            json!({"kind": "Deployment", "spec": {"selector": {"matchLabels": {"app": "web"}}}});
        assert_eq!(
            Value::Object(selector_for(&d).unwrap()),
            json!({"app": "web"})
        );
        let p = json!({"kind": "Pod", "metadata": {}});
        assert_eq!(
            selector_for(&p).unwrap_err(),
            "the pod has no labels and cannot be exposed"
        );
        let e = json!({"kind": "ReplicaSet", "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Exists"}]}}});
        assert!(selector_for(&e).is_err());
    }

    #[test]
    fn ports_from_templates_and_services() {
        let d = json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
            {"ports": [{"containerPort": 8080, "protocol": "TCP"}]}, {"ports": [{"containerPort": 53, "protocol": "UDP"}]}]}}}});
        assert_eq!(
            ports_for(&d),
            vec![(8080, "TCP".to_string()), (53, "UDP".to_string())]
        );
        let s = json!({"kind": "Service", "spec": {"ports": [{"port": 80, "protocol": "TCP"}]}});
        assert_eq!(ports_for(&s), vec![(80, "TCP".to_string())]);
    }
}
