//! TokenRequest (`POST …/serviceaccounts/{name}/token`, `authentication.k8s.io/v1`): issue a
//! bound service account token, as `kubectl create token` and the kubelet ask for.

use serde_json::{json, Value};

use super::service_account::{self, BoundObject, TokenSpec};
use crate::errors::{ApiError, FieldError};
use crate::handlers::ApiServer;

/// Lifetime when the request names none.
pub const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// Shortest lifetime a token may be issued with (10 minutes).
pub const MIN_EXPIRATION_SECONDS: i64 = 600;
/// Longest lifetime a request may name (2^32 seconds).
pub const MAX_EXPIRATION_SECONDS: i64 = 1 << 32;
/// The lifetime the kubelet asks for in projected volumes; with
/// `--service-account-extend-token-expiration` such pod-bound tokens really live a year (so
/// clients that never reload the file keep working) and carry `warnafter`.
pub const WARN_ONLY_EXPIRATION_SECONDS: i64 = 3607;
/// How long an extended token lives (one year).
pub const EXTENDED_EXPIRATION_SECONDS: i64 = 365 * 24 * 3600;

/// Validate the request's spec as upstream does: lifetime bounds and a supported bound object.
pub fn validate(request: &Value, name: &str) -> Result<(), ApiError> {
    let mut errs = Vec::new();
    if let Some(exp) = request.pointer("/spec/expirationSeconds") {
        match exp.as_i64() {
            Some(s) if s < MIN_EXPIRATION_SECONDS => errs.push(FieldError::invalid(
                "spec.expirationSeconds",
                s,
                "may not specify a duration less than 10 minutes",
            )),
            Some(s) if s > MAX_EXPIRATION_SECONDS => errs.push(FieldError::invalid(
                "spec.expirationSeconds",
                s,
                "may not specify a duration larger than 2^32 seconds",
            )),
            Some(_) => {}
            None => errs.push(FieldError::invalid(
                "spec.expirationSeconds",
                exp.clone(),
                "must be an integer",
            )),
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid(
            "authentication.k8s.io",
            "TokenRequest",
            name,
            &errs,
        ));
    }
    Ok(())
}

/// Serve `create` on `serviceaccounts/{name}/token`: 201 with the TokenRequest carrying
/// `status.token` and `status.expirationTimestamp`.
pub async fn create(
    server: &ApiServer,
    ns: &str,
    name: &str,
    request: &Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let tokens = server
        .authn
        .service_accounts
        .as_ref()
        .filter(|t| t.signer.is_some())
        .ok_or_else(ApiError::path_not_found)?;
    validate(request, name)?;
    let sa = service_account::lookup(&server.store, "serviceaccounts", Some(ns), name)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found("", "serviceaccounts", name))?;
    let sa_uid = str_at(&sa, "/metadata/uid").to_string();
    if let Some(want) = request
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
    {
        if want != sa_uid {
            return Err(ApiError::conflict(
                "",
                "serviceaccounts",
                name,
                &format!("the UID in the token request ({want}) does not match the UID of the service account ({sa_uid})"),
            ));
        }
    }
    let mut expiration = request
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_EXPIRATION_SECONDS);
    if let Some(max) = tokens.max_expiration_seconds {
        expiration = expiration.min(max.max(MIN_EXPIRATION_SECONDS));
    }
    let audiences: Vec<String> = request
        .pointer("/spec/audiences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .filter(|a: &Vec<String>| !a.is_empty())
        .unwrap_or_else(|| tokens.api_audiences.clone());

    let mut bound_ref = request
        .pointer("/spec/boundObjectRef")
        .filter(|v| v.is_object())
        .cloned();
    let (bound, node) = match &mut bound_ref {
        Some(r) => {
            let (bound, node) = resolve_bound(server, ns, r).await?;
            r["uid"] = json!(bound.uid);
            (Some(bound), node)
        }
        None => (None, None),
    };
    let now = chrono::Utc::now().timestamp();
    // The answer reports the lifetime asked for, so the kubelet still refreshes on time.
    let extend = tokens.extend_expiration
        && expiration == WARN_ONLY_EXPIRATION_SECONDS
        && bound.as_ref().is_some_and(|b| b.kind == "Pod");
    let spec = TokenSpec {
        namespace: ns.to_string(),
        name: name.to_string(),
        uid: sa_uid,
        audiences: audiences.clone(),
        expiration_seconds: if extend {
            EXTENDED_EXPIRATION_SECONDS
        } else {
            expiration
        },
        warn_after: extend.then_some(now + expiration),
        bound,
        node,
    };
    let mut out_spec = json!({"audiences": audiences, "expirationSeconds": expiration});
    if let Some(r) = bound_ref {
        out_spec["boundObjectRef"] = r;
    }
    let mut out = json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": crate::store::meta::now()},
        "spec": out_spec,
    });
    // A dry run answers without a token, as upstream does.
    if dry_run {
        return Ok(out);
    }
    let (token, _) = tokens.issue(&spec, now).map_err(ApiError::internal)?;
    let exp_ts = chrono::DateTime::from_timestamp(now + expiration, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    out["status"] = json!({"token": token, "expirationTimestamp": exp_ts});
    Ok(out)
}

