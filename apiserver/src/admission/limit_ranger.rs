//! LimitRanger admission (upstream's `LimitRanger` plugin) for pods, with the namespace's
//! LimitRanges of type `Container`: containers (init containers too) without a limit or
//! request get the range's `default` / `defaultRequest` (noted in the
//! `kubernetes.io/limit-ranger` annotation), then each container must respect `min`, `max`
//! and `maxLimitRequestRatio`, with upstream's messages.

use serde_json::{json, Map, Value};

use super::lookup::{cached_list, forbidden};
use crate::errors::ApiError;
use crate::store::Store;
use common::quantity::parse_milli;

const ANNOTATION: &str = "kubernetes.io/limit-ranger";
const CONTAINER: &str = "Container";

/// Applies defaults and checks limits on a pod being created in `ns`.
pub fn admit_pod(store: &Store, ns: &str, pod: &mut Value) -> Result<(), ApiError> {
    let ranges = cached_list(store, "", "v1", "limitranges", Some(ns));
    admit_pod_with(&ranges, pod)
}

/// The `Container` items of every range, with upstream's LimitRangeItem defaults applied:
/// a missing default limit is the max, a missing default request is the default limit, else
/// the min.
fn container_items(ranges: &[Value]) -> Vec<Value> {
    ranges
        .iter()
        .filter_map(|r| r.pointer("/spec/limits").and_then(Value::as_array))
        .flatten()
        .filter(|item| item.get("type").and_then(Value::as_str) == Some(CONTAINER))
        .map(with_item_defaults)
        .collect()
}

fn with_item_defaults(item: &Value) -> Value {
    let mut item = item.clone();
    let copy_missing = |item: &mut Value, from: &str, to: &str| {
        let Some(source) = item.get(from).and_then(Value::as_object).cloned() else {
            return;
        };
        let Some(target) = item
            .as_object_mut()
            .map(|o| o.entry(to).or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        for (k, v) in source {
            target.entry(k).or_insert(v);
        }
    };
    copy_missing(&mut item, "max", "default");
    copy_missing(&mut item, "default", "defaultRequest");
    copy_missing(&mut item, "min", "defaultRequest");
    item
}

fn admit_pod_with(ranges: &[Value], pod: &mut Value) -> Result<(), ApiError> {
    let items = container_items(ranges);
    if items.is_empty() {
        return Ok(());
    }
    let mut notes = Vec::new();
    for item in &items {
        for field in ["initContainers", "containers"] {
            let Some(containers) = pod
                .pointer_mut(&format!("/spec/{field}"))
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            for c in containers.iter_mut() {
                apply_defaults(item, c, &mut notes);
            }
        }
    }
    if !notes.is_empty() {
        crate::registry::strategies::refresh_qos_class(pod);
        let text = format!("LimitRanger plugin set: {}", notes.join("; "));
        if let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
            let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
            if let Some(a) = annotations.as_object_mut() {
                a.insert(ANNOTATION.into(), json!(text));
            }
        }
    }
    let mut errors = Vec::new();
    for item in &items {
        for field in ["initContainers", "containers"] {
            for c in pod
                .pointer(&format!("/spec/{field}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                check_container(item, c, &mut errors);
            }
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(forbidden("pods", pod, &errors[0])),
        _ => Err(forbidden("pods", pod, format!("[{}]", errors.join(", ")))),
    }
}

/// Fills the container's missing limits from `default` and requests from `defaultRequest`,
/// recording "cpu, memory request for container x" notes.
fn apply_defaults(item: &Value, container: &mut Value, notes: &mut Vec<String>) {
    let name = container
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    for (source, target, word) in [
        ("defaultRequest", "requests", "request"),
        ("default", "limits", "limit"),
    ] {
        let Some(defaults) = item.get(source).and_then(Value::as_object) else {
            continue;
        };
        let Some(c) = container.as_object_mut() else {
            return;
        };
        let resources = c.entry("resources").or_insert_with(|| json!({}));
        let Some(resources) = resources.as_object_mut() else {
            continue;
        };
        let set = resources.entry(target).or_insert_with(|| json!({}));
        let Some(set) = set.as_object_mut() else {
            continue;
        };
        let mut added: Vec<&str> = Vec::new();
        for (resource, quantity) in defaults {
            if !set.contains_key(resource) {
                set.insert(resource.clone(), quantity.clone());
                added.push(resource);
            }
        }
        if set.is_empty() {
            resources.remove(target);
        }
        if !added.is_empty() {
            notes.push(format!("{} {word} for container {name}", added.join(", ")));
        }
    }
}

fn quantities<'a>(container: &'a Value, which: &str) -> Option<&'a Map<String, Value>> {
    container
        .pointer(&format!("/resources/{which}"))
        .and_then(Value::as_object)
}

fn milli(q: Option<&Value>) -> Option<i128> {
    q.and_then(Value::as_str).and_then(parse_milli)
}

fn get<'a>(m: Option<&'a Map<String, Value>>, resource: &str) -> Option<&'a Value> {
    m.and_then(|m| m.get(resource))
}

