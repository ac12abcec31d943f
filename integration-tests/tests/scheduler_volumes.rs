//! kube-scheduler's VolumeBinding plugin against a real apiserver and etcd: local
//! PersistentVolumes with node affinity to the small node `node-b`, where LeastAllocated
//! alone would pick the roomy `node-a`.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use integration_tests::controller_manager::start_controller_manager;
use integration_tests::process::Daemon;
use integration_tests::scheduler::start_scheduler;
use integration_tests::TestCluster;
use serde_json::{json, Value};

/// Generous: a debug build on a busy 2-core machine.
const DEADLINE: Duration = Duration::from_secs(60);

/// A Ready node with `cpu` cores, labelled with its hostname.
async fn create_node(cluster: &TestCluster, name: &str, cpu: &str) -> Result<()> {
    let status = json!({"capacity": {"cpu": cpu, "memory": "64Gi", "pods": "110"},
                        "allocatable": {"cpu": cpu, "memory": "64Gi", "pods": "110"},
                        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                        "message": "test node", "lastHeartbeatTime": "2024-01-01T00:00:00Z",
                                        "lastTransitionTime": "2024-01-01T00:00:00Z"}]});
    let node = json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {}, "status": status});
    integration_tests::scheduler::create_node_with_status(cluster, node, &status).await
}

async fn post(cluster: &TestCluster, path: &str, obj: Value) -> Result<()> {
    let (code, body) = cluster.post_json(path, &obj).await?;
    if !code.is_success() {
        bail!("POST {path}: {code} {body}");
    }
    Ok(())
}

/// A local PersistentVolume of `size` on `host` (node affinity on the hostname label).
async fn create_local_pv(
    cluster: &TestCluster,
    name: &str,
    size: &str,
    class: &str,
    host: &str,
) -> Result<()> {
    let pv = json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
        "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": "Retain", "storageClassName": class,
                 "local": {"path": format!("/mnt/{name}")},
                 "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                     {"key": "kubernetes.io/hostname", "operator": "In", "values": [host]}]}]}}}});
    post(cluster, "/api/v1/persistentvolumes", pv).await
}

/// A claim for `size`; `extra` is merged into its spec.
async fn create_pvc(cluster: &TestCluster, name: &str, size: &str, extra: Value) -> Result<()> {
    let mut spec =
        json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}});
    if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
        spec.extend(extra);
    }
    let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name}, "spec": spec});
    post(
        cluster,
        "/api/v1/namespaces/default/persistentvolumeclaims",
        pvc,
    )
    .await
}

/// A 100m pod mounting the claim `claim`.
async fn create_pod(cluster: &TestCluster, name: &str, claim: &str) -> Result<()> {
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "busybox",
                                 "resources": {"requests": {"cpu": "100m"}},
                                 "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                 "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]}});
    post(cluster, "/api/v1/namespaces/default/pods", pod).await
}

