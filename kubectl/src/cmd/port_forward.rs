//! `kubectl port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT...`: listens on local ports and
//! carries each accepted connection to the pod through the apiserver's `pods/portforward`
//! tunnel. A Service or workload stands for one of its pods; a Service port is translated
//! to its target port, as upstream does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use clap::Args;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::attachable::pod_for;
use super::exec::pod_running_timeout;
use super::{out, Ctx};
use crate::error::{KubectlError, Result};
use crate::remote::tunnel::{Forward, StreamEvent, Tunnel};

/// `kubectl port-forward`
#[derive(Debug, Args)]
pub struct PortForwardArgs {
    /// TYPE/NAME (or POD) followed by [LOCAL_PORT:]REMOTE_PORT pairs.
    args: Vec<String>,
    /// Addresses to listen on (comma separated): only IP addresses or localhost.
    #[arg(long, default_value = "localhost", value_delimiter = ',')]
    address: Vec<String>,
    /// How long to wait until at least one pod is running (e.g. 5s, 2m).
    #[arg(long, default_value = "1m0s", value_parser = crate::flags::go_duration)]
    pod_running_timeout: String,
}

/// One `[LOCAL:]REMOTE` pair; `local` 0 means any free port. `remote` may be a port name
/// until it is resolved against the pod or Service.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PortSpec {
    local: Option<u16>,
    remote: String,
}

fn parse_port(text: &str) -> Result<PortSpec> {
    let (local, remote) = match text.split_once(':') {
        Some((l, r)) => (Some(l), r),
        None => (None, text),
    };
    let local = match local {
        None => None,
        Some("") => Some(0),
        Some(l) => Some(l.parse::<u16>().map_err(|_| {
            KubectlError::usage(format!("Error parsing local port '{l}': invalid syntax"))
        })?),
    };
    if remote.is_empty() {
        return Err(KubectlError::usage(format!(
            "Error parsing remote port '{remote}': invalid syntax"
        )));
    }
    Ok(PortSpec {
        local,
        remote: remote.to_string(),
    })
}

/// Runs `kubectl port-forward`.
pub async fn run(ctx: &Ctx, a: PortForwardArgs) -> Result<()> {
    let [target, ports @ ..] = a.args.as_slice() else {
        return Err(usage());
    };
    if ports.is_empty() {
        return Err(usage());
    }
    let specs = ports
        .iter()
        .map(|p| parse_port(p))
        .collect::<Result<Vec<_>>>()?;
    let addresses = listen_addresses(&a.address)?;
    let timeout: Duration = pod_running_timeout(&a.pod_running_timeout)?;
    let client = ctx.client().await?;
    let ns = client.namespace.clone();
    let target = if target.contains('/') {
        target.clone()
    } else {
        format!("pod/{target}")
    };
    let service = match target.split_once('/') {
        Some(("svc" | "service" | "services", name)) => Some(
            client
                .get(&format!("/api/v1/namespaces/{ns}/services/{name}"))
                .await?,
        ),
        _ => None,
    };
    let pod = pod_for(&client, &ns, &target, timeout).await?;
    let mut forwards = Vec::new();
    for spec in &specs {
        let remote = match &service {
            Some(svc) => service_target_port(svc, &pod, &spec.remote)?,
            None => pod_port(&pod, &spec.remote)?,
        };
        let local = spec
            .local
            .unwrap_or_else(|| spec.remote.parse().unwrap_or(remote));
        forwards.push((local, remote));
    }
    let phase = pod["status"]["phase"].as_str().unwrap_or("");
    if phase != "Running" {
        return Err(KubectlError::usage(format!(
            "unable to forward port because pod is not running. Current status={phase}"
        )));
    }
    let name = pod["metadata"]["name"].as_str().unwrap_or("");
    let tunnel = Tunnel::open(
        &client,
        &format!("/api/v1/namespaces/{ns}/pods/{name}/portforward"),
    )
    .await?;
    for (local, remote) in forwards {
        let mut bound = 0;
        let mut port = local;
        for ip in &addresses {
            let listener = match TcpListener::bind(SocketAddr::new(*ip, port)).await {
                Ok(l) => l,
                Err(_) if addresses.len() > 1 => continue,
                Err(e) => {
                    return Err(KubectlError::usage(format!(
                    "unable to listen on any of the requested ports: [{{{local} {remote}}}]: {e}"
                )))
                }
            };
            let actual = listener.local_addr().map(|a| a.port()).unwrap_or(port);
            // Port 0 picks one; every address then uses the same.
            port = actual;
            let shown = match ip {
                IpAddr::V6(v6) => format!("[{v6}]"),
                IpAddr::V4(v4) => v4.to_string(),
            };
            out(&format!("Forwarding from {shown}:{actual} -> {remote}\n"));
            tokio::spawn(accept_loop(listener, tunnel.clone(), actual, remote));
            bound += 1;
        }
        if bound == 0 {
            return Err(KubectlError::usage(format!(
                "unable to listen on any of the requested ports: [{{{local} {remote}}}]"
            )));
        }
    }
    tunnel.closed().await;
    Err(KubectlError::usage("lost connection to pod"))
}