fn check_container(item: &Value, container: &Value, errors: &mut Vec<String>) {
    let requests = quantities(container, "requests");
    let limits = quantities(container, "limits");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let min_of = |m: &Value| milli(Some(m));
    for (resource, min) in item
        .get("min")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        // One message per constraint, the first that fails, as upstream's minConstraint.
        let request = get(requests, resource);
        let limit = get(limits, resource);
        let (r, l, m) = (milli(request), milli(limit), min_of(min));
        let message = match (r, l, m) {
            (None, _, _) => Some(format!(
                "minimum {resource} usage per {CONTAINER} is {}.  No request is specified",
                text(Some(min))
            )),
            (Some(r), _, Some(m)) if r < m => Some(format!(
                "minimum {resource} usage per {CONTAINER} is {}, but request is {}",
                text(Some(min)),
                text(request)
            )),
            (_, Some(l), Some(m)) if l < m => Some(format!(
                "minimum {resource} usage per {CONTAINER} is {}, but limit is {}",
                text(Some(min)),
                text(limit)
            )),
            _ => None,
        };
        errors.extend(message);
    }
    for (resource, max) in item
        .get("max")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let request = get(requests, resource);
        let limit = get(limits, resource);
        let (r, l, m) = (milli(request), milli(limit), min_of(max));
        let message = match (r, l, m) {
            (_, None, _) => Some(format!(
                "maximum {resource} usage per {CONTAINER} is {}.  No limit is specified",
                text(Some(max))
            )),
            (_, Some(l), Some(m)) if l > m => Some(format!(
                "maximum {resource} usage per {CONTAINER} is {}, but limit is {}",
                text(Some(max)),
                text(limit)
            )),
            (Some(r), _, Some(m)) if r > m => Some(format!(
                "maximum {resource} usage per {CONTAINER} is {}, but request is {}",
                text(Some(max)),
                text(request)
            )),
            _ => None,
        };
        errors.extend(message);
    }
    for (resource, ratio) in item
        .get("maxLimitRequestRatio")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let (Some(l), Some(max_ratio)) = (milli(get(limits, resource)), milli(Some(ratio))) else {
            continue;
        };
        match milli(get(requests, resource)) {
            Some(r) if r > 0 => {
                let observed = l as f64 / r as f64;
                if observed > max_ratio as f64 / 1000.0 {
                    errors.push(format!(
                        "{resource} max limit to request ratio per {CONTAINER} is {}, but provided ratio is {observed:.6}",
                        text(Some(ratio))
                    ));
                }
            }
            _ => errors.push(format!(
                "{resource} max limit to request ratio per {CONTAINER} is {}, but no request is specified or request is 0",
                text(Some(ratio))
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(item: Value) -> Vec<Value> {
        let mut item = item;
        item["type"] = json!("Container");
        vec![json!({"spec": {"limits": [item]}})]
    }

    fn pod(resources: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "resources": resources}]}})
    }

    #[test]
    fn defaults_fill_only_what_is_missing_and_are_noted() {
        let ranges = range(json!({
            "default": {"cpu": "500m", "memory": "256Mi"},
            "defaultRequest": {"cpu": "100m"}
        }));
        // As the pod's own defaulting leaves it: a limit without request gets the request.
        let mut p = pod(json!({"limits": {"memory": "128Mi"}, "requests": {"memory": "128Mi"}}));
        admit_pod_with(&ranges, &mut p).unwrap();
        let r = &p["spec"]["containers"][0]["resources"];
        assert_eq!(r["limits"], json!({"cpu": "500m", "memory": "128Mi"}));
        assert_eq!(r["requests"], json!({"cpu": "100m", "memory": "128Mi"}));
        assert_eq!(
            p["metadata"]["annotations"][ANNOTATION],
            "LimitRanger plugin set: cpu request for container app; cpu limit for container app"
        );
    }

    #[test]
    fn min_max_and_ratio_are_enforced_with_upstreams_words() {
        let ranges = range(json!({"min": {"cpu": "100m"}, "max": {"memory": "1Gi"}}));
        let err = admit_pod_with(
            &ranges,
            &mut pod(json!({"requests": {"cpu": "50m"}, "limits": {"memory": "2Gi"}})),
        )
        .unwrap_err();
        assert_eq!(err.code, 403);
        assert_eq!(
            err.message,
            "pods \"p\" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, \
             maximum memory usage per Container is 1Gi, but limit is 2Gi]"
        );
        admit_pod_with(
            &ranges,
            &mut pod(json!({"requests": {"cpu": "200m"}, "limits": {"memory": "1Gi"}})),
        )
        .unwrap();
        let ratio = range(json!({"maxLimitRequestRatio": {"cpu": "2"}}));
        assert!(admit_pod_with(
            &ratio,
            &mut pod(json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "300m"}}))
        )
        .is_err());
        admit_pod_with(
            &ratio,
            &mut pod(json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "200m"}})),
        )
        .unwrap();
    }

    #[test]
    fn a_max_alone_becomes_the_default_limit_and_request() {
        let mut p = pod(json!({}));
        admit_pod_with(&range(json!({"max": {"cpu": "1"}})), &mut p).unwrap();
        let r = &p["spec"]["containers"][0]["resources"];
        assert_eq!(r["limits"], json!({"cpu": "1"}));
        assert_eq!(r["requests"], json!({"cpu": "1"}));
    }

    #[test]
    fn no_container_ranges_no_change() {
        let ranges = vec![
            json!({"spec": {"limits": [{"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}}]}}),
        ];
        let mut p = pod(json!({}));
        let before = p.clone();
        admit_pod_with(&ranges, &mut p).unwrap();
        assert_eq!(p, before);
    }
}
