//! The aggregation layer: an APIService pointing at a Service routes
//! `/apis/<group>/<version>/...` to the Service's endpoint over TLS, verified with the
//! APIService's caBundle, presenting the `--proxy-client-cert-file` identity and passing the
//! caller in `X-Remote-User` / `X-Remote-Group`. The group shows up in both discovery forms,
//! the availability controller keeps the `Available` condition, and a dead backend answers
//! 503. The backend is a small rustls server inside this file that requires a client
//! certificate from the front-proxy CA and records what reaches it.

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::Engine;
use common::pki::{Ca, IssuedCert};
use integration_tests::metrics_adapter::{read_head, write_json_response};
use integration_tests::{process, status_of, TestCluster};
use reqwest::StatusCode;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{json, Value};
use x509_names::common_name;

const GROUP: &str = "echo.example.com";
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Minimal DER walking to read a certificate's CN without another dependency.
mod x509_names {
    /// The subject's CommonName (OID 2.5.4.3) in a DER certificate: the last CN, since the
    /// issuer's name comes before the subject's.
    pub fn common_name(der: &[u8]) -> Option<String> {
        let oid = [0x06, 0x03, 0x55, 0x04, 0x03];
        let at = der.windows(oid.len()).rposition(|w| w == oid)? + oid.len();
        let len = *der.get(at + 1)? as usize;
        let value = der.get(at + 2..at + 2 + len)?;
        Some(String::from_utf8_lossy(value).into_owned())
    }
}

/// What the backend saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    client_cn: Option<String>,
}

impl Seen {
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

struct Backend {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn pem_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    Ok(rustls_pemfile::certs(&mut pem.as_bytes()).collect::<Result<_, _>>()?)
}

fn pem_key(pem: &str) -> Result<PrivateKeyDer<'static>> {
    rustls_pemfile::private_key(&mut pem.as_bytes())?.context("no key in PEM")
}

impl Backend {
    /// Serve HTTPS with `serving`, requiring client certificates from `client_ca`.
    fn start(serving: &IssuedCert, client_ca: &str) -> Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for c in pem_certs(client_ca)? {
            roots.add(c)?;
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()?;
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .with_client_cert_verifier(verifier)
                .with_single_cert(pem_certs(&serving.cert_pem)?, pem_key(&serving.key_pem)?)?,
        );
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, seen) = (config.clone(), seen2.clone());
                std::thread::spawn(move || {
                    if let Err(e) = serve_one(tcp, config, &seen) {
                        eprintln!("backend: {e:#}");
                    }
                });
            }
        });
        Ok(Self { port, seen })
    }

    fn find(&self, prefix: &str) -> Option<Seen> {
        self.seen
            .lock()
            .ok()?
            .iter()
            .rev()
            .find(|s| s.request_line.starts_with(prefix))
            .cloned()
    }
}

fn serve_one(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    seen: &Mutex<Vec<Seen>>,
) -> Result<()> {
    let conn = rustls::ServerConnection::new(config)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let head = read_head(&mut tls)?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let client_cn = tls
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| common_name(c.as_ref()));
    let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    seen.lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .push(Seen {
            request_line: request_line.clone(),
            headers,
            client_cn,
        });
    let body = if path == format!("/apis/{GROUP}/v1") {
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("{GROUP}/v1"),
               "resources": [{"name": "widgets", "singularName": "widget", "namespaced": true,
                              "kind": "Widget", "verbs": ["get", "list"], "shortNames": ["wd"]}]})
    } else {
        json!({"kind": "Echo", "apiVersion": format!("{GROUP}/v1"), "path": path})
    };
    write_json_response(&mut tls, 200, &body)
}

