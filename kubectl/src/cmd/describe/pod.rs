//! Pods and pod templates: containers (state, resources, probes, environment, mounts),
//! volumes, conditions, QoS class, node selectors and tolerations.

use serde_json::Value;

use super::format::{self as f, arr, i, s};
use crate::printers::tabbed::PrefixWriter;

/// `kubectl describe pod`.
pub fn describe_pod(pod: &Value, events: Option<&[Value]>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(pod, "/metadata/name")));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(pod, "/metadata/namespace")),
    );
    if let Some(p) = pod.pointer("/spec/priority").and_then(Value::as_i64) {
        w.write(0, &format!("Priority:\t{p}\n"));
    }
    let pc = s(pod, "/spec/priorityClassName");
    if !pc.is_empty() {
        w.write(0, &format!("Priority Class Name:\t{pc}\n"));
    }
    let rc = s(pod, "/spec/runtimeClassName");
    if !rc.is_empty() {
        w.write(0, &format!("Runtime Class Name:\t{rc}\n"));
    }
    let sa = s(pod, "/spec/serviceAccountName");
    if !sa.is_empty() {
        w.write(0, &format!("Service Account:\t{sa}\n"));
    }
    let node = s(pod, "/spec/nodeName");
    if node.is_empty() {
        w.write(0, "Node:\t<none>\n");
    } else {
        w.write(0, &format!("Node:\t{node}/{}\n", s(pod, "/status/hostIP")));
    }
    let start = s(pod, "/status/startTime");
    if !start.is_empty() {
        w.write(0, &format!("Start Time:\t{}\n", f::rfc1123z(start)));
    }
    f::labels(&mut w, "Labels", f::map(pod, "/metadata/labels"));
    f::annotations(&mut w, "Annotations", f::map(pod, "/metadata/annotations"));
    let phase = s(pod, "/status/phase");
    let deleting = s(pod, "/metadata/deletionTimestamp");
    if !deleting.is_empty() && phase != "Failed" && phase != "Succeeded" {
        w.write(
            0,
            &format!("Status:\tTerminating (lasts {})\n", f::since(deleting)),
        );
        w.write(
            0,
            &format!(
                "Termination Grace Period:\t{}s\n",
                i(pod, "/metadata/deletionGracePeriodSeconds")
            ),
        );
    } else {
        w.write(0, &format!("Status:\t{phase}\n"));
    }
    for (title, ptr) in [("Reason", "/status/reason"), ("Message", "/status/message")] {
        let v = s(pod, ptr);
        if !v.is_empty() {
            w.write(0, &format!("{title}:\t{v}\n"));
        }
    }
    let seccomp = s(pod, "/spec/securityContext/seccompProfile/type");
    if !seccomp.is_empty() {
        w.write(0, &format!("SeccompProfile:\t{seccomp}\n"));
        if seccomp == "Localhost" {
            w.write(
                0,
                &format!(
                    "LocalhostProfile:\t{}\n",
                    s(pod, "/spec/securityContext/seccompProfile/localhostProfile")
                ),
            );
        }
    }
    w.write(0, &format!("IP:\t{}\n", s(pod, "/status/podIP")));
    let ips = arr(pod, "/status/podIPs");
    if ips.is_empty() {
        w.write(0, "IPs:\t<none>\n");
    } else {
        w.write(0, "IPs:\n");
        for ip in ips {
            w.write(1, &format!("IP:\t{}\n", s(ip, "/ip")));
        }
    }
    if let Some(c) = f::controlled_by(pod) {
        w.write(0, &format!("Controlled By:\t{c}\n"));
    }
    let nominated = s(pod, "/status/nominatedNodeName");
    if !nominated.is_empty() {
        w.write(0, &format!("NominatedNodeName:\t{nominated}\n"));
    }
    let init = arr(pod, "/spec/initContainers");
    if !init.is_empty() {
        containers(
            &mut w,
            "Init Containers",
            init,
            arr(pod, "/status/initContainerStatuses"),
            Some(pod),
            "",
        );
    }
    containers(
        &mut w,
        "Containers",
        arr(pod, "/spec/containers"),
        arr(pod, "/status/containerStatuses"),
        Some(pod),
        "",
    );
    let gates = arr(pod, "/spec/readinessGates");
    if !gates.is_empty() {
        w.write(0, "Readiness Gates:\n  Type\tStatus\n");
        for g in gates {
            let ty = s(g, "/conditionType");
            let status = arr(pod, "/status/conditions")
                .iter()
                .find(|c| s(c, "/type") == ty)
                .map(|c| s(c, "/status").to_string())
                .unwrap_or_else(|| "<none>".into());
            w.write(1, &format!("{ty} \t{status} \n"));
        }
    }
    let conditions = arr(pod, "/status/conditions");
    if !conditions.is_empty() {
        w.write(0, "Conditions:\n  Type\tStatus\n");
        for c in conditions {
            w.write(1, &format!("{} \t{} \n", s(c, "/type"), s(c, "/status")));
        }
    }
    volumes(&mut w, arr(pod, "/spec/volumes"), "");
    w.write(0, &format!("QoS Class:\t{}\n", qos_class(pod)));
    f::labels(&mut w, "Node-Selectors", f::map(pod, "/spec/nodeSelector"));
    f::tolerations(&mut w, "", "Tolerations", arr(pod, "/spec/tolerations"));
    topology_spread(&mut w, arr(pod, "/spec/topologySpreadConstraints"), "");
    f::events(&mut w, events);
    w.finish()
}

