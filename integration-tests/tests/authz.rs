//! Authorization with `--authorization-mode=Node,RBAC`: upstream's Forbidden messages, RBAC
//! bindings scoped to a namespace, access and rules reviews (and the real `kubectl auth
//! can-i`), escalation prevention, and the Node authorizer + NodeRestriction for a kubelet
//! credential.

use std::time::Duration;

use anyhow::{bail, Result};
use integration_tests::api::send;
use integration_tests::{status_of, TestCluster};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const MODES: &str = "--authorization-mode=Node,RBAC";

async fn get(cluster: &TestCluster, client: &Client, path: &str) -> Result<(StatusCode, Value)> {
    send(client.get(cluster.url(path))).await
}

async fn post(
    cluster: &TestCluster,
    client: &Client,
    path: &str,
    body: &Value,
) -> Result<(StatusCode, Value)> {
    send(client.post(cluster.url(path)).json(body)).await
}

/// Retry `check` until it returns true (the authorizer's index follows the watch cache, so a
/// new binding takes effect a moment after it is written).
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

async fn create_namespace(cluster: &TestCluster, name: &str) -> Result<()> {
    let (status, body) = cluster
        .post_json("/api/v1/namespaces", &json!({"metadata": {"name": name}}))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Ok(())
}

#[tokio::test]
async fn unbound_user_gets_upstreams_forbidden_messages() -> Result<()> {
    let cluster = TestCluster::start_with_args(&[MODES]).await?;
    let alice = cluster.client_for("alice", &[])?;

    let (status, body) = get(&cluster, &alice, "/api/v1/namespaces/default/pods").await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(status_of(&body), Some((403, "Forbidden".to_string())));
    assert_eq!(
        body["message"],
        r#"pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default""#
    );
    assert_eq!(body["details"]["kind"], "pods");

    let (_, body) = get(&cluster, &alice, "/api/v1/namespaces/default/pods/p1").await?;
    assert_eq!(
        body["message"],
        r#"pods "p1" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "default""#
    );
    let (_, body) = get(&cluster, &alice, "/api/v1/nodes/n1/status").await?;
    assert_eq!(
        body["message"],
        r#"nodes "n1" is forbidden: User "alice" cannot get resource "nodes/status" in API group "" at the cluster scope"#
    );
    let (_, body) = get(&cluster, &alice, "/apis/apps/v1/deployments").await?;
    assert_eq!(
        body["message"],
        r#"deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" at the cluster scope"#
    );
    let (status, body) = get(&cluster, &alice, "/metrics").await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["message"],
        r#"forbidden: User "alice" cannot get path "/metrics""#
    );

    // Discovery and the public endpoints come from the bootstrap bindings, not a bypass.
    for path in ["/version", "/healthz", "/api", "/apis"] {
        let (status, _) = get(&cluster, &alice, path).await?;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let anonymous = cluster.anonymous_client()?;
    let (status, _) = get(&cluster, &anonymous, "/readyz").await?;
    assert_eq!(status, StatusCode::OK);
    // The admin (system:masters) may do anything.
    let (status, _) = cluster.get_json("/api/v1/namespaces/default/pods").await?;
    assert_eq!(status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn view_binding_in_one_namespace_and_reviews_agree() -> Result<()> {
    let cluster = TestCluster::start_with_args(&[MODES]).await?;
    create_namespace(&cluster, "team-a").await?;
    create_namespace(&cluster, "team-b").await?;
    let alice = cluster.client_for("alice", &["developers"])?;

    // `view` is aggregated from system:aggregate-to-view by the apiserver.
    eventually("view aggregates its rules", || async {
        let (_, view) = cluster
            .get_json("/apis/rbac.authorization.k8s.io/v1/clusterroles/view")
            .await?;
        Ok(view["rules"].as_array().is_some_and(|rs| {
            rs.iter().any(|r| {
                r["resources"]
                    .as_array()
                    .is_some_and(|x| x.contains(&json!("pods")))
            })
        }))
    })
    .await?;

    let (status, body) = cluster
        .post_json(
            "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings",
            &json!({
                "metadata": {"name": "alice-view"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]
            }),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    eventually("alice can list pods in team-a", || async {
        Ok(get(&cluster, &alice, "/api/v1/namespaces/team-a/pods")
            .await?
            .0
            == StatusCode::OK)
    })
    .await?;
    let (status, _) = get(&cluster, &alice, "/api/v1/namespaces/team-a/configmaps").await?;
    assert_eq!(status, StatusCode::OK);
    // view does not include secrets, writes, or other namespaces.
    let (status, _) = get(&cluster, &alice, "/api/v1/namespaces/team-a/secrets").await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = post(
        &cluster,
        &alice,
        "/api/v1/namespaces/team-a/configmaps",
        &json!({"metadata": {"name": "x"}, "data": {"a": "b"}}),
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        r#"configmaps is forbidden: User "alice" cannot create resource "configmaps" in API group "" in the namespace "team-a""#
    );
    let (status, _) = get(&cluster, &alice, "/api/v1/namespaces/team-b/pods").await?;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // SelfSubjectAccessReview agrees with what the requests above saw.
    let ssar = |ns: &str, verb: &str, resource: &str| {
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": ns, "verb": verb, "resource": resource}}})
    };
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    for (ns, verb, resource, want) in [
        ("team-a", "list", "pods", true),
        ("team-a", "create", "configmaps", false),
        ("team-a", "get", "secrets", false),
        ("team-b", "list", "pods", false),
    ] {
        let (status, body) = post(&cluster, &alice, path, &ssar(ns, verb, resource)).await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(
            body["status"]["allowed"], want,
            "{ns} {verb} {resource}: {body}"
        );
    }
    // SubjectAccessReview about alice, asked by the admin.
    let (status, body) = cluster
        .post_json(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            &json!({"spec": {"user": "alice", "resourceAttributes": {"namespace": "team-a", "verb": "watch", "resource": "pods"}}}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"]["allowed"], true);
    assert!(body["status"]["reason"]
        .as_str()
        .unwrap_or_default()
        .contains(r#"RoleBinding "team-a/alice-view""#));

    // SelfSubjectRulesReview lists the view rules in team-a and none in team-b.
    let rules = |ns: &str| json!({"spec": {"namespace": ns}});
    let path = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
    let (_, body) = post(&cluster, &alice, path, &rules("team-a")).await?;
    let has_pods_list = |b: &Value| {
        b["status"]["resourceRules"].as_array().is_some_and(|rs| {
            rs.iter().any(|r| {
                r["resources"]
                    .as_array()
                    .is_some_and(|x| x.contains(&json!("pods")))
                    && r["verbs"]
                        .as_array()
                        .is_some_and(|v| v.contains(&json!("list")))
            })
        })
    };
    assert!(has_pods_list(&body), "{body}");
    let (_, body) = post(&cluster, &alice, path, &rules("team-b")).await?;
    assert!(!has_pods_list(&body), "{body}");

    // The real kubectl agrees.
    if std::path::Path::new("/usr/bin/kubectl").exists() {
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
        let yes = kubectl(&["auth", "can-i", "list", "pods", "-n", "team-a"])?;
        assert_eq!(
            String::from_utf8_lossy(&yes.stdout).trim(),
            "yes",
            "{}",
            String::from_utf8_lossy(&yes.stderr)
        );
        let no = kubectl(&["auth", "can-i", "list", "pods", "-n", "team-b"])?;
        assert_eq!(String::from_utf8_lossy(&no.stdout).trim(), "no");
        assert!(!no.status.success());
        let list = kubectl(&["auth", "can-i", "--list", "-n", "team-a"])?;
        let out = String::from_utf8_lossy(&list.stdout);
        assert!(
            list.status.success(),
            "{}",
            String::from_utf8_lossy(&list.stderr)
        );
        assert!(out.lines().any(|l| l.starts_with("pods ")), "{out}");
        let denied = kubectl(&["get", "pods", "-n", "team-b"])?;
        assert!(String::from_utf8_lossy(&denied.stderr).contains(
            r#"pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team-b""#
        ));
    }
    Ok(())
}

#[tokio::test]
async fn roles_and_bindings_cannot_escalate() -> Result<()> {
    let cluster = TestCluster::start_with_args(&[MODES]).await?;
    create_namespace(&cluster, "team-a").await?;
    let rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a";
    // alice may manage Roles and RoleBindings and read pods in team-a — nothing more.
    let (status, body) = cluster
        .post_json(
            &format!("{rbac}/roles"),
            &json!({"metadata": {"name": "role-maker"}, "rules": [
                {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["create", "get", "list"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}
            ]}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = cluster
        .post_json(
            &format!("{rbac}/rolebindings"),
            &json!({"metadata": {"name": "alice"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "role-maker"},
                "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let alice = cluster.client_for("alice", &[])?;
    eventually("alice's binding is in effect", || async {
        Ok(get(&cluster, &alice, "/api/v1/namespaces/team-a/pods")
            .await?
            .0
            == StatusCode::OK)
    })
    .await?;

    // Within what she holds: fine.
    let (status, body) = post(
        &cluster,
        &alice,
        &format!("{rbac}/roles"),
        &json!({"metadata": {"name": "pod-reader"}, "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // More than she holds: refused, naming what is missing.
    let (status, body) = post(
        &cluster,
        &alice,
        &format!("{rbac}/roles"),
        &json!({"metadata": {"name": "secret-reader"}, "rules": [
            {"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "delete"]}]}),
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        "roles.rbac.authorization.k8s.io \"secret-reader\" is forbidden: user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"delete\"]}"
    );

    // Binding a role she does not hold (cluster-admin) is refused; one she holds is not.
    let binding = |name: &str, kind: &str, role: &str| {
        json!({"metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
            "subjects": [{"kind": "User", "name": "mallory", "apiGroup": "rbac.authorization.k8s.io"}]})
    };
    let (status, body) = post(
        &cluster,
        &alice,
        &format!("{rbac}/rolebindings"),
        &binding("mallory-admin", "ClusterRole", "cluster-admin"),
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap_or_default().starts_with(
        r#"rolebindings.rbac.authorization.k8s.io "mallory-admin" is forbidden: user "alice""#
    ));
    let (status, body) = post(
        &cluster,
        &alice,
        &format!("{rbac}/rolebindings"),
        &binding("mallory-reader", "Role", "pod-reader"),
    )
    .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // With `escalate` on roles, the same Role is accepted.
    let (status, body) = cluster
        .post_json(
            &format!("{rbac}/roles"),
            &json!({"metadata": {"name": "escalator"}, "rules": [
                {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["escalate"]}]}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = cluster
        .post_json(
            &format!("{rbac}/rolebindings"),
            &json!({"metadata": {"name": "alice-escalate"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "escalator"},
                "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let secret_reader = json!({"metadata": {"name": "secret-reader"}, "rules": [
        {"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "delete"]}]});
    eventually("escalate lets alice create the role", || async {
        Ok(
            post(&cluster, &alice, &format!("{rbac}/roles"), &secret_reader)
                .await?
                .0
                == StatusCode::CREATED,
        )
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn kubelet_credential_is_limited_to_its_node() -> Result<()> {
    let cluster = TestCluster::start_with_args(&[MODES]).await?;
    for node in ["n1", "n2"] {
        let (status, body) = cluster
            .post_json("/api/v1/nodes", &json!({"metadata": {"name": node}}))
            .await?;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = cluster
        .post_json(
            "/api/v1/namespaces/default/secrets",
            &json!({"metadata": {"name": "db-password"}, "stringData": {"p": "x"}}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let kubelet = cluster.client_for("system:node:n1", &["system:nodes"])?;
    let secret = "/api/v1/namespaces/default/secrets/db-password";

    let (status, body) = get(&cluster, &kubelet, secret).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        r#"secrets "db-password" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'n1' and this object"#
    );
    // Listing secrets is never allowed to a node.
    let (status, _) = get(&cluster, &kubelet, "/api/v1/namespaces/default/secrets").await?;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A pod bound to n2 using the secret does not help n1 …
    let pod = |name: &str, node: &str| {
        json!({"metadata": {"name": name}, "spec": {
            "nodeName": node,
            "containers": [{"name": "c", "image": "busybox"}],
            "volumes": [{"name": "s", "secret": {"secretName": "db-password"}}]}})
    };
    let (status, body) = cluster
        .post_json("/api/v1/namespaces/default/pods", &pod("on-n2", "n2"))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        get(&cluster, &kubelet, secret).await?.0,
        StatusCode::FORBIDDEN
    );
    // … one bound to n1 does.
    let (status, body) = cluster
        .post_json("/api/v1/namespaces/default/pods", &pod("on-n1", "n1"))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    eventually("n1 may read the secret its pod uses", || async {
        Ok(get(&cluster, &kubelet, secret).await?.0 == StatusCode::OK)
    })
    .await?;
    // And loses it when the pod goes away.
    let (status, _) = cluster
        .delete("/api/v1/namespaces/default/pods/on-n1?gracePeriodSeconds=0")
        .await?;
    assert!(status.is_success());
    eventually("n1 loses the secret with its pod", || async {
        Ok(get(&cluster, &kubelet, secret).await?.0 == StatusCode::FORBIDDEN)
    })
    .await?;

    // Its own Node may be patched; another node's may not (NodeRestriction).
    let merge = |c: &Client, path: &str, body: Value| {
        c.patch(cluster.url(path))
            .header("Content-Type", "application/merge-patch+json")
            .body(body.to_string())
    };
    let (status, body) = send(merge(
        &kubelet,
        "/api/v1/nodes/n1",
        json!({"metadata": {"labels": {"rudder.test/ready": "yes"}}}),
    ))
    .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(merge(
        &kubelet,
        "/api/v1/nodes/n2",
        json!({"metadata": {"labels": {"rudder.test/ready": "yes"}}}),
    ))
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        r#"nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2""#
    );
    let (status, _) = send(merge(
        &kubelet,
        "/api/v1/nodes/n1",
        json!({"metadata": {"labels": {"node-restriction.kubernetes.io/pool": "x"}}}),
    ))
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Pod status only for its own pods; ordinary pods cannot be created by a node.
    let status_patch = json!({"status": {"phase": "Running"}});
    let (status, body) = send(merge(
        &kubelet,
        "/api/v1/namespaces/default/pods/on-n2/status",
        status_patch,
    ))
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = post(
        &cluster,
        &kubelet,
        "/api/v1/namespaces/default/pods",
        &json!({"metadata": {"name": "sneaky"}, "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]}}),
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    Ok(())
}
