//! Request metrics (`/metrics`) and the health endpoints (`/healthz`, `/readyz`) on the
//! controller's admin port.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};
use tokio::net::TcpListener;

use crate::controller::Shared;

/// The proxy's request counters and latency histogram.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl Metrics {
    /// Register the metrics in a fresh registry.
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "rudder_ingress_requests_total",
                "Requests proxied, by Ingress backend and status code.",
            ),
            &["backend", "code"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "rudder_ingress_request_duration_seconds",
                "Time from request to response headers, by Ingress backend.",
            ),
            &["backend"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            duration,
        })
    }

    /// Count one request to `backend` answered with `code` after `seconds`.
    pub fn observe(&self, backend: &str, code: u16, seconds: f64) {
        self.requests
            .with_label_values(&[backend, &code.to_string()])
            .inc();
        self.duration.with_label_values(&[backend]).observe(seconds);
    }

    fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// Serve `/metrics`, `/healthz` and `/readyz` on `addr` until the process exits.
pub async fn serve(addr: SocketAddr, metrics: Metrics, shared: Arc<Shared>) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let (metrics, shared) = (metrics.clone(), shared.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                let (status, body) = match req.uri().path() {
                    "/metrics" => (StatusCode::OK, metrics.render()),
                    "/healthz" => (StatusCode::OK, "ok".to_string()),
                    "/readyz" if shared.is_synced() => (StatusCode::OK, "ok".to_string()),
                    "/readyz" => (StatusCode::SERVICE_UNAVAILABLE, "not synced".to_string()),
                    _ => (StatusCode::NOT_FOUND, "not found".to_string()),
                };
                let mut resp = Response::new(Full::new(Bytes::from(body)));
                *resp.status_mut() = status;
                async move { Ok::<_, Infallible>(resp) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