/// `DescribePodTemplate`: the `Pod Template:` block of workload describers.
pub fn pod_template(w: &mut PrefixWriter, template: &Value) {
    w.write(0, "Pod Template:\n");
    // Upstream titles it "  Labels" with no indent, which only shows where tabs stay raw.
    f::labels_with_indent(w, "", "  Labels", f::map(template, "/metadata/labels"));
    if f::map(template, "/metadata/annotations").is_some_and(|m| !m.is_empty()) {
        f::annotations(
            w,
            "  Annotations",
            f::map(template, "/metadata/annotations"),
        );
    }
    let sa = s(template, "/spec/serviceAccountName");
    if !sa.is_empty() {
        w.write(1, &format!("Service Account:\t{sa}\n"));
    }
    let init = arr(template, "/spec/initContainers");
    if !init.is_empty() {
        containers(w, "Init Containers", init, &[], None, "  ");
    }
    containers(
        w,
        "Containers",
        arr(template, "/spec/containers"),
        &[],
        None,
        "  ",
    );
    volumes(w, arr(template, "/spec/volumes"), "  ");
    topology_spread(w, arr(template, "/spec/topologySpreadConstraints"), "  ");
    let pc = s(template, "/spec/priorityClassName");
    if !pc.is_empty() {
        w.write(1, &format!("Priority Class Name:\t{pc}\n"));
    }
    f::labels_with_indent(
        w,
        "  ",
        "Node-Selectors",
        f::map(template, "/spec/nodeSelector"),
    );
    f::tolerations(w, "  ", "Tolerations", arr(template, "/spec/tolerations"));
}

fn topology_spread(w: &mut PrefixWriter, tscs: &[Value], space: &str) {
    if tscs.is_empty() {
        return;
    }
    let mut sorted: Vec<&Value> = tscs.iter().collect();
    sorted.sort_by(|a, b| s(a, "/topologyKey").cmp(s(b, "/topologyKey")));
    w.write(0, &format!("{space}Topology Spread Constraints:\t"));
    for (n, t) in sorted.iter().enumerate() {
        if n != 0 {
            w.write(0, &format!("{space}\t"));
        }
        let mut line = format!(
            "{}:{} when max skew {} is exceeded",
            s(t, "/topologyKey"),
            s(t, "/whenUnsatisfiable"),
            i(t, "/maxSkew")
        );
        if let Some(sel) = t.get("labelSelector").filter(|v| !v.is_null()) {
            line.push_str(&format!(" for selector {}", f::format_label_selector(sel)));
        }
        w.write(0, &format!("{line}\n"));
    }
}

