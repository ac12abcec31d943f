//! The objects the generator commands build (`create service|job|cronjob|role|…`, `run`,
//! `expose`, `autoscale`), in the shape upstream's generators give them, so `--dry-run -o
//! yaml` prints the same document. Pure functions; the commands send the result.

use serde_json::{json, Map, Value};

use crate::error::{KubectlError, Result};

/// `port[:targetPort]` of `create service --tcp`: the port, its name (`5678-8080`) and the
/// target port (a number when it parses as one, else a name).
pub fn parse_tcp(spec: &str) -> Result<Value> {
    let (port, target) = spec.split_once(':').unwrap_or((spec, spec));
    let port: i64 = port.parse().map_err(|_| {
        KubectlError::usage(format!("strconv.Atoi: parsing {port:?}: invalid syntax"))
    })?;
    let target = match target.parse::<i64>() {
        Ok(n) => json!(n),
        Err(_) => json!(target),
    };
    Ok(
        json!({"name": spec.replace(':', "-"), "port": port, "protocol": "TCP", "targetPort": target}),
    )
}

/// `create service <type>`.
pub fn service(
    name: &str,
    ty: &str,
    tcp: &[String],
    cluster_ip: Option<&str>,
    node_port: Option<i64>,
    external_name: Option<&str>,
) -> Result<Value> {
    if tcp.is_empty() && ty != "ExternalName" && cluster_ip != Some("None") {
        return Err(KubectlError::usage(
            "at least one tcp port specifier must be provided",
        ));
    }
    let mut ports = Vec::new();
    for t in tcp {
        let mut p = parse_tcp(t)?;
        if let Some(np) = node_port.filter(|n| *n > 0) {
            p["nodePort"] = json!(np);
        }
        ports.push(p);
    }
    let mut spec = json!({"selector": {"app": name}, "type": ty});
    if !ports.is_empty() {
        spec["ports"] = json!(ports);
    }
    if let Some(ip) = cluster_ip.filter(|s| !s.is_empty()) {
        spec["clusterIP"] = json!(ip);
    }
    if let Some(en) = external_name.filter(|s| !s.is_empty()) {
        spec["externalName"] = json!(en);
    }
    Ok(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "labels": {"app": name}, "creationTimestamp": null},
        "spec": spec,
        "status": {"loadBalancer": {}}
    }))
}

fn container(name: &str, image: &str, command: &[String]) -> Value {
    let mut c = json!({"name": name, "image": image, "resources": {}});
    if !command.is_empty() {
        c["command"] = json!(command);
    }
    c
}

/// `create job NAME --image=… [-- COMMAND…]`.
pub fn job(name: &str, image: &str, command: &[String]) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "creationTimestamp": null},
        "spec": {"template": {"metadata": {"creationTimestamp": null},
                              "spec": {"containers": [container(name, image, command)],
                                       "restartPolicy": "Never"}}},
        "status": {}
    })
}

/// `create job NAME --from=cronjob/X`: the cron job's job template, owned by it and marked
/// as a manual run.
pub fn job_from_cron_job(name: &str, cj: &Value) -> Value {
    let tmpl = &cj["spec"]["jobTemplate"];
    let mut annotations = Map::new();
    annotations.insert("cronjob.kubernetes.io/instantiate".into(), json!("manual"));
    for (k, v) in tmpl["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
    {
        annotations.insert(k.clone(), v.clone());
    }
    let mut meta = json!({
        "name": name, "creationTimestamp": null, "annotations": annotations,
        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob",
                             "name": cj["metadata"]["name"], "uid": cj["metadata"]["uid"],
                             "controller": true}]
    });
    if let Some(l) = tmpl["metadata"].get("labels").filter(|l| l.is_object()) {
        meta["labels"] = l.clone();
    }
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
           "spec": tmpl["spec"].clone(), "status": {}})
}

/// `create cronjob NAME --image=… --schedule=… [--restart=…] [-- COMMAND…]`.
pub fn cron_job(
    name: &str,
    image: &str,
    schedule: &str,
    restart: &str,
    command: &[String],
) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name, "creationTimestamp": null},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "metadata": {"name": name, "creationTimestamp": null},
                "spec": {"template": {"metadata": {"creationTimestamp": null},
                                      "spec": {"containers": [container(name, image, command)],
                                               "restartPolicy": restart}}}
            }
        },
        "status": {}
    })
}

