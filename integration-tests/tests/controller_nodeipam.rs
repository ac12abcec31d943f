//! The nodeipam controller against a real apiserver and etcd: nodes without a pod range get
//! distinct subnets of `--cluster-cidr`, nodes that bring their own keep it, and a deleted
//! node's range is handed out again — also after a controller-manager restart.

use anyhow::Result;
use integration_tests::controller_manager::{get_ok, post_ok, start_controller_manager};
use integration_tests::TestCluster;
use serde_json::json;

const FLAGS: &[&str] = &[
    "--controllers=nodeipam",
    "--allocate-node-cidrs=true",
    "--cluster-cidr=10.250.0.0/22",
    "--node-cidr-mask-size=24",
];

async fn create_node(cluster: &TestCluster, name: &str, cidr: Option<&str>) -> Result<()> {
    let spec = match cidr {
        Some(c) => json!({"podCIDR": c, "podCIDRs": [c]}),
        None => json!({}),
    };
    post_ok(
        cluster,
        "/api/v1/nodes",
        &json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": spec}),
    )
    .await?;
    Ok(())
}

async fn pod_cidr(cluster: &TestCluster, name: &str) -> Result<Option<String>> {
    let node = get_ok(cluster, &format!("/api/v1/nodes/{name}")).await?;
    let cidr = node["spec"]["podCIDR"].as_str().map(String::from);
    if let Some(c) = &cidr {
        assert_eq!(
            node["spec"]["podCIDRs"],
            json!([c]),
            "podCIDRs mirrors podCIDR"
        );
    }
    Ok(cidr)
}

#[tokio::test]
async fn nodes_get_distinct_ranges_and_deleted_nodes_free_theirs() -> Result<()> {
    let cluster = TestCluster::start().await?;
    // A node whose kubelet brought its range (as local-up-cluster's does).
    create_node(&cluster, "own", Some("10.250.0.0/24")).await?;
    let mut cm = start_controller_manager(&cluster, FLAGS)?;
    create_node(&cluster, "a", None).await?;
    create_node(&cluster, "b", None).await?;
    let (a, b) = cm
        .eventually("ranges for a and b", || async {
            Ok(
                match (
                    pod_cidr(&cluster, "a").await?,
                    pod_cidr(&cluster, "b").await?,
                ) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                },
            )
        })
        .await?;
    let mut got = vec![a.clone(), b.clone()];
    got.sort();
    assert_eq!(got, ["10.250.1.0/24", "10.250.2.0/24"]);
    assert_eq!(
        pod_cidr(&cluster, "own").await?.as_deref(),
        Some("10.250.0.0/24")
    );

    // Restart: the state comes back from the nodes. The last free range goes to c; d waits.
    cm.kill();
    let cm = start_controller_manager(&cluster, FLAGS)?;
    create_node(&cluster, "c", None).await?;
    let c = cm
        .eventually("range for c", || async { pod_cidr(&cluster, "c").await })
        .await?;
    assert_eq!(c, "10.250.3.0/24");
    create_node(&cluster, "d", None).await?;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(pod_cidr(&cluster, "d").await?, None, "range exhausted");

    // Deleting a frees its range for d.
    let (code, body) = cluster.delete("/api/v1/nodes/a").await?;
    anyhow::ensure!(code.is_success(), "delete a: {code} {body}");
    let d = cm
        .eventually("d gets a's range", || async {
            pod_cidr(&cluster, "d").await
        })
        .await?;
    assert_eq!(d, a);
    Ok(())
}

/// The node's `spec.podCIDRs`, once set.
async fn pod_cidrs(cluster: &TestCluster, name: &str) -> Result<Option<Vec<String>>> {
    let node = get_ok(cluster, &format!("/api/v1/nodes/{name}")).await?;
    let cidrs: Vec<String> = node["spec"]["podCIDRs"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if cidrs.is_empty() {
        return Ok(None);
    }
    assert_eq!(
        node["spec"]["podCIDR"],
        json!(cidrs[0]),
        "podCIDR is podCIDRs[0]"
    );
    Ok(Some(cidrs))
}

#[tokio::test]
async fn dual_stack_nodes_get_a_range_of_each_family() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let flags = [
        "--controllers=nodeipam",
        "--allocate-node-cidrs=true",
        "--cluster-cidr=10.251.0.0/23,fd00:251::/63",
        "--node-cidr-mask-size-ipv4=24",
        "--node-cidr-mask-size-ipv6=64",
    ];
    let cm = start_controller_manager(&cluster, &flags)?;
    create_node(&cluster, "a", None).await?;
    create_node(&cluster, "b", None).await?;
    let wait = |name: &'static str| {
        let cluster = &cluster;
        let cm = &cm;
        async move {
            cm.eventually("dual-stack ranges", || async {
                pod_cidrs(cluster, name).await
            })
            .await
        }
    };
    let a = wait("a").await?;
    let b = wait("b").await?;
    let mut v4 = vec![a[0].clone(), b[0].clone()];
    let mut v6 = vec![a[1].clone(), b[1].clone()];
    v4.sort();
    v6.sort();
    assert_eq!(v4, ["10.251.0.0/24", "10.251.1.0/24"]);
    assert_eq!(v6, ["fd00:251:0:1::/64", "fd00:251::/64"], "sorted as text");

    // Deleting a frees both of its ranges for the next node.
    let (code, body) = cluster.delete("/api/v1/nodes/a").await?;
    anyhow::ensure!(code.is_success(), "delete a: {code} {body}");
    create_node(&cluster, "c", None).await?;
    let c = wait("c").await?;
    assert_eq!(c, a);
    Ok(())
}
