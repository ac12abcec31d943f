//! Small request helpers for tests: JSON verbs that return (status, body), watch-stream
//! decoding, and a Status-object reader.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures::{Stream, StreamExt};
use reqwest::StatusCode;
use serde_json::Value;

use crate::TestCluster;

impl TestCluster {
    /// GET `path` as the admin; the body parsed as JSON (Null if it is not JSON).
    pub async fn get_json(&self, path: &str) -> Result<(StatusCode, Value)> {
        send(self.client().get(self.url(path))).await
    }

    /// POST `body` as JSON to `path` as the admin.
    pub async fn post_json(&self, path: &str, body: &Value) -> Result<(StatusCode, Value)> {
        send(self.client().post(self.url(path)).json(body)).await
    }

    /// PUT `body` as JSON to `path` as the admin.
    pub async fn put_json(&self, path: &str, body: &Value) -> Result<(StatusCode, Value)> {
        send(self.client().put(self.url(path)).json(body)).await
    }

    /// PATCH `path` with `body` of the given content type as the admin.
    pub async fn patch_json(
        &self,
        path: &str,
        content_type: &str,
        body: &Value,
    ) -> Result<(StatusCode, Value)> {
        send(
            self.client()
                .patch(self.url(path))
                .header("Content-Type", content_type)
                .body(body.to_string()),
        )
        .await
    }

    /// DELETE `path` as the admin.
    pub async fn delete(&self, path: &str) -> Result<(StatusCode, Value)> {
        send(self.client().delete(self.url(path))).await
    }

    /// Open a watch: GET `path` (which must carry `watch=true` or be a watch URL) and return
    /// the decoded event stream. Fails unless the answer is 200.
    pub async fn watch(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<impl Stream<Item = Result<WatchEvent>>> {
        let resp = self
            .client()
            .get(self.url(path))
            .timeout(timeout)
            .send()
            .await
            .with_context(|| format!("watch {path}"))?;
        if resp.status() != StatusCode::OK {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            bail!("watch {path}: {status} {body}");
        }
        Ok(watch_events(resp))
    }
}

/// Send a request; the body parsed as JSON (Null when empty or not JSON).
pub async fn send(req: reqwest::RequestBuilder) -> Result<(StatusCode, Value)> {
    let resp = req.send().await.context("request failed")?;
    let status = resp.status();
    let bytes = resp.bytes().await.context("reading the body")?;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, body))
}

/// One event of a watch stream.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    /// ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
    pub kind: String,
    /// The object (a Status for ERROR).
    pub object: Value,
}

impl WatchEvent {
    /// `object.metadata.name`.
    pub fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }

    /// `object.metadata.resourceVersion`.
    pub fn resource_version(&self) -> &str {
        self.object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
    }
}

/// Decode a watch response: newline-terminated JSON objects `{"type":…,"object":…}`.
/// A trailing fragment without its newline when the stream ends is an error: clients such as
/// kube-rs split on newlines and would never see it.
pub fn watch_events(resp: reqwest::Response) -> impl Stream<Item = Result<WatchEvent>> {
    let state = (resp.bytes_stream(), Vec::<u8>::new(), false);
    futures::stream::unfold(state, |(mut body, mut buf, done)| async move {
        if done {
            return None;
        }
        loop {
            if let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=pos).collect();
                let line = &line[..line.len() - 1];
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some((parse_event(line), (body, buf, false)));
            }
            match body.next().await {
                Some(Ok(chunk)) => buf.extend_from_slice(&chunk),
                Some(Err(err)) => {
                    if err.is_timeout() && buf.is_empty() {
                        return None;
                    }
                    return Some((Err(err.into()), (body, buf, true)));
                }
                None if buf.iter().all(u8::is_ascii_whitespace) => return None,
                None => {
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    return Some((
                        Err(anyhow::anyhow!(
                            "watch event without trailing newline: {text}"
                        )),
                        (body, Vec::new(), true),
                    ));
                }
            }
        }
    })
}

fn parse_event(line: &[u8]) -> Result<WatchEvent> {
    let value: Value = serde_json::from_slice(line)
        .with_context(|| format!("bad watch line {}", String::from_utf8_lossy(line)))?;
    let kind = value["type"]
        .as_str()
        .with_context(|| format!("watch event without type: {value}"))?
        .to_string();
    Ok(WatchEvent {
        kind,
        object: value["object"].clone(),
    })
}

/// For a `Status` body: `(code, reason)`; None when `body` is not a Status.
pub fn status_of(body: &Value) -> Option<(i64, String)> {
    if body["kind"] != "Status" {
        return None;
    }
    Some((
        body["code"].as_i64().unwrap_or_default(),
        body["reason"].as_str().unwrap_or_default().to_string(),
    ))
}

/// GET `path` from a daemon's HTTPS port on loopback whose certificate is self-signed (the
/// harness's kubelet, kube-scheduler's secure port), so it is not verified; the body of a
/// successful answer.
pub async fn loopback_https_get(port: u16, path: &str) -> Result<String> {
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()?;
    let resp = client
        .get(format!("https://127.0.0.1:{port}{path}"))
        .send()
        .await?;
    let code = resp.status();
    let body = resp.text().await?;
    if !code.is_success() {
        bail!("GET https://127.0.0.1:{port}{path}: {code} {body}");
    }
    Ok(body)
}
