//! The replicaset controller's expectations against a real apiserver and etcd: scaling a
//! ReplicaSet from 0 to 200 while kube-controller-manager is killed and restarted half-way
//! creates exactly 200 pods — never one more, whatever the watch lagged behind the
//! creates or what the restarted manager's fresh cache held.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use futures::StreamExt;
use integration_tests::controller_manager::{
    get_ok, merge_patch_ok, post_ok, start_controller_manager,
};
use integration_tests::TestCluster;
use serde_json::json;

const RS_PATH: &str = "/apis/apps/v1/namespaces/default/replicasets/burst";
const REPLICAS: usize = 200;

/// Every pod name the watch reported ADDED, and every one it reported DELETED.
#[derive(Default)]
struct Seen {
    added: HashSet<String>,
    deleted: HashSet<String>,
}

async fn pod_count(cluster: &TestCluster) -> Result<usize> {
    let list = get_ok(
        cluster,
        "/api/v1/namespaces/default/pods?labelSelector=app%3Dburst",
    )
    .await?;
    Ok(list["items"].as_array().map_or(0, Vec::len))
}

#[tokio::test]
async fn scale_to_200_across_a_restart_creates_exactly_200_pods() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let args = ["--controllers=replicaset", "--leader-elect=false"];
    let mut cm = start_controller_manager(&cluster, &args)?;
    post_ok(
        &cluster,
        "/apis/apps/v1/namespaces/default/replicasets",
        &json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "burst"},
                "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "burst"}},
                         "template": {"metadata": {"labels": {"app": "burst"}},
                                      "spec": {"containers": [{"name": "app", "image": "busybox"}]}}}}),
    )
    .await?;
    cm.eventually("the ReplicaSet observed at replicas 0", || async {
        let rs = get_ok(&cluster, RS_PATH).await?;
        Ok((rs["status"]["observedGeneration"] == 1).then_some(()))
    })
    .await?;

    // Every pod ever created shows up as ADDED on this watch, even one deleted later.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let events = cluster
        .watch(
            "/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dburst",
            Duration::from_secs(300),
        )
        .await?;
    let (first_added_tx, mut first_added) = tokio::sync::watch::channel(0usize);
    let recorder = {
        let seen = seen.clone();
        tokio::spawn(async move {
            let mut events = Box::pin(events);
            while let Some(Ok(event)) = events.next().await {
                let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                match event.kind.as_str() {
                    "ADDED" => {
                        seen.added.insert(event.name().to_string());
                    }
                    "DELETED" => {
                        seen.deleted.insert(event.name().to_string());
                    }
                    _ => {}
                }
                let _ = first_added_tx.send(seen.added.len());
            }
        })
    };

    merge_patch_ok(&cluster, RS_PATH, &json!({"spec": {"replicas": REPLICAS}})).await?;
    // Kill the manager while it is creating: after the first few pods, before the last.
    tokio::time::timeout(Duration::from_secs(60), first_added.wait_for(|n| *n >= 10)).await??;
    cm.kill();
    let killed_at = pod_count(&cluster).await?;
    let cm = start_controller_manager(&cluster, &args)?;

    cm.eventually_within(
        Duration::from_secs(180),
        "200 pods and status.replicas = 200",
        || async {
            let rs = get_ok(&cluster, RS_PATH).await?;
            Ok((pod_count(&cluster).await? == REPLICAS
                && rs["status"]["replicas"] == REPLICAS
                && rs["status"]["observedGeneration"] == 2)
                .then_some(()))
        },
    )
    .await?;
    // Give an over-creation every chance to show before counting.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(pod_count(&cluster).await?, REPLICAS);
    {
        let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(
            seen.added.len(),
            REPLICAS,
            "pods ever created (killed with {killed_at} pods in the API)"
        );
        assert!(
            seen.deleted.is_empty(),
            "no surplus pod was created and deleted again: {:?}",
            seen.deleted
        );
    }
    recorder.abort();
    Ok(())
}
