//! Response bodies and the plain-text error replies the kubelet's server gives.

use bytes::Bytes;
use futures::StreamExt;
use http::{header, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// Every response body the server produces.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// A complete body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A body streamed from a channel: the response ends when the sender is dropped, and the
/// sender sees the channel close when the client goes away.
pub fn streamed(rx: mpsc::Receiver<Bytes>) -> Body {
    BodyExt::boxed(StreamBody::new(
        ReceiverStream::new(rx).map(|chunk| Ok::<_, std::io::Error>(Frame::data(chunk))),
    ))
}

/// A response with a body and content type.
pub fn with_body(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}

/// A plain-text reply, as upstream's `WriteError` gives them.
pub fn text(status: StatusCode, message: impl Into<String>) -> Response<Body> {
    let mut message = message.into();
    if !message.ends_with('\n') {
        message.push('\n');
    }
    with_body(status, "text/plain; charset=utf-8", full(message))
}

/// A JSON document.
pub fn json(value: &serde_json::Value) -> Response<Body> {
    with_body(
        StatusCode::OK,
        "application/json",
        full(serde_json::to_vec_pretty(value).unwrap_or_default()),
    )
}
