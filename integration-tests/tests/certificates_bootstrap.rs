//! TLS bootstrapping against a real apiserver + etcd: bootstrap tokens
//! (`--enable-bootstrap-token-auth`) authenticate from their kube-system Secrets, and
//! certificates.k8s.io/v1 CertificateSigningRequests record their requestor, are validated,
//! approved (CertificateApproval admission; the real `kubectl certificate approve|deny`),
//! issued through `/status` and printed by `kubectl get csr` with upstream's columns.

use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use base64::Engine;
use integration_tests::api::send;
use integration_tests::{status_of, TestCluster};
use reqwest::StatusCode;
use serde_json::{json, Value};

const FLAGS: &[&str] = &["--enable-bootstrap-token-auth"];
const CSRS: &str = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
const KUBELET_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A bootstrap token Secret as kubeadm writes it (`data` base64-encoded).
fn token_secret(id: &str, secret: &str, extra: &[(&str, &str)]) -> Value {
    let mut data = serde_json::Map::new();
    data.insert("token-id".into(), json!(b64(id)));
    data.insert("token-secret".into(), json!(b64(secret)));
    for (k, v) in extra {
        data.insert(k.to_string(), json!(b64(v)));
    }
    json!({"metadata": {"name": format!("bootstrap-token-{id}"), "namespace": "kube-system"},
           "type": "bootstrap.kubernetes.io/token", "data": data})
}

async fn create_secret(cluster: &TestCluster, secret: &Value) -> Result<()> {
    let (status, body) = cluster
        .post_json("/api/v1/namespaces/kube-system/secrets", secret)
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Ok(())
}

/// POST a SelfSubjectReview with `token`.
async fn who_am_i(cluster: &TestCluster, token: &str) -> Result<(StatusCode, Value)> {
    let client = cluster.anonymous_client()?;
    send(
        client
            .post(cluster.url("/apis/authentication.k8s.io/v1/selfsubjectreviews"))
            .bearer_auth(token)
            .json(&json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})),
    )
    .await
}

/// Retry `check` until it returns Some (the watch cache, which the authenticator and the
/// RBAC index read, follows etcd a moment behind a write).
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    for _ in 0..100 {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("timed out waiting for: {what}")
}

