//! Create / get / update / delete of a ConfigMap and the Status objects of the failure cases,
//! as upstream answers them.

use integration_tests::{status_of, TestCluster};
use reqwest::StatusCode;
use serde_json::{json, Value};

const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn configmap(name: &str, value: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "name": name, "labels": { "app": "demo" } },
        "data": { "key": value }
    })
}

#[tokio::test]
async fn create_get_update_delete_roundtrip() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;

    let (status, created) = cluster.post_json(CMS, &configmap("cm1", "v1")).await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["kind"], "ConfigMap");
    assert_eq!(created["apiVersion"], "v1");
    assert_eq!(created["metadata"]["namespace"], "default");
    assert_eq!(created["data"]["key"], "v1");
    let uid = created["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    let rv1 = created["metadata"]["resourceVersion"]
        .as_str()
        .expect("resourceVersion")
        .to_string();
    let ts = created["metadata"]["creationTimestamp"]
        .as_str()
        .expect("creationTimestamp");
    // RFC 3339 in UTC with second precision, as metav1.Time serializes.
    assert!(ts.len() == 20 && ts.ends_with('Z'), "{ts}");

    let (status, got) = cluster.get_json(&format!("{CMS}/cm1")).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["metadata"]["uid"], uid.as_str());
    assert_eq!(got["metadata"]["resourceVersion"], rv1.as_str());
    assert_eq!(got["metadata"]["labels"]["app"], "demo");

    let mut update = got.clone();
    update["data"]["key"] = json!("v2");
    let (status, updated) = cluster.put_json(&format!("{CMS}/cm1"), &update).await?;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["data"]["key"], "v2");
    assert_eq!(updated["metadata"]["uid"], uid.as_str());
    assert_ne!(updated["metadata"]["resourceVersion"], rv1.as_str());

    let (status, body) = cluster.delete(&format!("{CMS}/cm1")).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    // ConfigMaps are deleted at once; the store answers a Success Status naming the object.
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["status"], "Success");
    assert_eq!(body["details"]["name"], "cm1");
    assert_eq!(body["details"]["kind"], "configmaps");
    assert_eq!(body["details"]["uid"], uid.as_str());

    let (status, body) = cluster.get_json(&format!("{CMS}/cm1")).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(status_of(&body), Some((404, "NotFound".into())));
    Ok(())
}

/// Services, StorageClasses and the other `ReturnDeletedObject` stores answer a delete with the
/// object as it was, not a Status: typed clients decode it as the kind (the Python client's
/// `delete_namespaced_service` returns a V1Service).
#[tokio::test]
async fn some_deletes_answer_with_the_deleted_object() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let svcs = "/api/v1/namespaces/default/services";
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "gone"},
                     "spec": {"ports": [{"port": 80}]}});
    let (status, created) = cluster.post_json(svcs, &svc).await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, body) = cluster.delete(&format!("{svcs}/gone")).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "Service", "{body}");
    assert_eq!(
        body["metadata"]["uid"], created["metadata"]["uid"],
        "{body}"
    );
    assert_eq!(
        body["spec"]["clusterIP"], created["spec"]["clusterIP"],
        "{body}"
    );

    let scs = "/apis/storage.k8s.io/v1/storageclasses";
    let sc = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                    "metadata": {"name": "gone"}, "provisioner": "example.com/none"});
    let (status, created) = cluster.post_json(scs, &sc).await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, body) = cluster.delete(&format!("{scs}/gone")).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "StorageClass", "{body}");
    assert_eq!(body["provisioner"], "example.com/none", "{body}");
    Ok(())
}

#[tokio::test]
async fn not_found_and_already_exists_status_shapes() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;

    let (status, body) = cluster.get_json(&format!("{CMS}/missing")).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["apiVersion"], "v1");
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["status"], "Failure");
    assert_eq!(body["reason"], "NotFound");
    assert_eq!(body["code"], 404);
    assert_eq!(body["message"], "configmaps \"missing\" not found");
    assert_eq!(body["details"]["name"], "missing");
    assert_eq!(body["details"]["kind"], "configmaps");

    let (status, _) = cluster.post_json(CMS, &configmap("dup", "a")).await?;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = cluster.post_json(CMS, &configmap("dup", "b")).await?;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(status_of(&body), Some((409, "AlreadyExists".into())));
    assert_eq!(body["message"], "configmaps \"dup\" already exists");
    assert_eq!(body["details"]["name"], "dup");
    assert_eq!(body["details"]["kind"], "configmaps");
    // The first object is untouched.
    let (_, got) = cluster.get_json(&format!("{CMS}/dup")).await?;
    assert_eq!(got["data"]["key"], "a");

    let (status, body) = cluster.delete(&format!("{CMS}/missing")).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(status_of(&body), Some((404, "NotFound".into())));
    Ok(())
}

