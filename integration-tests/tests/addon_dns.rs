//! rudder-dns against a real apiserver and etcd: Services and EndpointSlices created through
//! the API become DNS answers on 127.0.0.1 (UDP and TCP), deletions take names away, and
//! names outside the cluster domain go to a fake upstream resolver on loopback (no query
//! leaves the machine).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use integration_tests::controller_manager::post_ok;
use integration_tests::process::{self, Daemon};
use integration_tests::TestCluster;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

const SERVICES: &str = "/api/v1/namespaces/default/services";
const SLICES: &str = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
/// The answer the fake upstream gives for every name.
const UPSTREAM_ANSWER: [u8; 4] = [192, 0, 2, 53];

/// A DNS answer reduced to what the assertions need.
#[derive(Debug)]
struct Reply {
    code: ResponseCode,
    authoritative: bool,
    answers: Vec<String>,
}

/// Ask `server` one question over UDP (or TCP) with a fresh id.
async fn ask(server: SocketAddr, name: &str, qtype: RecordType, tcp: bool) -> Result<Reply> {
    let mut query = Message::new();
    let id: u16 = rand_id();
    query
        .set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(Name::from_ascii(name)?, qtype));
    let bytes = query.to_vec()?;
    let answer = if tcp {
        let mut stream = TcpStream::connect(server).await?;
        stream
            .write_all(&(bytes.len() as u16).to_be_bytes())
            .await?;
        stream.write_all(&bytes).await?;
        let len = stream.read_u16().await?;
        let mut buf = vec![0u8; usize::from(len)];
        stream.read_exact(&mut buf).await?;
        buf
    } else {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        socket.send_to(&bytes, server).await?;
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), socket.recv(&mut buf))
            .await
            .context("no DNS answer within 5s")??;
        buf.truncate(n);
        buf
    };
    let message = Message::from_vec(&answer)?;
    if message.id() != id {
        bail!("answer id {} for query id {id}", message.id());
    }
    let mut answers: Vec<String> = message
        .answers()
        .iter()
        .map(|r| r.data().to_string())
        .collect();
    answers.sort();
    Ok(Reply {
        code: message.response_code(),
        authoritative: message.authoritative(),
        answers,
    })
}

fn rand_id() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0x1000);
    NEXT.fetch_add(7, Ordering::Relaxed)
}

/// A fake upstream resolver on loopback: answers every A question with 192.0.2.53.
async fn fake_upstream() -> Result<SocketAddr> {
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    let addr = socket.local_addr()?;
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut resp = Message::new();
            resp.set_id(query.id())
                .set_message_type(MessageType::Response)
                .set_op_code(OpCode::Query)
                .set_recursion_available(true);
            for q in query.queries() {
                resp.add_query(q.clone());
                resp.add_answer(Record::from_rdata(
                    q.name().clone(),
                    60,
                    RData::A(A(UPSTREAM_ANSWER.into())),
                ));
            }
            if let Ok(bytes) = resp.to_vec() {
                let _ = socket.send_to(&bytes, from).await;
            }
        }
    });
    Ok(addr)
}

fn start_dns(cluster: &TestCluster, upstream: SocketAddr) -> Result<(Daemon, SocketAddr, u16)> {
    let port = process::free_port()?;
    let health_port = process::free_port()?;
    let listen: SocketAddr = ([127, 0, 0, 1], port).into();
    let args = vec![
        format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
        format!("--listen={listen}"),
        format!("--health-listen=127.0.0.1:{health_port}"),
        format!("--upstream={upstream}"),
        "--cluster-domain=cluster.local".to_string(),
        "-v=4".to_string(),
    ];
    let daemon = Daemon::spawn(
        "rudder-dns",
        &process::bin_dir()?.join("rudder-dns"),
        &args,
        &cluster.dir().join("rudder-dns.log"),
    )?;
    Ok((daemon, listen, health_port))
}