fn containers(
    w: &mut PrefixWriter,
    label: &str,
    containers: &[Value],
    statuses: &[Value],
    pod: Option<&Value>,
    space: &str,
) {
    let none = if containers.is_empty() { " <none>" } else { "" };
    w.write(0, &format!("{space}{label}:{none}\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for c in containers {
        let name = s(c, "/name");
        let status = statuses.iter().find(|st| s(st, "/name") == name);
        w.write(1, &format!("{name_indent}{name}:\n"));
        if let Some(st) = status {
            w.write(2, &format!("Container ID:\t{}\n", s(st, "/containerID")));
        }
        w.write(2, &format!("Image:\t{}\n", s(c, "/image")));
        if let Some(st) = status {
            w.write(2, &format!("Image ID:\t{}\n", s(st, "/imageID")));
        }
        let ports = port_list(arr(c, "/ports"), "/containerPort");
        if ports.contains(',') {
            w.write(2, &format!("Ports:\t{ports}\n"));
        } else {
            w.write(2, &format!("Port:\t{}\n", or_none(&ports)));
        }
        let host_ports = port_list(arr(c, "/ports"), "/hostPort");
        if host_ports.contains(',') {
            w.write(2, &format!("Host Ports:\t{host_ports}\n"));
        } else {
            w.write(2, &format!("Host Port:\t{}\n", or_none(&host_ports)));
        }
        let seccomp = s(c, "/securityContext/seccompProfile/type");
        if !seccomp.is_empty() {
            w.write(2, &format!("SeccompProfile:\t{seccomp}\n"));
        }
        for (title, ptr) in [("Command", "/command"), ("Args", "/args")] {
            let items = arr(c, ptr);
            if !items.is_empty() {
                w.write(2, &format!("{title}:\n"));
                for item in items {
                    for line in f::scalar(item).split('\n') {
                        w.write(3, &format!("{line}\n"));
                    }
                }
            }
        }
        if let Some(st) = status {
            container_state(w, "State", &st["state"]);
            if st.pointer("/lastState/terminated").is_some() {
                container_state(w, "Last State", &st["lastState"]);
            }
            let ready = if st["ready"].as_bool() == Some(true) {
                "True"
            } else {
                "False"
            };
            w.write(2, &format!("Ready:\t{ready}\n"));
            w.write(2, &format!("Restart Count:\t{}\n", i(st, "/restartCount")));
        }
        resources(w, &c["resources"], 2);
        for (title, key) in [
            ("Liveness", "livenessProbe"),
            ("Readiness", "readinessProbe"),
            ("Startup", "startupProbe"),
        ] {
            if let Some(p) = c.get(key).filter(|p| p.is_object()) {
                w.write(2, &format!("{title}:\t{}\n", probe(p)));
            }
        }
        env_from(w, arr(c, "/envFrom"));
        env(w, c, pod);
        mounts(w, c);
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "<none>"
    } else {
        s
    }
}

fn port_list(ports: &[Value], field: &str) -> String {
    ports
        .iter()
        .map(|p| {
            let mut t = format!("{}/{}", i(p, field), s(p, "/protocol"));
            let name = s(p, "/name");
            if !name.is_empty() {
                t.push_str(&format!(" ({name})"));
            }
            t
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn container_state(w: &mut PrefixWriter, title: &str, state: &Value) {
    if let Some(r) = state.get("running").filter(|v| v.is_object()) {
        w.write(2, &format!("{title}:\tRunning\n"));
        w.write(
            3,
            &format!("Started:\t{}\n", f::rfc1123z(s(r, "/startedAt"))),
        );
    } else if let Some(t) = state.get("terminated").filter(|v| v.is_object()) {
        w.write(2, &format!("{title}:\tTerminated\n"));
        for (k, ptr) in [("Reason", "/reason"), ("Message", "/message")] {
            let v = s(t, ptr);
            if !v.is_empty() {
                w.write(3, &format!("{k}:\t{v}\n"));
            }
        }
        w.write(3, &format!("Exit Code:\t{}\n", i(t, "/exitCode")));
        if i(t, "/signal") > 0 {
            w.write(3, &format!("Signal:\t{}\n", i(t, "/signal")));
        }
        w.write(
            3,
            &format!("Started:\t{}\n", f::rfc1123z(s(t, "/startedAt"))),
        );
        w.write(
            3,
            &format!("Finished:\t{}\n", f::rfc1123z(s(t, "/finishedAt"))),
        );
    } else {
        w.write(2, &format!("{title}:\tWaiting\n"));
        let reason = s(state, "/waiting/reason");
        if !reason.is_empty() {
            w.write(3, &format!("Reason:\t{reason}\n"));
        }
    }
}

/// `Limits:` and `Requests:` with resource names sorted.
pub fn resources(w: &mut PrefixWriter, res: &Value, level: usize) {
    for (title, key) in [("Limits", "limits"), ("Requests", "requests")] {
        let Some(m) = res
            .get(key)
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty())
        else {
            continue;
        };
        w.write(level, &format!("{title}:\n"));
        let mut names: Vec<&String> = m.keys().collect();
        names.sort();
        for n in names {
            w.write(level + 1, &format!("{n}:\t{}\n", f::scalar(&m[n])));
        }
    }
}

/// `DescribeProbe`: `http-get http://:8080/ delay=0s timeout=1s period=10s #success=1 #failure=3`.
pub fn probe(p: &Value) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        i(p, "/initialDelaySeconds"),
        i(p, "/timeoutSeconds"),
        i(p, "/periodSeconds"),
        i(p, "/successThreshold"),
        i(p, "/failureThreshold")
    );
    if let Some(e) = p.get("exec").filter(|v| v.is_object()) {
        let cmd: Vec<String> = arr(e, "/command").iter().map(f::scalar).collect();
        return format!("exec [{}] {attrs}", cmd.join(" "));
    }
    if let Some(h) = p.get("httpGet").filter(|v| v.is_object()) {
        let port = f::scalar(&h["port"]);
        let host = s(h, "/host");
        let hostport = if port.is_empty() || port == "<nil>" {
            host.to_string()
        } else if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let scheme = s(h, "/scheme").to_lowercase();
        let prefix = if scheme.is_empty() {
            "//".to_string()
        } else {
            format!("{scheme}://")
        };
        return format!("http-get {prefix}{hostport}{} {attrs}", s(h, "/path"));
    }
    if let Some(t) = p.get("tcpSocket").filter(|v| v.is_object()) {
        return format!(
            "tcp-socket {}:{} {attrs}",
            s(t, "/host"),
            f::scalar(&t["port"])
        );
    }
    if let Some(g) = p.get("grpc").filter(|v| v.is_object()) {
        return format!("grpc <pod>:{} {} {attrs}", i(g, "/port"), s(g, "/service"));
    }
    format!("unknown {attrs}")
}

fn env_from(w: &mut PrefixWriter, from: &[Value]) {
    if from.is_empty() {
        return;
    }
    w.write(2, "Environment Variables from:\n");
    for e in from {
        let (kind, r) = if let Some(r) = e.get("configMapRef").filter(|v| v.is_object()) {
            ("ConfigMap", r)
        } else if let Some(r) = e.get("secretRef").filter(|v| v.is_object()) {
            ("Secret", r)
        } else {
            ("", &Value::Null)
        };
        let optional = r["optional"].as_bool().unwrap_or(false);
        let prefix = s(e, "/prefix");
        if prefix.is_empty() {
            w.write(
                3,
                &format!("{}\t{kind}\tOptional: {optional}\n", s(r, "/name")),
            );
        } else {
            w.write(
                3,
                &format!(
                    "{}\t{kind} with prefix '{prefix}'\tOptional: {optional}\n",
                    s(r, "/name")
                ),
            );
        }
    }
}

fn env(w: &mut PrefixWriter, c: &Value, pod: Option<&Value>) {
    let vars = arr(c, "/env");
    if vars.is_empty() {
        w.write(2, "Environment:\t<none>\n");
        return;
    }
    w.write(2, "Environment:\n");
    for e in vars {
        let name = s(e, "/name");
        let Some(from) = e.get("valueFrom").filter(|v| v.is_object()) else {
            for (n, line) in s(e, "/value").split('\n').enumerate() {
                if n == 0 {
                    w.write(3, &format!("{name}:\t{line}\n"));
                } else {
                    w.write(3, &format!("\t{line}\n"));
                }
            }
            continue;
        };
        if let Some(fr) = from.get("fieldRef").filter(|v| v.is_object()) {
            let value = pod
                .map(|p| field_value(p, s(fr, "/fieldPath")))
                .unwrap_or_default();
            w.write(
                3,
                &format!(
                    "{name}:\t{value} ({}:{})\n",
                    s(fr, "/apiVersion"),
                    s(fr, "/fieldPath")
                ),
            );
        } else if let Some(rf) = from.get("resourceFieldRef").filter(|v| v.is_object()) {
            let resource = s(rf, "/resource");
            let mut value = resource_value(c, resource);
            if value == "0" && (resource == "limits.cpu" || resource == "limits.memory") {
                value = "node allocatable".into();
            }
            w.write(3, &format!("{name}:\t{value} ({resource})\n"));
        } else if let Some(r) = from.get("secretKeyRef").filter(|v| v.is_object()) {
            w.write(
                3,
                &format!(
                    "{name}:\t<set to the key '{}' in secret '{}'>\tOptional: {}\n",
                    s(r, "/key"),
                    s(r, "/name"),
                    r["optional"].as_bool().unwrap_or(false)
                ),
            );
        } else if let Some(r) = from.get("configMapKeyRef").filter(|v| v.is_object()) {
            w.write(
                3,
                &format!(
                    "{name}:\t<set to the key '{}' of config map '{}'>\tOptional: {}\n",
                    s(r, "/key"),
                    s(r, "/name"),
                    r["optional"].as_bool().unwrap_or(false)
                ),
            );
        }
    }
}

/// The downward-API value of a pod field path (what the kubelet would inject).
fn field_value(pod: &Value, path: &str) -> String {
    let bracket = |prefix: &str, ptr: &str| -> Option<String> {
        let key = path.strip_prefix(prefix)?.strip_suffix("']")?;
        Some(
            f::map(pod, ptr)
                .and_then(|m| m.get(key))
                .map(f::scalar)
                .unwrap_or_default(),
        )
    };
    if let Some(v) = bracket("metadata.labels['", "/metadata/labels") {
        return v;
    }
    if let Some(v) = bracket("metadata.annotations['", "/metadata/annotations") {
        return v;
    }
    let ptr = match path {
        "metadata.name" => "/metadata/name",
        "metadata.namespace" => "/metadata/namespace",
        "metadata.uid" => "/metadata/uid",
        "spec.nodeName" => "/spec/nodeName",
        "spec.serviceAccountName" => "/spec/serviceAccountName",
        "status.hostIP" => "/status/hostIP",
        "status.podIP" => "/status/podIP",
        _ => return String::new(),
    };
    s(pod, ptr).to_string()
}

/// A container's resource value in the default divisor (cores rounded up, bytes).
fn resource_value(c: &Value, resource: &str) -> String {
    let Some((kind, name)) = resource.split_once('.') else {
        return String::new();
    };
    let m = f::milli(c.pointer(&format!("/resources/{kind}/{name}")));
    match name {
        "cpu" => ((m + 999) / 1000).to_string(),
        _ => ((m + 999) / 1000).to_string(),
    }
}

fn mounts(w: &mut PrefixWriter, c: &Value) {
    let mut mounts: Vec<&Value> = arr(c, "/volumeMounts").iter().collect();
    if mounts.is_empty() {
        w.write(2, "Mounts:\t<none>\n");
    } else {
        w.write(2, "Mounts:\n");
    }
    mounts.sort_by(|a, b| s(a, "/mountPath").cmp(s(b, "/mountPath")));
    for m in mounts {
        let mut flags = vec![if m["readOnly"].as_bool() == Some(true) {
            "ro".to_string()
        } else {
            "rw".to_string()
        }];
        let sub = s(m, "/subPath");
        if !sub.is_empty() {
            flags.push(format!("path={sub:?}"));
        }
        w.write(
            3,
            &format!(
                "{} from {} ({})\n",
                s(m, "/mountPath"),
                s(m, "/name"),
                flags.join(",")
            ),
        );
    }
    let devices = arr(c, "/volumeDevices");
    if !devices.is_empty() {
        w.write(2, "Devices:\n");
        let mut sorted: Vec<&Value> = devices.iter().collect();
        sorted.sort_by(|a, b| s(a, "/devicePath").cmp(s(b, "/devicePath")));
        for d in sorted {
            w.write(
                3,
                &format!("{} from {}\n", s(d, "/devicePath"), s(d, "/name")),
            );
        }
    }
}

fn volumes(w: &mut PrefixWriter, volumes: &[Value], space: &str) {
    if volumes.is_empty() {
        w.write(0, &format!("{space}Volumes:\t<none>\n"));
        return;
    }
    w.write(0, &format!("{space}Volumes:\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for v in volumes {
        w.write(1, &format!("{name_indent}{}:\n", s(v, "/name")));
        volume_source(w, v);
    }
}

fn volume_source(w: &mut PrefixWriter, v: &Value) {
    let optional = |x: &Value| x["optional"].as_bool().unwrap_or(false);
    if let Some(h) = v.get("hostPath").filter(|x| x.is_object()) {
        let ty = s(h, "/type");
        w.write(2, &format!("Type:\tHostPath (bare host directory volume)\n    Path:\t{}\n    HostPathType:\t{}\n",
            s(h, "/path"), if h.get("type").is_some() { ty } else { "<none>" }));
    } else if let Some(e) = v.get("emptyDir").filter(|x| x.is_object()) {
        let limit = s(e, "/sizeLimit");
        let limit = if limit.is_empty() || f::milli(e.get("sizeLimit")) <= 0 {
            "<unset>"
        } else {
            limit
        };
        w.write(2, &format!("Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t{}\n    SizeLimit:\t{limit}\n", s(e, "/medium")));
    } else if let Some(x) = v.get("secret").filter(|x| x.is_object()) {
        w.write(2, &format!("Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t{}\n    Optional:\t{}\n", s(x, "/secretName"), optional(x)));
    } else if let Some(x) = v.get("configMap").filter(|x| x.is_object()) {
        w.write(2, &format!("Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t{}\n    Optional:\t{}\n", s(x, "/name"), optional(x)));
    } else if let Some(x) = v.get("persistentVolumeClaim").filter(|x| x.is_object()) {
        w.write(2, &format!("Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t{}\n    ReadOnly:\t{}\n",
            s(x, "/claimName"), x["readOnly"].as_bool().unwrap_or(false)));
    } else if let Some(x) = v.get("projected").filter(|x| x.is_object()) {
        w.write(
            2,
            "Type:\tProjected (a volume that contains injected data from multiple sources)\n",
        );
        for src in arr(x, "/sources") {
            if let Some(sec) = src.get("secret").filter(|x| x.is_object()) {
                w.write(
                    2,
                    &format!(
                        "SecretName:\t{}\n    Optional:\t{}\n",
                        s(sec, "/name"),
                        optional(sec)
                    ),
                );
            } else if src.get("downwardAPI").is_some_and(Value::is_object) {
                w.write(2, "DownwardAPI:\ttrue\n");
            } else if let Some(cm) = src.get("configMap").filter(|x| x.is_object()) {
                w.write(
                    2,
                    &format!(
                        "ConfigMapName:\t{}\n    Optional:\t{}\n",
                        s(cm, "/name"),
                        optional(cm)
                    ),
                );
            } else if let Some(t) = src.get("serviceAccountToken").filter(|x| x.is_object()) {
                w.write(
                    2,
                    &format!("TokenExpirationSeconds:\t{}\n", i(t, "/expirationSeconds")),
                );
            }
        }
    } else if let Some(x) = v.get("downwardAPI").filter(|x| x.is_object()) {
        w.write(
            2,
            "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n",
        );
        for item in arr(x, "/items") {
            if let Some(fr) = item.get("fieldRef").filter(|x| x.is_object()) {
                w.write(
                    3,
                    &format!("{} -> {}\n", s(fr, "/fieldPath"), s(item, "/path")),
                );
            }
            if let Some(rf) = item.get("resourceFieldRef").filter(|x| x.is_object()) {
                w.write(
                    3,
                    &format!("{} -> {}\n", s(rf, "/resource"), s(item, "/path")),
                );
            }
        }
    } else {
        w.write(1, "<unknown>\n");
    }
}

/// The pod's QoS class: the status field when set, else computed as the kubelet does.
pub fn qos_class(pod: &Value) -> String {
    let status = s(pod, "/status/qosClass");
    if !status.is_empty() {
        return status.to_string();
    }
    let all: Vec<&Value> = arr(pod, "/spec/containers")
        .iter()
        .chain(arr(pod, "/spec/initContainers"))
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in &all {
        for name in ["cpu", "memory"] {
            let req = c.pointer(&format!("/resources/requests/{name}"));
            let lim = c.pointer(&format!("/resources/limits/{name}"));
            if req.is_some() || lim.is_some() {
                any = true;
            }
            match (req, lim) {
                (_, None) => guaranteed = false,
                (Some(r), Some(l)) if f::milli(Some(r)) != f::milli(Some(l)) => guaranteed = false,
                _ => {}
            }
        }
    }
    if !any {
        "BestEffort".into()
    } else if guaranteed {
        "Guaranteed".into()
    } else {
        "Burstable".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "metadata": {"name": "web-1", "namespace": "ns", "labels": {"app": "web"},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "web-abc", "controller": true}]},
            "spec": {"nodeName": "n1", "serviceAccountName": "default",
                     "containers": [{"name": "web", "image": "busybox",
                                     "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                                     "env": [{"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
                                     "readinessProbe": {"httpGet": {"path": "/", "port": 8080, "scheme": "HTTP"},
                                                        "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
                                     "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                     "volumes": [{"name": "data", "emptyDir": {}}],
                     "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]},
            "status": {"phase": "Pending", "hostIP": "10.0.0.1",
                       "conditions": [{"type": "PodScheduled", "status": "True"}]}
        })
    }

    #[test]
    fn pod_layout_matches_upstream() {
        let out = describe_pod(&pod(), Some(&[]));
        let expected = "\
Name:             web-1
Namespace:        ns
Service Account:  default
Node:             n1/10.0.0.1
Labels:           app=web
Annotations:      <none>
Status:           Pending
IP:               
IPs:              <none>
Controlled By:    ReplicaSet/web-abc
Containers:
  web:
    Image:      busybox
    Port:       8080/TCP
    Host Port:  0/TCP
    Readiness:  http-get http://:8080/ delay=0s timeout=1s period=10s #success=1 #failure=3
    Environment:
      POD:  web-1 (v1:metadata.name)
    Mounts:
      /data from data (rw)
Conditions:
  Type           Status
  PodScheduled   True 
Volumes:
  data:
    Type:        EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:      
    SizeLimit:   <unset>
QoS Class:       BestEffort
Node-Selectors:  <none>
Tolerations:     k:NoExecute op=Exists for 300s
Events:          <none>
";
        assert_eq!(out, expected);
    }

    #[test]
    fn qos_classes() {
        let mut p = pod();
        assert_eq!(qos_class(&p), "BestEffort");
        p["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m", "memory": "1Gi"}});
        assert_eq!(qos_class(&p), "Guaranteed");
        p["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "100m"}});
        assert_eq!(qos_class(&p), "Burstable");
    }

    #[test]
    fn probes_print_like_upstream() {
        let p = json!({"exec": {"command": ["cat", "/tmp/ok"]}, "initialDelaySeconds": 5, "timeoutSeconds": 1,
                       "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3});
        assert_eq!(
            probe(&p),
            "exec [cat /tmp/ok] delay=5s timeout=1s period=10s #success=1 #failure=3"
        );
        let t = json!({"tcpSocket": {"port": "http"}});
        assert_eq!(
            probe(&t),
            "tcp-socket :http delay=0s timeout=0s period=0s #success=0 #failure=0"
        );
    }
}
