//! The two plain-HTTP endpoints: `/healthz` on `--healthz-bind-address` and `/metrics` on
//! `--metrics-bind-address` (which also answers `/healthz`, as upstream's does).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::health::ProxierHealth;
use crate::metrics::Metrics;

/// Which paths a listener serves.
#[derive(Clone)]
pub enum Endpoints {
    /// `/healthz` and `/livez` with the proxier's health.
    Health(Arc<ProxierHealth>),
    /// `/metrics`, plus a plain `/healthz`.
    Metrics(Metrics),
}

fn respond(endpoints: &Endpoints, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path();
    let (status, content_type, body) = match (endpoints, path) {
        (Endpoints::Health(h), "/healthz" | "/livez") => {
            let report = h.report();
            let status = if report.healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (status, "application/json", report.body)
        }
        (Endpoints::Metrics(m), "/metrics") => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            m.encode(),
        ),
        (Endpoints::Metrics(_), "/healthz") => {
            (StatusCode::OK, "text/plain; charset=utf-8", "ok".into())
        }
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found\n".to_string(),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    resp
}

/// Bind `addr` and serve until the process ends.
pub async fn serve(addr: SocketAddr, endpoints: Endpoints) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(%addr, "serving HTTP");
    loop {
        let (stream, _) = listener.accept().await?;
        let endpoints = endpoints.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let resp = respond(&endpoints, &req);
                async move { Ok::<_, Infallible>(resp) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}
