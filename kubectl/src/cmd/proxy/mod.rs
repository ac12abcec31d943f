//! `kubectl proxy`: an HTTP server on the loopback that forwards requests to the apiserver
//! with the kubeconfig's credentials, behind upstream's request filter (accepted hosts and
//! paths, rejected paths and methods; exec and attach are refused by default, as a page on
//! any site could otherwise reach them through the user's browser).

mod listen;
mod pattern;
mod static_files;

use std::sync::Arc;

use bytes::Bytes;
use clap::Args;
use http::{header, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use self::pattern::{any_match, parse_list, Pattern};
use super::{out, Ctx};
use crate::client::ApiClient;
use crate::error::{KubectlError, Result};

/// `kubectl proxy`
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// The port on which to run the proxy. Set to 0 to pick a random port.
    #[arg(short = 'p', long, default_value_t = DEFAULT_PORT)]
    port: u16,
    /// The IP address on which to serve on.
    #[arg(long, default_value = "127.0.0.1")]
    address: String,
    /// Prefix to serve the proxied API under.
    #[arg(long, default_value = "/")]
    api_prefix: String,
    /// Regular expression for hosts that the proxy should accept.
    #[arg(long, default_value = r"^localhost$,^127\.0\.0\.1$,^\[::1\]$")]
    accept_hosts: String,
    /// Regular expression for paths that the proxy should accept.
    #[arg(long, default_value = "^.*")]
    accept_paths: String,
    /// Regular expression for paths that the proxy should reject. Paths specified here will
    /// be rejected even accepted by --accept-paths.
    #[arg(long, default_value = "^/api/.*/pods/.*/exec,^/api/.*/pods/.*/attach")]
    reject_paths: String,
    /// Regular expression for HTTP methods that the proxy should reject (example
    /// --reject-methods='POST,PUT,PATCH').
    #[arg(long, default_value = "^$")]
    reject_methods: String,
    /// If true, disable request filtering in the proxy. This is dangerous, and can leave you
    /// vulnerable to XSRF attacks, when used with an accessible port.
    #[arg(long)]
    disable_filter: bool,
    /// Also serve static files from the given directory under the specified prefix.
    #[arg(short = 'w', long)]
    www: Option<String>,
    /// Prefix to serve static files under, if static file directory is specified.
    #[arg(short = 'P', long, default_value = "/static/")]
    www_prefix: String,
    /// Unix socket on which to run the proxy.
    #[arg(short = 'u', long, default_value = "")]
    unix_socket: String,
}

/// `--port`'s default: upstream refuses any other port together with `--unix-socket`.
const DEFAULT_PORT: u16 = 8001;

/// Upstream's answer to a filtered request (Go's `http.Error`).
const REFUSED: &str = "Forbidden\n";

/// Which requests the proxy forwards.
struct Filter {
    accept_hosts: Vec<Pattern>,
    accept_paths: Vec<Pattern>,
    reject_paths: Vec<Pattern>,
    reject_methods: Vec<Pattern>,
}

impl Filter {
    fn from_args(a: &ProxyArgs) -> Result<Self> {
        Ok(Filter {
            accept_hosts: parse_list(&a.accept_hosts)?,
            accept_paths: parse_list(&a.accept_paths)?,
            reject_paths: parse_list(&a.reject_paths)?,
            reject_methods: parse_list(&a.reject_methods)?,
        })
    }

    /// Upstream's order: a rejected path or method loses; else path and host must be
    /// accepted.
    fn accepts(&self, method: &str, path: &str, host: &str) -> bool {
        !any_match(&self.reject_paths, path)
            && !any_match(&self.reject_methods, method)
            && any_match(&self.accept_paths, path)
            && any_match(&self.accept_hosts, host)
    }
}

pub struct Proxy {
    client: ApiClient,
    filter: Option<Filter>,
    /// With a trailing `/`; stripped before forwarding unless it starts with `/api`.
    prefix: String,
    /// `--www` and its prefix (with a trailing `/`): static files, served unfiltered as
    /// upstream serves them.
    www: Option<(std::path::PathBuf, String)>,
}

