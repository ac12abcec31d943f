use super::*;
use serde_json::json;

fn obj<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Arc<T> {
    Arc::new(serde_json::from_value(v).unwrap())
}

fn service(name: &str, ports: serde_json::Value) -> Arc<Service> {
    obj(json!({"metadata": {"name": name, "namespace": "default"},
               "spec": {"clusterIP": "10.96.0.50", "ports": ports}}))
}

fn slice(
    service: &str,
    port_name: Option<&str>,
    port: u16,
    ips: &[(&str, bool)],
) -> Arc<EndpointSlice> {
    let endpoints: Vec<_> = ips
        .iter()
        .map(|(ip, ready)| json!({"addresses": [ip], "conditions": {"ready": ready}}))
        .collect();
    obj(json!({
        "metadata": {"name": format!("{service}-x"), "namespace": "default",
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
        "endpoints": endpoints
    }))
}

fn backend(svc: &str, port: serde_json::Value) -> serde_json::Value {
    json!({"service": {"name": svc, "port": port}})
}

fn table() -> RouteTable {
    let services = vec![
        service(
            "a",
            json!([{"name": "http", "port": 80, "targetPort": 8080}]),
        ),
        service("b", json!([{"port": 80, "targetPort": 9090}])),
        service("down", json!([{"port": 80}])),
        service("fallback", json!([{"port": 80}])),
    ];
    let slices = vec![
        slice(
            "a",
            Some("http"),
            8080,
            &[("10.0.0.1", true), ("10.0.0.2", true), ("10.0.0.3", false)],
        ),
        slice("b", None, 9090, &[("10.0.1.1", true)]),
        slice("down", None, 80, &[("10.0.2.1", false)]),
        slice("fallback", None, 80, &[("10.0.3.1", true)]),
    ];
    let ingresses = vec![
        obj(json!({
            "metadata": {"name": "one", "namespace": "default", "creationTimestamp": "2024-01-01T00:00:00Z"},
            "spec": {
                "defaultBackend": backend("fallback", json!({"number": 80})),
                "rules": [
                    {"host": "foo.example.com", "http": {"paths": [
                        {"path": "/", "pathType": "Prefix", "backend": backend("a", json!({"name": "http"}))},
                        {"path": "/api", "pathType": "Prefix", "backend": backend("b", json!({"number": 80}))},
                        {"path": "/api/exact", "pathType": "Exact", "backend": backend("a", json!({"number": 80}))}
                    ]}},
                    {"host": "*.example.com", "http": {"paths": [
                        {"path": "/", "pathType": "ImplementationSpecific", "backend": backend("b", json!({"number": 80}))}
                    ]}},
                    {"host": "down.example.com", "http": {"paths": [
                        {"path": "/", "pathType": "Prefix", "backend": backend("down", json!({"number": 80}))}
                    ]}}
                ]
            }
        })),
        obj(json!({
            "metadata": {"name": "two", "namespace": "default", "creationTimestamp": "2024-01-02T00:00:00Z"},
            "spec": {"rules": [{"http": {"paths": [
                {"path": "/only", "pathType": "Exact", "backend": backend("a", json!({"name": "http"}))}
            ]}}]}
        })),
    ];
    RouteTable::build(
        &ingresses,
        &Cluster {
            services: &services,
            slices: &slices,
        },
    )
}

fn routed(t: &RouteTable, host: &str, path: &str) -> Option<String> {
    t.route(host, path).map(|b| b.name.clone())
}

#[test]
fn prefix_matching_is_element_wise() {
    assert!(path_matches(PathType::Prefix, "/foo", "/foo"));
    assert!(path_matches(PathType::Prefix, "/foo", "/foo/"));
    assert!(path_matches(PathType::Prefix, "/foo/", "/foo"));
    assert!(path_matches(PathType::Prefix, "/foo", "/foo/bar"));
    assert!(!path_matches(PathType::Prefix, "/foo", "/foobar"));
    assert!(path_matches(PathType::Prefix, "/", "/anything"));
    assert!(!path_matches(PathType::Exact, "/foo", "/foo/"));
    assert!(path_matches(PathType::Exact, "/foo", "/foo"));
}

#[test]
fn hosts_and_paths_pick_the_right_backend() {
    let t = table();
    assert_eq!(
        routed(&t, "foo.example.com", "/").as_deref(),
        Some("default/a:http")
    );
    assert_eq!(
        routed(&t, "FOO.example.com:8443", "/api/x").as_deref(),
        Some("default/b:80")
    );
    assert_eq!(
        routed(&t, "foo.example.com", "/apix").as_deref(),
        Some("default/a:http")
    );
    // Exact beats the shorter prefix.
    assert_eq!(
        routed(&t, "foo.example.com", "/api/exact").as_deref(),
        Some("default/a:80")
    );
    // Wildcard covers one label only.
    assert_eq!(
        routed(&t, "bar.example.com", "/x").as_deref(),
        Some("default/b:80")
    );
    assert_eq!(
        routed(&t, "a.bar.example.com", "/x").as_deref(),
        Some("default/fallback:80")
    );
    // Host-less rules serve unknown hosts; unmatched paths go to the default backend.
    assert_eq!(
        routed(&t, "other.org", "/only").as_deref(),
        Some("default/a:http")
    );
    assert_eq!(
        routed(&t, "other.org", "/only/more").as_deref(),
        Some("default/fallback:80")
    );
}

#[test]
fn endpoints_are_ready_target_ports() {
    let t = table();
    let a = t.route("foo.example.com", "/").unwrap();
    assert_eq!(
        a.endpoints,
        vec![
            "10.0.0.1:8080".parse().unwrap(),
            "10.0.0.2:8080".parse().unwrap()
        ]
    );
    let down = t.route("down.example.com", "/").unwrap();
    assert!(down.endpoints.is_empty(), "no ready endpoints: 503");
    // Round robin: consecutive requests start at different endpoints.
    let first: Vec<_> = a.pick_order().collect();
    let second: Vec<_> = a.pick_order().collect();
    assert_ne!(first[0], second[0]);
    assert_eq!(first.len(), 2);
}

#[test]
fn nothing_matches_without_a_default_backend() {
    let t = RouteTable::build(
        &[],
        &Cluster {
            services: &[],
            slices: &[],
        },
    );
    assert!(t.is_empty());
    assert!(t.route("x", "/").is_none());
}

#[test]
fn round_robin_continues_across_reloads() {
    let old = table();
    let a = old.route("foo.example.com", "/").unwrap();
    let first = a.pick_order().next().unwrap();
    let new = table();
    new.continue_round_robin(&old);
    let next = new
        .route("foo.example.com", "/")
        .unwrap()
        .pick_order()
        .next()
        .unwrap();
    assert_ne!(
        first, next,
        "the reloaded table goes on to the next endpoint"
    );
}
