//! Authentication by client certificate, health endpoints, and the objects a fresh cluster
//! has: the four system namespaces and the `kubernetes` Service.

use integration_tests::{status_of, TestCluster};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn health_endpoints_answer_ok() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    for path in ["/healthz", "/livez", "/readyz"] {
        let resp = cluster.client().get(cluster.url(path)).send().await?;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.text().await?, "ok", "{path}");
    }
    Ok(())
}

#[tokio::test]
async fn request_without_client_certificate_is_unauthorized() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let anonymous = cluster.anonymous_client()?;
    let resp = anonymous
        .get(cluster.url("/api/v1/namespaces"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await?;
    assert_eq!(status_of(&body), Some((401, "Unauthorized".into())));
    assert_eq!(body["status"], "Failure");
    Ok(())
}

#[tokio::test]
async fn certificate_from_another_ca_is_not_accepted() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let foreign = common::pki::Ca::generate("someone-else")?;
    let cert = foreign.issue_client("mallory", &["system:masters".to_string()])?;
    let pem = format!("{}{}", cert.cert_pem, cert.key_pem);
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(
            cluster.ca().cert_pem().as_bytes(),
        )?)
        .identity(reqwest::Identity::from_pem(pem.as_bytes())?)
        .build()?;
    // Either the TLS handshake refuses the certificate or the request is 401; never data.
    match client.get(cluster.url("/api/v1/namespaces")).send().await {
        Ok(resp) => assert_eq!(resp.status(), StatusCode::UNAUTHORIZED),
        Err(err) => assert!(err.is_connect() || err.is_request(), "{err}"),
    }
    Ok(())
}

#[tokio::test]
async fn other_users_authenticate_with_their_certificates() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let admin_again = cluster.client_for("another-admin", &["system:masters"])?;
    let resp = admin_again
        .get(cluster.url("/api/v1/namespaces/default"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn system_namespaces_exist_and_are_active() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (status, list) = cluster.get_json("/api/v1/namespaces").await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["kind"], "NamespaceList");
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|ns| ns["metadata"]["name"].as_str())
        .collect();
    for wanted in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
        let (status, ns) = cluster
            .get_json(&format!("/api/v1/namespaces/{wanted}"))
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ns["status"]["phase"], "Active");
    }
    Ok(())
}

#[tokio::test]
async fn kubernetes_service_exists_in_default() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (status, svc) = cluster
        .get_json("/api/v1/namespaces/default/services/kubernetes")
        .await?;
    assert_eq!(status, StatusCode::OK, "{svc}");
    // The first address of --service-cluster-ip-range belongs to this Service.
    assert_eq!(svc["spec"]["clusterIP"], "10.96.0.1");
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    let port = &svc["spec"]["ports"][0];
    assert_eq!(port["name"], "https");
    assert_eq!(port["port"], 443);
    assert_eq!(port["protocol"], "TCP");
    assert_eq!(svc["metadata"]["labels"]["component"], "apiserver");
    assert_eq!(svc["metadata"]["labels"]["provider"], "kubernetes");
    Ok(())
}
