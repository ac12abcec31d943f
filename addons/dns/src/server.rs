//! DNS over UDP and TCP on one address: parse the question, answer from the zone snapshot,
//! forward what is not ours.

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use crate::forward::{ForwardError, Forwarder};
use crate::hosts::HostsFile;
use crate::informers::Zone;
use crate::records::Answer;

/// The largest UDP answer without EDNS (RFC 1035).
const UDP_DEFAULT_PAYLOAD: usize = 512;
/// How many CNAMEs one answer follows (a loop between ExternalNames must end).
const MAX_CNAME_HOPS: usize = 8;
/// How long a TCP client may stay idle between queries.
const TCP_IDLE: std::time::Duration = std::time::Duration::from_secs(10);

/// Answers queries from the zone, forwarding the rest.
#[derive(Clone)]
pub struct Handler {
    zone: Zone,
    forwarder: Arc<Forwarder>,
    hosts: Option<Arc<HostsFile>>,
}

/// The sockets a server listens on.
pub struct Listeners {
    /// The UDP socket.
    pub udp: UdpSocket,
    /// The TCP listener (same address).
    pub tcp: TcpListener,
}

impl Listeners {
    /// Bind UDP and TCP on `addr` (port 0 picks one free port for both where possible).
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Listeners> {
        let udp = UdpSocket::bind(addr).await?;
        let tcp = TcpListener::bind(udp.local_addr()?).await?;
        Ok(Listeners { udp, tcp })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.udp.local_addr()
    }
}

impl Handler {
    /// A handler answering from `zone` and forwarding through `forwarder`.
    pub fn new(zone: Zone, forwarder: Forwarder) -> Handler {
        Handler {
            zone,
            forwarder: Arc::new(forwarder),
            hosts: None,
        }
    }

    /// Answer names outside the cluster zone from `hosts` first (CoreDNS's `hosts` plugin
    /// with `fallthrough`): only names it does not list are forwarded.
    pub fn with_hosts(mut self, hosts: Arc<HostsFile>) -> Handler {
        self.hosts = Some(hosts);
        self
    }

    /// Serve both transports until the process exits.
    pub async fn serve(self, listeners: Listeners) -> std::io::Result<()> {
        let udp = Arc::new(listeners.udp);
        let tcp_handler = self.clone();
        let tcp = tokio::spawn(async move { tcp_handler.serve_tcp(listeners.tcp).await });
        let udp_result = self.serve_udp(udp).await;
        tcp.abort();
        udp_result
    }

    async fn serve_udp(&self, socket: Arc<UdpSocket>) -> std::io::Result<()> {
        let mut buf = vec![0u8; 4096];
        loop {
            let (n, peer) = match socket.recv_from(&mut buf).await {
                Ok(v) => v,
                // ICMP errors from earlier replies surface here on some kernels; keep serving.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => continue,
                Err(e) => return Err(e),
            };
            let query = buf[..n].to_vec();
            let (handler, socket) = (self.clone(), socket.clone());
            tokio::spawn(async move {
                if let Some(answer) = handler.handle(&query, false).await {
                    if let Err(e) = socket.send_to(&answer, peer).await {
                        tracing::debug!(%peer, error = %e, "sending a UDP answer failed");
                    }
                }
            });
        }
    }

    async fn serve_tcp(&self, listener: TcpListener) -> std::io::Result<()> {
        loop {
            let (stream, peer) = listener.accept().await?;
            let handler = self.clone();
            tokio::spawn(async move {
                if let Err(e) = handler.serve_tcp_connection(stream).await {
                    tracing::debug!(%peer, error = %e, "TCP DNS connection ended");
                }
            });
        }
    }