async fn eventually<T, F, Fut>(cluster: &TestCluster, what: &str, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if Instant::now() > deadline {
            bail!(
                "timed out waiting for {what}\n--- apiserver log ---\n{}",
                cluster.apiserver_log_tail(40)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The APIService's Available condition once its reason is `reason`.
async fn wait_available(cluster: &TestCluster, reason: &str) -> Result<Value> {
    eventually(cluster, &format!("Available reason {reason}"), || async {
        let (code, obj) = cluster
            .get_json(&format!(
                "/apis/apiregistration.k8s.io/v1/apiservices/v1.{GROUP}"
            ))
            .await?;
        assert_eq!(code, StatusCode::OK, "{obj}");
        let cond = obj["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Available"))
            .cloned();
        Ok(cond.filter(|c| c["reason"] == reason))
    })
    .await
}

/// GET `path` until it answers `code` (the proxy and discovery read the apiserver's watch
/// cache, which trails a write by a moment, as upstream's informers do).
async fn get_until(cluster: &TestCluster, path: &str, code: StatusCode) -> Result<Value> {
    eventually(cluster, &format!("GET {path} answering {code}"), || async {
        let (got, body) = cluster.get_json(path).await?;
        Ok((got == code).then_some(body))
    })
    .await
}

fn endpoints(port: u16) -> Value {
    json!({"metadata": {"name": "echo"},
           "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"name": "https", "port": port}]}]})
}

#[tokio::test]
async fn apiservice_proxies_with_identity_and_joins_discovery() -> Result<()> {
    let pki = tempfile::tempdir()?;
    let path = |n: &str| pki.path().join(n);
    // The front proxy's own CA (as kubeadm keeps it apart from the cluster CA).
    let front_proxy_ca = Ca::generate("front-proxy-ca")?;
    front_proxy_ca.write(&path("front-proxy-ca.crt"), &path("front-proxy-ca.key"))?;
    front_proxy_ca
        .issue_client("front-proxy-client", &[])?
        .write(
            &path("front-proxy-client.crt"),
            &path("front-proxy-client.key"),
        )?;
    // The backend's serving certificate, from a CA the APIService names in caBundle.
    let backend_ca = Ca::generate("echo-ca")?;
    let serving = backend_ca.issue_server("echo", &["echo.default.svc".to_string()], &[])?;
    let backend = Backend::start(&serving, front_proxy_ca.cert_pem())?;

    let arg = |flag: &str, file: &str| format!("{flag}={}", path(file).display());
    let args = [
        arg("--proxy-client-cert-file", "front-proxy-client.crt"),
        arg("--proxy-client-key-file", "front-proxy-client.key"),
        arg("--requestheader-client-ca-file", "front-proxy-ca.crt"),
        "--requestheader-allowed-names=front-proxy-client".to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let cluster = TestCluster::start_with_args(&args).await?;

    // The settings extension apiservers read.
    let (code, cm) = cluster
        .get_json("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication")
        .await?;
    assert_eq!(code, StatusCode::OK, "{cm}");
    assert_eq!(
        cm["data"]["requestheader-client-ca-file"],
        front_proxy_ca.cert_pem()
    );
    assert_eq!(
        cm["data"]["requestheader-allowed-names"],
        r#"["front-proxy-client"]"#
    );
    assert_eq!(
        cm["data"]["requestheader-username-headers"],
        r#"["X-Remote-User"]"#
    );
    assert_eq!(cm["data"]["client-ca-file"], cluster.ca().cert_pem());

    // An APIService without its Service is not available.
    let ca_bundle = base64::engine::general_purpose::STANDARD.encode(backend_ca.cert_pem());
    let apiservice = json!({
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": format!("v1.{GROUP}")},
        "spec": {"group": GROUP, "version": "v1", "groupPriorityMinimum": 1000, "versionPriority": 15,
                 "caBundle": ca_bundle, "service": {"namespace": "default", "name": "echo"}},
    });
    let (code, created) = cluster
        .post_json("/apis/apiregistration.k8s.io/v1/apiservices", &apiservice)
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["spec"]["service"]["port"], 443,
        "port defaults to 443"
    );
    let cond = wait_available(&cluster, "ServiceNotFound").await?;
    assert_eq!(cond["status"], "False");
    let body = get_until(
        &cluster,
        &format!("/apis/{GROUP}/v1/namespaces/default/widgets"),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await?;
    assert_eq!(
        status_of(&body),
        Some((503, "ServiceUnavailable".to_string()))
    );
    assert_eq!(
        body["message"],
        "the server is currently unable to handle the request"
    );

    // A bad name is refused as upstream refuses it.
    let mut bad = apiservice.clone();
    bad["metadata"]["name"] = json!("echo");
    let (code, body) = cluster
        .post_json("/apis/apiregistration.k8s.io/v1/apiservices", &bad)
        .await?;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Service and endpoints: the backend becomes available after a discovery check.
    let service = json!({"metadata": {"name": "echo"},
        "spec": {"ports": [{"name": "https", "port": 443, "targetPort": backend.port}]}});
    let (code, body) = cluster
        .post_json("/api/v1/namespaces/default/services", &service)
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = cluster
        .post_json(
            "/api/v1/namespaces/default/endpoints",
            &endpoints(backend.port),
        )
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let cond = wait_available(&cluster, "Passed").await?;
    assert_eq!(cond["status"], "True", "{cond}");
    let check = backend
        .find(&format!("GET /apis/{GROUP}/v1 "))
        .context("the discovery check reached the backend")?;
    assert_eq!(check.client_cn.as_deref(), Some("front-proxy-client"));

    // A request is proxied with the caller's identity; a forged identity header is dropped.
    get_until(
        &cluster,
        &format!("/apis/{GROUP}/v1/namespaces/default/widgets"),
        StatusCode::OK,
    )
    .await?;
    let resp = cluster
        .client()
        .get(cluster.url(&format!(
            "/apis/{GROUP}/v1/namespaces/default/widgets?limit=1"
        )))
        .header("X-Remote-User", "mallory")
        .header("X-Remote-Group", "system:masters-forged")
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let echoed: Value = resp.json().await?;
    assert_eq!(echoed["kind"], "Echo");
    assert_eq!(
        echoed["path"],
        format!("/apis/{GROUP}/v1/namespaces/default/widgets?limit=1")
    );
    let seen = backend
        .find(&format!(
            "GET /apis/{GROUP}/v1/namespaces/default/widgets?limit=1 "
        ))
        .context("the request reached the backend")?;
    assert_eq!(seen.client_cn.as_deref(), Some("front-proxy-client"));
    assert_eq!(seen.all("x-remote-user"), ["kubernetes-admin"]);
    let groups = seen.all("x-remote-group");
    assert!(groups.contains(&"system:masters"), "{groups:?}");
    assert!(!groups.contains(&"system:masters-forged"), "{groups:?}");
    assert!(seen.all("authorization").is_empty());

    // A user RBAC does not allow is stopped here, before the backend.
    let bob = cluster.client_for("bob", &[])?;
    let resp = bob
        .get(cluster.url(&format!("/apis/{GROUP}/v1/namespaces/default/widgets")))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // Discovery: the legacy group list, the group, and the aggregated v2 document.
    let (_, apis) = cluster.get_json("/apis").await?;
    let group = apis["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["name"] == GROUP))
        .context("group in /apis")?;
    assert_eq!(
        group["preferredVersion"]["groupVersion"],
        format!("{GROUP}/v1")
    );
    let (code, g) = cluster.get_json(&format!("/apis/{GROUP}")).await?;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(g["kind"], "APIGroup");
    let (code, list) = cluster.get_json(&format!("/apis/{GROUP}/v1")).await?;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(list["resources"][0]["name"], "widgets");
    let aggregated: Value = cluster
        .client()
        .get(cluster.url("/apis"))
        .header("Accept", AGGREGATED)
        .send()
        .await?
        .json()
        .await?;
    let item = aggregated["items"]
        .as_array()
        .and_then(|i| i.iter().find(|g| g["metadata"]["name"] == GROUP))
        .context("group in aggregated discovery")?;
    let v1 = &item["versions"][0];
    assert_eq!(v1["version"], "v1");
    assert_eq!(v1["freshness"], "Current");
    assert_eq!(v1["resources"][0]["resource"], "widgets");
    assert_eq!(v1["resources"][0]["scope"], "Namespaced");
    assert_eq!(v1["resources"][0]["responseKind"]["kind"], "Widget");

    // The real kubectl sees the group through discovery.
    let out =
        cluster
            .real_kubectl()
            .output(&["api-resources", "--api-group", GROUP, "--no-headers"])?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("widgets") && stdout.contains("Widget"),
        "{stdout}"
    );

    // The endpoint dies: the discovery check fails and requests get 503.
    let dead_port = process::free_port()?;
    let (code, current) = cluster
        .get_json("/api/v1/namespaces/default/endpoints/echo")
        .await?;
    assert_eq!(code, StatusCode::OK);
    let mut moved = endpoints(dead_port);
    moved["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
    let (code, body) = cluster
        .put_json("/api/v1/namespaces/default/endpoints/echo", &moved)
        .await?;
    assert_eq!(code, StatusCode::OK, "{body}");
    let cond = wait_available(&cluster, "FailedDiscoveryCheck").await?;
    assert_eq!(cond["status"], "False");
    assert!(
        cond["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("127.0.0.1:{dead_port}"))),
        "{cond}"
    );
    let (code, body) = cluster
        .get_json(&format!("/apis/{GROUP}/v1/namespaces/default/widgets"))
        .await?;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["reason"], "ServiceUnavailable");

    // No endpoints at all.
    let (code, _) = cluster
        .delete("/api/v1/namespaces/default/endpoints/echo")
        .await?;
    assert_eq!(code, StatusCode::OK);
    let cond = wait_available(&cluster, "MissingEndpoints").await?;
    assert_eq!(cond["status"], "False");

    // Deleting the APIService removes the group from discovery.
    let (code, _) = cluster
        .delete(&format!(
            "/apis/apiregistration.k8s.io/v1/apiservices/v1.{GROUP}"
        ))
        .await?;
    assert_eq!(code, StatusCode::OK);
    get_until(
        &cluster,
        &format!("/apis/{GROUP}/v1"),
        StatusCode::NOT_FOUND,
    )
    .await?;
    let (_, apis) = cluster.get_json("/apis").await?;
    assert!(apis["groups"]
        .as_array()
        .is_some_and(|g| g.iter().all(|g| g["name"] != GROUP)));
    Ok(())
}
