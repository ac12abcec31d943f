//! The CSR signing controller (upstream's `pkg/controller/certificates/signer`): issues
//! certificates for approved CertificateSigningRequests of the built-in signers it holds a
//! CA for. A request that is approved, not failed and not yet issued is checked against its
//! signer's rules (`csr_policy`); one that breaks them gets a `Failed` condition with reason
//! `SignerValidationFailure`, the others get `status.certificate` — both written through the
//! `status` subresource (PUT).
//!
//! CAs come from `--cluster-signing-cert-file`/`--cluster-signing-key-file`, or per signer
//! from `--cluster-signing-{kubelet-serving,kubelet-client,kube-apiserver-client,
//! legacy-unknown}-{cert,key}-file`; with neither the controller does not start.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::ByteString;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};

use super::csr;
use super::csr_authority::{self, CertificateAuthority};
use super::csr_policy;

/// The reason of the Failed condition for a request its signer refuses.
pub const SIGNER_VALIDATION_FAILURE: &str = "SignerValidationFailure";

/// A cert/key file pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigningFiles {
    /// The CA certificate (PEM).
    pub cert: Option<PathBuf>,
    /// The CA private key (PKCS#8 PEM).
    pub key: Option<PathBuf>,
}

impl SigningFiles {
    fn any(&self) -> bool {
        self.cert.is_some() || self.key.is_some()
    }
}

/// The signing flags as given.
#[derive(Debug, Clone, Default)]
pub struct SigningFlags {
    /// `--cluster-signing-cert-file` / `--cluster-signing-key-file`.
    pub default: SigningFiles,
    /// `--cluster-signing-kubelet-serving-{cert,key}-file`.
    pub kubelet_serving: SigningFiles,
    /// `--cluster-signing-kubelet-client-{cert,key}-file`.
    pub kubelet_client: SigningFiles,
    /// `--cluster-signing-kube-apiserver-client-{cert,key}-file`.
    pub kube_apiserver_client: SigningFiles,
    /// `--cluster-signing-legacy-unknown-{cert,key}-file`.
    pub legacy_unknown: SigningFiles,
}

/// Why the signing flags cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Both the default pair and a per-signer pair were given (upstream refuses too).
    #[error("cannot specify default and per controller certs at the same time")]
    DefaultAndPerSigner,
    /// A signer got only one of its two files.
    #[error("{0}: both a certificate and a key file are needed")]
    HalfPair(&'static str),
    /// A CA did not load.
    #[error("{signer}: {source}")]
    Load {
        /// The signer name.
        signer: &'static str,
        /// Why.
        source: csr_authority::LoadError,
    },
}

/// Which signers run with which files: None when no CA was configured at all (the
/// controller is skipped, as upstream).
pub fn signer_files(
    flags: &SigningFlags,
) -> Result<Option<Vec<(&'static str, PathBuf, PathBuf)>>, ConfigError> {
    let per_signer = [
        (csr::KUBELET_SERVING, &flags.kubelet_serving),
        (csr::KUBE_APISERVER_CLIENT_KUBELET, &flags.kubelet_client),
        (csr::KUBE_APISERVER_CLIENT, &flags.kube_apiserver_client),
        (csr::LEGACY_UNKNOWN, &flags.legacy_unknown),
    ];
    let any_specific = per_signer.iter().any(|(_, f)| f.any());
    let default_complete = flags.default.cert.is_some() && flags.default.key.is_some();
    if !default_complete && !any_specific {
        return Ok(None);
    }
    if default_complete && any_specific {
        return Err(ConfigError::DefaultAndPerSigner);
    }
    let mut out = Vec::new();
    for (signer, files) in per_signer {
        let files = if files.any() { files } else { &flags.default };
        match (&files.cert, &files.key) {
            (Some(c), Some(k)) => out.push((signer, c.clone(), k.clone())),
            (None, None) => {}
            _ => return Err(ConfigError::HalfPair(signer)),
        }
    }
    Ok(Some(out))
}

/// What the controller runs with.
pub struct Config {
    /// One CA per signer name.
    pub signers: BTreeMap<&'static str, CertificateAuthority>,
    /// `--cluster-signing-duration`: the longest certificate issued.
    pub cluster_signing_duration: Duration,
}

