//! Pod creates and deletes on behalf of an owner, each reported as an event on the owner
//! (upstream's `RealPodControl` in `controller_utils.go`, shared by the ReplicaSet,
//! ReplicationController, Job and DaemonSet controllers): `SuccessfulCreate` "Created pod:
//! <name>", `FailedCreate` "Error creating: <error>", `SuccessfulDelete` "Deleted pod:
//! <name>", `FailedDelete` "Error deleting: <error>".

use common::events::{self, Recorder};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use kube::{Resource, ResourceExt};

/// Create `pod` for `owner` and record the outcome. A namespace being deleted refuses
/// every create; that is not reported, as upstream.
pub async fn create<K>(
    api: &Api<Pod>,
    pod: &Pod,
    owner: &K,
    recorder: &Recorder,
) -> Result<Pod, kube::Error>
where
    K: Resource<DynamicType = ()>,
{
    match api.create(&PostParams::default(), pod).await {
        Ok(created) => {
            recorder.normal(
                owner,
                "SuccessfulCreate",
                format!("Created pod: {}", created.name_any()),
            );
            Ok(created)
        }
        Err(e) => {
            if !events::is_namespace_terminating(&e) {
                recorder.warning(
                    owner,
                    "FailedCreate",
                    format!("Error creating: {}", events::error_message(&e)),
                );
            }
            Err(e)
        }
    }
}

/// Delete pod `name` of `owner` and record the outcome. A pod already gone is returned as
/// the 404 it is, without an event.
pub async fn delete<K>(
    api: &Api<Pod>,
    name: &str,
    owner: &K,
    recorder: &Recorder,
) -> Result<(), kube::Error>
where
    K: Resource<DynamicType = ()>,
{
    match api.delete(name, &Default::default()).await {
        Ok(_) => {
            recorder.normal(owner, "SuccessfulDelete", format!("Deleted pod: {name}"));
            Ok(())
        }
        Err(kube::Error::Api(status)) if status.code == 404 => Err(kube::Error::Api(status)),
        Err(e) => {
            recorder.warning(
                owner,
                "FailedDelete",
                format!("Error deleting: {}", events::error_message(&e)),
            );
            Err(e)
        }
    }
}
