//! The `endpointslice` and `endpoints` controllers against a real apiserver and etcd. No
//! kubelet runs: the test gives pods their IP and Ready condition through `pods/status`.

use anyhow::{bail, Result};
use integration_tests::controller_manager::start_controller_manager;
use integration_tests::TestCluster;
use serde_json::{json, Value};

async fn create(cluster: &TestCluster, path: &str, obj: &Value) -> Result<Value> {
    let (code, body) = cluster.post_json(path, obj).await?;
    if !code.is_success() {
        bail!("POST {path}: {code} {body}");
    }
    Ok(body)
}

/// Create a pod labelled `app=web` with container port `http` 8080, then give it an IP
/// and a Ready condition through the status subresource, as a kubelet would.
async fn ready_pod(cluster: &TestCluster, name: &str, ip: &str, ready: bool) -> Result<()> {
    create(
        cluster,
        "/api/v1/namespaces/default/pods",
        &json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "busybox",
                         "ports": [{"name": "http", "containerPort": 8080}]}]}}),
    )
    .await?;
    let status = if ready { "True" } else { "False" };
    let path = format!("/api/v1/namespaces/default/pods/{name}/status");
    let (code, body) = cluster
        .patch_json(
            &path,
            "application/merge-patch+json",
            &json!({"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                "conditions": [{"type": "Ready", "status": status}]}}),
        )
        .await?;
    if !code.is_success() {
        bail!("PATCH {path}: {code} {body}");
    }
    Ok(())
}

/// The controller's slices of Service `svc` in `default`.
async fn slices_of(cluster: &TestCluster, svc: &str) -> Result<Vec<Value>> {
    let path = format!(
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D{svc}"
    );
    let (code, body) = cluster.get_json(&path).await?;
    if !code.is_success() {
        bail!("GET {path}: {code} {body}");
    }
    Ok(body["items"].as_array().cloned().unwrap_or_default())
}

/// `(pod name, ready)` of every endpoint in the slices, sorted.
fn endpoint_readiness(slices: &[Value]) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = slices
        .iter()
        .flat_map(|s| s["endpoints"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            (
                e["targetRef"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e["conditions"]["ready"] == json!(true),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn service_pods_become_endpoint_slices_and_endpoints() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(
        &cluster,
        &["--controllers=endpointslice,endpoints,garbagecollector"],
    )?;
    let svc = create(
        &cluster,
        "/api/v1/namespaces/default/services",
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"selector": {"app": "web"},
                         "ports": [{"name": "http-web", "port": 80, "targetPort": "http"}]}}),
    )
    .await?;
    let svc_uid = svc["metadata"]["uid"].clone();
    ready_pod(&cluster, "web-a", "10.244.0.10", true).await?;
    ready_pod(&cluster, "web-b", "10.244.0.11", false).await?;

    let slices = cm
        .eventually("a slice with both pods", || async {
            let slices = slices_of(&cluster, "web").await?;
            let want = vec![("web-a".to_string(), true), ("web-b".to_string(), false)];
            Ok((endpoint_readiness(&slices) == want).then_some(slices))
        })
        .await?;
    assert_eq!(slices.len(), 1, "one slice: {slices:?}");
    let slice = &slices[0];
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(
        slice["ports"],
        json!([{"name": "http-web", "port": 8080, "protocol": "TCP"}])
    );
    assert_eq!(
        slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert!(slice["metadata"]["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("web-") && n.len() == "web-".len() + 5));
    assert_eq!(slice["metadata"]["ownerReferences"][0]["uid"], svc_uid);
    assert_eq!(slice["metadata"]["ownerReferences"][0]["kind"], "Service");

    cm.eventually(
        "Endpoints with 1 address and 1 not-ready address",
        || async {
            let (code, ep) = cluster
                .get_json("/api/v1/namespaces/default/endpoints/web")
                .await?;
            if !code.is_success() {
                return Ok(None);
            }
            let subset = &ep["subsets"][0];
            let ok = subset["addresses"].as_array().map(Vec::len) == Some(1)
                && subset["addresses"][0]["targetRef"]["name"] == "web-a"
                && subset["notReadyAddresses"].as_array().map(Vec::len) == Some(1)
                && subset["notReadyAddresses"][0]["ip"] == "10.244.0.11"
                && subset["ports"]
                    == json!([{"name": "http-web", "port": 8080, "protocol": "TCP"}]);
            Ok(ok.then_some(()))
        },
    )
    .await?;

    // Deleting a pod removes it from both.
    let (code, body) = cluster
        .delete("/api/v1/namespaces/default/pods/web-a?gracePeriodSeconds=0")
        .await?;
    assert!(code.is_success(), "DELETE pod: {code} {body}");
    cm.eventually("the deleted pod gone from the slice", || async {
        let slices = slices_of(&cluster, "web").await?;
        Ok((endpoint_readiness(&slices) == vec![("web-b".to_string(), false)]).then_some(()))
    })
    .await?;
    cm.eventually("the deleted pod gone from Endpoints", || async {
        let (_, ep) = cluster
            .get_json("/api/v1/namespaces/default/endpoints/web")
            .await?;
        let subset = &ep["subsets"][0];
        Ok((subset["addresses"].is_null()
            && subset["notReadyAddresses"].as_array().map(Vec::len) == Some(1))
        .then_some(()))
    })
    .await?;

    // A slice deleted behind the controller's back is recreated.
    let old_name = slices_of(&cluster, "web").await?[0]["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (code, body) = cluster
        .delete(&format!(
            "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/{old_name}"
        ))
        .await?;
    assert!(code.is_success(), "DELETE slice: {code} {body}");
    cm.eventually("the deleted slice recreated", || async {
        let slices = slices_of(&cluster, "web").await?;
        let fresh = slices
            .iter()
            .all(|s| s["metadata"]["name"] != json!(old_name));
        Ok(
            (fresh && endpoint_readiness(&slices) == vec![("web-b".to_string(), false)])
                .then_some(()),
        )
    })
    .await?;
    // Deleting the Service removes its Endpoints (endpoints controller) and its slices
    // (garbage collector, through their ownerReference).
    let (code, body) = cluster
        .delete("/api/v1/namespaces/default/services/web")
        .await?;
    assert!(code.is_success(), "DELETE service: {code} {body}");
    cm.eventually("Endpoints of the deleted Service gone", || async {
        let (code, _) = cluster
            .get_json("/api/v1/namespaces/default/endpoints/web")
            .await?;
        Ok((code.as_u16() == 404).then_some(()))
    })
    .await?;
    cm.eventually("slices of the deleted Service gone", || async {
        Ok(slices_of(&cluster, "web").await?.is_empty().then_some(()))
    })
    .await?;

    // A Service without a selector is left alone; a later-created selector Service is
    // synced, so the controller had its chance at the first one.
    create(
        &cluster,
        "/api/v1/namespaces/default/services",
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "manual"},
                "spec": {"ports": [{"port": 80}]}}),
    )
    .await?;
    create(
        &cluster,
        "/api/v1/namespaces/default/services",
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "later"},
                "spec": {"selector": {"app": "none"}, "ports": [{"port": 80}]}}),
    )
    .await?;
    cm.eventually("a placeholder slice for the later Service", || async {
        Ok((!slices_of(&cluster, "later").await?.is_empty()).then_some(()))
    })
    .await?;
    assert!(
        slices_of(&cluster, "manual").await?.is_empty(),
        "no slice without a selector"
    );
    let (code, _) = cluster
        .get_json("/api/v1/namespaces/default/endpoints/manual")
        .await?;
    assert_eq!(code.as_u16(), 404, "no Endpoints without a selector");
    Ok(())
}
