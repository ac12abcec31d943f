//! Auditing (`--audit-policy-file`, `--audit-log-path`): one `audit.k8s.io/v1` Event per line
//! and stage, at the level the first matching policy rule gives, with the `Audit-Id` response
//! header naming the events of a request.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Result};
use integration_tests::api::send;
use integration_tests::TestCluster;
use reqwest::StatusCode;
use serde_json::{json, Value};

const POLICY: &str = r#"
apiVersion: audit.k8s.io/v1
kind: Policy
omitManagedFields: true
rules:
  - level: None
    nonResourceURLs: ["/readyz*", "/healthz*", "/livez*"]
  - level: RequestResponse
    resources:
      - group: ""
        resources: ["configmaps"]
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets"]
    omitStages: ["RequestReceived"]
  - level: Request
    resources:
      - group: ""
        resources: ["pods"]
  - level: None
"#;

async fn start(dir: &Path) -> Result<(TestCluster, std::path::PathBuf)> {
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, POLICY)?;
    let log = dir.join("audit").join("audit.log");
    let cluster = TestCluster::start_with_args(&[
        &format!("--audit-policy-file={}", policy.display()),
        &format!("--audit-log-path={}", log.display()),
        "--audit-log-maxsize=10",
        "--audit-log-maxbackup=2",
    ])
    .await?;
    Ok((cluster, log))
}

/// The events of one audit ID, waiting until `stages` of them were written.
async fn events_of(log: &Path, id: &str, stages: usize) -> Result<Vec<Value>> {
    for _ in 0..100 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let mut evs = Vec::new();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line)?;
            if v["auditID"] == id {
                evs.push(v);
            }
        }
        if evs.len() >= stages {
            return Ok(evs);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!(
        "audit ID {id}: fewer than {stages} events in {}",
        log.display()
    )
}

