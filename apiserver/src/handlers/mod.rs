//! Request dispatch: authentication gate, then non-resource endpoints (health, version,
//! discovery, OpenAPI, metrics) or the REST verbs of a resource.

pub mod body;
mod duplicates;
mod eviction;
mod kubelet;
mod nonresource;
pub mod response;
mod rest;
mod subresources;
mod watch;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use http::{Request, Response};
use hyper::body::Incoming;

use crate::audit::{self, RequestAudit};
use crate::authn::{self, impersonation, Authenticator, CertUser, UserInfo};
use crate::config::Config;
use crate::errors::ApiError;
use crate::kubelet::KubeletClient;
use crate::metrics;
use crate::request::{Query, RequestInfo};
use crate::store::Store;
pub use response::Body;

/// Everything a request handler needs.
pub struct ApiServer {
    /// The generic store.
    pub store: Store,
    /// Flags.
    pub config: Config,
    /// Requests being served (non-watch), for max-in-flight.
    pub inflight: AtomicUsize,
    /// Connections to kubelets (`pods/log`, `pods/exec`, `nodes/proxy` …).
    pub kubelet: KubeletClient,
    /// Authenticators beyond the client certificate (service account tokens).
    pub authn: Authenticator,
    /// The `--authorization-mode` chain.
    pub authorizer: Arc<crate::authz::Authorizer>,
    /// Auditing, when `--audit-policy-file` and `--audit-log-path` are given.
    pub audit: Option<Arc<crate::audit::Auditor>>,
    /// The aggregation layer: APIServices, proxying to extension apiservers.
    pub aggregator: Arc<crate::aggregator::Aggregator>,
}

/// The address a request came from (a request extension set by the server).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::IpAddr);

/// Paths anyone may read, as upstream's `system:public-info-viewer` allows.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/livez" | "/readyz" | "/version" | "/version/"
    ) || path.starts_with("/healthz/")
        || path.starts_with("/livez/")
        || path.starts_with("/readyz/")
}

/// Serve one request; `cert` is what the connection's client certificate says. Never panics
/// outward: a panic becomes a 500 Status.
pub async fn handle(
    server: Arc<ApiServer>,
    req: Request<Incoming>,
    cert: Option<CertUser>,
) -> Response<Body> {
    let start = Instant::now();
    let query = Query::parse(req.uri().query());
    let info = RequestInfo::parse(req.method(), req.uri().path(), &query);
    let dry_run = query.all("dryRun").iter().any(|d| d == "All");
    let audit_id = audit::audit_id(req.headers());
    let record = server.audit.as_ref().map(|a| {
        let long_running = info.verb == "watch" || kubelet::is_kubelet_subresource(&info);
        let peer = req.extensions().get::<Peer>().map(|p| p.0);
        RequestAudit::new(
            a.clone(),
            audit_id.clone(),
            req.uri(),
            req.method(),
            req.headers(),
            &info,
            peer,
            long_running,
        )
    });
    let fut = audit::scope(
        record.clone(),
        dispatch(server.clone(), req, info.clone(), query, cert),
    );
    let mut resp = match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(_) => {
            const PANICKED: &str = "the server panicked while serving the request";
            tracing::error!(path = %info.path, "panic while serving request");
            if let Some(r) = &record {
                r.panicked(PANICKED);
            }
            response::error(&ApiError::internal(PANICKED))
        }
    };
    if let Ok(v) = http::HeaderValue::from_str(&audit_id) {
        resp.headers_mut().insert(audit::AUDIT_ID_HEADER, v);
    }
    if let Some(r) = record {
        resp = r.respond(resp).await;
    }
    if info.is_resource_request && info.verb != "watch" {
        let labels = metrics::RequestLabels {
            verb: &info.verb.to_ascii_uppercase(),
            dry_run,
            group: &info.group,
            version: &info.version,
            resource: &info.resource,
            subresource: info.subresource.as_deref().unwrap_or(""),
            scope: info.scope(),
        };
        metrics::observe_request(&labels, resp.status().as_u16(), start);
    }
    tracing::debug!(verb = %info.verb, path = %info.path, code = resp.status().as_u16(), elapsed_ms = start.elapsed().as_millis() as u64, "request");
    resp
}

/// Counts a request in flight for as long as it lives.
struct InflightGuard<'a>(&'a AtomicUsize);
impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
        metrics::inflight(-1);
    }
}

async fn dispatch(
    server: Arc<ApiServer>,
    mut req: Request<Incoming>,
    info: RequestInfo,
    query: Query,
    cert: Option<CertUser>,
) -> Response<Body> {
    let path = req.uri().path().to_string();
    let authenticated = authn::authenticate(
        &server.authn,
        &server.store,
        req.headers_mut(),
        cert.as_ref(),
    )
    .await;
    let mut user = match authenticated {
        Ok(Some(u)) => u,
        // Upstream (`--anonymous-auth`, default true there) lets every request without
        // credentials through as system:anonymous and leaves the rest to authorization;
        // Rudder does that only with the flag (kubeadm's token discovery reads
        // kube-public/cluster-info anonymously) and otherwise only for health and version.
        Ok(None) if is_public(&path) || server.config.anonymous_auth => {
            UserInfo::system("system:anonymous", &["system:unauthenticated"])
        }
        Ok(None) => return response::error(&ApiError::unauthorized()),
        Err(e) => return response::error(&e),
    };
    audit::authenticated(&user);
    // Upstream's filter order: authentication, audit, impersonation, authorization.
    match impersonation::impersonate(&server.authorizer, &user, req.headers()) {
        Ok(Some(acting_as)) => {
            tracing::debug!(user = %user.name, impersonating = %acting_as.name, "impersonation");
            audit::impersonated(&acting_as);
            user = acting_as;
        }
        Ok(None) => {}
        Err(e) => {
            audit::annotate("authorization.k8s.io/decision", "forbid");
            return response::error(&e);
        }
    }
    if let Err(e) = server
        .authorizer
        .check_request(&user, req.method(), &info, &query)
    {
        audit::annotate("authorization.k8s.io/decision", "forbid");
        return response::error(&e);
    }
    audit::annotate("authorization.k8s.io/decision", "allow");
    // Extension apiservers' group-versions (resources and their discovery) are proxied.
    if let Some(reg) = server.aggregator.route(&path) {
        return crate::aggregator::proxy::serve(
            &server.aggregator,
            &server.config,
            req,
            &user,
            &reg,
        )
        .await;
    }
    if !info.is_resource_request {
        return nonresource::serve(&server, &req, &path, &query).await;
    }
    if info.verb == "watch" {
        return match watch::serve(server.clone(), &req, &info, &query).await {
            Ok(r) => r,
            Err(e) => response::error(&e),
        };
    }
    // Long-running like watch: logs, exec, attach, port-forward and node proxy are not
    // counted against max-in-flight.
    if kubelet::is_kubelet_subresource(&info) {
        return match kubelet::serve(&server, req, &info, &query).await {
            Ok(r) => r,
            Err(e) => response::error(&e),
        };
    }
    let current = server.inflight.fetch_add(1, Ordering::SeqCst) + 1;
    metrics::inflight(1);
    let _guard = InflightGuard(&server.inflight);
    if current > server.config.max_requests_inflight {
        return response::error(&ApiError::too_many_requests());
    }
    match rest::serve(&server, req, &info, &query, user).await {
        Ok(r) => r,
        Err(e) => response::error(&e),
    }
}
