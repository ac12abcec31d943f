//! IPv6 (and dual-stack) Services with the real `nft` and real packets, in private network
//! namespaces so the host's own `table ip6 kube-proxy` is never touched:
//!
//! ```text
//!  client ns                 node ns (kube-proxy's tables)              pod ns
//!  fd00:20::2 ── veth ── fd00:20::1 | fd00:10:244::1 ── veth ── fd00:10:244::2 (pod-a)
//!  192.0.2.2                192.0.2.1 | 10.244.0.1                   fd00:10:244::3 (pod-b)
//!                                                                    10.244.0.2     (pod-v4)
//! ```
//!
//! The Services and EndpointSlices are the JSON objects a dual-stack apiserver serves
//! (`spec.clusterIPs`, `spec.ipFamilies`, `addressType: IPv6`); they go through kube-proxy's
//! own path (`changes::build_model` per family → `render` → `nft -f`), applied in the node
//! namespace with [`Nft::in_netns`]. (Rudder's apiserver does not allocate or accept IPv6
//! cluster IPs yet, so the objects are built here rather than read from it.)
//!
//! Needs root, `ip`, `nft` and `python3` (the servers and clients); without root it says so
//! and passes without checking anything. No packet leaves the namespaces: they have no link
//! to the host's interfaces, and the host's traffic guard is installed first anyway.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube_proxy::changes::{build_model, NodeSettings};
use kube_proxy::model::IpFamily;
use kube_proxy::nft::Nft;
use kube_proxy::render::render;
use kube_proxy::ruleset::{Ruleset, SyncKind};
use serde_json::json;

/// Serves on every `address=name` argument, port 8080: each connection gets
/// `<name> <peer address>` (so a test sees which endpoint answered and whether it was
/// masqueraded).
const SERVER: &str = r#"
import socket, sys, threading
def serve(addr, name):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 8080))
    s.listen(64)
    while True:
        c, peer = s.accept()
        c.sendall(("%s %s\n" % (name, peer[0])).encode())
        c.close()
for arg in sys.argv[1:]:
    addr, name = arg.split('=')
    threading.Thread(target=serve, args=(addr, name)).start()
"#;

