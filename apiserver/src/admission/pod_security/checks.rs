//! The Pod Security Standards checks, as upstream's pod-security-admission policy package
//! defines them for the latest version: the baseline checks, and the restricted ones that
//! add to them (and replace the baseline capabilities and seccomp checks). Each check gives
//! a reason and a detail; the caller joins them as `reason (detail), …` in check-ID order.

use serde_json::Value;

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Unrestricted.
    Privileged,
    /// Prevents known privilege escalations.
    Baseline,
    /// Hardened, current best practice.
    Restricted,
}

impl Level {
    /// Parse a label value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "privileged" => Some(Self::Privileged),
            "baseline" => Some(Self::Baseline),
            "restricted" => Some(Self::Restricted),
            _ => None,
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Privileged => "privileged",
            Self::Baseline => "baseline",
            Self::Restricted => "restricted",
        }
    }
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Short reason (`host namespaces`).
    pub reason: String,
    /// Which fields of which containers (`hostNetwork=true`).
    pub detail: String,
}

/// A container of any kind, with its name and security context.
struct Container<'a> {
    name: &'a str,
    c: &'a Value,
}

impl<'a> Container<'a> {
    fn sc(&self, path: &str) -> Option<&'a Value> {
        self.c.pointer(&format!("/securityContext{path}"))
    }
}

fn containers(spec: &Value) -> Vec<Container<'_>> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Value::as_array))
        .flatten()
        .map(|c| Container {
            name: c.get("name").and_then(Value::as_str).unwrap_or_default(),
            c,
        })
        .collect()
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn pluralize(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        one.to_string()
    } else {
        many.to_string()
    }
}

/// `container "a"` / `containers "a", "b"`.
fn containers_phrase(names: &[String]) -> String {
    format!(
        "{} {}",
        pluralize(names.len(), "container", "containers"),
        quote_list(names)
    )
}

fn names_where<'a>(cs: &[Container<'a>], f: impl Fn(&Container<'a>) -> bool) -> Vec<String> {
    cs.iter()
        .filter(|c| f(c))
        .map(|c| c.name.to_string())
        .collect()
}

fn violation(reason: &str, detail: String) -> Option<Violation> {
    Some(Violation {
        reason: reason.to_string(),
        detail,
    })
}

fn pod_sc<'a>(spec: &'a Value, path: &str) -> Option<&'a Value> {
    spec.pointer(&format!("/securityContext{path}"))
}

// ---- baseline ----

fn allow_privilege_escalation(spec: &Value) -> Option<Violation> {
    let cs = containers(spec);
    let bad = names_where(&cs, |c| {
        c.sc("/allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false)
    });
    if bad.is_empty() {
        return None;
    }
    violation(
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&bad)
        ),
    )
}

fn app_armor(meta: &Value, spec: &Value) -> Option<Violation> {
    let mut bad: Vec<String> = Vec::new();
    let ok = |t: Option<&str>| matches!(t, None | Some("RuntimeDefault") | Some("Localhost"));
    if !ok(pod_sc(spec, "/appArmorProfile/type").and_then(Value::as_str)) {
        bad.push(format!(
            "pod must not set securityContext.appArmorProfile.type to {:?}",
            pod_sc(spec, "/appArmorProfile/type")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ));
    }
    for c in containers(spec) {
        if let Some(t) = c.sc("/appArmorProfile/type").and_then(Value::as_str) {
            if !ok(Some(t)) {
                bad.push(format!(
                    "container {:?} must not set securityContext.appArmorProfile.type to {t:?}",
                    c.name
                ));
            }
        }
    }
    if let Some(anns) = meta.pointer("/annotations").and_then(Value::as_object) {
        let mut keys: Vec<_> = anns.keys().collect();
        keys.sort();
        for k in keys {
            if k.starts_with("container.apparmor.security.beta.kubernetes.io/") {
                let v = anns[k].as_str().unwrap_or_default();
                if !(v.is_empty() || v == "runtime/default" || v.starts_with("localhost/")) {
                    bad.push(format!("{k}={v:?}"));
                }
            }
        }
    }
    if bad.is_empty() {
        return None;
    }
    violation("forbidden AppArmor profile", bad.join(", "))
}

const DEFAULT_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn added_capabilities<'a>(c: &Container<'a>) -> Vec<&'a str> {
    c.sc("/capabilities/add")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn capabilities_baseline(spec: &Value) -> Option<Violation> {
    let mut details = Vec::new();
    for c in containers(spec) {
        let bad: Vec<String> = added_capabilities(&c)
            .into_iter()
            .filter(|cap| !DEFAULT_CAPABILITIES.contains(cap))
            .map(String::from)
            .collect();
        if !bad.is_empty() {
            details.push(format!(
                "container {:?} must not include {} in securityContext.capabilities.add",
                c.name,
                quote_list(&bad)
            ));
        }
    }
    if details.is_empty() {
        return None;
    }
    violation("non-default capabilities", details.join("; "))
}

