//! TLS bootstrap from the controller side, against a real apiserver + etcd +
//! kube-controller-manager: a bootstrap-token user's node client CSR is auto-approved
//! (csrapproving) and issued (csrsigning) and the certificate authenticates as the node;
//! requests the approver must not approve stay pending; a signer refuses a request that
//! breaks its rules; expired bootstrap tokens are deleted (tokencleaner); cluster-info gets
//! its JWS signature (bootstrapsigner).
//!
//! CSRs are made with the `openssl` CLI, so the controllers read a request from an
//! implementation other than their own.

use std::path::Path;
use std::process::Command;

use anyhow::{ensure, Context, Result};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use integration_tests::api::send;
use integration_tests::controller_manager::{get_ok, post_ok, start_controller_manager};
use integration_tests::process::Daemon;
use integration_tests::TestCluster;
use serde_json::{json, Value};

const TOKEN_ID: &str = "abcdef";
const TOKEN_SECRET: &str = "0123456789abcdef";
const BOOTSTRAP_GROUP: &str = "system:bootstrappers:kubeadm:default-node-token";
const CSRS: &str = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
const APISERVER_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client";

/// A new P-256 key and a PEM CSR for `subject` (openssl's `/O=…/CN=…` form).
fn openssl_csr(dir: &Path, name: &str, subject: &str) -> Result<(String, String)> {
    let key = dir.join(format!("{name}.key"));
    let csr = dir.join(format!("{name}.csr"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr)
        .args(["-subj", subject])
        .output()
        .context("running openssl")?;
    ensure!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((
        std::fs::read_to_string(&csr)?,
        std::fs::read_to_string(&key)?,
    ))
}

/// A bootstrap token Secret (`data` base64-encoded as the API stores it).
fn token_secret(id: &str, secret: &str, extra: &[(&str, &str)]) -> Value {
    let mut data = serde_json::Map::new();
    for (k, v) in [("token-id", id), ("token-secret", secret)]
        .iter()
        .chain(extra)
    {
        data.insert(k.to_string(), json!(STANDARD.encode(v)));
    }
    json!({"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
        "metadata": {"name": format!("bootstrap-token-{id}"), "namespace": "kube-system"},
        "data": data})
}

fn csr_object(name: &str, pem: &str, signer: &str, usages: &[&str]) -> Value {
    json!({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {"request": STANDARD.encode(pem), "signerName": signer, "usages": usages,
                 "expirationSeconds": 3600}})
}

/// An HTTPS client that trusts the cluster CA and sends `Authorization: Bearer <token>`.
fn bearer_client(cluster: &TestCluster, token: &str) -> Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse()?,
    );
    Ok(reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(
            cluster.ca().cert_pem().as_bytes(),
        )?)
        .default_headers(headers)
        .build()?)
}

/// An HTTPS client presenting `cert_pem` + `key_pem`.
fn cert_client(cluster: &TestCluster, cert_pem: &str, key_pem: &str) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(
            cluster.ca().cert_pem().as_bytes(),
        )?)
        .identity(reqwest::Identity::from_pem(
            format!("{cert_pem}{key_pem}").as_bytes(),
        )?)
        .build()?)
}

/// POST as `client`, failing unless 201.
async fn create_as(
    client: &reqwest::Client,
    cluster: &TestCluster,
    path: &str,
    obj: &Value,
) -> Result<Value> {
    let (code, body) = send(client.post(cluster.url(path)).json(obj)).await?;
    ensure!(code.is_success(), "POST {path}: {code} {body}");
    Ok(body)
}

/// Create (admin) unless it exists: the ClusterRoles and bindings kubeadm sets up for TLS
/// bootstrap (upstream's roles may already be in the bootstrap policy).
async fn kubeadm_bootstrap_rbac(cluster: &TestCluster) -> Result<()> {
    let roles = [
        (
            "system:node-bootstrapper",
            "certificatesigningrequests",
            vec!["create", "get", "list", "watch"],
        ),
        (
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            "certificatesigningrequests/nodeclient",
            vec!["create"],
        ),
        (
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            "certificatesigningrequests/selfnodeclient",
            vec!["create"],
        ),
    ];
    for (name, resource, verbs) in roles {
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": [{"apiGroups": ["certificates.k8s.io"], "resources": [resource], "verbs": verbs}]});
        let (code, body) = cluster
            .post_json("/apis/rbac.authorization.k8s.io/v1/clusterroles", &role)
            .await?;
        ensure!(
            code.is_success() || code.as_u16() == 409,
            "{name}: {code} {body}"
        );
    }
    let bindings = [
        (
            "kubeadm:kubelet-bootstrap",
            "system:node-bootstrapper",
            BOOTSTRAP_GROUP,
        ),
        (
            "kubeadm:node-autoapprove-bootstrap",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            BOOTSTRAP_GROUP,
        ),
        (
            "kubeadm:node-autoapprove-certificate-rotation",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            "system:nodes",
        ),
    ];
    for (name, role, group) in bindings {
        post_ok(
            cluster,
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]}),
        )
        .await?;
    }
    Ok(())
}