#[tokio::test]
async fn cluster_dns_answers_from_services_and_endpointslices() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let upstream = fake_upstream().await?;
    let (dns, server, health_port) = start_dns(&cluster, upstream)?;
    dns.eventually("rudder-dns /ready", || async {
        let url = format!("http://127.0.0.1:{health_port}/ready");
        Ok(match reqwest::get(url).await {
            Ok(r) if r.status().is_success() => Some(()),
            _ => None,
        })
    })
    .await?;

    // A ClusterIP Service with a TCP and a UDP port.
    let web = post_ok(
        &cluster,
        SERVICES,
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"selector": {"app": "web"}, "ports": [
                    {"name": "http", "port": 80, "targetPort": 8080},
                    {"name": "dns", "port": 53, "targetPort": 5353, "protocol": "UDP"}]}}),
    )
    .await?;
    let cluster_ip = web["spec"]["clusterIP"]
        .as_str()
        .context("no clusterIP allocated")?
        .to_string();
    // A headless Service (StatefulSet-style) with its EndpointSlice: two ready endpoints,
    // one with a hostname, and one not ready.
    post_ok(
        &cluster,
        SERVICES,
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
                "spec": {"clusterIP": "None", "selector": {"app": "db"},
                         "ports": [{"name": "pg", "port": 5432}]}}),
    )
    .await?;
    post_ok(
        &cluster,
        SLICES,
        &json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "db-1", "labels": {"kubernetes.io/service-name": "db"}},
        "addressType": "IPv4",
        "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}],
        "endpoints": [
            {"addresses": ["10.244.9.10"], "hostname": "db-0", "conditions": {"ready": true}},
            {"addresses": ["10.244.9.11"], "conditions": {"ready": true}},
            {"addresses": ["10.244.9.12"], "hostname": "db-2", "conditions": {"ready": false}}
        ]}),
    )
    .await?;
    post_ok(
        &cluster,
        SERVICES,
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "docs"},
                "spec": {"type": "ExternalName", "externalName": "docs.example.org"}}),
    )
    .await?;

    let web_name = "web.default.svc.cluster.local.";
    let reply = dns
        .eventually("web's A record", || async {
            let reply = ask(server, web_name, RecordType::A, false).await?;
            Ok((reply.code == ResponseCode::NoError && !reply.answers.is_empty()).then_some(reply))
        })
        .await?;
    assert_eq!(reply.answers, vec![cluster_ip.clone()]);
    assert!(reply.authoritative);
    // Same over TCP.
    assert_eq!(
        ask(server, web_name, RecordType::A, true).await?.answers,
        vec![cluster_ip.clone()]
    );
    let srv = ask(
        server,
        "_http._tcp.web.default.svc.cluster.local.",
        RecordType::SRV,
        false,
    )
    .await?;
    assert_eq!(srv.answers, vec![format!("0 100 80 {web_name}")]);
    let udp_srv = ask(
        server,
        "_dns._udp.web.default.svc.cluster.local.",
        RecordType::SRV,
        false,
    )
    .await?;
    assert_eq!(udp_srv.answers, vec![format!("0 100 53 {web_name}")]);
    // The protocol is part of the name: there is no TCP port named dns.
    let wrong_proto = ask(
        server,
        "_dns._tcp.web.default.svc.cluster.local.",
        RecordType::SRV,
        false,
    )
    .await?;
    assert_eq!(wrong_proto.code, ResponseCode::NXDomain);
    // The name exists but has no AAAA: NOERROR with no answers (NODATA), not NXDOMAIN.
    let nodata = ask(server, web_name, RecordType::AAAA, false).await?;
    assert_eq!(
        (nodata.code, nodata.answers.len()),
        (ResponseCode::NoError, 0)
    );
    // PTR for the ClusterIP.
    let ip: IpAddr = cluster_ip.parse()?;
    let reverse = Name::from(ip).to_ascii();
    assert_eq!(
        ask(server, &reverse, RecordType::PTR, false).await?.answers,
        vec![web_name.to_string()]
    );

    let db = dns
        .eventually("db's endpoints", || async {
            let reply = ask(
                server,
                "db.default.svc.cluster.local.",
                RecordType::A,
                false,
            )
            .await?;
            Ok((reply.answers.len() == 2).then_some(reply))
        })
        .await?;
    assert_eq!(
        db.answers,
        vec!["10.244.9.10", "10.244.9.11"],
        "ready endpoints only"
    );
    assert_eq!(
        ask(
            server,
            "db-0.db.default.svc.cluster.local.",
            RecordType::A,
            false
        )
        .await?
        .answers,
        vec!["10.244.9.10"]
    );
    assert_eq!(
        ask(
            server,
            "db-2.db.default.svc.cluster.local.",
            RecordType::A,
            false
        )
        .await?
        .code,
        ResponseCode::NXDomain,
        "a not-ready endpoint has no name"
    );
    assert_eq!(
        ask(
            server,
            "_pg._tcp.db.default.svc.cluster.local.",
            RecordType::SRV,
            false
        )
        .await?
        .answers,
        vec![
            "0 100 5432 10-244-9-11.db.default.svc.cluster.local.".to_string(),
            "0 100 5432 db-0.db.default.svc.cluster.local.".to_string(),
        ]
    );
    let cname = dns
        .eventually("docs' CNAME", || async {
            let reply = ask(
                server,
                "docs.default.svc.cluster.local.",
                RecordType::A,
                false,
            )
            .await?;
            Ok((!reply.answers.is_empty()).then_some(reply))
        })
        .await?;
    // The CNAME and its target, resolved through the (fake) upstream, in one answer.
    assert_eq!(cname.answers, vec!["192.0.2.53", "docs.example.org."]);

    let missing = ask(
        server,
        "nope.default.svc.cluster.local.",
        RecordType::A,
        false,
    )
    .await?;
    assert_eq!(missing.code, ResponseCode::NXDomain);
    assert!(missing.authoritative);

    // Outside the cluster domain: relayed to the (fake, loopback) upstream.
    let outside = ask(server, "www.example.net.", RecordType::A, false).await?;
    assert_eq!(outside.code, ResponseCode::NoError);
    assert_eq!(outside.answers, vec!["192.0.2.53"]);
    assert!(!outside.authoritative);

    // Deleting the Service takes its names away.
    let (code, body) = cluster.delete(&format!("{SERVICES}/web")).await?;
    assert!(code.is_success(), "delete web: {code} {body}");
    dns.eventually("web's NXDOMAIN after delete", || async {
        let reply = ask(server, web_name, RecordType::A, false).await?;
        Ok((reply.code == ResponseCode::NXDomain).then_some(()))
    })
    .await?;
    assert_eq!(
        ask(server, &reverse, RecordType::PTR, false).await?.answers,
        vec!["192.0.2.53"],
        "the PTR is gone too: the reverse name is forwarded now"
    );
    // Endpoints going not-ready leave the headless Service with no records: NXDOMAIN.
    let (code, body) = cluster
        .patch_json(
            &format!("{SLICES}/db-1"),
            "application/merge-patch+json",
            &json!({"endpoints": [{"addresses": ["10.244.9.10"], "hostname": "db-0",
                                   "conditions": {"ready": false}}]}),
        )
        .await?;
    assert!(code.is_success(), "update slice: {code} {body}");
    dns.eventually("db's NXDOMAIN with no ready endpoints", || async {
        let reply = ask(
            server,
            "db.default.svc.cluster.local.",
            RecordType::A,
            false,
        )
        .await?;
        Ok((reply.code == ResponseCode::NXDomain).then_some(()))
    })
    .await?;
    Ok(())
}
