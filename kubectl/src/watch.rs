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
            details: crate::error::StatusDetails::from_status(status).map(Box::new),
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
    check: impl FnMut(Option<&Value>) -> Result<Option<R>>,
) -> Result<Option<R>> {
    watch_until(client, collection, name, deadline, None, check).await
}

/// As [`object_until`] for an object the caller has just read as `seen` (and found not yet
/// done): the first watch starts from `seen`'s resourceVersion instead of reading it again.
pub async fn object_until_after<R>(
    client: &ApiClient,
    collection: &str,
    seen: &Value,
    deadline: Instant,
    check: impl FnMut(Option<&Value>) -> Result<Option<R>>,
) -> Result<Option<R>> {
    let name = seen["metadata"]["name"].as_str().unwrap_or_default();
    let rv = seen["metadata"]["resourceVersion"]
        .as_str()
        .filter(|rv| !rv.is_empty())
        .map(str::to_string);
    watch_until(client, collection, name, deadline, rv, check).await
}

/// The loop behind both: `resume_from` (a resourceVersion already checked) skips the
/// first read.
async fn watch_until<R>(
    client: &ApiClient,
    collection: &str,
    name: &str,
    deadline: Instant,
    resume_from: Option<String>,
    mut check: impl FnMut(Option<&Value>) -> Result<Option<R>>,
) -> Result<Option<R>> {
    // A list by name, not a GET of the object, so that a missing object still gives a
    // resourceVersion to watch from.
    let query = format!(
        "{collection}?fieldSelector={}",
        q(&format!("metadata.name={name}"))
    );
    list_then_watch(client, &query, deadline, resume_from, |seen| {
        check(match seen {
            Seen::Listed(items) => items.first(),
            Seen::Event(event) => (event.kind != "DELETED").then_some(&event.object),
        })
    })
    .await
}

/// A pod in `ns` matching `label_selector`, as upstream's GetFirstPod finds one: `pick`'s
/// choice among those listed, else the first a watch from that list reports as added or
/// modified. None when `deadline` passes first.
pub async fn first_pod(
    client: &ApiClient,
    ns: &str,
    label_selector: &str,
    deadline: Instant,
    pick: impl Fn(Vec<Value>) -> Option<Value>,
) -> Result<Option<Value>> {
    let query = format!(
        "/api/v1/namespaces/{ns}/pods?labelSelector={}",
        q(label_selector)
    );
    list_then_watch(client, &query, deadline, None, |seen| {
        Ok(match seen {
            Seen::Listed(items) => pick(items.to_vec()),
            Seen::Event(event) => (event.kind != "DELETED").then(|| event.object.clone()),
        })
    })
    .await
}

