//! The HTTP side: a kube-client `Client` built from the resolved kubeconfig, raw JSON requests,
//! and upstream's wording for API and connection errors.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::{Method, Request};
use http_body_util::BodyExt;
use serde_json::Value;

use crate::error::{KubectlError, Result, StatusDetails};
use crate::kubeconfig::{KubeConfig, Overrides, Resolved};

/// Accept header `kubectl get` sends for server-side tables.
pub const ACCEPT_TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

/// A connected client plus the namespace commands default to.
#[derive(Clone)]
pub struct ApiClient {
    client: kube::Client,
    /// The server URL, for messages (`cluster-info`, connection errors).
    pub server: String,
    /// Namespace from `-n` or the context, else `default`.
    pub namespace: String,
    /// Whether `-n` chose `namespace` (upstream's EnforceNamespace).
    pub namespace_explicit: bool,
}

/// A request body with its content type.
pub struct Body {
    /// `Content-Type`
    pub content_type: &'static str,
    /// Bytes sent.
    pub bytes: Vec<u8>,
}

impl Body {
    /// A JSON body.
    pub fn json(v: &Value) -> Self {
        Body {
            content_type: "application/json",
            bytes: v.to_string().into_bytes(),
        }
    }

    /// A strategic merge patch.
    pub fn strategic_merge_patch(v: &Value) -> Self {
        Body {
            content_type: "application/strategic-merge-patch+json",
            bytes: v.to_string().into_bytes(),
        }
    }
}

impl ApiClient {
    /// Builds a client for the resolved context.
    pub async fn connect(kc: &KubeConfig, overrides: &Overrides) -> Result<Self> {
        let resolved: Resolved = kc.resolve(overrides)?;
        let server = resolved.server();
        let kube_cfg = resolved.to_kube()?;
        let options = kube::config::KubeConfigOptions::default();
        let config = kube::Config::from_custom_kubeconfig(kube_cfg, &options)
            .await
            .map_err(|e| KubectlError::usage(format!("invalid configuration: {e}")))?;
        let client = kube::Client::try_from(config)
            .map_err(|e| KubectlError::usage(format!("invalid configuration: {e}")))?;
        Ok(ApiClient {
            client,
            server,
            namespace: resolved.namespace,
            namespace_explicit: resolved.namespace_explicit,
        })
    }

    /// A client for a plain-HTTP test server at `url`, namespace `default`.
    #[cfg(test)]
    pub fn for_test_server(url: &str) -> Self {
        let uri = url.parse().expect("a test server URL");
        let client = kube::Client::try_from(kube::Config::new(uri)).expect("a test client");
        ApiClient {
            client,
            server: url.to_string(),
            namespace: "default".to_string(),
            namespace_explicit: false,
        }
    }

