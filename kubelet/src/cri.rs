//! The kubelet's side of CRI v1: a connection to the container runtime's unix socket and the
//! two gRPC clients (runtime and image services) cloned wherever they are needed.
use std::path::PathBuf;

use hyper_util::rt::TokioIo;
use proto::cri::v1 as cri;
use proto::cri::v1::image_service_client::ImageServiceClient;
use proto::cri::v1::runtime_service_client::RuntimeServiceClient;
use tonic::transport::{Channel, Endpoint, Uri};

use crate::metrics::cri::Instrumented;

/// The channel both CRI clients share: every call on it is counted and timed in
/// `kubelet_runtime_operations_*`.
pub type CriChannel = Instrumented<Channel>;

#[derive(Debug, thiserror::Error)]
pub enum CriError {
    #[error("container runtime endpoint {0:?} is not a unix:// socket")]
    BadEndpoint(String),
    #[error("CRI {call}: {status}")]
    Call {
        call: &'static str,
        status: tonic::Status,
    },
}

impl CriError {
    /// True when the runtime answered NotFound (the object is already gone).
    pub fn is_not_found(&self) -> bool {
        matches!(self, CriError::Call { status, .. } if status.code() == tonic::Code::NotFound)
    }
}

/// Wraps a failed call with the RPC's name, so logs say which step failed.
pub fn call_error(call: &'static str) -> impl FnOnce(tonic::Status) -> CriError {
    move |status| CriError::Call { call, status }
}

/// Both CRI services over one channel. Cheap to clone (tonic channels are handles).
#[derive(Clone)]
pub struct Runtime {
    pub runtime: RuntimeServiceClient<CriChannel>,
    pub images: ImageServiceClient<CriChannel>,
}

/// Accepts `unix:///path` (as upstream's `--container-runtime-endpoint`) or a bare path.
pub fn socket_path(endpoint: &str) -> Result<PathBuf, CriError> {
    let path = endpoint.strip_prefix("unix://").unwrap_or(endpoint);
    if path.is_empty() || path.contains("://") {
        return Err(CriError::BadEndpoint(endpoint.to_string()));
    }
    Ok(PathBuf::from(path))
}

impl Runtime {
    /// Connects lazily: the first call dials the socket, and a runtime restart is survived
    /// because tonic reconnects on the next call.
    pub async fn connect(endpoint: &str) -> Result<Runtime, CriError> {
        let path = socket_path(endpoint)?;
        // The URI is a placeholder: the connector below always dials the unix socket.
        let channel = Endpoint::from_static("http://cri.invalid").connect_with_connector_lazy(
            tower::service_fn(move |_: Uri| {
                let path = path.clone();
                async move {
                    let stream = tokio::net::UnixStream::connect(path).await?;
                    Ok::<_, std::io::Error>(TokioIo::new(stream))
                }
            }),
        );
        Ok(Runtime::over(channel))
    }

    /// Both clients over one channel, instrumented.
    pub fn over(channel: Channel) -> Runtime {
        let channel = Instrumented::new(channel);
        Runtime {
            runtime: RuntimeServiceClient::new(channel.clone()),
            images: ImageServiceClient::new(channel),
        }
    }

    /// The containers the runtime reports running (stats and log rotation look only at these).
    pub async fn running_containers(&self) -> Result<Vec<cri::Container>, CriError> {
        Ok(self
            .runtime
            .clone()
            .list_containers(cri::ListContainersRequest {
                filter: Some(cri::ContainerFilter {
                    state: Some(cri::ContainerStateValue {
                        state: cri::ContainerState::ContainerRunning as i32,
                    }),
                    ..Default::default()
                }),
            })
            .await
            .map_err(call_error("ListContainers"))?
            .into_inner()
            .containers)
    }

    pub async fn version(&self) -> Result<cri::VersionResponse, CriError> {
        let request = cri::VersionRequest {
            version: "v1".into(),
        };
        Ok(self
            .runtime
            .clone()
            .version(request)
            .await
            .map_err(call_error("Version"))?
            .into_inner())
    }
}