fn usage() -> KubectlError {
    KubectlError::usage(
        "TYPE/NAME and list of ports are required for port-forward\nSee 'kubectl port-forward -h' for help and examples",
    )
}

/// `--address`: `localhost` is 127.0.0.1 and ::1; anything else must be an IP.
fn listen_addresses(given: &[String]) -> Result<Vec<IpAddr>> {
    let mut out = Vec::new();
    for a in given {
        match a.as_str() {
            "localhost" => {
                out.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
                out.push(IpAddr::V6(Ipv6Addr::LOCALHOST));
            }
            other => out.push(
                other
                    .parse()
                    .map_err(|_| KubectlError::usage(format!("{other} is not a valid IP")))?,
            ),
        }
    }
    out.dedup();
    Ok(out)
}

/// A pod port given by number or by a container port's name.
fn pod_port(pod: &Value, port: &str) -> Result<u16> {
    if let Ok(n) = port.parse::<u16>() {
        return Ok(n);
    }
    container_port_named(pod, port).ok_or_else(|| {
        KubectlError::usage(format!(
            "Pod '{}' does not have a named port '{port}'",
            pod["metadata"]["name"].as_str().unwrap_or("")
        ))
    })
}

fn container_port_named(pod: &Value, name: &str) -> Option<u16> {
    pod["spec"]["containers"]
        .as_array()?
        .iter()
        .flat_map(|c| c["ports"].as_array().into_iter().flatten())
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
        .and_then(|p| u16::try_from(p).ok())
}

