//! Forwarding one HTTP request to a kubelet: plain requests with the response streamed back
//! as it arrives (no buffering, so `kubectl logs -f` sees each line), and HTTP/1.1 upgrades
//! (WebSocket `v5.channel.k8s.io`, SPDY/3.1) spliced into a two-way byte pipe once the kubelet
//! answers 101. A kubelet that refuses an upgrade has its answer passed back untouched, so the
//! client's fallback (WebSocket → SPDY) sees what it expects.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;

use super::client::{join_host_port, DialError, KubeletClient};
use super::location::ConnectionInfo;
use crate::handlers::Body;

/// Why a request could not be forwarded.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The kubelet could not be reached.
    #[error(transparent)]
    Dial(#[from] DialError),
    /// The connection broke while sending the request or reading the response head.
    #[error("{0}")]
    Send(#[from] hyper::Error),
    /// The request could not be built (bad path or header).
    #[error("{0}")]
    Request(#[from] http::Error),
}

/// One request to send to a kubelet.
pub struct Forward<'a> {
    /// Which kubelet.
    pub kubelet: &'a ConnectionInfo,
    /// Ignore `--kubelet-certificate-authority` for this request.
    pub skip_verify: bool,
    /// HTTP method.
    pub method: Method,
    /// Path and query on the kubelet (`/containerLogs/ns/pod/c?follow=true`).
    pub path_and_query: String,
    /// Headers to send (already filtered by [`forwarded_headers`]).
    pub headers: HeaderMap,
}

impl Forward<'_> {
    /// `https://host:port/path?query`, for error messages.
    pub fn url(&self) -> String {
        format!(
            "https://{}{}",
            join_host_port(&self.kubelet.host, self.kubelet.port),
            self.path_and_query
        )
    }
}

/// Whether a request asks to switch protocols: a `Connection` header with the `upgrade`
/// token (what upstream's `httpstream.IsUpgradeRequest` checks).
pub fn is_upgrade_request(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

/// Hop-by-hop headers (RFC 9110 §7.6.1) that a proxy must not pass on, except that an
/// upgrade keeps `Connection` and `Upgrade` — they are the point of the request.
fn is_hop_by_hop(name: &HeaderName, upgrade: bool) -> bool {
    let always = [
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
    ];
    always.contains(&name.as_str())
        || (!upgrade && (name == header::CONNECTION || name == header::UPGRADE))
}

/// The client's headers as the kubelet should see them: no hop-by-hop headers, no `Host` (set
/// per kubelet), no `Authorization` (the apiserver authenticates with its own client
/// certificate; upstream's authentication filter drops the header too).
pub fn forwarded_headers(client: &HeaderMap, upgrade: bool) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in client {
        if name == header::HOST || name == header::AUTHORIZATION || is_hop_by_hop(name, upgrade) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// Send `fwd` with `body` over a fresh connection and return the kubelet's response head; the
/// body streams from the connection as the caller reads it.
pub async fn send<B>(
    client: &KubeletClient,
    fwd: Forward<'_>,
    body: B,
) -> Result<Response<Incoming>, ProxyError>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tls = client
        .connect(&fwd.kubelet.host, fwd.kubelet.port, fwd.skip_verify)
        .await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "kubelet connection ended with an error");
        }
    });
    let mut req = Request::builder()
        .method(fwd.method)
        .uri(&fwd.path_and_query)
        .body(body)?;
    *req.headers_mut() = fwd.headers;
    if let Ok(host) = HeaderValue::from_str(&join_host_port(&fwd.kubelet.host, fwd.kubelet.port)) {
        req.headers_mut().insert(header::HOST, host);
    }
    Ok(sender.send_request(req).await?)
}