/// Verbs `create role` accepts.
const VALID_VERBS: [&str; 13] = [
    "*",
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "use",
    "bind",
    "escalate",
    "impersonate",
];

/// The `--verb` values that are not standard resource verbs (upstream warns about them).
pub fn nonstandard_verbs(verbs: &[String]) -> Vec<&str> {
    verbs
        .iter()
        .map(String::as_str)
        .filter(|v| !VALID_VERBS.contains(v))
        .collect()
}

/// One `--resource`, resolved: (group, plural[/subresource]).
pub type RuleResource = (String, String);

/// Policy rules: one per API group (groups sorted), then one for non-resource URLs.
pub fn policy_rules(
    verbs: &[String],
    resources: &[RuleResource],
    resource_names: &[String],
    non_resource_urls: &[String],
) -> Vec<Value> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (g, r) in resources {
        match groups.iter_mut().find(|(name, _)| name == g) {
            Some((_, list)) => {
                if !list.contains(r) {
                    list.push(r.clone());
                }
            }
            None => groups.push((g.clone(), vec![r.clone()])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rules: Vec<Value> = groups
        .into_iter()
        .map(|(g, rs)| {
            let mut rule = json!({"apiGroups": [g], "resources": rs, "verbs": verbs});
            if !resource_names.is_empty() {
                rule["resourceNames"] = json!(resource_names);
            }
            rule
        })
        .collect();
    if !non_resource_urls.is_empty() {
        rules.push(json!({"nonResourceURLs": non_resource_urls, "verbs": verbs}));
    }
    rules
}

/// `create role` / `create clusterrole`.
pub fn role(kind: &str, name: &str, rules: Vec<Value>) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
           "metadata": {"name": name, "creationTimestamp": null}, "rules": rules})
}

/// `create rolebinding` / `create clusterrolebinding`: subjects are users, then groups,
/// then service accounts (`namespace:name`).
pub fn role_binding(
    kind: &str,
    name: &str,
    role_kind: &str,
    role_name: &str,
    users: &[String],
    groups: &[String],
    service_accounts: &[String],
) -> Result<Value> {
    let mut subjects = Vec::new();
    for u in users {
        subjects.push(json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": u}));
    }
    for g in groups {
        subjects.push(json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g}));
    }
    for sa in service_accounts {
        let Some((ns, n)) = sa
            .split_once(':')
            .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        else {
            return Err(KubectlError::usage(
                "serviceaccount must be <namespace>:<name>",
            ));
        };
        subjects.push(json!({"kind": "ServiceAccount", "namespace": ns, "name": n}));
    }
    let mut b = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                       "metadata": {"name": name, "creationTimestamp": null},
                       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name}});
    if !subjects.is_empty() {
        b["subjects"] = json!(subjects);
    }
    Ok(b)
}

/// `key=value,key=value` (`--labels`).
pub fn parse_labels(spec: &str) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    for pair in spec.split(',').filter(|p| !p.is_empty()) {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(KubectlError::usage(format!("invalid label spec: {pair}")));
        };
        m.insert(k.to_string(), json!(v));
    }
    Ok(m)
}

/// What `kubectl run` puts in its pod.
#[derive(Debug, Default)]
pub struct RunSpec<'a> {
    /// Pod and container name.
    pub name: &'a str,
    /// Container image.
    pub image: &'a str,
    /// `--labels`; default `run=<name>`.
    pub labels: Option<Map<String, Value>>,
    /// `--env` pairs.
    pub env: &'a [String],
    /// `--port`.
    pub port: Option<i64>,
    /// Arguments after `--`.
    pub args: &'a [String],
    /// `--command`: the arguments are the command, not args.
    pub command: bool,
    /// `--restart`.
    pub restart: &'a str,
    /// `--image-pull-policy`.
    pub pull_policy: Option<&'a str>,
    /// `--annotations` pairs.
    pub annotations: &'a [String],
    /// `-i/--stdin`
    pub stdin: bool,
    /// `-t/--tty`
    pub tty: bool,
}

