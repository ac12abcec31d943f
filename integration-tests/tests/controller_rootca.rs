//! The root-ca-cert-publisher: `kube-root-ca.crt` with the cluster CA in every namespace,
//! put back when edited or deleted.

use anyhow::Result;
use integration_tests::controller_manager::{
    get_ok, merge_patch_ok, post_ok, start_controller_manager,
};
use integration_tests::TestCluster;
use serde_json::json;

fn path(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/configmaps/kube-root-ca.crt")
}

#[tokio::test]
async fn every_namespace_gets_the_cluster_ca() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let ca_file = cluster.dir().join("root-ca.crt");
    let ca = cluster.ca().cert_pem().to_string();
    std::fs::write(&ca_file, &ca)?;
    let flag = format!("--root-ca-file={}", ca_file.display());
    let cm = start_controller_manager(
        &cluster,
        &[
            "--controllers=root-ca-cert-publisher",
            &flag,
            "--leader-elect=false",
        ],
    )?;
    post_ok(
        &cluster,
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}),
    )
    .await?;
    for ns in ["default", "kube-system", "team-a"] {
        let got = cm
            .eventually(&format!("kube-root-ca.crt in {ns}"), || async {
                let (code, body) = cluster.get_json(&path(ns)).await?;
                Ok(code.is_success().then_some(body))
            })
            .await?;
        assert_eq!(got["data"]["ca.crt"], ca.as_str());
        assert_eq!(got["data"].as_object().map(|d| d.len()), Some(1));
    }
    // Edited: restored. Deleted: recreated.
    merge_patch_ok(
        &cluster,
        &path("team-a"),
        &json!({"data": {"ca.crt": "forged"}}),
    )
    .await?;
    cm.eventually("the edit reverted", || async {
        let body = get_ok(&cluster, &path("team-a")).await?;
        Ok((body["data"]["ca.crt"] == ca.as_str()).then_some(()))
    })
    .await?;
    let (code, body) = cluster.delete(&path("team-a")).await?;
    anyhow::ensure!(code.is_success(), "delete: {code} {body}");
    cm.eventually("the ConfigMap recreated", || async {
        let (code, body) = cluster.get_json(&path("team-a")).await?;
        Ok((code.is_success() && body["data"]["ca.crt"] == ca.as_str()).then_some(()))
    })
    .await?;
    Ok(())
}
