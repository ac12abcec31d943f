//! The CSR approving controller (upstream's `pkg/controller/certificates/approver`,
//! `sarapprove.go`): auto-approves kubelet client certificate requests. A pending request
//! for `kubernetes.io/kube-apiserver-client-kubelet` that is a node client request
//! (`csr_policy::is_node_client`) is approved when a SubjectAccessReview for its requester
//! (spec.username, uid, groups, extra) allows `create` on `certificatesigningrequests`
//! subresource `selfnodeclient` (renewal: the requester is the node named in the CN) or
//! `nodeclient` (a bootstrap identity asking for a node's first certificate). Approval goes
//! through the `approval` subresource with reason `AutoApproved`. Nothing else is ever
//! approved; a request whose review says no is retried with backoff (RBAC may change).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::csr;
use super::csr_policy;

/// The reason of the Approved condition.
pub const AUTO_APPROVED: &str = "AutoApproved";

/// One kind of request the approver recognises, and the permission that approves it.
pub struct Recognizer {
    /// The `certificatesigningrequests` subresource the requester needs `create` on.
    pub subresource: &'static str,
    /// The Approved condition's message.
    pub message: &'static str,
    recognize: fn(&CertificateSigningRequest, &csr::CertificateRequest) -> bool,
}

/// Upstream's recognizers, in their order: a node renewing its own certificate first.
pub const RECOGNIZERS: [Recognizer; 2] = [
    Recognizer {
        subresource: "selfnodeclient",
        message: "Auto approving self kubelet client certificate after SubjectAccessReview.",
        recognize: |obj, req| {
            csr_policy::is_self_node_client(
                &obj.spec.signer_name,
                obj.spec.username.as_deref().unwrap_or_default(),
                req,
                &csr::usages(obj),
            )
        },
    },
    Recognizer {
        subresource: "nodeclient",
        message: "Auto approving kubelet client certificate after SubjectAccessReview.",
        recognize: |obj, req| {
            csr_policy::is_node_client(&obj.spec.signer_name, req, &csr::usages(obj))
        },
    },
];

/// The recognizers that match this request, in order.
pub fn recognized(
    obj: &CertificateSigningRequest,
    req: &csr::CertificateRequest,
) -> Vec<&'static Recognizer> {
    RECOGNIZERS
        .iter()
        .filter(|r| (r.recognize)(obj, req))
        .collect()
}