/// Connects `count` times (a new connection each) and prints one line per connection: the
/// answer, `REFUSED`, `TIMEOUT` or `ERROR …`.
const CLIENT: &str = r#"
import socket, sys
addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(count):
    s = socket.socket(socket.AF_INET6 if ':' in addr else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((addr, port))
        print(s.recv(200).decode().strip())
    except ConnectionRefusedError:
        print("REFUSED")
    except socket.timeout:
        print("TIMEOUT")
    except OSError as e:
        print("ERROR %s" % e)
    s.close()
"#;

/// The system's python3 (a pyenv shim in PATH takes seconds to start).
fn python() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

fn run(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{args:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The three namespaces and the server; all removed on drop.
struct Topology {
    client: String,
    node: String,
    pod: String,
    server: Option<Child>,
}

impl Drop for Topology {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.client, &self.node, &self.pod] {
            let _ = run(&["ip", "netns", "del", ns]);
        }
    }
}

impl Topology {
    fn exec(&self, ns: &str, args: &[&str]) -> Result<String, String> {
        let mut all = vec!["ip", "netns", "exec", ns];
        all.extend_from_slice(args);
        run(&all)
    }

    fn build() -> Result<Topology, String> {
        let id = std::process::id();
        let t = Topology {
            client: format!("kp6-{id}-c"),
            node: format!("kp6-{id}-n"),
            pod: format!("kp6-{id}-p"),
            server: None,
        };
        for ns in [&t.client, &t.node, &t.pod] {
            run(&["ip", "netns", "add", ns])?;
            t.exec(ns, &["ip", "link", "set", "lo", "up"])?;
            for key in ["all", "default", "lo"] {
                t.exec(
                    ns,
                    &[
                        "sysctl",
                        "-qw",
                        &format!("net.ipv6.conf.{key}.disable_ipv6=0"),
                    ],
                )?;
            }
        }
        let links = [
            (
                &t.client,
                "fd00:20::2/64",
                "192.0.2.2/24",
                "fd00:20::1",
                "192.0.2.1",
                "c",
            ),
            (
                &t.pod,
                "fd00:10:244::2/64",
                "10.244.0.2/24",
                "fd00:10:244::1",
                "10.244.0.1",
                "p",
            ),
        ];
        for (ns, v6, v4, gw6, gw4, tag) in links {
            let outer = format!("kp6{tag}{id}");
            let outer = &outer[..outer.len().min(15)];
            run(&[
                "ip", "link", "add", outer, "netns", &t.node, "type", "veth", "peer", "name",
                "veth0", "netns", ns,
            ])?;
            t.exec(ns, &["ip", "link", "set", "veth0", "up"])?;
            t.exec(
                ns,
                &["ip", "-6", "addr", "add", v6, "dev", "veth0", "nodad"],
            )?;
            t.exec(ns, &["ip", "addr", "add", v4, "dev", "veth0"])?;
            t.exec(ns, &["ip", "-6", "route", "add", "default", "via", gw6])?;
            t.exec(ns, &["ip", "route", "add", "default", "via", gw4])?;
            t.exec(&t.node, &["ip", "link", "set", outer, "up"])?;
            t.exec(
                &t.node,
                &[
                    "ip",
                    "-6",
                    "addr",
                    "add",
                    &format!("{gw6}/64"),
                    "dev",
                    outer,
                    "nodad",
                ],
            )?;
            t.exec(
                &t.node,
                &["ip", "addr", "add", &format!("{gw4}/24"), "dev", outer],
            )?;
        }
        t.exec(
            &t.pod,
            &[
                "ip",
                "-6",
                "addr",
                "add",
                "fd00:10:244::3/64",
                "dev",
                "veth0",
                "nodad",
            ],
        )?;
        // A node has a default route; without one, the node's own connections to a cluster
        // IP fail their route lookup before DNAT. (It leads to the client namespace.)
        t.exec(
            &t.node,
            &["ip", "-6", "route", "add", "default", "via", "fd00:20::2"],
        )?;
        t.exec(
            &t.node,
            &["ip", "route", "add", "default", "via", "192.0.2.2"],
        )?;
        t.exec(
            &t.node,
            &["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"],
        )?;
        t.exec(&t.node, &["sysctl", "-qw", "net.ipv4.ip_forward=1"])?;
        Ok(t)
    }

    fn start_server(&mut self) -> Result<(), String> {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.pod, python(), "-c", SERVER])
            .args([
                "fd00:10:244::2=pod-a",
                "fd00:10:244::3=pod-b",
                "10.244.0.2=pod-v4",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the server: {e}"))?;
        self.server = Some(child);
        Ok(())
    }

    /// One connection from `ns` to `addr:port`: the answer (`pod-a fd00:…`), `REFUSED`,
    /// `TIMEOUT` or `ERROR …`.
    fn connect(&self, ns: &str, addr: &str, port: u16) -> String {
        self.answers(ns, addr, port, 1).remove(0)
    }

    /// Connect until the answer satisfies `ok` (the server and the rules need a moment).
    fn connect_until(
        &self,
        ns: &str,
        addr: &str,
        port: u16,
        ok: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let answer = self.connect(ns, addr, port);
            if ok(&answer) {
                return Ok(answer);
            }
            if Instant::now() > deadline {
                return Err(format!("{addr}:{port} from {ns}: last answer {answer:?}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The answers to `n` connections, one client process.
    fn answers(&self, ns: &str, addr: &str, port: u16, n: usize) -> Vec<String> {
        let out = self.exec(
            ns,
            &[
                python(),
                "-c",
                CLIENT,
                addr,
                &port.to_string(),
                &n.to_string(),
            ],
        );
        match out {
            Ok(text) => {
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                lines.resize(n, "ERROR no answer".into());
                lines
            }
            Err(e) => vec![format!("ERROR {e}"); n],
        }
    }
}

fn objects(v6_endpoints: &[&str]) -> (Vec<Service>, Vec<EndpointSlice>) {
    let svc = |v: serde_json::Value| serde_json::from_value::<Service>(v).expect("service");
    let services = vec![
        svc(json!({
            "metadata": {"namespace": "default", "name": "web"},
            "spec": {"type": "NodePort", "clusterIP": "10.96.0.10",
                     "clusterIPs": ["10.96.0.10", "fd00:10:96::10"],
                     "ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "RequireDualStack",
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080}]}
        })),
        svc(json!({
            "metadata": {"namespace": "default", "name": "sticky"},
            "spec": {"clusterIP": "fd00:10:96::30", "clusterIPs": ["fd00:10:96::30"],
                     "ipFamilies": ["IPv6"], "sessionAffinity": "ClientIP",
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
        })),
        svc(json!({
            "metadata": {"namespace": "default", "name": "empty"},
            "spec": {"clusterIP": "fd00:10:96::20", "clusterIPs": ["fd00:10:96::20"],
                     "ipFamilies": ["IPv6"],
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
        })),
    ];
    let eps6: Vec<serde_json::Value> = v6_endpoints
        .iter()
        .map(|ip| json!({"addresses": [ip], "conditions": {"ready": true}, "nodeName": "node"}))
        .collect();
    let slice = |v: serde_json::Value| serde_json::from_value::<EndpointSlice>(v).expect("slice");
    let mut slices = Vec::new();
    for svc in ["web", "sticky"] {
        slices.push(slice(json!({
            "metadata": {"namespace": "default", "name": format!("{svc}-v6"),
                         "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv6",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": eps6.clone()
        })));
    }
    slices.push(slice(json!({
        "metadata": {"namespace": "default", "name": "web-v4",
                     "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["10.244.0.2"], "conditions": {"ready": true}}]
    })));
    (services, slices)
}

fn settings() -> NodeSettings {
    NodeSettings {
        node_name: "node".into(),
        cluster_cidrs: vec![
            "10.244.0.0/16".parse().expect("cidr"),
            "fd00:10:244::/64".parse().expect("cidr"),
        ],
        masquerade_all: false,
        nodeport_addresses: vec![],
    }
}

fn ruleset(family: IpFamily, objects: &(Vec<Service>, Vec<EndpointSlice>)) -> Ruleset {
    render(&build_model(
        &settings(),
        family,
        objects.0.iter(),
        objects.1.iter(),
    ))
}

fn is_root() -> bool {
    run(&["id", "-u"]).map(|u| u.trim() == "0").unwrap_or(false)
}

fn install_guard() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hack/lib/guard.sh");
    let status = Command::new("bash")
        .arg(script)
        .stdout(Stdio::null())
        .status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "the traffic guard must be installed first: {status:?}"
    );
}

#[tokio::test]
async fn ipv6_cluster_ip_node_port_and_rejects_work_with_real_packets() {
    if !is_root() {
        eprintln!("skipped: needs root for network namespaces and nft");
        return;
    }
    install_guard();
    let mut topo = Topology::build().expect("namespaces");
    topo.start_server().expect("server");
    let nft = Nft::new().in_netns(&topo.node);

    // Both tables, each in its own transaction, as kube-proxy's first sync does.
    let objs = objects(&["fd00:10:244::2", "fd00:10:244::3"]);
    let empty = Ruleset::default();
    let mut applied = Vec::new();
    for family in IpFamily::ALL {
        let r = ruleset(family, &objs);
        nft.apply(&r.transaction(SyncKind::Replace, &empty))
            .await
            .unwrap_or_else(|e| panic!("{family:?} replace: {e}"));
        applied.push(r);
    }
    let listed = nft.list_table("ip6 kube-proxy").await.expect("ip6 table");
    assert!(listed.contains("fd00:10:96::10 . tcp . 80"), "{listed}");
    assert!(nft.list_table("ip kube-proxy").await.is_ok());

    // ClusterIP from another namespace: forwarded, DNATed to both endpoints, masqueraded
    // (the client is outside the cluster CIDR), so the pod sees the node's address.
    let c = topo.client.clone();
    topo.connect_until(&c, "fd00:10:96::10", 80, |a| a.starts_with("pod-"))
        .expect("IPv6 cluster IP answers");
    eprintln!("IPv6 cluster IP answers");
    let answers = topo.answers(&c, "fd00:10:96::10", 80, 24);
    assert!(
        answers.iter().all(|a| a.ends_with(" fd00:10:244::1")),
        "every answer from a pod, source masqueraded to the node: {answers:?}"
    );
    assert!(
        answers.iter().any(|a| a.starts_with("pod-a ")),
        "{answers:?}"
    );
    assert!(
        answers.iter().any(|a| a.starts_with("pod-b ")),
        "{answers:?}"
    );

    // The IPv4 half of the same dual-stack Service, from the other table.
    let v4 = topo
        .connect_until(&c, "10.96.0.10", 80, |a| a.starts_with("pod-"))
        .expect("IPv4 cluster IP answers");
    assert!(v4.starts_with("pod-v4 "), "{v4}");

    eprintln!("IPv4 cluster IP answers");
    // From the node itself (nat output hook).
    let n = topo.node.clone();
    let own = topo.connect(&n, "fd00:10:96::10", 80);
    assert!(
        own.starts_with("pod-a ") || own.starts_with("pod-b "),
        "{own}"
    );

    // The node port on the node's IPv6 address.
    let np = topo.connect(&c, "fd00:20::1", 30080);
    assert!(
        np.starts_with("pod-a ") || np.starts_with("pod-b "),
        "node port: {np}"
    );

    eprintln!("node port answers");
    // No endpoints: refused at once, not a timeout.
    assert_eq!(topo.connect(&c, "fd00:10:96::20", 80), "REFUSED");
    // A cluster IP on a port the Service lacks is rejected too.
    assert_eq!(topo.connect(&c, "fd00:10:96::10", 81), "REFUSED");

    // Session affinity: one client keeps its endpoint (an ip6 address set).
    let sticky = topo.answers(&c, "fd00:10:96::30", 80, 10);
    assert!(
        sticky.iter().all(|a| a == &sticky[0]) && sticky[0].starts_with("pod-"),
        "{sticky:?}"
    );

    // A partial sync drops pod-b: only the changed chains and elements are written, and only
    // pod-a answers afterwards.
    let objs = objects(&["fd00:10:244::2"]);
    let next = ruleset(IpFamily::V6, &objs);
    let text = next.transaction(SyncKind::Partial, &applied[1]);
    assert!(!text.contains("delete table"), "{text}");
    assert!(
        text.contains("fd00.10.244..3"),
        "pod-b's chain goes: {text}"
    );
    nft.apply(&text).await.expect("partial sync");
    let answers = topo.answers(&c, "fd00:10:96::10", 80, 12);
    assert!(
        answers.iter().all(|a| a.starts_with("pod-a ")),
        "{answers:?}"
    );

    // --cleanup removes the ip6 table (and a later replace recreates it from nothing).
    nft.delete_table("ip6 kube-proxy").await.expect("cleanup");
    assert!(nft.list_table("ip6 kube-proxy").await.is_err());
    assert!(
        nft.list_table("ip kube-proxy").await.is_ok(),
        "IPv4 untouched"
    );
}