/// Runs `kubectl proxy` until interrupted.
pub async fn run(ctx: &Ctx, a: ProxyArgs) -> Result<()> {
    let filter = if a.disable_filter {
        if a.unix_socket.is_empty() {
            crate::klog::warning(
                "proxy.go",
                177,
                "Request filter disabled, your proxy is vulnerable to XSRF attacks, please be cautious",
            );
        }
        None
    } else {
        Some(Filter::from_args(&a)?)
    };
    if a.port != DEFAULT_PORT && !a.unix_socket.is_empty() {
        return Err(KubectlError::usage(
            "cannot set --unix-socket and --port at the same time",
        ));
    }
    let prefix = with_slashes(&a.api_prefix);
    let client = ctx.client().await?;
    let listener = if a.unix_socket.is_empty() {
        listen::Listener::tcp(&a.address, a.port).await?
    } else {
        listen::Listener::unix(&a.unix_socket)?
    };
    out(&format!("Starting to serve on {}\n", listener.address()?));
    let www = a
        .www
        .as_deref()
        .filter(|d| !d.is_empty())
        .map(|dir| (std::path::PathBuf::from(dir), with_slashes(&a.www_prefix)));
    let proxy = Arc::new(Proxy {
        client,
        filter,
        prefix,
        www,
    });
    listener.serve(proxy).await
}

/// A URL prefix with a leading and a trailing `/`.
fn with_slashes(prefix: &str) -> String {
    let mut prefix = prefix.to_string();
    if !prefix.starts_with('/') {
        prefix.insert(0, '/');
    }
    if !prefix.ends_with('/') {
        prefix.push('/');
    }
    prefix
}

type ProxyBody = UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

