//! The objects `kubectl set` prints, as upstream's typed round trip leaves them.
//!
//! Upstream decodes every object (read from `-f` or from the server) into its Go struct and
//! prints that struct again. Go's encoder then shows what the manifest never said: fields
//! without `omitempty` get their zero value (`creationTimestamp: null`, a container's
//! `resources: {}`, a Service port's `targetPort: 0`, a DaemonSet's status counters), empty
//! optional lists and maps vanish, and quantities come out in canonical form (`1000m` is
//! `"1"`). [`as_typed`] does the same for the kinds `set` changes; [`check_registered`]
//! refuses, as the decoder does, kinds the client's scheme does not know.
//!
//! Fields the Go struct does not have are dropped by [`super::prune`]; JSON output takes
//! Go's field order from [`crate::printers::go_order`].

use serde_json::{json, Map, Value};

use crate::error::{KubectlError, Result};

/// `apiVersion` split into group and version (`v1` is the core group's).
fn group_version(obj: &Value) -> (&str, &str) {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// Upstream's decoding error for an object `--local` cannot type: its kind is not in the
/// scheme (a custom resource), so without a server nothing knows its shape.
pub fn check_registered(obj: &Value, source: &str) -> Result<()> {
    let (group, version) = group_version(obj);
    let known = crate::resource::CLIENT_GO_SCHEME_GROUPS.contains(&group)
        && (!group.is_empty() || version == "v1");
    if known {
        return Ok(());
    }
    Err(KubectlError::usage(format!(
        "unable to decode {source:?}: no kind {:?} is registered for version {:?} in scheme \"pkg/scheme/scheme.go:28\"",
        obj["kind"].as_str().unwrap_or_default(),
        obj["apiVersion"].as_str().unwrap_or_default()
    )))
}

/// The Go type of the object as upstream names it in messages (`*v1.Service`).
pub fn go_type(obj: &Value) -> String {
    let (_, version) = group_version(obj);
    format!("*{version}.{}", obj["kind"].as_str().unwrap_or_default())
}

/// `obj` as Go's typed struct prints it (see the module doc).
pub fn as_typed(mut obj: Value) -> Value {
    super::prune::drop_unknown_fields(&mut obj);
    drop_nulls(&mut obj);
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    let Some(root) = obj.as_object_mut() else {
        return obj;
    };
    object_meta(root);
    match kind.as_str() {
        "Pod" => {
            pod_spec(object(root, "spec"));
            object(root, "status");
        }
        "Deployment" => {
            let spec = object(root, "spec");
            object(spec, "strategy");
            pod_template(object(spec, "template"));
            label_selector_of(spec);
            object(root, "status");
        }
        "StatefulSet" => {
            let spec = object(root, "spec");
            zero(spec, "serviceName", json!(""));
            object(spec, "updateStrategy");
            pod_template(object(spec, "template"));
            label_selector_of(spec);
            for claim in items(spec, "volumeClaimTemplates") {
                persistent_volume_claim(claim);
            }
            let status = object(root, "status");
            zero(status, "replicas", json!(0));
            zero(status, "availableReplicas", json!(0));
        }
        "DaemonSet" => {
            let spec = object(root, "spec");
            object(spec, "updateStrategy");
            pod_template(object(spec, "template"));
            label_selector_of(spec);
            let status = object(root, "status");
            for counter in [
                "currentNumberScheduled",
                "numberMisscheduled",
                "desiredNumberScheduled",
                "numberReady",
            ] {
                zero(status, counter, json!(0));
            }
        }
        "ReplicaSet" => {
            let spec = object(root, "spec");
            pod_template(object(spec, "template"));
            label_selector_of(spec);
            zero(object(root, "status"), "replicas", json!(0));
        }
        "ReplicationController" => {
            let spec = object(root, "spec");
            drop_empty_map(spec, "selector");
            // A pointer here: only a template that is there gets its zero fields.
            if let Some(template) = spec.get_mut("template").and_then(Value::as_object_mut) {
                pod_template(template);
            }
            zero(object(root, "status"), "replicas", json!(0));
        }
        "Job" => {
            job_spec(object(root, "spec"));
            object(root, "status");
        }
        "CronJob" => {
            let spec = object(root, "spec");
            zero(spec, "schedule", json!(""));
            let template = object(spec, "jobTemplate");
            object_meta(template);
            job_spec(object(template, "spec"));
            object(root, "status");
        }
        "Service" => {
            let spec = object(root, "spec");
            drop_empty_map(spec, "selector");
            for port in items(spec, "ports") {
                zero(port, "port", json!(0));
                zero(port, "targetPort", json!(0));
            }
            object(object(root, "status"), "loadBalancer");
        }
        "RoleBinding" | "ClusterRoleBinding" => {
            let role_ref = object(root, "roleRef");
            for field in ["apiGroup", "kind", "name"] {
                zero(role_ref, field, json!(""));
            }
            for subject in items(root, "subjects") {
                zero(subject, "kind", json!(""));
                zero(subject, "name", json!(""));
            }
        }
        _ => {}
    }
    obj
}

/// Go's encoder shows a `null` member as the field's zero value: absent for the optional
/// ones, which are nearly all of them (the rest [`as_typed`] fills in again).
fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(list) => list.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// `map[key]` as an object, created empty (a struct Go always prints) when missing.
fn object<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map.entry(key).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    match slot {
        Value::Object(inner) => inner,
        _ => unreachable!("made an object above"),
    }
}