/// `kubectl run`'s pod.
pub fn run_pod(r: &RunSpec<'_>) -> Result<Value> {
    let labels = r.labels.clone().unwrap_or_else(|| {
        let mut m = Map::new();
        m.insert("run".into(), json!(r.name));
        m
    });
    let mut c = json!({"name": r.name, "image": r.image, "resources": {}});
    if !r.args.is_empty() {
        c[if r.command { "command" } else { "args" }] = json!(r.args);
    }
    if !r.env.is_empty() {
        let mut env = Vec::new();
        for e in r.env {
            let Some((k, v)) = e.split_once('=') else {
                return Err(KubectlError::usage(format!("invalid env: {e}")));
            };
            env.push(json!({"name": k, "value": v}));
        }
        c["env"] = json!(env);
    }
    if let Some(p) = r.port.filter(|p| *p > 0) {
        c["ports"] = json!([{"containerPort": p}]);
    }
    if let Some(pp) = r.pull_policy.filter(|p| !p.is_empty()) {
        c["imagePullPolicy"] = json!(pp);
    }
    if r.stdin {
        c["stdin"] = json!(true);
        c["stdinOnce"] = json!(true);
    }
    if r.tty {
        c["tty"] = json!(true);
    }
    let mut meta = json!({"name": r.name, "labels": labels, "creationTimestamp": null});
    if !r.annotations.is_empty() {
        let mut a = Map::new();
        for e in r.annotations {
            let (k, v) = e.split_once('=').unwrap_or((e, ""));
            a.insert(k.to_string(), json!(v));
        }
        meta["annotations"] = json!(a);
    }
    Ok(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": meta,
        "spec": {"containers": [c], "dnsPolicy": "ClusterFirst", "restartPolicy": r.restart},
        "status": {}
    }))
}

/// `kubectl expose` parameters after introspection of the exposed object.
#[derive(Debug, Default)]
pub struct ExposeSpec {
    /// Service name.
    pub name: String,
    /// Selector labels.
    pub selector: Map<String, Value>,
    /// Service labels.
    pub labels: Map<String, Value>,
    /// Ports, each with the protocol the exposed object gives it (empty = unknown).
    pub ports: Vec<(i64, String)>,
    /// `--protocol`.
    pub protocol: Option<String>,
    /// `--target-port`.
    pub target_port: Option<String>,
    /// `--type`.
    pub service_type: Option<String>,
    /// `--external-ip`.
    pub external_ip: Option<String>,
    /// `--cluster-ip`.
    pub cluster_ip: Option<String>,
    /// `--session-affinity`.
    pub session_affinity: Option<String>,
    /// `--load-balancer-ip`.
    pub load_balancer_ip: Option<String>,
}

