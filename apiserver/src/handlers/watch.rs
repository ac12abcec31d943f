//! Watch: a chunked stream of newline-terminated JSON events served from the watch cache, with
//! bookmarks, `sendInitialEvents`, selectors (objects entering or leaving a selector become
//! ADDED/DELETED), and an ERROR event with 410 Expired for a too-old resourceVersion.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use api_types::catalog::ResourceInfo;
use bytes::Bytes;
use http::{header, Request, Response};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use rand::Rng;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use super::response::{self, Body, Representation};
use super::rest::{list_options, resolve};
use super::ApiServer;
use crate::errors::ApiError;
use crate::printers::{self, IncludeObject};
use crate::request::{Query, RequestInfo};
use crate::storage::{EventType, Object, WatchEvent};
use crate::store::{ListOptions, Store};

/// How often an idle watch with bookmarks gets one.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);

struct WatchParams {
    res: &'static ResourceInfo,
    prefix: String,
    opts: ListOptions,
    bookmarks: bool,
    table: bool,
    include: IncludeObject,
}

fn converted(store: &Store, p: &WatchParams, obj: &Arc<Object>) -> Arc<Object> {
    let storage = Store::storage_resource(p.res);
    if storage.group == p.res.group && storage.version == p.res.version {
        obj.clone()
    } else {
        Arc::new(Object::new(store.from_storage(p.res, obj.value().clone())))
    }
}

fn matches(p: &WatchParams, obj: &Value) -> bool {
    p.opts.labels.matches_object(obj) && p.opts.fields.matches(obj)
}

/// Serialize one event line; the object's cached bytes are reused when it is sent as is.
fn event_line(p: &WatchParams, kind: &str, obj: &Object, first: &mut bool) -> Bytes {
    if !p.table || kind == "BOOKMARK" || kind == "ERROR" {
        let json = obj.json();
        let mut buf = Vec::with_capacity(json.len() + 32);
        buf.extend_from_slice(b"{\"type\":\"");
        buf.extend_from_slice(kind.as_bytes());
        buf.extend_from_slice(b"\",\"object\":");
        buf.extend_from_slice(json);
        buf.extend_from_slice(b"}\n");
        return Bytes::from(buf);
    }
    let obj = obj.value();
    let object = {
        let meta = json!({"resourceVersion": obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!(""))});
        let mut t = printers::to_table(p.res, &[obj], p.include, meta, chrono::Utc::now());
        if !*first {
            t["columnDefinitions"] = json!([]);
        }
        *first = false;
        t
    };
    let mut buf = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    buf.push(b'\n');
    Bytes::from(buf)
}