    /// Sends a request and returns the raw response; non-2xx answers become errors.
    async fn send(
        &self,
        method: Method,
        path: &str,
        accept: &str,
        body: Option<Body>,
    ) -> Result<http::Response<kube::client::Body>> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::ACCEPT, accept);
        let bytes = match body {
            Some(b) => {
                req = req.header(http::header::CONTENT_TYPE, b.content_type);
                b.bytes
            }
            None => Vec::new(),
        };
        let req = req
            .body(kube::client::Body::from(bytes))
            .map_err(|e| KubectlError::usage(e.to_string()))?;
        let res = self
            .client
            .send(req)
            .await
            .map_err(|e| self.connection_error(e))?;
        crate::warnings::report(res.headers());
        if res.status().is_success() {
            return Ok(res);
        }
        let code = res.status().as_u16();
        let body = res
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Err(status_error(code, &body))
    }

    /// Sends a request as it is (any status comes back as the answer), for `kubectl proxy`.
    pub async fn forward(
        &self,
        req: Request<kube::client::Body>,
    ) -> Result<http::Response<kube::client::Body>> {
        self.client
            .send(req)
            .await
            .map_err(|e| self.connection_error(e))
    }

    /// A request whose answer is JSON.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        accept: &str,
        body: Option<Body>,
    ) -> Result<Value> {
        let res = self.send(method, path, accept, body).await?;
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| KubectlError::Connection(format!("error reading response: {e}")))?
            .to_bytes();
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| KubectlError::usage(format!("error decoding response: {e}")))
    }

    /// GET returning JSON.
    pub async fn get(&self, path: &str) -> Result<Value> {
        self.request(Method::GET, path, "application/json", None)
            .await
    }

    /// A streaming GET (logs, watches): the body as a stream of chunks.
    pub async fn stream(
        &self,
        path: &str,
        accept: &str,
    ) -> Result<impl Stream<Item = Result<Bytes>> + use<>> {
        let res = self.send(Method::GET, path, accept, None).await?;
        Ok(res
            .into_body()
            .into_data_stream()
            .map(|r| r.map_err(|e| KubectlError::Connection(format!("error reading stream: {e}")))))
    }

    /// Opens a connection upgraded to a WebSocket (exec, attach): a GET with the WebSocket
    /// handshake headers offering `protocols`. Returns the raw upgraded stream and the
    /// subprotocol the server chose; an answer other than `101 Switching Protocols` becomes
    /// its error.
    pub async fn upgrade(
        &self,
        path: &str,
        protocols: &str,
    ) -> Result<(hyper::upgrade::Upgraded, Option<String>)> {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
        let req = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(http::header::CONNECTION, "Upgrade")
            .header(http::header::UPGRADE, "websocket")
            .header(http::header::SEC_WEBSOCKET_VERSION, "13")
            .header(http::header::SEC_WEBSOCKET_KEY, &key)
            .header(http::header::SEC_WEBSOCKET_PROTOCOL, protocols)
            .body(kube::client::Body::empty())
            .map_err(|e| KubectlError::usage(e.to_string()))?;
        let mut res = self
            .client
            .send(req)
            .await
            .map_err(|e| self.connection_error(e))?;
        if res.status() != http::StatusCode::SWITCHING_PROTOCOLS {
            let code = res.status().as_u16();
            let body = res
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            // client-go's wording: a Status is the server's error, any other body is
            // quoted after "unable to upgrade connection".
            return Err(match serde_json::from_slice::<Value>(&body) {
                Ok(v) if v["kind"] == "Status" => status_error(code, &body),
                _ => KubectlError::usage(format!(
                    "unable to upgrade connection: {}",
                    String::from_utf8_lossy(&body).trim()
                )),
            });
        }
        let protocol = res
            .headers()
            .get(http::header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let upgraded = hyper::upgrade::on(&mut res)
            .await
            .map_err(|e| KubectlError::Connection(format!("error upgrading connection: {e}")))?;
        Ok((upgraded, protocol))
    }

    fn connection_error(&self, e: kube::Error) -> KubectlError {
        let host = self
            .server
            .split("://")
            .nth(1)
            .unwrap_or(&self.server)
            .trim_end_matches('/')
            .to_string();
        let text = format!("{e:?}");
        if text.contains("ConnectionRefused") || text.contains("Connection refused") {
            KubectlError::Connection(format!(
                "The connection to the server {host} was refused - did you specify the right host or port?"
            ))
        } else {
            KubectlError::Connection(format!("Unable to connect to the server: {e}"))
        }
    }
}

/// Turns an error answer into upstream's error: the `Status` when there is one.
pub fn status_error(code: u16, body: &[u8]) -> KubectlError {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v["kind"] == "Status" => KubectlError::Server {
            details: StatusDetails::from_status(&v).map(Box::new),
            reason: v["reason"].as_str().unwrap_or("").to_string(),
            message: v["message"].as_str().unwrap_or("").to_string(),
            code,
            context: None,
        },
        _ => {
            // Upstream names the reason after the HTTP status when the body is not a Status.
            let (reason, message) = match code {
                401 => (
                    "Unauthorized",
                    "the server has asked for the client to provide credentials",
                ),
                403 => ("Forbidden", "forbidden"),
                404 => (
                    "NotFound",
                    "the server could not find the requested resource",
                ),
                _ => ("", ""),
            };
            let message = if message.is_empty() {
                format!(
                    "an error on the server (\"{}\") has prevented the request from succeeding",
                    String::from_utf8_lossy(body).trim()
                )
            } else {
                message.to_string()
            };
            KubectlError::Server {
                details: None,
                reason: reason.to_string(),
                message,
                code,
                context: None,
            }
        }
    }
}

/// Percent-encodes a query value.
pub fn q(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bodies_become_server_errors() {
        let e = status_error(
            404,
            br#"{"kind":"Status","reason":"NotFound","message":"pods \"x\" not found","code":404}"#,
        );
        assert_eq!(
            e.to_string(),
            "Error from server (NotFound): pods \"x\" not found"
        );
        assert!(e.is_not_found());
        let e = status_error(404, b"404 page not found");
        assert_eq!(
            e.to_string(),
            "Error from server (NotFound): the server could not find the requested resource"
        );
    }
}
