//! Resource quantities are stored as upstream stores them: its Go type writes every one back
//! in canonical form, so `0.5` reads back as `500m` and `1.5Gi` as `1536Mi`, on create, update
//! and patch, for every kind whose schema has quantities.

use integration_tests::TestCluster;
use reqwest::StatusCode;
use serde_json::json;

const PODS: &str = "/api/v1/namespaces/default/pods";

#[tokio::test]
async fn quantities_are_stored_canonically() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q", "labels": {"size": "0.5"}},
        "spec": {
            "containers": [{"name": "c", "image": "busybox",
                "resources": {"requests": {"cpu": "0.5", "memory": "1.5Gi"},
                              "limits": {"cpu": 1, "memory": "2048Mi"}}}],
            "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1000"}}]
        }
    });
    let (status, created) = cluster.post_json(PODS, &pod).await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let resources = &created["spec"]["containers"][0]["resources"];
    assert_eq!(
        resources["requests"],
        json!({"cpu": "500m", "memory": "1536Mi"})
    );
    assert_eq!(resources["limits"], json!({"cpu": "1", "memory": "2Gi"}));
    assert_eq!(created["spec"]["volumes"][0]["emptyDir"]["sizeLimit"], "1k");
    assert_eq!(
        created["metadata"]["labels"]["size"], "0.5",
        "a label is not a quantity"
    );

    // A patch goes through the same: the stored form is canonical whatever was sent.
    let (status, patched) = cluster
        .patch_json(
            &format!("{PODS}/q"),
            "application/merge-patch+json",
            &json!({"metadata": {"annotations": {"note": "1.5Gi"}}}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["metadata"]["annotations"]["note"], "1.5Gi");

    // Not a quantity: refused as upstream's decoding refuses it.
    let mut bad = pod.clone();
    bad["metadata"]["name"] = json!("bad");
    bad["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("lots");
    let (status, body) = cluster.post_json(PODS, &bad).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["message"],
        "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    );
    let (status, _) = cluster.get_json(&format!("{PODS}/bad")).await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored");

    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "rq"},
        "spec": {"hard": {"requests.cpu": "2000m", "pods": "10", "requests.memory": "0.5Gi"}}});
    let (status, created) = cluster
        .post_json("/api/v1/namespaces/default/resourcequotas", &quota)
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["spec"]["hard"],
        json!({"requests.cpu": "2", "pods": "10", "requests.memory": "512Mi"})
    );

    Ok(())
}
