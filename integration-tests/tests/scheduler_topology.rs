//! kube-scheduler's topology plugins against a real apiserver and etcd: PodTopologySpread
//! and InterPodAffinity on nodes labelled with zones, on cases where LeastAllocated alone
//! would pick the other node.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use integration_tests::process::Daemon;
use integration_tests::scheduler::start_scheduler;
use integration_tests::TestCluster;
use serde_json::{json, Value};

/// Generous: a debug build on a busy 2-core machine.
const DEADLINE: Duration = Duration::from_secs(60);

/// A Ready node with `cpu` cores, in `zone`, labelled with its hostname.
async fn create_node(cluster: &TestCluster, name: &str, cpu: &str, zone: &str) -> Result<()> {
    let status = json!({"capacity": {"cpu": cpu, "memory": "64Gi", "pods": "110"},
                        "allocatable": {"cpu": cpu, "memory": "64Gi", "pods": "110"},
                        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                        "message": "test node", "lastHeartbeatTime": "2024-01-01T00:00:00Z",
                                        "lastTransitionTime": "2024-01-01T00:00:00Z"}]});
    let node = json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "topology.kubernetes.io/zone": zone, "kubernetes.io/hostname": name}},
        "spec": {}, "status": status});
    integration_tests::scheduler::create_node_with_status(cluster, node, &status).await
}

/// A pod labelled `app: <app>` asking for 100m cpu, with `extra` merged into its spec.
async fn create_pod(cluster: &TestCluster, name: &str, app: &str, extra: Value) -> Result<()> {
    let mut spec = json!({"containers": [{"name": "app", "image": "busybox",
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]});
    if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
        spec.extend(extra);
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}}, "spec": spec});
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

/// A cluster with a scheduler, a roomy node `big` in zone-a and a `small` one in zone-b.
async fn setup() -> Result<(TestCluster, Daemon)> {
    let cluster = TestCluster::start().await?;
    let scheduler = start_scheduler(&cluster, &["--secure-port=0"])?;
    create_node(&cluster, "big", "16", "zone-a").await?;
    create_node(&cluster, "small", "2", "zone-b").await?;
    Ok((cluster, scheduler))
}

#[tokio::test]
async fn zone_spread_places_two_pods_per_zone_despite_free_capacity() -> Result<()> {
    let (cluster, scheduler) = setup().await?;
    let spread = json!({"topologySpreadConstraints": [{"maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"app": "web"}}}]});
    for i in 0..4 {
        create_pod(&cluster, &format!("web-{i}"), "web", spread.clone()).await?;
    }
    let mut on_small = 0;
    for i in 0..4 {
        if wait_bound(&cluster, &scheduler, &format!("web-{i}")).await? == "small" {
            on_small += 1;
        }
    }
    assert_eq!(on_small, 2, "zone-b must hold exactly two of the four pods");
    // Without the constraint, LeastAllocated sends a pod to the roomy node.
    create_pod(&cluster, "free", "other", json!({})).await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "free").await?, "big");
    Ok(())
}

#[tokio::test]
async fn required_anti_affinity_keeps_same_label_pods_apart() -> Result<()> {
    let (cluster, scheduler) = setup().await?;
    let anti = json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "cache"}}}]}}});
    create_pod(&cluster, "cache-0", "cache", anti.clone()).await?;
    create_pod(&cluster, "cache-1", "cache", anti).await?;
    let first = wait_bound(&cluster, &scheduler, "cache-0").await?;
    let second = wait_bound(&cluster, &scheduler, "cache-1").await?;
    // LeastAllocated alone would put both on the roomy node.
    assert_ne!(first, second);
    Ok(())
}

#[tokio::test]
async fn required_affinity_colocates_with_the_pod_on_the_small_node() -> Result<()> {
    let (cluster, scheduler) = setup().await?;
    create_pod(
        &cluster,
        "db",
        "db",
        json!({"nodeSelector": {"kubernetes.io/hostname": "small"}}),
    )
    .await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "db").await?, "small");
    let affinity = json!({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": "topology.kubernetes.io/zone", "labelSelector": {"matchLabels": {"app": "db"}}}]}}});
    create_pod(&cluster, "web", "web", affinity).await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "web").await?, "small");
    Ok(())
}

