//! The `endpointslicemirroring` controller against a real apiserver and etcd: hand-written
//! Endpoints of a selector-less Service become EndpointSlices that kube-proxy can read.
//! No garbage collector runs, so every slice that disappears was deleted by the controller.

use anyhow::Result;
use integration_tests::controller_manager::{
    get_ok, merge_patch_ok, post_ok, start_controller_manager,
};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const MIRRORING: &str = "endpointslicemirroring-controller.k8s.io";

/// The slices of Service `svc` in `default` managed by `manager`.
async fn slices_of(cluster: &TestCluster, svc: &str, manager: &str) -> Result<Vec<Value>> {
    let path = format!(
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D{svc},endpointslice.kubernetes.io%2Fmanaged-by%3D{manager}"
    );
    Ok(get_ok(cluster, &path).await?["items"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// `(address, ready)` of every endpoint of the slices, sorted.
fn readiness(slices: &[Value]) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = slices
        .iter()
        .flat_map(|s| s["endpoints"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            let ip = e["addresses"][0].as_str().unwrap_or_default().to_string();
            (ip, e["conditions"]["ready"] == json!(true))
        })
        .collect();
    out.sort();
    out
}

fn expect(pairs: &[(&str, bool)]) -> Vec<(String, bool)> {
    pairs.iter().map(|(ip, r)| (ip.to_string(), *r)).collect()
}

fn address(ip: &str) -> Value {
    json!({"ip": ip})
}

#[tokio::test]
async fn hand_written_endpoints_of_selectorless_services_are_mirrored_to_slices() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(
        &cluster,
        &[
            "--controllers=endpointslice,endpointslicemirroring",
            "--mirroring-max-endpoints-per-subset=3",
        ],
    )?;
    post_ok(
        &cluster,
        "/api/v1/namespaces/default/services",
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
                "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}),
    )
    .await?;
    let ep = post_ok(
        &cluster,
        "/api/v1/namespaces/default/endpoints",
        &json!({"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "ext", "labels": {"team": "payments"},
                "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2025-01-01T00:00:00Z",
                                "note": "by hand"}},
            "subsets": [{
                "addresses": [
                    {"ip": "10.0.0.1", "hostname": "db-0", "nodeName": "node-a",
                     "targetRef": {"kind": "Pod", "namespace": "default", "name": "db-0", "uid": "uid-db-0"}},
                    address("10.0.0.2")],
                "notReadyAddresses": [address("10.0.0.3")],
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]}),
    )
    .await?;

    // One slice with the three addresses, the not-ready one ready=false.
    let slices = cm
        .eventually("a mirrored slice with 3 endpoints", || async {
            let slices = slices_of(&cluster, "ext", MIRRORING).await?;
            let want = expect(&[("10.0.0.1", true), ("10.0.0.2", true), ("10.0.0.3", false)]);
            Ok((readiness(&slices) == want).then_some(slices))
        })
        .await?;
    assert_eq!(slices.len(), 1, "one slice: {slices:?}");
    let slice = &slices[0];
    let name = slice["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        name.starts_with("ext-") && name.len() == "ext-".len() + 5,
        "name {name}"
    );
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(
        slice["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
    );
    let owner = &slice["metadata"]["ownerReferences"][0];
    assert_eq!(
        (&owner["kind"], &owner["uid"]),
        (&json!("Endpoints"), &ep["metadata"]["uid"])
    );
    assert_eq!(owner["controller"], true);
    let labels = &slice["metadata"]["labels"];
    assert_eq!(labels["kubernetes.io/service-name"], "ext");
    assert_eq!(labels["team"], "payments", "Endpoints labels are copied");
    let annotations = &slice["metadata"]["annotations"];
    assert_eq!(annotations["note"], "by hand");
    assert!(
        annotations["endpoints.kubernetes.io/last-change-trigger-time"].is_null(),
        "the trigger time is not copied: {annotations}"
    );
    let first = slice["endpoints"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["addresses"][0] == "10.0.0.1"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(first["hostname"], "db-0");
    assert_eq!(first["nodeName"], "node-a");
    assert_eq!(first["targetRef"]["name"], "db-0");

    // A Service with a selector: its hand-written Endpoints are not mirrored (the
    // endpointslice controller owns its slices).
    post_ok(
        &cluster,
        "/api/v1/namespaces/default/services",
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "sel"},
                "spec": {"selector": {"app": "sel"}, "ports": [{"port": 80}]}}),
    )
    .await?;
    post_ok(
        &cluster,
        "/api/v1/namespaces/default/endpoints",
        &json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "sel"},
            "subsets": [{"addresses": [address("10.0.9.9")], "ports": [{"port": 80}]}]}),
    )
    .await?;

    // Changing the Endpoints rewrites the same slice: 10.0.0.1 gone, 10.0.0.3 ready, two
    // more ready addresses of which only the first 3 ready ones (by IP) fit the limit.
    let rv = slice["metadata"]["resourceVersion"].clone();
    merge_patch_ok(
        &cluster,
        "/api/v1/namespaces/default/endpoints/ext",
        &json!({"subsets": [{
            "addresses": [address("10.0.0.5"), address("10.0.0.3"), address("10.0.0.2"), address("10.0.0.4")],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]}),
    )
    .await?;
    let slices = cm
        .eventually(
            "the slice updated to the first 3 ready addresses",
            || async {
                let slices = slices_of(&cluster, "ext", MIRRORING).await?;
                let want = expect(&[("10.0.0.2", true), ("10.0.0.3", true), ("10.0.0.4", true)]);
                Ok((readiness(&slices) == want).then_some(slices))
            },
        )
        .await?;
    assert_eq!(slices.len(), 1);
    assert_eq!(
        slices[0]["metadata"]["name"],
        json!(name),
        "updated in place"
    );
    assert_ne!(slices[0]["metadata"]["resourceVersion"], rv);
    cm.eventually(
        "a TooManyAddressesToMirror warning on the Endpoints",
        || async {
            let events =
                get_ok(&cluster, "/apis/events.k8s.io/v1/namespaces/default/events").await?;
            let found = events["items"].as_array().into_iter().flatten().any(|e| {
                e["reason"] == "TooManyAddressesToMirror"
                    && e["type"] == "Warning"
                    && e["regarding"]["kind"] == "Endpoints"
                    && e["regarding"]["name"] == "ext"
                    && e["note"]
                        .as_str()
                        .is_some_and(|n| n.contains("1 addresses were skipped"))
            });
            Ok(found.then_some(()))
        },
    )
    .await?;

    // Level-triggered and idempotent: with nothing changed, the slice is not rewritten.
    let rv = slices[0]["metadata"]["resourceVersion"].clone();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let again = slices_of(&cluster, "ext", MIRRORING).await?;
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0]["metadata"]["resourceVersion"], rv,
        "no rewrite without a change"
    );

    // By now the controller has seen `sel`: no mirrored slice for it, only the
    // endpointslice controller's own.
    assert!(
        slices_of(&cluster, "sel", MIRRORING).await?.is_empty(),
        "selector Services are not mirrored"
    );
    cm.eventually("the endpointslice controller's slice for sel", || async {
        let own = slices_of(&cluster, "sel", "endpointslice-controller.k8s.io").await?;
        Ok((!own.is_empty()).then_some(()))
    })
    .await?;
    assert!(slices_of(&cluster, "sel", MIRRORING).await?.is_empty());

    // The skip-mirror label removes the slices; dropping it brings them back.
    let skip = |value: Value| json!({"metadata": {"labels": {"endpointslice.kubernetes.io/skip-mirror": value}}});
    merge_patch_ok(
        &cluster,
        "/api/v1/namespaces/default/endpoints/ext",
        &skip(json!("true")),
    )
    .await?;
    cm.eventually("slices gone after skip-mirror", || async {
        Ok(slices_of(&cluster, "ext", MIRRORING)
            .await?
            .is_empty()
            .then_some(()))
    })
    .await?;
    merge_patch_ok(
        &cluster,
        "/api/v1/namespaces/default/endpoints/ext",
        &skip(Value::Null),
    )
    .await?;
    cm.eventually("slices back without skip-mirror", || async {
        Ok((slices_of(&cluster, "ext", MIRRORING).await?.len() == 1).then_some(()))
    })
    .await?;

    // Deleting the Endpoints deletes its slices (no garbage collector runs here).
    let (code, body) = cluster
        .delete("/api/v1/namespaces/default/endpoints/ext")
        .await?;
    assert!(code.is_success(), "DELETE endpoints: {code} {body}");
    cm.eventually("slices gone with the Endpoints", || async {
        Ok(slices_of(&cluster, "ext", MIRRORING)
            .await?
            .is_empty()
            .then_some(()))
    })
    .await?;

    // The apiserver's own `kubernetes` slice (its Endpoints carry skip-mirror) is untouched.
    get_ok(
        &cluster,
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes",
    )
    .await?;
    Ok(())
}
