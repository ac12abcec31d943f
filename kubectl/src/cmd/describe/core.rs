//! Core kinds without pod templates: services, nodes, namespaces, config maps and secrets.

use base64::Engine;
use serde_json::Value;

use super::format::{self as f, arr, i, s};
use crate::printers::tabbed::PrefixWriter;

/// `kubectl describe service`; `endpoints` is the service's Endpoints object (None when
/// it does not exist).
pub fn describe_service(
    svc: &Value,
    endpoints: Option<&Value>,
    events: Option<&[Value]>,
) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(svc, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(svc, "/metadata/namespace")),
    );
    f::labels(&mut w, "Labels", f::map(svc, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(svc, "/metadata/annotations"));
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            f::format_labels(f::map(svc, "/spec/selector"))
        ),
    );
    w.write(0, &format!("Type:\t{}\n", s(svc, "/spec/type")));
    let policy = s(svc, "/spec/ipFamilyPolicy");
    if !policy.is_empty() {
        w.write(0, &format!("IP Family Policy:\t{policy}\n"));
    }
    let join = |ptr: &str, sep: &str| -> String {
        arr(svc, ptr)
            .iter()
            .map(f::scalar)
            .collect::<Vec<_>>()
            .join(sep)
    };
    let families = join("/spec/ipFamilies", ",");
    w.write(
        0,
        &format!(
            "IP Families:\t{}\n",
            if families.is_empty() {
                "<none>"
            } else {
                &families
            }
        ),
    );
    w.write(0, &format!("IP:\t{}\n", s(svc, "/spec/clusterIP")));
    let ips = join("/spec/clusterIPs", ",");
    w.write(
        0,
        &format!("IPs:\t{}\n", if ips.is_empty() { "<none>" } else { &ips }),
    );
    let external = join("/spec/externalIPs", ",");
    if !external.is_empty() {
        w.write(0, &format!("External IPs:\t{external}\n"));
    }
    let lb_ip = s(svc, "/spec/loadBalancerIP");
    if !lb_ip.is_empty() {
        w.write(0, &format!("Desired LoadBalancer IP:\t{lb_ip}\n"));
    }
    let ext_name = s(svc, "/spec/externalName");
    if !ext_name.is_empty() {
        w.write(0, &format!("External Name:\t{ext_name}\n"));
    }
    let ingress = arr(svc, "/status/loadBalancer/ingress");
    if !ingress.is_empty() {
        let list: Vec<String> = ingress
            .iter()
            .map(|g| {
                let ip = s(g, "/ip");
                if ip.is_empty() {
                    s(g, "/hostname").to_string()
                } else if let Some(mode) = g.get("ipMode").and_then(Value::as_str) {
                    format!("{ip} ({mode})")
                } else {
                    ip.to_string()
                }
            })
            .collect();
        w.write(0, &format!("LoadBalancer Ingress:\t{}\n", list.join(", ")));
    }
    for p in arr(svc, "/spec/ports") {
        let name = match s(p, "/name") {
            "" => "<unset>",
            n => n,
        };
        let proto = s(p, "/protocol");
        w.write(0, &format!("Port:\t{name}\t{}/{proto}\n", i(p, "/port")));
        w.write(
            0,
            &format!("TargetPort:\t{}/{proto}\n", f::scalar(&p["targetPort"])),
        );
        if let Some(app) = p.get("appProtocol").and_then(Value::as_str) {
            w.write(0, &format!("AppProtocol:\t{app}\n"));
        }
        if i(p, "/nodePort") != 0 {
            w.write(
                0,
                &format!("NodePort:\t{name}\t{}/{proto}\n", i(p, "/nodePort")),
            );
        }
        w.write(
            0,
            &format!(
                "Endpoints:\t{}\n",
                format_endpoints(endpoints, s(p, "/name"))
            ),
        );
    }
    w.write(
        0,
        &format!("Session Affinity:\t{}\n", s(svc, "/spec/sessionAffinity")),
    );
    for (title, ptr) in [
        ("External Traffic Policy", "/spec/externalTrafficPolicy"),
        ("Internal Traffic Policy", "/spec/internalTrafficPolicy"),
    ] {
        let v = s(svc, ptr);
        if !v.is_empty() {
            w.write(0, &format!("{title}:\t{v}\n"));
        }
    }
    if i(svc, "/spec/healthCheckNodePort") != 0 {
        w.write(
            0,
            &format!(
                "HealthCheck NodePort:\t{}\n",
                i(svc, "/spec/healthCheckNodePort")
            ),
        );
    }
    let ranges = join("/spec/loadBalancerSourceRanges", ",");
    if !ranges.is_empty() {
        w.write(0, &format!("LoadBalancer Source Ranges:\t{ranges}\n"));
    }
    let td = s(svc, "/spec/trafficDistribution");
    if !td.is_empty() {
        w.write(0, &format!("Traffic Distribution:\t{td}\n"));
    }
    f::events(&mut w, events);
    w.finish()
}

