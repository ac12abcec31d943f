//! Validation of a Service's address fields (`clusterIP`, `clusterIPs`, `ipFamilies`,
//! `ipFamilyPolicy`), as upstream's `ValidateServiceClusterIPsRelatedFields` and
//! `validateUpgradeDowngrade{ClusterIPs,IPFamilies}` check them, with their messages.

use std::net::IpAddr;

use serde_json::{json, Value};

use super::super::json::get_str;
use crate::errors::FieldError;

const FAMILIES: &[&str] = &["IPv4", "IPv6"];
const POLICIES: &[&str] = &["PreferDualStack", "RequireDualStack", "SingleStack"];

fn list(svc: &Value, field: &str) -> Vec<String> {
    svc.pointer(&format!("/spec/{field}"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `clusterIPs`, or `[clusterIP]` for an object written before the list existed.
fn cluster_ips(svc: &Value) -> Vec<String> {
    let ips = list(svc, "clusterIPs");
    match get_str(svc, &["spec", "clusterIP"]).filter(|ip| !ip.is_empty()) {
        Some(ip) if ips.is_empty() => vec![ip.to_string()],
        _ => ips,
    }
}

fn is_v6(ip: &str) -> bool {
    matches!(ip.parse::<IpAddr>(), Ok(IpAddr::V6(_)))
}

fn is_headless(ips: &[String]) -> bool {
    ips.len() == 1 && ips[0] == "None"
}

fn policy(svc: &Value) -> Value {
    svc.pointer("/spec/ipFamilyPolicy")
        .cloned()
        .unwrap_or(Value::Null)
}

fn is_external_name(svc: &Value) -> bool {
    get_str(svc, &["spec", "type"]) == Some("ExternalName")
}

/// The address fields on their own: `clusterIP` is `clusterIPs[0]`, at most one valid
/// address per family, known families and policy, and each address of its family.
pub fn validate_cluster_ips_related_fields(svc: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let cluster_ip = get_str(svc, &["spec", "clusterIP"]).unwrap_or_default();
    let ips = list(svc, "clusterIPs");
    let families = list(svc, "ipFamilies");
    let shown = json!(ips);
    if !cluster_ip.is_empty() {
        if ips.is_empty() {
            errs.push(FieldError::required("spec.clusterIPs", ""));
        } else if ips[0] != cluster_ip {
            errs.push(FieldError::invalid(
                "spec.clusterIPs",
                shown.clone(),
                "first value must match `clusterIP`",
            ));
        }
    } else if !ips.is_empty() {
        errs.push(FieldError::invalid(
            "spec.clusterIPs",
            shown.clone(),
            "must be empty when `clusterIP` is not specified",
        ));
    }
    for (i, fam) in families.iter().enumerate() {
        let path = format!("spec.ipFamilies[{i}]");
        if !FAMILIES.contains(&fam.as_str()) {
            errs.push(FieldError::not_supported(&path, fam.as_str(), FAMILIES));
        }
        if families[..i].contains(fam) {
            errs.push(FieldError::duplicate(&path, fam.as_str()));
        }
    }
    if let Some(p) = svc.pointer("/spec/ipFamilyPolicy").and_then(Value::as_str) {
        if !POLICIES.contains(&p) {
            errs.push(FieldError::not_supported(
                "spec.ipFamilyPolicy",
                p,
                POLICIES,
            ));
        }
    }
    let mut bad_ips = false;
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == "None" {
            if ips.len() > 1 {
                bad_ips = true;
                errs.push(FieldError::invalid(
                    "spec.clusterIPs",
                    shown.clone(),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        if ip.parse::<IpAddr>().is_err() {
            bad_ips = true;
            errs.push(FieldError::invalid(
                format!("spec.clusterIPs[{i}]"),
                ip.as_str(),
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ));
        }
    }
    if ips.len() > 2 {
        errs.push(FieldError::invalid(
            "spec.clusterIPs",
            shown.clone(),
            "may only hold up to 2 values",
        ));
    }
    if bad_ips {
        return errs;
    }
    if ips.len() > 1 && (ips.len() != 2 || is_v6(&ips[0]) == is_v6(&ips[1])) {
        errs.push(FieldError::invalid(
            "spec.clusterIPs",
            shown,
            "may specify no more than one IP for each IP family",
        ));
    }
    if !is_headless(&ips) {
        for (i, (ip, fam)) in ips.iter().zip(&families).enumerate() {
            if fam == "IPv4" && is_v6(ip) {
                errs.push(FieldError::invalid(
                    format!("spec.clusterIPs[{i}]"),
                    ip.as_str(),
                    format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
            if fam == "IPv6" && !is_v6(ip) {
                errs.push(FieldError::invalid(
                    format!("spec.clusterIPs[{i}]"),
                    ip.as_str(),
                    format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
    errs
}

/// On update: the primary address never changes, the secondary one is released only with
/// `ipFamilyPolicy: SingleStack`.
pub fn validate_upgrade_downgrade_cluster_ips(old: &Value, new: &Value) -> Vec<FieldError> {
    if is_external_name(old) || is_external_name(new) {
        return Vec::new();
    }
    let (old_ips, new_ips) = (cluster_ips(old), cluster_ips(new));
    if is_headless(&old_ips) && is_headless(&new_ips) {
        return Vec::new();
    }
    let shown = json!(new_ips);
    let mut errs = Vec::new();
    let changed = |i: usize| {
        FieldError::invalid(
            format!("spec.clusterIPs[{i}]"),
            shown.clone(),
            "may not change once set",
        )
    };
    if old_ips.len() == new_ips.len() {
        for (i, ip) in old_ips.iter().enumerate() {
            if *ip != new_ips[i] {
                errs.push(changed(i));
            }
        }
    } else if old_ips.len() > new_ips.len() {
        if new_ips.is_empty() {
            errs.push(FieldError::invalid(
                "spec.clusterIPs[0]",
                shown.clone(),
                "primary clusterIP can not be unset",
            ));
        } else if new_ips[0] != old_ips[0] {
            errs.push(changed(0));
        }
        if new_ips.len() == 1 && policy(new) != json!("SingleStack") {
            errs.push(FieldError::invalid(
                "spec.ipFamilyPolicy",
                policy(new),
                "must be set to 'SingleStack' when releasing the secondary clusterIP",
            ));
        }
    } else if !old_ips.is_empty() && new_ips[0] != old_ips[0] {
        errs.push(changed(0));
    }
    errs
}

/// On update: the primary family never changes (headless Services excepted), the secondary
/// one is dropped only with `ipFamilyPolicy: SingleStack`.
pub fn validate_upgrade_downgrade_ip_families(old: &Value, new: &Value) -> Vec<FieldError> {
    if is_external_name(old) || is_external_name(new) {
        return Vec::new();
    }
    if is_headless(&cluster_ips(old)) || is_headless(&cluster_ips(new)) {
        return Vec::new();
    }
    let (old_f, new_f) = (list(old, "ipFamilies"), list(new, "ipFamilies"));
    let shown = json!(new_f);
    let mut errs = Vec::new();
    if old_f.len() == new_f.len() {
        if old_f != new_f {
            errs.push(FieldError::invalid(
                "spec.ipFamilies[0]",
                shown,
                "may not change once set",
            ));
        }
    } else if old_f.len() > new_f.len() {
        // An update that leaves the families out gets them from the addresses again.
        if new_f.is_empty() {
            return errs;
        }
        if new_f[0] != old_f[0] {
            errs.push(FieldError::invalid(
                "spec.ipFamilies[0]",
                json!(cluster_ips(new)),
                "may not change once set",
            ));
        }
        if new_f.len() == 1 && policy(new) != json!("SingleStack") {
            errs.push(FieldError::invalid(
                "spec.ipFamilyPolicy",
                policy(new),
                "must be set to 'SingleStack' when releasing the secondary ipFamily",
            ));
        }
    } else if !old_f.is_empty() && new_f[0] != old_f[0] {
        errs.push(FieldError::invalid(
            "spec.ipFamilies[0]",
            json!(cluster_ips(new)),
            "may not change once set",
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(spec: Value) -> Value {
        json!({ "spec": spec })
    }

    fn messages(errs: Vec<FieldError>) -> Vec<String> {
        errs.iter().map(FieldError::message).collect()
    }

    #[test]
    fn related_fields_follow_upstream_rules() {
        let ok = svc(
            json!({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1", "fd00::1"],
            "ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "RequireDualStack"}),
        );
        assert!(validate_cluster_ips_related_fields(&ok).is_empty());
        let two_v4 = svc(json!({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1", "10.0.0.2"]}));
        assert_eq!(
            messages(validate_cluster_ips_related_fields(&two_v4)),
            ["spec.clusterIPs: Invalid value: [\"10.0.0.1\",\"10.0.0.2\"]: may specify no more than one IP for each IP family"]
        );
        let unsynced = svc(json!({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.2"]}));
        assert!(messages(validate_cluster_ips_related_fields(&unsynced))[0]
            .ends_with("first value must match `clusterIP`"));
        let wrong_family =
            svc(json!({"clusterIP": "fd00::1", "clusterIPs": ["fd00::1"], "ipFamilies": ["IPv4"]}));
        assert_eq!(
            messages(validate_cluster_ips_related_fields(&wrong_family)),
            ["spec.clusterIPs[0]: Invalid value: \"fd00::1\": expected an IPv4 value as indicated by `ipFamilies[0]`"]
        );
        let bad_policy = svc(json!({"ipFamilyPolicy": "Sometimes"}));
        assert!(
            messages(validate_cluster_ips_related_fields(&bad_policy))[0]
                .starts_with("spec.ipFamilyPolicy: Unsupported value: \"Sometimes\"")
        );
    }

    #[test]
    fn downgrade_and_primary_change_on_update() {
        let old = svc(
            json!({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1", "fd00::1"],
            "ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "PreferDualStack"}),
        );
        let dropped = svc(json!({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"],
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "PreferDualStack"}));
        let msgs = messages(validate_upgrade_downgrade_cluster_ips(&old, &dropped));
        assert_eq!(msgs, ["spec.ipFamilyPolicy: Invalid value: \"PreferDualStack\": must be set to 'SingleStack' when releasing the secondary clusterIP"]);
        let mut single = dropped.clone();
        single["spec"]["ipFamilyPolicy"] = json!("SingleStack");
        assert!(validate_upgrade_downgrade_cluster_ips(&old, &single).is_empty());
        assert!(validate_upgrade_downgrade_ip_families(&old, &single).is_empty());
        let moved = svc(json!({"clusterIP": "10.0.0.2", "clusterIPs": ["10.0.0.2", "fd00::1"]}));
        assert_eq!(
            messages(validate_upgrade_downgrade_cluster_ips(&old, &moved)),
            ["spec.clusterIPs[0]: Invalid value: [\"10.0.0.2\",\"fd00::1\"]: may not change once set"]
        );
        let swapped = svc(
            json!({"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1", "fd00::1"], "ipFamilies": ["IPv6", "IPv4"]}),
        );
        assert_eq!(
            validate_upgrade_downgrade_ip_families(&old, &swapped).len(),
            1
        );
    }
}
