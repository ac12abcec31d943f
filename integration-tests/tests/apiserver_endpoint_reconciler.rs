//! The `default/kubernetes` Endpoints and EndpointSlice list the apiservers that are alive
//! (`--endpoint-reconciler-type=lease`, the default): three apiservers on one etcd, one
//! shut down gracefully (it leaves before it stops), one killed (it drops out once its
//! record's time to live has passed); `none` writes nothing and `master-count` is refused.

use std::time::Duration;

use anyhow::{bail, Result};
use integration_tests::TestCluster;
use reqwest::StatusCode;
use serde_json::{json, Value};

const ENDPOINTS: &str = "/api/v1/namespaces/default/endpoints/kubernetes";
const SLICE: &str = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes";

/// The addresses the Endpoints list, in order.
async fn endpoint_ips(cluster: &TestCluster) -> Result<Vec<String>> {
    let (status, e) = cluster.get_json(ENDPOINTS).await?;
    if status != StatusCode::OK {
        bail!("GET {ENDPOINTS}: {status} {e}");
    }
    Ok(e.pointer("/subsets/0/addresses")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x["ip"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default())
}

/// Wait (up to `limit`) until the Endpoints list exactly `want`; then check the slice agrees.
async fn wait_for_ips(cluster: &TestCluster, want: &[&str], limit: Duration) -> Result<()> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let got = endpoint_ips(cluster).await?;
        if got == want {
            break;
        }
        if std::time::Instant::now() > deadline {
            bail!("kubernetes endpoints: want {want:?}, got {got:?} after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, slice) = cluster.get_json(SLICE).await?;
    let slice_ips: Vec<&str> = slice["endpoints"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["addresses"][0].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        slice_ips, want,
        "the EndpointSlice follows the Endpoints: {slice}"
    );
    Ok(())
}

#[tokio::test]
async fn kubernetes_endpoints_follow_the_live_apiservers() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let port: u16 = cluster
        .base_url()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .parse()?;

    // One apiserver: its own address and port, in upstream's shape.
    let (_, e) = cluster.get_json(ENDPOINTS).await?;
    assert_eq!(
        e["subsets"],
        json!([{"addresses": [{"ip": "127.0.0.1"}],
                "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]),
        "{e}"
    );
    assert_eq!(
        e["metadata"]["labels"],
        json!({"endpointslice.kubernetes.io/skip-mirror": "true"})
    );
    let (_, slice) = cluster.get_json(SLICE).await?;
    assert_eq!(
        slice["metadata"]["labels"],
        json!({"kubernetes.io/service-name": "kubernetes"})
    );
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(
        slice["endpoints"],
        json!([{"addresses": ["127.0.0.1"], "conditions": {"ready": true}}])
    );
    assert_eq!(
        slice["ports"],
        json!([{"name": "https", "port": port, "protocol": "TCP"}])
    );

    // Two more on the same etcd and port: each lists itself as it starts.
    let mut second = cluster.spawn_apiserver_at("127.0.0.2").await?;
    let mut third = cluster.spawn_apiserver_at("127.0.0.3").await?;
    wait_for_ips(
        &cluster,
        &["127.0.0.1", "127.0.0.2", "127.0.0.3"],
        Duration::from_secs(5),
    )
    .await?;

    // Nothing changes while all three live: the periodic passes write nothing.
    let rv = |v: &Value| v["metadata"]["resourceVersion"].as_str().map(String::from);
    let (_, before) = cluster.get_json(ENDPOINTS).await?;
    let (_, slice_before) = cluster.get_json(SLICE).await?;
    tokio::time::sleep(Duration::from_secs(12)).await;
    let (_, after) = cluster.get_json(ENDPOINTS).await?;
    let (_, slice_after) = cluster.get_json(SLICE).await?;
    assert_eq!(
        rv(&before),
        rv(&after),
        "Endpoints rewritten with nothing changed"
    );
    assert_eq!(
        rv(&slice_before),
        rv(&slice_after),
        "EndpointSlice rewritten with nothing changed"
    );

    // SIGTERM: the third takes itself out before it stops serving.
    assert!(
        third.terminate(Duration::from_secs(30)),
        "the third apiserver did not exit on SIGTERM"
    );
    wait_for_ips(
        &cluster,
        &["127.0.0.1", "127.0.0.2"],
        Duration::from_secs(12),
    )
    .await?;

    // SIGKILL: the second's record expires (15 s) and the next pass of the first drops it.
    second.kill();
    wait_for_ips(&cluster, &["127.0.0.1"], Duration::from_secs(60)).await?;
    Ok(())
}

#[tokio::test]
async fn reconciler_none_writes_no_endpoints_and_master_count_is_refused() -> Result<()> {
    let cluster = TestCluster::start_with_args(&["--endpoint-reconciler-type=none"]).await?;
    let (status, _) = cluster.get_json(ENDPOINTS).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = cluster
        .get_json("/api/v1/namespaces/default/services/kubernetes")
        .await?;
    assert_eq!(status, StatusCode::OK, "the Service itself still exists");

    let err = match TestCluster::start_with_args(&["--endpoint-reconciler-type=master-count"]).await
    {
        Ok(_) => bail!("an apiserver with --endpoint-reconciler-type=master-count started"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("master-count is deprecated upstream"), "{err}");
    Ok(())
}