fn bookmark(p: &WatchParams, rev: i64, initial_end: bool) -> Object {
    let mut meta = json!({"resourceVersion": rev.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    Object::new(json!({"kind": p.res.kind, "apiVersion": p.res.api_version(), "metadata": meta}))
}

/// What a raw cache event means to this watcher, if anything.
fn translate(
    store: &Store,
    p: &WatchParams,
    ev: &WatchEvent,
) -> Option<(&'static str, Arc<Object>)> {
    if !ev.key.starts_with(&p.prefix) {
        return None;
    }
    let obj = converted(store, p, &ev.object);
    let now = matches(p, &obj);
    let before = ev
        .prev
        .as_ref()
        .map(|o| matches(p, &converted(store, p, o)))
        .unwrap_or(false);
    match ev.kind {
        EventType::Added if now => Some(("ADDED", obj)),
        EventType::Modified if now && before => Some(("MODIFIED", obj)),
        EventType::Modified if now => Some(("ADDED", obj)),
        EventType::Modified if before => Some(("DELETED", obj)),
        EventType::Deleted if now || before => Some(("DELETED", obj)),
        _ => None,
    }
}

/// Start a watch.
pub async fn serve(
    server: Arc<ApiServer>,
    req: &Request<Incoming>,
    info: &RequestInfo,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let res = resolve(info)?;
    if !res.supports("watch") {
        return Err(ApiError::method_not_supported(
            res.group, res.plural, "watch",
        ));
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let repr = response::negotiate(accept)?;
    let ns = if res.namespaced {
        info.namespace.as_deref()
    } else {
        None
    };
    let mut opts = list_options(res, query)?;
    // `/api/v1/watch/namespaces/ns/pods/name` watches one object.
    if let Some(name) = &info.name {
        let extra = format!("metadata.name={name}");
        let merged = match query.get("fieldSelector").filter(|s| !s.is_empty()) {
            Some(fs) => format!("{fs},{extra}"),
            None => extra,
        };
        opts.fields = crate::selectors::FieldSelector::parse_for(&merged, res)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    let store = &server.store;
    let p = WatchParams {
        res,
        prefix: store.collection_prefix(res, ns),
        bookmarks: query.flag("allowWatchBookmarks"),
        table: repr == Representation::Table,
        include: match query.get("includeObject") {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        },
        opts,
    };
    let send_initial = query.get("sendInitialEvents").map(|v| v == "true");
    if send_initial.is_some() && query.get("resourceVersionMatch") != Some("NotOlderThan") {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "ListOptions",
            "",
            &[crate::errors::FieldError::forbidden(
                "resourceVersionMatch",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            )],
        ));
    }
    if send_initial == Some(true) && !p.bookmarks {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "ListOptions",
            "",
            &[crate::errors::FieldError::forbidden(
                "allowWatchBookmarks",
                "sendInitialEvents requires setting allowWatchBookmarks to true",
            )],
        ));
    }
    let rv = query.get("resourceVersion").unwrap_or("").to_string();
    let timeout = match query
        .non_empty("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
    {
        Some(t) => Duration::from_secs(t),
        None => Duration::from_secs(rand::rng().random_range(1800..3600)),
    };
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(256);
    let mut initial: Vec<Arc<Object>> = Vec::new();
    let mut past: Vec<Arc<WatchEvent>> = Vec::new();
    let mut initial_end_bookmark = false;
    let (start_rev, live) = if send_initial == Some(true) || rv.is_empty() || rv == "0" {
        // "" is a consistent start (wait for the cache to reach etcd's revision); "0" takes
        // the cache as it is; N (with sendInitialEvents) waits for N.
        if rv.is_empty() {
            let current = store.etcd.current_revision().await?;
            store.cache.wait_for(current, Duration::from_secs(3)).await;
        } else if let Ok(n) = rv.parse::<i64>() {
            store.cache.wait_for(n, Duration::from_secs(3)).await;
        }
        let (items, rev, live) = store.cache.snapshot_and_watch(&p.prefix);
        initial = items
            .into_iter()
            .filter(|o| matches(&p, &converted(store, &p, o)))
            .collect();
        initial_end_bookmark = send_initial == Some(true);
        (rev, live)
    } else {
        let from: i64 = rv
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv:?}")))?;
        match store.cache.watch_from(&p.prefix, from) {
            Ok((events, live)) => {
                past = events;
                (from, live)
            }
            Err(too_old) => {
                // Upstream answers 200 and then one ERROR event.
                let status = ApiError::gone(too_old.to_string()).to_status();
                let mut line = serde_json::to_vec(&json!({"type": "ERROR", "object": status}))
                    .unwrap_or_default();
                line.push(b'\n');
                return Ok(response::bytes(200, "application/json", line));
            }
        }
    };
    let server2 = server.clone();
    tokio::spawn(async move {
        let store = &server2.store;
        let mut first = true;
        let send = |b: Bytes| tx.send(Ok(Frame::data(b)));
        for obj in &initial {
            let obj = converted(store, &p, obj);
            if send(event_line(&p, "ADDED", &obj, &mut first))
                .await
                .is_err()
            {
                return;
            }
        }
        if initial_end_bookmark {
            let b = bookmark(&p, start_rev, true);
            if send(event_line(&p, "BOOKMARK", &b, &mut first))
                .await
                .is_err()
            {
                return;
            }
        }
        let mut last = start_rev;
        for ev in &past {
            last = ev.revision;
            if let Some((kind, obj)) = translate(store, &p, ev) {
                if send(event_line(&p, kind, &obj, &mut first)).await.is_err() {
                    return;
                }
            }
        }
        stream_live(store, &p, live, last, timeout, &tx, &mut first).await;
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let body: Body = StreamBody::new(stream).boxed();
    let mut r = Response::new(body);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache, private"),
    );
    Ok(r)
}

async fn stream_live(
    store: &Store,
    p: &WatchParams,
    mut live: broadcast::Receiver<Arc<WatchEvent>>,
    mut last: i64,
    timeout: Duration,
    tx: &mpsc::Sender<Result<Frame<Bytes>, Infallible>>,
    first: &mut bool,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut ticker = tokio::time::interval(BOOKMARK_INTERVAL);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return,
            _ = tx.closed() => return,
            _ = ticker.tick() => {
                if p.bookmarks {
                    let rev = store.cache.revision().max(last);
                    let b = bookmark(p, rev, false);
                    if tx.send(Ok(Frame::data(event_line(p, "BOOKMARK", &b, first)))).await.is_err() {
                        return;
                    }
                }
            }
            ev = live.recv() => {
                match ev {
                    Ok(ev) => {
                        if ev.revision <= last {
                            continue;
                        }
                        last = ev.revision;
                        if let Some((kind, obj)) = translate(store, p, &ev) {
                            if tx.send(Ok(Frame::data(event_line(p, kind, &obj, first)))).await.is_err() {
                                return;
                            }
                        }
                    }
                    // Too slow to keep up, or the cache was reset: end the watch; the client
                    // resumes from the last resourceVersion it saw.
                    Err(_) => return,
                }
            }
        }
    }
}
