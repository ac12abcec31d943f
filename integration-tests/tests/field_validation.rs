//! `fieldValidation`: unknown and duplicate fields are rejected under Strict (what kubectl
//! sends), reported as warnings under Warn (the default), and dropped under Ignore.

use integration_tests::TestCluster;
use reqwest::StatusCode;

const CMS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn unknown_and_duplicate_fields() -> anyhow::Result<()> {
    let cluster = TestCluster::start().await?;
    let post = |query: &'static str, body: &'static str| {
        let url = format!("{}?{query}", cluster.url(CMS));
        let client = cluster.client().clone();
        async move {
            client
                .post(url)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
        }
    };

    let unknown = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"u1"},"data":{"a":"b"},"bogus":1}"#;
    let resp = post("fieldValidation=Strict", unknown).await?;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let status: serde_json::Value = resp.json().await?;
    assert_eq!(
        status["message"],
        "strict decoding error: unknown field \"bogus\""
    );

    let resp = post("fieldValidation=Warn", unknown).await?;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let warning = resp
        .headers()
        .get("warning")
        .and_then(|w| w.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        warning.contains("unknown field \\\"bogus\\\""),
        "warning header: {warning}"
    );
    let stored: serde_json::Value = resp.json().await?;
    assert!(
        stored.get("bogus").is_none(),
        "unknown field must not be stored"
    );

    let duplicate = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d1"},"data":{"a":"1","a":"2"}}"#;
    let resp = post("fieldValidation=Strict", duplicate).await?;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let status: serde_json::Value = resp.json().await?;
    assert_eq!(
        status["message"],
        "strict decoding error: duplicate field \"data.a\""
    );
    let (code, _) = cluster.get_json(&format!("{CMS}/d1")).await?;
    assert_eq!(
        code,
        StatusCode::NOT_FOUND,
        "a rejected create stores nothing"
    );

    let resp = post("fieldValidation=Ignore", duplicate).await?;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(resp.headers().get("warning").is_none());
    Ok(())
}