/// `formatEndpoints`: `ip:port` of the port named `port_name`, three at most then
/// `+ N more...`; `<none>` without subsets.
pub fn format_endpoints(endpoints: Option<&Value>, port_name: &str) -> String {
    let subsets = endpoints.map(|e| arr(e, "/subsets")).unwrap_or(&[]);
    if subsets.is_empty() {
        return "<none>".into();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut count = 0;
    for ss in subsets {
        let addrs = arr(ss, "/addresses");
        let ports = arr(ss, "/ports");
        if ports.is_empty() {
            for a in addrs {
                if list.len() < MAX {
                    list.push(s(a, "/ip").to_string());
                }
                count += 1;
            }
            continue;
        }
        for p in ports.iter().filter(|p| s(p, "/name") == port_name) {
            for a in addrs {
                if list.len() < MAX {
                    let ip = s(a, "/ip");
                    let host = if ip.contains(':') {
                        format!("[{ip}]")
                    } else {
                        ip.to_string()
                    };
                    list.push(format!("{host}:{}", i(p, "/port")));
                }
                count += 1;
            }
        }
    }
    if count > MAX {
        format!("{} + {} more...", list.join(","), count - MAX)
    } else {
        list.join(",")
    }
}

/// `kubectl describe configmap`.
pub fn describe_config_map(cm: &Value, events: Option<&[Value]>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(cm, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(cm, "/metadata/namespace")),
    );
    f::labels(&mut w, "Labels", f::map(cm, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(cm, "/metadata/annotations"));
    w.write(0, "\nData\n====\n");
    let data = f::map(cm, "/data");
    let mut keys: Vec<&String> = data.map(|m| m.keys().collect()).unwrap_or_default();
    keys.sort();
    for k in keys {
        let v = data
            .and_then(|m| m.get(k))
            .map(f::scalar)
            .unwrap_or_default();
        w.write(0, &format!("{k}:\n----\n{v}\n\n"));
    }
    w.write(0, "\nBinaryData\n====\n");
    let bin = f::map(cm, "/binaryData");
    let mut keys: Vec<&String> = bin.map(|m| m.keys().collect()).unwrap_or_default();
    keys.sort();
    for k in keys {
        let len = bin
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .map_or(0, |b| b.len());
        w.write(0, &format!("{k}: {len} bytes\n"));
    }
    w.write(0, "\n");
    f::events(&mut w, events);
    w.finish()
}

/// `kubectl describe secret`: sizes only, except a service account token.
pub fn describe_secret(secret: &Value) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(secret, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(secret, "/metadata/namespace")),
    );
    f::labels(&mut w, "Labels", f::map(secret, "/metadata/labels"));
    f::annotations(
        &mut w,
        "Annotations",
        f::map(secret, "/metadata/annotations"),
    );
    let ty = s(secret, "/type");
    w.write(0, &format!("\nType:\t{ty}\n"));
    w.write(0, "\nData\n====\n");
    let data = f::map(secret, "/data");
    let mut keys: Vec<&String> = data.map(|m| m.keys().collect()).unwrap_or_default();
    keys.sort();
    for k in keys {
        let bytes = data
            .and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .unwrap_or_default();
        if k == "token" && ty == "kubernetes.io/service-account-token" {
            w.write(0, &format!("{k}:\t{}\n", String::from_utf8_lossy(&bytes)));
        } else {
            w.write(0, &format!("{k}:\t{} bytes\n", bytes.len()));
        }
    }
    w.finish()
}

