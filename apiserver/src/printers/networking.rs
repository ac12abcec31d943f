//! `networking.k8s.io/v1` and `discovery.k8s.io/v1`: ingresses, ingress classes, network
//! policies, service CIDRs, IP addresses and endpoint slices.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::core::load_balancer_ingress;
use super::format::{age, array_at, format_label_selector, list_with_more, name, s, str_at, NONE};
use super::{Cells, Column, Printer, AGE, NAME};

/// The printer of a networking or discovery resource.
pub fn printer(plural: &str) -> Option<Printer> {
    let (columns, cells): (&'static [Column], Cells) = match plural {
        "ingresses" => (INGRESS, ingress),
        "ingressclasses" => (INGRESSCLASS, ingressclass),
        "networkpolicies" => (NETWORKPOLICY, networkpolicy),
        "servicecidrs" => (SERVICECIDR, servicecidr),
        "ipaddresses" => (IPADDRESS, ipaddress),
        "endpointslices" => (ENDPOINTSLICE, endpointslice),
        _ => return None,
    };
    Some(Printer::new(columns, cells))
}

const INGRESS: &[Column] = &[
    NAME,
    Column::new(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    Column::new(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    Column::new(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    Column::new("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
];

/// Hosts of the rules: the first three, then `+ N more...` counted in rules; `*` for none.
fn format_hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        let host = str_at(rule, "/host");
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".to_string();
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", rules.len() - MAX)
    } else {
        joined
    }
}

fn ingress(ing: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let class = ing
        .pointer("/spec/ingressClassName")
        .and_then(Value::as_str)
        .unwrap_or(NONE);
    let ports = if array_at(ing, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        name(ing),
        s(class),
        s(format_hosts(array_at(ing, "/spec/rules"))),
        s(load_balancer_ingress(ing.pointer("/status/loadBalancer"))),
        s(ports),
        age(ing, now),
    ]
}

const INGRESSCLASS: &[Column] = &[
    NAME,
    Column::new(
        "Controller",
        "string",
        "Controller that is responsible for handling this class",
    ),
    Column::new(
        "Parameters",
        "string",
        "A reference to a resource with additional parameters",
    ),
    AGE,
];

fn ingressclass(ic: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let parameters = match ic.pointer("/spec/parameters").filter(|p| p.is_object()) {
        None => NONE.to_string(),
        Some(p) => {
            let mut text = str_at(p, "/kind").to_string();
            if let Some(group) = p.get("apiGroup").and_then(Value::as_str) {
                text = format!("{text}.{group}");
            }
            format!("{text}/{}", str_at(p, "/name"))
        }
    };
    vec![
        name(ic),
        s(str_at(ic, "/spec/controller")),
        s(parameters),
        age(ic, now),
    ]
}

const NETWORKPOLICY: &[Column] = &[
    NAME,
    Column::new(
        "Pod-Selector",
        "string",
        "Pods to which this policy applies.",
    ),
    AGE,
];

fn networkpolicy(np: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        name(np),
        s(format_label_selector(np.pointer("/spec/podSelector"))),
        age(np, now),
    ]
}

const SERVICECIDR: &[Column] = &[
    NAME,
    Column::new("CIDRs", "string", "CIDRs of the service IP range."),
    AGE,
];

fn servicecidr(sc: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let cidrs: Vec<&str> = array_at(sc, "/spec/cidrs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    vec![name(sc), s(cidrs.join(",")), age(sc, now)]
}

const IPADDRESS: &[Column] = &[
    NAME,
    Column::new(
        "ParentRef",
        "string",
        "The object this IP address is allocated to.",
    ),
];

fn ipaddress(ip: &Value, _now: DateTime<Utc>) -> Vec<Value> {
    let parent = match ip.pointer("/spec/parentRef").filter(|p| p.is_object()) {
        None => NONE.to_string(),
        Some(p) => {
            let (group, resource) = (str_at(p, "/group"), str_at(p, "/resource"));
            let mut text = if group.is_empty() {
                resource.to_lowercase()
            } else {
                format!("{resource}.{group}").to_lowercase()
            };
            let ns = str_at(p, "/namespace");
            if !ns.is_empty() {
                text = format!("{text}/{ns}");
            }
            format!("{text}/{}", str_at(p, "/name"))
        }
    };
    vec![name(ip), s(parent)]
}

const ENDPOINTSLICE: &[Column] = &[
    NAME,
    Column::new(
        "AddressType",
        "string",
        "Type of address carried by this slice.",
    ),
    Column::new("Ports", "string", "Network ports exposed by each endpoint."),
    Column::new("Endpoints", "string", "Addresses of the endpoints."),
    AGE,
];

fn endpointslice(es: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let ports: Vec<String> = array_at(es, "/ports")
        .iter()
        .map(
            |p| match (p.get("port").and_then(Value::as_i64), p.get("name")) {
                (Some(n), _) => n.to_string(),
                (None, Some(Value::String(n))) => n.clone(),
                _ => "*".to_string(),
            },
        )
        .collect();
    let addresses: Vec<String> = array_at(es, "/endpoints")
        .iter()
        .flat_map(|e| array_at(e, "/addresses"))
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    vec![
        name(es),
        s(str_at(es, "/addressType")),
        s(list_with_more(&ports, 3)),
        s(list_with_more(&addresses, 3)),
        age(es, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        super::super::format::parse_time("2025-01-01T12:00:00Z").unwrap()
    }

    #[test]
    fn ingress_with_tls_and_many_hosts() {
        let ing = json!({"metadata": {"name": "site"},
            "spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["a.example"]}],
                "rules": [{"host": "a.example"}, {"host": "b.example"}, {"host": "c.example"},
                          {"host": "d.example"}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}});
        let c = ingress(&ing, now());
        assert_eq!(
            c[1..5],
            [
                json!("nginx"),
                json!("a.example,b.example,c.example + 1 more..."),
                json!("192.0.2.10"),
                json!("80, 443")
            ]
        );
        let bare = json!({"metadata": {"name": "x"}, "spec": {}});
        assert_eq!(
            ingress(&bare, now())[1..5],
            [json!("<none>"), json!("*"), json!(""), json!("80")]
        );
    }

    #[test]
    fn endpointslice_ports_and_addresses() {
        let es = json!({"metadata": {"name": "web-abc"}, "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": ["10.244.0.5"]}, {"addresses": ["10.244.0.6"]}]});
        let c = endpointslice(&es, now());
        assert_eq!(
            c[1..4],
            [json!("IPv4"), json!("8080"), json!("10.244.0.5,10.244.0.6")]
        );
        let empty = json!({"metadata": {"name": "e"}, "addressType": "IPv4"});
        assert_eq!(
            endpointslice(&empty, now())[2..4],
            [json!("<unset>"), json!("<unset>")]
        );
    }

    #[test]
    fn network_policy_and_ingress_class() {
        let np = json!({"metadata": {"name": "deny"}, "spec": {"podSelector": {}}});
        assert_eq!(networkpolicy(&np, now())[1], json!("<none>"));
        let ic = json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "p"}}});
        assert_eq!(
            ingressclass(&ic, now())[1..3],
            [
                json!("k8s.io/ingress-nginx"),
                json!("IngressParameters.k8s.example.com/p")
            ]
        );
    }
}