#[tokio::test]
async fn stale_update_is_a_conflict() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (_, created) = cluster.post_json(CMS, &configmap("cas", "0")).await?;

    let mut first = created.clone();
    first["data"]["key"] = json!("1");
    let (status, _) = cluster.put_json(&format!("{CMS}/cas"), &first).await?;
    assert_eq!(status, StatusCode::OK);

    // Same (now stale) resourceVersion as the first writer used.
    let mut second = created.clone();
    second["data"]["key"] = json!("2");
    let (status, body) = cluster.put_json(&format!("{CMS}/cas"), &second).await?;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(status_of(&body), Some((409, "Conflict".into())));
    assert_eq!(
        body["message"],
        "Operation cannot be fulfilled on configmaps \"cas\": the object has been modified; \
         please apply your changes to the latest version and try again"
    );
    assert_eq!(body["details"]["name"], "cas");
    assert_eq!(body["details"]["kind"], "configmaps");

    let (_, got) = cluster.get_json(&format!("{CMS}/cas")).await?;
    assert_eq!(got["data"]["key"], "1", "the losing write must not land");
    Ok(())
}

#[tokio::test]
async fn generate_name_appends_five_random_characters() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let body = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "generateName": "gen-" },
    });
    let mut names = Vec::new();
    for _ in 0..3 {
        let (status, created) = cluster.post_json(CMS, &body).await?;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let name = created["metadata"]["name"]
            .as_str()
            .expect("name")
            .to_string();
        assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
        assert_eq!(created["metadata"]["generateName"], "gen-");
        names.push(name);
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 3);
    Ok(())
}

#[tokio::test]
async fn create_in_missing_namespace_is_not_found() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (status, body) = cluster
        .post_json(
            "/api/v1/namespaces/nope/configmaps",
            &configmap("orphan", "x"),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(status_of(&body), Some((404, "NotFound".into())));
    assert_eq!(body["message"], "namespaces \"nope\" not found");
    assert_eq!(body["details"]["name"], "nope");
    assert_eq!(body["details"]["kind"], "namespaces");
    Ok(())
}

#[tokio::test]
async fn invalid_name_is_unprocessable_with_field_cause() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (status, body) = cluster.post_json(CMS, &configmap("Bad_Name", "x")).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(status_of(&body), Some((422, "Invalid".into())));
    assert_eq!(body["details"]["name"], "Bad_Name");
    assert_eq!(body["details"]["kind"], "ConfigMap");
    let causes = body["details"]["causes"].as_array().expect("causes");
    assert!(
        causes.iter().any(|c| c["field"] == "metadata.name"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn namespace_mismatch_between_body_and_path_is_bad_request() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let mut body = configmap("elsewhere", "x");
    body["metadata"]["namespace"] = json!("kube-system");
    let (status, answer) = cluster.post_json(CMS, &body).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(status_of(&answer), Some((400, "BadRequest".into())));
    Ok(())
}

#[tokio::test]
async fn malformed_json_is_bad_request() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let resp = cluster
        .client()
        .post(cluster.url(CMS))
        .header("Content-Type", "application/json")
        .body("{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {")
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await?;
    assert_eq!(status_of(&body), Some((400, "BadRequest".into())));
    // The server is still healthy afterwards.
    let (status, _) = cluster.get_json(CMS).await?;
    assert_eq!(status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn body_over_three_mebibytes_is_too_large() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let big = "x".repeat(3 * 1024 * 1024 + 1024);
    let resp = cluster
        .client()
        .post(cluster.url(CMS))
        .json(&configmap("huge", &big))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = resp.json().await?;
    assert_eq!(
        status_of(&body),
        Some((413, "RequestEntityTooLarge".into()))
    );
    let (status, _) = cluster.get_json(&format!("{CMS}/huge")).await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing may be half-written");
    Ok(())
}

/// Writes start from the watch cache's copy when they can (one etcd round trip instead of two);
/// a copy that lags etcd must never lose a write or answer from stale state. Many patches to one
/// object at once race each other and the cache: every one must land, and a patch sent right
/// after a create (before the cache can have seen it) must find the object.
#[tokio::test]
async fn concurrent_patches_all_land() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    const WRITERS: usize = 24;
    for round in 0..3 {
        let name = format!("race-{round}");
        let (status, _) = cluster.post_json(CMS, &configmap(&name, "0")).await?;
        assert_eq!(status, StatusCode::CREATED);
        let path = format!("{CMS}/{name}");
        let patches = (0..WRITERS).map(|i| {
            let patch = json!({"data": {format!("k{i}"): i.to_string()}});
            let (cluster, path) = (&cluster, &path);
            async move {
                cluster
                    .patch_json(path, "application/merge-patch+json", &patch)
                    .await
            }
        });
        for result in futures::future::join_all(patches).await {
            let (status, body) = result?;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (_, got) = cluster.get_json(&path).await?;
        let data = got["data"].as_object().expect("data");
        for i in 0..WRITERS {
            assert_eq!(
                data.get(&format!("k{i}")),
                Some(&json!(i.to_string())),
                "patch {i} was lost: {got}"
            );
        }
        // A no-op patch answers with the latest object, not the cache's possibly older copy.
        let (status, same) = cluster
            .patch_json(
                &path,
                "application/merge-patch+json",
                &json!({"data": {"k0": "0"}}),
            )
            .await?;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            same["metadata"]["resourceVersion"], got["metadata"]["resourceVersion"],
            "{same}"
        );
    }
    Ok(())
}