/// The Service `kubectl expose` creates.
pub fn expose_service(e: &ExposeSpec) -> Value {
    let multi = e.ports.len() > 1;
    let target = e.target_port.as_deref().map(|t| match t.parse::<i64>() {
        Ok(n) => json!(n),
        Err(_) => json!(t),
    });
    let ports: Vec<Value> = e
        .ports
        .iter()
        .enumerate()
        .map(|(n, (port, proto))| {
            let protocol = match (&e.protocol, proto.is_empty()) {
                (Some(p), _) => p.clone(),
                (None, true) => "TCP".into(),
                (None, false) => proto.clone(),
            };
            let mut p = json!({"port": port, "protocol": protocol,
                               "targetPort": target.clone().unwrap_or(json!(port))});
            if multi {
                p["name"] = json!(format!("port-{}", n + 1));
            }
            p
        })
        .collect();
    let mut spec = json!({"selector": e.selector});
    if !ports.is_empty() {
        spec["ports"] = json!(ports);
    }
    if let Some(ip) = &e.external_ip {
        spec["externalIPs"] = json!([ip]);
    }
    if let Some(t) = &e.service_type {
        spec["type"] = json!(t);
        if t == "LoadBalancer" {
            if let Some(ip) = &e.load_balancer_ip {
                spec["loadBalancerIP"] = json!(ip);
            }
        }
    }
    if let Some(a) = &e.session_affinity {
        spec["sessionAffinity"] = json!(a);
    }
    if let Some(ip) = &e.cluster_ip {
        spec["clusterIP"] = json!(ip);
    }
    let mut meta = json!({"name": e.name, "creationTimestamp": null});
    if !e.labels.is_empty() {
        meta["labels"] = json!(e.labels);
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec,
           "status": {"loadBalancer": {}}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn service_ports_and_names() {
        let svc = service(
            "web",
            "NodePort",
            &s(&["80:8080", "443:https"]),
            None,
            Some(30080),
            None,
        )
        .unwrap();
        assert_eq!(
            svc["spec"]["ports"][0],
            json!({"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 30080})
        );
        assert_eq!(svc["spec"]["ports"][1]["targetPort"], "https");
        assert_eq!(svc["spec"]["selector"]["app"], "web");
        assert!(service("web", "ClusterIP", &[], None, None, None).is_err());
        let headless = service("web", "ClusterIP", &[], Some("None"), None, None).unwrap();
        assert_eq!(headless["spec"]["clusterIP"], "None");
        assert!(headless["spec"].get("ports").is_none());
    }

    #[test]
    fn job_from_cron_job_is_owned_and_marked_manual() {
        let cj = json!({"metadata": {"name": "nightly", "uid": "u1"},
                        "spec": {"jobTemplate": {"metadata": {"labels": {"a": "b"}, "annotations": {"x": "y"}},
                                                  "spec": {"backoffLimit": 2}}}});
        let j = job_from_cron_job("manual-1", &cj);
        assert_eq!(
            j["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"],
            "manual"
        );
        assert_eq!(j["metadata"]["annotations"]["x"], "y");
        assert_eq!(j["metadata"]["ownerReferences"][0]["uid"], "u1");
        assert_eq!(j["metadata"]["labels"]["a"], "b");
        assert_eq!(j["spec"]["backoffLimit"], 2);
    }

    #[test]
    fn rules_group_by_api_group() {
        let rules = policy_rules(
            &s(&["get"]),
            &[
                ("apps".into(), "deployments".into()),
                ("".into(), "pods".into()),
                ("apps".into(), "replicasets".into()),
            ],
            &[],
            &s(&["/healthz"]),
        );
        assert_eq!(
            rules[0],
            json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]})
        );
        assert_eq!(rules[1]["resources"], json!(["deployments", "replicasets"]));
        assert_eq!(
            rules[2],
            json!({"nonResourceURLs": ["/healthz"], "verbs": ["get"]})
        );
        assert_eq!(nonstandard_verbs(&s(&["get", "fly"])), vec!["fly"]);
    }

    #[test]
    fn bindings_list_users_groups_then_service_accounts() {
        let b = role_binding(
            "RoleBinding",
            "b",
            "ClusterRole",
            "view",
            &s(&["bob"]),
            &s(&["devs"]),
            &s(&["ns:robot"]),
        )
        .unwrap();
        assert_eq!(b["subjects"][0]["kind"], "User");
        assert_eq!(b["subjects"][1]["kind"], "Group");
        assert_eq!(
            b["subjects"][2],
            json!({"kind": "ServiceAccount", "namespace": "ns", "name": "robot"})
        );
        assert!(role_binding("RoleBinding", "b", "Role", "r", &[], &[], &s(&["robot"])).is_err());
    }

    #[test]
    fn run_pod_shape() {
        let env = s(&["A=1"]);
        let args = s(&["sleep", "3600"]);
        let p = run_pod(&RunSpec {
            name: "t",
            image: "busybox",
            env: &env,
            port: Some(80),
            args: &args,
            command: true,
            restart: "Never",
            ..Default::default()
        })
        .unwrap();
        assert_eq!(p["metadata"]["labels"]["run"], "t");
        assert_eq!(
            p["spec"]["containers"][0]["command"],
            json!(["sleep", "3600"])
        );
        assert_eq!(
            p["spec"]["containers"][0]["env"][0],
            json!({"name": "A", "value": "1"})
        );
        assert_eq!(p["spec"]["containers"][0]["ports"][0]["containerPort"], 80);
        assert_eq!(p["spec"]["restartPolicy"], "Never");
        assert_eq!(p["spec"]["dnsPolicy"], "ClusterFirst");
    }

    #[test]
    fn expose_names_ports_only_when_several() {
        let mut e = ExposeSpec {
            name: "web".into(),
            ports: vec![(80, "TCP".into())],
            target_port: Some("8080".into()),
            ..Default::default()
        };
        let svc = expose_service(&e);
        assert_eq!(
            svc["spec"]["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 8080})
        );
        e.ports.push((443, "UDP".into()));
        e.target_port = None;
        let svc = expose_service(&e);
        assert_eq!(
            svc["spec"]["ports"][1],
            json!({"name": "port-2", "port": 443, "protocol": "UDP", "targetPort": 443})
        );
    }
}
