//! The kubelet's API under `--authorization-mode=Webhook` (issue 4): a client certificate
//! names the user, and the apiserver's SubjectAccessReview — RBAC here — decides what it may
//! do on the node (`nodes/stats`, `nodes/metrics`, `nodes/proxy` …).

use anyhow::Result;
use integration_tests::containerd::Containerd;
use integration_tests::kubelet::start_kubelet_with;
use integration_tests::TestCluster;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_authorization_asks_the_apiserver_per_user_and_subresource() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let containerd = Containerd::start()?;
    let node = "kubelet-node-authz";
    let pki = cluster.dir().join("kubelet-authz-pki");
    std::fs::create_dir_all(&pki)?;
    let serving = cluster
        .ca()
        .issue_server(node, &[], &[[127, 0, 0, 1].into()])?;
    serving.write(&pki.join("kubelet.crt"), &pki.join("kubelet.key"))?;
    common::pki::write_cert_pem(&pki.join("ca.crt"), cluster.ca().cert_pem())?;
    let kubelet = start_kubelet_with(
        &cluster,
        &containerd,
        node,
        "10.244.113.0/24",
        &[
            "--authorization-mode=Webhook".into(),
            format!("--client-ca-file={}", pki.join("ca.crt").display()),
            format!("--tls-cert-file={}", pki.join("kubelet.crt").display()),
            format!(
                "--tls-private-key-file={}",
                pki.join("kubelet.key").display()
            ),
        ],
    )?;
    let base = format!("https://127.0.0.1:{}", kubelet.port);
    let get = |client: reqwest::Client, path: &'static str| {
        let url = format!("{base}{path}");
        async move {
            let resp = client.get(url).send().await?;
            let code = resp.status().as_u16();
            anyhow::Ok((code, resp.text().await?))
        }
    };

    // The admin (system:masters) may do anything.
    let admin = cluster.client_for("kubernetes-admin", &["system:masters"])?;
    let (code, _) = kubelet
        .daemon
        .eventually("the kubelet serves the admin", || {
            let admin = admin.clone();
            let get = &get;
            async move {
                Ok(match get(admin, "/stats/summary").await {
                    Ok((200, body)) => Some((200, body)),
                    _ => None,
                })
            }
        })
        .await?;
    assert_eq!(code, 200);

    // A user with no bindings is refused, in upstream's words.
    let alice = cluster.client_for("alice", &[])?;
    let (code, body) = get(alice.clone(), "/stats/summary").await?;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body.trim(),
        "Forbidden (user=alice, verb=get, resource=nodes, subresource=stats)"
    );
    let (code, body) = get(alice.clone(), "/pods").await?;
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("subresource=proxy"), "{body}");

    // RBAC grants nodes/metrics: that path opens, stats and proxy stay closed.
    for (path, body) in [
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": "node-metrics-reader"},
                   "rules": [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]}]}),
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": "alice-metrics"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "node-metrics-reader"},
                   "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]}),
        ),
    ] {
        let (code, resp) = cluster.post_json(path, &body).await?;
        assert!(code.is_success(), "{path}: {code} {resp}");
    }
    let (code, body) = kubelet
        .daemon
        .eventually("alice may read metrics", || {
            let alice = alice.clone();
            let get = &get;
            async move {
                let (code, body) = get(alice, "/metrics").await?;
                Ok((code == 200).then_some((code, body)))
            }
        })
        .await?;
    assert_eq!(code, 200);
    assert!(body.contains("kubelet_node_name"), "{body}");
    let (code, _) = get(alice.clone(), "/stats/summary").await?;
    assert_eq!(code, 403);

    // No client certificate at all: 401.
    let anonymous = cluster.anonymous_client()?;
    let (code, _) = get(anonymous, "/metrics").await?;
    assert_eq!(code, 401);
    Ok(())
}
