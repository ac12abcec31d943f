//! WATCH semantics: events after a resourceVersion, initial state without one, selector
//! transitions, and 410 Gone for a resourceVersion that is too old.

use std::time::Duration;

use futures::StreamExt;
use integration_tests::{status_of, TestCluster, WatchEvent};
use reqwest::StatusCode;
use serde_json::{json, Value};

const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn configmap(name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "name": name, "labels": labels },
        "data": { "k": "v" }
    })
}

/// Next non-bookmark event, or panic after `secs`.
async fn next_event<S>(stream: &mut S, secs: u64) -> WatchEvent
where
    S: futures::Stream<Item = anyhow::Result<WatchEvent>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let item = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("timed out waiting for a watch event")
            .expect("watch stream ended early")
            .expect("bad watch event");
        if item.kind != "BOOKMARK" {
            return item;
        }
    }
}

fn rv_number(event: &WatchEvent) -> u64 {
    event.resource_version().parse().unwrap_or_default()
}

#[tokio::test]
async fn watch_from_resource_version_sees_added_modified_deleted() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (_, before) = cluster
        .post_json(CMS, &configmap("w-before", json!({})))
        .await?;
    let rv = before["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();

    let stream = cluster
        .watch(
            &format!("{CMS}?watch=true&resourceVersion={rv}&timeoutSeconds=60"),
            Duration::from_secs(70),
        )
        .await?;
    let mut stream = Box::pin(stream);

    let (status, created) = cluster.post_json(CMS, &configmap("w1", json!({}))).await?;
    assert_eq!(status, StatusCode::CREATED);
    let mut update = created.clone();
    update["data"]["k"] = json!("v2");
    let (status, _) = cluster.put_json(&format!("{CMS}/w1"), &update).await?;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = cluster.delete(&format!("{CMS}/w1")).await?;
    assert_eq!(status, StatusCode::OK);

    let added = next_event(&mut stream, 20).await;
    assert_eq!((added.kind.as_str(), added.name()), ("ADDED", "w1"));
    assert_eq!(added.object["kind"], "ConfigMap");
    assert_eq!(added.object["apiVersion"], "v1");
    let modified = next_event(&mut stream, 20).await;
    assert_eq!(
        (modified.kind.as_str(), modified.name()),
        ("MODIFIED", "w1")
    );
    assert_eq!(modified.object["data"]["k"], "v2");
    let deleted = next_event(&mut stream, 20).await;
    assert_eq!((deleted.kind.as_str(), deleted.name()), ("DELETED", "w1"));
    assert!(rv_number(&added) < rv_number(&modified));
    assert!(rv_number(&modified) < rv_number(&deleted));
    Ok(())
}

#[tokio::test]
async fn watch_without_resource_version_starts_with_current_state() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    cluster
        .post_json(CMS, &configmap("existing", json!({ "w": "x" })))
        .await?;
    let stream = cluster
        .watch(
            &format!("{CMS}?watch=true&labelSelector=w%3Dx&timeoutSeconds=30"),
            Duration::from_secs(40),
        )
        .await?;
    let mut stream = Box::pin(stream);
    let first = next_event(&mut stream, 20).await;
    assert_eq!((first.kind.as_str(), first.name()), ("ADDED", "existing"));
    Ok(())
}

#[tokio::test]
async fn object_leaving_the_selector_is_seen_as_deleted() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (_, created) = cluster
        .post_json(CMS, &configmap("sel", json!({ "team": "a" })))
        .await?;
    let rv = created["metadata"]["resourceVersion"].as_str().expect("rv");
    let stream = cluster
        .watch(
            &format!("{CMS}?watch=true&labelSelector=team%3Da&resourceVersion={rv}"),
            Duration::from_secs(40),
        )
        .await?;
    let mut stream = Box::pin(stream);
    let mut update = created.clone();
    update["metadata"]["labels"]["team"] = json!("b");
    let (status, _) = cluster.put_json(&format!("{CMS}/sel"), &update).await?;
    assert_eq!(status, StatusCode::OK);
    let event = next_event(&mut stream, 20).await;
    assert_eq!((event.kind.as_str(), event.name()), ("DELETED", "sel"));
    Ok(())
}

/// Upstream answers a too-old watch either with HTTP 410 or with a 200 stream whose first
/// event is an ERROR carrying a 410 `Expired` Status; both are "410 Gone" to clients.
async fn assert_watch_gone(cluster: &TestCluster, rv: &str) -> anyhow::Result<()> {
    let resp = cluster
        .client()
        .get(cluster.url(&format!("{CMS}?watch=true&resourceVersion={rv}")))
        .timeout(Duration::from_secs(20))
        .send()
        .await?;
    if resp.status() == StatusCode::GONE {
        let body: Value = resp.json().await?;
        let (code, reason) = status_of(&body).expect("Status body");
        assert_eq!(code, 410);
        assert!(reason == "Expired" || reason == "Gone", "{body}");
        return Ok(());
    }
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = Box::pin(integration_tests::watch_events(resp));
    let event = next_event(&mut stream, 15).await;
    assert_eq!(event.kind, "ERROR", "{event:?}");
    let (code, reason) = status_of(&event.object).expect("Status object");
    assert_eq!(code, 410, "{:?}", event.object);
    assert!(
        reason == "Expired" || reason == "Gone",
        "{:?}",
        event.object
    );
    Ok(())
}

/// Create an object and write over it a few times; returns the first resourceVersion.
async fn history(cluster: &TestCluster, name: &str) -> anyhow::Result<String> {
    let (status, created) = cluster.post_json(CMS, &configmap(name, json!({}))).await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let first_rv = created["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    let mut current = created;
    for i in 0..5 {
        current["data"]["k"] = json!(format!("v{i}"));
        let (status, updated) = cluster.put_json(&format!("{CMS}/{name}"), &current).await?;
        assert_eq!(status, StatusCode::OK, "{updated}");
        current = updated;
    }
    Ok(first_rv)
}

#[tokio::test]
async fn watch_from_compacted_revision_is_gone_with_periodic_compaction() -> anyhow::Result<()> {
    let mut cluster = TestCluster::start_with_args(&["--etcd-compaction-interval=1s"]).await?;
    let first_rv = history(&cluster, "old").await?;
    let rev: i64 = first_rv.parse()?;

    // The apiserver's own compaction must reach the revision within a few intervals.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !cluster.etcd().is_compacted(rev).await? {
        assert!(
            tokio::time::Instant::now() < deadline,
            "etcd was not compacted past {rev} by --etcd-compaction-interval=1s"
        );
        // Compaction only advances over revisions that exist; keep writing.
        history(&cluster, &format!("filler-{}", rand_suffix())).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // A fresh watch cache cannot hold history from before its start.
    cluster.restart_apiserver().await?;
    assert_watch_gone(&cluster, &first_rv).await?;

    // An exact list at a compacted revision is Expired too.
    let (status, body) = cluster
        .get_json(&format!(
            "{CMS}?resourceVersion={first_rv}&resourceVersionMatch=Exact"
        ))
        .await?;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(status_of(&body), Some((410, "Expired".into())));
    Ok(())
}

#[tokio::test]
async fn watch_from_revision_compacted_directly_in_etcd_is_gone() -> anyhow::Result<()> {
    let mut cluster = TestCluster::start().await?;
    let first_rv = history(&cluster, "old").await?;
    cluster.compact_now().await?;
    cluster.restart_apiserver().await?;
    assert_watch_gone(&cluster, &first_rv).await?;
    Ok(())
}

fn rand_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{nanos:x}")
}
