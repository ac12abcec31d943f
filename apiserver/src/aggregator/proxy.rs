//! Forwarding a request under an extension apiserver's group-version: the caller was
//! authenticated and authorized here; the backend learns who it is from the request headers
//! (`X-Remote-User`, `X-Remote-Uid`, `X-Remote-Group`, `X-Remote-Extra-<key>`), which it trusts
//! because the connection carries the front-proxy client certificate.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response};
use hyper::body::Incoming;

use super::{Aggregator, Registration};
use crate::authn::UserInfo;
use crate::config::Config;
use crate::errors::ApiError;
use crate::handlers::response;
use crate::handlers::Body;
use crate::kubelet::proxy::{forwarded_headers, pass_through};

/// What kubectl and client-go print for a 503 from an aggregated API.
pub const UNAVAILABLE: &str = "the server is currently unable to handle the request";

/// Whether a client header must not reach the backend: identity headers only the proxy may
/// set (a client could otherwise claim any user) and impersonation, already applied here.
fn is_identity_header(name: &HeaderName, config: &Config) -> bool {
    let n = name.as_str();
    let listed = |headers: &[String]| headers.iter().any(|h| h.eq_ignore_ascii_case(n));
    n.starts_with("impersonate-")
        || listed(&config.requestheader_username_headers)
        || listed(&config.requestheader_uid_headers)
        || listed(&config.requestheader_group_headers)
        || config
            .requestheader_extra_headers_prefix
            .iter()
            .any(|p| n.starts_with(&p.to_ascii_lowercase()))
}

/// Percent-encode an extra key as upstream does (`X-Remote-Extra-` keys are URL-escaped so
/// that keys with `/` survive as header names).
fn escape_extra_key(key: &str) -> String {
    percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .replace("%2E", ".")
        .replace("%5F", "_")
        .replace("%7E", "~")
}

/// The identity headers for `user`, named by the first `--requestheader-*` header of each kind.
pub fn identity_headers(user: &UserInfo, config: &Config) -> HeaderMap {
    let mut out = HeaderMap::new();
    let name_of = |headers: &[String], fallback: &'static str| {
        headers
            .first()
            .and_then(|h| HeaderName::from_bytes(h.as_bytes()).ok())
            .unwrap_or(HeaderName::from_static(fallback))
    };
    if let Ok(v) = HeaderValue::from_str(&user.name) {
        out.insert(
            name_of(&config.requestheader_username_headers, "x-remote-user"),
            v,
        );
    }
    if !user.uid.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&user.uid) {
            out.insert(
                name_of(&config.requestheader_uid_headers, "x-remote-uid"),
                v,
            );
        }
    }
    let group_header = name_of(&config.requestheader_group_headers, "x-remote-group");
    for g in &user.groups {
        if let Ok(v) = HeaderValue::from_str(g) {
            out.append(group_header.clone(), v);
        }
    }
    let prefix = config
        .requestheader_extra_headers_prefix
        .first()
        .map(String::as_str)
        .unwrap_or("X-Remote-Extra-");
    for (key, values) in &user.extra {
        let Ok(name) =
            HeaderName::from_bytes(format!("{prefix}{}", escape_extra_key(key)).as_bytes())
        else {
            continue;
        };
        for v in values {
            if let Ok(v) = HeaderValue::from_str(v) {
                out.append(name.clone(), v);
            }
        }
    }
    out
}

/// Proxy `req` to the backend of `reg`.
pub async fn serve(
    aggregator: &Aggregator,
    config: &Config,
    req: Request<Incoming>,
    user: &UserInfo,
    reg: &Registration,
) -> Response<Body> {
    let Some(svc) = reg.service.as_ref() else {
        return response::error(&ApiError::path_not_found());
    };
    if !reg.available {
        return response::error(&ApiError::unavailable(UNAVAILABLE));
    }
    let addr = match aggregator.endpoint(svc) {
        Ok(a) => a,
        Err(e) => {
            tracing::debug!(apiservice = %reg.name, reason = e.reason, "no endpoint");
            return response::error(&ApiError::unavailable(UNAVAILABLE));
        }
    };
    let (parts, body) = req.into_parts();
    let mut headers = HeaderMap::new();
    for (n, v) in forwarded_headers(&parts.headers, false).iter() {
        if !is_identity_header(n, config) {
            headers.append(n.clone(), v.clone());
        }
    }
    for (n, v) in identity_headers(user, config).iter() {
        headers.append(n.clone(), v.clone());
    }
    let server_name = svc.server_name();
    if let Ok(host) = HeaderValue::from_str(&format!("{server_name}:{}", svc.port)) {
        headers.insert(http::header::HOST, host);
    }
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());
    let mut out = match Request::builder()
        .method(parts.method)
        .uri(path_and_query)
        .body(body)
    {
        Ok(r) => r,
        Err(e) => return response::error(&ApiError::bad_request(e.to_string())),
    };
    *out.headers_mut() = headers;
    match aggregator
        .transport
        .send(addr, &server_name, &reg.trust, out)
        .await
    {
        Ok(resp) => pass_through(resp),
        Err(e) => {
            tracing::warn!(apiservice = %reg.name, %addr, error = %e, "proxying to the extension apiserver failed");
            response::error(&ApiError::unavailable(UNAVAILABLE))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::collections::BTreeMap;

    fn config() -> Config {
        Config::try_parse_from([
            "kube-apiserver",
            "--etcd-servers=http://127.0.0.1:2379",
            "--tls-cert-file=a",
            "--tls-private-key-file=b",
            "--client-ca-file=c",
        ])
        .expect("flags")
    }

    #[test]
    fn identity_headers_carry_user_groups_and_extra() {
        let mut extra = BTreeMap::new();
        extra.insert(
            "authentication.kubernetes.io/pod-name".to_string(),
            vec!["web-1".to_string()],
        );
        let user = UserInfo {
            name: "alice".into(),
            uid: "u-1".into(),
            groups: vec!["dev".into(), "system:authenticated".into()],
            extra,
        };
        let h = identity_headers(&user, &config());
        assert_eq!(h["x-remote-user"], "alice");
        assert_eq!(h["x-remote-uid"], "u-1");
        let groups: Vec<_> = h.get_all("x-remote-group").iter().collect();
        assert_eq!(groups, ["dev", "system:authenticated"]);
        assert_eq!(
            h["x-remote-extra-authentication.kubernetes.io%2fpod-name"],
            "web-1"
        );
    }

    #[test]
    fn clients_cannot_forge_identity_headers() {
        let c = config();
        for h in [
            "x-remote-user",
            "x-remote-group",
            "x-remote-extra-scopes",
            "impersonate-user",
        ] {
            assert!(is_identity_header(&HeaderName::from_static(h), &c), "{h}");
        }
        assert!(!is_identity_header(&HeaderName::from_static("accept"), &c));
    }
}