fn audit_id(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("Audit-Id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn events_follow_the_policy_levels() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (cluster, log) = start(dir.path()).await?;
    let client = cluster.client();

    // RequestResponse: both bodies, managed fields left out, the object named.
    let resp = client
        .post(cluster.url("/api/v1/namespaces/default/configmaps"))
        .header("User-Agent", "audit-test/1.0")
        .json(&json!({"metadata": {"name": "cm1"}, "data": {"k": "v"}}))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = audit_id(&resp);
    assert!(!id.is_empty(), "no Audit-Id header");
    let evs = events_of(&log, &id, 2).await?;
    assert_eq!(evs.len(), 2, "{evs:?}");
    let (received, done) = (&evs[0], &evs[1]);
    assert_eq!(received["stage"], "RequestReceived");
    assert_eq!(received["kind"], "Event");
    assert_eq!(received["apiVersion"], "audit.k8s.io/v1");
    assert!(received.get("responseStatus").is_none());
    assert_eq!(done["stage"], "ResponseComplete");
    assert_eq!(done["level"], "RequestResponse");
    assert_eq!(done["verb"], "create");
    assert_eq!(done["requestURI"], "/api/v1/namespaces/default/configmaps");
    assert_eq!(done["user"]["username"], "kubernetes-admin");
    assert!(done["user"]["groups"]
        .as_array()
        .is_some_and(|g| g.contains(&json!("system:masters"))));
    assert_eq!(done["sourceIPs"], json!(["127.0.0.1"]));
    assert_eq!(done["userAgent"], "audit-test/1.0");
    assert_eq!(
        done["objectRef"],
        json!({"resource": "configmaps", "namespace": "default", "name": "cm1", "apiVersion": "v1"})
    );
    assert_eq!(done["responseStatus"]["code"], 201);
    assert_eq!(done["requestObject"]["data"]["k"], "v");
    assert_eq!(done["responseObject"]["metadata"]["name"], "cm1");
    assert!(done["responseObject"]["metadata"]["uid"].is_string());
    assert!(
        done["responseObject"]["metadata"]
            .get("managedFields")
            .is_none(),
        "{done}"
    );
    assert_eq!(
        done["annotations"]["authorization.k8s.io/decision"],
        "allow"
    );
    assert!(done["requestReceivedTimestamp"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert!(done["stageTimestamp"].is_string());

    // An error: the Status is in responseStatus.
    let resp = client
        .get(cluster.url("/api/v1/namespaces/default/configmaps/missing"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let evs = events_of(&log, &audit_id(&resp), 2).await?;
    let st = &evs[1]["responseStatus"];
    assert_eq!(st["code"], 404);
    assert_eq!(st["reason"], "NotFound");
    assert_eq!(st["status"], "Failure");
    assert_eq!(st["message"], r#"configmaps "missing" not found"#);

    // Metadata, with RequestReceived omitted: one event, no bodies.
    let resp = client
        .post(cluster.url("/api/v1/namespaces/default/secrets"))
        .json(&json!({"metadata": {"name": "s1"}, "stringData": {"p": "hunter2"}}))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = audit_id(&resp);
    let evs = events_of(&log, &id, 1).await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let evs_again = events_of(&log, &id, 1).await?;
    assert_eq!(evs.len(), 1);
    assert_eq!(evs_again.len(), 1);
    assert_eq!(evs[0]["stage"], "ResponseComplete");
    assert_eq!(evs[0]["level"], "Metadata");
    assert_eq!(evs[0]["objectRef"]["name"], "s1");
    assert!(evs[0].get("requestObject").is_none() && evs[0].get("responseObject").is_none());
    let whole_log = std::fs::read_to_string(&log)?;
    assert!(
        !whole_log.contains("hunter2"),
        "a Metadata-level secret leaked into the audit log"
    );

    // Level None: nothing written, but the header is still there.
    let resp = client
        .get(cluster.url("/api/v1/namespaces/default/services"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let id = audit_id(&resp);
    assert!(!id.is_empty());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!std::fs::read_to_string(&log)?.contains(&id));

    // A caller-chosen Audit-ID is kept.
    let resp = client
        .get(cluster.url("/api/v1/namespaces/default/configmaps/cm1"))
        .header("Audit-ID", "my-own-id")
        .send()
        .await?;
    assert_eq!(audit_id(&resp), "my-own-id");
    events_of(&log, "my-own-id", 2).await?;
    Ok(())
}

#[tokio::test]
async fn watches_forbidden_and_impersonated_requests() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (cluster, log) = start(dir.path()).await?;
    let client = cluster.client();

    // A watch is long-running: ResponseStarted when it starts, ResponseComplete when it ends.
    let resp = client
        .get(cluster.url("/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let id = audit_id(&resp);
    let _ = resp.bytes().await?;
    let evs = events_of(&log, &id, 3).await?;
    let stages: Vec<&str> = evs.iter().filter_map(|e| e["stage"].as_str()).collect();
    assert_eq!(
        stages,
        vec!["RequestReceived", "ResponseStarted", "ResponseComplete"]
    );
    assert_eq!(evs[1]["verb"], "watch");
    assert_eq!(evs[1]["responseStatus"]["code"], 200);

    // Refused by RBAC: the decision is annotated and the 403 recorded.
    let alice = cluster.client_for("alice", &[])?;
    let resp = alice
        .get(cluster.url("/api/v1/namespaces/default/configmaps"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let evs = events_of(&log, &audit_id(&resp), 2).await?;
    assert_eq!(evs[1]["user"]["username"], "alice");
    assert_eq!(
        evs[1]["annotations"]["authorization.k8s.io/decision"],
        "forbid"
    );
    assert_eq!(evs[1]["responseStatus"]["code"], 403);
    assert_eq!(evs[1]["responseStatus"]["reason"], "Forbidden");

    // Impersonation: the event keeps the real user and names the impersonated one.
    let resp = client
        .post(cluster.url("/api/v1/namespaces/default/pods"))
        .header("Impersonate-User", "bob")
        .header("Impersonate-Group", "system:masters")
        .json(&json!({"metadata": {"name": "p1"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let evs = events_of(&log, &audit_id(&resp), 2).await?;
    let done = &evs[1];
    assert_eq!(done["level"], "Request");
    assert_eq!(done["user"]["username"], "kubernetes-admin");
    assert_eq!(done["impersonatedUser"]["username"], "bob");
    assert_eq!(
        done["impersonatedUser"]["groups"],
        json!(["system:masters", "system:authenticated"])
    );
    assert_eq!(
        done["requestObject"]["spec"]["containers"][0]["image"],
        "busybox"
    );
    assert!(
        done.get("responseObject").is_none(),
        "Request level records no response body"
    );
    let (status, _) = send(client.get(cluster.url("/readyz"))).await?;
    assert_eq!(status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn a_bad_policy_stops_startup() -> Result<()> {
    // The start-up error must be the last thing the apiserver logs, not a backtrace (nextest
    // runs each test in its own process, so this reaches only this test's apiserver).
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    let dir = tempfile::tempdir()?;
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Everything\n",
    )?;
    let r = TestCluster::start_with_args(&[
        &format!("--audit-policy-file={}", policy.display()),
        "--audit-log-path=-",
    ])
    .await;
    let Err(e) = r else {
        bail!("started with an invalid audit policy")
    };
    assert!(format!("{e:#}").contains("audit policy"), "{e:#}");
    Ok(())
}
