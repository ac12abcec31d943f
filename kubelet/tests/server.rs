//! The kubelet's HTTPS server against a real, private containerd: a sandbox and containers
//! are run through CRI directly (labelled as the kubelet labels them), then the server's
//! endpoints are exercised over TLS with a client certificate, the way the apiserver calls
//! them.
//!
//! Needs `containerd`, `runc` and `ctr` (Debian packages, see RUNTIME-NOTES) and root.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use kubelet::cri::Runtime;
use kubelet::server::{KubeletServer, ServerConfig};
use proto::cri::v1 as cri;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

const BUSYBOX: &str = "docker.io/library/busybox:latest";
const PAUSE: &str = "registry.k8s.io/pause:3.9";

/// A private containerd; killed (with its shims' containers removed first) on drop.
struct Containerd {
    child: Child,
    dir: PathBuf,
}

impl Containerd {
    fn socket(&self) -> PathBuf {
        self.dir.join("containerd.sock")
    }

    fn start(dir: &Path) -> Containerd {
        let found = Command::new("containerd").arg("--version").output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "containerd is not installed: this test needs Debian's containerd, runc and ctr \
             (apt-get install containerd runc; see shared/RUNTIME-NOTES.md)"
        );
        let d = dir.display();
        let config = format!(
            r#"version = 2
root = "{d}/root"
state = "{d}/state"
[grpc]
  address = "{d}/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE}"
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{d}/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
"#
        );
        std::fs::create_dir_all(dir.join("net.d")).unwrap();
        std::fs::write(dir.join("config.toml"), config).unwrap();
        let log = std::fs::File::create(dir.join("containerd.log")).unwrap();
        let child = Command::new("containerd")
            .arg("--config")
            .arg(dir.join("config.toml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting containerd");
        Containerd {
            child,
            dir: dir.to_path_buf(),
        }
    }

    async fn connect(&self) -> Runtime {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.socket().exists() {
                if let Ok(rt) =
                    Runtime::connect(&format!("unix://{}", self.socket().display())).await
                {
                    if rt.version().await.is_ok() {
                        return rt;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "containerd did not come up; log:\n{}",
                std::fs::read_to_string(self.dir.join("containerd.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn import(&self, tarball: &Path) {
        let out = Command::new("ctr")
            .arg("-a")
            .arg(self.socket())
            .args(["-n", "k8s.io", "images", "import"])
            .arg(tarball)
            .output()
            .expect("running ctr");
        assert!(
            out.status.success(),
            "ctr import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Stops and removes every sandbox (and so its containers, shims and mounts) through CRI.
async fn remove_all_sandboxes(rt: &Runtime) {
    let mut client = rt.runtime.clone();
    let Ok(list) = client
        .list_pod_sandbox(cri::ListPodSandboxRequest { filter: None })
        .await
    else {
        return;
    };
    for sandbox in list.into_inner().items {
        let id = sandbox.id;
        let _ = client
            .stop_pod_sandbox(cri::StopPodSandboxRequest {
                pod_sandbox_id: id.clone(),
            })
            .await;
        let _ = client
            .remove_pod_sandbox(cri::RemovePodSandboxRequest { pod_sandbox_id: id })
            .await;
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        // Also on a failed assertion: remove what the test ran, so no container, shim or mount
        // outlives the test, then stop containerd with SIGTERM.
        let endpoint = format!("unix://{}", self.socket().display());
        let cleanup = std::thread::spawn(move || {
            let Ok(tokio_rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            tokio_rt.block_on(async {
                if let Ok(rt) = Runtime::connect(&endpoint).await {
                    remove_all_sandboxes(&rt).await;
                }
            });
        });
        let _ = cleanup.join();
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

/// An OCI image-layout tarball of busybox-static with `cmd` as its command (RUNTIME-NOTES:
/// one uncompressed layer owned by 0:0, a config, a manifest, an annotated index).
fn build_image(work: &Path, reference: &str, cmd: &[&str]) -> PathBuf {
    let name = sha256_hex(reference.as_bytes());
    let root = work.join(format!("rootfs-{name}"));
    let layout = work.join(format!("oci-{name}"));
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::copy("/usr/bin/busybox", root.join("bin/busybox"))
        .expect("busybox-static must be installed (/usr/bin/busybox)");
    for applet in ["sh", "sleep", "echo", "cat", "ls", "true"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
    let layer_path = work.join(format!("layer-{name}.tar"));
    let status = Command::new("tar")
        .args(["--owner=0", "--group=0", "--numeric-owner", "-C"])
        .arg(&root)
        .arg("-cf")
        .arg(&layer_path)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let blobs = layout.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |data: Vec<u8>| -> (String, usize) {
        let digest = sha256_hex(&data);
        let size = data.len();
        std::fs::write(blobs.join(&digest), data).unwrap();
        (digest, size)
    };
    let (layer, layer_size) = put(std::fs::read(&layer_path).unwrap());
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": cmd},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{layer}")]},
    });
    let (config, config_size) = put(serde_json::to_vec(&config).unwrap());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{config}"), "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{layer}"), "size": layer_size}],
    });
    let (manifest, manifest_size) = put(serde_json::to_vec(&manifest).unwrap());
    let tag = reference.rsplit(':').next().unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest}"), "size": manifest_size,
            "annotations": {"io.containerd.image.name": reference, "org.opencontainers.image.ref.name": tag},
        }],
    });
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let tarball = work.join(format!("image-{name}.tar"));
    let status = Command::new("tar")
        .arg("-C")
        .arg(&layout)
        .arg("-cf")
        .arg(&tarball)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    tarball
}

