//! The CSR cleaner (upstream's `pkg/controller/certificates/cleaner`): CertificateSigningRequests
//! pile up as nodes renew their certificates, so they are deleted once they are of no more
//! use — approved and issued, denied, or failed for an hour (by the condition's
//! lastUpdateTime), pending (no condition) for a day since creation, or issued with a
//! certificate that has expired. Upstream looks every hour; here each CSR is looked at again
//! when its first deadline comes.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::api::{Api, DeleteParams, Preconditions};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::csr;

/// How long approved-and-issued, denied and failed requests are kept.
pub const DECIDED_EXPIRATION: Duration = Duration::from_secs(3600);
/// How long requests nobody acted on are kept.
pub const PENDING_EXPIRATION: Duration = Duration::from_secs(24 * 3600);

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
}

struct Context {
    csrs: Api<CertificateSigningRequest>,
}

/// Run until the watch ends.
pub async fn run(client: Client) {
    let csrs: Api<CertificateSigningRequest> = Api::all(client);
    let ctx = Arc::new(Context { csrs: csrs.clone() });
    let results =
        Controller::new(csrs, watcher::Config::default()).run(reconcile, error_policy, ctx);
    super::drain("csrcleaner", results).await;
}

fn error_policy(_csr: Arc<CertificateSigningRequest>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(10))
}

/// When (Unix seconds) the request becomes garbage, and why; None if never by itself.
pub fn deadline(csr_obj: &CertificateSigningRequest) -> Option<(i64, &'static str)> {
    let hour = DECIDED_EXPIRATION.as_secs() as i64;
    let updated = |type_: &str| {
        csr::condition(csr_obj, type_)
            .and_then(|c| c.last_update_time.as_ref())
            .map(|t| t.0.as_second())
    };
    let mut due: Vec<(i64, &'static str)> = Vec::new();
    let no_conditions = csr_obj
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_none_or(|c| c.is_empty());
    if no_conditions {
        if let Some(created) = &csr_obj.metadata.creation_timestamp {
            due.push((
                created.0.as_second() + PENDING_EXPIRATION.as_secs() as i64,
                "pending",
            ));
        }
    }
    if let Some(t) = updated(csr::DENIED) {
        due.push((t + hour, "denied"));
    }
    if let Some(t) = updated(csr::FAILED) {
        due.push((t + hour, "failed"));
    }
    if csr::condition(csr_obj, csr::APPROVED).is_some() && csr::is_issued(csr_obj) {
        if let Some(t) = updated(csr::APPROVED) {
            due.push((t + hour, "approved"));
        }
        if let Some(not_after) = certificate_not_after(csr_obj) {
            // Expired means strictly after notAfter.
            due.push((not_after + 1, "certificate expired"));
        }
    }
    due.into_iter().min_by_key(|(t, _)| *t)
}

/// notAfter (Unix seconds) of the issued certificate, if it parses.
fn certificate_not_after(csr_obj: &CertificateSigningRequest) -> Option<i64> {
    let pem = csr_obj.status.as_ref()?.certificate.as_ref()?;
    let (_, block) = x509_parser::pem::parse_x509_pem(&pem.0).ok()?;
    let cert = block.parse_x509().ok()?;
    Some(cert.validity().not_after.timestamp())
}

async fn reconcile(
    obj: Arc<CertificateSigningRequest>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let Some((due, why)) = deadline(&obj) else {
        return Ok(Action::await_change());
    };
    let now = k8s_openapi::jiff::Timestamp::now().as_second();
    if due > now {
        return Ok(Action::requeue(Duration::from_secs((due - now) as u64)));
    }
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: obj.uid(),
            resource_version: None,
        }),
        ..Default::default()
    };
    match ctx.csrs.delete(&obj.name_any(), &params).await {
        Ok(_) => {
            tracing::info!(csr = %obj.name_any(), reason = why, "cleaned certificate signing request")
        }
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::certificates::v1::{
        CertificateSigningRequestCondition, CertificateSigningRequestStatus,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;
    use k8s_openapi::ByteString;

    fn time(s: i64) -> Time {
        Time(Timestamp::from_second(s).unwrap_or_default())
    }

    fn obj(created: i64, conds: &[(&str, i64)], cert: Option<String>) -> CertificateSigningRequest {
        let mut c = CertificateSigningRequest::default();
        c.metadata.creation_timestamp = Some(time(created));
        c.status = Some(CertificateSigningRequestStatus {
            conditions: Some(
                conds
                    .iter()
                    .map(|(t, at)| CertificateSigningRequestCondition {
                        type_: t.to_string(),
                        status: "True".into(),
                        last_update_time: Some(time(*at)),
                        ..Default::default()
                    })
                    .collect(),
            ),
            certificate: cert.map(|p| ByteString(p.into_bytes())),
        });
        c
    }

    #[test]
    fn deadlines_follow_upstream_rules() {
        assert_eq!(
            deadline(&obj(1000, &[], None)),
            Some((1000 + 86_400, "pending"))
        );
        assert_eq!(
            deadline(&obj(1000, &[("Denied", 2000)], None)),
            Some((5600, "denied"))
        );
        assert_eq!(
            deadline(&obj(1000, &[("Failed", 3000)], None)),
            Some((6600, "failed"))
        );
        // Approved but not issued: kept (the signer may still come).
        assert_eq!(deadline(&obj(1000, &[("Approved", 2000)], None)), None);
    }

    #[test]
    fn issued_requests_go_an_hour_after_approval_or_when_the_certificate_expires() {
        let ca = common::pki::Ca::generate("c").expect("ca");
        let issued = ca.issue_client("u", &[]).expect("cert").cert_pem;
        let (_, block) = x509_parser::pem::parse_x509_pem(issued.as_bytes()).expect("pem");
        let not_after = block
            .parse_x509()
            .expect("x509")
            .validity()
            .not_after
            .timestamp();
        // Approved recently: an hour after the approval.
        let approved_at = not_after - 10_000;
        assert_eq!(
            deadline(&obj(1, &[("Approved", approved_at)], Some(issued.clone()))),
            Some((approved_at + 3600, "approved"))
        );
        // Approval long before expiry: still the hour rule first; an approval with no
        // update time leaves only the certificate's expiry.
        let mut no_time = obj(1, &[("Approved", 0)], Some(issued));
        if let Some(c) = no_time
            .status
            .as_mut()
            .and_then(|s| s.conditions.as_mut())
            .and_then(|c| c.first_mut())
        {
            c.last_update_time = None;
        }
        assert_eq!(
            deadline(&no_time),
            Some((not_after + 1, "certificate expired"))
        );
    }
}
