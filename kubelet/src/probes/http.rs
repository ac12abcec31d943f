//! httpGet probes: a GET whose status in 200..400 means success. HTTPS certificates are not
//! verified (as upstream), redirects are followed only to the same host (at most 10), and
//! a redirect to another host ends the probe with that 3xx answer — a success.
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};

use super::tcp::io_error_text;

/// Upstream's probe User-Agent (`kube-probe/<major>.<minor>`), for the API level we serve.
pub const USER_AGENT: &str = "kube-probe/1.33";
const MAX_REDIRECTS: usize = 10;
/// Upstream reads at most 10 KiB of a probe's response body.
const MAX_BODY: usize = 10 * 1024;

/// Where and how to send one httpGet probe.
#[derive(Debug, Clone)]
pub struct HttpTarget {
    /// `http` or `https`.
    pub scheme: String,
    pub host: String,
    pub port: u16,
    /// Path with optional query, as in the probe (`/healthz?verbose`).
    pub path: String,
    /// `httpHeaders`; a `Host` header here overrides the request's authority.
    pub headers: Vec<(String, String)>,
}

/// Runs the probe within `timeout`. `Ok` means success; `Err` the failure message
/// ("HTTP probe failed with statuscode: 500", or the transport error).
pub async fn probe(target: &HttpTarget, timeout: Duration) -> Result<(), String> {
    let first = format_url(&target.scheme, &target.host, target.port, &target.path);
    match tokio::time::timeout(timeout, follow(target, &first)).await {
        Ok(Ok(status)) if (200..400).contains(&status.as_u16()) => Ok(()),
        Ok(Ok(status)) => Err(format!("HTTP probe failed with statuscode: {}", status.as_u16())),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!(
            "Get {first:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        )),
    }
}

fn format_url(scheme: &str, host: &str, port: u16, path: &str) -> String {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    format!("{}://{host}:{port}{path}", scheme.to_ascii_lowercase())
}

/// The host part without port and brackets, as Go's `URL.Hostname()` compares them.
fn hostname(uri: &Uri) -> String {
    uri.host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

async fn follow(target: &HttpTarget, first: &str) -> Result<StatusCode, String> {
    let mut url: Uri = first.parse().map_err(|e| format!("parse {first:?}: {e}"))?;
    let first_host = hostname(&url);
    for _ in 0..=MAX_REDIRECTS {
        let (status, location) = get_once(target, &url).await?;
        let Some(location) = location.filter(|_| status.is_redirection()) else {
            return Ok(status);
        };
        let next =
            resolve(&url, &location).map_err(|e| format!("Get {:?}: {e}", url.to_string()))?;
        if hostname(&next) != first_host {
            // Another host: stop here and judge the 3xx itself (upstream logs a warning).
            tracing::debug!(from = %url, to = %next, "probe terminated redirects");
            return Ok(status);
        }
        url = next;
    }
    Err(format!(
        "Get {:?}: stopped after {MAX_REDIRECTS} redirects",
        url.to_string()
    ))
}

/// A redirect's `Location`, absolute or relative to `base`.
fn resolve(base: &Uri, location: &str) -> Result<Uri, String> {
    let absolute = if location.starts_with("http://") || location.starts_with("https://") {
        location.to_string()
    } else {
        let scheme = base.scheme_str().unwrap_or("http");
        let authority = base.authority().map(|a| a.as_str()).unwrap_or_default();
        if let Some(rest) = location.strip_prefix("//") {
            format!("{scheme}://{rest}")
        } else if location.starts_with('/') {
            format!("{scheme}://{authority}{location}")
        } else {
            let dir = base
                .path()
                .rsplit_once('/')
                .map(|(d, _)| d)
                .unwrap_or_default();
            format!("{scheme}://{authority}{dir}/{location}")
        }
    };
    absolute
        .parse()
        .map_err(|e| format!("bad redirect location {location:?}: {e}"))
}

async fn get_once(target: &HttpTarget, url: &Uri) -> Result<(StatusCode, Option<String>), String> {
    let scheme = url.scheme_str().unwrap_or("http").to_string();
    let host = hostname(url);
    let port = url
        .port_u16()
        .unwrap_or(if scheme == "https" { 443 } else { 80 });
    let what = format!("Get {:?}", url.to_string());
    let addr = format!("{}:{port}", url.host().unwrap_or_default());
    let tcp = tokio::net::TcpStream::connect(&addr)
        .await
        .map_err(|e| format!("{what}: dial tcp {addr}: connect: {}", io_error_text(&e)))?;

    let mut request = Request::builder()
        .method(Method::GET)
        .uri(url.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header(header::USER_AGENT, USER_AGENT)
        .header(header::ACCEPT, "*/*");
    let mut host_header = url.authority().map(|a| a.to_string()).unwrap_or_default();
    for (name, value) in &target.headers {
        if name.eq_ignore_ascii_case("host") {
            host_header = value.clone();
            continue;
        }
        let headers = request
            .headers_mut()
            .ok_or_else(|| format!("{what}: bad request"))?;
        let name = header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| format!("{what}: invalid header name {name:?}: {e}"))?;
        let value = header::HeaderValue::from_str(value)
            .map_err(|e| format!("{what}: invalid header value: {e}"))?;
        // A probe header replaces the default of the same name (User-Agent, Accept).
        headers.insert(name, value);
    }
    let request = request
        .header(header::HOST, host_header)
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("{what}: {e}"))?;

    if scheme == "https" {
        let config = insecure_tls_config();
        let server_name = ServerName::try_from(host.clone())
            .map_err(|e| format!("{what}: invalid server name {host:?}: {e}"))?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(server_name, tcp)
            .await
            .map_err(|e| format!("{what}: tls: {e}"))?;
        send(tls, request, &what).await
    } else {
        send(tcp, request, &what).await
    }
}

async fn send<S>(
    io: S,
    request: Request<Empty<Bytes>>,
    what: &str,
) -> Result<(StatusCode, Option<String>), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let driver = tokio::spawn(conn);
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        // Read (a bounded part of) the body so the server sees a complete exchange; its
        // content does not decide the result.
        let _ = Limited::new(response.into_body(), MAX_BODY).collect().await;
        Ok((status, location))
    }
    .await;
    driver.abort();
    result
}