    async fn serve_tcp_connection(&self, mut stream: TcpStream) -> std::io::Result<()> {
        loop {
            // RFC 7766: each message is preceded by its two-byte length.
            let len = match tokio::time::timeout(TCP_IDLE, stream.read_u16()).await {
                Ok(Ok(len)) => len,
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(()),
            };
            let mut query = vec![0u8; usize::from(len)];
            stream.read_exact(&mut query).await?;
            let Some(answer) = self.handle(&query, true).await else {
                return Ok(());
            };
            let Ok(len) = u16::try_from(answer.len()) else {
                return Ok(());
            };
            stream.write_all(&len.to_be_bytes()).await?;
            stream.write_all(&answer).await?;
        }
    }

    /// The wire-format answer to the wire-format `query`, or `None` when it cannot be
    /// answered at all (not even its id could be read).
    pub async fn handle(&self, query: &[u8], tcp: bool) -> Option<Vec<u8>> {
        let request = match Message::from_vec(query) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(error = %e, "unparsable query");
                return format_error(query);
            }
        };
        if request.message_type() != MessageType::Query {
            return None;
        }
        let mut response = response_to(&request);
        if request.op_code() != OpCode::Query {
            response.set_response_code(ResponseCode::NotImp);
            return encode(response, &request, tcp);
        }
        // One question per message in practice (RFC 9619); anything else is malformed.
        let [question] = request.queries() else {
            response.set_response_code(ResponseCode::FormErr);
            return encode(response, &request, tcp);
        };
        if question.query_class() != DNSClass::IN {
            response.set_response_code(ResponseCode::Refused);
            return encode(response, &request, tcp);
        }
        let zone = self.zone.snapshot();
        let answer = zone.lookup(question.name(), question.query_type());
        if !self.zone.is_ready() && answer != Answer::NotAuthoritative {
            // Before the first complete list an NXDOMAIN would be a lie that resolvers cache
            // (for the SOA minimum); SERVFAIL makes them retry.
            response.set_response_code(ResponseCode::ServFail);
            return encode(response, &request, tcp);
        }
        match answer {
            Answer::Records {
                mut answers,
                additionals,
            } => {
                response.set_authoritative(true);
                self.chase_cname(&mut answers, question.query_type(), request.id())
                    .await;
                response.add_answers(answers);
                for record in additionals {
                    response.add_additional(record);
                }
            }
            Answer::NoData => {
                response.set_authoritative(true);
                response.add_name_server(zone.soa().clone());
            }
            Answer::NxDomain => {
                response.set_authoritative(true);
                response.set_response_code(ResponseCode::NXDomain);
                response.add_name_server(zone.soa().clone());
            }
            Answer::NotAuthoritative => {
                if let Some(records) = self
                    .hosts
                    .as_ref()
                    .and_then(|h| h.lookup(question.name(), question.query_type()))
                {
                    // Authoritative for what the file says, as CoreDNS's hosts plugin is.
                    response.set_authoritative(true);
                    response.add_answers(records);
                    return encode(response, &request, tcp);
                }
                return match self.forwarder.forward(query, tcp).await {
                    Ok(answer) => Some(answer),
                    Err(ForwardError::NoUpstreams) => {
                        response.set_response_code(ResponseCode::Refused);
                        encode(response, &request, tcp)
                    }
                    Err(e @ ForwardError::Unreachable(_)) => {
                        tracing::debug!(name = %question.name(), error = %e, "not forwarded");
                        response.set_response_code(ResponseCode::ServFail);
                        encode(response, &request, tcp)
                    }
                    Err(e) => {
                        tracing::warn!(name = %question.name(), error = %e, "forwarding failed");
                        response.set_response_code(ResponseCode::ServFail);
                        encode(response, &request, tcp)
                    }
                };
            }
        }
        encode(response, &request, tcp)
    }
}