fn capabilities_restricted(spec: &Value) -> Option<Violation> {
    let cs = containers(spec);
    let no_drop_all = names_where(&cs, |c| {
        !c.sc("/capabilities/drop")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|x| x == "ALL"))
    });
    let mut details = Vec::new();
    if !no_drop_all.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&no_drop_all)
        ));
    }
    for c in &cs {
        let bad: Vec<String> = added_capabilities(c)
            .into_iter()
            .filter(|cap| *cap != "NET_BIND_SERVICE")
            .map(String::from)
            .collect();
        if !bad.is_empty() {
            details.push(format!(
                "container {:?} must not include {} in securityContext.capabilities.add",
                c.name,
                quote_list(&bad)
            ));
        }
    }
    if details.is_empty() {
        return None;
    }
    violation("unrestricted capabilities", details.join("; "))
}

fn host_namespaces(spec: &Value) -> Option<Violation> {
    let set: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .filter(|k| spec.get(**k).and_then(Value::as_bool) == Some(true))
        .map(|k| format!("{k}=true"))
        .collect();
    if set.is_empty() {
        return None;
    }
    violation("host namespaces", set.join(", "))
}

fn host_path_volumes(spec: &Value) -> Option<Violation> {
    let names: Vec<String> = volumes(spec)
        .filter(|v| v.get("hostPath").is_some())
        .map(|v| {
            v.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    if names.is_empty() {
        return None;
    }
    violation(
        "hostPath volumes",
        format!(
            "{} {}",
            pluralize(names.len(), "volume", "volumes"),
            quote_list(&names)
        ),
    )
}

fn host_ports(spec: &Value) -> Option<Violation> {
    let mut names = Vec::new();
    let mut ports: Vec<String> = Vec::new();
    for c in containers(spec) {
        let mut uses = false;
        for p in
            c.c.get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        {
            if let Some(hp) = p
                .get("hostPort")
                .and_then(Value::as_i64)
                .filter(|p| *p != 0)
            {
                uses = true;
                if !ports.contains(&hp.to_string()) {
                    ports.push(hp.to_string());
                }
            }
        }
        if uses {
            names.push(c.name.to_string());
        }
    }
    if names.is_empty() {
        return None;
    }
    violation(
        "hostPort",
        format!(
            "{} {} {} {}",
            pluralize(names.len(), "container", "containers"),
            quote_list(&names),
            pluralize(names.len(), "uses", "use"),
            format_args!(
                "{} {}",
                pluralize(ports.len(), "hostPort", "hostPorts"),
                ports.join(", ")
            )
        ),
    )
}

fn host_process(spec: &Value) -> Option<Violation> {
    let pod = pod_sc(spec, "/windowsOptions/hostProcess").and_then(Value::as_bool) == Some(true);
    let cs = containers(spec);
    let bad = names_where(&cs, |c| {
        c.sc("/windowsOptions/hostProcess").and_then(Value::as_bool) == Some(true)
    });
    if !pod && bad.is_empty() {
        return None;
    }
    let mut d = Vec::new();
    if pod {
        d.push("pod must not set securityContext.windowsOptions.hostProcess=true".to_string());
    }
    if !bad.is_empty() {
        d.push(format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            containers_phrase(&bad)
        ));
    }
    violation("hostProcess", d.join(" and "))
}

fn privileged(spec: &Value) -> Option<Violation> {
    let cs = containers(spec);
    let bad = names_where(&cs, |c| {
        c.sc("/privileged").and_then(Value::as_bool) == Some(true)
    });
    if bad.is_empty() {
        return None;
    }
    violation(
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&bad)
        ),
    )
}

fn proc_mount(spec: &Value) -> Option<Violation> {
    let cs = containers(spec);
    let bad = names_where(&cs, |c| {
        c.sc("/procMount")
            .and_then(Value::as_str)
            .is_some_and(|m| m != "Default")
    });
    if bad.is_empty() {
        return None;
    }
    violation(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to \"Unmasked\"",
            containers_phrase(&bad)
        ),
    )
}

const ALLOWED_VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
    "image",
];

