//! A small stateful stand-in for the API server, for the tests of `auth reconcile`: objects
//! are kept by path, GET/POST/PUT/DELETE behave as the server's do for them (NotFound,
//! AlreadyExists, `dryRun` not persisted), and every request is recorded with its body.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

use crate::client::ApiClient;

/// One request: method, path with query, and the JSON body (null when none).
pub type Request = (String, String, Value);

/// The server's state: objects by path, and the requests seen.
#[derive(Default)]
pub struct State {
    pub objects: BTreeMap<String, Value>,
    pub requests: Vec<Request>,
}

/// A handle on a running server.
pub type Shared = Arc<Mutex<State>>;

fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
            "reason": reason, "message": message, "code": code}),
    )
}

/// The answer to one request, changing `state` as the server would.
fn answer(state: &mut State, method: &str, uri: &str, body: &Value) -> (u16, Value) {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let dry = query.contains("dryRun");
    let name_of = |p: &str| p.rsplit('/').next().unwrap_or_default().to_string();
    match method {
        "GET" => match state.objects.get(path) {
            Some(obj) => (200, obj.clone()),
            None => status(404, "NotFound", &format!("\"{}\" not found", name_of(path))),
        },
        "POST" => {
            let name = body["metadata"]["name"].as_str().unwrap_or_default();
            let item = format!("{path}/{name}");
            if state.objects.contains_key(&item) {
                return status(409, "AlreadyExists", &format!("\"{name}\" already exists"));
            }
            let mut obj = body.clone();
            obj["metadata"]["uid"] = json!(format!("uid-{}", state.requests.len()));
            obj["metadata"]["resourceVersion"] = json!("1");
            obj["metadata"]["creationTimestamp"] = json!("2024-01-01T00:00:00Z");
            if !dry {
                state.objects.insert(item, obj.clone());
            }
            (201, obj)
        }
        "PUT" => {
            if !state.objects.contains_key(path) {
                return status(404, "NotFound", &format!("\"{}\" not found", name_of(path)));
            }
            if !dry {
                state.objects.insert(path.to_string(), body.clone());
            }
            (200, body.clone())
        }
        "DELETE" => match state.objects.get(path) {
            None => status(404, "NotFound", &format!("\"{}\" not found", name_of(path))),
            Some(obj) => {
                let want = &body["preconditions"]["uid"];
                if !want.is_null() && *want != obj["metadata"]["uid"] {
                    return status(409, "Conflict", "Precondition failed: UID in precondition");
                }
                state.objects.remove(path);
                (
                    200,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}),
                )
            }
        },
        _ => status(405, "MethodNotAllowed", "method not allowed"),
    }
}

/// Starts a server holding `objects` (path → object).
pub async fn start(objects: &[(&str, Value)]) -> (ApiClient, Shared) {
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state: Shared = Arc::new(Mutex::new(State {
        objects: objects
            .iter()
            .map(|(p, o)| (p.to_string(), o.clone()))
            .collect(),
        requests: Vec::new(),
    }));
    let shared = state.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let state = shared.clone();
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let state = state.clone();
                async move {
                    let method = req.method().to_string();
                    let uri = req.uri().to_string();
                    let bytes = req.into_body().collect().await?.to_bytes();
                    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    let (code, answer) = {
                        let mut s = state.lock().unwrap();
                        let a = answer(&mut s, &method, &uri, &body);
                        s.requests.push((method, uri, body));
                        a
                    };
                    let mut res = http::Response::new(Full::new(Bytes::from(answer.to_string())));
                    *res.status_mut() = http::StatusCode::from_u16(code).unwrap();
                    Ok::<_, hyper::Error>(res)
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(conn), service),
            );
        }
    });
    (ApiClient::for_test_server(&url), state)
}

/// The requests seen so far as `METHOD uri` lines.
pub fn lines(state: &Shared) -> Vec<String> {
    state
        .lock()
        .unwrap()
        .requests
        .iter()
        .map(|(m, u, _)| format!("{m} {u}"))
        .collect()
}