/// What [`list_then_watch`] shows its caller.
enum Seen<'a> {
    /// The items of a list.
    Listed(&'a [Value]),
    /// One event of the watch that followed.
    Event(&'a WatchEvent),
}

/// Lists `query` (a collection path with its selectors) and shows `on` the items, then
/// watches from that list's resourceVersion (or from `resume_from`, skipping the first
/// list) and shows `on` each event, until it answers `Some`, errs, or `deadline` passes
/// (`Ok(None)`). A watch the server ends, or one too old to resume (410), starts over
/// from a new list.
async fn list_then_watch<R>(
    client: &ApiClient,
    query: &str,
    deadline: Instant,
    mut resume_from: Option<String>,
    mut on: impl FnMut(Seen) -> Result<Option<R>>,
) -> Result<Option<R>> {
    loop {
        let rv = match resume_from.take() {
            Some(rv) => rv,
            None => {
                let Ok(list) = tokio::time::timeout_at(deadline, client.get(query)).await else {
                    return Ok(None);
                };
                let list = list?;
                let items = list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                if let Some(r) = on(Seen::Listed(items))? {
                    return Ok(Some(r));
                }
                list["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            }
        };
        let watch = format!(
            "{query}&watch=true&allowWatchBookmarks=true&resourceVersion={}",
            q(&rv)
        );
        let open = WatchEvents::open(client, &watch, "application/json");
        let Ok(events) = tokio::time::timeout_at(deadline, open).await else {
            return Ok(None);
        };
        let mut events = match events {
            Ok(events) => events,
            Err(e) if expired(&e) => continue,
            Err(e) => return Err(e),
        };
        loop {
            let event = match tokio::time::timeout_at(deadline, events.next()).await {
                Err(_elapsed) => return Ok(None),
                Ok(None) => break,
                Ok(Some(Err(e))) if expired(&e) => break,
                Ok(Some(event)) => event?,
            };
            if let Some(r) = on(Seen::Event(&event))? {
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
    use std::time::Duration;

    /// [`crate::test_server::fake_server`] answering every request with status 200.
    async fn fake_server(
        answer: fn(usize, &str) -> String,
    ) -> (ApiClient, crate::test_server::Asked) {
        crate::test_server::fake_server(move |n, uri| (200, answer(n, uri))).await
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    fn pod(name: &str) -> Value {
        json!({"kind": "Pod", "metadata": {"name": name}})
    }

    fn events(events: &[(&str, Value)]) -> String {
        events
            .iter()
            .map(|(kind, object)| format!("{}\n", json!({"type": kind, "object": object})))
            .collect()
    }

    #[tokio::test]
    async fn first_pod_watches_from_an_empty_list() {
        let (client, asked) = fake_server(|n, _| match n {
            0 => json!({"metadata": {"resourceVersion": "7"}, "items": []}).to_string(),
            _ => events(&[
                ("BOOKMARK", json!({"metadata": {"resourceVersion": "8"}})),
                ("DELETED", pod("gone")),
                ("ADDED", pod("new")),
            ]),
        })
        .await;
        let found = first_pod(&client, "ns", "app=web", soon(), |mut pods| pods.pop())
            .await
            .unwrap();
        assert_eq!(found, Some(pod("new")));
        let asked = asked.lock().unwrap().clone();
        assert_eq!(
            asked,
            [
                "/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb",
                "/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb&watch=true&allowWatchBookmarks=true&resourceVersion=7",
            ]
        );
    }

    #[tokio::test]
    async fn a_watch_the_server_ends_starts_over_from_a_list() {
        let (client, asked) = fake_server(|n, _| match n {
            0 => json!({"metadata": {"resourceVersion": "3"}, "items": []}).to_string(),
            // The watch ends without an event.
            1 => String::new(),
            _ => json!({"metadata": {"resourceVersion": "4"}, "items": [pod("a"), pod("b")]})
                .to_string(),
        })
        .await;
        let found = first_pod(&client, "ns", "app=web", soon(), |mut pods| pods.pop())
            .await
            .unwrap();
        assert_eq!(found, Some(pod("b")), "pick chooses among the listed pods");
        assert_eq!(asked.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn waiting_after_a_read_watches_from_it_and_reads_again_when_expired() {
        let (client, asked) = fake_server(|n, _| match n {
            0 => events(&[(
                "ERROR",
                json!({"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}),
            )]),
            1 => json!({"metadata": {"resourceVersion": "20"}, "items": [
                {"metadata": {"name": "web", "resourceVersion": "19"}, "status": {"phase": "Pending"}}
            ]})
            .to_string(),
            _ => events(&[
                ("MODIFIED", json!({"metadata": {"name": "web"}, "status": {"phase": "Running"}})),
            ]),
        })
        .await;
        let seen = json!({"metadata": {"name": "web", "resourceVersion": "11"}});
        let mut shown = Vec::new();
        let running = object_until_after(
            &client,
            "/api/v1/namespaces/ns/pods",
            &seen,
            soon(),
            |obj| {
                let phase = obj.map(|o| o["status"]["phase"].clone());
                shown.push(phase.clone());
                Ok((phase == Some(json!("Running"))).then_some(()))
            },
        )
        .await
        .unwrap();
        assert_eq!(running, Some(()));
        assert_eq!(shown, [Some(json!("Pending")), Some(json!("Running"))]);
        let asked = asked.lock().unwrap().clone();
        let by_name = "fieldSelector=metadata.name%3Dweb";
        assert_eq!(
            asked,
            [
                format!("/api/v1/namespaces/ns/pods?{by_name}&watch=true&allowWatchBookmarks=true&resourceVersion=11"),
                format!("/api/v1/namespaces/ns/pods?{by_name}"),
                format!("/api/v1/namespaces/ns/pods?{by_name}&watch=true&allowWatchBookmarks=true&resourceVersion=20"),
            ]
        );
    }

    #[tokio::test]
    async fn a_deleted_object_is_shown_as_missing() {
        let (client, _) = fake_server(|_, _| events(&[("DELETED", pod("web"))])).await;
        let seen = json!({"metadata": {"name": "web", "resourceVersion": "5"}});
        let gone = object_until_after(
            &client,
            "/api/v1/namespaces/ns/pods",
            &seen,
            soon(),
            |obj| Ok(obj.is_none().then_some("gone")),
        )
        .await
        .unwrap();
        assert_eq!(gone, Some("gone"));
    }

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
