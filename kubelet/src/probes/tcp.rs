//! tcpSocket probes: success when a TCP connection opens within the timeout.
use std::net::SocketAddr;
use std::time::Duration;

/// Connects to `addr`; `Err` carries upstream-style wording
/// ("dial tcp 10.244.0.5:8080: connect: connection refused").
pub async fn probe(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_stream)) => Ok(()),
        Ok(Err(e)) => Err(format!("dial tcp {addr}: connect: {}", io_error_text(&e))),
        Err(_) => Err(format!("dial tcp {addr}: i/o timeout")),
    }
}

/// Go's short lower-case errno texts, which events and users are used to.
pub(crate) fn io_error_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        std::io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
        std::io::ErrorKind::TimedOut => "i/o timeout".into(),
        std::io::ErrorKind::HostUnreachable => "no route to host".into(),
        std::io::ErrorKind::NetworkUnreachable => "network is unreachable".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_port_succeeds_closed_port_fails() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap();
        probe(open, Duration::from_secs(1)).await.unwrap();

        // Bind then drop to find a port nobody listens on.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let err = probe(closed, Duration::from_secs(1)).await.unwrap_err();
        assert_eq!(
            err,
            format!("dial tcp {closed}: connect: connection refused")
        );
    }
}