fn pod_labels(uid: &str) -> HashMap<String, String> {
    HashMap::from([
        ("io.kubernetes.pod.name".to_string(), "web".to_string()),
        (
            "io.kubernetes.pod.namespace".to_string(),
            "default".to_string(),
        ),
        ("io.kubernetes.pod.uid".to_string(), uid.to_string()),
    ])
}

/// A host-network sandbox (no CNI needed) labelled as the kubelet labels it.
fn sandbox_config(log_dir: &Path) -> cri::PodSandboxConfig {
    cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: "web".into(),
            uid: "uid-1".into(),
            namespace: "default".into(),
            attempt: 0,
        }),
        log_directory: log_dir.display().to_string(),
        labels: pod_labels("uid-1"),
        linux: Some(cri::LinuxPodSandboxConfig {
            security_context: Some(cri::LinuxSandboxSecurityContext {
                namespace_options: Some(cri::NamespaceOption {
                    network: cri::NamespaceMode::Node as i32,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn run_container(
    rt: &Runtime,
    sandbox_id: &str,
    sandbox: &cri::PodSandboxConfig,
    name: &str,
    attempt: u32,
    script: &str,
) -> String {
    let mut labels = pod_labels("uid-1");
    labels.insert("io.kubernetes.container.name".into(), name.into());
    let config = cri::ContainerConfig {
        metadata: Some(cri::ContainerMetadata {
            name: name.into(),
            attempt,
        }),
        image: Some(cri::ImageSpec {
            image: BUSYBOX.into(),
            ..Default::default()
        }),
        command: vec!["sh".into(), "-c".into(), script.into()],
        log_path: format!("{name}/{attempt}.log"),
        labels,
        annotations: HashMap::from([(
            "io.kubernetes.container.restartCount".to_string(),
            attempt.to_string(),
        )]),
        ..Default::default()
    };
    let mut client = rt.runtime.clone();
    let id = client
        .create_container(cri::CreateContainerRequest {
            pod_sandbox_id: sandbox_id.into(),
            config: Some(config),
            sandbox_config: Some(sandbox.clone()),
        })
        .await
        .expect("CreateContainer")
        .into_inner()
        .container_id;
    client
        .start_container(cri::StartContainerRequest {
            container_id: id.clone(),
        })
        .await
        .expect("StartContainer");
    id
}

async fn wait_exited(rt: &Runtime, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = rt
            .runtime
            .clone()
            .container_status(cri::ContainerStatusRequest {
                container_id: id.into(),
                verbose: false,
            })
            .await
            .unwrap()
            .into_inner()
            .status
            .unwrap();
        if status.state == cri::ContainerState::ContainerExited as i32 {
            return;
        }
        assert!(Instant::now() < deadline, "container {id} did not exit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TLS client of the kubelet, optionally with a client certificate.
struct Client {
    connector: TlsConnector,
    addr: std::net::SocketAddr,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl Client {
    fn new(
        ca_pem: &str,
        client: Option<&common::pki::IssuedCert>,
        addr: std::net::SocketAddr,
    ) -> Client {
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls_pemfile::certs(&mut BufReader::new(ca_pem.as_bytes())) {
            roots.add(c.unwrap()).unwrap();
        }
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
        let mut config = match client {
            Some(cert) => {
                let chain = rustls_pemfile::certs(&mut BufReader::new(cert.cert_pem.as_bytes()))
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                let key = rustls_pemfile::private_key(&mut BufReader::new(cert.key_pem.as_bytes()))
                    .unwrap()
                    .unwrap();
                builder.with_client_auth_cert(chain, key).unwrap()
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Client {
            connector: TlsConnector::from(Arc::new(config)),
            addr,
        }
    }

    async fn send(&self, req: Request<Empty<Bytes>>) -> http::Response<Incoming> {
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = self
            .connector
            .connect(name, tcp)
            .await
            .expect("TLS handshake");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn.with_upgrades());
        sender.send_request(req).await.expect("request")
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let resp = self.send(get(path)).await;
        let status = resp.status();
        let body = tokio::time::timeout(Duration::from_secs(60), resp.into_body().collect())
            .await
            .expect("body within 10s")
            .unwrap()
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// An upgrade request: returns the 101 response's headers and the raw stream.
    async fn upgrade(
        &self,
        req: Request<Empty<Bytes>>,
    ) -> Result<(http::HeaderMap, Box<dyn Io>), (StatusCode, String)> {
        let mut resp = self.send(req).await;
        if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
            let status = resp.status();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            return Err((status, String::from_utf8_lossy(&body).into_owned()));
        }
        let headers = resp.headers().clone();
        let upgraded = hyper::upgrade::on(&mut resp).await.unwrap();
        Ok((headers, Box::new(TokioIo::new(upgraded))))
    }
}

fn get(path: &str) -> Request<Empty<Bytes>> {
    Request::get(path)
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap()
}

fn websocket(path: &str, protocols: &str) -> Request<Empty<Bytes>> {
    let key = base64::engine::general_purpose::STANDARD.encode(b"rudder-test-key!");
    Request::get(path)
        .header("host", "localhost")
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", key)
        .header("sec-websocket-protocol", protocols)
        .body(Empty::new())
        .unwrap()
}

/// Reads one WebSocket frame (server frames are unmasked): (opcode, payload).
async fn read_frame(io: &mut (dyn Io + '_)) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 2];
    io.read_exact(&mut head).await?;
    let mut len = u64::from(head[1] & 0x7f);
    if len == 126 {
        let mut ext = [0u8; 2];
        io.read_exact(&mut ext).await?;
        len = u64::from(u16::from_be_bytes(ext));
    } else if len == 127 {
        let mut ext = [0u8; 8];
        io.read_exact(&mut ext).await?;
        len = u64::from_be_bytes(ext);
    }
    let mut payload = vec![0u8; len as usize];
    io.read_exact(&mut payload).await?;
    Ok((head[0] & 0x0f, payload))
}

/// Writes one masked binary frame (clients must mask).
async fn write_frame(io: &mut (dyn Io + '_), payload: &[u8]) {
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    let mut frame = vec![0x82u8];
    assert!(payload.len() < 126);
    frame.push(0x80 | payload.len() as u8);
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    io.write_all(&frame).await.unwrap();
}

/// Collects channel.k8s.io frames until the server closes: data by channel number.
async fn read_channels(io: &mut (dyn Io + '_)) -> HashMap<u8, Vec<u8>> {
    let mut channels: HashMap<u8, Vec<u8>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, read_frame(io)).await {
            Ok(Ok((8, _))) | Ok(Err(_)) => return channels,
            Ok(Ok((_, payload))) if !payload.is_empty() => {
                channels
                    .entry(payload[0])
                    .or_default()
                    .extend_from_slice(&payload[1..]);
            }
            Ok(Ok(_)) => {}
            Err(_) => panic!("stream did not end within 10s; so far: {channels:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubelet_server_against_real_containerd() {
    let tmp = tempfile::Builder::new()
        .prefix("kserver")
        .tempdir_in("/tmp")
        .unwrap();
    let ctr = Containerd::start(&tmp.path().join("ctr"));
    let work = tmp.path().join("images");
    std::fs::create_dir_all(&work).unwrap();
    let busybox = build_image(&work, BUSYBOX, &["sh"]);
    let pause = build_image(&work, PAUSE, &["sleep", "inf"]);
    let rt = ctr.connect().await;
    ctr.import(&busybox);
    ctr.import(&pause);

    // The pod: "app" writes three lines, then a later one; "job" ran once and exited, and its
    // second instance is running.
    let log_dir = tmp.path().join("pods/default_web_uid-1");
    std::fs::create_dir_all(&log_dir).unwrap();
    let sandbox = sandbox_config(&log_dir);
    let sandbox_id = rt
        .runtime
        .clone()
        .run_pod_sandbox(cri::RunPodSandboxRequest {
            config: Some(sandbox.clone()),
            runtime_handler: String::new(),
        })
        .await
        .expect("RunPodSandbox")
        .into_inner()
        .pod_sandbox_id;
    let app = run_container(
        &rt,
        &sandbox_id,
        &sandbox,
        "app",
        0,
        "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; sleep 8; echo later; exec sleep 1000",
    )
    .await;
    let first_job = run_container(&rt, &sandbox_id, &sandbox, "job", 0, "echo first-run").await;
    wait_exited(&rt, &first_job).await;
    run_container(
        &rt,
        &sandbox_id,
        &sandbox,
        "job",
        1,
        "echo second-run; sleep 1; echo bye",
    )
    .await;

    // The server, with a client CA as the apiserver's kubelet client cert is signed by.
    let pki = tmp.path().join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    let ca = common::pki::Ca::generate("kubelet-test-ca").unwrap();
    let serving = ca
        .issue_server(
            "node-a",
            &["localhost".into()],
            &["127.0.0.1".parse().unwrap()],
        )
        .unwrap();
    serving
        .write(&pki.join("kubelet.crt"), &pki.join("kubelet.key"))
        .unwrap();
    std::fs::write(pki.join("ca.crt"), ca.cert_pem()).unwrap();
    let apiserver_client = ca
        .issue_client("kube-apiserver-kubelet-client", &["system:masters".into()])
        .unwrap();
    let config = ServerConfig {
        address: "127.0.0.1".parse().unwrap(),
        port: 0,
        healthz_port: 0,
        tls_cert_file: Some(pki.join("kubelet.crt")),
        tls_private_key_file: Some(pki.join("kubelet.key")),
        client_ca_file: Some(pki.join("ca.crt")),
        node_name: "node-a".into(),
        root_dir: tmp.path().to_path_buf(),
        authorizer: None,
    };
    let server = KubeletServer::bind(config, rt.clone()).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving_task = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let client = Client::new(ca.cert_pem(), Some(&apiserver_client), addr);
    let anonymous = Client::new(ca.cert_pem(), None, addr);

    // Authentication.
    assert_eq!(anonymous.get("/healthz").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        client.get("/healthz").await,
        (StatusCode::OK, "ok\n".to_string())
    );

    // Logs: wait for the first three lines, then tail, timestamps, previous.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = client.get("/containerLogs/default/web/app").await;
        if status == StatusCode::OK && body.lines().count() >= 3 {
            assert_eq!(body, "one\ntwo\nthree\n");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "app logs never showed 3 lines: {status} {body:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        client
            .get("/containerLogs/default/web/app?tailLines=2")
            .await,
        (StatusCode::OK, "two\nthree\n".to_string())
    );
    let (_, stamped) = client
        .get("/containerLogs/default/web/app?timestamps=true&tailLines=1")
        .await;
    let (ts, line) = stamped
        .trim_end()
        .split_once(' ')
        .expect("timestamp prefix");
    assert_eq!(line, "three");
    let parsed = chrono::DateTime::parse_from_rfc3339(ts).expect("RFC 3339 timestamp");
    assert_eq!(
        ts.split('.').nth(1).map(|f| f.trim_end_matches('Z').len()),
        Some(9),
        "{ts}"
    );
    assert!((chrono::Utc::now() - parsed.with_timezone(&chrono::Utc)).num_seconds() < 60);
    assert_eq!(
        client
            .get("/containerLogs/default/web/app?limitBytes=6")
            .await,
        (StatusCode::OK, "one\ntw".to_string())
    );
    let (status, body) = client
        .get("/containerLogs/default/web/app?previous=true")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body.trim_end(),
        r#"previous terminated container "app" in pod "web" not found"#
    );
    assert_eq!(
        client
            .get("/containerLogs/default/web/job?previous=true")
            .await,
        (StatusCode::OK, "first-run\n".to_string())
    );
    assert_eq!(
        client.get("/containerLogs/default/nope/app").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        client
            .get("/containerLogs/default/web/app?tailLines=-1")
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Follow: "later" arrives ~8 s after start while the stream is open (8 s, not less: the
    // checks above must run before it, also on a loaded machine).
    let resp = client
        .send(get(
            "/containerLogs/default/web/app?follow=true&tailLines=1",
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !seen.contains("later") {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = tokio::time::timeout(left, body.frame())
            .await
            .unwrap_or_else(|_| panic!("follow never showed the later line; got {seen:?}"))
            .expect("stream open")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
    }
    assert_eq!(seen, "three\nlater\n");
    drop(body);
    // Follow of a container that exits ends by itself once it is drained.
    let (status, body) = client
        .get("/containerLogs/default/web/job?follow=true")
        .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "second-run\nbye\n")
    );

    // exec over WebSocket (v4.channel.k8s.io), proxied to containerd's streaming server.
    let (headers, mut io) = client
        .upgrade(websocket(
            "/exec/default/web/app?command=sh&command=-c&command=echo+out%3B+echo+err+%3E%262&output=1&error=1",
            "v4.channel.k8s.io",
        ))
        .await
        .expect("WebSocket exec upgrade");
    assert_eq!(headers["sec-websocket-protocol"], "v4.channel.k8s.io");
    let channels = read_channels(io.as_mut()).await;
    assert_eq!(channels.get(&1).map(|v| v.as_slice()), Some(&b"out\n"[..]));
    assert_eq!(channels.get(&2).map(|v| v.as_slice()), Some(&b"err\n"[..]));
    let status =
        String::from_utf8_lossy(channels.get(&3).map(|v| v.as_slice()).unwrap_or_default())
            .into_owned();
    assert!(status.contains("Success"), "exit status: {status}");

    // exec with stdin over WebSocket: what goes in on channel 0 comes back on channel 1.
    let (_, mut io) = client
        .upgrade(websocket(
            "/exec/default/web/app?command=sh&command=-c&command=read+x%3B+echo+got+%24x&input=1&output=1",
            "v4.channel.k8s.io",
        ))
        .await
        .expect("WebSocket exec with stdin");
    write_frame(io.as_mut(), b"\x00hello\n").await;
    let channels = read_channels(io.as_mut()).await;
    assert_eq!(
        channels.get(&1).map(|v| v.as_slice()),
        Some(&b"got hello\n"[..])
    );

    // The `/{uid}/` path form, and attach (its stream stays open while the container runs).
    let (_, mut io) = client
        .upgrade(websocket(
            "/exec/default/web/uid-1/app?command=echo&command=by-uid&output=1",
            "v4.channel.k8s.io",
        ))
        .await
        .expect("exec by pod UID");
    let channels = read_channels(io.as_mut()).await;
    assert_eq!(
        channels.get(&1).map(|v| v.as_slice()),
        Some(&b"by-uid\n"[..])
    );
    let (headers, _attached) = client
        .upgrade(websocket(
            "/attach/default/web/app?output=1",
            "v4.channel.k8s.io",
        ))
        .await
        .expect("WebSocket attach upgrade");
    assert_eq!(headers["sec-websocket-protocol"], "v4.channel.k8s.io");
    assert_eq!(
        client
            .upgrade(websocket(
                "/exec/default/web/other-uid/app?command=true&output=1",
                "v4.channel.k8s.io"
            ))
            .await
            .err()
            .map(|(s, b)| (s, b.trim_end().to_string())),
        Some((
            StatusCode::NOT_FOUND,
            r#"pod "web" does not exist"#.to_string()
        ))
    );
    assert_eq!(
        client
            .upgrade(websocket(
                "/portForward/default/nope?port=80",
                "v4.channel.k8s.io"
            ))
            .await
            .err()
            .map(|(s, _)| s),
        Some(StatusCode::NOT_FOUND)
    );

    // What containerd 1.6's streaming server says to v5.channel.k8s.io (kubectl >= 1.30).
    let v5 = client
        .upgrade(websocket(
            "/exec/default/web/app?command=true&output=1",
            "v5.channel.k8s.io",
        ))
        .await;
    // Refused with 403, which kubectl >= 1.30 takes as an upgrade failure and falls back to
    // SPDY (it offers v5 only, so that legacy runtime servers refuse it).
    assert_eq!(
        v5.err().map(|(s, _)| s),
        Some(StatusCode::FORBIDDEN),
        "containerd 1.6 and v5"
    );

    // SPDY/3.1 upgrade (kubectl <= 1.29, and its fallback): containerd switches protocols.
    let spdy = Request::post("/exec/default/web/app?command=true&output=1")
        .header("host", "localhost")
        .header("connection", "Upgrade")
        .header("upgrade", "SPDY/3.1")
        .header("x-stream-protocol-version", "v4.channel.k8s.io")
        .header("x-stream-protocol-version", "v3.channel.k8s.io")
        .body(Empty::new())
        .unwrap();
    let (headers, _io) = client.upgrade(spdy).await.expect("SPDY upgrade");
    assert_eq!(headers["upgrade"], "SPDY/3.1");
    assert_eq!(headers["x-stream-protocol-version"], "v4.channel.k8s.io");

    // exec into a container that is not running, and a plain (non-upgrade) request.
    let (status, body) = client
        .upgrade(websocket(
            "/exec/default/web/missing?command=true&output=1",
            "v4.channel.k8s.io",
        ))
        .await
        .err()
        .expect("no such container");
    assert_eq!(
        (status, body.trim_end()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"container not found ("missing")"#
        )
    );
    let (status, body) = client
        .get("/exec/default/web/app?command=true&output=1")
        .await;
    assert_eq!(
        (status, body.trim_end()),
        (StatusCode::BAD_REQUEST, "Upgrade request required")
    );

    // Port-forward over WebSocket to a listener in the (host-network) sandbox.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4];
        conn.read_exact(&mut buf).await.unwrap();
        conn.write_all(b"pong:").await.unwrap();
        conn.write_all(&buf).await.unwrap();
    });
    let (_, mut io) = client
        .upgrade(websocket(
            &format!("/portForward/default/web?port={port}"),
            "v4.channel.k8s.io",
        ))
        .await
        .expect("WebSocket port-forward upgrade");
    write_frame(io.as_mut(), b"\x00ping").await;
    let mut data = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !data.ends_with(b"pong:ping") {
        let left = deadline.saturating_duration_since(Instant::now());
        let (op, payload) = tokio::time::timeout(left, read_frame(io.as_mut()))
            .await
            .unwrap_or_else(|_| panic!("no port-forward reply; data so far {data:?}"))
            .unwrap();
        assert_ne!(op, 8, "closed early; data so far {data:?}");
        // Each channel opens with its port number (2 bytes); data is on channel 0.
        if payload.first() == Some(&0) {
            data.extend_from_slice(&payload[1..]);
        }
    }
    assert_eq!(&data[..2], &port.to_le_bytes());

    // Metrics and stats, computed from CRI at scrape time.
    let (status, metrics) = client.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(metrics.contains("kubelet_running_pods 1\n"), "{metrics}");
    // app runs; both instances of job have exited by now.
    assert!(
        metrics.contains("kubelet_running_containers{container_state=\"running\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kubelet_running_containers{container_state=\"exited\"} 2\n"),
        "{metrics}"
    );
    let (status, resource) = client.get("/metrics/resource").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        resource.contains("container_memory_working_set_bytes{container=\"app\",namespace=\"default\",pod=\"web\"}"),
        "{resource}"
    );
    assert!(
        resource.contains("node_cpu_usage_seconds_total "),
        "{resource}"
    );
    assert!(resource.contains("scrape_error 0\n"), "{resource}");
    let (status, summary) = client.get("/stats/summary").await;
    assert_eq!(status, StatusCode::OK);
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["node"]["nodeName"], "node-a");
    assert!(
        summary["node"]["memory"]["workingSetBytes"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(summary["node"]["fs"]["capacityBytes"].as_u64().unwrap() > 0);
    let pod = &summary["pods"][0];
    assert_eq!(
        pod["podRef"],
        serde_json::json!({"name": "web", "namespace": "default", "uid": "uid-1"})
    );
    let app_stats = pod["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "app")
        .expect("app in the summary");
    assert!(
        app_stats["memory"]["workingSetBytes"].as_u64().unwrap() > 0,
        "{app_stats}"
    );

    let _ = stop.send(());
    serving_task.await.unwrap();
    let _ = (app, sandbox_id);
    remove_all_sandboxes(&rt).await;
    let left = rt
        .runtime
        .clone()
        .list_containers(cri::ListContainersRequest { filter: None })
        .await
        .unwrap()
        .into_inner()
        .containers;
    assert!(left.is_empty(), "containers left behind: {left:?}");
}
