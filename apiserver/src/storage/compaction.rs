//! Periodic compaction, as upstream does it: every interval, compact etcd up to the revision
//! that was current one interval ago, so history stays bounded but a client that just listed
//! can still watch from its resourceVersion.

use std::time::Duration;

use super::EtcdStore;

/// Run forever: compact every `interval`.
pub async fn run(store: EtcdStore, interval: Duration) {
    let mut previous: Option<i64> = None;
    let mut tick = tokio::time::interval(interval);
    tick.tick().await;
    loop {
        tick.tick().await;
        match store.current_revision().await {
            Ok(now) => {
                if let Some(rev) = previous {
                    if let Err(e) = store.compact(rev).await {
                        tracing::warn!(error = %e, "compaction failed");
                    } else {
                        tracing::debug!(revision = rev, "compacted etcd");
                    }
                }
                previous = Some(now);
            }
            Err(e) => tracing::warn!(error = %e, "could not read etcd revision for compaction"),
        }
    }
}
