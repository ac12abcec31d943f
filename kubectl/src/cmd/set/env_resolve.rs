//! `set env --list --resolve`: the value a `valueFrom` reference stands for, as upstream's
//! `GetEnvVarRefValue` finds it — ConfigMap and Secret keys from the server (each object
//! read once), field paths from the workload's own metadata, resource fields from the
//! container's requests and limits.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use crate::client::{q, ApiClient};
use crate::error::KubectlError;

/// ConfigMaps and Secrets read so far, by path (upstream's `ResourceStore`).
#[derive(Default)]
pub struct Store {
    objects: BTreeMap<String, Value>,
}

impl Store {
    /// The value `from` refers to, or upstream's words for why there is none. `obj` is the
    /// workload, `container` the container the variable is in.
    pub async fn resolve(
        &mut self,
        client: Option<&ApiClient>,
        namespace: &str,
        from: &Value,
        obj: &Value,
        container: &Value,
    ) -> Result<String, String> {
        for (selector, plural, what) in [
            ("secretKeyRef", "secrets", "secret"),
            ("configMapKeyRef", "configmaps", "config map"),
        ] {
            let Some(r) = from.get(selector).filter(|r| r.is_object()) else {
                continue;
            };
            let name = r["name"].as_str().unwrap_or_default();
            let key = r["key"].as_str().unwrap_or_default();
            let source = self.get(client, namespace, plural, name).await?;
            let value = source["data"][key].as_str().map(|v| {
                if plural == "secrets" {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(v)
                        .unwrap_or_default();
                    String::from_utf8_lossy(&bytes).into_owned()
                } else {
                    v.to_string()
                }
            });
            return value.ok_or_else(|| format!("key {key} not found in {what} {name}"));
        }
        if let Some(path) = from["fieldRef"]["fieldPath"].as_str() {
            return field_path(obj, path);
        }
        if from["resourceFieldRef"].is_object() {
            return resource_field(&from["resourceFieldRef"], container);
        }
        Err("invalid valueFrom".into())
    }

    async fn get(
        &mut self,
        client: Option<&ApiClient>,
        namespace: &str,
        plural: &str,
        name: &str,
    ) -> Result<Value, String> {
        let path = format!("/api/v1/namespaces/{namespace}/{plural}/{}", q(name));
        if let Some(found) = self.objects.get(&path) {
            return Ok(found.clone());
        }
        // With --local there is no server to ask.
        let client = client.ok_or_else(|| format!("{plural} {name:?} not found"))?;
        let found = client.get(&path).await.map_err(|e| match e {
            KubectlError::Server { message, .. } => message,
            other => other.to_string(),
        })?;
        self.objects.insert(path, found.clone());
        Ok(found)
    }
}

/// Upstream's `extractFieldPathAsString` on the workload's metadata.
fn field_path(obj: &Value, path: &str) -> Result<String, String> {
    let meta = &obj["metadata"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    if let Some((map, key)) = path
        .strip_suffix("']")
        .and_then(|p| p.split_once("['"))
        .filter(|(map, _)| !map.is_empty())
    {
        return match map {
            "metadata.annotations" => Ok(text(&meta["annotations"][key])),
            "metadata.labels" => Ok(text(&meta["labels"][key])),
            _ => Err(format!("fieldPath {path:?} does not support subscript")),
        };
    }
    match path {
        "metadata.annotations" | "metadata.labels" => {
            let field = path.trim_start_matches("metadata.");
            let lines: Vec<String> = meta[field]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}={:?}", v.as_str().unwrap_or_default()))
                .collect();
            Ok(lines.join("\n"))
        }
        "metadata.name" | "metadata.namespace" | "metadata.uid" => {
            Ok(text(&meta[path.trim_start_matches("metadata.")]))
        }
        _ => Err(format!("unsupported fieldPath: {path}")),
    }
}

/// Upstream's `extractContainerResourceValue`: the request or limit divided by the divisor
/// (1 when zero), rounded up; CPU in thousandths, the rest in units.
fn resource_field(selector: &Value, container: &Value) -> Result<String, String> {
    let resource = selector["resource"].as_str().unwrap_or_default();
    let milli = |q: &Value| {
        q.as_str()
            .and_then(common::quantity::parse_milli)
            .unwrap_or(0)
    };
    let divisor = match milli(&selector["divisor"]) {
        0 => 1000,
        d => d,
    };
    let Some((list, name)) = resource.split_once('.') else {
        return Err(format!("Unsupported container resource : {resource}"));
    };
    let known = matches!(list, "limits" | "requests")
        && (matches!(name, "cpu" | "memory" | "ephemeral-storage")
            || name.starts_with("hugepages-"));
    if !known {
        return Err(format!("Unsupported container resource : {resource}"));
    }
    let amount = milli(&container["resources"][list][name]);
    let value = if name == "cpu" {
        ceil_div(amount, divisor)
    } else {
        // Go's Value() rounds up to whole units before dividing.
        ceil_div(ceil_div(amount, 1000), ceil_div(divisor, 1000).max(1))
    };
    Ok(value.to_string())
}

fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && (a > 0) == (b > 0) {
        q + 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_and_resources_resolve_from_the_object() {
        let obj = json!({"metadata": {"name": "web", "labels": {"b": "2", "a": "1"}}});
        assert_eq!(field_path(&obj, "metadata.name").unwrap(), "web");
        assert_eq!(field_path(&obj, "metadata.labels['a']").unwrap(), "1");
        assert_eq!(
            field_path(&obj, "metadata.labels").unwrap(),
            "a=\"1\"\nb=\"2\""
        );
        assert_eq!(
            field_path(&obj, "spec.nodeName").unwrap_err(),
            "unsupported fieldPath: spec.nodeName"
        );
        let c = json!({"resources": {"limits": {"cpu": "500m", "memory": "512Mi"}}});
        let field = |resource: &str, divisor: &str| {
            resource_field(&json!({"resource": resource, "divisor": divisor}), &c)
        };
        assert_eq!(field("limits.cpu", "0").unwrap(), "1", "CPU rounds up");
        assert_eq!(field("limits.cpu", "1m").unwrap(), "500");
        assert_eq!(field("limits.memory", "0").unwrap(), "536870912");
        assert_eq!(field("limits.memory", "1Mi").unwrap(), "512");
        assert_eq!(field("requests.memory", "0").unwrap(), "0");
        assert!(field("limits.gpu", "0").is_err());
    }
}