/// `kubectl describe namespace`; `quotas`/`limits` are None when the server has no such
/// resources.
pub fn describe_namespace(
    ns: &Value,
    quotas: Option<&[Value]>,
    limits: Option<&[Value]>,
) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(ns, "/metadata/name")));
    f::labels(&mut w, "Labels", f::map(ns, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(ns, "/metadata/annotations"));
    w.write(0, &format!("Status:\t{}\n", s(ns, "/status/phase")));
    let conds = arr(ns, "/status/conditions");
    if !conds.is_empty() {
        w.write(0, "Conditions:\n");
        w.write(1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n");
        w.write(1, "----\t------\t------------------\t------\t-------\n");
        for c in conds {
            w.write(
                1,
                &format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    s(c, "/type"),
                    s(c, "/status"),
                    f::rfc1123z(s(c, "/lastTransitionTime")),
                    s(c, "/reason"),
                    s(c, "/message")
                ),
            );
        }
    }
    if let Some(quotas) = quotas {
        w.write(0, "\n");
        resource_quotas(&mut w, quotas);
    }
    if let Some(limits) = limits {
        w.write(0, "\n");
        limit_ranges(&mut w, limits);
    }
    w.finish()
}

fn resource_quotas(w: &mut PrefixWriter, quotas: &[Value]) {
    if quotas.is_empty() {
        w.write(0, "No resource quota.\n");
        return;
    }
    let mut sorted: Vec<&Value> = quotas.iter().collect();
    sorted.sort_by(|a, b| s(a, "/metadata/name").cmp(s(b, "/metadata/name")));
    w.write(0, "Resource Quotas\n");
    for q in sorted {
        w.write(1, &format!("Name:\t{}\n", s(q, "/metadata/name")));
        let mut scopes: Vec<String> = arr(q, "/spec/scopes").iter().map(f::scalar).collect();
        if !scopes.is_empty() {
            scopes.sort();
            w.write(1, &format!("Scopes:\t{}\n", scopes.join(", ")));
            for sc in &scopes {
                if let Some(help) = scope_help(sc) {
                    w.write(1, &format!("* {help}\n"));
                }
            }
        }
        w.write(1, "Resource\tUsed\tHard\n");
        w.write(1, "--------\t---\t---\n");
        let hard = f::map(q, "/status/hard");
        let mut names: Vec<&String> = hard.map(|m| m.keys().collect()).unwrap_or_default();
        names.sort();
        for n in names {
            let used = q
                .pointer(&format!("/status/used/{n}"))
                .map(f::scalar)
                .unwrap_or_else(|| "0".into());
            let h = hard
                .and_then(|m| m.get(n))
                .map(f::scalar)
                .unwrap_or_default();
            w.write(1, &format!("{n}\t{used}\t{h}\n"));
        }
    }
}

fn scope_help(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "Terminating" => "Matches all pods that have an active deadline. These pods have a limited lifespan on a node before being actively terminated by the system.",
        "NotTerminating" => "Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate.",
        "BestEffort" => "Matches all pods that do not have resource requirements set. These pods have a best effort quality of service.",
        "NotBestEffort" => "Matches all pods that have at least one resource requirement set. These pods have a burstable or guaranteed quality of service.",
        _ => return None,
    })
}

fn limit_ranges(w: &mut PrefixWriter, limits: &[Value]) {
    if limits.is_empty() {
        w.write(0, "No LimitRange resource.\n");
        return;
    }
    w.write(0, "Resource Limits\n Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n");
    w.write(
        0,
        " ----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n",
    );
    for lr in limits {
        for item in arr(lr, "/spec/limits") {
            let mut names: Vec<String> = Vec::new();
            for key in [
                "max",
                "min",
                "default",
                "defaultRequest",
                "maxLimitRequestRatio",
            ] {
                for n in item[key].as_object().into_iter().flatten().map(|(k, _)| k) {
                    if !names.contains(n) {
                        names.push(n.clone());
                    }
                }
            }
            for n in names {
                let get = |key: &str| {
                    item[key]
                        .get(&n)
                        .map(f::scalar)
                        .unwrap_or_else(|| "-".into())
                };
                w.write(
                    0,
                    &format!(
                        " {}\t{n}\t{}\t{}\t{}\t{}\t{}\n",
                        s(item, "/type"),
                        get("min"),
                        get("max"),
                        get("defaultRequest"),
                        get("default"),
                        get("maxLimitRequestRatio")
                    ),
                );
            }
        }
    }
}

/// What `describe node` shows besides the node itself.
pub struct NodeExtras<'a> {
    /// The node's Lease in kube-node-lease, or the error text when it could not be read.
    pub lease: Result<&'a Value, String>,
    /// Non-terminated pods on the node; None when listing them was forbidden.
    pub pods: Option<&'a [Value]>,
    /// Events, when asked for.
    pub events: Option<&'a [Value]>,
}

