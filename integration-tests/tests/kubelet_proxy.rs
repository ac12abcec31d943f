//! The apiserver relays the kubelet's subresources — `pods/log`, `pods/exec`, `pods/attach`,
//! `nodes/proxy` — to the kubelet of the pod's node, found through the Node's InternalIP and
//! `status.daemonEndpoints.kubeletEndpoint.Port`.
//!
//! A fake kubelet (blocking rustls server in threads, inside this file) records what reaches
//! it and checks that the apiserver presents its `--kubelet-client-certificate`; the
//! apiserver verifies the fake's serving certificate with `--kubelet-certificate-authority`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use common::pki::{Ca, IssuedCert};
use futures::StreamExt;
use integration_tests::{process, status_of, TestCluster};
use reqwest::StatusCode;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};

/// What the fake kubelet saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    /// `GET /containerLogs/default/web/app?tailLines=5`
    request_line: String,
    /// Header lines, lower-cased names.
    headers: Vec<(String, String)>,
    /// The client certificate was exactly the apiserver's kubelet-client certificate.
    client_cert_ok: bool,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct FakeKubelet {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Lets the follow-mode log handler write its second line.
    release_second_line: Sender<()>,
    /// Whether the second line was written only after the release (not on timeout).
    second_line_released: Arc<Mutex<Option<bool>>>,
}

fn pem_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    Ok(rustls_pemfile::certs(&mut pem.as_bytes()).collect::<Result<_, _>>()?)
}

fn pem_key(pem: &str) -> Result<rustls::pki_types::PrivateKeyDer<'static>> {
    rustls_pemfile::private_key(&mut pem.as_bytes())?.context("no key in PEM")
}

impl FakeKubelet {
    /// Serve HTTPS on a free loopback port with `serving`, requiring client certificates
    /// signed by `client_ca` and recording whether the one presented is `expected_client`.
    fn start(serving: &IssuedCert, client_ca: &str, expected_client: &str) -> Result<Self> {
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
        let expected = pem_certs(expected_client)?
            .into_iter()
            .next()
            .context("no client certificate")?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let released = Arc::new(Mutex::new(None));
        let (seen2, released2) = (seen.clone(), released.clone());
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, expected) = (config.clone(), expected.clone());
                let (seen, release_rx, released) =
                    (seen2.clone(), release_rx.clone(), released2.clone());
                std::thread::spawn(move || {
                    if let Err(e) = serve_one(tcp, config, &expected, &seen, &release_rx, &released)
                    {
                        eprintln!("fake kubelet: {e:#}");
                    }
                });
            }
        });
        Ok(Self {
            port,
            seen,
            release_second_line: release_tx,
            second_line_released: released,
        })
    }

    /// The recorded request whose line starts with `prefix` (e.g. `GET /exec/`).
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

type Tls = rustls::StreamOwned<rustls::ServerConnection, TcpStream>;

/// Read up to the end of an HTTP head; returns the head and any bytes after it.
fn read_head<S: Read>(s: &mut S) -> Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            bail!("connection closed before the end of the HTTP head");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn write_chunk(s: &mut Tls, data: &[u8]) -> Result<()> {
    write!(s, "{:x}\r\n", data.len())?;
    s.write_all(data)?;
    s.write_all(b"\r\n")?;
    s.flush()?;
    Ok(())
}

/// One SPDY frame as the fake kubelet reads it: control type (None for DATA), stream id,
/// flags, payload.
struct SpdyFrame {
    control: Option<u16>,
    stream: u32,
    flags: u8,
    payload: Vec<u8>,
}

fn read_spdy_frame(s: &mut Tls) -> Result<Option<SpdyFrame>> {
    let mut head = [0u8; 8];
    match s.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let len = u32::from_be_bytes([0, head[5], head[6], head[7]]) as usize;
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload)?;
    let control = (head[0] & 0x80 != 0).then(|| u16::from_be_bytes([head[2], head[3]]));
    let stream = if control.is_some() {
        payload
            .get(..4)
            .map(|b| u32::from_be_bytes([b[0] & 0x7F, b[1], b[2], b[3]]))
            .unwrap_or_default()
    } else {
        u32::from_be_bytes([head[0] & 0x7F, head[1], head[2], head[3]])
    };
    Ok(Some(SpdyFrame {
        control,
        stream,
        flags: head[4],
        payload,
    }))
}

