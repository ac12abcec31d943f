//! DNS over UDP and TCP on one address: parse the question, answer from the zone snapshot,
//! forward what is not ours.

use std::net::SocketAddr;
use std::sync::Arc;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::DNSClass;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use crate::forward::{ForwardError, Forwarder};
use crate::informers::Zone;
use crate::records::Answer;

/// The largest UDP answer without EDNS (RFC 1035).
const UDP_DEFAULT_PAYLOAD: usize = 512;
/// How long a TCP client may stay idle between queries.
const TCP_IDLE: std::time::Duration = std::time::Duration::from_secs(10);

/// Answers queries from the zone, forwarding the rest.
#[derive(Clone)]
pub struct Handler {
    zone: Zone,
    forwarder: Arc<Forwarder>,
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
        }
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
        match zone.lookup(question.name(), question.query_type()) {
            Answer::Records {
                answers,
                additionals,
            } => {
                response.set_authoritative(true);
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
                return match self.forwarder.forward(query, tcp).await {
                    Ok(answer) => Some(answer),
                    Err(ForwardError::NoUpstreams) => {
                        response.set_response_code(ResponseCode::Refused);
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
