//! Finds a pod's sandbox and containers in the runtime by the labels the kubelet puts on
//! every CRI object, so the server needs no state shared with the pod workers.

use std::collections::HashMap;

use proto::cri::v1 as cri;

use crate::cri::{call_error, CriError, Runtime};

/// CRI labels the kubelet sets on every sandbox and container (upstream's names).
pub const POD_NAME_LABEL: &str = "io.kubernetes.pod.name";
pub const POD_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
pub const POD_UID_LABEL: &str = "io.kubernetes.pod.uid";
pub const CONTAINER_NAME_LABEL: &str = "io.kubernetes.container.name";

/// Which pod the request names: namespace, name and, for the `/{uid}/` path forms, its UID.
#[derive(Clone, Debug)]
pub struct PodRef {
    pub namespace: String,
    pub name: String,
    pub uid: Option<String>,
}

impl PodRef {
    fn selector(&self) -> HashMap<String, String> {
        let mut labels = HashMap::from([
            (POD_NAMESPACE_LABEL.to_string(), self.namespace.clone()),
            (POD_NAME_LABEL.to_string(), self.name.clone()),
        ]);
        if let Some(uid) = &self.uid {
            labels.insert(POD_UID_LABEL.to_string(), uid.clone());
        }
        labels
    }
}

/// Why a lookup found nothing usable; each maps to upstream's status and message.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// No sandbox at all for this pod on this node.
    #[error("pod {0:?} does not exist")]
    PodNotFound(String),
    /// The pod is here but the container has never been created.
    #[error("container {container:?} in pod {pod:?} is waiting to start: ContainerCreating")]
    Waiting { container: String, pod: String },
    /// `previous=true` but no earlier instance of the container has exited.
    #[error("previous terminated container {container:?} in pod {pod:?} not found")]
    NoPrevious { container: String, pod: String },
    /// exec/attach need a running container.
    #[error("container not found ({0:?})")]
    NotRunning(String),
    #[error(transparent)]
    Cri(#[from] CriError),
}

impl LookupError {
    /// The HTTP status upstream's kubelet answers with.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            LookupError::PodNotFound(_) => StatusCode::NOT_FOUND,
            LookupError::Waiting { .. } | LookupError::NoPrevious { .. } => StatusCode::BAD_REQUEST,
            LookupError::NotRunning(_) => StatusCode::INTERNAL_SERVER_ERROR,
            LookupError::Cri(e) => cri_status(e),
        }
    }
}