/// A protobuf field header and length-delimited payload (wire type 2).
fn protobuf_bytes(field: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![field << 3 | 2];
    let mut len = payload.len();
    while len >= 0x80 {
        out.push((len as u8 & 0x7f) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(payload);
    out
}

/// `DeleteOptions{preconditions: {uid}}` in the protobuf envelope client-go ≥ 1.31 sends
/// (`kubectl debug --replace` and every clientset delete with options).
fn protobuf_delete_options(uid: &str) -> Vec<u8> {
    let preconditions = protobuf_bytes(1, uid.as_bytes());
    let options = protobuf_bytes(2, &preconditions);
    let type_meta = [
        protobuf_bytes(1, b"v1"),
        protobuf_bytes(2, b"DeleteOptions"),
    ]
    .concat();
    let unknown = [
        protobuf_bytes(1, &type_meta),
        protobuf_bytes(2, &options),
        protobuf_bytes(3, b""),
        protobuf_bytes(4, b""),
    ]
    .concat();
    [b"k8s\0".as_slice(), &unknown].concat()
}

#[tokio::test]
async fn delete_options_in_protobuf_are_honoured() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (status, created) = cluster.post_json(CMS, &configmap("pb", "v")).await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let uid = created["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    let delete = |uid: &str| {
        cluster
            .client()
            .delete(cluster.url(&format!("{CMS}/pb")))
            .header("Content-Type", "application/vnd.kubernetes.protobuf")
            .body(protobuf_delete_options(uid))
    };

    // A wrong UID precondition is read from the protobuf body and refused.
    let (status, body) = integration_tests::api::send(delete("not-the-uid")).await?;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = cluster.get_json(&format!("{CMS}/pb")).await?;
    assert_eq!(status, StatusCode::OK, "the ConfigMap must still be there");

    let (status, body) = integration_tests::api::send(delete(&uid)).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["details"]["uid"], uid.as_str());
    let (status, _) = cluster.get_json(&format!("{CMS}/pb")).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

/// client-go puts a dry-run delete's `dryRun` in the DeleteOptions body, not the query: the
/// answer is the delete's, and the object stays (and stays for a dry-run deletecollection).
#[tokio::test]
async fn dry_run_in_the_delete_options_body_deletes_nothing() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let (status, created) = cluster.post_json(CMS, &configmap("kept", "v")).await?;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let delete = |path: &str, options: Value| {
        cluster
            .client()
            .delete(cluster.url(path))
            .header("Content-Type", "application/json")
            .body(options.to_string())
    };
    let dry = serde_json::json!({"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"]});

    let (status, body) =
        integration_tests::api::send(delete(&format!("{CMS}/kept"), dry.clone())).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Success", "{body}");
    let (status, _) = cluster.get_json(&format!("{CMS}/kept")).await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "a dry-run delete must leave the ConfigMap"
    );

    let (status, body) = integration_tests::api::send(delete(CMS, dry)).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = cluster.get_json(&format!("{CMS}/kept")).await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "a dry-run deletecollection must leave it too"
    );

    let bad = serde_json::json!({"dryRun": ["Some"]});
    let (status, body) = integration_tests::api::send(delete(&format!("{CMS}/kept"), bad)).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = cluster.get_json(&format!("{CMS}/kept")).await?;
    assert_eq!(status, StatusCode::OK);
    Ok(())
}
