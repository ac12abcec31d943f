//! `/exec`, `/attach` and `/portForward`: ask the runtime (CRI Exec / Attach / PortForward)
//! for a one-time URL on its streaming server, then hand the client's upgrade request to it
//! (see `upgrade_proxy`). The kubelet never speaks SPDY or WebSocket itself: whichever
//! protocol the client and the runtime's streaming server agree on is spliced through.

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use proto::cri::v1 as cri;

use super::lookup::{self, cri_status, PodRef};
use super::response::{self, Body};
use super::upgrade_proxy;
use crate::cri::{call_error, CriError, Runtime};

/// Which standard streams the client wants attached (upstream's remotecommand options).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl StreamOptions {
    /// Reads `input`/`output`/`error`/`tty` (what the apiserver sends, value `1`), also
    /// accepting the PodExecOptions names `stdin`/`stdout`/`stderr` and `true`.
    pub fn from_query(query: &str) -> Result<(StreamOptions, Vec<String>), String> {
        let mut opts = StreamOptions::default();
        let mut command = Vec::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let on = value == "1" || value.eq_ignore_ascii_case("true");
            match key.as_ref() {
                "command" => command.push(value.into_owned()),
                "input" | "stdin" => opts.stdin = on,
                "output" | "stdout" => opts.stdout = on,
                "error" | "stderr" => opts.stderr = on,
                "tty" => opts.tty = on,
                _ => {}
            }
        }
        // A terminal merges stderr into stdout; upstream drops the flag rather than failing.
        if opts.tty {
            opts.stderr = false;
        }
        if !opts.stdin && !opts.stdout && !opts.stderr {
            return Err("you must specify at least 1 of stdin, stdout, stderr".into());
        }
        Ok((opts, command))
    }
}

/// What the client wants to stream.
pub enum StreamKind {
    Exec { container: String },
    Attach { container: String },
    PortForward,
}

/// Serves `/exec`, `/attach` or `/portForward` for one pod.
pub async fn serve(
    runtime: &Runtime,
    pod: PodRef,
    kind: StreamKind,
    req: Request<Incoming>,
) -> Response<Body> {
    let query = req.uri().query().unwrap_or("").to_string();
    let url = match kind {
        StreamKind::Exec { container } => {
            let (opts, command) = match StreamOptions::from_query(&query) {
                Ok(o) => o,
                Err(e) => return response::text(StatusCode::BAD_REQUEST, e),
            };
            let found = match lookup::running_container(runtime, &pod, &container).await {
                Ok(c) => c,
                Err(e) => return response::text(e.status(), e.to_string()),
            };
            exec_url(runtime, found.id, command, opts).await
        }
        StreamKind::Attach { container } => {
            let (opts, _) = match StreamOptions::from_query(&query) {
                Ok(o) => o,
                Err(e) => return response::text(StatusCode::BAD_REQUEST, e),
            };
            let found = match lookup::running_container(runtime, &pod, &container).await {
                Ok(c) => c,
                Err(e) => return response::text(e.status(), e.to_string()),
            };
            attach_url(runtime, found.id, opts).await
        }
        StreamKind::PortForward => {
            let ports = match forwarded_ports(&query, upgrade_proxy::is_websocket(&req)) {
                Ok(p) => p,
                Err(e) => return response::text(StatusCode::BAD_REQUEST, e),
            };
            let sandbox = match lookup::ready_sandbox(runtime, &pod).await {
                // Upstream words this one without the pod name.
                Err(lookup::LookupError::PodNotFound(_)) => {
                    return response::text(StatusCode::NOT_FOUND, "pod does not exist")
                }
                Err(e) => return response::text(e.status(), e.to_string()),
                Ok(s) => s,
            };
            port_forward_url(runtime, sandbox.id, ports).await
        }
    };
    match url {
        Ok(url) => upgrade_proxy::proxy(req, &url).await,
        Err(e) => response::text(cri_status(&e), e.to_string()),
    }
}

/// The `port` query parameters. WebSocket clients must name their ports here; SPDY clients
/// name them per stream, in headers the streaming server reads.
pub fn forwarded_ports(query: &str, websocket: bool) -> Result<Vec<i32>, String> {
    let mut ports = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == "port" {
            for one in value.split(',') {
                match one.parse::<u16>() {
                    Ok(p) if p > 0 => ports.push(i32::from(p)),
                    _ => {
                        return Err(format!(
                            "unable to parse {one:?} as a port: must be in the range 1-65535"
                        ))
                    }
                }
            }
        }
    }
    if websocket && ports.is_empty() {
        return Err("query parameter \"port\" is required".into());
    }
    Ok(ports)
}

async fn exec_url(
    runtime: &Runtime,
    container_id: String,
    cmd: Vec<String>,
    o: StreamOptions,
) -> Result<String, CriError> {
    let request = cri::ExecRequest {
        container_id,
        cmd,
        tty: o.tty,
        stdin: o.stdin,
        stdout: o.stdout,
        stderr: o.stderr,
    };
    Ok(runtime
        .runtime
        .clone()
        .exec(request)
        .await
        .map_err(call_error("Exec"))?
        .into_inner()
        .url)
}

async fn attach_url(
    runtime: &Runtime,
    container_id: String,
    o: StreamOptions,
) -> Result<String, CriError> {
    let request = cri::AttachRequest {
        container_id,
        stdin: o.stdin,
        tty: o.tty,
        stdout: o.stdout,
        stderr: o.stderr,
    };
    Ok(runtime
        .runtime
        .clone()
        .attach(request)
        .await
        .map_err(call_error("Attach"))?
        .into_inner()
        .url)
}

async fn port_forward_url(
    runtime: &Runtime,
    pod_sandbox_id: String,
    port: Vec<i32>,
) -> Result<String, CriError> {
    Ok(runtime
        .runtime
        .clone()
        .port_forward(cri::PortForwardRequest {
            pod_sandbox_id,
            port,
        })
        .await
        .map_err(call_error("PortForward"))?
        .into_inner()
        .url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_query_as_the_apiserver_sends_it() {
        let (o, cmd) =
            StreamOptions::from_query("command=sh&command=-c&command=echo+hi&output=1&error=1")
                .unwrap();
        assert_eq!(cmd, ["sh", "-c", "echo hi"]);
        assert_eq!(
            o,
            StreamOptions {
                stdout: true,
                stderr: true,
                ..Default::default()
            }
        );
        let (o, _) =
            StreamOptions::from_query("command=sh&stdin=true&stdout=true&stderr=true&tty=true")
                .unwrap();
        assert!(o.stdin && o.stdout && o.tty);
        assert!(!o.stderr, "tty merges stderr into stdout");
        assert!(StreamOptions::from_query("command=ls&tty=1").is_err());
    }

    #[test]
    fn port_forward_ports() {
        assert_eq!(
            forwarded_ports("port=80&port=8080", true).unwrap(),
            [80, 8080]
        );
        assert_eq!(forwarded_ports("port=80,443", false).unwrap(), [80, 443]);
        assert!(forwarded_ports("", true).is_err());
        assert!(forwarded_ports("", false).unwrap().is_empty());
        assert!(forwarded_ports("port=0", false).is_err());
        assert!(forwarded_ports("port=70000", false).is_err());
    }
}
