//! A stand-in custom/external metrics adapter (what prometheus-adapter or KEDA are in a
//! real cluster): an HTTPS server on loopback answering `custom.metrics.k8s.io/v1beta2` and
//! `external.metrics.k8s.io/v1beta1` with bodies the test sets, registered with the
//! apiserver's aggregation layer through APIServices, a selector-less Service and its
//! Endpoints pointing at 127.0.0.1:<port>. It records the request lines that reach it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use base64::Engine;
use common::pki::Ca;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{json, Value};

use crate::controller_manager::{get_ok, post_ok};
use crate::TestCluster;

/// The group-versions the adapter serves, as (group, version).
pub const GROUP_VERSIONS: [(&str, &str); 2] = [
    ("custom.metrics.k8s.io", "v1beta2"),
    ("external.metrics.k8s.io", "v1beta1"),
];
const SERVICE: &str = "metrics-adapter";
const NAMESPACE: &str = "default";

type Answers = HashMap<String, (u16, Value)>;

/// The running adapter; the server thread lives as long as the test process.
pub struct MetricsAdapter {
    ca: Ca,
    port: u16,
    answers: Arc<Mutex<Answers>>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl MetricsAdapter {
    /// Serve on a free loopback port with a certificate for the Service's DNS name.
    pub fn start() -> Result<MetricsAdapter> {
        let ca = Ca::generate("metrics-adapter-ca")?;
        let serving = ca.issue_server(SERVICE, &[format!("{SERVICE}.{NAMESPACE}.svc")], &[])?;
        let certs: Vec<CertificateDer<'static>> =
            rustls_pemfile::certs(&mut serving.cert_pem.as_bytes()).collect::<Result<_, _>>()?;
        let key: PrivateKeyDer<'static> =
            rustls_pemfile::private_key(&mut serving.key_pem.as_bytes())?.context("no key")?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(certs, key)?,
        );
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let answers = Arc::new(Mutex::new(Answers::new()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (a, s) = (answers.clone(), seen.clone());
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, a, s) = (config.clone(), a.clone(), s.clone());
                std::thread::spawn(move || {
                    if let Err(e) = serve_one(tcp, config, &a, &s) {
                        eprintln!("metrics adapter: {e:#}");
                    }
                });
            }
        });
        Ok(MetricsAdapter {
            ca,
            port,
            answers,
            seen,
        })
    }

    /// Answer GETs of `path` (without the query) with `code` and `body` from now on.
    pub fn set(&self, path: &str, code: u16, body: Value) {
        if let Ok(mut a) = self.answers.lock() {
            a.insert(path.to_string(), (code, body));
        }
    }

    /// The request lines (`GET /apis/... HTTP/1.1`) received so far whose path starts
    /// with `prefix`.
    pub fn requests(&self, prefix: &str) -> Vec<String> {
        self.seen.lock().map_or_else(
            |_| Vec::new(),
            |s| {
                s.iter()
                    .filter(|l| l.split(' ').nth(1).is_some_and(|p| p.starts_with(prefix)))
                    .cloned()
                    .collect()
            },
        )
    }

    /// Create the Service, its Endpoints and both APIServices, and wait until the
    /// apiserver reports them Available.
    pub async fn register(&self, cluster: &TestCluster) -> Result<()> {
        post_ok(
            cluster,
            &format!("/api/v1/namespaces/{NAMESPACE}/services"),
            &json!({"metadata": {"name": SERVICE},
                "spec": {"ports": [{"name": "https", "port": 443, "targetPort": self.port}]}}),
        )
        .await?;
        post_ok(
            cluster,
            &format!("/api/v1/namespaces/{NAMESPACE}/endpoints"),
            &json!({"metadata": {"name": SERVICE}, "subsets": [{
                "addresses": [{"ip": "127.0.0.1"}],
                "ports": [{"name": "https", "port": self.port}]}]}),
        )
        .await?;
        let ca_bundle = base64::engine::general_purpose::STANDARD.encode(self.ca.cert_pem());
        for (group, version) in GROUP_VERSIONS {
            post_ok(
                cluster,
                "/apis/apiregistration.k8s.io/v1/apiservices",
                &json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                    "metadata": {"name": format!("{version}.{group}")},
                    "spec": {"group": group, "version": version, "groupPriorityMinimum": 100,
                        "versionPriority": 100, "caBundle": ca_bundle,
                        "service": {"namespace": NAMESPACE, "name": SERVICE}}}),
            )
            .await?;
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        for (group, version) in GROUP_VERSIONS {
            loop {
                let path = format!("/apis/apiregistration.k8s.io/v1/apiservices/{version}.{group}");
                let svc = get_ok(cluster, &path).await?;
                let available = svc["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Available" && c["status"] == "True");
                if available {
                    break;
                }
                if std::time::Instant::now() > deadline {
                    bail!("APIService {version}.{group} never became Available: {svc}");
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }
}

/// The discovery document of a served group-version (what the availability check reads).
fn discovery(path: &str) -> Option<Value> {
    let (group, version) = GROUP_VERSIONS
        .into_iter()
        .find(|(g, v)| path == format!("/apis/{g}/{v}"))?;
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1",
        "groupVersion": format!("{group}/{version}"), "resources": []}))
}

fn not_found(path: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404,
        "reason": "NotFound", "message": format!("the server could not find the metric at {path}")})
}

/// Read an HTTP/1.1 request head (up to the blank line) from `s`, for the small HTTPS
/// stand-ins tests put behind the aggregation layer.
pub fn read_head<S: Read>(s: &mut S) -> Result<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte)? == 0 {
            bail!("connection closed before the end of the HTTP head");
        }
        buf.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn serve_one(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    answers: &Mutex<Answers>,
    seen: &Mutex<Vec<String>>,
) -> Result<()> {
    let conn = rustls::ServerConnection::new(config)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let head = read_head(&mut tls)?;
    let request_line = head.split("\r\n").next().unwrap_or_default().to_string();
    let target = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    let path = target.split('?').next().unwrap_or_default().to_string();
    if let Ok(mut s) = seen.lock() {
        s.push(request_line);
    }
    let answer = answers.lock().ok().and_then(|a| a.get(&path).cloned());
    let (code, body) = match (answer, discovery(&path)) {
        (Some(a), _) => a,
        (None, Some(d)) => (200, d),
        (None, None) => (404, not_found(&path)),
    };
    write_json_response(&mut tls, code, &body)
}

/// Answer a stand-in's request with `code` and the JSON `body`, then close the TLS session
/// (one request per connection, as the stand-ins serve).
pub fn write_json_response(
    tls: &mut rustls::StreamOwned<rustls::ServerConnection, TcpStream>,
    code: u16,
    body: &Value,
) -> Result<()> {
    let body = serde_json::to_vec(body)?;
    write!(
        tls,
        "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    tls.write_all(&body)?;
    tls.flush()?;
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Ok(())
}
