//! The objects `kubectl run` sends besides what the shared pod generator makes: the
//! privileged container, the Service of `--expose`, and the last-applied annotation of
//! `--save-config` as upstream writes it for its typed objects.

use serde_json::{json, Map, Value};

use super::super::generators::{self as gen, ExposeSpec};
use crate::error::{KubectlError, Result};
use crate::merge::LAST_APPLIED;
use crate::printers::go_template::go_quote;
use crate::printers::json::go_escape;

/// `--labels` as upstream's run reads it: `k=v` pairs split on commas, each with exactly
/// one `=` and a key; empty means none (the pod then gets `run=<name>`).
pub fn parse_labels(text: &str) -> Result<Option<Map<String, Value>>> {
    if text.is_empty() {
        return Ok(None);
    }
    let mut labels = Map::new();
    for spec in text.split(',') {
        let parts: Vec<&str> = spec.split('=').collect();
        let [key, value] = parts[..] else {
            return Err(KubectlError::usage(format!(
                "unexpected label spec: {spec}"
            )));
        };
        if key.is_empty() {
            return Err(KubectlError::usage("unexpected empty label key"));
        }
        labels.insert(key.to_string(), json!(value));
    }
    Ok(Some(labels))
}

/// `--port`, read as Go's `strconv.Atoi` reads it (and refused in its words).
pub fn parse_port(text: &str) -> Result<i64> {
    text.parse::<i64>().map_err(|e| {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        KubectlError::usage(format!("strconv.Atoi: parsing {}: {why}", go_quote(text)))
    })
}

/// `--privileged`: the container runs privileged.
pub fn make_privileged(pod: &mut Value) {
    if let Some(c) = pod["spec"]["containers"][0].as_object_mut() {
        c.insert("securityContext".into(), json!({"privileged": true}));
    }
}

/// `--expose`: a ClusterIP Service named like the pod, selecting the pod's labels on
/// `port` (TCP, to the same container port). It carries only labels given by `--labels`.
pub fn service(
    name: &str,
    selector: Map<String, Value>,
    labels: Option<Map<String, Value>>,
    port: i64,
) -> Value {
    gen::expose_service(&ExposeSpec {
        name: name.to_string(),
        selector,
        labels: labels.unwrap_or_default(),
        ports: vec![(port, String::new())],
        ..ExposeSpec::default()
    })
}

/// The fields of the objects `run` makes, in the order Go declares them: upstream encodes
/// its typed Pod and Service so, and the annotation keeps that text. Each list only has to
/// order siblings; keys it does not name come after, by name.
const GO_FIELD_ORDER: [&str; 45] = [
    // TypeMeta, then the object.
    "kind",
    "apiVersion",
    "metadata",
    "spec",
    "status",
    // ObjectMeta; also the first field of containers, ports and env vars.
    "name",
    "generateName",
    "namespace",
    "creationTimestamp",
    "labels",
    "annotations",
    // PodSpec
    "volumes",
    "initContainers",
    "containers",
    "restartPolicy",
    "terminationGracePeriodSeconds",
    "activeDeadlineSeconds",
    "dnsPolicy",
    "nodeSelector",
    "serviceAccountName",
    // Container (and EnvVar's value, SecurityContext's privileged)
    "image",
    "command",
    "args",
    "workingDir",
    "ports",
    "envFrom",
    "env",
    "value",
    "resources",
    "volumeMounts",
    "imagePullPolicy",
    "securityContext",
    "privileged",
    "stdin",
    "stdinOnce",
    "tty",
    // ContainerPort, ServicePort
    "hostPort",
    "containerPort",
    "protocol",
    "port",
    "targetPort",
    // ServiceSpec, ServiceStatus
    "selector",
    "clusterIP",
    "type",
    "loadBalancer",
];