/// Preemption lives here too: it reuses this file's node and pod helpers.
#[tokio::test]
async fn high_priority_pod_preempts_one_low_priority_pod() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let scheduler = start_scheduler(&cluster, &["--secure-port=0"])?;
    create_node(&cluster, "only", "2", "zone-a").await?;
    // Pods get their priority from a PriorityClass (Priority admission refuses a bare number).
    for (class, value) in [("low", 1), ("high", 100)] {
        let (code, body) = cluster
            .post_json(
                "/apis/scheduling.k8s.io/v1/priorityclasses",
                &json!({"metadata": {"name": class}, "value": value}),
            )
            .await?;
        if !code.is_success() {
            bail!("creating PriorityClass {class}: {code} {body}");
        }
    }
    let asking = |cpu: &str, class: &str| {
        json!({"priorityClassName": class, "containers": [{"name": "app", "image": "busybox",
            "resources": {"requests": {"cpu": cpu}}}]})
    };
    // Admission reads PriorityClasses from the watch cache: wait until it has them.
    let mut created = false;
    for _ in 0..50 {
        if create_pod(&cluster, "low-1", "low", asking("900m", "low"))
            .await
            .is_ok()
        {
            created = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(created, "pod low-1 was never admitted");
    create_pod(&cluster, "low-2", "low", asking("900m", "low")).await?;
    assert_eq!(wait_bound(&cluster, &scheduler, "low-1").await?, "only");
    assert_eq!(wait_bound(&cluster, &scheduler, "low-2").await?, "only");
    create_pod(&cluster, "high", "high", asking("1", "high")).await?;

    // Nominated, and exactly one victim deleted gracefully; with no kubelet here, the
    // test finishes the victims' termination itself.
    let start = Instant::now();
    let mut victims = Vec::new();
    loop {
        let (_, high) = cluster
            .get_json("/api/v1/namespaces/default/pods/high")
            .await?;
        let nominated = high["status"]["nominatedNodeName"].as_str() == Some("only");
        for name in ["low-1", "low-2"] {
            let (code, pod) = cluster
                .get_json(&format!("/api/v1/namespaces/default/pods/{name}"))
                .await?;
            let terminating =
                code.as_u16() == 404 || !pod["metadata"]["deletionTimestamp"].is_null();
            if terminating && !victims.contains(&name) {
                victims.push(name);
                cluster
                    .delete(&format!(
                        "/api/v1/namespaces/default/pods/{name}?gracePeriodSeconds=0"
                    ))
                    .await?;
            }
        }
        if nominated && !victims.is_empty() {
            break;
        }
        if start.elapsed() > DEADLINE {
            bail!(
                "no preemption: high {high}\n--- scheduler log ---\n{}",
                scheduler.log_tail(40)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(wait_bound(&cluster, &scheduler, "high").await?, "only");
    assert_eq!(victims.len(), 1, "one victim frees enough cpu");
    let survivor = if victims[0] == "low-1" {
        "low-2"
    } else {
        "low-1"
    };
    let (code, pod) = cluster
        .get_json(&format!("/api/v1/namespaces/default/pods/{survivor}"))
        .await?;
    assert!(code.is_success() && pod["metadata"]["deletionTimestamp"].is_null());
    Ok(())
}

#[tokio::test]
async fn default_constraints_spread_the_pods_a_service_selects() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let config = cluster.dir().join("scheduler-config.yaml");
    std::fs::write(
        &config,
        r#"apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: PodTopologySpread
    args:
      defaultingType: List
      defaultConstraints:
      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule}
"#,
    )?;
    let scheduler = start_scheduler(
        &cluster,
        &["--secure-port=0", &format!("--config={}", config.display())],
    )?;
    create_node(&cluster, "big", "16", "zone-a").await?;
    create_node(&cluster, "small", "2", "zone-b").await?;
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
    let (code, body) = cluster
        .post_json("/api/v1/namespaces/default/services", &svc)
        .await?;
    if !code.is_success() {
        bail!("creating service: {code} {body}");
    }
    // The pods carry no constraints: the Service's selector makes them one workload, so
    // the default zone constraint puts two in each zone despite the roomy node.
    for i in 0..4 {
        create_pod(&cluster, &format!("web-{i}"), "web", json!({})).await?;
    }
    let mut on_small = 0;
    for i in 0..4 {
        if wait_bound(&cluster, &scheduler, &format!("web-{i}")).await? == "small" {
            on_small += 1;
        }
    }
    assert_eq!(on_small, 2, "zone-b must hold exactly two of the four pods");
    // A pod no Service selects is not spread: LeastAllocated sends it to the roomy node.
    for i in 0..2 {
        create_pod(&cluster, &format!("free-{i}"), "other", json!({})).await?;
        assert_eq!(
            wait_bound(&cluster, &scheduler, &format!("free-{i}")).await?,
            "big"
        );
    }
    Ok(())
}
