//! `authentication.k8s.io/v1` TokenReview and SelfSubjectReview: create-only virtual
//! resources (nothing is stored). TokenReview asks "who does this token authenticate as?"
//! (webhook token authenticators and `kube-rbac-proxy` use it); SelfSubjectReview answers
//! "who am I?" for `kubectl auth whoami`.

use http::{header, Request, Response};
use hyper::body::Incoming;
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::handlers::{body, response, ApiServer, Body};
use crate::store::meta;
use crate::store::RequestContext;

use super::UserInfo;

/// Whether a resource is one of ours.
pub fn is_review(group: &str, plural: &str) -> bool {
    group == "authentication.k8s.io" && matches!(plural, "tokenreviews" | "selfsubjectreviews")
}

/// Serve `create` on `tokenreviews` or `selfsubjectreviews` (201 with the filled-in review).
pub async fn serve(
    server: &ApiServer,
    req: Request<Incoming>,
    plural: &str,
    ctx: &RequestContext,
) -> Result<Response<Body>, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let bytes = body::read(req.into_body(), server.config.max_request_body_bytes).await?;
    let review = if bytes.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        body::decode_object(content_type.as_deref(), &bytes)?
    };
    let out = match plural {
        "tokenreviews" => token_review(server, &review).await?,
        _ => self_subject_review(&ctx.user),
    };
    Ok(response::json(201, &out))
}

/// The SelfSubjectReview for the requesting user.
pub fn self_subject_review(user: &UserInfo) -> Value {
    json!({
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": meta::now()},
        "status": {"userInfo": user.to_json()},
    })
}

/// Fill in a TokenReview: authenticate `spec.token` for `spec.audiences` (default: the
/// server's audiences).
pub async fn token_review(server: &ApiServer, review: &Value) -> Result<Value, ApiError> {
    let token = review
        .pointer("/spec/token")
        .and_then(Value::as_str)
        .unwrap_or("");
    if token.is_empty() {
        return Err(ApiError::bad_request("spec.token: Required value"));
    }
    let asked: Option<Vec<String>> = review
        .pointer("/spec/audiences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect::<Vec<_>>()
        })
        .filter(|a| !a.is_empty());
    let mut spec = json!({"token": token});
    if let Some(a) = &asked {
        spec["audiences"] = json!(a);
    }
    let now = chrono::Utc::now().timestamp();
    let sa = match &server.authn.service_accounts {
        None => None,
        Some(sa) => Some(
            sa.authenticate(&server.store, token, asked.as_deref(), now)
                .await,
        ),
    };
    let bootstrap = if server.authn.bootstrap_tokens {
        super::bootstrap_token::authenticate(&server.store, token, now)
    } else {
        None
    };
    let status = match (sa, bootstrap) {
        (Some(Ok(a)), _) => json!({
            "authenticated": true,
            "user": a.user.to_json(),
            "audiences": a.audiences,
        }),
        // Bootstrap tokens are good for the apiserver's own audiences only, so a review
        // naming other audiences does not accept them.
        (_, Some(Ok(user))) if asked.is_none() => json!({
            "authenticated": true,
            "user": user.to_json(),
            "audiences": server.authn.service_accounts.as_ref().map(|s| s.api_audiences.clone()).unwrap_or_default(),
        }),
        (_, Some(Err(e))) => json!({"authenticated": false, "user": {}, "error": e.to_string()}),
        (Some(Err(e)), _) => json!({"authenticated": false, "user": {}, "error": e.to_string()}),
        _ => json!({"authenticated": false, "user": {}}),
    };
    Ok(json!({
        "kind": "TokenReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": meta::now()},
        "spec": spec,
        "status": status,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_subject_review_echoes_the_user() {
        let u = UserInfo::system(
            "kubernetes-admin",
            &["system:masters", "system:authenticated"],
        );
        let r = self_subject_review(&u);
        assert_eq!(r["kind"], "SelfSubjectReview");
        assert_eq!(r["status"]["userInfo"]["username"], "kubernetes-admin");
        assert_eq!(r["status"]["userInfo"]["groups"][0], "system:masters");
        assert!(is_review("authentication.k8s.io", "tokenreviews"));
        assert!(!is_review("", "tokenreviews"));
    }
}