/// The controller manager with csrapproving + csrsigning, signing with the cluster CA.
fn start_csr_controllers(cluster: &TestCluster) -> Result<Daemon> {
    let pki = cluster.dir().join("pki");
    let cert = format!(
        "--cluster-signing-cert-file={}",
        pki.join("ca.crt").display()
    );
    let key = format!(
        "--cluster-signing-key-file={}",
        pki.join("ca.key").display()
    );
    start_controller_manager(
        cluster,
        &[
            "--controllers=csrapproving,csrsigning",
            &cert,
            &key,
            "--leader-elect=false",
        ],
    )
}

fn conditions(csr: &Value) -> Vec<(String, String)> {
    csr["status"]["conditions"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        c["type"].as_str().unwrap_or_default().to_string(),
                        c["reason"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Wait for `status.certificate` of CSR `name` and return it (PEM).
async fn issued_certificate(cm: &Daemon, cluster: &TestCluster, name: &str) -> Result<String> {
    let path = format!("{CSRS}/{name}");
    cm.eventually(&format!("a certificate for {name}"), || async {
        let body = get_ok(cluster, &path).await?;
        Ok(body["status"]["certificate"]
            .as_str()
            .filter(|c| !c.is_empty())
            .map(str::to_string))
    })
    .await
    .and_then(|b64| Ok(String::from_utf8(STANDARD.decode(b64)?)?))
}

/// Approve CSR `name` as the admin (what `kubectl certificate approve` does).
async fn approve_as_admin(cluster: &TestCluster, name: &str) -> Result<()> {
    let mut csr = get_ok(cluster, &format!("{CSRS}/{name}")).await?;
    csr["status"]["conditions"] = json!([{"type": "Approved", "status": "True",
        "reason": "TestApproved", "message": "approved by the test"}]);
    let (code, body) = cluster
        .put_json(&format!("{CSRS}/{name}/approval"), &csr)
        .await?;
    ensure!(code.is_success(), "approve {name}: {code} {body}");
    Ok(())
}

#[tokio::test]
async fn bootstrap_token_node_client_csr_is_approved_and_issued() -> Result<()> {
    let cluster = TestCluster::start_with_args(&["--enable-bootstrap-token-auth"]).await?;
    kubeadm_bootstrap_rbac(&cluster).await?;
    post_ok(
        &cluster,
        "/api/v1/namespaces/kube-system/secrets",
        &token_secret(
            TOKEN_ID,
            TOKEN_SECRET,
            &[
                ("usage-bootstrap-authentication", "true"),
                ("auth-extra-groups", BOOTSTRAP_GROUP),
            ],
        ),
    )
    .await?;
    // alice may create CSRs but has no nodeclient permission.
    post_ok(
        &cluster,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "alice-csr"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "system:node-bootstrapper"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]}),
    )
    .await?;
    let cm = start_csr_controllers(&cluster)?;
    let dir = cluster.dir();
    let bootstrap = bearer_client(&cluster, &format!("{TOKEN_ID}.{TOKEN_SECRET}"))?;
    let alice = cluster.client_for("alice", &[])?;
    let node_usages = ["digital signature", "client auth"];

    // Made first, so by the time the node's CSR is issued the controllers have seen them.
    let (alice_pem, _) = openssl_csr(dir, "alice", "/O=system:nodes/CN=system:node:worker-2")?;
    let created = create_as(
        &alice,
        &cluster,
        CSRS,
        &csr_object(
            "alice-node-csr",
            &alice_pem,
            KUBELET_CLIENT_SIGNER,
            &node_usages,
        ),
    )
    .await?;
    assert_eq!(created["spec"]["username"], "alice");
    let (other_pem, other_key) =
        openssl_csr(dir, "other", "/O=system:nodes/CN=system:node:worker-1")?;
    create_as(
        &bootstrap,
        &cluster,
        CSRS,
        &csr_object(
            "apiserver-client-csr",
            &other_pem,
            APISERVER_CLIENT_SIGNER,
            &node_usages,
        ),
    )
    .await?;

    let (node_pem, node_key) = openssl_csr(dir, "node", "/O=system:nodes/CN=system:node:worker-1")?;
    let created = create_as(
        &bootstrap,
        &cluster,
        CSRS,
        &csr_object(
            "node-csr-worker-1",
            &node_pem,
            KUBELET_CLIENT_SIGNER,
            &node_usages,
        ),
    )
    .await?;
    assert_eq!(
        created["spec"]["username"],
        format!("system:bootstrap:{TOKEN_ID}")
    );

    let cert = issued_certificate(&cm, &cluster, "node-csr-worker-1").await?;
    let csr = get_ok(&cluster, &format!("{CSRS}/node-csr-worker-1")).await?;
    assert_eq!(
        conditions(&csr),
        vec![("Approved".to_string(), "AutoApproved".to_string())]
    );
    assert_eq!(
        csr["status"]["conditions"][0]["message"],
        "Auto approving kubelet client certificate after SubjectAccessReview."
    );

    // The certificate authenticates as the node.
    let node = cert_client(&cluster, &cert, &node_key)?;
    let review = create_as(
        &node,
        &cluster,
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}),
    )
    .await?;
    assert_eq!(
        review["status"]["userInfo"]["username"],
        "system:node:worker-1"
    );
    let groups = review["status"]["userInfo"]["groups"].to_string();
    assert!(groups.contains("\"system:nodes\""), "{groups}");

    // Neither alice's request (no nodeclient permission) nor the one for another signer was
    // approved.
    for name in ["alice-node-csr", "apiserver-client-csr"] {
        let csr = get_ok(&cluster, &format!("{CSRS}/{name}")).await?;
        assert!(conditions(&csr).is_empty(), "{name}: {}", csr["status"]);
        assert!(csr["status"]["certificate"].is_null(), "{name}");
    }
    // Approved by hand, the kube-apiserver-client signer issues too.
    approve_as_admin(&cluster, "apiserver-client-csr").await?;
    let other_cert = issued_certificate(&cm, &cluster, "apiserver-client-csr").await?;
    let other = cert_client(&cluster, &other_cert, &other_key)?;
    let review = create_as(
        &other,
        &cluster,
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}),
    )
    .await?;
    assert_eq!(
        review["status"]["userInfo"]["username"],
        "system:node:worker-1"
    );
    Ok(())
}

