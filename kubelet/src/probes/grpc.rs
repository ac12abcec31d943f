//! grpc probes: the standard `grpc.health.v1.Health/Check` call; SERVING is success.
use std::net::SocketAddr;
use std::time::Duration;

use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Endpoint;

/// `grpc.health.v1.HealthCheckRequest`.
#[derive(Clone, PartialEq, prost::Message)]
struct HealthCheckRequest {
    #[prost(string, tag = "1")]
    service: String,
}

/// `grpc.health.v1.HealthCheckResponse`.
#[derive(Clone, PartialEq, prost::Message)]
struct HealthCheckResponse {
    #[prost(int32, tag = "1")]
    status: i32,
}

/// `HealthCheckResponse.ServingStatus` names, for messages.
fn status_name(status: i32) -> &'static str {
    match status {
        0 => "UNKNOWN",
        1 => "SERVING",
        2 => "NOT_SERVING",
        3 => "SERVICE_UNKNOWN",
        _ => "UNRECOGNIZED",
    }
}

/// Calls Check for `service` on `addr` (plaintext, as upstream) within `timeout`.
/// `Err` carries upstream-like wording.
pub async fn probe(addr: SocketAddr, service: &str, timeout: Duration) -> Result<(), String> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| format!("invalid gRPC address {addr}: {e}"))?
        .connect_timeout(timeout)
        .timeout(timeout);
    let channel = match tokio::time::timeout(timeout, endpoint.connect()).await {
        Ok(Ok(channel)) => channel,
        Ok(Err(e)) => {
            return Err(format!(
                "timeout: failed to connect service {addr:?} within {}s: {e}",
                timeout.as_secs()
            ))
        }
        Err(_) => {
            return Err(format!(
                "timeout: failed to connect service {addr:?} within {}s",
                timeout.as_secs()
            ))
        }
    };
    let mut client = tonic::client::Grpc::new(channel);
    let call = async {
        client
            .ready()
            .await
            .map_err(|e| format!("error: health rpc probe failed: {e}"))?;
        client
            .unary(
                tonic::Request::new(HealthCheckRequest {
                    service: service.to_string(),
                }),
                PathAndQuery::from_static("/grpc.health.v1.Health/Check"),
                tonic_prost::ProstCodec::<HealthCheckRequest, HealthCheckResponse>::default(),
            )
            .await
            .map_err(|status| match status.code() {
                tonic::Code::Unimplemented => {
                    "this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health".to_string()
                }
                tonic::Code::DeadlineExceeded => {
                    format!("timeout: health rpc did not complete within {}s", timeout.as_secs())
                }
                _ => format!("error: health rpc probe failed: {status}"),
            })
    };
    let response = tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| {
            format!(
                "timeout: health rpc did not complete within {}s",
                timeout.as_secs()
            )
        })??
        .into_inner();
    if response.status == 1 {
        Ok(())
    } else {
        Err(format!(
            "service unhealthy (responded with {:?})",
            status_name(response.status)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closed_port_fails_with_a_connect_message() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = probe(closed, "", Duration::from_secs(1)).await.unwrap_err();
        assert!(
            err.starts_with("timeout: failed to connect service"),
            "{err}"
        );
        assert_eq!(status_name(2), "NOT_SERVING");
    }
}
