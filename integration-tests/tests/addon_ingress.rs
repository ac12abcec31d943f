//! rudder-ingress against a real apiserver and etcd: an Ingress with two hosts and two paths
//! each routes requests to the right backend (small HTTP servers on 127.0.0.x, listed in
//! EndpointSlices the test writes), round robin across ready endpoints past a dead one, 404
//! for unmatched hosts, 503 with no ready endpoints, a protocol upgrade spliced through, a TLS
//! host answered with its Secret's certificate, the Ingress's status written, and route
//! changes picked up.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use base64::Engine;
use integration_tests::controller_manager::{get_ok, post_ok};
use integration_tests::process::{self, Daemon};
use integration_tests::TestCluster;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const NS: &str = "/api/v1/namespaces/default";
const NET: &str = "/apis/networking.k8s.io/v1";

/// A tiny HTTP/1.1 server on `ip`: answers every request with `<name> <path>`.
async fn backend(name: &'static str, ip: [u8; 4]) -> Result<SocketAddr> {
    let listener = TcpListener::bind(SocketAddr::from((ip, 0))).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf);
                let path = head.split_whitespace().nth(1).unwrap_or("?").to_string();
                let body = format!("{name} {path}");
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(resp.as_bytes()).await;
            });
        }
    });
    Ok(addr)
}

/// A backend that switches protocols (as a WebSocket server would) and then answers every
/// byte it gets in upper case.
async fn upgrade_backend(ip: [u8; 4]) -> Result<SocketAddr> {
    let listener = TcpListener::bind(SocketAddr::from((ip, 0))).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
                if !head.contains("upgrade: websocket") {
                    let _ = stream
                        .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                        .await;
                    return;
                }
                let switch = "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n";
                if stream.write_all(switch.as_bytes()).await.is_err() {
                    return;
                }
                loop {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            let upper = chunk[..n].to_ascii_uppercase();
                            if stream.write_all(&upper).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    Ok(addr)
}

/// A Service without a selector (the test owns its EndpointSlice) and that slice.
async fn service_with_endpoints(
    cluster: &TestCluster,
    name: &str,
    endpoints: &[(SocketAddr, bool)],
) -> Result<()> {
    let port = endpoints.first().map(|(a, _)| a.port()).unwrap_or(8080);
    post_ok(
        cluster,
        &format!("{NS}/services"),
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                "spec": {"ports": [{"name": "http", "port": 80, "targetPort": port}]}}),
    )
    .await?;
    // Every endpoint of one slice shares the port; a different port goes to its own slice.
    for (i, (addr, ready)) in endpoints.iter().enumerate() {
        post_ok(
            cluster,
            "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
            &json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"name": format!("{name}-{i}"),
                                 "labels": {"kubernetes.io/service-name": name}},
                    "addressType": "IPv4",
                    "ports": [{"name": "http", "port": addr.port(), "protocol": "TCP"}],
                    "endpoints": [{"addresses": [addr.ip().to_string()],
                                   "conditions": {"ready": ready}}]}),
        )
        .await?;
    }
    Ok(())
}

fn path(p: &str, path_type: &str, service: &str) -> Value {
    json!({"path": p, "pathType": path_type,
           "backend": {"service": {"name": service, "port": {"number": 80}}}})
}

struct Ingress {
    daemon: Daemon,
    http: SocketAddr,
    https: SocketAddr,
}

fn start_ingress(cluster: &TestCluster) -> Result<Ingress> {
    let http: SocketAddr = ([127, 0, 0, 1], process::free_port()?).into();
    let https: SocketAddr = ([127, 0, 0, 1], process::free_port()?).into();
    let metrics = process::free_port()?;
    let args = vec![
        format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
        format!("--http-listen={http}"),
        format!("--https-listen={https}"),
        format!("--metrics-listen=127.0.0.1:{metrics}"),
        "--publish-address=127.0.0.1".to_string(),
        "-v=4".to_string(),
    ];
    let daemon = Daemon::spawn(
        "rudder-ingress",
        &process::bin_dir()?.join("rudder-ingress"),
        &args,
        &cluster.dir().join("rudder-ingress.log"),
    )?;
    Ok(Ingress {
        daemon,
        http,
        https,
    })
}

