//! The reverse proxy: accept HTTP (and HTTPS through rustls), route by Host and path, and
//! forward to a ready endpoint of the matched backend directly (pod IP and port), trying the
//! next endpoint when a connection cannot be opened.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::controller::Shared;
use crate::metrics::Metrics;
use crate::routes::Backend;

/// The response body type: upstream bodies streamed through, or our own short texts.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// How long opening a connection to one endpoint may take before trying the next.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How many endpoints one request tries before answering 502.
const MAX_CONNECT_ATTEMPTS: usize = 3;

/// Headers that describe one connection, not the message (RFC 9110 section 7.6.1): never
/// forwarded.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Everything a request needs: routes, metrics.
#[derive(Clone)]
pub struct Proxy {
    shared: Arc<Shared>,
    metrics: Metrics,
}

impl Proxy {
    /// A proxy routing with `shared`'s table and counting into `metrics`.
    pub fn new(shared: Arc<Shared>, metrics: Metrics) -> Proxy {
        Proxy { shared, metrics }
    }

    /// Serve plain HTTP on `listener` until the process exits.
    pub async fn serve_http(self, listener: TcpListener) -> std::io::Result<()> {
        loop {
            let (stream, peer) = listener.accept().await?;
            let proxy = self.clone();
            tokio::spawn(async move { proxy.serve_connection(stream, peer, "http").await });
        }
    }

    /// Serve HTTPS on `listener` with `acceptor` (SNI certificates) until the process exits.
    pub async fn serve_https(
        self,
        listener: TcpListener,
        acceptor: TlsAcceptor,
    ) -> std::io::Result<()> {
        loop {
            let (stream, peer) = listener.accept().await?;
            let (proxy, acceptor) = (self.clone(), acceptor.clone());
            tokio::spawn(async move {
                match acceptor.accept(stream).await {
                    Ok(tls) => proxy.serve_connection(tls, peer, "https").await,
                    Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                }
            });
        }
    }

    async fn serve_connection<S>(self, stream: S, peer: SocketAddr, scheme: &'static str)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let service = service_fn(move |req: Request<Incoming>| {
            let proxy = self.clone();
            async move { Ok::<_, std::convert::Infallible>(proxy.handle(req, peer, scheme).await) }
        });
        if let Err(e) = http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades()
            .await
        {
            tracing::debug!(%peer, error = %e, "client connection ended with an error");
        }
    }

    /// Route and forward one request; errors become 404/502/503 responses.
    pub async fn handle(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        scheme: &str,
    ) -> Response<Body> {
        let started = Instant::now();
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
            .unwrap_or_default();
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let routes = self.shared.routes();
        let route = if self.shared.is_synced() {
            routes.route(&host, &path).map(Some)
        } else {
            // Not listed yet: "no such route" would be a lie; ask the client to retry.
            Some(None)
        };
        let (backend_name, response) = match route {
            Some(None) => (
                "-".to_string(),
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "503 routes not loaded yet\n",
                ),
            ),
            None => (
                "-".to_string(),
                text(StatusCode::NOT_FOUND, "404 page not found\n"),
            ),
            Some(Some(backend)) if backend.endpoints.is_empty() => (
                backend.name.clone(),
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "503 no ready endpoints for this backend\n",
                ),
            ),
            Some(Some(backend)) => (
                backend.name.clone(),
                forward(backend, req, peer, scheme, &host).await,
            ),
        };
        let elapsed = started.elapsed();
        let code = response.status().as_u16();
        self.metrics
            .observe(&backend_name, code, elapsed.as_secs_f64());
        // The access log: one line per request.
        tracing::info!(
            target: "access",
            client = %peer, %scheme, %host, %method, %path, status = code,
            backend = %backend_name, ms = elapsed.as_millis() as u64,
        );
        response
    }
}