#[tokio::test]
async fn a_request_breaking_its_signer_rules_fails() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_csr_controllers(&cluster)?;
    let (pem, _) = openssl_csr(
        cluster.dir(),
        "bad",
        "/O=system:nodes/CN=system:node:worker-3",
    )?;
    // A kubelet client certificate may not be a serving certificate.
    post_ok(
        &cluster,
        CSRS,
        &csr_object(
            "bad-usages",
            &pem,
            KUBELET_CLIENT_SIGNER,
            &["digital signature", "client auth", "server auth"],
        ),
    )
    .await?;
    approve_as_admin(&cluster, "bad-usages").await?;
    let csr = cm
        .eventually("a Failed condition", || async {
            let csr = get_ok(&cluster, &format!("{CSRS}/bad-usages")).await?;
            Ok(conditions(&csr)
                .iter()
                .any(|(t, _)| t == "Failed")
                .then_some(csr))
        })
        .await?;
    let failed = csr["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Failed"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(failed["reason"], "SignerValidationFailure");
    assert_eq!(failed["status"], "True");
    assert!(
        failed["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("usages did not match"),
        "{failed}"
    );
    assert!(csr["status"]["certificate"].is_null());
    Ok(())
}

/// RFC 3339 (UTC, seconds) `offset_secs` from now, via date(1).
fn rfc3339_in(offset_secs: i64) -> Result<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let out = Command::new("date")
        .args([
            "-u",
            "-d",
            &format!("@{}", now + offset_secs),
            "+%Y-%m-%dT%H:%M:%SZ",
        ])
        .output()?;
    ensure!(out.status.success(), "date failed");
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

#[tokio::test]
async fn expired_bootstrap_tokens_are_deleted() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let secrets = "/api/v1/namespaces/kube-system/secrets";
    let soon = rfc3339_in(4)?;
    for (id, exp) in [
        ("old000", Some("2000-01-01T00:00:00Z")),
        ("soon00", Some(soon.as_str())),
        ("keep00", None),
    ] {
        let extra: Vec<(&str, &str)> = exp.map(|e| ("expiration", e)).into_iter().collect();
        post_ok(&cluster, secrets, &token_secret(id, TOKEN_SECRET, &extra)).await?;
    }
    // A Secret of another type with a past "expiration" is none of the cleaner's business.
    post_ok(
        &cluster,
        secrets,
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bootstrap-token-opaque"},
            "type": "Opaque", "data": {"expiration": STANDARD.encode("2000-01-01T00:00:00Z")}}),
    )
    .await?;
    let cm = start_controller_manager(
        &cluster,
        &["--controllers=tokencleaner", "--leader-elect=false"],
    )?;
    for id in ["old000", "soon00"] {
        cm.eventually(&format!("bootstrap-token-{id} deleted"), || async {
            let (code, _) = cluster
                .get_json(&format!("{secrets}/bootstrap-token-{id}"))
                .await?;
            Ok((code.as_u16() == 404).then_some(()))
        })
        .await?;
    }
    for name in ["bootstrap-token-keep00", "bootstrap-token-opaque"] {
        get_ok(&cluster, &format!("{secrets}/{name}")).await?;
    }
    Ok(())
}