/// GET `http://<host><path>` through the proxy: (status, body).
async fn get(
    client: &reqwest::Client,
    proxy: SocketAddr,
    host: &str,
    p: &str,
) -> Result<(u16, String)> {
    let resp = client
        .get(format!("http://{host}:{}{p}", proxy.port()))
        .send()
        .await?;
    Ok((resp.status().as_u16(), resp.text().await?))
}

#[tokio::test]
async fn ingress_routes_hosts_and_paths_and_serves_tls() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let a1 = backend("a", [127, 0, 0, 2]).await?;
    let a2 = backend("a2", [127, 0, 0, 3]).await?;
    let b = backend("b", [127, 0, 0, 4]).await?;
    let c = backend("c", [127, 0, 0, 5]).await?;
    let d = backend("d", [127, 0, 0, 6]).await?;
    // An endpoint nobody listens on: connect fails, the proxy tries the next one.
    let dead: SocketAddr = ([127, 0, 0, 7], process::free_port()?).into();
    service_with_endpoints(&cluster, "svc-a", &[(a1, true), (a2, true), (dead, true)]).await?;
    service_with_endpoints(&cluster, "svc-b", &[(b, true)]).await?;
    service_with_endpoints(&cluster, "svc-c", &[(c, true)]).await?;
    service_with_endpoints(&cluster, "svc-d", &[(d, true)]).await?;
    service_with_endpoints(&cluster, "svc-down", &[(d, false)]).await?;
    let ws = upgrade_backend([127, 0, 0, 8]).await?;
    service_with_endpoints(&cluster, "svc-ws", &[(ws, true)]).await?;

    let tls = cluster
        .ca()
        .issue_server("secure.test", &["secure.test".to_string()], &[])?;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    post_ok(
        &cluster,
        &format!("{NS}/secrets"),
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "secure-tls"},
                "type": "kubernetes.io/tls",
                "data": {"tls.crt": b64(&tls.cert_pem), "tls.key": b64(&tls.key_pem)}}),
    )
    .await?;
    post_ok(
        &cluster,
        &format!("{NET}/ingressclasses"),
        &json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                "metadata": {"name": "rudder"}, "spec": {"controller": "rudder.dev/ingress"}}),
    )
    .await?;
    post_ok(
        &cluster,
        &format!("{NET}/namespaces/default/ingresses"),
        &json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {
            "ingressClassName": "rudder",
            "tls": [{"hosts": ["secure.test"], "secretName": "secure-tls"}],
            "rules": [
                {"host": "foo.test", "http": {"paths": [
                    path("/", "Prefix", "svc-a"), path("/api", "Prefix", "svc-b")]}},
                {"host": "bar.test", "http": {"paths": [
                    path("/", "Prefix", "svc-c"), path("/static", "Exact", "svc-d")]}},
                {"host": "secure.test", "http": {"paths": [path("/", "Prefix", "svc-b")]}},
                {"host": "down.test", "http": {"paths": [path("/", "Prefix", "svc-down")]}},
                {"host": "ws.test", "http": {"paths": [path("/", "Prefix", "svc-ws")]}}
            ]}}),
    )
    .await?;
    // Another controller's Ingress: never served here.
    post_ok(
        &cluster,
        &format!("{NET}/namespaces/default/ingresses"),
        &json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": {"name": "foreign"},
                "spec": {"ingressClassName": "other",
                         "rules": [{"host": "other.test", "http": {"paths": [path("/", "Prefix", "svc-c")]}}]}}),
    )
    .await?;

    let ingress = start_ingress(&cluster)?;
    let hosts = [
        "foo.test",
        "bar.test",
        "down.test",
        "other.test",
        "secure.test",
    ];
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(0);
    for host in hosts {
        builder = builder.resolve(host, ingress.http);
    }
    let client = builder.build()?;

    ingress
        .daemon
        .eventually("foo.test routed", || async {
            Ok(matches!(
                get(&client, ingress.http, "foo.test", "/").await,
                Ok((200, _))
            )
            .then_some(()))
        })
        .await?;
    // Path precedence within a host: the longer prefix wins, element-wise.
    let (code, body) = get(&client, ingress.http, "foo.test", "/api/v1/items").await?;
    assert_eq!((code, body.as_str()), (200, "b /api/v1/items"));
    let (code, body) = get(&client, ingress.http, "foo.test", "/apiary").await?;
    assert_eq!(code, 200);
    assert!(body.starts_with("a"), "/apiary is not under /api: {body}");
    let (_, body) = get(&client, ingress.http, "bar.test", "/static").await?;
    assert_eq!(body, "d /static");
    let (_, body) = get(&client, ingress.http, "bar.test", "/static/x").await?;
    assert_eq!(
        body, "c /static/x",
        "Exact /static does not cover /static/x"
    );
    // Round robin over svc-a's two live endpoints; the dead one never fails a request.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..9 {
        let (code, body) = get(&client, ingress.http, "foo.test", "/rr").await?;
        assert_eq!(code, 200, "{body}");
        seen.insert(body);
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        vec!["a /rr".to_string(), "a2 /rr".to_string()]
    );
    assert_eq!(
        get(&client, ingress.http, "nothing.test", "/").await.ok(),
        None,
        "unresolved in the client"
    );
    assert_eq!(get(&client, ingress.http, "other.test", "/").await?.0, 404);
    assert_eq!(get(&client, ingress.http, "down.test", "/").await?.0, 503);

    // A protocol upgrade (WebSocket) is passed through and spliced: bytes flow both ways.
    let mut conn = tokio::net::TcpStream::connect(ingress.http).await?;
    conn.write_all(
        b"GET /chat HTTP/1.1\r\nhost: ws.test\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\n",
    )
    .await?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).await? == 0 {
            bail!("proxy closed before answering the upgrade: {head:?}");
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    conn.write_all(b"hello").await?;
    let mut echoed = [0u8; 5];
    tokio::time::timeout(Duration::from_secs(10), conn.read_exact(&mut echoed)).await??;
    assert_eq!(&echoed, b"HELLO");

    // TLS: the Secret's certificate (issued by the cluster CA) for secure.test.
    let tls_client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(
            cluster.ca().cert_pem().as_bytes(),
        )?)
        .resolve("secure.test", ingress.https)
        .timeout(Duration::from_secs(10))
        .build()?;
    let resp = tls_client
        .get(format!(
            "https://secure.test:{}/hello",
            ingress.https.port()
        ))
        .send()
        .await
        .context("HTTPS to secure.test (is the Secret's certificate served?)")?;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await?, "b /hello");

    // Status: the address the controller publishes.
    let status_ip = ingress
        .daemon
        .eventually("Ingress status", || async {
            let ing = get_ok(&cluster, &format!("{NET}/namespaces/default/ingresses/web")).await?;
            Ok(ing["status"]["loadBalancer"]["ingress"][0]["ip"]
                .as_str()
                .map(str::to_string))
        })
        .await?;
    assert_eq!(status_ip.parse::<IpAddr>()?, IpAddr::from([127, 0, 0, 1]));
    let foreign = get_ok(
        &cluster,
        &format!("{NET}/namespaces/default/ingresses/foreign"),
    )
    .await?;
    assert!(
        foreign["status"]["loadBalancer"]["ingress"].is_null(),
        "{foreign}"
    );

    // A change is picked up without a restart: bar.test's / now goes to svc-b.
    let (code, body) = cluster
        .patch_json(
            &format!("{NET}/namespaces/default/ingresses/web"),
            "application/json-patch+json",
            &json!([{"op": "replace", "path": "/spec/rules/1/http/paths/0/backend/service/name",
                     "value": "svc-b"}]),
        )
        .await?;
    assert!(code.is_success(), "{code} {body}");
    ingress
        .daemon
        .eventually("bar.test re-routed", || async {
            let (_, body) = get(&client, ingress.http, "bar.test", "/x").await?;
            Ok((body == "b /x").then_some(()))
        })
        .await?;
    Ok(())
}