/// The SubjectAccessReview asking whether the requester may `create` on `subresource`.
pub fn access_review(obj: &CertificateSigningRequest, subresource: &str) -> SubjectAccessReview {
    SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: obj.spec.username.clone(),
            uid: obj.spec.uid.clone(),
            groups: obj.spec.groups.clone(),
            extra: obj.spec.extra.clone(),
            resource_attributes: Some(ResourceAttributes {
                group: Some("certificates.k8s.io".into()),
                resource: Some("certificatesigningrequests".into()),
                verb: Some("create".into()),
                subresource: Some(subresource.into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    #[error("unable to parse csr: {0}")]
    Request(#[from] csr::RequestError),
}

/// Upstream's per-item backoff of the certificate controllers: 200 ms doubling to 1000 s.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(1000);

/// The delay before the `attempt`-th retry (0-based).
pub fn backoff(attempt: u32) -> Duration {
    BACKOFF_BASE
        .checked_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
        .unwrap_or(BACKOFF_MAX)
        .min(BACKOFF_MAX)
}

struct Context {
    csrs: Api<CertificateSigningRequest>,
    reviews: Api<SubjectAccessReview>,
    /// Denied reviews so far, per CSR name (for the backoff).
    denials: Mutex<HashMap<String, u32>>,
}

/// Run until the watch ends.
pub async fn run(client: Client) {
    let csrs: Api<CertificateSigningRequest> = Api::all(client.clone());
    let ctx = Arc::new(Context {
        csrs: csrs.clone(),
        reviews: Api::all(client),
        denials: Mutex::new(HashMap::new()),
    });
    let results =
        Controller::new(csrs, watcher::Config::default()).run(reconcile, error_policy, ctx);
    super::drain("csrapproving", results).await;
}

fn error_policy(_csr: Arc<CertificateSigningRequest>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(5))
}

impl Context {
    fn forget(&self, name: &str) {
        if let Ok(mut d) = self.denials.lock() {
            d.remove(name);
        }
    }

    fn next_retry(&self, name: &str) -> Duration {
        let Ok(mut d) = self.denials.lock() else {
            return BACKOFF_MAX;
        };
        let n = d.entry(name.to_string()).or_insert(0);
        let delay = backoff(*n);
        *n = n.saturating_add(1);
        delay
    }
}

async fn reconcile(
    obj: Arc<CertificateSigningRequest>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let name = obj.name_any();
    let (approved, denied) = csr::approval(&obj);
    if csr::is_issued(&obj) || approved || denied {
        ctx.forget(&name);
        return Ok(Action::await_change());
    }
    let req = csr::parse_request(&obj.spec.request.0)?;
    let candidates = recognized(&obj, &req);
    if candidates.is_empty() {
        return Ok(Action::await_change());
    }
    for r in &candidates {
        let review = ctx
            .reviews
            .create(&PostParams::default(), &access_review(&obj, r.subresource))
            .await?;
        if !review.status.is_some_and(|s| s.allowed) {
            continue;
        }
        let mut updated = (*obj).clone();
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        updated
            .status
            .get_or_insert_with(Default::default)
            .conditions
            .get_or_insert_with(Vec::new)
            .push(CertificateSigningRequestCondition {
                type_: csr::APPROVED.into(),
                status: "True".into(),
                reason: Some(AUTO_APPROVED.into()),
                message: Some(r.message.into()),
                last_update_time: Some(now.clone()),
                last_transition_time: Some(now),
            });
        return match ctx
            .csrs
            .replace_subresource("approval", &name, &PostParams::default(), &updated)
            .await
        {
            Ok(_) => {
                tracing::info!(csr = %name, via = r.subresource, "auto-approved kubelet client certificate");
                ctx.forget(&name);
                Ok(Action::await_change())
            }
            Err(kube::Error::Api(e)) if e.code == 409 => {
                Ok(Action::requeue(Duration::from_millis(200)))
            }
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(Action::await_change()),
            Err(e) => Err(e.into()),
        };
    }
    let tried: Vec<_> = candidates.iter().map(|r| r.subresource).collect();
    let delay = ctx.next_retry(&name);
    tracing::debug!(csr = %name, ?tried, ?delay, "recognized csr but subject access review was not approved");
    Ok(Action::requeue(delay))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::csr::testing::request;
    use k8s_openapi::api::certificates::v1::CertificateSigningRequestSpec;
    use k8s_openapi::ByteString;

    fn obj(
        signer: &str,
        username: &str,
        cn: &str,
    ) -> (CertificateSigningRequest, csr::CertificateRequest) {
        let (pem, _) = request(cn, &["system:nodes"], &[]);
        let req = csr::parse_request(pem.as_bytes()).expect("parse");
        let o = CertificateSigningRequest {
            spec: CertificateSigningRequestSpec {
                signer_name: signer.into(),
                request: ByteString(pem.into_bytes()),
                usages: Some(vec!["digital signature".into(), "client auth".into()]),
                username: Some(username.into()),
                uid: Some("uid-1".into()),
                groups: Some(vec![
                    "system:bootstrappers".into(),
                    "system:authenticated".into(),
                ]),
                extra: Some([("k".to_string(), vec!["v".to_string()])].into()),
                ..Default::default()
            },
            ..Default::default()
        };
        (o, req)
    }

    #[test]
    fn bootstrap_users_get_nodeclient_nodes_selfnodeclient_first() {
        let (o, req) = obj(
            csr::KUBE_APISERVER_CLIENT_KUBELET,
            "system:bootstrap:abcdef",
            "system:node:n1",
        );
        let subs: Vec<_> = recognized(&o, &req).iter().map(|r| r.subresource).collect();
        assert_eq!(subs, ["nodeclient"]);
        let (o, req) = obj(
            csr::KUBE_APISERVER_CLIENT_KUBELET,
            "system:node:n1",
            "system:node:n1",
        );
        let subs: Vec<_> = recognized(&o, &req).iter().map(|r| r.subresource).collect();
        assert_eq!(subs, ["selfnodeclient", "nodeclient"]);
        // Never another signer, even for a node-shaped request.
        let (o, req) = obj(
            csr::KUBE_APISERVER_CLIENT,
            "system:node:n1",
            "system:node:n1",
        );
        assert!(recognized(&o, &req).is_empty());
    }

    #[test]
    fn the_review_carries_the_requester_and_the_subresource() {
        let (o, _) = obj(
            csr::KUBE_APISERVER_CLIENT_KUBELET,
            "system:bootstrap:abcdef",
            "system:node:n1",
        );
        let sar = access_review(&o, "nodeclient");
        assert_eq!(sar.spec.user.as_deref(), Some("system:bootstrap:abcdef"));
        assert_eq!(sar.spec.uid.as_deref(), Some("uid-1"));
        assert_eq!(sar.spec.groups, o.spec.groups);
        assert_eq!(sar.spec.extra, o.spec.extra);
        let ra = sar.spec.resource_attributes.expect("resource");
        assert_eq!(ra.group.as_deref(), Some("certificates.k8s.io"));
        assert_eq!(ra.resource.as_deref(), Some("certificatesigningrequests"));
        assert_eq!(ra.verb.as_deref(), Some("create"));
        assert_eq!(ra.subresource.as_deref(), Some("nodeclient"));
    }

    #[test]
    fn retries_back_off_to_a_cap() {
        assert_eq!(backoff(0), Duration::from_millis(200));
        assert_eq!(backoff(3), Duration::from_millis(1600));
        assert_eq!(backoff(40), BACKOFF_MAX);
    }
}
