//! Ingresses: address, class, default backend, TLS, and each rule's paths with the
//! endpoints behind their Service.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use serde_json::Value;

use super::format::{self as f, arr, s};
use crate::printers::tabbed::PrefixWriter;

/// What a backend Service resolves to: the Service and its EndpointSlices, or the error
/// text upstream prints in their place.
pub type BackendLookup = BTreeMap<String, Result<(Value, Vec<Value>), String>>;

/// The Service names an Ingress sends traffic to (default backend and every path).
pub fn backend_services(ing: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut add = |b: &Value| {
        let n = s(b, "/service/name");
        if !n.is_empty() {
            names.insert(n.to_string());
        }
    };
    add(&ing["spec"]["defaultBackend"]);
    for rule in arr(ing, "/spec/rules") {
        for path in arr(rule, "/http/paths") {
            add(&path["backend"]);
        }
    }
    names
}

/// `name:port` of a service backend (port number, else port name).
fn service_backend_string(svc: &Value) -> String {
    let port = match svc.pointer("/port/number").and_then(Value::as_i64) {
        Some(n) if n != 0 => n.to_string(),
        _ => s(svc, "/port/name").to_string(),
    };
    format!("{}:{port}", s(svc, "/name"))
}

/// Upstream's `describeBackendV1`.
fn backend_text(backend: &Value, lookup: &BackendLookup) -> String {
    let svc = &backend["service"];
    if svc.is_object() {
        let sb = service_backend_string(svc);
        return match lookup.get(s(svc, "/name")) {
            Some(Ok((service, slices))) => {
                let number = svc
                    .pointer("/port/number")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let port_name = s(svc, "/port/name");
                let mut wanted = "";
                for sp in arr(service, "/spec/ports") {
                    let matches = (number != 0 && sp["port"].as_i64() == Some(number))
                        || (!port_name.is_empty() && s(sp, "/name") == port_name);
                    if matches {
                        wanted = s(sp, "/name");
                    }
                }
                format!("{sb} ({})", format_endpoint_slices(slices, wanted))
            }
            Some(Err(e)) => format!("{sb} (<error: {e}>)"),
            None => format!("{sb} (<error: unknown service>)"),
        };
    }
    let res = &backend["resource"];
    if res.is_object() {
        let group = res["apiGroup"].as_str().unwrap_or("<none>");
        return format!(
            "APIGroup: {group}, Kind: {}, Name: {}",
            s(res, "/kind"),
            s(res, "/name")
        );
    }
    String::new()
}

/// Upstream's `formatEndpointSlices`: ready `ip:port` pairs of the named port, three at
/// most then `+ N more...` (N counts every ready endpoint past the third).
pub fn format_endpoint_slices(slices: &[Value], port_name: &str) -> String {
    if slices.is_empty() {
        return "<none>".into();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    let ready = |e: &Value| e.pointer("/conditions/ready").and_then(Value::as_bool) != Some(false);
    for slice in slices {
        let ports = arr(slice, "/ports");
        let endpoints = arr(slice, "/endpoints");
        if ports.is_empty() {
            for e in endpoints {
                more |= list.len() == MAX;
                if !ready(e) {
                    continue;
                }
                if !more {
                    list.push(s(e, "/addresses/0").to_string());
                }
                count += 1;
            }
            continue;
        }
        for p in ports.iter().filter(|p| s(p, "/name") == port_name) {
            for e in endpoints {
                more |= list.len() == MAX;
                if !ready(e) {
                    continue;
                }
                if !more {
                    let ip = s(e, "/addresses/0");
                    let host = if ip.contains(':') {
                        format!("[{ip}]")
                    } else {
                        ip.to_string()
                    };
                    list.push(format!("{host}:{}", f::i(p, "/port")));
                }
                count += 1;
            }
        }
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count.saturating_sub(MAX))
    } else {
        joined
    }
}