/// How a failed CRI call is reported (upstream's streaming `WriteError`): NotFound is 404,
/// ResourceExhausted 429, anything else 500.
pub fn cri_status(e: &CriError) -> http::StatusCode {
    match e {
        CriError::Call { status, .. } => match status.code() {
            tonic::Code::NotFound => http::StatusCode::NOT_FOUND,
            tonic::Code::ResourceExhausted => http::StatusCode::TOO_MANY_REQUESTS,
            _ => http::StatusCode::INTERNAL_SERVER_ERROR,
        },
        _ => http::StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// All containers of the pod with this name, newest first.
pub async fn pod_containers(
    runtime: &Runtime,
    pod: &PodRef,
    container: &str,
) -> Result<Vec<cri::Container>, CriError> {
    let mut selector = pod.selector();
    selector.insert(CONTAINER_NAME_LABEL.to_string(), container.to_string());
    let request = cri::ListContainersRequest {
        filter: Some(cri::ContainerFilter {
            label_selector: selector,
            ..Default::default()
        }),
    };
    let mut containers = runtime
        .runtime
        .clone()
        .list_containers(request)
        .await
        .map_err(call_error("ListContainers"))?
        .into_inner()
        .containers;
    containers.sort_by_key(|c| std::cmp::Reverse(c.created_at));
    Ok(containers)
}

/// The pod's sandboxes, newest first; `ready_only` keeps the running ones.
pub async fn pod_sandboxes(
    runtime: &Runtime,
    pod: &PodRef,
    ready_only: bool,
) -> Result<Vec<cri::PodSandbox>, CriError> {
    let request = cri::ListPodSandboxRequest {
        filter: Some(cri::PodSandboxFilter {
            label_selector: pod.selector(),
            state: ready_only.then_some(cri::PodSandboxStateValue {
                state: cri::PodSandboxState::SandboxReady as i32,
            }),
            ..Default::default()
        }),
    };
    let mut sandboxes = runtime
        .runtime
        .clone()
        .list_pod_sandbox(request)
        .await
        .map_err(call_error("ListPodSandbox"))?
        .into_inner()
        .items;
    sandboxes.sort_by_key(|s| std::cmp::Reverse(s.created_at));
    Ok(sandboxes)
}

/// The container whose logs `kubectl logs` means: the newest instance that has started
/// (a just-created, not yet started one only when nothing else exists), or with
/// `previous` the newest exited instance of the same pod created before that one.
pub async fn log_container(
    runtime: &Runtime,
    pod: &PodRef,
    container: &str,
    previous: bool,
) -> Result<cri::Container, LookupError> {
    let containers = pod_containers(runtime, pod, container).await?;
    if containers.is_empty() {
        return Err(not_created(runtime, pod, container).await);
    }
    choose_log_container(containers, previous).ok_or_else(|| LookupError::NoPrevious {
        container: container.to_string(),
        pod: pod.name.clone(),
    })
}

/// The choice behind [`log_container`], on a newest-first, non-empty list.
fn choose_log_container(containers: Vec<cri::Container>, previous: bool) -> Option<cri::Container> {
    let started = |c: &cri::Container| c.state != cri::ContainerState::ContainerCreated as i32;
    let current = containers
        .iter()
        .find(|c| started(c))
        .or(containers.first())?
        .clone();
    if !previous {
        return Some(current);
    }
    let uid = current.labels.get(POD_UID_LABEL).cloned();
    containers.into_iter().find(|c| {
        c.id != current.id
            && c.created_at < current.created_at
            && c.state == cri::ContainerState::ContainerExited as i32
            && c.labels.get(POD_UID_LABEL).cloned() == uid
    })
}

/// The newest running instance, for exec and attach.
pub async fn running_container(
    runtime: &Runtime,
    pod: &PodRef,
    container: &str,
) -> Result<cri::Container, LookupError> {
    let containers = pod_containers(runtime, pod, container).await?;
    if containers.is_empty() && pod_sandboxes(runtime, pod, false).await?.is_empty() {
        return Err(LookupError::PodNotFound(pod.name.clone()));
    }
    containers
        .into_iter()
        .find(|c| c.state == cri::ContainerState::ContainerRunning as i32)
        .ok_or_else(|| LookupError::NotRunning(container.to_string()))
}

/// The newest ready sandbox, for port-forward.
pub async fn ready_sandbox(
    runtime: &Runtime,
    pod: &PodRef,
) -> Result<cri::PodSandbox, LookupError> {
    pod_sandboxes(runtime, pod, true)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| LookupError::PodNotFound(pod.name.clone()))
}

/// Tells "no such pod" from "container not created yet".
async fn not_created(runtime: &Runtime, pod: &PodRef, container: &str) -> LookupError {
    match pod_sandboxes(runtime, pod, false).await {
        Ok(s) if s.is_empty() => LookupError::PodNotFound(pod.name.clone()),
        Ok(_) => LookupError::Waiting {
            container: container.to_string(),
            pod: pod.name.clone(),
        },
        Err(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(
        id: &str,
        created_at: i64,
        state: cri::ContainerState,
        uid: &str,
    ) -> cri::Container {
        cri::Container {
            id: id.into(),
            created_at,
            state: state as i32,
            labels: HashMap::from([(POD_UID_LABEL.to_string(), uid.to_string())]),
            ..Default::default()
        }
    }

    fn newest_first(mut v: Vec<cri::Container>) -> Vec<cri::Container> {
        v.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        v
    }

    #[test]
    fn current_is_the_newest_started_instance() {
        use cri::ContainerState::*;
        let list = newest_first(vec![
            container("a", 1, ContainerExited, "u"),
            container("b", 2, ContainerRunning, "u"),
            container("c", 3, ContainerCreated, "u"),
        ]);
        assert_eq!(choose_log_container(list.clone(), false).unwrap().id, "b");
        assert_eq!(choose_log_container(list, true).unwrap().id, "a");
    }

    #[test]
    fn previous_needs_an_older_exited_instance_of_the_same_pod() {
        use cri::ContainerState::*;
        let only = vec![container("a", 1, ContainerRunning, "u")];
        assert!(choose_log_container(only, true).is_none());
        let other_pod = newest_first(vec![
            container("old", 1, ContainerExited, "previous-pod"),
            container("a", 2, ContainerRunning, "u"),
        ]);
        assert!(choose_log_container(other_pod, true).is_none());
        let created_only = vec![container("c", 1, ContainerCreated, "u")];
        assert_eq!(choose_log_container(created_only, false).unwrap().id, "c");
    }
}
