//! `/health` (the process serves) and `/ready` (the zone was built from a complete list), the
//! endpoints CoreDNS's health and ready plugins offer, for the Deployment's probes.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::informers::Zone;

/// Serve the health endpoints on `addr` until the process exits.
pub async fn serve(addr: SocketAddr, zone: Zone) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(%addr, "health endpoints listening");
    loop {
        let (stream, _) = listener.accept().await?;
        let zone = zone.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                let zone = zone.clone();
                async move { Ok::<_, Infallible>(respond(req.uri().path(), &zone)) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(path: &str, zone: &Zone) -> Response<Full<Bytes>> {
    let (status, body) = match path {
        "/health" | "/healthz" => (StatusCode::OK, "OK"),
        "/ready" | "/readyz" if zone.is_ready() => (StatusCode::OK, "OK"),
        "/ready" | "/readyz" => (StatusCode::SERVICE_UNAVAILABLE, "informers not synced"),
        _ => (StatusCode::NOT_FOUND, "not found"),
    };
    let mut resp = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = status;
    resp
}
