//! Defaulting of pod specs, containers, probes and volumes (upstream `pkg/apis/core/v1/defaults.go`).

use serde_json::{json, Map, Value};

use super::super::json::{for_each_mut, get, get_str, is_unset, set_default};
use super::super::quantity;

/// Defaults every pod spec gets, in a Pod or in a template.
pub(crate) fn default_pod_spec(spec: &mut Value) {
    set_default(spec, &["dnsPolicy"], json!("ClusterFirst"));
    set_default(spec, &["restartPolicy"], json!("Always"));
    set_default(spec, &["terminationGracePeriodSeconds"], json!(30));
    set_default(spec, &["schedulerName"], json!("default-scheduler"));
    if get(spec, &["securityContext"]).is_none_or(Value::is_null) {
        if let Some(m) = spec.as_object_mut() {
            m.insert("securityContext".into(), json!({}));
        }
    }
    let host_network = get(spec, &["hostNetwork"]).and_then(Value::as_bool) == Some(true);
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for_each_mut(spec, &[list], |c| default_container(c, host_network));
    }
    for_each_mut(spec, &["volumes"], default_volume);
}

/// Defaults only Pods get (not templates): service links on, and requests copied from limits
/// so that the scheduler sees what the container may use. Also the initial status.
pub(crate) fn default_pod_only(pod: &mut Value) {
    set_default(pod, &["spec", "enableServiceLinks"], json!(true));
    if let Some(spec) = pod.get_mut("spec") {
        for list in ["containers", "initContainers"] {
            for_each_mut(spec, &[list], requests_from_limits);
        }
    }
    set_default(pod, &["status", "phase"], json!("Pending"));
    let qos = pod.get("spec").map(qos_class).unwrap_or("BestEffort");
    set_default(pod, &["status", "qosClass"], json!(qos));
}

/// Recomputes `status.qosClass` after admission changed the pod's resources (LimitRanger),
/// as upstream computes it in PrepareForCreate, after mutating admission.
pub(crate) fn refresh_qos_class(pod: &mut Value) {
    let qos = pod.get("spec").map(qos_class).unwrap_or("BestEffort");
    if let Some(status) = pod.get_mut("status").and_then(Value::as_object_mut) {
        status.insert("qosClass".into(), json!(qos));
    }
}

fn requests_from_limits(c: &mut Value) {
    let Some(limits) = get(c, &["resources", "limits"])
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    for (name, q) in limits {
        set_default(c, &["resources", "requests", name.as_str()], q);
    }
}

/// Upstream's QoS class: Guaranteed when every container limits cpu and memory and requests
/// equal limits; BestEffort when nothing is requested or limited; Burstable otherwise.
fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .flat_map(|l| super::super::json::items(spec, &[l]))
        .collect();
    let amount = |c: &Value, kind: &str, res: &str| {
        get_str(c, &["resources", kind, res]).and_then(quantity::parse)
    };
    let mut any = false;
    let mut guaranteed = true;
    for c in &containers {
        for res in ["cpu", "memory"] {
            let (req, lim) = (amount(c, "requests", res), amount(c, "limits", res));
            any |= req.is_some_and(|q| q > 0.0) || lim.is_some_and(|q| q > 0.0);
            guaranteed &= lim.is_some() && req == lim;
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

/// Whether the image reference has no tag or the `latest` tag (and no digest).
fn pulls_always(image: &str) -> bool {
    if image.contains('@') {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) => tag == "latest",
        None => true,
    }
}

fn default_container(c: &mut Value, host_network: bool) {
    // Upstream's Go struct field is not a pointer, so every container shows `resources: {}`.
    set_default(c, &["resources"], json!({}));
    set_default(
        c,
        &["terminationMessagePath"],
        json!("/dev/termination-log"),
    );
    set_default(c, &["terminationMessagePolicy"], json!("File"));
    if let Some(image) = get_str(c, &["image"]).map(str::to_string) {
        let policy = if pulls_always(&image) {
            "Always"
        } else {
            "IfNotPresent"
        };
        set_default(c, &["imagePullPolicy"], json!(policy));
    }
    for_each_mut(c, &["ports"], |p| {
        set_default(p, &["protocol"], json!("TCP"));
        if host_network {
            if let Some(port) = p.get("containerPort").cloned() {
                set_default(p, &["hostPort"], port);
            }
        }
    });
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).filter(|p| p.is_object()) {
            set_default(p, &["timeoutSeconds"], json!(1));
            set_default(p, &["periodSeconds"], json!(10));
            set_default(p, &["successThreshold"], json!(1));
            set_default(p, &["failureThreshold"], json!(3));
            default_http_get(p);
        }
    }
    for hook in ["postStart", "preStop"] {
        if let Some(h) = c.get_mut("lifecycle").and_then(|l| l.get_mut(hook)) {
            default_http_get(h);
        }
    }
    for_each_mut(c, &["env"], |e| {
        if let Some(f) = e.get_mut("valueFrom").and_then(|v| v.get_mut("fieldRef")) {
            set_default(f, &["apiVersion"], json!("v1"));
        }
    });
}

