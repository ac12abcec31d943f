//! kube-controller-manager's `--leader-elect`: of two instances only the Lease holder runs
//! controllers; when it dies, the other takes over once the Lease expires.

use std::time::{Duration, Instant};

use anyhow::Result;
use integration_tests::controller_manager::{get_ok, post_ok, start_controller_manager};
use integration_tests::TestCluster;
use serde_json::json;

const LEASE: &str =
    "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager";
const SERVICES: &str = "/api/v1/namespaces/default/services";
const ARGS: [&str; 5] = [
    "--controllers=service-lb",
    "--leader-elect=true",
    "--leader-elect-lease-duration=4s",
    "--leader-elect-renew-deadline=3s",
    "--leader-elect-retry-period=1s",
];

async fn holder(cluster: &TestCluster) -> Result<Option<String>> {
    let (code, body) = cluster.get_json(LEASE).await?;
    if code.as_u16() == 404 {
        return Ok(None);
    }
    Ok(body["spec"]["holderIdentity"].as_str().map(str::to_string))
}

async fn lb_ip(cluster: &TestCluster, name: &str) -> Result<Option<String>> {
    let svc = get_ok(cluster, &format!("{SERVICES}/{name}")).await?;
    Ok(svc["status"]["loadBalancer"]["ingress"][0]["ip"]
        .as_str()
        .map(str::to_string))
}

fn lb_service(name: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}})
}

#[tokio::test]
async fn only_the_leader_acts_and_a_standby_takes_over() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let mut first = start_controller_manager(&cluster, &ARGS)?;
    let leader = first
        .eventually("the first instance to hold the lease", || async {
            holder(&cluster).await
        })
        .await?;
    let second = start_controller_manager(&cluster, &ARGS)?;
    post_ok(&cluster, SERVICES, &lb_service("one")).await?;
    first
        .eventually("the leader to serve a LoadBalancer", || async {
            lb_ip(&cluster, "one").await
        })
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(holder(&cluster).await?, Some(leader.clone()));
    // Both instances append to the same log: exactly one of them started its controllers.
    let log = second.log_tail(100_000);
    assert_eq!(log.matches("waiting to become the leader").count(), 2);
    assert_eq!(
        log.matches("controllers started").count(),
        1,
        "the standby acted"
    );

    first.kill();
    let killed_at = Instant::now();
    let successor = second
        .eventually("the standby to take the lease", || async {
            Ok(holder(&cluster).await?.filter(|h| *h != leader))
        })
        .await?;
    assert_ne!(successor, leader);
    // Lease duration 4 s plus a retry period and scheduling slack.
    assert!(
        killed_at.elapsed() < Duration::from_secs(12),
        "took {:?}",
        killed_at.elapsed()
    );
    post_ok(&cluster, SERVICES, &lb_service("two")).await?;
    let two = second
        .eventually("the new leader to serve a LoadBalancer", || async {
            lb_ip(&cluster, "two").await
        })
        .await?;
    assert_ne!(Some(two), lb_ip(&cluster, "one").await?);
    assert_eq!(
        second
            .log_tail(100_000)
            .matches("controllers started")
            .count(),
        2
    );
    Ok(())
}