/// The detached JWS upstream's cluster-bootstrap computes: HS256 keyed by the token secret
/// (upstream zero-pads it to 32 bytes; HMAC zero-pads short keys itself, so the bare secret
/// gives the same tag).
fn detached_jws(content: &str, id: &str, secret: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(format!("{{\"alg\":\"HS256\",\"kid\":\"{id}\"}}"));
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(content));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, input.as_bytes());
    format!("{header}..{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

#[tokio::test]
async fn cluster_info_is_signed_for_signing_tokens() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: \"\"\n  cluster:\n    server: {}\n",
        cluster.base_url()
    );
    let cluster_info = "/api/v1/namespaces/kube-public/configmaps/cluster-info";
    post_ok(
        &cluster,
        "/api/v1/namespaces/kube-public/configmaps",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cluster-info"},
            "data": {"kubeconfig": kubeconfig, "jws-kubeconfig-stale0": "left over"}}),
    )
    .await?;
    let secrets = "/api/v1/namespaces/kube-system/secrets";
    post_ok(
        &cluster,
        secrets,
        &token_secret(
            TOKEN_ID,
            TOKEN_SECRET,
            &[("usage-bootstrap-signing", "true")],
        ),
    )
    .await?;
    // Authentication only: no signature for it.
    post_ok(
        &cluster,
        secrets,
        &token_secret(
            "auth00",
            TOKEN_SECRET,
            &[("usage-bootstrap-authentication", "true")],
        ),
    )
    .await?;
    let cm = start_controller_manager(
        &cluster,
        &["--controllers=bootstrapsigner", "--leader-elect=false"],
    )?;
    let key = format!("jws-kubeconfig-{TOKEN_ID}");
    let data = cm
        .eventually("cluster-info signed", || async {
            let cm = get_ok(&cluster, cluster_info).await?;
            Ok(cm["data"].get(&key).is_some().then(|| cm["data"].clone()))
        })
        .await?;
    assert_eq!(
        data[&key],
        detached_jws(&kubeconfig, TOKEN_ID, TOKEN_SECRET)
    );
    let keys: Vec<&str> = data
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        vec![key.as_str(), "kubeconfig"],
        "stale and non-signing tokens have no key"
    );

    // The token goes: so does its signature.
    let (code, body) = cluster
        .delete(&format!("{secrets}/bootstrap-token-{TOKEN_ID}"))
        .await?;
    ensure!(code.is_success(), "delete: {code} {body}");
    cm.eventually("the signature removed", || async {
        let cm = get_ok(&cluster, cluster_info).await?;
        Ok(cm["data"].get(&key).is_none().then_some(()))
    })
    .await?;
    Ok(())
}
