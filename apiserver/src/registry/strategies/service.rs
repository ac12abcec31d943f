//! core/v1 Service (upstream `SetDefaults_Service` and `ValidateService`). ClusterIP and
//! NodePort allocation happen in the Service REST layer, not here.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::json::{
    child, dns_label, for_each_mut, get, get_i64, get_str, index, is_unset, items, one_of,
    port_number, set_default,
};
use crate::errors::FieldError;

mod ip_fields;
use crate::registry::strategy::NameRule;
use crate::registry::Strategy;

const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

/// core/v1 Service.
pub struct Service;
impl Strategy for Service {
    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "sessionAffinity"], json!("None"));
        set_default(obj, &["spec", "type"], json!("ClusterIP"));
        let kind = get_str(obj, &["spec", "type"])
            .unwrap_or("ClusterIP")
            .to_string();
        for_each_mut(obj, &["spec", "ports"], |p| {
            set_default(p, &["protocol"], json!("TCP"));
            let target_unset = match p.get("targetPort") {
                None | Some(Value::Null) => true,
                Some(Value::Number(n)) => n.as_i64() == Some(0),
                Some(Value::String(s)) => s.is_empty(),
                _ => false,
            };
            if target_unset {
                if let Some(port) = p.get("port").cloned() {
                    p["targetPort"] = port;
                }
            }
        });
        if get_str(obj, &["spec", "sessionAffinity"]) == Some("ClientIP") {
            set_default(
                obj,
                &[
                    "spec",
                    "sessionAffinityConfig",
                    "clientIP",
                    "timeoutSeconds",
                ],
                json!(10800),
            );
        }
        if kind == "ExternalName" {
            return;
        }
        set_default(obj, &["spec", "internalTrafficPolicy"], json!("Cluster"));
        if kind == "NodePort" || kind == "LoadBalancer" {
            set_default(obj, &["spec", "externalTrafficPolicy"], json!("Cluster"));
        }
        if kind == "LoadBalancer" {
            set_default(obj, &["spec", "allocateLoadBalancerNodePorts"], json!(true));
        }
        // An old client names only `clusterIP`: it is the whole list. `ipFamilies` and
        // `ipFamilyPolicy` are settled by the allocator, which knows the cluster's families
        // and (on update) the old object.
        if let Some(ip) = get_str(obj, &["spec", "clusterIP"])
            .filter(|ip| !ip.is_empty())
            .map(str::to_string)
        {
            set_default(obj, &["spec", "clusterIPs"], json!([ip]));
        }
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value, subresource: Option<&str>) {
        if subresource.is_none() {
            patch_allocated_ips(new, old);
        }
    }

    fn validate(&self, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let kind = get_str(obj, &["spec", "type"]).unwrap_or("ClusterIP");
        errs.extend(one_of(obj, &["spec", "type"], "spec.type", TYPES, false));
        errs.extend(one_of(
            obj,
            &["spec", "sessionAffinity"],
            "spec.sessionAffinity",
            &["ClientIP", "None"],
            false,
        ));
        let headless = get_str(obj, &["spec", "clusterIP"]) == Some("None");
        let ports = items(obj, &["spec", "ports"]);
        if kind == "ExternalName" {
            match get_str(obj, &["spec", "externalName"]).filter(|n| !n.is_empty()) {
                None => errs.push(FieldError::required("spec.externalName", "")),
                Some(n) => errs.extend(super::json::dns_subdomain(
                    n.trim_end_matches('.'),
                    "spec.externalName",
                )),
            }
        } else if ports.is_empty() && !headless {
            errs.push(FieldError::required("spec.ports", ""));
        }
        validate_ports(ports, kind, &mut errs);
        for policy in ["internalTrafficPolicy", "externalTrafficPolicy"] {
            errs.extend(one_of(
                obj,
                &["spec", policy],
                &format!("spec.{policy}"),
                &["Cluster", "Local"],
                false,
            ));
        }
        if !is_unset(get(obj, &["spec", "externalTrafficPolicy"]))
            && kind != "NodePort"
            && kind != "LoadBalancer"
        {
            errs.push(FieldError::invalid(
                "spec.externalTrafficPolicy",
                get(obj, &["spec", "externalTrafficPolicy"])
                    .cloned()
                    .unwrap_or(Value::Null),
                "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
            ));
        }
        if kind == "ExternalName" {
            for field in ["clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
                if !is_unset(get(obj, &["spec", field])) {
                    errs.push(FieldError::forbidden(
                        format!("spec.{field}"),
                        "may not be set for ExternalName services",
                    ));
                }
            }
        } else {
            errs.extend(ip_fields::validate_cluster_ips_related_fields(obj));
        }
        if let Some(old) = old {
            errs.extend(ip_fields::validate_upgrade_downgrade_cluster_ips(old, obj));
            errs.extend(ip_fields::validate_upgrade_downgrade_ip_families(old, obj));
        }
        errs
    }

    fn field_labels(&self) -> &'static [&'static str] {
        &["spec.clusterIP", "spec.type"]
    }

    /// Service names are DNS-1035 labels upstream (must start with a letter); a DNS-1123
    /// label is the closest rule the registry knows.
    fn name_rule(&self) -> NameRule {
        NameRule::Label
    }
}