fn text(status: StatusCode, body: &str) -> Response<ProxyBody> {
    let mut res = Response::new(
        Full::new(Bytes::from(body.to_string()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

fn static_answer(answer: static_files::Answer) -> Response<ProxyBody> {
    use static_files::Answer;
    match answer {
        Answer::File { content_type, body } => {
            let mut res = Response::new(
                Full::new(Bytes::from(body))
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            );
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(content_type),
            );
            res
        }
        Answer::Redirect(location) => {
            // Go's localRedirect: a Location and nothing else.
            let mut res = Response::new(
                Full::new(Bytes::new())
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            );
            *res.status_mut() = StatusCode::MOVED_PERMANENTLY;
            if let Ok(v) = header::HeaderValue::from_str(&location) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        Answer::Error(status, message) => text(status, message),
    }
}

/// Headers that belong to one connection, not to the request forwarded (RFC 9110 §7.6.1),
/// and the caller's own credentials, which the proxy replaces with the kubeconfig's.
const NOT_FORWARDED: [header::HeaderName; 8] = [
    header::CONNECTION,
    header::HOST,
    header::AUTHORIZATION,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

impl Proxy {
    pub async fn handle(&self, req: Request<Incoming>) -> Response<ProxyBody> {
        let path = req.uri().path().to_string();
        if let Some((dir, www_prefix)) = &self.www {
            // The longer of the two prefixes wins, as in Go's ServeMux.
            if path.starts_with(www_prefix.as_str()) && www_prefix.len() >= self.prefix.len() {
                let rel = percent_encoding::percent_decode_str(&path[www_prefix.len()..])
                    .decode_utf8_lossy()
                    .into_owned();
                return static_answer(static_files::answer(dir, &rel));
            }
        }
        if let Some(filter) = &self.filter {
            let host = request_host(&req);
            if !filter.accepts(req.method().as_str(), &path, &host) {
                let mut res = text(StatusCode::FORBIDDEN, REFUSED);
                res.headers_mut().insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    header::HeaderValue::from_static("nosniff"),
                );
                return res;
            }
        }
        let Some(target) = self.target_path(&req) else {
            return text(StatusCode::NOT_FOUND, "404 page not found\n");
        };
        match self.forward(req, &target).await {
            Ok(res) => res,
            Err(e) => text(StatusCode::BAD_GATEWAY, &format!("{e}\n")),
        }
    }

    /// The apiserver path (and query) a request goes to, or None outside the prefix.
    fn target_path(&self, req: &Request<Incoming>) -> Option<String> {
        let path = req.uri().path();
        let query = req
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let under = path.starts_with(&self.prefix) || format!("{path}/") == self.prefix;
        if !under {
            return None;
        }
        if self.prefix.starts_with("/api") {
            return Some(format!("{path}{query}"));
        }
        // Strip the prefix but keep the leading slash (upstream's stripLeaveSlash).
        let rest = path.get(self.prefix.len() - 1..).unwrap_or("/");
        let rest = if rest.is_empty() { "/" } else { rest };
        Some(format!("{rest}{query}"))
    }

    async fn forward(&self, req: Request<Incoming>, target: &str) -> Result<Response<ProxyBody>> {
        let (parts, body) = req.into_parts();
        let bytes = body
            .collect()
            .await
            .map_err(|e| KubectlError::usage(format!("reading the request: {e}")))?
            .to_bytes();
        let mut out_req = Request::builder().method(parts.method).uri(target);
        for (name, value) in &parts.headers {
            if !NOT_FORWARDED.contains(name) && name != header::CONTENT_LENGTH {
                out_req = out_req.header(name, value);
            }
        }
        let out_req = out_req
            .body(kube::client::Body::from(bytes.to_vec()))
            .map_err(|e| KubectlError::usage(e.to_string()))?;
        let res = self.client.forward(out_req).await?;
        let (mut parts, body) = res.into_parts();
        for name in &NOT_FORWARDED {
            parts.headers.remove(name);
        }
        let body = body
            .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
            .boxed_unsync();
        Ok(Response::from_parts(parts, body))
    }
}

/// The request's host without its port, as Go's `net.SplitHostPort` gives it (empty when
/// there is no port).
fn request_host<B>(req: &Request<B>) -> String {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(String::from)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    match host.rsplit_once(':') {
        Some((h, port)) if !port.contains(']') => h.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: ProxyArgs,
    }

    fn filter(argv: &[&str]) -> Filter {
        let a = Wrapper::parse_from(std::iter::once("proxy").chain(argv.iter().copied())).args;
        Filter::from_args(&a).unwrap()
    }

    #[test]
    fn the_default_filter_refuses_exec_and_foreign_hosts() {
        let f = filter(&[]);
        assert!(f.accepts("GET", "/api/v1/pods", "127.0.0.1"));
        assert!(f.accepts("GET", "/api/v1/pods", "localhost"));
        assert!(f.accepts("GET", "/api/v1/pods", "[::1]"));
        assert!(!f.accepts("GET", "/api/v1/pods", "evil.example"));
        assert!(!f.accepts("GET", "/api/v1/pods", ""));
        assert!(!f.accepts("POST", "/api/v1/namespaces/d/pods/web/exec", "localhost"));
        assert!(!f.accepts("GET", "/api/v1/namespaces/d/pods/web/attach", "localhost"));
        let no_writes = filter(&["--reject-methods=^POST$,^PUT$"]);
        assert!(!no_writes.accepts("POST", "/api/v1/namespaces", "localhost"));
        assert!(no_writes.accepts("GET", "/api/v1/namespaces", "localhost"));
    }

    #[test]
    fn hosts_lose_their_port_as_in_go() {
        let req = |host: &str| {
            Request::builder()
                .header(header::HOST, host)
                .body(())
                .unwrap()
        };
        assert_eq!(request_host(&req("localhost:8001")), "localhost");
        assert_eq!(request_host(&req("[::1]:8001")), "[::1]");
        assert_eq!(request_host(&req("localhost")), "");
    }
}
