//! Service address allocation: ClusterIPs from --service-cluster-ip-range and NodePorts from
//! --service-node-port-range, without duplicates under concurrent creation.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

use integration_tests::{status_of, TestCluster, NODE_PORT_RANGE};
use reqwest::StatusCode;
use serde_json::{json, Value};

const SVCS: &str = "/api/v1/namespaces/default/services";

fn service(name: &str, kind: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": { "name": name },
        "spec": {
            "type": kind,
            "selector": { "app": name },
            "ports": [{ "port": 80, "targetPort": 8080 }]
        }
    })
}

fn in_service_range(ip: &str) -> bool {
    match ip.parse::<Ipv4Addr>() {
        // 10.96.0.0/12 = 10.96.0.0 – 10.111.255.255
        Ok(addr) => {
            let o = addr.octets();
            o[0] == 10 && (96..=111).contains(&o[1])
        }
        Err(_) => false,
    }
}

#[tokio::test]
async fn cluster_ip_is_allocated_from_the_service_range() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (status, svc) = cluster
        .post_json(SVCS, &service("web", "ClusterIP"))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{svc}");
    let ip = svc["spec"]["clusterIP"].as_str().expect("clusterIP");
    assert!(in_service_range(ip), "{ip} outside 10.96.0.0/12");
    assert_ne!(ip, "10.96.0.1", "reserved for the kubernetes Service");
    assert_eq!(svc["spec"]["clusterIPs"], json!([ip]));
    assert_eq!(svc["spec"]["ports"][0]["protocol"], "TCP");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    assert_eq!(svc["spec"]["sessionAffinity"], "None");

    // A requested address that is already taken is refused as Invalid.
    let mut clash = service("clash", "ClusterIP");
    clash["spec"]["clusterIP"] = json!(ip);
    let (status, body) = cluster.post_json(SVCS, &clash).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(status_of(&body), Some((422, "Invalid".into())));
    Ok(())
}

#[tokio::test]
async fn concurrent_node_port_services_get_distinct_ports() -> anyhow::Result<()> {
    let cluster = Arc::new(TestCluster::start().await?);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let cluster = Arc::clone(&cluster);
        tasks.push(tokio::spawn(async move {
            cluster
                .post_json(SVCS, &service(&format!("np-{i}"), "NodePort"))
                .await
        }));
    }
    let mut ports = HashSet::new();
    let mut ips = HashSet::new();
    for task in tasks {
        let (status, svc) = task.await??;
        assert_eq!(status, StatusCode::CREATED, "{svc}");
        let port = svc["spec"]["ports"][0]["nodePort"]
            .as_u64()
            .expect("nodePort allocated") as u16;
        assert!(
            (NODE_PORT_RANGE.0..=NODE_PORT_RANGE.1).contains(&port),
            "{port} outside the NodePort range"
        );
        assert!(ports.insert(port), "nodePort {port} handed out twice");
        let ip = svc["spec"]["clusterIP"]
            .as_str()
            .expect("clusterIP")
            .to_string();
        assert!(in_service_range(&ip));
        assert!(ips.insert(ip.clone()), "clusterIP {ip} handed out twice");
    }

    // The ports are recorded: asking for a taken one explicitly is Invalid.
    let taken = *ports.iter().next().expect("a port");
    let mut clash = service("np-clash", "NodePort");
    clash["spec"]["ports"][0]["nodePort"] = json!(taken);
    let (status, body) = cluster.post_json(SVCS, &clash).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let causes = body["details"]["causes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        causes
            .iter()
            .any(|c| c["field"] == "spec.ports[0].nodePort"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn deleting_a_service_releases_its_node_port() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (_, svc) = cluster
        .post_json(SVCS, &service("first", "NodePort"))
        .await?;
    let port = svc["spec"]["ports"][0]["nodePort"]
        .as_u64()
        .expect("nodePort");
    let (status, _) = cluster.delete(&format!("{SVCS}/first")).await?;
    assert_eq!(status, StatusCode::OK);
    let mut again = service("second", "NodePort");
    again["spec"]["ports"][0]["nodePort"] = json!(port);
    let (status, body) = cluster.post_json(SVCS, &again).await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["spec"]["ports"][0]["nodePort"], port);
    Ok(())
}
