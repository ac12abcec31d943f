//! Forwarding names outside the cluster zone to upstream resolvers, as CoreDNS's
//! `forward . /etc/resolv.conf` does.
//!
//! The query is relayed byte for byte (its id included), so the client gets the upstream's
//! answer unchanged. Upstreams are tried in order until one answers.
//!
//! From `--resolv-conf` only loopback nameservers are used: on this project's machines
//! traffic may go to local addresses only, so a nameserver elsewhere (the node's own
//! resolver, e.g. 10.255.255.53) is never asked. When resolv.conf names only such servers,
//! queries get SERVFAIL at once — what CoreDNS answers when its upstreams are unreachable,
//! without the client waiting for a timeout first.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// Why no upstream answered.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// No upstream resolver is configured: the server answers REFUSED.
    #[error("no upstream resolvers configured")]
    NoUpstreams,
    /// Upstreams are configured but none may be asked (not reachable from here): the
    /// server answers SERVFAIL at once.
    #[error("upstream resolvers {0:?} are not reachable from the pod network")]
    Unreachable(Vec<SocketAddr>),
    /// Every upstream failed or timed out: the server answers SERVFAIL.
    #[error("no upstream resolver answered: {0}")]
    Failed(String),
}

/// The upstream resolvers and how long to wait for each.
#[derive(Debug, Clone)]
pub struct Forwarder {
    upstreams: Vec<SocketAddr>,
    /// Configured nameservers that are never asked (see the module docs).
    unreachable: Vec<SocketAddr>,
    timeout: Duration,
}

impl Forwarder {
    /// Forward to `upstreams` in order, waiting `timeout` for each.
    pub fn new(upstreams: Vec<SocketAddr>, timeout: Duration) -> Forwarder {
        Forwarder {
            upstreams,
            unreachable: Vec::new(),
            timeout,
        }
    }

    /// Also remember nameservers that were configured but are not asked: with no usable
    /// upstream, queries then fail (SERVFAIL) instead of being refused.
    pub fn with_unreachable(mut self, unreachable: Vec<SocketAddr>) -> Forwarder {
        self.unreachable = unreachable;
        self
    }

    /// The configured upstreams.
    pub fn upstreams(&self) -> &[SocketAddr] {
        &self.upstreams
    }

    /// Relay the wire-format `query` and return the first upstream's wire-format answer. `tcp`
    /// picks the transport (a client asking over TCP usually retries after a truncated UDP
    /// answer, so the upstream is asked over TCP too).
    pub async fn forward(&self, query: &[u8], tcp: bool) -> Result<Vec<u8>, ForwardError> {
        if self.upstreams.is_empty() {
            if !self.unreachable.is_empty() {
                return Err(ForwardError::Unreachable(self.unreachable.clone()));
            }
            return Err(ForwardError::NoUpstreams);
        }
        let mut errors = Vec::new();
        for upstream in &self.upstreams {
            let attempt = async {
                if tcp {
                    forward_tcp(*upstream, query).await
                } else {
                    forward_udp(*upstream, query).await
                }
            };
            match tokio::time::timeout(self.timeout, attempt).await {
                Ok(Ok(answer)) => return Ok(answer),
                Ok(Err(e)) => errors.push(format!("{upstream}: {e}")),
                Err(_) => errors.push(format!("{upstream}: timed out")),
            }
        }
        Err(ForwardError::Failed(errors.join("; ")))
    }
}

