//! Where `kubectl proxy` listens: a TCP address (`--address`, `--port`) or a unix socket
//! (`-u/--unix-socket`), and the one accept loop for both.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};

use super::Proxy;
use crate::error::{KubectlError, Result};

/// A bound listener.
pub enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, String),
}

impl Listener {
    /// Binds `address:port`, as Go's `net.Listen("tcp", …)`.
    pub async fn tcp(address: &str, port: u16) -> Result<Self> {
        let ip: std::net::IpAddr = address
            .parse()
            .map_err(|_| KubectlError::usage(format!("invalid --address {address:?}")))?;
        let listener = TcpListener::bind(SocketAddr::new(ip, port))
            .await
            .map_err(|e| KubectlError::usage(format!("listen tcp {address}:{port}: {e}")))?;
        Ok(Listener::Tcp(listener))
    }

    /// Binds the socket file `path`, readable by its owner only. As upstream, a socket left
    /// there (stale or not) is replaced; any other file is refused.
    pub fn unix(path: &str) -> Result<Self> {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
            let _ = std::fs::remove_file(path);
        }
        let listener = UnixListener::bind(path).map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::AddrInUse {
                "address already in use".to_string()
            } else {
                crate::go_io::errno_text(&e)
            };
            KubectlError::usage(format!("listen unix {path}: bind: {why}"))
        })?;
        // Upstream binds under umask 0077.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| KubectlError::usage(format!("chmod {path}: {e}")))?;
        Ok(Listener::Unix(listener, path.to_string()))
    }

    /// What upstream prints after "Starting to serve on ": `ip:port`, or the socket's path.
    pub fn address(&self) -> Result<String> {
        match self {
            Listener::Tcp(l) => l
                .local_addr()
                .map(|a| a.to_string())
                .map_err(|e| KubectlError::usage(e.to_string())),
            Listener::Unix(_, path) => Ok(path.clone()),
        }
    }

    /// Serves `proxy` on every connection until accepting fails.
    pub async fn serve(self, proxy: Arc<Proxy>) -> Result<()> {
        let accept_error = |e: std::io::Error| KubectlError::usage(format!("accept: {e}"));
        loop {
            match &self {
                Listener::Tcp(l) => {
                    let (stream, _) = l.accept().await.map_err(accept_error)?;
                    spawn_connection(stream, proxy.clone());
                }
                Listener::Unix(l, _) => {
                    let (stream, _) = l.accept().await.map_err(accept_error)?;
                    spawn_connection(stream, proxy.clone());
                }
            }
        }
    }
}

/// Answers one client connection's requests (HTTP/1.1) in a task of its own.
fn spawn_connection<S>(stream: S, proxy: Arc<Proxy>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let service = service_fn(move |req| {
            let proxy = proxy.clone();
            async move { Ok::<_, Infallible>(proxy.handle(req).await) }
        });
        // A client that goes away mid-answer is its own business.
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_socket_replaces_a_stale_one_but_not_a_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("proxy.sock");
        let path = path.to_str().unwrap();
        let first = Listener::unix(path).unwrap();
        assert_eq!(first.address().unwrap(), path);
        drop(first);
        // The socket file is still there; a second proxy takes its place.
        let second = Listener::unix(path).unwrap();
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        drop(second);
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        let file = file.to_str().unwrap();
        let Err(e) = Listener::unix(file) else {
            panic!("bound over a regular file")
        };
        assert_eq!(
            e.to_string(),
            format!("error: listen unix {file}: bind: address already in use")
        );
    }
}