fn default_http_get(handler: &mut Value) {
    if let Some(h) = handler.get_mut("httpGet").filter(|h| h.is_object()) {
        set_default(h, &["path"], json!("/"));
        set_default(h, &["scheme"], json!("HTTP"));
    }
}

fn default_volume(v: &mut Value) {
    let Some(m) = v.as_object_mut() else { return };
    let has_source = m.iter().any(|(k, val)| k != "name" && !val.is_null());
    if !has_source {
        m.insert("emptyDir".into(), Value::Object(Map::new()));
        return;
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(s) = v.get_mut(source).filter(|s| s.is_object()) {
            set_default(s, &["defaultMode"], json!(420));
        }
    }
    for_each_mut(v, &["downwardAPI", "items"], |i| {
        if let Some(f) = i.get_mut("fieldRef") {
            set_default(f, &["apiVersion"], json!("v1"));
        }
    });
    for_each_mut(v, &["projected", "sources"], |s| {
        if let Some(t) = s.get_mut("serviceAccountToken") {
            set_default(t, &["expirationSeconds"], json!(3600));
        }
    });
    if let Some(h) = v.get_mut("hostPath").filter(|h| h.is_object()) {
        if is_unset(h.get("type")) {
            h["type"] = json!("");
        }
    }
    if let Some(spec) = v.pointer_mut("/ephemeral/volumeClaimTemplate/spec") {
        default_pvc_spec(spec);
    }
}

/// PersistentVolumeClaim spec defaults (also applied to StatefulSet claim templates).
pub(crate) fn default_pvc_spec(spec: &mut Value) {
    set_default(spec, &["volumeMode"], json!("Filesystem"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_pull_policy_follows_the_tag() {
        assert!(pulls_always("nginx"));
        assert!(pulls_always("nginx:latest"));
        assert!(pulls_always("localhost:5000/nginx"));
        assert!(!pulls_always("localhost:5000/nginx:1.25"));
        assert!(!pulls_always("nginx@sha256:abcd"));
    }

    #[test]
    fn requests_default_to_limits_and_qos_is_guaranteed() {
        let mut pod = json!({"spec": {"containers": [{"name": "a", "image": "x",
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}});
        default_pod_only(&mut pod);
        assert_eq!(
            pod["spec"]["containers"][0]["resources"]["requests"]["cpu"],
            "1"
        );
        assert_eq!(pod["status"]["qosClass"], "Guaranteed");
        assert_eq!(pod["status"]["phase"], "Pending");
    }

    #[test]
    fn volumes_get_sources_and_modes() {
        let mut spec = json!({"containers": [], "volumes": [
            {"name": "scratch"}, {"name": "s", "secret": {"secretName": "x"}}]});
        default_pod_spec(&mut spec);
        assert_eq!(spec["volumes"][0]["emptyDir"], json!({}));
        assert_eq!(spec["volumes"][1]["secret"]["defaultMode"], 420);
    }
}