impl Handler {
    /// Follow a CNAME at the end of `answers` (an ExternalName Service) to records of
    /// `qtype`, from the zone or the upstreams, as CoreDNS does: stub resolvers in pods expect
    /// the whole chain in one answer. A target that cannot be resolved leaves the CNAME
    /// alone (the client may still chase it).
    async fn chase_cname(&self, answers: &mut Vec<Record>, qtype: RecordType, id: u16) {
        if matches!(qtype, RecordType::CNAME | RecordType::ANY) {
            return;
        }
        let zone = self.zone.snapshot();
        for _ in 0..MAX_CNAME_HOPS {
            let Some(RData::CNAME(target)) = answers.last().map(Record::data) else {
                return;
            };
            let target = target.0.clone();
            match zone.lookup(&target, qtype) {
                Answer::Records { answers: more, .. } => answers.extend(more),
                Answer::NotAuthoritative => {
                    let mut query = Message::new();
                    query
                        .set_id(id)
                        .set_message_type(MessageType::Query)
                        .set_op_code(OpCode::Query)
                        .set_recursion_desired(true)
                        .add_query(Query::query(target, qtype));
                    let Ok(bytes) = query.to_vec() else {
                        return;
                    };
                    if let Ok(answer) = self.forwarder.forward(&bytes, false).await {
                        if let Ok(message) = Message::from_vec(&answer) {
                            answers.extend(message.answers().iter().cloned());
                        }
                    }
                    return;
                }
                _ => return,
            }
        }
    }
}

/// A response header echoing the request's id, opcode, RD flag and question.
fn response_to(request: &Message) -> Message {
    let mut response = Message::new();
    response
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_op_code(request.op_code())
        .set_recursion_desired(request.recursion_desired())
        .set_recursion_available(true);
    for query in request.queries() {
        response.add_query(query.clone());
    }
    response
}

/// Serialise `response`; over UDP an answer larger than the client accepts is replaced by an
/// empty truncated one, so the client retries over TCP.
fn encode(mut response: Message, request: &Message, tcp: bool) -> Option<Vec<u8>> {
    let limit = if tcp {
        usize::from(u16::MAX)
    } else {
        request
            .extensions()
            .as_ref()
            .map(|edns| usize::from(edns.max_payload()).max(UDP_DEFAULT_PAYLOAD))
            .unwrap_or(UDP_DEFAULT_PAYLOAD)
    };
    if let Some(edns) = request.extensions() {
        let mut ours = hickory_proto::op::Edns::new();
        ours.set_max_payload(edns.max_payload().max(UDP_DEFAULT_PAYLOAD as u16));
        response.set_edns(ours);
    }
    let bytes = response.to_vec().ok()?;
    if bytes.len() <= limit {
        return Some(bytes);
    }
    let mut truncated = response_to(request);
    truncated
        .set_truncated(true)
        .set_authoritative(response.authoritative())
        .set_response_code(response.response_code());
    truncated.to_vec().ok()
}

