//! The objects `kubectl run` sends besides what the shared pod generator makes: the
//! privileged container and the Service of `--expose`.

use serde_json::{json, Map, Value};

use super::super::generators::{self as gen, ExposeSpec};
use crate::error::{KubectlError, Result};
use crate::printers::go_template::go_quote;

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
}
