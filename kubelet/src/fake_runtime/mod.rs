//! An in-memory CRI v1 runtime for scale tests (`--fake-runtime`, the hollow-node binary).
//! It is served over a unix socket like containerd, so the kubelet reaches it through its
//! ordinary [`Runtime::connect`](crate::cri::Runtime::connect) and everything above the CRI
//! boundary — pod workers, status, node heartbeats — runs unchanged. Nothing is executed:
//! sandboxes get addresses from the pod CIDR, containers go CREATED → RUNNING and stay
//! running until stopped.
//!
//! - `ipam`: pod addresses from the pod CIDR.
//! - `store`: sandboxes, containers, images and their state machine.
//! - `service`: the gRPC RuntimeService and ImageService over the store.

pub mod ipam;
pub mod service;
pub mod store;

use std::path::{Path, PathBuf};

use proto::cri::v1::image_service_server::ImageServiceServer;
use proto::cri::v1::runtime_service_server::RuntimeServiceServer;
use tokio::net::UnixListener;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::UnixListenerStream;

pub use service::FakeRuntime;
pub use store::Store;

/// The pod CIDR a fake runtime uses until the kubelet tells it the node's own.
pub const DEFAULT_POD_CIDR: &str = "10.244.0.0/24";

#[derive(Debug, thiserror::Error)]
pub enum FakeRuntimeError {
    #[error(transparent)]
    Ipam(#[from] ipam::IpamError),
    #[error("fake runtime socket {path}: {source}")]
    Socket {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A fake runtime serving on a unix socket. Dropping it leaves the server running (it lives
/// as long as the process); [`FakeRuntimeServer::abort`] stops it.
pub struct FakeRuntimeServer {
    socket: PathBuf,
    task: JoinHandle<()>,
}

impl FakeRuntimeServer {
    /// The endpoint to give [`Runtime::connect`](crate::cri::Runtime::connect).
    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Stops serving.
    pub fn abort(&self) {
        self.task.abort();
    }
}

/// Binds `socket` (replacing a stale one) and serves an empty fake runtime on it, handing out
/// pod addresses from `pod_cidr`, in a spawned task. Its filesystem stats name the socket's
/// directory.
pub async fn serve_fake_runtime(
    socket: PathBuf,
    pod_cidr: &str,
) -> Result<FakeRuntimeServer, FakeRuntimeError> {
    let socket_error = |source| FakeRuntimeError::Socket {
        path: socket.clone(),
        source,
    };
    let dir = socket.parent().unwrap_or(Path::new("/")).to_path_buf();
    let store = Store::new(pod_cidr, &dir)?;
    std::fs::create_dir_all(&dir).map_err(socket_error)?;
    match std::fs::remove_file(&socket) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(socket_error(e)),
    }
    let listener = UnixListener::bind(&socket).map_err(socket_error)?;
    let runtime = FakeRuntime::new(store);
    let router = tonic::transport::Server::builder()
        .add_service(RuntimeServiceServer::new(runtime.clone()))
        .add_service(ImageServiceServer::new(runtime));
    let path = socket.clone();
    let task = tokio::spawn(async move {
        if let Err(e) = router
            .serve_with_incoming(UnixListenerStream::new(listener))
            .await
        {
            tracing::error!(socket = %path.display(), error = %e, "fake runtime stopped serving");
        }
    });
    Ok(FakeRuntimeServer { socket, task })
}

#[cfg(test)]
mod tests {
    use proto::cri::v1 as cri;

    use super::*;
    use crate::cri::Runtime;

    /// The kubelet's own client reaches the fake over the socket.
    #[tokio::test]
    async fn kubelet_client_talks_to_the_fake_over_a_socket() {
        let dir = tempfile::tempdir().unwrap();
        let server = serve_fake_runtime(dir.path().join("fake.sock"), "10.9.8.0/24")
            .await
            .unwrap();
        let runtime = Runtime::connect(&server.endpoint()).await.unwrap();
        assert_eq!(runtime.version().await.unwrap().runtime_name, "fake");
        let mut rt = runtime.runtime.clone();
        let sandbox = rt
            .run_pod_sandbox(cri::RunPodSandboxRequest {
                config: Some(cri::PodSandboxConfig {
                    metadata: Some(cri::PodSandboxMetadata {
                        name: "p".into(),
                        uid: "u".into(),
                        namespace: "default".into(),
                        attempt: 0,
                    }),
                    log_directory: dir.path().join("logs").to_string_lossy().into_owned(),
                    ..Default::default()
                }),
                runtime_handler: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .pod_sandbox_id;
        let status = rt
            .pod_sandbox_status(cri::PodSandboxStatusRequest {
                pod_sandbox_id: sandbox.clone(),
                verbose: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(status.status.unwrap().network.unwrap().ip, "10.9.8.2");
        let container = rt
            .create_container(cri::CreateContainerRequest {
                pod_sandbox_id: sandbox,
                config: Some(cri::ContainerConfig {
                    metadata: Some(cri::ContainerMetadata {
                        name: "app".into(),
                        attempt: 0,
                    }),
                    image: Some(cri::ImageSpec {
                        image: "busybox".into(),
                        ..Default::default()
                    }),
                    log_path: "app/0.log".into(),
                    ..Default::default()
                }),
                sandbox_config: None,
            })
            .await
            .unwrap()
            .into_inner()
            .container_id;
        assert!(dir.path().join("logs/app/0.log").is_file());
        let missing = rt
            .container_status(cri::ContainerStatusRequest {
                container_id: "missing".into(),
                verbose: false,
            })
            .await
            .unwrap_err();
        assert_eq!(missing.code(), tonic::Code::NotFound);
        let exec = rt
            .exec(cri::ExecRequest {
                container_id: container,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(exec.code(), tonic::Code::Unimplemented);
        let image = runtime
            .images
            .clone()
            .image_status(cri::ImageStatusRequest {
                image: Some(cri::ImageSpec {
                    image: "busybox".into(),
                    ..Default::default()
                }),
                verbose: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(image.image.unwrap().id, store::image_id("busybox"));
        server.abort();
    }
}