/// `kubectl describe node`.
pub fn describe_node(node: &Value, x: &NodeExtras<'_>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(node, "/metadata/name")));
    let mut roles: Vec<String> = Vec::new();
    for (k, v) in f::map(node, "/metadata/labels").into_iter().flatten() {
        if let Some(role) = k
            .strip_prefix("node-role.kubernetes.io/")
            .filter(|r| !r.is_empty())
        {
            roles.push(role.to_string());
        } else if k == "kubernetes.io/role" && v.as_str().is_some_and(|v| !v.is_empty()) {
            roles.push(f::scalar(v));
        }
    }
    roles.sort();
    roles.dedup();
    w.write(
        0,
        &format!(
            "Roles:\t{}\n",
            if roles.is_empty() {
                "<none>".into()
            } else {
                roles.join(",")
            }
        ),
    );
    f::labels(&mut w, "Labels", f::map(node, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(node, "/metadata/annotations"));
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            f::rfc1123z(s(node, "/metadata/creationTimestamp"))
        ),
    );
    f::taints(&mut w, "Taints", arr(node, "/spec/taints"));
    w.write(
        0,
        &format!(
            "Unschedulable:\t{}\n",
            node["spec"]["unschedulable"].as_bool().unwrap_or(false)
        ),
    );
    match &x.lease {
        Ok(lease) => {
            w.write(0, "Lease:\n");
            let or_unset = |v: &str| {
                if v.is_empty() {
                    "<unset>".to_string()
                } else {
                    v.to_string()
                }
            };
            w.write(
                1,
                &format!(
                    "HolderIdentity:\t{}\n",
                    or_unset(s(lease, "/spec/holderIdentity"))
                ),
            );
            let t = |ptr: &str| {
                let v = s(lease, ptr);
                if v.is_empty() {
                    "<unset>".to_string()
                } else {
                    f::rfc1123z(v)
                }
            };
            w.write(1, &format!("AcquireTime:\t{}\n", t("/spec/acquireTime")));
            w.write(1, &format!("RenewTime:\t{}\n", t("/spec/renewTime")));
        }
        Err(e) => w.write(0, &format!("Lease:\tFailed to get lease: {e}\n")),
    }
    let conds = arr(node, "/status/conditions");
    if !conds.is_empty() {
        w.write(
            0,
            "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n",
        );
        w.write(
            1,
            "----\t------\t-----------------\t------------------\t------\t-------\n",
        );
        for c in conds {
            w.write(
                1,
                &format!(
                    "{} \t{} \t{} \t{} \t{} \t{}\n",
                    s(c, "/type"),
                    s(c, "/status"),
                    f::rfc1123z(s(c, "/lastHeartbeatTime")),
                    f::rfc1123z(s(c, "/lastTransitionTime")),
                    s(c, "/reason"),
                    s(c, "/message")
                ),
            );
        }
    }
    w.write(0, "Addresses:\n");
    for a in arr(node, "/status/addresses") {
        w.write(1, &format!("{}:\t{}\n", s(a, "/type"), s(a, "/address")));
    }
    for (title, ptr) in [
        ("Capacity", "/status/capacity"),
        ("Allocatable", "/status/allocatable"),
    ] {
        let Some(m) = f::map(node, ptr).filter(|m| !m.is_empty()) else {
            continue;
        };
        w.write(0, &format!("{title}:\n"));
        let mut names: Vec<&String> = m.keys().collect();
        names.sort();
        for n in names {
            w.write(0, &format!("  {n}:\t{}\n", f::scalar(&m[n])));
        }
    }
    w.write(0, "System Info:\n");
    for (title, key) in [
        ("Machine ID", "machineID"),
        ("System UUID", "systemUUID"),
        ("Boot ID", "bootID"),
        ("Kernel Version", "kernelVersion"),
        ("OS Image", "osImage"),
        ("Operating System", "operatingSystem"),
        ("Architecture", "architecture"),
        ("Container Runtime Version", "containerRuntimeVersion"),
        ("Kubelet Version", "kubeletVersion"),
        ("Kube-Proxy Version", "kubeProxyVersion"),
    ] {
        w.write(
            0,
            &format!(
                "  {title}:\t{}\n",
                s(node, &format!("/status/nodeInfo/{key}"))
            ),
        );
    }
    let cidr = s(node, "/spec/podCIDR");
    if !cidr.is_empty() {
        w.write(0, &format!("PodCIDR:\t{cidr}\n"));
    }
    let cidrs: Vec<String> = arr(node, "/spec/podCIDRs").iter().map(f::scalar).collect();
    if !cidrs.is_empty() {
        w.write(0, &format!("PodCIDRs:\t{}\n", cidrs.join(",")));
    }
    let provider = s(node, "/spec/providerID");
    if !provider.is_empty() {
        w.write(0, &format!("ProviderID:\t{provider}\n"));
    }
    match x.pods {
        Some(pods) => node_resources(&mut w, node, pods),
        None => w.write(0, "Pods:\tnot authorized\n"),
    }
    f::events(&mut w, x.events);
    w.finish()
}

