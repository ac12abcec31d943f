//! Events off the scheduling path: as upstream's event broadcaster, recording is
//! asynchronous, bounded, and drops events rather than slow scheduling down when the
//! apiserver cannot keep up.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, Recorder};
use tokio::sync::Semaphore;

/// Events being written at once.
const IN_FLIGHT: usize = 16;
/// Events waiting beyond which new ones are dropped (upstream's broadcaster queue is 1000).
const MAX_QUEUED: usize = 1000;

/// Records events in the background.
#[derive(Clone)]
pub struct EventSink {
    recorder: Recorder,
    slots: Arc<Semaphore>,
    queued: Arc<AtomicUsize>,
}

impl EventSink {
    /// A sink writing through `recorder`.
    pub fn new(recorder: Recorder) -> EventSink {
        EventSink {
            recorder,
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
            queued: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Record `event` about `regarding` soon; dropped (with a log line) when too many are
    /// already waiting.
    pub fn emit(&self, event: Event, regarding: ObjectReference) {
        if self.queued.fetch_add(1, Ordering::Relaxed) >= MAX_QUEUED {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            tracing::warn!(reason = %event.reason, object = ?regarding.name, "event queue full; dropping event");
            return;
        }
        let sink = self.clone();
        tokio::spawn(async move {
            let slot = sink.slots.acquire().await;
            if let Err(e) = sink.recorder.publish(&event, &regarding).await {
                tracing::warn!(object = ?regarding.name, error = %e, "recording event failed");
            }
            drop(slot);
            sink.queued.fetch_sub(1, Ordering::Relaxed);
        });
    }
}
