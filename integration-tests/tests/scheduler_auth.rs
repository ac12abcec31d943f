//! kube-scheduler's secure port behind delegated authentication and authorization, as
//! upstream: a ServiceAccount token is checked with a TokenReview and `/metrics` needs RBAC
//! for the non-resource URL (SubjectAccessReview); no credentials is `system:anonymous`
//! (403 on /metrics), a token the apiserver does not accept is 401, a client certificate
//! from `--client-ca-file` names its user, and the health paths stay open.

use std::time::Duration;

use anyhow::{Context, Result};
use integration_tests::process::free_port;
use integration_tests::scheduler::start_scheduler;
use integration_tests::TestCluster;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn create(cluster: &TestCluster, path: &str, body: Value) -> Result<Value> {
    let (code, out) = cluster.post_json(path, &body).await?;
    anyhow::ensure!(code.is_success(), "POST {path}: {code} {out}");
    Ok(out)
}

async fn token_for(cluster: &TestCluster, ns: &str, sa: &str) -> Result<String> {
    create(
        cluster,
        &format!("/api/v1/namespaces/{ns}/serviceaccounts"),
        json!({"metadata": {"name": sa}}),
    )
    .await?;
    let tr = create(
        cluster,
        &format!("/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token"),
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}),
    )
    .await?;
    Ok(tr["status"]["token"].as_str().context("token")?.to_string())
}

/// An HTTPS client for the scheduler's self-signed certificate, optionally presenting a
/// client certificate.
fn client(identity: Option<&common::pki::IssuedCert>) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(30));
    if let Some(i) = identity {
        b = b.identity(reqwest::Identity::from_pem(
            format!("{}{}", i.cert_pem, i.key_pem).as_bytes(),
        )?);
    }
    Ok(b.build()?)
}

async fn get(
    client: &reqwest::Client,
    port: u16,
    path: &str,
    token: Option<&str>,
) -> Result<(StatusCode, String)> {
    let mut req = client.get(format!("https://127.0.0.1:{port}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await?;
    Ok((resp.status(), resp.text().await?))
}

#[tokio::test]
async fn metrics_need_rbac_and_health_is_open() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let port = free_port()?;
    let ca_file = cluster.dir().join("client-ca.crt");
    std::fs::write(&ca_file, cluster.ca().cert_pem())?;
    let kubeconfig = cluster.kubeconfig_path().display().to_string();
    let _scheduler = start_scheduler(
        &cluster,
        &[
            &format!("--secure-port={port}"),
            &format!("--authentication-kubeconfig={kubeconfig}"),
            &format!("--authorization-kubeconfig={kubeconfig}"),
            &format!("--client-ca-file={}", ca_file.display()),
        ],
    )?;

    create(
        &cluster,
        "/api/v1/namespaces",
        json!({"metadata": {"name": "monitoring"}}),
    )
    .await?;
    let reader = token_for(&cluster, "monitoring", "prometheus").await?;
    let other = token_for(&cluster, "monitoring", "nobody").await?;
    create(
        &cluster,
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        json!({"metadata": {"name": "scheduler-metrics-reader"},
               "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]}),
    )
    .await?;
    create(
        &cluster,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        json!({"metadata": {"name": "scheduler-metrics-reader"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                           "name": "scheduler-metrics-reader"},
               "subjects": [{"kind": "ServiceAccount", "name": "prometheus", "namespace": "monitoring"}]}),
    )
    .await?;

    let anon = client(None)?;
    // The health paths are open to anyone (once the port is up).
    let mut health = None;
    for _ in 0..100 {
        if let Ok(r) = get(&anon, port, "/healthz", None).await {
            health = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (code, body) = health.context("the secure port never answered")?;
    assert_eq!((code, body.as_str()), (StatusCode::OK, "ok"));
    let (code, _) = get(&anon, port, "/readyz", None).await?;
    assert_eq!(code, StatusCode::OK);

    // With the RBAC for /metrics: 200 and the scheduler's metrics.
    let (code, body) = get(&anon, port, "/metrics", Some(&reader)).await?;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(body.contains("scheduler_pending_pods"), "{body}");

    // Authenticated but without the RBAC: 403 naming the user.
    let (code, body) = get(&anon, port, "/metrics", Some(&other)).await?;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    let status: Value = serde_json::from_str(&body)?;
    assert_eq!(status["reason"], "Forbidden");
    assert_eq!(
        status["message"],
        "forbidden: User \"system:serviceaccount:monitoring:nobody\" cannot get path \"/metrics\""
    );

    // No credentials: system:anonymous, forbidden (upstream's answer).
    let (code, body) = get(&anon, port, "/metrics", None).await?;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("system:anonymous"), "{body}");

    // A token the apiserver does not accept: 401, even on an open path.
    let (code, body) = get(&anon, port, "/metrics", Some("not-a-token")).await?;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
    let (code, _) = get(&anon, port, "/healthz", Some("not-a-token")).await?;
    assert_eq!(code, StatusCode::UNAUTHORIZED);

    // A client certificate from --client-ca-file: its user, checked like any other.
    let admin = cluster
        .ca()
        .issue_client("ops-admin", &["system:masters".to_string()])?;
    let (code, body) = get(&client(Some(&admin))?, port, "/metrics", None).await?;
    assert_eq!(code, StatusCode::OK, "{body}");
    let plain = cluster.ca().issue_client("someone", &[])?;
    let (code, body) = get(&client(Some(&plain))?, port, "/metrics", None).await?;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("User \\\"someone\\\""), "{body}");
    Ok(())
}
