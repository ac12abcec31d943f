//! A plain-HTTP stand-in for the API server in unit tests: each request is answered by a
//! function of its number (from 0) and URI, and the URIs asked for are recorded.

use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::client::ApiClient;

/// The URIs a [`fake_server`] was asked for, in order.
pub type Asked = Arc<Mutex<Vec<String>>>;

/// Starts the server; `answer(n, uri)` gives each request's status and body.
pub async fn fake_server<F>(answer: F) -> (ApiClient, Asked)
where
    F: Fn(usize, &str) -> (u16, String) + Send + Sync + 'static,
{
    use http_body_util::Full;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let asked: Asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let log = log.clone();
            let answer = answer.clone();
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let uri = req.uri().to_string();
                let mut log = log.lock().unwrap();
                let (status, body) = answer(log.len(), &uri);
                log.push(uri);
                async move {
                    let mut res = http::Response::new(Full::new(Bytes::from(body)));
                    *res.status_mut() = http::StatusCode::from_u16(status).unwrap();
                    Ok::<_, std::convert::Infallible>(res)
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(conn), service),
            );
        }
    });
    (ApiClient::for_test_server(&url), asked)
}
