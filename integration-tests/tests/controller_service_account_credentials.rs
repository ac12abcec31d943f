//! `--use-service-account-credentials`: the controller manager creates a ServiceAccount per
//! controller in kube-system and the controller's writes reach the apiserver as that account
//! (so its `system:controller:*` role is what authorizes them), while its list/watch reads
//! keep the manager's own credentials. Checked in the apiserver's audit log.

use anyhow::Result;
use integration_tests::controller_manager::{get_ok, start_controller_manager};
use integration_tests::TestCluster;
use serde_json::Value;

const POLICY: &str = r#"
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    resources:
      - group: ""
        resources: ["configmaps", "serviceaccounts", "serviceaccounts/token"]
  - level: None
"#;

fn audit_events(log: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test]
async fn controller_writes_as_its_service_account() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, POLICY)?;
    let log = dir.path().join("audit.log");
    let cluster = TestCluster::start_with_args(&[
        &format!("--audit-policy-file={}", policy.display()),
        &format!("--audit-log-path={}", log.display()),
    ])
    .await?;
    let ca_file = cluster.dir().join("root-ca.crt");
    std::fs::write(&ca_file, cluster.ca().cert_pem())?;
    let cm = start_controller_manager(
        &cluster,
        &[
            "--controllers=root-ca-cert-publisher",
            &format!("--root-ca-file={}", ca_file.display()),
            "--use-service-account-credentials",
            "--leader-elect=false",
        ],
    )?;
    cm.eventually("kube-root-ca.crt published in default", || async {
        let (code, _) = cluster
            .get_json("/api/v1/namespaces/default/configmaps/kube-root-ca.crt")
            .await?;
        Ok(code.is_success().then_some(()))
    })
    .await?;
    // The manager made the account.
    get_ok(
        &cluster,
        "/api/v1/namespaces/kube-system/serviceaccounts/root-ca-cert-publisher",
    )
    .await?;

    let sa_user = "system:serviceaccount:kube-system:root-ca-cert-publisher";
    let events = cm
        .eventually("the create in the audit log", || async {
            let evs = audit_events(&log);
            let created = evs.iter().any(|e| {
                e["verb"] == "create"
                    && e["objectRef"]["resource"] == "configmaps"
                    && e["objectRef"]["name"] == "kube-root-ca.crt"
                    && e["stage"] == "ResponseComplete"
            });
            Ok(created.then_some(evs))
        })
        .await?;
    let creates: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["verb"] == "create"
                && e["objectRef"]["resource"] == "configmaps"
                && e["stage"] == "ResponseComplete"
        })
        .collect();
    assert!(!creates.is_empty());
    for e in &creates {
        assert_eq!(e["user"]["username"], sa_user, "{e}");
        assert_eq!(e["responseStatus"]["code"], 201, "{e}");
    }
    // Reads (the watch behind the controller) are the manager's own.
    let watchers: Vec<&str> = events
        .iter()
        .filter(|e| {
            e["objectRef"]["resource"] == "configmaps"
                && (e["verb"] == "list" || e["verb"] == "watch")
        })
        .filter_map(|e| e["user"]["username"].as_str())
        .collect();
    assert!(!watchers.is_empty(), "no configmap list/watch audited");
    assert!(
        watchers.iter().all(|u| *u == "kubernetes-admin"),
        "{watchers:?}"
    );
    // The token came from TokenRequest, made with the manager's credentials.
    assert!(events.iter().any(|e| {
        e["objectRef"]["resource"] == "serviceaccounts"
            && e["objectRef"]["subresource"] == "token"
            && e["verb"] == "create"
            && e["user"]["username"] == "kubernetes-admin"
    }));
    Ok(())
}