/// The kubelet's response for the client: status and end-to-end headers, body streamed.
pub fn pass_through(resp: Response<Incoming>) -> Response<Body> {
    let (parts, body) = resp.into_parts();
    let mut out = Response::new(Streamed(body).boxed());
    *out.status_mut() = parts.status;
    for (name, value) in &parts.headers {
        if !is_hop_by_hop(name, false) && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}

/// Proxy an upgrade request: forward it with its upgrade headers; on 101 answer the client
/// with the kubelet's 101 and splice the two upgraded connections; otherwise pass the
/// kubelet's answer back.
pub async fn upgrade(
    client: &KubeletClient,
    mut req: Request<Incoming>,
    fwd: Forward<'_>,
) -> Result<Response<Body>, ProxyError> {
    let client_side = hyper::upgrade::on(&mut req);
    let mut resp = send(client, fwd, Empty::<Bytes>::new()).await?;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        return Ok(pass_through(resp));
    }
    let kubelet_side = hyper::upgrade::on(&mut resp);
    let mut out = Response::new(Empty::<Bytes>::new().boxed());
    *out.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    // Every header of the kubelet's 101 (Upgrade, Connection, Sec-WebSocket-Accept,
    // Sec-WebSocket-Protocol, X-Stream-Protocol-Version) goes to the client as it is.
    *out.headers_mut() = resp.headers().clone();
    tokio::spawn(async move {
        let (client_io, kubelet_io) = match tokio::join!(client_side, kubelet_side) {
            (Ok(c), Ok(k)) => (c, k),
            (Err(e), _) | (_, Err(e)) => {
                tracing::debug!(error = %e, "upgrade failed; closing both sides");
                return;
            }
        };
        // Each direction on its own (see common::splice): the kubelet's last bytes still
        // reach the client when the client's late writes are refused.
        let spliced =
            common::splice::splice(TokioIo::new(client_io), TokioIo::new(kubelet_io)).await;
        tracing::debug!(?spliced, "upgraded stream closed");
    });
    Ok(out)
}

/// A kubelet response body relayed frame by frame. A broken kubelet connection ends the
/// stream (the client sees the body end) instead of failing the whole server connection.
struct Streamed(Incoming);

impl HttpBody for Streamed {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match Pin::new(&mut self.0).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(Some(Err(e))) => {
                tracing::debug!(error = %e, "kubelet response body broke off");
                Poll::Ready(None)
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        // Content-Length is not passed on (the body may end early), so no exact size either.
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    #[test]
    fn upgrade_detection_reads_connection_tokens() {
        assert!(is_upgrade_request(&headers(&[(
            "connection",
            "keep-alive, Upgrade"
        )])));
        assert!(is_upgrade_request(&headers(&[("connection", "upgrade")])));
        assert!(!is_upgrade_request(&headers(&[("upgrade", "websocket")])));
        assert!(!is_upgrade_request(&headers(&[("connection", "close")])));
    }

    #[test]
    fn forwarded_headers_keep_upgrade_headers_only_for_upgrades() {
        let client = headers(&[
            ("host", "apiserver:6443"),
            ("authorization", "Bearer secret"),
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-protocol", "v5.channel.k8s.io"),
            ("x-stream-protocol-version", "v4.channel.k8s.io"),
            ("transfer-encoding", "chunked"),
            ("user-agent", "kubectl"),
        ]);
        let up = forwarded_headers(&client, true);
        assert_eq!(
            up.get("upgrade").map(|v| v.as_bytes()),
            Some(&b"websocket"[..])
        );
        assert!(up.contains_key("connection"));
        assert!(up.contains_key("sec-websocket-protocol"));
        assert!(up.contains_key("x-stream-protocol-version"));
        assert!(!up.contains_key("authorization"));
        assert!(!up.contains_key("host"));
        assert!(!up.contains_key("transfer-encoding"));
        let plain = forwarded_headers(&client, false);
        assert!(!plain.contains_key("connection"));
        assert!(!plain.contains_key("upgrade"));
        assert!(plain.contains_key("user-agent"));
    }
}