fn write_spdy_data(s: &mut Tls, stream: u32, data: &[u8], fin: bool) -> Result<()> {
    let len = (data.len() as u32).to_be_bytes();
    s.write_all(&stream.to_be_bytes())?;
    s.write_all(&[u8::from(fin), len[1], len[2], len[3]])?;
    s.write_all(data)?;
    s.flush()?;
    Ok(())
}

/// A remote command over SPDY as a kubelet serves it, with `stdin=1&stdout=1`: streams
/// error (1), stdin (3), stdout (5) are opened by the client and each gets a SYN_REPLY;
/// stdin comes back on stdout prefixed `echo:`; when stdin is closed (FIN) the final
/// Status goes out on the error stream and the connection closes.
fn fake_spdy_exec(tls: &mut Tls) -> Result<()> {
    let mut opened = Vec::new();
    while let Some(frame) = read_spdy_frame(tls)? {
        match (frame.control, frame.stream) {
            (Some(1), id) => {
                opened.push(id);
                // SYN_REPLY with an empty (uncompressed-length 0 is fine to skip) block.
                let mut reply = vec![0x80, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04];
                reply.extend_from_slice(&id.to_be_bytes());
                tls.write_all(&reply)?;
                tls.flush()?;
            }
            (None, 3) => {
                if !frame.payload.is_empty() {
                    let mut out = b"echo:".to_vec();
                    out.extend_from_slice(&frame.payload);
                    write_spdy_data(tls, 5, &out, false)?;
                }
                if frame.flags & 1 != 0 {
                    let status = format!(
                        r#"{{"metadata":{{}},"status":"Success","message":"streams {opened:?}"}}"#
                    );
                    write_spdy_data(tls, 1, status.as_bytes(), true)?;
                    break;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn serve_one(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    expected_client: &CertificateDer<'static>,
    seen: &Mutex<Vec<Seen>>,
    release: &Mutex<Receiver<()>>,
    released: &Mutex<Option<bool>>,
) -> Result<()> {
    let mut tls: Tls = rustls::StreamOwned::new(rustls::ServerConnection::new(config)?, tcp);
    let (head, _) = read_head(&mut tls)?;
    let client_cert_ok = tls
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .is_some_and(|c| c == expected_client);
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let record = Seen {
        request_line: request_line.clone(),
        headers,
        client_cert_ok,
    };
    seen.lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .push(record.clone());
    let target = request_line.split(' ').nth(1).unwrap_or_default();

    if target.starts_with("/containerLogs/") {
        tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")?;
        if target.contains("follow=true") {
            write_chunk(&mut tls, b"line 1\n")?;
            // Only a client that already saw line 1 releases line 2.
            let got = release
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .recv_timeout(Duration::from_secs(20))
                .is_ok();
            *released.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = Some(got);
            write_chunk(&mut tls, b"line 2\n")?;
        } else {
            write_chunk(&mut tls, b"hello from app\n")?;
        }
        tls.write_all(b"0\r\n\r\n")?;
        tls.flush()?;
    } else if target.starts_with("/exec/") && record.header("upgrade") == Some("SPDY/3.1") {
        tls.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n")?;
        tls.flush()?;
        fake_spdy_exec(&mut tls)?;
    } else if target.starts_with("/attach/") {
        let body = "refused: this kubelet takes no upgrade here";
        write!(
            tls,
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nX-Fake-Kubelet: refused\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        tls.flush()?;
    } else {
        let body = json!({"node": {"nodeName": "fake-node"}, "path": target}).to_string();
        write!(
            tls,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        tls.flush()?;
    }
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Ok(())
}

/// A running cluster whose apiserver trusts `kubelet-ca` and presents a client certificate
/// issued by it, a fake kubelet registered as Node `fake-node`, and pods bound to it.
struct Setup {
    cluster: TestCluster,
    kubelet: FakeKubelet,
    _dir: tempfile::TempDir,
}

async fn create_node(cluster: &TestCluster, name: &str, port: u16) -> Result<()> {
    let status = json!({
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
    });
    let (code, body) = cluster
        .post_json(
            "/api/v1/nodes",
            &json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "status": status}),
        )
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    // Some strategies drop status on create; set it through the status subresource too.
    let (code, body) = cluster
        .patch_json(
            &format!("/api/v1/nodes/{name}/status"),
            "application/merge-patch+json",
            &json!({"status": status}),
        )
        .await?;
    assert_eq!(code, StatusCode::OK, "{body}");
    Ok(())
}

async fn create_pod(
    cluster: &TestCluster,
    name: &str,
    node: Option<&str>,
    containers: &[&str],
) -> Result<()> {
    let containers: Vec<Value> = containers
        .iter()
        .map(|c| json!({"name": c, "image": "busybox:latest"}))
        .collect();
    let mut spec = json!({"containers": containers});
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    let (code, body) = cluster
        .post_json(
            "/api/v1/namespaces/default/pods",
            &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}),
        )
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    Ok(())
}

async fn setup() -> Result<Setup> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let kubelet_ca = Ca::generate("kubelet-ca")?;
    let serving = kubelet_ca.issue_server("fake-kubelet", &[], &[[127, 0, 0, 1].into()])?;
    let apiserver_client = kubelet_ca.issue_client(
        "kube-apiserver-kubelet-client",
        &["system:masters".to_string()],
    )?;
    let (ca_path, cert_path, key_path) = (
        dir.path().join("kubelet-ca.crt"),
        dir.path().join("apiserver-kubelet-client.crt"),
        dir.path().join("apiserver-kubelet-client.key"),
    );
    common::pki::write_cert_pem(&ca_path, kubelet_ca.cert_pem())?;
    apiserver_client.write(&cert_path, &key_path)?;
    let kubelet = FakeKubelet::start(&serving, kubelet_ca.cert_pem(), &apiserver_client.cert_pem)?;

    let args = [
        format!("--kubelet-client-certificate={}", cert_path.display()),
        format!("--kubelet-client-key={}", key_path.display()),
        format!("--kubelet-certificate-authority={}", ca_path.display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let cluster = TestCluster::start_with_args(&args).await?;
    create_node(&cluster, "fake-node", kubelet.port).await?;
    create_pod(&cluster, "web", Some("fake-node"), &["app"]).await?;
    Ok(Setup {
        cluster,
        kubelet,
        _dir: dir,
    })
}

/// A raw HTTP/1.1 exchange with the apiserver over TLS as the admin (no ALPN, as kubectl's
/// SPDY and WebSocket dialers do), for requests that switch protocols.
struct RawClient {
    tls: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
}

impl RawClient {
    fn connect(cluster: &TestCluster) -> Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for c in pem_certs(cluster.ca().cert_pem())? {
            roots.add(c)?;
        }
        let admin = cluster.admin_cert();
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(pem_certs(&admin.cert_pem)?, pem_key(&admin.key_pem)?)?;
        let port: u16 = cluster
            .base_url()
            .rsplit(':')
            .next()
            .context("port")?
            .parse()?;
        let tcp = TcpStream::connect(("127.0.0.1", port))?;
        tcp.set_read_timeout(Some(Duration::from_secs(20)))?;
        let conn = rustls::ClientConnection::new(
            Arc::new(config),
            ServerName::try_from("127.0.0.1")?.to_owned(),
        )?;
        Ok(Self {
            tls: rustls::StreamOwned::new(conn, tcp),
        })
    }

    /// Send a GET with upgrade headers; returns the response head and bytes read after it.
    fn upgrade_get(&mut self, path: &str) -> Result<(String, Vec<u8>)> {
        write!(
            self.tls,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n"
        )?;
        self.tls.flush()?;
        read_head(&mut self.tls)
    }

    /// Send one masked binary WebSocket frame (clients must mask, RFC 6455 §5.3).
    fn send_ws(&mut self, payload: &[u8]) -> Result<()> {
        let mask = [0x12u8, 0x34, 0x56, 0x78];
        let mut frame = vec![0x82];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.tls.write_all(&frame)?;
        self.tls.flush()?;
        Ok(())
    }

    /// Read server frames (unmasked) until a close frame or the end of the connection;
    /// returns (opcode, payload) for each.
    fn read_ws_until_close(&mut self, mut got: Vec<u8>) -> Result<Vec<WsFrame>> {
        let mut frames = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            while let Some((op, payload, used)) = parse_server_frame(&got) {
                got.drain(..used);
                frames.push((op, payload));
                if op == 8 {
                    return Ok(frames);
                }
            }
            let n = self.tls.read(&mut chunk)?;
            if n == 0 {
                return Ok(frames);
            }
            got.extend_from_slice(&chunk[..n]);
        }
    }

    /// Read until `want` appears (or the connection ends / times out).
    fn read_until(&mut self, mut got: Vec<u8>, want: &[u8]) -> Result<Vec<u8>> {
        let mut chunk = [0u8; 4096];
        while !got.windows(want.len()).any(|w| w == want) {
            let n = self.tls.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&chunk[..n]);
        }
        Ok(got)
    }
}

/// A WebSocket frame as the test reads it: opcode and payload.
type WsFrame = (u8, Vec<u8>);

/// One unmasked server frame from the front of `b`: (opcode, payload, bytes used).
fn parse_server_frame(b: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    let op = b.first()? & 0x0F;
    let (len, start) = match b.get(1)? & 0x7F {
        126 => (u16::from_be_bytes([*b.get(2)?, *b.get(3)?]) as usize, 4),
        127 => return None,
        n => (n as usize, 2),
    };
    let payload = b.get(start..start + len)?.to_vec();
    Some((op, payload, start + len))
}

fn status_code(head: &str) -> u16 {
    head.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn logs_reach_the_kubelet_with_translated_options_and_client_cert() -> Result<()> {
    let s = setup().await?;
    let resp = s
        .cluster
        .client()
        .get(s.cluster.url(
            "/api/v1/namespaces/default/pods/web/log?container=app&tailLines=5&timestamps=true&limitBytes=100&insecureSkipTLSVerifyBackend=false",
        ))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"text/plain"[..])
    );
    assert_eq!(resp.text().await?, "hello from app\n");
    let seen = s
        .kubelet
        .find("GET /containerLogs/")
        .context("the kubelet saw no log request")?;
    assert_eq!(
        seen.request_line,
        "GET /containerLogs/default/web/app?limitBytes=100&tailLines=5&timestamps=true HTTP/1.1"
    );
    assert!(
        seen.client_cert_ok,
        "the apiserver must present --kubelet-client-certificate"
    );
    assert!(seen.header("authorization").is_none());

    // Without `container`, the pod's only container is meant.
    let (code, _) = s
        .cluster
        .get_json("/api/v1/namespaces/default/pods/web/log")
        .await?;
    assert_eq!(code, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn follow_streams_each_line_as_the_kubelet_writes_it() -> Result<()> {
    let s = setup().await?;
    let resp = s
        .cluster
        .client()
        .get(
            s.cluster
                .url("/api/v1/namespaces/default/pods/web/log?follow=true"),
        )
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.bytes_stream();
    let mut got = Vec::new();
    // The fake writes line 2 only after we release it, so seeing line 1 first proves the
    // apiserver does not buffer.
    tokio::time::timeout(Duration::from_secs(10), async {
        while !got.ends_with(b"line 1\n") {
            match body.next().await {
                Some(Ok(chunk)) => got.extend_from_slice(&chunk),
                other => bail!("stream ended early: {other:?}"),
            }
        }
        Ok(())
    })
    .await
    .context("line 1 did not arrive before line 2 was written: the log stream is buffered")??;
    assert_eq!(got, b"line 1\n");
    s.kubelet.release_second_line.send(())?;
    while let Some(chunk) = body.next().await {
        got.extend_from_slice(&chunk?);
    }
    assert_eq!(String::from_utf8_lossy(&got), "line 1\nline 2\n");
    assert_eq!(*s.kubelet.second_line_released.lock().unwrap(), Some(true));
    let seen = s
        .kubelet
        .find("GET /containerLogs/")
        .context("no log request")?;
    assert_eq!(
        seen.request_line,
        "GET /containerLogs/default/web/app?follow=true HTTP/1.1"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_exec_is_translated_to_spdy_and_a_refused_upgrade_passes_through() -> Result<()> {
    let s = setup().await?;
    let cluster = &s.cluster;
    let (head, frames) = tokio::task::block_in_place(|| -> Result<(String, Vec<WsFrame>)> {
        let mut c = RawClient::connect(cluster)?;
        let (head, rest) = c.upgrade_get(
            "/api/v1/namespaces/default/pods/web/exec?container=app&command=echo&command=hi%20there&stdin=true&stdout=true&tty=false",
        )?;
        if status_code(&head) != 101 {
            let rest = c.read_until(rest, b"}")?;
            return Ok((head, vec![(0, rest)]));
        }
        // stdin on channel 0, then v5's close signal for channel 0.
        c.send_ws(b"\x00ping")?;
        let got = c.read_until(rest, b"echo:ping")?;
        c.send_ws(&[255, 0])?;
        let frames = c.read_ws_until_close(got)?;
        Ok((head, frames))
    })?;
    assert_eq!(status_code(&head), 101, "{head}\n{frames:?}");
    let lower = head.to_ascii_lowercase();
    assert!(
        lower.contains("sec-websocket-protocol: v5.channel.k8s.io"),
        "{head}"
    );
    assert!(lower.contains("upgrade: websocket"), "{head}");
    // RFC 6455's answer to the key RawClient sends.
    assert!(
        lower.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    let binary: Vec<&Vec<u8>> = frames
        .iter()
        .filter(|(op, _)| *op == 2)
        .map(|(_, p)| p)
        .collect();
    // stdout (channel 1) carries the kubelet's stdout stream (SPDY stream 5).
    assert_eq!(
        binary.first().map(|p| &p[..]),
        Some(&b"\x01echo:ping"[..]),
        "{frames:?}"
    );
    // The error channel carries the Status the kubelet sent once stdin was closed (FIN),
    // naming the streams it saw opened: error, stdin, stdout.
    let status = binary
        .iter()
        .find(|p| p.first() == Some(&3))
        .context("no error-channel message")?;
    let status: Value = serde_json::from_slice(&status[1..])?;
    assert_eq!(status["status"], "Success");
    assert_eq!(status["message"], "streams [1, 3, 5]");
    // A close frame with status 1000 (client-go reads 1005, "no status", as an error).
    assert_eq!(
        frames
            .last()
            .map(|(op, p)| (*op, p.get(..2).map(<[u8]>::to_vec))),
        Some((8, Some(vec![0x03, 0xE8]))),
        "ends with a normal closure"
    );

    let seen = s.kubelet.find("GET /exec/").context("no exec request")?;
    assert_eq!(
        seen.request_line,
        "GET /exec/default/web/app?command=echo&command=hi+there&stdin=1&stdout=1 HTTP/1.1"
    );
    assert_eq!(seen.header("upgrade"), Some("SPDY/3.1"));
    assert_eq!(
        seen.header("x-stream-protocol-version"),
        Some("v4.channel.k8s.io")
    );
    assert!(seen.client_cert_ok);

    // A kubelet that refuses the upgrade: its status, headers and body reach the client.
    let (head, body) = tokio::task::block_in_place(|| -> Result<(String, Vec<u8>)> {
        let mut c = RawClient::connect(cluster)?;
        let (head, rest) =
            c.upgrade_get("/api/v1/namespaces/default/pods/web/attach?stdout=true")?;
        let body = c.read_until(rest, b"upgrade here")?;
        Ok((head, body))
    })?;
    assert_eq!(status_code(&head), 400, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("x-fake-kubelet: refused"),
        "{head}"
    );
    assert!(String::from_utf8_lossy(&body).contains("refused: this kubelet takes no upgrade here"));
    let seen = s
        .kubelet
        .find("GET /attach/")
        .context("no attach request")?;
    assert_eq!(
        seen.request_line,
        "GET /attach/default/web/app?stdout=1 HTTP/1.1"
    );
    // The WebSocket client was going to be translated: the kubelet was asked for SPDY.
    assert_eq!(seen.header("upgrade"), Some("SPDY/3.1"));
    Ok(())
}

#[tokio::test]
async fn node_proxy_reaches_the_kubelet_path() -> Result<()> {
    let s = setup().await?;
    let (code, body) = s
        .cluster
        .get_json("/api/v1/nodes/fake-node/proxy/stats/summary?only_cpu_and_memory=true")
        .await?;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["node"]["nodeName"], "fake-node");
    let seen = s.kubelet.find("GET /stats/").context("no stats request")?;
    assert_eq!(
        seen.request_line,
        "GET /stats/summary?only_cpu_and_memory=true HTTP/1.1"
    );
    assert!(seen.client_cert_ok);
    Ok(())
}

#[tokio::test]
async fn bad_requests_get_upstream_statuses() -> Result<()> {
    let s = setup().await?;
    let c = &s.cluster;
    create_pod(c, "multi", Some("fake-node"), &["a", "b"]).await?;
    create_pod(c, "pending", None, &["app"]).await?;

    let (code, body) = c
        .get_json("/api/v1/namespaces/default/pods/multi/log")
        .await?;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(status_of(&body), Some((400, "BadRequest".into())));
    assert_eq!(
        body["message"],
        "a container name must be specified for pod multi, choose one of: [a b]"
    );
    let (code, body) = c
        .get_json("/api/v1/namespaces/default/pods/multi/exec?command=ls&stdout=true")
        .await?;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "a container name must be specified for pod multi, choose one of: [a b]"
    );
    let (code, body) = c
        .get_json("/api/v1/namespaces/default/pods/web/log?container=nope")
        .await?;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "container nope is not valid for pod web");

    // Not scheduled: exec is a 400; logs are an empty stream, as upstream.
    let (code, body) = c
        .get_json("/api/v1/namespaces/default/pods/pending/exec?command=ls&stdout=true")
        .await?;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "pod pending does not have a host assigned");
    let resp = c
        .client()
        .get(c.url("/api/v1/namespaces/default/pods/pending/log"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.text().await?, "");

    // exec without an upgrade.
    let (code, body) = c
        .get_json("/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true")
        .await?;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Upgrade request required");

    // Invalid log options and unknown pods.
    let (code, body) = c
        .get_json("/api/v1/namespaces/default/pods/web/log?tailLines=-3")
        .await?;
    assert_eq!(status_of(&body), Some((422, "Invalid".into())), "{body}");
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let (code, _) = c
        .get_json("/api/v1/namespaces/default/pods/ghost/log")
        .await?;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = c
        .post_json("/api/v1/namespaces/default/pods/web/log", &json!({}))
        .await?;
    assert_eq!(code, StatusCode::METHOD_NOT_ALLOWED);

    // A kubelet nobody listens for.
    let dead_port = process::free_port()?;
    create_node(c, "dead-node", dead_port).await?;
    create_pod(c, "orphan", Some("dead-node"), &["app"]).await?;
    let (code, body) = c
        .get_json("/api/v1/namespaces/default/pods/orphan/log")
        .await?;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    let msg = body["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with(&format!(
            "Get \"https://127.0.0.1:{dead_port}/containerLogs/default/orphan/app\": dial tcp"
        )),
        "{msg}"
    );
    let (code, body) = c.get_json("/api/v1/nodes/dead-node/proxy/healthz").await?;
    assert_eq!(
        status_of(&body),
        Some((503, "ServiceUnavailable".into())),
        "{body}"
    );
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    Ok(())
}

/// The real kubectl (client-go, HTTP/2) reads logs and raw node-proxy paths through the relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_kubectl_reads_logs_and_node_proxy() -> Result<()> {
    integration_tests::real_kubectl::require()?;
    let s = setup().await?;
    let run = |args: &[&str]| -> Result<String> { s.cluster.real_kubectl().run(args) };
    let logs = tokio::task::block_in_place(|| run(&["logs", "web", "--tail=3"]))?;
    assert_eq!(logs, "hello from app\n");
    let seen = s
        .kubelet
        .find("GET /containerLogs/")
        .context("no log request")?;
    assert_eq!(
        seen.request_line,
        "GET /containerLogs/default/web/app?tailLines=3 HTTP/1.1"
    );
    let raw = tokio::task::block_in_place(|| {
        run(&["get", "--raw", "/api/v1/nodes/fake-node/proxy/healthz"])
    })?;
    let raw: Value = serde_json::from_str(&raw)?;
    assert_eq!(raw["path"], "/healthz");
    Ok(())
}