fn validate_ports(ports: &[Value], kind: &str, errs: &mut Vec<FieldError>) {
    let mut names = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let path = index("spec.ports", i);
        let name = get_str(p, &["name"]).unwrap_or_default();
        if name.is_empty() {
            if ports.len() > 1 {
                errs.push(FieldError::required(child(&path, "name"), ""));
            }
        } else {
            errs.extend(dns_label(name, &child(&path, "name")));
            if !names.insert(name.to_string()) {
                errs.push(FieldError::duplicate(child(&path, "name"), name));
            }
        }
        match get_i64(p, &["port"]) {
            Some(n) => errs.extend(port_number(n, &child(&path, "port"))),
            None => errs.push(FieldError::required(child(&path, "port"), "")),
        }
        errs.extend(one_of(
            p,
            &["protocol"],
            &child(&path, "protocol"),
            &["SCTP", "TCP", "UDP"],
            false,
        ));
        if let Some(t) = get_i64(p, &["targetPort"]) {
            errs.extend(port_number(t, &child(&path, "targetPort")));
        }
        if let Some(np) = get_i64(p, &["nodePort"]).filter(|n| *n != 0) {
            if kind != "NodePort" && kind != "LoadBalancer" {
                errs.push(FieldError::forbidden(
                    child(&path, "nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            } else {
                errs.extend(port_number(np, &child(&path, "nodePort")));
            }
        }
    }
}

/// Upstream's `patchAllocatedValues` and `dropTypeDependentFields` for the address fields:
/// a client that sends the Service back without its allocated addresses keeps them, and one
/// that turns it into an ExternalName Service drops what it did not change itself.
fn patch_allocated_ips(new: &mut Value, old: &Value) {
    let kind = |v: &Value| {
        get_str(v, &["spec", "type"])
            .unwrap_or("ClusterIP")
            .to_string()
    };
    let (old_kind, new_kind) = (kind(old), kind(new));
    if new.get("spec").is_none_or(|s| !s.is_object()) {
        return;
    }
    if old_kind != "ExternalName" && new_kind == "ExternalName" {
        for field in ["clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            if get(new, &["spec", field]) != get(old, &["spec", field]) {
                continue;
            }
            if let Some(spec) = new["spec"].as_object_mut() {
                spec.remove(field);
                if field == "clusterIPs" {
                    spec.remove("clusterIP");
                }
            }
        }
        return;
    }
    if old_kind == "ExternalName" || new_kind == "ExternalName" {
        return;
    }
    let new_ip = get_str(new, &["spec", "clusterIP"])
        .unwrap_or_default()
        .to_string();
    let old_ip = get_str(old, &["spec", "clusterIP"])
        .unwrap_or_default()
        .to_string();
    if new_ip.is_empty() && !old_ip.is_empty() {
        new["spec"]["clusterIP"] = json!(old_ip);
    }
    let new_ip = get_str(new, &["spec", "clusterIP"]).unwrap_or_default();
    if is_unset(get(new, &["spec", "clusterIPs"])) && new_ip == old_ip {
        if let Some(ips) = get(old, &["spec", "clusterIPs"]).filter(|v| !is_unset(Some(v))) {
            new["spec"]["clusterIPs"] = ips.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_without_addresses_keeps_the_allocated_ones() {
        let old = json!({"spec": {"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1", "fd00::1"],
            "ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "PreferDualStack", "ports": [{"port": 80}]}});
        let mut new = json!({"spec": {"ports": [{"port": 80}]}});
        Service.prepare_for_update(&mut new, &old, None);
        Service.default(&mut new);
        assert_eq!(new["spec"]["clusterIPs"], old["spec"]["clusterIPs"]);
        assert!(Service.validate(&new, Some(&old)).is_empty());
        // Turning it into an ExternalName Service drops what the client did not change.
        let mut ext = old.clone();
        ext["spec"]["type"] = json!("ExternalName");
        ext["spec"]["externalName"] = json!("example.com");
        Service.prepare_for_update(&mut ext, &old, None);
        assert!(ext["spec"].get("clusterIPs").is_none() && ext["spec"].get("clusterIP").is_none());
        assert!(ext["spec"].get("ipFamilies").is_none());
        assert!(Service.validate(&ext, Some(&old)).is_empty());
    }

    #[test]
    fn minimal_service_gets_upstream_defaults() {
        let mut s = json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
        Service.default(&mut s);
        let spec = &s["spec"];
        assert_eq!(spec["type"], "ClusterIP");
        assert_eq!(spec["sessionAffinity"], "None");
        assert_eq!(spec["internalTrafficPolicy"], "Cluster");
        assert_eq!(
            spec["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert!(spec.get("externalTrafficPolicy").is_none());
        assert!(Service.validate(&s, None).is_empty());
    }

    #[test]
    fn load_balancer_and_cluster_ip_defaults() {
        let mut s = json!({"spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.10", "ports": [{"port": 80}]}});
        Service.default(&mut s);
        assert_eq!(s["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(s["spec"]["allocateLoadBalancerNodePorts"], true);
        // Families and policy are the allocator's: it knows the cluster's families.
        assert!(s["spec"].get("ipFamilies").is_none());
        assert!(s["spec"].get("ipFamilyPolicy").is_none());
        assert_eq!(s["spec"]["clusterIPs"], json!(["10.0.0.10"]));
    }

    #[test]
    fn duplicate_and_missing_port_names() {
        let mut s = json!({"spec": {"ports": [{"name": "http", "port": 80}, {"name": "http", "port": 81}, {"port": 0}]}});
        Service.default(&mut s);
        let msgs: Vec<String> = Service
            .validate(&s, None)
            .iter()
            .map(FieldError::message)
            .collect();
        assert!(msgs.contains(&"spec.ports[1].name: Duplicate value: \"http\"".to_string()));
        assert!(msgs.contains(&"spec.ports[2].name: Required value".to_string()));
        assert!(msgs.contains(
            &"spec.ports[2].port: Invalid value: 0: must be between 1 and 65535, inclusive"
                .to_string()
        ));
    }

    #[test]
    fn external_name_headless_and_cluster_ip_change() {
        let s = json!({"spec": {"type": "ExternalName"}});
        assert_eq!(
            Service.validate(&s, None)[0].message(),
            "spec.externalName: Required value"
        );
        let mut headless = json!({"spec": {"clusterIP": "None", "selector": {"a": "b"}}});
        // `clusterIPs` follows `clusterIP` (defaulting); without it the pair is invalid.
        assert_eq!(
            Service.validate(&headless, None)[0].message(),
            "spec.clusterIPs: Required value"
        );
        Service.default(&mut headless);
        assert!(Service.validate(&headless, None).is_empty());
        let old = json!({"spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80}]}});
        let mut new = json!({"spec": {"clusterIP": "None", "ports": [{"port": 80}]}});
        Service.default(&mut new);
        let errs = Service.validate(&new, Some(&old));
        assert_eq!(
            errs[0].message(),
            "spec.clusterIPs[0]: Invalid value: [\"None\"]: may not change once set"
        );
    }
}
