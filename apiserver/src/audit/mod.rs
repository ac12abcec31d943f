//! Auditing (`--audit-policy-file`, `--audit-log-path`): a chronological record of who did
//! what, as upstream's audit filter writes it — one `audit.k8s.io/v1 Event` per request and
//! stage (RequestReceived, ResponseStarted for long-running requests, ResponseComplete, Panic),
//! at the level the [`policy`] gives the request, to the [`log`] backend.
//!
//! Every response carries an `Audit-Id` header (the caller's own `Audit-ID`, or a fresh UUID),
//! whether or not auditing is on, as upstream. The request body is recorded by
//! [`record_request_body`], which the body reader calls; the per-request record travels in a
//! task-local so that deep handlers need no extra parameter.

pub mod log;
pub mod policy;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use http::{HeaderMap, Response};
use http_body_util::BodyExt;
use serde_json::{json, Value};

use crate::authn::UserInfo;
use crate::handlers::response::{self, Body};
use crate::request::RequestInfo;
pub use log::{LogBackend, Rotation};
pub use policy::{Level, Policy, Stage};

/// The response header naming a request's audit ID.
pub const AUDIT_ID_HEADER: &str = "audit-id";

/// The configured policy and backend.
pub struct Auditor {
    policy: Policy,
    backend: LogBackend,
}

