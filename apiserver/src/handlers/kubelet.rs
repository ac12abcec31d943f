//! The subresources a kubelet serves — `pods/log`, `pods/exec`, `pods/attach`,
//! `pods/portforward`, `nodes/proxy` — located as upstream locates them (pod → its node →
//! the node's preferred address and kubelet port) and relayed by [`crate::kubelet::proxy`].
//!
//! These are long-running requests: they are dispatched before max-in-flight accounting, as
//! upstream's long-running request check exempts them.

use api_types::catalog::{self, ResourceInfo};
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Incoming;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::json;

use super::{response, ApiServer, Body};
use crate::errors::ApiError;
use crate::kubelet::location::{self, ConnectionInfo};
use crate::kubelet::options::{self, StreamKind};
use crate::kubelet::proxy::{self, Forward, ProxyError};
use crate::kubelet::translate::StreamOptions;
use crate::kubelet::websocket;
use crate::request::{Query, RequestInfo};

/// How much of a kubelet's error body is read into the Status (upstream's `maxReadLength`).
const MAX_ERROR_BODY: usize = 50_000;

/// Characters escaped in one path segment (Go's `url.PathEscape` keeps the unreserved ones).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Whether the request is for a subresource the kubelet serves.
pub(super) fn is_kubelet_subresource(info: &RequestInfo) -> bool {
    if !info.is_resource_request || !info.group.is_empty() || info.version != "v1" {
        return false;
    }
    match (info.resource.as_str(), info.subresource.as_deref()) {
        ("pods", Some("log" | "exec" | "attach" | "portforward")) => info.namespace.is_some(),
        ("nodes", Some("proxy")) => info.namespace.is_none(),
        _ => false,
    }
}

fn resource(plural: &str) -> Result<&'static ResourceInfo, ApiError> {
    catalog::find("", "v1", plural).ok_or_else(ApiError::path_not_found)
}

/// Serve one kubelet subresource request.
pub(super) async fn serve(
    server: &ApiServer,
    req: Request<Incoming>,
    info: &RequestInfo,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let name = info.name.as_deref().unwrap_or_default();
    let sub = info.subresource.as_deref().unwrap_or_default();
    let ns = info.namespace.as_deref().unwrap_or_default();
    let allowed: &[&str] = match sub {
        "log" => &["get"],
        "proxy" => &["get", "create", "update", "patch", "delete"],
        _ => &["get", "create"],
    };
    if !allowed.contains(&info.verb.as_str()) {
        return Err(ApiError::method_not_supported(
            "",
            &format!("{}/{sub}", info.resource),
            &info.verb,
        ));
    }
    match sub {
        "log" => log(server, ns, name, query).await,
        "exec" => stream(server, req, ns, name, query, StreamKind::Exec).await,
        "attach" => stream(server, req, ns, name, query, StreamKind::Attach).await,
        "portforward" => stream(server, req, ns, name, query, StreamKind::PortForward).await,
        _ => node_proxy(server, req, name).await,
    }
}

async fn node_connection(server: &ApiServer, node_name: &str) -> Result<ConnectionInfo, ApiError> {
    let node = server
        .store
        .get(resource("nodes")?, None, node_name)
        .await?;
    location::connection_info(
        &node,
        &server.kubelet.preferred_address_types,
        server.kubelet.default_port,
    )
}

fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

