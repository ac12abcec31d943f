//! TLS bootstrapping (`--bootstrap-kubeconfig`), as upstream's kubelet does it: a node that
//! joins holds only a bootstrap token and the cluster CA, never the CA's key. At start:
//!
//! 1. `--kubeconfig` exists and its client certificates are unexpired → nothing to do.
//! 2. `<cert-dir>/kubelet-client-current.pem` is unexpired → write `--kubeconfig` for it.
//! 3. Otherwise: a key (kept in `kubelet-client.key.tmp` until done, so a restart reuses the
//!    same CSR), a CertificateSigningRequest for `system:node:<node>` posted with the
//!    bootstrap credentials to the `kubernetes.io/kube-apiserver-client-kubelet` signer,
//!    then wait until it is approved and signed (denied or failed: an error naming the
//!    reason); store certificate + key, write `--kubeconfig` with the bootstrap file's
//!    server and CA.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::api::PostParams;
use kube::Api;
use rcgen::{KeyPair, PublicKeyData};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::csr::{self, CsrState, NodeClientRequest};
use super::kubeconfig::{bootstrap_cluster, client_config_valid, write_client_kubeconfig};
use super::store::{certificates_valid_at, pem_certificates, write_private, ClientCertStore};
use super::CertificateError;

/// How long the kubelet waits for its CSR to be approved and signed.
pub const CERTIFICATE_WAIT_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Between two reads of the CSR, and between retries of a request the apiserver did not
/// answer.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// What the bootstrap needs (the kubelet's flags).
#[derive(Clone, Debug)]
pub struct BootstrapConfig {
    /// `--kubeconfig`: written once a certificate is held.
    pub kubeconfig: PathBuf,
    /// `--bootstrap-kubeconfig`: server, CA and the bootstrap token.
    pub bootstrap_kubeconfig: PathBuf,
    /// `--cert-dir`.
    pub cert_dir: PathBuf,
    /// The node name the certificate is for.
    pub node_name: String,
    /// How long to wait for the certificate.
    pub timeout: Duration,
}

/// What the bootstrap did (logged by the caller; tests read it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// `--kubeconfig` was already usable.
    KubeconfigValid,
    /// A stored certificate was still valid; `--kubeconfig` was rewritten for it.
    ReusedStoredCertificate,
    /// A new certificate was issued through the named CSR.
    Issued { csr_name: String },
}

/// Makes sure `--kubeconfig` holds a valid client certificate, requesting one with the
/// bootstrap credentials when it does not.
pub async fn load_client_cert(
    config: &BootstrapConfig,
) -> Result<BootstrapOutcome, CertificateError> {
    load_client_cert_with(config, None).await
}

/// [`load_client_cert`], talking through `client` instead of one built from the bootstrap
/// kubeconfig when given (tests).
async fn load_client_cert_with(
    config: &BootstrapConfig,
    client: Option<kube::Client>,
) -> Result<BootstrapOutcome, CertificateError> {
    if client_config_valid(&config.kubeconfig, Utc::now()) {
        return Ok(BootstrapOutcome::KubeconfigValid);
    }
    let cluster = bootstrap_cluster(&config.bootstrap_kubeconfig)?;
    let store = ClientCertStore::new(&config.cert_dir);
    if store
        .current_pem()
        .is_some_and(|pem| certificates_valid_at(&pem, Utc::now()))
    {
        write_client_kubeconfig(&config.kubeconfig, &cluster, &store.current_path())?;
        return Ok(BootstrapOutcome::ReusedStoredCertificate);
    }
    let key = pending_key(&store)?;
    let client = match client {
        Some(client) => client,
        None => bootstrap_client(config).await?,
    };
    let request = csr::node_client_request(&key, &config.node_name)?;
    tracing::info!(csr = %request.name, node = %config.node_name, signer = csr::KUBELET_CLIENT_SIGNER,
        "requesting a client certificate with the bootstrap credentials");
    let cert_pem = request_certificate(&client, &request, config.timeout).await?;
    check_issued(&request.name, &cert_pem, &key)?;
    let pem_path = store.update(&cert_pem, &key.serialize_pem(), Utc::now())?;
    let _ = std::fs::remove_file(store.pending_key_path());
    write_client_kubeconfig(&config.kubeconfig, &cluster, &pem_path)?;
    Ok(BootstrapOutcome::Issued {
        csr_name: request.name,
    })
}

