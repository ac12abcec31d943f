//! Impersonation (`Impersonate-User`, `-Group`, `-Uid`, `-Extra-*`, kubectl `--as`): every
//! impersonated attribute needs the `impersonate` verb, refusals carry upstream's Forbidden
//! messages, and the request then runs with the impersonated identity.

use std::time::Duration;

use anyhow::{bail, Result};
use integration_tests::api::send;
use integration_tests::{status_of, TestCluster};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const MODES: &str = "--authorization-mode=Node,RBAC";

async fn eventually<F, Fut>(what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    for _ in 0..100 {
        if check().await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("timed out waiting for: {what}")
}

async fn create(cluster: &TestCluster, path: &str, body: Value) -> Result<()> {
    let (status, resp) = cluster.post_json(path, &body).await?;
    assert_eq!(status, StatusCode::CREATED, "{path}: {resp}");
    Ok(())
}

async fn get_as(
    cluster: &TestCluster,
    client: &Client,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<(StatusCode, Value)> {
    let mut req = client.get(cluster.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(req).await
}

/// alice may impersonate bob, the group `devs`, uids, the `scopes` extra, and service
/// accounts in `team` only; bob (in `devs`) may list configmaps in `team`.
async fn set_up(cluster: &TestCluster) -> Result<()> {
    for ns in ["team", "other"] {
        create(
            cluster,
            "/api/v1/namespaces",
            json!({"metadata": {"name": ns}}),
        )
        .await?;
    }
    let rbac = "/apis/rbac.authorization.k8s.io/v1";
    create(cluster, &format!("{rbac}/clusterroles"), json!({
        "metadata": {"name": "impersonate-bob"},
        "rules": [
            {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"], "resourceNames": ["bob"]},
            {"apiGroups": [""], "resources": ["groups"], "verbs": ["impersonate"], "resourceNames": ["devs"]},
            {"apiGroups": ["authentication.k8s.io"], "resources": ["uids", "userextras/scopes"], "verbs": ["impersonate"]}
        ]
    })).await?;
    create(cluster, &format!("{rbac}/clusterrolebindings"), json!({
        "metadata": {"name": "alice-impersonates-bob"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "impersonate-bob"},
        "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]
    })).await?;
    create(cluster, &format!("{rbac}/clusterroles"), json!({
        "metadata": {"name": "impersonate-sa"},
        "rules": [{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]}]
    })).await?;
    create(cluster, &format!("{rbac}/namespaces/team/rolebindings"), json!({
        "metadata": {"name": "alice-impersonates-sa"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "impersonate-sa"},
        "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]
    })).await?;
    create(
        cluster,
        &format!("{rbac}/namespaces/team/roles"),
        json!({
            "metadata": {"name": "cm-reader"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]
        }),
    )
    .await?;
    create(cluster, &format!("{rbac}/namespaces/team/rolebindings"), json!({
        "metadata": {"name": "devs-read"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
        "subjects": [
            {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "ServiceAccount", "name": "robot", "namespace": "team"}
        ]
    })).await?;
    Ok(())
}

#[tokio::test]
async fn impersonation_is_authorized_per_attribute() -> Result<()> {
    let cluster = TestCluster::start_with_args(&[MODES]).await?;
    let alice = cluster.client_for("alice", &[])?;
    let carol = cluster.client_for("carol", &[])?;
    set_up(&cluster).await?;
    let cms = "/api/v1/namespaces/team/configmaps";

    // Someone without the impersonate verb gets upstream's message about the user.
    let (status, body) = get_as(&cluster, &carol, cms, &[("Impersonate-User", "bob")]).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        r#"users "bob" is forbidden: User "carol" cannot impersonate resource "users" in API group "" at the cluster scope"#
    );
    assert_eq!(status_of(&body), Some((403, "Forbidden".to_string())));

    // alice may act as bob in devs; bob's groups come from the headers.
    eventually("alice impersonates bob in devs", || async {
        let (s, _) = get_as(
            &cluster,
            &alice,
            cms,
            &[("Impersonate-User", "bob"), ("Impersonate-Group", "devs")],
        )
        .await?;
        Ok(s == StatusCode::OK)
    })
    .await?;
    // bob alone (no devs group) cannot list configmaps: the 403 names bob, not alice.
    let (status, body) = get_as(&cluster, &alice, cms, &[("Impersonate-User", "bob")]).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        r#"configmaps is forbidden: User "bob" cannot list resource "configmaps" in API group "" in the namespace "team""#
    );
    // Not every user, not every group.
    let (status, body) = get_as(&cluster, &alice, cms, &[("Impersonate-User", "mallory")]).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with(r#"users "mallory" is forbidden: User "alice" cannot impersonate"#),
        "{body}"
    );
    let (status, body) = get_as(
        &cluster,
        &alice,
        cms,
        &[
            ("Impersonate-User", "bob"),
            ("Impersonate-Group", "system:masters"),
        ],
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        r#"groups "system:masters" is forbidden: User "alice" cannot impersonate resource "groups" in API group "" at the cluster scope"#
    );
    // Extras other than `scopes` are refused per key.
    let (status, body) = get_as(
        &cluster,
        &alice,
        cms,
        &[
            ("Impersonate-User", "bob"),
            ("Impersonate-Extra-Project", "x"),
        ],
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        r#"userextras.authentication.k8s.io "x" is forbidden: User "alice" cannot impersonate resource "userextras/project" in API group "authentication.k8s.io" at the cluster scope"#
    );
    // Groups without a user are a bad request.
    let (status, body) = get_as(&cluster, &alice, cms, &[("Impersonate-Group", "devs")]).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .ends_with("without impersonating a user"),
        "{body}"
    );

    // The identity the request runs with, as SelfSubjectReview reports it.
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let (status, body) = send(
        alice
            .post(cluster.url("/apis/authentication.k8s.io/v1/selfsubjectreviews"))
            .header("Impersonate-User", "bob")
            .header("Impersonate-Group", "devs")
            .header("Impersonate-Uid", "uid-42")
            .header("Impersonate-Extra-Scopes", "view")
            .header("Impersonate-Extra-Scopes", "edit")
            .json(&review),
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let info = &body["status"]["userInfo"];
    assert_eq!(info["username"], "bob", "{body}");
    assert_eq!(info["uid"], "uid-42", "{body}");
    assert_eq!(
        info["groups"],
        json!(["devs", "system:authenticated"]),
        "{body}"
    );
    assert_eq!(info["extra"]["scopes"], json!(["view", "edit"]), "{body}");
    Ok(())
}

#[tokio::test]
async fn service_accounts_are_impersonated_per_namespace() -> Result<()> {
    let cluster = TestCluster::start_with_args(&[MODES]).await?;
    let alice = cluster.client_for("alice", &[])?;
    set_up(&cluster).await?;
    eventually("alice acts as team's robot", || async {
        let (s, _) = get_as(
            &cluster,
            &alice,
            "/api/v1/namespaces/team/configmaps",
            &[("Impersonate-User", "system:serviceaccount:team:robot")],
        )
        .await?;
        Ok(s == StatusCode::OK)
    })
    .await?;
    let (status, body) = get_as(
        &cluster,
        &alice,
        "/api/v1/namespaces/other/configmaps",
        &[("Impersonate-User", "system:serviceaccount:other:robot")],
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        r#"serviceaccounts "robot" is forbidden: User "alice" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "other""#
    );
    // A service account gets its fixed groups plus system:authenticated.
    let (status, body) = send(
        alice
            .post(cluster.url("/apis/authentication.k8s.io/v1/selfsubjectreviews"))
            .header("Impersonate-User", "system:serviceaccount:team:robot")
            .json(&json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})),
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["status"]["userInfo"]["groups"],
        json!([
            "system:serviceaccounts",
            "system:serviceaccounts:team",
            "system:authenticated"
        ])
    );
    Ok(())
}

