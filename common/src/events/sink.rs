//! The background writer behind a recorder (upstream's broadcaster plus `recordToSink`):
//! events arrive on a bounded channel, go through the [`Correlator`] one at a time, and are
//! created or patched. Transport failures are retried after a pause; a request the server
//! refuses is dropped with a log line, as retrying it would only fail again.

use std::time::Duration;

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use tokio::sync::mpsc;

use super::correlator::{Correlator, Write};

/// Attempts per event before it is given up (upstream's `maxTriesPerEvent`).
const MAX_TRIES: u32 = 12;
/// Pause between attempts (upstream's default sleep); the first is randomized so that
/// components do not retry in lockstep after an apiserver outage.
const RETRY_PAUSE: Duration = Duration::from_secs(10);

/// Write the events received on `events` until every sender is gone.
pub(super) async fn run(client: Client, mut events: mpsc::Receiver<Event>) {
    let mut correlator = Correlator::default();
    while let Some(event) = events.recv().await {
        let Some(write) = correlator.correlate(event, Timestamp::now()) else {
            continue;
        };
        let namespace = write
            .event()
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let api: Api<Event> = Api::namespaced(client.clone(), &namespace);
        for attempt in 1..=MAX_TRIES {
            match send(&api, &write).await {
                Ok(stored) => {
                    correlator.update_state(&stored);
                    break;
                }
                Err(kube::Error::Api(status)) => {
                    log_refusal(write.event(), &status);
                    break;
                }
                Err(e) if attempt == MAX_TRIES => {
                    tracing::warn!(reason = ?write.event().reason, error = %e, "unable to write event; retry limit exceeded");
                }
                Err(e) => {
                    tracing::warn!(reason = ?write.event().reason, error = %e, "unable to write event; retrying");
                    let pause = if attempt == 1 {
                        RETRY_PAUSE.mul_f64(jitter())
                    } else {
                        RETRY_PAUSE
                    };
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}

/// A fraction in [0, 1) that differs between processes and moments: the clock's
/// sub-second digits are random enough to spread retries apart.
fn jitter() -> f64 {
    f64::from(Timestamp::now().subsec_nanosecond().unsigned_abs() % 1000) / 1000.0
}

/// Create the event, or patch the existing one; a repeat whose event has expired or was
/// deleted (404) is created anew under the same name.
async fn send(api: &Api<Event>, write: &Write) -> Result<Event, kube::Error> {
    let event = match write {
        Write::Create(event) => event,
        Write::Patch { event, patch } => {
            let name = event.metadata.name.as_deref().unwrap_or_default();
            match api
                .patch(name, &PatchParams::default(), &Patch::Merge(patch))
                .await
            {
                Err(kube::Error::Api(status)) if status.code == 404 => event,
                result => return result,
            }
        }
    };
    let mut event = event.clone();
    event.metadata.resource_version = None;
    api.create(&PostParams::default(), &event).await
}

/// A duplicate or an event for a terminating namespace is routine; anything else the
/// server refuses is worth a warning.
fn log_refusal(event: &Event, status: &kube::core::Status) {
    if status.code == 409 || super::status_says_namespace_terminating(status) {
        tracing::debug!(reason = ?event.reason, error = %status.message, "server rejected event");
    } else {
        tracing::warn!(reason = ?event.reason, error = %status.message, "server rejected event; not retrying");
    }
}