/// Forward `req` to one of `backend`'s endpoints.
async fn forward(
    backend: &Backend,
    mut req: Request<Incoming>,
    peer: SocketAddr,
    scheme: &str,
    host: &str,
) -> Response<Body> {
    let mut connected = None;
    for addr in backend.pick_order().take(MAX_CONNECT_ATTEMPTS) {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                connected = Some((addr, stream));
                break;
            }
            Ok(Err(e)) => {
                tracing::warn!(backend = %backend.name, %addr, error = %e, "connect failed; trying the next endpoint")
            }
            Err(_) => {
                tracing::warn!(backend = %backend.name, %addr, "connect timed out; trying the next endpoint")
            }
        }
    }
    let Some((addr, stream)) = connected else {
        return text(
            StatusCode::BAD_GATEWAY,
            "502 no endpoint accepted a connection\n",
        );
    };
    // A protocol switch (WebSocket): the Upgrade header is hop-by-hop, so it is put back
    // after the strip, and once the endpoint answers 101 both sides are spliced together.
    let upgrade = req.headers().get(header::UPGRADE).cloned();
    let client_upgrade = upgrade.as_ref().map(|_| hyper::upgrade::on(&mut req));
    prepare_upstream_request(&mut req, peer, scheme, host);
    if let Some(protocol) = &upgrade {
        req.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        req.headers_mut().insert(header::UPGRADE, protocol.clone());
    }
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(backend = %backend.name, %addr, error = %e, "HTTP handshake failed");
            return text(StatusCode::BAD_GATEWAY, "502 bad gateway\n");
        }
    };
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(%addr, error = %e, "upstream connection ended with an error");
        }
    });
    match sender.send_request(req).await {
        Ok(mut resp) => {
            if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
                if let Some(client_upgrade) = client_upgrade {
                    splice(client_upgrade, hyper::upgrade::on(&mut resp), addr);
                    // The 101 keeps its Connection/Upgrade headers: they are the answer.
                    let (parts, body) = resp.into_parts();
                    return Response::from_parts(parts, body.boxed());
                }
            }
            let (mut parts, body) = resp.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, body.boxed())
        }
        Err(e) => {
            tracing::warn!(backend = %backend.name, %addr, error = %e, "upstream request failed");
            text(StatusCode::BAD_GATEWAY, "502 bad gateway\n")
        }
    }
}

/// Once both the client's and the endpoint's connections have switched protocols, copy bytes
/// both ways until either side closes.
fn splice(
    client: hyper::upgrade::OnUpgrade,
    upstream: hyper::upgrade::OnUpgrade,
    addr: SocketAddr,
) {
    tokio::spawn(async move {
        match tokio::try_join!(client, upstream) {
            Ok((client, upstream)) => {
                let (mut client, mut upstream) = (TokioIo::new(client), TokioIo::new(upstream));
                if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
                    tracing::debug!(%addr, error = %e, "upgraded connection ended with an error");
                }
            }
            Err(e) => tracing::debug!(%addr, error = %e, "protocol upgrade failed"),
        }
    });
}

/// Turn the client's request into the upstream's: origin-form target, hop-by-hop headers
/// removed, the `X-Forwarded-*` headers upstream applications expect added.
fn prepare_upstream_request(
    req: &mut Request<Incoming>,
    peer: SocketAddr,
    scheme: &str,
    host: &str,
) {
    let target = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    if let Ok(uri) = target.parse() {
        *req.uri_mut() = uri;
    }
    let headers = req.headers_mut();
    strip_hop_by_hop(headers);
    if !host.is_empty() && !headers.contains_key(header::HOST) {
        if let Ok(v) = HeaderValue::from_str(host) {
            headers.insert(header::HOST, v);
        }
    }
    let client_ip = peer.ip().to_string();
    let forwarded_for = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(existing) => format!("{existing}, {client_ip}"),
        None => client_ip.clone(),
    };
    let set = |headers: &mut http::HeaderMap, name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set(headers, "x-forwarded-for", &forwarded_for);
    set(headers, "x-real-ip", &client_ip);
    set(headers, "x-forwarded-proto", scheme);
    set(headers, "x-forwarded-host", host);
}

fn strip_hop_by_hop(headers: &mut http::HeaderMap) {
    // Headers named in Connection are hop-by-hop too.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut resp = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}