/// `kubectl describe ingress`.
pub fn describe_ingress(ing: &Value, lookup: &BackendLookup, events: Option<&[Value]>) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", s(ing, "/metadata/name")));
    f::labels(&mut w, "Labels", f::map(ing, "/metadata/labels"));
    w.write(
        0,
        &format!("Namespace:\t{}\n", s(ing, "/metadata/namespace")),
    );
    let addresses: BTreeSet<&str> = arr(ing, "/status/loadBalancer/ingress")
        .iter()
        .map(|lb| match s(lb, "/ip") {
            "" => s(lb, "/hostname"),
            ip => ip,
        })
        .filter(|a| !a.is_empty())
        .collect();
    w.write(
        0,
        &format!(
            "Address:\t{}\n",
            addresses.into_iter().collect::<Vec<_>>().join(",")
        ),
    );
    let class = ing
        .pointer("/spec/ingressClassName")
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    w.write(0, &format!("Ingress Class:\t{class}\n"));
    let default = &ing["spec"]["defaultBackend"];
    let default_text = if default.is_object() {
        backend_text(default, lookup)
    } else {
        "<default>".to_string()
    };
    w.write(0, &format!("Default backend:\t{default_text}\n"));
    let tls = arr(ing, "/spec/tls");
    if !tls.is_empty() {
        w.write(0, "TLS:\n");
        for t in tls {
            let hosts: Vec<&str> = arr(t, "/hosts").iter().filter_map(Value::as_str).collect();
            match s(t, "/secretName") {
                "" => w.write(1, &format!("SNI routes {}\n", hosts.join(","))),
                secret => w.write(1, &format!("{secret} terminates {}\n", hosts.join(","))),
            }
        }
    }
    w.write(0, "Rules:\n  Host\tPath\tBackends\n");
    w.write(1, "----\t----\t--------\n");
    let mut count = 0;
    for rule in arr(ing, "/spec/rules") {
        if !rule["http"].is_object() {
            continue;
        }
        count += 1;
        let host = match s(rule, "/host") {
            "" => "*",
            h => h,
        };
        w.write(1, &format!("{host}\t\n"));
        for path in arr(rule, "/http/paths") {
            w.write(
                2,
                &format!(
                    "\t{} \t{}\n",
                    s(path, "/path"),
                    backend_text(&path["backend"], lookup)
                ),
            );
        }
    }
    if count == 0 {
        w.write(1, &format!("*\t*\t{default_text}\n"));
    }
    f::annotations(&mut w, "Annotations", f::map(ing, "/metadata/annotations"));
    f::events(&mut w, events);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn slice(ips: &[(&str, bool)]) -> Value {
        json!({
            "ports": [{"name": "http", "port": 8080}],
            "endpoints": ips.iter().map(|(ip, ready)| json!({"addresses": [ip], "conditions": {"ready": ready}})).collect::<Vec<_>>()
        })
    }

    #[test]
    fn endpoint_slices_skip_unready_and_cap_at_three() {
        let s1 = slice(&[("10.0.0.1", true), ("10.0.0.2", false), ("10.0.0.3", true)]);
        assert_eq!(
            format_endpoint_slices(std::slice::from_ref(&s1), "http"),
            "10.0.0.1:8080,10.0.0.3:8080"
        );
        let s2 = slice(&[("10.0.0.4", true), ("10.0.0.5", true), ("10.0.0.6", true)]);
        assert_eq!(
            format_endpoint_slices(&[s1, s2], "http"),
            "10.0.0.1:8080,10.0.0.3:8080,10.0.0.4:8080 + 2 more..."
        );
        assert_eq!(format_endpoint_slices(&[], "http"), "<none>");
    }

    #[test]
    fn ingress_rules_name_backends_and_endpoints() {
        let ing = json!({
            "metadata": {"name": "web", "namespace": "ns"},
            "spec": {"ingressClassName": "rudder",
                     "tls": [{"hosts": ["a.example"], "secretName": "a-tls"}],
                     "rules": [{"host": "a.example", "http": {"paths": [
                        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "a", "port": {"number": 80}}}},
                        {"path": "/x", "pathType": "Prefix", "backend": {"service": {"name": "gone", "port": {"name": "http"}}}}]}}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "127.240.0.2"}]}}
        });
        let mut lookup = BackendLookup::new();
        lookup.insert(
            "a".into(),
            Ok((
                json!({"spec": {"ports": [{"name": "http", "port": 80}]}}),
                vec![slice(&[("10.0.0.1", true)])],
            )),
        );
        lookup.insert("gone".into(), Err("services \"gone\" not found".into()));
        assert_eq!(
            backend_services(&ing).into_iter().collect::<Vec<_>>(),
            ["a", "gone"]
        );
        let out = describe_ingress(&ing, &lookup, None);
        assert!(out.contains("Address:          127.240.0.2\nIngress Class:    rudder\nDefault backend:  <default>\nTLS:\n  a-tls terminates a.example\n"), "{out}");
        assert!(out.contains("  a.example   \n              /    a:80 (10.0.0.1:8080)\n              /x   gone:http (<error: services \"gone\" not found>)\n"), "{out}");
    }
}