/// A TLS client that accepts any certificate: probes check liveness, not identity.
fn insecure_tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let verifier = Arc::new(common::tls::AcceptAnyServerCert(provider.clone()));
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| {
                    b.dangerous()
                        .with_custom_certificate_verifier(verifier)
                        .with_no_client_auth()
                });
            // The ring provider always supports the default versions; should that ever
            // change, fall back to an empty config that fails each handshake loudly.
            Arc::new(config.unwrap_or_else(|_| {
                rustls::ClientConfig::builder()
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth()
            }))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use std::net::SocketAddr;

    use http_body_util::Full;
    use hyper::body::Incoming;
    use hyper::service::service_fn;

    /// A tiny server: `/ok` 200, `/fail` 500, `/redirect` → `/ok`, `/away` → another host,
    /// `/loop` → itself, `/slow` answers after 3 s, `/echo-ua` 200 only for our User-Agent
    /// and a custom header.
    async fn server() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let svc = service_fn(|req: Request<Incoming>| async move {
                        let mut resp = hyper::Response::new(Full::new(Bytes::from_static(b"body")));
                        match req.uri().path() {
                            "/ok" => {}
                            "/fail" => *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR,
                            "/redirect" => {
                                *resp.status_mut() = StatusCode::FOUND;
                                resp.headers_mut()
                                    .insert(header::LOCATION, "/fail".parse().unwrap());
                            }
                            "/away" => {
                                *resp.status_mut() = StatusCode::MOVED_PERMANENTLY;
                                resp.headers_mut().insert(
                                    header::LOCATION,
                                    "http://elsewhere.invalid/fail".parse().unwrap(),
                                );
                            }
                            "/loop" => {
                                *resp.status_mut() = StatusCode::FOUND;
                                resp.headers_mut()
                                    .insert(header::LOCATION, "/loop".parse().unwrap());
                            }
                            "/slow" => tokio::time::sleep(Duration::from_secs(3)).await,
                            "/headers" => {
                                let ua = req.headers().get(header::USER_AGENT).cloned();
                                let custom = req.headers().get("x-probe").cloned();
                                if ua.as_ref().map(|v| v.as_bytes()) != Some(USER_AGENT.as_bytes())
                                    || custom.as_ref().map(|v| v.as_bytes()) != Some(b"yes")
                                {
                                    *resp.status_mut() = StatusCode::BAD_REQUEST;
                                }
                            }
                            _ => *resp.status_mut() = StatusCode::NOT_FOUND,
                        }
                        Ok::<_, Infallible>(resp)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        addr
    }

    fn target(addr: SocketAddr, path: &str) -> HttpTarget {
        HttpTarget {
            scheme: "HTTP".into(),
            host: addr.ip().to_string(),
            port: addr.port(),
            path: path.into(),
            headers: vec![],
        }
    }

    #[tokio::test]
    async fn status_codes_decide() {
        let addr = server().await;
        let t = Duration::from_secs(2);
        probe(&target(addr, "/ok"), t).await.unwrap();
        assert_eq!(
            probe(&target(addr, "/fail"), t).await.unwrap_err(),
            "HTTP probe failed with statuscode: 500"
        );
        assert_eq!(
            probe(&target(addr, "missing"), t).await.unwrap_err(),
            "HTTP probe failed with statuscode: 404"
        );
    }

    #[tokio::test]
    async fn redirects_follow_same_host_only() {
        let addr = server().await;
        let t = Duration::from_secs(2);
        // Same host: followed, so the final 500 counts.
        assert_eq!(
            probe(&target(addr, "/redirect"), t).await.unwrap_err(),
            "HTTP probe failed with statuscode: 500"
        );
        // Another host: not followed; the 301 itself is a success.
        probe(&target(addr, "/away"), t).await.unwrap();
        let err = probe(&target(addr, "/loop"), t).await.unwrap_err();
        assert!(err.contains("stopped after 10 redirects"), "{err}");
    }

    #[tokio::test]
    async fn headers_timeout_and_refused() {
        let addr = server().await;
        let mut with_header = target(addr, "/headers");
        with_header.headers.push(("X-Probe".into(), "yes".into()));
        probe(&with_header, Duration::from_secs(2)).await.unwrap();
        assert!(probe(&target(addr, "/headers"), Duration::from_secs(2))
            .await
            .is_err());

        let err = probe(&target(addr, "/slow"), Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(err.contains("Client.Timeout exceeded"), "{err}");

        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = probe(&target(closed, "/"), Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(err.ends_with("connect: connection refused"), "{err}");
    }

    #[test]
    fn relative_locations_resolve() {
        let base: Uri = "http://10.0.0.1:8080/a/b?x".parse().unwrap();
        assert_eq!(
            resolve(&base, "/c").unwrap().to_string(),
            "http://10.0.0.1:8080/c"
        );
        assert_eq!(
            resolve(&base, "c").unwrap().to_string(),
            "http://10.0.0.1:8080/a/c"
        );
        assert_eq!(
            resolve(&base, "https://10.0.0.1/z").unwrap().to_string(),
            "https://10.0.0.1/z"
        );
        assert_eq!(
            format_url("HTTP", "::1", 80, "healthz"),
            "http://[::1]:80/healthz"
        );
    }
}