/// FORMERR for a message whose header could still be read (so the client can match it).
fn format_error(query: &[u8]) -> Option<Vec<u8>> {
    let id = u16::from_be_bytes([*query.first()?, *query.get(1)?]);
    let mut response = Message::new();
    response
        .set_id(id)
        .set_message_type(MessageType::Response)
        .set_response_code(ResponseCode::FormErr);
    response.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::ClusterRecords;
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::Name;
    use std::sync::Arc as StdArc;
    use std::time::Duration;

    fn zone() -> Zone {
        let service: k8s_openapi::api::core::v1::Service =
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "ext", "namespace": "default"},
                "spec": {"type": "ExternalName", "externalName": "example.org"}
            }))
            .unwrap();
        let domain = Name::from_ascii("cluster.local.").unwrap();
        let zone = Zone::new(&domain, 30);
        zone.publish(ClusterRecords::build(
            &domain,
            30,
            &[StdArc::new(service)],
            &[],
        ));
        zone
    }

    fn query(name: &str, qtype: RecordType) -> Vec<u8> {
        let mut m = Message::new();
        m.set_id(77)
            .set_message_type(MessageType::Query)
            .add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
        m.to_vec().unwrap()
    }

    async fn ask(handler: &Handler, name: &str, qtype: RecordType) -> Message {
        let answer = handler.handle(&query(name, qtype), false).await.unwrap();
        Message::from_vec(&answer).unwrap()
    }

    #[tokio::test]
    async fn cluster_names_fail_until_the_first_list() {
        let domain = Name::from_ascii("cluster.local.").unwrap();
        let handler = Handler::new(
            Zone::new(&domain, 30),
            Forwarder::new(vec![], Duration::from_secs(1)),
        );
        let early = ask(&handler, "web.default.svc.cluster.local.", RecordType::A).await;
        assert_eq!(early.response_code(), ResponseCode::ServFail);
    }

    #[tokio::test]
    async fn outside_names_are_refused_without_upstreams_and_cnames_stay_unchased() {
        let handler = Handler::new(zone(), Forwarder::new(vec![], Duration::from_secs(1)));
        let outside = ask(&handler, "example.org.", RecordType::A).await;
        assert_eq!(outside.response_code(), ResponseCode::Refused);
        assert_eq!(outside.id(), 77);
        let ext = ask(&handler, "ext.default.svc.cluster.local.", RecordType::A).await;
        assert_eq!(ext.response_code(), ResponseCode::NoError);
        assert_eq!(ext.answers().len(), 1);
        assert_eq!(ext.answers()[0].record_type(), RecordType::CNAME);
        let missing = ask(&handler, "nope.cluster.local.", RecordType::A).await;
        assert_eq!(missing.response_code(), ResponseCode::NXDomain);
        assert_eq!(missing.name_servers()[0].record_type(), RecordType::SOA);
    }

    #[tokio::test]
    async fn outside_names_come_from_the_hosts_file_else_servfail_without_reachable_upstreams() {
        let dir = std::env::temp_dir().join(format!("rudder-dns-server-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hosts");
        std::fs::write(&path, "192.0.2.7 db.example.test\n").unwrap();
        let forwarder = Forwarder::new(vec![], Duration::from_secs(30))
            .with_unreachable(vec!["10.255.255.53:53".parse().unwrap()]);
        let handler =
            Handler::new(zone(), forwarder).with_hosts(Arc::new(HostsFile::open(&path, 30)));
        let listed = ask(&handler, "db.example.test.", RecordType::A).await;
        assert_eq!(listed.response_code(), ResponseCode::NoError);
        let data: Vec<String> = listed
            .answers()
            .iter()
            .map(|r| r.data().to_string())
            .collect();
        assert_eq!(data, vec!["192.0.2.7"]);
        let nodata = ask(&handler, "db.example.test.", RecordType::AAAA).await;
        assert_eq!(nodata.response_code(), ResponseCode::NoError);
        assert!(nodata.answers().is_empty());
        // Not listed, and the only nameserver may not be asked: SERVFAIL, not REFUSED, and
        // without waiting for the 30 s upstream timeout (the test would hang).
        let other = ask(&handler, "example.org.", RecordType::A).await;
        assert_eq!(other.response_code(), ResponseCode::ServFail);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn external_name_targets_are_resolved_upstream() {
        // A loopback fake upstream answering every question with 192.0.2.1.
        let upstream = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = upstream.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = upstream.recv_from(&mut buf).await {
                let q = Message::from_vec(&buf[..n]).unwrap();
                let mut r = response_to(&q);
                r.add_answer(Record::from_rdata(
                    q.queries()[0].name().clone(),
                    60,
                    RData::A(A([192, 0, 2, 1].into())),
                ));
                upstream.send_to(&r.to_vec().unwrap(), from).await.unwrap();
            }
        });
        let handler = Handler::new(zone(), Forwarder::new(vec![addr], Duration::from_secs(2)));
        let ext = ask(&handler, "ext.default.svc.cluster.local.", RecordType::A).await;
        let data: Vec<String> = ext.answers().iter().map(|r| r.data().to_string()).collect();
        assert_eq!(data, vec!["example.org.", "192.0.2.1"]);
        assert!(ext.authoritative());
    }
}