impl Config {
    /// Load the CAs the flags name; None when none is configured.
    pub fn from_flags(
        flags: &SigningFlags,
        cluster_signing_duration: Duration,
    ) -> Result<Option<Config>, ConfigError> {
        let Some(files) = signer_files(flags)? else {
            return Ok(None);
        };
        let mut signers = BTreeMap::new();
        for (signer, cert, key) in files {
            let ca = CertificateAuthority::load_files(&cert, &key)
                .map_err(|source| ConfigError::Load { signer, source })?;
            signers.insert(signer, ca);
        }
        Ok(Some(Config {
            signers,
            cluster_signing_duration,
        }))
    }
}

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    #[error("unable to parse csr: {0}")]
    Request(#[from] csr::RequestError),
    #[error("error auto signing csr: {0}")]
    Sign(#[from] csr_authority::SignError),
}

struct Context {
    csrs: Api<CertificateSigningRequest>,
    config: Config,
}

/// Run until the watch ends.
pub async fn run(client: Client, config: Config) {
    tracing::info!(signers = ?config.signers.keys().collect::<Vec<_>>(), "starting csrsigning");
    let csrs: Api<CertificateSigningRequest> = Api::all(client);
    let ctx = Arc::new(Context {
        csrs: csrs.clone(),
        config,
    });
    let results =
        Controller::new(csrs, watcher::Config::default()).run(reconcile, error_policy, ctx);
    super::drain("csrsigning", results).await;
}

fn error_policy(_csr: Arc<CertificateSigningRequest>, _err: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(5))
}

/// What the signer does with a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not ours, not approved, failed or already issued.
    Skip,
    /// It breaks the signer's rules: mark it Failed with this message.
    Fail(String),
    /// Issue a certificate.
    Sign,
}

/// The condition a refused request gets.
fn failed_condition(message: String) -> CertificateSigningRequestCondition {
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    CertificateSigningRequestCondition {
        type_: csr::FAILED.into(),
        status: "True".into(),
        reason: Some(SIGNER_VALIDATION_FAILURE.into()),
        message: Some(message),
        last_update_time: Some(now.clone()),
        last_transition_time: Some(now),
    }
}

/// Judge a request for `signer_name` (a signer this controller serves).
pub fn judge(obj: &CertificateSigningRequest, req: &csr::CertificateRequest) -> Verdict {
    match csr_policy::validate_for_signer(&obj.spec.signer_name, req, &csr::usages(obj)) {
        None => Verdict::Skip,
        Some(Err(e)) => Verdict::Fail(e.to_string()),
        Some(Ok(())) => Verdict::Sign,
    }
}

/// Whether the request waits for this controller: approved, not failed, not issued.
pub fn wants_certificate(obj: &CertificateSigningRequest) -> bool {
    csr::is_approved(obj) && !csr::has_true_condition(obj, csr::FAILED) && !csr::is_issued(obj)
}

