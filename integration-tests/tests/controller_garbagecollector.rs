//! The garbage collector of kube-controller-manager against a real apiserver and etcd:
//! orphan propagation releases dependents before the owner goes, dependents whose owners
//! are all gone are collected, partially-owned ones lose only the dangling references, and
//! a collector that starts with objects already in the cluster deletes nothing wrongly.
//! Only the `garbagecollector` controller runs, so every change seen is the collector's.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use integration_tests::controller_manager::{get_ok, post_ok, start_controller_manager};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const REPLICASETS: &str = "/apis/apps/v1/namespaces/default/replicasets";
const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

/// An owner reference to `owner` (a created object as the apiserver returned it).
fn owner_ref(owner: &Value, controller: bool) -> Value {
    json!({"apiVersion": owner["apiVersion"], "kind": owner["kind"],
           "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
           "controller": controller, "blockOwnerDeletion": controller})
}

/// A Deployment named `name` (no deployment controller runs: it is only an owner).
async fn deployment(cluster: &TestCluster, name: &str) -> Result<Value> {
    post_ok(
        cluster,
        DEPLOYMENTS,
        &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}}}),
    )
    .await
}

/// A ReplicaSet named `name` controlled by `owner`, as the deployment controller makes them.
async fn replicaset_of(cluster: &TestCluster, name: &str, owner: &Value) -> Result<Value> {
    let app = owner["metadata"]["name"].clone();
    post_ok(
        cluster,
        REPLICASETS,
        &json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "labels": {"app": app},
                "ownerReferences": [owner_ref(owner, true)]},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": app}},
                "template": {"metadata": {"labels": {"app": app}},
                    "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}}}),
    )
    .await
}

/// A ConfigMap named `name` owned by `owners` (given as owner references).
async fn configmap(cluster: &TestCluster, name: &str, owners: Vec<Value>) -> Result<Value> {
    let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
    if !owners.is_empty() {
        cm["metadata"]["ownerReferences"] = Value::Array(owners);
    }
    post_ok(cluster, CONFIGMAPS, &cm).await
}

/// DELETE `path` with `propagationPolicy`.
async fn delete_with(cluster: &TestCluster, path: &str, policy: &str) -> Result<()> {
    let code = cluster
        .client()
        .delete(cluster.url(path))
        .json(&json!({"propagationPolicy": policy}))
        .send()
        .await?
        .status();
    if !code.is_success() {
        bail!("DELETE {path} ({policy}): {code}");
    }
    Ok(())
}

async fn exists(cluster: &TestCluster, path: &str) -> Result<bool> {
    Ok(cluster.get_json(path).await?.0.is_success())
}

/// The uids an object's ownerReferences point at.
fn owner_uids(obj: &Value) -> Vec<String> {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["uid"].as_str().map(str::to_string))
        .collect()
}

/// Delete a fresh owner in the background and wait for its dependent to be collected: once
/// that happened, the collector has seen every change made before it (a barrier that
/// replaces sleeping before asserting that something was *not* done).
async fn collector_barrier(
    cluster: &TestCluster,
    cm: &integration_tests::process::Daemon,
    tag: &str,
) -> Result<()> {
    let owner = configmap(cluster, &format!("barrier-owner-{tag}"), vec![]).await?;
    let dep = format!("{CONFIGMAPS}/barrier-dependent-{tag}");
    configmap(
        cluster,
        &format!("barrier-dependent-{tag}"),
        vec![owner_ref(&owner, false)],
    )
    .await?;
    cluster
        .delete(&format!("{CONFIGMAPS}/barrier-owner-{tag}"))
        .await?;
    cm.eventually("the barrier dependent collected", || async {
        Ok((!exists(cluster, &dep).await?).then_some(()))
    })
    .await
}