/// The key of a bootstrap in progress, or a new one saved for the next attempt.
fn pending_key(store: &ClientCertStore) -> Result<KeyPair, CertificateError> {
    let path = store.pending_key_path();
    if let Ok(pem) = std::fs::read_to_string(&path) {
        match csr::parse_key(&pem) {
            Ok(key) => return Ok(key),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding an unreadable pending key")
            }
        }
    }
    let key = csr::generate_key()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(CertificateError::io(dir))?;
    }
    write_private(&path, key.serialize_pem().as_bytes())?;
    Ok(key)
}

async fn bootstrap_client(config: &BootstrapConfig) -> Result<kube::Client, CertificateError> {
    let path = &config.bootstrap_kubeconfig;
    let bad = |reason: String| CertificateError::Kubeconfig {
        path: path.clone(),
        reason,
    };
    let kubeconfig = kube::config::Kubeconfig::read_from(path).map_err(|e| bad(e.to_string()))?;
    let client_config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .map_err(|e| bad(e.to_string()))?;
    kube::Client::try_from(client_config).map_err(|source| CertificateError::Api {
        action: "building the bootstrap client".into(),
        source,
    })
}

/// A refusal that retrying will not change: bad credentials (401), no permission (403),
/// an invalid request (400, 422).
fn is_final(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(s) if matches!(s.code, 400 | 401 | 403 | 422))
}

