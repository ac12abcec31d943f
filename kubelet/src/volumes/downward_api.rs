//! Downward API values: pod fields (`fieldRef`) and container resources
//! (`resourceFieldRef`), formatted as upstream formats them. Public so that the kubelet's
//! environment-variable code can use the same rules.
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::VolumeError;

/// The value of a `fieldRef.fieldPath` for this pod.
///
/// Volumes may only use the `metadata.*` paths (the apiserver's validation enforces that);
/// the `spec.*` and `status.*` paths are here for environment variables.
pub fn field_value(pod: &Pod, field_path: &str) -> Result<String, VolumeError> {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let unsupported = || VolumeError::UnsupportedField(field_path.to_string());
    if let Some(key) = subscript(field_path, "metadata.labels") {
        return Ok(meta
            .labels
            .as_ref()
            .and_then(|m| m.get(key))
            .cloned()
            .unwrap_or_default());
    }
    if let Some(key) = subscript(field_path, "metadata.annotations") {
        return Ok(meta
            .annotations
            .as_ref()
            .and_then(|m| m.get(key))
            .cloned()
            .unwrap_or_default());
    }
    let value = match field_path {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "metadata.labels" => format_map(meta.labels.as_ref()),
        "metadata.annotations" => format_map(meta.annotations.as_ref()),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_default(),
        "status.hostIP" => status.and_then(|s| s.host_ip.clone()).unwrap_or_default(),
        "status.podIP" => status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
        "status.hostIPs" => status
            .and_then(|s| s.host_ips.as_ref())
            .map(|ips| {
                ips.iter()
                    .map(|i| i.ip.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default(),
        "status.podIPs" => status
            .and_then(|s| s.pod_ips.as_ref())
            .map(|ips| {
                ips.iter()
                    .map(|i| i.ip.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default(),
        _ => return Err(unsupported()),
    };
    Ok(value)
}

/// `metadata.labels['key']` → `key`.
fn subscript<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    path.strip_prefix(prefix)?
        .strip_prefix("['")?
        .strip_suffix("']")
}

/// `key="value"` lines in key order, values quoted like Go's `%q`, no trailing newline.
pub fn format_map(map: Option<&BTreeMap<String, String>>) -> String {
    map.into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Go's `strconv.Quote`: printable characters stay, the rest become escapes.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The value of a `resourceFieldRef` (`limits.cpu`, `requests.memory`, …) of `container`,
/// divided by `divisor` (default 1) and rounded up, as upstream does. A limit the container
/// does not set is taken from the node's allocatable, as upstream does.
pub fn resource_value(
    container: &Container,
    resource: &str,
    divisor: Option<&Quantity>,
    node_allocatable: Option<&BTreeMap<String, Quantity>>,
) -> Result<String, VolumeError> {
    let (kind, name) = resource
        .split_once('.')
        .ok_or_else(|| VolumeError::UnsupportedField(resource.to_string()))?;
    let resources = container.resources.as_ref();
    let amount = match kind {
        "limits" => resources
            .and_then(|r| r.limits.as_ref())
            .and_then(|m| m.get(name))
            .or_else(|| node_allocatable.and_then(|m| m.get(name))),
        "requests" => resources
            .and_then(|r| r.requests.as_ref())
            .and_then(|m| m.get(name)),
        _ => return Err(VolumeError::UnsupportedField(resource.to_string())),
    };
    if !matches!(name, "cpu" | "memory" | "ephemeral-storage") && !name.starts_with("hugepages-") {
        return Err(VolumeError::UnsupportedField(resource.to_string()));
    }
    let value = match amount {
        Some(q) => parse_quantity(&q.0)?,
        None => 0,
    };
    let divisor = match divisor {
        Some(q) => parse_quantity(&q.0)?,
        None => NANO,
    };
    // CPU is compared in millicores, everything else in whole units, each rounded up
    // first (Quantity.MilliValue / Quantity.Value upstream).
    let unit = if name == "cpu" { NANO / 1000 } else { NANO };
    let value_units = ceil_div(value, unit);
    let divisor_units = ceil_div(divisor, unit);
    if divisor_units <= 0 {
        return Err(VolumeError::InvalidQuantity(format!(
            "divisor for {resource} must be positive"
        )));
    }
    Ok(ceil_div(value_units, divisor_units).to_string())
}

const NANO: i128 = 1_000_000_000;

fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if (a % b != 0) && ((a < 0) == (b < 0)) {
        q + 1
    } else {
        q
    }
}

/// A Kubernetes quantity (`500m`, `128Mi`, `1.5G`, `1e3`) in billionths of its unit.
pub fn parse_quantity(s: &str) -> Result<i128, VolumeError> {
    let bad = || VolumeError::InvalidQuantity(s.to_string());
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    let (negative, number) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(bad());
    }
    let digits_ok = |d: &str| d.chars().all(|c| c.is_ascii_digit());
    if !digits_ok(int_part) || !digits_ok(frac_part) {
        return Err(bad());
    }
    // Work in nano units; fractions finer than that are rounded up, as Quantity does.
    let int: i128 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().map_err(|_| bad())?
    };
    let mut nanos = int.checked_mul(NANO).ok_or_else(bad)?;
    let mut frac_value: i128 = 0;
    let mut scale = NANO;
    let mut round_up = false;
    for c in frac_part.chars() {
        let digit = i128::from(c as u8 - b'0');
        if scale > 1 {
            scale /= 10;
            frac_value += digit * scale;
        } else if digit != 0 {
            round_up = true;
        }
    }
    nanos += frac_value + i128::from(round_up);
    let (mul, div): (i128, i128) = match suffix {
        "" => (1, 1),
        "n" => (1, NANO),
        "u" => (1, 1_000_000),
        "m" => (1, 1000),
        "k" => (1000, 1),
        "M" => (1_000_000, 1),
        "G" => (NANO, 1),
        "T" => (1_000_000_000_000, 1),
        "P" => (1_000_000_000_000_000, 1),
        "E" => (1_000_000_000_000_000_000, 1),
        "Ki" => (1 << 10, 1),
        "Mi" => (1 << 20, 1),
        "Gi" => (1 << 30, 1),
        "Ti" => (1 << 40, 1),
        "Pi" => (1 << 50, 1),
        "Ei" => (1 << 60, 1),
        exp if exp.starts_with(['e', 'E']) => {
            let e: i32 = exp[1..].parse().map_err(|_| bad())?;
            if !(-9..=18).contains(&e) {
                return Err(bad());
            }
            if e >= 0 {
                (10i128.pow(e as u32), 1)
            } else {
                (1, 10i128.pow((-e) as u32))
            }
        }
        _ => return Err(bad()),
    };
    let scaled = ceil_div(nanos.checked_mul(mul).ok_or_else(bad)?, div);
    Ok(if negative { -scaled } else { scaled })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ResourceRequirements;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("1").unwrap(), NANO);
        assert_eq!(parse_quantity("500m").unwrap(), NANO / 2);
        assert_eq!(parse_quantity("1.5").unwrap(), 3 * NANO / 2);
        assert_eq!(parse_quantity("128Mi").unwrap(), 128 * (1 << 20) * NANO);
        assert_eq!(parse_quantity("1G").unwrap(), NANO * NANO);
        assert_eq!(parse_quantity("1e3").unwrap(), 1000 * NANO);
        assert!(parse_quantity("abc").is_err());
        assert!(parse_quantity("1Xi").is_err());
    }

    fn container(limits: &[(&str, &str)], requests: &[(&str, &str)]) -> Container {
        let map = |kv: &[(&str, &str)]| {
            Some(
                kv.iter()
                    .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                    .collect(),
            )
        };
        Container {
            name: "c".into(),
            resources: Some(ResourceRequirements {
                limits: map(limits),
                requests: map(requests),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn resources_with_divisors_round_up() {
        let c = container(&[("cpu", "250m"), ("memory", "64Mi")], &[("cpu", "100m")]);
        assert_eq!(resource_value(&c, "limits.cpu", None, None).unwrap(), "1");
        let milli = Quantity("1m".into());
        assert_eq!(
            resource_value(&c, "limits.cpu", Some(&milli), None).unwrap(),
            "250"
        );
        assert_eq!(
            resource_value(&c, "requests.cpu", Some(&milli), None).unwrap(),
            "100"
        );
        let mi = Quantity("1Mi".into());
        assert_eq!(
            resource_value(&c, "limits.memory", Some(&mi), None).unwrap(),
            "64"
        );
        assert_eq!(
            resource_value(&c, "limits.memory", None, None).unwrap(),
            (64u64 << 20).to_string()
        );
        // No limit: the node's allocatable stands in.
        let node = BTreeMap::from([("ephemeral-storage".to_string(), Quantity("2Gi".into()))]);
        let gi = Quantity("1Gi".into());
        assert_eq!(
            resource_value(&c, "limits.ephemeral-storage", Some(&gi), Some(&node)).unwrap(),
            "2"
        );
        assert_eq!(
            resource_value(&c, "requests.memory", None, None).unwrap(),
            "0"
        );
        assert!(resource_value(&c, "limits.bogus", None, None).is_err());
    }

    #[test]
    fn pod_fields_and_map_format() {
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                uid: Some("u-1".into()),
                labels: Some(BTreeMap::from([
                    ("app".to_string(), "web".to_string()),
                    ("tier".to_string(), "a \"b\"\n".to_string()),
                ])),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(field_value(&pod, "metadata.name").unwrap(), "web");
        assert_eq!(field_value(&pod, "metadata.uid").unwrap(), "u-1");
        assert_eq!(
            field_value(&pod, "metadata.labels").unwrap(),
            "app=\"web\"\ntier=\"a \\\"b\\\"\\n\""
        );
        assert_eq!(field_value(&pod, "metadata.labels['app']").unwrap(), "web");
        assert!(field_value(&pod, "spec.bogus").is_err());
    }
}