async fn reconcile(
    obj: Arc<CertificateSigningRequest>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    if !wants_certificate(&obj) {
        return Ok(Action::await_change());
    }
    let Some(ca) = ctx.config.signers.get(obj.spec.signer_name.as_str()) else {
        return Ok(Action::await_change());
    };
    let req = csr::parse_request(&obj.spec.request.0)?;
    let mut updated = (*obj).clone();
    let status = updated.status.get_or_insert_with(Default::default);
    let refusal = match judge(&obj, &req) {
        Verdict::Skip => return Ok(Action::await_change()),
        Verdict::Fail(message) => Some(message),
        Verdict::Sign => {
            let ttl = csr_authority::duration(
                obj.spec.expiration_seconds,
                ctx.config.cluster_signing_duration,
            );
            match ca.sign(&req, &csr::usages(&obj), ttl, SystemTime::now()) {
                Ok(pem) => {
                    status.certificate = Some(ByteString(pem.into_bytes()));
                    None
                }
                // A subject rcgen cannot reproduce will not get better with retries.
                Err(e @ csr_authority::SignError::Subject(_)) => Some(e.to_string()),
                Err(e) => return Err(e.into()),
            }
        }
    };
    match refusal {
        None => {
            tracing::info!(csr = %obj.name_any(), signer = %obj.spec.signer_name, "issued certificate")
        }
        Some(message) => {
            tracing::info!(csr = %obj.name_any(), %message, "request refused by its signer");
            status
                .conditions
                .get_or_insert_with(Vec::new)
                .push(failed_condition(message));
        }
    }
    match ctx
        .csrs
        .replace_status(&obj.name_any(), &PostParams::default(), &updated)
        .await
    {
        Ok(_) => Ok(Action::await_change()),
        // Changed meanwhile: the newer version comes with the watch; look again soon.
        Err(kube::Error::Api(e)) if e.code == 409 => {
            Ok(Action::requeue(Duration::from_millis(200)))
        }
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(Action::await_change()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::csr::testing::request;
    use k8s_openapi::api::certificates::v1::{
        CertificateSigningRequestSpec, CertificateSigningRequestStatus,
    };

    fn files(c: &str, k: &str) -> SigningFiles {
        SigningFiles {
            cert: Some(c.into()),
            key: Some(k.into()),
        }
    }

    #[test]
    fn flags_resolve_as_upstream() {
        assert!(signer_files(&SigningFlags::default())
            .expect("ok")
            .is_none());
        let all = signer_files(&SigningFlags {
            default: files("ca.crt", "ca.key"),
            ..Default::default()
        })
        .expect("ok")
        .expect("configured");
        assert_eq!(all.len(), 4);
        let only_client = signer_files(&SigningFlags {
            kubelet_client: files("k.crt", "k.key"),
            ..Default::default()
        })
        .expect("ok")
        .expect("configured");
        assert_eq!(
            only_client,
            vec![(
                csr::KUBE_APISERVER_CLIENT_KUBELET,
                "k.crt".into(),
                "k.key".into()
            )]
        );
        assert!(matches!(
            signer_files(&SigningFlags {
                default: files("ca.crt", "ca.key"),
                kubelet_client: files("k.crt", "k.key"),
                ..Default::default()
            }),
            Err(ConfigError::DefaultAndPerSigner)
        ));
        assert!(matches!(
            signer_files(&SigningFlags {
                kubelet_serving: SigningFiles {
                    cert: Some("s.crt".into()),
                    key: None
                },
                ..Default::default()
            }),
            Err(ConfigError::HalfPair(_))
        ));
    }

    fn obj(
        signer: &str,
        usages: &[&str],
        conds: &[&str],
    ) -> (CertificateSigningRequest, csr::CertificateRequest) {
        let (pem, _) = request("system:node:n1", &["system:nodes"], &[]);
        let req = csr::parse_request(pem.as_bytes()).expect("parse");
        let o = CertificateSigningRequest {
            spec: CertificateSigningRequestSpec {
                signer_name: signer.into(),
                request: ByteString(pem.into_bytes()),
                usages: Some(usages.iter().map(|s| s.to_string()).collect()),
                ..Default::default()
            },
            status: Some(CertificateSigningRequestStatus {
                conditions: Some(
                    conds
                        .iter()
                        .map(|t| CertificateSigningRequestCondition {
                            type_: t.to_string(),
                            status: "True".into(),
                            ..Default::default()
                        })
                        .collect(),
                ),
                certificate: None,
            }),
            ..Default::default()
        };
        (o, req)
    }

    #[test]
    fn only_approved_unfailed_unissued_requests_are_worked_on() {
        let client = ["digital signature", "client auth"];
        let (o, req) = obj(csr::KUBE_APISERVER_CLIENT_KUBELET, &client, &["Approved"]);
        assert!(wants_certificate(&o));
        assert_eq!(judge(&o, &req), Verdict::Sign);
        assert!(!wants_certificate(
            &obj(csr::KUBE_APISERVER_CLIENT_KUBELET, &client, &[]).0
        ));
        assert!(!wants_certificate(
            &obj(
                csr::KUBE_APISERVER_CLIENT_KUBELET,
                &client,
                &["Approved", "Failed"]
            )
            .0
        ));
        assert!(!wants_certificate(
            &obj(
                csr::KUBE_APISERVER_CLIENT_KUBELET,
                &client,
                &["Approved", "Denied"]
            )
            .0
        ));
        let mut issued = o.clone();
        if let Some(s) = issued.status.as_mut() {
            s.certificate = Some(ByteString(b"PEM".to_vec()));
        }
        assert!(!wants_certificate(&issued));
    }

    #[test]
    fn requests_breaking_the_signer_rules_fail() {
        // A kubelet client request asking for server auth.
        let (o, req) = obj(
            csr::KUBE_APISERVER_CLIENT_KUBELET,
            &["digital signature", "server auth"],
            &["Approved"],
        );
        assert!(
            matches!(judge(&o, &req), Verdict::Fail(m) if m.starts_with("usages did not match"))
        );
        // Serving needs a SAN.
        let (o, req) = obj(
            csr::KUBELET_SERVING,
            &["digital signature", "server auth"],
            &["Approved"],
        );
        assert_eq!(
            judge(&o, &req),
            Verdict::Fail("DNS or IP subjectAltName is required".into())
        );
        // A signer nobody built in: not ours.
        let (o, req) = obj("example.com/signer", &["client auth"], &["Approved"]);
        assert_eq!(judge(&o, &req), Verdict::Skip);
    }
}