/// Posts the CSR (or adopts the identical one a previous attempt posted) and waits for its
/// certificate.
async fn request_certificate(
    client: &kube::Client,
    request: &NodeClientRequest,
    timeout: Duration,
) -> Result<Vec<u8>, CertificateError> {
    let api: Api<CertificateSigningRequest> = Api::all(client.clone());
    let deadline = Instant::now() + timeout;
    let name = request.name.clone();
    let api_error = |action: &str, source| CertificateError::Api {
        action: format!("{action} certificate signing request {name}"),
        source,
    };
    loop {
        match api
            .create(&PostParams::default(), &csr::csr_object(request))
            .await
        {
            Ok(_) => break,
            Err(kube::Error::Api(s)) if s.code == 409 => {
                let existing = api
                    .get(&request.name)
                    .await
                    .map_err(|e| api_error("reading the existing", e))?;
                if !csr::same_request(&existing, request) {
                    return Err(CertificateError::BadCertificate {
                        name: request.name.clone(),
                        reason: "a different request already has this name".into(),
                    });
                }
                tracing::info!(csr = %request.name, "the request was already posted; waiting for it");
                break;
            }
            Err(e) if is_final(&e) => return Err(api_error("creating", e)),
            Err(e) => {
                if Instant::now() >= deadline {
                    return Err(api_error("creating", e));
                }
                tracing::warn!(error = %e, "posting the certificate signing request; retrying");
            }
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    let mut logged_approval = false;
    loop {
        match api.get(&request.name).await {
            Ok(current) => match csr::csr_state(&current) {
                CsrState::Issued(pem) => {
                    tracing::info!(csr = %request.name, "certificate signing request approved and issued");
                    return Ok(pem);
                }
                CsrState::Denied { reason, message } => {
                    return Err(CertificateError::Denied {
                        name: request.name.clone(),
                        reason,
                        message,
                    })
                }
                CsrState::Failed { reason, message } => {
                    return Err(CertificateError::Failed {
                        name: request.name.clone(),
                        reason,
                        message,
                    })
                }
                CsrState::Approved if !logged_approval => {
                    logged_approval = true;
                    tracing::info!(csr = %request.name, "certificate signing request approved, waiting to be issued");
                }
                CsrState::Approved | CsrState::Pending => {}
            },
            Err(e) if is_final(&e) => return Err(api_error("reading", e)),
            Err(e) => {
                tracing::warn!(error = %e, "reading the certificate signing request; retrying")
            }
        }
        if Instant::now() >= deadline {
            return Err(CertificateError::Timeout {
                name: request.name.clone(),
                seconds: timeout.as_secs(),
                state: if logged_approval {
                    "issued"
                } else {
                    "approved"
                },
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The issued certificate must carry our public key and be valid now; anything else could
/// not be used (or is not ours).
fn check_issued(name: &str, cert_pem: &[u8], key: &KeyPair) -> Result<(), CertificateError> {
    let bad = |reason: String| CertificateError::BadCertificate {
        name: name.to_string(),
        reason,
    };
    let certs = pem_certificates(cert_pem).map_err(|e| bad(e.to_string()))?;
    let leaf = certs
        .first()
        .ok_or_else(|| bad("no certificate in status.certificate".into()))?;
    let (_, cert) = X509Certificate::from_der(leaf).map_err(|e| bad(e.to_string()))?;
    if cert.public_key().raw != key.subject_public_key_info().as_slice() {
        return Err(bad("its public key is not the requested one".into()));
    }
    if !certificates_valid_at(cert_pem, Utc::now()) {
        return Err(bad("it has expired".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued_for(key: &KeyPair) -> Vec<u8> {
        // The CA signs a certificate for our key, as the csrsigning controller would.
        let ca = common::pki::Ca::generate("kubernetes").unwrap();
        let ca_key = KeyPair::from_pem(ca.key_pem()).unwrap();
        let issuer = rcgen::Issuer::from_ca_cert_pem(ca.cert_pem(), ca_key).unwrap();
        let mut params = rcgen::CertificateParams::default();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "system:node:w1");
        params.signed_by(key, &issuer).unwrap().pem().into_bytes()
    }

    #[test]
    fn issued_certificate_must_carry_our_key() {
        let key = csr::generate_key().unwrap();
        let ours = issued_for(&key);
        check_issued("node-csr-x", &ours, &key).unwrap();
        let other = csr::generate_key().unwrap();
        let err = check_issued("node-csr-x", &ours, &other)
            .unwrap_err()
            .to_string();
        assert!(err.contains("public key"), "{err}");
        assert!(check_issued("node-csr-x", b"", &key).is_err());
    }

    #[test]
    fn pending_key_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = ClientCertStore::new(dir.path());
        let first = pending_key(&store).unwrap();
        let again = pending_key(&store).unwrap();
        assert_eq!(first.serialize_pem(), again.serialize_pem());
        std::fs::write(store.pending_key_path(), "garbage").unwrap();
        let fresh = pending_key(&store).unwrap();
        assert_ne!(fresh.serialize_pem(), first.serialize_pem());
    }

    #[tokio::test]
    async fn a_stored_certificate_is_reused_without_the_apiserver() {
        let dir = tempfile::tempdir().unwrap();
        let ca = common::pki::Ca::generate("kubernetes").unwrap();
        let bootstrap = dir.path().join("bootstrap-kubelet.conf");
        // The server is unreachable: only a path that never calls it can succeed.
        std::fs::write(
            &bootstrap,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority-data: {}\nusers:\n- name: u\n  user:\n    token: abcdef.0123456789abcdef\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n",
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, ca.cert_pem())
            ),
        )
        .unwrap();
        let cert = ca
            .issue_client("system:node:w1", &["system:nodes".into()])
            .unwrap();
        let cert_dir = dir.path().join("pki");
        ClientCertStore::new(&cert_dir)
            .update(cert.cert_pem.as_bytes(), &cert.key_pem, Utc::now())
            .unwrap();
        let config = BootstrapConfig {
            kubeconfig: dir.path().join("kubelet.conf"),
            bootstrap_kubeconfig: bootstrap,
            cert_dir,
            node_name: "w1".into(),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(
            load_client_cert(&config).await.unwrap(),
            BootstrapOutcome::ReusedStoredCertificate
        );
        assert_eq!(
            load_client_cert(&config).await.unwrap(),
            BootstrapOutcome::KubeconfigValid
        );
    }

    /// A fake apiserver for the CSR flow: POST stores the CSR; from the second GET on it is
    /// answered as `verdict` says (approved and signed by `ca`, or denied).
    fn fake_apiserver(
        ca: common::pki::Ca,
        deny: bool,
        posted: std::sync::Arc<std::sync::Mutex<Vec<CertificateSigningRequest>>>,
    ) -> kube::Client {
        use http_body_util::BodyExt;
        let gets = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let service = tower::service_fn(move |req: http::Request<kube::client::Body>| {
            let posted = posted.clone();
            let gets = gets.clone();
            let ca_cert = ca.cert_pem().to_string();
            let ca_key = ca.key_pem().to_string();
            async move {
                let method = req.method().clone();
                let path = req.uri().path().to_string();
                let body = req.into_body().collect().await.unwrap().to_bytes();
                let base = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
                let reply = |code: u16, value: serde_json::Value| {
                    http::Response::builder()
                        .status(code)
                        .header("content-type", "application/json")
                        .body(http_body_util::Full::new(bytes::Bytes::from(
                            value.to_string(),
                        )))
                        .unwrap()
                };
                if method == http::Method::POST && path == base {
                    let csr: CertificateSigningRequest = serde_json::from_slice(&body).unwrap();
                    posted.lock().unwrap().push(csr.clone());
                    return Ok::<_, std::convert::Infallible>(reply(
                        201,
                        serde_json::to_value(&csr).unwrap(),
                    ));
                }
                let mut csr = posted.lock().unwrap().last().cloned().unwrap();
                assert_eq!(
                    path,
                    format!("{base}/{}", csr.metadata.name.clone().unwrap())
                );
                if gets.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 1 {
                    let pem = String::from_utf8(csr.spec.request.0.clone()).unwrap();
                    let request = rcgen::CertificateSigningRequestParams::from_pem(&pem).unwrap();
                    let issuer = rcgen::Issuer::from_ca_cert_pem(
                        &ca_cert,
                        KeyPair::from_pem(&ca_key).unwrap(),
                    )
                    .unwrap();
                    let (kind, certificate) = if deny {
                        ("Denied", None)
                    } else {
                        let cert = request.signed_by(&issuer).unwrap();
                        (
                            "Approved",
                            Some(k8s_openapi::ByteString(cert.pem().into_bytes())),
                        )
                    };
                    csr.status = Some(
                        k8s_openapi::api::certificates::v1::CertificateSigningRequestStatus {
                            conditions: Some(vec![
                            k8s_openapi::api::certificates::v1::CertificateSigningRequestCondition {
                                type_: kind.into(),
                                status: "True".into(),
                                reason: Some(format!("Test{kind}")),
                                message: Some("decided by the test".into()),
                                ..Default::default()
                            },
                        ]),
                            certificate,
                        },
                    );
                }
                Ok(reply(200, serde_json::to_value(&csr).unwrap()))
            }
        });
        kube::Client::new(service, "default")
    }

    fn bootstrap_files(dir: &std::path::Path, ca: &common::pki::Ca) -> BootstrapConfig {
        let bootstrap = dir.join("bootstrap-kubelet.conf");
        std::fs::write(
            &bootstrap,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443\n    certificate-authority-data: {}\nusers:\n- name: u\n  user:\n    token: abcdef.0123456789abcdef\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n",
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, ca.cert_pem())
            ),
        )
        .unwrap();
        BootstrapConfig {
            kubeconfig: dir.join("kubelet.conf"),
            bootstrap_kubeconfig: bootstrap,
            cert_dir: dir.join("pki"),
            node_name: "w1".into(),
            timeout: Duration::from_secs(30),
        }
    }

    #[tokio::test]
    async fn csr_approved_and_signed_becomes_the_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        let ca = common::pki::Ca::generate("kubernetes").unwrap();
        let config = bootstrap_files(dir.path(), &ca);
        let posted = Default::default();
        let client = fake_apiserver(
            common::pki::Ca::load(ca.cert_pem(), ca.key_pem()).unwrap(),
            false,
            std::sync::Arc::clone(&posted),
        );
        let outcome = load_client_cert_with(&config, Some(client)).await.unwrap();
        let posted = posted.lock().unwrap().clone();
        assert_eq!(posted.len(), 1);
        let csr = &posted[0];
        assert_eq!(
            outcome,
            BootstrapOutcome::Issued {
                csr_name: csr.metadata.name.clone().unwrap()
            }
        );
        assert_eq!(csr.spec.signer_name, csr::KUBELET_CLIENT_SIGNER);
        // The kubeconfig now names the stored certificate; the pending key is gone.
        let store = ClientCertStore::new(&config.cert_dir);
        assert!(!store.pending_key_path().exists());
        let kubeconfig = std::fs::read_to_string(&config.kubeconfig).unwrap();
        assert!(kubeconfig.contains(store.current_path().to_str().unwrap()));
        assert!(kubeconfig.contains("https://10.0.0.1:6443"));
        assert!(!kubeconfig.contains("abcdef.0123456789abcdef"));
        assert!(client_config_valid(&config.kubeconfig, Utc::now()));
        let pem = store.current_pem().unwrap();
        let certs = pem_certificates(&pem).unwrap();
        let (_, leaf) = X509Certificate::from_der(&certs[0]).unwrap();
        assert_eq!(
            leaf.subject()
                .iter_common_name()
                .next()
                .unwrap()
                .as_str()
                .unwrap(),
            "system:node:w1"
        );
    }

    #[tokio::test]
    async fn denied_csr_is_an_error_naming_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let ca = common::pki::Ca::generate("kubernetes").unwrap();
        let config = bootstrap_files(dir.path(), &ca);
        let client = fake_apiserver(
            common::pki::Ca::load(ca.cert_pem(), ca.key_pem()).unwrap(),
            true,
            Default::default(),
        );
        let err = load_client_cert_with(&config, Some(client))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("is denied, reason: TestDenied"), "{err}");
        assert!(!config.kubeconfig.exists());
        // The key stays for the next attempt (same CSR name).
        assert!(ClientCertStore::new(&config.cert_dir)
            .pending_key_path()
            .exists());
    }
}
