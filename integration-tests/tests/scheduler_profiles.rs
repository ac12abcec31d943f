//! kube-scheduler `--config` profiles against a real apiserver and etcd: several
//! `schedulerName`s in one scheduler, each with its own plugins, weights and plugin args,
//! on cases where a profile applied wrongly (or not at all) would pick another node; and
//! invalid configurations refused at start with the field named.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use integration_tests::process::Daemon;
use integration_tests::scheduler::start_scheduler;
use integration_tests::TestCluster;
use serde_json::{json, Value};

/// Generous: a debug build on a busy 2-core machine.
const DEADLINE: Duration = Duration::from_secs(60);

/// A Ready node with `cpu` cores, `memory` and `taints`.
async fn create_node(
    cluster: &TestCluster,
    name: &str,
    cpu: &str,
    memory: &str,
    taints: Value,
) -> Result<()> {
    let status = json!({"capacity": {"cpu": cpu, "memory": memory, "pods": "110"},
                        "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
                        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                        "message": "test node", "lastHeartbeatTime": "2024-01-01T00:00:00Z",
                                        "lastTransitionTime": "2024-01-01T00:00:00Z"}]});
    let node = json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {"taints": taints}, "status": status});
    integration_tests::scheduler::create_node_with_status(cluster, node, &status).await
}

/// A pod asking for `cpu` and `memory`; `scheduler` names its profile, `node` binds it
/// directly (a pod already running there).
async fn create_pod(
    cluster: &TestCluster,
    name: &str,
    cpu: &str,
    memory: &str,
    scheduler: Option<&str>,
    node: Option<&str>,
) -> Result<()> {
    let mut spec = json!({"containers": [{"name": "app", "image": "busybox",
        "resources": {"requests": {"cpu": cpu, "memory": memory}}}]});
    if let Some(s) = scheduler {
        spec["schedulerName"] = json!(s);
    }
    if let Some(n) = node {
        spec["nodeName"] = json!(n);
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec});
    let (code, body) = cluster
        .post_json("/api/v1/namespaces/default/pods", &pod)
        .await?;
    if !code.is_success() {
        bail!("creating pod {name}: {code} {body}");
    }
    Ok(())
}

/// Poll until the pod is bound; returns its node.
async fn wait_bound(cluster: &TestCluster, scheduler: &Daemon, name: &str) -> Result<String> {
    let start = Instant::now();
    loop {
        let (code, pod) = cluster
            .get_json(&format!("/api/v1/namespaces/default/pods/{name}"))
            .await?;
        if !code.is_success() {
            bail!("getting pod {name}: {code} {pod}");
        }
        if let Some(node) = pod["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) {
            return Ok(node.to_string());
        }
        if start.elapsed() > DEADLINE {
            bail!(
                "pod {name} not bound: {pod}\n--- scheduler log ---\n{}",
                scheduler.log_tail(40)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Write `config` next to the cluster and start kube-scheduler with it.
fn start_with_config(cluster: &TestCluster, config: &str) -> Result<Daemon> {
    let path = cluster.dir().join("scheduler-config.yaml");
    std::fs::write(&path, config).context("writing the scheduler config")?;
    start_scheduler(
        cluster,
        &["--secure-port=0", &format!("--config={}", path.display())],
    )
}

const NO_TAINTS: Value = Value::Null;

/// Three profiles in one scheduler: the default; `bin-packer` with NodeResourcesFit's
/// MostAllocated strategy; `ignore-taints` with TaintToleration's filter disabled.
#[tokio::test]
async fn each_profile_schedules_with_its_own_plugins() -> Result<()> {
    let cluster = TestCluster::start().await?;
    create_node(&cluster, "busy", "4", "8Gi", NO_TAINTS).await?;
    create_node(&cluster, "idle", "4", "8Gi", NO_TAINTS).await?;
    let taint = json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]);
    create_node(&cluster, "tainted", "16", "32Gi", taint).await?;
    // Half of "busy" is taken by a pod already bound there.
    create_pod(&cluster, "filler", "2", "4Gi", None, Some("busy")).await?;

    let scheduler = start_with_config(
        &cluster,
        r#"apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources:
        - {name: cpu, weight: 1}
        - {name: memory, weight: 1}
- schedulerName: ignore-taints
  plugins:
    filter:
      disabled:
      - name: TaintToleration
"#,
    )?;
    // LeastAllocated: the empty node; the roomier tainted one is filtered out.
    create_pod(&cluster, "spread", "500m", "512Mi", None, None).await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "spread").await?, "idle");
    // MostAllocated: the fuller node.
    create_pod(
        &cluster,
        "packed",
        "500m",
        "512Mi",
        Some("bin-packer"),
        None,
    )
    .await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "packed").await?, "busy");
    // Without the taint filter the tainted node is the roomiest.
    create_pod(
        &cluster,
        "anywhere",
        "3",
        "1Gi",
        Some("ignore-taints"),
        None,
    )
    .await?;
    assert_eq!(
        wait_bound(&cluster, &scheduler, "anywhere").await?,
        "tainted"
    );
    Ok(())
}

