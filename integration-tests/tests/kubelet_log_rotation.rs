//! Container log rotation with real containerd (issue 4): a container that keeps writing gets
//! its log rotated at `--container-log-max-size`, older pieces gzip-compressed, never more than
//! `--container-log-max-files` files kept, and containerd keeps writing to the reopened log.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use futures::StreamExt;
use integration_tests::containerd::Containerd;
use integration_tests::kubelet::{create_bound_pod, start_kubelet_with, wait_pod};
use integration_tests::TestCluster;
use serde_json::json;

/// The files in the container's log directory (`<pod-logs>/<ns>_<pod>_<uid>/<container>/`).
fn log_files(root: &Path, uid: &str) -> Result<Vec<PathBuf>> {
    let logs = root.join("pod-logs");
    let pod_dir = std::fs::read_dir(&logs)
        .with_context(|| format!("reading {}", logs.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(uid))
        .context("the pod's log directory")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(pod_dir.join("chatty"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    Ok(files)
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// The highest `line N` number in `text`.
fn last_line_number(text: &str) -> Option<u64> {
    text.lines()
        .filter_map(|l| {
            l.split("line ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .max()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_growing_log_is_rotated_compressed_and_capped() -> Result<()> {
    // The test kubelet's node name does not resolve; reach it by its InternalIP (127.0.0.1).
    let cluster =
        TestCluster::start_with_args(&["--kubelet-preferred-address-types=InternalIP"]).await?;
    let containerd = Containerd::start()?;
    let node = "kubelet-node-logrotate";
    let kubelet = start_kubelet_with(
        &cluster,
        &containerd,
        node,
        "10.244.114.0/24",
        &[
            "--container-log-max-size=16Ki".into(),
            "--container-log-max-files=3".into(),
            "--container-log-monitor-interval=3s".into(),
        ],
    )?;
    // About 10 KiB a second, numbered so the test can tell old lines from new ones.
    let script = "i=0; while true; do j=0; while [ $j -lt 100 ]; do \
                  echo \"line $i padding-padding-padding-padding-padding-padding-padding-padding-padding\"; \
                  i=$((i+1)); j=$((j+1)); done; sleep 1; done";
    create_bound_pod(
        &cluster,
        node,
        "chatty",
        json!({}),
        json!({
            "terminationGracePeriodSeconds": 1,
            "containers": [{
                "name": "chatty",
                "image": "busybox:latest",
                "imagePullPolicy": "Never",
                "command": ["sh", "-c", script]
            }]
        }),
    )
    .await?;
    let pod = wait_pod(&cluster, &kubelet, "chatty", "Running", |p| {
        p["status"]["phase"] == "Running"
    })
    .await?;
    let uid = pod["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    // `kubectl logs -f` started before the first rotation must follow the log across every
    // rotation: it sees each line once, with no gap where a file was renamed.
    let follow = cluster
        .client()
        .get(cluster.url("/api/v1/namespaces/default/pods/chatty/log?follow=true"))
        .send()
        .await?;
    let followed = tokio::spawn(async move {
        let mut text = String::new();
        let mut body = follow.bytes_stream();
        let until = tokio::time::Instant::now() + Duration::from_secs(24);
        while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(until, body.next()).await {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        text
    });

    // Rounds every 3 s at ~10 KiB/s against 16 KiB: several rotations in 25 s, so both the
    // compression of older pieces and the cap on the number of files are exercised.
    let mut saw_compressed = false;
    let mut max_files_seen = 0;
    for _ in 0..25 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let files = log_files(&kubelet.root_dir, &uid)?;
        max_files_seen = max_files_seen.max(files.len());
        for f in &files {
            if name_of(f).ends_with(".gz") {
                let bytes = std::fs::read(f)?;
                // A finished gzip member starts with the magic bytes.
                assert_eq!(&bytes[..2], &[0x1f, 0x8b], "{} is not gzip", f.display());
                saw_compressed = true;
            }
        }
    }
    let files = log_files(&kubelet.root_dir, &uid)?;
    let names: Vec<String> = files.iter().map(|f| name_of(f)).collect();
    assert!(
        saw_compressed,
        "no rotated log was ever compressed: {names:?}"
    );
    assert!(
        max_files_seen <= 3,
        "more than --container-log-max-files=3 files at once ({max_files_seen}): {names:?}"
    );
    assert!(names.contains(&"0.log".to_string()), "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("0.log.") && n.len() == "0.log.20261130-060708".len()),
        "the newest rotated log keeps upstream's timestamp name, uncompressed: {names:?}"
    );

    // containerd reopened the log: the live file keeps getting new lines, and `pods/log`
    // (which reads the live file) shows lines newer than any rotated piece.
    let live = files
        .iter()
        .find(|f| name_of(f) == "0.log")
        .context("live log")?;
    let before = last_line_number(&std::fs::read_to_string(live)?).unwrap_or(0);
    // A just-rotated live log can be empty for the second the container sleeps; ask again.
    let mut served = String::new();
    let mut after = None;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        served = cluster
            .client()
            .get(cluster.url("/api/v1/namespaces/default/pods/chatty/log?tailLines=5"))
            .send()
            .await?
            .text()
            .await?;
        after = last_line_number(&served);
        if after.is_some_and(|a| a > before) {
            break;
        }
    }
    assert!(
        after.is_some_and(|a| a > before),
        "pods/log shows {after:?}, not newer than line {before} seen in the live log: {served}"
    );
    let followed = followed.await?;
    let numbers: Vec<u64> = followed
        .lines()
        .filter_map(|l| {
            l.split("line ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0] + 1),
        "the followed log skips or repeats lines across a rotation"
    );
    // ~100 lines a second for 24 s; a follower stuck on the first (renamed) file would stop
    // after the ~500 lines written before the first rotation.
    assert!(
        numbers.len() > 1500,
        "following stopped after {} lines (last {:?})",
        numbers.len(),
        numbers.last()
    );
    let restarts = cluster
        .get_json("/api/v1/namespaces/default/pods/chatty")
        .await?
        .1["status"]["containerStatuses"][0]["restartCount"]
        .as_i64();
    assert_eq!(restarts, Some(0), "rotation must not restart the container");
    Ok(())
}