#[tokio::test]
async fn kubectl_as_and_as_group() -> Result<()> {
    integration_tests::real_kubectl::require()?;
    let cluster = TestCluster::start_with_args(&[MODES]).await?;
    set_up(&cluster).await?;
    create(
        &cluster,
        "/api/v1/namespaces/team/configmaps",
        json!({"metadata": {"name": "settings"}, "data": {"a": "b"}}),
    )
    .await?;
    let cert = cluster.ca().issue_client("alice", &[])?;
    let kubeconfig = cluster.dir().join("alice.kubeconfig");
    std::fs::write(
        &kubeconfig,
        common::pki::kubeconfig(
            &cluster.base_url(),
            cluster.ca().cert_pem(),
            "alice",
            &cert,
            "rudder",
        ),
    )?;
    let alice = integration_tests::real_kubectl::RealKubectl::new(&kubeconfig);
    let kubectl = |args: &[&str]| alice.output(args);
    let mut last = String::new();
    for _ in 0..100 {
        let out = kubectl(&[
            "--as=bob",
            "--as-group=devs",
            "get",
            "configmaps",
            "-n",
            "team",
            "-o",
            "name",
        ])?;
        last = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() && last.contains("configmap/settings") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(last.contains("configmap/settings"), "{last}");
    let whoami = kubectl(&[
        "--as=bob",
        "--as-group=devs",
        "auth",
        "whoami",
        "-o",
        "json",
    ])?;
    assert!(
        whoami.status.success(),
        "{}",
        String::from_utf8_lossy(&whoami.stderr)
    );
    let v: Value = serde_json::from_slice(&whoami.stdout)?;
    assert_eq!(v["status"]["userInfo"]["username"], "bob");
    assert_eq!(
        v["status"]["userInfo"]["groups"],
        json!(["devs", "system:authenticated"])
    );
    let denied = kubectl(&["--as=mallory", "get", "configmaps", "-n", "team"])?;
    assert!(!denied.status.success());
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains(
            r#"users "mallory" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope"#
        ),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );
    Ok(())
}