/// The objects of the list `map[key]` (none when it is missing or not a list).
fn items<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    map.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// A field Go always prints, with its zero value when the object lacks it.
fn zero(map: &mut Map<String, Value>, key: &str, value: Value) {
    map.entry(key).or_insert(value);
}

/// Go leaves out an empty map or list it marks `omitempty`.
fn drop_empty_map(map: &mut Map<String, Value>, key: &str) {
    let empty = match map.get(key) {
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(l)) => l.is_empty(),
        _ => false,
    };
    if empty {
        map.remove(key);
    }
}

fn object_meta(owner: &mut Map<String, Value>) {
    let meta = object(owner, "metadata");
    zero(meta, "creationTimestamp", Value::Null);
    for field in ["labels", "annotations", "finalizers", "ownerReferences"] {
        drop_empty_map(meta, field);
    }
}

fn label_selector_of(spec: &mut Map<String, Value>) {
    if let Some(selector) = spec.get_mut("selector").and_then(Value::as_object_mut) {
        drop_empty_map(selector, "matchLabels");
        drop_empty_map(selector, "matchExpressions");
        for requirement in items(selector, "matchExpressions") {
            zero(requirement, "key", json!(""));
            zero(requirement, "operator", json!(""));
        }
    }
}

fn pod_template(template: &mut Map<String, Value>) {
    object_meta(template);
    pod_spec(object(template, "spec"));
}

fn job_spec(spec: &mut Map<String, Value>) {
    pod_template(object(spec, "template"));
    label_selector_of(spec);
}

fn pod_spec(spec: &mut Map<String, Value>) {
    zero(spec, "containers", Value::Null);
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for c in items(spec, list) {
            container(c);
        }
    }
    for volume in items(spec, "volumes") {
        self::volume(volume);
    }
    for field in [
        "nodeSelector",
        "tolerations",
        "imagePullSecrets",
        "initContainers",
        "volumes",
    ] {
        drop_empty_map(spec, field);
    }
    canonical_quantities(spec, "overhead");
    if let Some(resources) = spec.get_mut("resources").and_then(Value::as_object_mut) {
        resource_requirements(resources);
    }
    for alias in items(spec, "hostAliases") {
        zero(alias, "ip", json!(""));
    }
    for constraint in items(spec, "topologySpreadConstraints") {
        zero(constraint, "maxSkew", json!(0));
        zero(constraint, "topologyKey", json!(""));
        zero(constraint, "whenUnsatisfiable", json!(""));
    }
}

fn container(c: &mut Map<String, Value>) {
    zero(c, "name", json!(""));
    resource_requirements(object(c, "resources"));
    for field in ["args", "command", "env", "envFrom", "ports", "volumeMounts"] {
        drop_empty_map(c, field);
    }
    for port in items(c, "ports") {
        zero(port, "containerPort", json!(0));
    }
    for mount in items(c, "volumeMounts") {
        zero(mount, "name", json!(""));
        zero(mount, "mountPath", json!(""));
    }
    for device in items(c, "volumeDevices") {
        zero(device, "name", json!(""));
        zero(device, "devicePath", json!(""));
    }
    for env in items(c, "env") {
        zero(env, "name", json!(""));
        if let Some(from) = env.get_mut("valueFrom").and_then(Value::as_object_mut) {
            env_source(from);
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).and_then(Value::as_object_mut) {
            handler_ports(p);
        }
    }
    if let Some(lifecycle) = c.get_mut("lifecycle").and_then(Value::as_object_mut) {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = lifecycle.get_mut(hook).and_then(Value::as_object_mut) {
                handler_ports(h);
            }
        }
    }
}

/// The `port` of HTTP, TCP and gRPC handlers is not optional.
fn handler_ports(handler: &mut Map<String, Value>) {
    for action in ["httpGet", "tcpSocket", "grpc"] {
        if let Some(a) = handler.get_mut(action).and_then(Value::as_object_mut) {
            zero(a, "port", json!(0));
        }
    }
}

fn env_source(from: &mut Map<String, Value>) {
    for (selector, required) in [
        ("configMapKeyRef", "key"),
        ("secretKeyRef", "key"),
        ("fieldRef", "fieldPath"),
        ("resourceFieldRef", "resource"),
    ] {
        if let Some(s) = from.get_mut(selector).and_then(Value::as_object_mut) {
            zero(s, required, json!(""));
        }
    }
    if let Some(r) = from
        .get_mut("resourceFieldRef")
        .and_then(Value::as_object_mut)
    {
        // A Quantity struct, which omitempty cannot leave out.
        zero(r, "divisor", json!("0"));
        canonical_quantity(r, "divisor");
    }
}