/// Poll `path` until `done` holds; returns the object.
async fn wait_for(
    cluster: &TestCluster,
    daemon: &Daemon,
    path: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let start = Instant::now();
    loop {
        let (code, obj) = cluster.get_json(path).await?;
        if code.is_success() && done(&obj) {
            return Ok(obj);
        }
        if start.elapsed() > DEADLINE {
            bail!(
                "{what}: not reached: {obj}\n--- scheduler log ---\n{}",
                daemon.log_tail(40)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_bound(cluster: &TestCluster, scheduler: &Daemon, pod: &str) -> Result<String> {
    let obj = wait_for(
        cluster,
        scheduler,
        &format!("/api/v1/namespaces/default/pods/{pod}"),
        &format!("pod {pod} bound"),
        |p| {
            p["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| !n.is_empty())
        },
    )
    .await?;
    Ok(obj["spec"]["nodeName"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// Wait for `PodScheduled=False` with a message containing `needle`; returns the message.
async fn wait_unschedulable(
    cluster: &TestCluster,
    scheduler: &Daemon,
    pod: &str,
    needle: &str,
) -> Result<String> {
    let condition = |p: &Value| {
        p["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "PodScheduled"))
            .cloned()
    };
    let obj = wait_for(
        cluster,
        scheduler,
        &format!("/api/v1/namespaces/default/pods/{pod}"),
        &format!("pod {pod} unschedulable for {needle:?}"),
        |p| {
            condition(p).is_some_and(|c| {
                c["status"] == "False" && c["message"].as_str().is_some_and(|m| m.contains(needle))
            })
        },
    )
    .await?;
    Ok(condition(&obj)
        .map(|c| c["message"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default())
}

/// A cluster with a scheduler, a roomy `node-a` and a small `node-b`.
async fn setup() -> Result<(TestCluster, Daemon)> {
    let cluster = TestCluster::start().await?;
    let scheduler = start_scheduler(&cluster, &["--secure-port=0"])?;
    create_node(&cluster, "node-a", "16").await?;
    create_node(&cluster, "node-b", "2").await?;
    Ok((cluster, scheduler))
}

#[tokio::test]
async fn bound_local_volume_pulls_the_pod_to_its_node() -> Result<()> {
    let (cluster, scheduler) = setup().await?;
    // First the claim is missing: the pod waits, naming it.
    create_pod(&cluster, "db", "data").await?;
    let message = wait_unschedulable(&cluster, &scheduler, "db", "not found").await?;
    assert_eq!(
        message,
        "0/2 nodes are available: persistentvolumeclaim \"data\" not found. \
         preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    );
    // The claim appears, bound to a local volume on node-b: the event requeues the pod and
    // the volume's node affinity wins over node-a's free cpu.
    create_local_pv(&cluster, "local-b", "5Gi", "local", "node-b").await?;
    create_pvc(
        &cluster,
        "data",
        "1Gi",
        json!({"storageClassName": "local", "volumeName": "local-b"}),
    )
    .await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "db").await?, "node-b");
    Ok(())
}

#[tokio::test]
async fn unbound_immediate_claim_keeps_the_pod_pending() -> Result<()> {
    let (cluster, scheduler) = setup().await?;
    create_local_pv(&cluster, "local-b", "5Gi", "", "node-b").await?;
    create_pvc(&cluster, "data", "1Gi", json!({})).await?;
    create_pod(&cluster, "db", "data").await?;
    let message = wait_unschedulable(&cluster, &scheduler, "db", "unbound immediate").await?;
    assert_eq!(
        message,
        "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. \
         preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    );
    // Nothing binds the claim here (no PV controller): the pod stays unassigned.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, pod) = cluster
        .get_json("/api/v1/namespaces/default/pods/db")
        .await?;
    assert!(pod["spec"]["nodeName"].is_null(), "{pod}");
    Ok(())
}

#[tokio::test]
async fn wait_for_first_consumer_binds_the_volume_on_the_chosen_node() -> Result<()> {
    let (cluster, scheduler) = setup().await?;
    let _kcm = start_controller_manager(
        &cluster,
        &[
            "--controllers=persistentvolume-binder",
            "--leader-elect=false",
        ],
    )?;
    post(&cluster, "/apis/storage.k8s.io/v1/storageclasses", json!({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local"},
        "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer"})).await?;
    // node-a's volume is too small for the claim; node-b's fits.
    create_local_pv(&cluster, "local-a", "100Mi", "local", "node-a").await?;
    create_local_pv(&cluster, "local-b", "5Gi", "local", "node-b").await?;
    create_pvc(
        &cluster,
        "data",
        "1Gi",
        json!({"storageClassName": "local"}),
    )
    .await?;
    // WaitForFirstConsumer: the controller leaves the claim alone until a pod uses it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, pvc) = cluster
        .get_json("/api/v1/namespaces/default/persistentvolumeclaims/data")
        .await?;
    assert_eq!(pvc["status"]["phase"], "Pending", "{pvc}");

    create_pod(&cluster, "db", "data").await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "db").await?, "node-b");
    let pv = wait_for(
        &cluster,
        &scheduler,
        "/api/v1/persistentvolumes/local-b",
        "local-b claimed",
        |pv| pv["spec"]["claimRef"]["name"] == "data",
    )
    .await?;
    assert_eq!(pv["spec"]["claimRef"]["namespace"], "default");
    let pvc = wait_for(
        &cluster,
        &scheduler,
        "/api/v1/namespaces/default/persistentvolumeclaims/data",
        "claim bound",
        |c| c["status"]["phase"] == "Bound",
    )
    .await?;
    assert_eq!(pvc["spec"]["volumeName"], "local-b");
    let (_, small) = cluster
        .get_json("/api/v1/persistentvolumes/local-a")
        .await?;
    assert!(small["spec"]["claimRef"].is_null(), "{small}");

    // A second pod with a claim only node-a's small volume fits: it lands on node-a.
    create_pvc(
        &cluster,
        "scratch",
        "50Mi",
        json!({"storageClassName": "local"}),
    )
    .await?;
    create_pod(&cluster, "cache", "scratch").await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "cache").await?, "node-a");
    Ok(())
}