/// A Service port (number or name) translated to the pod port it targets.
fn service_target_port(svc: &Value, pod: &Value, port: &str) -> Result<u16> {
    let name = svc["metadata"]["name"].as_str().unwrap_or("");
    let ports = svc["spec"]["ports"].as_array().cloned().unwrap_or_default();
    let found = match port.parse::<u64>() {
        Ok(n) => ports.iter().find(|p| p["port"].as_u64() == Some(n)),
        Err(_) => ports.iter().find(|p| p["name"] == port),
    };
    let Some(svc_port) = found else {
        return Err(KubectlError::usage(match port.parse::<u64>() {
            Ok(_) => format!("Service {name} does not have a service port {port}"),
            Err(_) => format!("Service '{name}' does not have a named port '{port}'"),
        }));
    };
    let target = &svc_port["targetPort"];
    if let Some(n) = target.as_u64() {
        return u16::try_from(n).map_err(|_| KubectlError::usage(format!("invalid port {n}")));
    }
    if let Some(named) = target.as_str() {
        return pod_port(pod, named);
    }
    // No targetPort: the same number as the Service port.
    svc_port["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| KubectlError::usage(format!("Service {name} has an invalid port")))
}

async fn accept_loop(listener: TcpListener, tunnel: Tunnel, local: u16, remote: u16) {
    while let Ok((conn, _)) = listener.accept().await {
        out(&format!("Handling connection for {local}\n"));
        let tunnel = tunnel.clone();
        tokio::spawn(async move {
            match tunnel.forward(remote).await {
                Ok(forward) => relay(conn, forward, local, remote).await,
                Err(e) => eprintln!("{e}"),
            }
        });
    }
}

/// Copies one local connection to its data stream and back; reports the error stream.
async fn relay(conn: TcpStream, forward: Forward, local: u16, remote: u16) {
    let Forward {
        tunnel,
        data_stream,
        mut data,
        mut errors,
    } = forward;
    let (mut from_local, mut to_local) = conn.into_split();
    let upstream = {
        let tunnel = tunnel.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match from_local.read(&mut buf).await {
                    Ok(0) | Err(_) => {
                        let _ = tunnel.send(data_stream, &[], true).await;
                        return;
                    }
                    Ok(n) => {
                        if tunnel.send(data_stream, &buf[..n], false).await.is_err() {
                            return;
                        }
                    }
                }
            }
        })
    };
    let reporter = {
        let tunnel = tunnel.clone();
        tokio::spawn(async move {
            let mut message = Vec::new();
            while let Some(StreamEvent::Data(bytes)) = errors.recv().await {
                message.extend_from_slice(&bytes);
            }
            if !message.is_empty() {
                eprintln!(
                    "an error occurred forwarding {local} -> {remote}: {}",
                    String::from_utf8_lossy(&message).trim_end()
                );
                // As kubectl 1.31+: a failed connection ends the whole port-forward.
                tunnel.close();
            }
        })
    };
    while let Some(StreamEvent::Data(bytes)) = data.recv().await {
        if to_local.write_all(&bytes).await.is_err() {
            break;
        }
    }
    let _ = to_local.shutdown().await;
    upstream.abort();
    let _ = reporter.await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn port_pairs_as_upstream() {
        assert_eq!(
            parse_port("8080:80").unwrap(),
            PortSpec {
                local: Some(8080),
                remote: "80".into()
            }
        );
        assert_eq!(
            parse_port(":80").unwrap(),
            PortSpec {
                local: Some(0),
                remote: "80".into()
            }
        );
        assert_eq!(
            parse_port("http").unwrap(),
            PortSpec {
                local: None,
                remote: "http".into()
            }
        );
        assert!(parse_port("x:80").is_err());
        assert!(parse_port("80:").is_err());
    }

    #[test]
    fn localhost_is_both_loopbacks() {
        let a = listen_addresses(&["localhost".into()]).unwrap();
        assert_eq!(
            a,
            vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            ]
        );
        assert!(listen_addresses(&["nope".into()]).is_err());
    }

    #[test]
    fn service_ports_translate_to_target_ports() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"ports": [{"name": "web", "containerPort": 8080}]}]}});
        let svc = json!({"metadata": {"name": "s"}, "spec": {"ports": [
            {"name": "http", "port": 80, "targetPort": "web"},
            {"name": "admin", "port": 9000, "targetPort": 9001},
            {"name": "same", "port": 7000}
        ]}});
        assert_eq!(service_target_port(&svc, &pod, "80").unwrap(), 8080);
        assert_eq!(service_target_port(&svc, &pod, "http").unwrap(), 8080);
        assert_eq!(service_target_port(&svc, &pod, "9000").unwrap(), 9001);
        assert_eq!(service_target_port(&svc, &pod, "7000").unwrap(), 7000);
        assert_eq!(
            service_target_port(&svc, &pod, "81")
                .unwrap_err()
                .to_string(),
            "error: Service s does not have a service port 81"
        );
        assert_eq!(pod_port(&pod, "web").unwrap(), 8080);
        assert!(pod_port(&pod, "nope").is_err());
    }
}