fn resource_requirements(resources: &mut Map<String, Value>) {
    for field in ["limits", "requests"] {
        canonical_quantities(resources, field);
        drop_empty_map(resources, field);
    }
}

fn volume(v: &mut Map<String, Value>) {
    zero(v, "name", json!(""));
    if let Some(claim) = v
        .get_mut("persistentVolumeClaim")
        .and_then(Value::as_object_mut)
    {
        zero(claim, "claimName", json!(""));
    }
    if let Some(host) = v.get_mut("hostPath").and_then(Value::as_object_mut) {
        zero(host, "path", json!(""));
    }
    if let Some(dir) = v.get_mut("emptyDir").and_then(Value::as_object_mut) {
        canonical_quantity(dir, "sizeLimit");
    }
    for source in ["configMap", "secret"] {
        if let Some(s) = v.get_mut(source).and_then(Value::as_object_mut) {
            for item in items(s, "items") {
                zero(item, "key", json!(""));
                zero(item, "path", json!(""));
            }
        }
    }
    if let Some(projected) = v.get_mut("projected").and_then(Value::as_object_mut) {
        zero(projected, "sources", Value::Null);
    }
}

fn persistent_volume_claim(claim: &mut Map<String, Value>) {
    object_meta(claim);
    let spec = object(claim, "spec");
    if let Some(resources) = spec.get_mut("resources").and_then(Value::as_object_mut) {
        resource_requirements(resources);
    }
    object(claim, "status");
}

/// Each quantity of the resource list `map[key]` in canonical form.
fn canonical_quantities(map: &mut Map<String, Value>, key: &str) {
    if let Some(list) = map.get_mut(key).and_then(Value::as_object_mut) {
        let names: Vec<String> = list.keys().cloned().collect();
        for name in names {
            canonical_quantity(list, &name);
        }
    }
}

/// `map[key]`, a quantity written as a string or a number, as Go prints a Quantity.
fn canonical_quantity(map: &mut Map<String, Value>, key: &str) {
    let written = match map.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return,
    };
    if let Some(canonical) = common::quantity::canonical(&written) {
        map.insert(key.to_string(), Value::String(canonical));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_deployment_gets_go_zero_values() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {}},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "main", "image": "x", "args": [],
                    "resources": {"limits": {"cpu": "1000m", "memory": 1024}}}]}}}});
        let typed = as_typed(d);
        assert_eq!(
            typed["metadata"],
            json!({"name": "web", "creationTimestamp": null})
        );
        assert_eq!(typed["spec"]["strategy"], json!({}));
        assert_eq!(typed["status"], json!({}));
        let template = &typed["spec"]["template"];
        assert!(template["metadata"]
            .as_object()
            .unwrap()
            .contains_key("creationTimestamp"));
        assert_eq!(
            template["spec"]["containers"][0],
            json!({"name": "main", "image": "x",
                "resources": {"limits": {"cpu": "1", "memory": "1024"}}})
        );
    }

    #[test]
    fn status_counters_service_ports_and_role_refs_are_filled() {
        let ds = as_typed(json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "d"}, "spec": {"template": {"spec": {}}}}));
        assert_eq!(ds["status"]["numberReady"], 0);
        assert_eq!(ds["spec"]["template"]["spec"]["containers"], Value::Null);
        assert!(ds["spec"]["template"]["spec"]
            .as_object()
            .unwrap()
            .contains_key("containers"));
        let svc = as_typed(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}));
        assert_eq!(svc["spec"]["ports"][0]["targetPort"], 0);
        assert_eq!(svc["status"], json!({"loadBalancer": {}}));
        let rb = as_typed(json!({"apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding", "metadata": {"name": "rb"}}));
        assert_eq!(
            rb["roleRef"],
            json!({"apiGroup": "", "kind": "", "name": ""})
        );
        assert!(rb.get("status").is_none(), "bindings have no status");
    }

    #[test]
    fn only_scheme_kinds_decode_locally() {
        let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget"});
        let err = check_registered(&widget, "w.yaml").unwrap_err().to_string();
        assert_eq!(
            err,
            "error: unable to decode \"w.yaml\": no kind \"Widget\" is registered for version \"example.com/v1\" in scheme \"pkg/scheme/scheme.go:28\""
        );
        assert!(check_registered(&json!({"apiVersion": "v1", "kind": "Pod"}), "p").is_ok());
        assert!(check_registered(&json!({"apiVersion": "apps/v1", "kind": "X"}), "x").is_ok());
        assert_eq!(
            go_type(&json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding"})),
            "*v1.RoleBinding"
        );
    }
}
