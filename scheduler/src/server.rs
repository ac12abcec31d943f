//! /healthz, /livez, /readyz and /metrics over HTTPS on `--secure-port` (10259), as
//! upstream (which removed the insecure `--port` in v1.23), behind upstream's delegated
//! authentication and authorization ([`common::delegated_auth`]): every request is
//! authenticated (front-proxy headers, client certificate, bearer token via TokenReview, or
//! anonymous), then `--authorization-always-allow-paths` (default the health paths) and
//! `system:masters` pass and anything else needs a SubjectAccessReview for the path.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use common::delegated_auth::options::{status_body, DelegatingAuth};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::metrics::Metrics;

fn response(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    resp
}

fn respond(metrics: &Metrics, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match req.uri().path() {
        "/healthz" | "/livez" | "/readyz" => (
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "ok".to_string(),
        ),
        "/metrics" => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.encode(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found\n".to_string(),
        ),
    };
    response(status, content_type, body)
}

/// Authenticate and authorize, then answer.
async fn handle(
    metrics: &Metrics,
    auth: &DelegatingAuth,
    peer: &[CertificateDer<'static>],
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let checked = auth
        .check(peer, req.method(), req.uri().path(), req.headers())
        .await;
    match checked {
        Ok(_) => respond(metrics, &req),
        Err(denied) => {
            let (code, body) = status_body(&denied);
            response(
                StatusCode::from_u16(code).unwrap_or(StatusCode::FORBIDDEN),
                "application/json",
                body,
            )
        }
    }
}

/// Bind `addr` and serve HTTPS with `tls` until the process ends.
pub async fn serve(
    addr: SocketAddr,
    tls: Arc<rustls::ServerConfig>,
    metrics: Metrics,
    auth: Arc<DelegatingAuth>,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let acceptor = TlsAcceptor::from(tls);
    tracing::info!(%addr, "serving securely /healthz, /readyz and /metrics");
    loop {
        let (stream, peer) = listener.accept().await?;
        let metrics = metrics.clone();
        let auth = auth.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let stream = match acceptor.accept(stream).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let chain: Arc<Vec<CertificateDer<'static>>> = Arc::new(
                stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
                    .unwrap_or_default(),
            );
            let service = service_fn(move |req| {
                let metrics = metrics.clone();
                let auth = auth.clone();
                let chain = chain.clone();
                async move { Ok::<_, Infallible>(handle(&metrics, &auth, &chain, req).await) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "metrics connection ended");
            }
        });
    }
}