fn with_query(path: String, query: &str) -> String {
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

/// `pods/log`: a plain GET to the kubelet's `/containerLogs`, streamed back as text.
async fn log(
    server: &ApiServer,
    ns: &str,
    name: &str,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let (kubelet_query, skip_verify) = options::log_query(query, name)?;
    let pod = server.store.get(resource("pods")?, Some(ns), name).await?;
    let container = location::validate_container(&pod, query.get("container"))?;
    let Some(node_name) = location::node_name(&pod).map(String::from) else {
        // Upstream answers an unscheduled pod's logs with an empty stream.
        return Ok(response::bytes(200, "text/plain", Bytes::new()));
    };
    let kubelet = node_connection(server, &node_name).await?;
    let fwd = Forward {
        kubelet: &kubelet,
        skip_verify,
        method: Method::GET,
        path_and_query: with_query(
            format!(
                "/containerLogs/{}/{}/{}",
                seg(ns),
                seg(name),
                seg(&container)
            ),
            &kubelet_query,
        ),
        headers: Default::default(),
    };
    let url = fwd.url();
    let resp = proxy::send(&server.kubelet, fwd, Empty::<Bytes>::new())
        .await
        .map_err(|e| ApiError::unknown(500, format!("Get {url:?}: {e}")))?;
    let status = resp.status();
    if !(200..=206).contains(&status.as_u16()) {
        let body = Limited::new(resp.into_body(), MAX_ERROR_BODY)
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        return Err(kubelet_error(
            status,
            &String::from_utf8_lossy(&body),
            "pods/log",
            name,
        ));
    }
    let mut out = proxy::pass_through(resp);
    out.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(out)
}

/// `pods/exec`, `pods/attach`, `pods/portforward`: an HTTP/1.1 upgrade relayed to the kubelet.
async fn stream(
    server: &ApiServer,
    req: Request<Incoming>,
    ns: &str,
    name: &str,
    query: &Query,
    kind: StreamKind,
) -> Result<Response<Body>, ApiError> {
    let kubelet_query = options::stream_query(kind, query)?;
    // Upstream's order: the pod, its container, its node, then the node's address.
    let pod = server.store.get(resource("pods")?, Some(ns), name).await?;
    let path = match kind {
        StreamKind::PortForward => format!("/portForward/{}/{}", seg(ns), seg(name)),
        StreamKind::Exec | StreamKind::Attach => {
            let container = location::validate_container(&pod, query.get("container"))?;
            let verb = if kind == StreamKind::Exec {
                "exec"
            } else {
                "attach"
            };
            format!("/{verb}/{}/{}/{}", seg(ns), seg(name), seg(&container))
        }
    };
    let Some(node_name) = location::node_name(&pod).map(String::from) else {
        return Err(ApiError::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    };
    let kubelet = node_connection(server, &node_name).await?;
    if !proxy::is_upgrade_request(req.headers()) {
        return Err(ApiError::bad_request("Upgrade request required"));
    }
    let fwd = Forward {
        kubelet: &kubelet,
        skip_verify: false,
        method: req.method().clone(),
        path_and_query: with_query(path, &kubelet_query),
        headers: proxy::forwarded_headers(req.headers(), true),
    };
    // WebSocket clients (kubectl 1.30+) are answered here and bridged to the kubelet's SPDY,
    // as upstream's stream translator does; SPDY clients are spliced through.
    let plan = websocket::is_websocket(req.headers())
        .then(|| websocket::plan(req.headers(), kind == StreamKind::PortForward))
        .flatten();
    if let Some((plan, subprotocol)) = plan {
        let options = StreamOptions::from_kubelet_query(&kubelet_query);
        return websocket::serve(&server.kubelet, req, fwd, plan, subprotocol, options)
            .await
            .map_err(dial_error);
    }
    proxy::upgrade(&server.kubelet, req, fwd)
        .await
        .map_err(dial_error)
}

/// `nodes/{name}/proxy/{path}`: any request relayed to the kubelet's `/{path}`, query as sent.
/// The name may carry a port (`node:10255`), as upstream allows.
async fn node_proxy(
    server: &ApiServer,
    req: Request<Incoming>,
    name: &str,
) -> Result<Response<Body>, ApiError> {
    let (node_name, port) = match name.rsplit_once(':') {
        Some((n, p)) => {
            let port: u16 = p
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid node request {name:?}")))?;
            (n, Some(port))
        }
        None => (name, None),
    };
    let mut kubelet = node_connection(server, node_name).await?;
    if let Some(p) = port {
        kubelet.port = p;
    }
    let path = proxy_subpath(req.uri().path());
    let path_and_query = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let upgrade = proxy::is_upgrade_request(req.headers());
    let fwd = Forward {
        kubelet: &kubelet,
        skip_verify: false,
        method: req.method().clone(),
        path_and_query,
        headers: proxy::forwarded_headers(req.headers(), upgrade),
    };
    if upgrade {
        return proxy::upgrade(&server.kubelet, req, fwd)
            .await
            .map_err(dial_error);
    }
    let resp = proxy::send(&server.kubelet, fwd, req.into_body())
        .await
        .map_err(|e| ApiError::unavailable(format!("error trying to reach service: {e}")))?;
    Ok(proxy::pass_through(resp))
}

/// What follows `/api/v1/nodes/{name}/proxy` in the raw path, `/` when nothing does.
fn proxy_subpath(path: &str) -> String {
    let rest = path
        .splitn(6, '/')
        .nth(5)
        .and_then(|r| r.strip_prefix("proxy"))
        .unwrap_or_default();
    if rest.is_empty() {
        "/".to_string()
    } else {
        rest.to_string()
    }
}

/// Upstream's wording when the kubelet cannot be dialed for an upgrade.
fn dial_error(e: ProxyError) -> ApiError {
    match e {
        ProxyError::Dial(d) => ApiError::unknown(500, format!("error dialing backend: {d}")),
        other => ApiError::unknown(500, format!("error sending request: {other}")),
    }
}

/// A kubelet's non-2xx answer to a log request, as upstream's generic response checker turns
/// it into a Status: 400 and 500 keep the kubelet's text; other codes get the generic message
/// naming the resource (`the server could not find the requested resource ( pods/log web)`).
fn kubelet_error(status: StatusCode, body: &str, resource: &str, name: &str) -> ApiError {
    let code = status.as_u16();
    let body = body.trim();
    let (reason, message) = match code {
        500 => return ApiError::internal(body),
        400 => return ApiError::bad_request(body),
        404 => ("NotFound", "the server could not find the requested resource".to_string()),
        409 => ("Conflict", "the server reported a conflict".to_string()),
        401 => (
            "Unauthorized",
            "the server has asked for the client to provide credentials".to_string(),
        ),
        403 => ("Forbidden", body.to_string()),
        405 => (
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".to_string(),
        ),
        422 => (
            "Invalid",
            "the server rejected our request due to an error in our request".to_string(),
        ),
        429 => (
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later"
                .to_string(),
        ),
        503 => (
            "ServiceUnavailable",
            "the server is currently unable to handle the request".to_string(),
        ),
        504 => (
            "Timeout",
            "the server was unable to return a response in the time allotted, but may still be processing the request".to_string(),
        ),
        c if c >= 500 => (
            "InternalError",
            format!("an error on the server ({body:?}) has prevented the request from succeeding"),
        ),
        c => (
            "",
            format!("the server responded with the status code {c} but did not return more information"),
        ),
    };
    ApiError {
        code,
        reason,
        message: format!("{message} ( {resource} {name})"),
        details: Some(json!({"name": name, "kind": resource})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_proxy_subpath() {
        assert_eq!(proxy_subpath("/api/v1/nodes/n1/proxy/metrics"), "/metrics");
        assert_eq!(
            proxy_subpath("/api/v1/nodes/n1/proxy/stats/summary"),
            "/stats/summary"
        );
        assert_eq!(proxy_subpath("/api/v1/nodes/n1/proxy"), "/");
        assert_eq!(proxy_subpath("/api/v1/nodes/n1/proxy/"), "/");
        assert_eq!(proxy_subpath("/short"), "/");
    }

    #[test]
    fn kubelet_errors_become_upstream_statuses() {
        let e = kubelet_error(
            StatusCode::NOT_FOUND,
            "no such container",
            "pods/log",
            "web",
        );
        assert_eq!((e.code, e.reason), (404, "NotFound"));
        assert_eq!(
            e.message,
            "the server could not find the requested resource ( pods/log web)"
        );
        let e = kubelet_error(
            StatusCode::BAD_REQUEST,
            "previous terminated container \"app\" in pod \"web\" not found\n",
            "pods/log",
            "web",
        );
        assert_eq!((e.code, e.reason), (400, "BadRequest"));
        assert_eq!(
            e.message,
            "previous terminated container \"app\" in pod \"web\" not found"
        );
        let e = kubelet_error(StatusCode::INTERNAL_SERVER_ERROR, "boom", "pods/log", "web");
        assert_eq!((e.code, e.reason), (500, "InternalError"));
        let e = kubelet_error(StatusCode::IM_A_TEAPOT, "", "pods/log", "web");
        assert_eq!((e.code, e.reason), (418, ""));
    }

    #[test]
    fn routes_only_kubelet_subresources() {
        let q = Query::default();
        let route = |m: Method, p: &str| is_kubelet_subresource(&RequestInfo::parse(&m, p, &q));
        assert!(route(
            Method::GET,
            "/api/v1/namespaces/default/pods/web/log"
        ));
        assert!(route(
            Method::POST,
            "/api/v1/namespaces/default/pods/web/exec"
        ));
        assert!(route(
            Method::GET,
            "/api/v1/namespaces/default/pods/web/portforward"
        ));
        assert!(route(Method::GET, "/api/v1/nodes/n1/proxy/metrics"));
        assert!(!route(
            Method::GET,
            "/api/v1/namespaces/default/pods/web/proxy"
        ));
        assert!(!route(Method::GET, "/api/v1/namespaces/default/pods/web"));
        assert!(!route(
            Method::GET,
            "/apis/apps/v1/namespaces/default/deployments/x/scale"
        ));
    }
}