/// A pod's summed container requests or limits of one resource, in milli-units (init
/// containers count by their maximum, as the scheduler does).
fn pod_amount(pod: &Value, kind: &str, resource: &str) -> i128 {
    let ptr = format!("/resources/{kind}/{resource}");
    let sum: i128 = arr(pod, "/spec/containers")
        .iter()
        .map(|c| f::milli(c.pointer(&ptr)))
        .sum();
    let init = arr(pod, "/spec/initContainers")
        .iter()
        .map(|c| f::milli(c.pointer(&ptr)))
        .max()
        .unwrap_or(0);
    sum.max(init)
}

fn percent(part: i128, whole: i128) -> i128 {
    if whole == 0 {
        0
    } else {
        part * 100 / whole
    }
}

fn node_resources(w: &mut PrefixWriter, node: &Value, pods: &[Value]) {
    w.write(
        0,
        &format!("Non-terminated Pods:\t({} in total)\n", pods.len()),
    );
    w.write(
        1,
        "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n",
    );
    w.write(
        1,
        "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n",
    );
    let alloc = if f::map(node, "/status/allocatable").is_some_and(|m| !m.is_empty()) {
        &node["status"]["allocatable"]
    } else {
        &node["status"]["capacity"]
    };
    let cpu_alloc = f::milli(alloc.get("cpu"));
    let mem_alloc = f::milli(alloc.get("memory")) / 1000;
    let eph_alloc = f::milli(alloc.get("ephemeral-storage")) / 1000;
    for p in pods {
        let (cr, cl) = (
            pod_amount(p, "requests", "cpu"),
            pod_amount(p, "limits", "cpu"),
        );
        let (mr, ml) = (
            pod_amount(p, "requests", "memory") / 1000,
            pod_amount(p, "limits", "memory") / 1000,
        );
        w.write(
            1,
            &format!(
                "{}\t{}\t\t{} ({}%)\t{} ({}%)\t{} ({}%)\t{} ({}%)\t{}\n",
                s(p, "/metadata/namespace"),
                s(p, "/metadata/name"),
                f::cpu_string(cr),
                percent(cr, cpu_alloc),
                f::cpu_string(cl),
                percent(cl, cpu_alloc),
                f::bytes_string(mr),
                percent(mr, mem_alloc),
                f::bytes_string(ml),
                percent(ml, mem_alloc),
                f::since(s(p, "/metadata/creationTimestamp"))
            ),
        );
    }
    w.write(
        0,
        "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n",
    );
    w.write(1, "Resource\tRequests\tLimits\n");
    w.write(1, "--------\t--------\t------\n");
    let total = |kind: &str, res: &str| pods.iter().map(|p| pod_amount(p, kind, res)).sum::<i128>();
    let (cr, cl) = (total("requests", "cpu"), total("limits", "cpu"));
    w.write(
        1,
        &format!(
            "cpu\t{} ({}%)\t{} ({}%)\n",
            f::cpu_string(cr),
            percent(cr, cpu_alloc),
            f::cpu_string(cl),
            percent(cl, cpu_alloc)
        ),
    );
    for (name, alloc) in [("memory", mem_alloc), ("ephemeral-storage", eph_alloc)] {
        let (r, l) = (total("requests", name) / 1000, total("limits", name) / 1000);
        w.write(
            1,
            &format!(
                "{name}\t{} ({}%)\t{} ({}%)\n",
                f::bytes_string(r),
                percent(r, alloc),
                f::bytes_string(l),
                percent(l, alloc)
            ),
        );
    }
    let mut huge: Vec<&String> = Vec::new();
    let mut ext: Vec<&String> = Vec::new();
    for k in alloc.as_object().into_iter().flatten().map(|(k, _)| k) {
        if k.starts_with("hugepages-") {
            huge.push(k);
        } else if !matches!(
            k.as_str(),
            "cpu" | "memory" | "ephemeral-storage" | "storage" | "pods"
        ) && k.contains('/')
        {
            ext.push(k);
        }
    }
    huge.sort();
    ext.sort();
    for k in huge {
        let a = f::milli(alloc.get(k.as_str())) / 1000;
        let (r, l) = (total("requests", k) / 1000, total("limits", k) / 1000);
        w.write(
            1,
            &format!(
                "{k}\t{} ({}%)\t{} ({}%)\n",
                f::bytes_string(r),
                percent(r, a),
                f::bytes_string(l),
                percent(l, a)
            ),
        );
    }
    for k in ext {
        let (r, l) = (total("requests", k) / 1000, total("limits", k) / 1000);
        w.write(1, &format!("{k}\t{r}\t{l}\n"));
    }
}

