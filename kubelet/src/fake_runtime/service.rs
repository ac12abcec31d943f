//! The CRI v1 gRPC services of the fake runtime: thin wrappers over the [`Store`]. The calls
//! the kubelet makes are answered; the streaming ones (Exec, Attach, PortForward), resource
//! updates and checkpoints are Unimplemented, as a runtime without them would answer.
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use proto::cri::v1 as cri;
use proto::cri::v1::image_service_server::ImageService;
use proto::cri::v1::runtime_service_server::RuntimeService;
use tonic::{Request, Response, Status};

use super::store::Store;

/// Both services share one store (cheap to clone).
#[derive(Clone)]
pub struct FakeRuntime {
    store: Arc<Mutex<Store>>,
}

impl FakeRuntime {
    pub fn new(store: Store) -> FakeRuntime {
        FakeRuntime {
            store: Arc::new(Mutex::new(store)),
        }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Creates the empty log file a real runtime would write into, so log readers find it.
/// Best effort: a fake container without a log file is still a container.
fn touch_log(path: &str) {
    if path.is_empty() {
        return;
    }
    let path = Path::new(path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        tracing::debug!(path = %path.display(), error = %e, "fake runtime: cannot create the container log");
    }
}

fn unimplemented(call: &str) -> Status {
    Status::unimplemented(format!("the fake runtime does not implement {call}"))
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl RuntimeService for FakeRuntime {
    async fn version(&self, _: Request<cri::VersionRequest>) -> Reply<cri::VersionResponse> {
        Ok(Response::new(Store::version()))
    }

    async fn run_pod_sandbox(
        &self,
        request: Request<cri::RunPodSandboxRequest>,
    ) -> Reply<cri::RunPodSandboxResponse> {
        let pod_sandbox_id = self.store().run_pod_sandbox(request.into_inner())?;
        Ok(Response::new(cri::RunPodSandboxResponse { pod_sandbox_id }))
    }

    async fn stop_pod_sandbox(
        &self,
        request: Request<cri::StopPodSandboxRequest>,
    ) -> Reply<cri::StopPodSandboxResponse> {
        self.store()
            .stop_pod_sandbox(&request.into_inner().pod_sandbox_id);
        Ok(Response::new(cri::StopPodSandboxResponse {}))
    }

    async fn remove_pod_sandbox(
        &self,
        request: Request<cri::RemovePodSandboxRequest>,
    ) -> Reply<cri::RemovePodSandboxResponse> {
        self.store()
            .remove_pod_sandbox(&request.into_inner().pod_sandbox_id);
        Ok(Response::new(cri::RemovePodSandboxResponse {}))
    }

    async fn pod_sandbox_status(
        &self,
        request: Request<cri::PodSandboxStatusRequest>,
    ) -> Reply<cri::PodSandboxStatusResponse> {
        let status = self
            .store()
            .pod_sandbox_status(&request.into_inner().pod_sandbox_id)?;
        Ok(Response::new(cri::PodSandboxStatusResponse {
            status: Some(status),
            ..Default::default()
        }))
    }

    async fn list_pod_sandbox(
        &self,
        request: Request<cri::ListPodSandboxRequest>,
    ) -> Reply<cri::ListPodSandboxResponse> {
        let items = self
            .store()
            .list_pod_sandbox(request.into_inner().filter.as_ref());
        Ok(Response::new(cri::ListPodSandboxResponse { items }))
    }

    async fn create_container(
        &self,
        request: Request<cri::CreateContainerRequest>,
    ) -> Reply<cri::CreateContainerResponse> {
        let (container_id, log_path) = self.store().create_container(request.into_inner())?;
        touch_log(&log_path);
        Ok(Response::new(cri::CreateContainerResponse { container_id }))
    }

    async fn start_container(
        &self,
        request: Request<cri::StartContainerRequest>,
    ) -> Reply<cri::StartContainerResponse> {
        self.store()
            .start_container(&request.into_inner().container_id)?;
        Ok(Response::new(cri::StartContainerResponse {}))
    }

    async fn stop_container(
        &self,
        request: Request<cri::StopContainerRequest>,
    ) -> Reply<cri::StopContainerResponse> {
        self.store()
            .stop_container(&request.into_inner().container_id)?;
        Ok(Response::new(cri::StopContainerResponse {}))
    }

    async fn remove_container(
        &self,
        request: Request<cri::RemoveContainerRequest>,
    ) -> Reply<cri::RemoveContainerResponse> {
        self.store()
            .remove_container(&request.into_inner().container_id);
        Ok(Response::new(cri::RemoveContainerResponse {}))
    }

    async fn list_containers(
        &self,
        request: Request<cri::ListContainersRequest>,
    ) -> Reply<cri::ListContainersResponse> {
        let containers = self
            .store()
            .list_containers(request.into_inner().filter.as_ref());
        Ok(Response::new(cri::ListContainersResponse { containers }))
    }

    async fn container_status(
        &self,
        request: Request<cri::ContainerStatusRequest>,
    ) -> Reply<cri::ContainerStatusResponse> {
        let status = self
            .store()
            .container_status(&request.into_inner().container_id)?;
        Ok(Response::new(cri::ContainerStatusResponse {
            status: Some(status),
            ..Default::default()
        }))
    }

    async fn update_container_resources(
        &self,
        _: Request<cri::UpdateContainerResourcesRequest>,
    ) -> Reply<cri::UpdateContainerResourcesResponse> {
        Err(unimplemented("UpdateContainerResources"))
    }

    async fn reopen_container_log(
        &self,
        request: Request<cri::ReopenContainerLogRequest>,
    ) -> Reply<cri::ReopenContainerLogResponse> {
        // The fake runtime writes no log files, so reopening one only needs the container.
        self.store()
            .container_status(&request.into_inner().container_id)?;
        Ok(Response::new(cri::ReopenContainerLogResponse {}))
    }

    async fn exec_sync(
        &self,
        request: Request<cri::ExecSyncRequest>,
    ) -> Reply<cri::ExecSyncResponse> {
        Ok(Response::new(
            self.store().exec_sync(&request.into_inner().container_id)?,
        ))
    }

    async fn exec(&self, _: Request<cri::ExecRequest>) -> Reply<cri::ExecResponse> {
        Err(unimplemented("Exec"))
    }

    async fn attach(&self, _: Request<cri::AttachRequest>) -> Reply<cri::AttachResponse> {
        Err(unimplemented("Attach"))
    }

    async fn port_forward(
        &self,
        _: Request<cri::PortForwardRequest>,
    ) -> Reply<cri::PortForwardResponse> {
        Err(unimplemented("PortForward"))
    }

    async fn container_stats(
        &self,
        request: Request<cri::ContainerStatsRequest>,
    ) -> Reply<cri::ContainerStatsResponse> {
        let stats = self
            .store()
            .container_stats(&request.into_inner().container_id)?;
        Ok(Response::new(cri::ContainerStatsResponse {
            stats: Some(stats),
        }))
    }

    async fn list_container_stats(
        &self,
        request: Request<cri::ListContainerStatsRequest>,
    ) -> Reply<cri::ListContainerStatsResponse> {
        let stats = self
            .store()
            .list_container_stats(request.into_inner().filter.as_ref());
        Ok(Response::new(cri::ListContainerStatsResponse { stats }))
    }

    async fn pod_sandbox_stats(
        &self,
        request: Request<cri::PodSandboxStatsRequest>,
    ) -> Reply<cri::PodSandboxStatsResponse> {
        let id = request.into_inner().pod_sandbox_id;
        let filter = cri::PodSandboxStatsFilter {
            id: id.clone(),
            ..Default::default()
        };
        let stats = self
            .store()
            .list_pod_sandbox_stats(Some(&filter))
            .into_iter()
            .next();
        match stats {
            Some(stats) => Ok(Response::new(cri::PodSandboxStatsResponse {
                stats: Some(stats),
            })),
            None => Err(Status::not_found(format!(
                "pod sandbox {id} not found or not ready"
            ))),
        }
    }

    async fn list_pod_sandbox_stats(
        &self,
        request: Request<cri::ListPodSandboxStatsRequest>,
    ) -> Reply<cri::ListPodSandboxStatsResponse> {
        let stats = self
            .store()
            .list_pod_sandbox_stats(request.into_inner().filter.as_ref());
        Ok(Response::new(cri::ListPodSandboxStatsResponse { stats }))
    }

    async fn update_runtime_config(
        &self,
        request: Request<cri::UpdateRuntimeConfigRequest>,
    ) -> Reply<cri::UpdateRuntimeConfigResponse> {
        let cidr = request
            .into_inner()
            .runtime_config
            .and_then(|c| c.network_config)
            .map(|n| n.pod_cidr)
            .unwrap_or_default();
        self.store().set_pod_cidr(&cidr)?;
        Ok(Response::new(cri::UpdateRuntimeConfigResponse {}))
    }

    async fn status(&self, _: Request<cri::StatusRequest>) -> Reply<cri::StatusResponse> {
        Ok(Response::new(Store::status()))
    }

    async fn checkpoint_container(
        &self,
        _: Request<cri::CheckpointContainerRequest>,
    ) -> Reply<cri::CheckpointContainerResponse> {
        Err(unimplemented("CheckpointContainer"))
    }

    type GetContainerEventsStream =
        tokio_stream::Empty<Result<cri::ContainerEventResponse, Status>>;

    async fn get_container_events(
        &self,
        _: Request<cri::GetEventsRequest>,
    ) -> Reply<Self::GetContainerEventsStream> {
        Err(unimplemented("GetContainerEvents"))
    }
}

#[tonic::async_trait]
impl ImageService for FakeRuntime {
    async fn list_images(
        &self,
        request: Request<cri::ListImagesRequest>,
    ) -> Reply<cri::ListImagesResponse> {
        let images = self
            .store()
            .list_images(request.into_inner().filter.as_ref());
        Ok(Response::new(cri::ListImagesResponse { images }))
    }

    async fn image_status(
        &self,
        request: Request<cri::ImageStatusRequest>,
    ) -> Reply<cri::ImageStatusResponse> {
        let name = request
            .into_inner()
            .image
            .map(|i| i.image)
            .unwrap_or_default();
        let image = self.store().image(&name)?;
        Ok(Response::new(cri::ImageStatusResponse {
            image: Some(image),
            ..Default::default()
        }))
    }

    async fn pull_image(
        &self,
        request: Request<cri::PullImageRequest>,
    ) -> Reply<cri::PullImageResponse> {
        let name = request
            .into_inner()
            .image
            .map(|i| i.image)
            .unwrap_or_default();
        let image = self.store().image(&name)?;
        Ok(Response::new(cri::PullImageResponse {
            image_ref: image.id,
        }))
    }

    async fn remove_image(
        &self,
        request: Request<cri::RemoveImageRequest>,
    ) -> Reply<cri::RemoveImageResponse> {
        let name = request
            .into_inner()
            .image
            .map(|i| i.image)
            .unwrap_or_default();
        self.store().remove_image(&name);
        Ok(Response::new(cri::RemoveImageResponse {}))
    }

    async fn image_fs_info(
        &self,
        _: Request<cri::ImageFsInfoRequest>,
    ) -> Reply<cri::ImageFsInfoResponse> {
        Ok(Response::new(self.store().image_fs_info()))
    }
}
