//! Watches: the events of a `?watch=true` request decoded line by line, and waiting for one
//! object to reach a state by watching it (as upstream's `wait`, `run -i` and `debug` do)
//! instead of polling it.

use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde_json::Value;
use tokio::time::Instant;

use crate::client::{q, ApiClient};
use crate::error::{KubectlError, Result};

/// One event of a watch. BOOKMARKs are never handed out; an ERROR event ends the stream
/// as an error.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchEvent {
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: String,
    /// The object as the event carries it (a Table when one was asked for).
    pub object: Value,
}

/// The events of one watch request, in order.
pub struct WatchEvents {
    chunks: Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>,
    buf: Vec<u8>,
}

impl WatchEvents {
    /// Starts the watch `path` (which must ask for `watch=true`) accepting `accept`.
    pub async fn open(client: &ApiClient, path: &str, accept: &str) -> Result<Self> {
        Ok(WatchEvents {
            chunks: Box::pin(client.stream(path, accept).await?),
            buf: Vec::new(),
        })
    }

    /// The next event, or None when the server ended the watch.
    pub async fn next(&mut self) -> Option<Result<WatchEvent>> {
        loop {
            while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                if let Some(event) = decode_line(&line) {
                    return Some(event);
                }
            }
            match self.chunks.next().await? {
                Ok(chunk) => self.buf.extend_from_slice(&chunk),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// One line of a watch: None for blank or undecodable lines and for bookmarks.
fn decode_line(line: &[u8]) -> Option<Result<WatchEvent>> {
    let mut ev: Value = serde_json::from_slice(line).ok()?;
    let kind = ev["type"].as_str()?.to_string();
    match kind.as_str() {
        "BOOKMARK" => None,
        "ERROR" => Some(Err(status_error(&ev["object"]))),
        _ => Some(Ok(WatchEvent {
            kind,
            object: ev["object"].take(),
        })),
    }
}

/// The error an ERROR event's `Status` stands for.
fn status_error(status: &Value) -> KubectlError {
    let message = status["message"]
        .as_str()
        .unwrap_or("watch error")
        .to_string();
    match status["code"].as_u64().and_then(|c| u16::try_from(c).ok()) {
        Some(code) => KubectlError::Server {
            reason: status["reason"].as_str().unwrap_or("").to_string(),
            message,
            code,
            context: None,
        },
        None => KubectlError::Usage(message),
    }
}

/// Whether a watch failed only because its resourceVersion is too old to resume from
/// (410 Gone), so that a fresh read and a new watch carry on.
fn expired(e: &KubectlError) -> bool {
    matches!(e, KubectlError::Server { code: 410, .. })
}

/// Waits until `check` accepts the object `name` in `collection` (an API path such as
/// `/api/v1/namespaces/ns/pods`): it sees the object as it is (None while it does not
/// exist), then each change a watch reports, and returns `Ok(Some(r))` for its first
/// `Ok(Some(r))`, its first error, or `Ok(None)` when `deadline` passes first. A watch the
/// server ends is started again from a fresh read.
pub async fn object_until<R>(
    client: &ApiClient,
    collection: &str,
    name: &str,
    deadline: Instant,
    mut check: impl FnMut(Option<&Value>) -> Result<Option<R>>,
) -> Result<Option<R>> {
    let selector = q(&format!("metadata.name={name}"));
    loop {
        // The list, not a GET of the object, so that a missing object still gives a
        // resourceVersion to watch from.
        let list = client
            .get(&format!("{collection}?fieldSelector={selector}"))
            .await?;
        let current = list["items"].as_array().and_then(|items| items.first());
        if let Some(r) = check(current)? {
            return Ok(Some(r));
        }
        let rv = list["metadata"]["resourceVersion"].as_str().unwrap_or("");
        let watch = format!(
            "{collection}?fieldSelector={selector}&watch=true&allowWatchBookmarks=true&resourceVersion={}",
            q(rv)
        );
        let mut events = WatchEvents::open(client, &watch, "application/json").await?;
        loop {
            let event = match tokio::time::timeout_at(deadline, events.next()).await {
                Err(_elapsed) => return Ok(None),
                Ok(None) => break,
                Ok(Some(Err(e))) if expired(&e) => break,
                Ok(Some(event)) => event?,
            };
            let object = (event.kind != "DELETED").then_some(&event.object);
            if let Some(r) = check(object)? {
                return Ok(Some(r));
            }
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn watch_lines_become_events_errors_or_nothing() {
        let ev = decode_line(br#"{"type":"ADDED","object":{"kind":"Pod"}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            ev,
            WatchEvent {
                kind: "ADDED".into(),
                object: json!({"kind": "Pod"})
            }
        );
        assert!(decode_line(br#"{"type":"BOOKMARK","object":{}}"#).is_none());
        assert!(decode_line(b"\n").is_none());
        let err = decode_line(
            br#"{"type":"ERROR","object":{"kind":"Status","reason":"Expired","code":410,"message":"too old resource version: 5 (9)"}}"#,
        )
        .unwrap()
        .unwrap_err();
        assert!(expired(&err));
        assert_eq!(
            err.to_string(),
            "Error from server (Expired): too old resource version: 5 (9)"
        );
        let err = decode_line(br#"{"type":"ERROR","object":{"message":"boom"}}"#)
            .unwrap()
            .unwrap_err();
        assert!(!expired(&err));
        assert_eq!(err.to_string(), "error: boom");
    }
}
