//! WebSocket clients of exec, attach and port-forward, served as upstream's apiserver serves
//! them: kubectl 1.30+ asks for `v5.channel.k8s.io` (exec/attach) and 1.31+ for a
//! `SPDY/3.1+portforward.k8s.io` tunnel (port-forward); kubelets and container runtimes
//! speak SPDY. So the apiserver ends the WebSocket itself and talks SPDY to the kubelet —
//! [`translate`](super::translate) for the channel protocols, [`tunnel`](super::tunnel) for
//! port-forward, whose SPDY frames travel inside WebSocket messages unchanged.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use super::proxy::{self, Forward, ProxyError};
use super::translate::{self, ChannelProtocol, StreamOptions};
use super::tunnel;
use super::KubeletClient;
use crate::handlers::Body;

/// The port-forward tunnel's subprotocol: SPDY/3.1 framing inside WebSocket messages.
pub const PORT_FORWARD_TUNNEL: &str = "SPDY/3.1+portforward.k8s.io";

/// What the apiserver does with a WebSocket upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// exec/attach: translate the channel protocol to SPDY streams.
    Channels(ChannelProtocol),
    /// port-forward: unwrap the tunnel and relay its bytes.
    Tunnel,
}

/// Whether the request asks for a WebSocket (`Upgrade: websocket`).
pub fn is_websocket(headers: &HeaderMap) -> bool {
    proxy::is_upgrade_request(headers)
        && headers
            .get_all(header::UPGRADE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("websocket"))
}

/// The subprotocols the client offers, in its order of preference.
fn offered_protocols(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The plan for a WebSocket exec/attach (`port_forward` false) or port-forward request,
/// with the subprotocol to answer; `None` when the client offers nothing we translate (the
/// request then goes to the kubelet as it is).
pub fn plan(headers: &HeaderMap, port_forward: bool) -> Option<(Plan, String)> {
    let offered = offered_protocols(headers);
    if port_forward {
        return offered
            .iter()
            .find(|p| p.as_str() == PORT_FORWARD_TUNNEL)
            .map(|p| (Plan::Tunnel, p.clone()));
    }
    // The client lists its preference first; take the first one we speak.
    offered
        .iter()
        .find_map(|p| ChannelProtocol::from_subprotocol(p).map(|c| (Plan::Channels(c), p.clone())))
}

/// Upgrade `req` to a WebSocket and bridge it to an SPDY connection with the kubelet.
/// The kubelet is dialled first: if it refuses the upgrade, its answer goes back to the
/// client as it is (no WebSocket is opened).
pub async fn serve(
    client: &KubeletClient,
    mut req: Request<Incoming>,
    mut fwd: Forward<'_>,
    plan: Plan,
    subprotocol: String,
    options: StreamOptions,
) -> Result<Response<Body>, ProxyError> {
    let Some(accept) = accept_key(req.headers()) else {
        let mut bad = Response::new(
            http_body_util::Full::new(Bytes::from_static(
                b"websocket upgrade needs Sec-WebSocket-Version 13 and a Sec-WebSocket-Key",
            ))
            .map_err(|never| match never {})
            .boxed(),
        );
        *bad.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(bad);
    };
    fwd.headers = spdy_upgrade_headers(plan);
    let client_side = hyper::upgrade::on(&mut req);
    let mut resp = proxy::send(client, fwd, Empty::<Bytes>::new()).await?;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        return Ok(proxy::pass_through(resp));
    }
    let kubelet_side = hyper::upgrade::on(&mut resp);

    let mut out = Response::new(Empty::<Bytes>::new().boxed());
    *out.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = out.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    if let Ok(p) = HeaderValue::from_str(&subprotocol) {
        h.insert(header::SEC_WEBSOCKET_PROTOCOL, p);
    }
    tokio::spawn(async move {
        let (client_io, kubelet_io) = match tokio::join!(client_side, kubelet_side) {
            (Ok(c), Ok(k)) => (c, k),
            (Err(e), _) | (_, Err(e)) => {
                tracing::debug!(error = %e, "upgrade failed; closing both sides");
                return;
            }
        };
        let ws =
            WebSocketStream::from_raw_socket(TokioIo::new(client_io), Role::Server, None).await;
        let kubelet_io = TokioIo::new(kubelet_io);
        let result = match plan {
            Plan::Channels(protocol) => translate::run(ws, kubelet_io, protocol, options).await,
            Plan::Tunnel => tunnel::run(ws, kubelet_io).await,
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, "websocket bridge ended with an error");
        }
    });
    Ok(out)
}

/// `Sec-WebSocket-Accept` for the client's key (RFC 6455 §4.2.2), when the request is a
/// version-13 handshake.
fn accept_key(headers: &HeaderMap) -> Option<HeaderValue> {
    if headers.get(header::SEC_WEBSOCKET_VERSION)?.as_bytes() != b"13" {
        return None;
    }
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?;
    HeaderValue::from_str(&derive_accept_key(key.as_bytes())).ok()
}

/// The headers of the SPDY upgrade the apiserver sends the kubelet in the client's place.
fn spdy_upgrade_headers(plan: Plan) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
    let version = match plan {
        Plan::Channels(_) => translate::KUBELET_PROTOCOL,
        Plan::Tunnel => "portforward.k8s.io",
    };
    h.insert(
        "x-stream-protocol-version",
        HeaderValue::from_static(version),
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    #[test]
    fn plans_follow_the_clients_preference_among_what_we_translate() {
        let kubectl = headers(&[
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            (
                "sec-websocket-protocol",
                "v5.channel.k8s.io, v4.channel.k8s.io",
            ),
        ]);
        assert!(is_websocket(&kubectl));
        assert_eq!(
            plan(&kubectl, false),
            Some((
                Plan::Channels(ChannelProtocol::V5),
                "v5.channel.k8s.io".into()
            ))
        );
        let v4 = headers(&[("sec-websocket-protocol", "base64.channel.k8s.io")]);
        assert_eq!(
            plan(&v4, false),
            None,
            "base64 framing is left to the kubelet"
        );
        let tunnel = headers(&[("sec-websocket-protocol", PORT_FORWARD_TUNNEL)]);
        assert_eq!(
            plan(&tunnel, true),
            Some((Plan::Tunnel, PORT_FORWARD_TUNNEL.into()))
        );
        assert_eq!(plan(&kubectl, true), None);
        let spdy = headers(&[("connection", "Upgrade"), ("upgrade", "SPDY/3.1")]);
        assert!(!is_websocket(&spdy));
    }

    #[test]
    fn accept_key_is_rfc6455s_and_needs_version_13() {
        // The example handshake of RFC 6455 §1.3.
        let h = headers(&[
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]);
        assert_eq!(
            accept_key(&h).expect("accept").as_bytes(),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let old = headers(&[
            ("sec-websocket-version", "8"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]);
        assert!(accept_key(&old).is_none());
    }
}