/// A PEM certificate request for `subject` (e.g. `/O=system:nodes/CN=system:node:n1`), made
/// by openssl with a fresh P-256 key.
fn csr_pem(dir: &std::path::Path, subject: &str) -> Result<String> {
    let key = dir.join(format!("csr-{}.key", subject.replace(['/', ':', '='], "_")));
    let out = Command::new("openssl")
        .args([
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-subj", subject, "-keyout"])
        .arg(&key)
        .output()
        .context("run openssl")?;
    if !out.status.success() {
        bail!("openssl: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn csr_object(name: &str, pem: &str, signer: &str, usages: &[&str]) -> Value {
    json!({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {"request": b64(pem), "signerName": signer, "usages": usages,
                 "expirationSeconds": 86400,
                 // The server replaces what the client claims about itself.
                 "username": "somebody-else", "groups": ["system:masters"]}})
}

fn kubectl(cluster: &TestCluster, args: &[&str]) -> Result<String> {
    cluster.real_kubectl().run(args)
}

fn causes(body: &Value) -> Vec<String> {
    body["details"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["field"].as_str().map(String::from))
        .collect()
}

#[tokio::test]
async fn bootstrap_tokens_authenticate_from_their_secrets() -> Result<()> {
    let cluster = TestCluster::start_with_args(FLAGS).await?;
    let usage = ("usage-bootstrap-authentication", "true");
    let extra = (
        "auth-extra-groups",
        "system:bootstrappers:kubeadm:default-node-token",
    );
    create_secret(
        &cluster,
        &token_secret(
            "abcdef",
            "0123456789abcdef",
            &[usage, extra, ("expiration", "2099-01-01T00:00:00Z")],
        ),
    )
    .await?;
    create_secret(
        &cluster,
        &token_secret(
            "expird",
            "0123456789abcdef",
            &[usage, ("expiration", "2020-01-01T00:00:00Z")],
        ),
    )
    .await?;
    create_secret(&cluster, &token_secret("nousag", "0123456789abcdef", &[])).await?;

    let user = eventually("the bootstrap token authenticates", || async {
        let (status, body) = who_am_i(&cluster, "abcdef.0123456789abcdef").await?;
        Ok((status == StatusCode::CREATED).then_some(body))
    })
    .await?;
    let info = &user["status"]["userInfo"];
    assert_eq!(info["username"], "system:bootstrap:abcdef", "{user}");
    let groups: Vec<&str> = info["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        groups,
        [
            "system:bootstrappers",
            "system:bootstrappers:kubeadm:default-node-token",
            "system:authenticated"
        ]
    );

    for (token, why) in [
        ("abcdef.0123456789abcdeX", "wrong secret"),
        ("expird.0123456789abcdef", "expired"),
        ("nousag.0123456789abcdef", "not marked for authentication"),
        ("zzzzzz.0123456789abcdef", "no such secret"),
    ] {
        let (status, body) = who_am_i(&cluster, token).await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
        assert_eq!(status_of(&body), Some((401, "Unauthorized".to_string())));
    }

    // TokenReview knows bootstrap tokens too.
    let (status, review) = cluster
        .post_json(
            "/apis/authentication.k8s.io/v1/tokenreviews",
            &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                    "spec": {"token": "abcdef.0123456789abcdef"}}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    assert_eq!(review["status"]["authenticated"], true, "{review}");
    assert_eq!(
        review["status"]["user"]["username"],
        "system:bootstrap:abcdef"
    );

    // Deleting the Secret revokes the token.
    cluster
        .delete("/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef")
        .await?;
    eventually("the deleted token is refused", || async {
        let (status, _) = who_am_i(&cluster, "abcdef.0123456789abcdef").await?;
        Ok((status == StatusCode::UNAUTHORIZED).then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn bootstrap_tokens_are_off_by_default() -> Result<()> {
    let cluster = TestCluster::start().await?;
    create_secret(
        &cluster,
        &token_secret(
            "abcdef",
            "0123456789abcdef",
            &[("usage-bootstrap-authentication", "true")],
        ),
    )
    .await?;
    // Give the watch cache time to see the Secret, so a 401 is not just cache lag.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, body) = who_am_i(&cluster, "abcdef.0123456789abcdef").await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    Ok(())
}

#[tokio::test]
async fn csrs_are_created_by_bootstrappers_approved_and_issued() -> Result<()> {
    let cluster = TestCluster::start_with_args(FLAGS).await?;
    // Discovery knows the resource, its short name and subresources.
    let (_, list) = cluster.get_json("/apis/certificates.k8s.io/v1").await?;
    let names: Vec<&str> = list["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"certificatesigningrequests"), "{list}");
    assert!(
        names.contains(&"certificatesigningrequests/approval"),
        "{list}"
    );
    assert!(
        names.contains(&"certificatesigningrequests/status"),
        "{list}"
    );
    let (status, aggregated) = send(cluster.client().get(cluster.url("/apis")).header(
        "Accept",
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
    ))
    .await?;
    assert_eq!(status, StatusCode::OK);
    let csr_discovery = aggregated["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|g| g["metadata"]["name"] == "certificates.k8s.io")
        .flat_map(|g| {
            g["versions"][0]["resources"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|r| r["resource"] == "certificatesigningrequests")
        .context("certificatesigningrequests in aggregated discovery")?;
    assert_eq!(
        csr_discovery["shortNames"],
        json!(["csr"]),
        "{csr_discovery}"
    );
    assert_eq!(csr_discovery["scope"], "Cluster");
    // OpenAPI v3 describes the kind for `kubectl explain`.
    let explained = kubectl(&cluster, &["explain", "csr.spec.signerName"])?;
    assert!(explained.contains("signerName"), "{explained}");

    // kubeadm's setup: a token whose group may create CSRs.
    create_secret(
        &cluster,
        &token_secret(
            "abcdef",
            "0123456789abcdef",
            &[
                ("usage-bootstrap-authentication", "true"),
                (
                    "auth-extra-groups",
                    "system:bootstrappers:kubeadm:default-node-token",
                ),
            ],
        ),
    )
    .await?;
    let (status, body) = cluster
        .post_json(
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            &json!({"metadata": {"name": "kubeadm:kubelet-bootstrap"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:node-bootstrapper"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:bootstrappers:kubeadm:default-node-token"}]}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let node_pem = csr_pem(cluster.dir(), "/O=system:nodes/CN=system:node:n1")?;
    let csr = csr_object(
        "node-csr-n1",
        &node_pem,
        KUBELET_SIGNER,
        &["digital signature", "client auth"],
    );
    let bootstrapper = cluster.anonymous_client()?;
    let created = eventually("the bootstrapper may create a CSR", || async {
        let (status, body) = send(
            bootstrapper
                .post(cluster.url(CSRS))
                .bearer_auth("abcdef.0123456789abcdef")
                .json(&csr),
        )
        .await?;
        match status {
            StatusCode::CREATED => Ok(Some(body)),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Ok(None),
            other => bail!("{other}: {body}"),
        }
    })
    .await?;
    assert_eq!(created["spec"]["username"], "system:bootstrap:abcdef");
    assert!(created["spec"]["groups"].as_array().is_some_and(|g| g
        .contains(&json!("system:bootstrappers"))
        && !g.contains(&json!("system:masters"))));
    assert!(
        created
            .get("status")
            .is_none_or(|s| s["conditions"].is_null()),
        "{created}"
    );

    // Validation: 422 with field paths.
    let bad_pem = csr_object("bad-pem", "not a pem", KUBELET_SIGNER, &["client auth"]);
    let (status, body) = cluster.post_json(CSRS, &bad_pem).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        causes(&body).contains(&"spec.request".to_string()),
        "{body}"
    );
    let alice_pem = csr_pem(cluster.dir(), "/O=devs/CN=alice")?;
    let wrong_subject = csr_object(
        "wrong-subject",
        &alice_pem,
        KUBELET_SIGNER,
        &["digital signature", "client auth"],
    );
    let (status, body) = cluster.post_json(CSRS, &wrong_subject).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("subject organization is not system:nodes")),
        "{body}"
    );
    let mut short = csr_object("short", &alice_pem, "example.com/signer", &["client auth"]);
    short["spec"]["expirationSeconds"] = json!(60);
    let (status, body) = cluster.post_json(CSRS, &short).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(causes(&body), ["spec.expirationSeconds"], "{body}");

    // CertificateSubjectRestriction.
    let masters_pem = csr_pem(cluster.dir(), "/O=system:masters/CN=eve")?;
    let masters = csr_object(
        "masters",
        &masters_pem,
        "kubernetes.io/kube-apiserver-client",
        &["client auth"],
    );
    let (status, body) = cluster.post_json(CSRS, &masters).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // A user who may write /approval but may not approve for the signer: 403 from
    // CertificateApproval.
    let (status, body) = cluster
        .post_json(
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            &json!({"metadata": {"name": "csr-approval-writer"}, "rules": [
                {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests", "certificatesigningrequests/approval"], "verbs": ["get", "update"]}]}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = cluster
        .post_json(
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            &json!({"metadata": {"name": "csr-approval-writer"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "csr-approval-writer"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let alice = cluster.client_for("alice", &[])?;
    let mut approval = created.clone();
    approval["status"] = json!({"conditions": [{"type": "Approved", "status": "True",
        "reason": "AliceSaysSo", "message": "approved by alice"}]});
    let approval_url = cluster.url(&format!("{CSRS}/node-csr-n1/approval"));
    let forbidden = eventually("alice reaches admission", || async {
        let (status, body) = send(alice.put(&approval_url).json(&approval)).await?;
        Ok((status == StatusCode::FORBIDDEN
            && body["message"]
                .as_str()
                .is_some_and(|m| m.contains("signerName")))
        .then_some(body))
    })
    .await?;
    assert_eq!(
        forbidden["message"],
        format!(
            r#"certificatesigningrequests.certificates.k8s.io "node-csr-n1" is forbidden: user not permitted to approve requests with signerName "{KUBELET_SIGNER}""#
        )
    );

    // Bound to upstream's approver role for the kubelet signer, alice may approve.
    let (status, body) = cluster
        .post_json(
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            &json!({"metadata": {"name": "alice-approves-kubelets"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let third = csr_object(
        "node-csr-n3",
        &csr_pem(cluster.dir(), "/O=system:nodes/CN=system:node:n3")?,
        KUBELET_SIGNER,
        &["digital signature", "client auth"],
    );
    let (status, third) = cluster.post_json(CSRS, &third).await?;
    assert_eq!(status, StatusCode::CREATED, "{third}");
    let mut approval3 = third.clone();
    approval3["status"] = approval["status"].clone();
    let approval3_url = cluster.url(&format!("{CSRS}/node-csr-n3/approval"));
    let by_alice = eventually("alice may approve kubelet CSRs", || async {
        let (status, body) = send(alice.put(&approval3_url).json(&approval3)).await?;
        Ok((status == StatusCode::OK).then_some(body))
    })
    .await?;
    assert_eq!(by_alice["status"]["conditions"][0]["reason"], "AliceSaysSo");

    // The admin approves with the real kubectl.
    kubectl(&cluster, &["certificate", "approve", "node-csr-n1"])?;
    let (_, approved) = cluster.get_json(&format!("{CSRS}/node-csr-n1")).await?;
    let cond = &approved["status"]["conditions"][0];
    assert_eq!(cond["type"], "Approved", "{approved}");
    assert_eq!(cond["status"], "True");
    assert!(cond["lastUpdateTime"].is_string(), "{approved}");
    assert_eq!(approved["spec"], created["spec"]);

    // The signer's step: a certificate through /status (by the admin here).
    let issued = cluster
        .ca()
        .issue_client("system:node:n1", &["system:nodes".to_string()])?;
    let mut with_cert = approved.clone();
    with_cert["status"]["certificate"] = json!(b64(&issued.cert_pem));
    let (status, body) = cluster
        .put_json(&format!("{CSRS}/node-csr-n1/status"), &with_cert)
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["certificate"], b64(&issued.cert_pem));
    assert_eq!(body["status"]["conditions"][0]["type"], "Approved");
    // Immutable once set.
    let other = cluster
        .ca()
        .issue_client("system:node:n1", &["system:nodes".to_string()])?;
    let mut replaced = body.clone();
    replaced["status"]["certificate"] = json!(b64(&other.cert_pem));
    let (status, body) = cluster
        .put_json(&format!("{CSRS}/node-csr-n1/status"), &replaced)
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        causes(&body).contains(&"status.certificate".to_string()),
        "{body}"
    );

    // The spec cannot be changed through the resource itself.
    let (_, current) = cluster.get_json(&format!("{CSRS}/node-csr-n1")).await?;
    let mut edited = current.clone();
    edited["spec"]["usages"] = json!(["server auth"]);
    let (status, body) = cluster
        .put_json(&format!("{CSRS}/node-csr-n1"), &edited)
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["spec"]["usages"],
        json!(["digital signature", "client auth"])
    );

    // A second request, denied with kubectl; `kubectl get csr` prints upstream's columns.
    let second = csr_object(
        "node-csr-n2",
        &csr_pem(cluster.dir(), "/O=system:nodes/CN=system:node:n2")?,
        KUBELET_SIGNER,
        &["digital signature", "key encipherment", "client auth"],
    );
    let (status, body) = cluster.post_json(CSRS, &second).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    kubectl(&cluster, &["certificate", "deny", "node-csr-n2"])?;
    let table = kubectl(&cluster, &["get", "csr"])?;
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "AGE",
            "SIGNERNAME",
            "REQUESTOR",
            "REQUESTEDDURATION",
            "CONDITION"
        ],
        "{table}"
    );
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let n1 = row("node-csr-n1");
    assert_eq!(
        n1.get(2).map(String::as_str),
        Some(KUBELET_SIGNER),
        "{table}"
    );
    assert_eq!(
        n1.get(3).map(String::as_str),
        Some("system:bootstrap:abcdef"),
        "{table}"
    );
    assert_eq!(n1.get(4).map(String::as_str), Some("24h"), "{table}");
    assert_eq!(
        n1.get(5).map(String::as_str),
        Some("Approved,Issued"),
        "{table}"
    );
    assert_eq!(
        row("node-csr-n2").get(5).map(String::as_str),
        Some("Denied"),
        "{table}"
    );
    Ok(())
}

/// kubeadm's token discovery: with `--anonymous-auth=true` a joining node reads
/// kube-public/cluster-info without credentials, through kubeadm's Role for
/// system:anonymous; everything else is up to RBAC (403, not 401).
#[tokio::test]
async fn anonymous_auth_lets_rbac_decide_for_requests_without_credentials() -> Result<()> {
    let cluster = TestCluster::start_with_args(&["--anonymous-auth=true"]).await?;
    for (path, body) in [
        (
            "/api/v1/namespaces/kube-public/configmaps",
            json!({"metadata": {"name": "cluster-info"}, "data": {"kubeconfig": "x"}}),
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/roles",
            json!({"metadata": {"name": "kubeadm:bootstrap-signer-clusterinfo"}, "rules": [
                {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"], "verbs": ["get"]}]}),
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/rolebindings",
            json!({"metadata": {"name": "kubeadm:bootstrap-signer-clusterinfo"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "kubeadm:bootstrap-signer-clusterinfo"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:anonymous"}]}),
        ),
    ] {
        let (status, body) = cluster.post_json(path, &body).await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let anonymous = cluster.anonymous_client()?;
    let info = eventually("anonymous reads cluster-info", || async {
        let (status, body) = send(
            anonymous.get(cluster.url("/api/v1/namespaces/kube-public/configmaps/cluster-info")),
        )
        .await?;
        Ok((status == StatusCode::OK).then_some(body))
    })
    .await?;
    assert_eq!(info["data"]["kubeconfig"], "x");
    let (status, body) =
        send(anonymous.get(cluster.url("/api/v1/namespaces/kube-system/secrets"))).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.contains(r#"User "system:anonymous""#)));
    Ok(())
}
