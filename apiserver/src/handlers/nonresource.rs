//! Endpoints that are not resources: health, version, discovery, OpenAPI, metrics.

use http::{header, Request, Response};
use hyper::body::Incoming;
use serde_json::json;

use super::response::{self, Body};
use super::ApiServer;
use crate::authn::oidc;
use crate::errors::ApiError;
use crate::request::Query;
use crate::{aggregator, discovery, metrics, openapi};

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

fn accept(req: &Request<Incoming>) -> &str {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .unwrap_or("")
}

/// Whether the first media range the client accepts is the v2 aggregated discovery document
/// (kubectl 1.29 asks for v2beta1 first and must then get the legacy form).
fn wants_aggregated(req: &Request<Incoming>) -> bool {
    accept(req).split(',').next().is_some_and(|first| {
        let params: Vec<&str> = first.split(';').skip(1).map(str::trim).collect();
        params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
            && params.contains(&"as=APIGroupDiscoveryList")
    })
}

/// Whether the client asks for the protobuf form of `/openapi/v2` (kubectl ≤ 1.28 only reads that).
fn wants_openapi_protobuf(req: &Request<Incoming>) -> bool {
    let a = accept(req);
    a.contains("application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
        || a.contains("application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
}

fn with_etag(
    req: &Request<Incoming>,
    doc: &serde_json::Value,
    content_type: &str,
) -> Response<Body> {
    let etag = discovery::etag(doc);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str());
    let mut r = if matches {
        response::bytes(304, content_type, Vec::new())
    } else {
        response::bytes(
            200,
            content_type,
            serde_json::to_vec(doc).unwrap_or_default(),
        )
    };
    if let Ok(v) = http::HeaderValue::from_str(&etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// The `/version` document.
pub fn version_info() -> serde_json::Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": concat!("v1.33.0-rudder.", env!("CARGO_PKG_VERSION")),
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "n/a (rust)",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "amd64" } else { std::env::consts::ARCH }),
    })
}

async fn health(server: &ApiServer, name: &str, query: &Query, check_etcd: bool) -> Response<Body> {
    let etcd_ok = !check_etcd || server.store.etcd.healthy().await;
    let mut report = String::from("[+]ping ok\n[+]log ok\n");
    if check_etcd {
        report.push_str(if etcd_ok {
            "[+]etcd ok\n"
        } else {
            "[-]etcd failed: reason withheld\n"
        });
    }
    let (code, summary) = if etcd_ok {
        (200, format!("{name} check passed"))
    } else {
        (500, format!("{name} check failed"))
    };
    let body = if query.get("verbose").is_some() || !etcd_ok {
        format!("{report}{summary}\n")
    } else {
        "ok".to_string()
    };
    response::bytes(code, "text/plain; charset=utf-8", body)
}

/// Serve a non-resource path.
pub async fn serve(
    server: &ApiServer,
    req: &Request<Incoming>,
    path: &str,
    query: &Query,
) -> Response<Body> {
    let trimmed = path.trim_end_matches('/');
    match trimmed {
        "/healthz" | "/healthz/etcd" => return health(server, "healthz", query, true).await,
        "/livez" | "/livez/ping" => return health(server, "livez", query, false).await,
        "/readyz" | "/readyz/etcd" => return health(server, "readyz", query, true).await,
        "/version" => return response::json(200, &version_info()),
        "/metrics" => {
            return response::bytes(
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                metrics::render(),
            )
        }
        "/api" => {
            if wants_aggregated(req) {
                return with_etag(req, &discovery::aggregated_discovery(true), AGGREGATED);
            }
            let addr = format!(
                "{}:{}",
                server.config.advertise_ip(),
                server.config.secure_port
            );
            return response::json(200, &discovery::legacy_api_versions(&addr));
        }
        "/apis" => {
            if wants_aggregated(req) {
                let mut doc = discovery::aggregated_discovery(false);
                aggregator::discovery::extend_aggregated(&mut doc, &server.aggregator);
                return with_etag(req, &doc, AGGREGATED);
            }
            let mut doc = discovery::api_group_list();
            aggregator::discovery::extend_group_list(&mut doc, &server.aggregator.registrations());
            return response::json(200, &doc);
        }
        "/openapi/v2" => {
            if wants_openapi_protobuf(req) {
                let doc = openapi::openapi_v2_protobuf();
                return response::bytes(
                    200,
                    openapi::OPENAPI_V2_PROTOBUF_CONTENT_TYPE,
                    doc.as_ref().clone(),
                );
            }
            return response::bytes(
                200,
                "application/json",
                openapi::openapi_v2().as_ref().clone(),
            );
        }
        "/openapi/v3" => return response::json(200, &openapi::openapi_v3_root()),
        oidc::CONFIGURATION_PATH | oidc::JWKS_PATH => {
            let doc = server.authn.service_accounts.as_ref().and_then(|t| {
                if trimmed == oidc::JWKS_PATH {
                    oidc::jwks(t)
                } else {
                    oidc::configuration(t)
                }
            });
            let content_type = if trimmed == oidc::JWKS_PATH {
                "application/jwk-set+json"
            } else {
                "application/json"
            };
            return match doc {
                Some(d) => response::bytes(200, content_type, d.to_string()),
                None => response::error(&ApiError::path_not_found()),
            };
        }
        _ => {}
    }
    if let Some(rest) = trimmed.strip_prefix("/openapi/v3/") {
        return match openapi::openapi_v3_group_version(rest) {
            Some(doc) => {
                let mut r = response::bytes(200, "application/json", doc.as_ref().clone());
                r.headers_mut().insert(
                    header::CACHE_CONTROL,
                    http::HeaderValue::from_static("public, immutable"),
                );
                r
            }
            None => response::error(&ApiError::path_not_found()),
        };
    }
    let segs: Vec<&str> = trimmed.trim_start_matches('/').split('/').collect();
    let doc = match segs.as_slice() {
        ["api", version] => discovery::api_resource_list("", version),
        ["apis", group] => discovery::api_group(group).or_else(|| {
            aggregator::discovery::api_group(group, &server.aggregator.registrations())
        }),
        ["apis", group, version] => discovery::api_resource_list(group, version),
        _ => None,
    };
    match doc {
        Some(d) => response::json(200, &d),
        None => response::error(&ApiError::path_not_found()),
    }
}
