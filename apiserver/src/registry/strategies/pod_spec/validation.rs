//! Validation of pod specs: the checks users hit most (upstream `ValidatePodSpec`).

use std::collections::HashSet;

use serde_json::Value;

use super::super::json::{
    child, dns_label, get, get_i64, get_str, index, is_unset, items, key, non_negative, one_of,
    port_number,
};
use super::super::quantity;
use super::ephemeral::validate_ephemeral_containers;
use crate::errors::FieldError;

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const PROBE_HANDLERS: &[&str] = &["exec", "httpGet", "tcpSocket", "grpc"];

/// Validate `template` (a PodTemplateSpec at `path`, e.g. `spec.template`) and return errors;
/// `restart_policies` narrows `spec.restartPolicy` as the owning controller requires.
pub(crate) fn validate_template(
    template: Option<&Value>,
    path: &str,
    restart_policies: &[&str],
) -> Vec<FieldError> {
    let Some(t) = template.filter(|t| !t.is_null()) else {
        return vec![FieldError::required(path, "")];
    };
    let spec_path = child(path, "spec");
    let spec = t.get("spec").cloned().unwrap_or(Value::Null);
    let mut errs = validate_pod_spec(&spec, &spec_path);
    if !is_unset(get(&spec, &["ephemeralContainers"])) {
        errs.push(FieldError::forbidden(
            child(&spec_path, "ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    let policy = get_str(&spec, &["restartPolicy"]).unwrap_or_default();
    if RESTART_POLICIES.contains(&policy) && !restart_policies.contains(&policy) {
        errs.push(FieldError::not_supported(
            child(&spec_path, "restartPolicy"),
            policy,
            restart_policies,
        ));
    }
    errs
}

/// Validate a pod spec found at `path` (`spec` for a Pod).
pub(crate) fn validate_pod_spec(spec: &Value, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let volumes = validate_volumes(spec, path, &mut errs);
    let containers = items(spec, &["containers"]);
    if containers.is_empty() {
        errs.push(FieldError::required(child(path, "containers"), ""));
    }
    let mut names = HashSet::new();
    let sidecars_allowed = |c: &Value| get_str(c, &["restartPolicy"]) == Some("Always");
    for (list, is_init) in [("initContainers", true), ("containers", false)] {
        for (i, c) in items(spec, &[list]).iter().enumerate() {
            let cpath = index(&child(path, list), i);
            validate_container(c, &cpath, &volumes, &mut names, &mut errs);
            if is_init && !sidecars_allowed(c) {
                for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                    if get(c, &[probe]).is_some_and(|p| !p.is_null()) {
                        errs.push(FieldError::forbidden(
                            child(&cpath, probe),
                            "may not be set for init containers without restartPolicy=Always",
                        ));
                    }
                }
            }
        }
    }
    // After the other lists, so that a clash of names is reported on the ephemeral container.
    validate_ephemeral_containers(spec, path, &volumes, &mut names, &mut errs);
    errs.extend(one_of(
        spec,
        &["restartPolicy"],
        &child(path, "restartPolicy"),
        RESTART_POLICIES,
        false,
    ));
    errs.extend(one_of(
        spec,
        &["dnsPolicy"],
        &child(path, "dnsPolicy"),
        DNS_POLICIES,
        false,
    ));
    if let Some(d) = get_i64(spec, &["activeDeadlineSeconds"]) {
        if !(1..=i64::from(i32::MAX)).contains(&d) {
            errs.push(FieldError::invalid(
                child(path, "activeDeadlineSeconds"),
                d,
                "must be between 1 and 2147483647, inclusive",
            ));
        }
    }
    validate_tolerations(spec, path, &mut errs);
    errs
}

/// Volume names (required, DNS label, unique) and the sources users get wrong most; returns
/// the set of declared names for the volumeMounts check.
fn validate_volumes(spec: &Value, path: &str, errs: &mut Vec<FieldError>) -> HashSet<String> {
    let mut names = HashSet::new();
    for (i, v) in items(spec, &["volumes"]).iter().enumerate() {
        let vpath = index(&child(path, "volumes"), i);
        let name = get_str(v, &["name"]).unwrap_or_default();
        if name.is_empty() {
            errs.push(FieldError::required(child(&vpath, "name"), ""));
        } else {
            errs.extend(dns_label(name, &child(&vpath, "name")));
            if !names.insert(name.to_string()) {
                errs.push(FieldError::duplicate(child(&vpath, "name"), name));
            }
        }
        let required = [
            ("secret", "secretName"),
            ("configMap", "name"),
            ("hostPath", "path"),
            ("persistentVolumeClaim", "claimName"),
        ];
        for (source, field) in required {
            if let Some(s) = v.get(source).filter(|s| s.is_object()) {
                if get_str(s, &[field]).unwrap_or_default().is_empty() {
                    errs.push(FieldError::required(
                        child(&child(&vpath, source), field),
                        "",
                    ));
                }
            }
        }
    }
    names
}

/// The checks every kind of container gets (upstream `validateContainerCommon`): name (a DNS
/// label, unique among the names already in `names`), image, policies, env, volumeMounts
/// naming declared `volumes`, resources and probes.
pub(super) fn validate_container(
    c: &Value,
    path: &str,
    volumes: &HashSet<String>,
    names: &mut HashSet<String>,
    errs: &mut Vec<FieldError>,
) {
    let name = get_str(c, &["name"]).unwrap_or_default();
    if name.is_empty() {
        errs.push(FieldError::required(child(path, "name"), ""));
    } else {
        errs.extend(dns_label(name, &child(path, "name")));
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(child(path, "name"), name));
        }
    }
    if get_str(c, &["image"]).is_none_or(|i| i.trim().is_empty()) {
        errs.push(FieldError::required(child(path, "image"), ""));
    }
    errs.extend(one_of(
        c,
        &["imagePullPolicy"],
        &child(path, "imagePullPolicy"),
        PULL_POLICIES,
        false,
    ));
    errs.extend(one_of(
        c,
        &["terminationMessagePolicy"],
        &child(path, "terminationMessagePolicy"),
        &["File", "FallbackToLogsOnError"],
        false,
    ));
    validate_ports(c, path, errs);
    for (i, e) in items(c, &["env"]).iter().enumerate() {
        if get_str(e, &["name"]).unwrap_or_default().is_empty() {
            errs.push(FieldError::required(
                child(&index(&child(path, "env"), i), "name"),
                "",
            ));
        }
    }
    for (i, m) in items(c, &["volumeMounts"]).iter().enumerate() {
        let mpath = index(&child(path, "volumeMounts"), i);
        let vname = get_str(m, &["name"]).unwrap_or_default();
        if vname.is_empty() {
            errs.push(FieldError::required(child(&mpath, "name"), ""));
        } else if !volumes.contains(vname) {
            errs.push(FieldError {
                kind: crate::errors::FieldErrorKind::NotFound,
                field: child(&mpath, "name"),
                value: Some(vname.into()),
                detail: String::new(),
            });
        }
        if get_str(m, &["mountPath"]).unwrap_or_default().is_empty() {
            errs.push(FieldError::required(child(&mpath, "mountPath"), ""));
        }
    }
    validate_resources(c, path, errs);
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get(probe).filter(|p| p.is_object()) {
            validate_probe(p, &child(path, probe), probe != "readinessProbe", errs);
        }
    }
}