/// Why auditing could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AuditConfigError {
    /// Bad policy file.
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    /// The log could not be opened.
    #[error("opening audit log {path}: {source}")]
    Log {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl Auditor {
    /// From the flags; `None` without both a policy file and a log path (upstream audits
    /// nothing then either).
    pub fn from_config(
        config: &crate::config::Config,
    ) -> Result<Option<Arc<Self>>, AuditConfigError> {
        let (Some(policy), Some(path)) = (&config.audit_policy_file, &config.audit_log_path) else {
            return Ok(None);
        };
        let policy = Policy::load(policy)?;
        let rotation = Rotation {
            max_size_mb: config.audit_log_maxsize,
            max_backups: config.audit_log_maxbackup,
            max_age_days: config.audit_log_maxage,
        };
        let backend = LogBackend::open(path, rotation).map_err(|source| AuditConfigError::Log {
            path: path.clone(),
            source,
        })?;
        Ok(Some(Arc::new(Self { policy, backend })))
    }

    /// An auditor over an explicit policy and backend.
    pub fn new(policy: Policy, backend: LogBackend) -> Self {
        Self { policy, backend }
    }
}

/// What the policy decided and what the request revealed as it went.
#[derive(Debug, Default)]
struct State {
    decided: Option<policy::Decision>,
    user: UserInfo,
    impersonated: Option<UserInfo>,
    request_body: Option<Bytes>,
    request_content_type: Option<String>,
    annotations: BTreeMap<String, String>,
}

/// One request's audit record.
pub struct RequestAudit {
    auditor: Arc<Auditor>,
    id: String,
    received: DateTime<Utc>,
    request_uri: String,
    verb: String,
    info: RequestInfo,
    source_ips: Vec<String>,
    user_agent: Option<String>,
    long_running: bool,
    state: Mutex<State>,
}

tokio::task_local! {
    static CURRENT: Option<Arc<RequestAudit>>;
}

/// Run `fut` with `audit` as the current request's record.
pub async fn scope<F: Future>(audit: Option<Arc<RequestAudit>>, fut: F) -> F::Output {
    CURRENT.scope(audit, fut).await
}

fn with_current(f: impl FnOnce(&RequestAudit)) {
    let _ = CURRENT.try_with(|a| {
        if let Some(a) = a {
            f(a)
        }
    });
}

/// Record the request body (the body reader calls this for every body it reads).
pub fn record_request_body(content_type: Option<&str>, bytes: &Bytes) {
    with_current(|a| {
        let mut s = a.lock();
        // Metadata events use the body too: it names the object a create is about.
        if s.decided
            .as_ref()
            .is_some_and(|d| d.level >= Level::Metadata)
        {
            s.request_body = Some(bytes.clone());
            s.request_content_type = content_type.map(String::from);
        }
    });
}

/// The authenticated user is known: decide the level and write RequestReceived.
pub fn authenticated(user: &UserInfo) {
    with_current(|a| a.decide(user));
}

/// The request runs as `user` from now on (impersonation).
pub fn impersonated(user: &UserInfo) {
    with_current(|a| a.lock().impersonated = Some(user.clone()));
}

/// Add an annotation (`authorization.k8s.io/decision` …).
pub fn annotate(key: &str, value: &str) {
    with_current(|a| {
        a.lock().annotations.insert(key.into(), value.into());
    });
}

/// The audit ID of a request: the caller's `Audit-ID` header, or a fresh UUID.
pub fn audit_id(headers: &HeaderMap) -> String {
    headers
        .get(AUDIT_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(String::from)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The client addresses, as upstream's SourceIPs: `X-Forwarded-For`, `X-Real-Ip`, then the
/// peer, without repeats.
pub fn source_ips(headers: &HeaderMap, peer: Option<IpAddr>) -> Vec<String> {
    let mut ips: Vec<String> = Vec::new();
    let mut push = |ip: &str| {
        let ip = ip.trim();
        if ip.parse::<IpAddr>().is_ok() && !ips.iter().any(|i| i == ip) {
            ips.push(ip.to_string());
        }
    };
    if let Some(fwd) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        fwd.split(',').for_each(&mut push);
    }
    if let Some(real) = headers.get("x-real-ip").and_then(|v| v.to_str().ok()) {
        push(real);
    }
    if let Some(p) = peer {
        push(&p.to_string());
    }
    ips
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn strip_managed_fields(v: &mut Value) {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    if let Some(items) = v.get_mut("items").and_then(Value::as_array_mut) {
        items.iter_mut().for_each(strip_managed_fields);
    }
}

fn decode_body(content_type: Option<&str>, bytes: &[u8]) -> Option<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let ct = content_type.unwrap_or("application/json");
    // Protobuf bodies start with upstream's `k8s\0` envelope magic.
    if bytes.starts_with(b"k8s\x00")
        || crate::protobuf::is_protobuf(ct.split(';').next().unwrap_or_default().trim())
    {
        return crate::protobuf::decode_to_json(bytes).ok();
    }
    serde_json::from_slice(bytes)
        .ok()
        .or_else(|| serde_yaml::from_slice(bytes).ok())
}

impl RequestAudit {
    /// A record for a request that just arrived.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        auditor: Arc<Auditor>,
        id: String,
        uri: &http::Uri,
        method: &http::Method,
        headers: &HeaderMap,
        info: &RequestInfo,
        peer: Option<IpAddr>,
        long_running: bool,
    ) -> Arc<Self> {
        let verb = if info.is_resource_request {
            info.verb.clone()
        } else {
            method.as_str().to_ascii_lowercase()
        };
        Arc::new(Self {
            auditor,
            id,
            received: Utc::now(),
            request_uri: uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| uri.path().to_string()),
            verb,
            info: info.clone(),
            source_ips: source_ips(headers, peer),
            user_agent: headers
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(String::from),
            long_running,
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn decide(&self, user: &UserInfo) {
        let i = &self.info;
        let attrs = policy::RequestAttributes {
            user: &user.name,
            groups: &user.groups,
            verb: &self.verb,
            resource_request: i.is_resource_request,
            group: &i.group,
            resource: &i.resource,
            subresource: i.subresource.as_deref().unwrap_or_default(),
            namespace: i.namespace.as_deref().unwrap_or_default(),
            name: i.name.as_deref().unwrap_or_default(),
            path: &i.path,
        };
        let decision = self.auditor.policy.decide(&attrs);
        {
            let mut s = self.lock();
            if s.decided.is_some() {
                return;
            }
            s.user = user.clone();
            s.decided = Some(decision);
        }
        self.emit(Stage::RequestReceived, None, None);
    }

    fn object_ref(&self) -> Option<Value> {
        let i = &self.info;
        if !i.is_resource_request {
            return None;
        }
        let mut r = serde_json::Map::new();
        let mut put = |k: &str, v: &str| {
            if !v.is_empty() {
                r.insert(k.into(), json!(v));
            }
        };
        put("resource", &i.resource);
        put("namespace", i.namespace.as_deref().unwrap_or_default());
        put("name", i.name.as_deref().unwrap_or_default());
        put("apiGroup", &i.group);
        put("apiVersion", &i.version);
        put("subresource", i.subresource.as_deref().unwrap_or_default());
        Some(Value::Object(r))
    }

    /// Write one stage's event, if the level and the omitted stages allow it.
    fn emit(&self, stage: Stage, status: Option<Value>, response_object: Option<Value>) {
        let s = self.lock();
        let Some(d) = &s.decided else { return };
        if d.level == Level::None || d.omit_stages.contains(&stage) {
            return;
        }
        let mut ev = json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": d.level.as_str(),
            "auditID": self.id,
            "stage": stage.as_str(),
            "requestURI": self.request_uri,
            "verb": self.verb,
            "user": s.user.to_json(),
            "sourceIPs": self.source_ips,
            "requestReceivedTimestamp": timestamp(self.received),
            "stageTimestamp": timestamp(Utc::now()),
        });
        if let Some(u) = &s.impersonated {
            ev["impersonatedUser"] = u.to_json();
        }
        if let Some(ua) = &self.user_agent {
            ev["userAgent"] = json!(ua);
        }
        let request_object = match (&s.request_body, stage) {
            (Some(b), st) if st != Stage::RequestReceived => {
                decode_body(s.request_content_type.as_deref(), b)
            }
            _ => None,
        };
        if let Some(mut r) = self.object_ref() {
            // A create names its object in the body, not the URL (upstream fills it in
            // the same way once the body is decoded).
            if r.get("name").is_none() && self.verb == "create" {
                if let Some(n) = request_object
                    .as_ref()
                    .and_then(|o| o.pointer("/metadata/name"))
                    .and_then(Value::as_str)
                {
                    r["name"] = json!(n);
                }
            }
            ev["objectRef"] = r;
        }
        if let Some(st) = status {
            ev["responseStatus"] = st;
        }
        // Bodies are known once the handler ran: never in RequestReceived.
        if d.level >= Level::Request {
            if let Some(mut v) = request_object {
                if d.omit_managed_fields {
                    strip_managed_fields(&mut v);
                }
                ev["requestObject"] = v;
            }
        }
        if d.level >= Level::RequestResponse {
            if let Some(mut v) = response_object {
                if d.omit_managed_fields {
                    strip_managed_fields(&mut v);
                }
                ev["responseObject"] = v;
            }
        }
        if !s.annotations.is_empty() {
            ev["annotations"] = json!(s.annotations);
        }
        drop(s);
        match serde_json::to_vec(&ev) {
            Ok(line) => self.auditor.backend.write_line(&line),
            Err(e) => tracing::error!(error = %e, "encoding an audit event failed"),
        }
    }

    fn level(&self) -> Level {
        self.lock()
            .decided
            .as_ref()
            .map(|d| d.level)
            .unwrap_or(Level::None)
    }

    /// Serving the request panicked.
    pub fn panicked(&self, message: &str) {
        self.ensure_decided();
        let status = json!({"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError", "code": 500});
        self.emit(Stage::Panic, Some(status), None);
    }

    /// A request refused before authentication finished is audited as the empty user.
    fn ensure_decided(&self) {
        if self.lock().decided.is_none() {
            self.decide(&UserInfo::default());
        }
    }

    /// The response is ready: write ResponseComplete (or ResponseStarted, and ResponseComplete
    /// once the stream ends, for long-running requests). Returns the response to send.
    pub async fn respond(self: Arc<Self>, resp: Response<Body>) -> Response<Body> {
        self.ensure_decided();
        let level = self.level();
        if level == Level::None {
            return resp;
        }
        let code = resp.status().as_u16();
        let failed = !resp.status().is_success() && code != 101;
        if self.long_running && !failed {
            self.emit(
                Stage::ResponseStarted,
                Some(json!({"metadata": {}, "code": code})),
                None,
            );
            let (parts, body) = resp.into_parts();
            let body = CompleteOnDrop {
                inner: body,
                audit: Some(self.clone()),
                code,
            };
            return Response::from_parts(parts, body.boxed());
        }
        // Error bodies are small Status objects; other bodies are only read when the level
        // asks for them.
        let want_body = failed || level >= Level::RequestResponse;
        let (parts, body) = resp.into_parts();
        let (body, decoded) = if want_body {
            let bytes = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            let v: Option<Value> = serde_json::from_slice(&bytes).ok();
            (response::full(bytes), v)
        } else {
            (body, None)
        };
        let mut status = json!({"metadata": {}, "code": code});
        if failed {
            if let Some(st) = decoded.as_ref().filter(|v| v["kind"] == "Status") {
                for k in ["status", "message", "reason", "details"] {
                    if let Some(x) = st.get(k) {
                        status[k] = x.clone();
                    }
                }
            }
        }
        self.emit(Stage::ResponseComplete, Some(status), decoded);
        Response::from_parts(parts, body)
    }
}

/// A streaming body that writes the ResponseComplete event when the stream is done (hyper
/// drops the body at the end of the stream or when the client goes away).
struct CompleteOnDrop {
    inner: Body,
    audit: Option<Arc<RequestAudit>>,
    code: u16,
}

impl Drop for CompleteOnDrop {
    fn drop(&mut self) {
        if let Some(a) = self.audit.take() {
            a.emit(
                Stage::ResponseComplete,
                Some(json!({"metadata": {}, "code": self.code})),
                None,
            );
        }
    }
}

impl hyper::body::Body for CompleteOnDrop {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auditor(policy: &str, dir: &std::path::Path) -> (Arc<Auditor>, std::path::PathBuf) {
        let path = dir.join("audit.log");
        let backend =
            LogBackend::open(path.to_str().expect("utf8"), Rotation::default()).expect("log");
        let p = Policy::parse(policy.as_bytes()).expect("policy");
        (Arc::new(Auditor::new(p, backend)), path)
    }

    fn events(path: &std::path::Path) -> Vec<Value> {
        std::fs::read_to_string(path)
            .expect("log")
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    }

    #[tokio::test]
    async fn request_response_level_records_both_bodies() {
        let dir = tempfile::tempdir().expect("dir");
        let (a, path) = auditor(
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitManagedFields: true\nrules:\n- level: RequestResponse\n",
            dir.path(),
        );
        let q = crate::request::Query::default();
        let uri: http::Uri = "/api/v1/namespaces/d/configmaps?fieldManager=x"
            .parse()
            .expect("uri");
        let info = RequestInfo::parse(&http::Method::POST, uri.path(), &q);
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "10.1.2.3".parse().expect("h"));
        let rec = RequestAudit::new(
            a,
            "id-1".into(),
            &uri,
            &http::Method::POST,
            &headers,
            &info,
            Some([127, 0, 0, 1].into()),
            false,
        );
        let body = Bytes::from_static(br#"{"metadata":{"name":"c","managedFields":[{}]}}"#);
        scope(Some(rec.clone()), async {
            authenticated(&UserInfo::system("alice", &["system:authenticated"]));
            record_request_body(Some("application/json"), &body);
        })
        .await;
        let resp = response::json(
            201,
            &json!({"kind": "ConfigMap", "metadata": {"name": "c"}}),
        );
        let resp = rec.respond(resp).await;
        assert_eq!(resp.status().as_u16(), 201);
        let evs = events(&path);
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0]["stage"], "RequestReceived");
        assert!(evs[0].get("requestObject").is_none());
        let done = &evs[1];
        assert_eq!(done["stage"], "ResponseComplete");
        assert_eq!(done["auditID"], "id-1");
        assert_eq!(done["verb"], "create");
        assert_eq!(done["user"]["username"], "alice");
        assert_eq!(done["sourceIPs"], json!(["10.1.2.3", "127.0.0.1"]));
        assert_eq!(done["objectRef"]["resource"], "configmaps");
        assert_eq!(done["objectRef"]["namespace"], "d");
        assert_eq!(done["responseStatus"]["code"], 201);
        assert_eq!(done["requestObject"]["metadata"]["name"], "c");
        assert!(done["requestObject"]["metadata"]
            .get("managedFields")
            .is_none());
        assert_eq!(done["responseObject"]["kind"], "ConfigMap");
        assert_eq!(
            done["requestURI"],
            "/api/v1/namespaces/d/configmaps?fieldManager=x"
        );
    }

    #[tokio::test]
    async fn errors_carry_the_status_and_none_writes_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let (a, path) = auditor(
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  users: [quiet]\n- level: Metadata\n",
            dir.path(),
        );
        let q = crate::request::Query::default();
        let uri: http::Uri = "/api/v1/namespaces/d/pods/p".parse().expect("uri");
        let info = RequestInfo::parse(&http::Method::GET, uri.path(), &q);
        let headers = HeaderMap::new();
        let quiet = RequestAudit::new(
            a.clone(),
            "q".into(),
            &uri,
            &http::Method::GET,
            &headers,
            &info,
            None,
            false,
        );
        scope(Some(quiet.clone()), async {
            authenticated(&UserInfo::system("quiet", &[]));
        })
        .await;
        quiet.respond(response::json(200, &json!({}))).await;
        let rec = RequestAudit::new(
            a,
            "e".into(),
            &uri,
            &http::Method::GET,
            &headers,
            &info,
            None,
            false,
        );
        scope(Some(rec.clone()), async {
            authenticated(&UserInfo::system("bob", &[]));
        })
        .await;
        let err = crate::errors::ApiError::not_found("", "pods", "p");
        rec.respond(response::error(&err)).await;
        let evs = events(&path);
        assert_eq!(evs.len(), 2, "{evs:?}");
        assert!(evs.iter().all(|e| e["auditID"] == "e"));
        let st = &evs[1]["responseStatus"];
        assert_eq!(st["code"], 404);
        assert_eq!(st["reason"], "NotFound");
        assert_eq!(st["status"], "Failure");
        assert!(evs[1].get("responseObject").is_none());
    }
}