/// Check the bound object exists (and has the UID the request names); for a pod, also find
/// its node, whose name and UID go into the token.
async fn resolve_bound(
    server: &ApiServer,
    ns: &str,
    r: &Value,
) -> Result<(BoundObject, Option<(String, String)>), ApiError> {
    let kind = str_at(r, "/kind");
    let api_version = str_at(r, "/apiVersion");
    let name = str_at(r, "/name");
    let plural = match (api_version, kind) {
        ("v1" | "", "Pod") => "pods",
        ("v1" | "", "Secret") => "secrets",
        ("v1" | "", "Node") => "nodes",
        _ => {
            let gv = if api_version.is_empty() {
                ""
            } else {
                api_version
            };
            return Err(ApiError::bad_request(format!(
                "cannot bind token for object of type {gv}, Kind={kind}"
            )));
        }
    };
    if name.is_empty() {
        return Err(ApiError::invalid(
            "authentication.k8s.io",
            "TokenRequest",
            "",
            &[FieldError::required("spec.boundObjectRef.name", "")],
        ));
    }
    let obj_ns = (plural != "nodes").then_some(ns);
    let obj = service_account::lookup(&server.store, plural, obj_ns, name)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found("", plural, name))?;
    let uid = str_at(&obj, "/metadata/uid").to_string();
    let want = str_at(r, "/uid");
    if !want.is_empty() && want != uid {
        return Err(ApiError::conflict(
            "",
            kind,
            name,
            &format!("the UID in the bound object reference ({want}) does not match the UID in record. The object might have been deleted and then recreated"),
        ));
    }
    let node = if plural == "pods" {
        match obj
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            Some(node_name) => service_account::lookup(&server.store, "nodes", None, node_name)
                .await
                .ok()
                .flatten()
                .map(|n| {
                    (
                        node_name.to_string(),
                        str_at(&n, "/metadata/uid").to_string(),
                    )
                }),
            None => None,
        }
    } else {
        // A node-bound token carries the node as its bound object already.
        None
    };
    let bound = BoundObject {
        kind: kind.to_string(),
        name: name.to_string(),
        uid,
    };
    Ok((bound, node))
}

fn str_at<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_follow_upstream_bounds() {
        assert!(validate(&json!({"spec": {}}), "sa").is_ok());
        assert!(validate(&json!({"spec": {"expirationSeconds": 600}}), "sa").is_ok());
        let short = validate(&json!({"spec": {"expirationSeconds": 599}}), "sa").unwrap_err();
        assert_eq!(short.code, 422);
        assert!(
            short.message.contains("less than 10 minutes"),
            "{}",
            short.message
        );
        let long = validate(
            &json!({"spec": {"expirationSeconds": (1i64 << 32) + 1}}),
            "sa",
        )
        .unwrap_err();
        assert!(long.message.contains("2^32"), "{}", long.message);
    }
}