/// `kubectl describe serviceaccount`; `tokens` are the token Secrets naming the account and
/// `existing` the names of the namespace's Secrets (to mark missing mountable secrets).
pub fn describe_service_account(
    sa: &Value,
    tokens: &[Value],
    existing: &[String],
    events: Option<&[Value]>,
) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(sa, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(sa, "/metadata/namespace")),
    );
    f::labels(&mut w, "Labels", f::map(sa, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(sa, "/metadata/annotations"));
    let names = |list: &[Value]| -> Vec<String> {
        list.iter().map(|x| s(x, "/name").to_string()).collect()
    };
    let token_names: Vec<String> = tokens
        .iter()
        .map(|t| s(t, "/metadata/name").to_string())
        .collect();
    // Upstream pads the headers to one width and prints them sorted.
    let sections = [
        (
            "Image pull secrets:",
            names(arr(sa, "/imagePullSecrets")),
            false,
        ),
        ("Mountable secrets: ", names(arr(sa, "/secrets")), true),
        ("Tokens:            ", token_names, false),
    ];
    for (header, list, check) in sections {
        if list.is_empty() {
            w.write(0, &format!("{header}\t<none>\n"));
            continue;
        }
        let mut prefix = header;
        for n in list {
            if check && !existing.contains(&n) {
                w.write(0, &format!("{prefix}\t{n} (not found)\n"));
            } else {
                w.write(0, &format!("{prefix}\t{n}\n"));
            }
            prefix = "                   ";
        }
    }
    f::events(&mut w, events);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoints_list_three_then_more() {
        let ep = json!({"subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "10.0.0.3"}, {"ip": "10.0.0.4"}],
                                     "ports": [{"name": "http", "port": 8080}]}]});
        assert_eq!(
            format_endpoints(Some(&ep), "http"),
            "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 1 more..."
        );
        assert_eq!(format_endpoints(Some(&ep), "other"), "");
        assert_eq!(format_endpoints(None, "http"), "<none>");
    }

    #[test]
    fn config_map_and_secret_layout() {
        let cm =
            json!({"metadata": {"name": "c", "namespace": "n"}, "data": {"b": "2", "a": "x\ny"}});
        assert_eq!(
            describe_config_map(&cm, Some(&[])),
            "Name:         c\nNamespace:    n\nLabels:       <none>\nAnnotations:  <none>\n\nData\n====\na:\n----\nx\ny\n\nb:\n----\n2\n\n\nBinaryData\n====\n\nEvents:  <none>\n"
        );
        let sec = json!({"metadata": {"name": "s", "namespace": "n"}, "type": "Opaque", "data": {"password": "czNjcmV0"}});
        assert_eq!(
            describe_secret(&sec),
            "Name:         s\nNamespace:    n\nLabels:       <none>\nAnnotations:  <none>\n\nType:  Opaque\n\nData\n====\npassword:  6 bytes\n"
        );
    }

    #[test]
    fn namespace_without_quotas() {
        let ns = json!({"metadata": {"name": "x"}, "status": {"phase": "Active"}});
        assert_eq!(
            describe_namespace(&ns, Some(&[]), Some(&[])),
            "Name:         x\nLabels:       <none>\nAnnotations:  <none>\nStatus:       Active\n\nNo resource quota.\n\nNo LimitRange resource.\n"
        );
    }
}