fn validate_ports(c: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let mut port_names = HashSet::new();
    for (i, p) in items(c, &["ports"]).iter().enumerate() {
        let ppath = index(&child(path, "ports"), i);
        match get_i64(p, &["containerPort"]) {
            Some(n) => errs.extend(port_number(n, &child(&ppath, "containerPort"))),
            None => errs.push(FieldError::required(child(&ppath, "containerPort"), "")),
        }
        if let Some(h) = get_i64(p, &["hostPort"]).filter(|h| *h != 0) {
            errs.extend(port_number(h, &child(&ppath, "hostPort")));
        }
        errs.extend(one_of(
            p,
            &["protocol"],
            &child(&ppath, "protocol"),
            PROTOCOLS,
            false,
        ));
        if let Some(n) = get_str(p, &["name"]).filter(|n| !n.is_empty()) {
            if !port_names.insert(n.to_string()) {
                errs.push(FieldError::duplicate(child(&ppath, "name"), n));
            }
        }
    }
}

/// Each request must be no more than its limit.
fn validate_resources(c: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let rpath = child(path, "resources");
    let Some(requests) = get(c, &["resources", "requests"]).and_then(Value::as_object) else {
        return;
    };
    for (res, req) in requests {
        let Some(req_s) = req.as_str() else { continue };
        let Some(lim_s) = get_str(c, &["resources", "limits", res]) else {
            continue;
        };
        if let (Some(r), Some(l)) = (quantity::parse(req_s), quantity::parse(lim_s)) {
            if r > l {
                errs.push(FieldError::invalid(
                    key(&child(&rpath, "requests"), res),
                    req_s,
                    format!("must be less than or equal to {res} limit of {lim_s}"),
                ));
            }
        }
    }
}

