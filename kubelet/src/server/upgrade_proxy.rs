//! Hands an HTTP/1.1 Upgrade request (SPDY/3.1 or WebSocket) to the runtime's streaming
//! server and splices the two upgraded connections together.
//!
//! The request goes out with the client's headers unchanged (Upgrade, Connection,
//! Sec-WebSocket-*, X-Stream-Protocol-Version), so protocol negotiation happens between the
//! client and the streaming server. When the streaming server refuses the upgrade, its status,
//! headers and body go back to the client as they are, which is what lets clients fall back
//! (kubectl tries WebSocket first, then SPDY).

use http::{header, HeaderMap, HeaderValue, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::response::{self, Body};

/// A refusal body larger than this is cut: it is an error message, not data.
const MAX_REFUSAL_BODY: usize = 64 * 1024;

/// True when the request asks to switch protocols (`Connection: upgrade` plus `Upgrade`).
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    let connection_upgrade = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
    connection_upgrade && headers.contains_key(header::UPGRADE)
}

/// True for a WebSocket upgrade (as opposed to SPDY).
pub fn is_websocket<B>(req: &Request<B>) -> bool {
    is_upgrade(req.headers())
        && req
            .headers()
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Proxies `req` to `target` (the streaming server's `http://host:port/<kind>/<token>`).
pub async fn proxy(mut req: Request<Incoming>, target: &str) -> Response<Body> {
    if !is_upgrade(req.headers()) {
        return response::text(StatusCode::BAD_REQUEST, "Upgrade request required");
    }
    let target: Uri = match target.parse() {
        Ok(u) => u,
        Err(e) => {
            return response::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("runtime returned an invalid streaming URL {target:?}: {e}"),
            )
        }
    };
    let Some(authority) = target
        .authority()
        .filter(|_| target.scheme_str() == Some("http"))
    else {
        return response::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("unsupported streaming URL {target}: only http:// is supported"),
        );
    };
    let stream = match TcpStream::connect(authority.as_str()).await {
        Ok(s) => s,
        Err(e) => {
            return response::text(
                StatusCode::BAD_GATEWAY,
                format!("dialing the streaming server at {authority}: {e}"),
            )
        }
    };
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    {
        Ok(pair) => pair,
        Err(e) => return response::text(StatusCode::BAD_GATEWAY, format!("streaming server: {e}")),
    };
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "streaming server connection ended");
        }
    });

    let outgoing = match outgoing_request(&req, &target, authority.as_str()) {
        Ok(r) => r,
        Err(e) => return response::text(StatusCode::BAD_REQUEST, e),
    };
    let client_upgrade = hyper::upgrade::on(&mut req);
    let mut upstream = match sender.send_request(outgoing).await {
        Ok(r) => r,
        Err(e) => return response::text(StatusCode::BAD_GATEWAY, format!("streaming server: {e}")),
    };

    if upstream.status() != StatusCode::SWITCHING_PROTOCOLS {
        return refusal(upstream).await;
    }
    let mut reply = Response::new(response::full(""));
    *reply.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    *reply.headers_mut() = upstream.headers().clone();
    let runtime_upgrade = hyper::upgrade::on(&mut upstream);
    tokio::spawn(async move {
        let (client, runtime) = match tokio::try_join!(client_upgrade, runtime_upgrade) {
            Ok(pair) => pair,
            Err(e) => {
                tracing::debug!(error = %e, "upgrade did not complete");
                return;
            }
        };
        // Each direction on its own: a client still writing after the command exited must
        // not cut off the runtime's last output and exit status on their way back.
        let spliced = common::splice::splice(TokioIo::new(client), TokioIo::new(runtime)).await;
        tracing::debug!(?spliced, "stream closed");
    });
    reply
}

/// The request to the streaming server: same method and headers, the token URL's path, and no
/// body (an upgrade request carries none).
fn outgoing_request(
    req: &Request<Incoming>,
    target: &Uri,
    authority: &str,
) -> Result<Request<Empty<bytes::Bytes>>, String> {
    let path = target
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_string();
    let mut outgoing = Request::builder()
        .method(req.method().clone())
        .uri(path)
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let headers = outgoing.headers_mut();
    *headers = req.headers().clone();
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::TRANSFER_ENCODING);
    headers.insert(
        header::HOST,
        HeaderValue::from_str(authority).map_err(|e| e.to_string())?,
    );
    Ok(outgoing)
}

/// Passes the streaming server's non-101 answer back unchanged.
async fn refusal(upstream: Response<Incoming>) -> Response<Body> {
    let (parts, body) = upstream.into_parts();
    let bytes = match Limited::new(body, MAX_REFUSAL_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => bytes::Bytes::from(format!("reading the streaming server's reply: {e}")),
    };
    let mut reply = Response::new(response::full(bytes));
    *reply.status_mut() = parts.status;
    *reply.headers_mut() = parts.headers;
    reply.headers_mut().remove(header::TRANSFER_ENCODING);
    reply.headers_mut().remove(header::CONTENT_LENGTH);
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_upgrade_requests() {
        let mut h = HeaderMap::new();
        assert!(!is_upgrade(&h));
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        assert!(!is_upgrade(&h), "Upgrade header missing");
        h.insert(header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
        assert!(is_upgrade(&h));
        let mut req = Request::new(());
        *req.headers_mut() = h.clone();
        assert!(!is_websocket(&req));
        req.headers_mut()
            .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert!(is_websocket(&req));
    }
}
