//! Request-header authentication (`--requestheader-client-ca-file` and friends): a front
//! proxy holding a certificate from the front-proxy CA with an allowed Common Name names the
//! user in `X-Remote-User` / `X-Remote-Group` / `X-Remote-Extra-*`; the same headers from a
//! client of the cluster CA are ignored; a front-proxy certificate with another name is 401;
//! and the user a front proxy names is authorized like any other (RBAC).

use std::time::Duration;

use anyhow::{bail, Result};
use common::pki::{Ca, IssuedCert};
use integration_tests::api::send;
use integration_tests::TestCluster;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const REVIEWS: &str = "/apis/authentication.k8s.io/v1/selfsubjectreviews";

/// A client trusting the cluster CA and presenting `identity`.
fn client_with(cluster: &TestCluster, identity: &IssuedCert) -> Result<Client> {
    let ca = reqwest::Certificate::from_pem(cluster.ca().cert_pem().as_bytes())?;
    let pem = format!("{}{}", identity.cert_pem, identity.key_pem);
    Ok(Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .identity(reqwest::Identity::from_pem(pem.as_bytes())?)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// POST a SelfSubjectReview with `headers`; (status, body).
async fn review(
    cluster: &TestCluster,
    client: &Client,
    headers: &[(&str, &str)],
) -> Result<(StatusCode, Value)> {
    let mut req = client.post(cluster.url(REVIEWS)).json(&json!({
        "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"
    }));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(req).await
}

const ALICE: &[(&str, &str)] = &[
    ("X-Remote-User", "alice"),
    ("X-Remote-Group", "devs"),
    ("X-Remote-Extra-Example.org%2fteam", "blue"),
];

/// A cluster trusting a front-proxy CA for `front-proxy-client`; the proxy's client, and
/// a certificate of the same CA with a name that is not allowed.
async fn start() -> Result<(TestCluster, Client, Client, tempfile::TempDir)> {
    let pki = tempfile::tempdir()?;
    let ca_file = pki.path().join("front-proxy-ca.crt");
    let front_proxy_ca = Ca::generate("front-proxy-ca")?;
    common::pki::write_cert_pem(&ca_file, front_proxy_ca.cert_pem())?;
    let ca_flag = format!("--requestheader-client-ca-file={}", ca_file.display());
    let cluster = TestCluster::start_with_args(&[
        &ca_flag,
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    ])
    .await?;
    let proxy = client_with(
        &cluster,
        &front_proxy_ca.issue_client("front-proxy-client", &[])?,
    )?;
    let intruder = client_with(&cluster, &front_proxy_ca.issue_client("intruder", &[])?)?;
    Ok((cluster, proxy, intruder, pki))
}

#[tokio::test]
async fn front_proxy_headers_name_the_user_only_for_the_front_proxy() -> Result<()> {
    let (cluster, proxy, intruder, _pki) = start().await?;

    let (status, body) = review(&cluster, &proxy, ALICE).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let info = &body["status"]["userInfo"];
    assert_eq!(info["username"], "alice", "{body}");
    assert_eq!(
        info["groups"],
        json!(["devs", "system:authenticated"]),
        "{body}"
    );
    // Extra keys are lower-cased and percent-decoded.
    assert_eq!(info["extra"]["example.org/team"], json!(["blue"]), "{body}");

    // The cluster CA's admin sending the same headers is still the admin.
    let (status, body) = review(&cluster, cluster.client(), ALICE).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["status"]["userInfo"]["username"], "kubernetes-admin",
        "{body}"
    );

    // A front-proxy CA certificate whose name is not allowed is refused, headers or not.
    let (status, body) = review(&cluster, &intruder, ALICE).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = review(&cluster, &intruder, &[]).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The front proxy's certificate is no identity of its own: without a user header, 401.
    let (status, _) = review(&cluster, &proxy, &[]).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test]
async fn rbac_applies_to_the_user_a_front_proxy_names() -> Result<()> {
    let (cluster, proxy, _, _pki) = start().await?;
    let pods = cluster.url("/api/v1/namespaces/default/pods");
    let as_alice = || {
        let mut req = proxy.get(&pods);
        for (k, v) in ALICE {
            req = req.header(*k, *v);
        }
        send(req)
    };
    let (status, body) = as_alice().await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("pods is forbidden: User \"alice\" cannot list resource \"pods\""),
        "{body}"
    );

    let rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/default";
    let (status, body) = cluster
        .post_json(
            &format!("{rbac}/roles"),
            &json!({"metadata": {"name": "pod-reader"},
                    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = cluster
        .post_json(
            &format!("{rbac}/rolebindings"),
            &json!({"metadata": {"name": "alice-reads-pods"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
                    "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The authorizer reads bindings from the watch cache, a moment behind the write.
    for _ in 0..100 {
        let (status, body) = as_alice().await?;
        if status == StatusCode::OK {
            assert_eq!(body["kind"], "PodList", "{body}");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("alice still cannot list pods after the RoleBinding")
}
