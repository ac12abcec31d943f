//! LIST semantics: limit/continue pages over one snapshot, label and field selectors.

use std::collections::BTreeSet;

use integration_tests::{status_of, TestCluster};
use reqwest::StatusCode;
use serde_json::{json, Value};

const CMS: &str = "/api/v1/namespaces/default/configmaps";

async fn create(cluster: &TestCluster, name: &str, labels: Value) -> anyhow::Result<()> {
    let body = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "name": name, "labels": labels },
        "data": { "k": name }
    });
    let (status, answer) = cluster.post_json(CMS, &body).await?;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    Ok(())
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["metadata"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `kube-root-ca.crt` may be published into every namespace by a controller; the tests
/// count only their own objects.
fn ours(names: Vec<String>) -> Vec<String> {
    names.into_iter().filter(|n| n.starts_with("cm-")).collect()
}

#[tokio::test]
async fn limit_and_continue_walk_one_snapshot() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    for i in 0..7 {
        create(
            &cluster,
            &format!("cm-{i:02}"),
            json!({ "batch": "paging" }),
        )
        .await?;
    }

    let (status, first) = cluster.get_json(&format!("{CMS}?limit=3")).await?;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["kind"], "ConfigMapList");
    assert_eq!(first["items"].as_array().map(Vec::len), Some(3));
    let token = first["metadata"]["continue"]
        .as_str()
        .filter(|t| !t.is_empty())
        .expect("continue token on a partial page")
        .to_string();
    let list_rv = first["metadata"]["resourceVersion"]
        .as_str()
        .expect("list resourceVersion")
        .to_string();
    let total_in_ns = {
        let (_, all) = cluster.get_json(CMS).await?;
        names(&all).len() as i64
    };
    // Optional upstream ("clients should not rely on it being set"), but exact when present.
    if let Some(remaining) = first["metadata"]["remainingItemCount"].as_i64() {
        assert_eq!(remaining, total_in_ns - 3);
    }

    // Written after the first page: a continued list is served at the first page's
    // resourceVersion, so this object must not appear.
    create(&cluster, "cm-99-late", json!({ "batch": "paging" })).await?;

    let mut seen = names(&first);
    let mut token = token;
    let mut pages = 1;
    loop {
        let (status, page) = cluster
            .get_json(&format!("{CMS}?limit=3&continue={token}"))
            .await?;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["metadata"]["resourceVersion"], list_rv.as_str());
        seen.extend(names(&page));
        pages += 1;
        match page["metadata"]["continue"].as_str() {
            Some(next) if !next.is_empty() => token = next.to_string(),
            _ => break,
        }
        assert!(pages < 10, "pagination does not terminate");
    }
    let ours_seen = ours(seen.clone());
    let expected: Vec<String> = (0..7).map(|i| format!("cm-{i:02}")).collect();
    assert_eq!(ours_seen, expected, "every object once, in key order");
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates across pages");
    Ok(())
}

#[tokio::test]
async fn malformed_continue_token_is_bad_request() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (status, body) = cluster
        .get_json(&format!("{CMS}?limit=1&continue=not-a-token"))
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(status_of(&body), Some((400, "BadRequest".into())));
    Ok(())
}

#[tokio::test]
async fn label_selectors_filter_lists() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    create(&cluster, "cm-a", json!({ "app": "web", "tier": "front" })).await?;
    create(&cluster, "cm-b", json!({ "app": "web", "tier": "back" })).await?;
    create(&cluster, "cm-c", json!({ "app": "db" })).await?;
    create(&cluster, "cm-d", json!({})).await?;

    let cases = [
        ("app=web", vec!["cm-a", "cm-b"]),
        ("app%3D%3Dweb", vec!["cm-a", "cm-b"]),
        ("app!=web", vec!["cm-c", "cm-d"]),
        ("app%20in%20(web,db)", vec!["cm-a", "cm-b", "cm-c"]),
        ("app%20notin%20(web)", vec!["cm-c", "cm-d"]),
        ("tier", vec!["cm-a", "cm-b"]),
        ("!tier", vec!["cm-c", "cm-d"]),
        ("app=web,tier=back", vec!["cm-b"]),
    ];
    for (selector, expected) in cases {
        let (status, list) = cluster
            .get_json(&format!("{CMS}?labelSelector={selector}"))
            .await?;
        assert_eq!(status, StatusCode::OK, "{selector}: {list}");
        assert_eq!(ours(names(&list)), expected, "labelSelector={selector}");
    }

    let (status, body) = cluster
        .get_json(&format!("{CMS}?labelSelector=app%20in%20web"))
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    Ok(())
}

#[tokio::test]
async fn field_selectors_filter_lists() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    create(&cluster, "cm-one", json!({})).await?;
    create(&cluster, "cm-two", json!({})).await?;

    let (status, list) = cluster
        .get_json(&format!("{CMS}?fieldSelector=metadata.name%3Dcm-two"))
        .await?;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(names(&list), vec!["cm-two"]);

    let (_, list) = cluster
        .get_json(&format!("{CMS}?fieldSelector=metadata.name!%3Dcm-two"))
        .await?;
    assert_eq!(ours(names(&list)), vec!["cm-one"]);

    // Cluster-wide list filtered by namespace.
    let (_, list) = cluster
        .get_json("/api/v1/configmaps?fieldSelector=metadata.namespace%3Ddefault")
        .await?;
    assert!(list["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|i| i["metadata"]["namespace"] == "default"));
    assert_eq!(ours(names(&list)), vec!["cm-one", "cm-two"]);

    // Pods support spec.nodeName; ConfigMaps do not: upstream refuses unknown field labels.
    let (status, body) = cluster
        .get_json(&format!("{CMS}?fieldSelector=spec.nodeName%3Dx"))
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(status_of(&body), Some((400, "BadRequest".into())));
    Ok(())
}