fn volumes(spec: &Value) -> impl Iterator<Item = &Value> {
    spec.get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn restricted_volumes(spec: &Value) -> Option<Violation> {
    let mut names = Vec::new();
    let mut types: Vec<String> = Vec::new();
    for v in volumes(spec) {
        let Some(obj) = v.as_object() else { continue };
        let bad: Vec<&String> = obj
            .keys()
            .filter(|k| *k != "name" && !ALLOWED_VOLUME_TYPES.contains(&k.as_str()))
            .collect();
        if bad.is_empty() {
            continue;
        }
        names.push(
            v.get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        );
        for t in bad {
            if !types.contains(t) {
                types.push(t.clone());
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    violation(
        "restricted volume types",
        format!(
            "{} {} {} restricted volume {} {}",
            pluralize(names.len(), "volume", "volumes"),
            quote_list(&names),
            pluralize(names.len(), "uses", "use"),
            pluralize(types.len(), "type", "types"),
            quote_list(&types)
        ),
    )
}

fn run_as_non_root(spec: &Value) -> Option<Violation> {
    let pod = pod_sc(spec, "/runAsNonRoot").and_then(Value::as_bool);
    let cs = containers(spec);
    let explicit_false = names_where(&cs, |c| {
        c.sc("/runAsNonRoot").and_then(Value::as_bool) == Some(false)
    });
    let unset = names_where(&cs, |c| {
        c.sc("/runAsNonRoot").and_then(Value::as_bool).is_none()
    });
    let mut d = Vec::new();
    if pod == Some(false) {
        d.push("pod must not set securityContext.runAsNonRoot=false".to_string());
    }
    if !explicit_false.is_empty() {
        d.push(format!(
            "{} must not set securityContext.runAsNonRoot=false",
            containers_phrase(&explicit_false)
        ));
    }
    if pod != Some(true) && !unset.is_empty() {
        d.push(format!(
            "pod or {} must set securityContext.runAsNonRoot=true",
            containers_phrase(&unset)
        ));
    }
    if d.is_empty() {
        return None;
    }
    violation("runAsNonRoot != true", d.join("; "))
}

fn run_as_user(spec: &Value) -> Option<Violation> {
    let pod = pod_sc(spec, "/runAsUser").and_then(Value::as_i64) == Some(0);
    let cs = containers(spec);
    let bad = names_where(&cs, |c| {
        c.sc("/runAsUser").and_then(Value::as_i64) == Some(0)
    });
    let mut d = Vec::new();
    if pod {
        d.push("pod must not set runAsUser=0".to_string());
    }
    if !bad.is_empty() {
        d.push(format!(
            "{} must not set runAsUser=0",
            containers_phrase(&bad)
        ));
    }
    if d.is_empty() {
        return None;
    }
    violation("runAsUser=0", d.join("; "))
}

const SELINUX_TYPES: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn se_linux_options(spec: &Value) -> Option<Violation> {
    let bad_opts = |o: Option<&Value>| -> Vec<String> {
        let Some(o) = o else { return vec![] };
        let mut out = Vec::new();
        if let Some(t) = o.get("type").and_then(Value::as_str) {
            if !SELINUX_TYPES.contains(&t) {
                out.push(format!("type {t:?}"));
            }
        }
        for k in ["user", "role"] {
            if o.get(k)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty())
            {
                out.push(k.to_string());
            }
        }
        out
    };
    let mut d = Vec::new();
    let pod = bad_opts(pod_sc(spec, "/seLinuxOptions"));
    if !pod.is_empty() {
        d.push(format!(
            "pod set forbidden securityContext.seLinuxOptions: {}",
            pod.join(", ")
        ));
    }
    for c in containers(spec) {
        let bad = bad_opts(c.sc("/seLinuxOptions"));
        if !bad.is_empty() {
            d.push(format!(
                "container {:?} set forbidden securityContext.seLinuxOptions: {}",
                c.name,
                bad.join(", ")
            ));
        }
    }
    if d.is_empty() {
        return None;
    }
    violation("seLinuxOptions", d.join("; "))
}

fn seccomp_type(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

fn seccomp_baseline(spec: &Value) -> Option<Violation> {
    let mut d = Vec::new();
    if seccomp_type(pod_sc(spec, "/seccompProfile/type")) == Some("Unconfined") {
        d.push(
            "pod must not set securityContext.seccompProfile.type to \"Unconfined\"".to_string(),
        );
    }
    let cs = containers(spec);
    let bad = names_where(&cs, |c| {
        seccomp_type(c.sc("/seccompProfile/type")) == Some("Unconfined")
    });
    if !bad.is_empty() {
        d.push(format!(
            "{} must not set securityContext.seccompProfile.type to \"Unconfined\"",
            containers_phrase(&bad)
        ));
    }
    if d.is_empty() {
        return None;
    }
    violation("seccompProfile", d.join("; "))
}

fn seccomp_restricted(spec: &Value) -> Option<Violation> {
    let ok = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let mut d = Vec::new();
    let pod = seccomp_type(pod_sc(spec, "/seccompProfile/type"));
    if let Some(t) = pod.filter(|t| !ok(t)) {
        d.push(format!(
            "pod must not set securityContext.seccompProfile.type to {t:?}"
        ));
    }
    let cs = containers(spec);
    let mut bad_types = Vec::new();
    for c in &cs {
        if let Some(t) = seccomp_type(c.sc("/seccompProfile/type")).filter(|t| !ok(t)) {
            bad_types.push(format!(
                "container {:?} must not set securityContext.seccompProfile.type to {t:?}",
                c.name
            ));
        }
    }
    d.extend(bad_types);
    let pod_valid = pod.is_some_and(ok);
    if !pod_valid {
        let unset = names_where(&cs, |c| {
            seccomp_type(c.sc("/seccompProfile/type")).is_none()
        });
        if !unset.is_empty() {
            d.push(format!(
                "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                containers_phrase(&unset)
            ));
        }
    }
    if d.is_empty() {
        return None;
    }
    violation("seccompProfile", d.join("; "))
}

const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

fn sysctls(spec: &Value) -> Option<Violation> {
    let bad: Vec<String> = pod_sc(spec, "/sysctls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("name").and_then(Value::as_str))
        .filter(|n| !SAFE_SYSCTLS.contains(n))
        .map(String::from)
        .collect();
    if bad.is_empty() {
        return None;
    }
    violation("forbidden sysctls", bad.join(", "))
}

/// Every check a pod fails at `level`, in upstream's check-ID order.
pub fn evaluate(level: Level, meta: &Value, spec: &Value) -> Vec<Violation> {
    if level == Level::Privileged {
        return Vec::new();
    }
    let restricted = level == Level::Restricted;
    let checks: [(bool, Option<Violation>); 17] = [
        (restricted, allow_privilege_escalation(spec)),
        (true, app_armor(meta, spec)),
        (!restricted, capabilities_baseline(spec)),
        (restricted, capabilities_restricted(spec)),
        (true, host_namespaces(spec)),
        // Restricted's volume-type check covers hostPath volumes (upstream overrides it).
        (!restricted, host_path_volumes(spec)),
        (true, host_ports(spec)),
        (true, host_process(spec)),
        (true, privileged(spec)),
        (true, proc_mount(spec)),
        (restricted, restricted_volumes(spec)),
        (restricted, run_as_non_root(spec)),
        (restricted, run_as_user(spec)),
        (true, se_linux_options(spec)),
        (!restricted, seccomp_baseline(spec)),
        (restricted, seccomp_restricted(spec)),
        (true, sysctls(spec)),
    ];
    checks
        .into_iter()
        .filter(|(on, _)| *on)
        .filter_map(|(_, v)| v)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reasons(level: Level, spec: &Value) -> Vec<String> {
        evaluate(level, &json!({}), spec)
            .into_iter()
            .map(|v| format!("{} ({})", v.reason, v.detail))
            .collect()
    }

    #[test]
    fn a_plain_pod_is_baseline_but_not_restricted() {
        let spec = json!({"containers": [{"name": "c", "image": "busybox"}]});
        assert!(reasons(Level::Baseline, &spec).is_empty());
        assert_eq!(
            reasons(Level::Restricted, &spec),
            vec![
                "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false)",
                "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"])",
                "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true)",
                "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
            ]
        );
    }

    #[test]
    fn a_hardened_pod_is_restricted() {
        let spec = json!({
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "securityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}],
            "volumes": [{"name": "v", "configMap": {"name": "x"}}]
        });
        assert!(reasons(Level::Restricted, &spec).is_empty());
    }

    #[test]
    fn baseline_violations_in_check_order() {
        let spec = json!({
            "hostNetwork": true,
            "hostPID": true,
            "securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]},
            "containers": [
                {"name": "a", "ports": [{"containerPort": 80, "hostPort": 80}],
                 "securityContext": {"privileged": true, "capabilities": {"add": ["NET_ADMIN", "CHOWN"]}}},
                {"name": "b", "securityContext": {"privileged": true}}
            ],
            "volumes": [{"name": "h", "hostPath": {"path": "/"}}]
        });
        assert_eq!(
            reasons(Level::Baseline, &spec),
            vec![
                "non-default capabilities (container \"a\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)",
                "host namespaces (hostNetwork=true, hostPID=true)",
                "hostPath volumes (volume \"h\")",
                "hostPort (container \"a\" uses hostPort 80)",
                "privileged (containers \"a\", \"b\" must not set securityContext.privileged=true)",
                "forbidden sysctls (kernel.msgmax)",
            ]
        );
        let restricted = reasons(Level::Restricted, &spec);
        assert!(restricted.iter().any(|r| r.starts_with(
            "restricted volume types (volume \"h\" uses restricted volume type \"hostPath\")"
        )));
        assert!(!restricted
            .iter()
            .any(|r| r.starts_with("non-default capabilities")));
        assert!(reasons(Level::Privileged, &spec).is_empty());
    }
}
