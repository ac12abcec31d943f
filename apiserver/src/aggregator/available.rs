//! The availability controller (upstream's `AvailableConditionController`) and the discovery
//! cache it fills: every APIService gets an `Available` condition — `Local` for groups served
//! here, `ServiceNotFound` / `ServicePortError` / `MissingEndpoints` when its Service cannot
//! be resolved, `FailedDiscoveryCheck` when the backend does not answer
//! `GET /apis/<group>/<version>` with a 2xx, `Passed` otherwise. The `APIResourceList` of a
//! passing check is kept for the merged discovery documents.
//!
//! Level-triggered: each second the APIServices are read from the watch cache; a backend is
//! re-checked when what it resolves to changed, or every [`RECHECK`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api_types::catalog;
use http::{header, HeaderValue, Request};
use http_body_util::{BodyExt, Empty, Limited};
use serde_json::{json, Value};

use super::{proxy, Aggregator, Registration};
use crate::authn::UserInfo;
use crate::handlers::ApiServer;
use crate::store::RequestContext;

/// How often a passing or failing backend is checked again.
pub const RECHECK: Duration = Duration::from_secs(10);
/// How long one discovery check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest discovery document read from a backend.
const MAX_DISCOVERY_BYTES: usize = 4 << 20;

/// An `Available` condition's status, reason and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    /// `True` or `False`.
    pub available: bool,
    /// Upstream's reason.
    pub reason: &'static str,
    /// Upstream's message.
    pub message: String,
}

impl Availability {
    fn up(reason: &'static str, message: &str) -> Self {
        Self {
            available: true,
            reason,
            message: message.to_string(),
        }
    }

    fn down(reason: &'static str, message: String) -> Self {
        Self {
            available: false,
            reason,
            message,
        }
    }
}

/// The state of one backend between ticks.
struct Checked {
    /// What the backend resolved to at the last check.
    signature: String,
    at: Instant,
    result: Availability,
}

/// Run the controller until the process ends.
pub async fn run(server: Arc<ApiServer>) {
    let mut checked: HashMap<String, Checked> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let regs = server.aggregator.registrations();
        checked.retain(|name, _| regs.iter().any(|r| &r.name == name));
        let names: Vec<&str> = regs.iter().map(|r| r.name.as_str()).collect();
        server.aggregator.retain_discovery(&names);
        for reg in &regs {
            let result = check(&server.aggregator, reg, &mut checked).await;
            if !result.available {
                // Stale discovery stays listed (upstream marks it Stale); a never-checked
                // backend has none.
                tracing::debug!(apiservice = %reg.name, reason = result.reason, message = %result.message, "unavailable");
            }
            if let Err(e) = write_status(&server, reg, &result).await {
                tracing::debug!(apiservice = %reg.name, error = %e.message, "writing APIService status");
            }
        }
    }
}

async fn check(
    aggregator: &Aggregator,
    reg: &Registration,
    checked: &mut HashMap<String, Checked>,
) -> Availability {
    let svc = match &reg.service {
        None => return Availability::up("Local", "Local APIServices are always available"),
        Some(_) if reg.is_local() => {
            return Availability::up("Local", "Local APIServices are always available")
        }
        Some(s) => s,
    };
    let addrs = match super::resolve::endpoints(aggregator.cache(), aggregator.prefix(), svc) {
        Ok(a) => a,
        Err(u) => {
            checked.remove(&reg.name);
            return Availability::down(u.reason, u.message);
        }
    };
    let signature = format!("{:?}|{addrs:?}", reg.trust);
    if let Some(c) = checked.get(&reg.name) {
        if c.signature == signature && c.at.elapsed() < RECHECK {
            return c.result.clone();
        }
    }
    let addr = addrs[0];
    let path = format!("/apis/{}/{}", reg.group, reg.version);
    let url = format!("https://{addr}{path}");
    let result =
        match tokio::time::timeout(CHECK_TIMEOUT, fetch(aggregator, reg, addr, &path)).await {
            Ok(Ok(doc)) => {
                aggregator.set_discovery(&reg.name, doc);
                Availability::up("Passed", "all checks passed")
            }
            Ok(Err(e)) => Availability::down(
                "FailedDiscoveryCheck",
                format!("failing or missing response from {url}: {e}"),
            ),
            Err(_) => Availability::down(
                "FailedDiscoveryCheck",
                format!(
                "failing or missing response from {url}: Get \"{url}\": context deadline exceeded"
            ),
            ),
        };
    checked.insert(
        reg.name.clone(),
        Checked {
            signature,
            at: Instant::now(),
            result: result.clone(),
        },
    );
    result
}

/// `GET /apis/<group>/<version>` as `system:kube-aggregator`; `Ok(Some(list))` when the body
/// is an `APIResourceList`.
async fn fetch(
    aggregator: &Aggregator,
    reg: &Registration,
    addr: std::net::SocketAddr,
    path: &str,
) -> Result<Option<Value>, String> {
    let Some(svc) = &reg.service else {
        return Ok(None);
    };
    let user = UserInfo::system("system:kube-aggregator", &["system:masters"]);
    let mut req = Request::get(path)
        .body(Empty::<bytes::Bytes>::new())
        .map_err(|e| e.to_string())?;
    let identity = proxy::identity_headers(&user, aggregator.config_headers());
    for (n, v) in identity.iter() {
        req.headers_mut().append(n.clone(), v.clone());
    }
    req.headers_mut()
        .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    if let Ok(h) = HeaderValue::from_str(&format!("{}:{}", svc.server_name(), svc.port)) {
        req.headers_mut().insert(header::HOST, h);
    }
    let resp = aggregator
        .transport
        .send(addr, &svc.server_name(), &reg.trust, req)
        .await
        .map_err(|e| format!("Get \"https://{addr}{path}\": {e}"))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!(
            "bad status from https://{addr}{path}: {}",
            status.as_u16()
        ));
    }
    let body = Limited::new(resp.into_body(), MAX_DISCOVERY_BYTES)
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(serde_json::from_slice::<Value>(&body)
        .ok()
        .filter(|v| v["kind"] == "APIResourceList"))
}

/// Set the `Available` condition if it differs from what is stored; the transition time
/// moves only when the status flips.
async fn write_status(
    server: &ApiServer,
    reg: &Registration,
    result: &Availability,
) -> Result<(), crate::errors::ApiError> {
    let Some(res) = catalog::find("apiregistration.k8s.io", "v1", "apiservices") else {
        return Ok(());
    };
    let mut obj = server.store.get(res, None, &reg.name).await?;
    let status = if result.available { "True" } else { "False" };
    let current = obj
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Available"))
        .cloned();
    if let Some(c) = &current {
        if c["status"] == status
            && c["reason"] == result.reason
            && c["message"] == result.message.as_str()
        {
            return Ok(());
        }
    }
    let transition = match &current {
        Some(c) if c["status"] == status => c["lastTransitionTime"].clone(),
        _ => json!(crate::store::meta::now()),
    };
    let condition = json!({
        "type": "Available",
        "status": status,
        "lastTransitionTime": transition,
        "reason": result.reason,
        "message": result.message,
    });
    let mut conditions: Vec<Value> = obj
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c["type"] != "Available")
        .collect();
    conditions.push(condition);
    obj["status"] = json!({"conditions": conditions});
    let ctx = RequestContext::internal("kube-apiserver");
    server
        .store
        .update(res, None, &reg.name, obj, Some("status"), &ctx)
        .await?;
    Ok(())
}