fn validate_probe(p: &Value, path: &str, success_must_be_one: bool, errs: &mut Vec<FieldError>) {
    let set: Vec<&str> = PROBE_HANDLERS
        .iter()
        .copied()
        .filter(|h| p.get(*h).is_some_and(|v| !v.is_null()))
        .collect();
    match set.as_slice() {
        [] => errs.push(FieldError::required(path, "must specify a handler type")),
        [_] => {}
        [_, second, ..] => errs.push(FieldError::forbidden(
            child(path, second),
            "may not specify more than 1 handler type",
        )),
    }
    for field in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        errs.extend(non_negative(p, &[field], &child(path, field)));
    }
    if success_must_be_one {
        if let Some(n) = get_i64(p, &["successThreshold"]).filter(|n| *n != 1) {
            errs.push(FieldError::invalid(
                child(path, "successThreshold"),
                n,
                "must be 1",
            ));
        }
    }
    if let Some(h) = p.get("httpGet").filter(|h| h.is_object()) {
        match h.get("port") {
            Some(Value::Number(n)) => errs.extend(
                n.as_i64()
                    .and_then(|n| port_number(n, &child(&child(path, "httpGet"), "port"))),
            ),
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => errs.push(FieldError::required(
                child(&child(path, "httpGet"), "port"),
                "",
            )),
        }
    }
}

fn validate_tolerations(spec: &Value, path: &str, errs: &mut Vec<FieldError>) {
    for (i, t) in items(spec, &["tolerations"]).iter().enumerate() {
        let tpath = index(&child(path, "tolerations"), i);
        let op = get_str(t, &["operator"]).unwrap_or("Equal");
        let key_empty = get_str(t, &["key"]).unwrap_or_default().is_empty();
        match op {
            "Equal" if key_empty => errs.push(FieldError::invalid(
                child(&tpath, "operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            )),
            "Exists" if !get_str(t, &["value"]).unwrap_or_default().is_empty() => errs.push(FieldError::invalid(
                child(&tpath, "operator"),
                op,
                "value must be empty when `operator` is 'Exists'",
            )),
            "Equal" | "Exists" => {}
            other => errs.push(FieldError::not_supported(child(&tpath, "operator"), other, &["Equal", "Exists"])),
        }
        errs.extend(one_of(
            t,
            &["effect"],
            &child(&tpath, "effect"),
            &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            false,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(FieldError::message).collect()
    }

    #[test]
    fn pod_without_containers_is_rejected() {
        let errs = validate_pod_spec(&json!({"restartPolicy": "Always"}), "spec");
        assert_eq!(fields(&errs), vec!["spec.containers: Required value"]);
    }

    #[test]
    fn duplicate_and_bad_container_names() {
        let spec = json!({"containers": [
            {"name": "web", "image": "nginx"}, {"name": "web", "image": "nginx"}, {"name": "Bad_Name"}]});
        let msgs = fields(&validate_pod_spec(&spec, "spec"));
        assert!(msgs.contains(&"spec.containers[1].name: Duplicate value: \"web\"".to_string()));
        assert!(msgs
            .iter()
            .any(|m| m.starts_with("spec.containers[2].name: Invalid value: \"Bad_Name\"")));
        assert!(msgs.contains(&"spec.containers[2].image: Required value".to_string()));
    }

    #[test]
    fn mounts_ports_resources_and_probes() {
        let spec = json!({"containers": [{"name": "a", "image": "x",
            "ports": [{"containerPort": 70000}],
            "volumeMounts": [{"name": "data", "mountPath": "/d"}],
            "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}},
            "livenessProbe": {"periodSeconds": 10}}]});
        let msgs = fields(&validate_pod_spec(&spec, "spec"));
        assert!(msgs.contains(&"spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive".to_string()));
        assert!(msgs
            .contains(&"spec.containers[0].volumeMounts[0].name: Not found: \"data\"".to_string()));
        assert!(msgs.contains(&"spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be less than or equal to cpu limit of 1".to_string()));
        assert!(msgs.contains(
            &"spec.containers[0].livenessProbe: Required value: must specify a handler type"
                .to_string()
        ));
    }

    #[test]
    fn templates_have_no_ephemeral_containers() {
        let t = json!({"spec": {"containers": [{"name": "a", "image": "x"}],
            "ephemeralContainers": [{"name": "d", "image": "busybox"}]}});
        let msgs = fields(&validate_template(Some(&t), "spec.template", &["Always"]));
        assert_eq!(msgs, vec!["spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template"]);
    }

    #[test]
    fn template_restart_policy_is_narrowed() {
        let t = json!({"spec": {"restartPolicy": "Always", "containers": [{"name": "a", "image": "x"}]}});
        let msgs = fields(&validate_template(
            Some(&t),
            "spec.template",
            &["OnFailure", "Never"],
        ));
        assert_eq!(msgs, vec!["spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""]);
    }
}
