//! Container probes — liveness, readiness and startup — as upstream runs them.
//!
//! - [`probe_once`] runs one probe once: exec (CRI ExecSync), httpGet, tcpSocket or grpc.
//! - [`ProbeManager`] keeps one periodic worker per (pod, container, kind, container id),
//!   applies the thresholds and publishes results the pod worker reads
//!   ([`ProbeManager::is_ready`], [`ProbeManager::is_started`],
//!   [`ProbeManager::liveness_failed`], [`ProbeManager::startup_failed`]).
//!
//! Messages follow upstream's event wording: "Liveness probe failed: HTTP probe failed with
//! statuscode: 500".

pub mod exec;
pub mod grpc;
pub mod http;
mod manager;
pub mod tcp;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::cri::Runtime;
pub use manager::ProbeManager;

/// Upstream's defaults for unset probe fields.
pub const DEFAULT_PERIOD_SECONDS: i32 = 10;
pub const DEFAULT_TIMEOUT_SECONDS: i32 = 1;
pub const DEFAULT_SUCCESS_THRESHOLD: i32 = 1;
pub const DEFAULT_FAILURE_THRESHOLD: i32 = 3;

/// Which probe of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
            ProbeKind::Startup => "Startup",
        })
    }
}

impl ProbeKind {
    /// The container's probe of this kind, if it has one.
    pub fn of(self, container: &Container) -> Option<&Probe> {
        match self {
            ProbeKind::Liveness => container.liveness_probe.as_ref(),
            ProbeKind::Readiness => container.readiness_probe.as_ref(),
            ProbeKind::Startup => container.startup_probe.as_ref(),
        }
    }
}

/// The result of one probe run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    Success,
    /// Failed, with the event message ("Readiness probe failed: …").
    Failure(String),
    /// No verdict: the probe could not run (container gone, no pod IP yet, unknown port
    /// name, runtime error). Upstream logs "probe errored" and leaves the result as it was;
    /// so does [`ProbeManager`]. The text says why ("Liveness probe errored: …").
    Unknown(String),
}

/// Runs `probe` (of `kind`) once against the container `container_id`, bounded by the
/// probe's `timeoutSeconds` (default 1).
///
/// httpGet/tcpSocket/grpc go to the probe's `host`, defaulting to `pod_ip`; a named port is
/// looked up in the container's ports. The message of a failure is prefixed with the kind,
/// as upstream's events are.
pub async fn probe_once(
    runtime: &Runtime,
    kind: ProbeKind,
    probe: &Probe,
    container: &Container,
    container_id: &str,
    pod_ip: Option<IpAddr>,
) -> ProbeOutcome {
    let timeout = timeout_of(probe);
    let failed = |msg: String| ProbeOutcome::Failure(format!("{kind} probe failed: {msg}"));
    let errored = |msg: String| ProbeOutcome::Unknown(format!("{kind} probe errored: {msg}"));

    if let Some(action) = &probe.exec {
        let command = action.command.clone().unwrap_or_default();
        if command.is_empty() {
            return errored("exec probe has no command".into());
        }
        return match exec::probe(runtime, container_id, &command, timeout).await {
            exec::ExecResult::Success => ProbeOutcome::Success,
            exec::ExecResult::Failure(msg) => failed(msg),
            exec::ExecResult::Error(msg) => errored(msg),
        };
    }
    if let Some(action) = &probe.http_get {
        let host = match target_host(action.host.as_deref(), pod_ip) {
            Ok(h) => h,
            Err(e) => return errored(e),
        };
        let port = match resolve_port(&action.port, container) {
            Ok(p) => p,
            Err(e) => return errored(e),
        };
        let target = http::HttpTarget {
            scheme: action.scheme.clone().unwrap_or_else(|| "HTTP".into()),
            host,
            port,
            path: action.path.clone().unwrap_or_default(),
            headers: action
                .http_headers
                .iter()
                .flatten()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect(),
        };
        return match http::probe(&target, timeout).await {
            Ok(()) => ProbeOutcome::Success,
            Err(msg) => failed(msg),
        };
    }
    if let Some(action) = &probe.tcp_socket {
        let host = match target_host(action.host.as_deref(), pod_ip) {
            Ok(h) => h,
            Err(e) => return errored(e),
        };
        let port = match resolve_port(&action.port, container) {
            Ok(p) => p,
            Err(e) => return errored(e),
        };
        let addr = match resolve_addr(&host, port).await {
            Ok(a) => a,
            Err(e) => return failed(e),
        };
        return match tcp::probe(addr, timeout).await {
            Ok(()) => ProbeOutcome::Success,
            Err(msg) => failed(msg),
        };
    }
    if let Some(action) = &probe.grpc {
        let Some(ip) = pod_ip else {
            return errored("pod has no IP yet".into());
        };
        let Ok(port) = u16::try_from(action.port) else {
            return errored(format!("invalid gRPC port {}", action.port));
        };
        let service = action.service.clone().unwrap_or_default();
        return match grpc::probe(SocketAddr::new(ip, port), &service, timeout).await {
            Ok(()) => ProbeOutcome::Success,
            Err(msg) => failed(msg),
        };
    }
    errored("probe has no handler (exec, httpGet, tcpSocket or grpc)".into())
}

