//! hollow-node against a real apiserver and etcd: N kubelets with fake runtimes in one process
//! register Ready nodes that renew Leases, run the pods bound to them (Running, with an
//! address from the node's pod CIDR) and finish their deletion.

use std::time::Duration;

use anyhow::{bail, Result};
use integration_tests::process::{self, Daemon};
use integration_tests::TestCluster;
use serde_json::{json, Value};

/// Generous: a debug build on a busy 2-core machine.
const LIMIT: Duration = Duration::from_secs(60);
const NODES: usize = 3;

fn start_hollow_nodes(cluster: &TestCluster, nodes: usize) -> Result<Daemon> {
    let bin = process::bin_dir()?.join("hollow-node");
    let args = vec![
        format!("--kubeconfig={}", cluster.kubeconfig_path().display()),
        format!("--nodes={nodes}"),
        "--name-prefix=hollow-".to_string(),
        format!("--root-dir={}", cluster.dir().join("hollow").display()),
        "--node-status-update-frequency=1".to_string(),
        "-v=2".to_string(),
    ];
    Daemon::spawn(
        "hollow-node",
        &bin,
        &args,
        &cluster.dir().join("hollow-node.log"),
    )
}

async fn get(cluster: &TestCluster, path: &str) -> Result<Option<Value>> {
    let (code, body) = cluster.get_json(path).await?;
    if code.as_u16() == 404 {
        return Ok(None);
    }
    if !code.is_success() {
        bail!("GET {path}: {code} {body}");
    }
    Ok(Some(body))
}

fn is_ready(node: &Value) -> bool {
    node["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

#[tokio::test]
async fn hollow_nodes_register_heartbeat_and_run_pods() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let hollow = start_hollow_nodes(&cluster, NODES)?;
    let start = std::time::Instant::now();

    let mut first_renewals = Vec::new();
    // Every node registers, turns Ready, reports the fake runtime and holds a renewed Lease.
    for i in 0..NODES {
        let name = format!("hollow-{i}");
        let node = hollow
            .eventually_within(LIMIT, &format!("node {name} Ready"), || async {
                Ok(get(&cluster, &format!("/api/v1/nodes/{name}"))
                    .await?
                    .filter(is_ready))
            })
            .await?;
        assert_eq!(
            node["spec"]["podCIDR"],
            format!("10.128.{i}.0/24"),
            "{node}"
        );
        let runtime = node["status"]["nodeInfo"]["containerRuntimeVersion"]
            .as_str()
            .unwrap_or_default();
        assert!(runtime.starts_with("fake://"), "runtime {runtime:?}");
        let port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
            .as_i64()
            .unwrap_or_default();
        assert!(
            port > 0,
            "kubelet port {port}: the bound port must be advertised"
        );
        let lease_path =
            format!("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}");
        let first = hollow
            .eventually_within(LIMIT, &format!("lease of {name}"), || async {
                get(&cluster, &lease_path).await
            })
            .await?;
        assert_eq!(first["spec"]["holderIdentity"], name.as_str());
        first_renewals.push((lease_path, first["spec"]["renewTime"].clone()));
    }
    // The kubelets renew every 10 s, all at once: wait for each Lease to move on.
    for (lease_path, first_renew) in &first_renewals {
        hollow
            .eventually_within(LIMIT, &format!("{lease_path} renewed"), || async {
                Ok(get(&cluster, lease_path)
                    .await?
                    .filter(|l| l["spec"]["renewTime"] != *first_renew))
            })
            .await?;
    }

    eprintln!(
        "{NODES} nodes Ready with renewed Leases after {:?}",
        start.elapsed()
    );

    // A pod bound to hollow-1 runs there with an address of hollow-1's pod CIDR.
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "hollow-pod"},
        "spec": {"nodeName": "hollow-1", "containers": [
            {"name": "app", "image": "registry.invalid/app:v1", "command": ["sleep", "3600"]}]}
    });
    let (code, body) = cluster
        .post_json("/api/v1/namespaces/default/pods", &pod)
        .await?;
    if !code.is_success() {
        bail!("creating the pod: {code} {body}");
    }
    let pod_path = "/api/v1/namespaces/default/pods/hollow-pod";
    let running = hollow
        .eventually_within(LIMIT, "pod Running with an IP", || async {
            Ok(get(&cluster, pod_path)
                .await?
                .filter(|p| p["status"]["phase"] == "Running" && p["status"]["podIP"].is_string()))
        })
        .await?;
    eprintln!("pod Running after {:?}", start.elapsed());
    let ip = running["status"]["podIP"].as_str().unwrap_or_default();
    assert!(
        ip.starts_with("10.128.1."),
        "pod IP {ip} outside hollow-1's CIDR"
    );
    let status = &running["status"]["containerStatuses"][0];
    assert_eq!(status["name"], "app", "{running}");
    assert!(
        status["state"]["running"]["startedAt"].is_string(),
        "{status}"
    );
    assert!(
        status["imageID"]
            .as_str()
            .unwrap_or_default()
            .contains("sha256:"),
        "{status}"
    );

    // Deletion: the kubelet stops the containers and finishes the delete.
    let (code, body) = cluster
        .delete(&format!("{pod_path}?gracePeriodSeconds=5"))
        .await?;
    if !code.is_success() {
        bail!("deleting the pod: {code} {body}");
    }
    hollow
        .eventually_within(LIMIT, "pod gone from the API", || async {
            Ok(get(&cluster, pod_path).await?.is_none().then_some(()))
        })
        .await?;
    eprintln!("pod deleted after {:?}", start.elapsed());
    Ok(())
}