/// Score weights decide between a PreferNoSchedule-tainted empty node and an untainted
/// half-full one: by default TaintToleration (3) outweighs NodeResourcesFit (1); with
/// NodeResourcesFit at 10 the empty node wins.
#[tokio::test]
async fn score_weights_change_the_winner() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let soft = json!([{"key": "maintenance", "value": "soon", "effect": "PreferNoSchedule"}]);
    create_node(&cluster, "soft-tainted", "4", "8Gi", soft).await?;
    create_node(&cluster, "loaded", "4", "8Gi", NO_TAINTS).await?;
    create_pod(&cluster, "filler", "2", "4Gi", None, Some("loaded")).await?;
    let scheduler = start_with_config(
        &cluster,
        r#"apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: fit-heavy
  plugins:
    score:
      enabled:
      - name: NodeResourcesFit
        weight: 10
"#,
    )?;
    create_pod(&cluster, "default", "500m", "512Mi", None, None).await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "default").await?, "loaded");
    create_pod(&cluster, "heavy", "500m", "512Mi", Some("fit-heavy"), None).await?;
    assert_eq!(
        wait_bound(&cluster, &scheduler, "heavy").await?,
        "soft-tainted"
    );
    Ok(())
}

/// Run kube-scheduler with `config` (no cluster needed: validation comes first); returns
/// its exit success and stderr.
async fn run_with_config(dir: &Path, config: &str) -> Result<(bool, String)> {
    let path = dir.join("scheduler-config.yaml");
    std::fs::write(&path, config)?;
    let bin = integration_tests::process::bin_dir()?.join("kube-scheduler");
    let child = tokio::process::Command::new(bin)
        .arg(format!("--config={}", path.display()))
        .arg("--kubeconfig=/nonexistent")
        .arg("--secure-port=0")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), child)
        .await
        .context("kube-scheduler did not exit on an invalid config")??;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[tokio::test]
async fn invalid_configurations_refuse_to_start() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let header = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";
    let cases = [
        (
            "profiles:\n- schedulerName: a\n  plugins:\n    score:\n      enabled:\n      - name: NoSuchPlugin\n",
            "profiles[0].plugins.score.enabled[0].name",
        ),
        (
            "profiles:\n- schedulerName: a\n- schedulerName: b\n  pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: Fullest\n",
            "profiles[1].pluginConfig[0].args.scoringStrategy.type",
        ),
        (
            "profiles:\n- pluginConfig:\n  - name: InterPodAffinity\n    args:\n      hardPodAffinityWeight: 101\n",
            "profiles[0].pluginConfig[0].args.hardPodAffinityWeight",
        ),
        (
            "profiles:\n- schedulerName: a\n- schedulerName: a\n",
            "profiles[1].schedulerName",
        ),
        (
            "profiles:\n- plugins:\n    filter:\n      enabled:\n      - name: ImageLocality\n",
            "does not extend FilterPlugin",
        ),
        ("profiles:\n- plugins:\n    fliter: {}\n", "unknown field `fliter`"),
    ];
    for (body, expected) in cases {
        let (ok, stderr) = run_with_config(dir.path(), &format!("{header}{body}")).await?;
        assert!(!ok, "started with {body:?}");
        assert!(stderr.contains(expected), "{body:?}: {stderr}");
    }
    Ok(())
}