async fn forward_udp(upstream: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let bind: SocketAddr = match upstream {
        SocketAddr::V4(_) => ([0, 0, 0, 0], 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(bind).await?;
    socket.connect(upstream).await?;
    socket.send(query).await?;
    let mut buf = vec![0u8; 65535];
    loop {
        let n = socket.recv(&mut buf).await?;
        // Only the answer to this query (same id) counts; anything else is stray.
        if n >= 2 && query.len() >= 2 && buf[..2] == query[..2] {
            buf.truncate(n);
            return Ok(buf);
        }
    }
}

async fn forward_tcp(upstream: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(upstream).await?;
    let len = u16::try_from(query.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "query too long"))?;
    stream.write_all(&len.to_be_bytes()).await?;
    stream.write_all(query).await?;
    let len = stream.read_u16().await?;
    let mut buf = vec![0u8; usize::from(len)];
    stream.read_exact(&mut buf).await?;
    Ok(buf)
}

/// The nameservers of a resolv.conf file, split into those that may be asked and those that
/// may not.
#[derive(Debug, Default, PartialEq)]
pub struct ResolvConfServers {
    /// Loopback nameservers (port 53), this server's own address left out (asking
    /// ourselves would loop).
    pub usable: Vec<SocketAddr>,
    /// Nameservers on other addresses: outside traffic is not allowed, so never asked.
    pub unreachable: Vec<SocketAddr>,
}

/// Read the `nameserver` lines of the resolv.conf at `path`; `own` is the address this
/// server listens on.
pub fn nameservers_from_resolv_conf(
    path: &Path,
    own: SocketAddr,
) -> std::io::Result<ResolvConfServers> {
    Ok(split_nameservers(
        &parse_resolv_conf(&std::fs::read_to_string(path)?),
        own,
    ))
}

fn split_nameservers(ips: &[IpAddr], own: SocketAddr) -> ResolvConfServers {
    let mut out = ResolvConfServers::default();
    for ip in ips {
        let addr = SocketAddr::new(*ip, 53);
        if !ip.is_loopback() {
            out.unreachable.push(addr);
            continue;
        }
        let ourselves = addr.port() == own.port() && (own.ip() == *ip || own.ip().is_unspecified());
        if !ourselves {
            out.usable.push(addr);
        }
    }
    out
}

fn parse_resolv_conf(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next())
                .flatten()
                // A zone index (fe80::1%eth0) cannot be used here; such servers are skipped.
                .and_then(|w| w.parse::<IpAddr>().ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_nameservers() {
        let text = "# comment\nsearch default.svc.cluster.local\nnameserver 10.0.0.2\n\
                    nameserver fe80::1%eth0\nnameserver ::1\noptions ndots:5\n";
        assert_eq!(
            parse_resolv_conf(text),
            vec![
                "10.0.0.2".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
    }

    #[test]
    fn only_loopback_nameservers_are_asked_and_never_ourselves() {
        let ips: Vec<IpAddr> = [
            "10.255.255.53",
            "127.0.0.53",
            "127.0.0.1",
            "::1",
            "192.0.2.1",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let own: SocketAddr = "0.0.0.0:53".parse().unwrap();
        let split = split_nameservers(&ips, own);
        // Listening on every address at port 53: every loopback :53 is ourselves.
        assert!(split.usable.is_empty());
        assert_eq!(
            split.unreachable,
            vec![
                "10.255.255.53:53".parse::<SocketAddr>().unwrap(),
                "192.0.2.1:53".parse().unwrap()
            ]
        );
        let split = split_nameservers(&ips, "10.244.0.5:5353".parse().unwrap());
        assert_eq!(
            split.usable,
            vec![
                "127.0.0.53:53".parse::<SocketAddr>().unwrap(),
                "127.0.0.1:53".parse().unwrap(),
                "[::1]:53".parse().unwrap()
            ]
        );
    }

    #[tokio::test]
    async fn unreachable_upstreams_fail_at_once() {
        let f = Forwarder::new(vec![], Duration::from_secs(30))
            .with_unreachable(vec!["10.255.255.53:53".parse().unwrap()]);
        assert!(matches!(
            f.forward(&[0, 1, 2], false).await,
            Err(ForwardError::Unreachable(_))
        ));
    }

    #[tokio::test]
    async fn no_upstreams_is_refused() {
        let f = Forwarder::new(vec![], Duration::from_secs(1));
        assert!(matches!(
            f.forward(&[0, 1, 2], false).await,
            Err(ForwardError::NoUpstreams)
        ));
    }

    #[tokio::test]
    async fn relays_to_a_local_upstream_and_skips_a_dead_one() {
        // A fake upstream on loopback that answers with the query's id and a marker byte.
        let upstream = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = upstream.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (n, from) = upstream.recv_from(&mut buf).await.unwrap();
            let mut answer = buf[..n].to_vec();
            answer.push(0xAA);
            upstream.send_to(&answer, from).await.unwrap();
        });
        // A loopback port nobody listens on: the send succeeds, the answer never comes.
        let dead = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let dead_addr = dead.local_addr().unwrap();
        drop(dead);
        let f = Forwarder::new(vec![dead_addr, addr], Duration::from_millis(300));
        let answer = f.forward(&[0x12, 0x34, 7], false).await.unwrap();
        assert_eq!(answer, vec![0x12, 0x34, 7, 0xAA]);
    }
}
