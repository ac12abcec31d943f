//! `spec.healthCheckNodePort` of LoadBalancer Services with `externalTrafficPolicy: Local`,
//! against the real apiserver: allocated from the NodePort range when unset, a requested one
//! reserved, a taken one refused, released when the policy switches to Cluster and when the
//! Service is deleted.

use integration_tests::{status_of, TestCluster, NODE_PORT_RANGE};
use reqwest::StatusCode;
use serde_json::{json, Value};

const SVCS: &str = "/api/v1/namespaces/default/services";

fn local_lb(name: &str, health_check_node_port: Option<u16>) -> Value {
    let mut svc = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": { "name": name },
        "spec": {
            "type": "LoadBalancer",
            "externalTrafficPolicy": "Local",
            "selector": { "app": name },
            "ports": [{ "port": 80, "targetPort": 8080 }]
        }
    });
    if let Some(p) = health_check_node_port {
        svc["spec"]["healthCheckNodePort"] = json!(p);
    }
    svc
}

fn hc_port(svc: &Value) -> Option<u16> {
    svc["spec"]["healthCheckNodePort"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
}

/// A port of the range that no Service of `taken` uses.
fn free_port(taken: &[u16]) -> u16 {
    (NODE_PORT_RANGE.0..=NODE_PORT_RANGE.1)
        .rev()
        .find(|p| !taken.contains(p))
        .expect("a free port")
}

fn node_port(svc: &Value) -> u16 {
    svc["spec"]["ports"][0]["nodePort"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .expect("nodePort")
}

#[tokio::test]
async fn health_check_node_port_lifecycle() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;

    // Unset: allocated from the NodePort range, distinct from the Service's node port.
    let (status, auto) = cluster.post_json(SVCS, &local_lb("auto", None)).await?;
    assert_eq!(status, StatusCode::CREATED, "{auto}");
    let auto_hc = hc_port(&auto).expect("healthCheckNodePort allocated");
    assert!(
        (NODE_PORT_RANGE.0..=NODE_PORT_RANGE.1).contains(&auto_hc),
        "{auto_hc} outside the NodePort range"
    );
    assert_ne!(auto_hc, node_port(&auto));
    let (_, stored) = cluster.get_json(&format!("{SVCS}/auto")).await?;
    assert_eq!(hc_port(&stored), Some(auto_hc), "stored: {stored}");

    // Requested: kept as given.
    let wanted = free_port(&[auto_hc, node_port(&auto)]);
    let (status, given) = cluster
        .post_json(SVCS, &local_lb("given", Some(wanted)))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{given}");
    assert_eq!(hc_port(&given), Some(wanted));

    // Taken (by another Service's health check, or its node port): refused, as upstream
    // refuses it — an internal error naming the port.
    for taken in [auto_hc, node_port(&given)] {
        let (status, body) = cluster
            .post_json(SVCS, &local_lb("clash", Some(taken)))
            .await?;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!(
                "failed to allocate requested HealthCheck NodePort {taken}: provided port is already allocated"
            )),
            "{body}"
        );
    }
    // The failed creates released what they had claimed: the Service does not exist and its
    // would-be node port is free again (a new Service can request the same health port
    // once it is free, checked below).
    let (status, _) = cluster.get_json(&format!("{SVCS}/clash")).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Outside the range: refused.
    let (status, body) = cluster
        .post_json(SVCS, &local_lb("outside", Some(NODE_PORT_RANGE.0 - 1)))
        .await?;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("provided port is not in the valid range"),
        "{body}"
    );

    // On a Service that needs no health check the field is Invalid.
    let mut cluster_policy = local_lb("cluster-policy", Some(free_port(&[auto_hc, wanted])));
    cluster_policy["spec"]["externalTrafficPolicy"] = json!("Cluster");
    let (status, body) = cluster.post_json(SVCS, &cluster_policy).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(status_of(&body), Some((422, "Invalid".into())));
    assert_eq!(
        body["details"]["causes"][0]["field"],
        "spec.healthCheckNodePort"
    );

    // An update that leaves the field out keeps the port; changing it is refused.
    let mut relabel = stored.clone();
    relabel["metadata"]["labels"] = json!({"tier": "web"});
    relabel["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("healthCheckNodePort");
    let (status, kept) = cluster.put_json(&format!("{SVCS}/auto"), &relabel).await?;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(hc_port(&kept), Some(auto_hc));
    let mut change = kept.clone();
    change["spec"]["healthCheckNodePort"] = json!(free_port(&[auto_hc, wanted]));
    let (status, body) = cluster.put_json(&format!("{SVCS}/auto"), &change).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["details"]["causes"][0]["field"],
        "spec.healthCheckNodePort"
    );

    // Switching to Cluster drops the field and frees the port: a new Service can take it.
    let (status, switched) = cluster
        .patch_json(
            &format!("{SVCS}/auto"),
            "application/merge-patch+json",
            &json!({"spec": {"externalTrafficPolicy": "Cluster"}}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{switched}");
    assert_eq!(hc_port(&switched), None, "{switched}");
    let (status, reuse) = cluster
        .post_json(SVCS, &local_lb("reuse", Some(auto_hc)))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{reuse}");
    assert_eq!(hc_port(&reuse), Some(auto_hc));

    // Switching back to Local allocates a port again.
    let (status, back) = cluster
        .patch_json(
            &format!("{SVCS}/auto"),
            "application/merge-patch+json",
            &json!({"spec": {"externalTrafficPolicy": "Local"}}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{back}");
    let back_hc = hc_port(&back).expect("allocated again");
    assert!(![auto_hc, wanted].contains(&back_hc), "{back_hc} is taken");

    // Deleting the Service frees its port: a new Service can request it.
    let (status, _) = cluster.delete(&format!("{SVCS}/given")).await?;
    assert_eq!(status, StatusCode::OK);
    let (status, after) = cluster
        .post_json(SVCS, &local_lb("after-delete", Some(wanted)))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{after}");
    assert_eq!(hc_port(&after), Some(wanted));
    Ok(())
}
