//! A private single-member etcd for one test cluster, plus the few direct etcd operations
//! tests need (current revision, compaction) through etcd's JSON gateway (`/v3/...`).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use serde_json::{json, Value};

use crate::process::{self, Daemon};

/// A running etcd on loopback, killed on drop.
pub struct Etcd {
    daemon: Daemon,
    endpoint: String,
    http: reqwest::Client,
}

impl Etcd {
    /// Start etcd with its data under `dir` on free loopback ports and wait until healthy.
    /// Retries with other ports when a port turns out to be taken.
    pub async fn start(dir: &Path) -> Result<Etcd> {
        let mut last_err = anyhow!("etcd did not start");
        for attempt in 0..3 {
            match Self::try_start(dir, attempt).await {
                Ok(etcd) => return Ok(etcd),
                Err(err) => last_err = err,
            }
        }
        Err(last_err)
    }

    async fn try_start(dir: &Path, attempt: u32) -> Result<Etcd> {
        let (client_port, peer_port) = (process::free_port()?, process::free_port()?);
        let data_dir = dir.join(format!("etcd-data-{attempt}"));
        let endpoint = format!("http://127.0.0.1:{client_port}");
        let peer = format!("http://127.0.0.1:{peer_port}");
        let args: Vec<String> = [
            "--name",
            "rudder-test",
            "--data-dir",
            &data_dir.to_string_lossy(),
            "--listen-client-urls",
            &endpoint,
            "--advertise-client-urls",
            &endpoint,
            "--listen-peer-urls",
            &peer,
            "--initial-advertise-peer-urls",
            &peer,
            "--initial-cluster",
            &format!("rudder-test={peer}"),
            "--initial-cluster-state",
            "new",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut daemon = Daemon::spawn(
            "etcd",
            &process::etcd_bin(),
            &args,
            &dir.join(format!("etcd-{attempt}.log")),
        )?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if !daemon.is_running() {
                bail!("etcd exited during start-up:\n{}", daemon.log_tail(20));
            }
            let health = http.get(format!("{endpoint}/health")).send().await;
            if let Ok(resp) = health {
                if resp.status().is_success() {
                    return Ok(Etcd {
                        daemon,
                        endpoint,
                        http,
                    });
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("etcd not healthy after 30s:\n{}", daemon.log_tail(20))
    }

    /// The client URL, as passed to `--etcd-servers`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The store's current revision.
    pub async fn revision(&self) -> Result<i64> {
        let resp = self
            .post("/v3/kv/range", json!({ "key": b64(b"\0"), "limit": 1 }))
            .await?;
        header_revision(&resp)
    }

    /// Compact the store up to its current revision (physically), as the apiserver's periodic
    /// compaction would; returns the revision compacted to.
    pub async fn compact_now(&self) -> Result<i64> {
        let rev = self.revision().await?;
        self.post(
            "/v3/kv/compaction",
            json!({ "revision": rev.to_string(), "physical": true }),
        )
        .await?;
        Ok(rev)
    }

    /// Whether `revision` has been compacted away (a read at it is refused).
    pub async fn is_compacted(&self, revision: i64) -> Result<bool> {
        let resp = self
            .http
            .post(format!("{}/v3/kv/range", self.endpoint))
            .json(&json!({ "key": b64(b"\0"), "revision": revision.to_string() }))
            .send()
            .await?;
        let ok = resp.status().is_success();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let text = body.to_string();
        Ok(!ok && text.contains("compacted"))
    }

    /// Read one key's raw value (as stored by the apiserver), if present.
    pub async fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let resp = self
            .post("/v3/kv/range", json!({ "key": b64(key.as_bytes()) }))
            .await?;
        let Some(kv) = resp.get("kvs").and_then(|k| k.get(0)) else {
            return Ok(None);
        };
        let value = kv.get("value").and_then(Value::as_str).unwrap_or_default();
        Ok(Some(
            base64::engine::general_purpose::STANDARD
                .decode(value)
                .context("etcd value is not base64")?,
        ))
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let resp = self
            .http
            .post(format!("{}{path}", self.endpoint))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("etcd {path}"))?;
        let status = resp.status();
        let value: Value = resp.json().await.context("etcd gateway answer")?;
        if !status.is_success() {
            bail!("etcd {path}: {status} {value}");
        }
        Ok(value)
    }

    /// The etcd log's last lines.
    pub fn log_tail(&self, lines: usize) -> String {
        self.daemon.log_tail(lines)
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The gateway renders int64 as JSON strings.
fn header_revision(resp: &Value) -> Result<i64> {
    let rev = &resp["header"]["revision"];
    rev.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| rev.as_i64())
        .ok_or_else(|| anyhow!("no header.revision in {resp}"))
}