/// `timeoutSeconds`, default 1, at least 1.
fn timeout_of(probe: &Probe) -> Duration {
    let secs = probe
        .timeout_seconds
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS)
        .max(1);
    Duration::from_secs(secs as u64)
}

fn target_host(host: Option<&str>, pod_ip: Option<IpAddr>) -> Result<String, String> {
    match host.filter(|h| !h.is_empty()) {
        Some(h) => Ok(h.to_string()),
        None => pod_ip
            .map(|ip| ip.to_string())
            .ok_or_else(|| "pod has no IP yet".to_string()),
    }
}

async fn resolve_addr(host: &str, port: u16) -> Result<SocketAddr, String> {
    if let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(SocketAddr::new(ip, port));
    }
    tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("dial tcp: lookup {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("dial tcp: lookup {host}: no such host"))
}

/// A probe's port: a number, or the name of one of the container's ports.
pub fn resolve_port(port: &IntOrString, container: &Container) -> Result<u16, String> {
    let number = match port {
        IntOrString::Int(n) => *n,
        IntOrString::String(name) => match name.parse::<i32>() {
            Ok(n) => n,
            Err(_) => container
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .map(|p| p.container_port)
                .ok_or_else(|| {
                    format!(
                        "couldn't find port: {name:?} in container {:?}",
                        container.name
                    )
                })?,
        },
    };
    u16::try_from(number)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("invalid port number: {number}"))
}

/// How the manager runs a probe; the CRI [`Runtime`] in production, a script in tests.
pub trait Prober: Send + Sync + 'static {
    /// Runs one probe once (see [`probe_once`]).
    fn probe<'a>(
        &'a self,
        kind: ProbeKind,
        probe: &'a Probe,
        container: &'a Container,
        container_id: &'a str,
        pod_ip: Option<IpAddr>,
    ) -> BoxFuture<'a, ProbeOutcome>;
}

impl Prober for Runtime {
    fn probe<'a>(
        &'a self,
        kind: ProbeKind,
        probe: &'a Probe,
        container: &'a Container,
        container_id: &'a str,
        pod_ip: Option<IpAddr>,
    ) -> BoxFuture<'a, ProbeOutcome> {
        Box::pin(probe_once(
            self,
            kind,
            probe,
            container,
            container_id,
            pod_ip,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ContainerPort;

    #[test]
    fn ports_by_number_and_name() {
        let c = Container {
            name: "web".into(),
            ports: Some(vec![ContainerPort {
                name: Some("http".into()),
                container_port: 8080,
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert_eq!(resolve_port(&IntOrString::Int(80), &c).unwrap(), 80);
        assert_eq!(
            resolve_port(&IntOrString::String("http".into()), &c).unwrap(),
            8080
        );
        assert!(resolve_port(&IntOrString::String("grpc".into()), &c)
            .unwrap_err()
            .contains("couldn't find port"));
        assert!(resolve_port(&IntOrString::Int(70000), &c).is_err());
    }

    /// A runtime whose socket does not exist: CRI calls fail, network probes still run.
    fn unreachable_runtime() -> Runtime {
        let channel = tonic::transport::Endpoint::from_static("http://cri.invalid")
            .connect_with_connector_lazy(tower::service_fn(|_: tonic::transport::Uri| async {
                let stream = tokio::net::UnixStream::connect("/nonexistent/cri.sock").await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }));
        Runtime::over(channel)
    }

    #[tokio::test]
    async fn probe_once_dispatches_and_prefixes_messages() {
        use k8s_openapi::api::core::v1::{ExecAction, TCPSocketAction};
        let runtime = unreachable_runtime();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let container = Container {
            name: "web".into(),
            ports: Some(vec![ContainerPort {
                name: Some("http".into()),
                container_port: i32::from(port),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let tcp = Probe {
            tcp_socket: Some(TCPSocketAction {
                port: IntOrString::String("http".into()),
                host: None,
            }),
            ..Default::default()
        };
        let outcome = probe_once(
            &runtime,
            ProbeKind::Readiness,
            &tcp,
            &container,
            "c1",
            Some(ip),
        )
        .await;
        assert_eq!(outcome, ProbeOutcome::Success);
        drop(listener);
        let outcome = probe_once(
            &runtime,
            ProbeKind::Liveness,
            &tcp,
            &container,
            "c1",
            Some(ip),
        )
        .await;
        assert_eq!(
            outcome,
            ProbeOutcome::Failure(format!(
                "Liveness probe failed: dial tcp 127.0.0.1:{port}: connect: connection refused"
            ))
        );
        // No pod IP yet: no verdict.
        let outcome = probe_once(&runtime, ProbeKind::Liveness, &tcp, &container, "c1", None).await;
        assert!(
            matches!(outcome, ProbeOutcome::Unknown(ref m) if m.starts_with("Liveness probe errored"))
        );
        // exec needs the runtime; unreachable means no verdict, not a failure.
        let exec = Probe {
            exec: Some(ExecAction {
                command: Some(vec!["true".into()]),
            }),
            ..Default::default()
        };
        let outcome = probe_once(
            &runtime,
            ProbeKind::Startup,
            &exec,
            &container,
            "c1",
            Some(ip),
        )
        .await;
        assert!(
            matches!(outcome, ProbeOutcome::Unknown(ref m) if m.starts_with("Startup probe errored")),
            "{outcome:?}"
        );
    }
}