/// `--save-config`: the object with its own last-applied annotation, recorded as upstream
/// records a typed object (compact JSON in field order, a trailing newline, and no empty
/// annotations map).
pub fn with_last_applied(obj: &Value) -> Value {
    let mut clean = obj.clone();
    if let Some(meta) = clean["metadata"].as_object_mut() {
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            ann.remove(LAST_APPLIED);
            if ann.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    let mut text = String::new();
    write_in_go_order(&mut text, &clean);
    text.push('\n');
    let mut out = obj.clone();
    if !out["metadata"]["annotations"].is_object() {
        out["metadata"]["annotations"] = json!({});
    }
    out["metadata"]["annotations"][LAST_APPLIED] = Value::String(go_escape(&text));
    out
}

/// Where Go puts field `k` among its siblings in run's objects (`usize::MAX`: not known).
pub fn go_field_rank(k: &str) -> usize {
    GO_FIELD_ORDER
        .iter()
        .position(|f| *f == k)
        .unwrap_or(usize::MAX)
}

fn write_in_go_order(out: &mut String, v: &Value) {
    let rank = go_field_rank;
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_in_go_order(out, &m[k.as_str()]);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_in_go_order(out, item);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_read_as_upstreams_run_reads_them() {
        assert_eq!(parse_labels("").unwrap(), None);
        let l = parse_labels("app=web,tier=x").unwrap().unwrap();
        assert_eq!(Value::Object(l), json!({"app": "web", "tier": "x"}));
        assert_eq!(
            parse_labels("a").unwrap_err().to_string(),
            "error: unexpected label spec: a"
        );
        assert_eq!(
            parse_labels("a=b,").unwrap_err().to_string(),
            "error: unexpected label spec: "
        );
        assert_eq!(
            parse_labels("=b").unwrap_err().to_string(),
            "error: unexpected empty label key"
        );
    }

    #[test]
    fn ports_are_refused_in_go_words() {
        assert_eq!(parse_port("8080").unwrap(), 8080);
        assert_eq!(
            parse_port("abc").unwrap_err().to_string(),
            "error: strconv.Atoi: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            parse_port("99999999999999999999").unwrap_err().to_string(),
            "error: strconv.Atoi: parsing \"99999999999999999999\": value out of range"
        );
    }

    #[test]
    fn the_exposing_service_selects_the_pod_on_its_port() {
        let mut selector = Map::new();
        selector.insert("run".into(), json!("web"));
        let svc = service("web", selector, None, 80);
        assert_eq!(svc["metadata"]["name"], "web");
        assert!(svc["metadata"].get("labels").is_none());
        assert_eq!(svc["spec"]["selector"], json!({"run": "web"}));
        assert_eq!(
            svc["spec"]["ports"],
            json!([{"port": 80, "protocol": "TCP", "targetPort": 80}])
        );
        assert!(svc["spec"].get("type").is_none());
    }

    #[test]
    fn privileged_sets_the_containers_security_context() {
        let mut pod = json!({"spec": {"containers": [{"name": "x"}]}});
        make_privileged(&mut pod);
        assert_eq!(
            pod["spec"]["containers"][0]["securityContext"],
            json!({"privileged": true})
        );
    }

    #[test]
    fn the_annotation_keeps_gos_field_order() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "x", "labels": {"run": "x"}, "creationTimestamp": null},
            "spec": {"containers": [{"name": "x", "image": "busybox", "resources": {},
                                     "ports": [{"containerPort": 80}]}],
                     "dnsPolicy": "ClusterFirst", "restartPolicy": "Always"},
            "status": {}
        });
        let saved = with_last_applied(&pod);
        assert_eq!(
            saved["metadata"]["annotations"][LAST_APPLIED],
            "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\",\"creationTimestamp\":null,\"labels\":{\"run\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"x\",\"image\":\"busybox\",\"ports\":[{\"containerPort\":80}],\"resources\":{}}],\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\"},\"status\":{}}\n"
        );
        // Saving again records the object without its own annotation.
        assert_eq!(with_last_applied(&saved), saved);
    }
}