#[tokio::test]
async fn orphan_delete_of_a_deployment_releases_its_replicaset_then_goes() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=garbagecollector"])?;
    let owner = deployment(&cluster, "web").await?;
    replicaset_of(&cluster, "web-1", &owner).await?;
    // A second owner keeps its ReplicaSet: orphaning one owner touches nothing else.
    let other = deployment(&cluster, "api").await?;
    replicaset_of(&cluster, "api-1", &other).await?;

    // `kubectl delete deploy web --cascade=orphan`.
    delete_with(&cluster, &format!("{DEPLOYMENTS}/web"), "Orphan").await?;
    cm.eventually("web gone and web-1 released", || async {
        let gone = !exists(&cluster, &format!("{DEPLOYMENTS}/web")).await?;
        let rs = get_ok(&cluster, &format!("{REPLICASETS}/web-1")).await?;
        Ok((gone && rs["metadata"]["ownerReferences"].is_null()).then_some(()))
    })
    .await?;

    // Released means kept: the collector does not come back for the ReplicaSet later.
    collector_barrier(&cluster, &cm, "orphan").await?;
    let rs = get_ok(&cluster, &format!("{REPLICASETS}/web-1")).await?;
    assert!(
        rs["metadata"]["ownerReferences"].is_null(),
        "web-1 still owned: {rs}"
    );
    let api = get_ok(&cluster, &format!("{REPLICASETS}/api-1")).await?;
    assert_eq!(
        owner_uids(&api),
        vec![other["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string()],
        "api-1 lost its owner"
    );
    Ok(())
}

#[tokio::test]
async fn collector_started_on_an_existing_cluster_deletes_only_what_is_ownerless() -> Result<()> {
    let cluster = TestCluster::start().await?;
    // Everything below exists before the collector starts, so its first decisions are made
    // right after its watches list the cluster.
    let owner = configmap(&cluster, "owner", vec![]).await?;
    configmap(&cluster, "owned", vec![owner_ref(&owner, true)]).await?;
    let gone_ref = json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "never-was",
        "uid": "00000000-0000-0000-0000-00000000dead"});
    configmap(&cluster, "ownerless", vec![gone_ref.clone()]).await?;
    configmap(
        &cluster,
        "half-owned",
        vec![owner_ref(&owner, false), gone_ref.clone()],
    )
    .await?;
    // An owner of a kind no resource serves counts as present: never deleted on a guess.
    configmap(
        &cluster,
        "unknown-kind-owner",
        vec![
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "name": "w",
            "uid": "00000000-0000-0000-0000-00000000beef"}),
        ],
    )
    .await?;

    let cm = start_controller_manager(&cluster, &["--controllers=garbagecollector"])?;
    cm.eventually("ownerless collected, half-owned released", || async {
        let ownerless_gone = !exists(&cluster, &format!("{CONFIGMAPS}/ownerless")).await?;
        let half = get_ok(&cluster, &format!("{CONFIGMAPS}/half-owned")).await?;
        Ok((ownerless_gone && owner_uids(&half).len() == 1).then_some(()))
    })
    .await?;
    collector_barrier(&cluster, &cm, "startup").await?;

    let owned = get_ok(&cluster, &format!("{CONFIGMAPS}/owned")).await?;
    assert_eq!(owned["metadata"]["ownerReferences"][0]["name"], "owner");
    let half = get_ok(&cluster, &format!("{CONFIGMAPS}/half-owned")).await?;
    assert_eq!(
        owner_uids(&half),
        vec![owner["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string()],
        "only the dangling reference goes"
    );
    assert!(
        exists(&cluster, &format!("{CONFIGMAPS}/unknown-kind-owner")).await?,
        "an object owned by an unknown kind was deleted"
    );
    Ok(())
}

/// Manual stopwatch, not a test of timing: how long `DELETE … propagationPolicy=Orphan` of
/// a Deployment with one ReplicaSet takes until the Deployment is gone. Run with
/// `cargo nextest run -p integration-tests --run-ignored ignored-only -E 'test(orphan_delete_latency)' --no-capture`.
#[tokio::test]
#[ignore = "a measurement printed for humans; asserts no timing"]
async fn orphan_delete_latency() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=garbagecollector"])?;
    // Let the collector finish its start-up before measuring.
    collector_barrier(&cluster, &cm, "warmup").await?;
    let mut samples = Vec::new();
    for i in 0..10 {
        let name = format!("d{i}");
        let owner = deployment(&cluster, &name).await?;
        replicaset_of(&cluster, &format!("{name}-1"), &owner).await?;
        let path = format!("{DEPLOYMENTS}/{name}");
        let start = Instant::now();
        delete_with(&cluster, &path, "Orphan").await?;
        loop {
            if !exists(&cluster, &path).await? {
                break;
            }
            if start.elapsed() > Duration::from_secs(60) {
                bail!("{name} still there after a minute");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        samples.push(start.elapsed());
    }
    samples.sort();
    println!(
        "orphan delete of a Deployment until gone, {} runs: min {:?} median {:?} max {:?}",
        samples.len(),
        samples[0],
        samples[samples.len() / 2],
        samples[samples.len() - 1]
    );
    Ok(())
}
